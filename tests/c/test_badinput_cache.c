/* Bad input for the cache's entry points (the coverage table of
 * test_badinput.c lists them): NULL handles and out-parameters, NULL, empty,
 * over-long or braced names and keys, out-of-range TTLs, waits, windows,
 * fractions and enums, settings after first use, fills of entries holding no
 * lease, asynchronous calls with nowhere to complete, blocking calls from
 * the I/O thread, calls after the client closed; tag lists (0.6). Each rejection is checked
 * for its exact status and its own redisx_last_error() detail. */
#include <limits.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>

#include "badinput.h"

static redisx_cache *new_cache(redisx_client *c)
{
    redisx_cache *cache = NULL;
    EXPECT_OK(redisx_cache_new(&cache, c, "bad"), "cache");
    return cache;
}

Test(badinput_cache, release_functions_and_accessors_accept_null)
{
    redisx_cache_free(NULL);
    redisx_cache_entry_free(NULL);
    cr_assert_eq(redisx_cache_entry_state(NULL), REDISX_CACHE_MISS);
    cr_assert_null(redisx_cache_entry_key(NULL));
    size_t n = 7;
    cr_assert_null(redisx_cache_entry_value(NULL, &n));
    cr_assert_eq(n, 0);
    cr_assert_null(redisx_cache_entry_value(NULL, NULL));
    cr_assert_eq(redisx_cache_entry_is_stale(NULL), 0);
    cr_assert_eq(redisx_cache_entry_is_fail_open(NULL), 0);
    cr_assert_eq(redisx_cache_entry_should_refresh(NULL), 0);
    cr_assert_eq(redisx_cache_entry_layer(NULL), REDISX_CACHE_LAYER_NONE);
    cr_assert_null(redisx_cache_entry_outcome(NULL));
    cr_assert_eq(redisx_cache_entry_ttl_ms(NULL), 0);
    cr_assert_eq(redisx_cache_counter_of(NULL, REDISX_CACHE_L1_HITS), 0);
    cr_assert_eq(redisx_stats_cache(NULL, REDISX_CACHE_L1_HITS), 0);
    cr_assert_null(redisx_event_outcome(NULL));
    cr_assert_null(redisx_item_take_cache_entry(NULL));
}

Test(badinput_cache, cache_new_rejects_bad_handles_and_names)
{
    redisx_client *c = rt_client();
    redisx_cache *cache = SENTINEL(redisx_cache);
    EXPECT_ST(REDISX_ERR_INVALID, redisx_cache_new(NULL, c, "n"), "out NULL");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_cache_new(&cache, NULL, "n"), "client NULL");
    cr_assert_null(cache);
    EXPECT_ST(REDISX_ERR_INVALID, redisx_cache_new(&cache, c, NULL), "name NULL");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_cache_new(&cache, c, ""), "name empty");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_cache_new(&cache, c, "a{b"), "brace");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_cache_new(&cache, c, "a}b"), "brace");
    char *longname = filled(REDISX_CACHE_NAME_MAX + 1, 'n');
    EXPECT_ST(REDISX_ERR_INVALID, redisx_cache_new(&cache, c, longname), "long name");
    longname[REDISX_CACHE_NAME_MAX] = '\0';
    EXPECT_OK(redisx_cache_new(&cache, c, longname), "longest name");
    redisx_cache_free(cache);
    free(longname);
    redisx_client_close(c);
}

Test(badinput_cache, setters_reject_null_out_of_range_and_late_settings)
{
    redisx_client *c = rt_client();
    redisx_cache *cache = new_cache(c);
    EXPECT_ST(REDISX_ERR_INVALID, redisx_cache_set_l1(NULL, 1, 1, 1), "NULL");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_cache_set_l1(cache, 10, 0, 1000), "bytes 0");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_cache_set_l1(cache, 10, 1 << 20, 0), "ttl 0");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_cache_set_l1(cache, 10, 1 << 20, REDISX_CACHE_TTL_MAX_MS + 1), "ttl");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_cache_set_max_value_bytes(NULL, 1), "NULL");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_cache_set_max_value_bytes(cache, 0), "0");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_cache_set_max_value_bytes(cache, (size_t)REDISX_CACHE_VALUE_MAX + 1), "max");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_cache_set_ttl_jitter(NULL, 0.1), "NULL");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_cache_set_ttl_jitter(cache, -0.1), "negative");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_cache_set_ttl_jitter(cache, 0.51), "above 0.5");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_cache_set_ttl_jitter(cache, 0.0 / 0.0), "NaN");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_cache_set_negative_ttl_ms(NULL, 1), "NULL");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_cache_set_negative_ttl_ms(cache, 0), "0");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_cache_set_lease_ms(NULL, 1), "NULL");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_cache_set_lease_ms(cache, -1), "-1");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_cache_set_lease_ms(cache, REDISX_CACHE_TTL_MAX_MS + 1), "max");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_cache_set_stale_ms(NULL, 0), "NULL");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_cache_set_stale_ms(cache, -1), "-1");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_cache_set_xfetch_beta(NULL, 1), "NULL");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_cache_set_xfetch_beta(cache, 16.5), "above 16");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_cache_set_xfetch_beta(cache, 0.0 / 0.0), "NaN");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_cache_set_fail_policy(NULL, REDISX_FAIL_OPEN), "NULL");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_cache_set_fail_policy(cache, (redisx_fail_policy)2), "policy 2");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_cache_set_fail_policy(cache, (redisx_fail_policy)INT_MIN), "policy");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_cache_set_tracking(NULL, 1), "NULL");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_cache_set_tracking(cache, 2), "tracking 2");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_cache_set_tracking(cache, -1), "tracking -1");
    EXPECT_OK(redisx_cache_set_tracking(cache, 0), "tracking off");
    EXPECT_OK(redisx_cache_set_l1(cache, 0, 0, 0), "L1 off");
    EXPECT_OK(redisx_cache_set_stale_ms(cache, 0), "no stale window");
    EXPECT_OK(redisx_cache_set_xfetch_beta(cache, 0), "no XFetch");
    EXPECT_OK(redisx_cache_set(cache, "k", "v", 1, 1000), "first use");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_cache_set_lease_ms(cache, 1000), "after first use");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_cache_set_l1(cache, 10, 1 << 20, 1000), "after first use");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_cache_set_tracking(cache, 1), "after first use");
    redisx_cache_free(cache);
    redisx_client_close(c);
}

Test(badinput_cache, fetch_get_set_delete_reject_bad_keys_times_and_targets)
{
    redisx_client *c = rt_client();
    redisx_cache *cache = new_cache(c);
    redisx_cache_entry *e = SENTINEL(redisx_cache_entry);
    EXPECT_ST(REDISX_ERR_INVALID, redisx_cache_fetch(NULL, cache, "k", 0, 0, 0), "out NULL");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_cache_fetch(&e, NULL, "k", 0, 0, 0), "cache NULL");
    cr_assert_null(e);
    e = SENTINEL(redisx_cache_entry);
    EXPECT_ST(REDISX_ERR_INVALID, redisx_cache_fetch(&e, cache, NULL, 0, 0, 0), "key NULL");
    cr_assert_null(e);
    EXPECT_ST(REDISX_ERR_INVALID, redisx_cache_fetch(&e, cache, "", 0, 0, 0), "key empty");
    char *longkey = filled(REDISX_CACHE_KEY_MAX + 1, 'k');
    EXPECT_ST(REDISX_ERR_INVALID, redisx_cache_fetch(&e, cache, longkey, 0, 0, 0), "long key");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_cache_fetch(&e, cache, "k", -1, 0, 0), "wait -1");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_cache_fetch(&e, cache, "k", REDISX_CACHE_TTL_MAX_MS + 1, 0, 0), "wait");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_cache_fetch(&e, cache, "k", 0, -1, 0), "swr -1");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_cache_fetch(&e, cache, "k", 0, 0, -1), "sie -1");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_cache_fetch_async(cache, "k", 0, 0, 0, NULL, NULL), "no target");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_cache_fetch_async(NULL, "k", 0, 0, 0, NULL, NULL), "cache NULL");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_cache_fetch_async(cache, "", 0, 0, 0, NULL, NULL), "key empty");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_cache_get(NULL, cache, "k"), "out NULL");
    e = SENTINEL(redisx_cache_entry);
    EXPECT_ST(REDISX_ERR_INVALID, redisx_cache_get(&e, cache, longkey), "long key");
    cr_assert_null(e);
    EXPECT_ST(REDISX_ERR_INVALID, redisx_cache_get(&e, NULL, "k"), "cache NULL");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_cache_get_async(cache, "k", NULL, NULL), "no target");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_cache_get_async(cache, NULL, NULL, NULL), "key NULL");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_cache_set(NULL, "k", "v", 1, 1000), "cache NULL");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_cache_set(cache, "", "v", 1, 1000), "key empty");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_cache_set(cache, "k", NULL, 1, 1000), "value NULL, length 1");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_cache_set(cache, "k", "v", 1, 0), "ttl 0");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_cache_set(cache, "k", "v", 1, REDISX_CACHE_TTL_MAX_MS + 1), "ttl");
    char *big = filled((1u << 20) + 1, 'v');
    EXPECT_ST(REDISX_ERR_INVALID, redisx_cache_set(cache, "k", big, (1u << 20) + 1, 1000), "above the maximum");
    EXPECT_OK(redisx_cache_set(cache, "k", big, 1u << 20, 1000), "the maximum");
    EXPECT_OK(redisx_cache_set(cache, "k", NULL, 0, 1000), "empty value");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_cache_set_async(cache, "k", "v", 1, 1000, NULL, NULL), "no target");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_cache_set_async(cache, "k", "v", 1, -5, NULL, NULL), "ttl");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_cache_delete(NULL, "k"), "cache NULL");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_cache_delete(cache, NULL), "key NULL");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_cache_delete_async(cache, "k", NULL, NULL), "no target");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_cache_delete_async(cache, longkey, NULL, NULL), "long key");
    free(big);
    free(longkey);
    redisx_cache_free(cache);
    redisx_client_close(c);
}

Test(badinput_cache, fill_and_abandon_need_an_entry_holding_the_lease)
{
    redisx_client *c = rt_client();
    redisx_cache *cache = new_cache(c);
    EXPECT_ST(REDISX_ERR_INVALID, redisx_cache_fill(NULL, "v", 1, 1000), "entry NULL");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_cache_fill_async(NULL, "v", 1, 1000, NULL, NULL), "entry NULL");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_cache_fill_negative(NULL), "entry NULL");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_cache_fill_negative_async(NULL, NULL, NULL), "entry NULL");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_cache_abandon(NULL), "entry NULL");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_cache_abandon_async(NULL, NULL, NULL), "entry NULL");
    redisx_cache_entry *e = NULL;
    EXPECT_OK(redisx_cache_fetch(&e, cache, "load", 0, 0, 0), "fetch");
    cr_assert_eq(redisx_cache_entry_state(e), REDISX_CACHE_LOAD);
    EXPECT_ST(REDISX_ERR_INVALID, redisx_cache_fill(e, NULL, 1, 1000), "value NULL, length 1");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_cache_fill(e, "v", 1, 0), "ttl 0");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_cache_fill(e, "v", 1, REDISX_CACHE_TTL_MAX_MS + 1), "ttl");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_cache_fill_async(e, "v", 1, 1000, NULL, NULL), "no target");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_cache_fill_negative_async(e, NULL, NULL), "no target");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_cache_abandon_async(e, NULL, NULL), "no target");
    cr_assert_eq(redisx_cache_entry_should_refresh(e), 1, "refused calls keep the lease");
    EXPECT_OK(redisx_cache_fill(e, "v", 1, 1000), "fill");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_cache_fill(e, "v", 1, 1000), "second fill");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_cache_fill_negative(e), "fill after fill");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_cache_abandon(e), "abandon after fill");
    redisx_cache_entry_free(e);
    EXPECT_OK(redisx_cache_fetch(&e, cache, "load", 0, 0, 0), "hit");
    cr_assert_eq(redisx_cache_entry_state(e), REDISX_CACHE_HIT);
    EXPECT_ST(REDISX_ERR_INVALID, redisx_cache_fill(e, "v", 1, 1000), "a HIT holding no lease");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_cache_abandon(e), "a HIT holding no lease");
    redisx_cache_entry_free(e);
    redisx_cache_free(cache);
    redisx_client_close(c);
}

typedef struct inside {
    redisx_cache *cache;
    atomic_int st;
} inside;

static void blocking_inside(redisx_client *c, redisx_status st, redisx_cache_entry *e, void *user)
{
    (void)c;
    (void)st;
    inside *in = user;
    redisx_cache_entry *f = NULL;
    atomic_store(&in->st, redisx_cache_fetch(&f, in->cache, "k", 0, 0, 0));
    redisx_cache_entry_free(f);
    redisx_cache_entry_free(e);
}

Test(badinput_cache, blocking_fetch_from_a_callback_would_block)
{
    redisx_client *c = rt_client();
    inside in = {new_cache(c), 1};
    EXPECT_OK(redisx_cache_set(in.cache, "k", "v", 1, 60000), "set");
    EXPECT_OK(redisx_cache_fetch_async(in.cache, "k", 0, 0, 0, blocking_inside, &in), "async");
    for (int i = 0; i < 500 && atomic_load(&in.st) == 1; i++)
        rt_sleep_ms(10);
    cr_assert_eq(atomic_load(&in.st), REDISX_ERR_WOULDBLOCK);
    redisx_cache_free(in.cache);
    redisx_client_close(c);
}

Test(badinput_cache, caches_and_entries_of_a_closed_client_answer_closed)
{
    redisx_client *c = rt_client();
    redisx_cache *cache = new_cache(c);
    redisx_cache_entry *e = NULL;
    EXPECT_OK(redisx_cache_fetch(&e, cache, "closing", 0, 0, 0), "fetch");
    redisx_client_close(c); /* the handles keep the client's memory alive */
    redisx_cache_entry *f = NULL;
    EXPECT_ST(REDISX_ERR_CLOSED, redisx_cache_fetch(&f, cache, "k", 0, 0, 0), "fetch");
    EXPECT_ST(REDISX_ERR_CLOSED, redisx_cache_get(&f, cache, "k"), "get");
    EXPECT_ST(REDISX_ERR_CLOSED, redisx_cache_set(cache, "k", "v", 1, 1000), "set");
    EXPECT_ST(REDISX_ERR_CLOSED, redisx_cache_delete(cache, "k"), "delete");
    EXPECT_ST(REDISX_ERR_CLOSED, redisx_cache_fill(e, "v", 1, 1000), "fill");
    EXPECT_ST(REDISX_ERR_CLOSED, redisx_cache_abandon(e), "abandon");
    cr_assert_eq(redisx_cache_entry_state(e), REDISX_CACHE_LOAD, "accessors still work");
    redisx_cache_entry_free(e);
    redisx_cache_free(cache);
}

Test(badinput_cache, peek_and_entry_version_refuse_null_and_bad_keys)
{
    redisx_client *c = rt_client();
    redisx_cache *cache = NULL;
    EXPECT_OK(redisx_cache_new(&cache, c, "peek"), "cache");
    redisx_cache_entry *e = (redisx_cache_entry *)1;
    EXPECT_ST(REDISX_ERR_INVALID, redisx_cache_peek(NULL, cache, "k"), "NULL out");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_cache_peek(&e, NULL, "k"), "NULL cache");
    cr_assert_null(e, "a refused peek leaves *out NULL");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_cache_peek(&e, cache, NULL), "NULL key");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_cache_peek(&e, cache, ""), "empty key");
    cr_assert_eq(redisx_cache_entry_version(NULL), 0);
    EXPECT_OK(redisx_cache_peek(&e, cache, "never-set"), "a miss is no error");
    cr_assert_null(e, "nothing in L1");
    redisx_cache_free(cache);
    redisx_client_close(c);
}

Test(badinput_cache, tags_reject_null_empty_long_and_too_many)
{
    redisx_client *c = rt_client();
    redisx_cache *cache = new_cache(c);
    EXPECT_ST(REDISX_ERR_INVALID, redisx_tags_new(NULL), "out NULL");
    redisx_tags *t = NULL;
    EXPECT_OK(redisx_tags_new(&t), "tags");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_tags_add(NULL, "a", 1), "tags NULL");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_tags_add(t, NULL, 1), "tag NULL, length 1");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_tags_add(t, "", 0), "tag empty");
    char *longtag = filled(REDISX_CACHE_TAG_MAX + 1, 't');
    EXPECT_ST(REDISX_ERR_INVALID, redisx_tags_add(t, longtag, REDISX_CACHE_TAG_MAX + 1), "tag too long");
    cr_assert_eq(redisx_tags_count(t), 0, "nothing refused was added");
    cr_assert_eq(redisx_tags_count(NULL), 0);
    redisx_tags_free(NULL);
    for (int i = 0; i < REDISX_CACHE_INVALIDATE_MAX; i++) {
        char b[16];
        int n = snprintf(b, sizeof b, "%d", i);
        EXPECT_OK(redisx_tags_add(t, b, (size_t)n), "a tag");
    }
    EXPECT_ST(REDISX_ERR_INVALID, redisx_tags_add(t, "x", 1), "past the list's bound");
    redisx_cache_entry *e = SENTINEL(redisx_cache_entry);
    EXPECT_ST(REDISX_ERR_INVALID, redisx_cache_fetch_tagged(&e, cache, "k", t, 0, 0, 0), "more than an entry carries");
    cr_assert_null(e);
    EXPECT_ST(REDISX_ERR_INVALID, redisx_cache_fetch_tagged(NULL, cache, "k", NULL, 0, 0, 0), "out NULL");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_cache_fetch_tagged(&e, NULL, "k", NULL, 0, 0, 0), "cache NULL");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_cache_fetch_tagged(&e, cache, "", NULL, 0, 0, 0), "key empty");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_cache_fetch_tagged(&e, cache, "k", NULL, -1, 0, 0), "wait -1");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_cache_fetch_tagged_async(cache, "k", NULL, 0, 0, 0, NULL, NULL), "no target");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_cache_fetch_tagged_async(cache, "k", t, 0, 0, 0, NULL, NULL), "too many");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_cache_set_tagged(cache, "k", "v", 1, 1000, t), "more than an entry carries");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_cache_set_tagged(NULL, "k", "v", 1, 1000, NULL), "cache NULL");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_cache_set_tagged(cache, "k", NULL, 1, 1000, NULL), "value NULL, length 1");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_cache_set_tagged(cache, "k", "v", 1, 0, NULL), "ttl 0");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_cache_set_tagged_async(cache, "k", "v", 1, 1000, NULL, NULL, NULL), "no target");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_cache_invalidate_tags(cache, NULL), "tags NULL");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_cache_invalidate_tags(NULL, t), "cache NULL");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_cache_invalidate_tags_async(cache, t, NULL, NULL), "no target");
    EXPECT_ST(REDISX_ERR_INVALID, redisx_cache_invalidate_tags_async(cache, NULL, NULL, NULL), "tags NULL");
    EXPECT_OK(redisx_cache_invalidate_tags(cache, t), "an invalidation takes the whole list");
    redisx_tags *none = NULL;
    EXPECT_OK(redisx_tags_new(&none), "tags");
    EXPECT_OK(redisx_cache_invalidate_tags(cache, none), "an empty list: nothing to do");
    EXPECT_OK(redisx_cache_set_tagged(cache, "k", "v", 1, 1000, none), "an empty list: untagged");
    redisx_client_close(c); /* the handles keep the client's memory alive */
    EXPECT_ST(REDISX_ERR_CLOSED, redisx_cache_invalidate_tags(cache, none), "closed");
    EXPECT_ST(REDISX_ERR_CLOSED, redisx_cache_set_tagged(cache, "k", "v", 1, 1000, none), "closed");
    redisx_tags_free(none);
    redisx_tags_free(t);
    free(longtag);
    redisx_cache_free(cache);
}
