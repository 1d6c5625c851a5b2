#define _POSIX_C_SOURCE 200809L
/* redisx demo: workers contend for one lock; each prints the fencing token it
 * got; then the client's own stats. Grows with every primitive.
 * Usage: redisx_demo [redis-url]   (default: $REDISX_URL or redis://127.0.0.1:6379) */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
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

static void print_stats(void)
{
    redisx_stats *s = NULL;
    if (redisx_client_stats(&s, client) != REDISX_OK)
        return;
    printf("\n%-11s %-8s %6s %6s %8s %8s %10s %10s\n", "prim", "op", "calls", "ok", "rejected", "errors", "p50_us",
           "p99_us");
    for (int i = 0; i < redisx_stats_series(s); i++) {
        if (redisx_stats_counter(s, i, REDISX_COUNTER_CALLS) == 0)
            continue;
        printf("%-11s %-8s %6llu %6llu %8llu %8llu %10.1f %10.1f\n", redisx_stats_primitive(s, i),
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
    print_stats();
    redisx_client_close(client);
    return 0;
}
