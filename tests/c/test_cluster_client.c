/* A redisx client in cluster mode against a real 3-master cluster
 * (tests/c/harness.c starts it): seeds, routing by slot, cross-slot
 * refusals, every primitive on every master, a slot migrated under load
 * (ASK and MOVED followed, nothing counted twice) and bad cluster URLs.
 * Plain (standalone) clients per node look at where data really went.
 * No .timeout on these tests: with two timed tests running at once,
 * Criterion 2.4.1's runner leaks 48 bytes (LeakSanitizer fails the suite);
 * ctest's TIMEOUT bounds the suite instead. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cluster.h"
#include "harness.h"
#include "keys.h"

typedef struct fixture {
    rt_cluster cl;
    redisx_client *node[RT_CLUSTER_MAX]; /* a standalone client per node, same order */
    char id[RT_CLUSTER_MAX][41];
    redisx__slot_map *map;
} fixture;

static atomic_int n_moved, n_ask, n_retry;

static void count_log(redisx_client *c, redisx_log_level level, const char *msg, void *user)
{
    (void)c;
    (void)level;
    (void)user;
    if (strncmp(msg, "MOVED slot", 10) == 0)
        atomic_fetch_add(&n_moved, 1);
    else if (strncmp(msg, "ASK slot", 8) == 0)
        atomic_fetch_add(&n_ask, 1);
    else if (strstr(msg, ": retry "))
        atomic_fetch_add(&n_retry, 1);
}

/* The node of the last event of a cluster_client(). */
static pthread_mutex_t node_mu = PTHREAD_MUTEX_INITIALIZER;
static char last_node[64];

static void note_node(redisx_client *c, const redisx_event *ev, void *user)
{
    (void)c;
    (void)user;
    pthread_mutex_lock(&node_mu);
    snprintf(last_node, sizeof last_node, "%s", redisx_event_node(ev) ? redisx_event_node(ev) : "(none)");
    pthread_mutex_unlock(&node_mu);
}

/* The nodes of the DISCONNECTED states of a cluster_client(), and how many
 * states came without a node. */
static char down_nodes[1024];
static int states_without_node;

static void note_state(redisx_client *c, int conn, redisx_conn_state st, const char *detail, void *user)
{
    (void)c;
    (void)conn;
    (void)detail;
    (void)user;
    const char *node = redisx_state_node();
    pthread_mutex_lock(&node_mu);
    if (!node)
        states_without_node++;
    else if (st == REDISX_STATE_DISCONNECTED && !strstr(down_nodes, node) &&
             strlen(down_nodes) + strlen(node) + 2 < sizeof down_nodes) {
        strcat(down_nodes, node);
        strcat(down_nodes, " ");
    }
    pthread_mutex_unlock(&node_mu);
}

static void assert_last_node(int port)
{
    char want[64];
    snprintf(want, sizeof want, "127.0.0.1:%d", port);
    pthread_mutex_lock(&node_mu);
    cr_assert_str_eq(last_node, want, "the event names the master that answered");
    pthread_mutex_unlock(&node_mu);
}

static redisx_reply *cmd(redisx_client *c, int argc, const char **argv)
{
    redisx_reply *r = NULL;
    redisx_status st = redisx_command(&r, c, argc, argv, NULL);
    cr_assert_eq(st, REDISX_OK, "%s: %s", argv[0], redisx_last_error());
    return r;
}

static void fixture_start(fixture *f, int replicas)
{
    memset(f, 0, sizeof *f);
    cr_assert_eq(rt_cluster_start(&f->cl, 3, replicas), 0, "cannot start a 3-master cluster");
    for (int i = 0; i < f->cl.n; i++) {
        f->node[i] = rt_client_on(&f->cl.node[i], NULL);
        const char *myid[] = {"CLUSTER", "MYID"};
        redisx_reply *r = cmd(f->node[i], 2, myid);
        cr_assert_eq(redisx_reply_type_of(r), REDISX_REPLY_STRING);
        snprintf(f->id[i], sizeof f->id[i], "%s", redisx_reply_string(r, NULL));
        redisx_reply_free(r);
    }
    const char *slots[] = {"CLUSTER", "SLOTS"};
    redisx_reply *r = cmd(f->node[0], 2, slots);
    cr_assert_eq(redisx__slot_map_parse(&f->map, r, "127.0.0.1", 1, REDISX__SLOTS_FULL_COVERAGE), REDISX_OK, "%s",
                 redisx_last_error());
    redisx_reply_free(r);
}

static void fixture_stop(fixture *f)
{
    redisx__slot_map_unref(f->map);
    for (int i = 0; i < f->cl.n; i++)
        redisx_client_close(f->node[i]);
    rt_cluster_stop(&f->cl);
}

/* Index in node[] of the master serving `slot` (by the fixture's map). */
static int master_of(fixture *f, int slot)
{
    const redisx__cluster_node *n = redisx__slot_map_master(f->map, slot);
    cr_assert_not_null(n);
    for (int i = 0; i < f->cl.n; i++)
        if (f->cl.node[i].port == n->port)
            return i;
    cr_assert_fail("no node on port %d", n->port);
    return -1;
}

/* A name ("<stem>-<k>") whose key built as redisx does lands on master m. */
static void name_on(fixture *f, int m, const char *stem, char *out, size_t n)
{
    for (int k = 0; k < 100000; k++) {
        snprintf(out, n, "%s-%d", stem, k);
        char *key = redisx__key_build("redisx", "x", out, "");
        cr_assert_not_null(key);
        int slot = redisx__slot_of(key, strlen(key));
        free(key);
        if (master_of(f, slot) == m)
            return;
    }
    cr_assert_fail("no name for master %d", m);
}

/* A plain key ("<stem>-<k>") that lands on master m. */
static void key_on(fixture *f, int m, const char *stem, char *out, size_t n)
{
    for (int k = 0; k < 100000; k++) {
        snprintf(out, n, "%s-%d", stem, k);
        if (master_of(f, redisx__slot_of(out, strlen(out))) == m)
            return;
    }
    cr_assert_fail("no key for master %d", m);
}

/* A cluster client; the first seed is a port nobody listens on. */
static redisx_client *cluster_client(fixture *f, int64_t command_timeout_ms)
{
    char url[256];
    snprintf(url, sizeof url, "redis+cluster://127.0.0.1:1,127.0.0.1:%d", f->cl.node[1].port);
    redisx_options *o = NULL;
    cr_assert_eq(redisx_options_new(&o), REDISX_OK);
    cr_assert_eq(redisx_options_set_url(o, url), REDISX_OK, "%s", redisx_last_error());
    cr_assert_eq(redisx_options_set_command_timeout_ms(o, command_timeout_ms), REDISX_OK);
    cr_assert_eq(redisx_options_set_log_cb(o, count_log, REDISX_LOG_DEBUG, NULL), REDISX_OK);
    cr_assert_eq(redisx_options_set_event_cb(o, note_node, NULL), REDISX_OK);
    cr_assert_eq(redisx_options_set_state_cb(o, note_state, NULL), REDISX_OK);
    redisx_client *c = NULL;
    cr_assert_eq(redisx_client_open(&c, o), REDISX_OK, "%s", redisx_last_error());
    redisx_options_free(o);
    return c;
}

static fixture fx;

static void setup(void)
{
    fixture_start(&fx, 0);
}

static void teardown(void)
{
    fixture_stop(&fx);
}

Test(cluster_client, raw_commands_reach_the_master_of_their_slot, .init = setup, .fini = teardown)
{
    redisx_client *c = cluster_client(&fx, 5000);
    for (int m = 0; m < fx.cl.masters; m++) {
        char key[64], val[64];
        key_on(&fx, m, "raw", key, sizeof key);
        snprintf(val, sizeof val, "value-%d", m);
        const char *set[] = {"SET", key, val};
        redisx_reply *r = cmd(c, 3, set);
        cr_assert_str_eq(redisx_reply_string(r, NULL), "OK", "SET %s: %s", key, redisx_reply_string(r, NULL));
        redisx_reply_free(r);
        assert_last_node(fx.cl.node[m].port);
        const char *get[] = {"GET", key};
        r = cmd(c, 2, get);
        cr_assert_str_eq(redisx_reply_string(r, NULL), val);
        redisx_reply_free(r);
        /* The data is on that master itself (no MOVED from it). */
        r = cmd(fx.node[m], 2, get);
        cr_assert_eq(redisx_reply_type_of(r), REDISX_REPLY_STRING, "%s on master %d: %s", key, m,
                     redisx_reply_string(r, NULL));
        cr_assert_str_eq(redisx_reply_string(r, NULL), val);
        redisx_reply_free(r);
    }
    cr_assert_eq(atomic_load(&n_moved), 0, "routed by the map, never redirected");

    /* Keys of two slots in one command: refused, naming the slots. */
    char k0[64], k1[64];
    key_on(&fx, 0, "mset", k0, sizeof k0);
    key_on(&fx, 1, "mset", k1, sizeof k1);
    const char *mset[] = {"MSET", k0, "a", k1, "b"};
    redisx_reply *r = NULL;
    redisx_status st = redisx_command(&r, c, 5, mset, NULL);
    cr_assert_eq(st, REDISX_ERR_INVALID, "%s", redisx_last_error());
    cr_assert_null(r);
    char want[64];
    snprintf(want, sizeof want, "%d for argument 1", redisx__slot_of(k0, strlen(k0)));
    cr_assert(strstr(redisx_last_error(), "different cluster slots") && strstr(redisx_last_error(), want), "%s",
              redisx_last_error());

    /* One tag for all of them: fine. */
    const char *mset_ok[] = {"MSET", "{t}a", "1", "{t}b", "2"};
    redisx_reply_free(cmd(c, 5, mset_ok));
    const char *mget[] = {"MGET", "{t}a", "{t}b"};
    r = cmd(c, 3, mget);
    cr_assert_eq(redisx_reply_elements(r), 2);
    redisx_reply_free(r);

    /* Keyless: any master. Node-wide: refused, clearly. */
    const char *ping[] = {"PING"};
    r = cmd(c, 1, ping);
    cr_assert_str_eq(redisx_reply_string(r, NULL), "PONG");
    redisx_reply_free(r);
    const char *info[] = {"INFO", "server"};
    st = redisx_command(&r, c, 2, info, NULL);
    cr_assert_eq(st, REDISX_ERR_INVALID);
    cr_assert(strstr(redisx_last_error(), "INFO is not routable by key"), "%s", redisx_last_error());

    redisx_client_close(c);
}

typedef struct waiter_arg {
    redisx_client *c;
    const char *name;
    redisx_status st;
    redisx_lock *lock;
    redisx_idem *rec;
} waiter_arg;

static void *lock_waiter(void *p)
{
    waiter_arg *a = p;
    a->st = redisx_lock_acquire(&a->lock, a->c, a->name, 10000, 20000);
    return NULL;
}

static void *idem_waiter(void *p)
{
    waiter_arg *a = p;
    a->st = redisx_idem_begin(&a->rec, a->c, a->name, "fp", 2, 10000, 20000);
    return NULL;
}

Test(cluster_client, primitives_work_on_every_master, .init = setup, .fini = teardown)
{
    redisx_client *c = cluster_client(&fx, 5000);
    for (int m = 0; m < fx.cl.masters; m++) {
        /* A lock, and a second acquire woken by the release. */
        char name[64];
        name_on(&fx, m, "lock", name, sizeof name);
        redisx_lock *lk = NULL;
        cr_assert_eq(redisx_lock_acquire(&lk, c, name, 10000, 0), REDISX_OK, "%s", redisx_last_error());
        int64_t fence = redisx_lock_fencing_token(lk);
        waiter_arg w = {.c = c, .name = name};
        pthread_t t;
        cr_assert_eq(pthread_create(&t, NULL, lock_waiter, &w), 0);
        rt_sleep_ms(300);
        cr_assert_eq(redisx_lock_release(lk), REDISX_OK, "%s", redisx_last_error());
        redisx_lock_free(lk);
        pthread_join(t, NULL);
        cr_assert_eq(w.st, REDISX_OK, "waiting acquire on master %d: %s", m, redisx_last_error());
        cr_assert_gt(redisx_lock_fencing_token(w.lock), fence);
        cr_assert_eq(redisx_lock_release(w.lock), REDISX_OK);
        redisx_lock_free(w.lock);
        /* The lock's key is on that master. */
        char *key = redisx__key_build("redisx", "lock", name, ":fence");
        const char *exists[] = {"EXISTS", key};
        redisx_reply *r = cmd(fx.node[m], 2, exists);
        cr_assert_eq(redisx_reply_integer(r), 1, "fence key %s on master %d", key, m);
        redisx_reply_free(r);
        free(key);

        /* A rate limit: three allowed, the fourth denied. */
        char rkey[64];
        name_on(&fx, m, "rl", rkey, sizeof rkey);
        redisx_limiter *lim = NULL;
        cr_assert_eq(redisx_limiter_new(&lim, c, "api", REDISX_RATELIMIT_SLIDING_WINDOW, 3, 60000, 0), REDISX_OK,
                     "%s", redisx_last_error());
        for (int i = 0; i < 4; i++) {
            redisx_ratelimit_result *res = NULL;
            cr_assert_eq(redisx_limiter_check(&res, lim, rkey, 1), REDISX_OK, "%s", redisx_last_error());
            cr_assert_eq(redisx_ratelimit_result_fail_open(res), 0, "check %d on master %d failed open", i, m);
            cr_assert_eq(redisx_ratelimit_result_allowed(res), i < 3, "check %d on master %d", i, m);
            redisx_ratelimit_result_free(res);
        }
        cr_assert_eq(redisx_limiter_reset(lim, rkey), REDISX_OK, "%s", redisx_last_error());
        redisx_limiter_free(lim);

        /* An idempotency record, and a waiting begin woken by complete. */
        char ikey[64];
        name_on(&fx, m, "idem", ikey, sizeof ikey);
        redisx_idem *rec = NULL;
        cr_assert_eq(redisx_idem_begin(&rec, c, ikey, "fp", 2, 10000, 0), REDISX_OK, "%s", redisx_last_error());
        cr_assert_eq(redisx_idem_state_of(rec), REDISX_IDEM_NEW);
        waiter_arg wi = {.c = c, .name = ikey};
        cr_assert_eq(pthread_create(&t, NULL, idem_waiter, &wi), 0);
        rt_sleep_ms(300);
        cr_assert_eq(redisx_idem_complete(rec, "done", 4, NULL, 0, 60000), REDISX_OK, "%s", redisx_last_error());
        redisx_idem_free(rec);
        pthread_join(t, NULL);
        cr_assert_eq(wi.st, REDISX_OK, "waiting begin on master %d: %s", m, redisx_last_error());
        cr_assert_eq(redisx_idem_state_of(wi.rec), REDISX_IDEM_COMPLETED);
        size_t len = 0;
        const char *resp = redisx_idem_response(wi.rec, &len);
        cr_assert(len == 4 && memcmp(resp, "done", 4) == 0);
        redisx_idem_free(wi.rec);
    }
    cr_assert_eq(atomic_load(&n_moved), 0, "every script went to its master at once");
    cr_assert_eq(atomic_load(&n_ask), 0);
    /* Every master it used has its own connection gauge. */
    redisx_metrics *mx = NULL;
    cr_assert_eq(redisx_metrics_collect(&mx, c), REDISX_OK, "%s", redisx_last_error());
    int nf = -1;
    for (int f = 0; f < redisx_metrics_families(mx); f++)
        if (strcmp(redisx_metrics_name(mx, f), "redisx_node_connections_up") == 0)
            nf = f;
    cr_assert_geq(nf, 0);
    for (int m = 0; m < fx.cl.masters; m++) {
        char want[64];
        snprintf(want, sizeof want, "127.0.0.1:%d", fx.cl.node[m].port);
        int found = 0;
        for (int s = 0; s < redisx_metrics_samples(mx, nf); s++)
            if (strcmp(redisx_metrics_label_value(mx, nf, s, 0), want) == 0)
                found = redisx_metrics_value(mx, nf, s) >= 1;
        cr_assert(found, "no serving connection counted for master %s", want);
    }
    redisx_metrics_free(mx);
    redisx_client_close(c);
}

/* ---- a slot migrated while a thread increments keys of it ---- */

#define MIG_KEYS 8

typedef struct load {
    redisx_client *c;
    char key[MIG_KEYS][64];
    atomic_int stop;
    long ok[MIG_KEYS];
    long failed;
    char last_error[512];
} load;

static void *incr_load(void *p)
{
    load *l = p;
    for (long i = 0; !atomic_load(&l->stop); i++) {
        int k = (int)(i % MIG_KEYS);
        const char *incr[] = {"INCR", l->key[k]};
        redisx_reply *r = NULL;
        redisx_status st = redisx_command(&r, l->c, 2, incr, NULL);
        if (st == REDISX_OK && redisx_reply_type_of(r) == REDISX_REPLY_INTEGER) {
            l->ok[k]++;
        } else {
            l->failed++;
            snprintf(l->last_error, sizeof l->last_error, "%s", st == REDISX_OK ? redisx_reply_string(r, NULL)
                                                                                  : redisx_last_error());
        }
        redisx_reply_free(r);
    }
    return NULL;
}

static void setslot_node(fixture *f, int slot, int dst)
{
    char s[16];
    snprintf(s, sizeof s, "%d", slot);
    for (int i = 0; i < f->cl.masters; i++) {
        const char *a[] = {"CLUSTER", "SETSLOT", s, "NODE", f->id[dst]};
        redisx_reply *r = cmd(f->node[i], 5, a);
        cr_assert_str_eq(redisx_reply_string(r, NULL), "OK", "SETSLOT NODE on %d: %s", i,
                         redisx_reply_string(r, NULL));
        redisx_reply_free(r);
    }
}

Test(cluster_client, slot_migration_under_load_counts_every_incr_once, .init = setup, .fini = teardown)
{
    static load l;
    memset(&l, 0, sizeof l);
    l.c = cluster_client(&fx, 10000);
    /* Keys of one slot (one tag), served by master src. */
    char tag[32];
    key_on(&fx, 0, "mig", tag, sizeof tag);
    int slot = redisx__slot_of(tag, strlen(tag));
    int src = master_of(&fx, slot), dst = (src + 1) % fx.cl.masters;
    for (int k = 0; k < MIG_KEYS; k++)
        snprintf(l.key[k], sizeof l.key[k], "{%s}:n%d", tag, k);
    char s[16], dport[16];
    snprintf(s, sizeof s, "%d", slot);
    snprintf(dport, sizeof dport, "%d", fx.cl.node[dst].port);

    pthread_t t;
    cr_assert_eq(pthread_create(&t, NULL, incr_load, &l), 0);
    rt_sleep_ms(300);

    const char *imp[] = {"CLUSTER", "SETSLOT", s, "IMPORTING", fx.id[src]};
    redisx_reply_free(cmd(fx.node[dst], 5, imp));
    const char *mig[] = {"CLUSTER", "SETSLOT", s, "MIGRATING", fx.id[dst]};
    redisx_reply_free(cmd(fx.node[src], 5, mig));
    /* One key at a time, with load in between: the moved ones answer ASK. */
    for (int k = 0; k < MIG_KEYS; k++) {
        const char *a[] = {"MIGRATE", "127.0.0.1", dport, l.key[k], "0", "5000"};
        redisx_reply *r = cmd(fx.node[src], 6, a);
        cr_assert(redisx_reply_type_of(r) == REDISX_REPLY_STATUS, "MIGRATE %s: %s", l.key[k],
                  redisx_reply_string(r, NULL));
        redisx_reply_free(r);
        rt_sleep_ms(100);
    }
    rt_sleep_ms(200);
    setslot_node(&fx, slot, dst);
    rt_sleep_ms(1500); /* MOVED now, then the refreshed map */
    atomic_store(&l.stop, 1);
    pthread_join(t, NULL);

    cr_assert_eq(l.failed, 0, "%ld INCRs failed, the last: %s", l.failed, l.last_error);
    long total = 0;
    for (int k = 0; k < MIG_KEYS; k++) {
        const char *get[] = {"GET", l.key[k]};
        redisx_reply *r = cmd(fx.node[dst], 2, get);
        cr_assert_eq(redisx_reply_type_of(r), REDISX_REPLY_STRING, "%s on the new master", l.key[k]);
        long v = atol(redisx_reply_string(r, NULL));
        redisx_reply_free(r);
        cr_assert_eq(v, l.ok[k], "%s: %ld on the server, %ld INCRs succeeded", l.key[k], v, l.ok[k]);
        total += v;
    }
    cr_assert_gt(total, MIG_KEYS * 5, "the load ran (%ld INCRs)", total);
    cr_assert_gt(atomic_load(&n_ask), 0, "ASK followed");
    cr_assert_gt(atomic_load(&n_moved), 0, "MOVED followed");
    redisx_stats *st = NULL;
    cr_assert_eq(redisx_client_stats(&st, l.c), REDISX_OK);
    cr_assert_gt(redisx_stats_client(st, REDISX_CLIENT_CLUSTER_ASK), 0, "ASK counted");
    cr_assert_gt(redisx_stats_client(st, REDISX_CLIENT_CLUSTER_MOVED), 0, "MOVED counted");
    cr_assert_gt(redisx_stats_client(st, REDISX_CLIENT_CLUSTER_REFRESHES), 0, "the map was refreshed");
    redisx_stats_free(st);
    /* After the refresh the slot's commands go to dst at once. */
    int moved = atomic_load(&n_moved);
    const char *incr[] = {"INCR", l.key[0]};
    redisx_reply_free(cmd(l.c, 2, incr));
    cr_assert_eq(atomic_load(&n_moved), moved, "the map knows the new master");
    redisx_client_close(l.c);
}

/* A multi-key command on a slot half migrated: TRYAGAIN until the slot
 * has moved, retried within the command's deadline, then answered. */
typedef struct finish_arg {
    fixture *f;
    int src, dst, slot;
    const char *key;
} finish_arg;

static void *finish_migration(void *p)
{
    finish_arg *a = p;
    rt_sleep_ms(400);
    char dport[16];
    snprintf(dport, sizeof dport, "%d", a->f->cl.node[a->dst].port);
    const char *mig[] = {"MIGRATE", "127.0.0.1", dport, a->key, "0", "5000"};
    redisx_reply *r = NULL;
    if (redisx_command(&r, a->f->node[a->src], 6, mig, NULL) == REDISX_OK)
        redisx_reply_free(r);
    char s[16];
    snprintf(s, sizeof s, "%d", a->slot);
    for (int i = 0; i < a->f->cl.masters; i++) {
        const char *set[] = {"CLUSTER", "SETSLOT", s, "NODE", a->f->id[a->dst]};
        if (redisx_command(&r, a->f->node[i], 5, set, NULL) == REDISX_OK)
            redisx_reply_free(r);
    }
    return NULL;
}

Test(cluster_client, multi_key_command_mid_migration_is_retried, .init = setup, .fini = teardown)
{
    redisx_client *c = cluster_client(&fx, 10000);
    char tag[32];
    key_on(&fx, 2, "try", tag, sizeof tag);
    int slot = redisx__slot_of(tag, strlen(tag));
    int src = master_of(&fx, slot), dst = (src + 1) % fx.cl.masters;
    char ka[64], kb[64], s[16], dport[16];
    snprintf(ka, sizeof ka, "{%s}a", tag);
    snprintf(kb, sizeof kb, "{%s}b", tag);
    snprintf(s, sizeof s, "%d", slot);
    snprintf(dport, sizeof dport, "%d", fx.cl.node[dst].port);
    const char *mset[] = {"MSET", ka, "1", kb, "2"};
    redisx_reply_free(cmd(c, 5, mset));
    const char *imp[] = {"CLUSTER", "SETSLOT", s, "IMPORTING", fx.id[src]};
    redisx_reply_free(cmd(fx.node[dst], 5, imp));
    const char *mig[] = {"CLUSTER", "SETSLOT", s, "MIGRATING", fx.id[dst]};
    redisx_reply_free(cmd(fx.node[src], 5, mig));
    const char *one[] = {"MIGRATE", "127.0.0.1", dport, ka, "0", "5000"};
    redisx_reply_free(cmd(fx.node[src], 6, one));

    finish_arg a = {&fx, src, dst, slot, kb};
    pthread_t t;
    cr_assert_eq(pthread_create(&t, NULL, finish_migration, &a), 0);
    const char *mget[] = {"MGET", ka, kb};
    redisx_reply *r = cmd(c, 3, mget);
    pthread_join(t, NULL);
    cr_assert_eq(redisx_reply_type_of(r), REDISX_REPLY_ARRAY, "%s", redisx_reply_string(r, NULL));
    cr_assert_eq(redisx_reply_elements(r), 2);
    cr_assert_str_eq(redisx_reply_string(redisx_reply_element(r, 0), NULL), "1");
    cr_assert_str_eq(redisx_reply_string(redisx_reply_element(r, 1), NULL), "2");
    redisx_reply_free(r);
    cr_assert_gt(atomic_load(&n_retry), 0, "TRYAGAIN was retried");
    redisx_stats *st = NULL;
    cr_assert_eq(redisx_client_stats(&st, c), REDISX_OK);
    cr_assert_eq(redisx_stats_client(st, REDISX_CLIENT_CLUSTER_RETRIES), (uint64_t)atomic_load(&n_retry),
                 "every retry logged is counted");
    redisx_stats_free(st);
    redisx_client_close(c);
}

/* A master dies; its replica takes over (the cluster's own failover):
 * commands for its slots fail or wait meanwhile, then work again once the
 * refreshed map names the new master. Locks fail closed in between (an
 * acquire is refused, never granted without Redis), and a lease the
 * replica had (WAIT) is still held, by its owner, on the new master. */
Test(cluster_client, operations_resume_after_a_master_fails_over)
{
    static fixture f;
    fixture_start(&f, 1);
    redisx_client *c = cluster_client(&f, 2000);
    char key[64];
    key_on(&f, 0, "fo", key, sizeof key);
    int m = master_of(&f, redisx__slot_of(key, strlen(key)));
    const char *incr[] = {"INCR", key};
    redisx_reply *r = cmd(c, 2, incr);
    cr_assert_eq(redisx_reply_integer(r), 1);
    redisx_reply_free(r);
    /* A lock held across the failover, and one asked for during it. */
    char held_name[64], asked_name[64];
    name_on(&f, m, "fo-held", held_name, sizeof held_name);
    name_on(&f, m, "fo-asked", asked_name, sizeof asked_name);
    redisx_lock *held = NULL;
    cr_assert_eq(redisx_lock_acquire(&held, c, held_name, 120000, 0), REDISX_OK, "%s", redisx_last_error());
    const char *wait[] = {"WAIT", "1", "5000"};
    r = cmd(f.node[m], 3, wait);
    cr_assert_eq(redisx_reply_integer(r), 1, "the replica has the writes");
    redisx_reply_free(r);

    rt_server_kill(&f.cl.node[m]);
    redisx_status st = REDISX_ERR_CONNECTION;
    int refused = 0;
    redisx_lock *asked = NULL;
    for (int i = 0; i < 300 && st != REDISX_OK; i++) {
        r = NULL;
        st = redisx_command(&r, c, 2, incr, NULL);
        if (st == REDISX_OK && redisx_reply_type_of(r) != REDISX_REPLY_INTEGER)
            st = REDISX_ERR_SERVER; /* CLUSTERDOWN past the retries */
        if (st == REDISX_OK)
            cr_assert_eq(redisx_reply_integer(r), 2, "counted once on the new master");
        redisx_reply_free(r);
        if (st != REDISX_OK) {
            /* Fail closed: while the slot has no master, no lock is granted. */
            redisx_status ls = redisx_lock_acquire(&asked, c, asked_name, 30000, 0);
            if (ls == REDISX_OK) {
                cr_assert_not(redisx_lock_is_fail_open(asked), "a fail-closed lock was granted without Redis");
                cr_assert_eq(redisx_lock_release(asked), REDISX_OK, "%s", redisx_last_error());
                redisx_lock_free(asked);
                asked = NULL;
            } else {
                cr_assert(ls == REDISX_ERR_CONNECTION || ls == REDISX_ERR_TIMEOUT || ls == REDISX_ERR_SERVER,
                          "lock during the failover: %s (%s)", redisx_strerror(ls), redisx_last_error());
                refused++;
            }
            rt_sleep_ms(200);
        }
    }
    cr_assert_eq(st, REDISX_OK, "no failover within the time: %s", redisx_last_error());
    /* The state callback named the node that went away (its detail is the
     * reason), and every state (the dead seed's too) had a node. */
    char dead[64];
    snprintf(dead, sizeof dead, "127.0.0.1:%d ", f.cl.node[m].port);
    pthread_mutex_lock(&node_mu);
    cr_assert(strstr(down_nodes, dead), "no DISCONNECTED state of %s; seen: %s", dead, down_nodes);
    cr_assert(strstr(down_nodes, "127.0.0.1:1 "), "the unreachable seed's failure names it; seen: %s", down_nodes);
    cr_assert_eq(states_without_node, 0);
    pthread_mutex_unlock(&node_mu);
    cr_assert_null(redisx_state_node(), "outside a state callback");
    cr_assert_gt(refused, 0, "an acquire right after the master died is refused (fail closed)");
    /* The replicated lease moved with the slot: still held, still ours. */
    redisx_lock *again = NULL;
    cr_assert_eq(redisx_lock_acquire(&again, c, held_name, 30000, 0), REDISX_ERR_LOCKED, "%s", redisx_last_error());
    cr_assert_eq(redisx_lock_release(held), REDISX_OK, "%s", redisx_last_error());
    redisx_lock_free(held);
    cr_assert_eq(redisx_lock_acquire(&again, c, held_name, 30000, 0), REDISX_OK, "%s", redisx_last_error());
    cr_assert_eq(redisx_lock_release(again), REDISX_OK);
    redisx_lock_free(again);
    for (int i = 0; i < 20; i++) {
        r = cmd(c, 2, incr);
        cr_assert_eq(redisx_reply_integer(r), 3 + i);
        redisx_reply_free(r);
    }
    redisx_client_close(c);
    fixture_stop(&f);
}

/* ---- bad input ---- */

static void url_refused(const char *url, const char *needle)
{
    redisx_options *o = NULL;
    cr_assert_eq(redisx_options_new(&o), REDISX_OK);
    redisx_status st = redisx_options_set_url(o, url);
    cr_assert_eq(st, REDISX_ERR_URL, "%s: %s", url, redisx_strerror(st));
    cr_assert(strstr(redisx_last_error(), needle), "%s: \"%s\" lacks \"%s\"", url, redisx_last_error(), needle);
    redisx_options_free(o);
}

Test(cluster_client, malformed_cluster_urls_are_refused)
{
    url_refused("redis+cluster://", "seed 1 of 1");
    url_refused("redis+cluster://a:7000,,b:7001", "seed 2 of 3 (\"\"): empty host");
    url_refused("redis+cluster://a:7000,", "seed 2 of 2");
    url_refused("redis+cluster://,a:7000", "seed 1 of 2");
    url_refused("redis+cluster://a:7000,:7001", "seed 2 of 2 (\":7001\"): empty host");
    url_refused("redis+cluster://a:7000,b:0", "port must be a number in 1..65535");
    url_refused("redis+cluster://a:7000,b:70000", "seed 2 of 2");
    url_refused("redis+cluster://a:7000,b:x", "port");
    url_refused("redis+cluster://a:7000,[::1", "IPv6");
    url_refused("redis+cluster://a:7000,b:7001/3", "database 0 only");
    url_refused("redis+cluster://a:7000,redis://b:7001", "one scheme per URL");
    url_refused("redis://a:7000,b:7001", "several hosts need a cluster URL");
    url_refused("redis+cluster://a:7000?x=1", "query strings");
    url_refused("redis+clusterx://a:7000", "URL must start with");

    /* And the good ones. */
    redisx_options *o = NULL;
    cr_assert_eq(redisx_options_new(&o), REDISX_OK);
    cr_assert_eq(redisx_options_set_url(o, "redis+cluster://u:p%40@a:7000,[::1]:7001,b/0"), REDISX_OK, "%s",
                 redisx_last_error());
    cr_assert_eq(redisx_options_set_cluster_seeds(o, "x:1,y:2"), REDISX_OK, "%s", redisx_last_error());
    cr_assert_eq(redisx_options_set_cluster_seeds(o, "x:1,,y:2"), REDISX_ERR_URL);
    cr_assert(strstr(redisx_last_error(), "seed 2 of 3"), "%s", redisx_last_error());
    cr_assert_eq(redisx_options_set_cluster_seeds(o, NULL), REDISX_OK);
    cr_assert_eq(redisx_options_set_url(o, "redis://h/2"), REDISX_OK);
    cr_assert_eq(redisx_options_set_cluster_seeds(o, "x:1"), REDISX_ERR_URL);
    cr_assert(strstr(redisx_last_error(), "database 0 only"), "%s", redisx_last_error());
    redisx_options_free(o);
}

Test(cluster_client, unreachable_seeds_fail_within_the_connect_timeout)
{
    redisx_options *o = NULL;
    cr_assert_eq(redisx_options_new(&o), REDISX_OK);
    /* Nothing listens on ports 1 and 2 of the loopback address. */
    cr_assert_eq(redisx_options_set_url(o, "redis+cluster://127.0.0.1:1,127.0.0.1:2"), REDISX_OK);
    cr_assert_eq(redisx_options_set_connect_timeout_ms(o, 1000), REDISX_OK);
    cr_assert_eq(redisx_options_set_command_timeout_ms(o, 30000), REDISX_OK);
    redisx_client *c = NULL;
    cr_assert_eq(redisx_client_open(&c, o), REDISX_OK, "%s", redisx_last_error());
    redisx_options_free(o);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    const char *set[] = {"SET", "k", "v"};
    redisx_reply *r = NULL;
    redisx_status st = redisx_command(&r, c, 3, set, NULL);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    cr_assert_eq(st, REDISX_ERR_CONNECTION, "%s", redisx_strerror(st));
    cr_assert(strstr(redisx_last_error(), "no node of the cluster answered CLUSTER SLOTS"), "%s",
              redisx_last_error());
    cr_assert(strstr(redisx_last_error(), "127.0.0.1:"), "names a node: %s", redisx_last_error());
    cr_assert_lt(s, 5.0, "failed after %.1f s", s);
    /* A raw command with a bad shape fails as invalid even without a map. */
    const char *bad[] = {"EVAL", "return 1", "x"};
    st = redisx_command(&r, c, 3, bad, NULL);
    cr_assert_eq(st, REDISX_ERR_INVALID, "%s", redisx_strerror(st));
    redisx_client_close(c);
}
