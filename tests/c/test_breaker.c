/* The circuit breaker (redisx_options_set_circuit_breaker) against real
 * servers that are killed, frozen and restarted: once open, calls fail at
 * once instead of at their timeout, fail-open primitives answer at once, a
 * reconnect closes it, and on a cluster only the dead node's calls fail.
 * Command timeouts are long (10 s) so that "at once" cannot be confused with
 * "at the deadline"; the bounds asserted are generous (valgrind). No
 * .timeout on these tests (Criterion 2.4.1 leaks under ASan when a suite's
 * tests have different ones); ctest's TIMEOUT bounds the suite. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "harness.h"

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static redisx_client *client_with_breaker(const rt_server *s, int failures, int64_t command_timeout_ms)
{
    redisx_options *o = NULL;
    cr_assert_eq(redisx_options_new(&o), REDISX_OK);
    cr_assert_eq(rt_options_server(o, s, NULL), REDISX_OK, "%s", redisx_last_error());
    redisx_options_set_command_timeout_ms(o, command_timeout_ms);
    redisx_options_set_connect_timeout_ms(o, 500);
    redisx_options_set_reconnect_backoff_ms(o, 20, 100);
    if (failures > 0)
        cr_assert_eq(redisx_options_set_circuit_breaker(o, failures, 60000, 60000), REDISX_OK, "%s",
                     redisx_last_error());
    redisx_client *c = NULL;
    cr_assert_eq(redisx_client_open(&c, o), REDISX_OK, "%s", redisx_last_error());
    redisx_options_free(o);
    return c;
}

static redisx_status ping(redisx_client *c, char *detail, size_t n)
{
    const char *argv[] = {"PING"};
    redisx_reply *r = NULL;
    redisx_status st = redisx_command(&r, c, 1, argv, NULL);
    if (detail)
        snprintf(detail, n, "%s", redisx_last_error());
    redisx_reply_free(r);
    return st;
}

static uint64_t client_stat(redisx_client *c, redisx_client_counter which)
{
    redisx_stats *s = NULL;
    cr_assert_eq(redisx_client_stats(&s, c), REDISX_OK);
    uint64_t v = redisx_stats_client(s, which);
    redisx_stats_free(s);
    return v;
}

/* Calls until one fails with the breaker's detail (at most ~30 s). */
static void until_open(redisx_client *c)
{
    char detail[512] = "";
    for (long long end = now_ms() + 30000; now_ms() < end;) {
        redisx_status st = ping(c, detail, sizeof detail);
        if (st == REDISX_ERR_CONNECTION && strstr(detail, "circuit breaker"))
            return;
        rt_sleep_ms(20);
    }
    cr_assert_fail("the breaker never opened; last: %s", detail);
}

static void until_ok(redisx_client *c)
{
    char detail[512] = "";
    for (long long end = now_ms() + 30000; now_ms() < end;) {
        if (ping(c, detail, sizeof detail) == REDISX_OK)
            return;
        rt_sleep_ms(50);
    }
    cr_assert_fail("never answered again; last: %s", detail);
}

Test(breaker, options_are_checked)
{
    redisx_options *o = NULL;
    redisx_options_new(&o);
    cr_assert_eq(redisx_options_set_circuit_breaker(NULL, 5, 1000, 1000), REDISX_ERR_INVALID);
    cr_assert_eq(redisx_options_set_circuit_breaker(o, -1, 1000, 1000), REDISX_ERR_INVALID);
    cr_assert(strstr(redisx_last_error(), "failures"), "%s", redisx_last_error());
    cr_assert_eq(redisx_options_set_circuit_breaker(o, 1000001, 1000, 1000), REDISX_ERR_INVALID);
    cr_assert_eq(redisx_options_set_circuit_breaker(o, 5, 0, 1000), REDISX_ERR_INVALID);
    cr_assert(strstr(redisx_last_error(), "window"), "%s", redisx_last_error());
    cr_assert_eq(redisx_options_set_circuit_breaker(o, 5, 1000, 3600001), REDISX_ERR_INVALID);
    cr_assert(strstr(redisx_last_error(), "open"), "%s", redisx_last_error());
    cr_assert_eq(redisx_options_set_circuit_breaker(o, 0, 1000, 1000), REDISX_OK, "0 turns it off");
    cr_assert_eq(redisx_options_set_circuit_breaker(o, 5, 10000, 1000), REDISX_OK);
    redisx_options_free(o);
}

Test(breaker, off_by_default_calls_wait_for_their_timeout)
{
    rt_server s;
    cr_assert_eq(rt_server_start(&s), 0);
    redisx_client *c = client_with_breaker(&s, 0, 1500);
    cr_assert_eq(ping(c, NULL, 0), REDISX_OK);
    rt_server_kill(&s);
    char detail[512];
    for (int i = 0; i < 2; i++) {
        long long t0 = now_ms();
        redisx_status st = ping(c, detail, sizeof detail);
        long long took = now_ms() - t0;
        cr_assert_neq(st, REDISX_OK);
        cr_assert_null(strstr(detail, "circuit breaker"), "%s", detail);
        if (i == 1) /* the first may fail on the lost connection itself */
            cr_assert_geq(took, 1000, "without a breaker a call waits for a connection until its deadline (%lld ms: %s)",
                          took, detail);
    }
    cr_assert_eq(client_stat(c, REDISX_CLIENT_CIRCUIT_OPENS), 0);
    redisx_client_close(c);
    rt_server_stop(&s);
}

Test(breaker, a_killed_server_opens_it_then_calls_fail_at_once_and_a_restart_closes_it)
{
    rt_server s;
    cr_assert_eq(rt_server_start(&s), 0);
    redisx_client *c = client_with_breaker(&s, 3, 10000);
    cr_assert_eq(ping(c, NULL, 0), REDISX_OK);
    cr_assert_eq(client_stat(c, REDISX_CLIENT_CIRCUITS_OPEN), 0);

    rt_server_kill(&s);
    long long t0 = now_ms();
    until_open(c);
    /* Failed reconnects (refused at once, 20..100 ms apart) open it long
     * before the 10 s a call would wait for a connection. */
    cr_assert_lt(now_ms() - t0, 9000, "opened after %lld ms", now_ms() - t0);

    t0 = now_ms();
    char detail[512];
    for (int i = 0; i < 100; i++) {
        cr_assert_eq(ping(c, detail, sizeof detail), REDISX_ERR_CONNECTION, "call %d", i);
        cr_assert(strstr(detail, "circuit breaker") && strstr(detail, "open"), "%s", detail);
    }
    long long took = now_ms() - t0;
    cr_assert_lt(took, 5000, "100 calls under an open breaker took %lld ms (a call would wait 10 s)", took);

    /* A fail-open limiter answers at once too, flagged fail-open. */
    redisx_limiter *lim = NULL;
    cr_assert_eq(redisx_limiter_new(&lim, c, "brk", REDISX_RATELIMIT_FIXED_WINDOW, 10, 1000, 0), REDISX_OK);
    cr_assert_eq(redisx_limiter_set_fail_policy(lim, REDISX_FAIL_OPEN), REDISX_OK);
    redisx_ratelimit_result *res = NULL;
    t0 = now_ms();
    cr_assert_eq(redisx_limiter_check(&res, lim, "user", 1), REDISX_OK, "%s", redisx_last_error());
    cr_assert_lt(now_ms() - t0, 5000);
    cr_assert(redisx_ratelimit_result_allowed(res));
    cr_assert(redisx_ratelimit_result_fail_open(res));
    redisx_ratelimit_result_free(res);
    /* A fail-closed one gets the error. */
    cr_assert_eq(redisx_limiter_set_fail_policy(lim, REDISX_FAIL_CLOSED), REDISX_OK);
    cr_assert_eq(redisx_limiter_check(&res, lim, "user", 1), REDISX_ERR_CONNECTION);
    redisx_limiter_free(lim);

    cr_assert_geq(client_stat(c, REDISX_CLIENT_CIRCUIT_OPENS), 1);
    cr_assert_geq(client_stat(c, REDISX_CLIENT_CIRCUIT_REJECTED), 100);
    cr_assert_eq(client_stat(c, REDISX_CLIENT_CIRCUITS_OPEN), 1);

    /* The open time is 60 s: what closes it is the reconnect's PING. */
    cr_assert_eq(rt_server_restart(&s), 0);
    t0 = now_ms();
    until_ok(c);
    cr_assert_lt(now_ms() - t0, 30000);
    cr_assert_eq(client_stat(c, REDISX_CLIENT_CIRCUITS_OPEN), 0);
    for (int i = 0; i < 20; i++)
        cr_assert_eq(ping(c, detail, sizeof detail), REDISX_OK, "%s", detail);
    redisx_client_close(c);
    rt_server_stop(&s);
}

Test(breaker, a_frozen_server_opens_it_by_timeouts)
{
    rt_server s;
    cr_assert_eq(rt_server_start(&s), 0);
    redisx_client *c = client_with_breaker(&s, 2, 400);
    cr_assert_eq(ping(c, NULL, 0), REDISX_OK);
    kill(rt_server_pid(&s), SIGSTOP);
    /* Timeouts, then a reconnect whose PING gets no answer: open. */
    until_open(c);
    long long t0 = now_ms();
    char detail[512];
    for (int i = 0; i < 50; i++)
        cr_assert_eq(ping(c, detail, sizeof detail), REDISX_ERR_CONNECTION, "%s", detail);
    cr_assert_lt(now_ms() - t0, 5000, "50 calls took %lld ms (each would wait 400 ms)", now_ms() - t0);
    kill(rt_server_pid(&s), SIGCONT);
    until_ok(c);
    cr_assert_eq(client_stat(c, REDISX_CLIENT_CIRCUITS_OPEN), 0);
    redisx_client_close(c);
    rt_server_stop(&s);
}

Test(breaker, the_probe_after_the_open_time_closes_it)
{
    /* Open 1 s: with the server back, the call after that time is the
     * probe, and its reply closes the breaker. */
    rt_server s;
    cr_assert_eq(rt_server_start(&s), 0);
    redisx_options *o = NULL;
    redisx_options_new(&o);
    cr_assert_eq(rt_options_server(o, &s, NULL), REDISX_OK);
    redisx_options_set_command_timeout_ms(o, 10000);
    redisx_options_set_connect_timeout_ms(o, 500);
    redisx_options_set_reconnect_backoff_ms(o, 20, 100);
    cr_assert_eq(redisx_options_set_circuit_breaker(o, 2, 60000, 1000), REDISX_OK);
    redisx_client *c = NULL;
    cr_assert_eq(redisx_client_open(&c, o), REDISX_OK);
    redisx_options_free(o);
    cr_assert_eq(ping(c, NULL, 0), REDISX_OK);
    rt_server_kill(&s);
    until_open(c);
    uint64_t opens = client_stat(c, REDISX_CLIENT_CIRCUIT_OPENS);
    /* Still down after the open time: the probe fails and it opens again. */
    rt_sleep_ms(1200);
    char detail[512];
    cr_assert_neq(ping(c, detail, sizeof detail), REDISX_OK);
    for (long long end = now_ms() + 20000;
         client_stat(c, REDISX_CLIENT_CIRCUIT_OPENS) == opens && now_ms() < end;)
        rt_sleep_ms(50);
    cr_assert_gt(client_stat(c, REDISX_CLIENT_CIRCUIT_OPENS), opens, "a failed probe opens it again");
    cr_assert_eq(rt_server_restart(&s), 0);
    until_ok(c);
    cr_assert_eq(client_stat(c, REDISX_CLIENT_CIRCUITS_OPEN), 0);
    redisx_client_close(c);
    rt_server_stop(&s);
}

/* ---- a cluster: one breaker per node ---- */

static int owner_of(rt_cluster *cl, const char *key)
{
    for (int i = 0; i < cl->masters; i++) {
        redisx_client *n = rt_client_on(&cl->node[i], NULL);
        const char *argv[] = {"GET", key};
        redisx_reply *r = NULL;
        redisx_status st = redisx_command(&r, n, 2, argv, NULL);
        int mine = st == REDISX_OK && redisx_reply_type_of(r) != REDISX_REPLY_ERROR;
        redisx_reply_free(r);
        redisx_client_close(n);
        if (mine)
            return i;
    }
    return -1;
}

static redisx_status set_key(redisx_client *c, const char *key, char *detail, size_t n)
{
    const char *argv[] = {"SET", key, "1"};
    redisx_reply *r = NULL;
    redisx_status st = redisx_command(&r, c, 3, argv, NULL);
    snprintf(detail, n, "%s", redisx_last_error());
    if (st == REDISX_OK && redisx_reply_type_of(r) == REDISX_REPLY_ERROR) {
        size_t len = 0;
        const char *str = redisx_reply_string(r, &len);
        snprintf(detail, n, "%.*s", (int)len, str);
        st = REDISX_ERR_SERVER;
    }
    redisx_reply_free(r);
    return st;
}

Test(breaker, on_a_cluster_only_the_dead_node_calls_fail_at_once)
{
    rt_cluster cl;
    cr_assert_eq(rt_cluster_start(&cl, 3, 0), 0, "cannot start a 3-master cluster");
    /* The live masters keep serving their slots while one is down. */
    for (int i = 0; i < cl.masters; i++) {
        redisx_client *n = rt_client_on(&cl.node[i], NULL);
        const char *argv[] = {"CONFIG", "SET", "cluster-require-full-coverage", "no"};
        redisx_reply_free(rt_cmd(n, 4, argv));
        redisx_client_close(n);
    }
    int dead = owner_of(&cl, "b");
    cr_assert_geq(dead, 0);
    const char *live_key = NULL;
    const char *candidates[] = {"a", "c", "foo", "hello", "x", "y", "z"};
    for (size_t i = 0; i < sizeof candidates / sizeof *candidates && !live_key; i++)
        if (owner_of(&cl, candidates[i]) != dead)
            live_key = candidates[i];
    cr_assert_not_null(live_key);

    char seeds[512];
    int off = 0;
    for (int i = 0; i < cl.masters; i++)
        off += snprintf(seeds + off, sizeof seeds - (size_t)off, "%s127.0.0.1:%d", i ? "," : "", cl.node[i].port);
    redisx_options *o = NULL;
    redisx_options_new(&o);
    cr_assert_eq(redisx_options_set_cluster_seeds(o, seeds), REDISX_OK, "%s", redisx_last_error());
    redisx_options_set_command_timeout_ms(o, 10000);
    redisx_options_set_connect_timeout_ms(o, 500);
    redisx_options_set_reconnect_backoff_ms(o, 20, 100);
    cr_assert_eq(redisx_options_set_circuit_breaker(o, 2, 60000, 60000), REDISX_OK);
    redisx_client *c = NULL;
    cr_assert_eq(redisx_client_open(&c, o), REDISX_OK, "%s", redisx_last_error());
    redisx_options_free(o);
    char detail[512];
    cr_assert_eq(set_key(c, "b", detail, sizeof detail), REDISX_OK, "%s", detail);
    cr_assert_eq(set_key(c, live_key, detail, sizeof detail), REDISX_OK, "%s", detail);

    rt_server_kill(&cl.node[dead]);
    int open = 0;
    for (long long end = now_ms() + 60000; !open && now_ms() < end;) {
        open = set_key(c, "b", detail, sizeof detail) == REDISX_ERR_CONNECTION && strstr(detail, "circuit breaker");
        if (!open)
            rt_sleep_ms(20);
    }
    cr_assert(open, "the dead node's breaker never opened: %s", detail);
    long long t0 = now_ms();
    for (int i = 0; i < 50; i++)
        cr_assert_eq(set_key(c, "b", detail, sizeof detail), REDISX_ERR_CONNECTION, "%s", detail);
    cr_assert_lt(now_ms() - t0, 5000);
    for (int i = 0; i < 50; i++)
        cr_assert_eq(set_key(c, live_key, detail, sizeof detail), REDISX_OK, "a live node's key: %s", detail);
    cr_assert_eq(client_stat(c, REDISX_CLIENT_CIRCUITS_OPEN), 1);
    redisx_client_close(c);
    rt_cluster_stop(&cl);
}
