/* The HTTP rules (core/http.c) behind ffi/http.c, which checks the
 * arguments first. */
#ifndef REDISX_HTTP_IMPL_H
#define REDISX_HTTP_IMPL_H

#include "redisx/http.h"
#include "sha256.h"

redisx_status redisx__http_fingerprint(uint8_t out[REDISX__SHA256_LEN], const char *method, const void *target,
                                       size_t target_len, const void *body, size_t body_len);
/* ns ":" value, or value alone when ns_len is 0, into out (room checked by
 * the caller); the length written. */
size_t redisx__http_record_key(char *out, const char *ns, size_t ns_len, const void *value, size_t value_len);
redisx_status redisx__http_metadata(char *out, size_t cap, size_t *out_len, int status, const void *ct, size_t ct_len);
redisx_status redisx__http_metadata_parse(int *status, char *ct, size_t ct_cap, size_t *ct_len, const void *metadata,
                                          size_t metadata_len);
/* ceil(ms / 1000), 0 for ms <= 0. */
int64_t redisx__http_ceil_seconds(int64_t ms);
redisx_status redisx__http_key_required(redisx_http_response **out);
redisx_status redisx__http_key_invalid(redisx_http_response **out);
redisx_status redisx__http_idem_answer(redisx_http_response **out, redisx_idem_state state, int64_t remaining_ms,
                                       const void *metadata, size_t metadata_len, const void *response,
                                       size_t response_len);
redisx_status redisx__http_ratelimit_answer(redisx_http_response **out, int allowed, int64_t limit, int64_t remaining,
                                            int64_t reset_ms, int64_t retry_after_ms);
void redisx__http_response_free(redisx_http_response *r);
int redisx__http_response_status(const redisx_http_response *r);
size_t redisx__http_response_header_count(const redisx_http_response *r);
const char *redisx__http_response_header_name(const redisx_http_response *r, size_t i);
const char *redisx__http_response_header_value(const redisx_http_response *r, size_t i);
const char *redisx__http_response_body(const redisx_http_response *r, size_t *len);

#endif
