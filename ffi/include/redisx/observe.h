/* redisx — observability: per-operation events, logs, connection states and a
 * pull snapshot of counters and latency histograms.
 *
 * Threads: every callback here runs on the client's I/O thread, except that a
 * blocking call which did its own round trip (redisx/client.h) emits its
 * event, logs and state changes on the calling thread; logs from argument
 * checks run on the calling thread too. The callbacks of one client never run
 * at the same time (one lock orders them). A callback must return quickly
 * and must not make blocking redisx calls (they return REDISX_ERR_WOULDBLOCK)
 * nor close the client it was called for; asynchronous calls are fine. */
#ifndef REDISX_OBSERVE_H
#define REDISX_OBSERVE_H

#include "redisx/common.h"
#include "redisx/errors.h"

REDISX_BEGIN_DECLS

/** One finished operation; borrowed, valid only during the callback (or for
 *  the life of the queue item carrying it). */
typedef struct redisx_event redisx_event;

/** Called once per finished operation (after its completion). */
typedef void (*redisx_event_cb)(redisx_client *client, const redisx_event *event, void *user);

/** Primitive of the operation, a stable identifier: "client", "lock",
 *  "ratelimit", "idempotency", "cache" (since 0.5), "stream" (since 0.6). */
REDISX_API const char *redisx_event_primitive(const redisx_event *event);
/** Operation, a stable identifier: "command"; "acquire", "release", "extend",
 *  "renew", "inspect" (lock); "check", "peek", "reset" (ratelimit); "begin",
 *  "complete", "fail" (idempotency); "fetch", "get", "fill", "abandon",
 *  "set", "delete" (cache); "publish", "deliver", "ack", "retry",
 *  "dead_letter", "claim", "handle" (a handler's time, hand-out to
 *  settle), "group_inspect", "dlq_list", "dlq_inspect", "dlq_requeue",
 *  "dlq_purge" (stream, since 0.6). */
REDISX_API const char *redisx_event_operation(const redisx_event *event);
/** Outcome: the status the caller received. */
REDISX_API redisx_status redisx_event_status(const redisx_event *event);
/** 1 when the operation failed to reach Redis and the fail-open policy turned
 *  that into success. */
REDISX_API int redisx_event_fail_open(const redisx_event *event);
/** Time from the call to its completion, in nanoseconds (monotonic clock). */
REDISX_API int64_t redisx_event_duration_ns(const redisx_event *event);
/** Commands written to Redis for this operation (retries, reloads and wait
 *  attempts included). */
REDISX_API int redisx_event_round_trips(const redisx_event *event);
/** Key name (the lock name, ...) when redisx_options_set_event_keys() is on;
 *  NULL otherwise. */
REDISX_API const char *redisx_event_key(const redisx_event *event);
/** What the operation found, a stable identifier, or NULL for operations
 *  without one. Cache fetch and get: "hit_l1", "hit_l2", "stale" (served
 *  past its TTL), "refresh" (a HIT whose caller holds the lease: XFetch or
 *  SWR), "load", "negative", "miss". Since 0.5. */
REDISX_API const char *redisx_event_outcome(const redisx_event *event);

/** Stream operations ("stream" primitive, since 0.6): the stream's name as
 *  the caller gave it (not the key), and the consumer group (NULL for
 *  operations without one). NULL for other primitives. Borrowed like the
 *  event. */
REDISX_API const char *redisx_event_stream(const redisx_event *event);
REDISX_API const char *redisx_event_group(const redisx_event *event);

/** The server ("host:port", or the socket path) the operation's last
 *  command was sent to: on a cluster, the node that answered it (after any
 *  redirect). NULL when no command was sent (an answer of the circuit
 *  breaker or of a fail-open policy without Redis, a cancelled wait) and
 *  for the stream consumer's own operations. Borrowed like the event.
 *  Since 0.6. */
REDISX_API const char *redisx_event_node(const redisx_event *event);

/** Inside a redisx_state_cb: the node ("host:port", a Unix socket's path)
 *  of the connection whose state changed, for every state, a disconnect
 *  included (whose `detail` is the reason); NULL before a sentinel has
 *  named the master, and outside a state callback. Borrowed for the call;
 *  on the calling thread only. Since 0.6. */
REDISX_API const char *redisx_state_node(void);

typedef enum redisx_log_level {
    REDISX_LOG_DEBUG = 0,
    REDISX_LOG_INFO = 1,
    REDISX_LOG_WARN = 2,
    REDISX_LOG_ERROR = 3
} redisx_log_level;

/** A log line; `message` is borrowed for the duration of the call. */
typedef void (*redisx_log_cb)(redisx_client *client, redisx_log_level level, const char *message, void *user);

typedef enum redisx_conn_state {
    REDISX_STATE_CONNECTED = 0,    /* handshake (AUTH, SELECT) done; serving */
    REDISX_STATE_DISCONNECTED = 1, /* lost or failed; `detail` says why */
    REDISX_STATE_RECONNECTING = 2  /* a new attempt starts */
} redisx_conn_state;

/** Connection state change of one of the client's connections. `detail` is
 *  "host:port" or the reason of a disconnect; borrowed for the call. The
 *  node the connection serves is redisx_state_node() during the call. */
typedef void (*redisx_state_cb)(redisx_client *client, int connection, redisx_conn_state state, const char *detail,
                                void *user);

/** Snapshot of the client's counters and latency histograms; read it from any
 *  thread at any time without a callback. */
typedef struct redisx_stats redisx_stats;

typedef enum redisx_counter {
    REDISX_COUNTER_CALLS = 0,     /* operations finished */
    REDISX_COUNTER_OK = 1,        /* ... with REDISX_OK, not rejected */
    REDISX_COUNTER_REJECTED = 2,  /* ... with a domain "no": LOCKED, NOT_OWNER, a
                                     denied rate-limit check, an idempotency
                                     begin answering IN_PROGRESS or MISMATCH */
    REDISX_COUNTER_ERRORS = 3,    /* ... with any other error */
    REDISX_COUNTER_TIMEOUTS = 4,  /* ... of which REDISX_ERR_TIMEOUT */
    REDISX_COUNTER_FAIL_OPEN = 5, /* ... turned into success by FAIL_OPEN */
    REDISX_COUNTER_ROUND_TRIPS = 6
} redisx_counter;

typedef enum redisx_client_counter {
    REDISX_CLIENT_CONNECTS = 0,         /* successful (re)connections */
    REDISX_CLIENT_DISCONNECTS = 1,      /* connections lost */
    REDISX_CLIENT_CONNECT_FAILURES = 2, /* failed attempts */
    REDISX_CLIENT_SCRIPT_RELOADS = 3,   /* NOSCRIPT answered by EVAL of the body */
    REDISX_CLIENT_IN_FLIGHT = 4,        /* operations not yet completed (gauge) */
    REDISX_CLIENT_CONNECTIONS_UP = 5,   /* connections serving now (gauge) */
    REDISX_CLIENT_CIRCUIT_OPENS = 6,    /* times a circuit breaker opened */
    REDISX_CLIENT_CIRCUIT_REJECTED = 7, /* calls a circuit breaker failed at once */
    REDISX_CLIENT_CIRCUITS_OPEN = 8,    /* breakers open or half-open now (gauge; one per node of a cluster) */
    REDISX_CLIENT_WAKEUPS = 9,          /* since 0.6: wake-up messages received
                                           (a lock release, an idempotency or
                                           cache completion published on a
                                           channel an operation waits on) */
    REDISX_CLIENT_CLUSTER_MOVED = 10,    /* since 0.6: MOVED replies followed (a cluster) */
    REDISX_CLIENT_CLUSTER_ASK = 11,      /* since 0.6: ASK replies followed */
    REDISX_CLIENT_CLUSTER_RETRIES = 12,  /* since 0.6: TRYAGAIN, CLUSTERDOWN or LOADING retried */
    REDISX_CLIENT_CLUSTER_REFRESHES = 13 /* since 0.6: slot map refreshes started */
} redisx_client_counter;

/** Takes a snapshot. Free it with redisx_stats_free(). */
REDISX_API redisx_status redisx_client_stats(redisx_stats **out, redisx_client *client);
/** Frees a snapshot; NULL is a no-op. */
REDISX_API void redisx_stats_free(redisx_stats *stats);
/** Number of operation series (primitive, operation) in the snapshot. */
REDISX_API int redisx_stats_series(const redisx_stats *stats);
/** Series `i`'s primitive and operation identifiers (as in events). */
REDISX_API const char *redisx_stats_primitive(const redisx_stats *stats, int i);
REDISX_API const char *redisx_stats_operation(const redisx_stats *stats, int i);
/** Series `i`'s counter; 0 for an index or counter out of range. */
REDISX_API uint64_t redisx_stats_counter(const redisx_stats *stats, int i, redisx_counter counter);
/** Client-wide counter or gauge. */
REDISX_API uint64_t redisx_stats_client(const redisx_stats *stats, redisx_client_counter counter);
/** Sum of series `i`'s operation durations, in ns (for a mean, or an
 *  exporter's histogram sum); 0 for an index out of range. */
REDISX_API uint64_t redisx_stats_sum_ns(const redisx_stats *stats, int i);
/** Number of latency buckets (the same for every series). */
REDISX_API int redisx_stats_buckets(const redisx_stats *stats);
/** Inclusive upper bound of bucket `b`, in ns; INT64_MAX for the last. */
REDISX_API int64_t redisx_stats_bucket_upper_ns(const redisx_stats *stats, int b);
/** Operations of series `i` whose duration fell into bucket `b` (not
 *  cumulative). */
REDISX_API uint64_t redisx_stats_bucket_count(const redisx_stats *stats, int i, int b);
/** Latency quantile `q` (0..1) of series `i`, in ns: the upper bound of the
 *  bucket holding it (at most 12.5% above the true value); 0 when empty. */
REDISX_API int64_t redisx_stats_quantile_ns(const redisx_stats *stats, int i, double q);

REDISX_END_DECLS

#endif
