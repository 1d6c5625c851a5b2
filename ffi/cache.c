/* Exported: the two-tier cache. Argument checks here, behaviour in
 * core/cache.c. */
#include <stdlib.h>

#include "ffi.h"

#define CACHE_REQUIRED(cache) REDISX_FFI_REQUIRE((cache) != NULL, "cache is NULL")

static redisx_status check_ms(int64_t v, int64_t lo, const char *what)
{
    REDISX_FFI_REQUIRE(v >= lo && v <= REDISX_CACHE_TTL_MAX_MS, "%s must be in %lld..%lld ms, got %lld", what,
                       (long long)lo, (long long)REDISX_CACHE_TTL_MAX_MS, (long long)v);
    return REDISX_OK;
}

static redisx_status check_cache(const redisx_cache *cache, const char *key, int blocking)
{
    CACHE_REQUIRED(cache);
    redisx_status st = redisx__ffi_client(redisx__cache_client(cache), blocking);
    if (st == REDISX_OK)
        st = redisx__ffi_name(key, REDISX_CACHE_KEY_MAX, "cache key");
    return st;
}

static redisx_status check_value(const void *value, size_t len)
{
    REDISX_FFI_REQUIRE(value != NULL || len == 0, "value is NULL with a length of %zu", len);
    return REDISX_OK;
}

redisx_status redisx_cache_new(redisx_cache **out, redisx_client *client, const char *name)
{
    REDISX_FFI_REQUIRE(out != NULL, "out is NULL");
    *out = NULL;
    redisx_status st = redisx__ffi_client(client, 0);
    if (st == REDISX_OK)
        st = redisx__ffi_name(name, REDISX_CACHE_NAME_MAX, "cache name");
    if (st != REDISX_OK)
        return st;
    REDISX_FFI_REQUIRE(!strchr(name, '{') && !strchr(name, '}'), "cache name %s contains '{' or '}'", name);
    return redisx__cache_new(out, client, name);
}

void redisx_cache_free(redisx_cache *cache)
{
    if (cache)
        redisx__cache_free(cache);
}

static redisx_status edit(redisx_cache *cache, redisx__cache_cfg **cfg)
{
    CACHE_REQUIRED(cache);
    return redisx__cache_cfg_edit(cache, cfg);
}

redisx_status redisx_cache_set_l1(redisx_cache *cache, size_t max_entries, size_t max_bytes, int64_t ttl_ms)
{
    redisx__cache_cfg *cfg;
    redisx_status st = edit(cache, &cfg);
    if (st != REDISX_OK)
        return st;
    if (max_entries > 0) {
        REDISX_FFI_REQUIRE(max_bytes > 0, "L1 max_bytes must be > 0");
        st = check_ms(ttl_ms, 1, "L1 ttl");
        if (st != REDISX_OK)
            return st;
    }
    cfg->l1_entries = max_entries;
    cfg->l1_bytes = max_bytes;
    cfg->l1_ttl_ms = max_entries > 0 ? ttl_ms : 0;
    return REDISX_OK;
}

redisx_status redisx_cache_set_max_value_bytes(redisx_cache *cache, size_t max)
{
    redisx__cache_cfg *cfg;
    redisx_status st = edit(cache, &cfg);
    if (st != REDISX_OK)
        return st;
    REDISX_FFI_REQUIRE(max >= 1 && max <= REDISX_CACHE_VALUE_MAX, "maximum value size must be in 1..%d bytes, got %zu",
                       REDISX_CACHE_VALUE_MAX, max);
    cfg->max_value = max;
    return REDISX_OK;
}

redisx_status redisx_cache_set_ttl_jitter(redisx_cache *cache, double fraction)
{
    redisx__cache_cfg *cfg;
    redisx_status st = edit(cache, &cfg);
    if (st != REDISX_OK)
        return st;
    REDISX_FFI_REQUIRE(fraction >= 0 && fraction <= 0.5, "TTL jitter must be in 0..0.5, got %g", fraction);
    cfg->jitter = fraction;
    return REDISX_OK;
}

redisx_status redisx_cache_set_negative_ttl_ms(redisx_cache *cache, int64_t ttl_ms)
{
    redisx__cache_cfg *cfg;
    redisx_status st = edit(cache, &cfg);
    if (st == REDISX_OK)
        st = check_ms(ttl_ms, 1, "negative ttl");
    if (st == REDISX_OK)
        cfg->negative_ttl_ms = ttl_ms;
    return st;
}

redisx_status redisx_cache_set_lease_ms(redisx_cache *cache, int64_t lease_ms)
{
    redisx__cache_cfg *cfg;
    redisx_status st = edit(cache, &cfg);
    if (st == REDISX_OK)
        st = check_ms(lease_ms, 1, "lease");
    if (st == REDISX_OK)
        cfg->lease_ms = lease_ms;
    return st;
}

redisx_status redisx_cache_set_stale_ms(redisx_cache *cache, int64_t stale_ms)
{
    redisx__cache_cfg *cfg;
    redisx_status st = edit(cache, &cfg);
    if (st == REDISX_OK)
        st = check_ms(stale_ms, 0, "stale window");
    if (st == REDISX_OK)
        cfg->stale_ms = stale_ms;
    return st;
}

redisx_status redisx_cache_set_xfetch_beta(redisx_cache *cache, double beta)
{
    redisx__cache_cfg *cfg;
    redisx_status st = edit(cache, &cfg);
    if (st != REDISX_OK)
        return st;
    REDISX_FFI_REQUIRE(beta >= 0 && beta <= 16, "XFetch beta must be in 0..16, got %g", beta);
    cfg->beta = beta;
    return REDISX_OK;
}

redisx_status redisx_cache_set_fail_policy(redisx_cache *cache, redisx_fail_policy policy)
{
    redisx__cache_cfg *cfg;
    redisx_status st = edit(cache, &cfg);
    if (st != REDISX_OK)
        return st;
    REDISX_FFI_REQUIRE(policy == REDISX_FAIL_OPEN || policy == REDISX_FAIL_CLOSED, "unknown fail policy %d",
                       (int)policy);
    cfg->policy = policy;
    return REDISX_OK;
}

redisx_status redisx_cache_set_tracking(redisx_cache *cache, int on)
{
    redisx__cache_cfg *cfg;
    redisx_status st = edit(cache, &cfg);
    if (st != REDISX_OK)
        return st;
    REDISX_FFI_REQUIRE(on == 0 || on == 1, "tracking must be 0 or 1, not %d", on);
    cfg->tracking = on;
    return REDISX_OK;
}

/* ---- fetch and get ------------------------------------------------------------- */

static redisx_status check_fetch(const redisx_cache *cache, const char *key, int64_t wait_ms, int64_t swr_ms,
                                 int64_t sie_ms, int blocking)
{
    redisx_status st = check_cache(cache, key, blocking);
    if (st == REDISX_OK)
        st = check_ms(wait_ms, 0, "wait");
    if (st == REDISX_OK)
        st = check_ms(swr_ms, 0, "stale-while-revalidate window");
    if (st == REDISX_OK)
        st = check_ms(sie_ms, 0, "stale-if-error window");
    return st;
}

static void entry_wake(redisx_client *c, redisx_status st, redisx_cache_entry *e, void *user)
{
    (void)c;
    redisx__waiter_signal(user, st, e);
}

static redisx_status fetch_blocking(redisx_cache_entry **out, redisx_cache *cache, const char *key, int get,
                                    int64_t wait_ms, int64_t swr_ms, int64_t sie_ms, const redisx_tags *tags)
{
    redisx_status st = redisx__cache_l1_fast(cache, key, out);
    if (st != REDISX_ERR_EMPTY)
        return st;
    redisx__clear_error();
    redisx__waiter w;
    redisx__waiter_init(&w);
    st = redisx__cache_fetch_async(cache, key, get, wait_ms, swr_ms, sie_ms, tags, entry_wake, &w);
    if (st != REDISX_OK)
        return redisx__waiter_drop(&w, st);
    st = redisx__waiter_wait(&w);
    *out = w.result;
    return st;
}

redisx_status redisx_cache_fetch(redisx_cache_entry **out, redisx_cache *cache, const char *key, int64_t wait_ms,
                                 int64_t swr_ms, int64_t sie_ms)
{
    REDISX_FFI_REQUIRE(out != NULL, "out is NULL");
    *out = NULL;
    redisx_status st = check_fetch(cache, key, wait_ms, swr_ms, sie_ms, 1);
    if (st != REDISX_OK)
        return st;
    return fetch_blocking(out, cache, key, 0, wait_ms, swr_ms, sie_ms, NULL);
}

redisx_status redisx_cache_fetch_async(redisx_cache *cache, const char *key, int64_t wait_ms, int64_t swr_ms,
                                       int64_t sie_ms, redisx_cache_cb cb, void *user)
{
    redisx_status st = check_fetch(cache, key, wait_ms, swr_ms, sie_ms, 0);
    if (st == REDISX_OK)
        st = redisx__check_async_target(redisx__cache_client(cache), cb != NULL);
    if (st != REDISX_OK)
        return st;
    return redisx__cache_fetch_async(cache, key, 0, wait_ms, swr_ms, sie_ms, NULL, cb, user);
}

redisx_status redisx_cache_get(redisx_cache_entry **out, redisx_cache *cache, const char *key)
{
    REDISX_FFI_REQUIRE(out != NULL, "out is NULL");
    *out = NULL;
    redisx_status st = check_cache(cache, key, 1);
    if (st != REDISX_OK)
        return st;
    return fetch_blocking(out, cache, key, 1, 0, 0, 0, NULL);
}

redisx_status redisx_cache_get_async(redisx_cache *cache, const char *key, redisx_cache_cb cb, void *user)
{
    redisx_status st = check_cache(cache, key, 0);
    if (st == REDISX_OK)
        st = redisx__check_async_target(redisx__cache_client(cache), cb != NULL);
    if (st != REDISX_OK)
        return st;
    return redisx__cache_fetch_async(cache, key, 1, 0, 0, 0, NULL, cb, user);
}

/* Added in 0.6: the L1-only lookup that never blocks (a Node event loop
 * calls it before an asynchronous get or fetch) and the value version a
 * binding memoises a decoded value on. */
redisx_status redisx_cache_peek(redisx_cache_entry **out, redisx_cache *cache, const char *key)
{
    REDISX_FFI_REQUIRE(out != NULL, "out is NULL");
    *out = NULL;
    redisx_status st = check_cache(cache, key, 0);
    if (st != REDISX_OK)
        return st;
    st = redisx__cache_l1_fast(cache, key, out);
    if (st == REDISX_ERR_EMPTY) {
        redisx__clear_error();
        return REDISX_OK;
    }
    return st;
}

/* ---- fill and abandon ------------------------------------------------------------ */

static redisx_status check_owner(const redisx_cache_entry *e, int blocking)
{
    REDISX_FFI_REQUIRE(e != NULL, "cache entry is NULL");
    redisx_status st = redisx__ffi_client(redisx__cache_client(redisx__cache_of(e)), blocking);
    if (st != REDISX_OK)
        return st;
    REDISX_FFI_REQUIRE(redisx__cache_entry_owns(e),
                       "cache key %s: only an entry holding the lease (LOAD, or a HIT that should refresh) can be "
                       "filled or abandoned, once",
                       redisx__cache_entry_key(e));
    return REDISX_OK;
}

static redisx_status check_fill(const redisx_cache_entry *e, const void *value, size_t len, int64_t ttl_ms,
                                int blocking)
{
    redisx_status st = check_owner(e, blocking);
    if (st == REDISX_OK)
        st = check_value(value, len);
    if (st == REDISX_OK)
        st = check_ms(ttl_ms, 1, "ttl");
    return st;
}

#define BLOCKING_STATUS(call)                                                           \
    do {                                                                                \
        redisx__waiter w;                                                               \
        redisx__waiter_init(&w);                                                        \
        redisx_status st_ = (call);                                                     \
        return st_ == REDISX_OK ? redisx__waiter_wait(&w) : redisx__waiter_drop(&w, st_); \
    } while (0)

redisx_status redisx_cache_fill(redisx_cache_entry *entry, const void *value, size_t len, int64_t ttl_ms)
{
    redisx_status st = check_fill(entry, value, len, ttl_ms, 1);
    if (st != REDISX_OK)
        return st;
    BLOCKING_STATUS(redisx__cache_fill_async(entry, value, len, 0, ttl_ms, redisx__ffi_status_wake, &w));
}

redisx_status redisx_cache_fill_async(redisx_cache_entry *entry, const void *value, size_t len, int64_t ttl_ms,
                                      redisx_status_cb cb, void *user)
{
    redisx_status st = check_fill(entry, value, len, ttl_ms, 0);
    if (st == REDISX_OK)
        st = redisx__check_async_target(redisx__cache_client(redisx__cache_of(entry)), cb != NULL);
    if (st != REDISX_OK)
        return st;
    return redisx__cache_fill_async(entry, value, len, 0, ttl_ms, cb, user);
}

redisx_status redisx_cache_fill_negative(redisx_cache_entry *entry)
{
    redisx_status st = check_owner(entry, 1);
    if (st != REDISX_OK)
        return st;
    BLOCKING_STATUS(redisx__cache_fill_async(entry, NULL, 0, 1, 0, redisx__ffi_status_wake, &w));
}

redisx_status redisx_cache_fill_negative_async(redisx_cache_entry *entry, redisx_status_cb cb, void *user)
{
    redisx_status st = check_owner(entry, 0);
    if (st == REDISX_OK)
        st = redisx__check_async_target(redisx__cache_client(redisx__cache_of(entry)), cb != NULL);
    if (st != REDISX_OK)
        return st;
    return redisx__cache_fill_async(entry, NULL, 0, 1, 0, cb, user);
}

redisx_status redisx_cache_abandon(redisx_cache_entry *entry)
{
    redisx_status st = check_owner(entry, 1);
    if (st != REDISX_OK)
        return st;
    BLOCKING_STATUS(redisx__cache_abandon_async(entry, redisx__ffi_status_wake, &w));
}

redisx_status redisx_cache_abandon_async(redisx_cache_entry *entry, redisx_status_cb cb, void *user)
{
    redisx_status st = check_owner(entry, 0);
    if (st == REDISX_OK)
        st = redisx__check_async_target(redisx__cache_client(redisx__cache_of(entry)), cb != NULL);
    if (st != REDISX_OK)
        return st;
    return redisx__cache_abandon_async(entry, cb, user);
}

/* ---- set and delete ----------------------------------------------------------------- */

static redisx_status check_set(const redisx_cache *cache, const char *key, const void *value, size_t len,
                               int64_t ttl_ms, int blocking)
{
    redisx_status st = check_cache(cache, key, blocking);
    if (st == REDISX_OK)
        st = check_value(value, len);
    if (st == REDISX_OK)
        st = check_ms(ttl_ms, 1, "ttl");
    return st;
}

redisx_status redisx_cache_set(redisx_cache *cache, const char *key, const void *value, size_t len, int64_t ttl_ms)
{
    redisx_status st = check_set(cache, key, value, len, ttl_ms, 1);
    if (st != REDISX_OK)
        return st;
    BLOCKING_STATUS(redisx__cache_set_async(cache, key, value, len, ttl_ms, NULL, redisx__ffi_status_wake, &w));
}

redisx_status redisx_cache_set_async(redisx_cache *cache, const char *key, const void *value, size_t len,
                                     int64_t ttl_ms, redisx_status_cb cb, void *user)
{
    redisx_status st = check_set(cache, key, value, len, ttl_ms, 0);
    if (st == REDISX_OK)
        st = redisx__check_async_target(redisx__cache_client(cache), cb != NULL);
    if (st != REDISX_OK)
        return st;
    return redisx__cache_set_async(cache, key, value, len, ttl_ms, NULL, cb, user);
}

redisx_status redisx_cache_delete(redisx_cache *cache, const char *key)
{
    redisx_status st = check_cache(cache, key, 1);
    if (st != REDISX_OK)
        return st;
    BLOCKING_STATUS(redisx__cache_delete_async(cache, key, redisx__ffi_status_wake, &w));
}

redisx_status redisx_cache_delete_async(redisx_cache *cache, const char *key, redisx_status_cb cb, void *user)
{
    redisx_status st = check_cache(cache, key, 0);
    if (st == REDISX_OK)
        st = redisx__check_async_target(redisx__cache_client(cache), cb != NULL);
    if (st != REDISX_OK)
        return st;
    return redisx__cache_delete_async(cache, key, cb, user);
}

uint64_t redisx_cache_counter_of(const redisx_cache *cache, redisx_cache_counter which)
{
    return cache ? redisx__cache_counter(cache, which) : 0;
}

/* ---- entries ------------------------------------------------------------------------ */

void redisx_cache_entry_free(redisx_cache_entry *entry)
{
    redisx__cache_entry_free(entry);
}

redisx_cache_state redisx_cache_entry_state(const redisx_cache_entry *entry)
{
    return entry ? redisx__cache_entry_state(entry) : REDISX_CACHE_MISS;
}

const char *redisx_cache_entry_key(const redisx_cache_entry *entry)
{
    return entry ? redisx__cache_entry_key(entry) : NULL;
}

const void *redisx_cache_entry_value(const redisx_cache_entry *entry, size_t *len)
{
    size_t n = 0;
    const void *p = entry ? redisx__cache_entry_value(entry, &n) : NULL;
    if (len)
        *len = n;
    return p;
}

int redisx_cache_entry_is_stale(const redisx_cache_entry *entry)
{
    return entry ? redisx__cache_entry_stale(entry) : 0;
}

int redisx_cache_entry_is_fail_open(const redisx_cache_entry *entry)
{
    return entry ? redisx__cache_entry_fail_open(entry) : 0;
}

int redisx_cache_entry_should_refresh(const redisx_cache_entry *entry)
{
    return entry ? redisx__cache_entry_owns(entry) : 0;
}

redisx_cache_layer redisx_cache_entry_layer(const redisx_cache_entry *entry)
{
    return entry ? redisx__cache_entry_layer(entry) : REDISX_CACHE_LAYER_NONE;
}

const char *redisx_cache_entry_outcome(const redisx_cache_entry *entry)
{
    return entry ? redisx__cache_entry_outcome(entry) : NULL;
}

int64_t redisx_cache_entry_ttl_ms(const redisx_cache_entry *entry)
{
    return entry ? redisx__cache_entry_ttl(entry) : 0;
}

uint64_t redisx_cache_entry_version(const redisx_cache_entry *entry)
{
    return entry ? redisx__cache_entry_version(entry) : 0;
}

/* ---- tags (added in 0.6) ------------------------------------------------------------- */

redisx_status redisx_tags_new(redisx_tags **out)
{
    REDISX_FFI_REQUIRE(out != NULL, "out is NULL");
    *out = NULL;
    return redisx__tags_new(out);
}

redisx_status redisx_tags_add(redisx_tags *tags, const void *tag, size_t len)
{
    REDISX_FFI_REQUIRE(tags != NULL, "tags is NULL");
    REDISX_FFI_REQUIRE(tag != NULL || len == 0, "tag is NULL with a length of %zu", len);
    REDISX_FFI_REQUIRE(len >= 1 && len <= REDISX_CACHE_TAG_MAX, "a cache tag must be 1..%d bytes, got %zu",
                       REDISX_CACHE_TAG_MAX, len);
    REDISX_FFI_REQUIRE(redisx__tags_count(tags) < REDISX_CACHE_INVALIDATE_MAX,
                       "a tag list holds at most %d tags (REDISX_CACHE_INVALIDATE_MAX)", REDISX_CACHE_INVALIDATE_MAX);
    return redisx__tags_add(tags, tag, len);
}

size_t redisx_tags_count(const redisx_tags *tags)
{
    return tags ? redisx__tags_count(tags) : 0;
}

void redisx_tags_free(redisx_tags *tags)
{
    if (tags)
        redisx__tags_free(tags);
}

/* An entry's tags: at most REDISX_CACHE_TAGS_MAX (counted with duplicates,
 * which a caller has no reason to send). */
static redisx_status check_entry_tags(const redisx_tags *tags)
{
    REDISX_FFI_REQUIRE(redisx_tags_count(tags) <= REDISX_CACHE_TAGS_MAX,
                       "an entry carries at most %d tags (REDISX_CACHE_TAGS_MAX), got %zu", REDISX_CACHE_TAGS_MAX,
                       redisx_tags_count(tags));
    return REDISX_OK;
}

redisx_status redisx_cache_fetch_tagged(redisx_cache_entry **out, redisx_cache *cache, const char *key,
                                        const redisx_tags *tags, int64_t wait_ms, int64_t swr_ms, int64_t sie_ms)
{
    REDISX_FFI_REQUIRE(out != NULL, "out is NULL");
    *out = NULL;
    redisx_status st = check_fetch(cache, key, wait_ms, swr_ms, sie_ms, 1);
    if (st == REDISX_OK)
        st = check_entry_tags(tags);
    if (st != REDISX_OK)
        return st;
    return fetch_blocking(out, cache, key, 0, wait_ms, swr_ms, sie_ms, tags);
}

redisx_status redisx_cache_fetch_tagged_async(redisx_cache *cache, const char *key, const redisx_tags *tags,
                                              int64_t wait_ms, int64_t swr_ms, int64_t sie_ms, redisx_cache_cb cb,
                                              void *user)
{
    redisx_status st = check_fetch(cache, key, wait_ms, swr_ms, sie_ms, 0);
    if (st == REDISX_OK)
        st = check_entry_tags(tags);
    if (st == REDISX_OK)
        st = redisx__check_async_target(redisx__cache_client(cache), cb != NULL);
    if (st != REDISX_OK)
        return st;
    return redisx__cache_fetch_async(cache, key, 0, wait_ms, swr_ms, sie_ms, tags, cb, user);
}

redisx_status redisx_cache_set_tagged(redisx_cache *cache, const char *key, const void *value, size_t len,
                                      int64_t ttl_ms, const redisx_tags *tags)
{
    redisx_status st = check_set(cache, key, value, len, ttl_ms, 1);
    if (st == REDISX_OK)
        st = check_entry_tags(tags);
    if (st != REDISX_OK)
        return st;
    BLOCKING_STATUS(redisx__cache_set_async(cache, key, value, len, ttl_ms, tags, redisx__ffi_status_wake, &w));
}

redisx_status redisx_cache_set_tagged_async(redisx_cache *cache, const char *key, const void *value, size_t len,
                                            int64_t ttl_ms, const redisx_tags *tags, redisx_status_cb cb,
                                            void *user)
{
    redisx_status st = check_set(cache, key, value, len, ttl_ms, 0);
    if (st == REDISX_OK)
        st = check_entry_tags(tags);
    if (st == REDISX_OK)
        st = redisx__check_async_target(redisx__cache_client(cache), cb != NULL);
    if (st != REDISX_OK)
        return st;
    return redisx__cache_set_async(cache, key, value, len, ttl_ms, tags, cb, user);
}

static redisx_status check_invalidate(const redisx_cache *cache, const redisx_tags *tags, int blocking)
{
    CACHE_REQUIRED(cache);
    REDISX_FFI_REQUIRE(tags != NULL, "tags is NULL");
    return redisx__ffi_client(redisx__cache_client(cache), blocking);
}

redisx_status redisx_cache_invalidate_tags(redisx_cache *cache, const redisx_tags *tags)
{
    redisx_status st = check_invalidate(cache, tags, 1);
    if (st != REDISX_OK)
        return st;
    BLOCKING_STATUS(redisx__cache_invalidate_tags_async(cache, tags, redisx__ffi_status_wake, &w));
}

redisx_status redisx_cache_invalidate_tags_async(redisx_cache *cache, const redisx_tags *tags, redisx_status_cb cb,
                                                 void *user)
{
    redisx_status st = check_invalidate(cache, tags, 0);
    if (st == REDISX_OK)
        st = redisx__check_async_target(redisx__cache_client(cache), cb != NULL);
    if (st != REDISX_OK)
        return st;
    return redisx__cache_invalidate_tags_async(cache, tags, cb, user);
}
