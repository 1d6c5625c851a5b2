/* redisx core — the in-process L1 of the two-tier cache (internal; no public
 * ABI yet). See docs/CACHE.md for the design and the policy figures.
 *
 * A bounded map from binary keys to immutable, refcounted values:
 *  - sharded by key hash, one rwlock per shard; a hit takes the shard's read
 *    lock and touches only atomics (SIEVE's visited bit, the value's
 *    refcount, the shard's hit counter), so hits on different shards never
 *    share a lock and hits on one shard run in parallel;
 *  - bounded by entries AND bytes (redisx__l1_charge: key + value + tags +
 *    the node's and the value's own structs + an allocator header each);
 *  - eviction: SIEVE per shard (chosen over S3-FIFO and LRU, figures in
 *    docs/CACHE.md);
 *  - hard expiry per entry on the L1's clock (coarse monotonic unless a
 *    test injects one), capped by max_ttl_ns.
 * Hooks for the cache built on it: placeholders (reserve/fill/cancel) so an
 * invalidation that overtakes a GET reply wins; epochs (one per tracked
 * connection) that make every entry read under them invalid in O(1); per
 * value metadata (soft expiry, loader duration, flags, tag snapshot). */
#ifndef REDISX_CORE_L1_H
#define REDISX_CORE_L1_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "redisx/errors.h"

typedef struct redisx__l1 redisx__l1;

/* Value flags: opaque to the L1 except that it stores them. */
#define REDISX__L1_NEGATIVE 0x1u /* a cached "not found" */

/* Epochs: (sequence << 8) | lane. A lane is one source of entries that can
 * lose its invalidation stream on its own (a tracked data connection, one
 * node's invalidation connection); sequences come from one counter across
 * lanes, so epoch_new never returns 0. Epoch 0 means "not read on a
 * tracked connection": it belongs to no lane (invalidate_epoch(0) is a
 * no-op) and dies only with redisx__l1_invalidate_all_epochs. */
#define REDISX__L1_LANES 256u

typedef struct redisx__l1_config {
    size_t max_entries;     /* > 0: nodes (values and placeholders) */
    size_t max_bytes;       /* > 0: sum of charges */
    size_t max_entry_bytes; /* 0: a shard's bytes (max_bytes / shards) */
    uint64_t max_ttl_ns;    /* cap on every entry's TTL; 0: 60 s */
    unsigned shards;        /* power of two, at most 1024; 0: from max_entries */
    /* The clock for expiry, in ns; NULL: CLOCK_MONOTONIC_COARSE (one kernel
     * tick of resolution, a fifth of the precise clock's cost on a hit).
     * Tests inject one. */
    uint64_t (*clock)(void *user);
    void *clock_user;
} redisx__l1_config;

/* What the cache stores next to a value; the L1 keeps it, never reads it
 * (except epoch). Copied at store time. */
typedef struct redisx__l1_meta {
    uint64_t epoch;          /* of the connection the value was read on */
    uint64_t soft_expiry_ns; /* fresh-until on the L1's clock (XFetch, SWR) */
    uint64_t delta_ns;       /* how long the loader took (XFetch delta) */
    uint32_t flags;          /* REDISX__L1_* */
    const void *tags;        /* tag-version snapshot, opaque bytes */
    size_t tags_len;
} redisx__l1_meta;

/* An immutable value. A reader owns one reference per successful get and
 * drops it with redisx__l1_value_release; the value stays valid after it is
 * evicted, invalidated or replaced, until the last reference goes. Every
 * field is read-only. */
typedef struct redisx__l1_value {
    atomic_size_t refs;
    uint64_t version;    /* unique per store in this L1: memoise decodes on it */
    uint64_t expires_ns; /* hard expiry on the L1's clock */
    uint64_t epoch, soft_expiry_ns, delta_ns;
    uint32_t flags;
    uint32_t tags_len;
    const unsigned char *tags; /* inside this allocation, after data */
    size_t len;
    unsigned char data[]; /* len bytes, then a NUL (not counted), then tags */
} redisx__l1_value;

typedef struct redisx__l1_stats {
    uint64_t hits, misses;
    uint64_t evictions;     /* pushed out by the bounds */
    uint64_t expirations;   /* found past their expiry */
    uint64_t invalidations; /* invalidate, flush, or a dead epoch */
    uint64_t fills_refused; /* fill whose placeholder was gone */
    uint64_t entries;       /* nodes now (values + placeholders) */
    uint64_t bytes;         /* sum of their charges now */
} redisx__l1_stats;

/* A new L1. REDISX_ERR_INVALID (with detail) on a bad config, ERR_NOMEM. */
redisx_status redisx__l1_new(redisx__l1 **out, const redisx__l1_config *cfg);
/* Frees the L1 and drops its references (readers' values stay valid).
 * NULL is a no-op. No other call may run concurrently. */
void redisx__l1_free(redisx__l1 *l1);

/* The L1's clock, in ns: soft expiries in redisx__l1_meta are on it. */
uint64_t redisx__l1_now(const redisx__l1 *l1);

/* Bytes charged against max_bytes for one key with a value (vlen, tlen) and
 * for a bare placeholder (redisx__l1_charge(klen, 0, 0) - value part:
 * redisx__l1_node_charge). */
size_t redisx__l1_charge(size_t klen, size_t vlen, size_t tlen);
size_t redisx__l1_node_charge(size_t klen);

/* A hit: REDISX_OK and *out holds a reference. A miss (absent, placeholder,
 * expired, dead epoch): REDISX_ERR_EMPTY, *out = NULL. Thread-safe. */
redisx_status redisx__l1_get(redisx__l1 *l1, const void *key, size_t klen, redisx__l1_value **out);
void redisx__l1_value_retain(redisx__l1_value *v);
void redisx__l1_value_release(redisx__l1_value *v); /* NULL: no-op */

/* Stores unconditionally (a local write); cancels any pending placeholder of
 * the key, since a reply to a GET sent before this write is older than it.
 * ttl_ns 0 or above max_ttl_ns: max_ttl_ns. meta may be NULL (epoch 0).
 * REDISX_ERR_INVALID when the entry exceeds max_entry_bytes; OK otherwise
 * (also when meta->epoch is already dead: then nothing is stored). */
redisx_status redisx__l1_set(redisx__l1 *l1, const void *key, size_t klen, const void *val, size_t vlen,
                             uint64_t ttl_ns, const redisx__l1_meta *meta);

/* Placeholders. reserve puts one for key (or arms the key's live value for a
 * refresh: the value is still served until fill replaces it) and returns a
 * fresh nonzero token; a later reserve supersedes an earlier one.
 * fill stores the value only if the key still carries that token: an
 * invalidate/flush/set/eviction in between removes it, and then *stored is
 * false and nothing changes. A fill under a dead epoch is refused likewise.
 * cancel drops the placeholder if it is still token's (a failed load).
 * reserve: REDISX_ERR_INVALID when the key alone exceeds max_entry_bytes.
 * fill: REDISX_ERR_INVALID when the entry is too large (the placeholder is
 * dropped). */
redisx_status redisx__l1_reserve(redisx__l1 *l1, const void *key, size_t klen, uint64_t *token);
redisx_status redisx__l1_fill(redisx__l1 *l1, const void *key, size_t klen, uint64_t token, const void *val,
                              size_t vlen, uint64_t ttl_ns, const redisx__l1_meta *meta, bool *stored);
void redisx__l1_cancel(redisx__l1 *l1, const void *key, size_t klen, uint64_t token);

/* Removes the key's value and placeholder; true when there was either. */
bool redisx__l1_invalidate(redisx__l1 *l1, const void *key, size_t klen);
/* Removes everything (a null invalidation: FLUSHALL/FLUSHDB). */
void redisx__l1_flush(redisx__l1 *l1);

/* A fresh epoch of lane (< REDISX__L1_LANES). */
uint64_t redisx__l1_epoch_new(redisx__l1 *l1, unsigned lane);
/* Every entry read under `epoch` or an older epoch of its lane is invalid
 * from now on (O(1); checked on read, dropped lazily). */
void redisx__l1_invalidate_epoch(redisx__l1 *l1, uint64_t epoch);
/* Every epoch issued so far, on every lane, is dead (O(1)). */
void redisx__l1_invalidate_all_epochs(redisx__l1 *l1);
bool redisx__l1_epoch_valid(const redisx__l1 *l1, uint64_t epoch);

/* Counters, summed over shards without stopping them. */
void redisx__l1_stats_get(const redisx__l1 *l1, redisx__l1_stats *out);

/* For tests: walks every shard under its write lock and checks the table,
 * the SIEVE queue, the entry and byte counters against each other.
 * REDISX_OK or REDISX_ERR_INVALID with detail. */
redisx_status redisx__l1_check(redisx__l1 *l1);

#endif
