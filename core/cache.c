/* The two-tier cache: the L1 (l1.c) in front of entries in Redis, and
 * get-or-load with one loader per key across processes (a lease in Redis,
 * waiters woken by the fill's PUBLISH and polling as a fallback). Every
 * Redis step is one Lua script (core/scripts/cache_*.lua, docs/KEYS.md);
 * replies and timers run on the I/O thread, L1 hits of blocking calls on
 * the caller's thread. See docs/CACHE.md. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache_impl.h"
#include "cluster.h"
#include "keys.h"

void redisx__cache_unref(redisx_cache *cache)
{
    if (atomic_fetch_sub(&cache->refs, 1) != 1)
        return;
    redisx_cache **head = redisx__client_caches_lock(cache->client);
    if (cache->prev)
        cache->prev->next = cache->next;
    else
        *head = cache->next;
    if (cache->next)
        cache->next->prev = cache->prev;
    if (cache->named) /* its counters stay in the name's series */
        for (int i = 0; i < REDISX_CACHE_COUNTER_COUNT; i++)
            if (i != REDISX_CACHE_L1_ENTRIES && i != REDISX_CACHE_L1_BYTES)
                cache->named->cache_retired[i] += redisx__cache_counter(cache, (redisx_cache_counter)i);
    redisx__client_caches_unlock(cache->client);
    redisx__l1_free(cache->l1);
    redisx__tagtab_free(cache->tags);
    while (cache->loads) {
        local_load *n = cache->loads->next;
        free(cache->loads);
        cache->loads = n;
    }
    pthread_mutex_destroy(&cache->mu);
    redisx_client *c = cache->client;
    free(cache->name);
    free(cache->kind);
    free(cache->fb_channel);
    free(cache);
    redisx__client_unref(c);
}

/* ---- pure parts ------------------------------------------------------------ */

int64_t redisx__cache_jitter(int64_t ttl_ms, double fraction, double r)
{
    if (fraction <= 0 || ttl_ms <= 1)
        return ttl_ms;
    int64_t cut = (int64_t)((double)ttl_ms * fraction * r);
    return ttl_ms - cut < 1 ? 1 : ttl_ms - cut;
}

/* ln(x) for x > 0 without libm (the Go module links the core without it):
 * x = m * 2^e with m in [1, 2), ln m = 2 atanh((m - 1) / (m + 1)) by its
 * series; s < 1/3, so 13 terms leave an error near 1e-13. */
static double ln_pos(double x)
{
    uint64_t bits;
    memcpy(&bits, &x, sizeof bits);
    int e = (int)((bits >> 52) & 0x7ff);
    if (e == 0) /* subnormal: scale into the normal range */
        return ln_pos(x * 18014398509481984.0) - 54 * 0.69314718055994530942;
    bits = (bits & ~(0x7ffull << 52)) | (1023ull << 52);
    double m;
    memcpy(&m, &bits, sizeof m);
    double s = (m - 1) / (m + 1), s2 = s * s, term = s, sum = 0;
    for (int k = 0; k < 13; k++) {
        sum += term / (2 * k + 1);
        term *= s2;
    }
    return (e - 1023) * 0.69314718055994530942 + 2 * sum;
}

double redisx__cache_xfetch_gap(double beta, double u)
{
    if (beta <= 0 || u <= 0 || u >= 1)
        return 0;
    return -beta * ln_pos(u);
}

static double rand01(void)
{
    return (double)redisx__rand_below(1ull << 53) / (double)(1ull << 53); /* [0, 1) */
}

/* ---- the cache --------------------------------------------------------------- */

redisx_status redisx__cache_new(redisx_cache **out, redisx_client *c, const char *name)
{
    redisx_cache *cache = calloc(1, sizeof *cache);
    if (!cache)
        return redisx__fail(REDISX_ERR_NOMEM, "out of memory");
    size_t n = strlen(name);
    cache->name = redisx__strdup(name);
    cache->kind = malloc(n + 7);
    cache->tags = redisx__tagtab_new();
    if (!cache->name || !cache->kind || !cache->tags) {
        free(cache->name);
        free(cache->kind);
        redisx__tagtab_free(cache->tags);
        free(cache);
        return redisx__fail(REDISX_ERR_NOMEM, "out of memory");
    }
    memcpy(cache->kind, "cache:", 6);
    memcpy(cache->kind + 6, name, n + 1);
    pthread_mutex_init(&cache->mu, NULL);
    atomic_init(&cache->refs, 1);
    atomic_init(&cache->ready, 0);
    cache->cfg = (redisx__cache_cfg){
        .l1_entries = 10000,
        .l1_bytes = 64u << 20,
        .l1_ttl_ms = 1000,
        .max_value = 1u << 20,
        .jitter = 0.1,
        .negative_ttl_ms = 5000,
        .lease_ms = 10000,
        .stale_ms = 60000,
        .beta = 1.0,
        .policy = redisx__client_options(c)->fail_policy[REDISX_PRIMITIVE_CACHE],
    };
    cache->named = redisx__named_get(c, REDISX__NAMED_CACHE, name, NULL);
    redisx__client_ref(c);
    cache->client = c;
    redisx_cache **head = redisx__client_caches_lock(c);
    cache->next = *head;
    if (*head)
        (*head)->prev = cache;
    *head = cache;
    redisx__client_caches_unlock(c);
    *out = cache;
    return REDISX_OK;
}

void redisx__cache_free(redisx_cache *cache)
{
    redisx__cache_unref(cache);
}

redisx_client *redisx__cache_client(const redisx_cache *cache)
{
    return cache->client;
}

redisx_status redisx__cache_cfg_edit(redisx_cache *cache, redisx__cache_cfg **cfg)
{
    if (atomic_load(&cache->ready))
        return redisx__fail(REDISX_ERR_INVALID, "cache %s: settings can only change before its first use",
                            cache->name);
    *cfg = &cache->cfg;
    return REDISX_OK;
}

/* First use: freezes the settings and makes the L1. */
redisx_status redisx__cache_ready(redisx_cache *cache)
{
    if (atomic_load_explicit(&cache->ready, memory_order_acquire))
        return REDISX_OK;
    redisx_status st = REDISX_OK;
    pthread_mutex_lock(&cache->mu);
    if (!atomic_load(&cache->ready)) {
        if (cache->cfg.l1_entries > 0) {
            redisx__l1_config lc = {
                .max_entries = cache->cfg.l1_entries,
                .max_bytes = cache->cfg.l1_bytes,
                .max_ttl_ns = (uint64_t)(cache->cfg.l1_ttl_ms + cache->cfg.stale_ms) * REDISX__NS_PER_MS,
            };
            st = redisx__l1_new(&cache->l1, &lc);
        }
        if (st == REDISX_OK && cache->l1 && cache->cfg.tracking)
            redisx__tracking_enable(cache->client);
        if (st == REDISX_OK)
            atomic_store_explicit(&cache->ready, 1, memory_order_release);
    }
    pthread_mutex_unlock(&cache->mu);
    return st;
}

uint64_t redisx__cache_counter(const redisx_cache *cache, redisx_cache_counter which)
{
    if (which == REDISX_CACHE_L1_EVICTIONS || which == REDISX_CACHE_L1_ENTRIES || which == REDISX_CACHE_L1_BYTES) {
        if (!atomic_load(&cache->ready) || !cache->l1)
            return 0;
        redisx__l1_stats s;
        redisx__l1_stats_get(cache->l1, &s);
        return which == REDISX_CACHE_L1_EVICTIONS ? s.evictions
               : which == REDISX_CACHE_L1_ENTRIES ? s.entries
                                                  : s.bytes;
    }
    if ((int)which < 0 || which >= REDISX_CACHE_COUNTER_COUNT)
        return 0;
    return atomic_load_explicit(&((redisx_cache *)cache)->counter[which], memory_order_relaxed);
}

const redisx_cache *redisx__cache_next(const redisx_cache *cache)
{
    return cache->next;
}

const redisx__named *redisx__cache_named(const redisx_cache *cache)
{
    return cache->named;
}

void redisx__cache_stats_sum(const redisx_cache *head, uint64_t out[REDISX_CACHE_COUNTER_COUNT])
{
    for (const redisx_cache *cache = head; cache; cache = cache->next)
        for (int i = 0; i < REDISX_CACHE_COUNTER_COUNT; i++)
            out[i] += redisx__cache_counter(cache, (redisx_cache_counter)i);
}

static bool cache_fail_open(const redisx_cache *cache)
{
    return cache->cfg.policy == REDISX_FAIL_OPEN;
}

/* Stores a fresh value in the L1 (under placeholder token when nonzero):
 * fresh there for at most the L1 TTL, kept the stale window past that for
 * stale-if-error when Redis is unreachable. */
static void l1_store(redisx_cache *cache, const char *name, uint64_t token, const void *val, size_t len, int neg,
                     int64_t fresh_ms, uint64_t epoch, const char *snap, size_t snap_len)
{
    if (!cache->l1)
        return;
    int64_t f = fresh_ms < cache->cfg.l1_ttl_ms ? fresh_ms : cache->cfg.l1_ttl_ms;
    size_t klen = strlen(name);
    if (f <= 0) {
        if (token)
            redisx__l1_cancel(cache->l1, name, klen, token);
        return;
    }
    redisx__l1_meta meta = {
        .soft_expiry_ns = redisx__l1_now(cache->l1) + (uint64_t)f * REDISX__NS_PER_MS,
        .flags = neg ? REDISX__L1_NEGATIVE : 0,
        .epoch = epoch,
        .tags = snap,
        .tags_len = snap_len,
    };
    uint64_t ttl = (uint64_t)(f + (neg ? 0 : cache->cfg.stale_ms)) * REDISX__NS_PER_MS;
    bool stored;
    /* Too large for the L1: served from L2 only. */
    if (token)
        (void)redisx__l1_fill(cache->l1, name, klen, token, val, len, ttl, &meta, &stored);
    else
        (void)redisx__l1_set(cache->l1, name, klen, val, len, ttl, &meta);
}

/* ---- entries -------------------------------------------------------------------- */

/* An entry; a light one (an L1 hit: it never holds a lease) skips the
 * Redis keys and the token, most of an L1 hit's cost. */
static redisx_cache_entry *entry_make(redisx_cache *cache, const char *name, int light)
{
    redisx_cache_entry *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    e->name = redisx__strdup(name);
    if (!light) {
        e->key = redisx__key_build(redisx__client_options(cache->client)->prefix, cache->kind, name, "");
        e->lease = redisx__key_build(redisx__client_options(cache->client)->prefix, cache->kind, name, ":lease");
    }
    if (!e->name || (!light && (!e->key || !e->lease))) {
        free(e->name);
        free(e->key);
        free(e->lease);
        free(e);
        return NULL;
    }
    cache_ref(cache);
    e->cache = cache;
    if (!light)
        redisx__random_hex(e->token, 16);
    return e;
}

static redisx_cache_entry *entry_new(redisx_cache *cache, const char *name)
{
    return entry_make(cache, name, 0);
}

static void entry_destroy(redisx_cache_entry *e)
{
    redisx_cache *cache = e->cache;
    redisx__l1_value_release(e->l1v);
    free(e->val);
    free(e->snap);
    free(e->name);
    free(e->key);
    free(e->lease);
    free(e);
    redisx__cache_unref(cache);
}

static void noop_status(redisx_client *c, redisx_status st, void *user)
{
    (void)c, (void)st, (void)user;
}

void redisx__cache_entry_free(redisx_cache_entry *e)
{
    if (!e)
        return;
    if (e->owns) /* a load nobody will fill: let a waiter take over now */
        (void)redisx__cache_abandon_async(e, noop_status, NULL);
    entry_destroy(e);
}

/* A tagged L1 copy is valid while each of its tags' versions is the one
 * this process knows: an invalidation here, a tracking message or a
 * fallback message about a tag drops or moves that (docs/CACHE.md, "Tags"). */
static int l1_tags_current(redisx_cache *cache, const redisx__l1_value *v)
{
    redisx__tag tv[REDISX_CACHE_TAGS_MAX];
    long n = redisx__snap_parse((const char *)v->tags, v->tags_len, tv, REDISX_CACHE_TAGS_MAX);
    if (n < 0)
        return 0;
    for (long i = 0; i < n; i++) {
        int64_t known;
        /* Under tracking only versions Redis will report a change of. */
        if (!redisx__tagtab_get(cache->tags, tv[i].p, tv[i].len, cache->cfg.tracking, &known) ||
            known != tv[i].version)
            return 0;
    }
    return 1;
}

/* An L1 hit of `name`, fresh or not: the value (a reference) or NULL. */
static redisx__l1_value *l1_lookup(redisx_cache *cache, const char *name)
{
    redisx__l1_value *v = NULL;
    if (cache->l1 && redisx__l1_get(cache->l1, name, strlen(name), &v) != REDISX_OK)
        v = NULL;
    if (v && v->tags_len && !l1_tags_current(cache, v)) {
        redisx__l1_value_release(v);
        redisx__l1_invalidate(cache->l1, name, strlen(name));
        v = NULL;
    }
    return v;
}

/* An entry for a value found in the L1 (takes the reference v). */
static redisx_cache_entry *entry_from_l1(redisx_cache *cache, const char *name, redisx__l1_value *v,
                                         int64_t fresh_ns)
{
    redisx_cache_entry *e = entry_make(cache, name, 1);
    if (!e) {
        redisx__l1_value_release(v);
        return NULL;
    }
    e->l1v = v;
    e->layer = REDISX_CACHE_LAYER_L1;
    e->state = (v->flags & REDISX__L1_NEGATIVE) ? REDISX_CACHE_NEGATIVE : REDISX_CACHE_HIT;
    e->stale = fresh_ns <= 0;
    e->ttl_ms = fresh_ns / (int64_t)REDISX__NS_PER_MS;
    return e;
}

redisx_status redisx__cache_l1_fast(redisx_cache *cache, const char *name, redisx_cache_entry **out)
{
    *out = NULL;
    redisx_status st = redisx__cache_ready(cache);
    if (st != REDISX_OK || !cache->l1)
        return st == REDISX_OK ? REDISX_ERR_EMPTY : st;
    redisx__l1_value *v = l1_lookup(cache, name);
    if (v) {
        uint64_t now = redisx__l1_now(cache->l1);
        if (now < v->soft_expiry_ns) {
            cache_count(cache, REDISX_CACHE_L1_HITS);
            *out = entry_from_l1(cache, name, v, (int64_t)(v->soft_expiry_ns - now));
            return *out ? REDISX_OK : redisx__fail(REDISX_ERR_NOMEM, "out of memory");
        }
        redisx__l1_value_release(v);
    }
    return REDISX_ERR_EMPTY; /* counted as a miss by the fetch that follows */
}

/* ---- fetch and get ---------------------------------------------------------------- */

/* As begin_op in idem.c: a waiting fetch sleeps on a backoff timer and is
 * also woken by the PUBLISH of a fill or abandon on the key's lease; a woken
 * op's pending timer goes stale (gen) and the op lives until its last timer
 * fired. */
typedef struct fetch_op {
    redisx__req req;
    redisx_cache *cache;
    redisx_client *c;
    redisx__chan_waiter waiter;
    int in_flight, woken, timers, finished, get, waited;
    uint64_t gen;
    redisx_cache_entry *e;
    uint64_t l1_token; /* placeholder: a delete that overtakes the reply wins */
    int64_t swr_ms, sie_ms;
    char lease_arg[24], swr_arg[24], sie_arg[24], gap_arg[32];
    uint64_t give_up; /* monotonic ns */
    int64_t backoff_ms;
    redisx_cache_cb cb;
    void *user;
    /* Tags (docs/CACHE.md, "Tags"): the fetch's own (sorted, one block),
     * the snapshot of the last reply, a dead one the next attempt sends
     * (ARGV[7]: the script deletes an entry carrying it), and the reply's
     * decoded fields while the tags' versions are read. */
    redisx__tag *tags;
    size_t ntags;
    char *rsnap, *dead;
    size_t rsnap_len, dead_len;
    int64_t code, fresh, lease_left;
    int neg, has;
    uint64_t track_gen;
    unsigned track_lane;
    /* Coalescing: leading, this fetch's script is in flight and others of
     * the same key and windows may join it (followers, a list through
     * coal_next); under cache->mu. */
    int leading;
    unsigned coal_bucket;
    struct fetch_op *coal_next, *followers;
} fetch_op;

/* What a fetch's reply said, parsed once for the fetch that sent it and
 * for those that joined it (pointers into the reply). */
typedef struct fetch_answer {
    redisx_status st;
    int sent; /* the command went out: the script may have run */
    int64_t code, fresh, lease_left;
    int neg, has;
    const char *val, *snap;
    size_t len, snap_len;
    uint64_t track_gen;
    unsigned track_lane;
    char detail[REDISX__DETAIL]; /* st's message */
} fetch_answer;

static void fetch_free(fetch_op *op)
{
    if (op->e)
        entry_destroy(op->e); /* never handed out: holds no lease */
    redisx_cache *cache = op->cache;
    free(op->tags);
    free(op->rsnap);
    free(op->dead);
    free(op);
    redisx__cache_unref(cache);
}

static void fetch_maybe_free(fetch_op *op)
{
    if (op->finished && op->timers == 0 && !op->in_flight)
        fetch_free(op);
}

static void fetch_deliver(fetch_op *op, redisx_status st, redisx_cache_entry *e)
{
    if (op->cb) {
        op->cb(op->c, st, e, op->user);
        return;
    }
    redisx_item *it = redisx__completion_item(op->user, st);
    if (it) {
        it->cache_entry = e;
        redisx__queue_push(redisx__client_options(op->c)->queue, it);
    } else {
        redisx__cache_entry_free(e);
    }
}

const char *redisx__cache_entry_outcome(const redisx_cache_entry *e)
{
    switch (e->state) {
    case REDISX_CACHE_HIT:
        if (e->owns)
            return "refresh";
        if (e->stale)
            return "stale";
        return e->layer == REDISX_CACHE_LAYER_L1 ? "hit_l1" : "hit_l2";
    case REDISX_CACHE_LOAD:
        return "load";
    case REDISX_CACHE_NEGATIVE:
        return "negative";
    case REDISX_CACHE_MISS:
        break;
    }
    return "miss";
}

static void fetch_finish(fetch_op *op, redisx_status st)
{
    redisx__chan_unwait(op->c, &op->waiter);
    if (op->l1_token && op->cache->l1) /* nothing fresh came back for the L1 */
        redisx__l1_cancel(op->cache->l1, op->e->name, strlen(op->e->name), op->l1_token);
    op->l1_token = 0;
    redisx_cache_entry *e = st == REDISX_OK ? op->e : NULL;
    if (e)
        op->e = NULL;
    if (e && e->fail_open)
        cache_count(op->cache, REDISX_CACHE_FAIL_OPEN);
    if (e && e->stale && e->state == REDISX_CACHE_HIT)
        cache_count(op->cache, REDISX_CACHE_STALE_SERVED);
    if (e)
        op->req.outcome = redisx__cache_entry_outcome(e);
    redisx__req_finish(&op->req, st, e && e->fail_open);
    fetch_deliver(op, st, e);
    op->finished = 1;
    fetch_maybe_free(op);
}

/* Releases a lease an unanswered or cancelled fetch may hold. */
static void release_reply(redisx__cmd *cmd, redisx_status st, redisx_reply *r)
{
    (void)st;
    redisx__reply_free(r);
    redisx__cmd_free(cmd);
}

static void release_lease(redisx_client *c, const char *key, const char *lease, const char *token)
{
    const char *argv[] = {key, lease, "abandon", token};
    redisx__cmd *cmd = redisx__cmd_script(redisx__script_for(c, &redisx__script_cache_release), 2, 2, argv, NULL);
    if (!cmd)
        return; /* the lease passes on its own */
    cmd->fn = release_reply;
    redisx__submit(c, cmd);
}

static void fetch_cancel(redisx__req *req)
{
    fetch_op *op = (fetch_op *)req;
    if (op->finished)
        return;
    redisx__chan_unwait(op->c, &op->waiter);
    op->gen++;
    if (op->l1_token && op->cache->l1)
        redisx__l1_cancel(op->cache->l1, op->e->name, strlen(op->e->name), op->l1_token);
    op->l1_token = 0;
    redisx__req_cancelled(req);
    fetch_deliver(op, REDISX_ERR_CANCELLED, NULL);
    op->finished = 1;
    fetch_maybe_free(op);
}

static void fetch_send(fetch_op *op);

static void fetch_retry(redisx_client *c, void *ctx, uint64_t gen, int cancelled)
{
    (void)c;
    fetch_op *op = ctx;
    op->timers--;
    if (op->finished) {
        fetch_maybe_free(op);
        return;
    }
    if (gen != op->gen)
        return;
    if (cancelled) {
        fetch_finish(op, redisx__fail(REDISX_ERR_CLOSED, "client closed while waiting for cache key %s", op->e->name));
        return;
    }
    fetch_send(op);
}

static void fetch_wake(redisx__chan_waiter *w)
{
    fetch_op *op = (fetch_op *)((char *)w - offsetof(fetch_op, waiter));
    if (op->in_flight) {
        op->woken = 1;
    } else {
        op->gen++;
        fetch_send(op);
    }
}

/* Another caller loads: wait for its fill (PUBLISH, or a poll with jittered
 * backoff 10 ms doubling to 250 ms, never past the lease nor the deadline).
 * Returns 0 when the deadline passed. */
static int fetch_wait(fetch_op *op, int64_t lease_left_ms)
{
    uint64_t now = redisx__now_ns();
    if (!op->give_up || now >= op->give_up)
        return 0;
    if (redisx__client_closing(op->c)) {
        fetch_finish(op, redisx__fail(REDISX_ERR_CLOSED, "client closed while waiting for cache key %s",
                                      op->e->name));
        return 1;
    }
    op->waited = 1;
    redisx__chan_wait(op->c, &op->waiter);
    if (op->woken) {
        fetch_send(op);
        return 1;
    }
    int64_t d = op->backoff_ms;
    op->backoff_ms = op->backoff_ms * 2 > 250 ? 250 : op->backoff_ms * 2;
    uint64_t delay = (uint64_t)d * REDISX__NS_PER_MS;
    delay = delay / 2 + redisx__rand_below(delay / 2 + 1);
    uint64_t lease_end = (uint64_t)(lease_left_ms + 1) * REDISX__NS_PER_MS;
    if (lease_left_ms > 0 && lease_end < delay)
        delay = lease_end;
    uint64_t due = now + delay;
    if (due > op->give_up)
        due = op->give_up;
    if (redisx__timer_add(op->c, due, fetch_retry, op, ++op->gen) == REDISX_OK) {
        op->timers++;
        return 1;
    }
    fetch_finish(op, redisx__fail(REDISX_ERR_NOMEM, "out of memory"));
    return 1;
}

static void fetch_timeout(fetch_op *op)
{
    fetch_finish(op, redisx__fail(REDISX_ERR_TIMEOUT,
                                  "cache key %s: another caller's load did not finish within the wait", op->e->name));
}

/* Redis could not be reached: the L1's copy within stale-if-error, else a
 * load granted by the fail-open policy, single flight in this process. */
static void fetch_unreachable(fetch_op *op, redisx_status st)
{
    redisx_cache *cache = op->cache;
    redisx_cache_entry *e = op->e;
    if (!cache_fail_open(cache)) {
        fetch_finish(op, st);
        return;
    }
    redisx__log(op->c, REDISX_LOG_WARN, "cache key %s answered by the fail-open policy: %s", e->name,
                redisx__last_error_buf);
    e->fail_open = 1;
    redisx__l1_value *v = l1_lookup(cache, e->name);
    if (v) {
        uint64_t now = redisx__l1_now(cache->l1);
        int64_t fresh = (int64_t)(v->soft_expiry_ns - now);
        if (fresh > 0 || -fresh <= op->sie_ms * (int64_t)REDISX__NS_PER_MS) {
            e->l1v = v;
            e->layer = REDISX_CACHE_LAYER_L1;
            e->state = (v->flags & REDISX__L1_NEGATIVE) ? REDISX_CACHE_NEGATIVE : REDISX_CACHE_HIT;
            e->stale = fresh <= 0;
            e->ttl_ms = fresh / (int64_t)REDISX__NS_PER_MS;
            fetch_finish(op, REDISX_OK);
            return;
        }
        redisx__l1_value_release(v);
    }
    if (op->get) {
        e->state = REDISX_CACHE_MISS;
        fetch_finish(op, REDISX_OK);
        return;
    }
    size_t n = strlen(e->name);
    local_load *l = NULL;
    pthread_mutex_lock(&cache->mu);
    for (l = cache->loads; l; l = l->next)
        if (strcmp(l->name, e->name) == 0)
            break;
    int busy = l != NULL;
    if (!busy) {
        l = malloc(sizeof *l + n + 1);
        if (l) {
            memcpy(l->token, e->token, sizeof l->token);
            memcpy(l->name, e->name, n + 1);
            l->next = cache->loads;
            cache->loads = l;
        }
    }
    pthread_mutex_unlock(&cache->mu);
    if (busy) {
        e->fail_open = 0;
        if (!fetch_wait(op, 0))
            fetch_timeout(op);
        return;
    }
    if (!l) {
        fetch_finish(op, redisx__fail(REDISX_ERR_NOMEM, "out of memory"));
        return;
    }
    cache_count(cache, REDISX_CACHE_LOADS);
    e->state = REDISX_CACHE_LOAD;
    e->owns = e->local = 1;
    e->tags_unknown = op->ntags > 0; /* no versions to stamp it with */
    e->t_load = redisx__now_ns();
    fetch_finish(op, REDISX_OK);
}

/* ---- the fetch's reply -------------------------------------------------------------- */

static void fetch_decide(fetch_op *op);

/* After the entry's tags checked out: a caller given the lease for a
 * tagged fetch first reads its tags' versions, so that an invalidation
 * while it loads makes its fill stale on arrival. */
static void fetch_writer_done(void *ctx, redisx_status st, redisx__vers_read *vr)
{
    fetch_op *op = ctx;
    op->in_flight = 0;
    if (op->finished) {
        release_lease(op->c, op->e->key, op->e->lease, op->e->token);
        fetch_maybe_free(op);
        return;
    }
    if (st != REDISX_OK) {
        release_lease(op->c, op->e->key, op->e->lease, op->e->token);
        if (redisx__connection_failure(st)) {
            fetch_unreachable(op, st);
        } else {
            fetch_finish(op, st);
        }
        return;
    }
    free(op->e->snap);
    op->e->snap = redisx__snap_encode(vr->tags, vr->n, &op->e->snap_len);
    if (!op->e->snap) {
        release_lease(op->c, op->e->key, op->e->lease, op->e->token);
        fetch_finish(op, redisx__fail(REDISX_ERR_NOMEM, "out of memory"));
        return;
    }
    fetch_decide(op);
}

static void fetch_tags_ok(fetch_op *op)
{
    if (op->ntags && (op->code == 1 || op->code == 2 || op->code == 4)) {
        redisx_status st = redisx__cache_vers_read(op->cache, op->tags, op->ntags, fetch_writer_done, op);
        if (st == REDISX_OK) {
            op->in_flight = 1;
            return;
        }
        release_lease(op->c, op->e->key, op->e->lease, op->e->token);
        fetch_finish(op, st);
        return;
    }
    fetch_decide(op);
}

/* The entry's snapshot is dead: fetch again, telling the script to drop
 * an entry that carries it (it may have been rewritten meanwhile). */
static void fetch_dead(fetch_op *op)
{
    free(op->dead);
    op->dead = op->rsnap;
    op->dead_len = op->rsnap_len;
    op->rsnap = NULL;
    op->rsnap_len = 0;
    /* A lease this reply granted stays ours: the next attempt keeps it. */
    fetch_send(op);
}

static void fetch_check_done(void *ctx, redisx_status st, redisx__vers_read *vr)
{
    fetch_op *op = ctx;
    op->in_flight = 0;
    if (op->finished) {
        if (op->code == 1 || op->code == 2 || op->code == 4)
            release_lease(op->c, op->e->key, op->e->lease, op->e->token);
        fetch_maybe_free(op);
        return;
    }
    if (st != REDISX_OK) {
        if (op->code == 1 || op->code == 2 || op->code == 4)
            release_lease(op->c, op->e->key, op->e->lease, op->e->token);
        if (redisx__connection_failure(st))
            fetch_unreachable(op, st);
        else
            fetch_finish(op, st);
        return;
    }
    redisx__tag tv[REDISX_CACHE_TAGS_MAX];
    long n = redisx__snap_parse(op->rsnap, op->rsnap_len, tv, REDISX_CACHE_TAGS_MAX);
    for (long i = 0; i < n; i++) {
        if ((size_t)i >= vr->n || vr->tags[i].version != tv[i].version) {
            fetch_dead(op);
            return;
        }
    }
    fetch_tags_ok(op);
}

/* A value with a snapshot: valid while each tag's version is the current
 * one, from this process's table when Redis will tell it of a change
 * (tracking), else read from the tag keys. */
static void fetch_check_tags(fetch_op *op)
{
    redisx__tag tv[REDISX_CACHE_TAGS_MAX];
    long n = redisx__snap_parse(op->rsnap, op->rsnap_len, tv, REDISX_CACHE_TAGS_MAX);
    if (n <= 0) {
        fetch_dead(op);
        return;
    }
    int unknown = 0;
    for (long i = 0; i < n; i++) {
        int64_t known;
        if (op->cache->cfg.tracking && redisx__tagtab_get(op->cache->tags, tv[i].p, tv[i].len, 1, &known) &&
            known >= tv[i].version) {
            if (known > tv[i].version) {
                fetch_dead(op);
                return;
            }
            continue;
        }
        /* Unknown, or behind the entry (written after an invalidation whose
         * message is still on its way): read it. */
        unknown = 1;
    }
    if (!unknown) {
        fetch_tags_ok(op);
        return;
    }
    /* Every tag read again, in the snapshot's order (one round trip). */
    redisx_status st = redisx__cache_vers_read(op->cache, tv, (size_t)n, fetch_check_done, op);
    if (st == REDISX_OK) {
        op->in_flight = 1;
        return;
    }
    if (op->code == 1 || op->code == 2 || op->code == 4)
        release_lease(op->c, op->e->key, op->e->lease, op->e->token);
    fetch_finish(op, st);
}

static void fetch_apply(fetch_op *op, const fetch_answer *a)
{
    op->track_gen = a->track_gen;
    op->track_lane = a->track_lane;
    op->in_flight = 0;
    /* Unanswered: the script may have granted us the lease; give it back
     * rather than make the next caller wait for it to pass. */
    if (a->st != REDISX_OK && a->sent && redisx__connection_failure(a->st))
        release_lease(op->c, op->e->key, op->e->lease, op->e->token);
    int64_t code = a->st == REDISX_OK ? a->code : -1;
    if (op->finished) { /* cancelled: give back a lease this attempt took */
        if (code == 1 || code == 2 || code == 4)
            release_lease(op->c, op->e->key, op->e->lease, op->e->token);
        fetch_maybe_free(op);
        return;
    }
    if (a->st != REDISX_OK) {
        redisx__fail(a->st, "%s", a->detail);
        if (redisx__connection_failure(a->st))
            fetch_unreachable(op, a->st);
        else
            fetch_finish(op, a->st);
        return;
    }
    redisx_cache_entry *e = op->e;
    op->code = code;
    op->neg = a->neg;
    op->fresh = a->fresh;
    op->lease_left = a->lease_left;
    op->has = a->has;
    free(e->val);
    e->val = NULL;
    e->len = 0;
    free(op->rsnap);
    op->rsnap = NULL;
    op->rsnap_len = a->snap_len;
    if (op->rsnap_len && !(op->rsnap = redisx__memdup(a->snap, op->rsnap_len + 1))) {
        fetch_finish(op, redisx__fail(REDISX_ERR_NOMEM, "out of memory"));
        return;
    }
    if (op->has) {
        e->len = a->len;
        e->val = redisx__memdup(e->len ? a->val : "", e->len + 1);
        if (!e->val) {
            fetch_finish(op, redisx__fail(REDISX_ERR_NOMEM, "out of memory"));
            return;
        }
        e->layer = REDISX_CACHE_LAYER_L2;
        e->stale = op->fresh <= 0;
    }
    e->ttl_ms = op->fresh;
    if (op->has && op->rsnap_len)
        fetch_check_tags(op);
    else
        fetch_tags_ok(op);
}

/* ---- coalescing ---------------------------------------------------------------------
 *
 * A fetch of a key whose fetch (same mode and windows, untagged) is in
 * flight in this process joins it instead of sending its own script, and
 * gets the answer Redis would have given it right after: the same value,
 * but never the lease the first one got (an XFetch refresh is a plain HIT,
 * a stale value being refreshed is served as refreshed by another, a LOAD
 * is a WAIT for that load). So concurrent readers of a hot key cost one
 * round trip, and a cold key one load, as across processes. */

static unsigned coal_bucket_of(const char *name)
{
    uint32_t h = 2166136261u;
    for (const char *p = name; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    return h % REDISX__COAL_BUCKETS;
}

/* A fetch that joined another sends nothing, so the I/O thread has not
 * seen it: this task makes it cancellable there (redisx_cancel), as a
 * dispatch would have. op->timers holds it until then. */
static void coal_track_task(redisx__cmd *cmd, redisx_status st, redisx_reply *r)
{
    (void)st;
    redisx__reply_free(r);
    fetch_op *op = cmd->ctx;
    redisx__cmd_free(cmd);
    op->timers--;
    if (!op->finished)
        redisx__req_track(&op->req);
    fetch_maybe_free(op);
}

/* Joins a fetch in flight like op (1), or makes op one that others may
 * join (0). */
static int coal_join(fetch_op *op)
{
    if (op->ntags || op->dead)
        return 0; /* a tagged fetch reads tag versions; a dead snapshot is op's own */
    redisx_cache *cache = op->cache;
    unsigned b = coal_bucket_of(op->e->name);
    redisx__cmd *task = NULL;
    pthread_mutex_lock(&cache->mu);
    fetch_op *l = cache->coal[b];
    while (l && !(l->get == op->get && l->swr_ms == op->swr_ms && l->sie_ms == op->sie_ms &&
                  strcmp(l->e->name, op->e->name) == 0))
        l = l->coal_next;
    if (l && !(task = redisx__cmd_task())) {
        pthread_mutex_unlock(&cache->mu);
        return 0; /* out of memory: op sends its own (nobody may join it) */
    }
    if (l) {
        task->fn = coal_track_task;
        task->ctx = op;
        /* Before it is visible: the answer may be applied at once. */
        op->timers++;
        op->in_flight = 1;
        op->woken = 0;
        op->coal_next = l->followers;
        l->followers = op;
    } else {
        op->leading = 1;
        op->coal_bucket = b;
        op->coal_next = cache->coal[b];
        cache->coal[b] = op;
    }
    pthread_mutex_unlock(&cache->mu);
    if (!l)
        return 0;
    redisx__submit(op->c, task);
    return 1;
}

/* op's reply is here: nobody joins it any more; its followers. */
static fetch_op *coal_detach(fetch_op *op)
{
    if (!op->leading)
        return NULL;
    redisx_cache *cache = op->cache;
    pthread_mutex_lock(&cache->mu);
    for (fetch_op **p = &cache->coal[op->coal_bucket]; *p; p = &(*p)->coal_next) {
        if (*p == op) {
            *p = op->coal_next;
            break;
        }
    }
    fetch_op *f = op->followers;
    op->followers = op->coal_next = NULL;
    op->leading = 0;
    pthread_mutex_unlock(&cache->mu);
    return f;
}

/* The answer as a follower sees it: what the script answers a second
 * caller while the first holds the lease. */
static void coal_view(fetch_answer *f, const fetch_answer *a, int64_t lease_ms)
{
    *f = *a;
    f->sent = 0;
    if (f->st != REDISX_OK)
        return;
    if (f->code == 1) {
        f->code = 0;
    } else if (f->code == 2 || f->code == 4) {
        f->code = f->code == 2 ? 3 : 5;
        f->lease_left = lease_ms;
    }
}

static void fetch_reply(redisx__cmd *cmd, redisx_status st, redisx_reply *r)
{
    fetch_op *op = cmd->ctx;
    fetch_answer a = {.st = st, .sent = cmd->sent, .code = -1, .track_gen = cmd->track_gen,
                      .track_lane = (unsigned)cmd->track_lane % REDISX__L1_LANES};
    redisx__cmd_free(cmd);
    fetch_op *followers = coal_detach(op);
    if (st == REDISX_OK) {
        a.code = redisx__reply_int_at(r, 0, -1);
        if (r->type != REDISX_REPLY_ARRAY || r->elements != 9 || a.code < 0 || a.code > 6) {
            a.st = redisx__unexpected_reply(r, "cache_fetch");
        } else {
            const redisx_reply *rv = r->element[1], *rs = r->element[8];
            a.neg = redisx__reply_int_at(r, 2, 0) == 1;
            a.fresh = redisx__reply_int_at(r, 3, 0);
            a.lease_left = redisx__reply_int_at(r, 6, 0);
            a.has = redisx__reply_int_at(r, 7, 0) == 1;
            a.val = rv->type == REDISX_REPLY_STRING ? rv->str : NULL;
            a.len = a.val ? rv->len : 0;
            a.snap = rs->type == REDISX_REPLY_STRING ? rs->str : NULL;
            a.snap_len = a.snap ? rs->len : 0;
        }
    }
    if (a.st != REDISX_OK)
        redisx__copy_detail(a.detail, sizeof a.detail, redisx_last_error());
    while (followers) {
        fetch_op *f = followers;
        followers = f->coal_next;
        f->coal_next = NULL;
        fetch_answer fa;
        coal_view(&fa, &a, op->cache->cfg.lease_ms);
        fetch_apply(f, &fa);
    }
    fetch_apply(op, &a);
    redisx__reply_free(r);
}

static void fetch_decide(fetch_op *op)
{
    redisx_cache *cache = op->cache;
    redisx_cache_entry *e = op->e;
    int64_t code = op->code, fresh = op->fresh, lease_left = op->lease_left;
    int neg = op->neg, has = op->has;
    uint64_t track_gen = op->track_gen;
    unsigned track_lane = op->track_lane;
    switch (code) {
    case 0:
    case 1:
        cache_count(cache, REDISX_CACHE_L2_HITS);
        e->state = neg ? REDISX_CACHE_NEGATIVE : REDISX_CACHE_HIT;
        if (!cache->cfg.tracking) {
            l1_store(cache, e->name, op->l1_token, e->val, e->len, neg, fresh, 0, op->rsnap, op->rsnap_len);
        } else if (op->l1_token && redisx__tracking_current(op->c, track_gen) &&
                   (!redisx__tracking_fallback(op->c) || atomic_load(&cache->fb_ready))) {
            /* Under the placeholder (an overtaking invalidation dropped it)
             * and its connection's epoch (a loss of that connection kills it). */
            uint64_t *ep = &cache->lane_epoch[track_lane];
            if (!*ep)
                *ep = redisx__l1_epoch_new(cache->l1, track_lane);
            l1_store(cache, e->name, op->l1_token, e->val, e->len, neg, fresh, *ep, op->rsnap, op->rsnap_len);
        }
        else if (op->l1_token && cache->l1)
            redisx__l1_cancel(cache->l1, e->name, strlen(e->name), op->l1_token); /* read untracked: not kept */
        op->l1_token = 0;
        if (code == 1) {
            cache_count(cache, REDISX_CACHE_EARLY_REFRESHES);
            e->owns = 1;
            e->t_load = redisx__now_ns();
        }
        break;
    case 2:
    case 3:
        cache_count(cache, REDISX_CACHE_L2_HITS);
        e->state = REDISX_CACHE_HIT;
        if (code == 2) {
            e->owns = 1;
            e->t_load = redisx__now_ns();
        }
        break;
    case 4:
        cache_count(cache, REDISX_CACHE_L2_MISSES);
        cache_count(cache, REDISX_CACHE_LOADS);
        e->state = REDISX_CACHE_LOAD;
        e->owns = 1;
        e->t_load = redisx__now_ns();
        break;
    case 5:
        if (fetch_wait(op, lease_left))
            return;
        if (has) { /* stale-if-error: the wait ran out */
            e->state = REDISX_CACHE_HIT;
            break;
        }
        cache_count(cache, REDISX_CACHE_L2_MISSES);
        fetch_timeout(op);
        return;
    case 6:
        cache_count(cache, REDISX_CACHE_L2_MISSES);
        e->state = REDISX_CACHE_MISS;
        break;
    }
    if (op->waited && e->state != REDISX_CACHE_LOAD)
        cache_count(cache, REDISX_CACHE_WAITERS_WOKEN);
    fetch_finish(op, REDISX_OK);
}

static void fetch_send(fetch_op *op)
{
    if (coal_join(op))
        return; /* answered with the fetch it joined */
    redisx_cache_entry *e = op->e;
    /* A fresh XFetch draw per attempt. */
    snprintf(op->gap_arg, sizeof op->gap_arg, "%.9f", redisx__cache_xfetch_gap(op->cache->cfg.beta, 1.0 - rand01()));
    const char *argv[] = {e->key,      e->lease,    op->get ? "get" : "fetch", e->token, op->lease_arg,
                          op->swr_arg, op->sie_arg, op->gap_arg,               op->dead ? op->dead : ""};
    const size_t lens[] = {strlen(e->key),     strlen(e->lease),   strlen(argv[2]),   strlen(e->token),
                           strlen(op->lease_arg), strlen(op->swr_arg), strlen(op->sie_arg), strlen(op->gap_arg),
                           op->dead ? op->dead_len : 0};
    redisx__cmd *cmd = redisx__cmd_script(&redisx__script_cache_fetch, 2, 7, argv, lens);
    if (!cmd) {
        /* Nothing goes out: those that joined op fail with it. */
        fetch_answer a = {.st = REDISX_ERR_NOMEM, .code = -1, .detail = "out of memory"};
        for (fetch_op *f = coal_detach(op), *next; f; f = next) {
            next = f->coal_next;
            f->coal_next = NULL;
            fetch_apply(f, &a);
        }
        fetch_finish(op, redisx__fail(REDISX_ERR_NOMEM, "out of memory"));
        return;
    }
    cmd->fn = fetch_reply;
    cmd->ctx = op;
    cmd->req = &op->req;
    op->in_flight = 1;
    op->woken = 0;
    redisx__submit(op->c, cmd);
}

/* An L1 hit of an asynchronous call, delivered on the I/O thread. */
static void fetch_l1_task(redisx__cmd *cmd, redisx_status st, redisx_reply *r)
{
    (void)st;
    redisx__reply_free(r);
    fetch_op *op = cmd->ctx;
    redisx__cmd_free(cmd);
    op->in_flight = 0;
    if (op->finished) {
        fetch_maybe_free(op);
        return;
    }
    fetch_finish(op, REDISX_OK);
}

redisx_status redisx__cache_fetch_async(redisx_cache *cache, const char *key, int get, int64_t wait_ms,
                                        int64_t swr_ms, int64_t sie_ms, const redisx_tags *tags, redisx_cache_cb cb,
                                        void *user)
{
    redisx_status st = redisx__cache_ready(cache);
    if (st != REDISX_OK)
        return st;
    fetch_op *op = calloc(1, sizeof *op);
    if (!op)
        return redisx__fail(REDISX_ERR_NOMEM, "out of memory");
    op->e = entry_new(cache, key);
    if (!op->e || redisx__tags_canon(tags, &op->tags, &op->ntags) != REDISX_OK) {
        if (op->e)
            entry_destroy(op->e);
        free(op);
        return redisx__fail(REDISX_ERR_NOMEM, "out of memory");
    }
    cache_ref(cache);
    op->cache = cache;
    op->c = cache->client;
    op->get = get;
    if (swr_ms > cache->cfg.stale_ms)
        swr_ms = cache->cfg.stale_ms;
    if (sie_ms > cache->cfg.stale_ms)
        sie_ms = cache->cfg.stale_ms;
    op->swr_ms = swr_ms;
    op->sie_ms = sie_ms;
    redisx__fmt_i64(op->lease_arg, cache->cfg.lease_ms);
    redisx__fmt_i64(op->swr_arg, swr_ms);
    redisx__fmt_i64(op->sie_arg, sie_ms);
    op->backoff_ms = 10;
    op->waiter.channel = op->e->lease;
    op->waiter.wake = fetch_wake;
    op->cb = cb;
    op->user = user;
    redisx__req_init(&op->req, cache->client, get ? REDISX__OP_CACHE_GET : REDISX__OP_CACHE_FETCH, key);
    op->req.named = cache->named;
    redisx__req_cancellable(&op->req, user, fetch_cancel);
    if (wait_ms > 0 && !get)
        op->give_up = op->req.t0 + (uint64_t)wait_ms * REDISX__NS_PER_MS;
    redisx__l1_value *v = l1_lookup(cache, key);
    if (v) {
        uint64_t now = redisx__l1_now(cache->l1);
        if (now < v->soft_expiry_ns) {
            redisx__cmd *cmd = redisx__cmd_task();
            if (cmd) {
                cache_count(cache, REDISX_CACHE_L1_HITS);
                entry_destroy(op->e);
                op->e = entry_from_l1(cache, key, v, (int64_t)(v->soft_expiry_ns - now));
                v = NULL;
                cmd->fn = fetch_l1_task;
                cmd->ctx = op;
                op->in_flight = 1;
                if (!op->e) {
                    redisx__cmd_free(cmd);
                    op->in_flight = 0;
                    redisx__req_finish(&op->req, REDISX_ERR_NOMEM, 0);
                    op->finished = 1;
                    fetch_free(op);
                    return redisx__fail(REDISX_ERR_NOMEM, "out of memory");
                }
                redisx__submit(op->c, cmd);
                return REDISX_OK;
            }
        }
        redisx__l1_value_release(v);
    }
    if (cache->l1) {
        cache_count(cache, REDISX_CACHE_L1_MISSES);
        if (redisx__l1_reserve(cache->l1, key, strlen(key), &op->l1_token) != REDISX_OK)
            op->l1_token = 0;
    }
    fetch_send(op);
    return REDISX_OK;
}

/* ---- fill, abandon, set, delete --------------------------------------------------- */

typedef struct write_op {
    redisx__req req;
    redisx_cache *cache;
    redisx_client *c;
    char *name, *key, *lease;
    char token[33];
    char *val;
    size_t len;
    int neg, local, fail_open;
    int64_t ttl_ms, delta_ms;
    redisx_status_cb cb;
    void *user;
    /* A tagged write: its snapshot (ARGV[8]); no_l1: a tagged fill whose
     * tags' versions are unknown (fail open) keeps no L1 copy. A tagged
     * set reads its tags' versions first (tags, ntags). */
    char *snap;
    size_t snap_len;
    int no_l1;
    redisx__tag *tags;
    size_t ntags;
} write_op;

static void write_free(write_op *op)
{
    redisx_cache *cache = op->cache;
    free(op->snap);
    free(op->tags);
    free(op->name);
    free(op->key);
    free(op->lease);
    free(op->val);
    free(op);
    redisx__cache_unref(cache);
}

/* Ends this process's fail-open load of name (if token's) and wakes its
 * local waiters, as the PUBLISH would. */
static void local_done(write_op *op)
{
    redisx_cache *cache = op->cache;
    pthread_mutex_lock(&cache->mu);
    for (local_load **p = &cache->loads; *p; p = &(*p)->next) {
        if (strcmp((*p)->name, op->name) == 0 && strcmp((*p)->token, op->token) == 0) {
            local_load *l = *p;
            *p = l->next;
            free(l);
            break;
        }
    }
    pthread_mutex_unlock(&cache->mu);
    redisx__on_message(op->c, op->lease, strlen(op->lease));
}

static void write_stored(write_op *op)
{
    if (op->cache->cfg.tracking || op->no_l1) {
        /* A write is not a tracked read: an L1 copy of it would get no
         * invalidation. The next read (tracked) caches it. */
        if (op->cache->l1)
            redisx__l1_invalidate(op->cache->l1, op->name, strlen(op->name));
        return;
    }
    if (op->req.op == REDISX__OP_CACHE_FILL || op->req.op == REDISX__OP_CACHE_SET)
        l1_store(op->cache, op->name, 0, op->val, op->len, op->neg, op->ttl_ms, 0, op->snap, op->snap_len);
}

static void write_finish(write_op *op, redisx_status st)
{
    redisx__req_finish(&op->req, st, op->fail_open);
    redisx__deliver_status(op->c, op->cb, op->user, st);
    write_free(op);
}

void redisx__cache_publish_reply(redisx__cmd *cmd, redisx_status st, redisx_reply *r)
{
    (void)st;
    redisx__reply_free(r); /* best effort: an ACL refusal costs the fallback readers nothing but misses */
    redisx__cmd_free(cmd);
}

/* {prefix}:cache:<cache name>:invalidate, malloc'd. */
char *redisx__cache_fb_channel(const redisx_cache *cache)
{
    const char *prefix = redisx__client_options(cache->client)->prefix;
    size_t n = strlen(prefix) + 1 + strlen(cache->kind) + sizeof ":invalidate";
    char *ch = malloc(n);
    if (ch)
        snprintf(ch, n, "%s:%s:invalidate", prefix, cache->kind);
    return ch;
}

/* msg (len bytes) on the cache's fallback channel, best effort (docs/KEYS.md,
 * "The fallback channel"): PUBLISH on a standalone client; on a cluster
 * SPUBLISH, routed by the channel's own slot, so only the node serving it
 * carries the message and its subscribers (one per process whose nodes
 * refused tracking) read it there. */
void redisx__cache_fb_publish(redisx_cache *cache, const char *msg, size_t len)
{
    char *ch = redisx__cache_fb_channel(cache);
    if (!ch)
        return;
    int cluster = redisx__client_is_cluster(cache->client);
    const char *argv[] = {cluster ? "SPUBLISH" : "PUBLISH", ch, msg};
    const size_t lens[] = {strlen(argv[0]), strlen(ch), len};
    redisx__cmd *cmd = redisx__cmd_argv(3, argv, lens);
    if (cmd) {
        if (cluster) {
            cmd->slot = redisx__slot_of(ch, lens[1]);
            cmd->slot_known = 1;
        }
        cmd->fn = redisx__cache_publish_reply;
        redisx__submit(cache->client, cmd);
    }
    free(ch);
}

/* After a write that took effect: its key on the cache's fallback channel,
 * for readers whose server refused tracking (docs/CACHE.md). Sent after
 * the write's reply, so no reader can act on it before the write. */
static void publish_invalidation(write_op *op)
{
    redisx__cache_fb_publish(op->cache, op->name, strlen(op->name));
}

static void write_reply(redisx__cmd *cmd, redisx_status st, redisx_reply *r)
{
    write_op *op = cmd->ctx;
    redisx__cmd_free(cmd);
    if (op->local) { /* a fail-open load: this process's L1 only */
        redisx__reply_free(r);
        op->fail_open = 1;
        if (op->req.op == REDISX__OP_CACHE_FILL)
            write_stored(op);
        local_done(op);
        write_finish(op, REDISX_OK);
        return;
    }
    if (st != REDISX_OK) {
        if (redisx__connection_failure(st) && cache_fail_open(op->cache) && op->req.op != REDISX__OP_CACHE_DELETE) {
            op->fail_open = 1;
            write_stored(op);
            cache_count(op->cache, REDISX_CACHE_FAIL_OPEN);
            st = REDISX_OK;
        }
        write_finish(op, st);
        return;
    }
    if (r->type != REDISX_REPLY_INTEGER) {
        st = redisx__unexpected_reply(r, "cache");
    } else if (r->integer != 1) {
        if (op->req.op == REDISX__OP_CACHE_FILL)
            st = redisx__fail(REDISX_ERR_NOT_OWNER,
                              "cache key %s: the load's lease is no longer ours (it passed to another loader, or a "
                              "set or delete ended the load); nothing was stored",
                              op->name);
        /* an abandon after the lease passed: nothing left to release */
    } else {
        write_stored(op);
        if (op->req.op != REDISX__OP_CACHE_ABANDON)
            publish_invalidation(op);
    }
    redisx__reply_free(r);
    write_finish(op, st);
}

static write_op *write_new(redisx_cache *cache, redisx__op kind, const char *name, const char *key,
                           const char *lease, redisx_status_cb cb, void *user)
{
    write_op *op = calloc(1, sizeof *op);
    if (!op)
        return NULL;
    op->name = redisx__strdup(name);
    op->key = key ? redisx__strdup(key)
                  : redisx__key_build(redisx__client_options(cache->client)->prefix, cache->kind, name, "");
    op->lease = lease ? redisx__strdup(lease)
                      : redisx__key_build(redisx__client_options(cache->client)->prefix, cache->kind, name, ":lease");
    if (!op->name || !op->key || !op->lease) {
        free(op->name);
        free(op->key);
        free(op->lease);
        free(op);
        return NULL;
    }
    cache_ref(cache);
    op->cache = cache;
    op->c = cache->client;
    op->cb = cb;
    op->user = user;
    redisx__req_init(&op->req, cache->client, kind, name);
    op->req.named = cache->named;
    return op;
}

static redisx_status write_submit(write_op *op, redisx__cmd *cmd)
{
    if (!cmd) {
        redisx__req_finish(&op->req, REDISX_ERR_NOMEM, 0);
        write_free(op);
        return redisx__fail(REDISX_ERR_NOMEM, "out of memory");
    }
    cmd->fn = write_reply;
    cmd->ctx = op;
    cmd->req = &op->req;
    redisx__submit(op->c, cmd);
    return REDISX_OK;
}

/* len bytes and a NUL after them (the caller's buffer has no NUL). */
static char *value_copy(const void *val, size_t len)
{
    char *p = malloc(len + 1);
    if (p) {
        if (len)
            memcpy(p, val, len);
        p[len] = '\0';
    }
    return p;
}

static redisx_status value_fits(const redisx_cache *cache, const char *name, size_t len)
{
    if (len > cache->cfg.max_value)
        return redisx__fail(REDISX_ERR_INVALID,
                            "cache %s, key %s: a value of %zu bytes exceeds the cache's maximum of %zu bytes "
                            "(redisx_cache_set_max_value_bytes)",
                            cache->name, name, len, cache->cfg.max_value);
    return REDISX_OK;
}

/* ARGV of cache_fill.lua for op (token '' and force for a set). */
static redisx__cmd *fill_cmd(write_op *op, int force)
{
    char ttl[24], keep[24], delta[24];
    redisx__fmt_i64(ttl, op->ttl_ms);
    redisx__fmt_i64(keep, op->neg ? 0 : op->cache->cfg.stale_ms);
    redisx__fmt_i64(delta, op->delta_ms);
    const char *argv[] = {op->key, op->lease, force ? "" : op->token, op->len ? op->val : "", op->neg ? "1" : "0",
                          ttl, keep, delta, force ? "1" : "0", op->snap ? op->snap : ""};
    const size_t lens[] = {strlen(op->key), strlen(op->lease), force ? 0 : strlen(op->token), op->len, 1,
                           strlen(ttl), strlen(keep), strlen(delta), 1, op->snap ? op->snap_len : 0};
    return redisx__cmd_script(redisx__script_for(op->c, &redisx__script_cache_fill), 2, 8, argv, lens);
}

redisx_status redisx__cache_fill_async(redisx_cache_entry *e, const void *val, size_t len, int negative,
                                       int64_t ttl_ms, redisx_status_cb cb, void *user)
{
    redisx_cache *cache = e->cache;
    redisx_status st = negative ? REDISX_OK : value_fits(cache, e->name, len);
    if (st != REDISX_OK)
        return st;
    write_op *op = write_new(cache, REDISX__OP_CACHE_FILL, e->name, e->key, e->lease, cb, user);
    if (!op)
        return redisx__fail(REDISX_ERR_NOMEM, "out of memory");
    op->val = value_copy(val, len);
    if (!op->val) {
        redisx__req_finish(&op->req, REDISX_ERR_NOMEM, 0);
        write_free(op);
        return redisx__fail(REDISX_ERR_NOMEM, "out of memory");
    }
    memcpy(op->token, e->token, sizeof op->token);
    if (e->snap) {
        op->snap = redisx__memdup(e->snap, e->snap_len + 1);
        op->snap_len = e->snap_len;
        if (!op->snap) {
            redisx__req_finish(&op->req, REDISX_ERR_NOMEM, 0);
            write_free(op);
            return redisx__fail(REDISX_ERR_NOMEM, "out of memory");
        }
    }
    op->no_l1 = e->tags_unknown;
    op->len = negative ? 0 : len;
    op->neg = negative;
    op->local = e->local;
    op->ttl_ms = negative ? cache->cfg.negative_ttl_ms : redisx__cache_jitter(ttl_ms, cache->cfg.jitter, rand01());
    uint64_t took = redisx__now_ns() - e->t_load;
    op->delta_ms = (int64_t)(took / REDISX__NS_PER_MS) + 1;
    e->owns = e->local = 0;
    return write_submit(op, op->local ? redisx__cmd_task() : fill_cmd(op, 0));
}

redisx_status redisx__cache_abandon_async(redisx_cache_entry *e, redisx_status_cb cb, void *user)
{
    write_op *op = write_new(e->cache, REDISX__OP_CACHE_ABANDON, e->name, e->key, e->lease, cb, user);
    if (!op)
        return redisx__fail(REDISX_ERR_NOMEM, "out of memory");
    memcpy(op->token, e->token, sizeof op->token);
    op->local = e->local;
    e->owns = e->local = 0;
    cache_count(e->cache, REDISX_CACHE_LOAD_ERRORS);
    redisx__cmd *cmd = NULL;
    if (op->local) {
        cmd = redisx__cmd_task();
    } else {
        const char *argv[] = {op->key, op->lease, "abandon", op->token};
        cmd = redisx__cmd_script(redisx__script_for(op->c, &redisx__script_cache_release), 2, 2, argv, NULL);
    }
    return write_submit(op, cmd);
}

/* A tagged set: its tags' versions read, the write goes out with them. */
static void set_versions_done(void *ctx, redisx_status st, redisx__vers_read *vr)
{
    write_op *op = ctx;
    if (st == REDISX_OK && !(op->snap = redisx__snap_encode(vr->tags, vr->n, &op->snap_len)))
        st = redisx__fail(REDISX_ERR_NOMEM, "out of memory");
    if (st != REDISX_OK) {
        if (redisx__connection_failure(st) && cache_fail_open(op->cache)) {
            /* As an untagged set that cannot reach Redis, but no L1 copy:
             * without versions it could not be invalidated by tag. */
            op->fail_open = 1;
            op->no_l1 = 1;
            write_stored(op);
            cache_count(op->cache, REDISX_CACHE_FAIL_OPEN);
            st = REDISX_OK;
        }
        write_finish(op, st);
        return;
    }
    if (op->cache->l1) /* as below: no fetch reply older than this write may land */
        redisx__l1_invalidate(op->cache->l1, op->name, strlen(op->name));
    (void)write_submit(op, fill_cmd(op, 1)); /* out of memory: finished with it */
}

redisx_status redisx__cache_set_async(redisx_cache *cache, const char *key, const void *val, size_t len,
                                      int64_t ttl_ms, const redisx_tags *tags, redisx_status_cb cb, void *user)
{
    redisx_status st = redisx__cache_ready(cache);
    if (st == REDISX_OK)
        st = value_fits(cache, key, len);
    if (st != REDISX_OK)
        return st;
    write_op *op = write_new(cache, REDISX__OP_CACHE_SET, key, NULL, NULL, cb, user);
    if (!op)
        return redisx__fail(REDISX_ERR_NOMEM, "out of memory");
    op->val = value_copy(val, len);
    if (!op->val) {
        redisx__req_finish(&op->req, REDISX_ERR_NOMEM, 0);
        write_free(op);
        return redisx__fail(REDISX_ERR_NOMEM, "out of memory");
    }
    op->len = len;
    op->ttl_ms = redisx__cache_jitter(ttl_ms, cache->cfg.jitter, rand01());
    /* A fetch reply already on its way carries the old value: it must not
     * reach the L1 after this write. */
    if (cache->l1)
        redisx__l1_invalidate(cache->l1, key, strlen(key));
    if (redisx__tags_canon(tags, &op->tags, &op->ntags) != REDISX_OK) {
        redisx__req_finish(&op->req, REDISX_ERR_NOMEM, 0);
        write_free(op);
        return redisx__fail(REDISX_ERR_NOMEM, "out of memory");
    }
    if (op->ntags) {
        st = redisx__cache_vers_read(cache, op->tags, op->ntags, set_versions_done, op);
        if (st != REDISX_OK) {
            redisx__req_finish(&op->req, st, 0);
            write_free(op);
        }
        return st;
    }
    return write_submit(op, fill_cmd(op, 1));
}

redisx_status redisx__cache_delete_async(redisx_cache *cache, const char *key, redisx_status_cb cb, void *user)
{
    redisx_status st = redisx__cache_ready(cache);
    if (st != REDISX_OK)
        return st;
    write_op *op = write_new(cache, REDISX__OP_CACHE_DELETE, key, NULL, NULL, cb, user);
    if (!op)
        return redisx__fail(REDISX_ERR_NOMEM, "out of memory");
    if (cache->l1)
        redisx__l1_invalidate(cache->l1, key, strlen(key));
    const char *argv[] = {op->key, op->lease, "delete", ""};
    return write_submit(op, redisx__cmd_script(redisx__script_for(op->c, &redisx__script_cache_release), 2, 2, argv, NULL));
}

/* ---- accessors (ffi/cache.c checks for NULL) ----------------------------------------- */

redisx_cache *redisx__cache_of(const redisx_cache_entry *e)
{
    return e->cache;
}
int redisx__cache_entry_owns(const redisx_cache_entry *e)
{
    return e->owns;
}
redisx_cache_state redisx__cache_entry_state(const redisx_cache_entry *e)
{
    return e->state;
}
const char *redisx__cache_entry_key(const redisx_cache_entry *e)
{
    return e->name;
}
const void *redisx__cache_entry_value(const redisx_cache_entry *e, size_t *len)
{
    if (e->l1v) {
        *len = e->l1v->len;
        return e->l1v->data;
    }
    *len = e->val ? e->len : 0;
    return e->val;
}
int redisx__cache_entry_stale(const redisx_cache_entry *e)
{
    return e->stale;
}
int redisx__cache_entry_fail_open(const redisx_cache_entry *e)
{
    return e->fail_open;
}
redisx_cache_layer redisx__cache_entry_layer(const redisx_cache_entry *e)
{
    return e->layer;
}
int64_t redisx__cache_entry_ttl(const redisx_cache_entry *e)
{
    return e->ttl_ms;
}

uint64_t redisx__cache_entry_version(const redisx_cache_entry *e)
{
    return e->l1v ? e->l1v->version : 0;
}
