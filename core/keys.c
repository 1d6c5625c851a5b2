/* Hash tags of user-supplied names (docs/KEYS.md, "Layout").
 *
 * Redis Cluster hashes the text between the first '{' of a key and the first
 * '}' after it, unless that text is empty (then the whole key). A name put
 * raw between braces breaks that when it is empty, contains '}' (the tag
 * ends early: "}bob" gives an empty tag, "a}b" the tag "a", and the keys
 * "...{a}b}" and "...{a}b}:fence" no longer share it), so such names are
 * hex-encoded behind a marker instead. The marker is refused as the first
 * byte of a raw tag, so no raw tag equals an encoded one and the mapping
 * stays injective. Ordinary names keep the keys they had in contract v1. */
#include "keys.h"

#include <stdlib.h>
#include <string.h>

static int tag_is_raw(const char *name)
{
    return name[0] != '\0' && name[0] != REDISX__TAG_ENCODED && !strchr(name, '}');
}

size_t redisx__tag_len(const char *name)
{
    size_t n = strlen(name);
    return tag_is_raw(name) ? n : 1 + 2 * n;
}

void redisx__tag_write(char *out, const char *name)
{
    static const char hex[] = "0123456789abcdef";
    size_t n = strlen(name);
    if (tag_is_raw(name)) {
        memcpy(out, name, n);
        return;
    }
    *out++ = REDISX__TAG_ENCODED;
    for (size_t i = 0; i < n; i++) {
        unsigned char b = (unsigned char)name[i];
        *out++ = hex[b >> 4];
        *out++ = hex[b & 15];
    }
}

char *redisx__key_build(const char *prefix, const char *kind, const char *name, const char *suffix)
{
    size_t lp = strlen(prefix), lk = strlen(kind), lt = redisx__tag_len(name), ls = strlen(suffix);
    char *k = malloc(lp + 1 + lk + 2 + lt + 1 + ls + 1);
    if (!k)
        return NULL;
    char *o = k;
    memcpy(o, prefix, lp);
    o += lp;
    *o++ = ':';
    memcpy(o, kind, lk);
    o += lk;
    *o++ = ':';
    *o++ = '{';
    redisx__tag_write(o, name);
    o += lt;
    *o++ = '}';
    memcpy(o, suffix, ls);
    o[ls] = '\0';
    return k;
}
