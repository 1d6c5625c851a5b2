/* Every primitive (locks, rate limits, idempotency, the cache) as a
 * least-privilege ACL user (the rules of docs/KEYS.md, "ACL rules"): with the wake-up channels, without them (Redis 7's default
 * acl-pubsub-default resetchannels: waits then poll), and in the shorter
 * category form. A write that happened is never reported as a failure. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"

#define COMMANDS                                                                                          \
    "+evalsha", "+eval", "+del", "+get", "+set", "+pttl", "+pexpire", "+hmget", "+hset", "+hdel",   \
        "+hincrby", "+incrby", "+incr", "+zadd", "+zcard", "+zcount", "+zrangebyscore", "+zremrangebyscore", "+time"

typedef struct box {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int done;
    redisx_status st;
    redisx_lock *lk;
    redisx_idem *rec;
    redisx_cache_entry *entry;
} box;

static void box_init(box *b)
{
    memset(b, 0, sizeof *b);
    pthread_mutex_init(&b->mu, NULL);
    pthread_cond_init(&b->cv, NULL);
}

static void box_wait(box *b)
{
    pthread_mutex_lock(&b->mu);
    while (!b->done)
        pthread_cond_wait(&b->cv, &b->mu);
    pthread_mutex_unlock(&b->mu);
}

static void box_done(box *b, redisx_status st)
{
    pthread_mutex_lock(&b->mu);
    b->st = st;
    b->done = 1;
    pthread_cond_signal(&b->cv);
    pthread_mutex_unlock(&b->mu);
}

static void lock_cb(redisx_client *c, redisx_status st, redisx_lock *lk, void *user)
{
    (void)c;
    ((box *)user)->lk = lk;
    box_done(user, st);
}

static void idem_cb(redisx_client *c, redisx_status st, redisx_idem *rec, void *user)
{
    (void)c;
    ((box *)user)->rec = rec;
    box_done(user, st);
}

/* Creates `user` with `rules` (NULL-terminated) and opens a client as it. */
static void cache_cb(redisx_client *c, redisx_status st, redisx_cache_entry *entry, void *user)
{
    (void)c;
    box *b = user;
    b->entry = entry;
    box_done(b, st);
}

/* A cache of c with its L1 off: every call runs its script or command. */
static redisx_cache *l2_cache(redisx_client *c)
{
    redisx_cache *cache = NULL;
    cr_assert_eq(redisx_cache_new(&cache, c, "acl"), REDISX_OK, "%s", redisx_last_error());
    cr_assert_eq(redisx_cache_set_l1(cache, 0, 0, 0), REDISX_OK);
    return cache;
}

static void expect_value(redisx_cache *cache, const char *key, const char *want)
{
    redisx_cache_entry *e = NULL;
    cr_assert_eq(redisx_cache_get(&e, cache, key), REDISX_OK, "get %s: %s", key, redisx_last_error());
    size_t len = 0;
    const char *v = redisx_cache_entry_value(e, &len);
    if (want) {
        cr_assert_eq(redisx_cache_entry_state(e), REDISX_CACHE_HIT, "%s is there", key);
        cr_assert(len == strlen(want) && memcmp(v, want, len) == 0, "%s holds %s", key, want);
    } else {
        cr_assert_eq(redisx_cache_entry_state(e), REDISX_CACHE_MISS, "%s is gone", key);
    }
    redisx_cache_entry_free(e);
}

static void every_cache_call(redisx_client *c, redisx_client *peer)
{
    redisx_cache *cache = l2_cache(c), *other = l2_cache(peer);
    /* set, get, delete */
    cr_assert_eq(redisx_cache_set(cache, "k", "v", 1, 60000), REDISX_OK, "set: %s", redisx_last_error());
    expect_value(other, "k", "v");
    cr_assert_eq(redisx_cache_delete(cache, "k"), REDISX_OK, "delete: %s", redisx_last_error());
    expect_value(other, "k", NULL);
    /* get-or-load: c loads, the peer waits (woken by the fill's PUBLISH,
     * or by its poll) and gets the value */
    redisx_cache_entry *e = NULL;
    cr_assert_eq(redisx_cache_fetch(&e, cache, "load", 0, 0, 0), REDISX_OK, "fetch: %s", redisx_last_error());
    cr_assert_eq(redisx_cache_entry_state(e), REDISX_CACHE_LOAD);
    box b;
    box_init(&b);
    cr_assert_eq(redisx_cache_fetch_async(other, "load", 60000, 0, 0, cache_cb, &b), REDISX_OK);
    cr_assert_eq(redisx_cache_fill(e, "loaded", 6, 60000), REDISX_OK, "fill: %s", redisx_last_error());
    redisx_cache_entry_free(e);
    box_wait(&b);
    cr_assert_eq(b.st, REDISX_OK, "waiting fetch: %s", redisx_strerror(b.st));
    cr_assert_eq(redisx_cache_entry_state(b.entry), REDISX_CACHE_HIT, "the waiter got the loaded value");
    redisx_cache_entry_free(b.entry);
    /* a negative fill, and an abandoned load */
    cr_assert_eq(redisx_cache_fetch(&e, cache, "none", 0, 0, 0), REDISX_OK);
    cr_assert_eq(redisx_cache_fill_negative(e), REDISX_OK, "fill_negative: %s", redisx_last_error());
    redisx_cache_entry_free(e);
    cr_assert_eq(redisx_cache_get(&e, other, "none"), REDISX_OK);
    cr_assert_eq(redisx_cache_entry_state(e), REDISX_CACHE_NEGATIVE);
    redisx_cache_entry_free(e);
    cr_assert_eq(redisx_cache_fetch(&e, cache, "fails", 0, 0, 0), REDISX_OK);
    cr_assert_eq(redisx_cache_abandon(e), REDISX_OK, "abandon: %s", redisx_last_error());
    redisx_cache_entry_free(e);
    cr_assert_eq(redisx_cache_fetch(&e, other, "fails", 0, 0, 0), REDISX_OK);
    cr_assert_eq(redisx_cache_entry_state(e), REDISX_CACHE_LOAD, "the abandoned lease is free");
    redisx_cache_entry_free(e);
    /* tags */
    redisx_tags *t = NULL;
    cr_assert_eq(redisx_tags_new(&t), REDISX_OK);
    cr_assert_eq(redisx_tags_add(t, "T", 1), REDISX_OK);
    cr_assert_eq(redisx_cache_set_tagged(cache, "tagged", "tv", 2, 60000, t), REDISX_OK, "set_tagged: %s",
                 redisx_last_error());
    cr_assert_eq(redisx_cache_fetch_tagged(&e, other, "tagged", t, 0, 0, 0), REDISX_OK, "fetch_tagged: %s",
                 redisx_last_error());
    cr_assert_eq(redisx_cache_entry_state(e), REDISX_CACHE_HIT);
    redisx_cache_entry_free(e);
    cr_assert_eq(redisx_cache_invalidate_tags(cache, t), REDISX_OK, "invalidate_tags: %s", redisx_last_error());
    expect_value(other, "tagged", NULL);
    redisx_tags_free(t);
    redisx_cache_free(cache);
    redisx_cache_free(other);
}

static redisx_client *client_as(redisx_client *admin, const char *user, const char *prefix, const char **rules)
{
    const char *argv[64] = {"ACL", "SETUSER", user, "reset", "on", ">pw"};
    int n = 6;
    while (*rules)
        argv[n++] = *rules++;
    redisx_reply *r = rt_cmd(admin, n, argv);
    cr_assert_eq(redisx_reply_type_of(r), REDISX_REPLY_STATUS, "ACL SETUSER: %s", redisx_reply_string(r, NULL));
    redisx_reply_free(r);
    /* Each test's first call may find the scripts missing: the user's EVAL
     * fallback is covered too. */
    char url[256];
    snprintf(url, sizeof url, "%s://%s:pw@127.0.0.1:%d", rt_scheme(), user, rt_port());
    redisx_options *o = NULL;
    redisx_options_new(&o);
    redisx_options_set_url(o, url);
    rt_options_ca(o);
    cr_assert_eq(redisx_options_set_prefix(o, prefix), REDISX_OK);
    redisx_client *c = NULL;
    cr_assert_eq(redisx_client_open(&c, o), REDISX_OK, "%s", redisx_last_error());
    redisx_options_free(o);
    return c;
}

static void every_primitive(redisx_client *c, redisx_client *peer)
{
    /* locks */
    redisx_lock *lk = NULL;
    cr_assert_eq(redisx_lock_try_acquire(&lk, c, "job", 60000), REDISX_OK, "acquire: %s", redisx_last_error());
    redisx_lock_info *info = NULL;
    cr_assert_eq(redisx_lock_inspect(&info, c, "job"), REDISX_OK, "inspect: %s", redisx_last_error());
    cr_assert_eq(redisx_lock_info_fencing_token(info), redisx_lock_fencing_token(lk));
    redisx_lock_info_free(info);
    cr_assert_eq(redisx_lock_extend(lk, 60000), REDISX_OK, "extend: %s", redisx_last_error());
    cr_assert_eq(redisx_lock_release(lk), REDISX_OK, "release: %s", redisx_last_error());
    redisx_lock_free(lk);
    cr_assert_eq(redisx_lock_inspect(&info, c, "job"), REDISX_OK);
    cr_assert_eq(redisx_lock_info_locked(info), 0, "the release took effect");
    redisx_lock_info_free(info);

    /* a waiting acquire: woken by the release's PUBLISH, or by its poll */
    cr_assert_eq(redisx_lock_try_acquire(&lk, peer, "wait", 60000), REDISX_OK, "%s", redisx_last_error());
    box b;
    box_init(&b);
    cr_assert_eq(redisx_lock_acquire_async(c, "wait", 60000, 60000, lock_cb, &b), REDISX_OK);
    cr_assert_eq(redisx_lock_release(lk), REDISX_OK, "%s", redisx_last_error());
    redisx_lock_free(lk);
    box_wait(&b);
    cr_assert_eq(b.st, REDISX_OK, "waiting acquire: %s", redisx_strerror(b.st));
    cr_assert_eq(redisx_lock_release(b.lk), REDISX_OK);
    redisx_lock_free(b.lk);

    /* rate limits */
    for (int alg = REDISX_RATELIMIT_FIXED_WINDOW; alg <= REDISX_RATELIMIT_GCRA; alg++) {
        redisx_limiter *lim = NULL;
        cr_assert_eq(redisx_limiter_new(&lim, c, "api", (redisx_ratelimit_algorithm)alg, 5, 60000, 0), REDISX_OK);
        redisx_ratelimit_result *res = NULL;
        cr_assert_eq(redisx_limiter_check(&res, lim, "k", 2), REDISX_OK, "check %d: %s", alg, redisx_last_error());
        cr_assert_eq(redisx_ratelimit_result_remaining(res), 3);
        redisx_ratelimit_result_free(res);
        cr_assert_eq(redisx_limiter_peek(&res, lim, "k"), REDISX_OK, "peek %d: %s", alg, redisx_last_error());
        redisx_ratelimit_result_free(res);
        cr_assert_eq(redisx_limiter_reset(lim, "k"), REDISX_OK, "reset %d: %s", alg, redisx_last_error());
        cr_assert_eq(redisx_limiter_peek(&res, lim, "k"), REDISX_OK);
        cr_assert_eq(redisx_ratelimit_result_remaining(res), 5, "the reset took effect");
        redisx_ratelimit_result_free(res);
        redisx_limiter_free(lim);
    }

    /* idempotency */
    redisx_idem *rec = NULL;
    cr_assert_eq(redisx_idem_begin(&rec, c, "pay", "fp", 2, 60000, 0), REDISX_OK, "begin: %s", redisx_last_error());
    cr_assert_eq(redisx_idem_state_of(rec), REDISX_IDEM_NEW);
    cr_assert_eq(redisx_idem_complete(rec, "ok", 2, "m", 1, 60000), REDISX_OK, "complete: %s", redisx_last_error());
    redisx_idem_free(rec);
    cr_assert_eq(redisx_idem_begin(&rec, c, "pay", "fp", 2, 60000, 0), REDISX_OK);
    cr_assert_eq(redisx_idem_state_of(rec), REDISX_IDEM_COMPLETED, "the complete took effect");
    redisx_idem_free(rec);
    cr_assert_eq(redisx_idem_begin(&rec, c, "retry", "fp", 2, 60000, 0), REDISX_OK);
    cr_assert_eq(redisx_idem_fail(rec), REDISX_OK, "fail: %s", redisx_last_error());
    redisx_idem_free(rec);
    cr_assert_eq(redisx_idem_begin(&rec, c, "retry", "fp", 2, 60000, 0), REDISX_OK);
    cr_assert_eq(redisx_idem_state_of(rec), REDISX_IDEM_NEW, "the fail took effect");

    /* a waiting begin: woken by the complete's PUBLISH, or by its poll */
    box_init(&b);
    cr_assert_eq(redisx_idem_begin_async(peer, "retry", "fp", 2, 60000, 60000, idem_cb, &b), REDISX_OK);
    cr_assert_eq(redisx_idem_complete(rec, "late", 4, "", 0, 60000), REDISX_OK, "%s", redisx_last_error());
    redisx_idem_free(rec);
    box_wait(&b);
    cr_assert_eq(b.st, REDISX_OK);
    cr_assert_eq(redisx_idem_state_of(b.rec), REDISX_IDEM_COMPLETED);
    redisx_idem_free(b.rec);

    every_cache_call(c, peer);
}

static void run_as(const char *stem, const char **rules_tail, int with_channels)
{
    redisx_client *admin = rt_client();
    char user[96], prefix[96], keys[128], chans[128];
    rt_unique(stem, user, sizeof user);
    rt_unique("acl", prefix, sizeof prefix);
    snprintf(keys, sizeof keys, "~%s:*", prefix);
    snprintf(chans, sizeof chans, "&%s:*", prefix);
    const char *rules[40];
    int n = 0;
    rules[n++] = keys;
    rules[n++] = "resetchannels";
    if (with_channels)
        rules[n++] = chans;
    while (*rules_tail)
        rules[n++] = *rules_tail++;
    rules[n] = NULL;
    redisx_client *c = client_as(admin, user, prefix, rules);
    char peer_user[128];
    snprintf(peer_user, sizeof peer_user, "%s-peer", user);
    redisx_client *peer = client_as(admin, peer_user, prefix, rules);
    every_primitive(c, peer);
    redisx_client_close(c);
    redisx_client_close(peer);
    const char *del[] = {"ACL", "DELUSER", user, peer_user};
    redisx_reply_free(rt_cmd(admin, 4, del));
    redisx_client_close(admin);
}

Test(acl, every_primitive_works_for_a_user_with_keys_channels_and_commands, .timeout = 120)
{
    const char *cmds[] = {COMMANDS, "+publish", "+subscribe", "+unsubscribe", NULL};
    run_as("full", cmds, 1);
}

Test(acl, every_primitive_works_without_channel_rights_waits_poll, .timeout = 120)
{
    const char *cmds[] = {COMMANDS, NULL};
    run_as("nochan", cmds, 0);
}

Test(acl, every_primitive_works_with_publish_allowed_but_no_channel, .timeout = 120)
{
    /* PUBLISH and SUBSCRIBE granted, no channel pattern: the server refuses
     * them per channel, inside the scripts too. */
    const char *cmds[] = {COMMANDS, "+publish", "+subscribe", "+unsubscribe", NULL};
    run_as("pubnochan", cmds, 0);
}

Test(acl, every_primitive_works_with_the_category_form, .timeout = 120)
{
    const char *cmds[] = {"+@read", "+@write", "-@dangerous", "+evalsha", "+eval", "+time", "+publish",
                          "+subscribe", "+unsubscribe", NULL};
    run_as("cat", cmds, 1);
}
