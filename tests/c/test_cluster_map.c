/* The slot map against a real cluster (tests/c/harness.c starts it): what
 * core/cluster.c makes of CLUSTER SLOTS, of key slots and of MOVED must be
 * what the servers themselves say. A plain (standalone) redisx client per
 * node asks the questions; nothing here routes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster.h"
#include "harness.h"
#include "keys.h"

typedef struct fixture {
    rt_cluster cl;
    redisx_client *client[RT_CLUSTER_MAX]; /* one per node, same order */
} fixture;

static void fixture_start(fixture *f, int masters, int replicas)
{
    memset(f, 0, sizeof *f);
    cr_assert_eq(rt_cluster_start(&f->cl, masters, replicas), 0, "cannot start a %d+%d cluster", masters, replicas);
    for (int i = 0; i < f->cl.n; i++)
        f->client[i] = rt_client_on(&f->cl.node[i], NULL);
}

static void fixture_stop(fixture *f)
{
    for (int i = 0; i < f->cl.n; i++)
        redisx_client_close(f->client[i]);
    rt_cluster_stop(&f->cl);
}

/* The client of the node at port (asserts there is one). */
static redisx_client *client_at(fixture *f, int port)
{
    for (int i = 0; i < f->cl.n; i++)
        if (f->cl.node[i].port == port)
            return f->client[i];
    cr_assert_fail("no cluster node on port %d", port);
    return NULL;
}

static redisx_reply *cmd(redisx_client *c, int argc, const char **argv, const size_t *lens)
{
    redisx_reply *r = NULL;
    redisx_status st = redisx_command(&r, c, argc, argv, lens);
    cr_assert_eq(st, REDISX_OK, "%s: %s", argv[0], redisx_last_error());
    return r;
}

static redisx__slot_map *fetch_map(redisx_client *c)
{
    const char *argv[] = {"CLUSTER", "SLOTS"};
    redisx_reply *r = cmd(c, 2, argv, NULL);
    redisx__slot_map *m = NULL;
    redisx_status st = redisx__slot_map_parse(&m, r, "127.0.0.1", 1, REDISX__SLOTS_FULL_COVERAGE);
    redisx_reply_free(r);
    cr_assert_eq(st, REDISX_OK, "%s", redisx_last_error());
    return m;
}

static void assert_map_is_the_cluster(fixture *f, const redisx__slot_map *m)
{
    cr_assert_eq(m->n_uncovered, 0);
    cr_assert_eq(m->n_nodes, (size_t)f->cl.n, "every node is in the map");
    int masters = 0;
    for (size_t i = 0; i < m->n_nodes; i++) {
        const redisx__cluster_node *n = &m->nodes[i];
        cr_assert_str_eq(n->host, "127.0.0.1");
        client_at(f, n->port);
        cr_assert_not_null(n->id, "Redis 7 sends node ids");
        if (n->master < 0) {
            masters++;
            cr_assert_eq(n->n_replicas, (size_t)f->cl.replicas, "%d has %zu replicas", n->port, n->n_replicas);
        }
    }
    cr_assert_eq(masters, f->cl.masters);
}

Test(cluster_map, three_masters_cover_every_slot_and_every_node_agrees)
{
    fixture f;
    fixture_start(&f, 3, 0);
    redisx__slot_map *first = fetch_map(f.client[0]);
    assert_map_is_the_cluster(&f, first);
    for (int i = 1; i < f.cl.n; i++) {
        redisx__slot_map *m = fetch_map(f.client[i]);
        for (int s = 0; s < REDISX__SLOTS; s++)
            cr_assert_eq(redisx__slot_map_master(m, s)->port, redisx__slot_map_master(first, s)->port,
                         "node %d disagrees on slot %d", f.cl.node[i].port, s);
        redisx__slot_map_unref(m);
    }
    redisx__slot_map_unref(first);
    fixture_stop(&f);
}

/* Deterministic generator: the same 2000 keys on every run. */
static uint64_t next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Key i of the adversarial set into buf (up to cap bytes); its length. */
static size_t adversarial_key(int i, uint64_t *rng, char *buf, size_t cap)
{
    static const char braces[] = {'{', '}', 'a', 'b', '\0', '{', '}'};
    static const char *names[] = {"", "}", "{", "}{", "{}", "a}b", "~", "~41", "x{y}z", "user:42", "}bob"};
    size_t len;
    switch (i % 5) {
    case 0: /* random bytes, NUL and braces included */
        len = next(rng) % 41;
        for (size_t k = 0; k < len; k++)
            buf[k] = (char)(next(rng) & 0xff);
        return len;
    case 1: /* dense in braces: every tag edge case */
        len = next(rng) % 9;
        for (size_t k = 0; k < len; k++)
            buf[k] = braces[next(rng) % sizeof braces];
        return len;
    case 2: { /* the keys redisx itself builds, hex-encoded tags included */
        char name[48];
        snprintf(name, sizeof name, "%s%d", names[next(rng) % (sizeof names / sizeof names[0])],
                 (int)(next(rng) % 3 ? next(rng) % 1000 : 0));
        if (next(rng) % 4 == 0)
            name[0] = '\0';
        char *k = redisx__key_build("rx", next(rng) % 2 ? "lock" : "idem", name, next(rng) % 2 ? ":fence" : "");
        cr_assert_not_null(k);
        len = strlen(k);
        cr_assert_lt(len, cap);
        memcpy(buf, k, len);
        free(k);
        return len;
    }
    case 3: /* a tag somewhere in a long key */
        len = 200 + next(rng) % 824;
        for (size_t k = 0; k < len; k++)
            buf[k] = (char)('a' + next(rng) % 26);
        buf[next(rng) % len] = '{';
        buf[next(rng) % len] = '}';
        return len;
    default: /* ordinary keys */
        return (size_t)snprintf(buf, cap, "key:%d:%llu", i, (unsigned long long)(next(rng) % 100000));
    }
}

/* For each key: the slot is CLUSTER KEYSLOT's; the map's master answers a
 * GET without a redirect; another master answers MOVED naming that slot and
 * that master. */
static void check_keys(fixture *f, const redisx__slot_map *m, int nkeys)
{
    uint64_t rng = 0x9e3779b97f4a7c15ull;
    char key[1100];
    for (int i = 0; i < nkeys; i++) {
        size_t len = adversarial_key(i, &rng, key, sizeof key);
        const char *ks[] = {"CLUSTER", "KEYSLOT", key};
        size_t kl[] = {7, 7, len};
        redisx_reply *r = cmd(f->client[i % f->cl.n], 3, ks, kl);
        cr_assert_eq(redisx_reply_type_of(r), REDISX_REPLY_INTEGER, "key %d: %s", i, redisx_reply_string(r, NULL));
        int slot = redisx__slot_of(key, len);
        cr_assert_eq(redisx_reply_integer(r), slot, "key %d (%zu bytes): server slot %lld, ours %d", i, len,
                     (long long)redisx_reply_integer(r), slot);
        redisx_reply_free(r);

        const redisx__cluster_node *owner = redisx__slot_map_master(m, slot);
        cr_assert_not_null(owner);
        const char *get[] = {"GET", key};
        size_t gl[] = {3, len};
        r = cmd(client_at(f, owner->port), 2, get, gl);
        cr_assert_neq(redisx_reply_type_of(r), REDISX_REPLY_ERROR, "key %d: owner %d says %s", i, owner->port,
                      redisx_reply_string(r, NULL));
        redisx_reply_free(r);

        /* The next master (or, with replicas, that master's replica). */
        const redisx__cluster_node *other = NULL;
        size_t oi = (size_t)(owner - m->nodes);
        if (owner->n_replicas && i % 2)
            other = &m->nodes[owner->replicas[0]];
        for (size_t k = 1; !other && k < m->n_nodes; k++) {
            const redisx__cluster_node *c = &m->nodes[(oi + k) % m->n_nodes];
            if (c->master < 0)
                other = c;
        }
        r = cmd(client_at(f, other->port), 2, get, gl);
        size_t elen;
        const char *err = redisx_reply_string(r, &elen);
        cr_assert_eq(redisx_reply_type_of(r), REDISX_REPLY_ERROR, "key %d: %d answered instead of redirecting", i,
                     other->port);
        cr_assert_eq(redisx__cluster_err_of(err, elen), REDISX__CERR_MOVED, "key %d: %s", i, err);
        redisx__redirect d;
        cr_assert_eq(redisx__redirect_parse(&d, err, elen, "127.0.0.1"), REDISX_OK, "%s", redisx_last_error());
        cr_assert_eq(d.slot, slot, "%s", err);
        cr_assert_eq(d.port, owner->port, "%s", err);
        cr_assert_str_eq(d.host, owner->host);
        redisx_reply_free(r);
    }
}

Test(cluster_map, adversarial_keys_land_where_the_servers_say)
{
    fixture f;
    fixture_start(&f, 3, 0);
    redisx__slot_map *m = fetch_map(f.client[1]);
    check_keys(&f, m, 2000);
    redisx__slot_map_unref(m);
    fixture_stop(&f);
}

Test(cluster_map, with_a_replica_each_the_map_lists_them_and_they_redirect)
{
    fixture f;
    fixture_start(&f, 3, 1);
    redisx__slot_map *m = fetch_map(f.client[0]);
    assert_map_is_the_cluster(&f, m);
    for (size_t i = 0; i < m->n_nodes; i++) {
        const redisx__cluster_node *n = &m->nodes[i];
        const char *role[] = {"ROLE"};
        redisx_reply *r = cmd(client_at(&f, n->port), 1, role, NULL);
        const char *what = redisx_reply_string(redisx_reply_element(r, 0), NULL);
        cr_assert_str_eq(what, n->master < 0 ? "master" : "slave", "%d", n->port);
        redisx_reply_free(r);
    }
    check_keys(&f, m, 300);
    redisx__slot_map_unref(m);
    fixture_stop(&f);
}

Test(cluster_map, a_moved_patched_into_the_map_matches_the_server_after_a_slot_moves)
{
    fixture f;
    fixture_start(&f, 3, 0);
    redisx__slot_map *m = fetch_map(f.client[0]);
    /* Move an empty slot from its master to the next one: SETSLOT NODE on
     * both (the documented last step of a migration). */
    const char *key = "{moving}";
    int slot = redisx__slot_of(key, strlen(key));
    const redisx__cluster_node *from = redisx__slot_map_master(m, slot), *to = NULL;
    for (size_t k = 1; !to; k++) {
        const redisx__cluster_node *c = &m->nodes[((size_t)(from - m->nodes) + k) % m->n_nodes];
        if (c->master < 0)
            to = c;
    }
    char s[8];
    snprintf(s, sizeof s, "%d", slot);
    const char *setslot[] = {"CLUSTER", "SETSLOT", s, "NODE", to->id};
    redisx_reply *r = cmd(client_at(&f, to->port), 5, setslot, NULL);
    cr_assert_eq(redisx_reply_type_of(r), REDISX_REPLY_STATUS, "%s", redisx_reply_string(r, NULL));
    redisx_reply_free(r);
    r = cmd(client_at(&f, from->port), 5, setslot, NULL);
    cr_assert_eq(redisx_reply_type_of(r), REDISX_REPLY_STATUS, "%s", redisx_reply_string(r, NULL));
    redisx_reply_free(r);

    const char *get[] = {"GET", key};
    r = cmd(client_at(&f, from->port), 2, get, NULL);
    size_t elen;
    const char *err = redisx_reply_string(r, &elen);
    redisx__redirect d;
    cr_assert_eq(redisx__redirect_parse(&d, err, elen, "127.0.0.1"), REDISX_OK, "%s: %s", err, redisx_last_error());
    cr_assert_eq(d.port, to->port);
    redisx_reply_free(r);
    redisx__slot_map *p = NULL;
    cr_assert_eq(redisx__slot_map_patch(&p, m, d.slot, d.host, d.port), REDISX_OK);
    r = cmd(client_at(&f, redisx__slot_map_master(p, slot)->port), 2, get, NULL);
    cr_assert_neq(redisx_reply_type_of(r), REDISX_REPLY_ERROR, "%s", redisx_reply_string(r, NULL));
    redisx_reply_free(r);
    /* And a fresh map says the same as the patched one, everywhere. */
    redisx__slot_map *fresh = NULL;
    for (int t = 0; t < 500; t++) { /* the gossip reaches the third node */
        redisx__slot_map_unref(fresh);
        fresh = fetch_map(f.client[(size_t)t % (size_t)f.cl.n]);
        if (redisx__slot_map_master(fresh, slot)->port == to->port && t >= f.cl.n)
            break;
        rt_sleep_ms(20);
    }
    for (int i = 0; i < REDISX__SLOTS; i++)
        cr_assert_eq(redisx__slot_map_master(fresh, i)->port, redisx__slot_map_master(p, i)->port, "slot %d", i);
    redisx__slot_map_unref(fresh);
    redisx__slot_map_unref(p);
    redisx__slot_map_unref(m);
    fixture_stop(&f);
}
