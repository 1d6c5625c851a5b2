/* redisx cache benchmark: prints `name=value` lines, asserts nothing.
 *
 *   redisx_cache_bench URL [rounds [async_fetches [in_flight [keys]]]]
 *
 * One thread, blocking calls, one key with a 100-byte value, interleaved in
 * rounds of 1,000 so that a noisy neighbour slows every figure alike:
 *   get_p50_ns / get_p99_ns           a bare GET through redisx_command
 *   cache_l2_hit_p50_ns / _p99_ns     redisx_cache_fetch answered by L2
 *                                     (L1 off): one EVALSHA of cache_fetch
 *   cache_l1_hit_p50_ns / _p99_ns     redisx_cache_fetch answered by L1
 * Then concurrently (bench/cache.sh sets it next to redis-benchmark -P 16):
 *   cache_l2_async_per_s              `in_flight` chains of
 *                                     redisx_cache_fetch_async (L1 off), each
 *                                     completion starting the next, over
 *                                     `keys` keys (100-byte values) that all
 *                                     hit L2, `async_fetches` in all, one
 *                                     client with its default connections
 * Keys live under the prefix "redisxbench-<pid>" and expire on their own. */
#include <redisx/redisx.h>

#define BENCH_PROG "redisx_cache_bench"
#include "bench_util.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define ROUND 1000

static void report(const char *name, uint64_t *t, size_t n)
{
    qsort(t, n, sizeof *t, cmp_u64);
    printf("%s_p50_ns=%llu\n%s_p99_ns=%llu\n", name, (unsigned long long)t[n / 2], name,
           (unsigned long long)t[n * 99 / 100]);
}

static void fetch_hit(redisx_cache *cache)
{
    redisx_cache_entry *e = NULL;
    check(redisx_cache_fetch(&e, cache, "k", 0, 0, 0), "fetch");
    if (redisx_cache_entry_state(e) != REDISX_CACHE_HIT) {
        fprintf(stderr, "redisx_cache_bench: expected a hit\n");
        exit(1);
    }
    redisx_cache_entry_free(e);
}

static long nkeys;
static char (*keys)[32];

typedef struct chains {
    redisx_cache *cache;
    atomic_long started, done, errors, misses;
    long target;
} chains;

static void next_fetch(chains *ch);

static void on_fetch(redisx_client *c, redisx_status st, redisx_cache_entry *e, void *user)
{
    (void)c;
    chains *ch = user;
    if (st != REDISX_OK)
        atomic_fetch_add(&ch->errors, 1);
    else if (redisx_cache_entry_state(e) != REDISX_CACHE_HIT)
        atomic_fetch_add(&ch->misses, 1);
    redisx_cache_entry_free(e);
    atomic_fetch_add(&ch->done, 1);
    next_fetch(ch);
}

static void next_fetch(chains *ch)
{
    long i = atomic_fetch_add(&ch->started, 1);
    if (i >= ch->target)
        return;
    if (redisx_cache_fetch_async(ch->cache, keys[i % nkeys], 0, 0, 0, on_fetch, ch) != REDISX_OK) {
        atomic_fetch_add(&ch->errors, 1);
        atomic_fetch_add(&ch->done, 1);
    }
}

/* `n` fetches with `in_flight` chains; returns fetches per second. */
static double run_async(redisx_cache *cache, long n, long in_flight)
{
    chains ch = {.cache = cache, .target = n};
    uint64_t t0 = now_ns();
    for (long i = 0; i < in_flight && i < n; i++)
        next_fetch(&ch);
    while (atomic_load(&ch.done) < n) {
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
        if (now_ns() - t0 > 120ull * 1000000000u) {
            fprintf(stderr, "redisx_cache_bench: %ld of %ld fetches after 120 s\n", atomic_load(&ch.done), n);
            exit(1);
        }
    }
    uint64_t dt = now_ns() - t0;
    if (atomic_load(&ch.errors) || atomic_load(&ch.misses)) {
        fprintf(stderr, "redisx_cache_bench: %ld errors, %ld fetches that did not hit\n", atomic_load(&ch.errors),
                atomic_load(&ch.misses));
        exit(1);
    }
    return (double)n * 1e9 / (double)dt;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: redisx_cache_bench URL [rounds]\n");
        return 2;
    }
    long rounds = 20;
    if (argc > 2) {
        char *end;
        errno = 0;
        rounds = strtol(argv[2], &end, 10);
        if (errno || *end || rounds < 1) {
            fprintf(stderr, "redisx_cache_bench: rounds must be a positive integer, got '%s'\n", argv[2]);
            return 2;
        }
    }
    char prefix[64];
    snprintf(prefix, sizeof prefix, "redisxbench-%d", (int)getpid());
    redisx_options *o = NULL;
    check(redisx_options_new(&o), "options");
    check(redisx_options_set_url(o, argv[1]), "url");
    check(redisx_options_set_prefix(o, prefix), "prefix");
    redisx_client *c = NULL;
    check(redisx_client_open(&c, o), "open");
    redisx_options_free(o);
    redisx_cache *l2 = NULL, *l1 = NULL;
    check(redisx_cache_new(&l2, c, "bench"), "cache");
    check(redisx_cache_set_l1(l2, 0, 0, 0), "l1 off");
    check(redisx_cache_new(&l1, c, "bench"), "cache");
    check(redisx_cache_set_l1(l1, 1000, 1 << 20, 3600000), "l1");
    char val[100];
    memset(val, 'x', sizeof val);
    check(redisx_cache_set(l2, "k", val, sizeof val, 3600000), "set");
    char gkey[96];
    snprintf(gkey, sizeof gkey, "%s:plain", prefix);
    const char *set[] = {"SET", gkey, val, "PX", "3600000"};
    const size_t setlens[] = {3, strlen(gkey), sizeof val, 2, 7};
    redisx_reply *r = NULL;
    check(redisx_command(&r, c, 5, set, setlens), "SET");
    redisx_reply_free(r);
    const char *get[] = {"GET", gkey};
    size_t n = (size_t)rounds * ROUND;
    uint64_t *tg = malloc(n * sizeof *tg), *t2 = malloc(n * sizeof *t2), *t1 = malloc(n * sizeof *t1);
    if (!tg || !t2 || !t1)
        return 1;
    fetch_hit(l2); /* warm up: scripts loaded, connection up */
    fetch_hit(l1);
    for (long round = 0; round < rounds; round++) {
        for (size_t i = 0; i < ROUND; i++) {
            size_t k = (size_t)round * ROUND + i;
            uint64_t t0 = now_ns();
            check(redisx_command(&r, c, 2, get, NULL), "GET");
            uint64_t t = now_ns();
            redisx_reply_free(r);
            tg[k] = t - t0;
            t0 = now_ns();
            fetch_hit(l2);
            t2[k] = now_ns() - t0;
            t0 = now_ns();
            fetch_hit(l1);
            t1[k] = now_ns() - t0;
        }
    }
    report("get", tg, n);
    report("cache_l2_hit", t2, n);
    report("cache_l1_hit", t1, n);
    long async_n = count_arg(argc, argv, 3, 200000);
    long in_flight = count_arg(argc, argv, 4, 1000);
    nkeys = count_arg(argc, argv, 5, 10000);
    keys = calloc((size_t)nkeys, sizeof *keys);
    if (!keys)
        return 1;
    for (long i = 0; i < nkeys; i++) {
        snprintf(keys[i], sizeof keys[i], "k:%ld", i);
        check(redisx_cache_set(l2, keys[i], val, sizeof val, 3600000), "set");
    }
    run_async(l2, in_flight * 2, in_flight); /* warm up */
    printf("cache_l2_async_fetches=%ld\ncache_l2_async_in_flight=%ld\ncache_l2_async_keys=%ld\n", async_n,
           in_flight, nkeys);
    printf("cache_l2_async_per_s=%.0f\n", run_async(l2, async_n, in_flight));
    free(keys);
    free(tg);
    free(t2);
    free(t1);
    redisx_cache_free(l1);
    redisx_cache_free(l2);
    redisx_client_close(c);
    return 0;
}
