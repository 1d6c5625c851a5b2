/* Cross-process L1 coherence by client tracking (docs/CACHE.md,
 * "Tracking"): process A caches with redisx_cache_set_tracking(cache, 1),
 * process B writes; A's L1 copy goes when the server's invalidation
 * arrives (the delay is measured and printed, asserted only against a
 * generous deadline); a killed invalidation or data connection, FLUSHALL,
 * and a server refusing CLIENT TRACKING leave A serving nothing stale.
 * Each test has a redis-server of its own: they kill connections and
 * flush. */
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness.h"

static rt_server srv;
static redisx_client *admin;

static void setup(void)
{
    cr_assert_eq(rt_server_start(&srv), 0, "cannot start redis-server");
    admin = rt_client_on(&srv, NULL);
}

static void teardown(void)
{
    redisx_client_close(admin);
    rt_server_stop(&srv);
}

static long long now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static redisx_client *client_with(const char *user, const char *password, int bcast)
{
    redisx_options *o = NULL;
    cr_assert_eq(redisx_options_new(&o), REDISX_OK);
    cr_assert_eq(rt_options_server(o, &srv, NULL), REDISX_OK, "%s", redisx_last_error());
    cr_assert_eq(redisx_options_set_prefix(o, "trk"), REDISX_OK);
    /* Long, as rt_client()'s: a command timeout under valgrind on a busy
     * machine resets a connection, which drops the L1 copies it read (an
     * epoch, not an invalidation message) and would fail the rounds below
     * that wait for a message. */
    cr_assert_eq(redisx_options_set_command_timeout_ms(o, RT_COMMAND_TIMEOUT_MS), REDISX_OK);
    if (user)
        cr_assert_eq(redisx_options_set_auth(o, user, password), REDISX_OK, "%s", redisx_last_error());
    cr_assert_eq(redisx_options_set_cache_tracking_bcast(o, bcast), REDISX_OK);
    redisx_client *c = NULL;
    cr_assert_eq(redisx_client_open(&c, o), REDISX_OK, "%s", redisx_last_error());
    redisx_options_free(o);
    return c;
}

static redisx_client *client_as(const char *user, const char *password)
{
    return client_with(user, password, 0);
}

static redisx_cache *tracking_cache(redisx_client *c)
{
    redisx_cache *cache = NULL;
    cr_assert_eq(redisx_cache_new(&cache, c, "t"), REDISX_OK, "%s", redisx_last_error());
    cr_assert_eq(redisx_cache_set_l1(cache, 1000, 1 << 20, 60000), REDISX_OK, "%s", redisx_last_error());
    cr_assert_eq(redisx_cache_set_tracking(cache, 1), REDISX_OK, "%s", redisx_last_error());
    return cache;
}

static redisx_cache *plain_cache(redisx_client *c)
{
    redisx_cache *cache = NULL;
    cr_assert_eq(redisx_cache_new(&cache, c, "t"), REDISX_OK, "%s", redisx_last_error());
    cr_assert_eq(redisx_cache_set_l1(cache, 0, 0, 0), REDISX_OK);
    return cache;
}

static void set(redisx_cache *cache, const char *key, const char *val)
{
    cr_assert_eq(redisx_cache_set(cache, key, val, strlen(val), 600000), REDISX_OK, "set %s: %s", key,
                 redisx_last_error());
}

/* A get of key: its value into out ("" for none) and the layer. */
static redisx_cache_layer get(redisx_cache *cache, const char *key, char *out, size_t n)
{
    redisx_cache_entry *e = NULL;
    redisx_status st = redisx_cache_get(&e, cache, key);
    cr_assert_eq(st, REDISX_OK, "get %s: %s", key, redisx_last_error());
    size_t len = 0;
    const char *v = redisx_cache_entry_value(e, &len);
    snprintf(out, n, "%.*s", v ? (int)len : 0, v ? v : "");
    redisx_cache_layer layer = redisx_cache_entry_layer(e);
    redisx_cache_entry_free(e);
    return layer;
}

/* Gets key until A serves `want` from its L1 (tracking is established and
 * the value cached); up to 10 s. */
static void await_l1(redisx_cache *cache, const char *key, const char *want)
{
    char v[64];
    redisx_cache_layer layer = REDISX_CACHE_LAYER_NONE;
    for (int i = 0; i < 1000; i++) {
        layer = get(cache, key, v, sizeof v);
        cr_assert_str_eq(v, want, "%s is never stale", key);
        if (layer == REDISX_CACHE_LAYER_L1)
            return;
        rt_sleep_ms(10);
    }
    cr_assert_fail("%s never reached the L1 (layer %d)", key, (int)layer);
}

static uint64_t counter(redisx_cache *cache, redisx_cache_counter which)
{
    return redisx_cache_counter_of(cache, which);
}

static int cmp_ll(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return x < y ? -1 : x > y;
}

Test(cache_tracking, a_write_by_another_process_drops_the_l1_copy, .init = setup, .fini = teardown)
{
    redisx_client *a = client_as(NULL, NULL), *b = client_as(NULL, NULL);
    redisx_cache *ca = tracking_cache(a), *cb = plain_cache(b);
    set(cb, "k", "v0");
    await_l1(ca, "k", "v0");
    enum { ROUNDS = 100 };
    long long delay[ROUNDS];
    for (int i = 0; i < ROUNDS; i++) {
        char want[32], v[64];
        snprintf(want, sizeof want, "v%d", i + 1);
        uint64_t before = counter(ca, REDISX_CACHE_INVALIDATIONS);
        long long t0 = now_us();
        set(cb, "k", want);
        long long t1 = t0;
        /* Yield while waiting: under valgrind (one thread runs at a time) a
         * busy loop here starves the I/O thread that reads the message. */
        while (counter(ca, REDISX_CACHE_INVALIDATIONS) == before && (t1 = now_us()) - t0 < 30000000)
            sched_yield();
        cr_assert_gt(counter(ca, REDISX_CACHE_INVALIDATIONS), before, "round %d: no invalidation within 30 s", i);
        delay[i] = now_us() - t0;
        /* Dropped: the next get reads L2, and caches the new value again. */
        redisx_cache_layer layer = get(ca, "k", v, sizeof v);
        cr_assert_str_eq(v, want, "round %d: A serves the write (got %s from layer %d)", i, v, (int)layer);
        cr_assert_neq(layer, REDISX_CACHE_LAYER_L1, "round %d: the old L1 copy is gone", i);
        await_l1(ca, "k", want);
    }
    qsort(delay, ROUNDS, sizeof delay[0], cmp_ll);
    fprintf(stderr, "cache_tracking: invalidation delay (B's set returned -> A's L1 dropped) p50 %lld us, p99 %lld us, "
                    "max %lld us over %d writes\n",
            delay[ROUNDS / 2], delay[(ROUNDS * 99 + 99) / 100 - 1], delay[ROUNDS - 1], ROUNDS);
    /* A delete by B drops it too. */
    uint64_t before = counter(ca, REDISX_CACHE_INVALIDATIONS);
    cr_assert_eq(redisx_cache_delete(cb, "k"), REDISX_OK);
    for (int i = 0; i < 1000 && counter(ca, REDISX_CACHE_INVALIDATIONS) == before; i++)
        rt_sleep_ms(10);
    char v[64];
    cr_assert_neq(get(ca, "k", v, sizeof v), REDISX_CACHE_LAYER_L1);
    cr_assert_str_eq(v, "", "deleted");
    redisx_cache_free(ca);
    redisx_cache_free(cb);
    redisx_client_close(a);
    redisx_client_close(b);
}

/* Kills connections of the server matching `flag` in CLIENT LIST's flags
 * ('P': pub/sub, the invalidation connection; 't': tracked data
 * connections); returns how many. */
/* Kills the clients CLIENT LIST shows with `flag` among their flags (0:
 * any), logged in as `user` (NULL: any), and with (sub = 1) or without
 * (sub = 0) the pub/sub flag P (-1: either); returns how many. With
 * bcast_sub, sets it when one of them had BCAST tracking (flags B and t),
 * and asserts that the others (data connections) track nothing. */
static int kill_clients(char flag, const char *user, int sub, int *bcast_sub)
{
    const char *list[] = {"CLIENT", "LIST"};
    redisx_reply *r = rt_cmd(admin, 2, list);
    char *text = strdup(redisx_reply_string(r, NULL));
    redisx_reply_free(r);
    char want[80];
    snprintf(want, sizeof want, " user=%s ", user ? user : "");
    int n = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        char *f = strstr(line, " flags=");
        char *id = strstr(line, "id=");
        if (!f || !id || (user && !strstr(line, want)))
            continue;
        char flags[32], idv[32];
        sscanf(f + 7, "%31s", flags);
        if ((flag && !strchr(flags, flag)) || (sub >= 0 && (strchr(flags, 'P') != NULL) != sub))
            continue;
        if (bcast_sub) {
            if (strchr(flags, 'B') && strchr(flags, 't'))
                *bcast_sub = 1;
            cr_assert(strchr(flags, 'P') || !strchr(flags, 't'),
                      "a data connection tracks nothing in BCAST mode (flags %s)", flags);
        }
        sscanf(id + 3, "%31s", idv);
        const char *kill[] = {"CLIENT", "KILL", "ID", idv};
        redisx_reply_free(rt_cmd(admin, 4, kill));
        n++;
    }
    free(text);
    return n;
}

static int kill_flagged(char flag)
{
    return kill_clients(flag, NULL, -1, NULL);
}

static uint64_t disconnects(redisx_client *c)
{
    redisx_stats *st = NULL;
    cr_assert_eq(redisx_client_stats(&st, c), REDISX_OK);
    uint64_t v = redisx_stats_client(st, REDISX_CLIENT_DISCONNECTS);
    redisx_stats_free(st);
    return v;
}

static void lost_connection_serves_nothing_stale(char flag)
{
    redisx_client *a = client_as(NULL, NULL), *b = client_as(NULL, NULL);
    redisx_cache *ca = tracking_cache(a), *cb = plain_cache(b);
    set(cb, "k", "v1");
    set(cb, "j", "w1");
    await_l1(ca, "k", "v1");
    await_l1(ca, "j", "w1");
    uint64_t lost0 = disconnects(a);
    int killed = kill_flagged(flag);
    cr_assert_gt(killed, 0, "a connection with flag %c to kill", flag);
    if (flag == 'P') {
        /* The subscriber's loss flushes A's L1 at once (it cannot know
         * what it missed). */
        for (int i = 0; i < 1000 && counter(ca, REDISX_CACHE_L1_ENTRIES) > 0; i++)
            rt_sleep_ms(5);
        cr_assert_eq(counter(ca, REDISX_CACHE_L1_ENTRIES), 0, "L1 flushed after the loss");
    } else {
        /* A data connection's loss kills the epoch of what was read on it
         * (all of A's tracked connections here): once A has seen them go. */
        for (int i = 0; i < 1000 && disconnects(a) < lost0 + (uint64_t)killed; i++)
            rt_sleep_ms(5);
        cr_assert_geq(disconnects(a), lost0 + (uint64_t)killed, "A saw its connections drop");
    }
    set(cb, "k", "v2"); /* its invalidation may be lost: nothing must depend on it */
    char v[64];
    get(ca, "k", v, sizeof v);
    cr_assert_str_eq(v, "v2", "nothing stale after the loss");
    /* Tracking comes back before anything is cached again, and works. */
    await_l1(ca, "k", "v2");
    uint64_t before = counter(ca, REDISX_CACHE_INVALIDATIONS);
    set(cb, "k", "v3");
    for (int i = 0; i < 1000 && counter(ca, REDISX_CACHE_INVALIDATIONS) == before; i++)
        rt_sleep_ms(5);
    cr_assert_gt(counter(ca, REDISX_CACHE_INVALIDATIONS), before, "invalidations flow again");
    get(ca, "k", v, sizeof v);
    cr_assert_str_eq(v, "v3");
    redisx_cache_free(ca);
    redisx_cache_free(cb);
    redisx_client_close(a);
    redisx_client_close(b);
}

Test(cache_tracking, a_killed_invalidation_connection_leaves_nothing_stale, .init = setup, .fini = teardown)
{
    lost_connection_serves_nothing_stale('P');
}

Test(cache_tracking, a_killed_data_connection_leaves_nothing_stale, .init = setup, .fini = teardown)
{
    lost_connection_serves_nothing_stale('t');
}

Test(cache_tracking, flushall_empties_the_l1, .init = setup, .fini = teardown)
{
    redisx_client *a = client_as(NULL, NULL), *b = client_as(NULL, NULL);
    redisx_cache *ca = tracking_cache(a), *cb = plain_cache(b);
    set(cb, "x", "1");
    set(cb, "y", "2");
    await_l1(ca, "x", "1");
    await_l1(ca, "y", "2");
    uint64_t before = counter(ca, REDISX_CACHE_INVALIDATIONS);
    const char *flush[] = {"FLUSHALL"};
    redisx_reply_free(rt_cmd(admin, 1, flush));
    for (int i = 0; i < 1000 && counter(ca, REDISX_CACHE_L1_ENTRIES) > 0; i++)
        rt_sleep_ms(5);
    cr_assert_eq(counter(ca, REDISX_CACHE_L1_ENTRIES), 0, "the null invalidation flushed the L1");
    cr_assert_gt(counter(ca, REDISX_CACHE_INVALIDATIONS), before);
    char v[64];
    cr_assert_neq(get(ca, "x", v, sizeof v), REDISX_CACHE_LAYER_L1);
    cr_assert_str_eq(v, "", "gone with FLUSHALL");
    redisx_stats *s = NULL;
    cr_assert_eq(redisx_client_stats(&s, a), REDISX_OK);
    cr_assert_gt(redisx_stats_cache(s, REDISX_CACHE_INVALIDATIONS), 0, "in the stats snapshot too");
    redisx_stats_free(s);
    redisx_cache_free(ca);
    redisx_cache_free(cb);
    redisx_client_close(a);
    redisx_client_close(b);
}

Test(cache_tracking, a_server_refusing_tracking_falls_back_to_the_invalidation_channel, .init = setup,
     .fini = teardown)
{
    const char *acl[] = {"ACL", "SETUSER", "notrack", "reset", "on", ">pw", "~*", "&*", "+@all", "-client|tracking"};
    redisx_reply_free(rt_cmd(admin, 10, acl));
    redisx_client *a = client_as("notrack", "pw"), *b = client_as(NULL, NULL);
    redisx_cache *ca = tracking_cache(a), *cb = plain_cache(b);
    set(cb, "k", "v1");
    await_l1(ca, "k", "v1"); /* cached once trk:cache:t:invalidate is subscribed */
    for (int i = 2; i < 12; i++) {
        char want[16], v[64];
        snprintf(want, sizeof want, "v%d", i);
        uint64_t before = counter(ca, REDISX_CACHE_INVALIDATIONS);
        set(cb, "k", want); /* B publishes the key on the cache's channel after the write */
        for (int k = 0; k < 1000 && counter(ca, REDISX_CACHE_INVALIDATIONS) == before; k++)
            rt_sleep_ms(5);
        cr_assert_gt(counter(ca, REDISX_CACHE_INVALIDATIONS), before, "the channel's message arrived");
        cr_assert_neq(get(ca, "k", v, sizeof v), REDISX_CACHE_LAYER_L1);
        cr_assert_str_eq(v, want, "nothing stale");
        await_l1(ca, "k", want);
    }
    /* Losing the subscriber flushes, as with tracking. */
    cr_assert_gt(kill_flagged('P'), 0);
    for (int i = 0; i < 1000 && counter(ca, REDISX_CACHE_L1_ENTRIES) > 0; i++)
        rt_sleep_ms(5);
    cr_assert_eq(counter(ca, REDISX_CACHE_L1_ENTRIES), 0);
    set(cb, "k", "after");
    char v[64];
    get(ca, "k", v, sizeof v);
    cr_assert_str_eq(v, "after");
    await_l1(ca, "k", "after");
    redisx_cache_free(ca);
    redisx_cache_free(cb);
    redisx_client_close(a);
    redisx_client_close(b);
}

Test(cache_tracking, without_tracking_or_channel_rights_the_l1_stays_unused, .init = setup, .fini = teardown)
{
    const char *acl[] = {"ACL", "SETUSER", "bare", "reset", "on", ">pw", "~*", "resetchannels", "+@all",
                         "-client|tracking"};
    redisx_reply_free(rt_cmd(admin, 10, acl));
    redisx_client *a = client_as("bare", "pw"), *b = client_as(NULL, NULL);
    redisx_cache *ca = tracking_cache(a), *cb = plain_cache(b);
    set(cb, "k", "v1");
    char v[64];
    for (int i = 0; i < 20; i++) {
        cr_assert_eq(get(ca, "k", v, sizeof v), REDISX_CACHE_LAYER_L2, "never an L1 copy without invalidations");
        cr_assert_str_eq(v, "v1");
        rt_sleep_ms(10);
    }
    set(cb, "k", "v2");
    cr_assert_eq(get(ca, "k", v, sizeof v), REDISX_CACHE_LAYER_L2);
    cr_assert_str_eq(v, "v2", "nothing stale");
    redisx_cache_free(ca);
    redisx_cache_free(cb);
    redisx_client_close(a);
    redisx_client_close(b);
}

static void await_invalidation(redisx_cache *cache, uint64_t before, const char *what)
{
    for (int i = 0; i < 2000 && counter(cache, REDISX_CACHE_INVALIDATIONS) == before; i++)
        rt_sleep_ms(5);
    cr_assert_gt(counter(cache, REDISX_CACHE_INVALIDATIONS), before, "%s", what);
}

Test(cache_tracking, bcast_mode_is_told_of_every_write_and_outlives_its_data_connections, .init = setup,
     .fini = teardown)
{
    const char *acl[] = {"ACL", "SETUSER", "bc", "reset", "on", ">pw", "~*", "&*", "+@all"};
    redisx_reply_free(rt_cmd(admin, 9, acl));
    redisx_client *a = client_with("bc", "pw", 1), *b = client_as(NULL, NULL);
    redisx_cache *ca = tracking_cache(a), *cb = plain_cache(b);
    set(cb, "k", "v1");
    await_l1(ca, "k", "v1");
    /* A write of a key A never read reaches it too: the prefix is watched. */
    uint64_t before = counter(ca, REDISX_CACHE_INVALIDATIONS);
    set(cb, "never-read", "x");
    await_invalidation(ca, before, "BCAST tells of a key A never read");
    before = counter(ca, REDISX_CACHE_INVALIDATIONS);
    set(cb, "k", "v2");
    await_invalidation(ca, before, "B's write reached A");
    char v[64];
    cr_assert_neq(get(ca, "k", v, sizeof v), REDISX_CACHE_LAYER_L1);
    cr_assert_str_eq(v, "v2", "nothing stale");
    await_l1(ca, "k", "v2");

    /* A's data connections lost: nothing was tracked on them, so its L1
     * stays (and stays right). */
    uint64_t lost0 = disconnects(a);
    int bcast_sub = 0;
    int killed = kill_clients(0, "bc", 0, &bcast_sub);
    cr_assert_gt(killed, 0, "A's data connections to kill");
    for (int i = 0; i < 1000 && disconnects(a) < lost0 + (uint64_t)killed; i++)
        rt_sleep_ms(5);
    cr_assert_geq(disconnects(a), lost0 + (uint64_t)killed, "A saw its connections drop");
    cr_assert_eq(get(ca, "k", v, sizeof v), REDISX_CACHE_LAYER_L1, "the copy outlived the data connections");
    cr_assert_str_eq(v, "v2");
    before = counter(ca, REDISX_CACHE_INVALIDATIONS);
    set(cb, "k", "v3");
    await_invalidation(ca, before, "invalidations still flow");
    cr_assert_neq(get(ca, "k", v, sizeof v), REDISX_CACHE_LAYER_L1);
    cr_assert_str_eq(v, "v3");
    await_l1(ca, "k", "v3");

    /* The subscriber (which registered BCAST on itself) lost: the L1 goes. */
    bcast_sub = 0;
    cr_assert_eq(kill_clients(0, "bc", 1, &bcast_sub), 1, "A's one subscriber connection");
    cr_assert(bcast_sub, "the subscriber itself has BCAST tracking (flags B and t)");
    for (int i = 0; i < 1000 && counter(ca, REDISX_CACHE_L1_ENTRIES) > 0; i++)
        rt_sleep_ms(5);
    cr_assert_eq(counter(ca, REDISX_CACHE_L1_ENTRIES), 0, "flushed with the subscriber");
    set(cb, "k", "v4");
    get(ca, "k", v, sizeof v);
    cr_assert_str_eq(v, "v4");
    await_l1(ca, "k", "v4");
    before = counter(ca, REDISX_CACHE_INVALIDATIONS);
    set(cb, "k", "v5");
    await_invalidation(ca, before, "and flow again once it is back");
    cr_assert_neq(get(ca, "k", v, sizeof v), REDISX_CACHE_LAYER_L1);
    cr_assert_str_eq(v, "v5");
    redisx_cache_free(ca);
    redisx_cache_free(cb);
    redisx_client_close(a);
    redisx_client_close(b);
}
