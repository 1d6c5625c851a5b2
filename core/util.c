/* Clocks, randomness, small allocation helpers. */
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "internal.h"

uint64_t redisx__now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

char *redisx__strdup(const char *s)
{
    return s ? redisx__memdup(s, strlen(s) + 1) : NULL;
}

void *redisx__memdup(const void *p, size_t n)
{
    void *q = malloc(n ? n : 1);
    if (q && n)
        memcpy(q, p, n);
    return q;
}

static void fill_random(void *buf, size_t n)
{
    unsigned char *p = buf;
    while (n > 0) {
        ssize_t got = getrandom(p, n, 0);
        if (got <= 0) {
            /* getrandom only fails before the pool is seeded or on EINTR; fall
             * back to the clock so that tokens still differ between calls. */
            uint64_t t = redisx__now_ns() ^ (uint64_t)(uintptr_t)p;
            size_t k = n < sizeof t ? n : sizeof t;
            memcpy(p, &t, k);
            got = (ssize_t)k;
        }
        p += got;
        n -= (size_t)got;
    }
}

/* xoshiro256** per thread: jitter needs speed, not secrecy. */
static _Thread_local uint64_t rng[4];
static _Thread_local int rng_seeded;

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static uint64_t next_u64(void)
{
    if (!rng_seeded) {
        fill_random(rng, sizeof rng);
        rng[0] |= 1;
        rng_seeded = 1;
    }
    uint64_t result = rotl(rng[1] * 5, 7) * 9;
    uint64_t t = rng[1] << 17;
    rng[2] ^= rng[0];
    rng[3] ^= rng[1];
    rng[1] ^= rng[2];
    rng[0] ^= rng[3];
    rng[2] ^= t;
    rng[3] = rotl(rng[3], 45);
    return result;
}

uint64_t redisx__rand_below(uint64_t n)
{
    return n ? next_u64() % n : 0;
}

void redisx__random_hex(char *out, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    unsigned char raw[64];
    if (n > sizeof raw)
        n = sizeof raw;
    /* Owner tokens must be unguessable and unique across processes: use the
     * kernel's generator, not the per-thread jitter one. */
    fill_random(raw, n);
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[raw[i] >> 4];
        out[2 * i + 1] = digits[raw[i] & 15];
    }
    out[2 * n] = '\0';
}

char *redisx__fmt_i64(char out[24], int64_t v)
{
    char tmp[24];
    size_t n = 0;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    char *o = out;
    if (v < 0)
        *o++ = '-';
    while (n)
        *o++ = tmp[--n];
    *o = '\0';
    return out;
}
