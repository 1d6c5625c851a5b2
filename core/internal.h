/* redisx core — private declarations shared by core/ and ffi/. Never
 * installed. Internal names are redisx__*; hiredis stays inside conn.c. */
#ifndef REDISX_CORE_INTERNAL_H
#define REDISX_CORE_INTERNAL_H

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "redisx/redisx.h"

#define REDISX__NS_PER_MS 1000000ull
/* Size of every error-detail buffer (thread-local detail, waiters, ...). */
#define REDISX__DETAIL 1024

#if defined(__GNUC__)
#define REDISX__PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define REDISX__PRINTF(a, b)
#endif


/* ---- errors (errors.c) ---- */
/* Sets the calling thread's error detail and returns `st`. */
extern _Thread_local char redisx__last_error_buf[REDISX__DETAIL];
redisx_status redisx__fail(redisx_status st, const char *fmt, ...) REDISX__PRINTF(2, 3);
void redisx__set_detail(const char *msg);
/* Copies msg (NULL: "") into dst of cap bytes, truncated, NUL-terminated. */
void redisx__copy_detail(char *dst, size_t cap, const char *msg);
void redisx__clear_error(void);

/* ---- small utilities (util.c) ---- */
uint64_t redisx__now_ns(void);
char *redisx__strdup(const char *s);
void *redisx__memdup(const void *p, size_t n);
/* Uniform random in [0, n) from a per-thread generator seeded from getrandom. */
uint64_t redisx__rand_below(uint64_t n);
/* v in decimal into out (NUL-terminated); returns out. printf costs more
 * than the rest of building a command. */
char *redisx__fmt_i64(char out[24], int64_t v);
/* 2*n lowercase hex digits of fresh randomness into out (2n+1 bytes). */
void redisx__random_hex(char *out, size_t n);

/* ---- replies (reply.c): our own type, so hiredis stays in conn.c ---- */
struct redisx_reply {
    redisx_reply_type type;
    int64_t integer;
    char *str; /* NUL-terminated copy for STRING/STATUS/ERROR */
    size_t len;
    size_t elements;
    redisx_reply **element;
    size_t cap; /* slots of element[]: grows with the elements that arrive */
    /* A reply's parts live in its root's arena (a few chunks instead of a
     * malloc per element); in_arena parts are freed with the root. */
    unsigned char in_arena, slots_in_arena;
    struct redisx__arena *arena; /* the root's chunks */
};
/* A reply part of `type` with room for a string of `strbytes` bytes (and its
 * NUL when strbytes > 0): from root's arena, or on its own when root is NULL
 * or the part is large. Zeroed header; NULL on out-of-memory. */
redisx_reply *redisx__reply_new(redisx_reply *root, redisx_reply_type type, size_t strbytes);
/* n zeroed element slots from root's arena (NULL on out-of-memory). */
redisx_reply **redisx__reply_slots(redisx_reply *root, size_t n);
bool redisx__reply_is_error(const redisx_reply *r, const char *prefix);
void redisx__reply_free(redisx_reply *r);
int64_t redisx__reply_int_at(const redisx_reply *r, size_t i, int64_t fallback);
/* conn.c: parses raw RESP `bytes` as a connection would, fed `chunk` bytes
 * at a time (0: all at once), and hands each complete reply (a redisx_reply) to
 * `each`, which owns it. REDISX_OK when the bytes held whole replies only;
 * REDISX_ERR_PROTOCOL (with detail) when the reader refuses them or a reply
 * is left incomplete; REDISX_ERR_NOMEM. For fuzzing and tests: no socket. */
redisx_status redisx__replies_from_resp(const char *bytes, size_t len, size_t chunk,
                                        void (*each)(redisx_reply *r, void *u), void *u);

/* ---- Lua scripts (generated from core/scripts at build time) ---- */
typedef struct redisx__script {
    const char *name;
    const char *sha1; /* 40 hex digits */
    const char *body;
    size_t len;
} redisx__script;
extern const redisx__script redisx__script_lock_acquire;
extern const redisx__script redisx__script_lock_release;
extern const redisx__script redisx__script_lock_extend;
extern const redisx__script redisx__script_lock_inspect;
extern const redisx__script redisx__script_rl_fixed_window;
extern const redisx__script redisx__script_rl_sliding_log;
extern const redisx__script redisx__script_rl_sliding_window;
extern const redisx__script redisx__script_rl_token_bucket;
extern const redisx__script redisx__script_rl_gcra;
extern const redisx__script redisx__script_idem_begin;
extern const redisx__script redisx__script_idem_complete;
extern const redisx__script redisx__script_idem_fail;
extern const redisx__script redisx__script_lock_release_unclaimed;
extern const redisx__script redisx__script_cache_fetch;
extern const redisx__script redisx__script_cache_fill;
extern const redisx__script redisx__script_cache_release;
/* Contract v4 twins that wake waiters with SPUBLISH on the key's shard
 * channel; cluster clients run them instead (redisx__script_for). */
extern const redisx__script redisx__script_lock_release_sharded;
extern const redisx__script redisx__script_lock_release_unclaimed_sharded;
extern const redisx__script redisx__script_idem_complete_sharded;
extern const redisx__script redisx__script_idem_fail_sharded;
extern const redisx__script redisx__script_cache_fill_sharded;
extern const redisx__script redisx__script_cache_release_sharded;
/* The script c runs for s: its sharded twin on a cluster client (wake-ups
 * by SPUBLISH, heard on the slot's node), else s itself (a standalone
 * server keeps the v3 scripts and PUBLISH). Any thread. */
const redisx__script *redisx__script_for(const redisx_client *c, const redisx__script *s);

/* orphan.c: releases (lock) or fails (idempotency) what an unanswered call
 * may have taken: runs `script` with KEYS[1] = key, ARGV[1] = arg, retrying
 * while Redis is unreachable for up to lease_ms. Loop or any thread. */
void redisx__orphan_cleanup(redisx_client *c, const redisx__script *script, const char *key, const char *arg,
                            int64_t lease_ms, const char *what);

/* ---- operations known to observability (observe.c) ---- */
typedef enum redisx__op {
    REDISX__OP_COMMAND = 0,
    REDISX__OP_LOCK_ACQUIRE,
    REDISX__OP_LOCK_RELEASE,
    REDISX__OP_LOCK_EXTEND,
    REDISX__OP_LOCK_RENEW,
    REDISX__OP_LOCK_INSPECT,
    REDISX__OP_RL_CHECK,
    REDISX__OP_RL_PEEK,
    REDISX__OP_RL_RESET,
    REDISX__OP_IDEM_BEGIN,
    REDISX__OP_IDEM_COMPLETE,
    REDISX__OP_IDEM_FAIL,
    REDISX__OP_CACHE_FETCH,
    REDISX__OP_CACHE_GET,
    REDISX__OP_CACHE_FILL,
    REDISX__OP_CACHE_ABANDON,
    REDISX__OP_CACHE_SET,
    REDISX__OP_CACHE_DELETE,
    REDISX__OP_STREAM_PUBLISH,
    REDISX__OP_STREAM_DELIVER,
    REDISX__OP_STREAM_ACK,
    REDISX__OP_STREAM_RETRY,
    REDISX__OP_STREAM_DEAD_LETTER,
    REDISX__OP_STREAM_CLAIM,
    REDISX__OP_STREAM_HANDLE,
    REDISX__OP_STREAM_GROUP_INSPECT,
    REDISX__OP_STREAM_DLQ_LIST,
    REDISX__OP_STREAM_DLQ_INSPECT,
    REDISX__OP_STREAM_DLQ_REQUEUE,
    REDISX__OP_STREAM_DLQ_PURGE,
    REDISX__OP_CACHE_INVALIDATE_TAGS, /* last, so the series keep their order (redisx__named_slot) */
    REDISX__OP_COUNT
} redisx__op;

/* Latency histogram: bucket 0 is [0, 1024) ns, then 8 linear sub-buckets per
 * power of two up to 2^36 ns (about 69 s), then one overflow bucket. */
#define REDISX__HIST_SUB 8
#define REDISX__HIST_MIN_LOG2 10
#define REDISX__HIST_MAX_LOG2 36
#define REDISX__HIST_BUCKETS (1 + (REDISX__HIST_MAX_LOG2 - REDISX__HIST_MIN_LOG2) * REDISX__HIST_SUB + 1)
int redisx__hist_bucket(uint64_t ns);
int64_t redisx__hist_upper(int bucket);

#define REDISX__COUNTERS 7
/* Entries of redisx_client_counter (observe.h). */
#define REDISX__CLIENT_COUNTERS (REDISX_CLIENT_CLUSTER_REFRESHES + 1)

/* The exporters' histogram (metrics.h): the OpenTelemetry advisory bounds
 * of db.client.operation.duration, 1 ms ... 10 s, then +Inf. */
#define REDISX__EXPORT_BOUNDS 9
extern const uint64_t redisx__export_bound_ns[REDISX__EXPORT_BOUNDS];

typedef struct redisx__series {
    uint64_t counter[REDISX__COUNTERS];
    uint64_t bucket[REDISX__HIST_BUCKETS];
    uint64_t sum_ns;
    uint64_t export_bucket[REDISX__EXPORT_BOUNDS + 1]; /* not cumulative */
} redisx__series;

/* A duration histogram on the exporters' bounds (sum and counts per
 * bucket, not cumulative). */
typedef struct redisx__hist {
    uint64_t sum_ns;
    uint64_t b[REDISX__EXPORT_BOUNDS + 1];
} redisx__hist;

void redisx__hist_add(redisx__hist *h, uint64_t ns);

/* Per-name series (docs/METRICS.md): the limiters, caches and streams (with
 * their groups) of a client, by the name the user gave. Bounded: past
 * REDISX__NAMED_MAX names of one kind, the others share the name "_other".
 * An entry lives as long as its client; its counters only grow (a cache's
 * own counters are added to it when the cache is freed). */
#define REDISX__NAMED_MAX 256
#define REDISX__NAMED_OPS 12 /* operations of one primitive, at most */

typedef enum redisx__named_kind {
    REDISX__NAMED_LIMITER = 0,
    REDISX__NAMED_CACHE = 1,
    REDISX__NAMED_STREAM = 2,
    REDISX__NAMED_KINDS
} redisx__named_kind;

typedef struct redisx__named_op {
    uint64_t calls, ok, rejected, errors, fail_open, timeouts;
    redisx__hist h;
} redisx__named_op;

typedef struct redisx__named {
    struct redisx__named *next; /* the client's list, oldest first */
    struct redisx__named *hnext;
    redisx__named_kind kind;
    char *name;
    char *group; /* streams: a consumer group, or NULL */
    redisx__named_op op[REDISX__NAMED_OPS]; /* under stats_mu */
    atomic_ullong stream[REDISX_STREAM_COUNTER_COUNT];
    uint64_t cache_retired[REDISX_CACHE_COUNTER_COUNT]; /* freed caches' counters, under stats_mu */
    /* Streams with a group: the group's XINFO GROUPS figures when last seen
     * (a group inspection, or a consumer's reclaim pass); seen 0: never. */
    atomic_int group_seen;
    atomic_llong group_pending, group_lag, group_consumers;
} redisx__named;

/* The entry of (kind, name, group), made on first use; NULL on out of
 * memory (the operation is then only counted client-wide). Any thread. */
redisx__named *redisx__named_get(redisx_client *c, redisx__named_kind kind, const char *name, const char *group);
/* Where operation op goes in a named entry's op[] (-1: not one of the
 * kind's), and the operation at slot i (REDISX__OP_COUNT: none). */
int redisx__named_slot(redisx__named_kind kind, redisx__op op);
redisx__op redisx__named_op_at(redisx__named_kind kind, int i);
/* Frees every entry (the client's last reference). */
void redisx__named_free_all(redisx_client *c);
/* Adds to a stream entry's counter (NULL: nothing). */
void redisx__named_stream_count(redisx__named *n, redisx_stream_counter which, int64_t k);

/* Locks held by this client's handles, and the durations of waits (a
 * successful acquire, call to grant) and holds (grant to the release call,
 * the loss or the free of the handle). */
void redisx__lock_held_begin(redisx_client *c, uint64_t wait_ns);
void redisx__lock_held_end(redisx_client *c, uint64_t hold_ns);

struct redisx_stats {
    redisx__series series[REDISX__OP_COUNT];
    uint64_t client[REDISX__CLIENT_COUNTERS];
    uint64_t cache[REDISX_CACHE_COUNTER_COUNT]; /* summed over the client's caches */
    uint64_t stream[REDISX_STREAM_COUNTER_COUNT];
};

struct redisx_event {
    const char *primitive;
    const char *operation;
    redisx_status status;
    int fail_open;
    int64_t duration_ns;
    int round_trips;
    const char *key;
    const char *outcome; /* static; NULL when the operation has none */
    const char *stream, *group; /* stream operations; NULL otherwise */
    const char *node; /* "host:port" of the last command's server, or NULL */
};

const char *redisx__op_primitive(redisx__op op);
const char *redisx__op_name(redisx__op op);
redisx_primitive redisx__op_primitive_id(redisx__op op);

/* A user-level operation (may span several commands). */
typedef struct redisx__req {
    redisx_client *client;
    redisx__op op;
    uint64_t t0;
    int round_trips;
    int rejected; /* a domain "no" that is not an error status (denied check) */
    const char *outcome; /* static, for the event (redisx_event_outcome) */
    char *key; /* copy for events when opted in, else NULL */
    const char *stream, *group; /* stream operations: borrowed until finish */
    struct redisx__named *named; /* per-name series, or NULL */
    const char *node; /* the endpoint the last command went to (lives with the client), or NULL */
    /* Cancellation (redisx_cancel): an operation whose `cancel` is set is
     * tracked by the loop from its first command until it finishes, and
     * matched by `user`. cancel() finishes it with REDISX_ERR_CANCELLED at
     * once (redisx__req_cancelled); whatever reply is still due is then
     * only cleaned up. */
    void *user;
    void (*cancel)(struct redisx__req *req);
    struct redisx__req *tnext, *tprev;
    int tracked;
    int cancelled;
} redisx__req;

void redisx__req_init(redisx__req *req, redisx_client *c, redisx__op op, const char *key);
/* Makes req cancellable by redisx_cancel(client, user). */
void redisx__req_cancellable(redisx__req *req, void *user, void (*cancel)(redisx__req *req));
/* Loop only: starts tracking req (idempotent). */
void redisx__req_track(redisx__req *req);
/* For a cancel(): marks req cancelled and finishes it with
 * REDISX_ERR_CANCELLED (the detail says so); the caller then delivers. */
void redisx__req_cancelled(redisx__req *req);
/* The loop's part of redisx_cancel: cancels every tracked match. */
void redisx__cancel_matching(redisx_client *c, void *user);
/* Records stats, emits the event (callback and/or queue) and frees req->key.
 * Called on the thread that completes the operation; leaves the thread's
 * last error as the completion's detail ("" on success). */
void redisx__req_finish(redisx__req *req, redisx_status st, int fail_open);
/* A queue item for a completion carrying the thread's current detail; the
 * caller adds the result and pushes it. NULL on out-of-memory. */
redisx_item *redisx__completion_item(void *user, redisx_status st);
/* Completes a status-only asynchronous call: its callback, or a queue item. */
void redisx__deliver_status(redisx_client *c, redisx_status_cb cb, void *user, redisx_status st);

/* ---- options (options.c) ---- */
typedef struct redisx__endpoint {
    int is_unix;
    char *host; /* hostname, IP literal without brackets, or socket path */
    int port;
    int db;
    char *user;
    char *password;
    int tls; /* rediss:// */
    /* Redis Cluster (redis+cluster://, redisx_options_set_cluster_seeds):
     * the seed nodes, host and port above being the first of them. */
    int cluster;
    size_t nseeds;
    struct redisx__seed {
        char *host;
        int port;
    } *seeds;
    /* Redis Sentinel (redis+sentinel://, redisx_options_set_sentinels,
     * docs/SENTINEL.md): the master's name and the sentinels to ask for its
     * address; host and port above are the first sentinel's until then. */
    int sentinel;
    char *master_name;
    size_t nsentinels;
    struct redisx__seed *sentinels;
} redisx__endpoint;

/* Whether this build speaks TLS (compiled with REDISX_WITH_TLS; tls.c). */
int redisx__tls_available(void);

/* Parses a Redis URL into ep (whose previous content is freed on success). */
redisx_status redisx__parse_url(redisx__endpoint *ep, const char *url);
void redisx__endpoint_clear(redisx__endpoint *ep);
/* "host1:7000,host2:7001" (IPv6 in brackets) into ep's seed list, turning
 * cluster mode on (NULL: off); ep's other fields are kept. REDISX_ERR_URL
 * with detail naming the bad seed. */
redisx_status redisx__parse_seeds(redisx__endpoint *ep, const char *list);
redisx_status redisx__endpoint_copy(redisx__endpoint *dst, const redisx__endpoint *src);
/* url.c: sentinel mode on for master `name` and the sentinels in `list`
 * ("h1:26379,h2:26379", port 26379 when left out); name NULL: off.
 * REDISX_ERR_URL with detail (empty name, bad port, a sentinel named twice,
 * more than 16, cluster mode or a unix socket already chosen). */
redisx_status redisx__parse_sentinels(redisx__endpoint *ep, const char *name, const char *list);

struct redisx_options {
    redisx__endpoint ep;
    char *auth_user; /* overrides, NULL when unset */
    char *auth_password;
    int auth_set;
    int64_t connect_timeout_ms;
    int64_t command_timeout_ms;
    char *prefix;
    int connections;
    int64_t backoff_min_ms, backoff_max_ms;
    int64_t busy_poll_us; /* 0: sleep at once (redisx_options_set_busy_poll_us) */
    int tracking_bcast;   /* cache tracking in BCAST mode (redisx_options_set_cache_tracking_bcast) */
    int breaker_failures; /* 0: no circuit breaker */
    int64_t breaker_window_ms, breaker_open_ms;
    redisx_fail_policy fail_policy[5]; /* by redisx_primitive */
    redisx_event_cb event_cb;
    void *event_user;
    int event_keys;
    redisx_log_cb log_cb;
    redisx_log_level log_level;
    void *log_user;
    redisx_state_cb state_cb;
    void *state_user;
    redisx_queue *queue;
    unsigned queue_what;
    /* TLS (see tls.h). tls_set: redisx_options_set_tls() overrides the URL. */
    int tls_set, tls_on;
    char *tls_ca_file, *tls_ca_dir, *tls_cert_file, *tls_key_file, *tls_server_name;
    int tls_verify_hostname; /* default 1 */
    int tls_insecure; /* redisx_options_set_tls_insecure_skip_verify */
    /* redisx_options_set_sentinel_auth: the sentinels' own ACL user and
     * password (NULL: no AUTH to the sentinels). */
    char *sentinel_user, *sentinel_password;
};
redisx_status redisx__options_init(redisx_options *o);
void redisx__options_clear(redisx_options *o);
redisx_status redisx__options_copy(redisx_options *dst, const redisx_options *src);

/* ---- queue (queue.c) ---- */
struct redisx_lock_info {
    int locked;
    int64_t fencing;
    int64_t ttl_ms;
    int64_t last_fencing;
};

struct redisx_item {
    struct redisx_item *next;
    redisx_item_kind kind;
    void *user;
    redisx_status status;
    char *message;
    redisx_log_level level;
    redisx_conn_state state;
    int connection;
    redisx_event event;
    char *event_key;
    char *event_stream, *event_group, *event_node; /* event_node: also a STATE's node */
    redisx_lock *lock; /* owned (completion) or a reference (lock lost) */
    redisx_reply *reply;
    redisx_lock_info info;
    int has_info;
    redisx_ratelimit_result *rl_result; /* owned */
    redisx_idem *idem;                  /* owned */
    redisx_cache_entry *cache_entry;    /* owned */
};
redisx_item *redisx__item_new(redisx_item_kind kind, void *user, redisx_status st, const char *message);
void redisx__queue_push(redisx_queue *q, redisx_item *item);
void redisx__queue_ref(redisx_queue *q);

/* ---- the client, its I/O thread and commands (client.c, conn.c) ---- */
typedef struct redisx__cmd redisx__cmd;
/* Called exactly once per command, on the I/O thread. `reply` belongs to the
 * callee (NULL unless st == REDISX_OK); the detail of an error is in the
 * thread's last error. The callee frees cmd with redisx__cmd_free(). */
typedef void (*redisx__reply_fn)(redisx__cmd *cmd, redisx_status st, redisx_reply *reply);

struct redisx__cmd {
    redisx__cmd *next;
    char *buf; /* RESP-formatted; NULL for a task run on the I/O thread */
    size_t len;
    const redisx__script *script; /* for NOSCRIPT: resent as EVAL of the body */
    int reloaded; /* resent as EVAL already */
    int internal; /* REDISX__CMD_* below */
    int done; /* completed early (timeout); its reply is discarded */
    int sent; /* put on a connection: the server may have run it */
    /* Cluster routing (route.c): the slot of the command's keys (valid when
     * slot_known; -1 for a keyless one), the node it must go to (-1: the
     * slot's master), ASKING before it, and how often it was redirected or
     * retried. A MOVED or ASK reply means the command did not run. */
    int slot, slot_known;
    int node, asking;
    int asked; /* went out after ASKING (a NOSCRIPT reload repeats it) */
    int redirects, retries;
    unsigned aux; /* the routing layer's own commands (a refresh's round) */
    uint64_t deadline;
    redisx__reply_fn fn;
    void *ctx;
    redisx__req *req; /* round trips are counted here when set */
    redisx_client *client;
    /* The tracking generation of the connection it went out on (0: not
     * tracked): a reply may go into a tracking cache's L1 only while that
     * is still the client's (redisx__tracking_current). */
    uint64_t track_gen;
    int track_lane; /* that connection's lane in the L1s' epochs (conn index mod 256) */
};

/* Builds a command from binary-safe arguments. NULL on out-of-memory. */
redisx__cmd *redisx__cmd_argv(int argc, const char *const *argv, const size_t *lens);
/* EVALSHA script with numkeys keys followed by args (all binary-safe). */
redisx__cmd *redisx__cmd_script(const redisx__script *s, int nkeys, int nargs, const char *const *argv,
                                const size_t *lens);
#define REDISX__CMD_USER 0
#define REDISX__CMD_HANDSHAKE 1
#define REDISX__CMD_ASKING 2 /* its reply is dropped: the command after it answers */
#define REDISX__CMD_ROLE 3 /* sentinel mode: the handshake's ROLE, which must say master */
#define REDISX__CMD_CLIENT_ID 4 /* the subscriber's handshake: its id for REDIRECT */
#define REDISX__CMD_TRACKING 5  /* CLIENT TRACKING on REDIRECT <id> of a data connection */
redisx__cmd *redisx__cmd_task(void);
void redisx__cmd_free(redisx__cmd *cmd);

/* Queues a command (thread-safe). Its fn runs exactly once on the I/O thread,
 * with REDISX_ERR_CLOSED if the client is closing. */
void redisx__submit(redisx_client *c, redisx__cmd *cmd);

typedef void (*redisx__timer_fn)(redisx_client *c, void *ctx, uint64_t arg, int cancelled);
/* I/O thread only: runs fn at `due` (monotonic ns), or with cancelled = 1
 * when the client closes first. */
redisx_status redisx__timer_add(redisx_client *c, uint64_t due, redisx__timer_fn fn, void *ctx, uint64_t arg);

/* Pub/sub on the client's subscriber connection, opened on first use.
 * I/O thread only. Subscriptions are counted: the channel is unsubscribed
 * when the last user drops it. While the subscriber connection is down
 * messages are lost, so waiters must also poll. */
void redisx__subscribe(redisx_client *c, const char *channel);
void redisx__unsubscribe(redisx_client *c, const char *channel);

/* An operation waiting for a PUBLISH on `channel` (a lock release, an
 * idempotency record's completion): embedded in the operation, linked into
 * the client's list while waiting. I/O thread only. */
typedef struct redisx__chan_waiter {
    struct redisx__chan_waiter *next, *prev;
    const char *channel; /* borrowed from the operation */
    int linked;
    void (*wake)(struct redisx__chan_waiter *w); /* a message arrived */
} redisx__chan_waiter;
/* Links w (and subscribes) unless it is linked already. */
void redisx__chan_wait(redisx_client *c, redisx__chan_waiter *w);
/* Unlinks w (and unsubscribes) if it is linked. */
void redisx__chan_unwait(redisx_client *c, redisx__chan_waiter *w);
/* conn.c: a message arrived; wakes every waiter of the channel. */
void redisx__on_message(redisx_client *c, const char *channel, size_t len);
/* Client-side caching (conn.c, docs/CACHE.md "Tracking"). enable: a
 * cache wants server-assisted invalidation (any thread; per node on a
 * cluster client). current: whether a reply of
 * cmd (its track_gen) was read on a connection tracked without a gap since
 * (I/O thread). active: tracking is on and unbroken right now (I/O
 * thread). */
void redisx__tracking_enable(redisx_client *c);
bool redisx__tracking_current(const redisx_client *c, uint64_t track_gen);
/* cache.c, called by conn.c on the I/O thread: an invalidated Redis key,
 * and a flush of every tracking cache's L1 (a null invalidation: FLUSHALL
 * or FLUSHDB; or tracking lost: a connection dropped). */
void redisx__cache_invalidate_key(redisx_client *c, const char *key, size_t len);
void redisx__cache_tracking_flush(redisx_client *c, int null_message);
/* A tracked data connection (lane) dropped: what was read on it is invalid. */
void redisx__cache_tracking_lane_lost(redisx_client *c, unsigned lane);
/* The fallback for servers refusing CLIENT TRACKING (docs/CACHE.md): the
 * redisx channel {prefix}:cache:<cache>:invalidate of each tracking cache
 * (SUBSCRIBE; on a cluster SSUBSCRIBE on the channel's slot's node).
 * conn.c -> cache.c, I/O thread: start (subscribe every tracking cache's
 * channel), a channel's (S)SUBSCRIBE confirmed (1: it was one), a
 * channel's subscription lost (channel NULL: the subscriber, every
 * channel; no cache there is covered until confirmed again; 1: one of them
 * was covered), a message (1: it was one; payload = the caller's key). */
void redisx__cache_fallback_start(redisx_client *c);
int redisx__cache_fallback_confirmed(redisx_client *c, const char *channel, size_t len);
int redisx__cache_fallback_lost(redisx_client *c, const char *channel, size_t len);
int redisx__cache_fallback_message(redisx_client *c, const char *channel, size_t len, const char *key, size_t klen);
/* Whether tracking was refused and the fallback channel is in use (I/O thread). */
bool redisx__tracking_fallback(const redisx_client *c);
bool redisx__client_is_cluster(const redisx_client *c);
/* Redis could not be reached or answered too late: what fail policies act on. */
bool redisx__connection_failure(redisx_status st);
/* Turns a reply that is not the script's expected shape into a status. */
redisx_status redisx__unexpected_reply(const redisx_reply *r, const char *script);

/* Whether this thread runs inside the client's loop: its I/O thread, or a
 * caller's thread completing a blocking call it did the I/O for. Callbacks
 * run only there. */
bool redisx__in_loop(const redisx_client *c);
/* Pokes the I/O thread (eventfd). */
void redisx__wake(redisx_client *c);
/* conn.c, for tests through the static library (never exported): when set,
 * host names are looked up with it instead of getaddrinfo(), on the
 * resolver thread, with getaddrinfo's contract (a list freed with
 * freeaddrinfo). IP literals and unix sockets never reach it. Set it before
 * opening clients. */
struct addrinfo;
extern int (*redisx__resolve_hook)(const char *host, const char *port, const struct addrinfo *hints,
                                   struct addrinfo **res);
/* conn.c: tries to send cmd without waking the I/O thread: a blocking call
 * (blocking != 0) borrows an idle connection and does its own round trip;
 * an asynchronous one writes straight to an idle connection the sleeping
 * I/O thread watches. Returns 0 when cmd must take the submission list. */
int redisx__conn_direct(redisx_client *c, redisx__cmd *cmd, int blocking);
/* Waits for a blocking call's completion flag (see redisx__waiter).
 * redisx__waiter_init also marks the thread as making a blocking call: its
 * next submission may complete on this thread (redisx__conn_direct). A
 * blocking call that fails before waiting calls redisx__waiter_drop. */
typedef struct redisx__waiter {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int done;
    redisx_status status;
    char detail[REDISX__DETAIL];
    void *result;
} redisx__waiter;
void redisx__waiter_init(redisx__waiter *w);
void redisx__waiter_signal(redisx__waiter *w, redisx_status st, void *result);
/* A blocking call that will not wait after all: returns st. */
redisx_status redisx__waiter_drop(redisx__waiter *w, redisx_status st);
/* Waits, then restores the completion's error detail on this thread. */
redisx_status redisx__waiter_wait(redisx__waiter *w);

void redisx__client_ref(redisx_client *c);
void redisx__client_unref(redisx_client *c);
bool redisx__client_closing(const redisx_client *c);
const redisx_options *redisx__client_options(const redisx_client *c);
/* The endpoint the client was opened with (never changes afterwards). */
const redisx__endpoint *redisx__client_endpoint(const redisx_client *c);
void redisx__log(redisx_client *c, redisx_log_level level, const char *fmt, ...) REDISX__PRINTF(3, 4);
/* `node`: the connection's endpoint ("host:port"), NULL or "" when it has none yet. */
void redisx__emit_state(redisx_client *c, int conn, redisx_conn_state st, const char *detail, const char *node);
const char *redisx__state_node(void);
redisx_status redisx__stats_snapshot(redisx_stats **out, redisx_client *c);
void redisx__stats_add_client(redisx_client *c, redisx_client_counter which, int64_t delta);
/* Status for a failed asynchronous call with a NULL callback and no queue. */
redisx_status redisx__check_async_target(const redisx_client *c, int has_cb);



/* queue.c internals behind the exported wrappers in ffi/queue.c */
redisx_status redisx__queue_create(redisx_queue **out);
void redisx__queue_unref(redisx_queue *q);
int redisx__queue_fd(const redisx_queue *q);
size_t redisx__queue_size(redisx_queue *q);
redisx_status redisx__queue_pop(redisx_item **out, redisx_queue *q, int timeout_ms);
void redisx__queue_shutdown(redisx_queue *q);
/* lock.c: drop a reference taken for a queue item or a timer. */
void redisx__lock_unref(redisx_lock *lk);
redisx_status redisx__client_open(redisx_client **out, const redisx_options *opts);
/* Ends the client's work (every operation completes, the I/O thread stops);
 * the handle stays valid. From a callback it returns at once. */
void redisx__client_shutdown(redisx_client *c);
/* Shutdown, then drops the caller's reference. */
void redisx__client_close(redisx_client *c);
/* client.c: the loop's part is redisx__cancel_matching. */
redisx_status redisx__cancel(redisx_client *c, void *user);

/* lock.c, behind ffi/lock.c */
redisx_status redisx__lock_acquire_async(redisx_client *c, const char *name, int64_t ttl_ms, int64_t wait_ms,
                                         redisx_lock_cb cb, void *user);
redisx_status redisx__lock_release_async(redisx_lock *lk, redisx_status_cb cb, void *user);
redisx_status redisx__lock_extend_async(redisx_lock *lk, int64_t ttl_ms, redisx_status_cb cb, void *user);
redisx_status redisx__lock_start_renewal(redisx_lock *lk, redisx_lock_lost_cb on_lost, void *user);
void redisx__lock_free(redisx_lock *lk);
redisx_status redisx__lock_inspect_async(redisx_client *c, const char *name, redisx_lock_info_cb cb, void *user);
const char *redisx__lock_name(const redisx_lock *lk);
const char *redisx__lock_token(const redisx_lock *lk);
int64_t redisx__lock_fencing(const redisx_lock *lk);
int64_t redisx__lock_ttl(const redisx_lock *lk);
int redisx__lock_is_fail_open(const redisx_lock *lk);
int redisx__lock_is_lost(const redisx_lock *lk);
redisx_client *redisx__lock_client(const redisx_lock *lk);

/* ratelimit.c, behind ffi/ratelimit.c */
struct redisx_ratelimit_result {
    int allowed;
    int fail_open;
    int64_t limit, remaining, reset_ms, retry_after_ms;
};
redisx_status redisx__limiter_new(redisx_limiter **out, redisx_client *c, const char *name,
                                  redisx_ratelimit_algorithm alg, int64_t limit, int64_t period_ms, int64_t burst);
void redisx__limiter_free(redisx_limiter *lim);
void redisx__limiter_set_fail_policy(redisx_limiter *lim, redisx_fail_policy policy);
int64_t redisx__limiter_capacity(const redisx_limiter *lim);
redisx_client *redisx__limiter_client(const redisx_limiter *lim);
redisx_status redisx__limiter_check_async(redisx_limiter *lim, const char *key, int64_t cost, int peek,
                                          redisx_ratelimit_cb cb, void *user);
redisx_status redisx__limiter_reset_async(redisx_limiter *lim, const char *key, redisx_status_cb cb, void *user);

/* idem.c, behind ffi/idempotency.c */
redisx_status redisx__idem_begin_async(redisx_client *c, const char *key, const void *fp, size_t fp_len,
                                       int64_t lease_ms, int64_t wait_ms, redisx_idem_cb cb, void *user);
redisx_status redisx__idem_complete_async(redisx_idem *rec, const void *resp, size_t resp_len, const void *meta,
                                          size_t meta_len, int64_t ttl_ms, redisx_status_cb cb, void *user);
redisx_status redisx__idem_fail_async(redisx_idem *rec, redisx_status_cb cb, void *user);
void redisx__idem_free(redisx_idem *rec);
redisx_client *redisx__idem_client(const redisx_idem *rec);
redisx_idem_state redisx__idem_state(const redisx_idem *rec);
const char *redisx__idem_key(const redisx_idem *rec);
const char *redisx__idem_response(const redisx_idem *rec, size_t *len);
const char *redisx__idem_metadata(const redisx_idem *rec, size_t *len);
int64_t redisx__idem_remaining(const redisx_idem *rec);
int redisx__idem_taken_over(const redisx_idem *rec);
int redisx__idem_is_fail_open(const redisx_idem *rec);
/* cache.c, behind ffi/cache.c */
typedef struct redisx__cache_cfg {
    size_t l1_entries, l1_bytes; /* l1_entries 0: no L1 */
    int64_t l1_ttl_ms;
    size_t max_value;
    double jitter;
    int64_t negative_ttl_ms, lease_ms, stale_ms;
    double beta;
    redisx_fail_policy policy;
    int tracking; /* L1 kept coherent by client tracking (redisx_cache_set_tracking) */
} redisx__cache_cfg;
redisx_status redisx__cache_new(redisx_cache **out, redisx_client *c, const char *name);
void redisx__cache_free(redisx_cache *cache);
redisx_client *redisx__cache_client(const redisx_cache *cache);
/* The settings, writable until first use (then REDISX_ERR_INVALID). */
redisx_status redisx__cache_cfg_edit(redisx_cache *cache, redisx__cache_cfg **cfg);
uint64_t redisx__cache_counter(const redisx_cache *cache, redisx_cache_counter which);
/* The client's next cache (under its stats lock) and a cache's per-name
 * series. */
const redisx_cache *redisx__cache_next(const redisx_cache *cache);
const struct redisx__named *redisx__cache_named(const redisx_cache *cache);
/* The caller's-thread half of a blocking fetch or get: a fresh L1 copy. */
redisx_status redisx__cache_l1_fast(redisx_cache *cache, const char *key, redisx_cache_entry **out);
uint64_t redisx__cache_entry_version(const redisx_cache_entry *e);
redisx_status redisx__cache_fetch_async(redisx_cache *cache, const char *key, int get, int64_t wait_ms,
                                        int64_t swr_ms, int64_t sie_ms, const redisx_tags *tags, redisx_cache_cb cb,
                                        void *user);
redisx_status redisx__cache_fill_async(redisx_cache_entry *e, const void *val, size_t len, int negative,
                                       int64_t ttl_ms, redisx_status_cb cb, void *user);
redisx_status redisx__cache_abandon_async(redisx_cache_entry *e, redisx_status_cb cb, void *user);
redisx_status redisx__cache_set_async(redisx_cache *cache, const char *key, const void *val, size_t len,
                                      int64_t ttl_ms, const redisx_tags *tags, redisx_status_cb cb, void *user);
redisx_status redisx__cache_delete_async(redisx_cache *cache, const char *key, redisx_status_cb cb, void *user);
/* Tags (core/cache_tags.c; checked by ffi/cache.c). */
redisx_status redisx__tags_new(redisx_tags **out);
redisx_status redisx__tags_add(redisx_tags *tags, const void *tag, size_t len);
size_t redisx__tags_count(const redisx_tags *tags);
void redisx__tags_free(redisx_tags *tags);
redisx_status redisx__cache_invalidate_tags_async(redisx_cache *cache, const redisx_tags *tags, redisx_status_cb cb,
                                                  void *user);
void redisx__cache_entry_free(redisx_cache_entry *e); /* NULL: no-op */
/* Adds the counters of the caches from `head` on (the client's list, under
 * its stats lock) into out. */
void redisx__cache_stats_sum(const redisx_cache *head, uint64_t out[REDISX_CACHE_COUNTER_COUNT]);
/* The client's list of caches, locked (its stats lock) until _unlock. */
redisx_cache **redisx__client_caches_lock(redisx_client *c);
void redisx__client_caches_unlock(redisx_client *c);
redisx_cache *redisx__cache_of(const redisx_cache_entry *e);
int redisx__cache_entry_owns(const redisx_cache_entry *e);
redisx_cache_state redisx__cache_entry_state(const redisx_cache_entry *e);
const char *redisx__cache_entry_key(const redisx_cache_entry *e);
const void *redisx__cache_entry_value(const redisx_cache_entry *e, size_t *len);
int redisx__cache_entry_stale(const redisx_cache_entry *e);
int redisx__cache_entry_fail_open(const redisx_cache_entry *e);
redisx_cache_layer redisx__cache_entry_layer(const redisx_cache_entry *e);
/* What the entry's answer was, as events name it (redisx_event_outcome). */
const char *redisx__cache_entry_outcome(const redisx_cache_entry *e);
int64_t redisx__cache_entry_ttl(const redisx_cache_entry *e);
/* Pure parts, for unit tests: a TTL cut by up to fraction * ttl (r uniform
 * in [0, 1)), never below 1; XFetch's gap factor -beta * ln(u) for u in
 * (0, 1]: refresh when delta * gap >= the time left fresh. */
int64_t redisx__cache_jitter(int64_t ttl_ms, double fraction, double r);
double redisx__cache_xfetch_gap(double beta, double u);

#endif
