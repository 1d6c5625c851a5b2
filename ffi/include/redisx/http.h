/* redisx — the HTTP rules every binding's middleware shares (since 0.5).
 *
 * The Idempotency-Key contract (IETF draft "The Idempotency-Key HTTP Header
 * Field") and the rate-limit headers, written once here so that the WSGI/ASGI,
 * Express/NestJS and net/http middlewares are thin adapters that give
 * byte-identical answers (docs/KEYS.md, "HTTP"):
 *
 *   - fingerprint = SHA-256 (32 raw bytes) of
 *     METHOD (ASCII upper-cased) "\n" path-with-query "\n" body;
 *   - record key = namespace ":" header value (the value alone without a
 *     namespace);
 *   - metadata stored with a response = {"status":S,"content_type":"T"}
 *     (compact JSON, this key order, T escaped as JSON requires and nothing
 *     more: UTF-8 stays as it is);
 *   - a handler's status below 500 is stored, 500 and above fail the record;
 *   - the answers: 400 (key missing but required, or invalid), 409 with
 *     Retry-After (in progress), 422 (key reused with another request), the
 *     stored response with "Idempotent-Replayed: true" (completed), 429 with
 *     the X-RateLimit-* headers and Retry-After (rate limit denied).
 *
 * Seconds in headers are whole seconds rounded up from milliseconds; a
 * Retry-After is at least 1. Every function here is pure (no client, no I/O)
 * and thread-safe. */
#ifndef REDISX_HTTP_H
#define REDISX_HTTP_H

#include "redisx/common.h"
#include "redisx/errors.h"
#include "redisx/idempotency.h"

REDISX_BEGIN_DECLS

/** Length of a request fingerprint in bytes (SHA-256). */
#define REDISX_HTTP_FINGERPRINT_LEN 32
/** Longest Content-Type stored in metadata, in bytes. */
#define REDISX_HTTP_CONTENT_TYPE_MAX 1024
/** Largest metadata redisx_http_metadata() writes (the longest content type
 *  made only of quotes, each escaped, plus the fixed part). */
#define REDISX_HTTP_METADATA_MAX 2080
/** A buffer of this many bytes holds any output of this header's functions
 *  that write into a caller's buffer. */
#define REDISX_HTTP_OUT_MAX 8192

/** The header names and the body texts of the answers (the same bytes in
 *  every language). Content-Type of the texts: REDISX_HTTP_TEXT_TYPE. */
#define REDISX_HTTP_IDEMPOTENCY_KEY_HEADER "Idempotency-Key"
#define REDISX_HTTP_REPLAYED_HEADER "Idempotent-Replayed"
#define REDISX_HTTP_TEXT_TYPE "text/plain; charset=utf-8"
#define REDISX_HTTP_BODY_KEY_REQUIRED "Idempotency-Key header required"
#define REDISX_HTTP_BODY_KEY_INVALID "Invalid Idempotency-Key"
#define REDISX_HTTP_BODY_IN_PROGRESS "A request with this Idempotency-Key is being processed"
#define REDISX_HTTP_BODY_MISMATCH "Idempotency-Key was used with a different request"
#define REDISX_HTTP_BODY_TOO_MANY_REQUESTS "Too Many Requests"

/** An answer: a status, header name/value pairs in the order to send them,
 *  and a body. Created by the functions below, freed with
 *  redisx_http_response_free(). */
typedef struct redisx_http_response redisx_http_response;

/** Writes the request fingerprint (REDISX_HTTP_FINGERPRINT_LEN bytes) into
 *  `out` (`out_cap` >= that) and its length into `*out_len`. `method` is a
 *  non-empty NUL-terminated string whose ASCII letters are upper-cased;
 *  `target` (the path with its query, as received) and `body` are binary
 *  (NULL only with length 0). REDISX_ERR_INVALID for a NULL or short
 *  argument. */
REDISX_API redisx_status redisx_http_fingerprint(void *out, size_t out_cap, size_t *out_len, const char *method,
                                                 const void *target, size_t target_len, const void *body,
                                                 size_t body_len);

/** Writes the idempotency record key of a header value: `ns` ":" value, or
 *  the value alone when `ns` is NULL or "". The value is 1.. bytes without
 *  NUL; the key at most REDISX_IDEM_KEY_MAX bytes (else REDISX_ERR_INVALID). */
REDISX_API redisx_status redisx_http_record_key(void *out, size_t out_cap, size_t *out_len, const char *ns,
                                                const void *value, size_t value_len);

/** Writes the metadata stored with a response of `status` (100..999) and
 *  `content_type` (0..REDISX_HTTP_CONTENT_TYPE_MAX bytes of UTF-8 without
 *  control characters but HTAB; NULL only with length 0). At most REDISX_HTTP_METADATA_MAX bytes. */
REDISX_API redisx_status redisx_http_metadata(void *out, size_t out_cap, size_t *out_len, int status,
                                              const void *content_type, size_t content_type_len);

/** Reads metadata back: `*status` and the content type (written into
 *  `content_type`, `*content_type_len` bytes, no NUL added). Accepts any JSON
 *  object with an integer "status" (100..999) and optionally a string
 *  "content_type" (escapes decoded), in any order and spacing; anything else
 *  (other members, duplicates, trailing bytes, a type that is not UTF-8, holds a control character
 *  but HTAB, or is longer than REDISX_HTTP_CONTENT_TYPE_MAX) is REDISX_ERR_INVALID. */
REDISX_API redisx_status redisx_http_metadata_parse(int *status, char *content_type, size_t content_type_cap,
                                                    size_t *content_type_len, const void *metadata,
                                                    size_t metadata_len);

/** 1 when a handler's response of `status` is stored (100..499), 0 when the
 *  record must be failed instead so that a retry runs (500 and above, or not
 *  an HTTP status). */
REDISX_API int redisx_http_status_is_stored(int status);

/** 400: the Idempotency-Key header is missing and required. */
REDISX_API redisx_status redisx_http_key_required(redisx_http_response **out);
/** 400: the Idempotency-Key header was refused by the store (e.g. too long). */
REDISX_API redisx_status redisx_http_key_invalid(redisx_http_response **out);

/** The answer to a begin() that is not NEW:
 *   - REDISX_IDEM_IN_PROGRESS: 409, Content-Type, Retry-After =
 *     max(1, ceil(remaining_ms / 1000)) (a negative remaining_ms, an unknown
 *     lease, gives 1);
 *   - REDISX_IDEM_MISMATCH: 422;
 *   - REDISX_IDEM_COMPLETED: the stored status, the stored Content-Type
 *     (none when empty) and `response` as the body, then
 *     "Idempotent-Replayed: true". Metadata that redisx_http_metadata_parse()
 *     refuses (a record not stored by an HTTP helper) replays as 200 without
 *     a Content-Type.
 *  REDISX_IDEM_NEW: REDISX_OK with `*out` NULL (the handler runs).
 *  `metadata` and `response` are read for COMPLETED only. */
REDISX_API redisx_status redisx_http_idem_answer(redisx_http_response **out, redisx_idem_state state,
                                                 int64_t remaining_ms, const void *metadata, size_t metadata_len,
                                                 const void *response, size_t response_len);

/** The rate-limit answer of a check: headers X-RateLimit-Limit (`limit`),
 *  X-RateLimit-Remaining (`remaining`), X-RateLimit-Reset
 *  (ceil(reset_ms / 1000)); when allowed, status 0 (not an answer: add these
 *  headers and let the request go on); when denied, status 429 with
 *  Retry-After = max(1, ceil(retry_after_ms / 1000)), Content-Type and the
 *  body REDISX_HTTP_BODY_TOO_MANY_REQUESTS. A negative limit, remaining or
 *  reset_ms, or a denied check with a negative retry_after_ms, is
 *  REDISX_ERR_INVALID (retry_after_ms is not read when allowed). */
REDISX_API redisx_status redisx_http_ratelimit_answer(redisx_http_response **out, int allowed, int64_t limit,
                                                      int64_t remaining, int64_t reset_ms, int64_t retry_after_ms);

/** Frees a response; NULL is a no-op. */
REDISX_API void redisx_http_response_free(redisx_http_response *response);
/** The status (0 for the headers of an allowed rate-limit check). */
REDISX_API int redisx_http_response_status(const redisx_http_response *response);
/** The number of headers. */
REDISX_API size_t redisx_http_response_header_count(const redisx_http_response *response);
/** Header `index` (0..count-1): name and value, NUL-terminated, borrowed from
 *  the response; NULL when out of range. Values never hold a control character but HTAB. */
REDISX_API const char *redisx_http_response_header_name(const redisx_http_response *response, size_t index);
REDISX_API const char *redisx_http_response_header_value(const redisx_http_response *response, size_t index);
/** The body (borrowed, binary, `*len` bytes; "" with 0 when empty). */
REDISX_API const char *redisx_http_response_body(const redisx_http_response *response, size_t *len);

REDISX_END_DECLS

#endif
