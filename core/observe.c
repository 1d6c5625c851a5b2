/* Counters, latency histograms, events. Operations are finished on the I/O
 * thread (or on the caller's thread for argument errors, which are not
 * operations and are not counted). */
#include <stdlib.h>
#include <string.h>

#include "client_impl.h"

static const struct {
    const char *primitive;
    const char *operation;
    redisx_primitive id;
} op_table[REDISX__OP_COUNT] = {
    [REDISX__OP_COMMAND] = {"client", "command", REDISX_PRIMITIVE_CLIENT},
    [REDISX__OP_LOCK_ACQUIRE] = {"lock", "acquire", REDISX_PRIMITIVE_LOCK},
    [REDISX__OP_LOCK_RELEASE] = {"lock", "release", REDISX_PRIMITIVE_LOCK},
    [REDISX__OP_LOCK_EXTEND] = {"lock", "extend", REDISX_PRIMITIVE_LOCK},
    [REDISX__OP_LOCK_RENEW] = {"lock", "renew", REDISX_PRIMITIVE_LOCK},
    [REDISX__OP_LOCK_INSPECT] = {"lock", "inspect", REDISX_PRIMITIVE_LOCK},
    [REDISX__OP_RL_CHECK] = {"ratelimit", "check", REDISX_PRIMITIVE_RATELIMIT},
    [REDISX__OP_RL_PEEK] = {"ratelimit", "peek", REDISX_PRIMITIVE_RATELIMIT},
    [REDISX__OP_RL_RESET] = {"ratelimit", "reset", REDISX_PRIMITIVE_RATELIMIT},
    [REDISX__OP_IDEM_BEGIN] = {"idempotency", "begin", REDISX_PRIMITIVE_IDEMPOTENCY},
    [REDISX__OP_IDEM_COMPLETE] = {"idempotency", "complete", REDISX_PRIMITIVE_IDEMPOTENCY},
    [REDISX__OP_IDEM_FAIL] = {"idempotency", "fail", REDISX_PRIMITIVE_IDEMPOTENCY},
    [REDISX__OP_CACHE_FETCH] = {"cache", "fetch", REDISX_PRIMITIVE_CACHE},
    [REDISX__OP_CACHE_GET] = {"cache", "get", REDISX_PRIMITIVE_CACHE},
    [REDISX__OP_CACHE_FILL] = {"cache", "fill", REDISX_PRIMITIVE_CACHE},
    [REDISX__OP_CACHE_ABANDON] = {"cache", "abandon", REDISX_PRIMITIVE_CACHE},
    [REDISX__OP_CACHE_SET] = {"cache", "set", REDISX_PRIMITIVE_CACHE},
    [REDISX__OP_CACHE_DELETE] = {"cache", "delete", REDISX_PRIMITIVE_CACHE},
    [REDISX__OP_STREAM_PUBLISH] = {"stream", "publish", REDISX_PRIMITIVE_CLIENT},
    [REDISX__OP_STREAM_DELIVER] = {"stream", "deliver", REDISX_PRIMITIVE_CLIENT},
    [REDISX__OP_STREAM_ACK] = {"stream", "ack", REDISX_PRIMITIVE_CLIENT},
    [REDISX__OP_STREAM_RETRY] = {"stream", "retry", REDISX_PRIMITIVE_CLIENT},
    [REDISX__OP_STREAM_DEAD_LETTER] = {"stream", "dead_letter", REDISX_PRIMITIVE_CLIENT},
    [REDISX__OP_STREAM_CLAIM] = {"stream", "claim", REDISX_PRIMITIVE_CLIENT},
    [REDISX__OP_STREAM_HANDLE] = {"stream", "handle", REDISX_PRIMITIVE_CLIENT},
    [REDISX__OP_STREAM_GROUP_INSPECT] = {"stream", "group_inspect", REDISX_PRIMITIVE_CLIENT},
    [REDISX__OP_STREAM_DLQ_LIST] = {"stream", "dlq_list", REDISX_PRIMITIVE_CLIENT},
    [REDISX__OP_STREAM_DLQ_INSPECT] = {"stream", "dlq_inspect", REDISX_PRIMITIVE_CLIENT},
    [REDISX__OP_STREAM_DLQ_REQUEUE] = {"stream", "dlq_requeue", REDISX_PRIMITIVE_CLIENT},
    [REDISX__OP_STREAM_DLQ_PURGE] = {"stream", "dlq_purge", REDISX_PRIMITIVE_CLIENT},
    [REDISX__OP_CACHE_INVALIDATE_TAGS] = {"cache", "invalidate_tags", REDISX_PRIMITIVE_CACHE},
};

const char *redisx__op_primitive(redisx__op op)
{
    return op < REDISX__OP_COUNT ? op_table[op].primitive : "";
}

const char *redisx__op_name(redisx__op op)
{
    return op < REDISX__OP_COUNT ? op_table[op].operation : "";
}

redisx_primitive redisx__op_primitive_id(redisx__op op)
{
    return op < REDISX__OP_COUNT ? op_table[op].id : REDISX_PRIMITIVE_CLIENT;
}

const uint64_t redisx__export_bound_ns[REDISX__EXPORT_BOUNDS] = {
    1000000ull, 5000000ull, 10000000ull, 50000000ull, 100000000ull, 500000000ull, 1000000000ull, 5000000000ull,
    10000000000ull,
};

static int export_bucket(uint64_t ns)
{
    int b = 0;
    while (b < REDISX__EXPORT_BOUNDS && ns > redisx__export_bound_ns[b])
        b++;
    return b;
}

void redisx__hist_add(redisx__hist *h, uint64_t ns)
{
    h->sum_ns += ns;
    h->b[export_bucket(ns)]++;
}

/* ---- per-name series ------------------------------------------------------ */

static const redisx__op named_base[REDISX__NAMED_KINDS] = {
    [REDISX__NAMED_LIMITER] = REDISX__OP_RL_CHECK,
    [REDISX__NAMED_CACHE] = REDISX__OP_CACHE_FETCH,
    [REDISX__NAMED_STREAM] = REDISX__OP_STREAM_PUBLISH,
};

/* Each kind's operations are contiguous from its base, but for the cache's
 * invalidate_tags, added after the others (the series' order is kept). */
static const int named_nops[REDISX__NAMED_KINDS] = {
    [REDISX__NAMED_LIMITER] = REDISX__OP_RL_RESET - REDISX__OP_RL_CHECK + 1,
    [REDISX__NAMED_CACHE] = REDISX__OP_CACHE_DELETE - REDISX__OP_CACHE_FETCH + 1,
    [REDISX__NAMED_STREAM] = REDISX__OP_STREAM_DLQ_PURGE - REDISX__OP_STREAM_PUBLISH + 1,
};

int redisx__named_slot(redisx__named_kind kind, redisx__op op)
{
    if (kind == REDISX__NAMED_CACHE && op == REDISX__OP_CACHE_INVALIDATE_TAGS)
        return named_nops[kind];
    int i = (int)op - (int)named_base[kind];
    return i >= 0 && i < named_nops[kind] ? i : -1;
}

redisx__op redisx__named_op_at(redisx__named_kind kind, int i)
{
    if (kind == REDISX__NAMED_CACHE && i == named_nops[kind])
        return REDISX__OP_CACHE_INVALIDATE_TAGS;
    return i >= 0 && i < named_nops[kind] ? (redisx__op)(named_base[kind] + i) : REDISX__OP_COUNT;
}

static unsigned named_hash(redisx__named_kind kind, const char *name, const char *group)
{
    uint32_t h = 2166136261u ^ (uint32_t)kind;
    for (const char *p = name; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    h = (h ^ 0xff) * 16777619u;
    for (const char *p = group ? group : ""; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    return h % (sizeof(((redisx_client *)0)->named_tab) / sizeof(redisx__named *));
}

static int named_is(const redisx__named *n, redisx__named_kind kind, const char *name, const char *group)
{
    return n->kind == kind && strcmp(n->name, name) == 0 &&
           (group ? n->group && strcmp(n->group, group) == 0 : !n->group);
}

redisx__named *redisx__named_get(redisx_client *c, redisx__named_kind kind, const char *name, const char *group)
{
    if (!name)
        return NULL;
    pthread_mutex_lock(&c->stats_mu);
    unsigned h = named_hash(kind, name, group);
    redisx__named *n = c->named_tab[h];
    while (n && !named_is(n, kind, name, group))
        n = n->hnext;
    if (!n && c->named_count[kind] >= REDISX__NAMED_MAX) {
        name = "_other"; /* bounded cardinality: the rest share one series */
        group = group ? "_other" : NULL;
        h = named_hash(kind, name, group);
        for (n = c->named_tab[h]; n && !named_is(n, kind, name, group); n = n->hnext)
            ;
    }
    if (!n && (n = calloc(1, sizeof *n)) != NULL) {
        n->kind = kind;
        n->name = redisx__strdup(name);
        n->group = group ? redisx__strdup(group) : NULL;
        if (!n->name || (group && !n->group)) {
            free(n->name);
            free(n->group);
            free(n);
            n = NULL;
        } else {
            n->hnext = c->named_tab[h];
            c->named_tab[h] = n;
            if (c->named_tail)
                c->named_tail->next = n;
            else
                c->named = n;
            c->named_tail = n;
            c->named_count[kind]++;
        }
    }
    pthread_mutex_unlock(&c->stats_mu);
    return n;
}

void redisx__named_stream_count(redisx__named *n, redisx_stream_counter which, int64_t k)
{
    if (n && which >= 0 && which < REDISX_STREAM_COUNTER_COUNT && k > 0)
        atomic_fetch_add_explicit(&n->stream[which], (unsigned long long)k, memory_order_relaxed);
}

void redisx__named_free_all(redisx_client *c)
{
    while (c->named) {
        redisx__named *n = c->named;
        c->named = n->next;
        free(n->name);
        free(n->group);
        free(n);
    }
    c->named_tail = NULL;
}

void redisx__lock_held_begin(redisx_client *c, uint64_t wait_ns)
{
    atomic_fetch_add(&c->locks_held, 1);
    pthread_mutex_lock(&c->stats_mu);
    redisx__hist_add(&c->lock_wait, wait_ns);
    pthread_mutex_unlock(&c->stats_mu);
}

void redisx__lock_held_end(redisx_client *c, uint64_t hold_ns)
{
    atomic_fetch_sub(&c->locks_held, 1);
    pthread_mutex_lock(&c->stats_mu);
    redisx__hist_add(&c->lock_hold, hold_ns);
    pthread_mutex_unlock(&c->stats_mu);
}

int redisx__hist_bucket(uint64_t ns)
{
    if (ns < (1ull << REDISX__HIST_MIN_LOG2))
        return 0;
    int log2 = 63 - __builtin_clzll(ns);
    if (log2 >= REDISX__HIST_MAX_LOG2)
        return REDISX__HIST_BUCKETS - 1;
    /* The 3 bits after the leading one pick the linear sub-bucket. */
    int sub = (int)((ns >> (log2 - 3)) & (REDISX__HIST_SUB - 1));
    return 1 + (log2 - REDISX__HIST_MIN_LOG2) * REDISX__HIST_SUB + sub;
}

int64_t redisx__hist_upper(int bucket)
{
    if (bucket <= 0)
        return (1ll << REDISX__HIST_MIN_LOG2) - 1;
    if (bucket >= REDISX__HIST_BUCKETS - 1)
        return INT64_MAX;
    int log2 = REDISX__HIST_MIN_LOG2 + (bucket - 1) / REDISX__HIST_SUB;
    int sub = (bucket - 1) % REDISX__HIST_SUB;
    int64_t base = 1ll << log2;
    return base + (base / REDISX__HIST_SUB) * (sub + 1) - 1;
}

void redisx__req_init(redisx__req *req, redisx_client *c, redisx__op op, const char *key)
{
    req->client = c;
    req->op = op;
    req->t0 = redisx__now_ns();
    req->round_trips = 0;
    req->rejected = 0;
    req->outcome = NULL;
    req->key = (key && c->opts.event_keys) ? redisx__strdup(key) : NULL;
    req->stream = req->group = NULL;
    req->named = NULL;
    req->node = NULL;
    req->user = NULL;
    req->cancel = NULL;
    req->tnext = req->tprev = NULL;
    req->tracked = 0;
    req->cancelled = 0;
    atomic_fetch_add(&c->client_counter[REDISX_CLIENT_IN_FLIGHT], 1);
}

void redisx__req_cancellable(redisx__req *req, void *user, void (*cancel)(redisx__req *req))
{
    req->user = user;
    req->cancel = cancel;
}

void redisx__req_track(redisx__req *req)
{
    if (req->tracked || !req->cancel)
        return;
    redisx_client *c = req->client;
    req->tprev = NULL;
    req->tnext = c->tracked;
    if (c->tracked)
        c->tracked->tprev = req;
    c->tracked = req;
    req->tracked = 1;
}

static void req_untrack(redisx__req *req)
{
    if (!req->tracked)
        return;
    redisx_client *c = req->client;
    if (req->tprev)
        req->tprev->tnext = req->tnext;
    else
        c->tracked = req->tnext;
    if (req->tnext)
        req->tnext->tprev = req->tprev;
    req->tracked = 0;
}

void redisx__req_cancelled(redisx__req *req)
{
    req->cancelled = 1;
    redisx__fail(REDISX_ERR_CANCELLED, "%s.%s cancelled by redisx_cancel", op_table[req->op].primitive,
                 op_table[req->op].operation);
    redisx__req_finish(req, REDISX_ERR_CANCELLED, 0);
}

void redisx__cancel_matching(redisx_client *c, void *user)
{
    /* A cancel() unlinks its own req (it finishes) and may finish others
     * of the same operation: restart from the head after each. */
    for (;;) {
        redisx__req *r = c->tracked;
        while (r && (r->user != user || r->cancelled))
            r = r->tnext;
        if (!r)
            return;
        r->cancel(r);
        if (r->tracked && !r->cancelled)
            req_untrack(r); /* a cancel() that could not: never loop on it */
    }
}

static int is_rejection(redisx_status st)
{
    return st == REDISX_ERR_LOCKED || st == REDISX_ERR_NOT_OWNER;
}

void redisx__req_finish(redisx__req *req, redisx_status st, int fail_open)
{
    redisx_client *c = req->client;
    req_untrack(req);
    uint64_t dur = redisx__now_ns() - req->t0;
    pthread_mutex_lock(&c->stats_mu);
    redisx__series *s = &c->series[req->op];
    s->counter[REDISX_COUNTER_CALLS]++;
    if (st == REDISX_OK && !req->rejected)
        s->counter[REDISX_COUNTER_OK]++;
    else if (st == REDISX_OK || is_rejection(st))
        s->counter[REDISX_COUNTER_REJECTED]++;
    else
        s->counter[REDISX_COUNTER_ERRORS]++;
    if (st == REDISX_ERR_TIMEOUT)
        s->counter[REDISX_COUNTER_TIMEOUTS]++;
    if (fail_open)
        s->counter[REDISX_COUNTER_FAIL_OPEN]++;
    s->counter[REDISX_COUNTER_ROUND_TRIPS] += (uint64_t)req->round_trips;
    s->bucket[redisx__hist_bucket(dur)]++;
    s->sum_ns += dur;
    s->export_bucket[export_bucket(dur)]++;
    if (req->named) {
        int i = redisx__named_slot(req->named->kind, req->op);
        if (i >= 0 && i < REDISX__NAMED_OPS) {
            redisx__named_op *n = &req->named->op[i];
            n->calls++;
            if (st == REDISX_OK && !req->rejected)
                n->ok++;
            else if (st == REDISX_OK || is_rejection(st))
                n->rejected++;
            else
                n->errors++;
            if (st == REDISX_ERR_TIMEOUT)
                n->timeouts++;
            if (fail_open)
                n->fail_open++;
            redisx__hist_add(&n->h, dur);
        }
    }
    pthread_mutex_unlock(&c->stats_mu);
    atomic_fetch_sub(&c->client_counter[REDISX_CLIENT_IN_FLIGHT], 1);

    redisx_event ev = {
        .primitive = op_table[req->op].primitive,
        .operation = op_table[req->op].operation,
        .status = st,
        .fail_open = fail_open,
        .duration_ns = (int64_t)dur,
        .round_trips = req->round_trips,
        .key = req->key,
        .outcome = req->outcome,
        .stream = req->stream,
        .group = req->group,
        .node = req->node,
    };
    if (st == REDISX_OK)
        redisx__clear_error();
    if (c->opts.event_cb) {
        /* The event callback must not disturb the detail the completion that
         * follows it carries. */
        char saved[sizeof redisx__last_error_buf];
        memcpy(saved, redisx__last_error_buf, sizeof saved);
        c->opts.event_cb(c, &ev, c->opts.event_user);
        memcpy(redisx__last_error_buf, saved, sizeof saved);
    }
    if (c->opts.queue && (c->opts.queue_what & REDISX_QUEUE_EVENTS)) {
        redisx_item *it = redisx__item_new(REDISX_ITEM_EVENT, NULL, REDISX_OK, "");
        if (it) {
            it->event = ev;
            it->event_key = req->key;
            it->event.key = req->key;
            req->key = NULL; /* moved into the item */
            it->event_stream = req->stream ? redisx__strdup(req->stream) : NULL;
            it->event_group = req->group ? redisx__strdup(req->group) : NULL;
            it->event.stream = it->event_stream;
            it->event.group = it->event_group;
            it->event_node = req->node ? redisx__strdup(req->node) : NULL;
            it->event.node = it->event_node;
            redisx__queue_push(c->opts.queue, it);
        }
    }
    free(req->key);
    req->key = NULL;
}

redisx_item *redisx__completion_item(void *user, redisx_status st)
{
    return redisx__item_new(REDISX_ITEM_COMPLETION, user, st, st == REDISX_OK ? "" : redisx__last_error_buf);
}

void redisx__deliver_status(redisx_client *c, redisx_status_cb cb, void *user, redisx_status st)
{
    if (cb) {
        cb(c, st, user);
        return;
    }
    redisx_item *it = redisx__completion_item(user, st);
    if (it)
        redisx__queue_push(c->opts.queue, it);
}

void redisx__stats_add_client(redisx_client *c, redisx_client_counter which, int64_t delta)
{
    atomic_fetch_add(&c->client_counter[which], delta);
}

redisx_status redisx__stats_snapshot(redisx_stats **out, redisx_client *c)
{
    redisx_stats *s = calloc(1, sizeof *s);
    if (!s)
        return redisx__fail(REDISX_ERR_NOMEM, "out of memory");
    pthread_mutex_lock(&c->stats_mu);
    memcpy(s->series, c->series, sizeof s->series);
    redisx__cache_stats_sum(c->caches, s->cache);
    for (const redisx__named *n = c->named; n; n = n->next) /* freed caches count on */
        if (n->kind == REDISX__NAMED_CACHE)
            for (int i = 0; i < REDISX_CACHE_COUNTER_COUNT; i++)
                s->cache[i] += n->cache_retired[i];
    pthread_mutex_unlock(&c->stats_mu);
    for (int i = 0; i < REDISX__CLIENT_COUNTERS; i++) {
        long long v = atomic_load(&c->client_counter[i]);
        s->client[i] = v < 0 ? 0 : (uint64_t)v;
    }
    for (int i = 0; i < REDISX_STREAM_COUNTER_COUNT; i++) {
        long long v = atomic_load(&c->stream_counter[i]);
        s->stream[i] = v < 0 ? 0 : (uint64_t)v;
    }
    *out = s;
    return REDISX_OK;
}

redisx_cache **redisx__client_caches_lock(redisx_client *c)
{
    pthread_mutex_lock(&c->stats_mu);
    return &c->caches;
}

void redisx__client_caches_unlock(redisx_client *c)
{
    pthread_mutex_unlock(&c->stats_mu);
}
