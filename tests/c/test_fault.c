/* Faults against a private redis-server per test: killed and restarted,
 * frozen (SIGSTOP), scripts flushed. The client is never recreated. */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static atomic_int st_connected, st_disconnected, st_reconnecting;
static void count_states(redisx_client *c, int conn, redisx_conn_state st, const char *detail, void *user)
{
    (void)c;
    (void)conn;
    (void)detail;
    (void)user;
    if (st == REDISX_STATE_CONNECTED)
        atomic_fetch_add(&st_connected, 1);
    else if (st == REDISX_STATE_DISCONNECTED)
        atomic_fetch_add(&st_disconnected, 1);
    else
        atomic_fetch_add(&st_reconnecting, 1);
}

static redisx_client *client_for(const rt_server *s, int64_t timeout_ms)
{
    redisx_options *o = NULL;
    redisx_options_new(&o);
    cr_assert_eq(rt_options_server(o, s, NULL), REDISX_OK, "%s", redisx_last_error());
    redisx_options_set_command_timeout_ms(o, timeout_ms);
    redisx_options_set_reconnect_backoff_ms(o, 20, 200);
    redisx_options_set_state_cb(o, count_states, NULL);
    redisx_client *c = NULL;
    cr_assert_eq(redisx_client_open(&c, o), REDISX_OK);
    redisx_options_free(o);
    return c;
}

static redisx_status lock_cycle(redisx_client *c, const char *name)
{
    redisx_lock *lk = NULL;
    redisx_status st = redisx_lock_acquire(&lk, c, name, 5000, 0);
    if (st == REDISX_OK) {
        st = redisx_lock_release(lk);
        redisx_lock_free(lk);
    }
    return st;
}

/* Lock cycles until one succeeds (at most ~5 s): the client reconnects on
 * its own after an outage. */
static redisx_status cycle_until_ok(redisx_client *c, const char *name)
{
    redisx_status st = lock_cycle(c, name);
    for (int i = 0; i < 100 && st != REDISX_OK; i++) {
        rt_sleep_ms(50);
        st = lock_cycle(c, name);
    }
    return st;
}

Test(fault, killed_server_fails_closed_then_recovers_without_a_new_client, .timeout = 120)
{
    rt_server s;
    cr_assert_eq(rt_server_start(&s), 0);
    redisx_client *c = client_for(&s, 500);
    cr_assert_eq(lock_cycle(c, "k"), REDISX_OK, "%s", redisx_last_error());

    rt_server_kill(&s);
    for (int i = 0; i < 3; i++) {
        long long t0 = now_ms();
        redisx_lock *lk = NULL;
        redisx_status st = redisx_lock_acquire(&lk, c, "k", 5000, 0);
        long long took = now_ms() - t0;
        cr_assert_eq(st, REDISX_ERR_CONNECTION, "attempt %d: %s (%s)", i, redisx_strerror(st), redisx_last_error());
        cr_assert_null(lk);
        /* Bounded by the command timeout (500 ms), with room for a loaded
         * machine: the point is that it does not hang. */
        cr_assert_leq(took, 3000, "attempt %d took %lld ms", i, took);
    }
    cr_assert_geq(atomic_load(&st_disconnected), 1);

    cr_assert_eq(rt_server_restart(&s), 0);
    redisx_status st = cycle_until_ok(c, "k");
    cr_assert_eq(st, REDISX_OK, "works again after the restart: %s", redisx_last_error());
    cr_assert_geq(atomic_load(&st_reconnecting), 1);
    cr_assert_geq(atomic_load(&st_connected), 2);
    redisx_stats *stats = NULL;
    redisx_client_stats(&stats, c);
    cr_assert_geq(redisx_stats_client(stats, REDISX_CLIENT_DISCONNECTS), 1);
    cr_assert_eq(redisx_stats_client(stats, REDISX_CLIENT_CONNECTIONS_UP), 1);
    redisx_stats_free(stats);
    redisx_client_close(c);
    rt_server_stop(&s);
}

Test(fault, frozen_server_times_out_then_recovers, .timeout = 120)
{
    rt_server s;
    cr_assert_eq(rt_server_start(&s), 0);
    redisx_client *c = client_for(&s, 300);
    cr_assert_eq(lock_cycle(c, "f"), REDISX_OK);
    kill(rt_server_pid(&s), SIGSTOP);
    long long t0 = now_ms();
    redisx_status st = lock_cycle(c, "f");
    long long took = now_ms() - t0;
    cr_assert_eq(st, REDISX_ERR_TIMEOUT, "%s (%s)", redisx_strerror(st), redisx_last_error());
    cr_assert_leq(took, 3000);
    cr_assert_eq(rt_counter(c, "lock", "acquire", REDISX_COUNTER_TIMEOUTS), 1);
    kill(rt_server_pid(&s), SIGCONT);
    st = cycle_until_ok(c, "f");
    cr_assert_eq(st, REDISX_OK, "%s", redisx_last_error());
    redisx_client_close(c);
    rt_server_stop(&s);
}

Test(fault, fencing_tokens_keep_increasing_across_a_restart_without_persistence, .timeout = 120)
{
    /* The server runs with --save '' --appendonly no: a restart forgets every
     * key. Tokens come from its clock, so they still go up. */
    rt_server s;
    cr_assert_eq(rt_server_start(&s), 0);
    redisx_client *c = client_for(&s, 2000);
    int64_t last = 0;
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < 5; i++) {
            redisx_lock *lk = NULL;
            redisx_status st = redisx_lock_acquire(&lk, c, "restart", 60000, 0);
            for (int k = 0; k < 100 && st == REDISX_ERR_CONNECTION; k++) { /* reconnecting */
                rt_sleep_ms(50);
                st = redisx_lock_acquire(&lk, c, "restart", 60000, 0);
            }
            cr_assert_eq(st, REDISX_OK, "round %d: %s", round, redisx_last_error());
            cr_assert_gt(redisx_lock_fencing_token(lk), last, "round %d: %lld after %lld", round,
                         (long long)redisx_lock_fencing_token(lk), (long long)last);
            last = redisx_lock_fencing_token(lk);
            cr_assert_eq(redisx_lock_release(lk), REDISX_OK);
            redisx_lock_free(lk);
        }
        rt_server_kill(&s);
        cr_assert_eq(rt_server_restart(&s), 0);
    }
    redisx_client_close(c);
    rt_server_stop(&s);
}

Test(fault, script_flush_mid_run_is_reloaded_transparently)
{
    rt_server s;
    cr_assert_eq(rt_server_start(&s), 0);
    redisx_client *c = client_for(&s, 2000);
    int64_t last = 0;
    for (int round = 0; round < 3; round++) {
        cr_assert_eq(lock_cycle(c, "sf"), REDISX_OK);
        const char *flush[] = {"SCRIPT", "FLUSH"};
        redisx_reply_free(rt_cmd(c, 2, flush));
        redisx_lock_info *info = NULL;
        cr_assert_eq(redisx_lock_inspect(&info, c, "sf"), REDISX_OK, "%s", redisx_last_error());
        cr_assert_gt(redisx_lock_info_last_fencing_token(info), last, "the cycle's token is remembered");
        last = redisx_lock_info_last_fencing_token(info);
        redisx_lock_info_free(info);
    }
    redisx_stats *stats = NULL;
    redisx_client_stats(&stats, c);
    cr_assert_geq(redisx_stats_client(stats, REDISX_CLIENT_SCRIPT_RELOADS), 3);
    cr_assert_eq(redisx_stats_counter(stats, rt_series(stats, "lock", "acquire"), REDISX_COUNTER_ERRORS), 0);
    redisx_stats_free(stats);
    redisx_client_close(c);
    rt_server_stop(&s);
}

Test(fault, renewal_survives_a_short_outage_and_reports_a_long_one, .timeout = 120)
{
    rt_server s;
    cr_assert_eq(rt_server_start(&s), 0);
    redisx_client *c = client_for(&s, 200);
    redisx_lock *lk = NULL;
    cr_assert_eq(redisx_lock_acquire(&lk, c, "outage", 600, 0), REDISX_OK);
    cr_assert_eq(redisx_lock_start_renewal(lk, NULL, NULL), REDISX_OK);
    /* Redis gone for good: renewals fail until the lease must have run out,
     * then the lock is reported lost (no queue attached: only the flag). */
    rt_server_kill(&s);
    for (int i = 0; i < 300 && !redisx_lock_is_lost(lk); i++)
        rt_sleep_ms(10);
    cr_assert_eq(redisx_lock_is_lost(lk), 1);
    redisx_lock_free(lk);
    redisx_client_close(c);
    rt_server_stop(&s);
}

static atomic_int down_calls, down_closed;
static void count_down(redisx_client *c, redisx_status st, redisx_lock *lk, void *user)
{
    (void)c;
    (void)user;
    redisx_lock_free(lk);
    atomic_fetch_add(&down_calls, 1);
    if (st == REDISX_ERR_CLOSED)
        atomic_fetch_add(&down_closed, 1);
}

Test(fault, close_while_the_server_is_down_completes_pending_operations, .timeout = 120)
{
    rt_server s;
    cr_assert_eq(rt_server_start(&s), 0);
    redisx_client *c = client_for(&s, 60000); /* only close can end these */
    cr_assert_eq(lock_cycle(c, "down"), REDISX_OK);
    rt_server_kill(&s);
    rt_sleep_ms(50);
    for (int i = 0; i < 100; i++)
        cr_assert_eq(redisx_lock_acquire_async(c, "down", 1000, 0, count_down, NULL), REDISX_OK);
    long long t0 = now_ms();
    redisx_client_close(c);
    cr_assert_leq(now_ms() - t0, 5000, "close does not wait for the 60 s timeout");
    cr_assert_eq(atomic_load(&down_calls), 100);
    cr_assert_eq(atomic_load(&down_closed), 100);
    rt_server_stop(&s);
}

Test(fault, connect_timeout_covers_a_server_that_never_answers_the_handshake)
{
    /* A listening socket that never accepts: TCP connects (the kernel queues
     * it), but AUTH is never answered, so only the connect timeout ends it. */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof sa;
    cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    cr_assert_eq(listen(fd, 16), 0);
    getsockname(fd, (struct sockaddr *)&sa, &len);
    char url[96];
    snprintf(url, sizeof url, "redis://:secret@127.0.0.1:%d", ntohs(sa.sin_port));
    redisx_options *o = NULL;
    redisx_options_new(&o);
    redisx_options_set_url(o, url);
    redisx_options_set_connect_timeout_ms(o, 100);
    redisx_options_set_command_timeout_ms(o, 600);
    redisx_client *c = NULL;
    cr_assert_eq(redisx_client_open(&c, o), REDISX_OK);
    redisx_options_free(o);
    const char *ping[] = {"PING"};
    redisx_reply *r = NULL;
    cr_assert_eq(redisx_command(&r, c, 1, ping, NULL), REDISX_ERR_CONNECTION);
    cr_assert_neq(strstr(redisx_last_error(), "timed out"), NULL, "%s", redisx_last_error());
    redisx_stats *s = NULL;
    redisx_client_stats(&s, c);
    cr_assert_geq(redisx_stats_client(s, REDISX_CLIENT_CONNECT_FAILURES), 2, "retried after each timeout");
    cr_assert_eq(redisx_stats_client(s, REDISX_CLIENT_CONNECTIONS_UP), 0);
    redisx_stats_free(s);
    redisx_client_close(c);
    close(fd);
}

Test(fault, unix_socket_url_with_a_database)
{
    rt_server s;
    cr_assert_eq(rt_server_start(&s), 0);
    char url[400];
    snprintf(url, sizeof url, "unix://%s/redis.sock?db=2", s.dir);
    redisx_client *c = NULL;
    cr_assert_eq(redisx_client_open_url(&c, url), REDISX_OK);
    cr_assert_eq(lock_cycle(c, "unix"), REDISX_OK, "%s", redisx_last_error());
    const char *info[] = {"CLIENT", "INFO"};
    redisx_reply *r = rt_cmd(c, 2, info);
    cr_assert_neq(strstr(redisx_reply_string(r, NULL), " db=2 "), NULL, "%s", redisx_reply_string(r, NULL));
    redisx_reply_free(r);
    redisx_client_close(c);
    rt_server_stop(&s);
}

Test(fault, host_names_are_resolved)
{
    /* Where "localhost" also resolves to ::1 first (not on every machine),
     * this also covers going on to the next address after a refusal. */
    rt_server s;
    cr_assert_eq(rt_server_start(&s), 0);
    redisx_options *o = NULL;
    redisx_options_new(&o);
    cr_assert_eq(rt_options_server(o, &s, "localhost"), REDISX_OK, "%s", redisx_last_error());
    redisx_client *c = NULL;
    cr_assert_eq(redisx_client_open(&c, o), REDISX_OK);
    redisx_options_free(o);
    cr_assert_eq(lock_cycle(c, "localhost"), REDISX_OK, "%s", redisx_last_error());
    redisx_client_close(c);
    rt_server_stop(&s);
}

/* SCRIPT FLUSH over and over while every script-based primitive runs: a
 * NOSCRIPT is answered by EVAL of the body, which cannot fail the same way,
 * so no call ever sees it. */
typedef struct flusher {
    redisx_client *c;
    atomic_int stop;
    int flushes;
} flusher;

static void *flush_loop(void *arg)
{
    flusher *f = arg;
    const char *flush[] = {"SCRIPT", "FLUSH"};
    while (!atomic_load(&f->stop) && f->flushes < 400) {
        redisx_reply *r = NULL;
        if (redisx_command(&r, f->c, 2, flush, NULL) == REDISX_OK)
            f->flushes++;
        redisx_reply_free(r);
    }
    return NULL;
}

Test(fault, a_script_flush_storm_yields_no_error, .timeout = 120)
{
    rt_server s;
    cr_assert_eq(rt_server_start(&s), 0);
    redisx_client *c = client_for(&s, 10000);
    flusher f = {.c = client_for(&s, 10000)};
    redisx_limiter *lim[5];
    for (int a = 0; a < 5; a++)
        cr_assert_eq(redisx_limiter_new(&lim[a], c, "storm", (redisx_ratelimit_algorithm)a, 100000, 3600000, 100000),
                     REDISX_OK, "%s", redisx_last_error());
    pthread_t t;
    cr_assert_eq(pthread_create(&t, NULL, flush_loop, &f), 0);
    int rounds = 0;
    for (; rounds < 2000 && f.flushes < 400; rounds++) {
        redisx_status st = lock_cycle(c, "storm");
        cr_assert_eq(st, REDISX_OK, "round %d: %s (%s)", rounds, redisx_strerror(st), redisx_last_error());
        redisx_ratelimit_result *res = NULL;
        st = redisx_limiter_check(&res, lim[rounds % 5], "k", 1);
        cr_assert_eq(st, REDISX_OK, "round %d: %s (%s)", rounds, redisx_strerror(st), redisx_last_error());
        cr_assert(redisx_ratelimit_result_allowed(res));
        redisx_ratelimit_result_free(res);
        char key[32];
        snprintf(key, sizeof key, "storm-%d", rounds);
        redisx_idem *rec = NULL;
        st = redisx_idem_begin(&rec, c, key, "fp", 2, 60000, 0);
        cr_assert_eq(st, REDISX_OK, "round %d: %s (%s)", rounds, redisx_strerror(st), redisx_last_error());
        st = redisx_idem_complete(rec, "r", 1, NULL, 0, 60000);
        cr_assert_eq(st, REDISX_OK, "round %d: %s (%s)", rounds, redisx_strerror(st), redisx_last_error());
        redisx_idem_free(rec);
    }
    atomic_store(&f.stop, 1);
    pthread_join(t, NULL);
    cr_assert_gt(f.flushes, 0);
    redisx_stats *stats = NULL;
    redisx_client_stats(&stats, c);
    cr_assert_geq(redisx_stats_client(stats, REDISX_CLIENT_SCRIPT_RELOADS), 1, "no NOSCRIPT was met");
    redisx_stats_free(stats);
    for (int a = 0; a < 5; a++)
        redisx_limiter_free(lim[a]);
    redisx_client_close(f.c);
    redisx_client_close(c);
    rt_server_stop(&s);
}
