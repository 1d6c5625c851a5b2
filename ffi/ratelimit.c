/* Exported: rate limiting. Argument checks here, behaviour in core/ratelimit.c. */
#include <stdlib.h>

#include "ffi.h"

static redisx_status check_limiter(const redisx_limiter *lim, int blocking)
{
    REDISX_FFI_REQUIRE(lim != NULL, "limiter is NULL");
    return redisx__ffi_client(redisx__limiter_client(lim), blocking);
}

static redisx_status check_key(const char *key)
{
    return redisx__ffi_name(key, REDISX_RATELIMIT_KEY_MAX, "rate limit key");
}

redisx_status redisx_limiter_new(redisx_limiter **out, redisx_client *client, const char *name,
                                 redisx_ratelimit_algorithm algorithm, int64_t limit, int64_t period_ms,
                                 int64_t burst)
{
    REDISX_FFI_REQUIRE(out != NULL, "out is NULL");
    *out = NULL;
    redisx_status st = redisx__ffi_client(client, 0);
    if (st == REDISX_OK)
        st = redisx__ffi_name(name, REDISX_LIMITER_NAME_MAX, "limiter name");
    if (st != REDISX_OK)
        return st;
    /* Braces would move the hash tag and let two (name, key) pairs share keys. */
    REDISX_FFI_REQUIRE(!strchr(name, '{') && !strchr(name, '}'), "limiter name must not contain '{' or '}'");
    REDISX_FFI_REQUIRE(algorithm >= REDISX_RATELIMIT_FIXED_WINDOW && algorithm <= REDISX_RATELIMIT_GCRA,
                       "unknown rate limit algorithm %d", (int)algorithm);
    int64_t max = algorithm == REDISX_RATELIMIT_SLIDING_LOG ? REDISX_RATELIMIT_LOG_LIMIT_MAX
                                                            : REDISX_RATELIMIT_LIMIT_MAX;
    REDISX_FFI_REQUIRE(limit >= 1 && limit <= max, "limit must be in 1..%lld, got %lld", (long long)max,
                       (long long)limit);
    REDISX_FFI_REQUIRE(period_ms >= 1 && period_ms <= REDISX_RATELIMIT_PERIOD_MAX_MS,
                       "period must be in 1..%lld ms, got %lld", (long long)REDISX_RATELIMIT_PERIOD_MAX_MS,
                       (long long)period_ms);
    if (algorithm == REDISX_RATELIMIT_TOKEN_BUCKET || algorithm == REDISX_RATELIMIT_GCRA)
        REDISX_FFI_REQUIRE(burst >= 0 && burst <= REDISX_RATELIMIT_LIMIT_MAX, "burst must be in 0..%d, got %lld",
                           REDISX_RATELIMIT_LIMIT_MAX, (long long)burst);
    if (algorithm == REDISX_RATELIMIT_TOKEN_BUCKET || algorithm == REDISX_RATELIMIT_GCRA) {
        /* Every expiry and time the scripts compute stays below this bound,
         * far inside the integers a double holds exactly (2^53 us). */
        int64_t b = burst ? burst : limit;
        REDISX_FFI_REQUIRE((__int128)b * period_ms <= (__int128)REDISX_RATELIMIT_REFILL_MAX_MS * limit,
                           "burst * period / limit (the time to refill a whole burst) must be at most %lld ms, got "
                           "burst %lld, period %lld ms, limit %lld",
                           (long long)REDISX_RATELIMIT_REFILL_MAX_MS, (long long)b, (long long)period_ms,
                           (long long)limit);
    } else
        REDISX_FFI_REQUIRE(burst == 0 || burst == limit,
                           "burst applies to token_bucket and gcra only: pass 0 (or the limit), got %lld",
                           (long long)burst);
    return redisx__limiter_new(out, client, name, algorithm, limit, period_ms, burst);
}

void redisx_limiter_free(redisx_limiter *limiter)
{
    if (limiter)
        redisx__limiter_free(limiter);
}

redisx_status redisx_limiter_set_fail_policy(redisx_limiter *limiter, redisx_fail_policy policy)
{
    REDISX_FFI_REQUIRE(limiter != NULL, "limiter is NULL");
    REDISX_FFI_REQUIRE(policy == REDISX_FAIL_OPEN || policy == REDISX_FAIL_CLOSED, "unknown fail policy %d",
                       (int)policy);
    redisx__limiter_set_fail_policy(limiter, policy);
    return REDISX_OK;
}

int64_t redisx_limiter_capacity(const redisx_limiter *limiter)
{
    return limiter ? redisx__limiter_capacity(limiter) : 0;
}

static redisx_status check_args(redisx_limiter *lim, const char *key, int64_t cost, int blocking)
{
    redisx_status st = check_limiter(lim, blocking);
    if (st == REDISX_OK)
        st = check_key(key);
    if (st != REDISX_OK)
        return st;
    int64_t cap = redisx__limiter_capacity(lim);
    REDISX_FFI_REQUIRE(cost >= 1, "cost must be at least 1, got %lld", (long long)cost);
    REDISX_FFI_REQUIRE(cost <= cap, "cost %lld exceeds the limiter's capacity %lld: it could never be allowed",
                       (long long)cost, (long long)cap);
    return REDISX_OK;
}

static redisx_status submit(redisx_limiter *lim, const char *key, int64_t cost, int peek, redisx_ratelimit_cb cb,
                            void *user)
{
    redisx_status st = check_args(lim, key, cost, 0);
    if (st == REDISX_OK)
        st = redisx__check_async_target(redisx__limiter_client(lim), cb != NULL);
    if (st != REDISX_OK)
        return st;
    return redisx__limiter_check_async(lim, key, cost, peek, cb, user);
}

redisx_status redisx_limiter_check_async(redisx_limiter *limiter, const char *key, int64_t cost,
                                         redisx_ratelimit_cb cb, void *user)
{
    return submit(limiter, key, cost, 0, cb, user);
}

redisx_status redisx_limiter_peek_async(redisx_limiter *limiter, const char *key, redisx_ratelimit_cb cb,
                                        void *user)
{
    return submit(limiter, key, 1, 1, cb, user);
}

static void result_wake(redisx_client *c, redisx_status st, redisx_ratelimit_result *res, void *user)
{
    (void)c;
    redisx__waiter_signal(user, st, res);
}

static redisx_status run(redisx_ratelimit_result **out, redisx_limiter *lim, const char *key, int64_t cost,
                         int peek)
{
    REDISX_FFI_REQUIRE(out != NULL, "out is NULL");
    *out = NULL;
    redisx_status st = check_args(lim, key, cost, 1);
    if (st != REDISX_OK)
        return st;
    redisx__waiter w;
    redisx__waiter_init(&w);
    st = redisx__limiter_check_async(lim, key, cost, peek, result_wake, &w);
    if (st != REDISX_OK)
        return redisx__waiter_drop(&w, st);
    st = redisx__waiter_wait(&w);
    *out = w.result;
    return st;
}

redisx_status redisx_limiter_check(redisx_ratelimit_result **out, redisx_limiter *limiter, const char *key,
                                   int64_t cost)
{
    return run(out, limiter, key, cost, 0);
}

redisx_status redisx_limiter_peek(redisx_ratelimit_result **out, redisx_limiter *limiter, const char *key)
{
    return run(out, limiter, key, 1, 1);
}

redisx_status redisx_limiter_reset_async(redisx_limiter *limiter, const char *key, redisx_status_cb cb, void *user)
{
    redisx_status st = check_limiter(limiter, 0);
    if (st == REDISX_OK)
        st = check_key(key);
    if (st == REDISX_OK)
        st = redisx__check_async_target(redisx__limiter_client(limiter), cb != NULL);
    if (st != REDISX_OK)
        return st;
    return redisx__limiter_reset_async(limiter, key, cb, user);
}

redisx_status redisx_limiter_reset(redisx_limiter *limiter, const char *key)
{
    redisx_status st = check_limiter(limiter, 1);
    if (st == REDISX_OK)
        st = check_key(key);
    if (st != REDISX_OK)
        return st;
    redisx__waiter w;
    redisx__waiter_init(&w);
    st = redisx__limiter_reset_async(limiter, key, redisx__ffi_status_wake, &w);
    return st == REDISX_OK ? redisx__waiter_wait(&w) : redisx__waiter_drop(&w, st);
}

void redisx_ratelimit_result_free(redisx_ratelimit_result *result)
{
    free(result);
}

int redisx_ratelimit_result_allowed(const redisx_ratelimit_result *result)
{
    return result ? result->allowed : 0;
}

int64_t redisx_ratelimit_result_limit(const redisx_ratelimit_result *result)
{
    return result ? result->limit : 0;
}

int64_t redisx_ratelimit_result_remaining(const redisx_ratelimit_result *result)
{
    return result ? result->remaining : 0;
}

int64_t redisx_ratelimit_result_reset_ms(const redisx_ratelimit_result *result)
{
    return result ? result->reset_ms : 0;
}

int64_t redisx_ratelimit_result_retry_after_ms(const redisx_ratelimit_result *result)
{
    return result ? result->retry_after_ms : -1;
}

int redisx_ratelimit_result_fail_open(const redisx_ratelimit_result *result)
{
    return result ? result->fail_open : 0;
}
