/* The cache's in-process L1 (core/l1.c), no server: SIEVE eviction order,
 * the entry and byte bounds, TTL and its cap on an injected clock,
 * placeholders against invalidations, epochs, flush, binary keys, values
 * that outlive their eviction, and a multi-threaded stress whose counters
 * must add up afterwards. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "l1.h"

/* ---- helpers ---- */
static _Atomic uint64_t fake_now = 1000000;
static uint64_t fake_clock(void *u)
{
    (void)u;
    return atomic_load(&fake_now);
}

static redisx__l1 *l1_make(size_t entries, size_t bytes, unsigned shards)
{
    redisx__l1_config cfg = {.max_entries = entries, .max_bytes = bytes, .shards = shards,
                             .max_ttl_ns = 1000000000ull, .clock = fake_clock};
    redisx__l1 *l1 = NULL;
    cr_assert_eq(redisx__l1_new(&l1, &cfg), REDISX_OK, "%s", redisx_last_error());
    return l1;
}

static void put(redisx__l1 *l1, const char *k, const char *v)
{
    cr_assert_eq(redisx__l1_set(l1, k, strlen(k), v, strlen(v), 0, NULL), REDISX_OK, "%s", redisx_last_error());
}

static bool has(redisx__l1 *l1, const char *k)
{
    redisx__l1_value *v = NULL;
    redisx_status st = redisx__l1_get(l1, k, strlen(k), &v);
    redisx__l1_value_release(v);
    return st == REDISX_OK;
}

static void expect_value(redisx__l1 *l1, const void *k, size_t klen, const void *want, size_t wlen)
{
    redisx__l1_value *v = NULL;
    cr_assert_eq(redisx__l1_get(l1, k, klen, &v), REDISX_OK, "expected a hit");
    cr_assert_eq(v->len, wlen);
    cr_assert_eq(memcmp(v->data, want, wlen), 0);
    redisx__l1_value_release(v);
}

static redisx__l1_stats stats(redisx__l1 *l1)
{
    redisx__l1_stats s;
    redisx__l1_stats_get(l1, &s);
    return s;
}

static void check(redisx__l1 *l1)
{
    cr_assert_eq(redisx__l1_check(l1), REDISX_OK, "%s", redisx_last_error());
}

/* ---- config ---- */
Test(l1_config, zero_bounds_are_refused)
{
    redisx__l1 *l1 = (redisx__l1 *)1;
    redisx__l1_config cfg = {.max_entries = 0, .max_bytes = 100};
    cr_assert_eq(redisx__l1_new(&l1, &cfg), REDISX_ERR_INVALID);
    cr_assert_null(l1);
    cr_assert_neq(redisx_last_error()[0], '\0');
}

Test(l1_config, shards_must_be_a_power_of_two)
{
    redisx__l1 *l1 = NULL;
    redisx__l1_config cfg = {.max_entries = 1000, .max_bytes = 1 << 20, .shards = 3};
    cr_assert_eq(redisx__l1_new(&l1, &cfg), REDISX_ERR_INVALID);
    cr_assert(strstr(redisx_last_error(), "power of two"), "%s", redisx_last_error());
}

Test(l1_config, max_entry_bytes_above_a_shard_is_refused)
{
    redisx__l1 *l1 = NULL;
    redisx__l1_config cfg = {.max_entries = 1000, .max_bytes = 1 << 20, .shards = 4, .max_entry_bytes = 1 << 19};
    cr_assert_eq(redisx__l1_new(&l1, &cfg), REDISX_ERR_INVALID);
    cr_assert(strstr(redisx_last_error(), "one shard"), "%s", redisx_last_error());
}

/* ---- values and keys ---- */
Test(l1_values, a_set_value_is_returned)
{
    redisx__l1 *l1 = l1_make(100, 1 << 20, 1);
    put(l1, "k", "hello");
    expect_value(l1, "k", 1, "hello", 5);
    cr_assert_not(has(l1, "other"));
    redisx__l1_stats s = stats(l1);
    cr_assert_eq(s.hits, 1);
    cr_assert_eq(s.misses, 1);
    cr_assert_eq(s.entries, 1);
    cr_assert_eq(s.bytes, redisx__l1_charge(1, 5, 0));
    redisx__l1_free(l1);
}

Test(l1_values, binary_keys_and_values_keep_their_nul_bytes)
{
    redisx__l1 *l1 = l1_make(100, 1 << 20, 1);
    const char k1[] = {'a', 0, 'b'}, k2[] = {'a', 0, 'c'}, v1[] = {0, 1, 0, 2}, v2[] = {0};
    cr_assert_eq(redisx__l1_set(l1, k1, 3, v1, 4, 0, NULL), REDISX_OK);
    cr_assert_eq(redisx__l1_set(l1, k2, 3, v2, 1, 0, NULL), REDISX_OK);
    cr_assert_eq(redisx__l1_set(l1, "", 0, "empty key", 9, 0, NULL), REDISX_OK);
    expect_value(l1, k1, 3, v1, 4);
    expect_value(l1, k2, 3, v2, 1);
    expect_value(l1, "", 0, "empty key", 9);
    redisx__l1_value *v = NULL;
    cr_assert_eq(redisx__l1_get(l1, "a", 1, &v), REDISX_ERR_EMPTY, "a prefix of a key is another key");
    cr_assert_null(v);
    redisx__l1_free(l1);
}

Test(l1_values, a_value_outlives_its_eviction_and_invalidation)
{
    redisx__l1 *l1 = l1_make(1, 1 << 20, 1);
    put(l1, "a", "first");
    redisx__l1_value *v = NULL;
    cr_assert_eq(redisx__l1_get(l1, "a", 1, &v), REDISX_OK);
    put(l1, "b", "evicts a");
    cr_assert_not(has(l1, "a"));
    cr_assert_eq(memcmp(v->data, "first", 6), 0, "the reader's reference keeps the bytes (and their NUL)");
    redisx__l1_value *w = NULL;
    cr_assert_eq(redisx__l1_get(l1, "b", 1, &w), REDISX_OK);
    cr_assert(redisx__l1_invalidate(l1, "b", 1));
    cr_assert_eq(memcmp(w->data, "evicts a", 8), 0);
    cr_assert_neq(v->version, w->version, "each store has its own version");
    redisx__l1_value_release(v);
    redisx__l1_value_release(w);
    redisx__l1_free(l1);
}

Test(l1_values, a_value_outlives_the_l1_itself)
{
    redisx__l1 *l1 = l1_make(10, 1 << 20, 1);
    put(l1, "k", "kept");
    redisx__l1_value *v = NULL;
    cr_assert_eq(redisx__l1_get(l1, "k", 1, &v), REDISX_OK);
    redisx__l1_value_retain(v); /* a second holder, e.g. a binding's memo */
    redisx__l1_free(l1);
    cr_assert_eq(memcmp(v->data, "kept", 5), 0);
    redisx__l1_value_release(v);
    cr_assert_eq(memcmp(v->data, "kept", 5), 0);
    redisx__l1_value_release(v);
}

Test(l1_values, metadata_is_kept_with_the_value)
{
    redisx__l1 *l1 = l1_make(100, 1 << 20, 1);
    const unsigned char tags[] = {1, 2, 3, 0, 5};
    redisx__l1_meta m = {.soft_expiry_ns = 777, .delta_ns = 42, .flags = REDISX__L1_NEGATIVE, .tags = tags,
                         .tags_len = sizeof tags};
    cr_assert_eq(redisx__l1_set(l1, "neg", 3, "", 0, 0, &m), REDISX_OK);
    redisx__l1_value *v = NULL;
    cr_assert_eq(redisx__l1_get(l1, "neg", 3, &v), REDISX_OK);
    cr_assert_eq(v->len, 0);
    cr_assert_eq(v->soft_expiry_ns, 777);
    cr_assert_eq(v->delta_ns, 42);
    cr_assert_eq(v->flags, REDISX__L1_NEGATIVE);
    cr_assert_eq(v->tags_len, sizeof tags);
    cr_assert_eq(memcmp(v->tags, tags, sizeof tags), 0);
    cr_assert_eq(stats(l1).bytes, redisx__l1_charge(3, 0, sizeof tags), "tags are counted in the bytes");
    redisx__l1_value_release(v);
    redisx__l1_free(l1);
}

/* ---- SIEVE eviction order (one shard, three entries) ---- */
Test(l1_sieve, an_unvisited_entry_goes_before_a_visited_older_one)
{
    redisx__l1 *l1 = l1_make(3, 1 << 20, 1);
    put(l1, "A", "1");
    put(l1, "B", "2");
    put(l1, "C", "3");
    cr_assert(has(l1, "A")); /* A visited */
    put(l1, "D", "4");       /* hand at A (visited: cleared), then B: evicted */
    cr_assert_eq(stats(l1).evictions, 1);
    put(l1, "E", "5"); /* the hand goes on from where it stopped: C */
    put(l1, "F", "6"); /* then D */
    /* LRU would have kept D, E, F; SIEVE keeps the reused A. */
    cr_assert(has(l1, "A"));
    cr_assert(has(l1, "E"));
    cr_assert(has(l1, "F"));
    cr_assert_not(has(l1, "B"));
    cr_assert_not(has(l1, "C"));
    cr_assert_not(has(l1, "D"));
    check(l1);
    redisx__l1_free(l1);
}

Test(l1_sieve, the_hand_clears_visited_bits_as_it_passes)
{
    redisx__l1 *l1 = l1_make(3, 1 << 20, 1);
    put(l1, "A", "1");
    put(l1, "B", "2");
    put(l1, "C", "3");
    cr_assert(has(l1, "A"));
    cr_assert(has(l1, "B"));
    cr_assert(has(l1, "C"));
    /* All visited: the hand clears A, B, C, wraps to A and evicts it. */
    put(l1, "D", "4");
    cr_assert_not(has(l1, "A"));
    /* Now B and C are unvisited again: the hand (at B) evicts B next. */
    put(l1, "E", "5");
    cr_assert_not(has(l1, "B"));
    cr_assert(has(l1, "C"));
    cr_assert(has(l1, "D"));
    cr_assert(has(l1, "E"));
    check(l1);
    redisx__l1_free(l1);
}

Test(l1_sieve, a_one_time_scan_does_not_flush_a_reused_entry)
{
    redisx__l1 *l1 = l1_make(4, 1 << 20, 1);
    put(l1, "hot", "h");
    char k[8];
    for (int i = 0; i < 100; i++) {
        cr_assert(has(l1, "hot"));
        snprintf(k, sizeof k, "s%d", i);
        put(l1, k, "x");
    }
    cr_assert(has(l1, "hot"));
    check(l1);
    redisx__l1_free(l1);
}

/* ---- bounds ---- */
Test(l1_bounds, the_entry_count_is_bounded)
{
    redisx__l1 *l1 = l1_make(10, 1 << 20, 1);
    char k[16];
    for (int i = 0; i < 100; i++) {
        snprintf(k, sizeof k, "key%d", i);
        put(l1, k, "v");
        cr_assert_leq(stats(l1).entries, 10);
    }
    cr_assert_eq(stats(l1).entries, 10);
    cr_assert_eq(stats(l1).evictions, 90);
    check(l1);
    redisx__l1_free(l1);
}

Test(l1_bounds, many_small_entries_fill_the_bytes_exactly_as_charged)
{
    size_t one = redisx__l1_charge(6, 10, 0); /* "k00000" + 10 bytes */
    size_t bound = one * 25 + one / 2;
    redisx__l1 *l1 = l1_make(1000, bound, 1);
    char k[8];
    for (int i = 0; i < 500; i++) {
        snprintf(k, sizeof k, "k%05d", i);
        cr_assert_eq(redisx__l1_set(l1, k, 6, "0123456789", 10, 0, NULL), REDISX_OK);
        cr_assert_leq(stats(l1).bytes, bound);
    }
    redisx__l1_stats s = stats(l1);
    cr_assert_eq(s.entries, 25, "%llu entries", (unsigned long long)s.entries);
    cr_assert_eq(s.bytes, 25 * one);
    check(l1);
    redisx__l1_free(l1);
}

Test(l1_bounds, one_huge_entry_takes_the_whole_bound)
{
    size_t bound = 1 << 16;
    redisx__l1 *l1 = l1_make(1000, bound, 1);
    char k[8];
    for (int i = 0; i < 50; i++) {
        snprintf(k, sizeof k, "s%d", i);
        put(l1, k, "small");
    }
    size_t vlen = bound - redisx__l1_charge(4, 0, 0);
    char *big = calloc(1, vlen);
    cr_assert_eq(redisx__l1_set(l1, "huge", 4, big, vlen, 0, NULL), REDISX_OK, "%s", redisx_last_error());
    redisx__l1_stats s = stats(l1);
    cr_assert_eq(s.entries, 1);
    cr_assert_eq(s.bytes, bound);
    cr_assert(has(l1, "huge"));
    put(l1, "next", "pushes the huge one out");
    cr_assert_not(has(l1, "huge"));
    check(l1);
    free(big);
    redisx__l1_free(l1);
}

Test(l1_bounds, an_entry_larger_than_the_bound_is_refused_with_a_reason)
{
    size_t bound = 1 << 16;
    redisx__l1 *l1 = l1_make(1000, bound, 1);
    put(l1, "keep", "me");
    size_t vlen = bound - redisx__l1_charge(4, 0, 0) + 1;
    char *big = calloc(1, vlen);
    cr_assert_eq(redisx__l1_set(l1, "huge", 4, big, vlen, 0, NULL), REDISX_ERR_INVALID);
    cr_assert(strstr(redisx_last_error(), "exceeds the maximum entry size"), "%s", redisx_last_error());
    cr_assert(has(l1, "keep"), "a refused entry evicts nothing");
    uint64_t t = 0;
    cr_assert_eq(redisx__l1_reserve(l1, "huge", 4, &t), REDISX_OK);
    bool stored = true;
    cr_assert_eq(redisx__l1_fill(l1, "huge", 4, t, big, vlen, 0, NULL, &stored), REDISX_ERR_INVALID);
    cr_assert_not(stored);
    cr_assert_eq(stats(l1).entries, 1, "the refused fill drops its placeholder");
    check(l1);
    free(big);
    redisx__l1_free(l1);
}

Test(l1_bounds, max_entry_bytes_refuses_below_the_shard_size)
{
    redisx__l1 *l1 = NULL;
    redisx__l1_config cfg = {.max_entries = 100, .max_bytes = 1 << 20, .shards = 1, .max_entry_bytes = 1000};
    cr_assert_eq(redisx__l1_new(&l1, &cfg), REDISX_OK);
    char v[1000] = {0};
    size_t fits = 1000 - redisx__l1_charge(1, 0, 0);
    cr_assert_eq(redisx__l1_set(l1, "k", 1, v, fits, 0, NULL), REDISX_OK);
    cr_assert_eq(redisx__l1_set(l1, "k", 1, v, fits + 1, 0, NULL), REDISX_ERR_INVALID);
    cr_assert(has(l1, "k"), "the refused overwrite left the old value");
    redisx__l1_free(l1);
}

Test(l1_bounds, overwriting_with_a_larger_value_evicts_others_not_itself)
{
    size_t bound = redisx__l1_charge(1, 100, 0) * 4;
    redisx__l1 *l1 = l1_make(100, bound, 1);
    char v[400] = {0};
    for (const char *k = "abcd"; *k; k++)
        cr_assert_eq(redisx__l1_set(l1, k, 1, v, 100, 0, NULL), REDISX_OK);
    cr_assert_eq(redisx__l1_set(l1, "a", 1, v, 250, 0, NULL), REDISX_OK);
    cr_assert(has(l1, "a"));
    cr_assert_leq(stats(l1).bytes, bound);
    check(l1);
    redisx__l1_free(l1);
}

/* ---- TTL ---- */
Test(l1_ttl, an_entry_expires_at_its_ttl_on_the_l1_clock)
{
    redisx__l1 *l1 = l1_make(100, 1 << 20, 1);
    uint64_t t0 = atomic_load(&fake_now);
    cr_assert_eq(redisx__l1_set(l1, "k", 1, "v", 1, 100, NULL), REDISX_OK);
    atomic_store(&fake_now, t0 + 99);
    cr_assert(has(l1, "k"));
    atomic_store(&fake_now, t0 + 100);
    cr_assert_not(has(l1, "k"));
    redisx__l1_stats s = stats(l1);
    cr_assert_eq(s.expirations, 1);
    cr_assert_eq(s.entries, 0, "an expired entry found on read is dropped");
    cr_assert_eq(s.bytes, 0);
    redisx__l1_free(l1);
}

Test(l1_ttl, the_max_ttl_caps_every_entry)
{
    redisx__l1 *l1 = NULL;
    redisx__l1_config cfg = {.max_entries = 100, .max_bytes = 1 << 20, .shards = 1, .max_ttl_ns = 1000,
                             .clock = fake_clock};
    cr_assert_eq(redisx__l1_new(&l1, &cfg), REDISX_OK);
    uint64_t t0 = atomic_load(&fake_now);
    cr_assert_eq(redisx__l1_set(l1, "long", 4, "v", 1, 3600ull * 1000000000ull, NULL), REDISX_OK);
    cr_assert_eq(redisx__l1_set(l1, "none", 4, "v", 1, 0, NULL), REDISX_OK); /* 0: the cap */
    cr_assert_eq(redisx__l1_set(l1, "short", 5, "v", 1, 10, NULL), REDISX_OK);
    redisx__l1_value *v = NULL;
    cr_assert_eq(redisx__l1_get(l1, "long", 4, &v), REDISX_OK);
    cr_assert_eq(v->expires_ns, t0 + 1000);
    redisx__l1_value_release(v);
    atomic_store(&fake_now, t0 + 10);
    cr_assert_not(has(l1, "short"));
    cr_assert(has(l1, "long"));
    atomic_store(&fake_now, t0 + 1000);
    cr_assert_not(has(l1, "long"));
    cr_assert_not(has(l1, "none"));
    redisx__l1_free(l1);
}

/* ---- placeholders ---- */
Test(l1_placeholder, a_fill_stores_when_nothing_came_in_between)
{
    redisx__l1 *l1 = l1_make(100, 1 << 20, 1);
    uint64_t t = 0;
    cr_assert_eq(redisx__l1_reserve(l1, "k", 1, &t), REDISX_OK);
    cr_assert_neq(t, 0);
    cr_assert_not(has(l1, "k"), "a placeholder is a miss");
    bool stored = false;
    cr_assert_eq(redisx__l1_fill(l1, "k", 1, t, "v", 1, 0, NULL, &stored), REDISX_OK);
    cr_assert(stored);
    expect_value(l1, "k", 1, "v", 1);
    check(l1);
    redisx__l1_free(l1);
}

Test(l1_placeholder, an_invalidation_between_reserve_and_fill_wins)
{
    redisx__l1 *l1 = l1_make(100, 1 << 20, 1);
    uint64_t t = 0;
    cr_assert_eq(redisx__l1_reserve(l1, "k", 1, &t), REDISX_OK); /* GET sent */
    cr_assert(redisx__l1_invalidate(l1, "k", 1));                  /* invalidation overtakes the reply */
    bool stored = true;
    cr_assert_eq(redisx__l1_fill(l1, "k", 1, t, "stale", 5, 0, NULL, &stored), REDISX_OK);
    cr_assert_not(stored);
    cr_assert_not(has(l1, "k"));
    redisx__l1_stats s = stats(l1);
    cr_assert_eq(s.fills_refused, 1);
    cr_assert_eq(s.entries, 0);
    redisx__l1_free(l1);
}

Test(l1_placeholder, a_second_reserve_after_invalidate_gets_a_new_token)
{
    redisx__l1 *l1 = l1_make(100, 1 << 20, 1);
    uint64_t t1 = 0, t2 = 0;
    cr_assert_eq(redisx__l1_reserve(l1, "k", 1, &t1), REDISX_OK);
    redisx__l1_invalidate(l1, "k", 1);
    cr_assert_eq(redisx__l1_reserve(l1, "k", 1, &t2), REDISX_OK);
    cr_assert_neq(t1, t2);
    bool stored = true;
    redisx__l1_fill(l1, "k", 1, t1, "old", 3, 0, NULL, &stored);
    cr_assert_not(stored, "the reply to the GET sent before the invalidation is refused");
    redisx__l1_fill(l1, "k", 1, t2, "new", 3, 0, NULL, &stored);
    cr_assert(stored);
    expect_value(l1, "k", 1, "new", 3);
    redisx__l1_free(l1);
}

Test(l1_placeholder, a_local_write_or_flush_between_reserve_and_fill_wins)
{
    redisx__l1 *l1 = l1_make(100, 1 << 20, 1);
    uint64_t t = 0;
    bool stored = true;
    redisx__l1_reserve(l1, "k", 1, &t);
    put(l1, "k", "written");
    redisx__l1_fill(l1, "k", 1, t, "older reply", 11, 0, NULL, &stored);
    cr_assert_not(stored);
    expect_value(l1, "k", 1, "written", 7);
    redisx__l1_reserve(l1, "j", 1, &t);
    redisx__l1_flush(l1);
    redisx__l1_fill(l1, "j", 1, t, "x", 1, 0, NULL, &stored);
    cr_assert_not(stored);
    cr_assert_eq(stats(l1).entries, 0);
    redisx__l1_free(l1);
}

Test(l1_placeholder, a_later_reserve_supersedes_an_earlier_one)
{
    redisx__l1 *l1 = l1_make(100, 1 << 20, 1);
    uint64_t t1 = 0, t2 = 0;
    bool stored = true;
    redisx__l1_reserve(l1, "k", 1, &t1);
    redisx__l1_reserve(l1, "k", 1, &t2);
    redisx__l1_fill(l1, "k", 1, t1, "a", 1, 0, NULL, &stored);
    cr_assert_not(stored);
    redisx__l1_fill(l1, "k", 1, t2, "b", 1, 0, NULL, &stored);
    cr_assert(stored);
    cr_assert_eq(stats(l1).entries, 1);
    redisx__l1_free(l1);
}

Test(l1_placeholder, a_live_value_is_served_while_its_refresh_is_pending)
{
    redisx__l1 *l1 = l1_make(100, 1 << 20, 1);
    put(l1, "k", "old");
    uint64_t t = 0;
    bool stored = false;
    redisx__l1_reserve(l1, "k", 1, &t);
    expect_value(l1, "k", 1, "old", 3);
    redisx__l1_fill(l1, "k", 1, t, "new", 3, 0, NULL, &stored);
    cr_assert(stored);
    expect_value(l1, "k", 1, "new", 3);
    check(l1);
    redisx__l1_free(l1);
}

Test(l1_placeholder, an_expired_value_keeps_its_pending_refresh)
{
    redisx__l1 *l1 = l1_make(100, 1 << 20, 1);
    uint64_t t0 = atomic_load(&fake_now), t = 0;
    bool stored = false;
    cr_assert_eq(redisx__l1_set(l1, "k", 1, "old", 3, 50, NULL), REDISX_OK);
    redisx__l1_reserve(l1, "k", 1, &t);
    atomic_store(&fake_now, t0 + 50);
    cr_assert_not(has(l1, "k"));
    redisx__l1_fill(l1, "k", 1, t, "new", 3, 0, NULL, &stored);
    cr_assert(stored, "expiry is not an invalidation: the refresh still lands");
    expect_value(l1, "k", 1, "new", 3);
    redisx__l1_free(l1);
}

Test(l1_placeholder, cancel_drops_only_its_own_placeholder)
{
    redisx__l1 *l1 = l1_make(100, 1 << 20, 1);
    uint64_t t1 = 0, t2 = 0;
    redisx__l1_reserve(l1, "k", 1, &t1);
    redisx__l1_reserve(l1, "k", 1, &t2);
    redisx__l1_cancel(l1, "k", 1, t1);
    cr_assert_eq(stats(l1).entries, 1, "t1 was superseded: cancel(t1) leaves t2's placeholder");
    redisx__l1_cancel(l1, "k", 1, t2);
    cr_assert_eq(stats(l1).entries, 0);
    cr_assert_eq(stats(l1).bytes, 0);
    redisx__l1_free(l1);
}

Test(l1_placeholder, placeholders_count_against_the_bounds)
{
    redisx__l1 *l1 = l1_make(2, 1 << 20, 1);
    uint64_t t = 0;
    bool stored = true;
    redisx__l1_reserve(l1, "a", 1, &t);
    uint64_t ta = t;
    redisx__l1_reserve(l1, "b", 1, &t);
    redisx__l1_reserve(l1, "c", 1, &t); /* evicts a's placeholder */
    cr_assert_eq(stats(l1).entries, 2);
    cr_assert_eq(stats(l1).bytes, 2 * redisx__l1_node_charge(1));
    redisx__l1_fill(l1, "a", 1, ta, "v", 1, 0, NULL, &stored);
    cr_assert_not(stored, "an evicted placeholder just costs a miss");
    check(l1);
    redisx__l1_free(l1);
}

/* ---- epochs ---- */
Test(l1_epoch, a_dead_epoch_invalidates_its_lane_only)
{
    redisx__l1 *l1 = l1_make(100, 1 << 20, 1);
    uint64_t e1 = redisx__l1_epoch_new(l1, 1), e2 = redisx__l1_epoch_new(l1, 2);
    redisx__l1_meta m1 = {.epoch = e1}, m2 = {.epoch = e2};
    cr_assert_eq(redisx__l1_set(l1, "a", 1, "1", 1, 0, &m1), REDISX_OK);
    cr_assert_eq(redisx__l1_set(l1, "b", 1, "2", 1, 0, &m2), REDISX_OK);
    redisx__l1_invalidate_epoch(l1, e1); /* lane 1's connection was lost */
    cr_assert_not(redisx__l1_epoch_valid(l1, e1));
    cr_assert_not(has(l1, "a"));
    cr_assert(has(l1, "b"));
    uint64_t e1b = redisx__l1_epoch_new(l1, 1); /* tracking re-established */
    cr_assert(redisx__l1_epoch_valid(l1, e1b));
    m1.epoch = e1b;
    cr_assert_eq(redisx__l1_set(l1, "a", 1, "1", 1, 0, &m1), REDISX_OK);
    cr_assert(has(l1, "a"));
    cr_assert_eq(stats(l1).invalidations, 1);
    redisx__l1_free(l1);
}

Test(l1_epoch, nothing_read_under_a_dead_epoch_is_cached)
{
    redisx__l1 *l1 = l1_make(100, 1 << 20, 1);
    uint64_t e = redisx__l1_epoch_new(l1, 3), t = 0;
    bool stored = true;
    redisx__l1_meta m = {.epoch = e};
    redisx__l1_reserve(l1, "k", 1, &t);
    redisx__l1_invalidate_epoch(l1, e); /* the connection dies while the GET is out */
    cr_assert_eq(redisx__l1_fill(l1, "k", 1, t, "v", 1, 0, &m, &stored), REDISX_OK);
    cr_assert_not(stored);
    cr_assert_eq(redisx__l1_set(l1, "j", 1, "v", 1, 0, &m), REDISX_OK);
    cr_assert_not(has(l1, "j"));
    cr_assert_eq(stats(l1).entries, 0);
    redisx__l1_free(l1);
}

Test(l1_epoch, invalidate_all_epochs_kills_every_lane_at_once)
{
    redisx__l1 *l1 = l1_make(1000, 1 << 20, 4);
    char k[16];
    for (unsigned i = 0; i < 100; i++) {
        redisx__l1_meta m = {.epoch = redisx__l1_epoch_new(l1, i % 8)};
        snprintf(k, sizeof k, "k%u", i);
        cr_assert_eq(redisx__l1_set(l1, k, strlen(k), "v", 1, 0, &m), REDISX_OK);
    }
    put(l1, "epoch0", "v");
    redisx__l1_invalidate_all_epochs(l1); /* the invalidation connection was lost */
    for (unsigned i = 0; i < 100; i++) {
        snprintf(k, sizeof k, "k%u", i);
        cr_assert_not(has(l1, k));
    }
    cr_assert_not(has(l1, "epoch0"));
    cr_assert(redisx__l1_epoch_valid(l1, redisx__l1_epoch_new(l1, 0)), "new epochs are valid");
    cr_assert_eq(stats(l1).entries, 0);
    check(l1);
    redisx__l1_free(l1);
}

/* ---- flush ---- */
Test(l1_flush, flush_empties_every_shard)
{
    redisx__l1 *l1 = l1_make(4096, 1 << 22, 8);
    char k[16];
    uint64_t t;
    for (int i = 0; i < 1000; i++) {
        snprintf(k, sizeof k, "k%d", i);
        put(l1, k, "v");
    }
    redisx__l1_reserve(l1, "pending", 7, &t);
    redisx__l1_flush(l1);
    redisx__l1_stats s = stats(l1);
    cr_assert_eq(s.entries, 0);
    cr_assert_eq(s.bytes, 0);
    cr_assert_eq(s.invalidations, 1001);
    cr_assert_not(has(l1, "k1"));
    check(l1);
    put(l1, "after", "works");
    cr_assert(has(l1, "after"));
    redisx__l1_free(l1);
}

/* ---- concurrency ---- */
#define STRESS_THREADS 4
#define STRESS_OPS 200000
#define STRESS_KEYS 512

typedef struct stress_arg {
    redisx__l1 *l1;
    unsigned seed;
    uint64_t gets, bad;
} stress_arg;

static void *stress(void *p)
{
    stress_arg *a = p;
    uint64_t x = a->seed * 0x9e3779b97f4a7c15ull + 1;
    char k[16], v[300];
    for (int i = 0; i < STRESS_OPS; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        unsigned key = (unsigned)(x % STRESS_KEYS), op = (unsigned)((x >> 20) % 100);
        int kl = snprintf(k, sizeof k, "key:%u", key);
        /* Every value of a key starts with the key: a reader can tell a
         * torn or foreign value. */
        size_t vl = (size_t)kl + (x >> 40) % 200;
        memset(v, 'a' + (int)(key % 26), vl);
        memcpy(v, k, (size_t)kl);
        if (op < 60) {
            redisx__l1_value *val = NULL;
            a->gets++;
            if (redisx__l1_get(a->l1, k, (size_t)kl, &val) == REDISX_OK) {
                if (val->len < (size_t)kl || memcmp(val->data, k, (size_t)kl) != 0)
                    a->bad++;
                redisx__l1_value_release(val);
            }
        } else if (op < 80) {
            redisx__l1_meta m = {.epoch = (x >> 30) % 8 == 0 ? redisx__l1_epoch_new(a->l1, key % 4) : 0};
            redisx__l1_set(a->l1, k, (size_t)kl, v, vl, (x >> 50) % 3 == 0 ? 1 : 0, &m);
        } else if (op < 92) {
            uint64_t t = 0;
            bool stored;
            redisx__l1_reserve(a->l1, k, (size_t)kl, &t);
            if (op % 2)
                redisx__l1_fill(a->l1, k, (size_t)kl, t, v, vl, 0, NULL, &stored);
            else
                redisx__l1_cancel(a->l1, k, (size_t)kl, t);
        } else if (op < 98) {
            redisx__l1_invalidate(a->l1, k, (size_t)kl);
        } else if (op < 99) {
            redisx__l1_invalidate_epoch(a->l1, redisx__l1_epoch_new(a->l1, key % 4));
        } else if (i % 1000 == 0) {
            redisx__l1_flush(a->l1);
        }
    }
    return NULL;
}

Test(l1_concurrency, mixed_operations_from_four_threads_keep_the_counters_consistent, .timeout = 300)
{
    /* Small against the key space, so eviction runs all the time. */
    redisx__l1_config cfg = {.max_entries = 128, .max_bytes = 24 * 1024, .shards = 4};
    redisx__l1 *l1 = NULL;
    cr_assert_eq(redisx__l1_new(&l1, &cfg), REDISX_OK);
    pthread_t th[STRESS_THREADS];
    stress_arg args[STRESS_THREADS];
    for (unsigned i = 0; i < STRESS_THREADS; i++) {
        args[i] = (stress_arg){.l1 = l1, .seed = i + 1};
        cr_assert_eq(pthread_create(&th[i], NULL, stress, &args[i]), 0);
    }
    uint64_t gets = 0, bad = 0;
    for (unsigned i = 0; i < STRESS_THREADS; i++) {
        pthread_join(th[i], NULL);
        gets += args[i].gets;
        bad += args[i].bad;
    }
    cr_assert_eq(bad, 0, "a reader saw another key's value");
    check(l1); /* bytes == sum of the entries' charges, counts agree, bounds hold */
    redisx__l1_stats s = stats(l1);
    cr_assert_eq(s.hits + s.misses, gets);
    cr_assert_gt(s.hits, 0);
    cr_assert_gt(s.evictions, 0);
    cr_assert_leq(s.entries, 128);
    cr_assert_leq(s.bytes, 24 * 1024);
    redisx__l1_free(l1);
}

Test(l1_epoch, entries_of_no_connection_survive_a_lane_invalidation)
{
    redisx__l1 *l1 = l1_make(100, 1 << 20, 1);
    put(l1, "untracked", "v"); /* epoch 0 */
    redisx__l1_invalidate_epoch(l1, redisx__l1_epoch_new(l1, 0));
    redisx__l1_invalidate_epoch(l1, 0);
    cr_assert(has(l1, "untracked"));
    redisx__l1_free(l1);
}
