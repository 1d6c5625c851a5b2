/* A redisx client in sentinel mode against a real master, replica and
 * three sentinels (tests/sentinel/sentinel.sh starts them per test): the
 * URL and the options setter, every primitive, a SENTINEL FAILOVER
 * followed, and the clear errors of a wrong master name and of sentinels
 * that are all down. No .timeout on these tests (Criterion 2.4.1 leaks
 * under ASan with timed tests); ctest's TIMEOUT bounds the suite. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

typedef struct fixture {
    char dir[64];
    int master, replica, sentinel[3];
} fixture;

const int rt_wants_tls_certs = 1; /* for the rediss+sentinel:// test */

/* tls: every server and sentinel TLS-only, with the harness's certificates;
 * password: the sentinels require it. */
static void fixture_start_with(fixture *f, int tls, const char *password)
{
    memset(f, 0, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/rt-sentinel-XXXXXX");
    cr_assert_not_null(mkdtemp(f->dir));
    char cmd[512];
    snprintf(cmd, sizeof cmd, "%s%s %s%s %s start %s %d", tls ? "REDISX_SENTINEL_TLS=" : "", tls ? rt_tls_dir() : "",
             password ? "REDISX_SENTINEL_PASSWORD=" : "", password ? password : "", REDISX_TEST_SENTINEL_SH, f->dir,
             (int)getpid());
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    int n = fscanf(p, "%d %d %d %d %d", &f->master, &f->replica, &f->sentinel[0], &f->sentinel[1], &f->sentinel[2]);
    int rc = pclose(p);
    cr_assert(n == 5 && rc == 0, "tests/sentinel/sentinel.sh start failed (%d ports, exit %d)", n, rc);
}

static void fixture_start_mode(fixture *f, int tls)
{
    fixture_start_with(f, tls, NULL);
}

static void fixture_start(fixture *f)
{
    fixture_start_mode(f, 0);
}

static void fixture_stop(fixture *f)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "%s stop %s", REDISX_TEST_SENTINEL_SH, f->dir);
    int rc = system(cmd);
    (void)rc;
}

static const char *sentinel_url(const fixture *f, const char *master, char *buf, size_t n)
{
    snprintf(buf, n, "redis+sentinel://127.0.0.1:%d,127.0.0.1:%d,127.0.0.1:%d/%s", f->sentinel[0], f->sentinel[1],
             f->sentinel[2], master);
    return buf;
}

static atomic_int n_watching, n_switch;

static void count_log(redisx_client *c, redisx_log_level level, const char *msg, void *user)
{
    (void)c;
    (void)level;
    (void)user;
    if (strstr(msg, "watching +switch-master"))
        atomic_fetch_add(&n_watching, 1);
    else if (strstr(msg, "announced +switch-master"))
        atomic_fetch_add(&n_switch, 1);
}

static redisx_client *open_sentinel_client_tls(const char *url, int64_t command_timeout_ms, int tls)
{
    redisx_options *o = NULL;
    cr_assert_eq(redisx_options_new(&o), REDISX_OK);
    char ca[512];
    if (tls)
        cr_assert_eq(redisx_options_set_tls_ca_file(o, rt_tls_file("ca.crt", ca, sizeof ca)), REDISX_OK);
    cr_assert_eq(redisx_options_set_log_cb(o, count_log, REDISX_LOG_DEBUG, NULL), REDISX_OK);
    cr_assert_eq(redisx_options_set_url(o, url), REDISX_OK, "%s: %s", url, redisx_last_error());
    char prefix[64];
    cr_assert_eq(redisx_options_set_prefix(o, rt_unique("sent", prefix, sizeof prefix)), REDISX_OK);
    cr_assert_eq(redisx_options_set_command_timeout_ms(o, command_timeout_ms), REDISX_OK);
    redisx_client *c = NULL;
    cr_assert_eq(redisx_client_open(&c, o), REDISX_OK, "%s", redisx_last_error());
    redisx_options_free(o);
    return c;
}

static redisx_client *open_sentinel_client(const char *url, int64_t command_timeout_ms)
{
    return open_sentinel_client_tls(url, command_timeout_ms, 0);
}

/* The port of the server the client talks to (INFO server's tcp_port), or
 * -1 when the command fails. */
static int served_port(redisx_client *c)
{
    const char *argv[] = {"INFO", "server"};
    redisx_reply *r = NULL;
    if (redisx_command(&r, c, 2, argv, NULL) != REDISX_OK)
        return -1;
    const char *s = redisx_reply_string(r, NULL);
    const char *p = s ? strstr(s, "tcp_port:") : NULL;
    int port = p ? atoi(p + 9) : -1;
    redisx_reply_free(r);
    return port;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void primitives_work(redisx_client *c, const char *tag)
{
    char name[96];
    redisx_lock *lk = NULL;
    snprintf(name, sizeof name, "lock-%s", tag);
    cr_assert_eq(redisx_lock_acquire(&lk, c, name, 30000, 0), REDISX_OK, "lock: %s", redisx_last_error());
    cr_assert_gt(redisx_lock_fencing_token(lk), 0);
    redisx_lock *second = NULL;
    cr_assert_eq(redisx_lock_try_acquire(&second, c, name, 30000), REDISX_ERR_LOCKED, "the lock excludes");
    cr_assert_eq(redisx_lock_release(lk), REDISX_OK, "release: %s", redisx_last_error());
    redisx_lock_free(lk);

    redisx_limiter *lim = NULL;
    snprintf(name, sizeof name, "rl-%s", tag);
    cr_assert_eq(redisx_limiter_new(&lim, c, name, REDISX_RATELIMIT_SLIDING_LOG, 2, 60000, 0), REDISX_OK, "%s",
                 redisx_last_error());
    redisx_limiter_set_fail_policy(lim, REDISX_FAIL_CLOSED);
    for (int i = 0; i < 3; i++) {
        redisx_ratelimit_result *res = NULL;
        cr_assert_eq(redisx_limiter_check(&res, lim, "k", 1), REDISX_OK, "check: %s", redisx_last_error());
        cr_assert_eq(redisx_ratelimit_result_allowed(res), i < 2, "check %d", i);
        cr_assert_eq(redisx_ratelimit_result_fail_open(res), 0);
        redisx_ratelimit_result_free(res);
    }
    redisx_limiter_free(lim);

    redisx_idem *rec = NULL;
    snprintf(name, sizeof name, "idem-%s", tag);
    cr_assert_eq(redisx_idem_begin(&rec, c, name, "fp", 2, 30000, 0), REDISX_OK, "begin: %s", redisx_last_error());
    cr_assert_eq(redisx_idem_state_of(rec), REDISX_IDEM_NEW);
    cr_assert_eq(redisx_idem_complete(rec, "done", 4, NULL, 0, 60000), REDISX_OK, "complete: %s",
                 redisx_last_error());
    redisx_idem_free(rec);
    cr_assert_eq(redisx_idem_begin(&rec, c, name, "fp", 2, 30000, 0), REDISX_OK);
    cr_assert_eq(redisx_idem_state_of(rec), REDISX_IDEM_COMPLETED);
    size_t len = 0;
    const char *resp = redisx_idem_response(rec, &len);
    cr_assert(len == 4 && memcmp(resp, "done", 4) == 0);
    redisx_idem_free(rec);
}

Test(sentinel, url_finds_the_master_and_every_primitive_works)
{
    fixture f;
    fixture_start(&f);
    char url[256];
    redisx_client *c = open_sentinel_client(sentinel_url(&f, "mymaster", url, sizeof url), RT_COMMAND_TIMEOUT_MS);
    cr_expect_eq(served_port(c), f.master, "the client talks to the master the sentinels name");
    primitives_work(c, "url");
    redisx_client_close(c);
    fixture_stop(&f);
}

Test(sentinel, rediss_sentinel_speaks_tls_to_the_sentinels_and_the_master)
{
    fixture f;
    fixture_start_mode(&f, 1);
    char url[256];
    snprintf(url, sizeof url, "rediss+sentinel://127.0.0.1:%d,127.0.0.1:%d,127.0.0.1:%d/mymaster", f.sentinel[0],
             f.sentinel[1], f.sentinel[2]);
    redisx_client *c = open_sentinel_client_tls(url, RT_COMMAND_TIMEOUT_MS, 1);
    cr_expect_eq(served_port(c), f.master, "%s", redisx_last_error());
    primitives_work(c, "tls");
    redisx_client_close(c);
    /* A plain sentinel URL against TLS-only sentinels: a clear failure. */
    snprintf(url, sizeof url, "redis+sentinel://127.0.0.1:%d/mymaster", f.sentinel[0]);
    c = open_sentinel_client(url, RT_COMMAND_TIMEOUT_MS);
    const char *ping[] = {"PING"};
    redisx_reply *r = NULL;
    cr_assert_eq(redisx_command(&r, c, 1, ping, NULL), REDISX_ERR_CONNECTION);
    cr_assert(strstr(redisx_last_error(), "no sentinel gave the address"), "%s", redisx_last_error());
    cr_assert(strstr(redisx_last_error(), "rediss+sentinel://"), "the hint: %s", redisx_last_error());
    redisx_client_close(c);
    fixture_stop(&f);
}

Test(sentinel, sentinels_with_their_own_password_need_sentinel_auth)
{
    fixture f;
    fixture_start_with(&f, 0, "sentinel-pw");
    char url[256];
    sentinel_url(&f, "mymaster", url, sizeof url);
    /* Without it: a clear refusal naming the setter, at once. */
    redisx_client *c = open_sentinel_client(url, RT_COMMAND_TIMEOUT_MS);
    const char *ping[] = {"PING"};
    redisx_reply *r = NULL;
    cr_assert_eq(redisx_command(&r, c, 1, ping, NULL), REDISX_ERR_CONNECTION);
    cr_assert(strstr(redisx_last_error(), "NOAUTH"), "%s", redisx_last_error());
    cr_assert(strstr(redisx_last_error(), "redisx_options_set_sentinel_auth"), "%s", redisx_last_error());
    redisx_client_close(c);
    /* With it (the master has no password: the URL's stays unset). */
    redisx_options *o = NULL;
    cr_assert_eq(redisx_options_new(&o), REDISX_OK);
    cr_assert_eq(redisx_options_set_url(o, url), REDISX_OK);
    cr_assert_eq(redisx_options_set_sentinel_auth(o, NULL, "sentinel-pw"), REDISX_OK);
    cr_assert_eq(redisx_options_set_command_timeout_ms(o, RT_COMMAND_TIMEOUT_MS), REDISX_OK);
    char prefix[64];
    cr_assert_eq(redisx_options_set_prefix(o, rt_unique("sent", prefix, sizeof prefix)), REDISX_OK);
    cr_assert_eq(redisx_client_open(&c, o), REDISX_OK);
    redisx_options_free(o);
    cr_expect_eq(served_port(c), f.master, "%s", redisx_last_error());
    primitives_work(c, "auth");
    redisx_client_close(c);
    fixture_stop(&f);
}

Test(sentinel, options_setter_skips_a_dead_sentinel_and_selects_the_db)
{
    fixture f;
    fixture_start(&f);
    redisx_options *o = NULL;
    cr_assert_eq(redisx_options_new(&o), REDISX_OK);
    char url[64], list[128], prefix[64];
    snprintf(url, sizeof url, "redis://127.0.0.1:1/3"); /* the database stays, the address does not */
    cr_assert_eq(redisx_options_set_url(o, url), REDISX_OK);
    snprintf(list, sizeof list, "127.0.0.1:1,127.0.0.1:%d", f.sentinel[1]); /* the first sentinel is dead */
    cr_assert_eq(redisx_options_set_sentinels(o, "mymaster", list), REDISX_OK, "%s", redisx_last_error());
    cr_assert_eq(redisx_options_set_sentinels(o, "", list), REDISX_ERR_URL, "an empty master name");
    cr_assert_eq(redisx_options_set_sentinel_auth(o, "user", NULL), REDISX_ERR_INVALID, "a user needs a password");
    cr_assert_eq(redisx_options_set_sentinel_auth(o, NULL, NULL), REDISX_OK);
    cr_assert_eq(redisx_options_set_prefix(o, rt_unique("sent", prefix, sizeof prefix)), REDISX_OK);
    cr_assert_eq(redisx_options_set_command_timeout_ms(o, RT_COMMAND_TIMEOUT_MS), REDISX_OK);
    redisx_client *c = NULL;
    cr_assert_eq(redisx_client_open(&c, o), REDISX_OK, "%s", redisx_last_error());
    redisx_options_free(o);
    const char *set[] = {"SET", "sentinel-db-probe", "x"};
    redisx_reply *r = NULL;
    cr_assert_eq(redisx_command(&r, c, 3, set, NULL), REDISX_OK, "%s", redisx_last_error());
    redisx_reply_free(r);
    cr_expect_eq(served_port(c), f.master);
    redisx_client_close(c);
    /* The key went to database 3 of the master. */
    rt_server m = {.port = f.master};
    redisx_client *plain = NULL;
    snprintf(url, sizeof url, "redis://127.0.0.1:%d/3", m.port);
    cr_assert_eq(redisx_client_open_url(&plain, url), REDISX_OK);
    const char *get[] = {"GET", "sentinel-db-probe"};
    r = rt_cmd(plain, 2, get);
    cr_expect_str_eq(redisx_reply_string(r, NULL), "x");
    redisx_reply_free(r);
    redisx_client_close(plain);
    char surl[256];
    c = open_sentinel_client(sentinel_url(&f, "mymaster", surl, sizeof surl), RT_COMMAND_TIMEOUT_MS);
    primitives_work(c, "setter");
    redisx_client_close(c);
    fixture_stop(&f);
}

/* Load during a failover: threads taking fail-closed locks and checking a
 * fail-closed and a fail-open limiter until told to stop. */
typedef struct load {
    redisx_client *c;
    redisx_limiter *closed, *open;
    atomic_int stop;
    atomic_int ok, failed, fail_open_allowed, bad;
    char bad_detail[512];
} load;

static void *load_main(void *arg)
{
    load *l = arg;
    for (int n = 0; !atomic_load(&l->stop); n++) {
        char name[64];
        snprintf(name, sizeof name, "load-%lu-%d", (unsigned long)pthread_self() % 1000, n % 16);
        redisx_lock *lk = NULL;
        redisx_status st = redisx_lock_acquire(&lk, l->c, name, 30000, 0);
        if (st == REDISX_OK) {
            if (redisx_lock_is_fail_open(lk))
                atomic_fetch_add(&l->bad, 1); /* a fail-closed lock must never fail open */
            redisx_lock_release(lk);
            redisx_lock_free(lk);
            atomic_fetch_add(&l->ok, 1);
        } else if (st == REDISX_ERR_CONNECTION || st == REDISX_ERR_TIMEOUT || st == REDISX_ERR_SERVER ||
                   st == REDISX_ERR_LOCKED) {
            atomic_fetch_add(&l->failed, 1);
        } else {
            atomic_fetch_add(&l->bad, 1);
            snprintf(l->bad_detail, sizeof l->bad_detail, "lock: %s: %s", redisx_strerror(st), redisx_last_error());
        }
        redisx_ratelimit_result *res = NULL;
        st = redisx_limiter_check(&res, l->closed, "k", 1);
        if (st == REDISX_OK) {
            if (redisx_ratelimit_result_fail_open(res))
                atomic_fetch_add(&l->bad, 1);
            redisx_ratelimit_result_free(res);
        } else if (!(st == REDISX_ERR_CONNECTION || st == REDISX_ERR_TIMEOUT || st == REDISX_ERR_SERVER)) {
            atomic_fetch_add(&l->bad, 1);
        }
        res = NULL;
        st = redisx_limiter_check(&res, l->open, "k", 1);
        if (st != REDISX_OK) {
            atomic_fetch_add(&l->bad, 1); /* fail open: an unreachable master allows */
            snprintf(l->bad_detail, sizeof l->bad_detail, "fail-open check: %s: %s", redisx_strerror(st),
                     redisx_last_error());
        } else {
            if (redisx_ratelimit_result_fail_open(res))
                atomic_fetch_add(&l->fail_open_allowed, 1);
            redisx_ratelimit_result_free(res);
        }
    }
    return NULL;
}

Test(sentinel, a_failover_is_followed_and_primitives_keep_working)
{
    fixture f;
    fixture_start(&f);
    char url[256];
    /* Command deadlines short enough that a command stuck on the old
     * master fails and the loop below goes on, long enough for valgrind. */
    redisx_client *c = open_sentinel_client(sentinel_url(&f, "mymaster", url, sizeof url), 10000);
    cr_assert_eq(served_port(c), f.master);
    primitives_work(c, "before");
    /* The watcher subscribes to +switch-master on a sentinel soon after
     * the client starts: the switch below reaches it as a hint. */
    for (int i = 0; i < 300 && atomic_load(&n_watching) == 0; i++)
        rt_sleep_ms(100);
    cr_assert_gt(atomic_load(&n_watching), 0, "the +switch-master watcher subscribed");

    load l = {.c = c};
    cr_assert_eq(redisx_limiter_new(&l.closed, c, "load-closed", REDISX_RATELIMIT_GCRA, 1000000, 1000, 1000000),
                 REDISX_OK, "%s", redisx_last_error());
    redisx_limiter_set_fail_policy(l.closed, REDISX_FAIL_CLOSED);
    cr_assert_eq(redisx_limiter_new(&l.open, c, "load-open", REDISX_RATELIMIT_GCRA, 1000000, 1000, 1000000),
                 REDISX_OK);
    redisx_limiter_set_fail_policy(l.open, REDISX_FAIL_OPEN);
    pthread_t threads[4];
    for (int i = 0; i < 4; i++)
        cr_assert_eq(pthread_create(&threads[i], NULL, load_main, &l), 0);

    char surl[64];
    snprintf(surl, sizeof surl, "redis://127.0.0.1:%d", f.sentinel[0]);
    redisx_client *s = NULL;
    cr_assert_eq(redisx_client_open_url(&s, surl), REDISX_OK);
    const char *failover[] = {"SENTINEL", "FAILOVER", "mymaster"};
    redisx_reply *r = rt_cmd(s, 3, failover);
    redisx_reply_free(r);
    redisx_client_close(s);

    /* The client reaches the new master within a minute (the sentinels
     * demote the old one some seconds after the switch, closing its
     * clients; until then the old master still answers). Fail-closed
     * locks either work or fail: never a fail-open lease. */
    double deadline = now_s() + 90;
    int port = -1;
    int n = 0;
    while (now_s() < deadline) {
        char name[64];
        snprintf(name, sizeof name, "during-%d", n++);
        redisx_lock *lk = NULL;
        redisx_status st = redisx_lock_acquire(&lk, c, name, 30000, 0);
        if (st == REDISX_OK) {
            cr_assert_eq(redisx_lock_is_fail_open(lk), 0, "a fail-closed lock never fails open");
            redisx_lock_release(lk);
            redisx_lock_free(lk);
        } else {
            cr_assert(st == REDISX_ERR_CONNECTION || st == REDISX_ERR_TIMEOUT || st == REDISX_ERR_SERVER,
                      "lock during the failover: %s: %s", redisx_strerror(st), redisx_last_error());
        }
        port = served_port(c);
        if (port == f.replica)
            break;
        rt_sleep_ms(200);
    }
    cr_assert_eq(port, f.replica, "the client follows the failover to the promoted replica (still at %d)", port);
    cr_expect_gt(atomic_load(&n_switch), 0, "the watcher heard +switch-master");
    int ok_before = atomic_load(&l.ok);
    for (int i = 0; i < 300 && atomic_load(&l.ok) < ok_before + 20; i++)
        rt_sleep_ms(100); /* the load goes on against the new master */
    atomic_store(&l.stop, 1);
    for (int i = 0; i < 4; i++)
        pthread_join(threads[i], NULL);
    cr_assert_eq(atomic_load(&l.bad), 0, "fail policies held under load (%s)", l.bad_detail);
    cr_assert_geq(atomic_load(&l.ok), ok_before + 20, "locks work again after the switch");
    redisx_limiter_free(l.closed);
    redisx_limiter_free(l.open);
    const char *role[] = {"ROLE"};
    r = rt_cmd(c, 1, role);
    cr_assert_str_eq(redisx_reply_string(redisx_reply_element(r, 0), NULL), "master");
    redisx_reply_free(r);
    primitives_work(c, "after");
    redisx_client_close(c);
    fixture_stop(&f);
}

Test(sentinel, a_killed_master_is_replaced_and_the_client_follows)
{
    fixture f;
    fixture_start(&f);
    char url[256];
    redisx_client *c = open_sentinel_client(sentinel_url(&f, "mymaster", url, sizeof url), 10000);
    cr_assert_eq(served_port(c), f.master);
    primitives_work(c, "before-kill");
    char pidfile[128];
    snprintf(pidfile, sizeof pidfile, "%s/server-%d/redis.pid", f.dir, f.master);
    FILE *fp = fopen(pidfile, "r");
    cr_assert_not_null(fp, "%s", pidfile);
    int pid = 0;
    cr_assert_eq(fscanf(fp, "%d", &pid), 1);
    fclose(fp);
    cr_assert_eq(kill(pid, SIGKILL), 0);
    unlink(pidfile); /* stop must not signal whatever gets that pid next */
    /* The sentinels see it down after 2 s, agree and promote the replica;
     * meanwhile fail-closed locks fail, never fail open. */
    double deadline = now_s() + 120;
    int port = -1;
    while (now_s() < deadline) {
        redisx_lock *lk = NULL;
        redisx_status st = redisx_lock_try_acquire(&lk, c, "after-kill", 1000);
        if (st == REDISX_OK) {
            cr_assert_eq(redisx_lock_is_fail_open(lk), 0, "a fail-closed lock never fails open");
            redisx_lock_release(lk);
            redisx_lock_free(lk);
        } else {
            cr_assert(st == REDISX_ERR_CONNECTION || st == REDISX_ERR_TIMEOUT || st == REDISX_ERR_LOCKED,
                      "lock while the master is down: %s: %s", redisx_strerror(st), redisx_last_error());
        }
        if ((port = served_port(c)) == f.replica)
            break;
        rt_sleep_ms(200);
    }
    cr_assert_eq(port, f.replica, "the client reaches the promoted replica (at %d)", port);
    primitives_work(c, "after-kill");
    redisx_client_close(c);
    fixture_stop(&f);
}

Test(sentinel, an_unknown_master_name_fails_at_once_with_a_clear_error)
{
    fixture f;
    fixture_start(&f);
    char url[256];
    redisx_client *c = open_sentinel_client(sentinel_url(&f, "nosuchmaster", url, sizeof url), RT_COMMAND_TIMEOUT_MS);
    double t0 = now_s();
    redisx_lock *lk = NULL;
    redisx_status st = redisx_lock_acquire(&lk, c, "x", 1000, 0);
    cr_assert_eq(st, REDISX_ERR_CONNECTION, "%s", redisx_strerror(st));
    cr_assert(strstr(redisx_last_error(), "does not know master 'nosuchmaster'"), "%s", redisx_last_error());
    cr_assert(strstr(redisx_last_error(), "no sentinel knows the master"), "%s", redisx_last_error());
    cr_assert_lt(now_s() - t0, 10.0, "not at the 30 s command deadline");
    redisx_client_close(c);
    fixture_stop(&f);
}

Test(sentinel, all_sentinels_down_fail_commands_at_once_naming_them)
{
    /* Ports nothing listens on: the harness's dead port and its neighbour. */
    redisx_client *c = open_sentinel_client("redis+sentinel://127.0.0.1:1,127.0.0.1:2/mymaster", RT_COMMAND_TIMEOUT_MS);
    for (int i = 0; i < 2; i++) { /* the first lookup, and again while they stay down */
        double t0 = now_s();
        const char *ping[] = {"PING"};
        redisx_reply *r = NULL;
        redisx_status st = redisx_command(&r, c, 1, ping, NULL);
        cr_assert_eq(st, REDISX_ERR_CONNECTION, "%s", redisx_strerror(st));
        cr_assert(strstr(redisx_last_error(), "127.0.0.1:1: connect"), "%s", redisx_last_error());
        cr_assert(strstr(redisx_last_error(), "127.0.0.1:2: connect"), "%s", redisx_last_error());
        cr_assert(strstr(redisx_last_error(), "mymaster"), "%s", redisx_last_error());
        cr_assert_lt(now_s() - t0, 10.0, "no hang until the 30 s deadline");
    }
    redisx_client_close(c);
}
