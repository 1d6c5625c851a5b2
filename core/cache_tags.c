/* Cache tags: the caller's lists, snapshots and the table of known tag
 * versions (cache_tags.h). Pure: no Redis here; core/cache.c reads and
 * INCRs the tag keys. */
#include "cache_tags.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keys.h"

static int tag_cmp(const void *a, const void *b)
{
    const redisx__tag *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = n ? memcmp(x->p, y->p, n) : 0;
    if (c)
        return c;
    return x->len < y->len ? -1 : x->len > y->len;
}

redisx_status redisx__tags_canon(const struct redisx_tags *tags, redisx__tag **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (!tags || tags->n == 0)
        return REDISX_OK;
    size_t bytes = 0;
    for (size_t i = 0; i < tags->n; i++)
        bytes += tags->v[i].len;
    redisx__tag *v = malloc(tags->n * sizeof *v + bytes + 1);
    if (!v)
        return REDISX_ERR_NOMEM;
    char *o = (char *)(v + tags->n);
    for (size_t i = 0; i < tags->n; i++) {
        memcpy(o, tags->v[i].p, tags->v[i].len);
        v[i] = (redisx__tag){.p = o, .len = tags->v[i].len};
        o += tags->v[i].len;
    }
    qsort(v, tags->n, sizeof *v, tag_cmp);
    size_t k = 0;
    for (size_t i = 0; i < tags->n; i++)
        if (k == 0 || tag_cmp(&v[k - 1], &v[i]) != 0)
            v[k++] = v[i];
    *out = v;
    *n = k;
    return REDISX_OK;
}

char *redisx__snap_encode(const redisx__tag *tags, size_t n, size_t *len)
{
    size_t cap = 1;
    for (size_t i = 0; i < n; i++)
        cap += tags[i].len + 48;
    char *s = malloc(cap), *o = s;
    if (!s)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        o += sprintf(o, "%zu:", tags[i].len);
        memcpy(o, tags[i].p, tags[i].len);
        o += tags[i].len;
        o += sprintf(o, ":%lld;", (long long)tags[i].version);
    }
    *o = '\0';
    *len = (size_t)(o - s);
    return s;
}

/* A decimal number of at most 19 digits ending at `end`; -1 if none. */
static int64_t digits(const char *s, size_t len, size_t *i, char end)
{
    int64_t v = 0;
    size_t start = *i;
    while (*i < len && s[*i] >= '0' && s[*i] <= '9' && *i - start < 19)
        v = v * 10 + (s[(*i)++] - '0');
    if (*i == start || *i >= len || s[*i] != end)
        return -1;
    (*i)++;
    return v;
}

long redisx__snap_parse(const char *snap, size_t len, redisx__tag *out, size_t cap)
{
    size_t i = 0, n = 0;
    while (i < len) {
        int64_t tl = digits(snap, len, &i, ':');
        if (tl < 0 || (size_t)tl > len - i || n == cap)
            return -1;
        const char *p = snap + i;
        i += (size_t)tl;
        if (i >= len || snap[i++] != ':')
            return -1;
        int64_t ver = digits(snap, len, &i, ';');
        if (ver < 0)
            return -1;
        out[n++] = (redisx__tag){.p = p, .len = (size_t)tl, .version = ver};
    }
    return (long)n;
}

char *redisx__tag_key(const char *prefix, const char *kind, const char *tag, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    int raw = len > 0 && tag[0] != REDISX__TAG_ENCODED && !memchr(tag, '}', len) && !memchr(tag, '\0', len);
    size_t lp = strlen(prefix), lk = strlen(kind), lt = raw ? len : 1 + 2 * len;
    char *k = malloc(lp + lk + lt + sizeof "::{}:tag");
    if (!k)
        return NULL;
    char *o = k + sprintf(k, "%s:%s:{", prefix, kind);
    if (raw) {
        memcpy(o, tag, len);
        o += len;
    } else {
        *o++ = REDISX__TAG_ENCODED;
        for (size_t i = 0; i < len; i++) {
            unsigned char b = (unsigned char)tag[i];
            *o++ = hex[b >> 4];
            *o++ = hex[b & 15];
        }
    }
    memcpy(o, "}:tag", sizeof "}:tag");
    return k;
}

/* ---- the table ---------------------------------------------------------------- */

#define BUCKETS 1024u

typedef struct tnode {
    struct tnode *next;
    uint64_t hash;
    int64_t version;
    int tracked;
    size_t len;
    char p[];
} tnode;

struct redisx__tagtab {
    pthread_mutex_t mu;
    atomic_uint_fast64_t seq;
    size_t count;
    tnode *b[BUCKETS];
};

static uint64_t fnv(const char *p, size_t len)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)p[i]) * 1099511628211ull;
    return h;
}

redisx__tagtab *redisx__tagtab_new(void)
{
    redisx__tagtab *t = calloc(1, sizeof *t);
    if (t) {
        pthread_mutex_init(&t->mu, NULL);
        atomic_init(&t->seq, 1);
    }
    return t;
}

static void clear_locked(redisx__tagtab *t)
{
    for (unsigned i = 0; i < BUCKETS; i++) {
        while (t->b[i]) {
            tnode *n = t->b[i]->next;
            free(t->b[i]);
            t->b[i] = n;
        }
    }
    t->count = 0;
}

void redisx__tagtab_free(redisx__tagtab *t)
{
    if (!t)
        return;
    clear_locked(t);
    pthread_mutex_destroy(&t->mu);
    free(t);
}

static tnode **find(redisx__tagtab *t, const char *p, size_t len, uint64_t h)
{
    tnode **pp = &t->b[h % BUCKETS];
    for (; *pp; pp = &(*pp)->next)
        if ((*pp)->hash == h && (*pp)->len == len && memcmp((*pp)->p, p, len) == 0)
            break;
    return pp;
}

bool redisx__tagtab_get(redisx__tagtab *t, const char *p, size_t len, int tracked_only, int64_t *version)
{
    uint64_t h = fnv(p, len);
    pthread_mutex_lock(&t->mu);
    tnode *n = *find(t, p, len, h);
    bool ok = n && (!tracked_only || n->tracked);
    if (ok)
        *version = n->version;
    pthread_mutex_unlock(&t->mu);
    return ok;
}

void redisx__tagtab_put(redisx__tagtab *t, const char *p, size_t len, int64_t version, int tracked)
{
    uint64_t h = fnv(p, len);
    pthread_mutex_lock(&t->mu);
    tnode **pp = find(t, p, len, h);
    if (*pp) {
        if (version >= (*pp)->version) {
            (*pp)->tracked = version > (*pp)->version ? tracked : ((*pp)->tracked || tracked);
            (*pp)->version = version;
        }
    } else {
        if (t->count >= REDISX__TAGTAB_MAX) {
            clear_locked(t);
            atomic_fetch_add(&t->seq, 1);
            pp = find(t, p, len, h);
        }
        tnode *n = malloc(sizeof *n + len);
        if (n) { /* out of memory: the tag stays unknown (an L2 read next time) */
            *n = (tnode){.hash = h, .version = version, .tracked = tracked, .len = len};
            memcpy(n->p, p, len);
            *pp = n;
            t->count++;
        }
    }
    pthread_mutex_unlock(&t->mu);
}

void redisx__tagtab_drop(redisx__tagtab *t, const char *p, size_t len)
{
    uint64_t h = fnv(p, len);
    pthread_mutex_lock(&t->mu);
    atomic_fetch_add(&t->seq, 1);
    tnode **pp = find(t, p, len, h);
    if (*pp) {
        tnode *n = *pp;
        *pp = n->next;
        free(n);
        t->count--;
    }
    pthread_mutex_unlock(&t->mu);
}

void redisx__tagtab_clear(redisx__tagtab *t)
{
    pthread_mutex_lock(&t->mu);
    atomic_fetch_add(&t->seq, 1);
    clear_locked(t);
    pthread_mutex_unlock(&t->mu);
}

uint64_t redisx__tagtab_seq(redisx__tagtab *t)
{
    return atomic_load(&t->seq);
}

size_t redisx__tagtab_count(redisx__tagtab *t)
{
    pthread_mutex_lock(&t->mu);
    size_t n = t->count;
    pthread_mutex_unlock(&t->mu);
    return n;
}

/* ---- the caller's lists (redisx_tags) ----------------------------------------------- */

#include "internal.h"

redisx_status redisx__tags_new(redisx_tags **out)
{
    *out = calloc(1, sizeof **out);
    return *out ? REDISX_OK : redisx__fail(REDISX_ERR_NOMEM, "out of memory");
}

redisx_status redisx__tags_add(redisx_tags *tags, const void *tag, size_t len)
{
    if (tags->n == tags->cap) {
        size_t cap = tags->cap ? tags->cap * 2 : 4;
        redisx__tag *v = realloc(tags->v, cap * sizeof *v);
        if (!v)
            return redisx__fail(REDISX_ERR_NOMEM, "out of memory");
        tags->v = v;
        tags->cap = cap;
    }
    char *p = malloc(len ? len : 1);
    if (!p)
        return redisx__fail(REDISX_ERR_NOMEM, "out of memory");
    memcpy(p, tag, len);
    tags->v[tags->n++] = (redisx__tag){.p = p, .len = len};
    return REDISX_OK;
}

size_t redisx__tags_count(const redisx_tags *tags)
{
    return tags->n;
}

void redisx__tags_free(redisx_tags *tags)
{
    for (size_t i = 0; i < tags->n; i++)
        free((char *)tags->v[i].p);
    free(tags->v);
    free(tags);
}
