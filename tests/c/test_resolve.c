/* Name resolution off the I/O thread: a slow resolver (the core's test hook,
 * set through the static library) stalls neither deadlines, timers nor
 * close; the connect timeout covers the lookup; IP literals and unix sockets
 * never wait for a resolver. Bounds are generous (valgrind runs the client
 * 20-50x slower): "well before the hook's delay", not exact times. */
#include <netdb.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "client_impl.h"
#include "harness.h"

static atomic_int hook_delay_ms;
static atomic_int hook_fail; /* answer EAI_NONAME after the delay */
static atomic_int hook_calls, hook_active, hook_max_active, hook_finished;

static int slow_resolve(const char *host, const char *port, const struct addrinfo *hints, struct addrinfo **res)
{
    atomic_fetch_add(&hook_calls, 1);
    int now = atomic_fetch_add(&hook_active, 1) + 1;
    int max = atomic_load(&hook_max_active);
    while (now > max && !atomic_compare_exchange_weak(&hook_max_active, &max, now)) {
    }
    rt_sleep_ms(atomic_load(&hook_delay_ms));
    int rc = atomic_load(&hook_fail) ? EAI_NONAME : getaddrinfo(host, port, hints, res);
    atomic_fetch_sub(&hook_active, 1);
    atomic_fetch_add(&hook_finished, 1);
    return rc;
}

static void set_hook(int delay_ms)
{
    atomic_store(&hook_delay_ms, delay_ms);
    redisx__resolve_hook = slow_resolve;
}

static int64_t ms_since(uint64_t t0)
{
    return (int64_t)((redisx__now_ns() - t0) / REDISX__NS_PER_MS);
}

typedef struct opts {
    const char *url; /* NULL: redis://localhost:<the suite's port> */
    int64_t connect_ms, command_ms;
    int connections;
    int64_t backoff_min_ms, backoff_max_ms;
    redisx_state_cb state_cb;
} opts;

static redisx_client *open_client(opts o)
{
    char url[300];
    if (o.url)
        snprintf(url, sizeof url, "%s", o.url);
    else
        snprintf(url, sizeof url, "redis://localhost:%d", rt_port());
    redisx_options *op = NULL;
    cr_assert_eq(redisx_options_new(&op), REDISX_OK);
    cr_assert_eq(redisx_options_set_url(op, url), REDISX_OK, "%s", redisx_last_error());
    if (o.connect_ms)
        cr_assert_eq(redisx_options_set_connect_timeout_ms(op, o.connect_ms), REDISX_OK);
    if (o.command_ms)
        cr_assert_eq(redisx_options_set_command_timeout_ms(op, o.command_ms), REDISX_OK);
    if (o.connections)
        cr_assert_eq(redisx_options_set_connections(op, o.connections), REDISX_OK);
    if (o.backoff_min_ms)
        cr_assert_eq(redisx_options_set_reconnect_backoff_ms(op, o.backoff_min_ms, o.backoff_max_ms), REDISX_OK);
    if (o.state_cb)
        cr_assert_eq(redisx_options_set_state_cb(op, o.state_cb, NULL), REDISX_OK);
    redisx_client *c = NULL;
    cr_assert_eq(redisx_client_open(&c, op), REDISX_OK, "%s", redisx_last_error());
    redisx_options_free(op);
    return c;
}

static redisx_status ping(redisx_client *c)
{
    const char *argv[] = {"PING"};
    redisx_reply *r = NULL;
    redisx_status st = redisx_command(&r, c, 1, argv, NULL);
    redisx_reply_free(r);
    return st;
}

static void wait_for(atomic_int *v, int at_least, int within_ms)
{
    uint64_t t0 = redisx__now_ns();
    while (atomic_load(v) < at_least && ms_since(t0) < within_ms)
        rt_sleep_ms(5);
    cr_assert_geq(atomic_load(v), at_least, "still %d after %d ms", atomic_load(v), within_ms);
}

static uint64_t client_counter(redisx_client *c, redisx_client_counter which)
{
    redisx_stats *s = NULL;
    cr_assert_eq(redisx_client_stats(&s, c), REDISX_OK);
    uint64_t v = redisx_stats_client(s, which);
    redisx_stats_free(s);
    return v;
}

Test(resolve, a_lookup_slower_than_the_connect_timeout_fails_the_attempt)
{
    set_hook(6000);
    redisx_client *c = open_client((opts){.connect_ms = 500, .command_ms = 1000});
    uint64_t t0 = redisx__now_ns();
    redisx_status st = ping(c);
    int64_t took = ms_since(t0);
    cr_assert_eq(st, REDISX_ERR_CONNECTION, "%s (%s)", redisx_strerror(st), redisx_last_error());
    cr_assert(strstr(redisx_last_error(), "resolve localhost: timed out after 500 ms") != NULL, "detail: %s",
              redisx_last_error());
    cr_assert_lt(took, 4000, "the command took %lld ms: it waited for the resolver", (long long)took);
    cr_assert_geq(client_counter(c, REDISX_CLIENT_CONNECT_FAILURES), 1);
    redisx_client_close(c);
}

static atomic_int timer_fired;
static uint64_t timer_due_ns, timer_ran_ns;

static void on_timer(redisx_client *c, void *ctx, uint64_t arg, int cancelled)
{
    (void)c, (void)ctx, (void)arg;
    if (!cancelled) {
        timer_ran_ns = redisx__now_ns();
        atomic_store(&timer_fired, 1);
    }
}

/* Runs on the I/O thread: arms a timer 200 ms ahead. */
static void arm_timer(redisx__cmd *cmd, redisx_status st, redisx_reply *reply)
{
    (void)reply;
    if (st == REDISX_OK) {
        timer_due_ns = redisx__now_ns() + 200 * REDISX__NS_PER_MS;
        if (redisx__timer_add(cmd->client, timer_due_ns, on_timer, NULL, 0) != REDISX_OK)
            atomic_store(&timer_fired, -1);
    }
    redisx__cmd_free(cmd);
}

Test(resolve, deadlines_timers_and_close_run_while_a_lookup_hangs)
{
    set_hook(6000);
    /* The connect timeout outlasts the test: the lookup hangs throughout. */
    redisx_client *c = open_client((opts){.connect_ms = 60000, .command_ms = 300});
    wait_for(&hook_calls, 1, 10000);

    for (int i = 0; i < 3; i++) {
        uint64_t t0 = redisx__now_ns();
        redisx_status st = ping(c);
        int64_t took = ms_since(t0);
        cr_assert_eq(st, REDISX_ERR_CONNECTION, "%s (%s)", redisx_strerror(st), redisx_last_error());
        cr_assert(strstr(redisx_last_error(), "still connecting") != NULL, "detail: %s", redisx_last_error());
        cr_assert_lt(took, 2500, "command %d failed after %lld ms, not by its 300 ms deadline", i, (long long)took);
    }

    redisx__cmd *task = redisx__cmd_task();
    cr_assert_not_null(task);
    task->fn = arm_timer;
    redisx__submit(c, task);
    wait_for(&timer_fired, 1, 2500); /* -1: no timer armed */
    int64_t late = (int64_t)(timer_ran_ns - timer_due_ns) / (int64_t)REDISX__NS_PER_MS;
    cr_assert_lt(late, 2000, "the timer ran %lld ms late", (long long)late);

    uint64_t t0 = redisx__now_ns();
    redisx_client_close(c);
    int64_t took = ms_since(t0);
    cr_assert_lt(took, 1500, "close took %lld ms", (long long)took);
    cr_assert_eq(atomic_load(&hook_finished), 0, "close waited for the resolver");
}

static atomic_int closed_status_seen;

static void on_reply(redisx_client *c, redisx_status st, redisx_reply *r, void *user)
{
    (void)c, (void)user;
    redisx_reply_free(r);
    if (st == REDISX_ERR_CLOSED)
        atomic_store(&closed_status_seen, 1);
}

Test(resolve, close_during_a_lookup_returns_at_once_and_the_late_answer_is_dropped)
{
    set_hook(2500);
    redisx_client *c = open_client((opts){.connect_ms = 60000, .command_ms = 60000});
    const char *argv[] = {"PING"};
    cr_assert_eq(redisx_command_async(c, 1, argv, NULL, on_reply, NULL), REDISX_OK);
    wait_for(&hook_calls, 1, 10000);
    uint64_t t0 = redisx__now_ns();
    redisx_client_close(c);
    int64_t took = ms_since(t0);
    cr_assert_lt(took, 1500, "close took %lld ms", (long long)took);
    cr_assert_eq(atomic_load(&closed_status_seen), 1, "the pending command did not complete with CLOSED");
    cr_assert_eq(atomic_load(&hook_finished), 0, "close waited for the resolver");
    /* The answer arrives after the client is gone: sanitizers and valgrind
     * check that the resolver thread touches only its own request. */
    wait_for(&hook_finished, 1, 20000);
    rt_sleep_ms(300);
}

Test(resolve, a_host_name_connects_and_serves)
{
    /* No hook: the real getaddrinfo, on a resolver thread. */
    redisx_client *c = open_client((opts){.command_ms = 10000, .connect_ms = 10000});
    char key[96];
    rt_unique("resolve", key, sizeof key);
    const char *set[] = {"SET", key, "41"};
    redisx_reply_free(rt_cmd(c, 3, set));
    const char *incr[] = {"INCR", key};
    redisx_reply *r = rt_cmd(c, 2, incr);
    cr_assert_eq(redisx_reply_integer(r), 42);
    redisx_reply_free(r);
    const char *del[] = {"DEL", key};
    redisx_reply_free(rt_cmd(c, 2, del));
    redisx_client_close(c);
}

Test(resolve, the_connections_of_a_client_resolve_at_once)
{
    set_hook(500);
    redisx_client *c = open_client((opts){.connections = 4, .command_ms = 20000, .connect_ms = 20000});
    for (int i = 0; i < 8; i++)
        cr_assert_eq(ping(c), REDISX_OK, "%s", redisx_last_error());
    wait_for(&hook_calls, 4, 20000);
    cr_assert_geq(atomic_load(&hook_max_active), 2, "the lookups ran one after another");
    redisx_client_close(c);
}

static atomic_int sub_connected;

static void on_state(redisx_client *c, int conn, redisx_conn_state st, const char *detail, void *user)
{
    (void)detail, (void)user;
    if (st == REDISX_STATE_CONNECTED && conn == c->nconns)
        atomic_store(&sub_connected, 1);
}

static void subscribe_task(redisx__cmd *cmd, redisx_status st, redisx_reply *reply)
{
    (void)reply;
    if (st == REDISX_OK)
        redisx__subscribe(cmd->client, "resolve-test-channel");
    redisx__cmd_free(cmd);
}

Test(resolve, the_subscriber_connection_resolves_the_same_way)
{
    set_hook(100);
    redisx_client *c = open_client((opts){.command_ms = 20000, .connect_ms = 20000, .state_cb = on_state});
    cr_assert_eq(ping(c), REDISX_OK, "%s", redisx_last_error());
    cr_assert_eq(atomic_load(&hook_calls), 1);
    redisx__cmd *task = redisx__cmd_task();
    cr_assert_not_null(task);
    task->fn = subscribe_task;
    redisx__submit(c, task);
    wait_for(&sub_connected, 1, 20000);
    cr_assert_eq(atomic_load(&hook_calls), 2, "the subscriber connection did not use the resolver");
    redisx_client_close(c);
}

Test(resolve, ip_literals_and_unix_sockets_never_wait_for_a_resolver)
{
    set_hook(60000);
    redisx_client *c = open_client((opts){.url = rt_url(), .command_ms = 10000});
    cr_assert_eq(ping(c), REDISX_OK, "%s", redisx_last_error());
    redisx_client_close(c);

    rt_server s;
    cr_assert_eq(rt_server_start(&s), 0);
    char url[400];
    snprintf(url, sizeof url, "unix://%s/redis.sock", s.dir);
    c = open_client((opts){.url = url, .command_ms = 10000});
    redisx_status st = ping(c);
    redisx_client_close(c);
    rt_server_stop(&s);
    cr_assert_eq(st, REDISX_OK, "%s", redisx_last_error());
    cr_assert_eq(atomic_load(&hook_calls), 0, "an IP literal or a socket path went to the resolver");
}

Test(resolve, a_failed_lookup_names_the_host_and_the_reason)
{
    set_hook(0);
    atomic_store(&hook_fail, 1);
    redisx_client *c = open_client((opts){.url = "redis://nowhere.invalid:6379", .command_ms = 500});
    redisx_status st = ping(c);
    cr_assert_eq(st, REDISX_ERR_CONNECTION, "%s", redisx_strerror(st));
    char want[256];
    snprintf(want, sizeof want, "resolve nowhere.invalid: %s", gai_strerror(EAI_NONAME));
    cr_assert(strstr(redisx_last_error(), want) != NULL, "detail: %s", redisx_last_error());
    redisx_client_close(c);
}

Test(resolve, a_later_attempt_waits_for_the_lookup_still_running)
{
    /* Attempts time out every 300 ms while one lookup takes 2 s: they wait
     * for that lookup in turn (one resolver thread), and the attempt under
     * way when it answers connects. */
    set_hook(2000);
    redisx_client *c =
        open_client((opts){.connect_ms = 300, .command_ms = 30000, .backoff_min_ms = 1, .backoff_max_ms = 1});
    cr_assert_eq(ping(c), REDISX_OK, "%s", redisx_last_error());
    uint64_t failures = client_counter(c, REDISX_CLIENT_CONNECT_FAILURES);
    cr_assert_geq(failures, 2, "only %llu failed attempts", (unsigned long long)failures);
    /* An answer that lands in the 1 ms between two attempts is dropped. */
    cr_assert_leq(atomic_load(&hook_calls), 2, "%d lookups for %llu attempts", atomic_load(&hook_calls),
                  (unsigned long long)failures + 1);
    redisx_client_close(c);
}

Test(resolve, an_answer_that_arrives_between_attempts_is_discarded)
{
    /* The lookup (500 ms) outlives its attempt (200 ms) and answers during
     * the backoff (1-2 s): the next attempt starts a lookup of its own. */
    set_hook(500);
    redisx_client *c =
        open_client((opts){.connect_ms = 200, .command_ms = 400, .backoff_min_ms = 2000, .backoff_max_ms = 2000});
    cr_assert_eq(ping(c), REDISX_ERR_CONNECTION);
    wait_for(&hook_calls, 2, 20000);
    cr_assert_eq(client_counter(c, REDISX_CLIENT_CONNECTS), 0, "a late answer was used");
    redisx_client_close(c);
}
