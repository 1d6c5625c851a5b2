/* The two-tier cache: L2 entries in Redis (binary values, jittered TTLs,
 * negative entries, the size bound, bad input), events and the stats
 * snapshot, the scripts on a cluster-enabled node, and the pure parts
 * (jitter, XFetch's probability), for which it is built against the static
 * library (INTERNAL). Get-or-load is in test_cache_load.c. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cache_util.h"
#include "internal.h"

/* ---- pure parts ---------------------------------------------------------------- */

Test(cache, jitter_cuts_a_ttl_by_at_most_its_fraction)
{
    cr_assert_eq(redisx__cache_jitter(10000, 0.2, 0.0), 10000);
    cr_assert_eq(redisx__cache_jitter(10000, 0.0, 0.9), 10000);
    cr_assert_eq(redisx__cache_jitter(1, 0.5, 0.99), 1);
    int64_t lo = 10000, hi = 0;
    for (int i = 0; i < 10000; i++) {
        int64_t t = redisx__cache_jitter(10000, 0.2, (double)i / 10000.0);
        cr_assert(t > 8000 && t <= 10000, "%lld", (long long)t);
        lo = t < lo ? t : lo;
        hi = t > hi ? t : hi;
    }
    cr_assert_leq(lo, 8002, "the whole range is used");
    cr_assert_eq(hi, 10000);
}

Test(cache, xfetch_refreshes_with_probability_exp_of_minus_left_over_delta_beta)
{
    /* refresh when delta * gap >= left, gap = -beta ln u: P = exp(-left / (delta * beta)). */
    const double cases[][3] = {{100, 100, 1}, {300, 100, 1}, {100, 100, 2}, {50, 200, 0.5}};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        double left = cases[k][0], delta = cases[k][1], beta = cases[k][2];
        int n = 200000, hits = 0;
        for (int i = 1; i <= n; i++)
            hits += delta * redisx__cache_xfetch_gap(beta, (double)i / n) >= left;
        double p = (double)hits / n, want = exp(-left / (delta * beta));
        cr_assert(fabs(p - want) < 0.005, "case %zu: %f against %f", k, p, want);
    }
    cr_assert_eq(redisx__cache_xfetch_gap(0, 0.5), 0, "beta 0: never early");
    cr_assert_eq(redisx__cache_xfetch_gap(1, 1.0), 0, "u = 1: no gap");
    for (double u = 1e-300; u < 1; u = u * 3.7 + 1e-9)
        cr_assert(fabs(redisx__cache_xfetch_gap(1, u) + log(u)) < 1e-9 * (1 - log(u)), "ln(%g)", u);
}

/* ---- L2 ----------------------------------------------------------------------------- */

Test(cache, binary_values_round_trip_through_l2)
{
    redisx_client *c = rt_client();
    redisx_cache *w = cache_on(c, "bin", 1), *r = cache_on(c, "bin", 0);
    const char val[] = "a\0b\0\0c\xff";
    cr_assert_eq(redisx_cache_set(w, "k\x01", val, sizeof val, 60000), REDISX_OK, "%s", redisx_last_error());
    redisx_cache_entry *e = NULL;
    cr_assert_eq(redisx_cache_get(&e, r, "k\x01"), REDISX_OK);
    cr_assert_eq(redisx_cache_entry_state(e), REDISX_CACHE_HIT);
    cr_assert_eq(redisx_cache_entry_layer(e), REDISX_CACHE_LAYER_L2);
    cr_assert(value_is(e, val, sizeof val));
    cr_assert_eq(redisx_cache_entry_is_stale(e), 0);
    cr_assert(redisx_cache_entry_ttl_ms(e) > 50000);
    redisx_cache_entry_free(e);
    cr_assert_eq(redisx_cache_get(&e, w, "k\x01"), REDISX_OK);
    cr_assert_eq(redisx_cache_entry_layer(e), REDISX_CACHE_LAYER_L1, "the writer's own L1 copy");
    cr_assert(value_is(e, val, sizeof val));
    redisx_cache_entry_free(e);
    cr_assert_eq(redisx_cache_set(w, "empty", NULL, 0, 60000), REDISX_OK);
    cr_assert_eq(redisx_cache_get(&e, r, "empty"), REDISX_OK);
    cr_assert_eq(redisx_cache_entry_state(e), REDISX_CACHE_HIT);
    cr_assert(value_is(e, "", 0));
    redisx_cache_entry_free(e);
    redisx_cache_free(w);
    redisx_cache_free(r);
    redisx_client_close(c);
}

Test(cache, get_misses_and_delete_drops_both_layers)
{
    redisx_client *c = rt_client();
    redisx_cache *cache = cache_on(c, "del", 1);
    redisx_cache_entry *e = NULL;
    cr_assert_eq(redisx_cache_get(&e, cache, "nope"), REDISX_OK);
    cr_assert_eq(redisx_cache_entry_state(e), REDISX_CACHE_MISS);
    redisx_cache_entry_free(e);
    cr_assert_eq(redisx_cache_set(cache, "k", "v", 1, 60000), REDISX_OK);
    cr_assert_eq(redisx_cache_get(&e, cache, "k"), REDISX_OK);
    cr_assert_eq(redisx_cache_entry_layer(e), REDISX_CACHE_LAYER_L1);
    redisx_cache_entry_free(e);
    cr_assert_eq(redisx_cache_delete(cache, "k"), REDISX_OK);
    cr_assert_eq(redisx_cache_get(&e, cache, "k"), REDISX_OK);
    cr_assert_eq(redisx_cache_entry_state(e), REDISX_CACHE_MISS, "gone from L1 and L2");
    redisx_cache_entry_free(e);
    redisx_cache_free(cache);
    redisx_client_close(c);
}

Test(cache, ttls_are_jittered_within_bounds)
{
    redisx_client *c = rt_client();
    redisx_cache *cache = cache_on(c, "jit", 0);
    cr_assert_eq(redisx_cache_set_ttl_jitter(cache, 0.2), REDISX_OK);
    cr_assert_eq(redisx_cache_set_stale_ms(cache, 0), REDISX_OK);
    long long lo = 1LL << 40, hi = 0;
    for (int i = 0; i < 20; i++) {
        char key[16], rkey[256];
        snprintf(key, sizeof key, "k%d", i);
        cr_assert_eq(redisx_cache_set(cache, key, "v", 1, 100000), REDISX_OK);
        snprintf(rkey, sizeof rkey, "%s:cache:jit:{%s}", redisx_client_prefix(c), key);
        const char *argv[] = {"PTTL", rkey};
        redisx_reply *r = rt_cmd(c, 2, argv);
        long long p = redisx_reply_integer(r);
        redisx_reply_free(r);
        cr_assert(p > 79000 && p <= 100000, "PTTL %lld", p);
        lo = p < lo ? p : lo;
        hi = p > hi ? p : hi;
    }
    cr_assert_gt(hi - lo, 1000, "keys written together expire apart (%lld..%lld)", lo, hi);
    cr_assert_eq(redisx_cache_set_ttl_jitter(cache, 0.3), REDISX_ERR_INVALID, "settings freeze at first use");
    redisx_cache_free(cache);
    redisx_client_close(c);
}

Test(cache, negative_entries_expire_on_their_own_ttl)
{
    redisx_client *c = rt_client();
    redisx_cache *cache = cache_on(c, "neg", 0);
    cr_assert_eq(redisx_cache_set_negative_ttl_ms(cache, 400), REDISX_OK);
    redisx_cache_entry *e = fetch(cache, "absent", 1000, 0, 0);
    cr_assert_eq(redisx_cache_entry_state(e), REDISX_CACHE_LOAD);
    cr_assert_eq(redisx_cache_fill_negative(e), REDISX_OK, "%s", redisx_last_error());
    cr_assert_eq(redisx_cache_entry_should_refresh(e), 0, "the lease is given back");
    cr_assert_eq(redisx_cache_fill_negative(e), REDISX_ERR_INVALID, "only once");
    redisx_cache_entry_free(e);
    e = fetch(cache, "absent", 1000, 0, 0);
    cr_assert_eq(redisx_cache_entry_state(e), REDISX_CACHE_NEGATIVE);
    cr_assert_str_eq(redisx_cache_entry_outcome(e), "negative");
    redisx_cache_entry_free(e);
    rt_sleep_ms(700);
    e = fetch(cache, "absent", 1000, 0, 0);
    cr_assert_eq(redisx_cache_entry_state(e), REDISX_CACHE_LOAD, "the negative entry expired");
    redisx_cache_entry_free(e);
    redisx_cache_free(cache);
    redisx_client_close(c);
}

Test(cache, an_oversize_value_is_refused_with_both_sizes)
{
    redisx_client *c = rt_client();
    redisx_cache *cache = cache_on(c, "big", 1);
    cr_assert_eq(redisx_cache_set_max_value_bytes(cache, 100), REDISX_OK);
    char buf[101] = {0};
    cr_assert_eq(redisx_cache_set(cache, "k", buf, 101, 1000), REDISX_ERR_INVALID);
    cr_assert(strstr(redisx_last_error(), "101 bytes exceeds the cache's maximum of 100 bytes"), "%s",
              redisx_last_error());
    cr_assert_eq(redisx_cache_set(cache, "k", buf, 100, 1000), REDISX_OK);
    redisx_cache_entry *e = fetch(cache, "other", 1000, 0, 0);
    cr_assert_eq(redisx_cache_fill(e, buf, 101, 1000), REDISX_ERR_INVALID);
    cr_assert_eq(redisx_cache_entry_should_refresh(e), 1, "a refused fill keeps the lease");
    cr_assert_eq(redisx_cache_abandon(e), REDISX_OK);
    redisx_cache_entry_free(e);
    cr_assert_eq(redisx_cache_counter_of(cache, REDISX_CACHE_LOAD_ERRORS), 1);
    redisx_cache_free(cache);
    redisx_client_close(c);
}

Test(cache, bad_arguments_are_refused)
{
    redisx_client *c = rt_client();
    redisx_cache *cache = NULL;
    cr_assert_eq(redisx_cache_new(&cache, c, "a{b"), REDISX_ERR_INVALID);
    cr_assert_eq(redisx_cache_new(&cache, c, ""), REDISX_ERR_INVALID);
    cr_assert_eq(redisx_cache_new(&cache, NULL, "x"), REDISX_ERR_INVALID);
    cache = cache_on(c, "bad", 1);
    redisx_cache_entry *e = NULL;
    cr_assert_eq(redisx_cache_fetch(&e, cache, "", 0, 0, 0), REDISX_ERR_INVALID);
    cr_assert_eq(redisx_cache_fetch(&e, cache, "k", -1, 0, 0), REDISX_ERR_INVALID);
    cr_assert_eq(redisx_cache_fetch(&e, NULL, "k", 0, 0, 0), REDISX_ERR_INVALID);
    cr_assert_eq(redisx_cache_set(cache, "k", NULL, 3, 1000), REDISX_ERR_INVALID);
    cr_assert_eq(redisx_cache_set(cache, "k", "v", 1, 0), REDISX_ERR_INVALID);
    cr_assert_eq(redisx_cache_fill(NULL, "v", 1, 1000), REDISX_ERR_INVALID);
    cr_assert_eq(redisx_cache_set_ttl_jitter(cache, 0.9), REDISX_ERR_INVALID);
    cr_assert_eq(redisx_cache_set_xfetch_beta(cache, -1), REDISX_ERR_INVALID);
    cr_assert_eq(redisx_cache_set(cache, "k", "v", 1, 1000), REDISX_OK);
    e = fetch(cache, "k", 0, 0, 0);
    cr_assert_eq(redisx_cache_fill(e, "v", 1, 1000), REDISX_ERR_INVALID, "a plain HIT holds no lease");
    redisx_cache_entry_free(e);
    cr_assert_null(redisx_cache_entry_value(NULL, NULL));
    redisx_cache_free(cache);
    redisx_cache_free(NULL);
    redisx_client_close(c);
}

/* ---- observability ---------------------------------------------------------------- */

typedef struct seen {
    pthread_mutex_t mu;
    char outcomes[512];
    int fail_open;
} seen;

static void on_event(redisx_client *c, const redisx_event *ev, void *user)
{
    (void)c;
    seen *s = user;
    if (strcmp(redisx_event_primitive(ev), "cache") != 0)
        return;
    pthread_mutex_lock(&s->mu);
    const char *o = redisx_event_outcome(ev);
    size_t n = strlen(s->outcomes);
    snprintf(s->outcomes + n, sizeof s->outcomes - n, "%s:%s ", redisx_event_operation(ev), o ? o : "-");
    s->fail_open += redisx_event_fail_open(ev);
    pthread_mutex_unlock(&s->mu);
}

Test(cache, events_and_the_stats_snapshot_report_each_layer)
{
    seen s = {PTHREAD_MUTEX_INITIALIZER, "", 0};
    redisx_options *o = NULL;
    cr_assert_eq(redisx_options_new(&o), REDISX_OK);
    cr_assert_eq(redisx_options_set_event_cb(o, on_event, &s), REDISX_OK);
    redisx_client *c = rt_client_opts(o);
    redisx_options_free(o);
    redisx_cache *l1 = cache_on(c, "obs", 1), *l2 = cache_on(c, "obs", 0);
    cr_assert_eq(redisx_cache_set(l1, "k", "v", 1, 60000), REDISX_OK);
    done d = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, NULL};
    cr_assert_eq(redisx_cache_fetch_async(l1, "k", 0, 0, 0, on_entry, &d), REDISX_OK);
    wait_done(&d);
    cr_assert_eq(redisx_cache_entry_layer(d.e), REDISX_CACHE_LAYER_L1);
    /* Each entry names its answer as the event does. */
    cr_assert_str_eq(redisx_cache_entry_outcome(d.e), "hit_l1");
    redisx_cache_entry_free(d.e);
    redisx_cache_entry *e = fetch(l2, "k", 0, 0, 0);
    cr_assert_str_eq(redisx_cache_entry_outcome(e), "hit_l2");
    redisx_cache_entry_free(e);
    e = fetch(l2, "cold", 0, 0, 0);
    cr_assert_str_eq(redisx_cache_entry_outcome(e), "load");
    cr_assert_eq(redisx_cache_abandon(e), REDISX_OK);
    redisx_cache_entry_free(e);
    cr_assert_eq(redisx_cache_get(&e, l2, "cold"), REDISX_OK);
    cr_assert_str_eq(redisx_cache_entry_outcome(e), "miss");
    redisx_cache_entry_free(e);
    pthread_mutex_lock(&s.mu);
    cr_assert_str_eq(s.outcomes, "set:- fetch:hit_l1 fetch:hit_l2 fetch:load abandon:- get:miss ");
    pthread_mutex_unlock(&s.mu);
    redisx_stats *st = NULL;
    cr_assert_eq(redisx_client_stats(&st, c), REDISX_OK);
    cr_assert_eq(redisx_stats_cache(st, REDISX_CACHE_L1_HITS), 1);
    cr_assert_eq(redisx_stats_cache(st, REDISX_CACHE_L2_HITS), 1);
    cr_assert_eq(redisx_stats_cache(st, REDISX_CACHE_L2_MISSES), 2);
    cr_assert_eq(redisx_stats_cache(st, REDISX_CACHE_LOADS), 1);
    cr_assert_eq(redisx_stats_cache(st, REDISX_CACHE_LOAD_ERRORS), 1);
    cr_assert_eq(redisx_stats_cache(st, REDISX_CACHE_L1_ENTRIES), 1);
    cr_assert_gt(redisx_stats_cache(st, REDISX_CACHE_L1_BYTES), 0);
    cr_assert_eq(redisx_stats_cache(st, (redisx_cache_counter)99), 0);
    int i = rt_series(st, "cache", "fetch");
    cr_assert_eq(redisx_stats_counter(st, i, REDISX_COUNTER_CALLS), 3);
    redisx_stats_free(st);
    redisx_cache_free(l1);
    redisx_cache_free(l2);
    cr_assert_eq(redisx_client_stats(&st, c), REDISX_OK);
    cr_assert_eq(redisx_stats_cache(st, REDISX_CACHE_L1_HITS), 1, "a freed cache's counters stay in the sum");
    cr_assert_eq(redisx_stats_cache(st, REDISX_CACHE_L2_MISSES), 2);
    cr_assert_eq(redisx_stats_cache(st, REDISX_CACHE_L1_ENTRIES), 0, "its gauges leave with it");
    redisx_stats_free(st);
    redisx_client_close(c);
}

/* ---- Redis Cluster ------------------------------------------------------------------ */

/* Every cache script declares an entry and its lease: on a cluster-enabled
 * node a script whose keys span slots fails with CROSSSLOT. */
Test(cache, every_script_runs_on_one_slot_for_adversarial_names)
{
    rt_server s;
    cr_assert_eq(rt_server_start_cluster(&s), 0, "cannot start a cluster-enabled redis-server");
    redisx_client *c = rt_client_on(&s, "p:q");
    redisx_cache *cache = cache_on(c, "slots", 0);
    const char *names[] = {"}bob", "{}", "{", "}", "~", "{{}}", "a}b", "a{b}c", "{a}", "ordinary", "\xff"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        redisx_cache_entry *e = fetch(cache, names[i], 0, 0, 0);
        cr_assert_eq(redisx_cache_entry_state(e), REDISX_CACHE_LOAD, "%s", names[i]);
        cr_assert_eq(redisx_cache_fill(e, "v", 1, 60000), REDISX_OK, "%s: %s", names[i], redisx_last_error());
        redisx_cache_entry_free(e);
        e = fetch(cache, names[i], 0, 0, 0);
        cr_assert(value_is(e, "v", 1), "%s", names[i]);
        redisx_cache_entry_free(e);
        cr_assert_eq(redisx_cache_set(cache, names[i], "w", 1, 60000), REDISX_OK, "%s", redisx_last_error());
        cr_assert_eq(redisx_cache_delete(cache, names[i]), REDISX_OK, "%s", redisx_last_error());
        e = fetch(cache, names[i], 0, 0, 0);
        cr_assert_eq(redisx_cache_abandon(e), REDISX_OK, "%s", redisx_last_error());
        redisx_cache_entry_free(e);
    }
    redisx_cache_free(cache);
    redisx_client_close(c);
    rt_server_stop(&s);
}

/* ---- 0.6: peek and the value version ----------------------------------------------- */

Test(cache, peek_answers_from_the_l1_alone_and_versions_tell_values_apart)
{
    redisx_client *c = rt_client();
    redisx_cache *w = cache_on(c, "peek", 1), *r = cache_on(c, "peek", 0);
    redisx_cache_entry *e = (redisx_cache_entry *)1;
    cr_assert_eq(redisx_cache_peek(&e, w, "k"), REDISX_OK, "%s", redisx_last_error());
    cr_assert_null(e, "nothing cached yet");
    cr_assert_eq(redisx_cache_set(w, "k", "v1", 2, 60000), REDISX_OK);
    cr_assert_eq(redisx_cache_peek(&e, r, "k"), REDISX_OK);
    cr_assert_null(e, "another cache's L1 has no copy: peek sends nothing");
    cr_assert_eq(redisx_cache_peek(&e, w, "k"), REDISX_OK);
    cr_assert_not_null(e, "the writer's L1 copy");
    cr_assert_eq(redisx_cache_entry_state(e), REDISX_CACHE_HIT);
    cr_assert_eq(redisx_cache_entry_layer(e), REDISX_CACHE_LAYER_L1);
    cr_assert(value_is(e, "v1", 2));
    uint64_t v1 = redisx_cache_entry_version(e);
    cr_assert_neq(v1, 0);
    redisx_cache_entry_free(e);
    cr_assert_eq(redisx_cache_peek(&e, w, "k"), REDISX_OK);
    cr_assert_eq(redisx_cache_entry_version(e), v1, "the same copy, the same version");
    redisx_cache_entry_free(e);
    cr_assert_eq(redisx_cache_set(w, "k", "v2", 2, 60000), REDISX_OK);
    cr_assert_eq(redisx_cache_peek(&e, w, "k"), REDISX_OK);
    cr_assert(value_is(e, "v2", 2));
    cr_assert_neq(redisx_cache_entry_version(e), v1, "a new value, a new version");
    redisx_cache_entry_free(e);
    cr_assert_eq(redisx_cache_entry_version(NULL), 0);
    cr_assert_eq(redisx_cache_peek(&e, w, ""), REDISX_ERR_INVALID, "an empty key");
    cr_assert_eq(redisx_cache_peek(NULL, w, "k"), REDISX_ERR_INVALID);
    redisx_cache_free(w);
    redisx_cache_free(r);
    redisx_client_close(c);
}
