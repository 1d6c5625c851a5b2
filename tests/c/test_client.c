/* The client: raw commands, binary safety, the pollable queue, events,
 * stats, logs and connection states, AUTH/SELECT, close semantics. */
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

Test(client, version_matches_the_headers)
{
    cr_assert_eq(redisx_version(), REDISX_VERSION_NUMBER);
    char want[32];
    snprintf(want, sizeof want, "%d.%d.%d", REDISX_VERSION_MAJOR, REDISX_VERSION_MINOR, REDISX_VERSION_PATCH);
    cr_assert_str_eq(redisx_version_string(), want);
}

Test(client, binary_values_with_nul_bytes_round_trip)
{
    redisx_client *c = rt_client();
    size_t n = 1 << 20;
    char *val = malloc(n);
    for (size_t i = 0; i < n; i++)
        val[i] = (char)(i * 7); /* includes many NUL bytes */
    char key[64];
    rt_unique("bin\0", key, sizeof key);
    const char *set[] = {"SET", key, val};
    size_t setl[] = {3, strlen(key), n};
    redisx_reply *r = NULL;
    cr_assert_eq(redisx_command(&r, c, 3, set, setl), REDISX_OK);
    cr_assert_eq(redisx_reply_type_of(r), REDISX_REPLY_STATUS);
    redisx_reply_free(r);
    const char *get[] = {"GET", key};
    cr_assert_eq(redisx_command(&r, c, 2, get, NULL), REDISX_OK);
    size_t len = 0;
    const char *got = redisx_reply_string(r, &len);
    cr_assert_eq(len, n);
    cr_assert_eq(memcmp(got, val, n), 0);
    redisx_reply_free(r);
    free(val);
    redisx_client_close(c);
}

Test(client, server_error_is_a_reply_not_a_failure)
{
    redisx_client *c = rt_client();
    const char *bad[] = {"NOSUCHCOMMAND", "x"};
    redisx_reply *r = rt_cmd(c, 2, bad);
    cr_assert_eq(redisx_reply_type_of(r), REDISX_REPLY_ERROR);
    cr_assert_neq(strstr(redisx_reply_string(r, NULL), "unknown command"), NULL);
    redisx_reply_free(r);
    redisx_client_close(c);
}

Test(client, array_replies_expose_their_elements)
{
    redisx_client *c = rt_client();
    char key[64];
    rt_unique("list", key, sizeof key);
    const char *push[] = {"RPUSH", key, "a", "", "ccc"};
    redisx_reply_free(rt_cmd(c, 5, push));
    const char *range[] = {"LRANGE", key, "0", "-1"};
    redisx_reply *r = rt_cmd(c, 4, range);
    cr_assert_eq(redisx_reply_elements(r), 3);
    size_t len = 99;
    cr_assert_str_eq(redisx_reply_string(redisx_reply_element(r, 0), NULL), "a");
    redisx_reply_string(redisx_reply_element(r, 1), &len);
    cr_assert_eq(len, 0);
    cr_assert_str_eq(redisx_reply_string(redisx_reply_element(r, 2), NULL), "ccc");
    cr_assert_null(redisx_reply_element(r, 3));
    redisx_reply_free(r);
    redisx_client_close(c);
}

Test(client, select_uses_the_database_of_the_url)
{
    char url[96], key[64];
    snprintf(url, sizeof url, "%s://127.0.0.1:%d/3", rt_scheme(), rt_port());
    rt_unique("db3", key, sizeof key);
    redisx_client *db3 = NULL, *db0 = rt_client();
    cr_assert_eq(rt_open_url(&db3, url), REDISX_OK);
    const char *set[] = {"SET", key, "in-3"};
    redisx_reply_free(rt_cmd(db3, 3, set));
    const char *get[] = {"GET", key};
    redisx_reply *r = rt_cmd(db0, 2, get);
    cr_assert_eq(redisx_reply_type_of(r), REDISX_REPLY_NIL, "not in db 0");
    redisx_reply_free(r);
    const char *sel[] = {"SELECT", "3"};
    redisx_reply_free(rt_cmd(db3, 2, sel));
    r = rt_cmd(db3, 2, get);
    cr_assert_str_eq(redisx_reply_string(r, NULL), "in-3");
    redisx_reply_free(r);
    redisx_client_close(db3);
    redisx_client_close(db0);
}

Test(client, acl_user_and_password_authenticate_on_connect)
{
    redisx_client *admin = rt_client();
    char user[64], url[160];
    rt_unique("alice", user, sizeof user);
    const char *acl[] = {"ACL", "SETUSER", user, "on", ">s3cret", "~*", "+@all"};
    redisx_reply *r = rt_cmd(admin, 7, acl);
    cr_assert_eq(redisx_reply_type_of(r), REDISX_REPLY_STATUS, "%s", redisx_reply_string(r, NULL));
    redisx_reply_free(r);

    snprintf(url, sizeof url, "%s://%s:s3cret@127.0.0.1:%d", rt_scheme(), user, rt_port());
    redisx_client *c = NULL;
    cr_assert_eq(rt_open_url(&c, url), REDISX_OK);
    const char *who[] = {"ACL", "WHOAMI"};
    r = rt_cmd(c, 2, who);
    cr_assert_str_eq(redisx_reply_string(r, NULL), user);
    redisx_reply_free(r);
    redisx_client_close(c);

    redisx_options *o = NULL;
    redisx_options_new(&o);
    redisx_options_set_url(o, url);
    rt_options_ca(o);
    redisx_options_set_auth(o, user, "wrong");
    redisx_options_set_command_timeout_ms(o, 300);
    cr_assert_eq(redisx_client_open(&c, o), REDISX_OK);
    redisx_options_free(o);
    cr_assert_eq(redisx_command(&r, c, 2, who, NULL), REDISX_ERR_AUTH);
    cr_assert_neq(strstr(redisx_last_error(), "WRONGPASS"), NULL, "%s", redisx_last_error());
    redisx_client_close(c);
    const char *del[] = {"ACL", "DELUSER", user};
    redisx_reply_free(rt_cmd(admin, 3, del));
    redisx_client_close(admin);
}

Test(client, an_empty_password_connects_without_auth)
{
    /* The shared server has no password: AUTH "" would be refused there. */
    char url[160];
    snprintf(url, sizeof url, "%s://:@127.0.0.1:%d", rt_scheme(), rt_port());
    const char *ping[] = {"PING"};
    redisx_client *c = NULL;
    cr_assert_eq(rt_open_url(&c, url), REDISX_OK, "%s", redisx_last_error());
    redisx_reply *r = NULL;
    cr_assert_eq(redisx_command(&r, c, 1, ping, NULL), REDISX_OK, "%s", redisx_last_error());
    cr_assert_str_eq(redisx_reply_string(r, NULL), "PONG");
    redisx_reply_free(r);
    redisx_client_close(c);

    const char *users[] = {NULL, "alice"};
    for (int i = 0; i < 2; i++) {
        redisx_options *o = NULL;
        redisx_options_new(&o);
        snprintf(url, sizeof url, "%s://:wrong@127.0.0.1:%d", rt_scheme(), rt_port());
        redisx_options_set_url(o, url);
        rt_options_ca(o);
        cr_assert_eq(redisx_options_set_auth(o, users[i], ""), REDISX_OK, "%s", redisx_last_error());
        cr_assert_eq(redisx_client_open(&c, o), REDISX_OK, "%s", redisx_last_error());
        redisx_options_free(o);
        cr_assert_eq(redisx_command(&r, c, 1, ping, NULL), REDISX_OK, "user %s: %s", users[i] ? users[i] : "none",
                     redisx_last_error());
        redisx_reply_free(r);
        redisx_client_close(c);
    }
}

/* ---- the queue ---- */

Test(client, async_completions_with_no_callback_arrive_in_the_queue)
{
    redisx_queue *q = NULL;
    cr_assert_eq(redisx_queue_new(&q), REDISX_OK);
    redisx_options *o = NULL;
    redisx_options_new(&o);
    redisx_options_set_queue(o, q, 0);
    redisx_client *c = rt_client_opts(o);
    redisx_options_free(o);

    struct pollfd p = {.fd = redisx_queue_fd(q), .events = POLLIN};
    cr_assert_eq(poll(&p, 1, 0), 0, "empty queue: fd not readable");
    const char *ping[] = {"PING"};
    cr_assert_eq(redisx_command_async(c, 1, ping, NULL, NULL, (void *)0x51), REDISX_OK);
    cr_assert_eq(redisx_lock_acquire_async(c, "queued", 5000, 0, NULL, (void *)0x52), REDISX_OK);
    cr_assert_eq(redisx_lock_inspect_async(c, "queued", NULL, (void *)0x53), REDISX_OK);
    int seen = 0;
    redisx_lock *lk = NULL;
    while (seen < 3) {
        cr_assert_eq(poll(&p, 1, 5000), 1, "fd turns readable");
        redisx_item *it = NULL;
        while (redisx_queue_pop(&it, q, 0) == REDISX_OK) {
            cr_assert_eq(redisx_item_kind_of(it), REDISX_ITEM_COMPLETION);
            cr_assert_eq(redisx_item_status(it), REDISX_OK, "%s", redisx_item_message(it));
            if (redisx_item_user(it) == (void *)0x51) {
                redisx_reply *r = redisx_item_take_reply(it);
                cr_assert_str_eq(redisx_reply_string(r, NULL), "PONG");
                cr_assert_null(redisx_item_take_reply(it), "moved out once");
                redisx_reply_free(r);
            } else if (redisx_item_user(it) == (void *)0x52) {
                lk = redisx_item_take_lock(it);
                cr_assert_not_null(lk);
            } else {
                cr_assert_eq(redisx_item_user(it), (void *)0x53);
                /* Pipelined after the acquire on the same connection: sees it. */
                cr_assert_eq(redisx_lock_info_locked(redisx_item_lock_info(it)), 1);
            }
            redisx_item_free(it);
            seen++;
        }
    }
    cr_assert_eq(poll(&p, 1, 0), 0, "drained queue: fd no longer readable");
    cr_assert_eq(redisx_queue_size(q), 0);
    redisx_lock_release(lk);
    redisx_lock_free(lk);
    redisx_client_close(c);
    redisx_queue_free(q);
}

Test(client, queue_receives_events_states_and_lost_locks_when_asked)
{
    redisx_queue *q = NULL;
    redisx_queue_new(&q);
    redisx_options *o = NULL;
    redisx_options_new(&o);
    redisx_options_set_queue(o, q, REDISX_QUEUE_EVENTS | REDISX_QUEUE_STATES | REDISX_QUEUE_LOCK_LOST);
    redisx_options_set_event_keys(o, 1);
    redisx_client *c = rt_client_opts(o);
    redisx_options_free(o);
    redisx_lock *lk = NULL;
    cr_assert_eq(redisx_lock_acquire(&lk, c, "evq", 300, 0), REDISX_OK);
    cr_assert_eq(redisx_lock_start_renewal(lk, NULL, (void *)0x77), REDISX_OK);
    char key[256];
    snprintf(key, sizeof key, "%s:lock:{evq}", redisx_client_prefix(c));
    const char *del[] = {"DEL", key};
    redisx_reply_free(rt_cmd(c, 2, del));
    int events = 0, connected = 0, lost = 0;
    for (int i = 0; i < 50 && !lost; i++) {
        redisx_item *it = NULL;
        if (redisx_queue_pop(&it, q, 100) != REDISX_OK)
            continue;
        switch (redisx_item_kind_of(it)) {
        case REDISX_ITEM_EVENT: {
            const redisx_event *ev = redisx_item_event(it);
            if (strcmp(redisx_event_operation(ev), "acquire") == 0) {
                cr_assert_str_eq(redisx_event_primitive(ev), "lock");
                cr_assert_str_eq(redisx_event_key(ev), "evq");
            }
            events++;
            break;
        }
        case REDISX_ITEM_STATE: {
            char want[64];
            snprintf(want, sizeof want, "127.0.0.1:%d", rt_port());
            const char *node = redisx_item_node(it);
            cr_assert_not_null(node, "the state names its node");
            if (!rt_cluster_mode())
                cr_assert_str_eq(node, want);
            else
                cr_assert_eq(strncmp(node, "127.0.0.1:", 10), 0, "%s", node);
            connected += redisx_item_state(it) == REDISX_STATE_CONNECTED;
            break;
        }
        case REDISX_ITEM_LOCK_LOST:
            cr_assert_eq(redisx_item_user(it), (void *)0x77);
            cr_assert_str_eq(redisx_lock_name(redisx_item_lock(it)), "evq");
            lost++;
            break;
        default:
            break;
        }
        redisx_item_free(it);
    }
    cr_assert_geq(events, 2, "acquire and DEL events");
    cr_assert_eq(connected, 1);
    cr_assert_eq(lost, 1);
    redisx_lock_free(lk);
    redisx_client_close(c);
    redisx_queue_free(q);
}

typedef struct popper {
    redisx_queue *q;
    redisx_status st;
} popper;

static void *pop_forever(void *arg)
{
    popper *p = arg;
    redisx_item *it = NULL;
    p->st = redisx_queue_pop(&it, p->q, -1);
    redisx_item_free(it);
    return NULL;
}

Test(client, queue_shutdown_wakes_a_blocked_pop)
{
    redisx_queue *q = NULL;
    redisx_queue_new(&q);
    popper p = {q, REDISX_OK};
    pthread_t th;
    pthread_create(&th, NULL, pop_forever, &p);
    rt_sleep_ms(50);
    redisx_queue_shutdown(q);
    pthread_join(th, NULL);
    cr_assert_eq(p.st, REDISX_ERR_CLOSED);
    redisx_item *it = NULL;
    cr_assert_eq(redisx_queue_pop(&it, q, 0), REDISX_ERR_CLOSED);
    redisx_queue_free(q);
}

/* ---- events, logs, states, stats ---- */

typedef struct event_log {
    pthread_mutex_t mu;
    int n;
    char ops[64][32];
    int status[64];
    int round_trips[64];
    int with_key;
    int64_t min_duration;
    char node[64][64];
} event_log;

static void record_event(redisx_client *c, const redisx_event *ev, void *user)
{
    (void)c;
    event_log *l = user;
    pthread_mutex_lock(&l->mu);
    if (l->n < 64) {
        snprintf(l->ops[l->n], sizeof l->ops[0], "%s.%s", redisx_event_primitive(ev), redisx_event_operation(ev));
        l->status[l->n] = redisx_event_status(ev);
        l->round_trips[l->n] = redisx_event_round_trips(ev);
        l->with_key += redisx_event_key(ev) != NULL;
        snprintf(l->node[l->n], sizeof l->node[0], "%s", redisx_event_node(ev) ? redisx_event_node(ev) : "(none)");
        if (l->min_duration == 0 || redisx_event_duration_ns(ev) < l->min_duration)
            l->min_duration = redisx_event_duration_ns(ev);
        l->n++;
    }
    pthread_mutex_unlock(&l->mu);
}

Test(client, event_callback_reports_each_operation_without_keys_by_default)
{
    event_log log = {.mu = PTHREAD_MUTEX_INITIALIZER};
    redisx_options *o = NULL;
    redisx_options_new(&o);
    redisx_options_set_event_cb(o, record_event, &log);
    redisx_client *c = rt_client_opts(o);
    redisx_options_free(o);
    redisx_lock *a = NULL, *b = NULL;
    cr_assert_eq(redisx_lock_acquire(&a, c, "ev", 5000, 0), REDISX_OK);
    cr_assert_eq(redisx_lock_acquire(&b, c, "ev", 5000, 0), REDISX_ERR_LOCKED);
    cr_assert_eq(redisx_lock_release(a), REDISX_OK);
    redisx_lock_free(a);
    redisx_client_close(c); /* events are emitted before completions */
    cr_assert_eq(log.n, 3);
    cr_assert_str_eq(log.ops[0], "lock.acquire");
    cr_assert_eq(log.status[0], REDISX_OK);
    cr_assert_eq(log.round_trips[0], 1);
    cr_assert_str_eq(log.ops[1], "lock.acquire");
    cr_assert_eq(log.status[1], REDISX_ERR_LOCKED);
    cr_assert_str_eq(log.ops[2], "lock.release");
    cr_assert_eq(log.with_key, 0, "keys only when opted in");
    cr_assert_gt(log.min_duration, 0);
    char node[64];
    snprintf(node, sizeof node, "127.0.0.1:%d", rt_port());
    for (int i = 0; i < 3; i++)
        cr_assert_str_eq(log.node[i], node, "event %d names the server its command went to", i);
}

Test(client, stats_count_operations_and_fill_the_histogram)
{
    redisx_client *c = rt_client();
    for (int i = 0; i < 50; i++) {
        redisx_lock *lk = NULL;
        cr_assert_eq(redisx_lock_acquire(&lk, c, "stats", 5000, 0), REDISX_OK);
        cr_assert_eq(redisx_lock_release(lk), REDISX_OK);
        redisx_lock_free(lk);
    }
    redisx_stats *s = NULL;
    cr_assert_eq(redisx_client_stats(&s, c), REDISX_OK);
    int acq = rt_series(s, "lock", "acquire");
    cr_assert_eq(redisx_stats_counter(s, acq, REDISX_COUNTER_CALLS), 50);
    cr_assert_eq(redisx_stats_counter(s, acq, REDISX_COUNTER_OK), 50);
    cr_assert_eq(redisx_stats_counter(s, acq, REDISX_COUNTER_ERRORS), 0);
    uint64_t in_buckets = 0;
    for (int b = 0; b < redisx_stats_buckets(s); b++)
        in_buckets += redisx_stats_bucket_count(s, acq, b);
    cr_assert_eq(in_buckets, 50);
    int64_t p50 = redisx_stats_quantile_ns(s, acq, 0.5), p99 = redisx_stats_quantile_ns(s, acq, 0.99);
    cr_assert(p50 > 0 && p99 >= p50);
    cr_assert_eq(redisx_stats_client(s, REDISX_CLIENT_CONNECTIONS_UP), 1);
    cr_assert_eq(redisx_stats_client(s, REDISX_CLIENT_IN_FLIGHT), 0);
    cr_assert_geq(redisx_stats_client(s, REDISX_CLIENT_CONNECTS), 1);
    redisx_stats_free(s);
    redisx_client_close(c);
}

static atomic_int log_lines;
static void count_log(redisx_client *c, redisx_log_level level, const char *msg, void *user)
{
    (void)c;
    (void)user;
    if (level >= REDISX_LOG_WARN && strstr(msg, "127.0.0.1:1"))
        atomic_fetch_add(&log_lines, 1);
}

static atomic_int disconnects;
static void count_state(redisx_client *c, int conn, redisx_conn_state st, const char *detail, void *user)
{
    (void)c;
    (void)conn;
    (void)detail;
    (void)user;
    if (st == REDISX_STATE_DISCONNECTED)
        atomic_fetch_add(&disconnects, 1);
}

Test(client, log_and_state_callbacks_report_failed_connects)
{
    redisx_options *o = NULL;
    redisx_options_new(&o);
    redisx_options_set_url(o, "redis://127.0.0.1:1");
    redisx_options_set_log_cb(o, count_log, REDISX_LOG_WARN, NULL);
    redisx_options_set_state_cb(o, count_state, NULL);
    redisx_options_set_reconnect_backoff_ms(o, 10, 20);
    redisx_client *c = NULL;
    cr_assert_eq(redisx_client_open(&c, o), REDISX_OK);
    redisx_options_free(o);
    for (int i = 0; i < 200 && atomic_load(&disconnects) < 3; i++)
        rt_sleep_ms(10);
    redisx_client_close(c);
    cr_assert_geq(atomic_load(&disconnects), 3, "keeps retrying with backoff");
    cr_assert_geq(atomic_load(&log_lines), 1);
}

/* ---- close ---- */

static atomic_int close_calls, close_ok, close_closed, close_other;
static void count_close(redisx_client *c, redisx_status st, redisx_reply *r, void *user)
{
    (void)c;
    (void)user;
    atomic_fetch_add(&close_calls, 1);
    if (st == REDISX_OK)
        atomic_fetch_add(&close_ok, 1);
    else if (st == REDISX_ERR_CLOSED)
        atomic_fetch_add(&close_closed, 1);
    else
        atomic_fetch_add(&close_other, 1);
    redisx_reply_free(r);
}

Test(client, close_completes_every_operation_exactly_once)
{
    redisx_client *c = rt_client();
    const char *ping[] = {"PING"};
    for (int i = 0; i < 5000; i++)
        cr_assert_eq(redisx_command_async(c, 1, ping, NULL, count_close, NULL), REDISX_OK);
    redisx_client_close(c);
    cr_assert_eq(atomic_load(&close_calls), 5000);
    cr_assert_eq(atomic_load(&close_other), 0);
    cr_assert_eq(atomic_load(&close_ok) + atomic_load(&close_closed), 5000);
}

static atomic_int wait_status = 1;
static void record_wait(redisx_client *c, redisx_status st, redisx_lock *lk, void *user)
{
    (void)c;
    (void)user;
    redisx_lock_free(lk);
    atomic_store(&wait_status, st);
}

Test(client, close_cancels_a_waiting_acquire_with_closed)
{
    redisx_client *c = rt_client();
    redisx_lock *holder = NULL;
    cr_assert_eq(redisx_lock_acquire(&holder, c, "closewait", 10000, 0), REDISX_OK);
    cr_assert_eq(redisx_lock_acquire_async(c, "closewait", 10000, 60000, NULL, NULL), REDISX_ERR_INVALID,
                 "no queue attached: a NULL callback is refused");
    cr_assert_eq(redisx_lock_acquire_async(c, "closewait", 10000, 60000, record_wait, NULL), REDISX_OK);
    rt_sleep_ms(50); /* it is now waiting between attempts */
    redisx_client_close(c);
    cr_assert_eq(atomic_load(&wait_status), REDISX_ERR_CLOSED, "waiter completed by close, not after 60 s");
    cr_assert_eq(redisx_lock_release(holder), REDISX_ERR_CLOSED, "handles outlive the client");
    redisx_lock_free(holder);
}

typedef struct hammer {
    redisx_client *c;
    int id;
    int failures;
} hammer;

static void *hammer_incr(void *arg)
{
    hammer *h = arg;
    char key[64];
    snprintf(key, sizeof key, "%s:hammer", redisx_client_prefix(h->c));
    for (int i = 0; i < 500; i++) {
        const char *incr[] = {"INCR", key};
        redisx_reply *r = NULL;
        if (redisx_command(&r, h->c, 2, incr, NULL) != REDISX_OK || redisx_reply_type_of(r) != REDISX_REPLY_INTEGER)
            h->failures++;
        redisx_reply_free(r);
    }
    return NULL;
}

Test(client, several_connections_share_the_load_from_many_threads)
{
    redisx_options *o = NULL;
    redisx_options_new(&o);
    redisx_options_set_connections(o, 4);
    /* Under valgrind on a busy machine a round trip can pass the 1 s
     * default: deadlines are not what this test is about. */
    redisx_options_set_command_timeout_ms(o, 60000);
    redisx_client *c = rt_client_opts(o);
    redisx_options_free(o);
    pthread_t th[8];
    hammer h[8];
    for (int i = 0; i < 8; i++) {
        h[i] = (hammer){c, i, 0};
        pthread_create(&th[i], NULL, hammer_incr, &h[i]);
    }
    for (int i = 0; i < 8; i++) {
        pthread_join(th[i], NULL);
        cr_assert_eq(h[i].failures, 0);
    }
    char key[64];
    snprintf(key, sizeof key, "%s:hammer", redisx_client_prefix(c));
    cr_assert_eq(rt_incr_get(c, key), 4000);
    redisx_stats *s = NULL;
    redisx_client_stats(&s, c);
    cr_assert_eq(redisx_stats_client(s, REDISX_CLIENT_CONNECTIONS_UP), 4);
    cr_assert_eq(redisx_stats_counter(s, rt_series(s, "client", "command"), REDISX_COUNTER_CALLS), 4001);
    redisx_stats_free(s);
    redisx_client_close(c);
}

/* ---- the two paths of a blocking call ---------------------------------------
 * On an idle connection a blocking call does its own round trip: its event
 * is emitted on the calling thread. REDISX_DIRECT_IO=0 (the *_handoff ctest
 * runs) hands every call to the I/O thread instead. */

typedef struct thread_log {
    pthread_mutex_t mu;
    int n;
    pthread_t thread[8];
    char ops[8][32];
} thread_log;

static void record_thread(redisx_client *c, const redisx_event *ev, void *user)
{
    (void)c;
    thread_log *l = user;
    pthread_mutex_lock(&l->mu);
    if (l->n < 8) {
        l->thread[l->n] = pthread_self();
        snprintf(l->ops[l->n], sizeof l->ops[0], "%s", redisx_event_operation(ev));
        l->n++;
    }
    pthread_mutex_unlock(&l->mu);
}

static int handoff_only(void)
{
    const char *e = getenv("REDISX_DIRECT_IO");
    return e && strcmp(e, "0") == 0;
}

Test(client, a_blocking_call_on_an_idle_connection_does_its_own_round_trip)
{
    thread_log log = {.mu = PTHREAD_MUTEX_INITIALIZER};
    redisx_options *o = NULL;
    redisx_options_new(&o);
    redisx_options_set_event_cb(o, record_thread, &log);
    redisx_client *c = rt_client_opts(o);
    redisx_options_free(o);
    const char *ping[] = {"PING"};
    redisx_reply_free(rt_cmd(c, 1, ping)); /* connected and idle from here on */
    const char *set[] = {"SET", "direct", "v"};
    redisx_reply_free(rt_cmd(c, 3, set));
    redisx_lock *lk = NULL;
    cr_assert_eq(redisx_lock_acquire(&lk, c, "direct", 60000, 0), REDISX_OK, "%s", redisx_last_error());
    cr_assert_eq(redisx_lock_release(lk), REDISX_OK);
    redisx_lock_free(lk);
    redisx_client_close(c);
    cr_assert_eq(log.n, 4);
    for (int i = 1; i < 4; i++) {
        if (handoff_only())
            cr_assert(!pthread_equal(log.thread[i], pthread_self()), "%s ran on the caller's thread", log.ops[i]);
        else
            cr_assert(pthread_equal(log.thread[i], pthread_self()), "%s was handed off", log.ops[i]);
    }
}

typedef struct blpop_done {
    atomic_int done;
    redisx_status st;
    int was_nil;
} blpop_done;

static void on_blpop(redisx_client *c, redisx_status st, redisx_reply *r, void *user)
{
    (void)c;
    blpop_done *d = user;
    d->st = st;
    d->was_nil = r && redisx_reply_type_of(r) == REDISX_REPLY_NIL;
    redisx_reply_free(r);
    atomic_store(&d->done, 1);
}

Test(client, a_blocking_call_behind_an_in_flight_command_joins_the_pipeline_in_order)
{
    thread_log log = {.mu = PTHREAD_MUTEX_INITIALIZER};
    redisx_options *o = NULL;
    redisx_options_new(&o);
    redisx_options_set_event_cb(o, record_thread, &log);
    redisx_options_set_command_timeout_ms(o, 30000);
    redisx_client *c = rt_client_opts(o);
    redisx_options_free(o);
    const char *ping[] = {"PING"};
    redisx_reply_free(rt_cmd(c, 1, ping));
    /* BLPOP holds the only connection for 0.5 s: the SET must wait behind
     * it on the same connection, not overtake it. */
    blpop_done d = {0};
    const char *blpop[] = {"BLPOP", "inflight-list", "0.5"};
    cr_assert_eq(redisx_command_async(c, 3, blpop, NULL, on_blpop, &d), REDISX_OK);
    rt_sleep_ms(50);
    const char *set[] = {"SET", "inflight", "v"};
    redisx_reply *r = NULL;
    cr_assert_eq(redisx_command(&r, c, 3, set, NULL), REDISX_OK, "%s", redisx_last_error());
    redisx_reply_free(r);
    cr_assert_eq(atomic_load(&d.done), 1, "the SET overtook the BLPOP sent before it");
    cr_assert_eq(d.st, REDISX_OK);
    cr_assert(d.was_nil);
    redisx_client_close(c);
    cr_assert_eq(log.n, 3);
    cr_assert(!pthread_equal(log.thread[2], pthread_self()), "the SET did its own I/O on a busy connection");
}
