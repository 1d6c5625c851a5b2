/* Wake-ups on a Redis Cluster (docs/CLUSTER.md, "Wake-ups"): a cluster
 * client's scripts wake waiters with SPUBLISH on the key's shard channel
 * and waiters SSUBSCRIBE on a subscriber connection to the node serving
 * the slot; the subscription follows the slot when it moves; a release by
 * a user without channel rights still succeeds. Wake-ups are counted by
 * the client's REDISX_CLIENT_WAKEUPS counter rather than timed; where the
 * subscription is is read from the servers (PUBSUB SHARDNUMSUB / NUMSUB).
 * No .timeout on these tests (see test_cluster_client.c); ctest's TIMEOUT
 * bounds the suite. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster.h"
#include "harness.h"
#include "keys.h"

typedef struct fixture {
    rt_cluster cl;
    redisx_client *node[RT_CLUSTER_MAX]; /* a standalone client per node, same order */
    char id[RT_CLUSTER_MAX][41];
    redisx__slot_map *map;
} fixture;

static fixture fx;
static atomic_int n_refused, n_pushed, n_moved;

static void count_log(redisx_client *c, redisx_log_level level, const char *msg, void *user)
{
    (void)c;
    (void)level;
    (void)user;
    if (strncmp(msg, "SSUBSCRIBE ", 11) == 0 && strstr(msg, " refused: "))
        atomic_fetch_add(&n_refused, 1);
    else if (strstr(msg, "pushed sunsubscribe"))
        atomic_fetch_add(&n_pushed, 1);
    else if (strncmp(msg, "MOVED slot ", 11) == 0)
        atomic_fetch_add(&n_moved, 1);
}

static redisx_reply *cmd(redisx_client *c, int argc, const char **argv)
{
    redisx_reply *r = NULL;
    redisx_status st = redisx_command(&r, c, argc, argv, NULL);
    cr_assert_eq(st, REDISX_OK, "%s: %s", argv[0], redisx_last_error());
    return r;
}

static void setup(void)
{
    memset(&fx, 0, sizeof fx);
    cr_assert_eq(rt_cluster_start(&fx.cl, 3, 0), 0, "cannot start a 3-master cluster");
    for (int i = 0; i < fx.cl.n; i++) {
        fx.node[i] = rt_client_on(&fx.cl.node[i], NULL);
        const char *myid[] = {"CLUSTER", "MYID"};
        redisx_reply *r = cmd(fx.node[i], 2, myid);
        snprintf(fx.id[i], sizeof fx.id[i], "%s", redisx_reply_string(r, NULL));
        redisx_reply_free(r);
    }
    const char *slots[] = {"CLUSTER", "SLOTS"};
    redisx_reply *r = cmd(fx.node[0], 2, slots);
    cr_assert_eq(redisx__slot_map_parse(&fx.map, r, "127.0.0.1", 1, REDISX__SLOTS_FULL_COVERAGE), REDISX_OK, "%s",
                 redisx_last_error());
    redisx_reply_free(r);
}

static void teardown(void)
{
    redisx__slot_map_unref(fx.map);
    for (int i = 0; i < fx.cl.n; i++)
        redisx_client_close(fx.node[i]);
    rt_cluster_stop(&fx.cl);
}

static int master_of(int slot)
{
    const redisx__cluster_node *n = redisx__slot_map_master(fx.map, slot);
    cr_assert_not_null(n);
    for (int i = 0; i < fx.cl.n; i++)
        if (fx.cl.node[i].port == n->port)
            return i;
    cr_assert_fail("no node on port %d", n->port);
    return -1;
}

/* A name ("<stem>-<k>") whose `kind` key lands on master m; its key (the
 * wake-up channel) into key. */
static void name_on(int m, const char *kind, const char *stem, char *out, size_t n, char *key, size_t kn)
{
    for (int k = 0; k < 100000; k++) {
        snprintf(out, n, "%s-%d", stem, k);
        char *kb = redisx__key_build("redisx", kind, out, "");
        cr_assert_not_null(kb);
        int slot = redisx__slot_of(kb, strlen(kb));
        snprintf(key, kn, "%s", kb);
        free(kb);
        if (master_of(slot) == m)
            return;
    }
    cr_assert_fail("no name for master %d", m);
}

static int want_bcast; /* cluster_client() in cache tracking BCAST mode */

static redisx_client *cluster_client(const char *user, const char *password)
{
    char url[256];
    if (user)
        snprintf(url, sizeof url, "redis+cluster://%s:%s@127.0.0.1:%d", user, password, fx.cl.node[1].port);
    else
        snprintf(url, sizeof url, "redis+cluster://127.0.0.1:%d", fx.cl.node[1].port);
    redisx_options *o = NULL;
    cr_assert_eq(redisx_options_new(&o), REDISX_OK);
    cr_assert_eq(redisx_options_set_url(o, url), REDISX_OK, "%s", redisx_last_error());
    cr_assert_eq(redisx_options_set_log_cb(o, count_log, REDISX_LOG_DEBUG, NULL), REDISX_OK);
    cr_assert_eq(redisx_options_set_cache_tracking_bcast(o, want_bcast), REDISX_OK);
    redisx_client *c = NULL;
    cr_assert_eq(redisx_client_open(&c, o), REDISX_OK, "%s", redisx_last_error());
    redisx_options_free(o);
    return c;
}

static uint64_t wakeups(redisx_client *c)
{
    redisx_stats *s = NULL;
    cr_assert_eq(redisx_client_stats(&s, c), REDISX_OK);
    uint64_t v = redisx_stats_client(s, REDISX_CLIENT_WAKEUPS);
    redisx_stats_free(s);
    return v;
}

/* Subscribers of `channel` on node i: sharded (SHARDNUMSUB) or classic. */
static long long numsub(int i, const char *channel, int sharded)
{
    const char *a[] = {"PUBSUB", sharded ? "SHARDNUMSUB" : "NUMSUB", channel};
    redisx_reply *r = cmd(fx.node[i], 3, a);
    long long n = redisx_reply_integer(redisx_reply_element(r, 1));
    redisx_reply_free(r);
    return n;
}

/* Waits (up to 10 s) until node m has exactly one sharded subscriber of
 * channel; then no other node has one, sharded or not. */
static void await_subscribed_on(int m, const char *channel)
{
    long long n = 0;
    for (int i = 0; i < 1000 && (n = numsub(m, channel, 1)) != 1; i++)
        rt_sleep_ms(10);
    cr_assert_eq(n, 1, "SHARDNUMSUB %s on master %d", channel, m);
    for (int i = 0; i < fx.cl.masters; i++) {
        cr_assert_eq(numsub(i, channel, 0), 0, "no classic SUBSCRIBE on master %d", i);
        if (i != m)
            cr_assert_eq(numsub(i, channel, 1), 0, "no SSUBSCRIBE on master %d", i);
    }
}

typedef struct waiter_arg {
    redisx_client *c;
    const char *name;
    redisx_status st;
    redisx_lock *lock;
    redisx_idem *rec;
    char error[512];
} waiter_arg;

static void *lock_waiter(void *p)
{
    waiter_arg *a = p;
    a->st = redisx_lock_acquire(&a->lock, a->c, a->name, 10000, 20000);
    snprintf(a->error, sizeof a->error, "%s", redisx_last_error());
    return NULL;
}

static void *idem_waiter(void *p)
{
    waiter_arg *a = p;
    a->st = redisx_idem_begin(&a->rec, a->c, a->name, "fp", 2, 10000, 20000);
    snprintf(a->error, sizeof a->error, "%s", redisx_last_error());
    return NULL;
}

Test(cluster_pubsub, waiters_on_every_master_are_woken_by_sharded_messages, .init = setup, .fini = teardown)
{
    redisx_client *holder = cluster_client(NULL, NULL);
    redisx_client *waiter = cluster_client(NULL, NULL);
    for (int m = 0; m < fx.cl.masters; m++) {
        char name[64], key[160];
        name_on(m, "lock", "wlock", name, sizeof name, key, sizeof key);
        redisx_lock *lk = NULL;
        cr_assert_eq(redisx_lock_acquire(&lk, holder, name, 10000, 0), REDISX_OK, "%s", redisx_last_error());
        waiter_arg w = {.c = waiter, .name = name};
        pthread_t t;
        cr_assert_eq(pthread_create(&t, NULL, lock_waiter, &w), 0);
        await_subscribed_on(m, key);
        uint64_t before = wakeups(waiter);
        cr_assert_eq(redisx_lock_release(lk), REDISX_OK, "%s", redisx_last_error());
        redisx_lock_free(lk);
        pthread_join(t, NULL);
        cr_assert_eq(w.st, REDISX_OK, "waiting acquire on master %d: %s", m, w.error);
        cr_assert_gt(wakeups(waiter), before, "the release's SPUBLISH reached the waiter (master %d)", m);
        cr_assert_eq(redisx_lock_release(w.lock), REDISX_OK);
        redisx_lock_free(w.lock);

        /* An idempotency begin waiting for the owner's complete. */
        char ikey[64], ichan[160];
        name_on(m, "idem", "widem", ikey, sizeof ikey, ichan, sizeof ichan);
        redisx_idem *rec = NULL;
        cr_assert_eq(redisx_idem_begin(&rec, holder, ikey, "fp", 2, 10000, 0), REDISX_OK, "%s",
                     redisx_last_error());
        waiter_arg wi = {.c = waiter, .name = ikey};
        cr_assert_eq(pthread_create(&t, NULL, idem_waiter, &wi), 0);
        await_subscribed_on(m, ichan);
        before = wakeups(waiter);
        cr_assert_eq(redisx_idem_complete(rec, "done", 4, NULL, 0, 60000), REDISX_OK, "%s", redisx_last_error());
        redisx_idem_free(rec);
        pthread_join(t, NULL);
        cr_assert_eq(wi.st, REDISX_OK, "waiting begin on master %d: %s", m, wi.error);
        cr_assert_eq(redisx_idem_state_of(wi.rec), REDISX_IDEM_COMPLETED);
        cr_assert_gt(wakeups(waiter), before, "the completion's SPUBLISH reached the waiter (master %d)", m);
        redisx_idem_free(wi.rec);
    }
    /* Nothing was left subscribed once the waits ended. */
    for (int i = 0; i < fx.cl.masters; i++) {
        const char *a[] = {"PUBSUB", "SHARDCHANNELS"};
        long long left = 1;
        for (int k = 0; k < 500 && left; k++) {
            redisx_reply *r = cmd(fx.node[i], 2, a);
            left = (long long)redisx_reply_elements(r);
            redisx_reply_free(r);
            if (left)
                rt_sleep_ms(10);
        }
        cr_assert_eq(left, 0, "shard channels left on master %d", i);
    }
    redisx_client_close(waiter);
    redisx_client_close(holder);
}

static void setslot_node(int slot, int dst)
{
    char s[16];
    snprintf(s, sizeof s, "%d", slot);
    for (int i = 0; i < fx.cl.masters; i++) {
        const char *a[] = {"CLUSTER", "SETSLOT", s, "NODE", fx.id[dst]};
        redisx_reply_free(cmd(fx.node[i], 5, a));
    }
}

Test(cluster_pubsub, a_waiter_resubscribes_when_its_slot_moves, .init = setup, .fini = teardown)
{
    redisx_client *holder = cluster_client(NULL, NULL);
    redisx_client *waiter = cluster_client(NULL, NULL);
    char name[64], key[160];
    name_on(0, "lock", "mlock", name, sizeof name, key, sizeof key);
    int slot = redisx__slot_of(key, strlen(key));
    int src = master_of(slot), dst = (src + 1) % fx.cl.masters;
    redisx_lock *lk = NULL;
    cr_assert_eq(redisx_lock_acquire(&lk, holder, name, 30000, 0), REDISX_OK, "%s", redisx_last_error());
    waiter_arg w = {.c = waiter, .name = name};
    pthread_t t;
    cr_assert_eq(pthread_create(&t, NULL, lock_waiter, &w), 0);
    await_subscribed_on(src, key);

    /* Move the slot with its keys (the lease and its fencing counter). */
    char s[16], dport[16];
    snprintf(s, sizeof s, "%d", slot);
    snprintf(dport, sizeof dport, "%d", fx.cl.node[dst].port);
    const char *imp[] = {"CLUSTER", "SETSLOT", s, "IMPORTING", fx.id[src]};
    redisx_reply_free(cmd(fx.node[dst], 5, imp));
    const char *mig[] = {"CLUSTER", "SETSLOT", s, "MIGRATING", fx.id[dst]};
    redisx_reply_free(cmd(fx.node[src], 5, mig));
    char *fence = redisx__key_build("redisx", "lock", name, ":fence");
    const char *mv[] = {"MIGRATE", "127.0.0.1", dport, "", "0", "5000", "KEYS", key, fence};
    redisx_reply *r = cmd(fx.node[src], 9, mv);
    cr_assert_eq(redisx_reply_type_of(r), REDISX_REPLY_STATUS, "MIGRATE: %s", redisx_reply_string(r, NULL));
    redisx_reply_free(r);
    free(fence);
    setslot_node(slot, dst);

    /* The old master pushed sunsubscribe; the waiter is on the new one.
     * Which the client acts on first is a race: the push, or a MOVED to the
     * waiter's polling acquire (the map then moves the channel, and the
     * push answers our own SUNSUBSCRIBE). Either way it follows the slot. */
    await_subscribed_on(dst, key);
    cr_assert_gt(atomic_load(&n_pushed) + atomic_load(&n_moved), 0,
                 "the client saw neither the server's sunsubscribe nor a MOVED");
    uint64_t before = wakeups(waiter);
    cr_assert_eq(redisx_lock_release(lk), REDISX_OK, "%s", redisx_last_error());
    redisx_lock_free(lk);
    pthread_join(t, NULL);
    cr_assert_eq(w.st, REDISX_OK, "waiting acquire: %s", w.error);
    cr_assert_gt(wakeups(waiter), before, "the release on the new master woke the waiter");
    cr_assert_eq(redisx_lock_release(w.lock), REDISX_OK);
    redisx_lock_free(w.lock);
    redisx_client_close(waiter);
    redisx_client_close(holder);
}

Test(cluster_pubsub, release_without_channel_rights_still_succeeds, .init = setup, .fini = teardown)
{
    /* Keys and commands, but no channel: SPUBLISH and SSUBSCRIBE refused. */
    for (int i = 0; i < fx.cl.masters; i++) {
        const char *acl[] = {"ACL", "SETUSER", "nochan", "reset", "on", ">pw", "~*", "+@all", "resetchannels"};
        redisx_reply_free(cmd(fx.node[i], 9, acl));
    }
    redisx_client *holder = cluster_client("nochan", "pw");
    redisx_client *waiter = cluster_client("nochan", "pw");
    char name[64], key[160];
    name_on(2, "lock", "alock", name, sizeof name, key, sizeof key);
    redisx_lock *lk = NULL;
    cr_assert_eq(redisx_lock_acquire(&lk, holder, name, 10000, 0), REDISX_OK, "%s", redisx_last_error());
    waiter_arg w = {.c = waiter, .name = name};
    pthread_t t;
    cr_assert_eq(pthread_create(&t, NULL, lock_waiter, &w), 0);
    /* The waiter's SSUBSCRIBE is refused (logged); it polls instead. */
    for (int i = 0; i < 1000 && atomic_load(&n_refused) == 0; i++)
        rt_sleep_ms(10);
    cr_assert_gt(atomic_load(&n_refused), 0, "the refused SSUBSCRIBE was logged");
    cr_assert_eq(numsub(master_of(redisx__slot_of(key, strlen(key))), key, 1), 0);
    cr_assert_eq(redisx_lock_release(lk), REDISX_OK, "release without channel rights: %s", redisx_last_error());
    redisx_lock_free(lk);
    pthread_join(t, NULL);
    cr_assert_eq(w.st, REDISX_OK, "the waiter got the lock by polling: %s", w.error);
    cr_assert_eq(wakeups(waiter), 0, "no wake-up message can have come");
    cr_assert_eq(redisx_lock_release(w.lock), REDISX_OK, "%s", redisx_last_error());
    redisx_lock_free(w.lock);

    /* Idempotency complete and fail too. */
    redisx_idem *rec = NULL;
    cr_assert_eq(redisx_idem_begin(&rec, holder, name, "fp", 2, 10000, 0), REDISX_OK, "%s", redisx_last_error());
    cr_assert_eq(redisx_idem_complete(rec, "ok", 2, NULL, 0, 60000), REDISX_OK, "%s", redisx_last_error());
    redisx_idem_free(rec);
    char other[80];
    snprintf(other, sizeof other, "%s-f", name);
    cr_assert_eq(redisx_idem_begin(&rec, holder, other, "fp", 2, 10000, 0), REDISX_OK, "%s", redisx_last_error());
    cr_assert_eq(redisx_idem_fail(rec), REDISX_OK, "%s", redisx_last_error());
    redisx_idem_free(rec);
    redisx_client_close(waiter);
    redisx_client_close(holder);
}

/* ---- cache tracking per node ---- */

static redisx_cache *cache_of(redisx_client *c, int tracking)
{
    redisx_cache *cache = NULL;
    cr_assert_eq(redisx_cache_new(&cache, c, "ct"), REDISX_OK, "%s", redisx_last_error());
    if (tracking) {
        cr_assert_eq(redisx_cache_set_l1(cache, 1000, 1 << 20, 60000), REDISX_OK);
        cr_assert_eq(redisx_cache_set_tracking(cache, 1), REDISX_OK);
    } else {
        cr_assert_eq(redisx_cache_set_l1(cache, 0, 0, 0), REDISX_OK);
    }
    return cache;
}

static redisx_cache_layer cache_get(redisx_cache *cache, const char *key, char *out, size_t n)
{
    redisx_cache_entry *e = NULL;
    cr_assert_eq(redisx_cache_get(&e, cache, key), REDISX_OK, "get %s: %s", key, redisx_last_error());
    size_t len = 0;
    const char *v = redisx_cache_entry_value(e, &len);
    snprintf(out, n, "%.*s", v ? (int)len : 0, v ? v : "");
    redisx_cache_layer layer = redisx_cache_entry_layer(e);
    redisx_cache_entry_free(e);
    return layer;
}

static void await_cached(redisx_cache *cache, const char *key, const char *want)
{
    char v[64];
    for (int i = 0; i < 1000; i++) {
        redisx_cache_layer layer = cache_get(cache, key, v, sizeof v);
        cr_assert_str_eq(v, want, "%s is never stale", key);
        if (layer == REDISX_CACHE_LAYER_L1)
            return;
        rt_sleep_ms(10);
    }
    cr_assert_fail("%s never reached the L1", key);
}

/* Waits (up to 10 s) until counter `which` of cache moves past before. */
static void await_counter_past(redisx_cache *cache, redisx_cache_counter which, uint64_t before, const char *what)
{
    for (int i = 0; i < 2000 && redisx_cache_counter_of(cache, which) <= before; i++)
        rt_sleep_ms(5);
    cr_assert_gt(redisx_cache_counter_of(cache, which), before, "%s", what);
}

static void await_l1_empty(redisx_cache *cache, const char *what)
{
    for (int i = 0; i < 2000 && redisx_cache_counter_of(cache, REDISX_CACHE_L1_ENTRIES) > 0; i++)
        rt_sleep_ms(5);
    cr_assert_eq(redisx_cache_counter_of(cache, REDISX_CACHE_L1_ENTRIES), 0, "%s", what);
}

Test(cluster_pubsub, cache_tracking_runs_per_node, .init = setup, .fini = teardown)
{
    redisx_client *a = cluster_client(NULL, NULL), *b = cluster_client(NULL, NULL);
    redisx_cache *ca = cache_of(a, 1), *cb = cache_of(b, 0);
    char name[RT_CLUSTER_MAX][64];
    for (int m = 0; m < fx.cl.masters; m++) {
        char key[160];
        name_on(m, "cache:ct", "ck", name[m], sizeof name[m], key, sizeof key);
        cr_assert_eq(redisx_cache_set(cb, name[m], "v1", 2, 600000), REDISX_OK, "%s", redisx_last_error());
        await_cached(ca, name[m], "v1");
    }
    for (int m = 0; m < fx.cl.masters; m++) {
        uint64_t before = redisx_cache_counter_of(ca, REDISX_CACHE_INVALIDATIONS);
        cr_assert_eq(redisx_cache_set(cb, name[m], "v2", 2, 600000), REDISX_OK, "%s", redisx_last_error());
        for (int i = 0; i < 1000 && redisx_cache_counter_of(ca, REDISX_CACHE_INVALIDATIONS) == before; i++)
            rt_sleep_ms(5);
        cr_assert_gt(redisx_cache_counter_of(ca, REDISX_CACHE_INVALIDATIONS), before,
                     "master %d's invalidation reached A", m);
        char v[64];
        cr_assert_neq(cache_get(ca, name[m], v, sizeof v), REDISX_CACHE_LAYER_L1);
        cr_assert_str_eq(v, "v2", "nothing stale on master %d", m);
        await_cached(ca, name[m], "v2");
    }
    /* One node's invalidation connection lost: the L1 goes at once. */
    const char *kill[] = {"CLIENT", "KILL", "TYPE", "pubsub"};
    redisx_reply_free(cmd(fx.node[1], 4, kill));
    for (int i = 0; i < 1000 && redisx_cache_counter_of(ca, REDISX_CACHE_L1_ENTRIES) > 0; i++)
        rt_sleep_ms(5);
    cr_assert_eq(redisx_cache_counter_of(ca, REDISX_CACHE_L1_ENTRIES), 0, "flushed after the loss");
    cr_assert_eq(redisx_cache_set(cb, name[1], "v3", 2, 600000), REDISX_OK);
    char v[64];
    cache_get(ca, name[1], v, sizeof v);
    cr_assert_str_eq(v, "v3");
    await_cached(ca, name[1], "v3");
    redisx_cache_free(ca);
    redisx_cache_free(cb);
    redisx_client_close(a);
    redisx_client_close(b);
}


/* BCAST mode on a cluster: each master's subscriber registers BCAST on
 * itself, so every write under the prefix on that master reaches A, read
 * or not, and the loss of a node's subscriber flushes the L1. */
Test(cluster_pubsub, cache_tracking_in_bcast_mode_runs_per_node, .init = setup, .fini = teardown)
{
    want_bcast = 1;
    redisx_client *a = cluster_client(NULL, NULL);
    want_bcast = 0;
    redisx_client *b = cluster_client(NULL, NULL);
    redisx_cache *ca = cache_of(a, 1), *cb = cache_of(b, 0);
    char name[RT_CLUSTER_MAX][64], unread[RT_CLUSTER_MAX][64];
    for (int m = 0; m < fx.cl.masters; m++) {
        char key[160];
        name_on(m, "cache:ct", "bk", name[m], sizeof name[m], key, sizeof key);
        name_on(m, "cache:ct", "bu", unread[m], sizeof unread[m], key, sizeof key);
        cr_assert_eq(redisx_cache_set(cb, name[m], "v1", 2, 600000), REDISX_OK, "%s", redisx_last_error());
        await_cached(ca, name[m], "v1");
    }
    for (int m = 0; m < fx.cl.masters; m++) {
        uint64_t before = redisx_cache_counter_of(ca, REDISX_CACHE_INVALIDATIONS);
        cr_assert_eq(redisx_cache_set(cb, unread[m], "x", 1, 600000), REDISX_OK, "%s", redisx_last_error());
        await_counter_past(ca, REDISX_CACHE_INVALIDATIONS, before, "a key A never read, on its master");
        before = redisx_cache_counter_of(ca, REDISX_CACHE_INVALIDATIONS);
        cr_assert_eq(redisx_cache_set(cb, name[m], "v2", 2, 600000), REDISX_OK, "%s", redisx_last_error());
        await_counter_past(ca, REDISX_CACHE_INVALIDATIONS, before, "B's write reached A");
        char v[64];
        cr_assert_neq(cache_get(ca, name[m], v, sizeof v), REDISX_CACHE_LAYER_L1);
        cr_assert_str_eq(v, "v2", "nothing stale on master %d", m);
        await_cached(ca, name[m], "v2");
    }
    const char *kill[] = {"CLIENT", "KILL", "TYPE", "pubsub"};
    redisx_reply_free(cmd(fx.node[2], 4, kill));
    await_l1_empty(ca, "flushed when a node's subscriber dropped");
    cr_assert_eq(redisx_cache_set(cb, name[2], "v3", 2, 600000), REDISX_OK);
    await_cached(ca, name[2], "v3");
    redisx_cache_free(ca);
    redisx_cache_free(cb);
    redisx_client_close(a);
    redisx_client_close(b);
}

/* Nodes refusing CLIENT TRACKING: the cache's fallback channel, sharded
 * (SSUBSCRIBE on the node serving the channel's slot, writers SPUBLISH
 * there), carries every write's key to the L1 whatever master the entry
 * lives on; losing it or its slot moving flushes the L1, and it follows
 * the slot. */
Test(cluster_pubsub, a_cluster_refusing_tracking_falls_back_to_the_shard_channel, .init = setup, .fini = teardown)
{
    for (int i = 0; i < fx.cl.masters; i++) {
        const char *acl[] = {"ACL", "SETUSER", "notrack", "reset", "on", ">pw", "~*", "&*", "+@all",
                             "-client|tracking"};
        redisx_reply_free(cmd(fx.node[i], 10, acl));
    }
    redisx_client *a = cluster_client("notrack", "pw"), *b = cluster_client(NULL, NULL);
    redisx_cache *ca = cache_of(a, 1), *cb = cache_of(b, 0);
    const char *channel = "redisx:cache:ct:invalidate";
    int cslot = redisx__slot_of(channel, strlen(channel)), cm = master_of(cslot);
    char name[RT_CLUSTER_MAX][64];
    for (int m = 0; m < fx.cl.masters; m++) {
        char key[160];
        name_on(m, "cache:ct", "fk", name[m], sizeof name[m], key, sizeof key);
        cr_assert_neq(redisx__slot_of(key, strlen(key)), cslot, "an entry in the channel's own slot");
        cr_assert_eq(redisx_cache_set(cb, name[m], "v1", 2, 600000), REDISX_OK, "%s", redisx_last_error());
        await_cached(ca, name[m], "v1"); /* once the channel is confirmed */
    }
    await_subscribed_on(cm, channel);
    for (int m = 0; m < fx.cl.masters; m++) {
        uint64_t before = redisx_cache_counter_of(ca, REDISX_CACHE_INVALIDATIONS);
        cr_assert_eq(redisx_cache_set(cb, name[m], "v2", 2, 600000), REDISX_OK, "%s", redisx_last_error());
        await_counter_past(ca, REDISX_CACHE_INVALIDATIONS, before, "B's SPUBLISH reached A");
        char v[64];
        cr_assert_neq(cache_get(ca, name[m], v, sizeof v), REDISX_CACHE_LAYER_L1);
        cr_assert_str_eq(v, "v2", "nothing stale on master %d", m);
        await_cached(ca, name[m], "v2");
    }
    /* A tag's invalidation takes the tagged copy from A's L1 too. */
    redisx_tags *t = NULL;
    cr_assert_eq(redisx_tags_new(&t), REDISX_OK);
    cr_assert_eq(redisx_tags_add(t, "T", 1), REDISX_OK);
    cr_assert_eq(redisx_cache_set_tagged(cb, "tagged", "tv", 2, 600000, t), REDISX_OK, "%s", redisx_last_error());
    await_cached(ca, "tagged", "tv");
    uint64_t before = redisx_cache_counter_of(ca, REDISX_CACHE_INVALIDATIONS);
    cr_assert_eq(redisx_cache_invalidate_tags(cb, t), REDISX_OK, "%s", redisx_last_error());
    await_counter_past(ca, REDISX_CACHE_INVALIDATIONS, before, "the tag's message reached A");
    redisx_cache_entry *e = NULL;
    cr_assert_eq(redisx_cache_get(&e, ca, "tagged"), REDISX_OK, "%s", redisx_last_error());
    cr_assert_eq(redisx_cache_entry_state(e), REDISX_CACHE_MISS, "the tagged entry is gone for A");
    redisx_cache_entry_free(e);
    redisx_tags_free(t);

    /* The channel's subscriber connection killed: A's L1 goes at once and
     * comes back once the channel is confirmed again. */
    const char *kill[] = {"CLIENT", "KILL", "TYPE", "pubsub"};
    redisx_reply_free(cmd(fx.node[cm], 4, kill));
    await_l1_empty(ca, "flushed when the channel's connection dropped");
    cr_assert_eq(redisx_cache_set(cb, name[0], "v3", 2, 600000), REDISX_OK);
    await_cached(ca, name[0], "v3");
    await_subscribed_on(cm, channel);

    /* The channel's slot moves (it holds no key of this test): the old
     * node pushes sunsubscribe, A flushes, follows it, and B's SPUBLISH
     * reaches it there. */
    int dst = (cm + 1) % fx.cl.masters;
    char s[16];
    snprintf(s, sizeof s, "%d", cslot);
    const char *count[] = {"CLUSTER", "COUNTKEYSINSLOT", s};
    redisx_reply *r = cmd(fx.node[cm], 3, count);
    cr_assert_eq(redisx_reply_integer(r), 0, "the channel's slot holds keys");
    redisx_reply_free(r);
    setslot_node(cslot, dst);
    await_l1_empty(ca, "flushed when the channel's slot left its node");
    await_subscribed_on(dst, channel);
    char v[64];
    cache_get(ca, name[0], v, sizeof v);
    cr_assert_str_eq(v, "v3");
    await_cached(ca, name[0], "v3");
    before = redisx_cache_counter_of(ca, REDISX_CACHE_INVALIDATIONS);
    cr_assert_eq(redisx_cache_set(cb, name[0], "v4", 2, 600000), REDISX_OK, "%s", redisx_last_error());
    await_counter_past(ca, REDISX_CACHE_INVALIDATIONS, before, "B's SPUBLISH followed the slot");
    cr_assert_neq(cache_get(ca, name[0], v, sizeof v), REDISX_CACHE_LAYER_L1);
    cr_assert_str_eq(v, "v4", "nothing stale after the move");
    redisx_cache_free(ca);
    redisx_cache_free(cb);
    redisx_client_close(a);
    redisx_client_close(b);
}

Test(cluster_pubsub, a_v3_release_reaches_a_v4_waiter_by_polling, .init = setup, .fini = teardown)
{
    /* A standalone client of the slot's master runs the v3 scripts
     * (PUBLISH); the cluster client's waiter listens with SSUBSCRIBE, so
     * no message reaches it: it gets the lock by polling. */
    redisx_client *waiter = cluster_client(NULL, NULL);
    char name[64], key[160];
    name_on(1, "lock", "mix", name, sizeof name, key, sizeof key);
    redisx_lock *lk = NULL;
    cr_assert_eq(redisx_lock_acquire(&lk, fx.node[1], name, 10000, 0), REDISX_OK, "%s", redisx_last_error());
    waiter_arg w = {.c = waiter, .name = name};
    pthread_t t;
    cr_assert_eq(pthread_create(&t, NULL, lock_waiter, &w), 0);
    await_subscribed_on(1, key);
    cr_assert_eq(redisx_lock_release(lk), REDISX_OK, "%s", redisx_last_error());
    redisx_lock_free(lk);
    pthread_join(t, NULL);
    cr_assert_eq(w.st, REDISX_OK, "the v4 waiter got the lock: %s", w.error);
    cr_assert_eq(wakeups(waiter), 0, "the v3 PUBLISH is not a shard message");
    cr_assert_eq(redisx_lock_release(w.lock), REDISX_OK);
    redisx_lock_free(w.lock);
    redisx_client_close(waiter);
}
