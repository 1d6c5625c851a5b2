/* Metrics for exporters (metrics.h): the one table of redisx's metric
 * families, filled from a stats snapshot. Label values are static strings
 * (operation names, fixed statuses), so a collection allocates only its
 * arrays. docs/METRICS.md lists every family; keep it in step. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#include "metrics_impl.h"

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

static void collect(redisx_metrics *m, const redisx_stats *st)
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
    outcomes(m, st, REDISX__OP_RL_CHECK, "redisx_ratelimit_requests_total", "Rate-limit checks, by status",
             "allowed", "rejected");
    outcomes(m, st, REDISX__OP_IDEM_BEGIN, "redisx_idempotency_requests_total",
             "Idempotency begins, by status (ok: a record to run or replay)", "ok", "conflict");

    const uint64_t *k = st->cache;
    family *hits = fam(m, "redisx_cache_hits_total", "Cache hits, by layer", REDISX_METRIC_COUNTER, 1, "layer",
                       NULL, NULL);
    add(m, hits, (double)k[REDISX_CACHE_L1_HITS], "l1", NULL, NULL);
    add(m, hits, (double)k[REDISX_CACHE_L2_HITS], "l2", NULL, NULL);
    family *misses = fam(m, "redisx_cache_misses_total", "Cache misses, by layer", REDISX_METRIC_COUNTER, 1, "layer",
                         NULL, NULL);
    add(m, misses, (double)k[REDISX_CACHE_L1_MISSES], "l1", NULL, NULL);
    add(m, misses, (double)k[REDISX_CACHE_L2_MISSES], "l2", NULL, NULL);
    one(m, "redisx_cache_loads_total", "Loads granted (the caller runs the loader)", REDISX_METRIC_COUNTER,
        (double)k[REDISX_CACHE_LOADS]);
    one(m, "redisx_cache_load_errors_total", "Loads abandoned", REDISX_METRIC_COUNTER,
        (double)k[REDISX_CACHE_LOAD_ERRORS]);
    one(m, "redisx_cache_stampedes_avoided_total", "Waits ended by another process's fill", REDISX_METRIC_COUNTER,
        (double)k[REDISX_CACHE_WAITERS_WOKEN]);
    one(m, "redisx_cache_stale_served_total", "Stale values served (stale-while-revalidate, stale-if-error)",
        REDISX_METRIC_COUNTER, (double)k[REDISX_CACHE_STALE_SERVED]);
    one(m, "redisx_cache_early_refreshes_total", "Early refreshes chosen by XFetch", REDISX_METRIC_COUNTER,
        (double)k[REDISX_CACHE_EARLY_REFRESHES]);
    one(m, "redisx_cache_fail_open_total", "Cache answers given without Redis", REDISX_METRIC_COUNTER,
        (double)k[REDISX_CACHE_FAIL_OPEN]);
    one(m, "redisx_cache_evictions_total", "L1 evictions", REDISX_METRIC_COUNTER,
        (double)k[REDISX_CACHE_L1_EVICTIONS]);
    one(m, "redisx_cache_l1_entries", "Entries in L1", REDISX_METRIC_GAUGE, (double)k[REDISX_CACHE_L1_ENTRIES]);
    one(m, "redisx_cache_l1_bytes", "Bytes in L1", REDISX_METRIC_GAUGE, (double)k[REDISX_CACHE_L1_BYTES]);

    const uint64_t *q = st->stream;
    one(m, "redisx_stream_messages_published_total", "Messages published", REDISX_METRIC_COUNTER,
        (double)q[REDISX_STREAM_PUBLISHED]);
    one(m, "redisx_stream_messages_delivered_total", "Messages handed to consumers", REDISX_METRIC_COUNTER,
        (double)q[REDISX_STREAM_DELIVERED]);
    one(m, "redisx_stream_messages_consumed_total", "Messages acknowledged", REDISX_METRIC_COUNTER,
        (double)q[REDISX_STREAM_ACKED]);
    one(m, "redisx_stream_messages_retried_total", "Messages left pending for a redelivery", REDISX_METRIC_COUNTER,
        (double)q[REDISX_STREAM_RETRIED]);
    one(m, "redisx_stream_messages_dead_lettered_total", "Messages moved to the dead-letter stream",
        REDISX_METRIC_COUNTER, (double)q[REDISX_STREAM_DEAD_LETTERED]);
    one(m, "redisx_stream_messages_claimed_total", "Messages taken over from other consumers", REDISX_METRIC_COUNTER,
        (double)q[REDISX_STREAM_CLAIMED]);

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
    free(m);
}

redisx_status redisx__metrics_collect(redisx_metrics **out, redisx_client *c)
{
    redisx_stats *st = NULL;
    redisx_status rc = redisx__stats_snapshot(&st, c);
    if (rc != REDISX_OK)
        return rc;
    redisx_metrics *m = calloc(1, sizeof *m);
    if (m)
        collect(m, st);
    free(st);
    if (!m || m->failed) {
        redisx__metrics_free(m);
        return redisx__fail(REDISX_ERR_NOMEM, "out of memory collecting metrics");
    }
    *out = m;
    return REDISX_OK;
}
