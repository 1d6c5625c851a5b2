/* redisx lock benchmark: prints `name=value` lines, asserts nothing.
 *
 *   redisx_lock_bench URL [seq_cycles [async_cycles [in_flight]]]
 *
 * (a) Sequential latency of one lock cycle (redisx_lock_try_acquire +
 *     redisx_lock_release) measured per cycle with CLOCK_MONOTONIC, after a
 *     warm-up; median and p99 from the sorted durations. A plain SET through
 *     redisx_command() is measured the same way for reference.
 * (b) Concurrent throughput: `in_flight` independent chains, each one
 *     acquire_async -> (callback) release_async -> (callback) next acquire, on
 *     its own lock name, until `async_cycles` cycles have completed; once with
 *     the default single connection and once with 4 connections.
 *
 * All keys live under the prefix "redisxbench-<pid>" and are deleted at the
 * end (the fencing counters never expire on their own). Any failed call
 * prints redisx_strerror() + redisx_last_error() and exits with status 1. */
#include "floor.h"

#include <redisx/client.h>
#include <redisx/errors.h>
#include <redisx/lock.h>
#include <redisx/observe.h>
#include <redisx/options.h>

#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LOCK_TTL_MS 30000
#define COMMAND_TIMEOUT_MS 10000
#define SEQ_NAMES 256      /* sequential cycles rotate over this many names */
#define SEQ_WARMUP 1000    /* untimed cycles before the timed ones */
#define SET_CYCLES 5000    /* timed plain SETs (reference) */
#define ASYNC_WARMUP 5000  /* untimed async cycles before each timed run */
#define HANG_LIMIT_S 120   /* an async run that takes longer is reported as a hang */
#define FLOOR_BLOCK 100  /* sequential cycles per block, alternating redisx / hiredis */

/* The busy-poll budget of the busy-poll runs: a few loopback round trips. */
#define BUSY_POLL_US 200

static const char *g_url;
static char g_prefix[64];

/* ---- helpers ---------------------------------------------------------------- */

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* Prints the failure of `what` and exits. Copies redisx_last_error() first: it
 * is only valid until the next redisx call on this thread. */
static void die(const char *what, redisx_status st)
{
    char detail[1024];
    snprintf(detail, sizeof detail, "%s", redisx_last_error());
    fprintf(stderr, "redisx_lock_bench: %s: %s (%s)%s%s\n", what, redisx_strerror(st),
            redisx_status_name(st) ? redisx_status_name(st) : "?", detail[0] ? ": " : "", detail);
    exit(1);
}

static void check(redisx_status st, const char *what)
{
    if (st != REDISX_OK)
        die(what, st);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Sorts `v` and returns its median and p99 (nearest rank), in microseconds. */
static void quantiles_us(uint64_t *v, size_t n, double *p50, double *p99)
{
    qsort(v, n, sizeof *v, cmp_u64);
    if (n % 2)
        *p50 = (double)v[n / 2] / 1e3;
    else
        *p50 = ((double)v[n / 2 - 1] + (double)v[n / 2]) / 2e3;
    size_t rank = (size_t)((double)n * 0.99 + 0.999999); /* ceil(0.99 n) */
    if (rank < 1)
        rank = 1;
    *p99 = (double)v[rank - 1] / 1e3;
}

static long parse_count(const char *s, const char *what, long min, long max)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || end == s || v < min || v > max) {
        fprintf(stderr, "redisx_lock_bench: %s must be an integer in %ld..%ld, got '%s'\n", what, min, max, s);
        exit(2);
    }
    return v;
}

static redisx_client *open_client_busy(int connections, int64_t busy_poll_us)
{
    redisx_options *o;
    check(redisx_options_new(&o), "redisx_options_new");
    check(redisx_options_set_busy_poll_us(o, busy_poll_us), "redisx_options_set_busy_poll_us");
    check(redisx_options_set_url(o, g_url), "redisx_options_set_url");
    check(redisx_options_set_prefix(o, g_prefix), "redisx_options_set_prefix");
    check(redisx_options_set_connections(o, connections), "redisx_options_set_connections");
    check(redisx_options_set_command_timeout_ms(o, COMMAND_TIMEOUT_MS), "redisx_options_set_command_timeout_ms");
    redisx_client *c;
    check(redisx_client_open(&c, o), "redisx_client_open");
    redisx_options_free(o);

    /* It connects in the background: wait until every connection serves so
     * that connecting is not part of any measurement. */
    uint64_t deadline = now_ns() + 5000000000u;
    for (;;) {
        redisx_stats *s;
        check(redisx_client_stats(&s, c), "redisx_client_stats");
        uint64_t up = redisx_stats_client(s, REDISX_CLIENT_CONNECTIONS_UP);
        redisx_stats_free(s);
        if (up >= (uint64_t)connections)
            break;
        if (now_ns() > deadline) {
            /* A command now reports why (connection refused, auth, ...). */
            redisx_reply *r = NULL;
            const char *ping[] = {"PING"};
            redisx_status st = redisx_command(&r, c, 1, ping, NULL);
            if (st != REDISX_OK)
                die("connecting", st);
            redisx_reply_free(r);
            fprintf(stderr, "redisx_lock_bench: only %llu of %d connections came up within 5 s\n",
                    (unsigned long long)up, connections);
            exit(1);
        }
        sleep_ms(1);
    }
    return c;
}

static redisx_client *open_client(int connections)
{
    return open_client_busy(connections, 0);
}

/* ---- (a) sequential --------------------------------------------------------- */

static void seq_name(char *buf, size_t n, long i)
{
    snprintf(buf, n, "seq:%ld", i % SEQ_NAMES);
}

static void one_cycle(redisx_client *c, long i, uint64_t *acq_ns, uint64_t *cycle_ns)
{
    char name[32];
    seq_name(name, sizeof name, i);
    redisx_lock *lk = NULL;
    uint64_t t0 = now_ns();
    redisx_status st = redisx_lock_try_acquire(&lk, c, name, LOCK_TTL_MS);
    uint64_t t1 = now_ns();
    if (st != REDISX_OK)
        die("redisx_lock_try_acquire", st);
    st = redisx_lock_release(lk);
    uint64_t t2 = now_ns();
    if (st != REDISX_OK)
        die("redisx_lock_release", st);
    if (redisx_lock_is_fail_open(lk)) {
        fprintf(stderr, "redisx_lock_bench: lock %s was granted fail-open\n", name);
        exit(1);
    }
    redisx_lock_free(lk);
    if (acq_ns)
        *acq_ns = t1 - t0;
    if (cycle_ns)
        *cycle_ns = t2 - t0;
}

/* Server time per call of `command` between two readings of INFO
 * commandstats, in microseconds (-1 when unknown). */
static double server_us_per_call(bench_floor *fl, const char *command, uint64_t calls0, uint64_t usec0)
{
    uint64_t calls, usec;
    if (!fl || bench_floor_commandstat(fl, command, &calls, &usec) != 0 || calls <= calls0)
        return -1;
    return (double)(usec - usec0) / (double)(calls - calls0);
}

/* Sequential lock cycles, in blocks of FLOOR_BLOCK alternating with the same
 * number of cycles over bare hiredis (`fl`, when available), so that both
 * distributions come from the same minutes of the same server. */
static void bench_sequential(redisx_client *c, bench_floor *fl, long cycles, const char *tag)
{
    char name[32];
    for (long i = 0; i < SEQ_WARMUP; i++) {
        one_cycle(c, i, NULL, NULL);
        if (fl) {
            seq_name(name, sizeof name, i);
            bench_floor_lock_cycle(fl, name, LOCK_TTL_MS, now_ns);
        }
    }

    uint64_t *cyc = malloc((size_t)cycles * sizeof *cyc);
    uint64_t *acq = malloc((size_t)cycles * sizeof *acq);
    uint64_t *rel = malloc((size_t)cycles * sizeof *rel);
    uint64_t *flo = malloc((size_t)cycles * sizeof *flo);
    if (!cyc || !acq || !rel || !flo) {
        fprintf(stderr, "redisx_lock_bench: out of memory\n");
        exit(1);
    }
    uint64_t calls0 = 0, usec0 = 0;
    if (fl)
        bench_floor_commandstat(fl, "evalsha", &calls0, &usec0);
    uint64_t wall_ns = 0;
    for (long b = 0; b < cycles; b += FLOOR_BLOCK) {
        long n = cycles - b < FLOOR_BLOCK ? cycles - b : FLOOR_BLOCK;
        uint64_t t0 = now_ns();
        for (long i = b; i < b + n; i++) {
            one_cycle(c, SEQ_WARMUP + i, &acq[i], &cyc[i]);
            rel[i] = cyc[i] - acq[i];
        }
        wall_ns += now_ns() - t0;
        for (long i = b; fl && i < b + n; i++) {
            seq_name(name, sizeof name, SEQ_WARMUP + i);
            flo[i] = bench_floor_lock_cycle(fl, name, LOCK_TTL_MS, now_ns);
        }
    }
    double script_us = server_us_per_call(fl, "evalsha", calls0, usec0);
    double wall_s = (double)wall_ns / 1e9;

    double p50, p99, a50, a99, r50, r99;
    quantiles_us(cyc, (size_t)cycles, &p50, &p99);
    quantiles_us(acq, (size_t)cycles, &a50, &a99);
    quantiles_us(rel, (size_t)cycles, &r50, &r99);
    if (*tag) {
        printf("redisx_lock_cycle%s_p50_us=%.1f\n", tag, p50);
        printf("redisx_lock_cycle%s_p99_us=%.1f\n", tag, p99);
        printf("redisx_lock_seq%s_cycles_per_s=%.0f\n", tag, (double)cycles / wall_s);
        free(cyc);
        free(acq);
        free(rel);
        free(flo);
        return;
    }
    printf("redisx_lock_seq_cycles=%ld\n", cycles);
    printf("redisx_lock_cycle_p50_us=%.1f\n", p50);
    printf("redisx_lock_cycle_p99_us=%.1f\n", p99);
    printf("redisx_lock_acquire_p50_us=%.1f\n", a50);
    printf("redisx_lock_release_p50_us=%.1f\n", r50);
    printf("redisx_lock_seq_cycles_per_s=%.0f\n", (double)cycles / wall_s);
    if (fl) {
        double f50, f99;
        quantiles_us(flo, (size_t)cycles, &f50, &f99);
        printf("hiredis_lock_cycle_p50_us=%.1f\n", f50);
        printf("hiredis_lock_cycle_p99_us=%.1f\n", f99);
    }
    if (script_us >= 0)
        printf("server_us_per_lock_cycle=%.1f\n", 2 * script_us); /* acquire + release */
    free(cyc);
    free(acq);
    free(rel);
    free(flo);
}

/* The same client doing a plain SET, for comparison with redis-benchmark -c 1
 * (the difference is the client's own round trip), interleaved one for one
 * with the same SET over bare hiredis. */
static void bench_plain_set(redisx_client *c, bench_floor *fl, const char *tag)
{
    char key[96];
    snprintf(key, sizeof key, "%s:bench:set", g_prefix);
    const char *argv[] = {"SET", key, "xxx"};
    uint64_t *v = malloc(SET_CYCLES * sizeof *v);
    uint64_t *fv = malloc(SET_CYCLES * sizeof *fv);
    if (!v || !fv) {
        fprintf(stderr, "redisx_lock_bench: out of memory\n");
        exit(1);
    }
    uint64_t calls0 = 0, usec0 = 0;
    for (long i = -SET_CYCLES / 10; i < SET_CYCLES; i++) {
        if (i == 0 && fl)
            bench_floor_commandstat(fl, "set", &calls0, &usec0);
        redisx_reply *r = NULL;
        uint64_t t0 = now_ns();
        redisx_status st = redisx_command(&r, c, 3, argv, NULL);
        uint64_t t1 = now_ns();
        if (st != REDISX_OK)
            die("redisx_command SET", st);
        if (redisx_reply_type_of(r) != REDISX_REPLY_STATUS) {
            const char *s = redisx_reply_string(r, NULL);
            fprintf(stderr, "redisx_lock_bench: SET replied type %d: %s\n", (int)redisx_reply_type_of(r), s ? s : "");
            exit(1);
        }
        redisx_reply_free(r);
        uint64_t f = fl ? bench_floor_set(fl, key, now_ns) : 0;
        if (i >= 0) {
            v[i] = t1 - t0;
            fv[i] = f;
        }
    }
    double set_us = server_us_per_call(fl, "set", calls0, usec0);
    double p50, p99;
    quantiles_us(v, SET_CYCLES, &p50, &p99);
    printf("redisx_set_seq%s_p50_us=%.1f\n", tag, p50);
    if (fl) {
        quantiles_us(fv, SET_CYCLES, &p50, &p99);
        printf("hiredis_set_seq_p50_us=%.1f\n", p50);
    }
    if (set_us >= 0)
        printf("server_us_per_set=%.2f\n", set_us);
    free(v);
    free(fv);
}

/* Plain async SETs, `in_flight` at a time on the default single connection,
 * each completion issuing the next: compared with redis-benchmark -c 1 -P
 * <in_flight> (the client's per-command cost under automatic pipelining). */
typedef struct set_run {
    redisx_client *c;
    const char *argv[3];
    long total;
    atomic_long issued, completed;
    atomic_int failed;
} set_run;

static void on_set(redisx_client *c, redisx_status st, redisx_reply *r, void *user)
{
    set_run *run = user;
    redisx_reply_free(r);
    if (st != REDISX_OK)
        atomic_store(&run->failed, 1);
    if (atomic_fetch_add(&run->issued, 1) < run->total &&
        redisx_command_async(c, 3, run->argv, NULL, on_set, run) != REDISX_OK)
        atomic_store(&run->failed, 1);
    atomic_fetch_add(&run->completed, 1); /* last: the run may end here */
}

static double run_set_async(redisx_client *c, const char *key, long total, long in_flight)
{
    set_run run = {.c = c, .argv = {"SET", key, "xxx"}, .total = total};
    if (in_flight > total)
        in_flight = total;
    atomic_init(&run.issued, in_flight);
    uint64_t t0 = now_ns();
    for (long i = 0; i < in_flight; i++)
        check(redisx_command_async(c, 3, run.argv, NULL, on_set, &run), "redisx_command_async SET");
    uint64_t limit = t0 + (uint64_t)HANG_LIMIT_S * 1000000000u;
    while (atomic_load(&run.completed) < total) {
        if (now_ns() > limit) {
            fprintf(stderr, "redisx_lock_bench: async SET run hung\n");
            exit(1);
        }
        sleep_ms(1);
    }
    double wall = (double)(now_ns() - t0) / 1e9;
    if (atomic_load(&run.failed)) {
        fprintf(stderr, "redisx_lock_bench: an async SET failed\n");
        exit(1);
    }
    return wall;
}

static void bench_set_async(long total, long in_flight)
{
    redisx_client *c = open_client(1);
    char key[96];
    snprintf(key, sizeof key, "%s:bench:aset", g_prefix);
    run_set_async(c, key, total / 10 + 1, in_flight);
    double wall = run_set_async(c, key, total, in_flight);
    printf("redisx_set_async_c1_per_s=%.0f\n", (double)total / wall);
    const char *del[] = {"DEL", key};
    redisx_reply *r = NULL;
    check(redisx_command(&r, c, 2, del, NULL), "DEL");
    redisx_reply_free(r);
    redisx_client_close(c);
}

/* ---- (b) concurrent (async) ------------------------------------------------- */

typedef struct async_run async_run;

typedef struct slot {
    async_run *run;
    char name[48];
} slot;

struct async_run {
    redisx_client *c;
    long total;
    atomic_long issued;    /* cycles started */
    atomic_long completed; /* cycles whose release succeeded */
    atomic_long active;    /* chains still running */
    atomic_ullong end_ns;  /* when the last cycle completed */
    atomic_int failed;
    atomic_flag err_claimed;
    redisx_status err_status;
    char err_text[1024];
    slot *slots;
};

/* First error wins; runs on the I/O thread or the main thread. */
static void record_error(async_run *run, const char *what, redisx_status st)
{
    char detail[512];
    snprintf(detail, sizeof detail, "%s", redisx_last_error());
    if (!atomic_flag_test_and_set(&run->err_claimed)) {
        run->err_status = st;
        snprintf(run->err_text, sizeof run->err_text, "%s: %s (%s)%s%s", what, redisx_strerror(st),
                 redisx_status_name(st) ? redisx_status_name(st) : "?", detail[0] ? ": " : "", detail);
        atomic_store(&run->failed, 1);
    }
}

static void start_cycle(slot *s);

static void on_release(redisx_client *c, redisx_status st, void *user)
{
    (void)c;
    slot *s = user;
    async_run *run = s->run;
    if (st != REDISX_OK) {
        record_error(run, "redisx_lock_release_async completion", st);
        atomic_fetch_sub(&run->active, 1);
        return;
    }
    if (atomic_fetch_add(&run->completed, 1) + 1 == run->total)
        atomic_store(&run->end_ns, now_ns());
    start_cycle(s);
}

static void on_acquire(redisx_client *c, redisx_status st, redisx_lock *lk, void *user)
{
    (void)c;
    slot *s = user;
    async_run *run = s->run;
    if (st != REDISX_OK) {
        record_error(run, "redisx_lock_acquire_async completion", st);
        atomic_fetch_sub(&run->active, 1);
        return;
    }
    if (redisx_lock_is_fail_open(lk)) {
        redisx_lock_free(lk);
        if (!atomic_flag_test_and_set(&run->err_claimed)) {
            run->err_status = REDISX_ERR_CONNECTION;
            snprintf(run->err_text, sizeof run->err_text, "lock %s was granted fail-open", s->name);
            atomic_store(&run->failed, 1);
        }
        atomic_fetch_sub(&run->active, 1);
        return;
    }
    st = redisx_lock_release_async(lk, on_release, s);
    /* The release holds its own reference to the handle. */
    redisx_lock_free(lk);
    if (st != REDISX_OK) {
        record_error(run, "redisx_lock_release_async", st);
        atomic_fetch_sub(&run->active, 1);
    }
}

static void start_cycle(slot *s)
{
    async_run *run = s->run;
    if (atomic_load(&run->failed) || atomic_fetch_add(&run->issued, 1) >= run->total) {
        atomic_fetch_sub(&run->active, 1); /* this chain is done */
        return;
    }
    redisx_status st = redisx_lock_acquire_async(run->c, s->name, LOCK_TTL_MS, 0, on_acquire, s);
    if (st != REDISX_OK) {
        record_error(run, "redisx_lock_acquire_async", st);
        atomic_fetch_sub(&run->active, 1);
    }
}

/* Runs `total` cycles with `in_flight` chains; returns the wall time in s. */
static double run_async(redisx_client *c, int connections, long total, long in_flight)
{
    if (in_flight > total)
        in_flight = total;
    async_run *run = calloc(1, sizeof *run);
    slot *slots = calloc((size_t)in_flight, sizeof *slots);
    if (!run || !slots) {
        fprintf(stderr, "redisx_lock_bench: out of memory\n");
        exit(1);
    }
    run->c = c;
    run->total = total;
    atomic_init(&run->issued, 0);
    atomic_init(&run->completed, 0);
    atomic_init(&run->active, in_flight);
    atomic_init(&run->end_ns, 0);
    atomic_init(&run->failed, 0);
    atomic_flag_clear(&run->err_claimed);
    run->slots = slots;
    for (long i = 0; i < in_flight; i++) {
        slots[i].run = run;
        snprintf(slots[i].name, sizeof slots[i].name, "async-c%d:%ld", connections, i);
    }

    uint64_t t0 = now_ns();
    for (long i = 0; i < in_flight; i++)
        start_cycle(&slots[i]);
    uint64_t limit = t0 + (uint64_t)HANG_LIMIT_S * 1000000000u;
    while (atomic_load(&run->active) > 0) {
        if (now_ns() > limit) {
            fprintf(stderr,
                    "redisx_lock_bench: async run (connections=%d) hung: %ld of %ld cycles completed, %ld chains "
                    "still active after %d s\n",
                    connections, (long)atomic_load(&run->completed), total, (long)atomic_load(&run->active),
                    HANG_LIMIT_S);
            exit(1);
        }
        sleep_ms(1);
    }
    if (atomic_load(&run->failed)) {
        fprintf(stderr, "redisx_lock_bench: async run (connections=%d): %s\n", connections, run->err_text);
        exit(1);
    }
    long done = atomic_load(&run->completed);
    if (done != total) {
        fprintf(stderr, "redisx_lock_bench: async run (connections=%d) completed %ld of %ld cycles\n", connections,
                done, total);
        exit(1);
    }
    double wall_s = (double)(atomic_load(&run->end_ns) - t0) / 1e9;
    /* Chains hold pointers into `slots`: all of them have finished here. */
    free(slots);
    free(run);
    return wall_s;
}

static uint64_t series_counter(const redisx_stats *s, const char *op, redisx_counter k)
{
    for (int i = 0; i < redisx_stats_series(s); i++)
        if (!strcmp(redisx_stats_primitive(s, i), "lock") && !strcmp(redisx_stats_operation(s, i), op))
            return redisx_stats_counter(s, i, k);
    return 0;
}

static void bench_async(int connections, long total, long in_flight)
{
    redisx_client *c = open_client(connections);
    long warm = ASYNC_WARMUP < total ? ASYNC_WARMUP : total;
    run_async(c, connections, warm, in_flight);
    double wall_s = run_async(c, connections, total, in_flight);

    /* Cross-check the client's own bookkeeping (reported, not fatal). */
    redisx_stats *s;
    check(redisx_client_stats(&s, c), "redisx_client_stats");
    uint64_t want = (uint64_t)(warm + total);
    uint64_t acq = series_counter(s, "acquire", REDISX_COUNTER_OK);
    uint64_t rel = series_counter(s, "release", REDISX_COUNTER_OK);
    uint64_t inflight = redisx_stats_client(s, REDISX_CLIENT_IN_FLIGHT);
    redisx_stats_free(s);
    if (acq != want || rel != want || inflight != 0)
        fprintf(stderr,
                "redisx_lock_bench: warning: connections=%d stats disagree: acquire ok=%llu release ok=%llu "
                "(expected %llu each), in-flight gauge=%llu (expected 0)\n",
                connections, (unsigned long long)acq, (unsigned long long)rel, (unsigned long long)want,
                (unsigned long long)inflight);

    printf("redisx_lock_async_c%d_cycles_per_s=%.0f\n", connections, (double)total / wall_s);
    printf("redisx_lock_async_c%d_wall_s=%.3f\n", connections, wall_s);
    redisx_client_close(c);
}

/* ---- cleanup ---------------------------------------------------------------- */

/* Deletes a lock name's two keys with one DEL: they share the name's hash
 * tag, so this works on a cluster too (a DEL across names would not). */
static void del_name(redisx_client *c, const char *name)
{
    char lease[192], fence[200];
    snprintf(lease, sizeof lease, "%s:lock:{%s}", g_prefix, name); /* docs/KEYS.md */
    snprintf(fence, sizeof fence, "%s:fence", lease);
    const char *argv[] = {"DEL", lease, fence};
    redisx_reply *r = NULL;
    check(redisx_command(&r, c, 3, argv, NULL), "redisx_command DEL");
    if (redisx_reply_type_of(r) != REDISX_REPLY_INTEGER) {
        fprintf(stderr, "redisx_lock_bench: DEL replied type %d\n", (int)redisx_reply_type_of(r));
        exit(1);
    }
    redisx_reply_free(r);
}

static void cleanup(redisx_client *c, long in_flight)
{
    char name[64];
    for (long i = 0; i < SEQ_NAMES; i++) {
        seq_name(name, sizeof name, i);
        del_name(c, name);
    }
    static const int conns[] = {1, 4};
    for (size_t k = 0; k < sizeof conns / sizeof conns[0]; k++)
        for (long i = 0; i < in_flight; i++) {
            snprintf(name, sizeof name, "async-c%d:%ld", conns[k], i);
            del_name(c, name);
        }
    char setkey[96];
    snprintf(setkey, sizeof setkey, "%s:bench:set", g_prefix);
    const char *argv[] = {"DEL", setkey};
    redisx_reply *r = NULL;
    check(redisx_command(&r, c, 2, argv, NULL), "redisx_command DEL");
    redisx_reply_free(r);
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 5) {
        fprintf(stderr, "usage: %s REDIS_URL [seq_cycles [async_cycles [in_flight]]]\n", argv[0]);
        return 2;
    }
    g_url = argv[1];
    long seq = argc > 2 ? parse_count(argv[2], "seq_cycles", 1, 100000000) : 20000;
    long total = argc > 3 ? parse_count(argv[3], "async_cycles", 1, 1000000000) : 200000;
    long in_flight = argc > 4 ? parse_count(argv[4], "in_flight", 1, 100000) : 1000;
    snprintf(g_prefix, sizeof g_prefix, "redisxbench-%ld", (long)getpid());
    setvbuf(stdout, NULL, _IOLBF, 0);

    redisx_client *c = open_client(1);
    char why[256] = "", floor_prefix[96];
    snprintf(floor_prefix, sizeof floor_prefix, "%s-hiredis", g_prefix);
    bench_floor *fl = bench_floor_open(g_url, floor_prefix, why, sizeof why);
    if (!fl)
        printf("hiredis_floor=skipped (%s)\n", why);
    bench_plain_set(c, fl, "");
    bench_sequential(c, fl, seq, "");
    if (fl) {
        char name[32];
        for (long i = 0; i < SEQ_NAMES; i++) {
            seq_name(name, sizeof name, i);
            bench_floor_cleanup(fl, name);
        }
        bench_floor_close(fl);
    }

    /* The same two with busy polling (redisx_options_set_busy_poll_us). */
    redisx_client *bp = open_client_busy(1, BUSY_POLL_US);
    printf("redisx_busy_poll_us=%d\n", BUSY_POLL_US);
    bench_plain_set(bp, NULL, "_busy_poll");
    bench_sequential(bp, NULL, seq, "_busy_poll");
    redisx_client_close(bp);

    printf("redisx_lock_async_cycles=%ld\n", total);
    printf("redisx_lock_async_in_flight=%ld\n", in_flight);
    bench_async(1, total, in_flight);
    bench_async(4, total, in_flight);
    bench_set_async(total * 5, in_flight);

    cleanup(c, in_flight < total ? in_flight : total);
    redisx_client_close(c);
    return 0;
}
