/* The URL parser: redisx__parse_url() on arbitrary bytes, then the public
 * paths that parse a URL (redisx_options_set_url, and the error path of
 * redisx_client_open_url, which returns before any thread or socket when the
 * URL is refused). An accepted URL must give a sane endpoint that, written
 * back as a URL, parses to the same endpoint. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define CHECK(cond)                                                                 \
    do {                                                                            \
        if (!(cond)) {                                                              \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            abort();                                                                \
        }                                                                           \
    } while (0)

static int same(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* Appends s, escaping the bytes in `esc` (and '%') as %XX. */
static void put(char *out, size_t *n, const char *s, const char *esc)
{
    for (; *s; s++) {
        if (*s == '%' || strchr(esc, *s))
            *n += (size_t)sprintf(out + *n, "%%%02X", (unsigned char)*s);
        else
            out[(*n)++] = *s;
    }
    out[*n] = '\0';
}

/* The endpoint written back as a URL, escaping only what must be escaped
 * (so it is never longer than the URL it came from, but for the defaults). */
static char *unparse(const redisx__endpoint *ep)
{
    size_t cap = 3 * (strlen(ep->host) + (ep->user ? strlen(ep->user) : 0) +
                      (ep->password ? strlen(ep->password) : 0)) + 64;
    char *out = malloc(cap);
    size_t n = 0;
    CHECK(out);
    if (ep->is_unix) {
        n = (size_t)sprintf(out, "unix://");
        put(out, &n, ep->host, "?");
        if (ep->db)
            n += (size_t)sprintf(out + n, "?db=%d", ep->db);
        return out;
    }
    n = (size_t)sprintf(out, "redis://");
    if (ep->user || ep->password) {
        if (ep->user)
            put(out, &n, ep->user, ":/?#");
        out[n++] = ':';
        out[n] = '\0';
        if (ep->password)
            put(out, &n, ep->password, "/?#");
        out[n++] = '@';
        out[n] = '\0';
    }
    if (strchr(ep->host, ':') || ep->host[0] == '[')
        n += (size_t)sprintf(out + n, "[%s]", ep->host);
    else
        n += (size_t)sprintf(out + n, "%s", ep->host);
    n += (size_t)sprintf(out + n, ":%d/%d", ep->port, ep->db);
    return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *url = malloc(size + 1);
    CHECK(url);
    memcpy(url, data, size);
    url[size] = '\0'; /* the API takes C strings: an inner NUL ends the URL */

    redisx__endpoint ep = {0};
    redisx_status st = redisx__parse_url(&ep, url);
    if (st == REDISX_OK) {
        CHECK(ep.host != NULL);
        CHECK(ep.db >= 0 && ep.db <= 1000000);
        if (ep.is_unix) {
            CHECK(ep.host[0] == '/' && strlen(ep.host) < 108);
            CHECK(!ep.user && !ep.password && ep.port == 0);
        } else {
            CHECK(ep.port >= 1 && ep.port <= 65535);
            CHECK(ep.host[0] != '\0');
        }
        /* A copy is equal; a second parse into a used endpoint frees the old
         * content (LeakSanitizer would say otherwise). */
        redisx__endpoint copy = {0};
        CHECK(redisx__endpoint_copy(&copy, &ep) == REDISX_OK);
        char *again = unparse(&ep);
        if (strlen(again) <= 4096) {
            CHECK(redisx__parse_url(&copy, again) == REDISX_OK);
            if (!(same(copy.host, ep.host) && same(copy.user, ep.user) && same(copy.password, ep.password) &&
                  copy.port == ep.port && copy.db == ep.db && copy.is_unix == ep.is_unix)) {
                fprintf(stderr, "round trip differs: %s -> %s\n", url, again);
                abort();
            }
        }
        free(again);
        redisx__endpoint_clear(&copy);
        CHECK(!copy.host);
    } else {
        CHECK(st == REDISX_ERR_URL || st == REDISX_ERR_NOMEM);
        CHECK(redisx_last_error()[0] != '\0');
        CHECK(ep.host == NULL && ep.user == NULL && ep.password == NULL);
    }
    redisx__endpoint_clear(&ep);

    /* The public setter agrees with the parser and leaves a failed handle
     * as it was. */
    redisx_options *o = NULL;
    CHECK(redisx_options_new(&o) == REDISX_OK);
    CHECK(redisx_options_set_url(o, url) == st);
    if (st != REDISX_OK)
        CHECK(strcmp(o->ep.host, "127.0.0.1") == 0 && o->ep.port == 6379);
    redisx_options_free(o);

    /* Opening a client starts a thread and connects: only the refusal. */
    if (st != REDISX_OK) {
        redisx_client *c = (redisx_client *)&st;
        CHECK(redisx_client_open_url(&c, url) == st);
        CHECK(c == NULL);
    }
    free(url);
    return 0;
}
