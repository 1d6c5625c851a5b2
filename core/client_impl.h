/* redisx core — the client structure, shared by client.c, conn.c and
 * observe.c only. */
#ifndef REDISX_CORE_CLIENT_IMPL_H
#define REDISX_CORE_CLIENT_IMPL_H

#include "breaker.h"
#include "internal.h"

typedef struct redisx__conn redisx__conn;

typedef struct redisx__timer {
    uint64_t due;
    uint64_t seq; /* ties broken by insertion order */
    redisx__timer_fn fn;
    void *ctx;
    uint64_t arg;
} redisx__timer;

/* A Redis Cluster node the client has connections to (conn.c, "cluster
 * routing"): a seed, a master of the slot map, or a redirect's target.
 * Never removed while the client lives. */
typedef struct redisx__node {
    char *host;
    int port;
    int first, count; /* its connections: conns[first .. first + count) */
    redisx__breaker breaker; /* calls routed to it (conn.c, "circuit breaker") */
    int sub; /* its sharded subscriber connection: conns[sub] (SSUBSCRIBE) */
    /* Cache tracking on this node: its subscriber's CLIENT ID (0: unknown)
     * and whether its SUBSCRIBE __redis__:invalidate is confirmed. */
    long long track_id;
    int track_subscribed;
} redisx__node;

struct redisx__slot_map;

typedef struct redisx__channel {
    struct redisx__channel *next;
    int refs;
    /* Cluster mode: the channel's slot (a wake-up channel is named like
     * its key, so the key's hash tag decides), and the node whose
     * subscriber connection an SSUBSCRIBE for it went to (-1: none). */
    int slot;
    int node;
    char name[];
} redisx__channel;

struct redisx_client {
    atomic_int refs;
    redisx_options opts; /* private copy */
    redisx__endpoint ep; /* URL merged with the auth override */
    struct redisx__tls_ctx *tls_ctx; /* NULL: plain connections */
    const char *tls_name; /* SNI and the name the certificate must carry */

    pthread_mutex_t mu; /* guards the submission list and io_exited */
    redisx__cmd *sub_head, *sub_tail;
    int wake_fd; /* eventfd: the I/O thread polls it */
    atomic_int wake_pending;
    atomic_int closing;
    int io_exited;
    /* Who ends the I/O thread (under mu): joined by the first shutdown
     * from outside, or detached by one from inside a callback. */
    enum { REDISX__IO_RUNNING, REDISX__IO_JOINING, REDISX__IO_JOINED, REDISX__IO_DETACHED } io_state;
    pthread_cond_t io_cv; /* io_state or io_exited changed */
    int direct; /* calls may skip the hand-off (REDISX_DIRECT_IO=0 turns it off) */
    pthread_t io_thread;

    /* The loop lock. The I/O thread holds it except while it sleeps in
     * poll(); a blocking call that borrows an idle connection holds it to
     * borrow and to complete, never during its own I/O. Everything below
     * is touched only under it ("I/O thread only" in the other files means
     * "under the loop lock"): callbacks of one client never run at once. */
    pthread_mutex_t loop_mu;
    int loop_dirty; /* changed what the sleeping I/O thread waits for */
    uint64_t poll_until; /* when the sleeping I/O thread wakes at the latest */
    redisx__conn **conns; /* nconns connections, then the subscriber; in
                           * cluster mode each node's pool is followed by
                           * its sharded subscriber connection */
    int nconns;
    /* Redis Cluster (docs/CLUSTER.md). The map is NULL until the first
     * CLUSTER SLOTS answer; map_node[i] is the node of the map's node i
     * when that is a master, else -1. One refresh round at a time:
     * CLUSTER SLOTS to one node with a ready connection, or to every node
     * when none has one; answers of an older round are dropped. */
    int cluster;
    redisx__node *nodes;
    int nnodes, nodes_cap;
    struct redisx__slot_map *map;
    int *map_node;
    int refresh_wanted, refresh_inflight, refresh_failures, refresh_rr;
    unsigned refresh_round;
    uint64_t refresh_next, refresh_last, refresh_version;
    int sub_node; /* the node the subscriber connection goes to */
    /* Redis Sentinel (docs/SENTINEL.md): the master's address from the
     * last lookup that answered (master_ok), when that lookup started
     * (master_at), the lookup under way (sq, started at sq_started), and
     * when the last one that failed started (sentinel_failed_at; with
     * sentinel_down commands fail at once until a lookup answers). A
     * connection uses an answer only if its lookup started after the
     * connection went down: every reconnect asks again. */
    int sentinel;
    struct redisx__sentinel_query *sq;
    struct redisx__sentinel_query *watch; /* the +switch-master watcher */
    int watch_tried;
    uint64_t sq_started, master_at, sentinel_failed_at;
    int master_ok, sentinel_down;
    size_t sentinel_next; /* the sentinel asked first: the last that answered */
    char master_host[256];
    int master_port;
    int ssub_retry; /* a timer to resync the sharded subscriptions is set */
    /* Client tracking (standalone): wanted by a cache; the subscriber
     * connection's CLIENT ID (0: unknown) and whether its SUBSCRIBE to
     * __redis__:invalidate is confirmed; a generation bumped whenever an
     * invalidation may have been lost (starts at 1; a data connection is
     * tracked when it sent CLIENT TRACKING under the current one); refused
     * when a server said no to CLIENT TRACKING. */
    int track_want, track_subscribed, track_refused;
    long long track_id;
    uint64_t track_gen;
    redisx__channel *channels; /* subscriptions wanted */
    redisx__chan_waiter *waiters; /* operations waiting for a PUBLISH */
    redisx__req *tracked; /* cancellable operations in the loop */
    redisx__cmd *wait_head, *wait_tail; /* no connection serving yet */
    redisx__timer *timers;
    size_t ntimers, timer_cap;
    uint64_t timer_seq;
    redisx__breaker_cfg breaker_cfg;
    redisx__breaker breaker; /* standalone: every call (cluster: per node) */
    redisx_status conn_status; /* why the last connect attempt failed */
    char conn_error[REDISX__DETAIL];
    int closing_seen;

    pthread_mutex_t stats_mu;
    redisx_cache *caches; /* under stats_mu: for the snapshot's cache counters */
    redisx__series series[REDISX__OP_COUNT];
    atomic_llong client_counter[REDISX__CLIENT_COUNTERS];
    atomic_llong stream_counter[REDISX_STREAM_COUNTER_COUNT];
    /* Per-name series (under stats_mu; entries are freed with the client). */
    redisx__named *named, *named_tail;
    redisx__named *named_tab[64];
    int named_count[REDISX__NAMED_KINDS];
    redisx__hist lock_wait, lock_hold; /* under stats_mu */
    atomic_llong locks_held;
};

void redisx__conn_loop(redisx_client *c);
/* Calls fn for each data connection (its "host:port" and whether it is
 * serving), under the loop lock; any thread, a callback included. */
void redisx__conns_each(redisx_client *c, void (*fn)(void *u, const char *endpoint, int up), void *u);
redisx_status redisx__conns_init(redisx_client *c);
void redisx__conns_free(redisx_client *c);
uint64_t redisx__cmd_timeout_ns(const redisx_client *c);

#endif
