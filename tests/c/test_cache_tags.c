/* Cache tags (docs/CACHE.md, "Tags"; docs/KEYS.md, contract v5): a version
 * per tag, a snapshot of them in each tagged entry, checked on every read.
 * After redisx_cache_invalidate_tags() returns no client reads an entry
 * written before it from L2, the invalidating process's L1 copies are gone
 * and a tracking client's go when the server's message arrives; a load
 * running across an invalidation fills a stale entry. Runs on the shared
 * server and, as c_cache_tags_cluster, on a 3-master cluster. The pure
 * parts (snapshots, the version table) are unit tests: INTERNAL. */
#include <stdio.h>
#include <string.h>

#include "cache_tags.h"
#include "cache_util.h"
#include "internal.h"

/* ---- pure parts ---------------------------------------------------------------- */

Test(cache_tags, snapshot_round_trips_binary_tags)
{
    const char bin[] = {'a', '\0', '}', ':', ';', 'z'};
    redisx__tag in[] = {{"users", 5, 7}, {bin, sizeof bin, 0}, {"x", 1, 1234567890123LL}};
    size_t len = 0;
    char *s = redisx__snap_encode(in, 3, &len);
    cr_assert_not_null(s);
    redisx__tag out[4];
    cr_assert_eq(redisx__snap_parse(s, len, out, 4), 3);
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(out[i].len, in[i].len);
        cr_assert_eq(memcmp(out[i].p, in[i].p, in[i].len), 0);
        cr_assert_eq(out[i].version, in[i].version);
    }
    cr_assert_eq(redisx__snap_parse(s, len, out, 2), -1, "more tags than room");
    cr_assert_eq(redisx__snap_parse(s, len - 1, out, 4), -1, "truncated");
    cr_assert_eq(redisx__snap_parse("9:ab:1;", 7, out, 4), -1, "length past the end");
    cr_assert_eq(redisx__snap_parse("", 0, out, 4), 0);
    free(s);
}

Test(cache_tags, lists_are_sorted_and_deduplicated)
{
    redisx_tags *t = NULL;
    cr_assert_eq(redisx_tags_new(&t), REDISX_OK);
    const char *names[] = {"b", "a", "b", "ab"};
    for (int i = 0; i < 4; i++)
        cr_assert_eq(redisx_tags_add(t, names[i], strlen(names[i])), REDISX_OK);
    cr_assert_eq(redisx_tags_count(t), 4);
    redisx__tag *v = NULL;
    size_t n = 0;
    cr_assert_eq(redisx__tags_canon(t, &v, &n), REDISX_OK);
    cr_assert_eq(n, 3);
    cr_assert(v[0].len == 1 && v[0].p[0] == 'a');
    cr_assert(v[1].len == 2 && memcmp(v[1].p, "ab", 2) == 0);
    cr_assert(v[2].len == 1 && v[2].p[0] == 'b');
    free(v);
    redisx_tags_free(t);
}

Test(cache_tags, tag_keys_encode_what_a_hash_tag_cannot_hold)
{
    char *k = redisx__tag_key("p", "cache:c", "users", 5);
    cr_assert_str_eq(k, "p:cache:c:{users}:tag");
    free(k);
    k = redisx__tag_key("p", "cache:c", "a\0}", 3);
    cr_assert_str_eq(k, "p:cache:c:{~61007d}:tag");
    free(k);
    k = redisx__tag_key("p", "cache:c", "~x", 2);
    cr_assert_str_eq(k, "p:cache:c:{~7e78}:tag");
    free(k);
}

Test(cache_tags, the_table_keeps_the_highest_version_and_forgets_on_drop)
{
    redisx__tagtab *t = redisx__tagtab_new();
    int64_t v = -1;
    cr_assert_not(redisx__tagtab_get(t, "a", 1, 0, &v));
    redisx__tagtab_put(t, "a", 1, 3, 0);
    redisx__tagtab_put(t, "a", 1, 2, 1); /* an older read: ignored */
    cr_assert(redisx__tagtab_get(t, "a", 1, 0, &v) && v == 3);
    cr_assert_not(redisx__tagtab_get(t, "a", 1, 1, &v), "not tracked");
    redisx__tagtab_put(t, "a", 1, 3, 1); /* a tracked read confirms it */
    cr_assert(redisx__tagtab_get(t, "a", 1, 1, &v) && v == 3);
    uint64_t seq = redisx__tagtab_seq(t);
    redisx__tagtab_drop(t, "a", 1);
    cr_assert_neq(redisx__tagtab_seq(t), seq);
    cr_assert_not(redisx__tagtab_get(t, "a", 1, 0, &v));
    for (int i = 0; i < REDISX__TAGTAB_MAX + 10; i++) {
        char b[16];
        int n = snprintf(b, sizeof b, "t%d", i);
        redisx__tagtab_put(t, b, (size_t)n, 1, 0);
    }
    cr_assert_leq(redisx__tagtab_count(t), REDISX__TAGTAB_MAX, "bounded");
    redisx__tagtab_free(t);
}

/* ---- against Redis -------------------------------------------------------------- */

/* Clients of one prefix with rt_client()'s long command timeout: under
 * valgrind a default one runs out, and a fail-open cache then answers MISS
 * (and a tracking client drops its L1 copies), which these tests would
 * take for an invalidation. */
static redisx_client *client_of(const char *prefix)
{
    redisx_options *o = NULL;
    cr_assert_eq(redisx_options_new(&o), REDISX_OK);
    cr_assert_eq(rt_options_url(o), REDISX_OK);
    cr_assert_eq(redisx_options_set_prefix(o, prefix), REDISX_OK);
    cr_assert_eq(redisx_options_set_command_timeout_ms(o, RT_COMMAND_TIMEOUT_MS), REDISX_OK);
    redisx_client *c = NULL;
    cr_assert_eq(redisx_client_open(&c, o), REDISX_OK, "%s", redisx_last_error());
    redisx_options_free(o);
    return c;
}

static redisx_tags *tags_of(const char *a, const char *b)
{
    redisx_tags *t = NULL;
    cr_assert_eq(redisx_tags_new(&t), REDISX_OK);
    if (a)
        cr_assert_eq(redisx_tags_add(t, a, strlen(a)), REDISX_OK);
    if (b)
        cr_assert_eq(redisx_tags_add(t, b, strlen(b)), REDISX_OK);
    return t;
}

static redisx_cache_state get_state(redisx_cache *cache, const char *key, redisx_cache_layer *layer)
{
    redisx_cache_entry *e = NULL;
    redisx_status st = redisx_cache_get(&e, cache, key);
    cr_assert_eq(st, REDISX_OK, "get %s: %s", key, redisx_last_error());
    redisx_cache_state s = redisx_cache_entry_state(e);
    if (layer)
        *layer = redisx_cache_entry_layer(e);
    redisx_cache_entry_free(e);
    return s;
}

static redisx_cache *tracking_cache_on(redisx_client *c, const char *name)
{
    redisx_cache *cache = NULL;
    cr_assert_eq(redisx_cache_new(&cache, c, name), REDISX_OK);
    cr_assert_eq(redisx_cache_set_l1(cache, 20000, 64 << 20, 600000), REDISX_OK);
    cr_assert_eq(redisx_cache_set_tracking(cache, 1), REDISX_OK);
    return cache;
}

/* Gets key until it is served from the L1 (a tracking cache caches only
 * once tracking is established); up to 10 s. */
static void await_l1(redisx_cache *cache, const char *key)
{
    redisx_cache_layer layer = REDISX_CACHE_LAYER_NONE;
    for (int i = 0; i < 1000; i++) {
        cr_assert_eq(get_state(cache, key, &layer), REDISX_CACHE_HIT);
        if (layer == REDISX_CACHE_LAYER_L1)
            return;
        rt_sleep_ms(10);
    }
    cr_assert_fail("%s never reached the L1", key);
}

typedef struct counted {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int left;
    redisx_status st;
} counted;

static void on_counted(redisx_client *c, redisx_status st, void *user)
{
    (void)c;
    counted *k = user;
    pthread_mutex_lock(&k->mu);
    if (st != REDISX_OK)
        k->st = st;
    k->left--;
    pthread_cond_broadcast(&k->cv);
    pthread_mutex_unlock(&k->mu);
}

#define N_TAGGED 10000
#define N_OTHER 100

/* How many of keys <fmt><i> (i < n) a get answers HIT. */
static int hits(redisx_cache *cache, const char *fmt, int n)
{
    int h = 0;
    char key[64];
    for (int i = 0; i < n; i++) {
        snprintf(key, sizeof key, fmt, i);
        h += get_state(cache, key, NULL) == REDISX_CACHE_HIT;
    }
    return h;
}

Test(cache_tags, tags_across_10k_entries_invalidated_atomically, .timeout = 1200)
{
    redisx_client *a = client_of("tg10k"), *b = client_of("tg10k"),
                  *c = client_of("tg10k");
    redisx_cache *ca = cache_on(a, "c", 1), *cb = tracking_cache_on(b, "c"), *cc = cache_on(c, "c", 0);
    cr_assert_eq(redisx_cache_set_l1(ca, 20000, 64 << 20, 600000), REDISX_OK);
    redisx_tags *t = tags_of("T", NULL), *u = tags_of("U", NULL);
    /* 10k entries tagged T written asynchronously (pipelined), 100 tagged U. */
    counted k = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, N_TAGGED + N_OTHER, REDISX_OK};
    char key[64];
    for (int i = 0; i < N_TAGGED + N_OTHER; i++) {
        int other = i >= N_TAGGED;
        snprintf(key, sizeof key, other ? "u%d" : "k%d", other ? i - N_TAGGED : i);
        cr_assert_eq(redisx_cache_set_tagged_async(ca, key, "v", 1, 600000, other ? u : t, on_counted, &k),
                     REDISX_OK, "%s", redisx_last_error());
    }
    pthread_mutex_lock(&k.mu);
    while (k.left > 0)
        pthread_cond_wait(&k.cv, &k.mu);
    pthread_mutex_unlock(&k.mu);
    cr_assert_eq(k.st, REDISX_OK);
    /* Every client sees them; A and B keep L1 copies. */
    await_l1(cb, "k0");
    cr_assert_eq(hits(cc, "k%d", N_TAGGED), N_TAGGED);
    cr_assert_eq(hits(ca, "k%d", N_TAGGED), N_TAGGED);
    cr_assert_eq(hits(cb, "k%d", N_TAGGED), N_TAGGED);
    redisx_cache_layer layer;
    cr_assert_eq(get_state(cb, "k9999", &layer), REDISX_CACHE_HIT);
    cr_assert_eq(layer, REDISX_CACHE_LAYER_L1, "B serves from its L1");
    cr_assert_eq(get_state(ca, "k9999", &layer), REDISX_CACHE_HIT);
    cr_assert_eq(layer, REDISX_CACHE_LAYER_L1, "A serves from its L1");

    uint64_t inv0 = redisx_cache_counter_of(cb, REDISX_CACHE_INVALIDATIONS);
    long long t0 = now_ms();
    cr_assert_eq(redisx_cache_invalidate_tags(ca, t), REDISX_OK, "%s", redisx_last_error());
    long long took = now_ms() - t0;
    /* Returned: nothing written before it is read from L2 (C has no L1),
     * nor from the invalidating process's L1. */
    cr_assert_eq(hits(cc, "k%d", N_TAGGED), 0, "C (no L1) reads none of the invalidated entries");
    cr_assert_eq(hits(ca, "k%d", N_TAGGED), 0, "A (its own L1) reads none of them");
    /* B's L1 copies go with the tracking message (the bound a delete has). */
    long long deadline = now_ms() + 30000;
    while (redisx_cache_counter_of(cb, REDISX_CACHE_INVALIDATIONS) == inv0 && now_ms() < deadline) {
        struct timespec ts = {0, 2000000};
        nanosleep(&ts, NULL);
    }
    cr_assert_neq(redisx_cache_counter_of(cb, REDISX_CACHE_INVALIDATIONS), inv0, "B heard of the tag");
    cr_assert_eq(hits(cb, "k%d", N_TAGGED), 0, "B (tracking L1) reads none of them");
    /* Other tags are untouched; writes after the invalidation are served. */
    cr_assert_eq(hits(cc, "u%d", N_OTHER), N_OTHER);
    cr_assert_eq(hits(cb, "u%d", N_OTHER), N_OTHER);
    cr_assert_eq(redisx_cache_set_tagged(ca, "k1", "w", 1, 600000, t), REDISX_OK);
    cr_assert_eq(get_state(cc, "k1", NULL), REDISX_CACHE_HIT);
    cr_assert_eq(get_state(cb, "k1", NULL), REDISX_CACHE_HIT);
    fprintf(stderr, "invalidate_tags over %d entries took %lld ms\n", N_TAGGED, took);
    redisx_tags_free(t);
    redisx_tags_free(u);
    redisx_cache_free(ca);
    redisx_cache_free(cb);
    redisx_cache_free(cc);
    redisx_client_close(a);
    redisx_client_close(b);
    redisx_client_close(c);
}

Test(cache_tags, an_invalidation_during_a_load_makes_the_fill_stale)
{
    redisx_client *a = client_of("tgload"), *b = client_of("tgload");
    redisx_cache *ca = cache_on(a, "c", 1), *cb = cache_on(b, "c", 0);
    redisx_tags *t = tags_of("orders", "users");
    redisx_cache_entry *e = NULL;
    cr_assert_eq(redisx_cache_fetch_tagged(&e, ca, "k", t, 5000, 0, 0), REDISX_OK, "%s", redisx_last_error());
    cr_assert_eq(redisx_cache_entry_state(e), REDISX_CACHE_LOAD);
    redisx_tags *users = tags_of("users", NULL);
    cr_assert_eq(redisx_cache_invalidate_tags(cb, users), REDISX_OK); /* while A loads */
    cr_assert_eq(redisx_cache_fill(e, "old", 3, 600000), REDISX_OK, "the fill itself lands");
    redisx_cache_entry_free(e);
    cr_assert_eq(get_state(cb, "k", NULL), REDISX_CACHE_MISS, "but is stale on arrival");
    /* The loader's own L1 copy is another process's concern here (B
     * invalidated, A has no tracking): it goes within A's L1 TTL (1 s), as
     * after a delete. */
    long long deadline = now_ms() + 10000;
    while (get_state(ca, "k", NULL) != REDISX_CACHE_MISS && now_ms() < deadline)
        rt_sleep_ms(20);
    cr_assert_eq(get_state(ca, "k", NULL), REDISX_CACHE_MISS, "for the loader's process too, within its L1 TTL");
    /* The next fetch loads again, and that fill stands. */
    cr_assert_eq(redisx_cache_fetch_tagged(&e, cb, "k", t, 5000, 0, 0), REDISX_OK);
    cr_assert_eq(redisx_cache_entry_state(e), REDISX_CACHE_LOAD);
    cr_assert_eq(redisx_cache_fill(e, "new", 3, 600000), REDISX_OK);
    redisx_cache_entry_free(e);
    e = fetch(ca, "k", 5000, 0, 0);
    cr_assert_eq(redisx_cache_entry_state(e), REDISX_CACHE_HIT);
    cr_assert(value_is(e, "new", 3));
    redisx_cache_entry_free(e);
    redisx_tags_free(t);
    redisx_tags_free(users);
    redisx_cache_free(ca);
    redisx_cache_free(cb);
    redisx_client_close(a);
    redisx_client_close(b);
}

Test(cache_tags, a_second_clients_l1_drops_tagged_entries)
{
    redisx_client *a = client_of("tgl1"), *b = client_of("tgl1");
    redisx_cache *ca = cache_on(a, "c", 0), *cb = tracking_cache_on(b, "c");
    redisx_tags *t = tags_of("T", NULL);
    cr_assert_eq(redisx_cache_set_tagged(ca, "k", "v", 1, 600000, t), REDISX_OK);
    cr_assert_eq(redisx_cache_set(ca, "plain", "p", 1, 600000), REDISX_OK);
    await_l1(cb, "k");
    await_l1(cb, "plain");
    cr_assert_eq(redisx_cache_invalidate_tags(ca, t), REDISX_OK);
    redisx_cache_entry *e = (redisx_cache_entry *)1;
    long long deadline = now_ms() + 30000;
    do {
        redisx_cache_entry_free(e == (redisx_cache_entry *)1 ? NULL : e);
        e = NULL;
        cr_assert_eq(redisx_cache_peek(&e, cb, "k"), REDISX_OK);
    } while (e && now_ms() < deadline);
    cr_assert_null(e, "B's L1 dropped the tagged copy");
    cr_assert_eq(get_state(cb, "k", NULL), REDISX_CACHE_MISS);
    cr_assert_eq(redisx_cache_peek(&e, cb, "plain"), REDISX_OK);
    cr_assert_not_null(e, "an untagged copy stays");
    redisx_cache_entry_free(e);
    redisx_tags_free(t);
    redisx_cache_free(ca);
    redisx_cache_free(cb);
    redisx_client_close(a);
    redisx_client_close(b);
}

Test(cache_tags, a_delete_and_a_tag_of_another_cache_are_separate)
{
    redisx_client *a = client_of("tgsep");
    redisx_cache *c1 = cache_on(a, "one", 0), *c2 = cache_on(a, "two", 0);
    redisx_tags *t = tags_of("T", NULL);
    cr_assert_eq(redisx_cache_set_tagged(c1, "k", "1", 1, 600000, t), REDISX_OK);
    cr_assert_eq(redisx_cache_set_tagged(c2, "k", "2", 1, 600000, t), REDISX_OK);
    cr_assert_eq(redisx_cache_invalidate_tags(c1, t), REDISX_OK);
    cr_assert_eq(get_state(c1, "k", NULL), REDISX_CACHE_MISS);
    cr_assert_eq(get_state(c2, "k", NULL), REDISX_CACHE_HIT, "tags are per cache name");
    redisx_tags_free(t);
    redisx_cache_free(c1);
    redisx_cache_free(c2);
    redisx_client_close(a);
}

Test(cache_tags, binary_tags_work_and_bad_ones_are_refused)
{
    redisx_client *a = client_of("tgbin");
    redisx_cache *ca = cache_on(a, "c", 1);
    redisx_tags *t = NULL;
    cr_assert_eq(redisx_tags_new(&t), REDISX_OK);
    const char bin[] = {'x', '\0', '}', '{', '~'};
    cr_assert_eq(redisx_tags_add(t, bin, sizeof bin), REDISX_OK);
    cr_assert_eq(redisx_cache_set_tagged(ca, "k", "v", 1, 600000, t), REDISX_OK, "%s", redisx_last_error());
    cr_assert_eq(get_state(ca, "k", NULL), REDISX_CACHE_HIT);
    cr_assert_eq(redisx_cache_invalidate_tags(ca, t), REDISX_OK);
    cr_assert_eq(get_state(ca, "k", NULL), REDISX_CACHE_MISS);

    cr_assert_eq(redisx_tags_add(t, "", 0), REDISX_ERR_INVALID);
    cr_assert(strstr(redisx_last_error(), "1..1024 bytes"), "%s", redisx_last_error());
    char big[REDISX_CACHE_TAG_MAX + 1];
    memset(big, 'b', sizeof big);
    cr_assert_eq(redisx_tags_add(t, big, sizeof big), REDISX_ERR_INVALID);
    cr_assert_eq(redisx_tags_add(t, big, sizeof big - 1), REDISX_OK, "1024 bytes is allowed");
    cr_assert_eq(redisx_tags_add(NULL, "a", 1), REDISX_ERR_INVALID);
    cr_assert_eq(redisx_tags_add(t, NULL, 1), REDISX_ERR_INVALID);
    cr_assert_eq(redisx_tags_count(NULL), 0);
    redisx_tags_free(NULL);
    for (int i = 0; i < REDISX_CACHE_TAGS_MAX; i++) {
        char b[8];
        int n = snprintf(b, sizeof b, "%d", i);
        cr_assert_eq(redisx_tags_add(t, b, (size_t)n), REDISX_OK);
    }
    cr_assert_eq(redisx_cache_set_tagged(ca, "k", "v", 1, 600000, t), REDISX_ERR_INVALID);
    cr_assert(strstr(redisx_last_error(), "at most 64 tags"), "%s", redisx_last_error());
    redisx_cache_entry *e = NULL;
    cr_assert_eq(redisx_cache_fetch_tagged(&e, ca, "k", t, 0, 0, 0), REDISX_ERR_INVALID);
    cr_assert_null(e);
    cr_assert_eq(redisx_cache_invalidate_tags(ca, t), REDISX_OK, "an invalidation takes more");
    cr_assert_eq(redisx_cache_invalidate_tags(ca, NULL), REDISX_ERR_INVALID);
    cr_assert_eq(redisx_cache_invalidate_tags(NULL, t), REDISX_ERR_INVALID);
    redisx_tags *none = NULL;
    cr_assert_eq(redisx_tags_new(&none), REDISX_OK);
    cr_assert_eq(redisx_cache_invalidate_tags(ca, none), REDISX_OK, "nothing to do");
    cr_assert_eq(redisx_cache_set_tagged(ca, "k2", "v", 1, 600000, none), REDISX_OK, "untagged");
    cr_assert_eq(redisx_cache_set_tagged(ca, "k3", "v", 1, 600000, NULL), REDISX_OK, "untagged");
    cr_assert_eq(get_state(ca, "k3", NULL), REDISX_CACHE_HIT);
    redisx_tags_free(none);
    redisx_tags_free(t);
    redisx_cache_free(ca);
    redisx_client_close(a);
}
