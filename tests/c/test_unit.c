/* Pure logic, no server: URL parsing, the reply path from raw RESP, latency
 * histogram buckets, the status table. Linked against the static library
 * with the core's private headers. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "breaker.h"
#include "internal.h"
#include "keys.h"

static redisx__endpoint parse_ok(const char *url)
{
    redisx__endpoint ep = {0};
    redisx_status st = redisx__parse_url(&ep, url);
    cr_assert_eq(st, REDISX_OK, "%s: %s", url, redisx_last_error());
    return ep;
}

static void parse_bad(const char *url, redisx_status want)
{
    redisx__endpoint ep = {0};
    cr_assert_eq(redisx__parse_url(&ep, url), want, "%s should be rejected", url);
    cr_assert_neq(redisx_last_error()[0], '\0', "%s: no detail", url);
    cr_assert_null(ep.host, "a rejected URL must leave the endpoint untouched");
}

Test(url, host_port_db)
{
    redisx__endpoint ep = parse_ok("redis://example.org:6390/7");
    cr_assert_str_eq(ep.host, "example.org");
    cr_assert_eq(ep.port, 6390);
    cr_assert_eq(ep.db, 7);
    cr_assert_null(ep.user);
    cr_assert_null(ep.password);
    cr_assert_eq(ep.is_unix, 0);
    redisx__endpoint_clear(&ep);
}

Test(url, rediss_is_the_same_url_over_tls)
{
    if (!redisx__tls_available()) {
        parse_bad("rediss://h", REDISX_ERR_URL);
        cr_assert(strstr(redisx_last_error(), "not supported by this build") != NULL);
        return;
    }
    redisx__endpoint ep = parse_ok("rediss://u:p%40ss@redis.example.org:6380/2");
    cr_assert_eq(ep.tls, 1);
    cr_assert_str_eq(ep.host, "redis.example.org");
    cr_assert_eq(ep.port, 6380);
    cr_assert_eq(ep.db, 2);
    cr_assert_str_eq(ep.user, "u");
    cr_assert_str_eq(ep.password, "p@ss");
    redisx__endpoint_clear(&ep);
    ep = parse_ok("rediss://[::1]");
    cr_assert_eq(ep.tls, 1);
    cr_assert_eq(ep.port, 6379);
    redisx__endpoint_clear(&ep);
    ep = parse_ok("redis://h");
    cr_assert_eq(ep.tls, 0);
    redisx__endpoint_clear(&ep);
}

Test(url, defaults_port_6379_db_0)
{
    redisx__endpoint ep = parse_ok("redis://10.0.0.1");
    cr_assert_eq(ep.port, 6379);
    cr_assert_eq(ep.db, 0);
    redisx__endpoint_clear(&ep);
    ep = parse_ok("redis://h/");
    cr_assert_eq(ep.db, 0);
    redisx__endpoint_clear(&ep);
}

Test(url, empty_host_means_loopback)
{
    redisx__endpoint ep = parse_ok("redis://:6380");
    cr_assert_str_eq(ep.host, "127.0.0.1");
    cr_assert_eq(ep.port, 6380);
    redisx__endpoint_clear(&ep);
}

Test(url, acl_user_and_password)
{
    redisx__endpoint ep = parse_ok("redis://alice:s3cret@h:1/2");
    cr_assert_str_eq(ep.user, "alice");
    cr_assert_str_eq(ep.password, "s3cret");
    cr_assert_str_eq(ep.host, "h");
    redisx__endpoint_clear(&ep);
}

Test(url, password_only_forms)
{
    redisx__endpoint ep = parse_ok("redis://:pw@h");
    cr_assert_null(ep.user);
    cr_assert_str_eq(ep.password, "pw");
    redisx__endpoint_clear(&ep);
    ep = parse_ok("redis://lonepw@h");
    cr_assert_null(ep.user);
    cr_assert_str_eq(ep.password, "lonepw");
    redisx__endpoint_clear(&ep);
}

Test(url, an_empty_password_means_no_auth)
{
    const char *urls[] = {"redis://:@h", "redis://alice:@h:7/1", "redis://@h"};
    for (size_t i = 0; i < sizeof urls / sizeof *urls; i++) {
        redisx__endpoint ep = parse_ok(urls[i]);
        cr_assert_null(ep.password, "%s", urls[i]);
        cr_assert_null(ep.user, "%s: a user is sent only with a password", urls[i]);
        cr_assert_str_eq(ep.host, "h");
        redisx__endpoint_clear(&ep);
    }
}

Test(url, percent_escapes_in_credentials)
{
    redisx__endpoint ep = parse_ok("redis://a%40b:p%3Aw%2F@h");
    cr_assert_str_eq(ep.user, "a@b");
    cr_assert_str_eq(ep.password, "p:w/");
    redisx__endpoint_clear(&ep);
}

Test(url, ipv6_literal)
{
    redisx__endpoint ep = parse_ok("redis://[::1]:7000/1");
    cr_assert_str_eq(ep.host, "::1");
    cr_assert_eq(ep.port, 7000);
    cr_assert_eq(ep.db, 1);
    redisx__endpoint_clear(&ep);
}

Test(url, unix_socket_with_db)
{
    redisx__endpoint ep = parse_ok("unix:///run/redis/redis.sock?db=4");
    cr_assert_eq(ep.is_unix, 1);
    cr_assert_str_eq(ep.host, "/run/redis/redis.sock");
    cr_assert_eq(ep.db, 4);
    redisx__endpoint_clear(&ep);
}

Test(url, rejects_malformed)
{
    char longurl[5000];
    memset(longurl, 'a', sizeof longurl - 1);
    memcpy(longurl, "redis://", 8);
    longurl[sizeof longurl - 1] = '\0';
    const char *bad[] = {"",
                         "http://h",
                         "rediss://h?x=1",
                         "rediss:/h",
                         "redis://h:0",
                         "redis://h:65536",
                         "redis://h:12ab",
                         "redis://h:",
                         "redis://h/x",
                         "redis://h/-1",
                         "redis://[::1",
                         "redis://[]:1",
                         "redis://h?x=1",
                         "redis://%zz:pw@h",
                         "redis://u:%0@h",
                         "redis://u:%00@h",
                         "unix://relative.sock",
                         "unix://",
                         "unix:///x.sock?db=a",
                         longurl};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        parse_bad(bad[i], REDISX_ERR_URL);
}

Test(url, failed_parse_keeps_previous_endpoint)
{
    redisx__endpoint ep = parse_ok("redis://keep:1234");
    cr_assert_eq(redisx__parse_url(&ep, "redis://h:99999"), REDISX_ERR_URL);
    cr_assert_str_eq(ep.host, "keep");
    cr_assert_eq(ep.port, 1234);
    redisx__endpoint_clear(&ep);
}

Test(histogram, buckets_are_monotonic_and_contain_their_values)
{
    uint64_t samples[] = {0, 1, 1023, 1024, 1100, 1279, 1280, 2047, 2048, 60000, 999999, 1000000, 123456789,
                          (1ull << 36) - 1};
    for (size_t i = 0; i < sizeof samples / sizeof *samples; i++) {
        uint64_t v = samples[i];
        int b = redisx__hist_bucket(v);
        cr_assert(b >= 0 && b < REDISX__HIST_BUCKETS);
        cr_assert_leq(v, (uint64_t)redisx__hist_upper(b), "%llu above its bucket %d", (unsigned long long)v, b);
        if (b > 0)
            cr_assert_gt(v, (uint64_t)redisx__hist_upper(b - 1), "%llu fits an earlier bucket", (unsigned long long)v);
    }
    for (int b = 1; b < REDISX__HIST_BUCKETS; b++)
        cr_assert_gt(redisx__hist_upper(b), redisx__hist_upper(b - 1));
}

Test(histogram, relative_error_at_most_one_eighth)
{
    for (uint64_t v = 1024; v < (1ull << 30); v = v * 3 / 2 + 7) {
        int64_t up = redisx__hist_upper(redisx__hist_bucket(v));
        cr_assert_leq((double)(up - (int64_t)v), (double)v / 8.0 + 1, "value %llu bucket upper %lld",
                      (unsigned long long)v, (long long)up);
    }
}

Test(histogram, overflow_bucket)
{
    cr_assert_eq(redisx__hist_bucket(1ull << 40), REDISX__HIST_BUCKETS - 1);
    cr_assert_eq(redisx__hist_upper(REDISX__HIST_BUCKETS - 1), INT64_MAX);
}

Test(histogram, quantiles_from_a_snapshot)
{
    redisx_stats s;
    memset(&s, 0, sizeof s);
    /* 90 operations of ~10 us, 10 of ~5 ms. */
    s.series[REDISX__OP_LOCK_ACQUIRE].bucket[redisx__hist_bucket(10000)] = 90;
    s.series[REDISX__OP_LOCK_ACQUIRE].bucket[redisx__hist_bucket(5000000)] = 10;
    int64_t p50 = redisx_stats_quantile_ns(&s, REDISX__OP_LOCK_ACQUIRE, 0.5);
    int64_t p90 = redisx_stats_quantile_ns(&s, REDISX__OP_LOCK_ACQUIRE, 0.9);
    int64_t p99 = redisx_stats_quantile_ns(&s, REDISX__OP_LOCK_ACQUIRE, 0.99);
    cr_assert(p50 >= 10000 && p50 <= 11250, "p50 %lld", (long long)p50);
    cr_assert(p90 >= 10000 && p90 <= 11250, "p90 %lld", (long long)p90);
    cr_assert(p99 >= 5000000 && p99 <= 5625000, "p99 %lld", (long long)p99);
    cr_assert_eq(redisx_stats_quantile_ns(&s, REDISX__OP_COMMAND, 0.5), 0, "empty series");
}

Test(status, every_code_has_a_name_and_message)
{
    int codes[] = {
#define CODE(name, code, msg) code,
        REDISX_STATUS_MAP(CODE)
#undef CODE
    };
    for (size_t i = 0; i < sizeof codes / sizeof *codes; i++) {
        cr_assert_not_null(redisx_status_name(codes[i]));
        cr_assert_str_neq(redisx_strerror(codes[i]), "unknown status");
        if (i > 0)
            cr_assert_eq(codes[i], codes[i - 1] - 1, "codes are dense and never renumbered");
    }
    cr_assert_eq(codes[sizeof codes / sizeof *codes - 1], REDISX_STATUS_MIN_);
    cr_assert_null(redisx_status_name(1));
    cr_assert_str_eq(redisx_strerror(-999), "unknown status");
    cr_assert_str_eq(redisx_status_name(REDISX_ERR_NOT_OWNER), "ERR_NOT_OWNER");
}

/* ---- key layout: hash tags (docs/KEYS.md) ---- */

/* The part of a key that Redis Cluster hashes (its HASH_SLOT rule). */
static void hashed_part(const char *key, const char **p, size_t *n)
{
    const char *open = strchr(key, '{');
    const char *close = open ? strchr(open + 1, '}') : NULL;
    if (!open || !close || close == open + 1) {
        *p = key;
        *n = strlen(key);
    } else {
        *p = open + 1;
        *n = (size_t)(close - open - 1);
    }
}

static void assert_one_slot(const char *prefix, const char *kind, const char *name, const char *s1, const char *s2)
{
    char *a = redisx__key_build(prefix, kind, name, s1), *b = redisx__key_build(prefix, kind, name, s2);
    cr_assert(a && b);
    const char *pa, *pb;
    size_t na, nb;
    hashed_part(a, &pa, &na);
    hashed_part(b, &pb, &nb);
    cr_assert(pa != a, "%s: the key must carry a non-empty hash tag", a);
    cr_assert(na == nb && memcmp(pa, pb, na) == 0, "%s and %s hash different text", a, b);
    cr_assert_eq(memchr(pa, '}', na), NULL);
    free(a);
    free(b);
}

Test(keys, ordinary_names_keep_their_v1_keys)
{
    char *k = redisx__key_build("app", "lock", "orders:42", ":fence");
    cr_assert_str_eq(k, "app:lock:{orders:42}:fence");
    free(k);
    k = redisx__key_build("app", "rl:api", "a{b", ":sl:seq");
    cr_assert_str_eq(k, "app:rl:api:{a{b}:sl:seq", "a '{' inside the name is harmless");
    free(k);
}

Test(keys, names_with_a_closing_brace_or_the_marker_are_hex_encoded)
{
    char *k = redisx__key_build("p", "lock", "}bob", "");
    cr_assert_str_eq(k, "p:lock:{~7d626f62}");
    free(k);
    k = redisx__key_build("p", "idem", "~x", "");
    cr_assert_str_eq(k, "p:idem:{~7e78}");
    free(k);
    k = redisx__key_build("p", "idem", "", "");
    cr_assert_str_eq(k, "p:idem:{~}", "even an empty name gets a non-empty tag");
    free(k);
    k = redisx__key_build("p", "lock", "\xff\x01}", "");
    cr_assert_str_eq(k, "p:lock:{~ff017d}");
    free(k);
}

Test(keys, every_key_of_one_name_shares_one_hash_tag)
{
    const char *names[] = {"}bob", "{}", "{", "}", "~", "~7d", "{{}}", "}}}", "a}b", "a{b}c", "{a}", "x",
                           "\x01", "\xff", "{\xff}", "~~"};
    const char *prefixes[] = {"redisx", "a", "~", "p:q", "*?[x]"};
    for (size_t p = 0; p < sizeof prefixes / sizeof *prefixes; p++) {
        for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
            assert_one_slot(prefixes[p], "lock", names[i], "", ":fence");
            assert_one_slot(prefixes[p], "rl:api", names[i], ":sl", ":sl:seq");
        }
        char name[2] = {0};
        for (int b = 1; b < 256; b++) {
            name[0] = (char)b;
            assert_one_slot(prefixes[p], "lock", name, "", ":fence");
        }
    }
    char big[1025];
    memset(big, '}', 1024);
    big[1024] = '\0';
    assert_one_slot("redisx", "lock", big, "", ":fence");
}

Test(keys, distinct_names_give_distinct_keys)
{
    /* Every name of up to two bytes over an alphabet that contains the
     * marker, both braces and a hex digit: no two share a key. */
    const char alpha[] = {'~', '{', '}', '7', 'd', 'a', '\x01', '\xff'};
    enum { A = sizeof alpha };
    char *keys[A + A * A];
    int n = 0;
    for (int i = 0; i < A; i++) {
        char nm[2] = {alpha[i], 0};
        keys[n++] = redisx__key_build("p", "lock", nm, "");
    }
    for (int i = 0; i < A; i++)
        for (int j = 0; j < A; j++) {
            char nm[3] = {alpha[i], alpha[j], 0};
            keys[n++] = redisx__key_build("p", "lock", nm, "");
        }
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++)
            cr_assert_str_neq(keys[i], keys[j]);
    for (int i = 0; i < n; i++)
        free(keys[i]);
}

/* ---- the reply path without a socket (redisx__replies_from_resp) ---- */

typedef struct collected {
    int n;
    redisx_reply *r[8];
} collected;

static void collect(redisx_reply *r, void *u)
{
    collected *c = u;
    if (c->n < 8)
        c->r[c->n++] = r;
    else
        redisx__reply_free(r);
}

static redisx_status replies(const char *resp, size_t chunk, collected *c)
{
    memset(c, 0, sizeof *c);
    return redisx__replies_from_resp(resp, strlen(resp), chunk, collect, c);
}

static void drop(collected *c)
{
    for (int i = 0; i < c->n; i++)
        redisx__reply_free(c->r[i]);
    c->n = 0;
}

Test(replies, a_complete_stream_is_ok_in_any_chunking)
{
    const char *resp = "+OK\r\n:42\r\n$3\r\nfoo\r\n*2\r\n$-1\r\n-ERR no\r\n";
    for (size_t chunk = 0; chunk <= strlen(resp); chunk++) {
        collected c;
        cr_assert_eq(replies(resp, chunk, &c), REDISX_OK, "chunk %zu: %s", chunk, redisx_last_error());
        cr_assert_eq(c.n, 4, "chunk %zu", chunk);
        cr_assert_eq(c.r[0]->type, REDISX_REPLY_STATUS);
        cr_assert_eq(c.r[1]->integer, 42);
        cr_assert_str_eq(c.r[2]->str, "foo");
        cr_assert_eq(c.r[3]->elements, 2);
        cr_assert_eq(c.r[3]->element[0]->type, REDISX_REPLY_NIL);
        cr_assert(redisx__reply_is_error(c.r[3]->element[1], "ERR"));
        drop(&c);
    }
}

Test(replies, a_truncated_reply_is_a_protocol_error_after_the_whole_ones)
{
    const char *cut[] = {"+OK\r\n+", "+OK\r\n$3\r\nfo", "+OK\r\n*2\r\n:1\r\n", "+OK\r\n+PON", "+OK\r\n*1\r\n"};
    for (size_t i = 0; i < sizeof cut / sizeof *cut; i++) {
        collected c;
        cr_assert_eq(replies(cut[i], 1, &c), REDISX_ERR_PROTOCOL, "%s", cut[i]);
        cr_assert_eq(c.n, 1, "%s: the complete reply before the cut is delivered", cut[i]);
        cr_assert(strstr(redisx_last_error(), "truncated"), "%s: %s", cut[i], redisx_last_error());
        drop(&c);
    }
}

Test(replies, nesting_beyond_the_readers_depth_is_refused_cleanly)
{
    char resp[128] = "";
    for (int depth = 1; depth <= 10; depth++) {
        resp[0] = '\0';
        for (int i = 0; i < depth; i++)
            strcat(resp, "*1\r\n");
        strcat(resp, ":7\r\n");
        collected c;
        redisx_status st = replies(resp, 3, &c);
        if (depth <= 8) { /* hiredis 0.14: a root and 7 nested arrays */
            cr_assert_eq(st, REDISX_OK, "depth %d: %s", depth, redisx_last_error());
            cr_assert_eq(c.n, 1);
        } else {
            cr_assert_eq(st, REDISX_ERR_PROTOCOL, "depth %d", depth);
            cr_assert(strstr(redisx_last_error(), "protocol error"), "%s", redisx_last_error());
            cr_assert_eq(c.n, 0);
        }
        drop(&c);
    }
}

Test(replies, out_of_range_lengths_are_protocol_errors)
{
    const char *bad[] = {"*-5\r\n", "$-2\r\n", ":12x\r\n", "*9223372036854775807\r\n", "!x\r\n"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        collected c;
        cr_assert_eq(replies(bad[i], 0, &c), REDISX_ERR_PROTOCOL, "%s", bad[i]);
        cr_assert_eq(c.n, 0);
    }
}

/* ---- decimal formatting (the hot path's replacement for printf) ---- */

Test(util, fmt_i64_writes_what_printf_writes)
{
    const int64_t vals[] = {0, 1, -1, 9, 10, -10, 123456789, INT64_MAX, INT64_MIN, INT64_MIN + 1, 3600000};
    for (size_t i = 0; i < sizeof vals / sizeof *vals; i++) {
        char got[24], want[32];
        snprintf(want, sizeof want, "%lld", (long long)vals[i]);
        cr_assert_str_eq(redisx__fmt_i64(got, vals[i]), want);
    }
}

Test(errors, a_detail_can_wrap_the_current_detail)
{
    /* A caller adding context to the detail it got passes the detail in:
     * the result holds both, not an empty or garbled string. */
    cr_assert_eq(redisx__fail(REDISX_ERR_INVALID, "inner %s %d", "detail", 7), REDISX_ERR_INVALID);
    cr_assert_eq(redisx__fail(REDISX_ERR_SERVER, "outer: %s", redisx_last_error()), REDISX_ERR_SERVER);
    cr_assert_str_eq(redisx_last_error(), "outer: inner detail 7");
    char big[3000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    redisx__fail(REDISX_ERR_INVALID, "%s", big);
    redisx__fail(REDISX_ERR_INVALID, "again %s", redisx_last_error());
    cr_assert_eq(strlen(redisx_last_error()), REDISX__DETAIL - 1, "truncated to the buffer, NUL-terminated");
    cr_assert_eq(strncmp(redisx_last_error(), "again xxx", 9), 0);
}

/* ---- redis+sentinel:// (docs/SENTINEL.md) ---- */

Test(url, sentinel_url_names_the_sentinels_the_master_and_the_db)
{
    redisx__endpoint ep = parse_ok("redis+sentinel://u:p%40w@s1:26380,[::1],s3/my.master-1/4");
    cr_assert_eq(ep.sentinel, 1);
    cr_assert_eq(ep.cluster, 0);
    cr_assert_eq(ep.tls, 0);
    cr_assert_str_eq(ep.master_name, "my.master-1");
    cr_assert_eq(ep.db, 4);
    cr_assert_str_eq(ep.user, "u");
    cr_assert_str_eq(ep.password, "p@w");
    cr_assert_eq(ep.nsentinels, 3);
    cr_assert_str_eq(ep.sentinels[0].host, "s1");
    cr_assert_eq(ep.sentinels[0].port, 26380);
    cr_assert_str_eq(ep.sentinels[1].host, "::1");
    cr_assert_eq(ep.sentinels[1].port, 26379, "the sentinel port is the default");
    cr_assert_str_eq(ep.sentinels[2].host, "s3");
    cr_assert_str_eq(ep.host, "s1");
    redisx__endpoint copy = {0};
    cr_assert_eq(redisx__endpoint_copy(&copy, &ep), REDISX_OK);
    cr_assert_str_eq(copy.master_name, "my.master-1");
    cr_assert_eq(copy.nsentinels, 3);
    cr_assert_str_eq(copy.sentinels[2].host, "s3");
    redisx__endpoint_clear(&copy);
    redisx__endpoint_clear(&ep);
    ep = parse_ok("redis+sentinel://127.0.0.1:26379/mymaster");
    cr_assert_eq(ep.db, 0);
    cr_assert_eq(ep.nsentinels, 1);
    redisx__endpoint_clear(&ep);
}

Test(url, rediss_sentinel_is_the_same_over_tls)
{
    redisx__endpoint ep = parse_ok("rediss+sentinel://s1:1,s2:2/m");
    cr_assert_eq(ep.tls, 1);
    cr_assert_eq(ep.sentinel, 1);
    cr_assert_str_eq(ep.master_name, "m");
    redisx__endpoint_clear(&ep);
}

Test(url, malformed_sentinel_urls_are_refused_with_a_reason)
{
    const char *bad[] = {
        "redis+sentinel://s1:26379",          /* no master name */
        "redis+sentinel://s1:26379/",         /* empty master name */
        "redis+sentinel://s1:26379//0",       /* empty master name before the db */
        "redis+sentinel:///mymaster",         /* no sentinel */
        "redis+sentinel://s1:0/m",            /* port 0 */
        "redis+sentinel://s1:65536/m",        /* port too large */
        "redis+sentinel://s1:2x/m",           /* port with letters */
        "redis+sentinel://s1:1,,s2:2/m",      /* empty sentinel */
        "redis+sentinel://s1:1,/m",           /* trailing comma */
        "redis+sentinel://s1:1,S1:1/m",       /* the same sentinel twice */
        "redis+sentinel://s1,s1:26379/m",     /* the same, once by default port */
        "redis+sentinel://s1:1/m/x",          /* db not a number */
        "redis+sentinel://s1:1/m/1/2",        /* junk after the db */
        "redis+sentinel://s1:1/m/",           /* empty db */
        "redis+sentinel://s1:1/m?x=1",        /* query string */
        "redis+sentinel://s1:1/m%20x",        /* space in the master name */
        "redis+sentinel://s1:1/m%zz",         /* bad escape */
        "redis+sentinel://s1:1,redis://s2/m", /* a second scheme */
        "redis+sentinel://[::1/m",            /* unterminated IPv6 */
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        parse_bad(bad[i], REDISX_ERR_URL);
    /* 17 sentinels: one more than allowed. */
    char url[512] = "redis+sentinel://";
    for (int i = 0; i < 17; i++)
        snprintf(url + strlen(url), sizeof url - strlen(url), "%ss%d:1", i ? "," : "", i);
    strcat(url, "/m");
    parse_bad(url, REDISX_ERR_URL);
    cr_assert(strstr(redisx_last_error(), "more than 16 sentinels"), "%s", redisx_last_error());
    parse_bad("redis+sentinel://s1:1,s1:1/m", REDISX_ERR_URL);
    cr_assert(strstr(redisx_last_error(), "named twice"), "%s", redisx_last_error());
    parse_bad("redis+sentinel://s1:1/", REDISX_ERR_URL);
    cr_assert(strstr(redisx_last_error(), "names no master"), "%s", redisx_last_error());
    parse_bad("redis+sentinel://s1:99999/m", REDISX_ERR_URL);
    cr_assert(strstr(redisx_last_error(), "sentinel 1 of 1"), "%s", redisx_last_error());
}

Test(url, sentinel_setter_mirrors_the_url_and_refuses_clusters)
{
    redisx__endpoint ep = parse_ok("redis://:pw@h:6379/2");
    cr_assert_eq(redisx__parse_sentinels(&ep, "mymaster", "a:1,b"), REDISX_OK, "%s", redisx_last_error());
    cr_assert_eq(ep.sentinel, 1);
    cr_assert_eq(ep.nsentinels, 2);
    cr_assert_eq(ep.sentinels[1].port, 26379);
    cr_assert_eq(ep.db, 2, "the database stays");
    cr_assert_str_eq(ep.password, "pw", "the master's password stays");
    cr_assert_eq(redisx__parse_sentinels(&ep, "", "a:1"), REDISX_ERR_URL);
    cr_assert_eq(redisx__parse_sentinels(&ep, "m", ""), REDISX_ERR_URL);
    cr_assert_eq(redisx__parse_sentinels(&ep, "m", "a:1,a:1"), REDISX_ERR_URL);
    cr_assert_str_eq(ep.master_name, "mymaster", "a refused call changes nothing");
    cr_assert_eq(redisx__parse_seeds(&ep, "c:1"), REDISX_ERR_URL, "cluster seeds on a sentinel endpoint");
    cr_assert_eq(redisx__parse_sentinels(&ep, NULL, NULL), REDISX_OK);
    cr_assert_eq(ep.sentinel, 0);
    cr_assert_null(ep.master_name);
    redisx__endpoint_clear(&ep);
    ep = parse_ok("redis+cluster://a:1,b:2");
    cr_assert_eq(redisx__parse_sentinels(&ep, "m", "s:1"), REDISX_ERR_URL, "sentinels on a cluster endpoint");
    redisx__endpoint_clear(&ep);
}

/* ---- the circuit breaker's state machine (core/breaker.c) ---- */

#define MS 1000000ULL

Test(breaker, opens_after_threshold_failures_within_the_window)
{
    redisx__breaker b = {0};
    redisx__breaker_cfg cfg = {3, 1000 * MS, 500 * MS};
    cr_assert_eq(redisx__breaker_failure(&b, &cfg, 0), 0);
    cr_assert_eq(redisx__breaker_failure(&b, &cfg, 100 * MS), 0);
    cr_assert(redisx__breaker_admit(&b, &cfg, 150 * MS), "closed: calls go through");
    cr_assert_eq(redisx__breaker_failure(&b, &cfg, 200 * MS), 1, "the third failure opens it");
    cr_assert_eq(b.state, REDISX__BREAKER_OPEN);
    cr_assert_not(redisx__breaker_admit(&b, &cfg, 300 * MS));
    cr_assert_not(redisx__breaker_admit(&b, &cfg, 699 * MS));
    cr_assert_eq(redisx__breaker_failure(&b, &cfg, 400 * MS), 0, "failures while open change nothing");
    cr_assert_not(redisx__breaker_admit(&b, &cfg, 699 * MS), "nor do they extend the open time");
}

Test(breaker, failures_spread_beyond_the_window_do_not_open_it)
{
    redisx__breaker b = {0};
    redisx__breaker_cfg cfg = {3, 1000 * MS, 500 * MS};
    for (uint64_t t = 0; t < 20000 * MS; t += 600 * MS)
        cr_assert_eq(redisx__breaker_failure(&b, &cfg, t), 0, "at %llu ms", (unsigned long long)(t / MS));
    cr_assert_eq(b.state, REDISX__BREAKER_CLOSED);
}

Test(breaker, a_success_resets_the_count)
{
    redisx__breaker b = {0};
    redisx__breaker_cfg cfg = {2, 1000 * MS, 500 * MS};
    for (int i = 0; i < 10; i++) {
        cr_assert_eq(redisx__breaker_failure(&b, &cfg, (uint64_t)i * MS), 0);
        cr_assert_eq(redisx__breaker_success(&b), 0, "closing a closed breaker reports nothing");
    }
    cr_assert_eq(b.state, REDISX__BREAKER_CLOSED);
}

Test(breaker, one_probe_after_the_open_time_then_closed_or_open_again)
{
    redisx__breaker b = {0};
    redisx__breaker_cfg cfg = {1, 1000 * MS, 500 * MS};
    cr_assert_eq(redisx__breaker_failure(&b, &cfg, 0), 1, "threshold 1: the first failure opens it");
    cr_assert(redisx__breaker_admit(&b, &cfg, 500 * MS), "the probe");
    cr_assert_eq(b.state, REDISX__BREAKER_HALF_OPEN);
    cr_assert_not(redisx__breaker_admit(&b, &cfg, 501 * MS), "one probe at a time");
    cr_assert_eq(redisx__breaker_failure(&b, &cfg, 600 * MS), 1, "a failed probe opens it again");
    cr_assert_not(redisx__breaker_admit(&b, &cfg, 1099 * MS));
    cr_assert(redisx__breaker_admit(&b, &cfg, 1100 * MS), "the next probe");
    cr_assert_eq(redisx__breaker_success(&b), 1, "a reply closes it");
    cr_assert(redisx__breaker_admit(&b, &cfg, 1101 * MS));
    cr_assert(redisx__breaker_admit(&b, &cfg, 1101 * MS));
}

Test(breaker, a_probe_whose_outcome_never_comes_is_followed_by_another)
{
    redisx__breaker b = {0};
    redisx__breaker_cfg cfg = {1, 1000 * MS, 500 * MS};
    redisx__breaker_failure(&b, &cfg, 0);
    cr_assert(redisx__breaker_admit(&b, &cfg, 500 * MS));
    cr_assert_not(redisx__breaker_admit(&b, &cfg, 999 * MS));
    cr_assert(redisx__breaker_admit(&b, &cfg, 1000 * MS), "a probe that was cancelled must not block forever");
}

Test(breaker, off_admits_everything)
{
    redisx__breaker b = {0};
    redisx__breaker_cfg cfg = {0, 1000 * MS, 500 * MS};
    for (int i = 0; i < 100; i++)
        cr_assert_eq(redisx__breaker_failure(&b, &cfg, (uint64_t)i), 0);
    cr_assert(redisx__breaker_admit(&b, &cfg, 100));
}
