/* The reply path: raw RESP bytes as a (fake, hostile or broken) server would
 * send them, through the connection's own reader (which builds redisx replies)
 * (redisx__replies_from_resp in core/conn.c), fed in chunks the first input
 * byte chooses; every reply is walked through the public accessors and
 * freed. The same bytes fed at once must give the same replies and the same
 * status: how recv() splits a stream must not matter. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define CHECK(cond)                                                                 \
    do {                                                                            \
        if (!(cond)) {                                                              \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            abort();                                                                \
        }                                                                           \
    } while (0)

/* Allocations above 1 GiB fail here (as on a machine with strict
 * overcommit) instead of ending the run as libFuzzer's out-of-memory: the
 * core's own out-of-memory paths get fuzzed too. (An array header such as
 * "*2147483647\r\n" no longer allocates anything up front: the reader grows
 * an array's slots as its elements arrive.) */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "allocator_may_return_null=1:max_allocation_size_mb=1024";
}

typedef struct seen {
    size_t replies;
    size_t string_bytes; /* payload bytes of every string in every reply */
    uint64_t digest;     /* FNV-1a over a walk of every reply */
} seen;

static void mix(seen *s, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        s->digest = (s->digest ^ b[i]) * 1099511628211ull;
}

static void walk(seen *s, const redisx_reply *r, int depth)
{
    CHECK(r != NULL);
    CHECK(depth <= 16);
    redisx_reply_type t = redisx_reply_type_of(r);
    CHECK(t >= REDISX_REPLY_STRING && t <= REDISX_REPLY_ERROR);
    mix(s, &t, sizeof t);
    int64_t i = redisx_reply_integer(r);
    CHECK(t == REDISX_REPLY_INTEGER || i == 0);
    mix(s, &i, sizeof i);
    size_t len = 12345;
    const char *str = redisx_reply_string(r, &len);
    if (t == REDISX_REPLY_STRING || t == REDISX_REPLY_STATUS || t == REDISX_REPLY_ERROR) {
        CHECK(str != NULL);
        CHECK(str[len] == '\0');
        CHECK(redisx__reply_is_error(r, "") == (t == REDISX_REPLY_ERROR));
        s->string_bytes += len;
        mix(s, &len, sizeof len);
        mix(s, str, len);
    } else {
        CHECK(str == NULL && len == 0);
    }
    size_t n = redisx_reply_elements(r);
    CHECK(t == REDISX_REPLY_ARRAY || n == 0);
    mix(s, &n, sizeof n);
    for (size_t k = 0; k < n; k++) {
        const redisx_reply *e = redisx_reply_element(r, k);
        CHECK(redisx__reply_int_at(r, k, -7) == (redisx_reply_type_of(e) == REDISX_REPLY_INTEGER ? e->integer : -7));
        walk(s, e, depth + 1);
    }
    CHECK(redisx_reply_element(r, n) == NULL);
    CHECK(redisx_reply_element(r, SIZE_MAX) == NULL);
}

static void each(redisx_reply *r, void *u)
{
    seen *s = u;
    s->replies++;
    walk(s, r, 0);
    redisx_reply_free(r);
}

static redisx_status run(const char *bytes, size_t len, size_t chunk, seen *s)
{
    memset(s, 0, sizeof *s);
    s->digest = 14695981039346656037ull;
    redisx_status st = redisx__replies_from_resp(bytes, len, chunk, each, s);
    CHECK(st == REDISX_OK || st == REDISX_ERR_PROTOCOL || st == REDISX_ERR_NOMEM);
    CHECK(st == REDISX_OK || redisx_last_error()[0] != '\0');
    /* Every payload byte came from the input, once. */
    CHECK(s->string_bytes <= len);
    return st;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    /* 0: all at once; 1..199 bytes; then steps of 1 KiB (a recv() is 64 KiB). */
    size_t chunk = data[0] < 200 ? data[0] : (size_t)(data[0] - 199) * 1024;
    /* A copy of exactly the RESP bytes, so ASan sees any read past them. */
    size_t len = size - 1;
    char *bytes = malloc(len ? len : 1);
    CHECK(bytes);
    memcpy(bytes, data + 1, len);

    seen split, whole;
    redisx_status st_split = run(bytes, len, chunk, &split);
    redisx_status st_whole = run(bytes, len, 0, &whole);
    if (st_split != REDISX_ERR_NOMEM && st_whole != REDISX_ERR_NOMEM) {
        CHECK(st_split == st_whole);
        CHECK(split.replies == whole.replies);
        CHECK(split.digest == whole.digest);
    }
    /* Whole replies followed by whole replies are still whole. */
    if (st_whole == REDISX_OK && len <= 2048) {
        char *twice = malloc(2 * len + 1);
        CHECK(twice);
        memcpy(twice, bytes, len);
        memcpy(twice + len, bytes, len);
        seen both;
        redisx_status st = run(twice, 2 * len, chunk, &both);
        CHECK(st == REDISX_OK || st == REDISX_ERR_NOMEM);
        CHECK(st != REDISX_OK || both.replies == 2 * whole.replies);
        free(twice);
    }
    free(bytes);
    return 0;
}
