/* Metrics for exporters (metrics.h): the one table of redisx's metric
 * families, filled from a stats snapshot. Label values are static strings
 * (operation names, fixed statuses), so a collection allocates only its
 * arrays. docs/METRICS.md lists every family; keep it in step. */
#include <stdlib.h>
#include <string.h>

#include "client_impl.h"

#include "metrics_impl.h"

/* The OpenTelemetry instrument of each family (docs/OPENTELEMETRY.md): one
 * table here, so the three packages export the same names and units. Every
 * family collected below has a row (tests/c/test_metrics.c checks it). */
static const struct {
    const char *family, *otel, *unit;
} otel_names[] = {
    {"redisx_operations_total", "redisx.operations", "{operation}"},
    {"redisx_round_trips_total", "redisx.round_trips", "{command}"},
    {"redisx_operation_duration_seconds", "db.client.operation.duration", "s"},
    {"redisx_lock_acquisitions_total", "redisx.lock.acquisitions", "{acquisition}"},
    {"redisx_lock_wait_duration_seconds", "redisx.lock.wait.duration", "s"},
    {"redisx_lock_hold_duration_seconds", "redisx.lock.hold.duration", "s"},
    {"redisx_locks_held", "redisx.locks.held", "{lock}"},
    {"redisx_ratelimit_requests_total", "redisx.ratelimit.requests", "{request}"},
    {"redisx_ratelimit_duration_seconds", "redisx.ratelimit.duration", "s"},
    {"redisx_idempotency_requests_total", "redisx.idempotency.requests", "{request}"},
    {"redisx_cache_hits_total", "redisx.cache.hits", "{hit}"},
    {"redisx_cache_misses_total", "redisx.cache.misses", "{miss}"},
    {"redisx_cache_loads_total", "redisx.cache.loads", "{load}"},
    {"redisx_cache_load_errors_total", "redisx.cache.load_errors", "{load}"},
    {"redisx_cache_stampedes_avoided_total", "redisx.cache.stampedes_avoided", "{wait}"},
    {"redisx_cache_stale_served_total", "redisx.cache.stale_served", "{value}"},
    {"redisx_cache_early_refreshes_total", "redisx.cache.early_refreshes", "{refresh}"},
    {"redisx_cache_fail_open_total", "redisx.cache.fail_open", "{answer}"},
    {"redisx_cache_evictions_total", "redisx.cache.evictions", "{entry}"},
    {"redisx_cache_l1_entries", "redisx.cache.l1.entries", "{entry}"},
    {"redisx_cache_l1_bytes", "redisx.cache.l1.bytes", "By"},
    {"redisx_cache_duration_seconds", "redisx.cache.duration", "s"},
    {"redisx_stream_messages_published_total", "redisx.stream.messages.published", "{message}"},
    {"redisx_stream_messages_delivered_total", "redisx.stream.messages.delivered", "{message}"},
    {"redisx_stream_messages_consumed_total", "redisx.stream.messages.consumed", "{message}"},
    {"redisx_stream_messages_retried_total", "redisx.stream.messages.retried", "{message}"},
    {"redisx_stream_messages_dead_lettered_total", "redisx.stream.messages.dead_lettered", "{message}"},
    {"redisx_stream_messages_claimed_total", "redisx.stream.messages.claimed", "{message}"},
    {"redisx_stream_duration_seconds", "redisx.stream.duration", "s"},
    {"redisx_stream_group_pending", "redisx.stream.group.pending", "{message}"},
    {"redisx_stream_group_lag", "redisx.stream.group.lag", "{message}"},
    {"redisx_stream_group_consumers", "redisx.stream.group.consumers", "{consumer}"},
    {"redisx_connects_total", "redisx.connects", "{connection}"},
    {"redisx_disconnects_total", "redisx.disconnects", "{connection}"},
    {"redisx_connect_failures_total", "redisx.connect_failures", "{attempt}"},
    {"redisx_script_reloads_total", "redisx.script_reloads", "{script}"},
    {"redisx_operations_in_flight", "redisx.operations.in_flight", "{operation}"},
    {"redisx_connections_up", "redisx.connections.up", "{connection}"},
    {"redisx_node_connections_up", "redisx.node.connections.up", "{connection}"},
    {"redisx_circuit_breaker_opens_total", "redisx.circuit_breaker.opens", "{open}"},
    {"redisx_circuit_breaker_rejected_total", "redisx.circuit_breaker.rejected", "{operation}"},
    {"redisx_circuit_breakers_open", "redisx.circuit_breakers.open", "{breaker}"},
    {"redisx_wakeups_total", "redisx.wakeups", "{wakeup}"},
    {"redisx_cluster_redirects_total", "redisx.cluster.redirects", "{redirect}"},
    {"redisx_cluster_retries_total", "redisx.cluster.retries", "{retry}"},
    {"redisx_cluster_slot_refreshes_total", "redisx.cluster.slot_refreshes", "{refresh}"},
};

static void otel_of(family *f)
{
    for (size_t i = 0; i < sizeof otel_names / sizeof otel_names[0]; i++)
        if (strcmp(otel_names[i].family, f->name) == 0) {
            f->otel = otel_names[i].otel;
            f->unit = otel_names[i].unit;
            return;
        }
}

static family *fam(redisx_metrics *m, const char *name, const char *help, redisx_metric_type type, int nlabels,
                   const char *l0, const char *l1, const char *l2)
{
    if (m->failed)
        return NULL;
    if (m->n == m->cap) {
        int cap = m->cap ? m->cap * 2 : 32;
        family *nf = realloc(m->f, (size_t)cap * sizeof *nf);
        if (!nf) {
            m->failed = 1;
            return NULL;
        }
        m->f = nf;
        m->cap = cap;
    }
    family *f = &m->f[m->n++];
    memset(f, 0, sizeof *f);
    f->name = name;
    f->help = help;
    f->type = type;
    f->nlabels = nlabels;
    f->label_name[0] = l0;
    f->label_name[1] = l1;
    f->label_name[2] = l2;
    otel_of(f);
    return f;
}

static sample *add(redisx_metrics *m, family *f, double value, const char *v0, const char *v1, const char *v2)
{
    if (!f || m->failed)
        return NULL;
    if (f->n == f->cap) {
        int cap = f->cap ? f->cap * 2 : 8;
        sample *ns = realloc(f->s, (size_t)cap * sizeof *ns);
        if (!ns) {
            m->failed = 1;
            return NULL;
        }
        f->s = ns;
        f->cap = cap;
    }
    sample *s = &f->s[f->n++];
    memset(s, 0, sizeof *s);
    s->label[0] = v0;
    s->label[1] = v1;
    s->label[2] = v2;
    s->value = value;
    return s;
}

static const redisx__series *series_of(const redisx_stats *st, redisx__op op)
{
    return &st->series[op];
}

/* Outcome counters of one operation under the names NestJS RedisX uses for
 * the same meaning (status label values of its own). */
static void outcomes(redisx_metrics *m, const redisx_stats *st, redisx__op op, const char *name, const char *help,
                     const char *ok, const char *rejected)
{
    const redisx__series *s = series_of(st, op);
    family *f = fam(m, name, help, REDISX_METRIC_COUNTER, 1, "status", NULL, NULL);
    const uint64_t *c = s->counter;
    add(m, f, (double)(c[REDISX_COUNTER_OK] - c[REDISX_COUNTER_FAIL_OPEN]), ok, NULL, NULL);
    add(m, f, (double)c[REDISX_COUNTER_REJECTED], rejected, NULL, NULL);
    add(m, f, (double)c[REDISX_COUNTER_FAIL_OPEN], "fail_open", NULL, NULL);
    add(m, f, (double)c[REDISX_COUNTER_ERRORS], "error", NULL, NULL);
}

static void one(redisx_metrics *m, const char *name, const char *help, redisx_metric_type type, double v)
{
    add(m, fam(m, name, help, type, 0, NULL, NULL, NULL), v, NULL, NULL, NULL);
}

/* A copy of a client's per-name entries, taken under its stats lock. */
typedef struct named_copy {
    redisx__named_kind kind;
    const char *name, *group; /* owned by the metrics */
    redisx__named_op op[REDISX__NAMED_OPS];
    uint64_t stream[REDISX_STREAM_COUNTER_COUNT];
    uint64_t cache[REDISX_CACHE_COUNTER_COUNT]; /* retired plus live caches of that name */
    int group_seen;
    int64_t group_pending, group_lag, group_consumers;
} named_copy;

typedef struct extra {
    named_copy *named;
    int nnamed;
    redisx__hist lock_wait, lock_hold;
    uint64_t locks_held;
} extra;

static const char *own(redisx_metrics *m, const char *v)
{
    if (!v || m->failed)
        return NULL;
    if (m->nstrs == m->capstrs) {
        int cap = m->capstrs ? m->capstrs * 2 : 16;
        char **ns = realloc(m->strs, (size_t)cap * sizeof *ns);
        if (!ns) {
            m->failed = 1;
            return NULL;
        }
        m->strs = ns;
        m->capstrs = cap;
    }
    char *d = redisx__strdup(v);
    if (!d) {
        m->failed = 1;
        return NULL;
    }
    m->strs[m->nstrs++] = d;
    return d;
}

static void take_extra(redisx_metrics *m, redisx_client *c, extra *x)
{
    pthread_mutex_lock(&c->stats_mu);
    int n = 0;
    for (redisx__named *e = c->named; e; e = e->next)
        n++;
    x->named = n ? calloc((size_t)n, sizeof *x->named) : NULL;
    if (n && !x->named)
        m->failed = 1;
    for (redisx__named *e = x->named ? c->named : NULL; e; e = e->next) {
        named_copy *d = &x->named[x->nnamed++];
        d->kind = e->kind;
        d->name = own(m, e->name);
        d->group = e->group ? own(m, e->group) : NULL;
        memcpy(d->op, e->op, sizeof d->op);
        for (int i = 0; i < REDISX_STREAM_COUNTER_COUNT; i++)
            d->stream[i] = atomic_load_explicit(&e->stream[i], memory_order_relaxed);
        memcpy(d->cache, e->cache_retired, sizeof d->cache);
        d->group_seen = atomic_load(&e->group_seen);
        d->group_pending = atomic_load(&e->group_pending);
        d->group_lag = atomic_load(&e->group_lag);
        d->group_consumers = atomic_load(&e->group_consumers);
        if (e->kind == REDISX__NAMED_CACHE)
            for (const redisx_cache *k = c->caches; k; k = redisx__cache_next(k))
                if (redisx__cache_named(k) == e)
                    for (int i = 0; i < REDISX_CACHE_COUNTER_COUNT; i++)
                        d->cache[i] += redisx__cache_counter(k, (redisx_cache_counter)i);
    }
    x->lock_wait = c->lock_wait;
    x->lock_hold = c->lock_hold;
    pthread_mutex_unlock(&c->stats_mu);
    long long held = atomic_load(&c->locks_held);
    x->locks_held = held < 0 ? 0 : (uint64_t)held;
}

static void hist_sample(redisx_metrics *m, family *f, const redisx__hist *h, const char *v0, const char *v1,
                        const char *v2)
{
    sample *s = add(m, f, (double)h->sum_ns / 1e9, v0, v1, v2);
    if (!s)
        return;
    uint64_t cum = 0;
    for (int b = 0; b < REDISX__EXPORT_BOUNDS; b++) {
        cum += h->b[b];
        s->cum[b] = cum;
    }
    s->count = cum + h->b[REDISX__EXPORT_BOUNDS];
}

/* Duration histograms of one primitive's operations, per name. */
static void named_durations(redisx_metrics *m, const extra *x, redisx__named_kind kind, const char *name,
                            const char *help, const char *l0, const char *l1)
{
    family *f = fam(m, name, help, REDISX_METRIC_HISTOGRAM, l1 ? 3 : 2, l0, l1 ? l1 : "operation",
                    l1 ? "operation" : NULL);
    for (int i = 0; i < x->nnamed; i++) {
        const named_copy *e = &x->named[i];
        if (e->kind != kind)
            continue;
        for (int o = 0; o < REDISX__NAMED_OPS; o++) {
            redisx__op which = redisx__named_op_at(kind, o);
            if (which == REDISX__OP_COUNT || !e->op[o].calls)
                continue;
            const char *op = redisx__op_name(which);
            if (l1)
                hist_sample(m, f, &e->op[o].h, e->name, e->group ? e->group : "", op);
            else
                hist_sample(m, f, &e->op[o].h, e->name, op, NULL);
        }
    }
}

static void named_cache_counter(redisx_metrics *m, const extra *x, const char *name, const char *help,
                                redisx_metric_type type, redisx_cache_counter which)
{
    family *f = fam(m, name, help, type, 1, "cache", NULL, NULL);
    for (int i = 0; i < x->nnamed; i++)
        if (x->named[i].kind == REDISX__NAMED_CACHE)
            add(m, f, (double)x->named[i].cache[which], x->named[i].name, NULL, NULL);
}

static void named_cache_layers(redisx_metrics *m, const extra *x, const char *name, const char *help,
                               redisx_cache_counter l1, redisx_cache_counter l2)
{
    family *f = fam(m, name, help, REDISX_METRIC_COUNTER, 2, "cache", "layer", NULL);
    for (int i = 0; i < x->nnamed; i++) {
        const named_copy *e = &x->named[i];
        if (e->kind != REDISX__NAMED_CACHE)
            continue;
        add(m, f, (double)e->cache[l1], e->name, "l1", NULL);
        add(m, f, (double)e->cache[l2], e->name, "l2", NULL);
    }
}

/* A stream counter per stream (publishing: no group) or per stream and
 * group (consuming). */
static void named_stream_counter(redisx_metrics *m, const extra *x, const char *name, const char *help,
                                 redisx_stream_counter which, int grouped)
{
    family *f = fam(m, name, help, REDISX_METRIC_COUNTER, grouped ? 2 : 1, "stream", grouped ? "group" : NULL,
                    NULL);
    for (int i = 0; i < x->nnamed; i++) {
        const named_copy *e = &x->named[i];
        if (e->kind != REDISX__NAMED_STREAM || !e->group != !grouped)
            continue;
        add(m, f, (double)e->stream[which], e->name, grouped ? e->group : NULL, NULL);
    }
}

typedef struct node_up {
    redisx_metrics *m;
    family *f;
} node_up;

static void count_node(void *u, const char *endpoint, int up)
{
    node_up *n = u;
    for (int i = 0; n->f && i < n->f->n; i++) {
        if (strcmp(n->f->s[i].label[0], endpoint) == 0) {
            n->f->s[i].value += up;
            return;
        }
    }
    add(n->m, n->f, up, own(n->m, endpoint), NULL, NULL);
}

static void collect(redisx_metrics *m, const redisx_stats *st, const extra *x)
{
    /* Every operation: outcomes, round trips, durations. */
    family *ops = fam(m, "redisx_operations_total", "Operations finished, by primitive, operation and status",
                      REDISX_METRIC_COUNTER, 3, "primitive", "operation", "status");
    family *rts = fam(m, "redisx_round_trips_total", "Commands written to Redis, by primitive and operation",
                      REDISX_METRIC_COUNTER, 2, "primitive", "operation", NULL);
    family *dur = fam(m, "redisx_operation_duration_seconds",
                      "Duration of operations (a wait included), by primitive and operation", REDISX_METRIC_HISTOGRAM,
                      2, "primitive", "operation", NULL);
    for (int op = 0; op < REDISX__OP_COUNT; op++) {
        const redisx__series *s = series_of(st, (redisx__op)op);
        const uint64_t *c = s->counter;
        if (c[REDISX_COUNTER_CALLS] == 0)
            continue;
        const char *p = redisx__op_primitive((redisx__op)op), *o = redisx__op_name((redisx__op)op);
        uint64_t timeouts = c[REDISX_COUNTER_TIMEOUTS] <= c[REDISX_COUNTER_ERRORS] ? c[REDISX_COUNTER_TIMEOUTS]
                                                                                 : c[REDISX_COUNTER_ERRORS];
        add(m, ops, (double)(c[REDISX_COUNTER_OK] - c[REDISX_COUNTER_FAIL_OPEN]), p, o, "ok");
        add(m, ops, (double)c[REDISX_COUNTER_FAIL_OPEN], p, o, "fail_open");
        add(m, ops, (double)c[REDISX_COUNTER_REJECTED], p, o, "rejected");
        add(m, ops, (double)timeouts, p, o, "timeout");
        add(m, ops, (double)(c[REDISX_COUNTER_ERRORS] - timeouts), p, o, "error");
        add(m, rts, (double)c[REDISX_COUNTER_ROUND_TRIPS], p, o, NULL);
        sample *h = add(m, dur, (double)s->sum_ns / 1e9, p, o, NULL);
        if (h) {
            uint64_t cum = 0;
            for (int b = 0; b < REDISX__EXPORT_BOUNDS; b++) {
                cum += s->export_bucket[b];
                h->cum[b] = cum;
            }
            h->count = cum + s->export_bucket[REDISX__EXPORT_BOUNDS];
        }
    }

    /* The primitives' own families. */
    outcomes(m, st, REDISX__OP_LOCK_ACQUIRE, "redisx_lock_acquisitions_total", "Lock acquisitions, by status",
             "acquired", "held");
    family *rl = fam(m, "redisx_ratelimit_requests_total", "Rate-limit checks, by limiter and status",
                     REDISX_METRIC_COUNTER, 2, "limiter", "status", NULL);
    for (int i = 0; i < x->nnamed; i++) {
        const named_copy *e = &x->named[i];
        const redisx__named_op *o = &e->op[0]; /* check */
        if (e->kind != REDISX__NAMED_LIMITER || !o->calls)
            continue;
        add(m, rl, (double)(o->ok - o->fail_open), e->name, "allowed", NULL);
        add(m, rl, (double)o->rejected, e->name, "rejected", NULL);
        add(m, rl, (double)o->fail_open, e->name, "fail_open", NULL);
        add(m, rl, (double)o->errors, e->name, "error", NULL);
    }
    named_durations(m, x, REDISX__NAMED_LIMITER, "redisx_ratelimit_duration_seconds",
                    "Duration of rate-limit operations, by limiter and operation", "limiter", NULL);
    family *lw = fam(m, "redisx_lock_wait_duration_seconds",
                     "Time from an acquire call to the grant of its lock (granted acquisitions)",
                     REDISX_METRIC_HISTOGRAM, 0, NULL, NULL, NULL);
    hist_sample(m, lw, &x->lock_wait, NULL, NULL, NULL);
    family *lh = fam(m, "redisx_lock_hold_duration_seconds",
                     "Time from a lock's grant to its release call, its loss or the free of its handle",
                     REDISX_METRIC_HISTOGRAM, 0, NULL, NULL, NULL);
    hist_sample(m, lh, &x->lock_hold, NULL, NULL, NULL);
    one(m, "redisx_locks_held", "Locks this client holds now (granted, not yet released, lost or freed)",
        REDISX_METRIC_GAUGE, (double)x->locks_held);
    outcomes(m, st, REDISX__OP_IDEM_BEGIN, "redisx_idempotency_requests_total",
             "Idempotency begins, by status (ok: a record to run or replay)", "ok", "conflict");

    named_cache_layers(m, x, "redisx_cache_hits_total", "Cache hits, by cache and layer", REDISX_CACHE_L1_HITS,
                       REDISX_CACHE_L2_HITS);
    named_cache_layers(m, x, "redisx_cache_misses_total", "Cache misses, by cache and layer", REDISX_CACHE_L1_MISSES,
                       REDISX_CACHE_L2_MISSES);
    named_cache_counter(m, x, "redisx_cache_loads_total", "Loads granted (the caller runs the loader)",
                        REDISX_METRIC_COUNTER, REDISX_CACHE_LOADS);
    named_cache_counter(m, x, "redisx_cache_load_errors_total", "Loads abandoned", REDISX_METRIC_COUNTER,
                        REDISX_CACHE_LOAD_ERRORS);
    named_cache_counter(m, x, "redisx_cache_stampedes_avoided_total", "Waits ended by another process's fill",
                        REDISX_METRIC_COUNTER, REDISX_CACHE_WAITERS_WOKEN);
    named_cache_counter(m, x, "redisx_cache_stale_served_total",
                        "Stale values served (stale-while-revalidate, stale-if-error)", REDISX_METRIC_COUNTER,
                        REDISX_CACHE_STALE_SERVED);
    named_cache_counter(m, x, "redisx_cache_early_refreshes_total", "Early refreshes chosen by XFetch",
                        REDISX_METRIC_COUNTER, REDISX_CACHE_EARLY_REFRESHES);
    named_cache_counter(m, x, "redisx_cache_fail_open_total", "Cache answers given without Redis",
                        REDISX_METRIC_COUNTER, REDISX_CACHE_FAIL_OPEN);
    named_cache_counter(m, x, "redisx_cache_evictions_total", "L1 evictions", REDISX_METRIC_COUNTER,
                        REDISX_CACHE_L1_EVICTIONS);
    named_cache_counter(m, x, "redisx_cache_l1_entries", "Entries in L1", REDISX_METRIC_GAUGE,
                        REDISX_CACHE_L1_ENTRIES);
    named_cache_counter(m, x, "redisx_cache_l1_bytes", "Bytes in L1", REDISX_METRIC_GAUGE, REDISX_CACHE_L1_BYTES);
    named_durations(m, x, REDISX__NAMED_CACHE, "redisx_cache_duration_seconds",
                    "Duration of cache operations, by cache and operation", "cache", NULL);

    named_stream_counter(m, x, "redisx_stream_messages_published_total", "Messages published, by stream",
                         REDISX_STREAM_PUBLISHED, 0);
    named_stream_counter(m, x, "redisx_stream_messages_delivered_total",
                         "Messages handed to consumers, by stream and group", REDISX_STREAM_DELIVERED, 1);
    named_stream_counter(m, x, "redisx_stream_messages_consumed_total", "Messages acknowledged, by stream and group",
                         REDISX_STREAM_ACKED, 1);
    named_stream_counter(m, x, "redisx_stream_messages_retried_total",
                         "Messages left pending for a redelivery, by stream and group", REDISX_STREAM_RETRIED, 1);
    named_stream_counter(m, x, "redisx_stream_messages_dead_lettered_total",
                         "Messages moved to the dead-letter stream, by stream and group", REDISX_STREAM_DEAD_LETTERED,
                         1);
    named_stream_counter(m, x, "redisx_stream_messages_claimed_total",
                         "Messages taken over from other consumers, by stream and group", REDISX_STREAM_CLAIMED, 1);
    family *gp = fam(m, "redisx_stream_group_pending",
                     "Entries delivered to the group and not yet acknowledged (XINFO GROUPS, when last seen)",
                     REDISX_METRIC_GAUGE, 2, "stream", "group", NULL);
    family *gl = fam(m, "redisx_stream_group_lag",
                     "Entries of the stream not yet delivered to the group (XINFO GROUPS, when last seen and known)",
                     REDISX_METRIC_GAUGE, 2, "stream", "group", NULL);
    family *gc = fam(m, "redisx_stream_group_consumers", "Consumers of the group (XINFO GROUPS, when last seen)",
                     REDISX_METRIC_GAUGE, 2, "stream", "group", NULL);
    for (int i = 0; i < x->nnamed; i++) {
        const named_copy *e = &x->named[i];
        if (e->kind != REDISX__NAMED_STREAM || !e->group || !e->group_seen)
            continue;
        add(m, gp, (double)e->group_pending, e->name, e->group, NULL);
        if (e->group_lag >= 0)
            add(m, gl, (double)e->group_lag, e->name, e->group, NULL);
        add(m, gc, (double)e->group_consumers, e->name, e->group, NULL);
    }
    named_durations(m, x, REDISX__NAMED_STREAM, "redisx_stream_duration_seconds",
                    "Duration of stream operations, by stream, group (empty: none) and operation", "stream", "group");

    const uint64_t *cl = st->client;
    one(m, "redisx_connects_total", "Successful (re)connections", REDISX_METRIC_COUNTER,
        (double)cl[REDISX_CLIENT_CONNECTS]);
    one(m, "redisx_disconnects_total", "Connections lost", REDISX_METRIC_COUNTER,
        (double)cl[REDISX_CLIENT_DISCONNECTS]);
    one(m, "redisx_connect_failures_total", "Failed connection attempts", REDISX_METRIC_COUNTER,
        (double)cl[REDISX_CLIENT_CONNECT_FAILURES]);
    one(m, "redisx_script_reloads_total", "NOSCRIPT answered by EVAL of the script body", REDISX_METRIC_COUNTER,
        (double)cl[REDISX_CLIENT_SCRIPT_RELOADS]);
    one(m, "redisx_operations_in_flight", "Operations not yet completed", REDISX_METRIC_GAUGE,
        (double)cl[REDISX_CLIENT_IN_FLIGHT]);
    one(m, "redisx_connections_up", "Connections serving now", REDISX_METRIC_GAUGE,
        (double)cl[REDISX_CLIENT_CONNECTIONS_UP]);
    one(m, "redisx_circuit_breaker_opens_total", "Times a circuit breaker opened", REDISX_METRIC_COUNTER,
        (double)cl[REDISX_CLIENT_CIRCUIT_OPENS]);
    one(m, "redisx_circuit_breaker_rejected_total", "Calls a circuit breaker failed at once", REDISX_METRIC_COUNTER,
        (double)cl[REDISX_CLIENT_CIRCUIT_REJECTED]);
    one(m, "redisx_circuit_breakers_open", "Circuit breakers open or half-open now", REDISX_METRIC_GAUGE,
        (double)cl[REDISX_CLIENT_CIRCUITS_OPEN]);
    one(m, "redisx_wakeups_total", "Wake-up messages received (a release or completion an operation waited for)",
        REDISX_METRIC_COUNTER, (double)cl[REDISX_CLIENT_WAKEUPS]);
    family *redirects = fam(m, "redisx_cluster_redirects_total", "Cluster redirects followed, by kind",
                            REDISX_METRIC_COUNTER, 1, "kind", NULL, NULL);
    add(m, redirects, (double)cl[REDISX_CLIENT_CLUSTER_MOVED], "moved", NULL, NULL);
    add(m, redirects, (double)cl[REDISX_CLIENT_CLUSTER_ASK], "ask", NULL, NULL);
    one(m, "redisx_cluster_retries_total", "Commands retried after TRYAGAIN, CLUSTERDOWN or LOADING",
        REDISX_METRIC_COUNTER, (double)cl[REDISX_CLIENT_CLUSTER_RETRIES]);
    one(m, "redisx_cluster_slot_refreshes_total", "Slot map refreshes started", REDISX_METRIC_COUNTER,
        (double)cl[REDISX_CLIENT_CLUSTER_REFRESHES]);
}

void redisx__metrics_free(redisx_metrics *m)
{
    if (!m)
        return;
    for (int i = 0; i < m->n; i++)
        free(m->f[i].s);
    free(m->f);
    for (int i = 0; i < m->nstrs; i++)
        free(m->strs[i]);
    free(m->strs);
    free(m);
}

redisx_status redisx__metrics_collect(redisx_metrics **out, redisx_client *c)
{
    redisx_stats *st = NULL;
    redisx_status rc = redisx__stats_snapshot(&st, c);
    if (rc != REDISX_OK)
        return rc;
    redisx_metrics *m = calloc(1, sizeof *m);
    if (m) {
        extra x = {0};
        take_extra(m, c, &x);
        collect(m, st, &x);
        node_up n = {m, fam(m, "redisx_node_connections_up", "Data connections serving now, by node (host:port)",
                            REDISX_METRIC_GAUGE, 1, "node", NULL, NULL)};
        redisx__conns_each(c, count_node, &n);
        free(x.named);
    }
    free(st);
    if (!m || m->failed) {
        redisx__metrics_free(m);
        return redisx__fail(REDISX_ERR_NOMEM, "out of memory collecting metrics");
    }
    *out = m;
    return REDISX_OK;
}
