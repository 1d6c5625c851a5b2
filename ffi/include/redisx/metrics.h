/* redisx — metrics for exporters (Prometheus, OpenTelemetry).
 *
 * redisx_metrics_collect() takes a stats snapshot and turns it into metric
 * families with their names, help texts, label names and samples: the one
 * definition of redisx's metrics, which each package's Prometheus collector
 * and OpenTelemetry bridge only converts into its library's types, so every
 * language exports the same names, labels and values (docs/METRICS.md has
 * the table). Counters' names end in "_total"; durations are in seconds;
 * histograms have cumulative buckets on the OpenTelemetry advisory bounds
 * of db.client.operation.duration (0.001 ... 10 s), their sum and count.
 * Cardinality is bounded: labels are primitive, operation, status, layer,
 * never a key. A series appears once its operation has run. */
#ifndef REDISX_METRICS_H
#define REDISX_METRICS_H

#include "redisx/common.h"
#include "redisx/errors.h"

REDISX_BEGIN_DECLS

typedef struct redisx_metrics redisx_metrics;

typedef enum redisx_metric_type {
    REDISX_METRIC_COUNTER = 0,
    REDISX_METRIC_GAUGE = 1,
    REDISX_METRIC_HISTOGRAM = 2
} redisx_metric_type;

/** Collects the client's metrics now (a snapshot; no callback per
 *  operation). Free with redisx_metrics_free(). */
REDISX_API redisx_status redisx_metrics_collect(redisx_metrics **out, redisx_client *client);
/** NULL is a no-op. */
REDISX_API void redisx_metrics_free(redisx_metrics *metrics);

/** Number of metric families; every accessor below returns 0 / NULL for an
 *  index out of range. */
REDISX_API int redisx_metrics_families(const redisx_metrics *metrics);
/** Family f's name ("redisx_operations_total"), help text and type. */
REDISX_API const char *redisx_metrics_name(const redisx_metrics *metrics, int f);
REDISX_API const char *redisx_metrics_help(const redisx_metrics *metrics, int f);
/** Family f's OpenTelemetry instrument name ("redisx.operations"; the
 *  duration histogram is "db.client.operation.duration") and its UCUM unit
 *  ("s", "By", or an annotation such as "{operation}"): the names every
 *  package exports (docs/OPENTELEMETRY.md). Since 0.6. */
REDISX_API const char *redisx_metrics_otel_name(const redisx_metrics *metrics, int f);
REDISX_API const char *redisx_metrics_unit(const redisx_metrics *metrics, int f);
REDISX_API redisx_metric_type redisx_metrics_type(const redisx_metrics *metrics, int f);
/** Its label names (0 to 3 of them). */
REDISX_API int redisx_metrics_label_count(const redisx_metrics *metrics, int f);
REDISX_API const char *redisx_metrics_label_name(const redisx_metrics *metrics, int f, int l);
/** Its samples, and sample s's value of label l. */
REDISX_API int redisx_metrics_samples(const redisx_metrics *metrics, int f);
REDISX_API const char *redisx_metrics_label_value(const redisx_metrics *metrics, int f, int s, int l);
/** A counter's or gauge's value; a histogram's sum (seconds). */
REDISX_API double redisx_metrics_value(const redisx_metrics *metrics, int f, int s);
/** A histogram's count of observations. */
REDISX_API uint64_t redisx_metrics_count(const redisx_metrics *metrics, int f, int s);
/** The finite bucket bounds of histograms (seconds, ascending; the same for
 *  every histogram family), and the cumulative count of sample s at bound
 *  b (observations <= bound; the +Inf bucket is redisx_metrics_count). */
REDISX_API int redisx_metrics_bucket_count(const redisx_metrics *metrics);
REDISX_API double redisx_metrics_bucket_bound(const redisx_metrics *metrics, int b);
REDISX_API uint64_t redisx_metrics_cumulative(const redisx_metrics *metrics, int f, int s, int b);

REDISX_END_DECLS

#endif
