/* Redis URL parsing: redis://[user[:password]@]host[:port][/db],
 * rediss://... (the same over TLS, in a build with TLS) and
 * unix:///path.sock[?db=N]. Pure logic, unit-tested in tests/c/test_url.c. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

void redisx__endpoint_clear(redisx__endpoint *ep)
{
    free(ep->host);
    free(ep->user);
    free(ep->password);
    memset(ep, 0, sizeof *ep);
}

redisx_status redisx__endpoint_copy(redisx__endpoint *dst, const redisx__endpoint *src)
{
    redisx__endpoint e = *src;
    e.host = redisx__strdup(src->host);
    e.user = redisx__strdup(src->user);
    e.password = redisx__strdup(src->password);
    if ((src->host && !e.host) || (src->user && !e.user) || (src->password && !e.password)) {
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
        if (!redisx__tls_available())
            return redisx__fail(REDISX_ERR_URL, "rediss:// (TLS) is not supported by this build");
        e.tls = 1;
        p = url + 9;
    } else {
        return redisx__fail(REDISX_ERR_URL, redisx__tls_available()
                                                ? "URL must start with redis://, rediss:// or unix://"
                                                : "URL must start with redis:// or unix://");
    }
    const char *end = p + strcspn(p, "/?#");
    if (*end == '?' || *end == '#')
        return redisx__fail(REDISX_ERR_URL, "query strings and fragments are not supported in %s URLs",
                            e.tls ? "rediss://" : "redis://");

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

    const char *portp = NULL;
    if (*hostp == '[') {
        const char *rb = memchr(hostp, ']', (size_t)(end - hostp));
        if (!rb || rb == hostp + 1) {
            st = redisx__fail(REDISX_ERR_URL, "unterminated or empty [IPv6] host");
            goto fail;
        }
        if (!(e.host = redisx__memdup(hostp + 1, (size_t)(rb - hostp)))) {
            st = redisx__fail(REDISX_ERR_NOMEM, "out of memory");
            goto fail;
        }
        e.host[rb - hostp - 1] = '\0';
        if (rb + 1 < end) {
            if (rb[1] != ':') {
                st = redisx__fail(REDISX_ERR_URL, "junk after ]");
                goto fail;
            }
            portp = rb + 2;
        }
    } else {
        const char *colon = memchr(hostp, ':', (size_t)(end - hostp));
        const char *hend = colon ? colon : end;
        if (hend == hostp) {
            e.host = redisx__strdup("127.0.0.1");
        } else {
            e.host = redisx__memdup(hostp, (size_t)(hend - hostp) + 1);
            if (e.host)
                e.host[hend - hostp] = '\0';
        }
        if (!e.host) {
            st = redisx__fail(REDISX_ERR_NOMEM, "out of memory");
            goto fail;
        }
        if (colon)
            portp = colon + 1;
    }
    e.port = 6379;
    if (portp) {
        if (parse_int(portp, (size_t)(end - portp), 1, 65535, &num) != 0) {
            st = redisx__fail(REDISX_ERR_URL, "port must be a number in 1..65535");
            goto fail;
        }
        e.port = (int)num;
    }
    if (*end == '/' && end[1] != '\0') {
        if (parse_int(end + 1, strlen(end + 1), 0, 1000000, &num) != 0) {
            st = redisx__fail(REDISX_ERR_URL, "database must be a number: redis://host:port/<db>");
            goto fail;
        }
        e.db = (int)num;
    }
    redisx__endpoint_clear(ep);
    *ep = e;
    return REDISX_OK;
fail:
    redisx__endpoint_clear(&e);
    return st;
}
