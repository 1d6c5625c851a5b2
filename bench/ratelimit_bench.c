/* redisx rate-limit benchmark: prints `name=value` lines, asserts nothing.
 *
 *   redisx_ratelimit_bench URL ALGORITHM [seq_checks [async_checks [in_flight [keys]]]]
 *
 * ALGORITHM: fixed_window | sliding_log | sliding_window | token_bucket | gcra.
 * (a) Sequential: one thread, blocking redisx_limiter_check() calls, one at a
 *     time, rotating over `keys` keys (what one request handler does).
 * (b) Concurrent: `in_flight` chains of redisx_limiter_check_async(), each
 *     completion starting the next check, until `async_checks` completed
 *     (what an event loop serving many requests does), on one connection.
 * The limit is high enough that every check is allowed (the full write path).
 * Keys live under the prefix "redisxbench-<pid>" and are deleted at the end. */
#include <redisx/redisx.h>

#define BENCH_PROG "redisx_ratelimit_bench"
#include "bench_util.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PERIOD_MS 3600000
#define WARMUP 2000
#define HANG_LIMIT_S 120

static const char *const names[] = {"fixed_window", "sliding_log", "sliding_window", "token_bucket", "gcra"};

static long nkeys;
static char (*keys)[32];

typedef struct chains {
    redisx_limiter *lim;
    atomic_long started, done, denied, errors;
    long target;
} chains;

static void next_check(chains *ch);

static void on_check(redisx_client *c, redisx_status st, redisx_ratelimit_result *r, void *user)
{
    (void)c;
    chains *ch = user;
    if (st != REDISX_OK)
        atomic_fetch_add(&ch->errors, 1);
    else if (!redisx_ratelimit_result_allowed(r))
        atomic_fetch_add(&ch->denied, 1);
    redisx_ratelimit_result_free(r);
    atomic_fetch_add(&ch->done, 1);
    next_check(ch);
}

static void next_check(chains *ch)
{
    long i = atomic_fetch_add(&ch->started, 1);
    if (i >= ch->target)
        return;
    if (redisx_limiter_check_async(ch->lim, keys[i % nkeys], 1, on_check, ch) != REDISX_OK) {
        atomic_fetch_add(&ch->errors, 1);
        atomic_fetch_add(&ch->done, 1);
    }
}

/* Runs `n` checks with `in_flight` chains; returns checks per second. */
static double run_async(redisx_limiter *lim, long n, long in_flight, const char *what)
{
    chains ch = {.lim = lim, .target = n};
    uint64_t t0 = now_ns();
    for (long i = 0; i < in_flight && i < n; i++)
        next_check(&ch);
    while (atomic_load(&ch.done) < n) {
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
        if (now_ns() - t0 > (uint64_t)HANG_LIMIT_S * 1000000000u) {
            fprintf(stderr, "redisx_ratelimit_bench: %s: %ld of %ld checks after %d s\n", what,
                    atomic_load(&ch.done), n, HANG_LIMIT_S);
            exit(1);
        }
    }
    uint64_t dt = now_ns() - t0;
    if (atomic_load(&ch.errors) || atomic_load(&ch.denied)) {
        fprintf(stderr, "redisx_ratelimit_bench: %s: %ld errors, %ld denied\n", what, atomic_load(&ch.errors),
                atomic_load(&ch.denied));
        exit(1);
    }
    return (double)n * 1e9 / (double)dt;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s URL ALGORITHM [seq_checks [async_checks [in_flight [keys]]]]\n", argv[0]);
        return 2;
    }
    int alg = -1;
    for (int i = 0; i < 5; i++)
        if (strcmp(argv[2], names[i]) == 0)
            alg = i;
    if (alg < 0) {
        fprintf(stderr, "redisx_ratelimit_bench: unknown algorithm '%s'\n", argv[2]);
        return 2;
    }
    long seq = count_arg(argc, argv, 3, 20000);
    long async_n = count_arg(argc, argv, 4, 200000);
    long in_flight = count_arg(argc, argv, 5, 1000);
    nkeys = count_arg(argc, argv, 6, 10000);
    keys = calloc((size_t)nkeys, sizeof *keys);
    for (long i = 0; i < nkeys; i++)
        snprintf(keys[i], sizeof keys[i], "user:%ld", i);

    char prefix[64];
    snprintf(prefix, sizeof prefix, "redisxbench-%d", (int)getpid());
    redisx_options *o;
    check(redisx_options_new(&o), "options");
    check(redisx_options_set_url(o, argv[1]), "url");
    check(redisx_options_set_prefix(o, prefix), "prefix");
    check(redisx_options_set_command_timeout_ms(o, 10000), "timeout");
    redisx_client *c;
    check(redisx_client_open(&c, o), "open");
    redisx_options_free(o);
    int64_t limit = alg == 1 ? REDISX_RATELIMIT_LOG_LIMIT_MAX : REDISX_RATELIMIT_LIMIT_MAX;
    redisx_limiter *lim;
    check(redisx_limiter_new(&lim, c, "bench", (redisx_ratelimit_algorithm)alg, limit, PERIOD_MS, 0), "limiter");
    /* Fail closed: a benchmark must not count fail-open answers as checks. */
    check(redisx_limiter_set_fail_policy(lim, REDISX_FAIL_CLOSED), "policy");

    for (long i = 0; i < WARMUP; i++) {
        redisx_ratelimit_result *r;
        check(redisx_limiter_check(&r, lim, keys[i % nkeys], 1), "warm-up check");
        redisx_ratelimit_result_free(r);
    }
    uint64_t t0 = now_ns();
    for (long i = 0; i < seq; i++) {
        redisx_ratelimit_result *r;
        check(redisx_limiter_check(&r, lim, keys[i % nkeys], 1), "check");
        if (!redisx_ratelimit_result_allowed(r)) {
            fprintf(stderr, "redisx_ratelimit_bench: a check was denied; raise the limit\n");
            return 1;
        }
        redisx_ratelimit_result_free(r);
    }
    double seq_rate = (double)seq * 1e9 / (double)(now_ns() - t0);
    run_async(lim, WARMUP, in_flight, "warm-up");
    double async_rate = run_async(lim, async_n, in_flight, "concurrent");
    printf("redisx_rl_%s_seq_checks_per_s=%.0f\n", names[alg], seq_rate);
    printf("redisx_rl_%s_async_checks_per_s=%.0f\n", names[alg], async_rate);
    printf("redisx_rl_%s_async_in_flight=%ld\n", names[alg], in_flight);

    for (long i = 0; i < nkeys; i++)
        check(redisx_limiter_reset(lim, keys[i]), "cleanup");
    redisx_limiter_free(lim);
    redisx_client_close(c);
    free(keys);
    return 0;
}
