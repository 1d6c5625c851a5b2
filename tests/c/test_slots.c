/* The cluster groundwork without a server (core/cluster.c, docs/CLUSTER.md):
 * key slots, the slot map from hand-made CLUSTER SLOTS replies, redirect
 * errors and the key positions of commands. */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster.h"

const char *redisx__keyspec_name(size_t i);

/* ---- RESP text for hand-made replies ---- */

typedef struct resp {
    char buf[65536];
    size_t len;
} resp;

static void rput(resp *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(r->buf + r->len, sizeof r->buf - r->len, fmt, ap);
    va_end(ap);
    cr_assert(n >= 0 && (size_t)n < sizeof r->buf - r->len);
    r->len += (size_t)n;
}
static void arr(resp *r, int n) { rput(r, "*%d\r\n", n); }
static void num(resp *r, long long v) { rput(r, ":%lld\r\n", v); }
static void str(resp *r, const char *s) { rput(r, "$%zu\r\n%s\r\n", strlen(s), s); }
static void nil(resp *r) { rput(r, "$-1\r\n"); }

static void take(redisx_reply *reply, void *u)
{
    *(redisx_reply **)u = reply;
}

static redisx_reply *parse_resp(const resp *r)
{
    redisx_reply *out = NULL;
    cr_assert_eq(redisx__replies_from_resp(r->buf, r->len, 0, take, &out), REDISX_OK, "%s", redisx_last_error());
    cr_assert_not_null(out);
    return out;
}

/* A node entry [host, port, id]; id 0 leaves it out, NULL host sends nil. */
static void node(resp *r, const char *host, int port, char id)
{
    arr(r, id ? 3 : 2);
    if (host)
        str(r, host);
    else
        nil(r);
    num(r, port);
    if (id) {
        char hex[41];
        memset(hex, id, 40);
        hex[40] = '\0';
        str(r, hex);
    }
}

/* A 3-master map as redis-cli --cluster create makes one, replicas optional. */
static resp three_masters(int replicas)
{
    resp r = {.len = 0};
    arr(&r, 3);
    int lo[] = {0, 5461, 10923}, hi[] = {5460, 10922, 16383};
    for (int i = 0; i < 3; i++) {
        arr(&r, 3 + replicas);
        num(&r, lo[i]);
        num(&r, hi[i]);
        node(&r, "127.0.0.1", 7000 + i, (char)('a' + i));
        for (int k = 0; k < replicas; k++)
            node(&r, "127.0.0.1", 7100 + 10 * i + k, (char)('d' + i));
    }
    return r;
}

static redisx__slot_map *map_of(const resp *r, unsigned flags)
{
    redisx_reply *reply = parse_resp(r);
    redisx__slot_map *m = NULL;
    redisx_status st = redisx__slot_map_parse(&m, reply, "10.0.0.9", 1, flags);
    redisx__reply_free(reply);
    cr_assert_eq(st, REDISX_OK, "%s", redisx_last_error());
    return m;
}

/* Parses r and expects `want` with a detail containing `needle`. */
static void refused(const resp *r, unsigned flags, redisx_status want, const char *needle)
{
    redisx_reply *reply = parse_resp(r);
    redisx__slot_map *m = (redisx__slot_map *)0x1;
    redisx_status st = redisx__slot_map_parse(&m, reply, "10.0.0.9", 1, flags);
    redisx__reply_free(reply);
    cr_assert_eq(st, want, "status %d, detail: %s", st, redisx_last_error());
    cr_assert_null(m);
    cr_assert(strstr(redisx_last_error(), needle), "detail \"%s\" lacks \"%s\"", redisx_last_error(), needle);
}

/* ---- key slots ---- */

Test(slots, crc16_is_xmodem_with_the_check_vector)
{
    cr_assert_eq(redisx__crc16("123456789", 9), 0x31C3);
    cr_assert_eq(redisx__crc16("", 0), 0);
}

Test(slots, a_key_without_a_tag_hashes_whole)
{
    cr_assert_eq(redisx__slot_of("123456789", 9), 0x31C3 & 16383);
    /* Slots Redis gives (CLUSTER KEYSLOT) for these keys. */
    cr_assert_eq(redisx__slot_of("foo", 3), 12182);
    cr_assert_eq(redisx__slot_of("bar", 3), 5061);
    cr_assert_eq(redisx__slot_of("", 0), 0);
}

Test(slots, the_tag_is_between_the_first_open_and_the_next_close)
{
    int foo = redisx__slot_of("foo", 3);
    cr_assert_eq(redisx__slot_of("{foo}bar", 8), foo);
    cr_assert_eq(redisx__slot_of("x{foo}", 6), foo);
    cr_assert_eq(redisx__slot_of("{foo}{bar}", 10), foo, "{a}{b}: the first tag only");
    cr_assert_eq(redisx__slot_of("{foo{bar}", 9), redisx__slot_of("foo{bar", 7), "a second '{' is part of the tag");
    cr_assert_eq(redisx__slot_of("a{foo}}", 7), foo);
}

Test(slots, an_empty_or_unclosed_tag_hashes_the_whole_key)
{
    cr_assert_eq(redisx__slot_of("{}", 2), redisx__crc16("{}", 2) & 16383);
    cr_assert_eq(redisx__slot_of("{}foo", 5), redisx__crc16("{}foo", 5) & 16383);
    cr_assert_eq(redisx__slot_of("{", 1), redisx__crc16("{", 1) & 16383);
    cr_assert_eq(redisx__slot_of("foo{", 4), redisx__crc16("foo{", 4) & 16383);
    cr_assert_eq(redisx__slot_of("}{", 2), redisx__crc16("}{", 2) & 16383, "a '}' before the '{' closes nothing");
    cr_assert_eq(redisx__slot_of("}{a}", 4), redisx__slot_of("a", 1));
    /* "{}{a}": the first tag is empty, so the whole key, not "a". */
    cr_assert_eq(redisx__slot_of("{}{a}", 5), redisx__crc16("{}{a}", 5) & 16383);
}

Test(slots, keys_are_binary)
{
    const char k1[] = {'{', 0, 1, '}', 'x'}, tag[] = {0, 1};
    cr_assert_eq(redisx__slot_of(k1, sizeof k1), redisx__slot_of(tag, sizeof tag));
    const char k2[] = {'a', 0, 'b'};
    cr_assert_eq(redisx__slot_of(k2, 3), redisx__crc16(k2, 3) & 16383);
    cr_assert_neq(redisx__slot_of(k2, 3), redisx__slot_of("a", 1), "a NUL does not end the key");
    const unsigned char hi[] = {'{', 0xff, 0xfe, '}'};
    cr_assert_eq(redisx__slot_of(hi, 4), redisx__crc16(hi + 1, 2) & 16383);
}

/* ---- the slot map ---- */

Test(slots, a_three_master_map_covers_every_slot)
{
    resp r = three_masters(0);
    redisx__slot_map *m = map_of(&r, REDISX__SLOTS_FULL_COVERAGE);
    cr_assert_eq(m->n_nodes, 3);
    cr_assert_eq(m->n_uncovered, 0);
    cr_assert_eq(m->version, 1);
    cr_assert_eq(redisx__slot_map_master(m, 0)->port, 7000);
    cr_assert_eq(redisx__slot_map_master(m, 5460)->port, 7000);
    cr_assert_eq(redisx__slot_map_master(m, 5461)->port, 7001);
    cr_assert_eq(redisx__slot_map_master(m, 16383)->port, 7002);
    cr_assert_null(redisx__slot_map_master(m, 16384));
    cr_assert_null(redisx__slot_map_master(m, -1));
    const redisx__cluster_node *n = redisx__slot_map_master(m, 12182);
    cr_assert_str_eq(n->host, "127.0.0.1");
    cr_assert_eq(n->master, -1);
    cr_assert_eq(strspn(n->id, "c"), 40);
    char buf[8];
    cr_assert_eq(redisx__slot_map_uncovered(m, buf, sizeof buf), 0);
    cr_assert_str_eq(buf, "");
    redisx__slot_map_unref(m);
}

Test(slots, replicas_are_listed_under_their_master)
{
    resp r = three_masters(2);
    redisx__slot_map *m = map_of(&r, REDISX__SLOTS_FULL_COVERAGE);
    cr_assert_eq(m->n_nodes, 9);
    const redisx__cluster_node *n = redisx__slot_map_master(m, 6000);
    cr_assert_eq(n->port, 7001);
    cr_assert_eq(n->n_replicas, 2);
    const redisx__cluster_node *rep = &m->nodes[n->replicas[1]];
    cr_assert_eq(rep->port, 7111);
    cr_assert_eq(&m->nodes[rep->master], n);
    cr_assert_eq(strspn(rep->id, "e"), 40);
    redisx__slot_map_unref(m);
}

Test(slots, a_master_with_several_ranges_is_one_node)
{
    resp r = {.len = 0};
    arr(&r, 3);
    arr(&r, 4), num(&r, 0), num(&r, 99), node(&r, "h1", 1, 'a'), node(&r, "h2", 2, 'b');
    arr(&r, 3), num(&r, 100), num(&r, 16000), node(&r, "h3", 3, 'c');
    arr(&r, 4), num(&r, 16001), num(&r, 16383), node(&r, "h1", 1, 'a'), node(&r, "h2", 2, 'b');
    redisx__slot_map *m = map_of(&r, REDISX__SLOTS_FULL_COVERAGE);
    cr_assert_eq(m->n_nodes, 3);
    cr_assert_eq(redisx__slot_map_master(m, 0), redisx__slot_map_master(m, 16383));
    cr_assert_eq(redisx__slot_map_master(m, 0)->n_replicas, 1, "the replica is listed once");
    cr_assert_eq(redisx__slot_map_find(m, "H3", 3), 2, "host names compare without case");
    cr_assert_eq(redisx__slot_map_find(m, "h3", 4), -1);
    redisx__slot_map_unref(m);
}

Test(slots, uncovered_slots_are_reported_as_ranges)
{
    resp r = {.len = 0};
    arr(&r, 2);
    arr(&r, 3), num(&r, 100), num(&r, 4999), node(&r, "h1", 1, 0);
    arr(&r, 3), num(&r, 5001), num(&r, 16382), node(&r, "h2", 2, 0);
    refused(&r, REDISX__SLOTS_FULL_COVERAGE, REDISX_ERR_PROTOCOL, "102 slots served by no master: 0-99,5000,16383");
    redisx__slot_map *m = map_of(&r, 0); /* without the flag: a partial map */
    cr_assert_eq(m->n_uncovered, 102);
    cr_assert_null(redisx__slot_map_master(m, 5000));
    cr_assert_not_null(redisx__slot_map_master(m, 5001));
    cr_assert_null(m->nodes[0].id, "no id sent: none kept");
    char small[13];
    size_t need = redisx__slot_map_uncovered(m, small, sizeof small);
    cr_assert_eq(need, strlen("0-99,5000,16383"));
    cr_assert_str_eq(small, "0-99,5000...");
    redisx__slot_map_unref(m);
}

Test(slots, an_empty_reply_is_a_cluster_without_slots)
{
    resp r = {.len = 0};
    arr(&r, 0);
    refused(&r, REDISX__SLOTS_FULL_COVERAGE, REDISX_ERR_PROTOCOL, "16384 slots served by no master: 0-16383");
    redisx__slot_map *m = map_of(&r, 0);
    cr_assert_eq(m->n_nodes, 0);
    cr_assert_null(redisx__slot_map_master(m, 0));
    redisx__slot_map_unref(m);
}

Test(slots, an_unknown_endpoint_is_the_address_that_answered)
{
    resp r = {.len = 0};
    arr(&r, 3);
    arr(&r, 3), num(&r, 0), num(&r, 5000), node(&r, NULL, 7000, 'a');   /* unknown endpoint (nil) */
    arr(&r, 3), num(&r, 5001), num(&r, 10000), node(&r, "", 7001, 'b'); /* empty, as 7.0 can send */
    arr(&r, 3), num(&r, 10001), num(&r, 16383);
    arr(&r, 4), str(&r, "?"), num(&r, 7002), str(&r, "cccccccccccccccccccccccccccccccccccccccc");
    arr(&r, 2), str(&r, "ip"), str(&r, "192.168.1.3"); /* "?": hostname unknown, metadata has the ip */
    redisx__slot_map *m = map_of(&r, REDISX__SLOTS_FULL_COVERAGE);
    cr_assert_str_eq(redisx__slot_map_master(m, 0)->host, "10.0.0.9");
    cr_assert_str_eq(redisx__slot_map_master(m, 5001)->host, "10.0.0.9");
    cr_assert_eq(redisx__slot_map_master(m, 5001)->port, 7001);
    cr_assert_str_eq(redisx__slot_map_master(m, 10001)->host, "192.168.1.3");
    redisx__slot_map_unref(m);
}

Test(slots, host_names_and_ipv6_endpoints_are_kept)
{
    resp r = {.len = 0};
    arr(&r, 2);
    arr(&r, 3), num(&r, 0), num(&r, 8000), node(&r, "redis-0.example.com", 6379, 'a');
    arr(&r, 3), num(&r, 8001), num(&r, 16383);
    arr(&r, 4), str(&r, "::1"), num(&r, 7001), str(&r, "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb");
    arr(&r, 2), str(&r, "hostname"), str(&r, "x");
    redisx__slot_map *m = map_of(&r, REDISX__SLOTS_FULL_COVERAGE);
    cr_assert_str_eq(redisx__slot_map_master(m, 0)->host, "redis-0.example.com");
    cr_assert_str_eq(redisx__slot_map_master(m, 9000)->host, "::1");
    redisx__slot_map_unref(m);
}

Test(slots, an_unknown_endpoint_without_an_address_is_refused)
{
    resp r = {.len = 0};
    arr(&r, 1), arr(&r, 3), num(&r, 0), num(&r, 16383), node(&r, NULL, 7000, 0);
    redisx_reply *reply = parse_resp(&r);
    redisx__slot_map *m = NULL;
    cr_assert_eq(redisx__slot_map_parse(&m, reply, NULL, 1, 0), REDISX_ERR_PROTOCOL);
    cr_assert(strstr(redisx_last_error(), "endpoint unknown"), "%s", redisx_last_error());
    redisx__reply_free(reply);
}

Test(slots, malformed_replies_are_refused_with_the_place)
{
    resp r = {.len = 0};
    num(&r, 3);
    refused(&r, 0, REDISX_ERR_PROTOCOL, "reply is not an array");

    r.len = 0, arr(&r, 1), arr(&r, 2), num(&r, 0), num(&r, 16383);
    refused(&r, 0, REDISX_ERR_PROTOCOL, "range 1 is not an array [start, end, master");

    r.len = 0, arr(&r, 1), arr(&r, 3), str(&r, "0"), num(&r, 16383), node(&r, "h", 1, 0);
    refused(&r, 0, REDISX_ERR_PROTOCOL, "range 1: start or end is not an integer");

    r.len = 0, arr(&r, 1), arr(&r, 3), num(&r, 0), num(&r, 16384), node(&r, "h", 1, 0);
    refused(&r, 0, REDISX_ERR_PROTOCOL, "range 1: 0-16384 is not within 0-16383");

    r.len = 0, arr(&r, 1), arr(&r, 3), num(&r, 9), num(&r, 3), node(&r, "h", 1, 0);
    refused(&r, 0, REDISX_ERR_PROTOCOL, "range 1: 9-3 is not within");

    r.len = 0, arr(&r, 1), arr(&r, 3), num(&r, -1), num(&r, 3), node(&r, "h", 1, 0);
    refused(&r, 0, REDISX_ERR_PROTOCOL, "range 1: -1-3 is not within");

    r.len = 0, arr(&r, 1), arr(&r, 3), num(&r, 0), num(&r, 1), node(&r, "h", 0, 0);
    refused(&r, 0, REDISX_ERR_PROTOCOL, "range 1: master: port out of range");

    r.len = 0, arr(&r, 1), arr(&r, 4), num(&r, 0), num(&r, 1), node(&r, "h", 1, 0), node(&r, "h", 65536, 0);
    refused(&r, 0, REDISX_ERR_PROTOCOL, "range 1: replica 1: port out of range");

    r.len = 0, arr(&r, 1), arr(&r, 3), num(&r, 0), num(&r, 1), arr(&r, 2), str(&r, "h"), str(&r, "7000");
    refused(&r, 0, REDISX_ERR_PROTOCOL, "port is not an integer");

    r.len = 0, arr(&r, 1), arr(&r, 3), num(&r, 0), num(&r, 1), arr(&r, 3), str(&r, "h"), num(&r, 1), str(&r, "xyz");
    refused(&r, 0, REDISX_ERR_PROTOCOL, "node id is not 40 hex digits");

    r.len = 0, arr(&r, 1), arr(&r, 3), num(&r, 0), num(&r, 1), arr(&r, 2), num(&r, 1), num(&r, 1);
    refused(&r, 0, REDISX_ERR_PROTOCOL, "endpoint is not a string or null");

    r.len = 0, arr(&r, 1), arr(&r, 3), num(&r, 0), num(&r, 1), node(&r, "a b", 1, 0);
    refused(&r, 0, REDISX_ERR_PROTOCOL, "endpoint is not a host name");

    r.len = 0, arr(&r, 1), arr(&r, 3), num(&r, 0), num(&r, 1), arr(&r, 4), str(&r, "h"), num(&r, 1),
    str(&r, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"), arr(&r, 1), str(&r, "ip");
    refused(&r, 0, REDISX_ERR_PROTOCOL, "metadata is not a list of pairs");

    r.len = 0, arr(&r, 1), arr(&r, 3), num(&r, 0), num(&r, 1), num(&r, 7);
    refused(&r, 0, REDISX_ERR_PROTOCOL, "range 1: master is not an array");
}

Test(slots, contradictions_between_ranges_are_refused)
{
    resp r = {.len = 0};
    arr(&r, 2);
    arr(&r, 3), num(&r, 0), num(&r, 100), node(&r, "h1", 1, 0);
    arr(&r, 3), num(&r, 100), num(&r, 16383), node(&r, "h2", 2, 0);
    refused(&r, 0, REDISX_ERR_PROTOCOL, "range 2: slot 100 is also in an earlier range");

    r.len = 0, arr(&r, 2);
    arr(&r, 4), num(&r, 0), num(&r, 100), node(&r, "h1", 1, 0), node(&r, "h2", 2, 0);
    arr(&r, 3), num(&r, 101), num(&r, 16383), node(&r, "h2", 2, 0);
    refused(&r, 0, REDISX_ERR_PROTOCOL, "range 2: h2:2 is a master here, a replica elsewhere");

    r.len = 0, arr(&r, 2);
    arr(&r, 3), num(&r, 0), num(&r, 100), node(&r, "h1", 1, 0);
    arr(&r, 4), num(&r, 101), num(&r, 16383), node(&r, "h2", 2, 0), node(&r, "h1", 1, 0);
    refused(&r, 0, REDISX_ERR_PROTOCOL, "range 2: replica 1: h1:1 is already listed with another role");

    r.len = 0, arr(&r, 1);
    arr(&r, 4), num(&r, 0), num(&r, 100), node(&r, "h1", 1, 0), node(&r, "h1", 1, 0);
    refused(&r, 0, REDISX_ERR_PROTOCOL, "replica 1: h1:1 is already listed with another role");

    r.len = 0, arr(&r, 2);
    arr(&r, 3), num(&r, 0), num(&r, 100), node(&r, "h1", 1, 'a');
    arr(&r, 3), num(&r, 101), num(&r, 16383), node(&r, "h1", 1, 'b');
    refused(&r, 0, REDISX_ERR_PROTOCOL, "h1:1 has two node ids");
}

Test(slots, an_error_reply_is_a_server_error)
{
    resp r = {.len = 0};
    rput(&r, "-ERR This instance has cluster support disabled\r\n");
    refused(&r, 0, REDISX_ERR_SERVER, "CLUSTER SLOTS: ERR This instance has cluster support disabled");
}

Test(slots, a_patch_makes_a_new_version_and_leaves_the_old_map)
{
    resp r = three_masters(1);
    redisx__slot_map *m = map_of(&r, REDISX__SLOTS_FULL_COVERAGE), *p = NULL, *q = NULL;
    cr_assert_eq(redisx__slot_map_patch(&p, m, 3999, "127.0.0.1", 7002), REDISX_OK);
    cr_assert_eq(p->version, 2);
    cr_assert_eq(redisx__slot_map_master(p, 3999)->port, 7002);
    cr_assert_eq(redisx__slot_map_master(p, 3998)->port, 7000);
    cr_assert_eq(redisx__slot_map_master(m, 3999)->port, 7000, "the old map is unchanged");
    cr_assert_eq(p->n_nodes, m->n_nodes, "a known node is not added again");
    /* A MOVED to an unknown node adds it as a master. */
    cr_assert_eq(redisx__slot_map_patch(&q, p, 0, "10.1.1.1", 7777), REDISX_OK);
    cr_assert_eq(q->n_nodes, m->n_nodes + 1);
    cr_assert_str_eq(redisx__slot_map_master(q, 0)->host, "10.1.1.1");
    cr_assert_null(redisx__slot_map_master(q, 0)->id);
    cr_assert_eq(q->version, 3);
    redisx__slot_map_unref(p);
    redisx__slot_map_unref(q);
    redisx__slot_map_unref(m);
}

Test(slots, a_patch_to_a_replica_promotes_it)
{
    resp r = three_masters(1);
    redisx__slot_map *m = map_of(&r, 0), *p = NULL;
    int rep = redisx__slot_map_find(m, "127.0.0.1", 7100);
    cr_assert_eq(m->nodes[rep].master, 0);
    cr_assert_eq(redisx__slot_map_patch(&p, m, 10, "127.0.0.1", 7100), REDISX_OK);
    cr_assert_eq(p->nodes[rep].master, -1);
    cr_assert_eq(p->nodes[0].n_replicas, 0, "no longer a replica of its old master");
    cr_assert_eq(m->nodes[0].n_replicas, 1);
    redisx__slot_map_unref(p);
    redisx__slot_map_unref(m);
}

Test(slots, a_patch_refuses_bad_arguments)
{
    resp r = three_masters(0);
    redisx__slot_map *m = map_of(&r, 0), *p = (redisx__slot_map *)0x1;
    cr_assert_eq(redisx__slot_map_patch(&p, m, 16384, "h", 1), REDISX_ERR_INVALID);
    cr_assert_null(p);
    cr_assert_eq(redisx__slot_map_patch(&p, m, 1, "h", 0), REDISX_ERR_INVALID);
    cr_assert_eq(redisx__slot_map_patch(&p, m, 1, "", 1), REDISX_ERR_INVALID);
    cr_assert_eq(redisx__slot_map_patch(&p, m, 1, NULL, 1), REDISX_ERR_INVALID);
    redisx__slot_map_unref(m);
}

Test(slots, references_keep_a_map_alive)
{
    resp r = three_masters(0);
    redisx__slot_map *m = map_of(&r, 0);
    cr_assert_eq(redisx__slot_map_ref(m), m);
    redisx__slot_map_unref(m);
    cr_assert_eq(redisx__slot_map_master(m, 0)->port, 7000, "one reference left");
    redisx__slot_map_unref(m);
    redisx__slot_map_unref(NULL);
}

/* ---- redirects and cluster errors ---- */

static redisx__redirect redirect(const char *msg, const char *from)
{
    redisx__redirect d;
    redisx_status st = redisx__redirect_parse(&d, msg, strlen(msg), from);
    cr_assert_eq(st, REDISX_OK, "%s: %s", msg, redisx_last_error());
    return d;
}

Test(slots, moved_and_ask_name_the_slot_and_the_node)
{
    redisx__redirect d = redirect("MOVED 3999 127.0.0.1:6381", "x");
    cr_assert_eq(d.kind, REDISX__CERR_MOVED);
    cr_assert_eq(d.slot, 3999);
    cr_assert_str_eq(d.host, "127.0.0.1");
    cr_assert_eq(d.port, 6381);
    d = redirect("ASK 0 redis-1.example.com:7000", NULL);
    cr_assert_eq(d.kind, REDISX__CERR_ASK);
    cr_assert_eq(d.slot, 0);
    cr_assert_str_eq(d.host, "redis-1.example.com");
    d = redirect("MOVED 16383 h:65535", NULL);
    cr_assert_eq(d.slot, 16383);
    cr_assert_eq(d.port, 65535);
}

Test(slots, ipv6_endpoints_in_both_forms)
{
    redisx__redirect d = redirect("MOVED 1 ::1:7000", NULL); /* as Redis writes it */
    cr_assert_str_eq(d.host, "::1");
    cr_assert_eq(d.port, 7000);
    d = redirect("MOVED 1 fe80::1:2:6380", NULL);
    cr_assert_str_eq(d.host, "fe80::1:2");
    cr_assert_eq(d.port, 6380);
    d = redirect("ASK 2 [2001:db8::7]:7001", NULL);
    cr_assert_str_eq(d.host, "2001:db8::7");
    cr_assert_eq(d.port, 7001);
}

Test(slots, an_unknown_endpoint_is_where_the_command_went)
{
    redisx__redirect d = redirect("MOVED 3999 :6380", "10.0.0.9");
    cr_assert_str_eq(d.host, "10.0.0.9");
    cr_assert_eq(d.port, 6380);
    d = redirect("ASK 3999 ?:6380", "10.0.0.9");
    cr_assert_str_eq(d.host, "10.0.0.9");
}

Test(slots, bad_redirects_are_refused_with_the_text)
{
    const char *bad[] = {
        "",                    "MOVED",           "ASK",               "MOVED 3999",        "MOVED 3999 host",  "MOVED 3999 host:",
        "MOVED 3999 host:0",   "MOVED 3999 host:65536", "MOVED 3999 host:99999", "MOVED 16384 h:1", "MOVED -1 h:1",
        "MOVED x h:1",         "MOVED  1 h:1",    "MOVED 1 h:1 ",      "MOVED 1 [::1]",    "MOVED 1 [::1]7000",
        "MOVED 1 []:7000",     "ERR 3999 h:6380", "host:6380",         "MOVEDX 1 h:1",     "ASK 1 a b:1",
        "MOVED 1 h:+1",        "MOVED 1 :6380",   "MOVED 1 ?:6380",    "MOVED 1 h:1\r\n",  "moved 1 h:1",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        redisx__redirect d;
        cr_assert_eq(redisx__redirect_parse(&d, bad[i], strlen(bad[i]), NULL), REDISX_ERR_PROTOCOL, "accepted \"%s\"",
                     bad[i]);
        cr_assert(strstr(redisx_last_error(), bad[i]), "detail \"%s\" does not quote \"%s\"", redisx_last_error(),
                  bad[i]);
    }
    redisx__redirect d;
    cr_assert_eq(redisx__redirect_parse(&d, NULL, 0, NULL), REDISX_ERR_PROTOCOL);
}

Test(slots, cluster_errors_are_classified_by_their_first_word)
{
    struct {
        const char *msg;
        redisx__cluster_err want;
    } t[] = {
        {"MOVED 1 h:1", REDISX__CERR_MOVED},
        {"ASK 1 h:1", REDISX__CERR_ASK},
        {"TRYAGAIN Multiple keys request during rehashing of slot", REDISX__CERR_TRYAGAIN},
        {"CLUSTERDOWN The cluster is down", REDISX__CERR_CLUSTERDOWN},
        {"CLUSTERDOWN Hash slot not served", REDISX__CERR_CLUSTERDOWN},
        {"LOADING Redis is loading the dataset in memory", REDISX__CERR_LOADING},
        {"TRYAGAIN", REDISX__CERR_TRYAGAIN},
        {"ERR unknown command", REDISX__CERR_NONE},
        {"CROSSSLOT Keys in request don't hash to the same slot", REDISX__CERR_NONE},
        {"ASKING", REDISX__CERR_NONE},
        {"MOVEDX", REDISX__CERR_NONE},
        {"", REDISX__CERR_NONE},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        cr_assert_eq(redisx__cluster_err_of(t[i].msg, strlen(t[i].msg)), t[i].want, "%s", t[i].msg);
    cr_assert_eq(redisx__cluster_err_of(NULL, 0), REDISX__CERR_NONE);
}

/* ---- key positions ---- */

Test(slots, the_command_table_is_sorted_and_upper_case)
{
    const char *prev = NULL, *name;
    for (size_t i = 0; (name = redisx__keyspec_name(i)) != NULL; i++) {
        for (const char *p = name; *p; p++)
            cr_assert(!(*p >= 'a' && *p <= 'z'), "%s", name);
        if (prev)
            cr_assert(strcmp(prev, name) < 0, "%s before %s", prev, name);
        prev = name;
    }
}

/* Key positions of the command in `args` (space-separated) as "1,3,5". */
static const char *keys_of(const char *args, redisx__route *route, redisx_status *st)
{
    static char out[128];
    static char copy[256];
    const char *argv[32];
    int argc = 0;
    snprintf(copy, sizeof copy, "%s", args);
    for (char *t = strtok(copy, " "); t; t = strtok(NULL, " "))
        argv[argc++] = t;
    size_t pos[32], n;
    *st = redisx__command_keys(pos, 32, &n, route, argc, argv, NULL);
    out[0] = '\0';
    for (size_t i = 0; i < n && i < 32; i++)
        snprintf(out + strlen(out), sizeof out - strlen(out), "%s%zu", i ? "," : "", pos[i]);
    return out;
}

static void expect_keys(const char *args, redisx__route want_route, const char *want)
{
    redisx__route route;
    redisx_status st;
    const char *got = keys_of(args, &route, &st);
    cr_assert_eq(st, REDISX_OK, "%s: %s", args, redisx_last_error());
    cr_assert_eq(route, want_route, "%s: route %d", args, route);
    cr_assert_str_eq(got, want, "%s", args);
}

Test(slots, key_positions_of_common_commands)
{
    expect_keys("GET k", REDISX__ROUTE_SLOT, "1");
    expect_keys("set k v PX 100 NX", REDISX__ROUTE_SLOT, "1");
    expect_keys("DEL a b c", REDISX__ROUTE_SLOT, "1,2,3");
    expect_keys("MGET a b", REDISX__ROUTE_SLOT, "1,2");
    expect_keys("MSET a 1 b 2 c 3", REDISX__ROUTE_SLOT, "1,3,5");
    expect_keys("EVALSHA sha 2 k1 k2 a1 a2", REDISX__ROUTE_SLOT, "3,4");
    expect_keys("EVAL body 1 k a", REDISX__ROUTE_SLOT, "3");
    expect_keys("FCALL f 1 k", REDISX__ROUTE_SLOT, "3");
    expect_keys("BLPOP a b 0", REDISX__ROUTE_SLOT, "1,2");
    expect_keys("RENAME a b", REDISX__ROUTE_SLOT, "1,2");
    expect_keys("ZUNIONSTORE d 2 a b WEIGHTS 1 2", REDISX__ROUTE_SLOT, "1,3,4");
    expect_keys("ZINTER 2 a b", REDISX__ROUTE_SLOT, "2,3");
    expect_keys("BLMPOP 0 2 a b LEFT", REDISX__ROUTE_SLOT, "3,4");
    expect_keys("XREADGROUP GROUP g c COUNT 1 STREAMS s1 s2 > >", REDISX__ROUTE_SLOT, "7,8");
    expect_keys("XREAD STREAMS s 0", REDISX__ROUTE_SLOT, "2");
    expect_keys("XGROUP CREATE s g $ MKSTREAM", REDISX__ROUTE_SLOT, "2");
    expect_keys("XINFO GROUPS s", REDISX__ROUTE_SLOT, "2");
}

Test(slots, commands_without_keys_go_anywhere_and_unknown_ones_are_not_routed)
{
    expect_keys("PING", REDISX__ROUTE_ANY, "");
    expect_keys("EVAL return 0", REDISX__ROUTE_ANY, "");
    expect_keys("EVALSHA sha 0 a", REDISX__ROUTE_ANY, "");
    expect_keys("CLUSTER SLOTS", REDISX__ROUTE_UNKNOWN, "");
    expect_keys("SCRIPT LOAD x", REDISX__ROUTE_UNKNOWN, "");
    expect_keys("AVERYLONGCOMMANDNAMEBEYONDTHETABLE k", REDISX__ROUTE_UNKNOWN, "");
}

Test(slots, commands_that_do_not_fit_their_shape_are_invalid)
{
    const char *bad[] = {"GET", "EVAL body", "EVAL body x k", "EVAL body 2 k", "EVAL body -1", "MSET",
                         "XREAD COUNT 1", "XREAD STREAMS s", "XREAD STREAMS a b c"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        redisx__route route;
        redisx_status st;
        keys_of(bad[i], &route, &st);
        cr_assert_eq(st, REDISX_ERR_INVALID, "%s", bad[i]);
    }
    size_t n;
    redisx__route route;
    cr_assert_eq(redisx__command_keys(NULL, 0, &n, &route, 0, NULL, NULL), REDISX_ERR_INVALID);
}

Test(slots, more_keys_than_room_reports_the_count)
{
    const char *argv[] = {"DEL", "a", "b", "c", "d"};
    size_t pos[2], n;
    redisx__route route;
    cr_assert_eq(redisx__command_keys(pos, 2, &n, &route, 5, argv, NULL), REDISX_OK);
    cr_assert_eq(n, 4);
    cr_assert_eq(pos[1], 2);
}

Test(slots, one_slot_for_keys_sharing_a_tag)
{
    const char *argv[] = {"MSET", "{u1}:a", "1", "{u1}:b", "2"};
    int slot;
    redisx__route route;
    cr_assert_eq(redisx__command_slot(&slot, &route, 5, argv, NULL), REDISX_OK);
    cr_assert_eq(route, REDISX__ROUTE_SLOT);
    cr_assert_eq(slot, redisx__slot_of("u1", 2));
    const char *ping[] = {"PING"};
    cr_assert_eq(redisx__command_slot(&slot, &route, 1, ping, NULL), REDISX_OK);
    cr_assert_eq(route, REDISX__ROUTE_ANY);
    cr_assert_eq(slot, -1);
}

Test(slots, keys_across_slots_are_invalid_naming_the_slots)
{
    const char *argv[] = {"MSET", "foo", "1", "bar", "2"};
    int slot;
    redisx__route route;
    cr_assert_eq(redisx__command_slot(&slot, &route, 5, argv, NULL), REDISX_ERR_INVALID);
    cr_assert_eq(slot, -1);
    cr_assert(strstr(redisx_last_error(), "MSET: keys in different cluster slots (12182 for argument 1, 5061 for "
                                          "argument 3)"),
              "%s", redisx_last_error());
}

Test(slots, many_keys_and_binary_keys_are_checked)
{
    const char *argv[41];
    size_t lens[41];
    char keys[40][8];
    argv[0] = "DEL";
    lens[0] = 3;
    for (int i = 0; i < 40; i++) {
        memcpy(keys[i], "{\0t}", 4); /* binary tag: NUL inside */
        keys[i][4] = (char)('a' + i % 26);
        argv[i + 1] = keys[i];
        lens[i + 1] = 5;
    }
    int slot;
    redisx__route route;
    cr_assert_eq(redisx__command_slot(&slot, &route, 41, argv, lens), REDISX_OK, "%s", redisx_last_error());
    cr_assert_eq(slot, redisx__slot_of("\0t", 2));
    keys[39][2] = 'u';
    cr_assert_eq(redisx__command_slot(&slot, &route, 41, argv, lens), REDISX_ERR_INVALID);
    cr_assert(strstr(redisx_last_error(), "for argument 40"), "%s", redisx_last_error());
}
