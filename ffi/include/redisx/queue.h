/* redisx — a pollable queue of completions and notifications.
 *
 * SWIG cannot turn a C function pointer into a Python, JS or Go function, so
 * everything a callback can deliver can also be read from a queue whose file
 * descriptor is readable while the queue is not empty: asyncio's add_reader,
 * a libuv poll handle, or a goroutine blocked in redisx_queue_pop() drain it.
 * Attach a queue with redisx_options_set_queue(); an asynchronous call made
 * with a NULL callback then completes into it. */
#ifndef REDISX_QUEUE_H
#define REDISX_QUEUE_H

#include "redisx/common.h"
#include "redisx/errors.h"
#include "redisx/observe.h"

REDISX_BEGIN_DECLS

/** What a queue receives besides completions (mask for
 *  redisx_options_set_queue()). */
#define REDISX_QUEUE_EVENTS 0x1u
#define REDISX_QUEUE_LOGS 0x2u
#define REDISX_QUEUE_STATES 0x4u
#define REDISX_QUEUE_LOCK_LOST 0x8u

typedef enum redisx_item_kind {
    REDISX_ITEM_COMPLETION = 0, /* an asynchronous call finished */
    REDISX_ITEM_EVENT = 1,      /* an operation event (redisx_item_event) */
    REDISX_ITEM_LOG = 2,        /* a log line (redisx_item_message, _log_level) */
    REDISX_ITEM_STATE = 3,      /* a connection state change (_state, _message) */
    REDISX_ITEM_LOCK_LOST = 4   /* automatic renewal found a lock gone */
} redisx_item_kind;

/** One entry of the queue, owned by whoever popped it. */
typedef struct redisx_item redisx_item;
typedef struct redisx_lock redisx_lock;
typedef struct redisx_lock_info redisx_lock_info;
typedef struct redisx_reply redisx_reply;
/* since 0.2 */
typedef struct redisx_limiter redisx_limiter;
typedef struct redisx_ratelimit_result redisx_ratelimit_result;
typedef struct redisx_idem redisx_idem;
/* since 0.5 */
typedef struct redisx_cache redisx_cache;
typedef struct redisx_cache_entry redisx_cache_entry;

/** New empty queue (refcounted: clients hold their own reference). */
REDISX_API redisx_status redisx_queue_new(redisx_queue **out);
/** Drops the caller's reference; NULL is a no-op. */
REDISX_API void redisx_queue_free(redisx_queue *queue);
/** File descriptor that is readable while the queue holds items. Only poll it;
 *  never read, write or close it. */
REDISX_API int redisx_queue_fd(const redisx_queue *queue);
/** Pops the oldest item. timeout_ms: 0 returns at once, -1 waits without
 *  limit. REDISX_ERR_EMPTY when nothing arrived in time, REDISX_ERR_CLOSED once
 *  the queue is empty after redisx_queue_shutdown(). Thread-safe. */
REDISX_API redisx_status redisx_queue_pop(redisx_item **out, redisx_queue *queue, int timeout_ms);
/** Wakes every waiter of redisx_queue_pop() and makes later pops on an empty
 *  queue return REDISX_ERR_CLOSED (items still queued can be popped). */
REDISX_API void redisx_queue_shutdown(redisx_queue *queue);
/** Number of items waiting. */
REDISX_API size_t redisx_queue_size(const redisx_queue *queue);

/** Frees an item and whatever it still owns; NULL is a no-op. */
REDISX_API void redisx_item_free(redisx_item *item);
REDISX_API redisx_item_kind redisx_item_kind_of(const redisx_item *item);
/** The user pointer of the call (completions, lock-lost) or of the callback
 *  registration. */
REDISX_API void *redisx_item_user(const redisx_item *item);
/** Status of a completion (REDISX_OK for notifications). */
REDISX_API redisx_status redisx_item_status(const redisx_item *item);
/** Error detail of a completion, a log line, or a state detail; never NULL. */
REDISX_API const char *redisx_item_message(const redisx_item *item);
/** Log level of a REDISX_ITEM_LOG. */
REDISX_API redisx_log_level redisx_item_log_level(const redisx_item *item);
/** State and connection index of a REDISX_ITEM_STATE. */
REDISX_API redisx_conn_state redisx_item_state(const redisx_item *item);
REDISX_API int redisx_item_connection(const redisx_item *item);
/** The node of a REDISX_ITEM_STATE (as redisx_state_node(): "host:port"
 *  when the change happened), NULL when it had none or for other kinds;
 *  borrowed from the item. Since 0.6. */
REDISX_API const char *redisx_item_node(const redisx_item *item);
/** The event of a REDISX_ITEM_EVENT; borrowed from the item. */
REDISX_API const redisx_event *redisx_item_event(const redisx_item *item);
/** Moves the lock out of an acquire completion (the caller then owns it and
 *  frees it with redisx_lock_free()); NULL when there is none or it was taken. */
REDISX_API redisx_lock *redisx_item_take_lock(redisx_item *item);
/** The lock of a REDISX_ITEM_LOCK_LOST, borrowed from the item. */
REDISX_API const redisx_lock *redisx_item_lock(const redisx_item *item);
/** The result of an inspect completion, borrowed from the item. */
REDISX_API const redisx_lock_info *redisx_item_lock_info(const redisx_item *item);
/** Moves the reply out of a command completion (free with
 *  redisx_reply_free()); NULL when there is none or it was taken. */
REDISX_API redisx_reply *redisx_item_take_reply(redisx_item *item);
/** Moves the result out of a rate-limit check or peek completion (free with
 *  redisx_ratelimit_result_free()); NULL when there is none or it was taken.
 *  Since 0.2. */
REDISX_API redisx_ratelimit_result *redisx_item_take_ratelimit_result(redisx_item *item);
/** Moves the record out of an idempotency begin completion (free with
 *  redisx_idem_free()); NULL when there is none or it was taken. Since 0.2. */
REDISX_API redisx_idem *redisx_item_take_idem(redisx_item *item);
/** Moves the entry out of a cache fetch or get completion (free with
 *  redisx_cache_entry_free()); NULL when there is none or it was taken.
 *  Since 0.5. */
REDISX_API redisx_cache_entry *redisx_item_take_cache_entry(redisx_item *item);

REDISX_END_DECLS

#endif
