/* Locks against a real redis-server: mutual exclusion across threads and
 * processes, fencing, expiry, renewal, async/blocking agreement. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

/* ---- mutual exclusion ---- */

typedef struct counter_job {
    redisx_client *c;
    const char *lock;
    const char *key;
    int iterations;
    int failures;
} counter_job;

/* GET, +1, SET: not atomic in Redis, so only the lock keeps it exact. */
static void *increment_under_lock(void *arg)
{
    counter_job *job = arg;
    for (int i = 0; i < job->iterations; i++) {
        redisx_lock *lk = NULL;
        if (redisx_lock_acquire(&lk, job->c, job->lock, 10000, 60000) != REDISX_OK) {
            job->failures++;
            continue;
        }
        const char *get[] = {"GET", job->key};
        redisx_reply *r = NULL;
        long long v = 0;
        if (redisx_command(&r, job->c, 2, get, NULL) == REDISX_OK && redisx_reply_type_of(r) == REDISX_REPLY_STRING)
            v = atoll(redisx_reply_string(r, NULL));
        redisx_reply_free(r);
        char buf[32];
        snprintf(buf, sizeof buf, "%lld", v + 1);
        const char *set[] = {"SET", job->key, buf};
        if (redisx_command(&r, job->c, 3, set, NULL) != REDISX_OK)
            job->failures++;
        redisx_reply_free(r);
        if (redisx_lock_release(lk) != REDISX_OK)
            job->failures++;
        redisx_lock_free(lk);
    }
    return NULL;
}

Test(lock, eight_threads_increment_exactly_under_the_lock, .timeout = 300)
{
    redisx_client *c = rt_client();
    char lock[64], key[64];
    rt_unique("cnt-lock", lock, sizeof lock);
    rt_unique("cnt", key, sizeof key);
    int per = 1000;
    pthread_t th[8];
    counter_job jobs[8];
    for (int i = 0; i < 8; i++) {
        jobs[i] = (counter_job){c, lock, key, per, 0};
        pthread_create(&th[i], NULL, increment_under_lock, &jobs[i]);
    }
    for (int i = 0; i < 8; i++) {
        pthread_join(th[i], NULL);
        cr_expect_eq(jobs[i].failures, 0, "thread %d had %d failures", i, jobs[i].failures);
    }
    cr_assert_eq(rt_incr_get(c, key), 8LL * per);
    redisx_client_close(c);
}

Test(lock, four_processes_increment_exactly_under_the_lock, .timeout = 300)
{
    char lock[64], key[64], prefix[64];
    rt_unique("pcnt-lock", lock, sizeof lock);
    rt_unique("pcnt", key, sizeof key);
    rt_unique("p", prefix, sizeof prefix);
    int per = 1000;
    pid_t kids[4];
    for (int i = 0; i < 4; i++) {
        kids[i] = fork();
        cr_assert_geq(kids[i], 0);
        if (kids[i] == 0) {
            /* Each process opens its own client, as separate services would. */
            redisx_options *o = NULL;
            redisx_client *c = NULL;
            if (redisx_options_new(&o) || rt_options_url(o) ||
                redisx_options_set_prefix(o, prefix) || redisx_client_open(&c, o))
                _exit(2);
            redisx_options_free(o);
            counter_job job = {c, lock, key, per, 0};
            increment_under_lock(&job);
            redisx_client_close(c);
            _exit(job.failures == 0 ? 0 : 1);
        }
    }
    for (int i = 0; i < 4; i++) {
        int status = 0;
        waitpid(kids[i], &status, 0);
        cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child %d status %d", i, status);
    }
    redisx_client *c = rt_client();
    cr_assert_eq(rt_incr_get(c, key), 4LL * per);
    redisx_client_close(c);
}

/* ---- fencing, ownership, expiry ---- */

Test(lock, fencing_tokens_strictly_increase_across_holders)
{
    redisx_client *a = rt_client();
    redisx_options *o = NULL;
    redisx_options_new(&o);
    rt_options_url(o);
    redisx_options_set_prefix(o, redisx_client_prefix(a)); /* same keys, other client */
    redisx_client *b = NULL;
    cr_assert_eq(redisx_client_open(&b, o), REDISX_OK);
    redisx_options_free(o);
    int64_t last = 0;
    for (int i = 0; i < 20; i++) {
        redisx_lock *lk = NULL;
        cr_assert_eq(redisx_lock_acquire(&lk, i % 2 ? a : b, "fence", 5000, 2000), REDISX_OK, "%s",
                     redisx_last_error());
        cr_assert_gt(redisx_lock_fencing_token(lk), last);
        last = redisx_lock_fencing_token(lk);
        redisx_lock_info *info = NULL;
        cr_assert_eq(redisx_lock_inspect(&info, i % 2 ? b : a, "fence"), REDISX_OK);
        cr_assert_eq(redisx_lock_info_locked(info), 1);
        cr_assert_eq(redisx_lock_info_fencing_token(info), last, "inspect sees the holder's token");
        cr_assert_eq(redisx_lock_info_last_fencing_token(info), last);
        redisx_lock_info_free(info);
        cr_assert_eq(redisx_lock_release(lk), REDISX_OK);
        redisx_lock_free(lk);
    }
    redisx_client_close(a);
    redisx_client_close(b);
}

static int64_t server_time_us(redisx_client *c)
{
    const char *argv[] = {"TIME"};
    redisx_reply *r = rt_cmd(c, 1, argv);
    int64_t us = atoll(redisx_reply_string(redisx_reply_element(r, 0), NULL)) * 1000000 +
                 atoll(redisx_reply_string(redisx_reply_element(r, 1), NULL));
    redisx_reply_free(r);
    return us;
}

Test(lock, fencing_tokens_come_from_the_server_clock)
{
    redisx_client *c = rt_client();
    int64_t before = server_time_us(c);
    redisx_lock *lk = NULL;
    cr_assert_eq(redisx_lock_acquire(&lk, c, "clock", 60000, 0), REDISX_OK, "%s", redisx_last_error());
    int64_t after = server_time_us(c);
    cr_assert(redisx_lock_fencing_token(lk) >= before && redisx_lock_fencing_token(lk) <= after,
              "%lld not within the server's clock [%lld, %lld] (us)", (long long)redisx_lock_fencing_token(lk),
              (long long)before, (long long)after);
    redisx_lock_release(lk);
    redisx_lock_free(lk);
    redisx_client_close(c);
}

Test(lock, tokens_ahead_of_the_clock_still_increase_by_one)
{
    /* What many acquisitions within one microsecond (or a clock that went
     * back a little) leave behind: a last token ahead of the server's clock.
     * Each new token is then the last + 1, never the clock. */
    redisx_client *c = rt_client();
    char fkey[256], ahead[32];
    snprintf(fkey, sizeof fkey, "%s:lock:{burst}:fence", redisx_client_prefix(c));
    int64_t last = server_time_us(c) + 3600LL * 1000000;
    snprintf(ahead, sizeof ahead, "%lld", (long long)last);
    const char *set[] = {"SET", fkey, ahead, "PX", "60000"};
    redisx_reply_free(rt_cmd(c, 5, set));
    for (int i = 0; i < 50; i++) {
        redisx_lock *lk = NULL;
        cr_assert_eq(redisx_lock_acquire(&lk, c, "burst", 60000, 0), REDISX_OK, "%s", redisx_last_error());
        cr_assert_eq(redisx_lock_fencing_token(lk), last + 1);
        last = redisx_lock_fencing_token(lk);
        cr_assert_eq(redisx_lock_release(lk), REDISX_OK);
        redisx_lock_free(lk);
    }
    const char *pttl[] = {"PTTL", fkey};
    redisx_reply *r = rt_cmd(c, 2, pttl);
    cr_assert_gt(redisx_reply_integer(r), 3000LL * 1000, "a token ahead of the clock is kept until the clock passes it");
    redisx_reply_free(r);
    redisx_client_close(c);
}


/* The lease of no_key_is_left_per_name_after_the_leases. */
#define TTL_MS 2000

/* Every key of the pattern (on this node) expires within the lease. */
static void every_key_expires_within_ttl(redisx_client *node, void *pattern)
{
    const char *keys[] = {"KEYS", pattern};
    redisx_reply *r = rt_cmd(node, 2, keys);
    for (size_t i = 0; i < redisx_reply_elements(r); i++) {
        const char *pttl[] = {"PTTL", redisx_reply_string(redisx_reply_element(r, i), NULL)};
        redisx_reply *t = rt_cmd(node, 2, pttl);
        cr_assert(redisx_reply_integer(t) == -2 || (redisx_reply_integer(t) > 0 && redisx_reply_integer(t) <= TTL_MS),
                  "%s: PTTL %lld", pttl[1], (long long)redisx_reply_integer(t));
        redisx_reply_free(t);
    }
    redisx_reply_free(r);
}

struct key_count {
    const char *pattern;
    size_t n;
};

static void count_keys(redisx_client *node, void *u)
{
    struct key_count *k = u;
    const char *keys[] = {"KEYS", k->pattern};
    redisx_reply *r = rt_cmd(node, 2, keys);
    k->n += redisx_reply_elements(r);
    redisx_reply_free(r);
}

Test(lock, no_key_is_left_per_name_after_the_leases, .timeout = 300)
{
    /* 1000 names: after release, every key left has an expiry within the
     * lease it was issued with, and then none is left. */
    redisx_client *c = rt_client();
    enum { N = 1000, TTL = TTL_MS };
    char name[32], pattern[128];
    for (int i = 0; i < N; i++) {
        snprintf(name, sizeof name, "n%d", i);
        redisx_lock *lk = NULL;
        cr_assert_eq(redisx_lock_acquire(&lk, c, name, TTL, 0), REDISX_OK, "%s", redisx_last_error());
        cr_assert_eq(redisx_lock_release(lk), REDISX_OK);
        redisx_lock_free(lk);
    }
    snprintf(pattern, sizeof pattern, "%s:*", redisx_client_prefix(c));
    rt_each_node(c, every_key_expires_within_ttl, pattern);
    struct key_count left = {pattern, 1};
    for (int i = 0; i < 600 && left.n > 0; i++) { /* expiry is the server's: poll, up to 60 s */
        left.n = 0;
        rt_each_node(c, count_keys, &left);
        if (left.n > 0)
            rt_sleep_ms(100);
    }
    cr_assert_eq(left.n, 0, "%zu keys left after every lease ended", left.n);
    redisx_client_close(c);
}

Test(lock, key_layout_matches_the_documented_contract)
{
    redisx_client *c = rt_client();
    redisx_lock *lk = NULL;
    cr_assert_eq(redisx_lock_acquire(&lk, c, "layout", 5000, 0), REDISX_OK);
    char key[256], fkey[256];
    snprintf(key, sizeof key, "%s:lock:{layout}", redisx_client_prefix(c));
    snprintf(fkey, sizeof fkey, "%s:lock:{layout}:fence", redisx_client_prefix(c));
    const char *get[] = {"GET", key};
    redisx_reply *r = rt_cmd(c, 2, get);
    cr_assert_str_eq(redisx_reply_string(r, NULL), redisx_lock_token(lk));
    redisx_reply_free(r);
    char want[32];
    snprintf(want, sizeof want, "%lld:", (long long)redisx_lock_fencing_token(lk));
    cr_assert_eq(strncmp(redisx_lock_token(lk), want, strlen(want)), 0, "token starts with the fencing token");
    cr_assert_eq(strlen(redisx_lock_token(lk)), strlen(want) + 32);
    cr_assert_eq(rt_incr_get(c, fkey), redisx_lock_fencing_token(lk));
    const char *pttl[] = {"PTTL", key};
    r = rt_cmd(c, 2, pttl);
    cr_assert(redisx_reply_integer(r) > 0 && redisx_reply_integer(r) <= 5000);
    redisx_reply_free(r);
    const char *fttl[] = {"PTTL", fkey};
    r = rt_cmd(c, 2, fttl);
    cr_assert(redisx_reply_integer(r) > 0 && redisx_reply_integer(r) <= 5000,
              "the last token is kept as long as the lease it came with, not forever");
    redisx_reply_free(r);
    redisx_lock_release(lk);
    redisx_lock_free(lk);
    redisx_client_close(c);
}

Test(lock, try_acquire_of_a_held_lock_is_locked)
{
    redisx_client *c = rt_client();
    redisx_lock *a = NULL, *b = NULL;
    cr_assert_eq(redisx_lock_try_acquire(&a, c, "held", 5000), REDISX_OK);
    cr_assert_eq(redisx_lock_try_acquire(&b, c, "held", 5000), REDISX_ERR_LOCKED);
    cr_assert_null(b);
    cr_assert_neq(strstr(redisx_last_error(), "held"), NULL, "detail: %s", redisx_last_error());
    redisx_lock_release(a);
    redisx_lock_free(a);
    redisx_client_close(c);
}

Test(lock, waiting_acquire_gives_up_with_locked)
{
    redisx_client *c = rt_client();
    redisx_lock *a = NULL, *b = NULL;
    cr_assert_eq(redisx_lock_acquire(&a, c, "wait-out", 10000, 0), REDISX_OK);
    cr_assert_eq(redisx_lock_acquire(&b, c, "wait-out", 10000, 150), REDISX_ERR_LOCKED);
    /* Several attempts were made while waiting, not just one. */
    cr_assert_gt(rt_counter(c, "lock", "acquire", REDISX_COUNTER_ROUND_TRIPS), 3);
    redisx_lock_release(a);
    redisx_lock_free(a);
    redisx_client_close(c);
}

typedef struct delayed_release {
    redisx_lock *lk;
    long ms;
} delayed_release;

static void *release_later(void *arg)
{
    delayed_release *d = arg;
    rt_sleep_ms(d->ms);
    redisx_lock_release(d->lk);
    return NULL;
}

Test(lock, waiting_acquire_succeeds_once_the_holder_releases)
{
    redisx_client *c = rt_client();
    redisx_lock *a = NULL, *b = NULL;
    cr_assert_eq(redisx_lock_acquire(&a, c, "handover", 10000, 0), REDISX_OK);
    delayed_release d = {a, 100};
    pthread_t th;
    pthread_create(&th, NULL, release_later, &d);
    cr_assert_eq(redisx_lock_acquire(&b, c, "handover", 10000, 5000), REDISX_OK, "%s", redisx_last_error());
    cr_assert_gt(redisx_lock_fencing_token(b), redisx_lock_fencing_token(a));
    pthread_join(th, NULL);
    redisx_lock_release(b);
    redisx_lock_free(a);
    redisx_lock_free(b);
    redisx_client_close(c);
}

Test(lock, release_after_expiry_is_not_owner)
{
    redisx_client *c = rt_client();
    redisx_lock *a = NULL, *b = NULL;
    cr_assert_eq(redisx_lock_acquire(&a, c, "expire", 50, 0), REDISX_OK);
    rt_sleep_ms(150);
    cr_assert_eq(redisx_lock_release(a), REDISX_ERR_NOT_OWNER);
    cr_assert_neq(redisx_last_error()[0], '\0');
    /* Expired, taken by someone else: the old owner can neither release nor
     * extend the new holder's lease. */
    cr_assert_eq(redisx_lock_acquire(&b, c, "expire", 5000, 0), REDISX_OK);
    cr_assert_eq(redisx_lock_extend(a, 5000), REDISX_ERR_NOT_OWNER);
    cr_assert_eq(redisx_lock_release(a), REDISX_ERR_NOT_OWNER);
    redisx_lock_info *info = NULL;
    cr_assert_eq(redisx_lock_inspect(&info, c, "expire"), REDISX_OK);
    cr_assert_eq(redisx_lock_info_fencing_token(info), redisx_lock_fencing_token(b));
    redisx_lock_info_free(info);
    cr_assert_eq(redisx_lock_release(b), REDISX_OK);
    redisx_lock_free(a);
    redisx_lock_free(b);
    redisx_client_close(c);
}

Test(lock, extend_by_the_owner_prolongs_the_lease)
{
    redisx_client *c = rt_client();
    redisx_lock *a = NULL;
    cr_assert_eq(redisx_lock_acquire(&a, c, "extend", 200, 0), REDISX_OK);
    cr_assert_eq(redisx_lock_extend(a, 5000), REDISX_OK);
    cr_assert_eq(redisx_lock_ttl_ms(a), 5000);
    rt_sleep_ms(300);
    redisx_lock_info *info = NULL;
    cr_assert_eq(redisx_lock_inspect(&info, c, "extend"), REDISX_OK);
    cr_assert_eq(redisx_lock_info_locked(info), 1, "still held past the first ttl");
    cr_assert_gt(redisx_lock_info_ttl_ms(info), 4000);
    redisx_lock_info_free(info);
    cr_assert_eq(redisx_lock_release(a), REDISX_OK);
    cr_assert_eq(redisx_lock_release(a), REDISX_ERR_NOT_OWNER, "a second release owns nothing");
    redisx_lock_free(a);
    redisx_client_close(c);
}

/* ---- automatic renewal ---- */

static atomic_int lost_calls;
static void on_lost(redisx_client *c, const redisx_lock *lk, void *user)
{
    (void)c;
    (void)lk;
    atomic_fetch_add(&lost_calls, 1);
    atomic_fetch_add((atomic_int *)user, 1);
}

Test(lock, renewal_keeps_the_lock_past_three_ttls)
{
    redisx_client *c = rt_client();
    redisx_lock *a = NULL, *b = NULL;
    atomic_int lost = 0;
    /* A lease long enough that renewals every ttl/3 keep it under valgrind
     * on a busy machine (a late renewal is not what this test is about). */
    cr_assert_eq(redisx_lock_acquire(&a, c, "renew", 1500, 0), REDISX_OK);
    cr_assert_eq(redisx_lock_start_renewal(a, on_lost, &lost), REDISX_OK);
    cr_assert_eq(redisx_lock_start_renewal(a, on_lost, &lost), REDISX_ERR_INVALID, "renewal runs once");
    rt_sleep_ms(5000); /* more than 3 x ttl */
    cr_assert_eq(redisx_lock_try_acquire(&b, c, "renew", 1000), REDISX_ERR_LOCKED);
    redisx_lock_info *info = NULL;
    cr_assert_eq(redisx_lock_inspect(&info, c, "renew"), REDISX_OK);
    cr_assert_eq(redisx_lock_info_fencing_token(info), redisx_lock_fencing_token(a), "same holder");
    redisx_lock_info_free(info);
    cr_assert_eq(atomic_load(&lost), 0);
    cr_assert_eq(redisx_lock_is_lost(a), 0);
    cr_assert_eq(redisx_lock_release(a), REDISX_OK);
    redisx_lock_free(a);
    redisx_client_close(c);
}

Test(lock, lost_lock_callback_fires_when_the_key_is_deleted)
{
    redisx_client *c = rt_client();
    redisx_lock *a = NULL;
    atomic_int lost = 0;
    cr_assert_eq(redisx_lock_acquire(&a, c, "stolen", 300, 0), REDISX_OK);
    cr_assert_eq(redisx_lock_start_renewal(a, on_lost, &lost), REDISX_OK);
    char key[256];
    snprintf(key, sizeof key, "%s:lock:{stolen}", redisx_client_prefix(c));
    const char *del[] = {"DEL", key};
    redisx_reply_free(rt_cmd(c, 2, del));
    for (int i = 0; i < 300 && atomic_load(&lost) == 0; i++)
        rt_sleep_ms(10);
    cr_assert_eq(atomic_load(&lost), 1, "lost callback ran once");
    cr_assert_eq(redisx_lock_is_lost(a), 1);
    rt_sleep_ms(300);
    cr_assert_eq(atomic_load(&lost), 1, "and only once: no renewal after a loss");
    cr_assert_eq(redisx_lock_release(a), REDISX_ERR_NOT_OWNER);
    redisx_lock_free(a);
    redisx_client_close(c);
}

Test(lock, no_renewal_after_release)
{
    redisx_client *c = rt_client();
    redisx_lock *a = NULL;
    atomic_int lost = 0;
    cr_assert_eq(redisx_lock_acquire(&a, c, "stop", 150, 0), REDISX_OK);
    cr_assert_eq(redisx_lock_start_renewal(a, on_lost, &lost), REDISX_OK);
    rt_sleep_ms(200); /* at least one renewal */
    cr_assert_eq(redisx_lock_release(a), REDISX_OK);
    uint64_t renewals = rt_counter(c, "lock", "renew", REDISX_COUNTER_CALLS);
    cr_assert_geq(renewals, 1);
    rt_sleep_ms(400);
    uint64_t later = rt_counter(c, "lock", "renew", REDISX_COUNTER_CALLS);
    /* A renewal already in flight when release was called may still finish,
     * but none is started afterwards. */
    cr_assert_leq(later, renewals + 1, "renewals went on after release: %llu -> %llu",
                  (unsigned long long)renewals, (unsigned long long)later);
    cr_assert_eq(atomic_load(&lost), 0, "a release is not a loss");
    redisx_lock_info *info = NULL;
    cr_assert_eq(redisx_lock_inspect(&info, c, "stop"), REDISX_OK);
    cr_assert_eq(redisx_lock_info_locked(info), 0);
    redisx_lock_info_free(info);
    redisx_lock_free(a);
    redisx_client_close(c);
}

Test(lock, freeing_a_renewed_lock_stops_renewal_and_lets_it_expire)
{
    redisx_client *c = rt_client();
    redisx_lock *a = NULL, *b = NULL;
    atomic_int lost = 0;
    cr_assert_eq(redisx_lock_acquire(&a, c, "freed", 150, 0), REDISX_OK);
    cr_assert_eq(redisx_lock_start_renewal(a, on_lost, &lost), REDISX_OK);
    redisx_lock_free(a);
    rt_sleep_ms(400);
    cr_assert_eq(redisx_lock_try_acquire(&b, c, "freed", 1000), REDISX_OK, "expired after the handle was freed");
    cr_assert_eq(atomic_load(&lost), 0);
    redisx_lock_release(b);
    redisx_lock_free(b);
    redisx_client_close(c);
}

/* ---- async ---- */

typedef struct async_box {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int done;
    redisx_status st;
    redisx_lock *lk;
} async_box;

static void box_init(async_box *b)
{
    pthread_mutex_init(&b->mu, NULL);
    pthread_cond_init(&b->cv, NULL);
    b->done = 0;
    b->lk = NULL;
}

static void box_wait(async_box *b)
{
    pthread_mutex_lock(&b->mu);
    while (!b->done)
        pthread_cond_wait(&b->cv, &b->mu);
    pthread_mutex_unlock(&b->mu);
}

static void box_lock_cb(redisx_client *c, redisx_status st, redisx_lock *lk, void *user)
{
    (void)c;
    async_box *b = user;
    pthread_mutex_lock(&b->mu);
    b->st = st;
    b->lk = lk;
    b->done++;
    pthread_cond_signal(&b->cv);
    pthread_mutex_unlock(&b->mu);
}

static void box_status_cb(redisx_client *c, redisx_status st, void *user)
{
    box_lock_cb(c, st, NULL, user);
}

Test(lock, async_and_blocking_forms_agree)
{
    redisx_client *c = rt_client();
    async_box b;
    box_init(&b);
    cr_assert_eq(redisx_lock_acquire_async(c, "agree", 5000, 0, box_lock_cb, &b), REDISX_OK);
    box_wait(&b);
    cr_assert_eq(b.st, REDISX_OK);
    redisx_lock *async_lk = b.lk;
    int64_t f1 = redisx_lock_fencing_token(async_lk);

    redisx_lock *blk = NULL;
    cr_assert_eq(redisx_lock_try_acquire(&blk, c, "agree", 5000), REDISX_ERR_LOCKED, "blocking sees async holder");
    box_init(&b);
    cr_assert_eq(redisx_lock_acquire_async(c, "agree", 5000, 0, box_lock_cb, &b), REDISX_OK);
    box_wait(&b);
    cr_assert_eq(b.st, REDISX_ERR_LOCKED, "async sees it too");
    cr_assert_null(b.lk);

    box_init(&b);
    cr_assert_eq(redisx_lock_release_async(async_lk, box_status_cb, &b), REDISX_OK);
    box_wait(&b);
    cr_assert_eq(b.st, REDISX_OK);
    box_init(&b);
    cr_assert_eq(redisx_lock_release_async(async_lk, box_status_cb, &b), REDISX_OK);
    box_wait(&b);
    cr_assert_eq(b.st, REDISX_ERR_NOT_OWNER, "async release after release: not owner, like blocking");

    cr_assert_eq(redisx_lock_try_acquire(&blk, c, "agree", 5000), REDISX_OK);
    cr_assert_gt(redisx_lock_fencing_token(blk), f1);
    box_init(&b);
    cr_assert_eq(redisx_lock_extend_async(blk, 7000, box_status_cb, &b), REDISX_OK);
    box_wait(&b);
    cr_assert_eq(b.st, REDISX_OK);
    cr_assert_eq(redisx_lock_release(blk), REDISX_OK);
    redisx_lock_free(blk);
    redisx_lock_free(async_lk);
    redisx_client_close(c);
}

#define MANY 10000
typedef struct many_state {
    atomic_int calls[MANY];
    atomic_int total, ok, locked, other;
    redisx_lock *locks[MANY];
} many_state;

typedef struct many_arg {
    many_state *s;
    int i;
} many_arg;

static void many_cb(redisx_client *c, redisx_status st, redisx_lock *lk, void *user)
{
    (void)c;
    many_arg *a = user;
    atomic_fetch_add(&a->s->calls[a->i], 1);
    if (st == REDISX_OK)
        atomic_fetch_add(&a->s->ok, 1);
    else if (st == REDISX_ERR_LOCKED)
        atomic_fetch_add(&a->s->locked, 1);
    else
        atomic_fetch_add(&a->s->other, 1);
    a->s->locks[a->i] = lk;
    atomic_fetch_add(&a->s->total, 1);
}

Test(lock, ten_thousand_async_acquires_complete_exactly_once, .timeout = 300)
{
    redisx_options *o = NULL;
    redisx_options_new(&o);
    redisx_options_set_command_timeout_ms(o, 30000);
    redisx_client *c = rt_client_opts(o);
    redisx_options_free(o);
    many_state *s = calloc(1, sizeof *s);
    many_arg *args = calloc(MANY, sizeof *args);
    /* 2000 names, 5 contenders each: exactly 2000 win. */
    for (int i = 0; i < MANY; i++) {
        char name[32];
        snprintf(name, sizeof name, "many-%d", i % 2000);
        args[i] = (many_arg){s, i};
        cr_assert_eq(redisx_lock_acquire_async(c, name, 30000, 0, many_cb, &args[i]), REDISX_OK);
    }
    for (int i = 0; i < 6000 && atomic_load(&s->total) < MANY; i++)
        rt_sleep_ms(10);
    cr_assert_eq(atomic_load(&s->total), MANY);
    cr_assert_eq(atomic_load(&s->other), 0);
    cr_assert_eq(atomic_load(&s->ok), 2000);
    cr_assert_eq(atomic_load(&s->locked), MANY - 2000);
    for (int i = 0; i < MANY; i++)
        cr_assert_eq(atomic_load(&s->calls[i]), 1, "completion %d ran %d times", i, atomic_load(&s->calls[i]));
    for (int i = 0; i < MANY; i++)
        redisx_lock_free(s->locks[i]);
    redisx_client_close(c);
    for (int i = 0; i < MANY; i++)
        cr_assert_eq(atomic_load(&s->calls[i]), 1, "no completion after close");
    free(args);
    free(s);
}

/* ---- fail policy ---- */


Test(lock, fail_closed_by_default_when_redis_is_unreachable)
{
    redisx_client *c = rt_dead_client(REDISX_PRIMITIVE_LOCK, REDISX_FAIL_CLOSED);
    redisx_lock *lk = NULL;
    cr_assert_eq(redisx_lock_acquire(&lk, c, "down", 1000, 0), REDISX_ERR_CONNECTION);
    cr_assert_null(lk);
    cr_assert_neq(strstr(redisx_last_error(), "Connection refused"), NULL, "detail says why: %s",
                  redisx_last_error());
    cr_assert_neq(strstr(redisx_last_error(), "127.0.0.1:"), NULL, "detail names the server: %s",
                  redisx_last_error());
    redisx_client_close(c);
}

Test(lock, fail_open_grants_a_marked_lock_when_redis_is_unreachable)
{
    redisx_client *c = rt_dead_client(REDISX_PRIMITIVE_LOCK, REDISX_FAIL_OPEN);
    redisx_lock *lk = NULL;
    cr_assert_eq(redisx_lock_acquire(&lk, c, "down", 1000, 0), REDISX_OK);
    cr_assert_eq(redisx_lock_is_fail_open(lk), 1);
    cr_assert_eq(redisx_lock_fencing_token(lk), 0);
    cr_assert_str_eq(redisx_lock_token(lk), "");
    cr_assert_eq(redisx_lock_release(lk), REDISX_OK);
    cr_assert_eq(rt_counter(c, "lock", "acquire", REDISX_COUNTER_FAIL_OPEN), 1);
    redisx_lock_free(lk);
    redisx_client_close(c);
}

static long long numsub(redisx_client *c, const char *channel)
{
    return rt_numsub(c, channel);
}

Test(lock, waiters_listen_for_the_release_and_stop_listening_after)
{
    redisx_client *c = rt_client();
    redisx_lock *a = NULL;
    cr_assert_eq(redisx_lock_acquire(&a, c, "wake", 10000, 0), REDISX_OK);
    char key[256];
    snprintf(key, sizeof key, "%s:lock:{wake}", redisx_client_prefix(c));
    cr_assert_eq(numsub(c, key), 0);

    async_box b;
    box_init(&b);
    cr_assert_eq(redisx_lock_acquire_async(c, "wake", 10000, 20000, box_lock_cb, &b), REDISX_OK);
    /* The waiter subscribes to the lease key's channel on its first refusal. */
    for (int i = 0; i < 200 && numsub(c, key) == 0; i++)
        rt_sleep_ms(10);
    cr_assert_eq(numsub(c, key), 1);
    cr_assert_eq(redisx_lock_release(a), REDISX_OK);
    box_wait(&b);
    cr_assert_eq(b.st, REDISX_OK);
    for (int i = 0; i < 200 && numsub(c, key) != 0; i++)
        rt_sleep_ms(10);
    cr_assert_eq(numsub(c, key), 0, "unsubscribed once nobody waits");
    redisx_stats *s = NULL;
    redisx_client_stats(&s, c);
    if (rt_cluster_mode()) /* one command connection per master at most: 3 */
        cr_assert_leq(redisx_stats_client(s, REDISX_CLIENT_CONNECTIONS_UP), 3,
                      "the subscriber is not a command connection");
    else
        cr_assert_eq(redisx_stats_client(s, REDISX_CLIENT_CONNECTIONS_UP), 1,
                     "the subscriber is not a command connection");
    redisx_stats_free(s);
    redisx_lock_release(b.lk);
    redisx_lock_free(b.lk);
    redisx_lock_free(a);
    redisx_client_close(c);
}

Test(lock, close_during_an_in_flight_wait_attempt_reports_closed)
{
    /* A private server: CLIENT PAUSE would stall the other tests. */
    rt_server srv;
    cr_assert_eq(rt_server_start(&srv), 0);
    redisx_options *o = NULL;
    redisx_options_new(&o);
    cr_assert_eq(rt_options_server(o, &srv, NULL), REDISX_OK, "%s", redisx_last_error());
    redisx_client *c = NULL, *admin = NULL;
    cr_assert_eq(redisx_client_open(&c, o), REDISX_OK);
    cr_assert_eq(redisx_client_open(&admin, o), REDISX_OK);
    redisx_options_free(o);
    redisx_lock *a = NULL;
    cr_assert_eq(redisx_lock_acquire(&a, c, "inflight", 10000, 0), REDISX_OK);
    char key[256];
    snprintf(key, sizeof key, "%s:lock:{inflight}", redisx_client_prefix(c));
    async_box b;
    box_init(&b);
    cr_assert_eq(redisx_lock_acquire_async(c, "inflight", 10000, 30000, box_lock_cb, &b), REDISX_OK);
    for (int i = 0; i < 200 && numsub(admin, key) == 0; i++)
        rt_sleep_ms(10);
    /* Hold the next attempt in flight: scripts wait while writes are paused,
     * and the waiter's backoff sends one within 100 ms. */
    const char *pause[] = {"CLIENT", "PAUSE", "700", "WRITE"};
    redisx_reply_free(rt_cmd(admin, 4, pause));
    rt_sleep_ms(250);
    redisx_client_close(c);
    box_wait(&b);
    cr_assert_eq(b.st, REDISX_ERR_CLOSED, "got %s", redisx_status_name(b.st));
    redisx_lock_free(a);
    redisx_client_close(admin);
    rt_server_stop(&srv);
}
