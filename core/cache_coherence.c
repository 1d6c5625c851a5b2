/* The cache's coherence: reading tag versions (for tagged writes and for
 * reads of tagged entries), invalidate_tags (one INCR per tag), and the
 * invalidations Redis sends (client tracking, the fallback channel), which
 * drop L1 copies and known tag versions. See docs/CACHE.md, "Tags" and
 * "The L1 in the cache, and its coherence". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache_impl.h"
#include "cluster.h"

/* ---- reading tag versions ---------------------------------------------------------- */

/* One GET per tag key, all sent at once (pipelined; on a cluster each goes
 * to its key's node, so one round trip per node whatever the count). done
 * runs once on the I/O thread with the versions in vr->tags[i].version. */
/* A read whose Redis will tell this process of the key's next change. */
static int read_tracked(redisx_cache *cache, uint64_t track_gen)
{
    return cache->cfg.tracking && cache->l1 && redisx__tracking_current(cache->client, track_gen) &&
           (!redisx__tracking_fallback(cache->client) || atomic_load(&cache->fb_ready));
}

static void vers_reply(redisx__cmd *cmd, redisx_status st, redisx_reply *r)
{
    redisx__vers_slot *slot = cmd->ctx;
    redisx__vers_read *vr = slot->vr;
    uint64_t gen = cmd->track_gen;
    redisx__cmd_free(cmd);
    redisx_cache *cache = vr->cache;
    if (st == REDISX_OK && r->type == REDISX_REPLY_NIL) {
        vr->tags[slot->i].version = 0; /* never invalidated */
    } else if (st == REDISX_OK && r->type == REDISX_REPLY_STRING) {
        vr->tags[slot->i].version = strtoll(r->str, NULL, 10);
    } else if (vr->st == REDISX_OK) {
        vr->st = st != REDISX_OK ? st : redisx__unexpected_reply(r, "GET of a cache tag");
    }
    if (!read_tracked(cache, gen))
        vr->tracked = 0;
    redisx__reply_free(r);
    if (--vr->pending)
        return;
    if (vr->st == REDISX_OK && redisx__tagtab_seq(cache->tags) == vr->seq)
        for (size_t i = 0; i < vr->n; i++)
            redisx__tagtab_put(cache->tags, vr->tags[i].p, vr->tags[i].len, vr->tags[i].version, vr->tracked);
    vr->done(vr->ctx, vr->st, vr);
    redisx__cache_unref(cache);
    free(vr);
}

/* Reads the versions of n tags; on REDISX_OK done will run (the tags'
 * bytes must live until then). */
redisx_status redisx__cache_vers_read(redisx_cache *cache, const redisx__tag *tags, size_t n, redisx__vers_done_fn done,
                                     void *ctx)
{
    redisx__vers_read *vr = calloc(1, sizeof *vr + n * (sizeof(redisx__vers_slot) + sizeof(redisx__tag)));
    if (!vr)
        return redisx__fail(REDISX_ERR_NOMEM, "out of memory");
    vr->tags = (redisx__tag *)(vr->slots + n);
    const char *prefix = redisx__client_options(cache->client)->prefix;
    redisx__cmd *cmds[REDISX_CACHE_TAGS_MAX];
    for (size_t i = 0; i < n; i++) {
        vr->tags[i] = tags[i];
        vr->slots[i] = (redisx__vers_slot){vr, i};
        char *key = redisx__tag_key(prefix, cache->kind, tags[i].p, tags[i].len);
        const char *argv[] = {"GET", key};
        cmds[i] = key ? redisx__cmd_argv(2, argv, NULL) : NULL;
        if (cmds[i]) {
            cmds[i]->slot = redisx__slot_of(key, strlen(key));
            cmds[i]->slot_known = 1;
            cmds[i]->fn = vers_reply;
            cmds[i]->ctx = &vr->slots[i];
        }
        free(key);
        if (!cmds[i]) {
            while (i > 0)
                redisx__cmd_free(cmds[--i]);
            free(vr);
            return redisx__fail(REDISX_ERR_NOMEM, "out of memory");
        }
    }
    cache_ref(cache);
    vr->cache = cache;
    vr->n = vr->pending = n;
    vr->tracked = 1;
    vr->seq = redisx__tagtab_seq(cache->tags);
    vr->done = done;
    vr->ctx = ctx;
    for (size_t i = 0; i < n; i++)
        redisx__submit(cache->client, cmds[i]);
    return REDISX_OK;
}

/* ---- invalidate_tags ------------------------------------------------------------------ */

/* One INCR per tag key, all sent at once: one round trip per node,
 * whatever the number of entries carrying the tags. Entries are never
 * touched: each one's snapshot stops matching (docs/CACHE.md, "Tags"). */
typedef struct inval_op inval_op;
typedef struct inval_slot {
    inval_op *op;
    size_t i;
} inval_slot;
struct inval_op {
    redisx__req req;
    redisx_cache *cache;
    redisx_client *c;
    size_t n, pending;
    redisx_status st;
    redisx_status_cb cb;
    void *user;
    redisx__tag *tags;
    inval_slot slots[];
};

/* The fallback channel's message for a tag: a NUL, then the tag (a
 * caller's key never holds a NUL, so readers tell the two apart). */
static void publish_tag(redisx_cache *cache, const redisx__tag *t)
{
    char *msg = malloc(t->len + 1);
    if (!msg)
        return;
    msg[0] = '\0';
    memcpy(msg + 1, t->p, t->len);
    redisx__cache_fb_publish(cache, msg, t->len + 1);
    free(msg);
}

/* A tag's new version (version > 0) or its drop (0) in every cache of this
 * name on the client: two caches of one name in one process (two Cache
 * objects of a binding) see one invalidation alike. */
static void tag_moved(redisx_cache *cache, const redisx__tag *t, int64_t version)
{
    redisx_cache **head = redisx__client_caches_lock(cache->client);
    for (redisx_cache *o = *head; o; o = o->next) {
        if (strcmp(o->name, cache->name) != 0)
            continue;
        if (version > 0)
            redisx__tagtab_put(o->tags, t->p, t->len, version, 0);
        else
            redisx__tagtab_drop(o->tags, t->p, t->len);
    }
    redisx__client_caches_unlock(cache->client);
}

static void inval_empty(redisx__cmd *cmd, redisx_status st, redisx_reply *r)
{
    (void)st;
    redisx__reply_free(r);
    inval_op *op = cmd->ctx;
    redisx__cmd_free(cmd);
    redisx_cache *cache = op->cache;
    redisx__req_finish(&op->req, REDISX_OK, 0);
    redisx__deliver_status(op->c, op->cb, op->user, REDISX_OK);
    free(op);
    redisx__cache_unref(cache);
}

static void inval_reply(redisx__cmd *cmd, redisx_status st, redisx_reply *r)
{
    inval_slot *slot = cmd->ctx;
    inval_op *op = slot->op;
    redisx__cmd_free(cmd);
    redisx_cache *cache = op->cache;
    const redisx__tag *t = &op->tags[slot->i];
    if (st == REDISX_OK && r->type == REDISX_REPLY_INTEGER) {
        /* Known at once, so this process's copies stop matching now; not
         * tracked (a write): under tracking the next read confirms it. */
        tag_moved(cache, t, r->integer > 0 ? r->integer : 1);
        publish_tag(cache, t);
    } else if (op->st == REDISX_OK) {
        op->st = st != REDISX_OK ? st : redisx__unexpected_reply(r, "INCR of a cache tag");
    }
    redisx__reply_free(r);
    if (--op->pending)
        return;
    redisx__req_finish(&op->req, op->st, 0);
    redisx__deliver_status(op->c, op->cb, op->user, op->st);
    free(op->tags);
    free(op);
    redisx__cache_unref(cache);
}

redisx_status redisx__cache_invalidate_tags_async(redisx_cache *cache, const redisx_tags *tags, redisx_status_cb cb,
                                                  void *user)
{
    redisx_status st = redisx__cache_ready(cache);
    if (st != REDISX_OK)
        return st;
    redisx__tag *v = NULL;
    size_t n = 0;
    if (redisx__tags_canon(tags, &v, &n) != REDISX_OK)
        return redisx__fail(REDISX_ERR_NOMEM, "out of memory");
    inval_op *op = calloc(1, sizeof *op + (n ? n : 1) * sizeof(inval_slot));
    redisx__cmd **cmds = calloc(n ? n : 1, sizeof *cmds);
    if (!op || !cmds) {
        free(v);
        free(op);
        free(cmds);
        return redisx__fail(REDISX_ERR_NOMEM, "out of memory");
    }
    const char *prefix = redisx__client_options(cache->client)->prefix;
    for (size_t i = 0; i < n; i++) {
        op->slots[i] = (inval_slot){op, i};
        char *key = redisx__tag_key(prefix, cache->kind, v[i].p, v[i].len);
        const char *argv[] = {"INCR", key};
        cmds[i] = key ? redisx__cmd_argv(2, argv, NULL) : NULL;
        if (cmds[i]) {
            cmds[i]->slot = redisx__slot_of(key, strlen(key));
            cmds[i]->slot_known = 1;
            cmds[i]->fn = inval_reply;
            cmds[i]->ctx = &op->slots[i];
        }
        free(key);
        if (!cmds[i]) {
            while (i > 0)
                redisx__cmd_free(cmds[--i]);
            free(cmds);
            free(v);
            free(op);
            return redisx__fail(REDISX_ERR_NOMEM, "out of memory");
        }
    }
    cache_ref(cache);
    op->cache = cache;
    op->c = cache->client;
    op->tags = v;
    op->n = op->pending = n;
    op->cb = cb;
    op->user = user;
    redisx__req_init(&op->req, cache->client, REDISX__OP_CACHE_INVALIDATE_TAGS, cache->name);
    op->req.named = cache->named;
    if (n == 0) {
        free(cmds);
        redisx__cmd *task = redisx__cmd_task();
        if (!task) {
            redisx__req_finish(&op->req, REDISX_ERR_NOMEM, 0);
            free(op);
            redisx__cache_unref(cache);
            return redisx__fail(REDISX_ERR_NOMEM, "out of memory");
        }
        /* Nothing to invalidate: completes on the I/O thread as any call. */
        op->pending = 1;
        op->slots[0] = (inval_slot){op, 0};
        task->fn = inval_empty;
        task->ctx = op;
        redisx__submit(cache->client, task);
        return REDISX_OK;
    }
    /* This process stops serving the tags' copies now: a hit needs its
     * tags' versions known, and a read sent from here on must not record
     * a version read before the INCR. */
    for (size_t i = 0; i < n; i++)
        tag_moved(cache, &v[i], 0);
    for (size_t i = 0; i < n; i++)
        redisx__submit(cache->client, cmds[i]);
    free(cmds);
    return REDISX_OK;
}

/* ---- client tracking: invalidations from Redis (conn.c calls these) --------------- */

static int hexval(char ch)
{
    return ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

/* The name in the hash tag of "{prefix}:cache:<name>:{<tag>}" (nothing
 * after the '}'), decoded into out (*olen bytes, binary); 0 if it is not one. */
static int tag_decode(const redisx_cache *cache, const char *key, size_t len, char *out, size_t cap, size_t *olen)
{
    const char *prefix = redisx__client_options(cache->client)->prefix;
    size_t lp = strlen(prefix), lk = strlen(cache->kind);
    size_t head = lp + 1 + lk + 2;
    if (len < head + 2 || key[len - 1] != '}' || memcmp(key, prefix, lp) != 0 || key[lp] != ':' ||
        memcmp(key + lp + 1, cache->kind, lk) != 0 || key[lp + 1 + lk] != ':' || key[lp + lk + 2] != '{')
        return 0;
    const char *tag = key + head;
    size_t tl = len - head - 1;
    if (tag[0] != '~') {
        if (tl >= cap || memchr(tag, '}', tl))
            return 0;
        memcpy(out, tag, tl);
        *olen = tl;
        return 1;
    }
    if ((tl - 1) % 2 != 0 || (tl - 1) / 2 >= cap)
        return 0;
    size_t n = (tl - 1) / 2;
    for (size_t i = 0; i < n; i++) {
        int hi = hexval(tag[1 + 2 * i]), lo = hexval(tag[2 + 2 * i]);
        if (hi < 0 || lo < 0)
            return 0;
        out[i] = (char)(hi << 4 | lo);
    }
    *olen = n;
    return 1;
}

/* The caller's key of a Redis key of this cache ("{prefix}:cache:<name>:{<tag>}",
 * not a lease, a tag or another kind), into out (NUL-terminated); 0 if it is
 * not one. */
static int key_name_of(const redisx_cache *cache, const char *key, size_t len, char *out, size_t cap)
{
    size_t n = 0;
    if (!tag_decode(cache, key, len, out, cap - 1, &n) || memchr(out, '\0', n))
        return 0;
    out[n] = '\0';
    return 1;
}

/* The tag of a tag key of this cache ("{prefix}:cache:<name>:{<tag>}:tag"). */
static int tag_name_of(const redisx_cache *cache, const char *key, size_t len, char *out, size_t cap, size_t *olen)
{
    return len > 4 && memcmp(key + len - 4, ":tag", 4) == 0 && tag_decode(cache, key, len - 4, out, cap, olen);
}

void redisx__cache_invalidate_key(redisx_client *c, const char *key, size_t len)
{
    char name[REDISX_CACHE_KEY_MAX + 1];
    redisx_cache **head = redisx__client_caches_lock(c);
    for (redisx_cache *cache = *head; cache; cache = cache->next) {
        if (!atomic_load(&cache->ready) || !cache->l1 || !cache->cfg.tracking)
            continue;
        size_t tl = 0;
        if (tag_name_of(cache, key, len, name, sizeof name, &tl)) {
            /* A tag moved on: its copies here stop matching. */
            redisx__tagtab_drop(cache->tags, name, tl);
            cache_count(cache, REDISX_CACHE_INVALIDATIONS);
            continue;
        }
        if (!key_name_of(cache, key, len, name, sizeof name))
            continue;
        redisx__l1_invalidate(cache->l1, name, strlen(name));
        cache_count(cache, REDISX_CACHE_INVALIDATIONS); /* after: a reader seeing it finds the copy gone */
    }
    redisx__client_caches_unlock(c);
}

void redisx__cache_tracking_flush(redisx_client *c, int null_message)
{
    redisx_cache **head = redisx__client_caches_lock(c);
    for (redisx_cache *cache = *head; cache; cache = cache->next) {
        if (!atomic_load(&cache->ready) || !cache->l1 || !cache->cfg.tracking)
            continue;
        redisx__l1_flush(cache->l1);
        redisx__tagtab_clear(cache->tags); /* no message about them may come */
        if (null_message)
            cache_count(cache, REDISX_CACHE_INVALIDATIONS);
    }
    redisx__client_caches_unlock(c);
}

void redisx__cache_fallback_start(redisx_client *c)
{
    redisx_cache **head = redisx__client_caches_lock(c);
    for (redisx_cache *cache = *head; cache; cache = cache->next) {
        if (!atomic_load(&cache->ready) || !cache->l1 || !cache->cfg.tracking || cache->fb_subscribed)
            continue;
        if (!cache->fb_channel && !(cache->fb_channel = redisx__cache_fb_channel(cache)))
            continue; /* never confirmed: no L1 copies */
        cache->fb_subscribed = 1;
        redisx__subscribe(c, cache->fb_channel);
    }
    redisx__client_caches_unlock(c);
}

int redisx__cache_fallback_confirmed(redisx_client *c, const char *channel, size_t len)
{
    int found = 0;
    redisx_cache **head = redisx__client_caches_lock(c);
    for (redisx_cache *cache = *head; cache; cache = cache->next) {
        if (cache->fb_channel && strlen(cache->fb_channel) == len && memcmp(cache->fb_channel, channel, len) == 0) {
            atomic_store(&cache->fb_ready, 1);
            found = 1;
        }
    }
    redisx__client_caches_unlock(c);
    return found;
}

int redisx__cache_fallback_lost(redisx_client *c, const char *channel, size_t len)
{
    int was_ready = 0;
    redisx_cache **head = redisx__client_caches_lock(c);
    for (redisx_cache *cache = *head; cache; cache = cache->next) {
        if (channel && !(cache->fb_channel && strlen(cache->fb_channel) == len &&
                         memcmp(cache->fb_channel, channel, len) == 0))
            continue;
        if (atomic_exchange(&cache->fb_ready, 0))
            was_ready = 1;
        if (cache->cfg.tracking)
            redisx__tagtab_clear(cache->tags);
    }
    redisx__client_caches_unlock(c);
    return was_ready;
}

int redisx__cache_fallback_message(redisx_client *c, const char *channel, size_t len, const char *key, size_t klen)
{
    int found = 0;
    char name[REDISX_CACHE_KEY_MAX + 2];
    if (klen == 0 || klen > REDISX_CACHE_KEY_MAX + 1)
        return 0;
    memcpy(name, key, klen);
    name[klen] = '\0';
    redisx_cache **head = redisx__client_caches_lock(c);
    for (redisx_cache *cache = *head; cache; cache = cache->next) {
        if (!cache->fb_channel || strlen(cache->fb_channel) != len || memcmp(cache->fb_channel, channel, len) != 0)
            continue;
        found = 1;
        if (key[0] == '\0') { /* a tag (publish_tag) */
            redisx__tagtab_drop(cache->tags, key + 1, klen - 1);
            cache_count(cache, REDISX_CACHE_INVALIDATIONS);
        } else if (cache->l1) {
            redisx__l1_invalidate(cache->l1, name, klen);
            cache_count(cache, REDISX_CACHE_INVALIDATIONS);
        }
    }
    redisx__client_caches_unlock(c);
    return found;
}


void redisx__cache_tracking_lane_lost(redisx_client *c, unsigned lane)
{
    lane %= REDISX__L1_LANES;
    redisx_cache **head = redisx__client_caches_lock(c);
    for (redisx_cache *cache = *head; cache; cache = cache->next) {
        if (!atomic_load(&cache->ready) || !cache->l1 || !cache->cfg.tracking || !cache->lane_epoch[lane])
            continue;
        redisx__l1_invalidate_epoch(cache->l1, cache->lane_epoch[lane]);
        redisx__tagtab_clear(cache->tags); /* some may have been read there */
        cache->lane_epoch[lane] = 0; /* the next read there gets a new epoch */
    }
    redisx__client_caches_unlock(c);
}
