/* Exported: event and stats accessors. NULL-tolerant: accessors of a NULL
 * handle return an empty value rather than crash. */
#include <stdlib.h>

#include "ffi.h"

const char *redisx_event_primitive(const redisx_event *e)
{
    return e ? e->primitive : "";
}
const char *redisx_event_operation(const redisx_event *e)
{
    return e ? e->operation : "";
}
redisx_status redisx_event_status(const redisx_event *e)
{
    return e ? e->status : REDISX_ERR_INVALID;
}
int redisx_event_fail_open(const redisx_event *e)
{
    return e ? e->fail_open : 0;
}
int64_t redisx_event_duration_ns(const redisx_event *e)
{
    return e ? e->duration_ns : 0;
}
int redisx_event_round_trips(const redisx_event *e)
{
    return e ? e->round_trips : 0;
}
const char *redisx_event_key(const redisx_event *e)
{
    return e ? e->key : NULL;
}

const char *redisx_event_outcome(const redisx_event *e)
{
    return e ? e->outcome : NULL;
}

const char *redisx_event_stream(const redisx_event *e)
{
    return e ? e->stream : NULL;
}

const char *redisx_event_node(const redisx_event *e)
{
    return e ? e->node : NULL;
}

const char *redisx_state_node(void)
{
    return redisx__state_node();
}

const char *redisx_event_group(const redisx_event *e)
{
    return e ? e->group : NULL;
}

void redisx_stats_free(redisx_stats *stats)
{
    free(stats);
}

int redisx_stats_series(const redisx_stats *stats)
{
    return stats ? REDISX__OP_COUNT : 0;
}

static int series_ok(const redisx_stats *s, int i)
{
    return s && i >= 0 && i < REDISX__OP_COUNT;
}

const char *redisx_stats_primitive(const redisx_stats *stats, int i)
{
    return series_ok(stats, i) ? redisx__op_primitive((redisx__op)i) : NULL;
}

const char *redisx_stats_operation(const redisx_stats *stats, int i)
{
    return series_ok(stats, i) ? redisx__op_name((redisx__op)i) : NULL;
}

uint64_t redisx_stats_counter(const redisx_stats *stats, int i, redisx_counter counter)
{
    if (!series_ok(stats, i) || (int)counter < 0 || (int)counter >= REDISX__COUNTERS)
        return 0;
    return stats->series[i].counter[counter];
}

uint64_t redisx_stats_client(const redisx_stats *stats, redisx_client_counter counter)
{
    if (!stats || (int)counter < 0 || (int)counter >= REDISX__CLIENT_COUNTERS)
        return 0;
    return stats->client[counter];
}

int redisx_stats_buckets(const redisx_stats *stats)
{
    return stats ? REDISX__HIST_BUCKETS : 0;
}

int64_t redisx_stats_bucket_upper_ns(const redisx_stats *stats, int b)
{
    if (!stats || b < 0 || b >= REDISX__HIST_BUCKETS)
        return 0;
    return redisx__hist_upper(b);
}

uint64_t redisx_stats_bucket_count(const redisx_stats *stats, int i, int b)
{
    if (!series_ok(stats, i) || b < 0 || b >= REDISX__HIST_BUCKETS)
        return 0;
    return stats->series[i].bucket[b];
}

int64_t redisx_stats_quantile_ns(const redisx_stats *stats, int i, double q)
{
    if (!series_ok(stats, i) || !(q >= 0.0 && q <= 1.0))
        return 0;
    const redisx__series *s = &stats->series[i];
    uint64_t total = 0;
    for (int b = 0; b < REDISX__HIST_BUCKETS; b++)
        total += s->bucket[b];
    if (total == 0)
        return 0;
    /* The smallest bucket whose cumulative count reaches ceil(q * total). */
    uint64_t rank = (uint64_t)(q * (double)total);
    if ((double)rank < q * (double)total)
        rank++;
    if (rank == 0)
        rank = 1;
    uint64_t seen = 0;
    for (int b = 0; b < REDISX__HIST_BUCKETS; b++) {
        seen += s->bucket[b];
        if (seen >= rank)
            return redisx__hist_upper(b);
    }
    return redisx__hist_upper(REDISX__HIST_BUCKETS - 1);
}

uint64_t redisx_stats_cache(const redisx_stats *stats, redisx_cache_counter counter)
{
    if (!stats || (int)counter < 0 || counter >= REDISX_CACHE_COUNTER_COUNT)
        return 0;
    return stats->cache[counter];
}

uint64_t redisx_stats_stream(const redisx_stats *stats, redisx_stream_counter counter)
{
    if (!stats || (int)counter < 0 || counter >= REDISX_STREAM_COUNTER_COUNT)
        return 0;
    return stats->stream[counter];
}

uint64_t redisx_stats_sum_ns(const redisx_stats *stats, int i)
{
    return series_ok(stats, i) ? stats->series[i].sum_ns : 0;
}
