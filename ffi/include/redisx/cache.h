/* redisx — the two-tier cache: an in-process L1 over an L2 in Redis, with
 * get-or-load under single flight across processes.
 *
 * The loader is the caller's code, so get-or-load has two phases, as
 * idempotency records do:
 *
 *   fetch(key) → HIT       the value (from L1 or L2); when
 *                          redisx_cache_entry_should_refresh() is 1 this
 *                          caller was chosen to refresh it (XFetch's early
 *                          refresh or a stale-while-revalidate value) and
 *                          holds the key's lease: load, then fill or abandon
 *              → LOAD      nobody has the value and this caller holds the
 *                          key's lease: load, then redisx_cache_fill(),
 *                          redisx_cache_fill_negative() or
 *                          redisx_cache_abandon(); the entry may carry a
 *                          stale value to serve should the loader fail
 *                          (stale-if-error)
 *              → NEGATIVE  a cached "not found" (fill_negative)
 *
 * One loader per key runs across every process: the lease is
 * {prefix}:cache:<cache>:{<key>}:lease (SET NX PX, owned by a token);
 * the others wait, woken by the fill's PUBLISH (polling too, since a
 * message can be lost), until the value lands, the lease passes (a loader
 * that died: the next waiter takes over and gets LOAD) or wait_ms runs out
 * (REDISX_ERR_TIMEOUT). Entries are Redis hashes written only by
 * core/scripts/cache_*.lua (docs/KEYS.md). TTLs are jittered downwards so
 * keys written together do not expire together.
 *
 * The L1 copy of an entry lives at most the cache's L1 TTL (1 s by default):
 * without tracking (redisx_cache_set_tracking, off by default) another
 * process's write reaches this process's L1 only when its copy expires;
 * with it, Redis' invalidation drops the copy at once. Deletes, sets and
 * tag invalidations drop this process's copy at once.
 *
 * Default fail policy: open. When Redis cannot be reached, L1 copies still
 * serve, stale ones within the call's stale-if-error window, and a miss
 * answers LOAD with redisx_cache_entry_is_fail_open() = 1 (single flight
 * within this process only; the fill then reaches the L1 alone). With
 * REDISX_FAIL_CLOSED such a call fails with the connection's status.
 *
 * Keys are NUL-terminated strings of 1..REDISX_CACHE_KEY_MAX bytes; values
 * are binary. Callbacks run on the client's I/O thread. A cache's setters
 * must be called before it is first used. Since 0.5. */
#ifndef REDISX_CACHE_H
#define REDISX_CACHE_H

#include "redisx/client.h"
#include "redisx/common.h"
#include "redisx/errors.h"
#include "redisx/observe.h"

REDISX_BEGIN_DECLS

/* redisx_cache and redisx_cache_entry are declared in redisx/queue.h. */
/** A list of tags (since 0.6; see "tags" below). */
typedef struct redisx_tags redisx_tags;

/** What a fetch or a get found; the numbers never change. */
typedef enum redisx_cache_state {
    REDISX_CACHE_HIT = 0,
    REDISX_CACHE_LOAD = 1,     /* the caller holds the lease: load and fill */
    REDISX_CACHE_NEGATIVE = 2, /* a cached "not found" */
    REDISX_CACHE_MISS = 3      /* redisx_cache_get() only: nothing fresh */
} redisx_cache_state;

/** Where the value of an entry came from. */
typedef enum redisx_cache_layer {
    REDISX_CACHE_LAYER_NONE = 0,
    REDISX_CACHE_LAYER_L1 = 1,
    REDISX_CACHE_LAYER_L2 = 2
} redisx_cache_layer;

/** The cache's counters (redisx_cache_counter); the numbers never change. */
typedef enum redisx_cache_counter {
    REDISX_CACHE_L1_HITS = 0,
    REDISX_CACHE_L1_MISSES = 1,
    REDISX_CACHE_L2_HITS = 2,
    REDISX_CACHE_L2_MISSES = 3,
    REDISX_CACHE_LOADS = 4,          /* LOAD answers (leases granted to load) */
    REDISX_CACHE_LOAD_ERRORS = 5,    /* abandoned loads */
    REDISX_CACHE_WAITERS_WOKEN = 6,  /* waits ended by another's fill: stampedes avoided */
    REDISX_CACHE_STALE_SERVED = 7,   /* stale values served (SWR, stale-if-error) */
    REDISX_CACHE_EARLY_REFRESHES = 8, /* XFetch chose the caller */
    REDISX_CACHE_FAIL_OPEN = 9,      /* answers given without Redis */
    REDISX_CACHE_L1_EVICTIONS = 10,
    REDISX_CACHE_L1_ENTRIES = 11,    /* gauge */
    REDISX_CACHE_L1_BYTES = 12,      /* gauge */
    REDISX_CACHE_INVALIDATIONS = 13, /* since 0.6: invalidations received (a key of
                                        this cache, or a flush) under tracking */
    REDISX_CACHE_COUNTER_COUNT = 14
} redisx_cache_counter;

/** Tags (since 0.6): a tag is 1..REDISX_CACHE_TAG_MAX bytes, binary (NUL
 *  allowed); an entry carries at most REDISX_CACHE_TAGS_MAX distinct tags,
 *  one invalidation takes at most REDISX_CACHE_INVALIDATE_MAX. */
#define REDISX_CACHE_TAG_MAX 1024
#define REDISX_CACHE_TAGS_MAX 64
#define REDISX_CACHE_INVALIDATE_MAX 1024

/** Longest key and cache name, in bytes. */
#define REDISX_CACHE_KEY_MAX 1024
#define REDISX_CACHE_NAME_MAX 128
/** Longest TTL, lease and wait, in ms (30 days). */
#define REDISX_CACHE_TTL_MAX_MS 2592000000LL
/** Largest value the maximum value size may be set to (512 MiB, Redis' default
 *  proto-max-bulk-len, less room for the command). */
#define REDISX_CACHE_VALUE_MAX 536870000

/** Completion of a fetch or a get: on REDISX_OK `entry` belongs to the callee
 *  (redisx_cache_entry_free()); otherwise it is NULL. Runs on the client's
 *  I/O thread. */
typedef void (*redisx_cache_cb)(redisx_client *client, redisx_status status, redisx_cache_entry *entry,
                                void *user);

/** A cache named `name` (1..REDISX_CACHE_NAME_MAX bytes, no '{', '}') on
 *  `client`, with the defaults: L1 of 10,000 entries / 64 MiB, L1 TTL 1 s;
 *  values up to 1 MiB; TTL jitter 10 %; negative TTL 5 s; lease 10 s;
 *  stale window 60 s; XFetch beta 1.0; fail open. Caches of one name share
 *  their L2 entries across processes and languages. */
REDISX_API redisx_status redisx_cache_new(redisx_cache **out, redisx_client *client, const char *name);
/** Frees the cache; entries still held stay valid. NULL is a no-op. */
REDISX_API void redisx_cache_free(redisx_cache *cache);

/** L1 bounds and TTL; max_entries 0 turns the L1 off. Before first use. */
REDISX_API redisx_status redisx_cache_set_l1(redisx_cache *cache, size_t max_entries, size_t max_bytes,
                                             int64_t ttl_ms);
/** Largest value fill and set accept (1..REDISX_CACHE_VALUE_MAX); larger
 *  ones fail with REDISX_ERR_INVALID naming both sizes. */
REDISX_API redisx_status redisx_cache_set_max_value_bytes(redisx_cache *cache, size_t max);
/** TTL jitter: each TTL is cut by a uniform random part of up to
 *  `fraction` of it (0..0.5). */
REDISX_API redisx_status redisx_cache_set_ttl_jitter(redisx_cache *cache, double fraction);
/** TTL of a cached "not found" (1..REDISX_CACHE_TTL_MAX_MS). */
REDISX_API redisx_status redisx_cache_set_negative_ttl_ms(redisx_cache *cache, int64_t ttl_ms);
/** Lease of a load or refresh: how long a loader may take before a waiter
 *  takes over (1..REDISX_CACHE_TTL_MAX_MS). */
REDISX_API redisx_status redisx_cache_set_lease_ms(redisx_cache *cache, int64_t lease_ms);
/** How long an entry is kept past its TTL to be served stale
 *  (0..REDISX_CACHE_TTL_MAX_MS): bounds every call's stale windows. */
REDISX_API redisx_status redisx_cache_set_stale_ms(redisx_cache *cache, int64_t stale_ms);
/** XFetch's beta (0..16; 0 turns early refresh off): above 1 refreshes
 *  earlier, below later. */
REDISX_API redisx_status redisx_cache_set_xfetch_beta(redisx_cache *cache, double beta);
REDISX_API redisx_status redisx_cache_set_fail_policy(redisx_cache *cache, redisx_fail_policy policy);
/** Since 0.6: keeps this cache's L1 coherent across processes with Redis'
 *  client tracking (on: 1, off: 0, the default). On, L1 copies are made only
 *  from reads on connections the server tracks for this client; a write by
 *  any process (or FLUSHALL/FLUSHDB) drops them from every tracking L1, and
 *  a lost connection drops them all at once; per node on a cluster. Where
 *  the server refuses CLIENT TRACKING (ACL) the client falls back to the
 *  channel {prefix}:cache:<name>:invalidate that every cache writer
 *  publishes to (a shard channel on a cluster: SPUBLISH/SSUBSCRIBE). Before the
 *  cache's first use (REDISX_ERR_INVALID afterwards). See docs/CACHE.md. */
REDISX_API redisx_status redisx_cache_set_tracking(redisx_cache *cache, int on);

/** Get-or-load (see the top of this header). wait_ms (0..TTL_MAX): how long
 *  to wait for another caller's load (REDISX_ERR_TIMEOUT after it, unless a
 *  stale value within sie_ms is there: then a stale HIT). swr_ms: serve a
 *  value up to this long past its TTL while one caller (across processes)
 *  refreshes it. sie_ms: serve a value up to this long past its TTL when
 *  Redis fails, when the wait times out, and (carried on LOAD) when the
 *  loader fails. Both 0..TTL_MAX, bounded by the cache's stale window.
 *  REDISX_OK with *out for every state. */
REDISX_API redisx_status redisx_cache_fetch(redisx_cache_entry **out, redisx_cache *cache, const char *key,
                                            int64_t wait_ms, int64_t swr_ms, int64_t sie_ms);
/** The same asynchronously; cancellable with redisx_cancel(client, user). */
REDISX_API redisx_status redisx_cache_fetch_async(redisx_cache *cache, const char *key, int64_t wait_ms,
                                                  int64_t swr_ms, int64_t sie_ms, redisx_cache_cb cb, void *user);

/** Stores the loaded value of a LOAD entry, or of a HIT that should
 *  refresh, for ttl_ms (1..TTL_MAX, jittered) in L2 and L1, and wakes the
 *  waiters. REDISX_ERR_NOT_OWNER when the lease passed to another loader or
 *  a set/delete ended the load (nothing stored; the value is still the
 *  caller's to use); REDISX_ERR_INVALID for an entry holding no lease or a
 *  value above the maximum size. */
REDISX_API redisx_status redisx_cache_fill(redisx_cache_entry *entry, const void *value, size_t len, int64_t ttl_ms);
REDISX_API redisx_status redisx_cache_fill_async(redisx_cache_entry *entry, const void *value, size_t len,
                                                 int64_t ttl_ms, redisx_status_cb cb, void *user);
/** Stores "not found" for the cache's negative TTL (no jitter, no stale). */
REDISX_API redisx_status redisx_cache_fill_negative(redisx_cache_entry *entry);
REDISX_API redisx_status redisx_cache_fill_negative_async(redisx_cache_entry *entry, redisx_status_cb cb, void *user);
/** A failed load: releases the lease at once so a waiter takes over, and
 *  counts a load error. Freeing an entry that holds a lease abandons it. */
REDISX_API redisx_status redisx_cache_abandon(redisx_cache_entry *entry);
REDISX_API redisx_status redisx_cache_abandon_async(redisx_cache_entry *entry, redisx_status_cb cb, void *user);

/** Looks up without loading: HIT, NEGATIVE or MISS (absent or past its TTL). */
REDISX_API redisx_status redisx_cache_get(redisx_cache_entry **out, redisx_cache *cache, const char *key);
REDISX_API redisx_status redisx_cache_get_async(redisx_cache *cache, const char *key, redisx_cache_cb cb,
                                                void *user);
/** Writes a value unconditionally (L2 and this process's L1); a load in
 *  progress can then no longer fill. */
REDISX_API redisx_status redisx_cache_set(redisx_cache *cache, const char *key, const void *value, size_t len,
                                          int64_t ttl_ms);
REDISX_API redisx_status redisx_cache_set_async(redisx_cache *cache, const char *key, const void *value, size_t len,
                                                int64_t ttl_ms, redisx_status_cb cb, void *user);
/** Deletes the entry (this process's L1 copy at once) and ends any load in
 *  progress. */
REDISX_API redisx_status redisx_cache_delete(redisx_cache *cache, const char *key);
REDISX_API redisx_status redisx_cache_delete_async(redisx_cache *cache, const char *key, redisx_status_cb cb,
                                                   void *user);

/** A counter or gauge of the cache (0 for an unknown one). */
REDISX_API uint64_t redisx_cache_counter_of(const redisx_cache *cache, redisx_cache_counter which);
/** The same summed over the client's caches (redisx_client_stats): the
 *  counters of a freed cache stay in the sum (counters never go back), the
 *  gauges (L1 entries and bytes) are those of the caches alive. */
REDISX_API uint64_t redisx_stats_cache(const redisx_stats *stats, redisx_cache_counter which);

/* ---- tags (since 0.6; docs/CACHE.md, "Tags") ----
 * A tagged entry records the version of each of its tags, read from
 * {prefix}:cache:<cache>:{<tag>}:tag before its value was loaded or set;
 * redisx_cache_invalidate_tags() increments those versions (one INCR per
 * tag, pipelined: one round trip per node whatever the number of entries),
 * and every read checks an entry's versions, so once it returns no read
 * from L2 answers an entry written before it, and this process's L1
 * copies are gone. Other processes' L1 copies go when their tracking (or
 * fallback) message arrives, or within their L1 TTL without tracking: the
 * bound a delete has. */

/** A list of tags: redisx_tags_new(), redisx_tags_add() per tag, then pass
 *  it to the *_tagged calls (which copy what they need: free it after the
 *  call returns) and free it with redisx_tags_free(). Not thread-safe. */
REDISX_API redisx_status redisx_tags_new(redisx_tags **out);
/** Adds a tag (1..REDISX_CACHE_TAG_MAX bytes, copied); duplicates count once
 *  when used. REDISX_ERR_INVALID for an empty or too long tag, or past
 *  REDISX_CACHE_INVALIDATE_MAX tags. */
REDISX_API redisx_status redisx_tags_add(redisx_tags *tags, const void *tag, size_t len);
/** The number of tags added (0 for NULL). */
REDISX_API size_t redisx_tags_count(const redisx_tags *tags);
/** NULL is a no-op. */
REDISX_API void redisx_tags_free(redisx_tags *tags);

/** redisx_cache_fetch() for a value that carries `tags` (NULL or empty: the
 *  same as redisx_cache_fetch): when the caller gets the lease (LOAD, or a
 *  HIT that should refresh) the tags' versions are read first, so an
 *  invalidation of one of them while the caller loads makes its fill stale
 *  on arrival. At most REDISX_CACHE_TAGS_MAX distinct tags
 *  (REDISX_ERR_INVALID). Reads of any entry (fetch, get, peek, tagged or
 *  not) honour the tags it was written with. */
REDISX_API redisx_status redisx_cache_fetch_tagged(redisx_cache_entry **out, redisx_cache *cache, const char *key,
                                                   const redisx_tags *tags, int64_t wait_ms, int64_t swr_ms,
                                                   int64_t sie_ms);
REDISX_API redisx_status redisx_cache_fetch_tagged_async(redisx_cache *cache, const char *key,
                                                         const redisx_tags *tags, int64_t wait_ms, int64_t swr_ms,
                                                         int64_t sie_ms, redisx_cache_cb cb, void *user);
/** redisx_cache_set() of a value that carries `tags` (NULL or empty: an
 *  untagged set): the tags' versions are read, then the value written with
 *  them (two round trips). */
REDISX_API redisx_status redisx_cache_set_tagged(redisx_cache *cache, const char *key, const void *value, size_t len,
                                                 int64_t ttl_ms, const redisx_tags *tags);
REDISX_API redisx_status redisx_cache_set_tagged_async(redisx_cache *cache, const char *key, const void *value,
                                                       size_t len, int64_t ttl_ms, const redisx_tags *tags,
                                                       redisx_status_cb cb, void *user);
/** Invalidates every entry carrying any of `tags` (not NULL; empty: nothing
 *  to do) in L2 and this process's L1, across processes and languages; see
 *  above for what other processes' L1 copies do. Fails (whatever the fail
 *  policy) when Redis cannot be reached: it cannot promise anything then. */
REDISX_API redisx_status redisx_cache_invalidate_tags(redisx_cache *cache, const redisx_tags *tags);
REDISX_API redisx_status redisx_cache_invalidate_tags_async(redisx_cache *cache, const redisx_tags *tags,
                                                            redisx_status_cb cb, void *user);

/** The L1 alone, never blocking and never sending anything: REDISX_OK with
 *  *out a fresh HIT or NEGATIVE from this process's L1, or with *out NULL
 *  when the L1 has no fresh copy (then call get or fetch; the miss is
 *  counted by them). For event loops that must not block on a hit (Node).
 *  Since 0.6. */
REDISX_API redisx_status redisx_cache_peek(redisx_cache_entry **out, redisx_cache *cache, const char *key);

/** Frees an entry (abandoning a lease it still holds); NULL is a no-op. */
REDISX_API void redisx_cache_entry_free(redisx_cache_entry *entry);
REDISX_API redisx_cache_state redisx_cache_entry_state(const redisx_cache_entry *entry);
/** The key (borrowed). */
REDISX_API const char *redisx_cache_entry_key(const redisx_cache_entry *entry);
/** The value (borrowed, binary, `*len` bytes, NUL after them): of a HIT, or a
 *  LOAD's stale fallback; NULL with 0 when there is none. */
REDISX_API const void *redisx_cache_entry_value(const redisx_cache_entry *entry, size_t *len);
/** 1 when the value is past its TTL (served under SWR or stale-if-error, or
 *  a LOAD's fallback). */
REDISX_API int redisx_cache_entry_is_stale(const redisx_cache_entry *entry);
/** 1 when Redis could not be reached and the fail-open policy answered. */
REDISX_API int redisx_cache_entry_is_fail_open(const redisx_cache_entry *entry);
/** 1 when the entry holds the key's lease: LOAD, or a HIT chosen to refresh. */
REDISX_API int redisx_cache_entry_should_refresh(const redisx_cache_entry *entry);
REDISX_API redisx_cache_layer redisx_cache_entry_layer(const redisx_cache_entry *entry);
/** Since 0.6: what the answer was, as redisx_event_outcome() names it for
 *  the operation that made the entry: "hit_l1", "hit_l2", "stale" (a stale
 *  value served), "refresh" (a HIT whose caller holds the lease to
 *  refresh), "load", "negative" or "miss" (static strings; NULL for a NULL
 *  entry). Exporters and the bindings' hooks take it from here. */
REDISX_API const char *redisx_cache_entry_outcome(const redisx_cache_entry *entry);
/** Milliseconds the value is still fresh (negative: stale for that long). */
REDISX_API int64_t redisx_cache_entry_ttl_ms(const redisx_cache_entry *entry);

/** A number unique per value stored in this process's L1 (0 for a value
 *  that is not an L1 copy): equal versions mean the same bytes, so a
 *  binding may memoise the decoded value on it. Since 0.6. */
REDISX_API uint64_t redisx_cache_entry_version(const redisx_cache_entry *entry);

REDISX_END_DECLS

#endif
