/* Redis URL parsing: redis://[user[:password]@]host[:port][/db],
 * rediss://... (the same over TLS, in a build with TLS),
 * redis+cluster://[user[:password]@]host1:port1,host2:port2[/0] and
 * rediss+cluster://... (Redis Cluster seeds, docs/CLUSTER.md),
 * redis+sentinel://[user[:password]@]s1:26379,s2:26379/master[/db] and
 * rediss+sentinel://... (Redis Sentinel, docs/SENTINEL.md) and
 * unix:///path.sock[?db=N]. Pure logic, unit-tested in tests/c/test_url.c. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "internal.h"

void redisx__endpoint_clear(redisx__endpoint *ep)
{
    free(ep->host);
    free(ep->user);
    free(ep->password);
    for (size_t i = 0; i < ep->nseeds; i++)
        free(ep->seeds[i].host);
    free(ep->seeds);
    for (size_t i = 0; i < ep->nsentinels; i++)
        free(ep->sentinels[i].host);
    free(ep->sentinels);
    free(ep->master_name);
    memset(ep, 0, sizeof *ep);
}

/* A deep copy of n host:port pairs into *out (NULL when n == 0); -1 on
 * out-of-memory (nothing allocated). */
static int seeds_copy(struct redisx__seed **out, const struct redisx__seed *src, size_t n)
{
    *out = NULL;
    if (n == 0)
        return 0;
    struct redisx__seed *a = calloc(n, sizeof *a);
    if (!a)
        return -1;
    for (size_t i = 0; i < n; i++) {
        a[i].port = src[i].port;
        if (!(a[i].host = redisx__strdup(src[i].host))) {
            for (size_t j = 0; j < i; j++)
                free(a[j].host);
            free(a);
            return -1;
        }
    }
    *out = a;
    return 0;
}

redisx_status redisx__endpoint_copy(redisx__endpoint *dst, const redisx__endpoint *src)
{
    redisx__endpoint e = *src;
    e.host = redisx__strdup(src->host);
    e.user = redisx__strdup(src->user);
    e.password = redisx__strdup(src->password);
    e.master_name = redisx__strdup(src->master_name);
    e.seeds = e.sentinels = NULL;
    e.nseeds = e.nsentinels = 0;
    int bad = (src->host && !e.host) || (src->user && !e.user) || (src->password && !e.password) ||
              (src->master_name && !e.master_name);
    if (!bad && seeds_copy(&e.seeds, src->seeds, src->nseeds) == 0)
        e.nseeds = src->nseeds;
    else
        bad = 1;
    if (!bad && seeds_copy(&e.sentinels, src->sentinels, src->nsentinels) == 0)
        e.nsentinels = src->nsentinels;
    else
        bad = 1;
    if (bad) {
        redisx__endpoint_clear(&e);
        return redisx__fail(REDISX_ERR_NOMEM, "out of memory");
    }
    *dst = e;
    return REDISX_OK;
}

static int hexval(int ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    ch = tolower(ch);
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    return -1;
}

/* Copies [s, s+n) decoding %XX escapes; NULL (with detail) on a bad escape or
 * an escaped NUL. */
static char *decode(const char *s, size_t n, redisx_status *st)
{
    char *out = malloc(n + 1), *o = out;
    if (!out) {
        *st = redisx__fail(REDISX_ERR_NOMEM, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%') {
            if (i + 2 >= n) {
                free(out);
                *st = redisx__fail(REDISX_ERR_URL, "truncated %%-escape in URL");
                return NULL;
            }
            int a = hexval((unsigned char)s[i + 1]), b = hexval((unsigned char)s[i + 2]);
            if (a < 0 || b < 0 || (a == 0 && b == 0)) {
                free(out);
                *st = redisx__fail(REDISX_ERR_URL, "bad %%-escape in URL");
                return NULL;
            }
            *o++ = (char)(a * 16 + b);
            i += 2;
        } else {
            *o++ = s[i];
        }
    }
    *o = '\0';
    return out;
}

static int parse_int(const char *s, size_t n, long min, long max, long *out)
{
    if (n == 0 || n > 10)
        return -1;
    long v = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    if (v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

static const char *scheme_name(const redisx__endpoint *e)
{
    if (e->sentinel)
        return e->tls ? "rediss+sentinel://" : "redis+sentinel://";
    if (e->cluster)
        return e->tls ? "rediss+cluster://" : "redis+cluster://";
    return e->tls ? "rediss://" : "redis://";
}

/* host[:port] or [v6][:port] of n bytes into a fresh *host and *port
 * (def_port when not given). An empty host is 127.0.0.1 when empty_ok. */
static redisx_status parse_hostport(const char *hostp, size_t n, int empty_ok, int def_port, char **host, int *port)
{
    const char *end = hostp + n;
    const char *portp = NULL;
    char *h = NULL;
    long num;
    if (n > 0 && *hostp == '[') {
        const char *rb = memchr(hostp, ']', n);
        if (!rb || rb == hostp + 1)
            return redisx__fail(REDISX_ERR_URL, "unterminated or empty [IPv6] host");
        if (rb + 1 < end && rb[1] != ':')
            return redisx__fail(REDISX_ERR_URL, "junk after ]");
        if (!(h = redisx__memdup(hostp + 1, (size_t)(rb - hostp))))
            return redisx__fail(REDISX_ERR_NOMEM, "out of memory");
        h[rb - hostp - 1] = '\0';
        if (rb + 1 < end)
            portp = rb + 2;
    } else {
        const char *colon = memchr(hostp, ':', n);
        const char *hend = colon ? colon : end;
        if (hend == hostp) {
            if (!empty_ok)
                return redisx__fail(REDISX_ERR_URL, "empty host");
            h = redisx__strdup("127.0.0.1");
        } else {
            h = redisx__memdup(hostp, (size_t)(hend - hostp) + 1);
            if (h)
                h[hend - hostp] = '\0';
        }
        if (!h)
            return redisx__fail(REDISX_ERR_NOMEM, "out of memory");
        if (colon)
            portp = colon + 1;
    }
    int pv = def_port;
    if (portp) {
        if (parse_int(portp, (size_t)(end - portp), 1, 65535, &num) != 0) {
            free(h);
            return redisx__fail(REDISX_ERR_URL, "port must be a number in 1..65535");
        }
        pv = (int)num;
    }
    *host = h;
    *port = pv;
    return REDISX_OK;
}

static void seeds_free(redisx__endpoint *e)
{
    for (size_t i = 0; i < e->nseeds; i++)
        free(e->seeds[i].host);
    free(e->seeds);
    e->seeds = NULL;
    e->nseeds = 0;
}

#define MAX_SEEDS 64

/* "h1:p1,h2:p2,..." (n bytes) into e's seeds; e->host and e->port become
 * copies of the first. */
static redisx_status parse_seed_list(redisx__endpoint *e, const char *s, size_t n)
{
    size_t count = 1;
    for (size_t i = 0; i < n; i++)
        count += s[i] == ',';
    if (count > MAX_SEEDS)
        return redisx__fail(REDISX_ERR_URL, "more than %d cluster seeds", MAX_SEEDS);
    struct redisx__seed *seeds = calloc(count, sizeof *seeds);
    if (!seeds)
        return redisx__fail(REDISX_ERR_NOMEM, "out of memory");
    const char *p = s, *end = s + n;
    for (size_t k = 0; k < count; k++) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *q = comma ? comma : end;
        redisx_status st = q == p ? redisx__fail(REDISX_ERR_URL, "empty host")
                                  : parse_hostport(p, (size_t)(q - p), 0, 6379, &seeds[k].host, &seeds[k].port);
        if (st != REDISX_OK) {
            char why[REDISX__DETAIL];
            redisx__copy_detail(why, sizeof why, redisx__last_error_buf);
            for (size_t i = 0; i < k; i++)
                free(seeds[i].host);
            free(seeds);
            return redisx__fail(st, "cluster seed %zu of %zu (\"%.*s\"): %s", k + 1, count,
                                (int)(q - p > 200 ? 200 : q - p), p, why);
        }
        p = q + 1;
    }
    char *first = redisx__strdup(seeds[0].host);
    if (!first) {
        for (size_t i = 0; i < count; i++)
            free(seeds[i].host);
        free(seeds);
        return redisx__fail(REDISX_ERR_NOMEM, "out of memory");
    }
    seeds_free(e);
    free(e->host);
    e->host = first;
    e->port = seeds[0].port;
    e->seeds = seeds;
    e->nseeds = count;
    e->cluster = 1;
    return REDISX_OK;
}

redisx_status redisx__parse_seeds(redisx__endpoint *ep, const char *list)
{
    if (!list) {
        seeds_free(ep);
        ep->cluster = 0;
        return REDISX_OK;
    }
    if (strlen(list) > 4096)
        return redisx__fail(REDISX_ERR_URL, "seed list longer than 4096 bytes");
    if (ep->is_unix)
        return redisx__fail(REDISX_ERR_URL, "cluster seeds are host:port pairs; the URL names a unix socket");
    if (ep->sentinel)
        return redisx__fail(REDISX_ERR_URL, "cluster seeds with a sentinel URL: a client talks to a cluster or to "
                                            "a master found through Sentinel, not both");
    if (ep->db != 0)
        return redisx__fail(REDISX_ERR_URL, "a cluster has database 0 only, the URL selects database %d", ep->db);
    return parse_seed_list(ep, list, strlen(list));
}

#define MAX_SENTINELS 16

static void sentinels_free(struct redisx__seed *a, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(a[i].host);
    free(a);
}

/* "s1:26379,s2:26379" (n bytes) into a fresh array: every sentinel named
 * once, port 26379 when left out. */
static redisx_status parse_sentinel_list(const char *s, size_t n, struct redisx__seed **out, size_t *nout)
{
    size_t count = 1;
    for (size_t i = 0; i < n; i++)
        count += s[i] == ',';
    if (count > MAX_SENTINELS)
        return redisx__fail(REDISX_ERR_URL, "more than %d sentinels (%zu named)", MAX_SENTINELS, count);
    struct redisx__seed *a = calloc(count, sizeof *a);
    if (!a)
        return redisx__fail(REDISX_ERR_NOMEM, "out of memory");
    const char *p = s, *end = s + n;
    for (size_t k = 0; k < count; k++) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *q = comma ? comma : end;
        redisx_status st = q == p ? redisx__fail(REDISX_ERR_URL, "empty host")
                                  : parse_hostport(p, (size_t)(q - p), 0, 26379, &a[k].host, &a[k].port);
        for (size_t j = 0; st == REDISX_OK && j < k; j++)
            if (a[j].port == a[k].port && strcasecmp(a[j].host, a[k].host) == 0)
                st = redisx__fail(REDISX_ERR_URL, "named twice (also sentinel %zu)", j + 1);
        if (st != REDISX_OK) {
            char why[REDISX__DETAIL];
            redisx__copy_detail(why, sizeof why, redisx__last_error_buf);
            sentinels_free(a, k + 1); /* a[k].host is NULL unless it was a duplicate */
            return redisx__fail(st, "sentinel %zu of %zu (\"%.*s\"): %s", k + 1, count,
                                (int)(q - p > 200 ? 200 : q - p), p, why);
        }
        p = q + 1;
    }
    *out = a;
    *nout = count;
    return REDISX_OK;
}

/* The master's name (n bytes, %-escapes decoded): 1..255 bytes, no space,
 * control character or '/'. */
static redisx_status parse_master_name(const char *s, size_t n, char **out)
{
    if (n == 0)
        return redisx__fail(REDISX_ERR_URL, "the sentinel URL names no master: "
                                            "redis+sentinel://host:26379,host2:26379/<master name>[/db]");
    redisx_status st = REDISX_ERR_URL;
    char *name = decode(s, n, &st);
    if (!name)
        return st;
    size_t len = strlen(name);
    if (len == 0 || len > 255) {
        free(name);
        return redisx__fail(REDISX_ERR_URL, "master name must be 1..255 bytes, got %zu", len);
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)name[i];
        if (ch <= ' ' || ch == 0x7f || ch == '/') {
            free(name);
            return redisx__fail(REDISX_ERR_URL, "master name must not contain spaces, control characters or '/' "
                                                "(byte %zu)", i + 1);
        }
    }
    *out = name;
    return REDISX_OK;
}

/* Turns e into sentinel mode with `name` and the sentinels of list
 * [s, s+n); e->host and e->port become the first sentinel's. */
static redisx_status set_sentinels(redisx__endpoint *e, const char *name, size_t namelen, const char *s, size_t n)
{
    char *master = NULL;
    struct redisx__seed *a = NULL;
    size_t count = 0;
    redisx_status st = parse_master_name(name, namelen, &master);
    if (st != REDISX_OK)
        return st;
    st = parse_sentinel_list(s, n, &a, &count);
    if (st != REDISX_OK) {
        free(master);
        return st;
    }
    char *first = redisx__strdup(a[0].host);
    if (!first) {
        free(master);
        sentinels_free(a, count);
        return redisx__fail(REDISX_ERR_NOMEM, "out of memory");
    }
    sentinels_free(e->sentinels, e->nsentinels);
    free(e->master_name);
    free(e->host);
    e->host = first;
    e->port = a[0].port;
    e->sentinels = a;
    e->nsentinels = count;
    e->master_name = master;
    e->sentinel = 1;
    return REDISX_OK;
}

redisx_status redisx__parse_sentinels(redisx__endpoint *ep, const char *name, const char *list)
{
    if (!name) {
        sentinels_free(ep->sentinels, ep->nsentinels);
        free(ep->master_name);
        ep->sentinels = NULL;
        ep->nsentinels = 0;
        ep->master_name = NULL;
        ep->sentinel = 0;
        return REDISX_OK;
    }
    if (!list || !*list)
        return redisx__fail(REDISX_ERR_URL, "no sentinels named: \"host1:26379,host2:26379\"");
    if (strlen(list) > 4096 || strlen(name) > 4096)
        return redisx__fail(REDISX_ERR_URL, "sentinel list or master name longer than 4096 bytes");
    if (ep->is_unix)
        return redisx__fail(REDISX_ERR_URL, "sentinels are host:port pairs; the URL names a unix socket");
    if (ep->cluster)
        return redisx__fail(REDISX_ERR_URL, "sentinels with a cluster URL: a client talks to a cluster or to a "
                                            "master found through Sentinel, not both");
    return set_sentinels(ep, name, strlen(name), list, strlen(list));
}

redisx_status redisx__parse_url(redisx__endpoint *ep, const char *url)
{
    redisx__endpoint e = {0};
    redisx_status st = REDISX_ERR_URL;
    long num;
    if (!url || !*url)
        return redisx__fail(REDISX_ERR_URL, "empty URL");
    if (strlen(url) > 4096)
        return redisx__fail(REDISX_ERR_URL, "URL longer than 4096 bytes");

    if (strncmp(url, "unix://", 7) == 0) {
        const char *path = url + 7;
        const char *q = strchr(path, '?');
        size_t plen = q ? (size_t)(q - path) : strlen(path);
        if (plen == 0 || path[0] != '/')
            return redisx__fail(REDISX_ERR_URL, "unix URL needs an absolute path: unix:///path/to/redis.sock");
        if (plen >= 108)
            return redisx__fail(REDISX_ERR_URL, "unix socket path longer than 107 bytes");
        e.is_unix = 1;
        if (q) {
            if (strncmp(q, "?db=", 4) != 0 || parse_int(q + 4, strlen(q + 4), 0, 1000000, &num) != 0)
                return redisx__fail(REDISX_ERR_URL, "unix URL accepts only ?db=<number>");
            e.db = (int)num;
        }
        if (!(e.host = decode(path, plen, &st)))
            goto fail;
        redisx__endpoint_clear(ep);
        *ep = e;
        return REDISX_OK;
    }

    const char *p;
    if (strncmp(url, "redis://", 8) == 0) {
        p = url + 8;
    } else if (strncmp(url, "rediss://", 9) == 0) {
        e.tls = 1;
        p = url + 9;
    } else if (strncmp(url, "redis+cluster://", 16) == 0) {
        e.cluster = 1;
        p = url + 16;
    } else if (strncmp(url, "rediss+cluster://", 17) == 0) {
        e.tls = e.cluster = 1;
        p = url + 17;
    } else if (strncmp(url, "redis+sentinel://", 17) == 0) {
        e.sentinel = 1;
        p = url + 17;
    } else if (strncmp(url, "rediss+sentinel://", 18) == 0) {
        e.tls = e.sentinel = 1;
        p = url + 18;
    } else {
        return redisx__fail(REDISX_ERR_URL, redisx__tls_available()
                                                ? "URL must start with redis://, rediss://, redis+cluster://, "
                                                  "rediss+cluster://, redis+sentinel://, rediss+sentinel:// or "
                                                  "unix://"
                                                : "URL must start with redis://, redis+cluster://, "
                                                  "redis+sentinel:// or unix://");
    }
    if (e.tls && !redisx__tls_available())
        return redisx__fail(REDISX_ERR_URL, "%s (TLS) is not supported by this build", scheme_name(&e));
    const char *end = p + strcspn(p, "/?#");
    if (*end == '?' || *end == '#')
        return redisx__fail(REDISX_ERR_URL, "query strings and fragments are not supported in %s URLs",
                            scheme_name(&e));

    /* userinfo: the last '@' before the path, so passwords may contain '@'
     * only when escaped, but a literal one is tolerated too. */
    const char *at = NULL;
    for (const char *s = p; s < end; s++)
        if (*s == '@')
            at = s;
    const char *hostp = p;
    if (at) {
        const char *colon = memchr(p, ':', (size_t)(at - p));
        if (colon) {
            if (colon > p && !(e.user = decode(p, (size_t)(colon - p), &st)))
                goto fail;
            if (!(e.password = decode(colon + 1, (size_t)(at - colon - 1), &st)))
                goto fail;
        } else if (at > p) {
            /* redis://secret@host: a lone userinfo is the password, as in
             * redis-py and go-redis. */
            if (!(e.password = decode(p, (size_t)(at - p), &st)))
                goto fail;
        }
        hostp = at + 1;
        if (e.password && !*e.password) {
            /* redis://:@host, redis://user:@host: no password means no AUTH
             * (as in redis-py and ioredis), not AUTH "" which fails. */
            free(e.password);
            free(e.user);
            e.password = e.user = NULL;
        }
    }

    if (strstr(hostp, "://")) {
        st = redisx__fail(REDISX_ERR_URL, "one scheme per URL: name further %s as host:port after a comma "
                                          "(%s), not as URLs",
                          e.sentinel ? "sentinels" : "cluster seeds",
                          e.sentinel ? "redis+sentinel://host1:26379,host2:26379/mymaster"
                                     : "redis+cluster://host1:7000,host2:7001");
        goto fail;
    }
    if (e.sentinel) {
        /* /<master name>[/<db>] */
        if (*end != '/' || end[1] == '\0') {
            st = parse_master_name(end, 0, &e.master_name);
            goto fail;
        }
        const char *name = end + 1;
        if (strpbrk(name, "?#")) {
            st = redisx__fail(REDISX_ERR_URL, "query strings and fragments are not supported in %s URLs",
                              scheme_name(&e));
            goto fail;
        }
        const char *slash = strchr(name, '/');
        size_t namelen = slash ? (size_t)(slash - name) : strlen(name);
        st = set_sentinels(&e, name, namelen, hostp, (size_t)(end - hostp));
        if (st != REDISX_OK)
            goto fail;
        if (slash) {
            if (parse_int(slash + 1, strlen(slash + 1), 0, 1000000, &num) != 0) {
                st = redisx__fail(REDISX_ERR_URL, "database must be a number: redis+sentinel://host:26379/"
                                                  "<master name>/<db>");
                goto fail;
            }
            e.db = (int)num;
        }
        redisx__endpoint_clear(ep);
        *ep = e;
        return REDISX_OK;
    }
    if (!e.cluster && memchr(hostp, ',', (size_t)(end - hostp))) {
        st = redisx__fail(REDISX_ERR_URL, "several hosts need a cluster URL: %s+cluster://host1:port1,host2:port2",
                          e.tls ? "rediss" : "redis");
        goto fail;
    }
    if (e.cluster) {
        st = parse_seed_list(&e, hostp, (size_t)(end - hostp));
        if (st != REDISX_OK)
            goto fail;
    } else {
        st = parse_hostport(hostp, (size_t)(end - hostp), 1, 6379, &e.host, &e.port);
        if (st != REDISX_OK)
            goto fail;
    }
    if (*end == '/' && end[1] != '\0') {
        if (parse_int(end + 1, strlen(end + 1), 0, 1000000, &num) != 0) {
            st = redisx__fail(REDISX_ERR_URL, "database must be a number: redis://host:port/<db>");
            goto fail;
        }
        e.db = (int)num;
        if (e.cluster && e.db != 0) {
            st = redisx__fail(REDISX_ERR_URL, "a cluster has database 0 only: %s URLs take no /<db> but /0",
                              scheme_name(&e));
            goto fail;
        }
    }
    redisx__endpoint_clear(ep);
    *ep = e;
    return REDISX_OK;
fail:
    redisx__endpoint_clear(&e);
    return st;
}
