/* Our reply type (hiredis' never leaves conn.c). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* A script's reply is an array of a few integers and strings: its parts are
 * carved out of a few chunks owned by the root instead of one malloc (and
 * one free) each. */
typedef struct redisx__arena {
    struct redisx__arena *next;
    size_t used, cap;
    max_align_t data[];
} redisx__arena;

#define ARENA_FIRST 512
#define ARENA_MAX 65536
#define ARENA_PART_MAX 1024 /* larger parts (long strings) get their own block */

static void *arena_alloc(redisx_reply *root, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    redisx__arena *a = root->arena;
    if (!a || a->used + n > a->cap) {
        size_t cap = a ? a->cap * 2 : ARENA_FIRST;
        if (cap > ARENA_MAX)
            cap = ARENA_MAX;
        if (cap < n)
            cap = n;
        redisx__arena *na = malloc(sizeof *na + cap);
        if (!na)
            return NULL;
        na->next = a;
        na->used = 0;
        na->cap = cap;
        root->arena = na;
        a = na;
    }
    void *p = (char *)a->data + a->used;
    a->used += n;
    return p;
}

/* A root array carries its first chunk inline: one allocation for a whole
 * script answer of a few elements. */
#define INLINE_OFFSET ((sizeof(redisx_reply) + 15) & ~(size_t)15)

static int chunk_inline(const redisx_reply *r, const redisx__arena *a)
{
    return (const char *)a == (const char *)r + INLINE_OFFSET;
}

redisx_reply *redisx__reply_new(redisx_reply *root, redisx_reply_type type, size_t strbytes)
{
    if (!root && type == REDISX_REPLY_ARRAY) {
        redisx_reply *r = malloc(INLINE_OFFSET + sizeof(redisx__arena) + ARENA_FIRST);
        if (!r)
            return NULL;
        memset(r, 0, sizeof *r);
        r->type = type;
        redisx__arena *a = (redisx__arena *)((char *)r + INLINE_OFFSET);
        a->next = NULL;
        a->used = 0;
        a->cap = ARENA_FIRST;
        r->arena = a;
        return r;
    }
    size_t extra = strbytes ? strbytes + 1 : 0;
    if (extra && strbytes > SIZE_MAX - sizeof(redisx_reply) - 1)
        return NULL;
    size_t n = sizeof(redisx_reply) + extra;
    redisx_reply *r;
    int in_arena = root && n <= ARENA_PART_MAX;
    r = in_arena ? arena_alloc(root, n) : malloc(n);
    if (!r)
        return NULL;
    memset(r, 0, sizeof *r);
    r->type = type;
    r->in_arena = (unsigned char)in_arena;
    if (extra)
        r->str = (char *)(r + 1);
    return r;
}

redisx_reply **redisx__reply_slots(redisx_reply *root, size_t n)
{
    redisx_reply **el = arena_alloc(root, n * sizeof *el);
    if (el)
        memset(el, 0, n * sizeof *el);
    return el;
}

static void release_parts(redisx_reply *r)
{
    for (size_t i = 0; i < r->cap; i++) { /* a partial array has fewer */
        redisx_reply *e = r->element[i];
        if (!e)
            continue;
        release_parts(e);
        if (!e->in_arena)
            free(e);
    }
    if (!r->slots_in_arena)
        free(r->element);
}

void redisx__reply_free(redisx_reply *r)
{
    if (!r || r->in_arena)
        return; /* a part: freed with its root */
    release_parts(r);
    for (redisx__arena *a = r->arena; a;) {
        redisx__arena *next = a->next;
        if (!chunk_inline(r, a))
            free(a);
        a = next;
    }
    free(r);
}

bool redisx__reply_is_error(const redisx_reply *r, const char *prefix)
{
    if (!r || r->type != REDISX_REPLY_ERROR)
        return false;
    size_t n = strlen(prefix);
    return r->len >= n && memcmp(r->str, prefix, n) == 0;
}

/* Integer element i of an array reply, or `fallback`. */
int64_t redisx__reply_int_at(const redisx_reply *r, size_t i, int64_t fallback)
{
    if (!r || r->type != REDISX_REPLY_ARRAY || i >= r->elements || r->element[i]->type != REDISX_REPLY_INTEGER)
        return fallback;
    return r->element[i]->integer;
}

bool redisx__connection_failure(redisx_status st)
{
    return st == REDISX_ERR_CONNECTION || st == REDISX_ERR_TIMEOUT || st == REDISX_ERR_AUTH;
}

redisx_status redisx__unexpected_reply(const redisx_reply *r, const char *script)
{
    if (r && r->type == REDISX_REPLY_ERROR)
        return redisx__fail(REDISX_ERR_SERVER, "%s: %s", script, r->str);
    return redisx__fail(REDISX_ERR_PROTOCOL, "%s: unexpected reply type %d", script, r ? (int)r->type : -1);
}
