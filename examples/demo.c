#define _POSIX_C_SOURCE 200809L
/* redisx demo: workers contend for one lock; each prints the fencing token it
 * got; rate limits, idempotency, the two-tier cache (a cached lookup, an
 * invalidation reaching another instance's L1, a stampede avoided) and a
 * stream consumer group (a retried message, a dead-lettered one); then the
 * client's own stats. Grows with every primitive.
 * Usage: redisx_demo [redis-url]   (default: $REDISX_URL or redis://127.0.0.1:6379) */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <redisx/redisx.h>

#define WORKERS 4
#define ROUNDS 5

static redisx_client *client;
static pthread_mutex_t print_mu = PTHREAD_MUTEX_INITIALIZER;

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void *worker(void *arg)
{
    int id = (int)(long)arg;
    for (int round = 0; round < ROUNDS; round++) {
        redisx_lock *lk = NULL;
        /* 2 s lease, wait up to 10 s for it. */
        redisx_status st = redisx_lock_acquire(&lk, client, "demo:report", 2000, 10000);
        if (st != REDISX_OK) {
            fprintf(stderr, "worker %d: %s (%s)\n", id, redisx_strerror(st), redisx_last_error());
            continue;
        }
        pthread_mutex_lock(&print_mu);
        printf("worker %d holds the lock, fencing token %lld\n", id, (long long)redisx_lock_fencing_token(lk));
        pthread_mutex_unlock(&print_mu);
        sleep_ms(10); /* the protected work */
        st = redisx_lock_release(lk);
        if (st != REDISX_OK)
            fprintf(stderr, "worker %d: release: %s\n", id, redisx_strerror(st));
        redisx_lock_free(lk);
    }
    return NULL;
}

/* Five requests against "3 per second, bursts of 3" with each algorithm:
 * three pass, two are told when to come back. */
static void rate_limits(void)
{
    static const char *const names[] = {"fixed_window", "sliding_log", "sliding_window", "token_bucket", "gcra"};
    printf("\nrate limits, 3 per second, 5 requests at once:\n");
    for (int a = REDISX_RATELIMIT_FIXED_WINDOW; a <= REDISX_RATELIMIT_GCRA; a++) {
        redisx_limiter *lim = NULL;
        if (redisx_limiter_new(&lim, client, "demo", (redisx_ratelimit_algorithm)a, 3, 1000, 0) != REDISX_OK)
            continue;
        redisx_limiter_reset(lim, "user:42");
        printf("  %-15s", names[a]);
        for (int i = 0; i < 5; i++) {
            redisx_ratelimit_result *r = NULL;
            if (redisx_limiter_check(&r, lim, "user:42", 1) != REDISX_OK) {
                printf(" error(%s)", redisx_last_error());
                continue;
            }
            if (redisx_ratelimit_result_allowed(r))
                printf(" ok(%lld left)", (long long)redisx_ratelimit_result_remaining(r));
            else
                printf(" 429(retry in %lld ms)", (long long)redisx_ratelimit_result_retry_after_ms(r));
            redisx_ratelimit_result_free(r);
        }
        printf("\n");
        redisx_limiter_free(lim);
    }
}

/* The same payment request sent twice: the work runs once, the duplicate
 * gets the stored response; a different body under the same key is refused. */
static void idempotency(void)
{
    static const char *const states[] = {"NEW", "IN_PROGRESS", "COMPLETED", "MISMATCH"};
    char key[64];
    snprintf(key, sizeof key, "demo:payment:%ld", (long)time(NULL));
    const char *bodies[] = {"amount=10", "amount=10", "amount=99"};
    printf("\nidempotency key %s:\n", key);
    for (int i = 0; i < 3; i++) {
        redisx_idem *rec = NULL;
        if (redisx_idem_begin(&rec, client, key, bodies[i], 9, 30000, 0) != REDISX_OK) {
            printf("  error: %s\n", redisx_last_error());
            continue;
        }
        redisx_idem_state st = redisx_idem_state_of(rec);
        printf("  request %d (%s): %s", i + 1, bodies[i], states[st]);
        if (st == REDISX_IDEM_NEW) {
            printf(" -> charged once, response stored");
            redisx_idem_complete(rec, "{\"payment\":\"p-1\"}", 17, "201", 3, 86400000);
        } else if (st == REDISX_IDEM_COMPLETED) {
            size_t n = 0;
            const char *resp = redisx_idem_response(rec, &n);
            printf(" -> replayed %.*s", (int)n, resp);
        }
        printf("\n");
        redisx_idem_free(rec);
    }
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* ---- the cache ------------------------------------------------------------ */

static const char *const layers[] = {"-", "L1", "L2"};
static int loader_runs;
static pthread_mutex_t loader_mu = PTHREAD_MUTEX_INITIALIZER;

/* Get-or-load: a HIT is served, a LOAD runs the "database" (50 ms) and
 * fills the entry for everyone else. Returns the entry (caller frees). */
static redisx_cache_entry *lookup(redisx_cache *cache, const char *key, const char *db_value)
{
    redisx_cache_entry *e = NULL;
    if (redisx_cache_fetch(&e, cache, key, 5000, 0, 0) != REDISX_OK) {
        printf("  fetch %s: %s\n", key, redisx_last_error());
        return NULL;
    }
    if (redisx_cache_entry_state(e) == REDISX_CACHE_LOAD) {
        pthread_mutex_lock(&loader_mu);
        loader_runs++;
        pthread_mutex_unlock(&loader_mu);
        sleep_ms(50); /* the slow query */
        redisx_cache_fill(e, db_value, strlen(db_value), 60000);
    }
    return e;
}

struct stampede_arg {
    redisx_cache *cache;
    char key[64];
};

static void *stampede_worker(void *arg)
{
    struct stampede_arg *a = arg;
    redisx_cache_entry_free(lookup(a->cache, a->key, "price=7"));
    return NULL;
}

/* Two instances of a service, each with its own client and L1, share one
 * cache: what A loads, B reads; what B writes, A's L1 drops. */
static void cache_demo(const char *url)
{
    redisx_client *other = NULL;
    redisx_cache *a = NULL, *b = NULL;
    if (redisx_client_open_url(&other, url) != REDISX_OK || redisx_cache_new(&a, client, "demo-products") != REDISX_OK ||
        redisx_cache_new(&b, other, "demo-products") != REDISX_OK) {
        printf("\ncache: %s\n", redisx_last_error());
        goto out;
    }
    redisx_cache_set_tracking(a, 1);
    redisx_cache_set_tracking(b, 1);
    char key[32];
    snprintf(key, sizeof key, "sku:%ld", (long)time(NULL));
    printf("\ncache demo-products, two instances A and B (each its own client and L1):\n");

    /* Under tracking an L1 copy is made from a read the server tracks: the
     * loader's fill goes to L2, A's next read keeps an L1 copy. */
    const char *what[] = {"A, cold", "B", "A, again", "A, third"};
    redisx_cache *who[] = {a, b, a, a};
    for (int i = 0; i < 4; i++) {
        if (i == 3) {
            /* The invalidation of A's own fill can reach A after its second
             * read and take that copy (a miss, never a stale value): read
             * again until a copy stays. */
            redisx_cache_entry *e = NULL;
            for (double t = now_ms(); now_ms() - t < 2000; sleep_ms(5)) {
                if (redisx_cache_peek(&e, a, key) == REDISX_OK && e)
                    break;
                redisx_cache_entry_free(lookup(a, key, "price=10"));
            }
            redisx_cache_entry_free(e);
        }
        int runs = loader_runs;
        double t0 = now_ms();
        redisx_cache_entry *e = lookup(who[i], key, "price=10");
        if (!e)
            continue;
        size_t n = 0;
        const char *v = redisx_cache_entry_value(e, &n);
        if (loader_runs > runs)
            printf("  %-9s %s -> price=10 from the database, filled into L2, %.2f ms\n", what[i], key, now_ms() - t0);
        else
            printf("  %-9s %s -> %.*s from %s, %.1f us\n", what[i], key, (int)n, v,
                   layers[redisx_cache_entry_layer(e)], (now_ms() - t0) * 1000);
        redisx_cache_entry_free(e);
    }

    /* B writes a new price; A's L1 copy is dropped by Redis' invalidation. */
    redisx_cache_set(b, key, "price=12", 8, 60000);
    double t0 = now_ms(), dropped = -1;
    while (now_ms() - t0 < 2000) {
        redisx_cache_entry *e = NULL;
        redisx_cache_peek(&e, a, key);
        if (!e) {
            dropped = (now_ms() - t0) * 1000;
            break;
        }
        redisx_cache_entry_free(e);
        struct timespec ts = {0, 20000}; /* 20 us */
        nanosleep(&ts, NULL);
    }
    redisx_cache_entry *e = lookup(a, key, "price=?");
    if (e) {
        size_t n = 0;
        const char *v = redisx_cache_entry_value(e, &n);
        if (dropped >= 0)
            printf("  B sets price=12: A's L1 copy gone %.0f us after B's set returned; A reads %.*s from %s\n", dropped, (int)n, v,
                   layers[redisx_cache_entry_layer(e)]);
        else
            printf("  B sets price=12: A's L1 copy not dropped within 2 s (no tracking here); A reads %.*s\n",
                   (int)n, v);
        redisx_cache_entry_free(e);
    }

    /* Eight callers on both instances ask for one cold key at once. */
    enum { CALLERS = 8 };
    pthread_t th[CALLERS];
    struct stampede_arg args[CALLERS];
    uint64_t woken = redisx_cache_counter_of(a, REDISX_CACHE_WAITERS_WOKEN) +
                     redisx_cache_counter_of(b, REDISX_CACHE_WAITERS_WOKEN);
    loader_runs = 0;
    for (int i = 0; i < CALLERS; i++) {
        args[i].cache = i % 2 ? b : a;
        snprintf(args[i].key, sizeof args[i].key, "%s:hot", key);
        pthread_create(&th[i], NULL, stampede_worker, &args[i]);
    }
    for (int i = 0; i < CALLERS; i++)
        pthread_join(th[i], NULL);
    woken = redisx_cache_counter_of(a, REDISX_CACHE_WAITERS_WOKEN) +
            redisx_cache_counter_of(b, REDISX_CACHE_WAITERS_WOKEN) - woken;
    printf("  %d callers on A and B ask for a cold key at once: the loader ran %d time%s, %llu waiter%s woken by "
           "its fill\n",
           CALLERS, loader_runs, loader_runs == 1 ? "" : "s", (unsigned long long)woken, woken == 1 ? " was" : "s were");
out:
    redisx_cache_free(a);
    redisx_cache_free(b);
    if (other)
        redisx_client_close(other);
}

/* ---- a stream consumer group ------------------------------------------- */

static void stream_demo(void)
{
    char stream[64];
    snprintf(stream, sizeof stream, "demo:orders:%ld", (long)time(NULL));
    printf("\nstream %s, group billing, at most 3 deliveries per message:\n", stream);
    if (redisx_group_create(client, stream, "billing", "0") != REDISX_OK) {
        printf("  group: %s\n", redisx_last_error());
        return;
    }
    static const char *const orders[] = {"order-1", "order-2", "order-3"};
    for (int i = 0; i < 3; i++) {
        const char *names[] = {"order"};
        const char *values[] = {orders[i]};
        char id[REDISX_STREAM_ID_SIZE];
        if (redisx_stream_publish(id, client, stream, 1, names, NULL, values, NULL, REDISX_STREAM_TRIM_MAXLEN,
                                  10000) == REDISX_OK)
            printf("  published %s as %s\n", orders[i], id);
    }
    redisx_consumer_options *opts = NULL;
    redisx_consumer *c = NULL;
    redisx_consumer_options_new(&opts);
    redisx_consumer_options_set_max_deliveries(opts, 3);
    redisx_consumer_options_set_retry_backoff_ms(opts, 20, 100);
    if (redisx_consumer_new(&c, client, stream, "billing", "worker-1", opts) != REDISX_OK) {
        printf("  consumer: %s\n", redisx_last_error());
        redisx_consumer_options_free(opts);
        return;
    }
    /* order-1 succeeds; order-2's handler fails once (a timeout of the
     * payment provider), then succeeds; order-3 always fails (a bad card). */
    int settled = 0;
    double t0 = now_ms();
    while (settled < 3 && now_ms() - t0 < 10000) {
        redisx_delivery *d = NULL;
        if (redisx_consumer_next(&d, c, 10, 200) != REDISX_OK)
            continue;
        for (size_t i = 0; i < redisx_delivery_count(d); i++) {
            redisx_message *m = redisx_delivery_message(d, i);
            const char *order = redisx_message_get(m, "order", NULL);
            int64_t n = redisx_message_delivery_count(m);
            int fails = strcmp(order, "order-3") == 0 || (strcmp(order, "order-2") == 0 && n == 1);
            if (!fails) {
                redisx_message_ack(m);
                printf("  %s delivery %lld: handled, acked\n", order, (long long)n);
                settled++;
                continue;
            }
            int moved = 0;
            redisx_message_retry(m, -1, strcmp(order, "order-3") == 0 ? "card declined" : "provider timed out",
                                 &moved);
            printf("  %s delivery %lld: handler failed -> %s\n", order, (long long)n,
                   moved ? "dead-lettered" : "retried after a backoff");
            settled += moved;
        }
        redisx_delivery_free(d);
    }
    redisx_consumer_stop(c, 1000);
    redisx_consumer_free(c);
    redisx_consumer_options_free(opts);
    redisx_dlq_entries *dlq = NULL;
    if (redisx_dlq_list(&dlq, client, stream, 0, NULL, 10) == REDISX_OK) {
        for (size_t i = 0; i < redisx_dlq_entries_count(dlq); i++) {
            const redisx_dlq_entry *e = redisx_dlq_entries_entry(dlq, i);
            printf("  dead-letter stream: %s (was %s, group %s): \"%s\"\n", redisx_dlq_entry_id(e),
                   redisx_dlq_entry_original_id(e), redisx_dlq_entry_group(e), redisx_dlq_entry_error(e));
        }
        redisx_dlq_entries_free(dlq);
    }
}

static void print_stats(void)
{
    redisx_stats *s = NULL;
    if (redisx_client_stats(&s, client) != REDISX_OK)
        return;
    printf("\n%-11s %-11s %6s %6s %8s %8s %10s %10s\n", "prim", "op", "calls", "ok", "rejected", "errors", "p50_us",
           "p99_us");
    for (int i = 0; i < redisx_stats_series(s); i++) {
        if (redisx_stats_counter(s, i, REDISX_COUNTER_CALLS) == 0)
            continue;
        printf("%-11s %-11s %6llu %6llu %8llu %8llu %10.1f %10.1f\n", redisx_stats_primitive(s, i),
               redisx_stats_operation(s, i), (unsigned long long)redisx_stats_counter(s, i, REDISX_COUNTER_CALLS),
               (unsigned long long)redisx_stats_counter(s, i, REDISX_COUNTER_OK),
               (unsigned long long)redisx_stats_counter(s, i, REDISX_COUNTER_REJECTED),
               (unsigned long long)redisx_stats_counter(s, i, REDISX_COUNTER_ERRORS),
               redisx_stats_quantile_ns(s, i, 0.5) / 1000.0, redisx_stats_quantile_ns(s, i, 0.99) / 1000.0);
    }
    printf("connections up: %llu, reconnects: %llu, script reloads: %llu\n",
           (unsigned long long)redisx_stats_client(s, REDISX_CLIENT_CONNECTIONS_UP),
           (unsigned long long)redisx_stats_client(s, REDISX_CLIENT_DISCONNECTS),
           (unsigned long long)redisx_stats_client(s, REDISX_CLIENT_SCRIPT_RELOADS));
    redisx_stats_free(s);
}

int main(int argc, char **argv)
{
    const char *url = argc > 1 ? argv[1] : getenv("REDISX_URL");
    if (!url || !*url)
        url = "redis://127.0.0.1:6379";
    printf("redisx %s against %s\n\n", redisx_version_string(), url);
    redisx_status st = redisx_client_open_url(&client, url);
    if (st != REDISX_OK) {
        fprintf(stderr, "open: %s (%s)\n", redisx_strerror(st), redisx_last_error());
        return 1;
    }
    redisx_lock_info *info = NULL;
    st = redisx_lock_inspect(&info, client, "demo:report");
    if (st != REDISX_OK) {
        fprintf(stderr, "cannot reach Redis: %s (%s)\n", redisx_strerror(st), redisx_last_error());
        redisx_client_close(client);
        return 1;
    }
    printf("last fencing token issued for demo:report so far: %lld\n\n",
           (long long)redisx_lock_info_last_fencing_token(info));
    redisx_lock_info_free(info);

    pthread_t th[WORKERS];
    for (long i = 0; i < WORKERS; i++)
        pthread_create(&th[i], NULL, worker, (void *)i);
    for (int i = 0; i < WORKERS; i++)
        pthread_join(th[i], NULL);

    /* A lease kept alive by automatic renewal past three times its ttl. */
    redisx_lock *lk = NULL;
    if (redisx_lock_acquire(&lk, client, "demo:renewed", 300, 1000) == REDISX_OK) {
        redisx_lock_start_renewal(lk, NULL, NULL);
        sleep_ms(1000);
        printf("\nrenewed lock still held after 1000 ms with a 300 ms lease: %s\n",
               redisx_lock_is_lost(lk) ? "no" : "yes");
        redisx_lock_release(lk);
        redisx_lock_free(lk);
    }
    rate_limits();
    idempotency();
    cache_demo(url);
    stream_demo();
    print_stats();
    redisx_client_close(client);
    return 0;
}
