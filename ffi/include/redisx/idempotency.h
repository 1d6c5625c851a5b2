/* redisx — idempotency records: run a piece of work once per key, replay its
 * stored response to duplicates.
 *
 *   begin(key, fingerprint) → NEW          the caller runs the work, then
 *                                          complete()s or fail()s the record
 *                           → IN_PROGRESS  another caller is running it
 *                           → COMPLETED    the stored response and metadata
 *                           → MISMATCH     the key was used with another
 *                                          fingerprint (another request body)
 *
 * One record is one Redis hash, {prefix}:idem:{<key>}, written only by Lua
 * scripts (core/scripts/idem_*.lua; see docs/KEYS.md). An in-progress record
 * holds a lease of `in_progress_ttl_ms`: once it has passed (the worker
 * crashed or hangs), the next begin takes the record over (NEW, with
 * redisx_idem_taken_over() = 1) and the stale worker can no longer complete
 * it. The record itself stays for twice the lease so a takeover can be told
 * apart from a first attempt. Completion and failure PUBLISH on the record's
 * key, which wakes waiting begins.
 *
 * Idempotency narrows duplicates, it does not make work exactly-once: a lease
 * that runs out while the first worker still runs lets a second one start.
 * Keep a database constraint behind it. Default fail policy:
 * REDISX_FAIL_CLOSED (REDISX_PRIMITIVE_IDEMPOTENCY); with FAIL_OPEN an
 * unreachable Redis answers NEW with redisx_idem_is_fail_open() = 1. */
#ifndef REDISX_IDEMPOTENCY_H
#define REDISX_IDEMPOTENCY_H

#include "redisx/client.h"
#include "redisx/common.h"
#include "redisx/errors.h"

REDISX_BEGIN_DECLS

/* redisx_idem is declared in redisx/queue.h. */

/** What begin found; the numbers never change. */
typedef enum redisx_idem_state {
    REDISX_IDEM_NEW = 0,
    REDISX_IDEM_IN_PROGRESS = 1,
    REDISX_IDEM_COMPLETED = 2,
    REDISX_IDEM_MISMATCH = 3
} redisx_idem_state;

/** Longest key and fingerprint, in bytes. */
#define REDISX_IDEM_KEY_MAX 1024
#define REDISX_IDEM_FINGERPRINT_MAX 65536
/** Largest response and metadata, in bytes each (below Redis' default
 *  proto-max-bulk-len of 512 MiB). */
#define REDISX_IDEM_VALUE_MAX 536870000
/** Longest in-progress lease and completed-record TTL, in ms (30 days). */
#define REDISX_IDEM_TTL_MAX_MS 2592000000LL

/** Completion of a begin: on REDISX_OK `record` belongs to the callee (free it
 *  with redisx_idem_free()); otherwise it is NULL. Runs on the client's I/O
 *  thread. */
typedef void (*redisx_idem_cb)(redisx_client *client, redisx_status status, redisx_idem *record, void *user);

/** Looks up or creates the record of `key` (1..REDISX_IDEM_KEY_MAX bytes).
 *  `fingerprint` (0..REDISX_IDEM_FINGERPRINT_MAX bytes, binary; NULL with
 *  length 0 for none) identifies the request: a stored record with another
 *  fingerprint answers MISMATCH. A new record is leased for
 *  `in_progress_ttl_ms` (1..REDISX_IDEM_TTL_MAX_MS). With wait_ms > 0 an
 *  IN_PROGRESS record is waited on (woken by the completion's PUBLISH, with a
 *  poll as fallback) until it completes (COMPLETED), fails or its lease
 *  passes (NEW), or wait_ms has passed (IN_PROGRESS). REDISX_OK for every
 *  state; `*out` is freed with redisx_idem_free(). */
REDISX_API redisx_status redisx_idem_begin(redisx_idem **out, redisx_client *client, const char *key,
                                           const void *fingerprint, size_t fingerprint_len,
                                           int64_t in_progress_ttl_ms, int64_t wait_ms);
REDISX_API redisx_status redisx_idem_begin_async(redisx_client *client, const char *key, const void *fingerprint,
                                                 size_t fingerprint_len, int64_t in_progress_ttl_ms, int64_t wait_ms,
                                                 redisx_idem_cb cb, void *user);

/** Stores the outcome of the work of a NEW record: `response` and `metadata`
 *  (binary, 0..REDISX_IDEM_VALUE_MAX bytes each; e.g. a body and a status
 *  line) kept for `ttl_ms` (1..REDISX_IDEM_TTL_MAX_MS), and wakes waiters.
 *  REDISX_ERR_NOT_OWNER when the record was taken over or is gone;
 *  REDISX_ERR_INVALID for a record that is not NEW. */
REDISX_API redisx_status redisx_idem_complete(redisx_idem *record, const void *response, size_t response_len,
                                              const void *metadata, size_t metadata_len, int64_t ttl_ms);
REDISX_API redisx_status redisx_idem_complete_async(redisx_idem *record, const void *response, size_t response_len,
                                                    const void *metadata, size_t metadata_len, int64_t ttl_ms,
                                                    redisx_status_cb cb, void *user);
/** Deletes the in-progress record of a NEW record so that a retry runs the
 *  work again, and wakes waiters. REDISX_ERR_NOT_OWNER when it was taken over
 *  or is gone. */
REDISX_API redisx_status redisx_idem_fail(redisx_idem *record);
REDISX_API redisx_status redisx_idem_fail_async(redisx_idem *record, redisx_status_cb cb, void *user);

/** Frees the handle; NULL is a no-op. Does not complete or fail the record:
 *  an abandoned NEW record stays in progress until its lease passes. */
REDISX_API void redisx_idem_free(redisx_idem *record);
REDISX_API redisx_idem_state redisx_idem_state_of(const redisx_idem *record);
/** The key (borrowed). */
REDISX_API const char *redisx_idem_key(const redisx_idem *record);
/** COMPLETED: the stored response (borrowed, binary, `*len` bytes; "" with 0
 *  otherwise). */
REDISX_API const char *redisx_idem_response(const redisx_idem *record, size_t *len);
/** COMPLETED: the stored metadata (borrowed, binary; "" with 0 otherwise). */
REDISX_API const char *redisx_idem_metadata(const redisx_idem *record, size_t *len);
/** Milliseconds the record will still live: the lease left for IN_PROGRESS
 *  (a Retry-After hint), the TTL left for COMPLETED and MISMATCH, the lease
 *  granted for NEW. */
REDISX_API int64_t redisx_idem_remaining_ms(const redisx_idem *record);
/** 1 for a NEW record that took over a stale in-progress one (an earlier
 *  attempt may have done part of the work). */
REDISX_API int redisx_idem_taken_over(const redisx_idem *record);
/** 1 for a NEW record granted by the fail-open policy without Redis: nothing
 *  protects against duplicates; complete and fail do nothing. */
REDISX_API int redisx_idem_is_fail_open(const redisx_idem *record);

REDISX_END_DECLS

#endif
