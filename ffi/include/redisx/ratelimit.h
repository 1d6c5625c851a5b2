/* redisx — rate limiting: fixed window, sliding window log, sliding window
 * counter, token bucket and GCRA.
 *
 * Every check is one Lua script and one round trip (core/scripts/rl_*.lua);
 * the time is the Redis server's (TIME inside the script), never the
 * client's, so processes with skewed clocks share one budget. Keys (the
 * interop contract, see docs/KEYS.md):
 *   {prefix}:rl:<limiter name>:{<key>}:<algorithm tag>
 * all in one hash tag, so every script runs on one Redis Cluster slot.
 * Limiters with the same name, algorithm and parameters in any process (and
 * any language) share one budget per key.
 *
 * Default fail policy: REDISX_FAIL_OPEN (when Redis cannot be reached a check
 * is allowed, and the result and the event say so); choose per client with
 * redisx_options_set_fail_policy(opts, REDISX_PRIMITIVE_RATELIMIT, ...) or
 * per limiter with redisx_limiter_set_fail_policy(). */
#ifndef REDISX_RATELIMIT_H
#define REDISX_RATELIMIT_H

#include "redisx/client.h"
#include "redisx/common.h"
#include "redisx/errors.h"

REDISX_BEGIN_DECLS

/* redisx_limiter and redisx_ratelimit_result are declared in redisx/queue.h. */

/** The algorithms; the numbers never change. */
typedef enum redisx_ratelimit_algorithm {
    /** `limit` per window of `period_ms`, windows aligned to the Unix epoch.
     *  Cheap; allows up to 2*limit around a window boundary. */
    REDISX_RATELIMIT_FIXED_WINDOW = 0,
    /** Exact: at most `limit` in any `period_ms`, one sorted-set entry per
     *  unit of cost (memory grows with the limit). */
    REDISX_RATELIMIT_SLIDING_LOG = 1,
    /** Two fixed windows, the previous one weighted by how much of it still
     *  overlaps the sliding window: close to exact, constant memory. */
    REDISX_RATELIMIT_SLIDING_WINDOW = 2,
    /** A bucket of `burst` tokens refilled at `limit` per `period_ms`. */
    REDISX_RATELIMIT_TOKEN_BUCKET = 3,
    /** Generic cell rate algorithm: the token bucket's behaviour stored as one
     *  timestamp (theoretical arrival time). */
    REDISX_RATELIMIT_GCRA = 4
} redisx_ratelimit_algorithm;

/** Longest limiter name and key, in bytes. */
#define REDISX_LIMITER_NAME_MAX 256
#define REDISX_RATELIMIT_KEY_MAX 1024
/** Largest `limit` and `burst` (sliding log: REDISX_RATELIMIT_LOG_LIMIT_MAX,
 *  as it stores one entry per unit). */
#define REDISX_RATELIMIT_LIMIT_MAX 1000000000
#define REDISX_RATELIMIT_LOG_LIMIT_MAX 100000
/** Longest period, in ms (366 days). */
#define REDISX_RATELIMIT_PERIOD_MAX_MS 31622400000LL
/** Token bucket and GCRA: longest time to refill a whole burst,
 *  burst * period_ms / limit, in ms (100 x 366 days). Beyond it the scripts'
 *  expiries and times would leave the exact range of Lua's doubles. */
#define REDISX_RATELIMIT_REFILL_MAX_MS 3162240000000LL

/** Completion of a check or peek: on REDISX_OK `result` belongs to the callee
 *  (free it with redisx_ratelimit_result_free()); otherwise it is NULL. Runs
 *  on the client's I/O thread. */
typedef void (*redisx_ratelimit_cb)(redisx_client *client, redisx_status status, redisx_ratelimit_result *result,
                                    void *user);

/** A limiter definition bound to `client`: `name` (1..REDISX_LIMITER_NAME_MAX
 *  bytes) namespaces its keys; `limit` units per `period_ms`
 *  (1..REDISX_RATELIMIT_PERIOD_MAX_MS). `burst` is the bucket size of the
 *  token bucket and GCRA (0 means `limit`); the window algorithms take 0 or
 *  `limit` only; for those two, burst * period_ms / limit (the time to refill
 *  a whole burst) is at most REDISX_RATELIMIT_REFILL_MAX_MS.
 *  REDISX_ERR_INVALID names the offending parameter or bound. The
 *  limiter holds a reference to the client's memory, but calls fail with
 *  REDISX_ERR_CLOSED once the client is closed. Thread-safe. */
REDISX_API redisx_status redisx_limiter_new(redisx_limiter **out, redisx_client *client, const char *name,
                                            redisx_ratelimit_algorithm algorithm, int64_t limit, int64_t period_ms,
                                            int64_t burst);
/** Frees the limiter; NULL is a no-op. Checks in flight complete normally. */
REDISX_API void redisx_limiter_free(redisx_limiter *limiter);
/** Overrides the client's fail policy for this limiter. */
REDISX_API redisx_status redisx_limiter_set_fail_policy(redisx_limiter *limiter, redisx_fail_policy policy);
/** Most units a key can spend at once: `limit` for the window algorithms,
 *  `burst` for token bucket and GCRA. Larger costs are rejected. */
REDISX_API int64_t redisx_limiter_capacity(const redisx_limiter *limiter);

/** Spends `cost` units (1..capacity) of `key`'s budget if they are all
 *  available; a denied check spends nothing. REDISX_OK whether allowed or
 *  denied: read redisx_ratelimit_result_allowed(). A cost above the capacity
 *  is REDISX_ERR_INVALID (it could never be allowed). Connection errors follow
 *  the fail policy. `*out` is freed with redisx_ratelimit_result_free(). */
REDISX_API redisx_status redisx_limiter_check(redisx_ratelimit_result **out, redisx_limiter *limiter,
                                              const char *key, int64_t cost);
REDISX_API redisx_status redisx_limiter_check_async(redisx_limiter *limiter, const char *key, int64_t cost,
                                                    redisx_ratelimit_cb cb, void *user);
/** What a check of cost 1 would answer now, spending nothing. */
REDISX_API redisx_status redisx_limiter_peek(redisx_ratelimit_result **out, redisx_limiter *limiter,
                                             const char *key);
REDISX_API redisx_status redisx_limiter_peek_async(redisx_limiter *limiter, const char *key, redisx_ratelimit_cb cb,
                                                   void *user);
/** Forgets `key`'s state: its full budget is available again. */
REDISX_API redisx_status redisx_limiter_reset(redisx_limiter *limiter, const char *key);
REDISX_API redisx_status redisx_limiter_reset_async(redisx_limiter *limiter, const char *key, redisx_status_cb cb,
                                                    void *user);

/** Frees a result; NULL is a no-op. */
REDISX_API void redisx_ratelimit_result_free(redisx_ratelimit_result *result);
/** 1 when the check was allowed (and its cost spent). */
REDISX_API int redisx_ratelimit_result_allowed(const redisx_ratelimit_result *result);
/** The limiter's capacity (X-RateLimit-Limit). */
REDISX_API int64_t redisx_ratelimit_result_limit(const redisx_ratelimit_result *result);
/** Units still available after this check (X-RateLimit-Remaining), >= 0. */
REDISX_API int64_t redisx_ratelimit_result_remaining(const redisx_ratelimit_result *result);
/** Milliseconds until the key's budget is whole again (X-RateLimit-Reset,
 *  rounded up to seconds there); 0 when it is whole now. */
REDISX_API int64_t redisx_ratelimit_result_reset_ms(const redisx_ratelimit_result *result);
/** When denied: milliseconds until the same cost can be allowed
 *  (Retry-After). -1 when allowed. */
REDISX_API int64_t redisx_ratelimit_result_retry_after_ms(const redisx_ratelimit_result *result);
/** 1 when Redis could not be reached or did not answer in time and the
 *  fail-open policy allowed the check; remaining is then `limit`, reset 0.
 *  A check that timed out may or may not have been counted by the server. */
REDISX_API int redisx_ratelimit_result_fail_open(const redisx_ratelimit_result *result);

REDISX_END_DECLS

#endif
