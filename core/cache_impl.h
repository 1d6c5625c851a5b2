/* redisx core — the cache's private parts shared by core/cache.c (the
 * cache, entries, fetch and writes) and core/cache_coherence.c (what keeps
 * copies valid: tag versions read and moved, invalidate_tags, and the
 * invalidations Redis sends). Not a public header. */
#ifndef REDISX_CORE_CACHE_IMPL_H
#define REDISX_CORE_CACHE_IMPL_H

#include <stdatomic.h>

#include "cache_tags.h"
#include "internal.h"
#include "l1.h"

/* A load granted by the fail-open policy while Redis is unreachable: the
 * single flight of this process. */
typedef struct local_load {
    struct local_load *next;
    char token[33];
    char name[]; /* the caller's key */
} local_load;

#define REDISX__COAL_BUCKETS 64

struct fetch_op;

struct redisx_cache {
    atomic_int refs; /* the caller's, one per entry and per operation */
    redisx_client *client; /* a reference */
    char *name;
    char *kind; /* "cache:<name>" */
    redisx__cache_cfg cfg;
    pthread_mutex_t mu; /* guards l1 creation and loads */
    atomic_int ready;   /* first use done: cfg frozen, l1 made */
    redisx__l1 *l1;     /* NULL: no L1 */
    local_load *loads;
    atomic_uint_fast64_t counter[REDISX_CACHE_COUNTER_COUNT];
    redisx_cache *next, *prev; /* the client's caches (redisx__client_caches_lock) */
    redisx__named *named;      /* its per-name series (NULL: out of memory) */
    /* The tracking fallback (I/O thread): its channel, subscribed, and
     * confirmed since the subscriber connection last came up. */
    char *fb_channel;
    int fb_subscribed;
    atomic_int fb_ready;
    /* Tracking (I/O thread): the L1 epoch of values read on each lane (a
     * data connection, docs/CACHE.md); 0: none issued since the last loss. */
    uint64_t lane_epoch[REDISX__L1_LANES];
    redisx__tagtab *tags; /* the tag versions this process knows (cache_tags.h) */
    /* Fetches in flight that others of the same key may join (cache.c,
     * "coalescing"), by a hash of the key; under mu. */
    struct fetch_op *coal[REDISX__COAL_BUCKETS];
};

struct redisx_cache_entry {
    redisx_cache *cache; /* a reference */
    char *name, *key, *lease;
    redisx_cache_state state;
    redisx_cache_layer layer;
    int stale, fail_open;
    int owns;  /* holds the lease (LOAD, or a HIT chosen to refresh) */
    int local; /* ... a fail-open one, in cache->loads */
    char token[33];
    redisx__l1_value *l1v; /* the value, from the L1 */
    char *val;             /* or a copy (NUL-terminated) */
    size_t len;
    int64_t ttl_ms;
    uint64_t t_load; /* when the lease was granted: the loader's delta */
    /* A tagged fetch: the snapshot of its tags' versions read before the
     * load was handed out (fill stores it); tags_unknown: they could not
     * be read (a fail-open load), so the fill keeps no L1 copy. */
    char *snap;
    size_t snap_len;
    int tags_unknown;
};

static inline void cache_count(redisx_cache *cache, redisx_cache_counter which)
{
    atomic_fetch_add_explicit(&cache->counter[which], 1, memory_order_relaxed);
}

static inline void cache_ref(redisx_cache *cache)
{
    atomic_fetch_add(&cache->refs, 1);
}

void redisx__cache_unref(redisx_cache *cache);
/* First use: freezes the settings and makes the L1. */
redisx_status redisx__cache_ready(redisx_cache *cache);
/* {prefix}:cache:<cache name>:invalidate, malloc'd (NULL: out of memory). */
char *redisx__cache_fb_channel(const redisx_cache *cache);
/* msg on the cache's fallback channel (PUBLISH; SPUBLISH on a cluster), best effort. */
void redisx__cache_fb_publish(redisx_cache *cache, const char *msg, size_t len);
/* The reply of a best-effort PUBLISH: dropped. */
void redisx__cache_publish_reply(redisx__cmd *cmd, redisx_status st, redisx_reply *r);

/* Reading tag versions (cache_coherence.c). */
typedef struct redisx__vers_read redisx__vers_read;
typedef void (*redisx__vers_done_fn)(void *ctx, redisx_status st, redisx__vers_read *vr);
typedef struct redisx__vers_slot {
    redisx__vers_read *vr;
    size_t i;
} redisx__vers_slot;
struct redisx__vers_read {
    redisx_cache *cache;
    size_t n, pending;
    redisx_status st;
    uint64_t seq; /* the table's when sent: a drop since then wins */
    int tracked;  /* every GET went out on a connection tracked now */
    redisx__vers_done_fn done;
    void *ctx;
    redisx__tag *tags; /* n, pointing at the caller's bytes */
    redisx__vers_slot slots[];
};

/* Reads the versions of n tags; on REDISX_OK done will run (the tags'
 * bytes must live until then). */
redisx_status redisx__cache_vers_read(redisx_cache *cache, const redisx__tag *tags, size_t n, redisx__vers_done_fn done,
                                      void *ctx);

#endif
