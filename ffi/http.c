/* Exported: the HTTP rules. Argument checks here, behaviour in core/http.c. */
#include "ffi.h"
#include "http_impl.h"

#define REQUIRE_BYTES(p, n, what) REDISX_FFI_REQUIRE((p) != NULL || (n) == 0, "%s is NULL with length %zu", what, (size_t)(n))

static redisx_status check_out(const void *out, size_t cap, size_t need, const size_t *out_len)
{
    REDISX_FFI_REQUIRE(out != NULL && out_len != NULL, "out is NULL");
    REDISX_FFI_REQUIRE(cap >= need, "out holds %zu bytes, %zu are needed", cap, need);
    return REDISX_OK;
}

redisx_status redisx_http_fingerprint(void *out, size_t out_cap, size_t *out_len, const char *method,
                                      const void *target, size_t target_len, const void *body, size_t body_len)
{
    redisx_status st = check_out(out, out_cap, REDISX_HTTP_FINGERPRINT_LEN, out_len);
    if (st != REDISX_OK)
        return st;
    REDISX_FFI_REQUIRE(method != NULL && *method != '\0', "method is NULL or empty");
    REQUIRE_BYTES(target, target_len, "target");
    REQUIRE_BYTES(body, body_len, "body");
    st = redisx__http_fingerprint(out, method, target, target_len, body, body_len);
    if (st == REDISX_OK)
        *out_len = REDISX_HTTP_FINGERPRINT_LEN;
    return st;
}

redisx_status redisx_http_record_key(void *out, size_t out_cap, size_t *out_len, const char *ns, const void *value,
                                     size_t value_len)
{
    REDISX_FFI_REQUIRE(out != NULL && out_len != NULL, "out is NULL");
    REDISX_FFI_REQUIRE(value != NULL && value_len > 0, "the Idempotency-Key value is empty");
    REDISX_FFI_REQUIRE(!memchr(value, '\0', value_len), "the Idempotency-Key value holds a NUL byte");
    size_t nl = ns ? strlen(ns) : 0;
    size_t need = nl ? nl + 1 + value_len : value_len;
    REDISX_FFI_REQUIRE(need <= REDISX_IDEM_KEY_MAX, "the record key would be %zu bytes, at most %d are allowed", need,
                       REDISX_IDEM_KEY_MAX);
    REDISX_FFI_REQUIRE(out_cap >= need, "out holds %zu bytes, %zu are needed", out_cap, need);
    *out_len = redisx__http_record_key(out, ns, nl, value, value_len);
    return REDISX_OK;
}

redisx_status redisx_http_metadata(void *out, size_t out_cap, size_t *out_len, int status, const void *content_type,
                                   size_t content_type_len)
{
    REDISX_FFI_REQUIRE(out != NULL && out_len != NULL, "out is NULL");
    REQUIRE_BYTES(content_type, content_type_len, "content type");
    return redisx__http_metadata(out, out_cap, out_len, status, content_type ? content_type : "", content_type_len);
}

redisx_status redisx_http_metadata_parse(int *status, char *content_type, size_t content_type_cap,
                                         size_t *content_type_len, const void *metadata, size_t metadata_len)
{
    REDISX_FFI_REQUIRE(status != NULL && content_type != NULL && content_type_len != NULL, "out is NULL");
    REQUIRE_BYTES(metadata, metadata_len, "metadata");
    return redisx__http_metadata_parse(status, content_type, content_type_cap, content_type_len,
                                       metadata ? metadata : "", metadata_len);
}

int redisx_http_status_is_stored(int status)
{
    return status >= 100 && status <= 499;
}

redisx_status redisx_http_key_required(redisx_http_response **out)
{
    REDISX_FFI_REQUIRE(out != NULL, "out is NULL");
    *out = NULL;
    return redisx__http_key_required(out);
}

redisx_status redisx_http_key_invalid(redisx_http_response **out)
{
    REDISX_FFI_REQUIRE(out != NULL, "out is NULL");
    *out = NULL;
    return redisx__http_key_invalid(out);
}

redisx_status redisx_http_idem_answer(redisx_http_response **out, redisx_idem_state state, int64_t remaining_ms,
                                      const void *metadata, size_t metadata_len, const void *response,
                                      size_t response_len)
{
    REDISX_FFI_REQUIRE(out != NULL, "out is NULL");
    *out = NULL;
    if (state == REDISX_IDEM_COMPLETED) {
        REQUIRE_BYTES(metadata, metadata_len, "metadata");
        REQUIRE_BYTES(response, response_len, "response");
    }
    return redisx__http_idem_answer(out, state, remaining_ms, metadata ? metadata : "", metadata_len,
                                    response ? response : "", response_len);
}

redisx_status redisx_http_ratelimit_answer(redisx_http_response **out, int allowed, int64_t limit, int64_t remaining,
                                           int64_t reset_ms, int64_t retry_after_ms)
{
    REDISX_FFI_REQUIRE(out != NULL, "out is NULL");
    *out = NULL;
    return redisx__http_ratelimit_answer(out, allowed != 0, limit, remaining, reset_ms, retry_after_ms);
}

void redisx_http_response_free(redisx_http_response *response)
{
    redisx__http_response_free(response);
}

int redisx_http_response_status(const redisx_http_response *response)
{
    return response ? redisx__http_response_status(response) : 0;
}

size_t redisx_http_response_header_count(const redisx_http_response *response)
{
    return response ? redisx__http_response_header_count(response) : 0;
}

const char *redisx_http_response_header_name(const redisx_http_response *response, size_t index)
{
    return response ? redisx__http_response_header_name(response, index) : NULL;
}

const char *redisx_http_response_header_value(const redisx_http_response *response, size_t index)
{
    return response ? redisx__http_response_header_value(response, index) : NULL;
}

const char *redisx_http_response_body(const redisx_http_response *response, size_t *len)
{
    size_t ignored;
    if (!len)
        len = &ignored;
    if (!response) {
        *len = 0;
        return "";
    }
    return redisx__http_response_body(response, len);
}
