/* redisx stream publish benchmark: prints `name=value` lines, asserts nothing.
 *
 *   redisx_stream_bench URL [messages [in_flight [maxlen]]]
 *
 * `in_flight` chains of redisx_stream_publish_async() on one client, each
 * completion starting the next publish, until `messages` completed: one
 * message of one field ("f", 100 bytes) per publish, trimmed with
 * MAXLEN ~ maxlen (what bench/streams.sh gives redis-benchmark's XADD).
 * A redisx publish of one message trimmed by length is one plain XADD (a
 * batch, or a trim by age, is one EVALSHA of stream_publish.lua).
 *   stream_publish_per_s   publishes completed per second
 * The stream lives under the prefix "redisxbench-<pid>" and is deleted at
 * the end. */
#include <redisx/redisx.h>

#define BENCH_PROG "redisx_stream_bench"
#include "bench_util.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define WARMUP 2000
#define HANG_LIMIT_S 120

static char value[100];
static const char *const names[] = {"f"};
static const size_t name_lens[] = {1};
static const char *values[] = {value};
static const size_t value_lens[] = {sizeof value};

typedef struct chains {
    redisx_client *client;
    long maxlen;
    atomic_long started, done, errors;
    long target;
} chains;

static void next_publish(chains *ch);

static void on_publish(redisx_client *c, redisx_status st, const char *id, void *user)
{
    (void)c;
    (void)id;
    chains *ch = user;
    if (st != REDISX_OK)
        atomic_fetch_add(&ch->errors, 1);
    atomic_fetch_add(&ch->done, 1);
    next_publish(ch);
}

static void next_publish(chains *ch)
{
    long i = atomic_fetch_add(&ch->started, 1);
    if (i >= ch->target)
        return;
    if (redisx_stream_publish_async(ch->client, "bench", 1, names, name_lens, values, value_lens,
                                    REDISX_STREAM_TRIM_MAXLEN, ch->maxlen, on_publish, ch) != REDISX_OK) {
        atomic_fetch_add(&ch->errors, 1);
        atomic_fetch_add(&ch->done, 1);
    }
}

/* Publishes `n` messages with `in_flight` chains; returns publishes per second. */
static double run_async(redisx_client *c, long n, long in_flight, long maxlen)
{
    chains ch = {.client = c, .maxlen = maxlen, .target = n};
    uint64_t t0 = now_ns();
    for (long i = 0; i < in_flight && i < n; i++)
        next_publish(&ch);
    while (atomic_load(&ch.done) < n) {
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
        if (now_ns() - t0 > (uint64_t)HANG_LIMIT_S * 1000000000u) {
            fprintf(stderr, "redisx_stream_bench: %ld of %ld publishes after %d s\n", atomic_load(&ch.done), n,
                    HANG_LIMIT_S);
            exit(1);
        }
    }
    uint64_t dt = now_ns() - t0;
    if (atomic_load(&ch.errors)) {
        fprintf(stderr, "redisx_stream_bench: %ld errors\n", atomic_load(&ch.errors));
        exit(1);
    }
    return (double)n * 1e9 / (double)dt;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s URL [messages [in_flight [maxlen]]]\n", argv[0]);
        return 2;
    }
    long n = count_arg(argc, argv, 2, 200000);
    long in_flight = count_arg(argc, argv, 3, 1000);
    long maxlen = count_arg(argc, argv, 4, 100000);
    memset(value, 'x', sizeof value);
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
    for (long i = 0; i < WARMUP; i++)
        check(redisx_stream_publish(NULL, c, "bench", 1, names, name_lens, values, value_lens,
                                    REDISX_STREAM_TRIM_MAXLEN, maxlen),
              "warm-up publish");
    double rate = run_async(c, n, in_flight, maxlen);
    printf("stream_publish_messages=%ld\nstream_publish_in_flight=%ld\nstream_publish_maxlen=%ld\n", n, in_flight,
           maxlen);
    printf("stream_publish_per_s=%.0f\n", rate);
    char key[128];
    snprintf(key, sizeof key, "%s:stream:{bench}", prefix);
    const char *del[] = {"DEL", key};
    redisx_reply *r = NULL;
    check(redisx_command(&r, c, 2, del, NULL), "DEL");
    redisx_reply_free(r);
    redisx_client_close(c);
    return 0;
}
