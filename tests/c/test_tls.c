/* TLS: rediss:// against redis-server --tls-port, with certificates the
 * harness makes with the openssl CLI (see harness.h). Each test starts the
 * servers it needs; the c_tls_handoff variant runs all of it again with
 * every call handed to the I/O thread (REDISX_DIRECT_IO=0). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

const int rt_wants_tls_certs = 1;

/* Generous where a test expects success (valgrind slows a handshake 50x),
 * short where it expects a failure. */
typedef struct tls_cfg {
    const char *scheme; /* NULL: "rediss" */
    const char *ca; /* file in rt_tls_dir(); NULL: ca.crt; "" : none */
    const char *cert, *key; /* files in rt_tls_dir() */
    const char *server_name;
    int no_verify_hostname;
    int insecure;
    int64_t connect_ms, command_ms; /* 0: 10000 each */
    redisx_log_cb log_cb;
    redisx_state_cb state_cb;
    void *user;
} tls_cfg;

static redisx_options *tls_options(int port, tls_cfg cfg)
{
    char url[96], path[300], key[300];
    snprintf(url, sizeof url, "%s://127.0.0.1:%d", cfg.scheme ? cfg.scheme : "rediss", port);
    redisx_options *o = NULL;
    cr_assert_eq(redisx_options_new(&o), REDISX_OK);
    cr_assert_eq(redisx_options_set_url(o, url), REDISX_OK, "%s: %s", url, redisx_last_error());
    char prefix[96];
    cr_assert_eq(redisx_options_set_prefix(o, rt_unique("tls", prefix, sizeof prefix)), REDISX_OK);
    if (!cfg.ca || *cfg.ca)
        cr_assert_eq(redisx_options_set_tls_ca_file(o, rt_tls_file(cfg.ca ? cfg.ca : "ca.crt", path, sizeof path)),
                     REDISX_OK);
    if (cfg.cert)
        cr_assert_eq(redisx_options_set_tls_client_cert(o, rt_tls_file(cfg.cert, path, sizeof path),
                                                        cfg.key ? rt_tls_file(cfg.key, key, sizeof key) : NULL),
                     REDISX_OK);
    if (cfg.server_name)
        cr_assert_eq(redisx_options_set_tls_server_name(o, cfg.server_name), REDISX_OK);
    if (cfg.no_verify_hostname)
        cr_assert_eq(redisx_options_set_tls_verify_hostname(o, 0), REDISX_OK);
    if (cfg.insecure)
        cr_assert_eq(redisx_options_set_tls_insecure_skip_verify(o, 1), REDISX_OK);
    cr_assert_eq(redisx_options_set_connect_timeout_ms(o, cfg.connect_ms ? cfg.connect_ms : 10000), REDISX_OK);
    cr_assert_eq(redisx_options_set_command_timeout_ms(o, cfg.command_ms ? cfg.command_ms : 10000), REDISX_OK);
    if (cfg.log_cb)
        cr_assert_eq(redisx_options_set_log_cb(o, cfg.log_cb, REDISX_LOG_DEBUG, cfg.user), REDISX_OK);
    if (cfg.state_cb)
        cr_assert_eq(redisx_options_set_state_cb(o, cfg.state_cb, cfg.user), REDISX_OK);
    return o;
}

static redisx_client *tls_client(int port, tls_cfg cfg)
{
    redisx_options *o = tls_options(port, cfg);
    redisx_client *c = NULL;
    cr_assert_eq(redisx_client_open(&c, o), REDISX_OK, "%s", redisx_last_error());
    redisx_options_free(o);
    return c;
}

static void start_tls(rt_server *s, int auth_clients)
{
    cr_assert_eq(rt_server_start_tls(s, auth_clients), 0, "cannot start a TLS redis-server");
}

static redisx_status ping(redisx_client *c)
{
    const char *argv[] = {"PING"};
    redisx_reply *r = NULL;
    redisx_status st = redisx_command(&r, c, 1, argv, NULL);
    if (st == REDISX_OK) {
        cr_assert_str_eq(redisx_reply_string(r, NULL), "PONG");
        redisx_reply_free(r);
    }
    return st;
}

static int64_t ms_since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

/* A command on a client that cannot connect fails with `want` in the detail. */
static void expect_connect_failure(redisx_client *c, const char *want)
{
    redisx_status st = ping(c);
    cr_assert_eq(st, REDISX_ERR_CONNECTION, "%s: %s", redisx_strerror(st), redisx_last_error());
    cr_assert(strcasestr(redisx_last_error(), want) != NULL, "detail \"%s\" lacks \"%s\"", redisx_last_error(), want);
}

/* A build without TLS (REDISX_TLS=OFF, or no OpenSSL) runs only the test
 * of its refusal. */
static int have_tls(void)
{
    redisx_options *o = NULL;
    cr_assert_eq(redisx_options_new(&o), REDISX_OK);
    int ok = redisx_options_set_tls(o, 1) == REDISX_OK;
    redisx_options_free(o);
    return ok;
}

#define NEED_TLS()                                         \
    do {                                                   \
        if (!have_tls())                                   \
            cr_skip_test("this build has no TLS");         \
    } while (0)

Test(tls, a_build_without_tls_refuses_rediss_clearly)
{
    if (have_tls())
        cr_skip_test("this build has TLS");
    redisx_options *o = NULL;
    cr_assert_eq(redisx_options_new(&o), REDISX_OK);
    cr_assert_eq(redisx_options_set_url(o, "rediss://127.0.0.1:6380"), REDISX_ERR_URL);
    cr_assert_str_eq(redisx_last_error(), "rediss:// (TLS) is not supported by this build");
    cr_assert_eq(redisx_options_set_tls(o, 1), REDISX_ERR_INVALID);
    cr_assert(strstr(redisx_last_error(), "not supported by this build") != NULL, "%s", redisx_last_error());
    cr_assert_eq(redisx_options_set_tls(o, 0), REDISX_OK);
    cr_assert_eq(redisx_options_set_tls_ca_file(o, "/etc/ssl/certs/ca-certificates.crt"), REDISX_OK);
    redisx_options_free(o);
}

/* ---- it works ---- */

Test(tls, connects_with_verification_and_runs_commands)
{
    NEED_TLS();
    rt_server s;
    start_tls(&s, 0);
    redisx_client *c = tls_client(s.port, (tls_cfg){0});
    cr_assert_eq(ping(c), REDISX_OK, "%s", redisx_last_error());
    const char *set[] = {"SET", "tls:k", "v"};
    redisx_reply_free(rt_cmd(c, 3, set));
    const char *get[] = {"GET", "tls:k"};
    redisx_reply *r = rt_cmd(c, 2, get);
    cr_assert_str_eq(redisx_reply_string(r, NULL), "v");
    redisx_reply_free(r);
    redisx_client_close(c);
    rt_server_stop(&s);
}

Test(tls, host_name_localhost_verifies_too)
{
    NEED_TLS();
    rt_server s;
    start_tls(&s, 0);
    char url[96], ca[300];
    snprintf(url, sizeof url, "rediss://localhost:%d/2", s.port);
    redisx_options *o = tls_options(s.port, (tls_cfg){0});
    cr_assert_eq(redisx_options_set_url(o, url), REDISX_OK, "%s", redisx_last_error());
    cr_assert_eq(redisx_options_set_tls_ca_file(o, rt_tls_file("ca.crt", ca, sizeof ca)), REDISX_OK);
    redisx_client *c = NULL;
    cr_assert_eq(redisx_client_open(&c, o), REDISX_OK, "%s", redisx_last_error());
    redisx_options_free(o);
    cr_assert_eq(ping(c), REDISX_OK, "%s", redisx_last_error());
    redisx_client_close(c);
    rt_server_stop(&s);
}

Test(tls, lock_rate_limit_and_idempotency_work_over_tls)
{
    NEED_TLS();
    rt_server s;
    start_tls(&s, 0);
    redisx_client *c = tls_client(s.port, (tls_cfg){0});

    redisx_lock *lk = NULL;
    cr_assert_eq(redisx_lock_acquire(&lk, c, "job", 10000, 1000), REDISX_OK, "%s", redisx_last_error());
    cr_assert_gt(redisx_lock_fencing_token(lk), 0);
    redisx_lock *other = NULL;
    cr_assert_eq(redisx_lock_try_acquire(&other, c, "job", 10000), REDISX_ERR_LOCKED);
    cr_assert_eq(redisx_lock_release(lk), REDISX_OK, "%s", redisx_last_error());
    redisx_lock_free(lk);

    redisx_limiter *l = NULL;
    cr_assert_eq(redisx_limiter_new(&l, c, "api", REDISX_RATELIMIT_GCRA, 2, 60000, 2), REDISX_OK);
    int allowed = 0;
    for (int i = 0; i < 3; i++) {
        redisx_ratelimit_result *res = NULL;
        cr_assert_eq(redisx_limiter_check(&res, l, "user", 1), REDISX_OK, "%s", redisx_last_error());
        cr_assert_not(redisx_ratelimit_result_fail_open(res));
        allowed += redisx_ratelimit_result_allowed(res);
        redisx_ratelimit_result_free(res);
    }
    cr_assert_eq(allowed, 2);
    redisx_limiter_free(l);

    redisx_idem *rec = NULL;
    cr_assert_eq(redisx_idem_begin(&rec, c, "order-1", "fp", 2, 10000, 0), REDISX_OK, "%s", redisx_last_error());
    cr_assert_eq(redisx_idem_state_of(rec), REDISX_IDEM_NEW);
    cr_assert_eq(redisx_idem_complete(rec, "done", 4, NULL, 0, 60000), REDISX_OK, "%s", redisx_last_error());
    redisx_idem_free(rec);
    cr_assert_eq(redisx_idem_begin(&rec, c, "order-1", "fp", 2, 10000, 0), REDISX_OK, "%s", redisx_last_error());
    cr_assert_eq(redisx_idem_state_of(rec), REDISX_IDEM_COMPLETED);
    size_t len = 0;
    const void *resp = redisx_idem_response(rec, &len);
    cr_assert_eq(len, 4);
    cr_assert_eq(memcmp(resp, "done", 4), 0);
    redisx_idem_free(rec);

    redisx_client_close(c);
    rt_server_stop(&s);
}

typedef struct waiter {
    redisx_client *c;
    redisx_status st;
    int64_t waited_ms;
} waiter;

static void *acquire_waiting(void *arg)
{
    waiter *w = arg;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    redisx_lock *lk = NULL;
    w->st = redisx_lock_acquire(&lk, w->c, "wake", 10000, 20000);
    w->waited_ms = ms_since(&t0);
    if (w->st == REDISX_OK) {
        redisx_lock_release(lk);
        redisx_lock_free(lk);
    }
    return NULL;
}

Test(tls, a_lock_waiter_is_woken_through_the_tls_subscriber_connection)
{
    NEED_TLS();
    rt_server s;
    start_tls(&s, 0);
    redisx_client *a = tls_client(s.port, (tls_cfg){0});
    redisx_options *o = tls_options(s.port, (tls_cfg){0});
    cr_assert_eq(redisx_options_set_prefix(o, redisx_client_prefix(a)), REDISX_OK);
    redisx_client *b = NULL;
    cr_assert_eq(redisx_client_open(&b, o), REDISX_OK);
    redisx_options_free(o);
    redisx_lock *lk = NULL;
    cr_assert_eq(redisx_lock_acquire(&lk, a, "wake", 60000, 1000), REDISX_OK, "%s", redisx_last_error());
    waiter w = {b, REDISX_ERR_INVALID, 0};
    pthread_t t;
    pthread_create(&t, NULL, acquire_waiting, &w);
    rt_sleep_ms(300);
    cr_assert_eq(redisx_lock_release(lk), REDISX_OK);
    redisx_lock_free(lk);
    pthread_join(t, NULL);
    cr_assert_eq(w.st, REDISX_OK, "%s", redisx_strerror(w.st));
    /* Without the wake-up the backoff polls; a lease of 60 s proves only
     * that the release was seen, well before the 20 s wait ended. */
    cr_assert_lt(w.waited_ms, 15000);
    redisx_client_close(a);
    redisx_client_close(b);
    rt_server_stop(&s);
}

/* A value of several MB crosses many TLS records and partial writes. */
Test(tls, values_of_several_megabytes_go_both_ways)
{
    NEED_TLS();
    rt_server s;
    start_tls(&s, 0);
    redisx_client *c = tls_client(s.port, (tls_cfg){.command_ms = 60000});
    size_t n = 6u << 20;
    char *big = malloc(n);
    cr_assert_not_null(big);
    for (size_t i = 0; i < n; i++)
        big[i] = (char)(i * 2654435761u >> 13);
    const char *set[] = {"SET", "tls:big", big};
    size_t lens[] = {3, 7, n};
    redisx_reply *r = NULL;
    cr_assert_eq(redisx_command(&r, c, 3, set, lens), REDISX_OK, "%s", redisx_last_error());
    redisx_reply_free(r);
    const char *get[] = {"GET", "tls:big"};
    for (int round = 0; round < 2; round++) {
        r = rt_cmd(c, 2, get);
        size_t got = 0;
        const char *v = redisx_reply_string(r, &got);
        cr_assert_eq(got, n);
        cr_assert_eq(memcmp(v, big, n), 0, "the value came back changed");
        redisx_reply_free(r);
    }
    free(big);
    redisx_client_close(c);
    rt_server_stop(&s);
}

typedef struct async_done {
    atomic_int done;
    atomic_int ok;
} async_done;

static void on_incr(redisx_client *c, redisx_status st, redisx_reply *r, void *user)
{
    (void)c;
    async_done *d = user;
    if (st == REDISX_OK && redisx_reply_type_of(r) == REDISX_REPLY_INTEGER)
        atomic_fetch_add(&d->ok, 1);
    redisx_reply_free(r);
    atomic_fetch_add(&d->done, 1);
}

static void on_status(redisx_client *c, redisx_status st, redisx_reply *r, void *user)
{
    (void)c;
    async_done *d = user;
    if (st == REDISX_OK)
        atomic_fetch_add(&d->ok, 1);
    redisx_reply_free(r);
    atomic_fetch_add(&d->done, 1);
}

Test(tls, many_asynchronous_commands_pipeline_over_tls)
{
    NEED_TLS();
    rt_server s;
    start_tls(&s, 0);
    redisx_client *c = tls_client(s.port, (tls_cfg){.command_ms = 60000});
    async_done d = {0};
    enum { N = 5000 };
    const char *incr[] = {"INCR", "tls:n"};
    for (int i = 0; i < N; i++)
        cr_assert_eq(redisx_command_async(c, 2, incr, NULL, on_incr, &d), REDISX_OK, "%s", redisx_last_error());
    for (int i = 0; i < 60000 && atomic_load(&d.done) < N; i++)
        rt_sleep_ms(1);
    cr_assert_eq(atomic_load(&d.ok), N);
    cr_assert_eq(rt_incr_get(c, "tls:n"), N);
    redisx_client_close(c);
    rt_server_stop(&s);
}

Test(tls, reconnects_over_tls_after_the_server_restarts)
{
    NEED_TLS();
    rt_server s;
    start_tls(&s, 0);
    redisx_client *c = tls_client(s.port, (tls_cfg){.command_ms = 3000});
    cr_assert_eq(ping(c), REDISX_OK, "%s", redisx_last_error());
    rt_server_kill(&s);
    cr_assert_neq(ping(c), REDISX_OK);
    cr_assert_eq(rt_server_restart(&s), 0);
    redisx_status st = REDISX_ERR_CONNECTION;
    for (int i = 0; i < 100 && st != REDISX_OK; i++) {
        st = ping(c);
        if (st != REDISX_OK)
            rt_sleep_ms(100);
    }
    cr_assert_eq(st, REDISX_OK, "%s", redisx_last_error());
    redisx_client_close(c);
    rt_server_stop(&s);
}

/* A server killed while a large TLS write is under way: the write fails
 * and the command with it, promptly. SIGPIPE keeps its default action here,
 * so a write that meets EPIPE (which timing decides: a reset first gives
 * ECONNRESET, which raises nothing) would end the process if the BIO wrote
 * without MSG_NOSIGNAL. */
Test(tls, a_server_dying_mid_write_fails_the_command)
{
    NEED_TLS();
    signal(SIGPIPE, SIG_DFL);
    rt_server s;
    start_tls(&s, 0);
    redisx_client *c = tls_client(s.port, (tls_cfg){.command_ms = 10000});
    cr_assert_eq(ping(c), REDISX_OK, "%s", redisx_last_error());
    size_t n = 32u << 20;
    char *big = malloc(n);
    cr_assert_not_null(big);
    memset(big, 'x', n);
    const char *set[] = {"SET", "tls:dying", big};
    size_t lens[] = {3, 9, n};
    async_done d = {0};
    cr_assert_eq(redisx_command_async(c, 3, set, lens, on_status, &d), REDISX_OK, "%s", redisx_last_error());
    rt_server_kill(&s);
    /* A command that the I/O thread had not taken yet when the connection
     * dropped would wait for a connection until its deadline: one only. */
    for (int i = 0; i < 20000 && atomic_load(&d.done) < 1; i++)
        rt_sleep_ms(1);
    cr_assert_eq(atomic_load(&d.done), 1, "the command completed");
    cr_assert_eq(atomic_load(&d.ok), 0, "32 MB went out before a SIGKILL: the test proves nothing");
    free(big);
    redisx_client_close(c);
    rt_server_stop(&s);
}

/* ---- it refuses, clearly ---- */

Test(tls, a_certificate_from_another_ca_fails_verification)
{
    NEED_TLS();
    rt_server s;
    start_tls(&s, 0);
    redisx_client *c = tls_client(s.port, (tls_cfg){.ca = "other-ca.crt", .command_ms = 3000});
    expect_connect_failure(c, "certificate verify failed");
    redisx_client_close(c);
    rt_server_stop(&s);
}

Test(tls, a_certificate_for_another_host_fails_verification)
{
    NEED_TLS();
    rt_server s;
    start_tls(&s, 0);
    redisx_client *c = tls_client(s.port, (tls_cfg){.server_name = "redis.example.org", .command_ms = 3000});
    expect_connect_failure(c, "Hostname mismatch");
    redisx_client_close(c);
    rt_server_stop(&s);
}

Test(tls, without_hostname_verification_the_ca_is_still_checked)
{
    NEED_TLS();
    rt_server s;
    start_tls(&s, 0);
    redisx_client *c = tls_client(s.port, (tls_cfg){.server_name = "redis.example.org", .no_verify_hostname = 1});
    cr_assert_eq(ping(c), REDISX_OK, "%s", redisx_last_error());
    redisx_client_close(c);
    c = tls_client(s.port, (tls_cfg){.ca = "other-ca.crt", .no_verify_hostname = 1, .command_ms = 3000});
    expect_connect_failure(c, "certificate verify failed");
    redisx_client_close(c);
    rt_server_stop(&s);
}

typedef struct loud {
    pthread_mutex_t mu;
    int warnings; /* logs that say verification is off */
    int connected_unverified; /* CONNECTED states that say so */
} loud;

static void loud_log(redisx_client *c, redisx_log_level level, const char *msg, void *user)
{
    (void)c;
    loud *l = user;
    pthread_mutex_lock(&l->mu);
    if (level == REDISX_LOG_WARN && strstr(msg, "NOT verified"))
        l->warnings++;
    if (level == REDISX_LOG_WARN && strstr(msg, "verification is OFF"))
        l->warnings++;
    pthread_mutex_unlock(&l->mu);
}

static void loud_state(redisx_client *c, int conn, redisx_conn_state st, const char *detail, void *user)
{
    (void)c;
    (void)conn;
    loud *l = user;
    pthread_mutex_lock(&l->mu);
    if (st == REDISX_STATE_CONNECTED && detail && strstr(detail, "certificate NOT verified"))
        l->connected_unverified++;
    pthread_mutex_unlock(&l->mu);
}

Test(tls, insecure_skip_verify_accepts_any_certificate_and_says_so_loudly)
{
    NEED_TLS();
    rt_server s;
    start_tls(&s, 0);
    loud l = {PTHREAD_MUTEX_INITIALIZER, 0, 0};
    redisx_client *c = tls_client(s.port, (tls_cfg){.ca = "other-ca.crt",
                                                    .server_name = "redis.example.org",
                                                    .insecure = 1,
                                                    .log_cb = loud_log,
                                                    .state_cb = loud_state,
                                                    .user = &l});
    cr_assert_eq(ping(c), REDISX_OK, "%s", redisx_last_error());
    redisx_client_close(c);
    cr_assert_geq(l.warnings, 2, "a warning at open and one per connection, got %d", l.warnings);
    cr_assert_geq(l.connected_unverified, 1);
    rt_server_stop(&s);
}

Test(tls, a_required_client_certificate_not_given_fails_clearly)
{
    NEED_TLS();
    rt_server s;
    start_tls(&s, 1);
    redisx_client *c = tls_client(s.port, (tls_cfg){.command_ms = 3000});
    expect_connect_failure(c, "certificate");
    redisx_client_close(c);
    rt_server_stop(&s);
}

Test(tls, a_client_certificate_from_an_untrusted_ca_is_refused)
{
    NEED_TLS();
    rt_server s;
    start_tls(&s, 1);
    redisx_client *c =
        tls_client(s.port, (tls_cfg){.cert = "other-client.crt", .key = "other-client.key", .command_ms = 3000});
    redisx_status st = ping(c);
    cr_assert_eq(st, REDISX_ERR_CONNECTION, "%s: %s", redisx_strerror(st), redisx_last_error());
    cr_assert(strstr(redisx_last_error(), "TLS") != NULL, "%s", redisx_last_error());
    redisx_client_close(c);
    rt_server_stop(&s);
}

Test(tls, a_required_client_certificate_given_works)
{
    NEED_TLS();
    rt_server s;
    start_tls(&s, 1);
    redisx_client *c = tls_client(s.port, (tls_cfg){.cert = "client.crt", .key = "client.key"});
    cr_assert_eq(ping(c), REDISX_OK, "%s", redisx_last_error());
    redisx_lock *lk = NULL;
    cr_assert_eq(redisx_lock_acquire(&lk, c, "mtls", 10000, 1000), REDISX_OK, "%s", redisx_last_error());
    cr_assert_eq(redisx_lock_release(lk), REDISX_OK);
    redisx_lock_free(lk);
    redisx_client_close(c);
    rt_server_stop(&s);
}

Test(tls, a_plain_server_behind_rediss_fails_within_the_connect_timeout)
{
    NEED_TLS();
    rt_server s;
    cr_assert_eq(rt_server_start(&s), 0);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    redisx_client *c = tls_client(s.port, (tls_cfg){.connect_ms = 500, .command_ms = 2000});
    expect_connect_failure(c, "TLS");
    cr_assert_lt(ms_since(&t0), 4000);
    redisx_client_close(c);
    rt_server_stop(&s);
}

/* A peer that accepts TCP and never says a word: the handshake ends at the
 * connect timeout, not never. */
Test(tls, a_silent_server_times_the_handshake_out)
{
    NEED_TLS();
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof sa;
    cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    cr_assert_eq(listen(fd, 16), 0);
    cr_assert_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    redisx_client *c = tls_client(ntohs(sa.sin_port), (tls_cfg){.connect_ms = 300, .command_ms = 1500});
    expect_connect_failure(c, "TLS handshake with");
    cr_assert(strstr(redisx_last_error(), "timed out") != NULL, "%s", redisx_last_error());
    cr_assert_lt(ms_since(&t0), 5000);
    redisx_client_close(c);
    close(fd);
}

Test(tls, a_tls_server_behind_redis_fails_clearly)
{
    NEED_TLS();
    rt_server s;
    start_tls(&s, 0);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    redisx_client *c = tls_client(s.port, (tls_cfg){.scheme = "redis", .ca = "", .command_ms = 2000});
    redisx_status st = ping(c);
    cr_assert_eq(st, REDISX_ERR_CONNECTION, "%s: %s", redisx_strerror(st), redisx_last_error());
    cr_assert(strstr(redisx_last_error(), "rediss://") != NULL, "%s", redisx_last_error());
    cr_assert_lt(ms_since(&t0), 5000);
    redisx_client_close(c);
    rt_server_stop(&s);
}

/* ---- set-up errors: at open, naming the file ---- */

Test(tls, files_that_cannot_be_loaded_fail_the_open)
{
    NEED_TLS();
    char path[300], key[300];
    redisx_options *o = tls_options(6379, (tls_cfg){.ca = ""});
    redisx_client *c = NULL;
    cr_assert_eq(redisx_options_set_tls_ca_file(o, "/nonexistent/ca.crt"), REDISX_OK);
    cr_assert_eq(redisx_client_open(&c, o), REDISX_ERR_INVALID);
    cr_assert(strstr(redisx_last_error(), "/nonexistent/ca.crt") != NULL, "%s", redisx_last_error());

    cr_assert_eq(redisx_options_set_tls_ca_file(o, NULL), REDISX_OK);
    cr_assert_eq(redisx_options_set_tls_ca_dir(o, "/nonexistent-dir"), REDISX_OK);
    cr_assert_eq(redisx_client_open(&c, o), REDISX_ERR_INVALID);
    cr_assert(strstr(redisx_last_error(), "/nonexistent-dir") != NULL, "%s", redisx_last_error());
    cr_assert_eq(redisx_options_set_tls_ca_dir(o, NULL), REDISX_OK);

    cr_assert_eq(redisx_options_set_tls_client_cert(o, "/nonexistent/client.crt", NULL), REDISX_OK);
    cr_assert_eq(redisx_client_open(&c, o), REDISX_ERR_INVALID);
    cr_assert(strstr(redisx_last_error(), "/nonexistent/client.crt") != NULL, "%s", redisx_last_error());

    cr_assert_eq(redisx_options_set_tls_client_cert(o, rt_tls_file("client.crt", path, sizeof path),
                                                    rt_tls_file("server.key", key, sizeof key)),
                 REDISX_OK);
    cr_assert_eq(redisx_client_open(&c, o), REDISX_ERR_INVALID);
    cr_assert(strstr(redisx_last_error(), "server.key") != NULL, "%s", redisx_last_error());
    cr_assert(strcasestr(redisx_last_error(), "mismatch") != NULL, "%s", redisx_last_error());

    cr_assert_eq(redisx_options_set_tls_client_cert(o, rt_tls_file("client.crt", path, sizeof path), NULL),
                 REDISX_OK); /* the key is not in the certificate's file */
    cr_assert_eq(redisx_client_open(&c, o), REDISX_ERR_INVALID);
    cr_assert(strstr(redisx_last_error(), "client key") != NULL, "%s", redisx_last_error());
    redisx_options_free(o);
}

Test(tls, tls_over_a_unix_socket_is_refused_at_open)
{
    NEED_TLS();
    redisx_options *o = NULL;
    cr_assert_eq(redisx_options_new(&o), REDISX_OK);
    cr_assert_eq(redisx_options_set_url(o, "unix:///tmp/redis.sock"), REDISX_OK);
    cr_assert_eq(redisx_options_set_tls(o, 1), REDISX_OK);
    redisx_client *c = NULL;
    cr_assert_eq(redisx_client_open(&c, o), REDISX_ERR_INVALID);
    cr_assert(strstr(redisx_last_error(), "unix") != NULL, "%s", redisx_last_error());
    redisx_options_free(o);
}

Test(tls, set_tls_turns_a_redis_url_into_tls_and_back)
{
    NEED_TLS();
    rt_server s;
    start_tls(&s, 0);
    redisx_options *o = tls_options(s.port, (tls_cfg){.scheme = "redis"});
    cr_assert_eq(redisx_options_set_tls(o, 1), REDISX_OK);
    redisx_client *c = NULL;
    cr_assert_eq(redisx_client_open(&c, o), REDISX_OK);
    cr_assert_eq(ping(c), REDISX_OK, "%s", redisx_last_error());
    redisx_client_close(c);
    redisx_options_free(o);

    rt_server plain;
    cr_assert_eq(rt_server_start(&plain), 0);
    o = tls_options(plain.port, (tls_cfg){0}); /* rediss:// */
    cr_assert_eq(redisx_options_set_tls(o, 0), REDISX_OK);
    cr_assert_eq(redisx_client_open(&c, o), REDISX_OK);
    cr_assert_eq(ping(c), REDISX_OK, "%s", redisx_last_error());
    redisx_client_close(c);
    redisx_options_free(o);
    rt_server_stop(&plain);
    rt_server_stop(&s);
}

/* ---- bad input ---- */

Test(tls, rediss_urls_parse_strictly)
{
    NEED_TLS();
    redisx_options *o = NULL;
    cr_assert_eq(redisx_options_new(&o), REDISX_OK);
    const char *good[] = {"rediss://127.0.0.1:6380", "rediss://user:pw@redis.example.org:6380/3", "rediss://[::1]",
                          "rediss://", "rediss://:secret@host"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        cr_assert_eq(redisx_options_set_url(o, good[i]), REDISX_OK, "%s: %s", good[i], redisx_last_error());
    const char *bad[] = {"rediss://host:6380?ssl_cert_reqs=none", "rediss://host:0", "rediss://host:6380/x",
                         "rediss:/host", "redisss://host", "rediss://host#frag", "rediss://[::1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert_eq(redisx_options_set_url(o, bad[i]), REDISX_ERR_URL, "%s accepted", bad[i]);
    cr_assert(strstr(redisx_last_error(), "[IPv6]") != NULL, "%s", redisx_last_error());
    cr_assert_eq(redisx_options_set_url(o, "rediss://h?x=1"), REDISX_ERR_URL);
    cr_assert(strstr(redisx_last_error(), "rediss://") != NULL, "%s", redisx_last_error());
    redisx_options_free(o);
}

Test(tls, setters_check_their_arguments)
{
    cr_assert_eq(redisx_options_set_tls(NULL, 1), REDISX_ERR_INVALID);
    cr_assert_eq(redisx_options_set_tls_ca_file(NULL, "x"), REDISX_ERR_INVALID);
    cr_assert_eq(redisx_options_set_tls_ca_dir(NULL, "x"), REDISX_ERR_INVALID);
    cr_assert_eq(redisx_options_set_tls_client_cert(NULL, "x", "y"), REDISX_ERR_INVALID);
    cr_assert_eq(redisx_options_set_tls_server_name(NULL, "x"), REDISX_ERR_INVALID);
    cr_assert_eq(redisx_options_set_tls_verify_hostname(NULL, 1), REDISX_ERR_INVALID);
    cr_assert_eq(redisx_options_set_tls_insecure_skip_verify(NULL, 1), REDISX_ERR_INVALID);
    redisx_options *o = NULL;
    cr_assert_eq(redisx_options_new(&o), REDISX_OK);
    cr_assert_eq(redisx_options_set_tls_client_cert(o, NULL, "key.pem"), REDISX_ERR_INVALID);
    cr_assert(strstr(redisx_last_error(), "certificate") != NULL, "%s", redisx_last_error());
    cr_assert_eq(redisx_options_set_tls_ca_file(o, ""), REDISX_ERR_INVALID);
    cr_assert_eq(redisx_options_set_tls_ca_dir(o, ""), REDISX_ERR_INVALID);
    cr_assert_eq(redisx_options_set_tls_server_name(o, ""), REDISX_ERR_INVALID);
    char longname[300];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    cr_assert_eq(redisx_options_set_tls_server_name(o, longname), REDISX_ERR_INVALID);
    cr_assert_eq(redisx_options_set_tls_client_cert(o, NULL, NULL), REDISX_OK);
    cr_assert_eq(redisx_options_set_tls_ca_file(o, NULL), REDISX_OK);
    cr_assert_eq(redisx_options_set_tls_server_name(o, NULL), REDISX_OK);
    redisx_options_free(o);
}
