/* redisx core — the metric families of a collection (core/metrics.c
 * fills them, ffi/metrics.c reads them). */
#ifndef REDISX_CORE_METRICS_IMPL_H
#define REDISX_CORE_METRICS_IMPL_H

#include "internal.h"
#include "redisx/metrics.h"

#define MAX_LABELS 3

typedef struct sample {
    const char *label[MAX_LABELS];
    double value; /* histogram: sum in seconds */
    uint64_t count;
    uint64_t cum[REDISX__EXPORT_BOUNDS];
} sample;

typedef struct family {
    const char *name, *help;
    const char *otel, *unit; /* OpenTelemetry instrument name and UCUM unit */
    redisx_metric_type type;
    int nlabels;
    const char *label_name[MAX_LABELS];
    int n, cap;
    sample *s;
} family;

struct redisx_metrics {
    family *f;
    int n, cap;
    int failed; /* out of memory while collecting */
    char **strs; /* label values it owns (per-name series) */
    int nstrs, capstrs;
};

redisx_status redisx__metrics_collect(redisx_metrics **out, redisx_client *c);
void redisx__metrics_free(redisx_metrics *m);

#endif
