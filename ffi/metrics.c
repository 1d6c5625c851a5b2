/* Exported entry points of metrics.h (the families: core/metrics.c). */
#include "ffi.h"
#include "metrics_impl.h"

redisx_status redisx_metrics_collect(redisx_metrics **out, redisx_client *client)
{
    REDISX_FFI_REQUIRE(out != NULL, "out must not be NULL");
    *out = NULL;
    REDISX_FFI_REQUIRE(client != NULL, "client must not be NULL");
    return redisx__metrics_collect(out, client);
}

void redisx_metrics_free(redisx_metrics *metrics)
{
    redisx__metrics_free(metrics);
}


static const family *fam_at(const redisx_metrics *m, int f)
{
    return m && f >= 0 && f < m->n ? &m->f[f] : NULL;
}

static const sample *sample_at(const redisx_metrics *m, int f, int s)
{
    const family *fa = fam_at(m, f);
    return fa && s >= 0 && s < fa->n ? &fa->s[s] : NULL;
}

int redisx_metrics_families(const redisx_metrics *m)
{
    return m ? m->n : 0;
}

const char *redisx_metrics_name(const redisx_metrics *m, int f)
{
    const family *fa = fam_at(m, f);
    return fa ? fa->name : NULL;
}

const char *redisx_metrics_help(const redisx_metrics *m, int f)
{
    const family *fa = fam_at(m, f);
    return fa ? fa->help : NULL;
}

const char *redisx_metrics_otel_name(const redisx_metrics *m, int f)
{
    const family *fa = fam_at(m, f);
    return fa ? fa->otel : NULL;
}

const char *redisx_metrics_unit(const redisx_metrics *m, int f)
{
    const family *fa = fam_at(m, f);
    return fa ? fa->unit : NULL;
}

redisx_metric_type redisx_metrics_type(const redisx_metrics *m, int f)
{
    const family *fa = fam_at(m, f);
    return fa ? fa->type : REDISX_METRIC_COUNTER;
}

int redisx_metrics_label_count(const redisx_metrics *m, int f)
{
    const family *fa = fam_at(m, f);
    return fa ? fa->nlabels : 0;
}

const char *redisx_metrics_label_name(const redisx_metrics *m, int f, int l)
{
    const family *fa = fam_at(m, f);
    return fa && l >= 0 && l < fa->nlabels ? fa->label_name[l] : NULL;
}

int redisx_metrics_samples(const redisx_metrics *m, int f)
{
    const family *fa = fam_at(m, f);
    return fa ? fa->n : 0;
}

const char *redisx_metrics_label_value(const redisx_metrics *m, int f, int s, int l)
{
    const sample *sa = sample_at(m, f, s);
    return sa && l >= 0 && l < m->f[f].nlabels ? sa->label[l] : NULL;
}

double redisx_metrics_value(const redisx_metrics *m, int f, int s)
{
    const sample *sa = sample_at(m, f, s);
    return sa ? sa->value : 0.0;
}

uint64_t redisx_metrics_count(const redisx_metrics *m, int f, int s)
{
    const sample *sa = sample_at(m, f, s);
    return sa && m->f[f].type == REDISX_METRIC_HISTOGRAM ? sa->count : 0;
}

int redisx_metrics_bucket_count(const redisx_metrics *m)
{
    (void)m;
    return REDISX__EXPORT_BOUNDS;
}

double redisx_metrics_bucket_bound(const redisx_metrics *m, int b)
{
    (void)m;
    return b >= 0 && b < REDISX__EXPORT_BOUNDS ? (double)redisx__export_bound_ns[b] / 1e9 : 0.0;
}

uint64_t redisx_metrics_cumulative(const redisx_metrics *m, int f, int s, int b)
{
    const sample *sa = sample_at(m, f, s);
    if (!sa || m->f[f].type != REDISX_METRIC_HISTOGRAM || b < 0 || b >= REDISX__EXPORT_BOUNDS)
        return 0;
    return sa->cum[b];
}
