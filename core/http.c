/* The HTTP rules of the bindings' middlewares (redisx/http.h): the request
 * fingerprint, the record key, the stored metadata and every answer, written
 * once so that Python, Node and Go send the same bytes. Pure functions: no
 * client, no I/O. The contract is docs/KEYS.md, "HTTP". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_impl.h"
#include "internal.h"
#include "sha256.h"

/* ---- SHA-256 (FIPS 180-4) ------------------------------------------------ */

static const uint32_t sha_k[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static uint32_t ror(uint32_t x, unsigned n)
{
    return (x >> n) | (x << (32 - n));
}

static void sha_block(uint32_t h[8], const uint8_t *p)
{
    uint32_t w[64];
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 | (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
    for (int i = 16; i < 64; i++) {
        uint32_t s0 = ror(w[i - 15], 7) ^ ror(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = ror(w[i - 2], 17) ^ ror(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], k = h[7];
    for (int i = 0; i < 64; i++) {
        uint32_t t1 = k + (ror(e, 6) ^ ror(e, 11) ^ ror(e, 25)) + ((e & f) ^ (~e & g)) + sha_k[i] + w[i];
        uint32_t t2 = (ror(a, 2) ^ ror(a, 13) ^ ror(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
        k = g;
        g = f;
        f = e;
        e = d + t1;
        d = c;
        c = b;
        b = a;
        a = t1 + t2;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
    h[4] += e;
    h[5] += f;
    h[6] += g;
    h[7] += k;
}

void redisx__sha256_init(redisx__sha256 *s)
{
    static const uint32_t iv[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    memcpy(s->h, iv, sizeof iv);
    s->bytes = 0;
    s->used = 0;
}

void redisx__sha256_update(redisx__sha256 *s, const void *p, size_t n)
{
    const uint8_t *in = p;
    if (n == 0)
        return; /* p may be NULL then */
    s->bytes += n;
    if (s->used) {
        size_t take = 64 - s->used < n ? 64 - s->used : n;
        memcpy(s->block + s->used, in, take);
        s->used += take;
        in += take;
        n -= take;
        if (s->used < 64)
            return;
        sha_block(s->h, s->block);
        s->used = 0;
    }
    for (; n >= 64; in += 64, n -= 64)
        sha_block(s->h, in);
    if (n) {
        memcpy(s->block, in, n);
        s->used = n;
    }
}

void redisx__sha256_final(redisx__sha256 *s, uint8_t out[REDISX__SHA256_LEN])
{
    uint64_t bits = s->bytes * 8;
    static const uint8_t pad[64] = {0x80};
    size_t padlen = s->used < 56 ? 56 - s->used : 120 - s->used;
    uint8_t len[8];
    for (int i = 0; i < 8; i++)
        len[i] = (uint8_t)(bits >> (56 - 8 * i));
    redisx__sha256_update(s, pad, padlen);
    redisx__sha256_update(s, len, 8);
    for (int i = 0; i < 8; i++) {
        out[4 * i] = (uint8_t)(s->h[i] >> 24);
        out[4 * i + 1] = (uint8_t)(s->h[i] >> 16);
        out[4 * i + 2] = (uint8_t)(s->h[i] >> 8);
        out[4 * i + 3] = (uint8_t)s->h[i];
    }
}

/* ---- the request fingerprint and the record key ------------------------- */

redisx_status redisx__http_fingerprint(uint8_t out[REDISX__SHA256_LEN], const char *method, const void *target,
                                       size_t target_len, const void *body, size_t body_len)
{
    redisx__sha256 s;
    redisx__sha256_init(&s);
    char up[64];
    for (const char *m = method; *m;) {
        size_t n = 0;
        for (; *m && n < sizeof up; m++, n++)
            up[n] = (*m >= 'a' && *m <= 'z') ? (char)(*m - 'a' + 'A') : *m; /* ASCII only, whatever the locale */
        redisx__sha256_update(&s, up, n);
    }
    redisx__sha256_update(&s, "\n", 1);
    redisx__sha256_update(&s, target, target_len);
    redisx__sha256_update(&s, "\n", 1);
    redisx__sha256_update(&s, body, body_len);
    redisx__sha256_final(&s, out);
    return REDISX_OK;
}

size_t redisx__http_record_key(char *out, const char *ns, size_t ns_len, const void *value, size_t value_len)
{
    if (!ns_len) {
        memcpy(out, value, value_len);
        return value_len;
    }
    memcpy(out, ns, ns_len);
    out[ns_len] = ':';
    memcpy(out + ns_len + 1, value, value_len);
    return ns_len + 1 + value_len;
}

/* ---- metadata: {"status":S,"content_type":"T"} ------------------------- */

/* Length of the UTF-8 sequence at p (n bytes available), 0 when it is not
 * one (overlong, surrogate, above U+10FFFF, cut short). */
static size_t utf8_seq(const uint8_t *p, size_t n)
{
    uint8_t c = p[0];
    if (c < 0x80)
        return 1;
    size_t len;
    uint32_t cp;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
        cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        cp = c & 0x07;
    } else
        return 0;
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (p[i] & 0x3f);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

/* A content type a header can carry: UTF-8 without control characters
 * (HTAB allowed), at most REDISX_HTTP_CONTENT_TYPE_MAX bytes. */
static redisx_status check_content_type(const uint8_t *p, size_t n, const char *what)
{
    if (n > REDISX_HTTP_CONTENT_TYPE_MAX)
        return redisx__fail(REDISX_ERR_INVALID, "%s is longer than %d bytes", what, REDISX_HTTP_CONTENT_TYPE_MAX);
    for (size_t i = 0; i < n;) {
        if ((p[i] < 0x20 && p[i] != '\t') || p[i] == 0x7f)
            return redisx__fail(REDISX_ERR_INVALID, "%s holds the control character 0x%02x at byte %zu", what, p[i],
                                i);
        size_t k = utf8_seq(p + i, n - i);
        if (!k)
            return redisx__fail(REDISX_ERR_INVALID, "%s is not UTF-8 (byte %zu)", what, i);
        i += k;
    }
    return REDISX_OK;
}

redisx_status redisx__http_metadata(char *out, size_t cap, size_t *out_len, int status, const void *ct, size_t ct_len)
{
    if (status < 100 || status > 999)
        return redisx__fail(REDISX_ERR_INVALID, "status must be in 100..999, got %d", status);
    redisx_status st = check_content_type(ct, ct_len, "content type");
    if (st != REDISX_OK)
        return st;
    const uint8_t *p = ct;
    size_t need = 32; /* {"status":999,"content_type":""} */
    for (size_t i = 0; i < ct_len; i++)
        need += 1 + (p[i] == '"' || p[i] == '\\');
    if (need > cap)
        return redisx__fail(REDISX_ERR_INVALID, "metadata needs %zu bytes, the buffer has %zu", need, cap);
    size_t n = (size_t)snprintf(out, cap, "{\"status\":%d,\"content_type\":\"", status);
    for (size_t i = 0; i < ct_len; i++) {
        /* Only what JSON requires is escaped (quote, backslash; control
         * characters cannot occur): every language's encoder agrees on
         * those, and UTF-8 stays readable. */
        if (p[i] == '"' || p[i] == '\\')
            out[n++] = '\\';
        out[n++] = (char)p[i];
    }
    out[n++] = '"';
    out[n++] = '}';
    *out_len = n;
    return REDISX_OK;
}

typedef struct {
    const uint8_t *p, *end;
} json_in;

static void json_ws(json_in *j)
{
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
        j->p++;
}

static int hex4(const uint8_t *p, uint32_t *v)
{
    *v = 0;
    for (int i = 0; i < 4; i++) {
        uint8_t c = p[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (d < 0)
            return -1;
        *v = *v << 4 | (uint32_t)d;
    }
    return 0;
}

/* A JSON string at j->p, decoded into out (at most cap bytes; -1 beyond):
 * its length, or -1 when it is not one. */
static long json_string(json_in *j, char *out, size_t cap)
{
    if (j->p >= j->end || *j->p != '"')
        return -1;
    j->p++;
    size_t n = 0;
    while (j->p < j->end && *j->p != '"') {
        uint8_t c = *j->p++;
        uint8_t enc[4];
        size_t k = 1;
        enc[0] = c;
        if (c < 0x20)
            return -1;
        if (c == '\\') {
            if (j->p >= j->end)
                return -1;
            c = *j->p++;
            switch (c) {
            case '"': case '\\': case '/': enc[0] = c; break;
            case 'b': enc[0] = '\b'; break;
            case 'f': enc[0] = '\f'; break;
            case 'n': enc[0] = '\n'; break;
            case 'r': enc[0] = '\r'; break;
            case 't': enc[0] = '\t'; break;
            case 'u': {
                uint32_t cp, lo;
                if (j->end - j->p < 4 || hex4(j->p, &cp) < 0)
                    return -1;
                j->p += 4;
                if (cp >= 0xdc00 && cp <= 0xdfff)
                    return -1;
                if (cp >= 0xd800 && cp <= 0xdbff) {
                    if (j->end - j->p < 6 || j->p[0] != '\\' || j->p[1] != 'u' || hex4(j->p + 2, &lo) < 0 ||
                        lo < 0xdc00 || lo > 0xdfff)
                        return -1;
                    j->p += 6;
                    cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                }
                if (cp < 0x80)
                    enc[0] = (uint8_t)cp;
                else if (cp < 0x800) {
                    enc[0] = (uint8_t)(0xc0 | cp >> 6);
                    enc[1] = (uint8_t)(0x80 | (cp & 0x3f));
                    k = 2;
                } else if (cp < 0x10000) {
                    enc[0] = (uint8_t)(0xe0 | cp >> 12);
                    enc[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
                    enc[2] = (uint8_t)(0x80 | (cp & 0x3f));
                    k = 3;
                } else {
                    enc[0] = (uint8_t)(0xf0 | cp >> 18);
                    enc[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
                    enc[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
                    enc[3] = (uint8_t)(0x80 | (cp & 0x3f));
                    k = 4;
                }
                break;
            }
            default:
                return -1;
            }
        }
        if (n + k > cap)
            return -1;
        memcpy(out + n, enc, k);
        n += k;
    }
    if (j->p >= j->end)
        return -1;
    j->p++;
    return (long)n;
}

/* A JSON integer (no fraction, no exponent) in -1e9..1e9 into *v. */
static int json_int(json_in *j, long *v)
{
    int neg = 0;
    if (j->p < j->end && *j->p == '-') {
        neg = 1;
        j->p++;
    }
    if (j->p >= j->end || *j->p < '0' || *j->p > '9')
        return -1;
    if (*j->p == '0' && j->p + 1 < j->end && j->p[1] >= '0' && j->p[1] <= '9')
        return -1; /* leading zero */
    long x = 0;
    while (j->p < j->end && *j->p >= '0' && *j->p <= '9') {
        x = x * 10 + (*j->p++ - '0');
        if (x > 1000000000L)
            return -1;
    }
    if (j->p < j->end && (*j->p == '.' || *j->p == 'e' || *j->p == 'E'))
        return -1;
    *v = neg ? -x : x;
    return 0;
}

redisx_status redisx__http_metadata_parse(int *status, char *ct, size_t ct_cap, size_t *ct_len, const void *metadata,
                                          size_t metadata_len)
{
    json_in j = {metadata, (const uint8_t *)metadata + metadata_len};
    int have_status = 0, have_ct = 0;
    long st = 0;
    size_t n = 0;
    char key[32];
    json_ws(&j);
    if (j.p >= j.end || *j.p++ != '{')
        return redisx__fail(REDISX_ERR_INVALID, "metadata is not a JSON object");
    json_ws(&j);
    if (j.p < j.end && *j.p == '}')
        return redisx__fail(REDISX_ERR_INVALID, "metadata has no \"status\"");
    for (;;) {
        json_ws(&j);
        long kl = json_string(&j, key, sizeof key);
        if (kl < 0)
            return redisx__fail(REDISX_ERR_INVALID, "metadata: expected a member name at byte %zu",
                                (size_t)(j.p - (const uint8_t *)metadata));
        json_ws(&j);
        if (j.p >= j.end || *j.p++ != ':')
            return redisx__fail(REDISX_ERR_INVALID, "metadata: expected ':'");
        json_ws(&j);
        if (kl == 6 && !memcmp(key, "status", 6)) {
            if (have_status++ || json_int(&j, &st) < 0 || st < 100 || st > 999)
                return redisx__fail(REDISX_ERR_INVALID, "metadata: \"status\" must be one integer in 100..999");
        } else if (kl == 12 && !memcmp(key, "content_type", 12)) {
            long cl = have_ct++ ? -1 : json_string(&j, ct, ct_cap);
            if (cl < 0)
                return redisx__fail(REDISX_ERR_INVALID,
                                    "metadata: \"content_type\" must be one string of at most %zu bytes", ct_cap);
            n = (size_t)cl;
        } else
            return redisx__fail(REDISX_ERR_INVALID, "metadata: unexpected member (only status and content_type)");
        json_ws(&j);
        if (j.p < j.end && *j.p == ',') {
            j.p++;
            continue;
        }
        if (j.p < j.end && *j.p == '}') {
            j.p++;
            break;
        }
        return redisx__fail(REDISX_ERR_INVALID, "metadata: expected ',' or '}'");
    }
    json_ws(&j);
    if (j.p != j.end)
        return redisx__fail(REDISX_ERR_INVALID, "metadata: bytes after the JSON object");
    if (!have_status)
        return redisx__fail(REDISX_ERR_INVALID, "metadata has no \"status\"");
    redisx_status rc = check_content_type((const uint8_t *)ct, n, "metadata's content type");
    if (rc != REDISX_OK)
        return rc;
    *status = (int)st;
    *ct_len = n;
    return REDISX_OK;
}

/* ---- answers ------------------------------------------------------------- */

#define HTTP_HEADERS_MAX 6

struct redisx_http_response {
    int status;
    size_t nheaders;
    const char *name[HTTP_HEADERS_MAX]; /* static strings */
    char *value[HTTP_HEADERS_MAX];
    char *body;
    size_t body_len;
};

static redisx_http_response *resp_new(int status)
{
    redisx_http_response *r = calloc(1, sizeof *r);
    if (r)
        r->status = status;
    return r;
}

static int resp_header(redisx_http_response *r, const char *name, const char *value, size_t len)
{
    char *v = malloc(len + 1);
    if (!v)
        return -1;
    memcpy(v, value, len);
    v[len] = '\0';
    r->name[r->nheaders] = name;
    r->value[r->nheaders++] = v;
    return 0;
}

static int resp_int_header(redisx_http_response *r, const char *name, int64_t v)
{
    char buf[24];
    int n = snprintf(buf, sizeof buf, "%lld", (long long)v);
    return resp_header(r, name, buf, (size_t)n);
}

static int resp_body(redisx_http_response *r, const void *p, size_t n)
{
    r->body = malloc(n ? n : 1);
    if (!r->body)
        return -1;
    if (n)
        memcpy(r->body, p, n);
    r->body_len = n;
    return 0;
}

void redisx__http_response_free(redisx_http_response *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->nheaders; i++)
        free(r->value[i]);
    free(r->body);
    free(r);
}

/* ceil(ms / 1000) for ms >= 0, without overflow at INT64_MAX. */
int64_t redisx__http_ceil_seconds(int64_t ms)
{
    return ms <= 0 ? 0 : ms / 1000 + (ms % 1000 != 0);
}

static int64_t retry_after(int64_t ms)
{
    int64_t s = redisx__http_ceil_seconds(ms);
    return s < 1 ? 1 : s;
}

static redisx_status resp_done(redisx_http_response **out, redisx_http_response *r, int failed)
{
    if (failed) {
        redisx__http_response_free(r);
        return redisx__fail(REDISX_ERR_NOMEM, "out of memory building an HTTP response");
    }
    *out = r;
    return REDISX_OK;
}

static redisx_status text_answer(redisx_http_response **out, int status, const char *body, int64_t retry_after_s)
{
    redisx_http_response *r = resp_new(status);
    int failed = !r;
    if (!failed)
        failed = resp_header(r, "Content-Type", REDISX_HTTP_TEXT_TYPE, strlen(REDISX_HTTP_TEXT_TYPE)) < 0 ||
                 (retry_after_s > 0 && resp_int_header(r, "Retry-After", retry_after_s) < 0) ||
                 resp_body(r, body, strlen(body)) < 0;
    return resp_done(out, r, failed);
}

redisx_status redisx__http_key_required(redisx_http_response **out)
{
    return text_answer(out, 400, REDISX_HTTP_BODY_KEY_REQUIRED, 0);
}

redisx_status redisx__http_key_invalid(redisx_http_response **out)
{
    return text_answer(out, 400, REDISX_HTTP_BODY_KEY_INVALID, 0);
}

redisx_status redisx__http_idem_answer(redisx_http_response **out, redisx_idem_state state, int64_t remaining_ms,
                                       const void *metadata, size_t metadata_len, const void *response,
                                       size_t response_len)
{
    switch (state) {
    case REDISX_IDEM_NEW:
        return REDISX_OK;
    case REDISX_IDEM_IN_PROGRESS:
        return text_answer(out, 409, REDISX_HTTP_BODY_IN_PROGRESS, retry_after(remaining_ms));
    case REDISX_IDEM_MISMATCH:
        return text_answer(out, 422, REDISX_HTTP_BODY_MISMATCH, 0);
    case REDISX_IDEM_COMPLETED:
        break;
    default:
        return redisx__fail(REDISX_ERR_INVALID, "unknown idempotency state %d", (int)state);
    }
    int status = 200;
    char ct[REDISX_HTTP_CONTENT_TYPE_MAX];
    size_t ct_len = 0;
    if (redisx__http_metadata_parse(&status, ct, sizeof ct, &ct_len, metadata, metadata_len) != REDISX_OK) {
        /* Not stored by an HTTP helper: the bytes as they are. */
        redisx__clear_error();
        status = 200;
        ct_len = 0;
    }
    redisx_http_response *r = resp_new(status);
    int failed = !r;
    if (!failed)
        failed = (ct_len && resp_header(r, "Content-Type", ct, ct_len) < 0) ||
                 resp_header(r, REDISX_HTTP_REPLAYED_HEADER, "true", 4) < 0 ||
                 resp_body(r, response, response_len) < 0;
    return resp_done(out, r, failed);
}

redisx_status redisx__http_ratelimit_answer(redisx_http_response **out, int allowed, int64_t limit, int64_t remaining,
                                            int64_t reset_ms, int64_t retry_after_ms)
{
    if (limit < 0 || remaining < 0 || reset_ms < 0)
        return redisx__fail(REDISX_ERR_INVALID,
                            "rate limit values must not be negative: limit %lld, remaining %lld, reset %lld ms",
                            (long long)limit, (long long)remaining, (long long)reset_ms);
    if (!allowed && retry_after_ms < 0)
        return redisx__fail(REDISX_ERR_INVALID, "a denied check needs a retry-after of 0 or more ms, got %lld",
                            (long long)retry_after_ms);
    redisx_http_response *r = resp_new(allowed ? 0 : 429);
    int failed = !r;
    if (!failed)
        failed = resp_int_header(r, "X-RateLimit-Limit", limit) < 0 ||
                 resp_int_header(r, "X-RateLimit-Remaining", remaining) < 0 ||
                 resp_int_header(r, "X-RateLimit-Reset", redisx__http_ceil_seconds(reset_ms)) < 0;
    if (!failed && !allowed)
        failed = resp_int_header(r, "Retry-After", retry_after(retry_after_ms)) < 0 ||
                 resp_header(r, "Content-Type", REDISX_HTTP_TEXT_TYPE, strlen(REDISX_HTTP_TEXT_TYPE)) < 0 ||
                 resp_body(r, REDISX_HTTP_BODY_TOO_MANY_REQUESTS, strlen(REDISX_HTTP_BODY_TOO_MANY_REQUESTS)) < 0;
    else if (!failed)
        failed = resp_body(r, "", 0) < 0;
    return resp_done(out, r, failed);
}

int redisx__http_response_status(const redisx_http_response *r)
{
    return r->status;
}

size_t redisx__http_response_header_count(const redisx_http_response *r)
{
    return r->nheaders;
}

const char *redisx__http_response_header_name(const redisx_http_response *r, size_t i)
{
    return i < r->nheaders ? r->name[i] : NULL;
}

const char *redisx__http_response_header_value(const redisx_http_response *r, size_t i)
{
    return i < r->nheaders ? r->value[i] : NULL;
}

const char *redisx__http_response_body(const redisx_http_response *r, size_t *len)
{
    *len = r->body_len;
    return r->body;
}
