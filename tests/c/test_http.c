/* The HTTP rules (redisx/http.h, core/http.c): SHA-256 against the FIPS
 * 180-2 vectors, the fingerprint, the record key, metadata both ways, and
 * every answer byte for byte. No server. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "sha256.h"

static void hex(char out[65], const uint8_t d[32])
{
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", d[i]);
}

static void sha_hex(char out[65], const void *p, size_t n)
{
    redisx__sha256 s;
    uint8_t d[32];
    redisx__sha256_init(&s);
    redisx__sha256_update(&s, p, n);
    redisx__sha256_final(&s, d);
    hex(out, d);
}

#define ABC_HEX "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#define EMPTY_HEX "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define M448 "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
#define M448_HEX "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
#define MILLION_A_HEX "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"

Test(sha256, fips_abc)
{
    char h[65];
    sha_hex(h, "abc", 3);
    cr_assert_str_eq(h, ABC_HEX);
}

Test(sha256, fips_empty)
{
    char h[65];
    sha_hex(h, "", 0);
    cr_assert_str_eq(h, EMPTY_HEX);
}

Test(sha256, fips_448_bit_message)
{
    char h[65];
    sha_hex(h, M448, strlen(M448));
    cr_assert_str_eq(h, M448_HEX);
}

Test(sha256, fips_one_million_a)
{
    size_t n = 1000000;
    char *a = malloc(n);
    cr_assert_not_null(a);
    memset(a, 'a', n);
    char h[65];
    sha_hex(h, a, n);
    cr_assert_str_eq(h, MILLION_A_HEX);
    /* the same in odd-sized updates */
    redisx__sha256 s;
    uint8_t d[32];
    redisx__sha256_init(&s);
    for (size_t off = 0; off < n; off += 997)
        redisx__sha256_update(&s, a + off, n - off < 997 ? n - off : 997);
    redisx__sha256_final(&s, d);
    hex(h, d);
    cr_assert_str_eq(h, MILLION_A_HEX);
    free(a);
}

Test(sha256, streamed_split_at_every_offset)
{
    /* 56 and 64 bytes and around: the padding's edge cases */
    static const char m[] = M448 "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";
    size_t n = strlen(m);
    char want[65];
    sha_hex(want, m, n);
    cr_assert_str_eq(want, "431ce2cd7a73aaba43d26b03a389fc7c24647cefb4d4d5380b8d2e114dafdcf0");
    for (size_t len = 0; len <= n; len++) {
        char whole[65];
        sha_hex(whole, m, len);
        for (size_t cut = 0; cut <= len; cut++) {
            redisx__sha256 s;
            uint8_t d[32];
            char h[65];
            redisx__sha256_init(&s);
            redisx__sha256_update(&s, m, cut);
            redisx__sha256_update(&s, "", 0);
            redisx__sha256_update(&s, m + cut, len - cut);
            redisx__sha256_final(&s, d);
            hex(h, d);
            cr_assert_str_eq(h, whole, "length %zu split at %zu", len, cut);
        }
    }
    /* and the 448-bit message split at every offset gives its vector */
    static const char m448[] = M448;
    size_t l448 = strlen(m448);
    for (size_t cut = 0; cut <= l448; cut++) {
        redisx__sha256 s;
        uint8_t d[32];
        char h[65];
        redisx__sha256_init(&s);
        redisx__sha256_update(&s, m448, cut);
        redisx__sha256_update(&s, m448 + cut, l448 - cut);
        redisx__sha256_final(&s, d);
        hex(h, d);
        cr_assert_str_eq(h, M448_HEX, "split at %zu", cut);
    }
}

/* ---- fingerprint ---- */

static void fp_hex(char h[65], const char *method, const void *t, size_t tl, const void *b, size_t bl)
{
    uint8_t d[REDISX_HTTP_FINGERPRINT_LEN];
    size_t n = 0;
    cr_assert_eq(redisx_http_fingerprint(d, sizeof d, &n, method, t, tl, b, bl), REDISX_OK, "%s", redisx_last_error());
    cr_assert_eq(n, 32);
    hex(h, d);
}

Test(fingerprint, is_sha256_of_method_target_body_with_binary_body)
{
    uint8_t body[256];
    for (int i = 0; i < 256; i++)
        body[i] = (uint8_t)i;
    char h[65];
    fp_hex(h, "POST", "/orders?x=1", 11, body, sizeof body);
    /* hashlib.sha256(b"POST\n/orders?x=1\n" + bytes(range(256))) */
    cr_assert_str_eq(h, "0084b958672cb23b78a25302c4b9acc0f244e0c6746e841718c610c0419b901c");
}

Test(fingerprint, one_mebibyte_binary_body_and_target_with_nul)
{
    size_t n = 1 << 20;
    uint8_t *body = malloc(n);
    cr_assert_not_null(body);
    for (size_t i = 0; i < n; i++)
        body[i] = (uint8_t)(i * 31);
    char *msg = malloc(n + 16);
    cr_assert_not_null(msg);
    memcpy(msg, "PUT\n/a\0b\n", 9);
    memcpy(msg + 9, body, n);
    char a[65], b[65];
    fp_hex(a, "put", "/a\0b", 4, body, n);
    sha_hex(b, msg, n + 9);
    cr_assert_str_eq(a, b);
    free(msg);
    free(body);
}

Test(fingerprint, method_is_upper_cased_ascii_only)
{
    char a[65], b[65];
    fp_hex(a, "post", "/", 1, NULL, 0);
    fp_hex(b, "POST", "/", 1, "", 0);
    cr_assert_str_eq(a, b);
    char c[65];
    sha_hex(c, "POST\n/\n", 7);
    cr_assert_str_eq(a, c);
    /* a byte above 0x7f is left as it is */
    fp_hex(a, "g\xe9t", "/", 1, NULL, 0);
    sha_hex(c, "G\xe9T\n/\n", 6);
    cr_assert_str_eq(a, c);
}

Test(fingerprint, long_method_is_hashed_whole)
{
    char m[200];
    memset(m, 'x', sizeof m - 1);
    m[sizeof m - 1] = '\0';
    char up[210];
    memset(up, 'X', 199);
    memcpy(up + 199, "\n/\n", 3);
    char a[65], b[65];
    fp_hex(a, m, "/", 1, NULL, 0);
    sha_hex(b, up, 202);
    cr_assert_str_eq(a, b);
}

Test(fingerprint, bad_arguments)
{
    uint8_t d[32];
    size_t n;
    cr_assert_eq(redisx_http_fingerprint(NULL, 32, &n, "GET", "/", 1, NULL, 0), REDISX_ERR_INVALID);
    cr_assert_eq(redisx_http_fingerprint(d, 32, NULL, "GET", "/", 1, NULL, 0), REDISX_ERR_INVALID);
    cr_assert_eq(redisx_http_fingerprint(d, 31, &n, "GET", "/", 1, NULL, 0), REDISX_ERR_INVALID);
    cr_assert(strstr(redisx_last_error(), "32") != NULL, "%s", redisx_last_error());
    cr_assert_eq(redisx_http_fingerprint(d, 32, &n, NULL, "/", 1, NULL, 0), REDISX_ERR_INVALID);
    cr_assert_eq(redisx_http_fingerprint(d, 32, &n, "", "/", 1, NULL, 0), REDISX_ERR_INVALID);
    cr_assert_eq(redisx_http_fingerprint(d, 32, &n, "GET", NULL, 1, NULL, 0), REDISX_ERR_INVALID);
    cr_assert_eq(redisx_http_fingerprint(d, 32, &n, "GET", "/", 1, NULL, 5), REDISX_ERR_INVALID);
}

/* ---- record key ---- */

Test(record_key, namespace_colon_value)
{
    char out[REDISX_HTTP_OUT_MAX];
    size_t n = 0;
    cr_assert_eq(redisx_http_record_key(out, sizeof out, &n, "orders", "k1", 2), REDISX_OK);
    cr_assert_eq(n, 9);
    cr_assert(!memcmp(out, "orders:k1", 9));
    cr_assert_eq(redisx_http_record_key(out, sizeof out, &n, NULL, "k1", 2), REDISX_OK);
    cr_assert(n == 2 && !memcmp(out, "k1", 2));
    cr_assert_eq(redisx_http_record_key(out, sizeof out, &n, "", "k1", 2), REDISX_OK);
    cr_assert(n == 2 && !memcmp(out, "k1", 2));
}

Test(record_key, refuses_empty_nul_and_too_long)
{
    char out[REDISX_HTTP_OUT_MAX];
    size_t n;
    char big[REDISX_IDEM_KEY_MAX + 1];
    memset(big, 'k', sizeof big);
    cr_assert_eq(redisx_http_record_key(out, sizeof out, &n, "ns", "", 0), REDISX_ERR_INVALID);
    cr_assert_eq(redisx_http_record_key(out, sizeof out, &n, "ns", NULL, 3), REDISX_ERR_INVALID);
    cr_assert_eq(redisx_http_record_key(out, sizeof out, &n, "ns", "a\0b", 3), REDISX_ERR_INVALID);
    cr_assert_eq(redisx_http_record_key(out, sizeof out, &n, NULL, big, REDISX_IDEM_KEY_MAX), REDISX_OK);
    cr_assert_eq(redisx_http_record_key(out, sizeof out, &n, NULL, big, REDISX_IDEM_KEY_MAX + 1), REDISX_ERR_INVALID);
    cr_assert_eq(redisx_http_record_key(out, sizeof out, &n, "n", big, REDISX_IDEM_KEY_MAX - 1), REDISX_ERR_INVALID);
    cr_assert_eq(redisx_http_record_key(out, 3, &n, "ns", "abc", 3), REDISX_ERR_INVALID);
    cr_assert_eq(redisx_http_record_key(NULL, 10, &n, "ns", "abc", 3), REDISX_ERR_INVALID);
}

/* ---- metadata ---- */

static void meta_is(int status, const char *ct, const char *want)
{
    char out[REDISX_HTTP_METADATA_MAX];
    size_t n = 0;
    cr_assert_eq(redisx_http_metadata(out, sizeof out, &n, status, ct, ct ? strlen(ct) : 0), REDISX_OK, "%s",
                 redisx_last_error());
    cr_assert_eq(n, strlen(want), "%.*s", (int)n, out);
    cr_assert(!memcmp(out, want, n), "%.*s", (int)n, out);
}

Test(metadata, compact_json_in_this_order)
{
    meta_is(201, "application/json", "{\"status\":201,\"content_type\":\"application/json\"}");
    meta_is(200, NULL, "{\"status\":200,\"content_type\":\"\"}");
    meta_is(100, "", "{\"status\":100,\"content_type\":\"\"}");
}

Test(metadata, escapes_quote_and_backslash_only)
{
    meta_is(200, "text/plain; a=\"b\\c\"\t<&>/\xc3\xa9",
            "{\"status\":200,\"content_type\":\"text/plain; a=\\\"b\\\\c\\\"\t<&>/\xc3\xa9\"}");
}

Test(metadata, refuses_bad_status_and_content_type)
{
    char out[REDISX_HTTP_METADATA_MAX];
    size_t n;
    cr_assert_eq(redisx_http_metadata(out, sizeof out, &n, 99, "", 0), REDISX_ERR_INVALID);
    cr_assert_eq(redisx_http_metadata(out, sizeof out, &n, 1000, "", 0), REDISX_ERR_INVALID);
    cr_assert_eq(redisx_http_metadata(out, sizeof out, &n, 200, "a\r\nX: y", 7), REDISX_ERR_INVALID);
    cr_assert(strstr(redisx_last_error(), "control") != NULL, "%s", redisx_last_error());
    cr_assert_eq(redisx_http_metadata(out, sizeof out, &n, 200, "a\0b", 3), REDISX_ERR_INVALID);
    cr_assert_eq(redisx_http_metadata(out, sizeof out, &n, 200, "\xe9t\xe9", 3), REDISX_ERR_INVALID);
    cr_assert(strstr(redisx_last_error(), "UTF-8") != NULL, "%s", redisx_last_error());
    cr_assert_eq(redisx_http_metadata(out, sizeof out, &n, 200, "\xed\xa0\x80", 3), REDISX_ERR_INVALID); /* surrogate */
    cr_assert_eq(redisx_http_metadata(out, sizeof out, &n, 200, NULL, 2), REDISX_ERR_INVALID);
    cr_assert_eq(redisx_http_metadata(out, 20, &n, 200, "", 0), REDISX_ERR_INVALID);
    static char big[REDISX_HTTP_CONTENT_TYPE_MAX + 1];
    memset(big, '"', sizeof big);
    cr_assert_eq(redisx_http_metadata(out, sizeof out, &n, 200, big, REDISX_HTTP_CONTENT_TYPE_MAX), REDISX_OK);
    cr_assert_eq(n, REDISX_HTTP_METADATA_MAX);
    cr_assert_eq(redisx_http_metadata(out, sizeof out, &n, 200, big, sizeof big), REDISX_ERR_INVALID);
}

static int parse(const char *json, int *status, char *ct, size_t *ct_len)
{
    return redisx_http_metadata_parse(status, ct, REDISX_HTTP_CONTENT_TYPE_MAX, ct_len, json, strlen(json));
}

Test(metadata, parses_back_what_it_writes)
{
    char out[REDISX_HTTP_METADATA_MAX], ct[REDISX_HTTP_CONTENT_TYPE_MAX];
    size_t n, cl;
    int st = 0;
    const char *type = "text/x; q=\"a\\\"b\" \xe2\x82\xac";
    cr_assert_eq(redisx_http_metadata(out, sizeof out, &n, 418, type, strlen(type)), REDISX_OK);
    cr_assert_eq(redisx_http_metadata_parse(&st, ct, sizeof ct, &cl, out, n), REDISX_OK, "%s", redisx_last_error());
    cr_assert_eq(st, 418);
    cr_assert_eq(cl, strlen(type));
    cr_assert(!memcmp(ct, type, cl));
}

Test(metadata, parses_other_encoders_output)
{
    char ct[REDISX_HTTP_CONTENT_TYPE_MAX];
    size_t cl;
    int st;
    /* Python's json.dumps (ensure_ascii), spacing, members swapped, no type */
    cr_assert_eq(parse(" { \"content_type\" : \"caf\\u00e9\\ud83d\\ude00\\/x\" , \"status\" : 202 } ", &st, ct, &cl),
                 REDISX_OK, "%s", redisx_last_error());
    cr_assert_eq(st, 202);
    cr_assert_eq(cl, strlen("caf\xc3\xa9\xf0\x9f\x98\x80/x"));
    cr_assert(!memcmp(ct, "caf\xc3\xa9\xf0\x9f\x98\x80/x", cl));
    cr_assert_eq(parse("{\"status\":204}", &st, ct, &cl), REDISX_OK);
    cr_assert(st == 204 && cl == 0);
}

Test(metadata, refuses_malformed)
{
    static const char *bad[] = {
        "",
        "[]",
        "{}",
        "null",
        "{\"status\":200",
        "{\"status\":200,}",
        "{\"status\":200}x",
        "{\"status\":\"200\"}",
        "{\"status\":200.0}",
        "{\"status\":2e2}",
        "{\"status\":0200}",
        "{\"status\":99}",
        "{\"status\":1000}",
        "{\"status\":-200}",
        "{\"status\":99999999999999999999}",
        "{\"status\":200,\"status\":201}",
        "{\"status\":200,\"content_type\":1}",
        "{\"status\":200,\"content_type\":\"a\",\"content_type\":\"b\"}",
        "{\"status\":200,\"extra\":1}",
        "{\"status\":200,\"content_type\":\"a\\r\\nX: y\"}",
        "{\"status\":200,\"content_type\":\"a\\u0000\"}",
        "{\"status\":200,\"content_type\":\"\\ud800\"}",
        "{\"status\":200,\"content_type\":\"\\udc00x\"}",
        "{\"status\":200,\"content_type\":\"\\x\"}",
        "{\"status\":200,\"content_type\":\"\\u12\"}",
        "{\"status\":200,\"content_type\":\"\xff\"}",
        "{\"status\":200,\"content_type\":\"raw\ttab ok but raw newline\n\"}",
        "{'status':200}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char ct[REDISX_HTTP_CONTENT_TYPE_MAX];
        size_t cl = 99;
        int st = 7;
        cr_assert_eq(parse(bad[i], &st, ct, &cl), REDISX_ERR_INVALID, "accepted: %s", bad[i]);
        cr_assert_neq(redisx_last_error()[0], '\0');
        cr_assert(st == 7 && cl == 99, "outputs written for %s", bad[i]);
    }
    char ct[4];
    size_t cl;
    int st;
    cr_assert_eq(redisx_http_metadata_parse(&st, ct, sizeof ct, &cl, "{\"status\":200,\"content_type\":\"abcde\"}", 37),
                 REDISX_ERR_INVALID);
    cr_assert_eq(redisx_http_metadata_parse(NULL, ct, sizeof ct, &cl, "{}", 2), REDISX_ERR_INVALID);
    cr_assert_eq(redisx_http_metadata_parse(&st, ct, sizeof ct, &cl, NULL, 2), REDISX_ERR_INVALID);
}

Test(metadata, stored_statuses)
{
    cr_assert_eq(redisx_http_status_is_stored(200), 1);
    cr_assert_eq(redisx_http_status_is_stored(100), 1);
    cr_assert_eq(redisx_http_status_is_stored(499), 1);
    cr_assert_eq(redisx_http_status_is_stored(500), 0);
    cr_assert_eq(redisx_http_status_is_stored(503), 0);
    cr_assert_eq(redisx_http_status_is_stored(99), 0);
    cr_assert_eq(redisx_http_status_is_stored(-1), 0);
}

/* ---- answers ---- */

/* "status\nname: value\n...\n\nbody" */
static char *dump(const redisx_http_response *r)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    cr_assert_not_null(f);
    fprintf(f, "%d\n", redisx_http_response_status(r));
    for (size_t i = 0; i < redisx_http_response_header_count(r); i++)
        fprintf(f, "%s: %s\n", redisx_http_response_header_name(r, i), redisx_http_response_header_value(r, i));
    size_t bl;
    const char *b = redisx_http_response_body(r, &bl);
    fputc('\n', f);
    fwrite(b, 1, bl, f);
    fclose(f);
    return buf;
}

static void answer_is(redisx_http_response *r, const char *want)
{
    cr_assert_not_null(r);
    char *got = dump(r);
    cr_assert_str_eq(got, want);
    free(got);
    redisx_http_response_free(r);
}

#define TEXT "Content-Type: text/plain; charset=utf-8\n"

Test(answer, key_required_and_invalid)
{
    redisx_http_response *r = NULL;
    cr_assert_eq(redisx_http_key_required(&r), REDISX_OK);
    answer_is(r, "400\n" TEXT "\nIdempotency-Key header required");
    cr_assert_eq(redisx_http_key_invalid(&r), REDISX_OK);
    answer_is(r, "400\n" TEXT "\nInvalid Idempotency-Key");
    cr_assert_eq(redisx_http_key_required(NULL), REDISX_ERR_INVALID);
    cr_assert_eq(redisx_http_key_invalid(NULL), REDISX_ERR_INVALID);
}

static redisx_http_response *in_progress(int64_t ms)
{
    redisx_http_response *r = NULL;
    cr_assert_eq(redisx_http_idem_answer(&r, REDISX_IDEM_IN_PROGRESS, ms, NULL, 0, NULL, 0), REDISX_OK);
    return r;
}

Test(answer, in_progress_retry_after_rounds_up_at_least_one)
{
    static const struct {
        int64_t ms;
        const char *s;
    } cases[] = {{-5, "1"}, {0, "1"}, {1, "1"}, {999, "1"}, {1000, "1"}, {1001, "2"}, {29999, "30"},
                 {INT64_MAX, "9223372036854776"}};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char want[256];
        snprintf(want, sizeof want, "409\n" TEXT "Retry-After: %s\n\nA request with this Idempotency-Key is being processed",
                 cases[i].s);
        answer_is(in_progress(cases[i].ms), want);
    }
}

Test(answer, mismatch_and_new)
{
    redisx_http_response *r = (void *)1;
    cr_assert_eq(redisx_http_idem_answer(&r, REDISX_IDEM_MISMATCH, 5000, NULL, 0, NULL, 0), REDISX_OK);
    answer_is(r, "422\n" TEXT "\nIdempotency-Key was used with a different request");
    r = (void *)1;
    cr_assert_eq(redisx_http_idem_answer(&r, REDISX_IDEM_NEW, 5000, NULL, 0, NULL, 0), REDISX_OK);
    cr_assert_null(r);
    cr_assert_eq(redisx_http_idem_answer(&r, (redisx_idem_state)9, 0, NULL, 0, NULL, 0), REDISX_ERR_INVALID);
    cr_assert_eq(redisx_http_idem_answer(NULL, REDISX_IDEM_NEW, 0, NULL, 0, NULL, 0), REDISX_ERR_INVALID);
}

Test(answer, completed_replays_stored_status_type_and_binary_body)
{
    const char *meta = "{\"status\":201,\"content_type\":\"application/octet-stream\"}";
    redisx_http_response *r = NULL;
    cr_assert_eq(redisx_http_idem_answer(&r, REDISX_IDEM_COMPLETED, 0, meta, strlen(meta), "a\0b\xff", 4), REDISX_OK);
    cr_assert_eq(redisx_http_response_status(r), 201);
    cr_assert_eq(redisx_http_response_header_count(r), 2);
    cr_assert_str_eq(redisx_http_response_header_name(r, 0), "Content-Type");
    cr_assert_str_eq(redisx_http_response_header_value(r, 0), "application/octet-stream");
    cr_assert_str_eq(redisx_http_response_header_name(r, 1), "Idempotent-Replayed");
    cr_assert_str_eq(redisx_http_response_header_value(r, 1), "true");
    cr_assert_null(redisx_http_response_header_name(r, 2));
    cr_assert_null(redisx_http_response_header_value(r, 2));
    size_t bl;
    const char *b = redisx_http_response_body(r, &bl);
    cr_assert(bl == 4 && !memcmp(b, "a\0b\xff", 4));
    redisx_http_response_free(r);
}

Test(answer, completed_without_type_or_with_foreign_metadata)
{
    redisx_http_response *r = NULL;
    const char *meta = "{\"status\":204,\"content_type\":\"\"}";
    cr_assert_eq(redisx_http_idem_answer(&r, REDISX_IDEM_COMPLETED, 0, meta, strlen(meta), NULL, 0), REDISX_OK);
    answer_is(r, "204\nIdempotent-Replayed: true\n\n");
    cr_assert_eq(redisx_http_idem_answer(&r, REDISX_IDEM_COMPLETED, 0, "not json", 8, "raw", 3), REDISX_OK);
    answer_is(r, "200\nIdempotent-Replayed: true\n\nraw");
    cr_assert_eq(redisx_http_idem_answer(&r, REDISX_IDEM_COMPLETED, 0, NULL, 0, "raw", 3), REDISX_OK);
    answer_is(r, "200\nIdempotent-Replayed: true\n\nraw");
    cr_assert_eq(redisx_http_idem_answer(&r, REDISX_IDEM_COMPLETED, 0, NULL, 3, "raw", 3), REDISX_ERR_INVALID);
}

Test(answer, ratelimit_denied_and_allowed)
{
    redisx_http_response *r = NULL;
    cr_assert_eq(redisx_http_ratelimit_answer(&r, 0, 10, 0, 1001, 999), REDISX_OK);
    answer_is(r, "429\nX-RateLimit-Limit: 10\nX-RateLimit-Remaining: 0\nX-RateLimit-Reset: 2\nRetry-After: 1\n" TEXT
                 "\nToo Many Requests");
    cr_assert_eq(redisx_http_ratelimit_answer(&r, 0, 10, 0, 0, 0), REDISX_OK);
    answer_is(r, "429\nX-RateLimit-Limit: 10\nX-RateLimit-Remaining: 0\nX-RateLimit-Reset: 0\nRetry-After: 1\n" TEXT
                 "\nToo Many Requests");
    cr_assert_eq(redisx_http_ratelimit_answer(&r, 0, 10, 0, 1000, 1001), REDISX_OK);
    answer_is(r, "429\nX-RateLimit-Limit: 10\nX-RateLimit-Remaining: 0\nX-RateLimit-Reset: 1\nRetry-After: 2\n" TEXT
                 "\nToo Many Requests");
    cr_assert_eq(redisx_http_ratelimit_answer(&r, 1, 10, 9, 1, -1), REDISX_OK);
    answer_is(r, "0\nX-RateLimit-Limit: 10\nX-RateLimit-Remaining: 9\nX-RateLimit-Reset: 1\n\n");
    cr_assert_eq(redisx_http_ratelimit_answer(&r, 1, INT64_MAX, INT64_MAX, INT64_MAX, 0), REDISX_OK);
    answer_is(r, "0\nX-RateLimit-Limit: 9223372036854775807\nX-RateLimit-Remaining: 9223372036854775807\n"
                 "X-RateLimit-Reset: 9223372036854776\n\n");
}

Test(answer, ratelimit_refuses_negative_values)
{
    redisx_http_response *r = (void *)1;
    cr_assert_eq(redisx_http_ratelimit_answer(&r, 0, 10, 0, 5, -1), REDISX_ERR_INVALID);
    cr_assert_null(r);
    cr_assert(strstr(redisx_last_error(), "retry-after") != NULL, "%s", redisx_last_error());
    cr_assert_eq(redisx_http_ratelimit_answer(&r, 1, -1, 0, 5, 0), REDISX_ERR_INVALID);
    cr_assert_eq(redisx_http_ratelimit_answer(&r, 1, 1, -1, 5, 0), REDISX_ERR_INVALID);
    cr_assert_eq(redisx_http_ratelimit_answer(&r, 1, 1, 0, -5, 0), REDISX_ERR_INVALID);
    cr_assert_eq(redisx_http_ratelimit_answer(NULL, 1, 1, 0, 5, 0), REDISX_ERR_INVALID);
}

Test(answer, null_response_accessors)
{
    size_t bl = 9;
    redisx_http_response_free(NULL);
    cr_assert_eq(redisx_http_response_status(NULL), 0);
    cr_assert_eq(redisx_http_response_header_count(NULL), 0);
    cr_assert_null(redisx_http_response_header_name(NULL, 0));
    cr_assert_null(redisx_http_response_header_value(NULL, 0));
    cr_assert_str_eq(redisx_http_response_body(NULL, &bl), "");
    cr_assert_eq(bl, 0);
}
