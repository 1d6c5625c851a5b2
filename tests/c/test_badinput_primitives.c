/* Bad input for the rate-limit and idempotency entry points (the coverage
 * table of test_badinput.c lists them): NULL handles and out-parameters,
 * NULL/empty/over-long keys and names, out-of-range limits, periods, costs,
 * TTLs and enums, asynchronous calls with nowhere to complete, blocking calls
 * from the I/O thread, calls after the client closed. Each rejection is
 * checked for its exact status and its own redisx_last_error() detail. */
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>

#include "badinput.h"

static redisx_limiter *new_limiter(redisx_client *c, redisx_ratelimit_algorithm alg)
{
    redisx_limiter *lim = NULL;
    EXPECT_OK(redisx_limiter_new(&lim, c, "bad", alg, 5, 1000, 0), "limiter");
    return lim;
}

Test(badinput_primitives, release_functions_and_accessors_accept_null)
{
    redisx_limiter_free(NULL);
    redisx_ratelimit_result_free(NULL);
    redisx_idem_free(NULL);
    cr_assert_eq(redisx_limiter_capacity(NULL), 0);
    cr_assert_eq(redisx_ratelimit_result_allowed(NULL), 0);
    cr_assert_eq(redisx_ratelimit_result_limit(NULL), 0);
    cr_assert_eq(redisx_ratelimit_result_remaining(NULL), 0);
    cr_assert_eq(redisx_ratelimit_result_reset_ms(NULL), 0);
    cr_assert_eq(redisx_ratelimit_result_retry_after_ms(NULL), -1);
    cr_assert_eq(redisx_ratelimit_result_fail_open(NULL), 0);
    cr_assert_eq(redisx_idem_state_of(NULL), REDISX_IDEM_IN_PROGRESS, "never NEW: nobody may run the work");
    cr_assert_null(redisx_idem_key(NULL));
    size_t n = 99;
    cr_assert_null(redisx_idem_response(NULL, &n));
    cr_assert_eq(n, 0);
    n = 99;
    cr_assert_null(redisx_idem_metadata(NULL, &n));
    cr_assert_eq(n, 0);
    cr_assert_null(redisx_idem_response(NULL, NULL));
    cr_assert_eq(redisx_idem_remaining_ms(NULL), 0);
    cr_assert_eq(redisx_idem_taken_over(NULL), 0);
    cr_assert_eq(redisx_idem_is_fail_open(NULL), 0);
    cr_assert_null(redisx_item_take_ratelimit_result(NULL));
    cr_assert_null(redisx_item_take_idem(NULL));
}

Test(badinput_primitives, limiter_new_rejects_bad_handles_names_and_enums)
{
    redisx_client *c = rt_client();
    redisx_limiter *lim = SENTINEL(redisx_limiter);
    EXPECT_ST(REDISX_ERR_INVALID, redisx_limiter_new(NULL, c, "n", REDISX_RATELIMIT_GCRA, 1, 1, 0), "out NULL");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_limiter_new(&lim, NULL, "n", REDISX_RATELIMIT_GCRA, 1, 1, 0), "client NULL");
    cr_assert_null(lim, "out reset");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_limiter_new(&lim, c, NULL, REDISX_RATELIMIT_GCRA, 1, 1, 0), "name NULL");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_limiter_new(&lim, c, "", REDISX_RATELIMIT_GCRA, 1, 1, 0), "name empty");
    char *longname = filled(REDISX_LIMITER_NAME_MAX + 1, 'n');
    EXPECT_ST(REDISX_ERR_INVALID, redisx_limiter_new(&lim, c, longname, REDISX_RATELIMIT_GCRA, 1, 1, 0), "long name");
    longname[REDISX_LIMITER_NAME_MAX] = '\0';
    EXPECT_OK(redisx_limiter_new(&lim, c, longname, REDISX_RATELIMIT_GCRA, 1, 1, 0), "longest name");
    redisx_limiter_free(lim);
    free(longname);
    EXPECT_ST(REDISX_ERR_INVALID, redisx_limiter_new(&lim, c, "a{b", REDISX_RATELIMIT_GCRA, 1, 1, 0), "brace");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_limiter_new(&lim, c, "a}", REDISX_RATELIMIT_GCRA, 1, 1, 0), "brace");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_limiter_new(&lim, c, "n", (redisx_ratelimit_algorithm)-1, 1, 1, 0), "alg -1");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_limiter_new(&lim, c, "n", (redisx_ratelimit_algorithm)5, 1, 1, 0), "alg 5");
    cr_assert_null(lim);
    redisx_client_close(c);
}

Test(badinput_primitives, limiter_new_rejects_out_of_range_limits_periods_and_bursts)
{
    redisx_client *c = rt_client();
    redisx_limiter *lim = NULL;
    for (int a = REDISX_RATELIMIT_FIXED_WINDOW; a <= REDISX_RATELIMIT_GCRA; a++) {
        redisx_ratelimit_algorithm alg = (redisx_ratelimit_algorithm)a;
        int64_t max = alg == REDISX_RATELIMIT_SLIDING_LOG ? REDISX_RATELIMIT_LOG_LIMIT_MAX : REDISX_RATELIMIT_LIMIT_MAX;
        EXPECT_ST(REDISX_ERR_INVALID, redisx_limiter_new(&lim, c, "n", alg, 0, 1000, 0), "limit 0");
        EXPECT_ST(REDISX_ERR_INVALID, redisx_limiter_new(&lim, c, "n", alg, -1, 1000, 0), "limit -1");
        EXPECT_ST(REDISX_ERR_INVALID, redisx_limiter_new(&lim, c, "n", alg, max + 1, 1000, 0), "limit max+1");
        EXPECT_ST(REDISX_ERR_INVALID, redisx_limiter_new(&lim, c, "n", alg, INT64_MIN, 1000, 0), "limit min");
        EXPECT_ST(REDISX_ERR_INVALID, redisx_limiter_new(&lim, c, "n", alg, 1, 0, 0), "period 0");
        EXPECT_ST(REDISX_ERR_INVALID, redisx_limiter_new(&lim, c, "n", alg, 1, -5, 0), "period -5");
        EXPECT_ST(REDISX_ERR_INVALID,
                  redisx_limiter_new(&lim, c, "n", alg, 1, REDISX_RATELIMIT_PERIOD_MAX_MS + 1, 0), "period max+1");
        EXPECT_ST(REDISX_ERR_INVALID, redisx_limiter_new(&lim, c, "n", alg, 5, 1000, -1), "burst -1");
        EXPECT_OK(redisx_limiter_new(&lim, c, "n", alg, max, REDISX_RATELIMIT_PERIOD_MAX_MS, 0), "largest");
        redisx_limiter_free(lim);
        EXPECT_OK(redisx_limiter_new(&lim, c, "n", alg, 5, 1000, 5), "burst = limit");
        redisx_limiter_free(lim);
    }
    EXPECT_ST(REDISX_ERR_INVALID, redisx_limiter_new(&lim, c, "n", REDISX_RATELIMIT_FIXED_WINDOW, 5, 1000, 7),
              "burst on a window algorithm");
    EXPECT_ST(REDISX_ERR_INVALID,
              redisx_limiter_new(&lim, c, "n", REDISX_RATELIMIT_GCRA, 5, 1000, REDISX_RATELIMIT_LIMIT_MAX + 1LL),
              "burst max+1");
    redisx_client_close(c);
}

Test(badinput_primitives, limiter_calls_reject_bad_keys_costs_and_targets)
{
    redisx_client *c = rt_client();
    redisx_limiter *lim = new_limiter(c, REDISX_RATELIMIT_SLIDING_LOG);
    redisx_ratelimit_result *r = SENTINEL(redisx_ratelimit_result);
    EXPECT_ST(REDISX_ERR_INVALID, redisx_limiter_set_fail_policy(NULL, REDISX_FAIL_OPEN), "policy NULL");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_limiter_set_fail_policy(lim, (redisx_fail_policy)2), "policy 2");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_limiter_check(NULL, lim, "k", 1), "out NULL");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_limiter_check(&r, NULL, "k", 1), "limiter NULL");
    cr_assert_null(r);
    EXPECT_ST(REDISX_ERR_INVALID, redisx_limiter_check(&r, lim, NULL, 1), "key NULL");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_limiter_check(&r, lim, "", 1), "key empty");
    char *longkey = filled(REDISX_RATELIMIT_KEY_MAX + 1, 'k');
    EXPECT_ST(REDISX_ERR_INVALID, redisx_limiter_check(&r, lim, longkey, 1), "long key");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_limiter_peek(&r, lim, longkey), "peek long key");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_limiter_reset(lim, longkey), "reset long key");
    longkey[REDISX_RATELIMIT_KEY_MAX] = '\0';
    EXPECT_OK(redisx_limiter_check(&r, lim, longkey, 1), "longest key");
    redisx_ratelimit_result_free(r);
    free(longkey);
    EXPECT_ST(REDISX_ERR_INVALID, redisx_limiter_check(&r, lim, "k", 0), "cost 0");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_limiter_check(&r, lim, "k", -3), "cost -3");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_limiter_check(&r, lim, "k", 6), "cost above capacity");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_limiter_check(&r, lim, "k", INT64_MAX), "cost max");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_limiter_peek(NULL, lim, "k"), "peek out NULL");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_limiter_peek(&r, NULL, "k"), "peek NULL");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_limiter_reset(NULL, "k"), "reset NULL");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_limiter_reset(lim, ""), "reset empty key");
    /* No callback and no queue: nowhere to complete. */
    EXPECT_ST(REDISX_ERR_INVALID, redisx_limiter_check_async(lim, "k", 1, NULL, NULL), "check_async");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_limiter_peek_async(lim, "k", NULL, NULL), "peek_async");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_limiter_reset_async(lim, "k", NULL, NULL), "reset_async");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_limiter_check_async(NULL, "k", 1, NULL, NULL), "check_async NULL");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_limiter_peek_async(NULL, "k", NULL, NULL), "peek_async NULL");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_limiter_reset_async(NULL, "k", NULL, NULL), "reset_async NULL");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_limiter_check_async(lim, "k", 9, NULL, NULL), "check_async cost");
    redisx_limiter_free(lim);
    redisx_client_close(c);
}

typedef struct nested {
    redisx_limiter *lim;
    atomic_int st;
} nested;

static void blocking_inside(redisx_client *c, redisx_status st, redisx_ratelimit_result *r, void *user)
{
    (void)c;
    (void)st;
    redisx_ratelimit_result_free(r);
    nested *n = user;
    redisx_ratelimit_result *inner = NULL;
    atomic_store(&n->st, redisx_limiter_check(&inner, n->lim, "k", 1));
    redisx_ratelimit_result_free(inner);
}

Test(badinput_primitives, blocking_check_from_a_callback_would_block)
{
    redisx_client *c = rt_client();
    nested n = {new_limiter(c, REDISX_RATELIMIT_GCRA), 1};
    EXPECT_OK(redisx_limiter_check_async(n.lim, "k", 1, blocking_inside, &n), "async");
    for (int i = 0; i < 500 && atomic_load(&n.st) == 1; i++)
        rt_sleep_ms(10);
    cr_assert_eq(atomic_load(&n.st), REDISX_ERR_WOULDBLOCK);
    redisx_limiter_free(n.lim);
    redisx_client_close(c);
}

Test(badinput_primitives, limiters_and_records_of_a_closed_client_answer_closed)
{
    redisx_client *c = rt_client();
    redisx_limiter *lim = new_limiter(c, REDISX_RATELIMIT_FIXED_WINDOW);
    redisx_idem *rec = NULL;
    EXPECT_OK(redisx_idem_begin(&rec, c, "closing", "fp", 2, 10000, 0), "begin");
    redisx_client_close(c); /* the handles keep the client's memory alive */
    redisx_ratelimit_result *r = NULL;
    EXPECT_ST(REDISX_ERR_CLOSED, redisx_limiter_check(&r, lim, "k", 1), "check");
    EXPECT_ST(REDISX_ERR_CLOSED, redisx_limiter_reset(lim, "k"), "reset");
    EXPECT_ST(REDISX_ERR_CLOSED, redisx_idem_complete(rec, "r", 1, NULL, 0, 1000), "complete");
    EXPECT_ST(REDISX_ERR_CLOSED, redisx_idem_fail(rec), "fail");
    cr_assert_eq(redisx_idem_state_of(rec), REDISX_IDEM_NEW, "accessors still work");
    redisx_idem_free(rec);
    redisx_limiter_free(lim);
}

Test(badinput_primitives, idem_begin_rejects_bad_keys_fingerprints_and_times)
{
    redisx_client *c = rt_client();
    redisx_idem *rec = SENTINEL(redisx_idem);
    EXPECT_ST(REDISX_ERR_INVALID, redisx_idem_begin(NULL, c, "k", "f", 1, 1000, 0), "out NULL");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_idem_begin(&rec, NULL, "k", "f", 1, 1000, 0), "client NULL");
    cr_assert_null(rec);
    EXPECT_ST(REDISX_ERR_INVALID, redisx_idem_begin(&rec, c, NULL, "f", 1, 1000, 0), "key NULL");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_idem_begin(&rec, c, "", "f", 1, 1000, 0), "key empty");
    char *longkey = filled(REDISX_IDEM_KEY_MAX + 1, 'k');
    EXPECT_ST(REDISX_ERR_INVALID, redisx_idem_begin(&rec, c, longkey, "f", 1, 1000, 0), "long key");
    free(longkey);
    EXPECT_ST(REDISX_ERR_INVALID, redisx_idem_begin(&rec, c, "k", NULL, 5, 1000, 0), "fingerprint NULL, length 5");
    char *fp = filled(REDISX_IDEM_FINGERPRINT_MAX + 1, 'f');
    EXPECT_ST(REDISX_ERR_INVALID, redisx_idem_begin(&rec, c, "k", fp, REDISX_IDEM_FINGERPRINT_MAX + 1, 1000, 0),
              "long fingerprint");
    EXPECT_OK(redisx_idem_begin(&rec, c, "k", fp, REDISX_IDEM_FINGERPRINT_MAX, 1000, 0), "longest fingerprint");
    redisx_idem_free(rec);
    free(fp);
    EXPECT_ST(REDISX_ERR_INVALID, redisx_idem_begin(&rec, c, "k", "f", 1, 0, 0), "lease 0");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_idem_begin(&rec, c, "k", "f", 1, -1, 0), "lease -1");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_idem_begin(&rec, c, "k", "f", 1, REDISX_IDEM_TTL_MAX_MS + 1, 0), "lease");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_idem_begin(&rec, c, "k", "f", 1, 1000, -1), "wait -1");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_idem_begin(&rec, c, "k", "f", 1, 1000, REDISX_IDEM_TTL_MAX_MS + 1), "wait");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_idem_begin_async(c, "k", "f", 1, 1000, 0, NULL, NULL), "no target");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_idem_begin_async(NULL, "k", "f", 1, 1000, 0, NULL, NULL), "client NULL");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_idem_begin_async(c, "", "f", 1, 1000, 0, NULL, NULL), "key empty");
    redisx_client_close(c);
}

Test(badinput_primitives, idem_complete_and_fail_reject_bad_records_values_and_ttls)
{
    redisx_client *c = rt_client();
    redisx_idem *rec = NULL;
    EXPECT_OK(redisx_idem_begin(&rec, c, "values", "fp", 2, 10000, 0), "begin");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_idem_complete(NULL, "r", 1, NULL, 0, 1000), "record NULL");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_idem_complete(rec, NULL, 3, NULL, 0, 1000), "response NULL, length 3");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_idem_complete(rec, "r", 1, NULL, 3, 1000), "metadata NULL, length 3");
    /* Rejected on the length alone: the bytes are never read. */
    EXPECT_ST(REDISX_ERR_INVALID, redisx_idem_complete(rec, "r", (size_t)REDISX_IDEM_VALUE_MAX + 1, NULL, 0, 1000),
              "response too long");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_idem_complete(rec, "r", 1, "m", (size_t)REDISX_IDEM_VALUE_MAX + 1, 1000),
              "metadata too long");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_idem_complete(rec, "r", 1, NULL, 0, 0), "ttl 0");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_idem_complete(rec, "r", 1, NULL, 0, REDISX_IDEM_TTL_MAX_MS + 1), "ttl");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_idem_complete_async(rec, "r", 1, NULL, 0, 1000, NULL, NULL), "no target");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_idem_complete_async(NULL, "r", 1, NULL, 0, 1000, NULL, NULL), "NULL");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_idem_fail(NULL), "fail NULL");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_idem_fail_async(NULL, NULL, NULL), "fail_async NULL");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_idem_fail_async(rec, NULL, NULL), "fail_async no target");
    EXPECT_OK(redisx_idem_complete(rec, NULL, 0, NULL, 0, 1000), "empty response and metadata");
    redisx_idem_free(rec);
    redisx_client_close(c);
}
