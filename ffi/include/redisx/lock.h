/* redisx — distributed locks: token-owned leases with fencing tokens.
 *
 * Keys (the interop contract, see docs/KEYS.md):
 *   {prefix}:lock:{<tag>}        the lease: "<fencing>:<random hex>", PX ttl
 *   {prefix}:lock:{<tag>}:fence  the last fencing token, kept as long as its lease
 * Both keys share the hash tag {<tag>} (the name, encoded as in
 * docs/KEYS.md), so every script runs on one Redis Cluster slot.
 *
 * The fencing token is strictly increasing per lock name across all holders
 * in every language: hand it to the resource you protect and have it reject
 * writes carrying an older token. A lease can expire while its holder still
 * runs (GC pause, partition): the fencing token, not the lock, is what keeps
 * the data safe. Tokens are max(last + 1, the server's clock in µs): they
 * survive a restart without persistence as long as the server's clock does
 * not go backwards (docs/KEYS.md). Default fail policy: REDISX_FAIL_CLOSED. */
#ifndef REDISX_LOCK_H
#define REDISX_LOCK_H

#include "redisx/client.h"
#include "redisx/common.h"
#include "redisx/errors.h"

REDISX_BEGIN_DECLS

/* redisx_lock and redisx_lock_info are declared in redisx/queue.h. */

/** Longest lock name, in bytes. */
#define REDISX_LOCK_NAME_MAX 1024
/** Longest lease, in milliseconds (one day). */
#define REDISX_LOCK_TTL_MAX_MS 86400000

/** Completion of an acquire: on REDISX_OK `lock` belongs to the callee (free
 *  it with redisx_lock_free()); otherwise it is NULL. */
typedef void (*redisx_lock_cb)(redisx_client *client, redisx_status status, redisx_lock *lock, void *user);
/** Completion of an inspect; `info` is borrowed for the call (NULL on error). */
typedef void (*redisx_lock_info_cb)(redisx_client *client, redisx_status status, const redisx_lock_info *info,
                                    void *user);
/** Automatic renewal found the lock gone (expired or deleted) or could not
 *  renew it before the lease ran out. Runs on the I/O thread; `lock` is
 *  borrowed for the call. No renewal follows. */
typedef void (*redisx_lock_lost_cb)(redisx_client *client, const redisx_lock *lock, void *user);

/** Acquires lock `name` (NUL-terminated, 1..REDISX_LOCK_NAME_MAX bytes) for
 *  `ttl_ms` (1..REDISX_LOCK_TTL_MAX_MS). wait_ms = 0 makes one attempt;
 *  wait_ms > 0 waits until that much time has passed: woken when the holder
 *  releases (pub/sub on the client's subscriber connection), and retrying
 *  with jittered exponential backoff (1 ms doubling to 100 ms, never past the
 *  holder's remaining lease) for leases that expire. Not fair.
 *  REDISX_ERR_LOCKED when the lock stayed held; connection errors per the
 *  fail policy. On success `*out` holds the owner and fencing tokens. */
REDISX_API redisx_status redisx_lock_acquire(redisx_lock **out, redisx_client *client, const char *name,
                                             int64_t ttl_ms, int64_t wait_ms);
/** One attempt: redisx_lock_acquire(out, client, name, ttl_ms, 0). */
REDISX_API redisx_status redisx_lock_try_acquire(redisx_lock **out, redisx_client *client, const char *name,
                                                 int64_t ttl_ms);
REDISX_API redisx_status redisx_lock_acquire_async(redisx_client *client, const char *name, int64_t ttl_ms,
                                                   int64_t wait_ms, redisx_lock_cb cb, void *user);

/** Releases the lease if this handle still owns it (Lua compare of the owner
 *  token), and stops automatic renewal. REDISX_ERR_NOT_OWNER when the lease
 *  expired or someone else holds it now. The handle stays valid: free it. */
REDISX_API redisx_status redisx_lock_release(redisx_lock *lock);
REDISX_API redisx_status redisx_lock_release_async(redisx_lock *lock, redisx_status_cb cb, void *user);

/** Sets the remaining lease to `ttl_ms` if this handle still owns it;
 *  REDISX_ERR_NOT_OWNER otherwise. */
REDISX_API redisx_status redisx_lock_extend(redisx_lock *lock, int64_t ttl_ms);
REDISX_API redisx_status redisx_lock_extend_async(redisx_lock *lock, int64_t ttl_ms, redisx_status_cb cb,
                                                  void *user);

/** Starts automatic renewal: every ttl/3 the client's I/O thread extends the
 *  lease to its full ttl. If a renewal finds the lock gone, or renewals fail
 *  until the lease must have run out, `on_lost` runs once (NULL: a
 *  REDISX_ITEM_LOCK_LOST item goes to the queue when REDISX_QUEUE_LOCK_LOST
 *  is attached, with `user`) and renewal stops. Release, free and client close
 *  stop it; no renewal is sent after a release. */
REDISX_API redisx_status redisx_lock_start_renewal(redisx_lock *lock, redisx_lock_lost_cb on_lost, void *user);

/** Frees the handle. Does NOT release the lease (it expires on its own); stops
 *  automatic renewal. NULL is a no-op. */
REDISX_API void redisx_lock_free(redisx_lock *lock);

/** Lock name (borrowed). */
REDISX_API const char *redisx_lock_name(const redisx_lock *lock);
/** Owner token "<fencing>:<32 hex>" (borrowed); "" for a fail-open lock. */
REDISX_API const char *redisx_lock_token(const redisx_lock *lock);
/** Fencing token: > 0 and strictly increasing per name (about 1.8e15: the
 *  server's time in µs, or the last token + 1); 0 for a fail-open lock. */
REDISX_API int64_t redisx_lock_fencing_token(const redisx_lock *lock);
/** Lease length used at acquire/extend, in ms. */
REDISX_API int64_t redisx_lock_ttl_ms(const redisx_lock *lock);
/** 1 when the lock was granted by the fail-open policy without Redis: it
 *  excludes nobody. */
REDISX_API int redisx_lock_is_fail_open(const redisx_lock *lock);
/** 1 when automatic renewal found the lock lost. */
REDISX_API int redisx_lock_is_lost(const redisx_lock *lock);

/** Who holds lock `name` right now: fills `*out` (free with
 *  redisx_lock_info_free()). */
REDISX_API redisx_status redisx_lock_inspect(redisx_lock_info **out, redisx_client *client, const char *name);
REDISX_API redisx_status redisx_lock_inspect_async(redisx_client *client, const char *name, redisx_lock_info_cb cb,
                                                   void *user);
REDISX_API void redisx_lock_info_free(redisx_lock_info *info);
/** 1 when the lock is held. */
REDISX_API int redisx_lock_info_locked(const redisx_lock_info *info);
/** Fencing token of the current holder (0 when free). */
REDISX_API int64_t redisx_lock_info_fencing_token(const redisx_lock_info *info);
/** Remaining lease of the current holder in ms (0 when free). */
REDISX_API int64_t redisx_lock_info_ttl_ms(const redisx_lock_info *info);
/** Newest fencing token the server still remembers for the name: the
 *  holder's, or one issued within the original lease of its acquire; 0 when
 *  it remembers none (never locked, or long enough ago). */
REDISX_API int64_t redisx_lock_info_last_fencing_token(const redisx_lock_info *info);

REDISX_END_DECLS

#endif
