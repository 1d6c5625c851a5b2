/* The cache's get-or-load: single flight across processes and threads,
 * waiters woken by the fill, lease takeover, deadlines, cancellation,
 * stale-while-revalidate, stale-if-error, fail open and closed, XFetch. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cache_util.h"

/* ---- single flight ---------------------------------------------------------------- */

typedef struct sf_job {
    redisx_cache *cache;
    redisx_client *c;
    const char *key, *counter;
    int loader_ms;
    int failures;
    long long filled_at, returned_at;
    int loaded;
} sf_job;

static void *sf_worker(void *arg)
{
    sf_job *j = arg;
    redisx_cache_entry *e = NULL;
    if (redisx_cache_fetch(&e, j->cache, j->key, 60000, 0, 0) != REDISX_OK) {
        j->failures++;
        return NULL;
    }
    j->returned_at = now_ms();
    if (redisx_cache_entry_state(e) == REDISX_CACHE_LOAD) {
        j->loaded = 1;
        const char *argv[] = {"INCR", j->counter};
        redisx_reply *r = NULL;
        if (redisx_command(&r, j->c, 2, argv, NULL) != REDISX_OK)
            j->failures++;
        redisx_reply_free(r);
        rt_sleep_ms(j->loader_ms);
        if (redisx_cache_fill(e, "loaded", 6, 60000) != REDISX_OK)
            j->failures++;
        j->filled_at = now_ms();
    } else if (redisx_cache_entry_state(e) != REDISX_CACHE_HIT || !value_is(e, "loaded", 6)) {
        j->failures++;
    }
    redisx_cache_entry_free(e);
    return NULL;
}

#define SF_KIDS 20
#define SF_THREADS 2

Test(cache, one_loader_runs_across_processes_and_threads, .timeout = 300)
{
    char prefix[96], counter[128];
    rt_unique("sf", prefix, sizeof prefix);
    snprintf(counter, sizeof counter, "%s:loads", prefix);
    pid_t kids[SF_KIDS];
    /* Fork before this process opens a client (see test_idempotency.c). */
    for (int i = 0; i < SF_KIDS; i++) {
        kids[i] = fork();
        cr_assert_geq(kids[i], 0);
        if (kids[i] == 0) {
            redisx_options *o = NULL;
            redisx_client *kc = NULL;
            redisx_cache *cache = NULL;
            /* rt_client()'s long command timeout (a fetch answered late must
             * not turn the fail-open cache into a second, local loader);
             * rt_client() itself asserts, which a child must not. */
            if (redisx_options_new(&o) || rt_options_url(o) || redisx_options_set_prefix(o, prefix) ||
                redisx_options_set_command_timeout_ms(o, RT_COMMAND_TIMEOUT_MS) || redisx_client_open(&kc, o) ||
                redisx_cache_new(&cache, kc, "sf"))
                _exit(2);
            redisx_options_free(o);
            sf_job jobs[SF_THREADS];
            pthread_t th[SF_THREADS];
            for (int t = 0; t < SF_THREADS; t++) {
                jobs[t] = (sf_job){.cache = cache, .c = kc, .key = "cold", .counter = counter, .loader_ms = 500};
                pthread_create(&th[t], NULL, sf_worker, &jobs[t]);
            }
            int bad = 0;
            for (int t = 0; t < SF_THREADS; t++) {
                pthread_join(th[t], NULL);
                bad += jobs[t].failures;
            }
            redisx_cache_free(cache);
            redisx_client_close(kc);
            _exit(bad ? 1 : 0);
        }
    }
    for (int i = 0; i < SF_KIDS; i++) {
        int status = 0;
        waitpid(kids[i], &status, 0);
        cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child %d: status %d", i, status);
    }
    redisx_options *o = NULL;
    cr_assert_eq(redisx_options_new(&o), REDISX_OK);
    cr_assert_eq(rt_options_url(o), REDISX_OK);
    cr_assert_eq(redisx_options_set_prefix(o, prefix), REDISX_OK);
    redisx_client *c = NULL;
    cr_assert_eq(redisx_client_open(&c, o), REDISX_OK);
    redisx_options_free(o);
    cr_assert_eq(rt_incr_get(c, counter), 1, "the loader ran once");
    redisx_client_close(c);
}

/* Waiters are woken by the fill's PUBLISH, not by their next poll (which
 * comes every 125..250 ms by then). */
Test(cache, waiters_are_woken_by_the_fill, .timeout = 120)
{
    redisx_client *c = rt_client();
    redisx_cache *cache = cache_on(c, "wake", 0);
    char counter[64];
    rt_unique("cnt", counter, sizeof counter);
    redisx_cache_entry *e = fetch(cache, "k", 0, 0, 0);
    cr_assert_eq(redisx_cache_entry_state(e), REDISX_CACHE_LOAD);
    sf_job jobs[4];
    pthread_t th[4];
    for (int t = 0; t < 4; t++) {
        jobs[t] = (sf_job){.cache = cache, .c = c, .key = "k", .counter = counter, .loader_ms = 0};
        pthread_create(&th[t], NULL, sf_worker, &jobs[t]);
    }
    rt_sleep_ms(2000); /* the waiters' backoff reaches its cap */
    cr_assert_eq(redisx_cache_fill(e, "loaded", 6, 60000), REDISX_OK);
    long long filled = now_ms();
    long long worst = 0;
    for (int t = 0; t < 4; t++) {
        pthread_join(th[t], NULL);
        cr_assert_eq(jobs[t].failures, 0);
        cr_assert_eq(jobs[t].loaded, 0);
        long long gap = jobs[t].returned_at - filled;
        worst = gap > worst ? gap : worst;
    }
    cr_assert_lt(worst, 120, "woken %lld ms after the fill", worst);
    cr_assert_eq(redisx_cache_counter_of(cache, REDISX_CACHE_WAITERS_WOKEN), 4);
    redisx_cache_entry_free(e);
    redisx_cache_free(cache);
    redisx_client_close(c);
}

Test(cache, a_loader_that_never_fills_is_taken_over_after_its_lease, .timeout = 120)
{
    char prefix[96];
    rt_unique("lease", prefix, sizeof prefix);
    redisx_client *c = client_with_prefix(prefix), *c2 = client_with_prefix(prefix);
    redisx_cache *dead = cache_on(c, "lease", 0), *next = cache_on(c2, "lease", 0);
    cr_assert_eq(redisx_cache_set_lease_ms(dead, 1000), REDISX_OK);
    redisx_cache_entry *e = fetch(dead, "k", 0, 0, 0);
    cr_assert_eq(redisx_cache_entry_state(e), REDISX_CACHE_LOAD);
    long long t0 = now_ms();
    redisx_cache_entry *f = fetch(next, "k", 20000, 0, 0);
    long long took = now_ms() - t0;
    cr_assert_eq(redisx_cache_entry_state(f), REDISX_CACHE_LOAD, "the waiter took over");
    cr_assert(took >= 700 && took < 10000, "after the lease: %lld ms", took);
    cr_assert_eq(redisx_cache_fill(e, "late", 4, 60000), REDISX_ERR_NOT_OWNER, "the dead loader lost its lease");
    cr_assert_eq(redisx_cache_fill(f, "new", 3, 60000), REDISX_OK, "%s", redisx_last_error());
    redisx_cache_entry_free(e);
    redisx_cache_entry_free(f);
    f = fetch(next, "k", 0, 0, 0);
    cr_assert(value_is(f, "new", 3));
    redisx_cache_entry_free(f);
    redisx_cache_free(dead);
    redisx_cache_free(next);
    redisx_client_close(c);
    redisx_client_close(c2);
}

Test(cache, a_wait_past_its_deadline_times_out)
{
    redisx_client *c = rt_client();
    redisx_cache *cache = cache_on(c, "deadline", 0);
    redisx_cache_entry *e = fetch(cache, "k", 0, 0, 0), *f = NULL;
    long long t0 = now_ms();
    cr_assert_eq(redisx_cache_fetch(&f, cache, "k", 300, 0, 0), REDISX_ERR_TIMEOUT);
    long long took = now_ms() - t0;
    cr_assert_null(f);
    cr_assert(took >= 290 && took < 5000, "%lld ms", took);
    cr_assert_eq(redisx_cache_fetch(&f, cache, "k", 0, 0, 0), REDISX_ERR_TIMEOUT, "wait 0: no waiting");
    /* Freeing a loading entry abandons it: the next caller loads at once. */
    redisx_cache_entry_free(e);
    f = fetch(cache, "k", 5000, 0, 0);
    cr_assert_eq(redisx_cache_entry_state(f), REDISX_CACHE_LOAD);
    redisx_cache_entry_free(f);
    redisx_cache_free(cache);
    redisx_client_close(c);
}


Test(cache, cancel_ends_a_waiting_fetch)
{
    redisx_client *c = rt_client();
    redisx_cache *cache = cache_on(c, "cancel", 0);
    redisx_cache_entry *e = fetch(cache, "k", 0, 0, 0);
    done d = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, NULL};
    cr_assert_eq(redisx_cache_fetch_async(cache, "k", 60000, 0, 0, on_entry, &d), REDISX_OK);
    rt_sleep_ms(200);
    cr_assert_eq(d.n, 0, "still waiting");
    cr_assert_eq(redisx_cancel(c, &d), REDISX_OK);
    wait_done(&d);
    cr_assert_eq(d.st, REDISX_ERR_CANCELLED);
    cr_assert_null(d.e);
    rt_sleep_ms(100);
    cr_assert_eq(d.n, 1, "completed once");
    redisx_cache_entry_free(e);
    /* The asynchronous form with a value. */
    cr_assert_eq(redisx_cache_set(cache, "v", "x", 1, 60000), REDISX_OK);
    done d2 = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, NULL};
    cr_assert_eq(redisx_cache_fetch_async(cache, "v", 1000, 0, 0, on_entry, &d2), REDISX_OK);
    wait_done(&d2);
    cr_assert_eq(d2.st, REDISX_OK);
    cr_assert(value_is(d2.e, "x", 1));
    redisx_cache_entry_free(d2.e);
    redisx_cache_free(cache);
    redisx_client_close(c);
}

/* ---- stale values --------------------------------------------------------------- */

Test(cache, stale_while_revalidate_serves_stale_while_one_refresh_runs)
{
    char prefix[96];
    rt_unique("swr", prefix, sizeof prefix);
    redisx_client *c = client_with_prefix(prefix), *c2 = client_with_prefix(prefix);
    redisx_cache *a = cache_on(c, "swr", 0), *b = cache_on(c2, "swr", 0);
    cr_assert_eq(redisx_cache_set_ttl_jitter(a, 0), REDISX_OK);
    cr_assert_eq(redisx_cache_set(a, "k", "old", 3, 200), REDISX_OK);
    rt_sleep_ms(400);
    int refreshers = 0;
    redisx_cache_entry *owner = NULL;
    for (int i = 0; i < 20; i++) {
        redisx_cache_entry *e = fetch(i % 2 ? a : b, "k", 0, 10000, 0);
        cr_assert_eq(redisx_cache_entry_state(e), REDISX_CACHE_HIT);
        cr_assert(value_is(e, "old", 3));
        cr_assert_eq(redisx_cache_entry_is_stale(e), 1);
        cr_assert_lt(redisx_cache_entry_ttl_ms(e), 0);
        if (redisx_cache_entry_should_refresh(e)) {
            cr_assert_str_eq(redisx_cache_entry_outcome(e), "refresh");
            refreshers++;
            owner = e;
        } else {
            cr_assert_str_eq(redisx_cache_entry_outcome(e), "stale");
            redisx_cache_entry_free(e);
        }
    }
    cr_assert_eq(refreshers, 1, "exactly one refresh across both clients");
    redisx_cache_entry *e = NULL;
    cr_assert_eq(redisx_cache_fetch(&e, a, "k", 0, 0, 0), REDISX_ERR_TIMEOUT,
                 "without a stale window the caller would wait for the refresh");
    cr_assert_eq(redisx_cache_fill(owner, "new", 3, 60000), REDISX_OK, "%s", redisx_last_error());
    redisx_cache_entry_free(owner);
    e = fetch(b, "k", 0, 10000, 0);
    cr_assert(value_is(e, "new", 3));
    cr_assert_eq(redisx_cache_entry_is_stale(e), 0);
    cr_assert_eq(redisx_cache_entry_should_refresh(e), 0);
    redisx_cache_entry_free(e);
    cr_assert_geq(redisx_cache_counter_of(a, REDISX_CACHE_STALE_SERVED) +
                      redisx_cache_counter_of(b, REDISX_CACHE_STALE_SERVED),
                  20);
    redisx_cache_free(a);
    redisx_cache_free(b);
    redisx_client_close(c);
    redisx_client_close(c2);
}

Test(cache, a_load_carries_a_stale_fallback_within_stale_if_error)
{
    redisx_client *c = rt_client();
    redisx_cache *cache = cache_on(c, "sie", 0);
    cr_assert_eq(redisx_cache_set_ttl_jitter(cache, 0), REDISX_OK);
    cr_assert_eq(redisx_cache_set(cache, "k", "old", 3, 100), REDISX_OK);
    rt_sleep_ms(300);
    redisx_cache_entry *e = fetch(cache, "k", 0, 0, 10000);
    cr_assert_eq(redisx_cache_entry_state(e), REDISX_CACHE_LOAD);
    cr_assert(value_is(e, "old", 3), "the fallback to serve if the loader fails");
    cr_assert_eq(redisx_cache_entry_is_stale(e), 1);
    /* Another caller's wait runs out: it gets the stale value. */
    redisx_cache_entry *f = fetch(cache, "k", 200, 0, 10000);
    cr_assert_eq(redisx_cache_entry_state(f), REDISX_CACHE_HIT);
    cr_assert_eq(redisx_cache_entry_is_stale(f), 1);
    redisx_cache_entry_free(f);
    cr_assert_eq(redisx_cache_abandon(e), REDISX_OK);
    redisx_cache_entry_free(e);
    e = fetch(cache, "k", 0, 0, 0);
    cr_assert_eq(redisx_cache_entry_state(e), REDISX_CACHE_LOAD);
    cr_assert_null(redisx_cache_entry_value(e, NULL), "no fallback without a window");
    redisx_cache_entry_free(e);
    redisx_cache_free(cache);
    redisx_client_close(c);
}

Test(cache, redis_down_serves_l1_within_stale_if_error_then_loads_once_per_process, .timeout = 120)
{
    rt_server s;
    cr_assert_eq(rt_server_start(&s), 0);
    redisx_options *o = NULL;
    cr_assert_eq(redisx_options_new(&o), REDISX_OK);
    cr_assert_eq(rt_options_server(o, &s, NULL), REDISX_OK);
    cr_assert_eq(redisx_options_set_command_timeout_ms(o, 300), REDISX_OK);
    cr_assert_eq(redisx_options_set_connect_timeout_ms(o, 200), REDISX_OK);
    redisx_client *c = NULL;
    cr_assert_eq(redisx_client_open(&c, o), REDISX_OK, "%s", redisx_last_error());
    redisx_options_free(o);
    redisx_cache *cache = cache_on(c, "down", 1);
    cr_assert_eq(redisx_cache_set_l1(cache, 1000, 1 << 20, 200), REDISX_OK);
    cr_assert_eq(redisx_cache_set_ttl_jitter(cache, 0), REDISX_OK);
    cr_assert_eq(redisx_cache_set(cache, "k", "v1", 2, 200), REDISX_OK);
    redisx_cache_entry *e = fetch(cache, "k", 0, 0, 0);
    cr_assert_eq(redisx_cache_entry_layer(e), REDISX_CACHE_LAYER_L1);
    redisx_cache_entry_free(e);
    rt_server_kill(&s);
    rt_sleep_ms(400);
    e = fetch(cache, "k", 0, 0, 10000);
    cr_assert_eq(redisx_cache_entry_state(e), REDISX_CACHE_HIT, "state %d layer %d fo %d",
                 redisx_cache_entry_state(e), redisx_cache_entry_layer(e), redisx_cache_entry_is_fail_open(e));
    cr_assert(value_is(e, "v1", 2));
    cr_assert_eq(redisx_cache_entry_is_stale(e), 1);
    cr_assert_eq(redisx_cache_entry_is_fail_open(e), 1);
    redisx_cache_entry_free(e);
    e = fetch(cache, "k", 0, 0, 0);
    cr_assert_eq(redisx_cache_entry_state(e), REDISX_CACHE_LOAD, "past the window: the loader runs");
    cr_assert_eq(redisx_cache_entry_is_fail_open(e), 1);
    redisx_cache_entry *f = NULL;
    cr_assert_eq(redisx_cache_fetch(&f, cache, "k", 0, 0, 0), REDISX_ERR_TIMEOUT, "one loader per process");
    done d = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, NULL};
    cr_assert_eq(redisx_cache_fetch_async(cache, "k", 20000, 0, 0, on_entry, &d), REDISX_OK);
    rt_sleep_ms(300);
    cr_assert_eq(d.n, 0, "waits for this process's loader");
    cr_assert_eq(redisx_cache_fill(e, "v2", 2, 60000), REDISX_OK, "%s", redisx_last_error());
    redisx_cache_entry_free(e);
    wait_done(&d);
    cr_assert_eq(d.st, REDISX_OK, "%s", redisx_strerror(d.st));
    cr_assert(value_is(d.e, "v2", 2), "the waiter got the value from the L1");
    redisx_cache_entry_free(d.e);
    cr_assert_geq(redisx_cache_counter_of(cache, REDISX_CACHE_FAIL_OPEN), 2);
    uint64_t fo = rt_counter(c, "cache", "fetch", REDISX_COUNTER_FAIL_OPEN);
    cr_assert_geq(fo, 2, "the stats say so");
    redisx_cache_free(cache);
    redisx_client_close(c);
    rt_server_stop(&s);
}

Test(cache, fail_closed_reports_the_connection_error)
{
    redisx_client *c = rt_dead_client(REDISX_PRIMITIVE_CACHE, REDISX_FAIL_CLOSED);
    redisx_cache *cache = cache_on(c, "closed", 1);
    redisx_cache_entry *e = NULL;
    redisx_status st = redisx_cache_fetch(&e, cache, "k", 0, 0, 10000);
    cr_assert(st == REDISX_ERR_CONNECTION || st == REDISX_ERR_TIMEOUT, "%s", redisx_strerror(st));
    cr_assert_null(e);
    st = redisx_cache_set(cache, "k", "v", 1, 1000);
    cr_assert(st == REDISX_ERR_CONNECTION || st == REDISX_ERR_TIMEOUT, "%s", redisx_strerror(st));
    redisx_cache_free(cache);
    redisx_client_close(c);
}

/* ---- XFetch ------------------------------------------------------------------------ */

Test(cache, xfetch_picks_exactly_one_early_refresher_near_expiry)
{
    redisx_client *c = rt_client();
    redisx_cache *cache = cache_on(c, "xf", 0);
    cr_assert_eq(redisx_cache_set_ttl_jitter(cache, 0), REDISX_OK);
    redisx_cache_entry *e = fetch(cache, "k", 0, 0, 0);
    cr_assert_eq(redisx_cache_entry_state(e), REDISX_CACHE_LOAD);
    rt_sleep_ms(400); /* the loader's delta */
    cr_assert_eq(redisx_cache_fill(e, "v", 1, 5000), REDISX_OK);
    redisx_cache_entry_free(e);
    /* Far from expiry (left 5 s, delta 0.4 s: P = e^-12.5 per fetch). */
    for (int i = 0; i < 10; i++) {
        e = fetch(cache, "k", 0, 0, 0);
        cr_assert_eq(redisx_cache_entry_should_refresh(e), 0);
        redisx_cache_entry_free(e);
    }
    e = fetch(cache, "k", 0, 0, 0);
    int64_t left = redisx_cache_entry_ttl_ms(e);
    redisx_cache_entry_free(e);
    cr_assert_gt(left, 400);
    rt_sleep_ms((long)left - 300); /* about 300 ms left: P = e^-0.75 per fetch */
    int chosen = 0;
    redisx_cache_entry *owner = NULL;
    for (int i = 0; i < 60; i++) {
        e = fetch(cache, "k", 0, 0, 0);
        cr_assert_eq(redisx_cache_entry_state(e), REDISX_CACHE_HIT);
        if (redisx_cache_entry_should_refresh(e)) {
            chosen++;
            owner = e;
        } else {
            redisx_cache_entry_free(e);
        }
    }
    cr_assert_eq(chosen, 1, "one early refresh");
    cr_assert_eq(redisx_cache_counter_of(cache, REDISX_CACHE_EARLY_REFRESHES), 1);
    cr_assert_eq(redisx_cache_fill(owner, "v2", 2, 60000), REDISX_OK);
    redisx_cache_entry_free(owner);
    e = fetch(cache, "k", 0, 0, 0);
    cr_assert(value_is(e, "v2", 2));
    redisx_cache_entry_free(e);
    redisx_cache_free(cache);
    redisx_client_close(c);
}

/* ---- coalescing within a process ----------------------------------------------------- */

typedef struct joined {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int n, hits, loads, bad;
    redisx_cache_entry *loader;
} joined;

static void on_joined(redisx_client *c, redisx_status st, redisx_cache_entry *e, void *user)
{
    (void)c;
    joined *j = user;
    pthread_mutex_lock(&j->mu);
    if (st != REDISX_OK)
        j->bad++;
    else if (redisx_cache_entry_state(e) == REDISX_CACHE_LOAD && !j->loader)
        j->loader = e, j->loads++, e = NULL;
    else if (redisx_cache_entry_state(e) == REDISX_CACHE_HIT && redisx_cache_entry_should_refresh(e) == 0)
        j->hits++;
    else
        j->bad++;
    j->n++;
    pthread_cond_broadcast(&j->cv);
    pthread_mutex_unlock(&j->mu);
    redisx_cache_entry_free(e);
}

static void await_joined(joined *j, int n)
{
    long long deadline = now_ms() + 60000;
    pthread_mutex_lock(&j->mu);
    while (j->n < n && now_ms() < deadline) {
        pthread_mutex_unlock(&j->mu);
        rt_sleep_ms(5);
        pthread_mutex_lock(&j->mu);
    }
    pthread_mutex_unlock(&j->mu);
    cr_assert_eq(j->n, n, "every fetch completed");
}

static long long evalsha_calls(redisx_client *admin)
{
    const char *info[] = {"INFO", "commandstats"};
    redisx_reply *r = rt_cmd(admin, 2, info);
    const char *s = strstr(redisx_reply_string(r, NULL), "cmdstat_evalsha:calls=");
    long long n = s ? atoll(s + strlen("cmdstat_evalsha:calls=")) : 0;
    redisx_reply_free(r);
    return n;
}

#define JOINERS 50

/* Fetches of one key in flight together cost one script: the server is
 * paused while they are made, so every one of them is made while the
 * first's script waits there. A cold key: one of them loads, the others
 * wait for its fill (none of them is given a lease). */
Test(cache, concurrent_fetches_of_one_key_share_one_script)
{
    rt_server srv;
    cr_assert_eq(rt_server_start(&srv), 0, "cannot start redis-server");
    redisx_client *admin = rt_client_on(&srv, NULL), *c = rt_client_on(&srv, "coal");
    redisx_cache *cache = cache_on(c, "co", 0);
    cr_assert_eq(redisx_cache_set(cache, "hot", "v", 1, 600000), REDISX_OK, "%s", redisx_last_error());
    redisx_cache_entry_free(fetch(cache, "hot", 0, 0, 0)); /* the script is cached on the server */
    const char *reset[] = {"CONFIG", "RESETSTAT"};
    redisx_reply_free(rt_cmd(admin, 2, reset));
    const char *pause[] = {"CLIENT", "PAUSE", "500"};
    redisx_reply_free(rt_cmd(admin, 3, pause));
    joined j = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, 0, 0, NULL};
    for (int i = 0; i < JOINERS; i++)
        cr_assert_eq(redisx_cache_fetch_async(cache, "hot", 10000, 0, 0, on_joined, &j), REDISX_OK);
    await_joined(&j, JOINERS);
    cr_assert_eq(j.bad, 0);
    cr_assert_eq(j.hits, JOINERS, "every fetch got the value");
    cr_assert_eq(evalsha_calls(admin), 1, "one script for all of them");

    /* A cold key: one LOAD, the rest wait for its fill and get its value. */
    joined k = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, 0, 0, NULL};
    redisx_reply_free(rt_cmd(admin, 3, pause));
    for (int i = 0; i < JOINERS; i++)
        cr_assert_eq(redisx_cache_fetch_async(cache, "cold", 30000, 0, 0, on_joined, &k), REDISX_OK);
    for (long long deadline = now_ms() + 30000; now_ms() < deadline;) {
        pthread_mutex_lock(&k.mu);
        int got = k.loader != NULL;
        pthread_mutex_unlock(&k.mu);
        if (got)
            break;
        rt_sleep_ms(5);
    }
    cr_assert_not_null(k.loader, "one of them loads");
    cr_assert_eq(redisx_cache_fill(k.loader, "x", 1, 600000), REDISX_OK, "%s", redisx_last_error());
    redisx_cache_entry_free(k.loader);
    await_joined(&k, JOINERS);
    cr_assert_eq(k.bad, 0, "no second lease, no error");
    cr_assert_eq(k.loads, 1);
    cr_assert_eq(k.hits, JOINERS - 1, "the others got the loaded value");
    cr_assert_eq(redisx_cache_counter_of(cache, REDISX_CACHE_LOADS), 1);
    redisx_cache_entry *e = fetch(cache, "cold", 0, 0, 0);
    cr_assert(value_is(e, "x", 1));
    redisx_cache_entry_free(e);

    /* Cancelling the first (whose script is out) or one that joined it
     * ends that one alone, once; the others still get the value. */
    redisx_reply_free(rt_cmd(admin, 3, pause));
    done first = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, NULL};
    done second = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, NULL};
    done third = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, NULL};
    cr_assert_eq(redisx_cache_fetch_async(cache, "hot", 10000, 0, 0, on_entry, &first), REDISX_OK);
    cr_assert_eq(redisx_cache_fetch_async(cache, "hot", 10000, 0, 0, on_entry, &second), REDISX_OK);
    cr_assert_eq(redisx_cache_fetch_async(cache, "hot", 10000, 0, 0, on_entry, &third), REDISX_OK);
    cr_assert_eq(redisx_cancel(c, &first), REDISX_OK);
    cr_assert_eq(redisx_cancel(c, &third), REDISX_OK);
    wait_done(&first);
    wait_done(&third);
    wait_done(&second);
    cr_assert_eq(first.st, REDISX_ERR_CANCELLED);
    cr_assert_eq(third.st, REDISX_ERR_CANCELLED);
    cr_assert_eq(second.st, REDISX_OK, "%s", redisx_strerror(second.st));
    cr_assert(value_is(second.e, "v", 1), "the one left got the value");
    redisx_cache_entry_free(second.e);
    rt_sleep_ms(200);
    cr_assert(first.n == 1 && second.n == 1 && third.n == 1, "each completed once");
    redisx_cache_free(cache);
    redisx_client_close(c);
    redisx_client_close(admin);
    rt_server_stop(&srv);
}
