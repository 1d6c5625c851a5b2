/* redisx core — cache tags (internal): the caller's tag lists, the tag
 * snapshot stored with a tagged entry, and each cache's table of known tag
 * versions. See docs/CACHE.md, "Tags", and docs/KEYS.md (contract v5).
 *
 * A tag's version is the integer in {prefix}:cache:<cache>:{<tag>}:tag
 * (absent: 0), INCRed by every invalidation, so versions only grow. A
 * tagged entry carries the versions of its tags read before its value was
 * loaded or set (the snapshot); it is valid while every one of them is
 * still current. */
#ifndef REDISX_CORE_CACHE_TAGS_H
#define REDISX_CORE_CACHE_TAGS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "redisx/errors.h"

/* One tag: bytes (binary, NUL allowed) and, in a snapshot, its version. */
typedef struct redisx__tag {
    const char *p;
    size_t len;
    int64_t version;
} redisx__tag;

/* The caller's list (redisx_tags): copies, in the order added. */
struct redisx_tags {
    size_t n, cap;
    redisx__tag *v; /* p malloc'd */
};

/* A sorted, duplicate-free copy of tags (one allocation: *out, then the
 * bytes). 0 tags: *out NULL, *n 0. REDISX_ERR_NOMEM. */
redisx_status redisx__tags_canon(const struct redisx_tags *tags, redisx__tag **out, size_t *n);

/* The snapshot of n tags with their versions: for each, in order,
 * "<len>:<bytes>:<version>;" (binary-safe). malloc'd, *len set; NULL on
 * out of memory. */
char *redisx__snap_encode(const redisx__tag *tags, size_t n, size_t *len);
/* Parses a snapshot into at most cap tags pointing into snap; the count,
 * or -1 when it is not one (a foreign or damaged field: treated as dead). */
long redisx__snap_parse(const char *snap, size_t len, redisx__tag *out, size_t cap);

/* A tag key: "<prefix>:<kind>:{<tag>}:tag" with the tag raw when it is not
 * empty, holds no '}' or NUL and does not start with '~', else '~' and its
 * hex (docs/KEYS.md, "Layout"). malloc'd; NULL on out of memory. */
char *redisx__tag_key(const char *prefix, const char *kind, const char *tag, size_t len);

/* The table of tag versions a cache knows (thread-safe). A version is
 * "tracked" when it was read where Redis will tell this process of its
 * next change (client tracking or the fallback channel): only those stand
 * in for a read of the tag's key. Bounded: when full it is emptied (its
 * entries cost L2 reads again, nothing more). */
typedef struct redisx__tagtab redisx__tagtab;
redisx__tagtab *redisx__tagtab_new(void);
void redisx__tagtab_free(redisx__tagtab *t);
/* The known version (any, or tracked only); false when unknown. */
bool redisx__tagtab_get(redisx__tagtab *t, const char *p, size_t len, int tracked_only, int64_t *version);
/* Records a version: the greater of it and the known one wins (versions
 * only grow); the tracked flag is the new read's when it moves the version
 * or confirms it. */
void redisx__tagtab_put(redisx__tagtab *t, const char *p, size_t len, int64_t version, int tracked);
/* Forgets a tag (its key changed, or is about to) / every tag. Each bumps
 * the sequence. */
void redisx__tagtab_drop(redisx__tagtab *t, const char *p, size_t len);
void redisx__tagtab_clear(redisx__tagtab *t);
/* Changes with every drop and clear: a read of versions sent before a
 * drop must not record what it read (the drop may have overtaken it). */
uint64_t redisx__tagtab_seq(redisx__tagtab *t);
size_t redisx__tagtab_count(redisx__tagtab *t);

/* Bounds (also in redisx/cache.h). */
#define REDISX__TAGTAB_MAX 65536

#endif
