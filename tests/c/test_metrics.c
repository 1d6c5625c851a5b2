/* redisx_metrics_collect(): the exporters' families after known operations
 * on a fresh client (exact counts: metrics are per client). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"

static int family(const redisx_metrics *m, const char *name)
{
    for (int f = 0; f < redisx_metrics_families(m); f++)
        if (strcmp(redisx_metrics_name(m, f), name) == 0)
            return f;
    return -1;
}

/* The sample of family `name` whose labels are the given values (NULL
 * ends the list); -1 when there is none. */
static int sample_of(const redisx_metrics *m, int f, const char *v0, const char *v1, const char *v2)
{
    const char *want[3] = {v0, v1, v2};
    for (int s = 0; s < redisx_metrics_samples(m, f); s++) {
        int ok = 1;
        for (int l = 0; l < redisx_metrics_label_count(m, f) && ok; l++)
            ok = want[l] && strcmp(redisx_metrics_label_value(m, f, s, l), want[l]) == 0;
        if (ok)
            return s;
    }
    return -1;
}

static double value(const redisx_metrics *m, const char *name, const char *v0, const char *v1, const char *v2)
{
    int f = family(m, name);
    cr_assert_geq(f, 0, "no family %s", name);
    int s = sample_of(m, f, v0, v1, v2);
    cr_assert_geq(s, 0, "no sample %s{%s,%s,%s}", name, v0 ? v0 : "", v1 ? v1 : "", v2 ? v2 : "");
    return redisx_metrics_value(m, f, s);
}

/* Every family has its OpenTelemetry instrument: a dotted lower-case name
 * (unique), a unit ("s" for the histograms, "By" for bytes, else a {...}
 * annotation); the duration histogram is db.client.operation.duration. */
static void check_otel_names(const redisx_metrics *m)
{
    int n = redisx_metrics_families(m);
    for (int f = 0; f < n; f++) {
        const char *name = redisx_metrics_name(m, f);
        const char *otel = redisx_metrics_otel_name(m, f), *unit = redisx_metrics_unit(m, f);
        cr_assert_not_null(otel, "%s has no OpenTelemetry name (core/metrics.c otel_names)", name);
        cr_assert_not_null(unit, "%s", name);
        cr_assert(strncmp(otel, "redisx.", 7) == 0 || strcmp(otel, "db.client.operation.duration") == 0, "%s", otel);
        for (const char *p = otel; *p; p++)
            cr_assert((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_' || *p == '.', "%s", otel);
        for (int g = 0; g < f; g++)
            cr_assert_str_neq(redisx_metrics_otel_name(m, g), otel, "two families exported as %s", otel);
        if (redisx_metrics_type(m, f) == REDISX_METRIC_HISTOGRAM)
            cr_assert_str_eq(unit, "s", "%s", name);
        else if (strstr(name, "_bytes"))
            cr_assert_str_eq(unit, "By", "%s", name);
        else
            cr_assert(unit[0] == '{' && unit[strlen(unit) - 1] == '}', "%s: %s", name, unit);
    }
    int d = -1;
    for (int f = 0; f < n; f++)
        if (strcmp(redisx_metrics_name(m, f), "redisx_operation_duration_seconds") == 0)
            d = f;
    cr_assert_geq(d, 0);
    cr_assert_str_eq(redisx_metrics_otel_name(m, d), "db.client.operation.duration");
    cr_assert_null(redisx_metrics_otel_name(m, n), "out of range");
    cr_assert_null(redisx_metrics_unit(NULL, 0));
}

Test(metrics, families_are_well_formed)
{
    redisx_client *c = rt_client();
    const char *ping[] = {"PING"};
    redisx_reply_free(rt_cmd(c, 1, ping));
    redisx_metrics *m = NULL;
    cr_assert_eq(redisx_metrics_collect(&m, c), REDISX_OK, "%s", redisx_last_error());
    int n = redisx_metrics_families(m);
    cr_assert_geq(n, 30);
    for (int f = 0; f < n; f++) {
        const char *name = redisx_metrics_name(m, f);
        cr_assert(strncmp(name, "redisx_", 7) == 0, "%s", name);
        for (const char *p = name; *p; p++)
            cr_assert((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_', "%s", name);
        size_t len = strlen(name);
        redisx_metric_type t = redisx_metrics_type(m, f);
        if (t == REDISX_METRIC_COUNTER)
            cr_assert(len > 6 && strcmp(name + len - 6, "_total") == 0, "counter %s", name);
        else
            cr_assert(len < 6 || strcmp(name + len - 6, "_total") != 0, "non-counter %s", name);
        if (t == REDISX_METRIC_HISTOGRAM)
            cr_assert(strcmp(name + len - 8, "_seconds") == 0, "histogram %s", name);
        cr_assert(redisx_metrics_help(m, f)[0], "%s has no help", name);
        for (int g = 0; g < f; g++)
            cr_assert_str_neq(redisx_metrics_name(m, g), name, "two families named %s", name);
        for (int l = 0; l < redisx_metrics_label_count(m, f); l++)
            cr_assert_not_null(redisx_metrics_label_name(m, f, l));
        for (int s = 0; s < redisx_metrics_samples(m, f); s++)
            for (int l = 0; l < redisx_metrics_label_count(m, f); l++)
                cr_assert_not_null(redisx_metrics_label_value(m, f, s, l), "%s sample %d label %d", name, s, l);
    }
    int nb = redisx_metrics_bucket_count(m);
    cr_assert_eq(nb, 9);
    cr_assert_float_eq(redisx_metrics_bucket_bound(m, 0), 0.001, 1e-12);
    cr_assert_float_eq(redisx_metrics_bucket_bound(m, nb - 1), 10.0, 1e-12);
    for (int b = 1; b < nb; b++)
        cr_assert_gt(redisx_metrics_bucket_bound(m, b), redisx_metrics_bucket_bound(m, b - 1));
    check_otel_names(m);
    redisx_metrics_free(m);
    redisx_client_close(c);
}

Test(metrics, counts_follow_the_operations)
{
    redisx_client *c = rt_client();
    char name[64];
    rt_unique("metrics-lock", name, sizeof name);
    redisx_lock *a = NULL, *b = NULL;
    cr_assert_eq(redisx_lock_acquire(&a, c, name, 30000, 0), REDISX_OK, "%s", redisx_last_error());
    cr_assert_eq(redisx_lock_acquire(&b, c, name, 30000, 0), REDISX_ERR_LOCKED);
    cr_assert_eq(redisx_lock_release(a), REDISX_OK);
    redisx_lock_free(a);
    cr_assert_eq(redisx_lock_acquire(&a, c, name, 30000, 0), REDISX_OK);
    cr_assert_eq(redisx_lock_release(a), REDISX_OK);
    redisx_lock_free(a);

    redisx_limiter *lim = NULL;
    cr_assert_eq(redisx_limiter_new(&lim, c, "metrics", REDISX_RATELIMIT_SLIDING_LOG, 3, 60000, 0), REDISX_OK);
    char key[64];
    rt_unique("metrics-rl", key, sizeof key);
    for (int i = 0; i < 5; i++) {
        redisx_ratelimit_result *r = NULL;
        cr_assert_eq(redisx_limiter_check(&r, lim, key, 1), REDISX_OK, "%s", redisx_last_error());
        redisx_ratelimit_result_free(r);
    }
    redisx_limiter_free(lim);
    const char *ping[] = {"PING"};
    for (int i = 0; i < 7; i++)
        redisx_reply_free(rt_cmd(c, 1, ping));

    redisx_metrics *m = NULL;
    cr_assert_eq(redisx_metrics_collect(&m, c), REDISX_OK, "%s", redisx_last_error());
    cr_assert_eq(value(m, "redisx_lock_acquisitions_total", "acquired", NULL, NULL), 2);
    cr_assert_eq(value(m, "redisx_lock_acquisitions_total", "held", NULL, NULL), 1);
    cr_assert_eq(value(m, "redisx_lock_acquisitions_total", "error", NULL, NULL), 0);
    cr_assert_eq(value(m, "redisx_ratelimit_requests_total", "metrics", "allowed", NULL), 3);
    cr_assert_eq(value(m, "redisx_ratelimit_requests_total", "metrics", "rejected", NULL), 2);
    cr_assert_eq(value(m, "redisx_operations_total", "lock", "acquire", "ok"), 2);
    cr_assert_eq(value(m, "redisx_operations_total", "lock", "acquire", "rejected"), 1);
    cr_assert_eq(value(m, "redisx_operations_total", "lock", "release", "ok"), 2);
    cr_assert_eq(value(m, "redisx_operations_total", "client", "command", "ok"), 7);
    cr_assert_eq(value(m, "redisx_operations_total", "client", "command", "error"), 0);
    cr_assert_geq(value(m, "redisx_round_trips_total", "client", "command", NULL), 7);
    cr_assert_eq(value(m, "redisx_connections_up", NULL, NULL, NULL), 1);
    int nf = family(m, "redisx_node_connections_up");
    cr_assert_eq(redisx_metrics_samples(m, nf), 1, "one node");
    cr_assert(strncmp(redisx_metrics_label_value(m, nf, 0, 0), "127.0.0.1:", 10) == 0, "%s",
              redisx_metrics_label_value(m, nf, 0, 0));
    cr_assert_eq(redisx_metrics_value(m, nf, 0), 1);
    cr_assert_geq(value(m, "redisx_connects_total", NULL, NULL, NULL), 1);
    cr_assert_eq(value(m, "redisx_operations_in_flight", NULL, NULL, NULL), 0);
    /* An operation that never ran has no series. */
    int ops = family(m, "redisx_operations_total");
    cr_assert_lt(sample_of(m, ops, "idempotency", "begin", "ok"), 0);

    /* The duration histogram of the command series. */
    int f = family(m, "redisx_operation_duration_seconds");
    cr_assert_eq(redisx_metrics_type(m, f), REDISX_METRIC_HISTOGRAM);
    int s = sample_of(m, f, "client", "command", NULL);
    cr_assert_geq(s, 0);
    cr_assert_eq(redisx_metrics_count(m, f, s), 7);
    double sum = redisx_metrics_value(m, f, s);
    cr_assert(sum > 0 && sum < 7 * 60.0, "sum %g s", sum);
    uint64_t prev = 0;
    for (int k = 0; k < redisx_metrics_bucket_count(m); k++) {
        uint64_t cum = redisx_metrics_cumulative(m, f, s, k);
        cr_assert_geq(cum, prev, "cumulative counts never decrease");
        cr_assert_leq(cum, 7);
        prev = cum;
    }
    cr_assert_eq(redisx_metrics_cumulative(m, f, s, redisx_metrics_bucket_count(m) - 1), 7,
                 "7 PINGs on loopback all took less than 10 s");
    /* Counters are not histograms. */
    int lf = family(m, "redisx_lock_acquisitions_total");
    cr_assert_eq(redisx_metrics_count(m, lf, 0), 0);
    cr_assert_eq(redisx_metrics_cumulative(m, lf, 0, 0), 0);
    redisx_metrics_free(m);

    redisx_stats *st = NULL;
    cr_assert_eq(redisx_client_stats(&st, c), REDISX_OK);
    int cmd = rt_series(st, "client", "command");
    cr_assert_geq(cmd, 0);
    cr_assert_float_eq((double)redisx_stats_sum_ns(st, cmd) / 1e9, sum, 1e-9, "the snapshot's sum is the histogram's");
    redisx_stats_free(st);
    redisx_client_close(c);
}

static uint64_t hist_count(const redisx_metrics *m, const char *name, const char *v0, const char *v1,
                           const char *v2)
{
    int f = family(m, name);
    cr_assert_geq(f, 0, "no family %s", name);
    cr_assert_eq(redisx_metrics_type(m, f), REDISX_METRIC_HISTOGRAM, "%s", name);
    int s = sample_of(m, f, v0, v1, v2);
    cr_assert_geq(s, 0, "no sample %s{%s,%s,%s}", name, v0 ? v0 : "", v1 ? v1 : "", v2 ? v2 : "");
    return redisx_metrics_count(m, f, s);
}

Test(metrics, lock_wait_and_hold_are_their_own_histograms)
{
    redisx_client *c = rt_client();
    char name[64];
    rt_unique("metrics-hold", name, sizeof name);
    redisx_lock *a = NULL, *b = NULL, *d = NULL;
    cr_assert_eq(redisx_lock_acquire(&a, c, name, 30000, 0), REDISX_OK, "%s", redisx_last_error());
    cr_assert_eq(redisx_lock_acquire(&b, c, name, 30000, 0), REDISX_ERR_LOCKED);
    char other[80];
    snprintf(other, sizeof other, "%s-2", name);
    cr_assert_eq(redisx_lock_acquire(&d, c, other, 30000, 0), REDISX_OK);

    redisx_metrics *m = NULL;
    cr_assert_eq(redisx_metrics_collect(&m, c), REDISX_OK);
    cr_assert_eq(value(m, "redisx_locks_held", NULL, NULL, NULL), 2);
    cr_assert_eq(hist_count(m, "redisx_lock_wait_duration_seconds", NULL, NULL, NULL), 2, "granted ones only");
    cr_assert_eq(hist_count(m, "redisx_lock_hold_duration_seconds", NULL, NULL, NULL), 0);
    redisx_metrics_free(m);

    cr_assert_eq(redisx_lock_release(a), REDISX_OK);
    redisx_lock_free(a);
    redisx_lock_free(d); /* dropped without a release: its hold ends here */
    cr_assert_eq(redisx_metrics_collect(&m, c), REDISX_OK);
    cr_assert_eq(value(m, "redisx_locks_held", NULL, NULL, NULL), 0);
    cr_assert_eq(hist_count(m, "redisx_lock_hold_duration_seconds", NULL, NULL, NULL), 2);
    double hold = value(m, "redisx_lock_hold_duration_seconds", NULL, NULL, NULL);
    cr_assert(hold > 0 && hold < 120, "hold sum %g s", hold);
    redisx_metrics_free(m);
    redisx_client_close(c);
}

Test(metrics, limiters_caches_and_streams_have_series_by_name)
{
    redisx_client *c = rt_client();
    char key[64], ns[64];
    rt_unique("metrics-named", key, sizeof key);
    rt_unique("mx", ns, sizeof ns);
    char lname[96], cname[96], sname[96];
    snprintf(lname, sizeof lname, "%s-api", ns);
    snprintf(cname, sizeof cname, "%s-users", ns);
    snprintf(sname, sizeof sname, "%s-orders", ns);

    redisx_limiter *api = NULL, *login = NULL;
    cr_assert_eq(redisx_limiter_new(&api, c, lname, REDISX_RATELIMIT_SLIDING_LOG, 1, 60000, 0), REDISX_OK);
    cr_assert_eq(redisx_limiter_new(&login, c, "login", REDISX_RATELIMIT_GCRA, 100, 60000, 0), REDISX_OK);
    for (int i = 0; i < 3; i++) {
        redisx_ratelimit_result *r = NULL;
        cr_assert_eq(redisx_limiter_check(&r, api, key, 1), REDISX_OK, "%s", redisx_last_error());
        redisx_ratelimit_result_free(r);
    }
    redisx_ratelimit_result *r = NULL;
    cr_assert_eq(redisx_limiter_check(&r, login, key, 1), REDISX_OK);
    redisx_ratelimit_result_free(r);

    redisx_cache *users = NULL;
    cr_assert_eq(redisx_cache_new(&users, c, cname), REDISX_OK);
    cr_assert_eq(redisx_cache_set(users, key, "v", 1, 60000), REDISX_OK, "%s", redisx_last_error());
    redisx_cache_entry *e = NULL;
    cr_assert_eq(redisx_cache_get(&e, users, key), REDISX_OK, "%s", redisx_last_error());
    redisx_cache_entry_free(e);
    redisx_tags *tags = NULL;
    cr_assert_eq(redisx_tags_new(&tags), REDISX_OK);
    cr_assert_eq(redisx_tags_add(tags, "t", 1), REDISX_OK);
    cr_assert_eq(redisx_cache_invalidate_tags(users, tags), REDISX_OK, "%s", redisx_last_error());
    cr_assert_eq(redisx_cache_invalidate_tags(users, tags), REDISX_OK, "%s", redisx_last_error());
    redisx_tags_free(tags);

    cr_assert_eq(redisx_group_create(c, sname, "billing", "0"), REDISX_OK, "%s", redisx_last_error());
    const char *f[] = {"k"}, *v[] = {"1"};
    size_t fl[] = {1}, vl[] = {1};
    char id[REDISX_STREAM_ID_SIZE];
    for (int i = 0; i < 2; i++)
        cr_assert_eq(redisx_stream_publish(id, c, sname, 1, f, fl, v, vl, REDISX_STREAM_TRIM_NONE, 0), REDISX_OK);
    redisx_consumer *cons = NULL;
    cr_assert_eq(redisx_consumer_new(&cons, c, sname, "billing", "c1", NULL), REDISX_OK, "%s", redisx_last_error());
    size_t got = 0;
    for (int tries = 0; got < 2 && tries < 20; tries++) {
        redisx_delivery *d = NULL;
        redisx_status st = redisx_consumer_next(&d, cons, 10, 1000);
        if (st == REDISX_ERR_EMPTY)
            continue;
        cr_assert_eq(st, REDISX_OK, "%s", redisx_last_error());
        for (size_t i = 0; i < redisx_delivery_count(d); i++, got++)
            cr_assert_eq(redisx_message_ack(redisx_delivery_message(d, i)), REDISX_OK);
        redisx_delivery_free(d);
    }
    cr_assert_eq(got, 2);
    /* The consumer's reclaim pass noted the group's figures by itself. */
    redisx_metrics *m0 = NULL;
    cr_assert_eq(redisx_metrics_collect(&m0, c), REDISX_OK);
    cr_assert_geq(sample_of(m0, family(m0, "redisx_stream_group_consumers"), sname, "billing", NULL), 0);
    redisx_metrics_free(m0);
    /* One more, delivered and left unacknowledged; one never delivered. */
    cr_assert_eq(redisx_stream_publish(id, c, sname, 1, f, fl, v, vl, REDISX_STREAM_TRIM_NONE, 0), REDISX_OK);
    for (int tries = 0; got < 3 && tries < 20; tries++) {
        redisx_delivery *d = NULL;
        redisx_status st = redisx_consumer_next(&d, cons, 1, 1000);
        if (st == REDISX_ERR_EMPTY)
            continue;
        cr_assert_eq(st, REDISX_OK, "%s", redisx_last_error());
        got += redisx_delivery_count(d);
        redisx_delivery_free(d); /* unsettled: stays pending */
    }
    cr_assert_eq(got, 3);
    cr_assert_eq(redisx_stream_publish(id, c, sname, 1, f, fl, v, vl, REDISX_STREAM_TRIM_NONE, 0), REDISX_OK);
    redisx_group_info *gi = NULL;
    cr_assert_eq(redisx_group_inspect(&gi, c, sname, "billing"), REDISX_OK, "%s", redisx_last_error());
    redisx_group_info_free(gi);

    /* Stream events are finished on the I/O thread: wait until the four
     * publishes and two acks are all counted. */
    redisx_metrics *m = NULL;
    for (int tries = 0;; tries++) {
        cr_assert_eq(redisx_metrics_collect(&m, c), REDISX_OK);
        int hf = family(m, "redisx_stream_duration_seconds");
        int a = sample_of(m, hf, sname, "billing", "ack"), p = sample_of(m, hf, sname, "", "publish");
        if ((a >= 0 && redisx_metrics_count(m, hf, a) == 2 && p >= 0 && redisx_metrics_count(m, hf, p) == 4) ||
            tries >= 3000)
            break;
        redisx_metrics_free(m);
        rt_sleep_ms(10);
    }
    cr_assert_eq(value(m, "redisx_stream_group_pending", sname, "billing", NULL), 1);
    cr_assert_eq(value(m, "redisx_stream_group_consumers", sname, "billing", NULL), 1);
    int lagf = family(m, "redisx_stream_group_lag");
    int lags = sample_of(m, lagf, sname, "billing", NULL);
    if (lags >= 0) /* nil when the server cannot tell */
        cr_assert_eq(redisx_metrics_value(m, lagf, lags), 1, "one entry not yet delivered");
    cr_assert_eq(value(m, "redisx_ratelimit_requests_total", lname, "allowed", NULL), 1);
    cr_assert_eq(value(m, "redisx_ratelimit_requests_total", lname, "rejected", NULL), 2);
    cr_assert_eq(value(m, "redisx_ratelimit_requests_total", "login", "allowed", NULL), 1);
    cr_assert_eq(hist_count(m, "redisx_ratelimit_duration_seconds", lname, "check", NULL), 3);
    cr_assert_eq(value(m, "redisx_cache_hits_total", cname, "l1", NULL), 1, "the set filled this process's L1");
    cr_assert_eq(hist_count(m, "redisx_cache_duration_seconds", cname, "set", NULL), 1);
    cr_assert_eq(hist_count(m, "redisx_cache_duration_seconds", cname, "invalidate_tags", NULL), 2);
    cr_assert_eq(value(m, "redisx_stream_messages_published_total", sname, NULL, NULL), 4);
    cr_assert_eq(value(m, "redisx_stream_messages_delivered_total", sname, "billing", NULL), 3);
    cr_assert_eq(value(m, "redisx_stream_messages_consumed_total", sname, "billing", NULL), 2);
    cr_assert_eq(hist_count(m, "redisx_stream_duration_seconds", sname, "", "publish"), 4);
    cr_assert_eq(hist_count(m, "redisx_stream_duration_seconds", sname, "billing", "ack"), 2);
    check_otel_names(m); /* the per-name families too */
    redisx_metrics_free(m);

    /* A freed limiter's and cache's counters stay; label values outlive the client. */
    redisx_limiter_free(api);
    redisx_cache_free(users);
    cr_assert_eq(redisx_consumer_stop(cons, 5000), REDISX_OK);
    redisx_consumer_free(cons);
    cr_assert_eq(redisx_metrics_collect(&m, c), REDISX_OK);
    redisx_limiter_free(login);
    redisx_client_close(c);
    cr_assert_eq(value(m, "redisx_ratelimit_requests_total", lname, "rejected", NULL), 2);
    cr_assert_eq(value(m, "redisx_cache_hits_total", cname, "l1", NULL), 1);
    cr_assert_eq(value(m, "redisx_cache_l1_entries", cname, NULL, NULL), 0);
    redisx_metrics_free(m);
}

Test(metrics, names_past_the_bound_share_one_series)
{
    redisx_client *c = rt_client();
    char key[64];
    rt_unique("metrics-bound", key, sizeof key);
    for (int i = 0; i < 300; i++) {
        char name[32];
        snprintf(name, sizeof name, "lim-%d", i);
        redisx_limiter *lim = NULL;
        cr_assert_eq(redisx_limiter_new(&lim, c, name, REDISX_RATELIMIT_FIXED_WINDOW, 1000, 60000, 0), REDISX_OK);
        redisx_ratelimit_result *r = NULL;
        cr_assert_eq(redisx_limiter_check(&r, lim, key, 1), REDISX_OK, "%s", redisx_last_error());
        redisx_ratelimit_result_free(r);
        redisx_limiter_free(lim);
    }
    redisx_metrics *m = NULL;
    cr_assert_eq(redisx_metrics_collect(&m, c), REDISX_OK);
    int f = family(m, "redisx_ratelimit_requests_total");
    cr_assert_eq(redisx_metrics_samples(m, f), (256 + 1) * 4, "256 names and _other, four statuses each");
    cr_assert_eq(value(m, "redisx_ratelimit_requests_total", "lim-255", "allowed", NULL), 1);
    cr_assert_eq(value(m, "redisx_ratelimit_requests_total", "_other", "allowed", NULL), 44);
    redisx_metrics_free(m);
    redisx_client_close(c);
}
