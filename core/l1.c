/* redisx core — the in-process L1 (see l1.h and docs/CACHE.md).
 *
 * Per shard: a chained hash table of nodes and one SIEVE queue through the
 * same nodes (head = newest). A node holds the key, the pending placeholder
 * token and a pointer to its current immutable value (NULL for a bare
 * placeholder). Writers (set, fill, reserve, invalidate, eviction) hold the
 * shard's write lock; readers hold its read lock and only load the value
 * pointer, set the node's visited bit and take a reference on the value, so
 * a value dropped by a writer lives on in its readers. */
#include "l1.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"

/* What the allocator keeps beside each block (glibc: 8 bytes of header,
 * 16-byte alignment): charged per allocation so that many small entries are
 * not undercounted. */
#define L1_MALLOC_OVERHEAD 16u
#define L1_DEFAULT_MAX_TTL_NS (60ull * 1000000000ull)
#define L1_MAX_SHARDS 1024u
#define L1_LANE_BITS 8u

typedef struct l1_node {
    /* What a hit reads first, together. */
    struct l1_node *hnext;   /* hash chain */
    uint64_t hash;
    redisx__l1_value *value; /* NULL: a bare placeholder */
    uint32_t klen;
    atomic_uchar visited;
    /* Writers only. */
    struct l1_node *prev, *next; /* SIEVE queue; prev is towards the head */
    uint64_t pending;            /* token of the reserve that may fill this key; 0: none */
    size_t charge;               /* node + value, as counted in the shard's bytes */
    unsigned char key[];
} l1_node;

typedef struct l1_shard {
    pthread_rwlock_t lock;
    l1_node **buckets;
    size_t nbuckets; /* power of two */
    l1_node *head, *tail, *hand;
    size_t max_entries, max_bytes;
    /* Written under the write lock, read by stats without it. */
    atomic_size_t entries, bytes;
    atomic_uint_fast64_t hits, misses, evictions, expirations, invalidations, fills_refused;
} __attribute__((aligned(64))) l1_shard;

struct redisx__l1 {
    l1_shard *shards;
    unsigned nshards;
    size_t max_entry_bytes;
    uint64_t max_ttl_ns;
    uint64_t (*clock)(void *user);
    void *clock_user;
    atomic_uint_fast64_t seq;     /* tokens, versions and epoch sequences */
    atomic_uint_fast64_t min_seq; /* epochs below it are dead (all lanes) */
    atomic_uint_fast64_t lane_min[REDISX__L1_LANES];
};

/* ---- hashing: 8 bytes at a time, murmur3's finaliser ---- */
static uint64_t mix64(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 33;
    return h;
}

static uint64_t hash_key(const void *key, size_t len)
{
    const unsigned char *p = key;
    uint64_t h = 0x9e3779b97f4a7c15ull ^ (len * 0x100000001b3ull);
    while (len >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        h = (h ^ mix64(w)) * 0x87c37b91114253d5ull;
        h = (h << 31) | (h >> 33);
        p += 8;
        len -= 8;
    }
    uint64_t w = 0;
    memcpy(&w, p, len);
    return mix64(h ^ w ^ ((uint64_t)len << 56));
}

/* CLOCK_MONOTONIC_COARSE by default: a hit reads the clock, and the coarse
 * clock costs a fifth of the precise one (7 vs 38 ns here) for a resolution
 * of one kernel tick (4 ms), far below any TTL worth caching for. */
static uint64_t coarse_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t l1_now(const redisx__l1 *l1)
{
    return l1->clock ? l1->clock(l1->clock_user) : coarse_now();
}

uint64_t redisx__l1_now(const redisx__l1 *l1)
{
    return l1_now(l1);
}

size_t redisx__l1_node_charge(size_t klen)
{
    return sizeof(l1_node) + klen + L1_MALLOC_OVERHEAD;
}

size_t redisx__l1_charge(size_t klen, size_t vlen, size_t tlen)
{
    return redisx__l1_node_charge(klen) + sizeof(redisx__l1_value) + vlen + 1 + tlen + L1_MALLOC_OVERHEAD;
}

static size_t value_charge(const redisx__l1_value *v)
{
    return v ? sizeof(redisx__l1_value) + v->len + 1 + v->tags_len + L1_MALLOC_OVERHEAD : 0;
}

/* ---- epochs ---- */
bool redisx__l1_epoch_valid(const redisx__l1 *l1, uint64_t epoch)
{
    uint64_t s = epoch >> L1_LANE_BITS;
    redisx__l1 *m = (redisx__l1 *)l1; /* atomics are read only */
    /* Epoch 0 (not read on a tracked connection) belongs to no lane. */
    return s >= atomic_load_explicit(&m->min_seq, memory_order_acquire) &&
           (epoch == 0 || s >= atomic_load_explicit(&m->lane_min[epoch & (REDISX__L1_LANES - 1)], memory_order_acquire));
}

uint64_t redisx__l1_epoch_new(redisx__l1 *l1, unsigned lane)
{
    uint64_t s = atomic_fetch_add(&l1->seq, 1) + 1;
    return (s << L1_LANE_BITS) | (lane & (REDISX__L1_LANES - 1));
}

static void raise_to(atomic_uint_fast64_t *a, uint64_t v)
{
    uint_fast64_t cur = atomic_load(a);
    while (cur < v && !atomic_compare_exchange_weak(a, &cur, v)) {
    }
}

void redisx__l1_invalidate_epoch(redisx__l1 *l1, uint64_t epoch)
{
    if (epoch == 0)
        return;
    raise_to(&l1->lane_min[epoch & (REDISX__L1_LANES - 1)], (epoch >> L1_LANE_BITS) + 1);
}

void redisx__l1_invalidate_all_epochs(redisx__l1 *l1)
{
    /* Every sequence issued so far is <= seq: kill them all. */
    raise_to(&l1->min_seq, atomic_load(&l1->seq) + 1);
}

/* ---- values ---- */
void redisx__l1_value_retain(redisx__l1_value *v)
{
    atomic_fetch_add_explicit(&v->refs, 1, memory_order_relaxed);
}

void redisx__l1_value_release(redisx__l1_value *v)
{
    if (v && atomic_fetch_sub_explicit(&v->refs, 1, memory_order_acq_rel) == 1)
        free(v);
}

static redisx__l1_value *value_new(redisx__l1 *l1, const void *val, size_t vlen, uint64_t expires,
                                   const redisx__l1_meta *meta)
{
    size_t tlen = meta ? meta->tags_len : 0;
    redisx__l1_value *v = malloc(sizeof *v + vlen + 1 + tlen);
    if (!v)
        return NULL;
    atomic_init(&v->refs, 1);
    v->version = atomic_fetch_add(&l1->seq, 1) + 1;
    v->expires_ns = expires;
    v->epoch = meta ? meta->epoch : 0;
    v->soft_expiry_ns = meta ? meta->soft_expiry_ns : 0;
    v->delta_ns = meta ? meta->delta_ns : 0;
    v->flags = meta ? meta->flags : 0;
    v->tags_len = (uint32_t)tlen;
    v->len = vlen;
    if (vlen)
        memcpy(v->data, val, vlen);
    v->data[vlen] = 0;
    v->tags = v->data + vlen + 1;
    if (tlen)
        memcpy(v->data + vlen + 1, meta->tags, tlen);
    return v;
}

/* ---- shard internals (callers hold the write lock unless noted) ---- */
static l1_shard *shard_of(redisx__l1 *l1, uint64_t h)
{
    /* The table uses the low bits; the shard the high ones. */
    return &l1->shards[(h >> 48) & (l1->nshards - 1)];
}

/* Read or write lock held. */
static l1_node *find(const l1_shard *s, uint64_t h, const void *key, size_t klen)
{
    for (l1_node *n = s->buckets[h & (s->nbuckets - 1)]; n; n = n->hnext)
        if (n->hash == h && n->klen == klen && memcmp(n->key, key, klen) == 0)
            return n;
    return NULL;
}

static void queue_unlink(l1_shard *s, l1_node *n)
{
    if (s->hand == n)
        s->hand = n->prev;
    if (n->prev)
        n->prev->next = n->next;
    else
        s->head = n->next;
    if (n->next)
        n->next->prev = n->prev;
    else
        s->tail = n->prev;
    n->prev = n->next = NULL;
}

static void queue_push_head(l1_shard *s, l1_node *n)
{
    n->prev = NULL;
    n->next = s->head;
    if (s->head)
        s->head->prev = n;
    else
        s->tail = n;
    s->head = n;
}

static void table_unlink(l1_shard *s, l1_node *n)
{
    l1_node **pp = &s->buckets[n->hash & (s->nbuckets - 1)];
    while (*pp != n)
        pp = &(*pp)->hnext;
    *pp = n->hnext;
}

static void grow(l1_shard *s)
{
    size_t nb = s->nbuckets * 2;
    l1_node **b = calloc(nb, sizeof *b);
    if (!b)
        return; /* longer chains, still correct */
    for (size_t i = 0; i < s->nbuckets; i++) {
        for (l1_node *n = s->buckets[i], *next; n; n = next) {
            next = n->hnext;
            n->hnext = b[n->hash & (nb - 1)];
            b[n->hash & (nb - 1)] = n;
        }
    }
    free(s->buckets);
    s->buckets = b;
    s->nbuckets = nb;
}

/* Removes n from table and queue and frees it, dropping the table's value
 * reference. */
static void node_remove(l1_shard *s, l1_node *n)
{
    table_unlink(s, n);
    queue_unlink(s, n);
    atomic_fetch_sub_explicit(&s->entries, 1, memory_order_relaxed);
    atomic_fetch_sub_explicit(&s->bytes, n->charge, memory_order_relaxed);
    redisx__l1_value_release(n->value);
    free(n);
}

/* Drops n's value but keeps n when a placeholder is pending on it. */
static void node_drop_value(l1_shard *s, l1_node *n)
{
    if (!n->pending) {
        node_remove(s, n);
        return;
    }
    size_t vc = value_charge(n->value);
    redisx__l1_value_release(n->value);
    n->value = NULL;
    n->charge -= vc;
    atomic_fetch_sub_explicit(&s->bytes, vc, memory_order_relaxed);
}

/* SIEVE: the hand walks from the tail towards the head, clearing visited
 * bits, and evicts the first node not visited since the hand last passed.
 * `keep` (the node being written) is stepped over. Evicts until `need` more
 * bytes and `need_nodes` more nodes fit. */
static void make_room(l1_shard *s, size_t need, size_t need_nodes, const l1_node *keep)
{
    for (;;) {
        size_t entries = atomic_load_explicit(&s->entries, memory_order_relaxed);
        size_t bytes = atomic_load_explicit(&s->bytes, memory_order_relaxed);
        if (bytes + need <= s->max_bytes && entries + need_nodes <= s->max_entries)
            return;
        if (entries == 0 || (entries == 1 && keep))
            return; /* only keep is left: it fits alone (checked by callers) */
        l1_node *n = s->hand ? s->hand : s->tail;
        for (;;) {
            if (n != keep) {
                if (!atomic_load_explicit(&n->visited, memory_order_relaxed))
                    break;
                atomic_store_explicit(&n->visited, 0, memory_order_relaxed);
            }
            n = n->prev ? n->prev : s->tail;
        }
        s->hand = n->prev;
        node_remove(s, n);
        atomic_fetch_add_explicit(&s->evictions, 1, memory_order_relaxed);
    }
}

static l1_node *node_new(l1_shard *s, uint64_t h, const void *key, size_t klen)
{
    l1_node *n = malloc(sizeof *n + klen);
    if (!n)
        return NULL;
    n->hnext = NULL;
    n->prev = n->next = NULL;
    n->value = NULL;
    n->hash = h;
    n->pending = 0;
    n->charge = redisx__l1_node_charge(klen);
    atomic_init(&n->visited, 0);
    n->klen = (uint32_t)klen;
    if (klen)
        memcpy(n->key, key, klen);
    if (atomic_load_explicit(&s->entries, memory_order_relaxed) >= s->nbuckets)
        grow(s);
    n->hnext = s->buckets[h & (s->nbuckets - 1)];
    s->buckets[h & (s->nbuckets - 1)] = n;
    queue_push_head(s, n);
    atomic_fetch_add_explicit(&s->entries, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&s->bytes, n->charge, memory_order_relaxed);
    return n;
}

/* Puts v as n's value (or a new node's), evicting others to make room. */
static redisx_status store(l1_shard *s, l1_node *n, uint64_t h, const void *key, size_t klen,
                           redisx__l1_value *v)
{
    size_t vc = value_charge(v);
    if (n) {
        size_t old = value_charge(n->value);
        if (vc > old)
            make_room(s, vc - old, 0, n);
        redisx__l1_value_release(n->value);
        n->value = v;
        n->charge = n->charge - old + vc;
        atomic_fetch_add_explicit(&s->bytes, vc, memory_order_relaxed);
        atomic_fetch_sub_explicit(&s->bytes, old, memory_order_relaxed);
    } else {
        make_room(s, redisx__l1_node_charge(klen) + vc, 1, NULL);
        n = node_new(s, h, key, klen);
        if (!n) {
            redisx__l1_value_release(v);
            return redisx__fail(REDISX_ERR_NOMEM, "out of memory");
        }
        n->value = v;
        n->charge += vc;
        atomic_fetch_add_explicit(&s->bytes, vc, memory_order_relaxed);
    }
    /* A replaced value keeps the key's visited bit: a refreshed hot key
     * stays hot. */
    n->pending = 0;
    return REDISX_OK;
}

static uint64_t expiry(const redisx__l1 *l1, uint64_t ttl_ns)
{
    if (ttl_ns == 0 || ttl_ns > l1->max_ttl_ns)
        ttl_ns = l1->max_ttl_ns;
    return l1_now(l1) + ttl_ns;
}

static redisx_status check_size(const redisx__l1 *l1, size_t klen, size_t vlen, const redisx__l1_meta *meta)
{
    size_t tlen = meta ? meta->tags_len : 0;
    if (tlen > UINT32_MAX || vlen > SIZE_MAX / 2 || klen > UINT32_MAX)
        return redisx__fail(REDISX_ERR_INVALID, "L1 entry too large");
    size_t c = redisx__l1_charge(klen, vlen, tlen);
    if (c > l1->max_entry_bytes)
        return redisx__fail(REDISX_ERR_INVALID,
                            "L1 entry of %zu bytes (key %zu, value %zu, tags %zu) exceeds the maximum entry size "
                            "of %zu bytes",
                            c, klen, vlen, tlen, l1->max_entry_bytes);
    return REDISX_OK;
}

/* ---- public (internal) entry points ---- */
redisx_status redisx__l1_new(redisx__l1 **out, const redisx__l1_config *cfg)
{
    *out = NULL;
    if (!cfg || cfg->max_entries == 0 || cfg->max_bytes == 0)
        return redisx__fail(REDISX_ERR_INVALID, "L1: max_entries and max_bytes must be > 0");
    unsigned ns = cfg->shards;
    if (ns == 0) {
        /* About 256 entries per shard at least, so SIEVE has a queue to work
         * with, and at most 64 shards. */
        ns = 1;
        while (ns < 64 && (size_t)ns * 2 * 256 <= cfg->max_entries)
            ns *= 2;
    }
    if (ns > L1_MAX_SHARDS || (ns & (ns - 1)) != 0)
        return redisx__fail(REDISX_ERR_INVALID, "L1: shards must be a power of two up to %u, not %u",
                            L1_MAX_SHARDS, ns);
    size_t shard_bytes = cfg->max_bytes / ns;
    size_t shard_entries = cfg->max_entries / ns;
    if (shard_entries == 0 || shard_bytes < redisx__l1_charge(0, 0, 0))
        return redisx__fail(REDISX_ERR_INVALID, "L1: %u shards leave no room per shard (max_entries %zu, "
                            "max_bytes %zu)", ns, cfg->max_entries, cfg->max_bytes);
    size_t meb = cfg->max_entry_bytes ? cfg->max_entry_bytes : shard_bytes;
    if (meb > shard_bytes)
        return redisx__fail(REDISX_ERR_INVALID,
                            "L1: max_entry_bytes %zu exceeds one shard's bytes (max_bytes / shards = %zu)", meb,
                            shard_bytes);

    redisx__l1 *l1 = calloc(1, sizeof *l1);
    if (!l1)
        return redisx__fail(REDISX_ERR_NOMEM, "out of memory");
    if (posix_memalign((void **)&l1->shards, 64, ns * sizeof *l1->shards) != 0) {
        free(l1);
        return redisx__fail(REDISX_ERR_NOMEM, "out of memory");
    }
    memset(l1->shards, 0, ns * sizeof *l1->shards);
    l1->nshards = ns;
    l1->max_entry_bytes = meb;
    l1->max_ttl_ns = cfg->max_ttl_ns ? cfg->max_ttl_ns : L1_DEFAULT_MAX_TTL_NS;
    l1->clock = cfg->clock;
    l1->clock_user = cfg->clock_user;
    atomic_init(&l1->seq, 0);
    atomic_init(&l1->min_seq, 0);
    for (unsigned i = 0; i < REDISX__L1_LANES; i++)
        atomic_init(&l1->lane_min[i], 0);
    for (unsigned i = 0; i < ns; i++) {
        l1_shard *s = &l1->shards[i];
        s->max_entries = shard_entries;
        s->max_bytes = shard_bytes;
        s->nbuckets = 16;
        s->buckets = calloc(s->nbuckets, sizeof *s->buckets);
        /* glibc's default lets a steady stream of readers starve a writer
         * (an invalidation); prefer writers. */
        pthread_rwlockattr_t attr;
        pthread_rwlockattr_init(&attr);
        pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
        int rc = pthread_rwlock_init(&s->lock, &attr);
        pthread_rwlockattr_destroy(&attr);
        if (!s->buckets || rc != 0) {
            free(s->buckets);
            s->buckets = NULL;
            l1->nshards = i;
            redisx__l1_free(l1);
            return redisx__fail(REDISX_ERR_NOMEM, "out of memory");
        }
    }
    *out = l1;
    return REDISX_OK;
}

void redisx__l1_free(redisx__l1 *l1)
{
    if (!l1)
        return;
    for (unsigned i = 0; i < l1->nshards; i++) {
        l1_shard *s = &l1->shards[i];
        for (l1_node *n = s->head, *next; n; n = next) {
            next = n->next;
            redisx__l1_value_release(n->value);
            free(n);
        }
        free(s->buckets);
        pthread_rwlock_destroy(&s->lock);
    }
    free(l1->shards);
    free(l1);
}

redisx_status redisx__l1_get(redisx__l1 *l1, const void *key, size_t klen, redisx__l1_value **out)
{
    *out = NULL;
    uint64_t h = hash_key(key, klen);
    l1_shard *s = shard_of(l1, h);
    pthread_rwlock_rdlock(&s->lock);
    l1_node *n = find(s, h, key, klen);
    redisx__l1_value *v = n ? n->value : NULL;
    if (!v) {
        pthread_rwlock_unlock(&s->lock);
        atomic_fetch_add_explicit(&s->misses, 1, memory_order_relaxed);
        return REDISX_ERR_EMPTY;
    }
    bool expired = v->expires_ns <= l1_now(l1);
    if (!expired && redisx__l1_epoch_valid(l1, v->epoch)) {
        if (!atomic_load_explicit(&n->visited, memory_order_relaxed))
            atomic_store_explicit(&n->visited, 1, memory_order_relaxed);
        redisx__l1_value_retain(v);
        pthread_rwlock_unlock(&s->lock);
        atomic_fetch_add_explicit(&s->hits, 1, memory_order_relaxed);
        *out = v;
        return REDISX_OK;
    }
    /* Dead: drop it now (under the write lock, if it is still the same
     * value: compared by version, since once the read lock is gone v may be
     * freed and its address reused), so that it stops costing room. */
    uint64_t version = v->version;
    pthread_rwlock_unlock(&s->lock);
    pthread_rwlock_wrlock(&s->lock);
    n = find(s, h, key, klen);
    if (n && n->value && n->value->version == version) {
        node_drop_value(s, n);
        atomic_fetch_add_explicit(expired ? &s->expirations : &s->invalidations, 1, memory_order_relaxed);
    }
    pthread_rwlock_unlock(&s->lock);
    atomic_fetch_add_explicit(&s->misses, 1, memory_order_relaxed);
    return REDISX_ERR_EMPTY;
}

redisx_status redisx__l1_set(redisx__l1 *l1, const void *key, size_t klen, const void *val, size_t vlen,
                             uint64_t ttl_ns, const redisx__l1_meta *meta)
{
    redisx_status st = check_size(l1, klen, vlen, meta);
    if (st != REDISX_OK)
        return st;
    uint64_t h = hash_key(key, klen);
    l1_shard *s = shard_of(l1, h);
    redisx__l1_value *v = value_new(l1, val, vlen, expiry(l1, ttl_ns), meta);
    if (!v)
        return redisx__fail(REDISX_ERR_NOMEM, "out of memory");
    pthread_rwlock_wrlock(&s->lock);
    l1_node *n = find(s, h, key, klen);
    if (!redisx__l1_epoch_valid(l1, v->epoch)) {
        /* Read under a connection since lost: never cache it; what was
         * there is no newer than this write, so it goes too. */
        if (n)
            node_remove(s, n);
        pthread_rwlock_unlock(&s->lock);
        redisx__l1_value_release(v);
        return REDISX_OK;
    }
    st = store(s, n, h, key, klen, v);
    pthread_rwlock_unlock(&s->lock);
    return st;
}

redisx_status redisx__l1_reserve(redisx__l1 *l1, const void *key, size_t klen, uint64_t *token)
{
    *token = 0;
    if (klen > UINT32_MAX || redisx__l1_node_charge(klen) > l1->max_entry_bytes)
        return redisx__fail(REDISX_ERR_INVALID, "L1 key of %zu bytes exceeds the maximum entry size of %zu bytes",
                            klen, l1->max_entry_bytes);
    uint64_t h = hash_key(key, klen);
    l1_shard *s = shard_of(l1, h);
    uint64_t t = atomic_fetch_add(&l1->seq, 1) + 1;
    pthread_rwlock_wrlock(&s->lock);
    l1_node *n = find(s, h, key, klen);
    if (!n) {
        make_room(s, redisx__l1_node_charge(klen), 1, NULL);
        n = node_new(s, h, key, klen);
        if (!n) {
            pthread_rwlock_unlock(&s->lock);
            return redisx__fail(REDISX_ERR_NOMEM, "out of memory");
        }
    }
    n->pending = t;
    pthread_rwlock_unlock(&s->lock);
    *token = t;
    return REDISX_OK;
}

redisx_status redisx__l1_fill(redisx__l1 *l1, const void *key, size_t klen, uint64_t token, const void *val,
                              size_t vlen, uint64_t ttl_ns, const redisx__l1_meta *meta, bool *stored)
{
    if (stored)
        *stored = false;
    redisx_status st = check_size(l1, klen, vlen, meta);
    if (st != REDISX_OK) {
        redisx__l1_cancel(l1, key, klen, token);
        return st;
    }
    uint64_t h = hash_key(key, klen);
    l1_shard *s = shard_of(l1, h);
    redisx__l1_value *v = value_new(l1, val, vlen, expiry(l1, ttl_ns), meta);
    if (!v)
        return redisx__fail(REDISX_ERR_NOMEM, "out of memory");
    pthread_rwlock_wrlock(&s->lock);
    l1_node *n = find(s, h, key, klen);
    if (!n || token == 0 || n->pending != token || !redisx__l1_epoch_valid(l1, v->epoch)) {
        if (n && token != 0 && n->pending == token) {
            /* Still ours, but read on a connection since lost: the
             * placeholder goes, a live value (other epoch) stays. */
            n->pending = 0;
            if (!n->value)
                node_remove(s, n);
        }
        pthread_rwlock_unlock(&s->lock);
        atomic_fetch_add_explicit(&s->fills_refused, 1, memory_order_relaxed);
        redisx__l1_value_release(v);
        return REDISX_OK;
    }
    st = store(s, n, h, key, klen, v);
    pthread_rwlock_unlock(&s->lock);
    if (stored)
        *stored = st == REDISX_OK;
    return st;
}

void redisx__l1_cancel(redisx__l1 *l1, const void *key, size_t klen, uint64_t token)
{
    uint64_t h = hash_key(key, klen);
    l1_shard *s = shard_of(l1, h);
    pthread_rwlock_wrlock(&s->lock);
    l1_node *n = find(s, h, key, klen);
    if (n && token != 0 && n->pending == token) {
        n->pending = 0;
        if (!n->value)
            node_remove(s, n);
    }
    pthread_rwlock_unlock(&s->lock);
}

bool redisx__l1_invalidate(redisx__l1 *l1, const void *key, size_t klen)
{
    uint64_t h = hash_key(key, klen);
    l1_shard *s = shard_of(l1, h);
    pthread_rwlock_wrlock(&s->lock);
    l1_node *n = find(s, h, key, klen);
    if (n) {
        node_remove(s, n);
        atomic_fetch_add_explicit(&s->invalidations, 1, memory_order_relaxed);
    }
    pthread_rwlock_unlock(&s->lock);
    return n != NULL;
}

void redisx__l1_flush(redisx__l1 *l1)
{
    for (unsigned i = 0; i < l1->nshards; i++) {
        l1_shard *s = &l1->shards[i];
        pthread_rwlock_wrlock(&s->lock);
        uint64_t k = 0;
        while (s->head) {
            node_remove(s, s->head);
            k++;
        }
        s->hand = NULL;
        atomic_fetch_add_explicit(&s->invalidations, k, memory_order_relaxed);
        pthread_rwlock_unlock(&s->lock);
    }
}

void redisx__l1_stats_get(const redisx__l1 *l1, redisx__l1_stats *out)
{
    memset(out, 0, sizeof *out);
    for (unsigned i = 0; i < l1->nshards; i++) {
        l1_shard *s = &l1->shards[i];
        out->hits += atomic_load_explicit(&s->hits, memory_order_relaxed);
        out->misses += atomic_load_explicit(&s->misses, memory_order_relaxed);
        out->evictions += atomic_load_explicit(&s->evictions, memory_order_relaxed);
        out->expirations += atomic_load_explicit(&s->expirations, memory_order_relaxed);
        out->invalidations += atomic_load_explicit(&s->invalidations, memory_order_relaxed);
        out->fills_refused += atomic_load_explicit(&s->fills_refused, memory_order_relaxed);
        out->entries += atomic_load_explicit(&s->entries, memory_order_relaxed);
        out->bytes += atomic_load_explicit(&s->bytes, memory_order_relaxed);
    }
}

redisx_status redisx__l1_check(redisx__l1 *l1)
{
    redisx_status st = REDISX_OK;
    for (unsigned i = 0; i < l1->nshards && st == REDISX_OK; i++) {
        l1_shard *s = &l1->shards[i];
        pthread_rwlock_wrlock(&s->lock);
        size_t count = 0, bytes = 0, in_table = 0;
        bool hand_seen = s->hand == NULL;
        const l1_node *last = NULL;
        for (const l1_node *n = s->head; n; last = n, n = n->next) {
            count++;
            size_t c = redisx__l1_node_charge(n->klen) + value_charge(n->value);
            if (c != n->charge) {
                st = redisx__fail(REDISX_ERR_INVALID, "L1 shard %u: a node charges %zu, not %zu", i, n->charge, c);
                break;
            }
            if (!n->value && !n->pending) {
                st = redisx__fail(REDISX_ERR_INVALID, "L1 shard %u: a node has neither value nor placeholder", i);
                break;
            }
            if (find(s, n->hash, n->key, n->klen) != n) {
                st = redisx__fail(REDISX_ERR_INVALID, "L1 shard %u: a queued node is not in the table", i);
                break;
            }
            if (n->next && n->next->prev != n) {
                st = redisx__fail(REDISX_ERR_INVALID, "L1 shard %u: broken queue links", i);
                break;
            }
            hand_seen = hand_seen || n == s->hand;
            bytes += n->charge;
        }
        for (size_t b = 0; b < s->nbuckets; b++)
            for (const l1_node *n = s->buckets[b]; n; n = n->hnext)
                in_table++;
        if (st == REDISX_OK && last != s->tail)
            st = redisx__fail(REDISX_ERR_INVALID, "L1 shard %u: tail is not the last node", i);
        if (st == REDISX_OK && !hand_seen)
            st = redisx__fail(REDISX_ERR_INVALID, "L1 shard %u: the SIEVE hand is not in the queue", i);
        if (st == REDISX_OK && (count != in_table || count != atomic_load(&s->entries)))
            st = redisx__fail(REDISX_ERR_INVALID, "L1 shard %u: %zu queued, %zu in the table, %zu counted", i, count,
                              in_table, (size_t)atomic_load(&s->entries));
        if (st == REDISX_OK && bytes != atomic_load(&s->bytes))
            st = redisx__fail(REDISX_ERR_INVALID, "L1 shard %u: entries charge %zu bytes, %zu counted", i, bytes,
                              (size_t)atomic_load(&s->bytes));
        if (st == REDISX_OK && (count > s->max_entries || bytes > s->max_bytes))
            st = redisx__fail(REDISX_ERR_INVALID, "L1 shard %u: %zu entries / %zu bytes over its bounds %zu / %zu", i,
                              count, bytes, s->max_entries, s->max_bytes);
        pthread_rwlock_unlock(&s->lock);
    }
    return st;
}
