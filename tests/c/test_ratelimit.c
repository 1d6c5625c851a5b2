/* Rate limiting against a real redis-server: the exact allowed/denied
 * sequence of every algorithm, cost handling, refill, the fixed window's
 * boundary burst against the sliding window counter, eight threads on one
 * key, fail policies, async completions and stats. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define HOUR_MS 3600000

static const redisx_ratelimit_algorithm all_algs[] = {
    REDISX_RATELIMIT_FIXED_WINDOW, REDISX_RATELIMIT_SLIDING_LOG, REDISX_RATELIMIT_SLIDING_WINDOW,
    REDISX_RATELIMIT_TOKEN_BUCKET, REDISX_RATELIMIT_GCRA,
};
static const char *const alg_names[] = {"fixed_window", "sliding_log", "sliding_window", "token_bucket", "gcra"};

static redisx_limiter *limiter(redisx_client *c, const char *name, redisx_ratelimit_algorithm alg, int64_t limit,
                               int64_t period_ms, int64_t burst)
{
    redisx_limiter *lim = NULL;
    redisx_status st = redisx_limiter_new(&lim, c, name, alg, limit, period_ms, burst);
    cr_assert_eq(st, REDISX_OK, "limiter_new(%s): %s", alg_names[alg], redisx_last_error());
    return lim;
}

typedef struct outcome {
    int allowed;
    int64_t limit, remaining, reset_ms, retry_after_ms;
    int fail_open;
} outcome;

static outcome run_check(redisx_limiter *lim, const char *key, int64_t cost, int peek)
{
    redisx_ratelimit_result *r = NULL;
    redisx_status st = peek ? redisx_limiter_peek(&r, lim, key) : redisx_limiter_check(&r, lim, key, cost);
    cr_assert_eq(st, REDISX_OK, "%s: %s", peek ? "peek" : "check", redisx_last_error());
    cr_assert_not_null(r);
    outcome o = {redisx_ratelimit_result_allowed(r),        redisx_ratelimit_result_limit(r),
                 redisx_ratelimit_result_remaining(r),      redisx_ratelimit_result_reset_ms(r),
                 redisx_ratelimit_result_retry_after_ms(r), redisx_ratelimit_result_fail_open(r)};
    redisx_ratelimit_result_free(r);
    return o;
}

static outcome check(redisx_limiter *lim, const char *key, int64_t cost)
{
    return run_check(lim, key, cost, 0);
}

static void expect(outcome o, int allowed, int64_t remaining, const char *what)
{
    cr_assert_eq(o.allowed, allowed, "%s: allowed %d, want %d", what, o.allowed, allowed);
    cr_assert_eq(o.remaining, remaining, "%s: remaining %lld, want %lld", what, (long long)o.remaining,
                 (long long)remaining);
    cr_assert_eq(o.limit, 5, "%s: limit %lld", what, (long long)o.limit);
    cr_assert_eq(o.fail_open, 0, "%s", what);
    if (allowed)
        cr_assert_eq(o.retry_after_ms, -1, "%s: retry-after %lld when allowed", what, (long long)o.retry_after_ms);
    else /* the sliding window counter may need most of the next window too */
        cr_assert(o.retry_after_ms > 0 && o.retry_after_ms <= 2 * (int64_t)HOUR_MS, "%s: retry-after %lld when denied",
                  what, (long long)o.retry_after_ms);
    cr_assert(o.reset_ms >= 0 && o.reset_ms <= 2 * (int64_t)HOUR_MS, "%s: reset %lld", what, (long long)o.reset_ms);
}

/* The canonical sequence every binding repeats (see docs/KEYS.md): limit 5
 * per hour, so nothing refills while it runs. */
static void canonical_sequence(redisx_ratelimit_algorithm alg)
{
    redisx_client *c = rt_client();
    redisx_limiter *lim = limiter(c, "seq", alg, 5, HOUR_MS, 0);
    cr_assert_eq(redisx_limiter_capacity(lim), 5);
    cr_assert_eq(redisx_limiter_reset(lim, "k"), REDISX_OK, "%s", redisx_last_error());
    for (int i = 1; i <= 5; i++)
        expect(check(lim, "k", 1), 1, 5 - i, "check within the limit");
    expect(check(lim, "k", 1), 0, 0, "6th check");
    expect(check(lim, "k", 1), 0, 0, "7th check");
    expect(run_check(lim, "k", 1, 1), 0, 0, "peek when exhausted");
    cr_assert_eq(redisx_limiter_reset(lim, "k"), REDISX_OK, "%s", redisx_last_error());
    expect(run_check(lim, "k", 1, 1), 1, 5, "peek after reset");
    expect(check(lim, "k", 3), 1, 2, "cost 3 of 5");
    expect(check(lim, "k", 3), 0, 2, "cost 3 with 2 left is denied and spends nothing");
    expect(check(lim, "k", 2), 1, 0, "cost 2 with 2 left");
    redisx_ratelimit_result *r = (redisx_ratelimit_result *)1;
    cr_assert_eq(redisx_limiter_check(&r, lim, "k", 6), REDISX_ERR_INVALID);
    cr_assert_null(r);
    cr_assert(strstr(redisx_last_error(), "capacity") != NULL, "%s", redisx_last_error());
    redisx_limiter_free(lim);
    redisx_client_close(c);
}

Test(ratelimit, fixed_window_canonical_sequence)
{
    canonical_sequence(REDISX_RATELIMIT_FIXED_WINDOW);
}
Test(ratelimit, sliding_log_canonical_sequence)
{
    canonical_sequence(REDISX_RATELIMIT_SLIDING_LOG);
}
Test(ratelimit, sliding_window_canonical_sequence)
{
    canonical_sequence(REDISX_RATELIMIT_SLIDING_WINDOW);
}
Test(ratelimit, token_bucket_canonical_sequence)
{
    canonical_sequence(REDISX_RATELIMIT_TOKEN_BUCKET);
}
Test(ratelimit, gcra_canonical_sequence)
{
    canonical_sequence(REDISX_RATELIMIT_GCRA);
}

Test(ratelimit, keys_limiters_and_algorithms_keep_separate_budgets)
{
    redisx_client *c = rt_client();
    for (size_t a = 0; a < 5; a++) {
        redisx_limiter *one = limiter(c, "sep", all_algs[a], 1, HOUR_MS, 0);
        redisx_limiter *other = limiter(c, "sep2", all_algs[a], 1, HOUR_MS, 0);
        cr_assert(check(one, "a", 1).allowed, "%s", alg_names[a]);
        cr_assert(!check(one, "a", 1).allowed, "%s", alg_names[a]);
        cr_assert(check(one, "b", 1).allowed, "%s: another key", alg_names[a]);
        cr_assert(check(other, "a", 1).allowed, "%s: another limiter name", alg_names[a]);
        redisx_limiter_free(one);
        redisx_limiter_free(other);
    }
    /* Same name and key, every algorithm: each has its own keys. */
    redisx_limiter *fw = limiter(c, "same", REDISX_RATELIMIT_FIXED_WINDOW, 1, HOUR_MS, 0);
    redisx_limiter *tb = limiter(c, "same", REDISX_RATELIMIT_TOKEN_BUCKET, 1, HOUR_MS, 0);
    cr_assert(check(fw, "k", 1).allowed);
    cr_assert(check(tb, "k", 1).allowed, "the token bucket must not read the fixed window's key");
    redisx_limiter_free(fw);
    redisx_limiter_free(tb);
    redisx_client_close(c);
}

Test(ratelimit, burst_sets_the_capacity_of_token_bucket_and_gcra)
{
    redisx_client *c = rt_client();
    redisx_ratelimit_algorithm buckets[] = {REDISX_RATELIMIT_TOKEN_BUCKET, REDISX_RATELIMIT_GCRA};
    for (int b = 0; b < 2; b++) {
        redisx_limiter *lim = limiter(c, "burst", buckets[b], 2, HOUR_MS, 10);
        cr_assert_eq(redisx_limiter_capacity(lim), 10);
        outcome o = check(lim, "k", 10);
        cr_assert(o.allowed && o.remaining == 0 && o.limit == 10, "%s: whole burst at once", alg_names[buckets[b]]);
        o = check(lim, "k", 1);
        cr_assert(!o.allowed, "%s", alg_names[buckets[b]]);
        /* one token per 30 minutes */
        cr_assert(o.retry_after_ms > 29 * 60000 && o.retry_after_ms <= 30 * 60000, "%s: retry-after %lld",
                  alg_names[buckets[b]], (long long)o.retry_after_ms);
        cr_assert(o.reset_ms > 4 * HOUR_MS + 59 * 60000 && o.reset_ms <= 5 * HOUR_MS, "%s: reset %lld",
                  alg_names[buckets[b]], (long long)o.reset_ms);
        redisx_limiter_free(lim);
    }
    redisx_client_close(c);
}

/* ---- time: refill and windows ------------------------------------------------- */

static void wait_window_offset(redisx_client *c, int64_t period, int64_t at);

Test(ratelimit, denied_checks_are_allowed_again_after_retry_after)
{
    redisx_client *c = rt_client();
    for (size_t a = 0; a < 5; a++) {
        redisx_limiter *lim = limiter(c, "refill", all_algs[a], 2, 400, 0);
        /* The three checks at the start of a window: a fixed window that
         * turned between them (slow under valgrind) would allow the third. */
        wait_window_offset(c, 400, 5);
        cr_assert(check(lim, "k", 1).allowed);
        cr_assert(check(lim, "k", 1).allowed);
        outcome o = check(lim, "k", 1);
        cr_assert(!o.allowed, "%s: third within 400 ms", alg_names[a]);
        /* Fixed and sliding windows can ask for up to two periods. */
        cr_assert(o.retry_after_ms > 0 && o.retry_after_ms <= 800, "%s: retry-after %lld", alg_names[a],
                  (long long)o.retry_after_ms);
        rt_sleep_ms((long)o.retry_after_ms + 30);
        o = check(lim, "k", 1);
        cr_assert(o.allowed, "%s: allowed after waiting the retry-after", alg_names[a]);
        redisx_limiter_free(lim);
    }
    redisx_client_close(c);
}

static int64_t server_ms(redisx_client *c)
{
    const char *argv[] = {"TIME"};
    redisx_reply *r = rt_cmd(c, 1, argv);
    int64_t ms = atoll(redisx_reply_string(redisx_reply_element(r, 0), NULL)) * 1000 +
                 atoll(redisx_reply_string(redisx_reply_element(r, 1), NULL)) / 1000;
    redisx_reply_free(r);
    return ms;
}

/* Waits until the server clock is `at` ms into a window of `period` ms. */
static void wait_window_offset(redisx_client *c, int64_t period, int64_t at)
{
    int64_t off = server_ms(c) % period;
    rt_sleep_ms((long)((at - off + period) % period));
}

static int burst(redisx_limiter *lim, const char *key, int n)
{
    int allowed = 0;
    for (int i = 0; i < n; i++)
        allowed += check(lim, key, 1).allowed;
    return allowed;
}

/* The fixed window's known flaw: `limit` at the end of one window and again at
 * the start of the next. The sliding window counter refuses the second burst
 * because the previous window still weighs almost fully. */
Test(ratelimit, fixed_window_allows_a_double_burst_at_the_boundary_and_sliding_window_does_not)
{
    redisx_client *c = rt_client();
    const int64_t period = 2000;
    redisx_limiter *fw = limiter(c, "edge", REDISX_RATELIMIT_FIXED_WINDOW, 10, period, 0);
    redisx_limiter *sw = limiter(c, "edge", REDISX_RATELIMIT_SLIDING_WINDOW, 10, period, 0);
    for (int attempt = 0; attempt < 5; attempt++) {
        char key[32];
        snprintf(key, sizeof key, "k%d", attempt);
        wait_window_offset(c, period, 1500); /* 500 ms before the boundary */
        int64_t t0 = server_ms(c);
        int fw1 = burst(fw, key, 10), sw1 = burst(sw, key, 10);
        int64_t t1 = server_ms(c);
        wait_window_offset(c, period, 50); /* 50 ms after it */
        int64_t t2 = server_ms(c);
        int fw2 = burst(fw, key, 10), sw2 = burst(sw, key, 10);
        int64_t t3 = server_ms(c);
        /* The scenario holds only if each burst stayed inside its window and
         * the second started early in the new one; a slow machine retries. */
        if (t0 / period != t1 / period || t2 / period != t1 / period + 1 || t3 / period != t2 / period ||
            t3 % period > 400)
            continue;
        cr_assert_eq(fw1, 10);
        cr_assert_eq(sw1, 10);
        cr_assert_eq(fw2, 10, "fixed window: a full second burst right after the boundary");
        cr_assert_eq(sw2, 0, "sliding window: the previous window still weighs %lld%%",
                     (long long)(100 - (t3 % period) * 100 / period));
        redisx_limiter_free(fw);
        redisx_limiter_free(sw);
        redisx_client_close(c);
        return;
    }
    cr_assert_fail("the machine was too slow for five attempts of the boundary scenario");
}

Test(ratelimit, sliding_log_counts_exactly_the_last_period)
{
    redisx_client *c = rt_client();
    redisx_limiter *lim = limiter(c, "log", REDISX_RATELIMIT_SLIDING_LOG, 3, 600, 0);
    cr_assert(check(lim, "k", 1).allowed);
    rt_sleep_ms(300);
    cr_assert(check(lim, "k", 2).allowed);
    outcome o = check(lim, "k", 1);
    cr_assert(!o.allowed);
    /* The first unit leaves the window 600 ms after it was spent. */
    cr_assert(o.retry_after_ms > 0 && o.retry_after_ms <= 300, "retry-after %lld", (long long)o.retry_after_ms);
    rt_sleep_ms((long)o.retry_after_ms + 20);
    o = check(lim, "k", 1);
    cr_assert(o.allowed, "the oldest unit has left the window");
    cr_assert(!check(lim, "k", 1).allowed, "the two units of 300 ms ago still count");
    redisx_limiter_free(lim);
    redisx_client_close(c);
}

/* ---- concurrency ----------------------------------------------------------------- */

typedef struct hammer_job {
    redisx_limiter *lim;
    const char *key;
    int n;
    int allowed;
    int errors;
    int fail_open;
} hammer_job;

static void *hammer(void *arg)
{
    hammer_job *job = arg;
    for (int i = 0; i < job->n; i++) {
        redisx_ratelimit_result *r = NULL;
        if (redisx_limiter_check(&r, job->lim, job->key, 1) != REDISX_OK)
            job->errors++;
        else {
            job->allowed += redisx_ratelimit_result_allowed(r);
            job->fail_open += redisx_ratelimit_result_fail_open(r);
        }
        redisx_ratelimit_result_free(r);
    }
    return NULL;
}

Test(ratelimit, eight_threads_on_one_key_never_exceed_the_limit)
{
    redisx_options *o = NULL;
    cr_assert_eq(redisx_options_new(&o), REDISX_OK);
    cr_assert_eq(redisx_options_set_connections(o, 4), REDISX_OK);
    /* A check that times out fails open (allowed, uncounted): on a loaded
     * machine that is not what this test is about. */
    cr_assert_eq(redisx_options_set_command_timeout_ms(o, 60000), REDISX_OK);
    redisx_client *c = rt_client_opts(o);
    redisx_options_free(o);
    for (size_t a = 0; a < 5; a++) {
        redisx_limiter *lim = limiter(c, "hammer", all_algs[a], 20, HOUR_MS, 0);
        pthread_t th[8];
        hammer_job jobs[8];
        for (int i = 0; i < 8; i++) {
            jobs[i] = (hammer_job){lim, "hot", 50, 0, 0, 0};
            cr_assert_eq(pthread_create(&th[i], NULL, hammer, &jobs[i]), 0);
        }
        int allowed = 0, errors = 0, opened = 0;
        for (int i = 0; i < 8; i++) {
            pthread_join(th[i], NULL);
            allowed += jobs[i].allowed;
            errors += jobs[i].errors;
            opened += jobs[i].fail_open;
        }
        cr_assert_eq(errors, 0, "%s", alg_names[a]);
        cr_assert_eq(opened, 0, "%s: %d checks failed open", alg_names[a], opened);
        cr_assert_eq(allowed, 20, "%s: %d of 400 checks allowed, limit 20", alg_names[a], allowed);
        redisx_limiter_free(lim);
    }
    redisx_client_close(c);
}

/* ---- fail policies ------------------------------------------------------------- */


Test(ratelimit, unreachable_redis_allows_by_default_and_says_so)
{
    redisx_client *c = rt_dead_client(REDISX_PRIMITIVE_RATELIMIT, REDISX_FAIL_OPEN);
    redisx_limiter *lim = limiter(c, "open", REDISX_RATELIMIT_GCRA, 5, 1000, 0);
    outcome o = check(lim, "k", 1);
    cr_assert(o.allowed && o.fail_open, "allowed %d fail_open %d", o.allowed, o.fail_open);
    cr_assert_eq(o.remaining, 5);
    cr_assert_eq(o.retry_after_ms, -1);
    cr_assert_eq(rt_counter(c, "ratelimit", "check", REDISX_COUNTER_FAIL_OPEN), 1);
    redisx_limiter_free(lim);
    redisx_client_close(c);
}

Test(ratelimit, a_fail_closed_limiter_reports_the_connection_error)
{
    redisx_client *c = rt_dead_client(REDISX_PRIMITIVE_RATELIMIT, REDISX_FAIL_OPEN);
    redisx_limiter *lim = limiter(c, "closed", REDISX_RATELIMIT_FIXED_WINDOW, 5, 1000, 0);
    cr_assert_eq(redisx_limiter_set_fail_policy(lim, REDISX_FAIL_CLOSED), REDISX_OK);
    redisx_ratelimit_result *r = (redisx_ratelimit_result *)1;
    redisx_status st = redisx_limiter_check(&r, lim, "k", 1);
    cr_assert(st == REDISX_ERR_CONNECTION || st == REDISX_ERR_TIMEOUT, "got %s", redisx_status_name(st));
    cr_assert_null(r);
    redisx_limiter_free(lim);
    redisx_client_close(c);

    c = rt_dead_client(REDISX_PRIMITIVE_RATELIMIT, REDISX_FAIL_CLOSED); /* the client-wide default */
    lim = limiter(c, "closed", REDISX_RATELIMIT_FIXED_WINDOW, 5, 1000, 0);
    st = redisx_limiter_check(&r, lim, "k", 1);
    cr_assert(st == REDISX_ERR_CONNECTION || st == REDISX_ERR_TIMEOUT, "got %s", redisx_status_name(st));
    redisx_limiter_free(lim);
    redisx_client_close(c);
}

/* ---- async, stats, lifetime --------------------------------------------------- */

static redisx_item *pop_completion(redisx_queue *q)
{
    redisx_item *it = NULL;
    cr_assert_eq(redisx_queue_pop(&it, q, 5000), REDISX_OK);
    cr_assert_eq(redisx_item_status(it), REDISX_OK, "%s", redisx_item_message(it));
    return it;
}

Test(ratelimit, async_checks_complete_into_the_queue_with_their_result)
{
    redisx_queue *q = NULL;
    cr_assert_eq(redisx_queue_new(&q), REDISX_OK);
    redisx_options *o = NULL;
    cr_assert_eq(redisx_options_new(&o), REDISX_OK);
    cr_assert_eq(redisx_options_set_queue(o, q, 0), REDISX_OK);
    redisx_client *c = rt_client_opts(o);
    redisx_options_free(o);
    redisx_limiter *lim = limiter(c, "async", REDISX_RATELIMIT_TOKEN_BUCKET, 3, HOUR_MS, 0);
    /* A NOSCRIPT answer is retried after a SCRIPT LOAD, so calls in flight
     * together may reach Redis out of order: each step waits for the last. */
    for (intptr_t i = 1; i <= 4; i++)
        cr_assert_eq(redisx_limiter_check_async(lim, "k", 1, NULL, (void *)i), REDISX_OK);
    int allowed = 0;
    for (int seen = 0; seen < 4; seen++) {
        redisx_item *it = pop_completion(q);
        redisx_ratelimit_result *r = redisx_item_take_ratelimit_result(it);
        cr_assert_not_null(r);
        cr_assert_null(redisx_item_take_ratelimit_result(it), "taken once");
        allowed += redisx_ratelimit_result_allowed(r);
        redisx_ratelimit_result_free(r);
        redisx_item_free(it);
    }
    cr_assert_eq(allowed, 3);
    cr_assert_eq(redisx_limiter_peek_async(lim, "k", NULL, (void *)5), REDISX_OK);
    redisx_item *it = pop_completion(q);
    cr_assert_eq((intptr_t)redisx_item_user(it), 5);
    redisx_ratelimit_result *r = redisx_item_take_ratelimit_result(it);
    cr_assert(r && !redisx_ratelimit_result_allowed(r), "the peek after four checks of three");
    redisx_ratelimit_result_free(r);
    redisx_item_free(it);
    cr_assert_eq(redisx_limiter_reset_async(lim, "k", NULL, (void *)6), REDISX_OK);
    it = pop_completion(q);
    cr_assert_eq((intptr_t)redisx_item_user(it), 6);
    cr_assert_null(redisx_item_take_ratelimit_result(it), "a reset carries no result");
    redisx_item_free(it);
    cr_assert(check(lim, "k", 3).allowed, "reset restored the whole bucket");
    redisx_limiter_free(lim);
    redisx_client_close(c);
    redisx_queue_free(q);
}

Test(ratelimit, denied_checks_count_as_rejected_and_peeks_separately)
{
    redisx_client *c = rt_client();
    redisx_limiter *lim = limiter(c, "stats", REDISX_RATELIMIT_FIXED_WINDOW, 1, HOUR_MS, 0);
    cr_assert(check(lim, "k", 1).allowed);
    cr_assert(!check(lim, "k", 1).allowed);
    cr_assert(!run_check(lim, "k", 1, 1).allowed);
    cr_assert_eq(rt_counter(c, "ratelimit", "check", REDISX_COUNTER_CALLS), 2);
    cr_assert_eq(rt_counter(c, "ratelimit", "check", REDISX_COUNTER_OK), 1);
    cr_assert_eq(rt_counter(c, "ratelimit", "check", REDISX_COUNTER_REJECTED), 1);
    cr_assert_eq(rt_counter(c, "ratelimit", "peek", REDISX_COUNTER_CALLS), 1);
    cr_assert_eq(rt_counter(c, "ratelimit", "check", REDISX_COUNTER_ROUND_TRIPS), 2);
    redisx_limiter_free(lim);
    redisx_client_close(c);
}

static void free_result_cb(redisx_client *c, redisx_status st, redisx_ratelimit_result *r, void *user)
{
    (void)c;
    (void)st;
    redisx_ratelimit_result_free(r);
    atomic_fetch_add((atomic_int *)user, 1);
}

Test(ratelimit, a_limiter_freed_with_checks_in_flight_completes_them)
{
    redisx_client *c = rt_client();
    redisx_limiter *lim = limiter(c, "inflight", REDISX_RATELIMIT_SLIDING_LOG, 100, HOUR_MS, 0);
    atomic_int done = 0;
    for (int i = 0; i < 50; i++)
        cr_assert_eq(redisx_limiter_check_async(lim, "k", 1, free_result_cb, &done), REDISX_OK);
    redisx_limiter_free(lim);
    for (int i = 0; i < 500 && atomic_load(&done) < 50; i++)
        rt_sleep_ms(10);
    cr_assert_eq(atomic_load(&done), 50);
    redisx_client_close(c);
}

Test(ratelimit, keys_are_binary_safe_text_with_braces_and_spaces)
{
    redisx_client *c = rt_client();
    redisx_limiter *lim = limiter(c, "text", REDISX_RATELIMIT_GCRA, 1, HOUR_MS, 0);
    const char *keys[] = {"{a}", "a}", "{", "user 42 \xc3\xa9", "a:b:c"};
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
        cr_assert(check(lim, keys[i], 1).allowed, "%s", keys[i]);
        cr_assert(!check(lim, keys[i], 1).allowed, "%s", keys[i]);
    }
    redisx_limiter_free(lim);
    redisx_client_close(c);
}

/* ---- the ranges accepted, at their extremes ---- */

/* Checks `cost` until denied (at most `rounds` times), then peeks, twice:
 * every call must succeed (no ServerError from an expiry the server cannot
 * read) and the budget must run out exactly at `capacity`. */
static void exercise_extreme(redisx_client *c, redisx_ratelimit_algorithm alg, int64_t limit, int64_t period,
                             int64_t burst, int64_t cost)
{
    char name[64];
    snprintf(name, sizeof name, "x-%s-%lld-%lld-%lld-%lld", alg_names[alg], (long long)limit, (long long)period,
             (long long)burst, (long long)cost);
    redisx_limiter *lim = limiter(c, name, alg, limit, period, burst);
    int64_t capacity = redisx_limiter_capacity(lim);
    int64_t spent = 0;
    for (int round = 0; round < 2; round++) {
        outcome o = check(lim, "k", cost);
        if (period < 60000) { /* refills while it runs: only no error */
            run_check(lim, "k", 1, 1);
            continue;
        }
        cr_assert_eq(o.allowed, spent + cost <= capacity, "%s limit %lld burst %lld: check %d", alg_names[alg],
                     (long long)limit, (long long)burst, round);
        if (o.allowed)
            spent += cost;
        cr_assert(o.reset_ms >= 0 && o.retry_after_ms >= -1);
        o = run_check(lim, "k", 1, 1);
        cr_assert_eq(o.remaining, capacity - spent, "%s: remaining %lld after %lld of %lld", alg_names[alg],
                     (long long)o.remaining, (long long)spent, (long long)capacity);
    }
    redisx_limiter_free(lim);
}

Test(ratelimit, every_algorithm_works_at_the_extremes_it_accepts, .timeout = 300)
{
    redisx_client *c = rt_client();
    const int64_t P = REDISX_RATELIMIT_PERIOD_MAX_MS;
    for (size_t i = 0; i < sizeof all_algs / sizeof *all_algs; i++) {
        redisx_ratelimit_algorithm alg = all_algs[i];
        int bucket = alg == REDISX_RATELIMIT_TOKEN_BUCKET || alg == REDISX_RATELIMIT_GCRA;
        int64_t max = alg == REDISX_RATELIMIT_SLIDING_LOG ? REDISX_RATELIMIT_LOG_LIMIT_MAX : REDISX_RATELIMIT_LIMIT_MAX;
        exercise_extreme(c, alg, max, P, 0, max / 2 + 1); /* the largest budget over the longest period */
        exercise_extreme(c, alg, 1, P, 0, 1);             /* the slowest */
        exercise_extreme(c, alg, max, 1, 0, max);         /* the fastest */
        if (bucket) {
            /* the largest burst at the slowest rate: refill = REFILL_MAX exactly */
            int64_t b = REDISX_RATELIMIT_REFILL_MAX_MS / P;
            exercise_extreme(c, alg, 1, P, b, b);
            exercise_extreme(c, alg, 1, P, b, 1);
            /* the setting, scaled into the accepted range: cost 3e6 */
            int64_t limit = 1000000000LL / (REDISX_RATELIMIT_REFILL_MAX_MS / P);
            exercise_extreme(c, alg, limit, P, REDISX_RATELIMIT_LIMIT_MAX, 3000000);
        }
    }
    redisx_client_close(c);
}

Test(ratelimit, bucket_settings_beyond_the_refill_bound_are_refused)
{
    redisx_client *c = rt_client();
    const int64_t P = REDISX_RATELIMIT_PERIOD_MAX_MS;
    redisx_ratelimit_algorithm algs[] = {REDISX_RATELIMIT_TOKEN_BUCKET, REDISX_RATELIMIT_GCRA};
    for (int i = 0; i < 2; i++) {
        redisx_limiter *lim = NULL;
        /* limit 1 per 366 days with a burst of 10^9: refill in 10^9 periods */
        cr_assert_eq(redisx_limiter_new(&lim, c, "far", algs[i], 1, P, 1000000000), REDISX_ERR_INVALID);
        cr_assert(strstr(redisx_last_error(), "refill"), "%s", redisx_last_error());
        cr_assert_null(lim);
        cr_assert_eq(redisx_limiter_new(&lim, c, "far", algs[i], 1, P, REDISX_RATELIMIT_REFILL_MAX_MS / P + 1),
                     REDISX_ERR_INVALID, "one unit over the bound");
    }
    redisx_client_close(c);
}
