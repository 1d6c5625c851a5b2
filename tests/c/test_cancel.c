/* Cancellation (redisx_cancel) and what an unanswered call leaves behind.
 * A cancelled operation completes exactly once with REDISX_ERR_CANCELLED and
 * stops waiting at once; a lock or NEW record that its command takes anyway,
 * or that an acquire/begin which timed out takes once a frozen server
 * resumes, is released / failed by the client itself. Servers that are
 * frozen (SIGSTOP) are private to the test. Deadlines are generous: these
 * tests must pass under valgrind on a busy machine. */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "harness.h"

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Counts completions and keeps the last one. */
typedef struct done {
    atomic_int calls;
    redisx_status st;
    long long at_ms;
    redisx_lock *lk;
    redisx_idem *rec;
} done;

static void on_reply(redisx_client *c, redisx_status st, redisx_reply *r, void *user)
{
    (void)c;
    done *d = user;
    redisx_reply_free(r);
    d->st = st;
    d->at_ms = now_ms();
    atomic_fetch_add(&d->calls, 1);
}

static void on_lock(redisx_client *c, redisx_status st, redisx_lock *lk, void *user)
{
    (void)c;
    done *d = user;
    d->st = st;
    d->lk = lk;
    d->at_ms = now_ms();
    atomic_fetch_add(&d->calls, 1);
}

static void on_idem(redisx_client *c, redisx_status st, redisx_idem *rec, void *user)
{
    (void)c;
    done *d = user;
    d->st = st;
    d->rec = rec;
    d->at_ms = now_ms();
    atomic_fetch_add(&d->calls, 1);
}

static void wait_calls(done *d, int n, long long within_ms)
{
    long long until = now_ms() + within_ms;
    while (atomic_load(&d->calls) < n && now_ms() < until)
        rt_sleep_ms(5);
    cr_assert_geq(atomic_load(&d->calls), n, "no completion within %lld ms", within_ms);
}

static redisx_client *client_on(const rt_server *s, int64_t command_timeout_ms)
{
    redisx_options *o = NULL;
    redisx_options_new(&o);
    cr_assert_eq(rt_options_server(o, s, NULL), REDISX_OK, "%s", redisx_last_error());
    redisx_options_set_command_timeout_ms(o, command_timeout_ms);
    redisx_options_set_reconnect_backoff_ms(o, 20, 200);
    redisx_client *c = NULL;
    cr_assert_eq(redisx_client_open(&c, o), REDISX_OK);
    redisx_options_free(o);
    const char *ping[] = {"PING"};
    redisx_reply_free(rt_cmd(c, 1, ping)); /* connected */
    return c;
}

/* Polls until the lock is free (or the deadline passes); its state then. */
static int locked_after(redisx_client *c, const char *name, long long within_ms)
{
    long long until = now_ms() + within_ms;
    for (;;) {
        redisx_lock_info *info = NULL;
        redisx_status st = redisx_lock_inspect(&info, c, name);
        int locked = st == REDISX_OK ? redisx_lock_info_locked(info) : 1;
        redisx_lock_info_free(info);
        if (!locked || now_ms() >= until)
            return locked;
        rt_sleep_ms(50);
    }
}

/* The state a fresh begin (no wait) finds, polled until it is not
 * IN_PROGRESS or the deadline passes. A NEW one is failed again. */
static redisx_idem_state state_after(redisx_client *c, const char *key, long long within_ms)
{
    long long until = now_ms() + within_ms;
    for (;;) {
        redisx_idem *rec = NULL;
        cr_assert_eq(redisx_idem_begin(&rec, c, key, "fp", 2, 60000, 0), REDISX_OK, "%s", redisx_last_error());
        redisx_idem_state s = redisx_idem_state_of(rec);
        if (s == REDISX_IDEM_NEW)
            cr_assert_eq(redisx_idem_fail(rec), REDISX_OK);
        redisx_idem_free(rec);
        if (s != REDISX_IDEM_IN_PROGRESS || now_ms() >= until)
            return s;
        rt_sleep_ms(50);
    }
}

Test(cancel, a_cancelled_command_completes_once_with_cancelled_at_once, .timeout = 120)
{
    redisx_options *o = NULL;
    redisx_options_new(&o);
    redisx_options_set_command_timeout_ms(o, 30000);
    redisx_client *c = rt_client_opts(o);
    redisx_options_free(o);
    done d = {0};
    const char *blpop[] = {"BLPOP", "cancel-list", "2"};
    cr_assert_eq(redisx_command_async(c, 3, blpop, NULL, on_reply, &d), REDISX_OK);
    rt_sleep_ms(100);
    long long t0 = now_ms();
    cr_assert_eq(redisx_cancel(c, &d), REDISX_OK);
    wait_calls(&d, 1, 10000);
    cr_assert_eq(d.st, REDISX_ERR_CANCELLED, "%s", redisx_strerror(d.st));
    cr_assert_lt(d.at_ms - t0, 1500, "the cancel waited for the reply");
    rt_sleep_ms(2500); /* the BLPOP's own answer comes and is dropped */
    cr_assert_eq(atomic_load(&d.calls), 1, "completed twice");
    const char *ping[] = {"PING"};
    redisx_reply_free(rt_cmd(c, 1, ping)); /* the connection still works */
    redisx_client_close(c);
    cr_assert_eq(atomic_load(&d.calls), 1);
}

Test(cancel, cancel_leaves_operations_of_other_users_alone, .timeout = 120)
{
    redisx_options *o = NULL;
    redisx_options_new(&o);
    redisx_options_set_command_timeout_ms(o, 30000);
    redisx_client *c = rt_client_opts(o);
    redisx_options_free(o);
    done a = {0}, b = {0};
    const char *blpop[] = {"BLPOP", "cancel-other", "0.5"};
    cr_assert_eq(redisx_command_async(c, 3, blpop, NULL, on_reply, &a), REDISX_OK);
    cr_assert_eq(redisx_command_async(c, 3, blpop, NULL, on_reply, &b), REDISX_OK);
    cr_assert_eq(redisx_cancel(c, &a), REDISX_OK);
    wait_calls(&a, 1, 10000);
    wait_calls(&b, 1, 10000);
    cr_assert_eq(a.st, REDISX_ERR_CANCELLED);
    cr_assert_eq(b.st, REDISX_OK, "%s", redisx_strerror(b.st));
    redisx_client_close(c);
}

Test(cancel, a_waiting_acquire_stops_waiting_at_once, .timeout = 120)
{
    redisx_client *c = rt_client();
    redisx_lock *held = NULL;
    cr_assert_eq(redisx_lock_acquire(&held, c, "cw", 60000, 0), REDISX_OK);
    done d = {0};
    cr_assert_eq(redisx_lock_acquire_async(c, "cw", 60000, 60000, on_lock, &d), REDISX_OK);
    rt_sleep_ms(300); /* waiting now */
    cr_assert_eq(atomic_load(&d.calls), 0);
    long long t0 = now_ms();
    cr_assert_eq(redisx_cancel(c, &d), REDISX_OK);
    wait_calls(&d, 1, 10000);
    cr_assert_eq(d.st, REDISX_ERR_CANCELLED, "%s", redisx_strerror(d.st));
    cr_assert_null(d.lk);
    cr_assert_lt(d.at_ms - t0, 1500);
    /* Releasing now wakes nobody: the cancelled wait is gone. */
    cr_assert_eq(redisx_lock_release(held), REDISX_OK);
    redisx_lock_free(held);
    rt_sleep_ms(300);
    cr_assert_eq(atomic_load(&d.calls), 1);
    cr_assert_eq(locked_after(c, "cw", 0), 0, "the cancelled acquire took the lock");
    cr_assert_eq(rt_counter(c, "lock", "acquire", REDISX_COUNTER_CALLS), 2);
    redisx_client_close(c);
}

Test(cancel, a_waiting_begin_stops_waiting_at_once, .timeout = 120)
{
    redisx_client *c = rt_client();
    redisx_idem *owner = NULL;
    cr_assert_eq(redisx_idem_begin(&owner, c, "cb", "fp", 2, 60000, 0), REDISX_OK);
    done d = {0};
    cr_assert_eq(redisx_idem_begin_async(c, "cb", "fp", 2, 60000, 60000, on_idem, &d), REDISX_OK);
    rt_sleep_ms(300);
    cr_assert_eq(atomic_load(&d.calls), 0);
    long long t0 = now_ms();
    cr_assert_eq(redisx_cancel(c, &d), REDISX_OK);
    wait_calls(&d, 1, 10000);
    cr_assert_eq(d.st, REDISX_ERR_CANCELLED);
    cr_assert_null(d.rec);
    cr_assert_lt(d.at_ms - t0, 1500);
    cr_assert_eq(redisx_idem_complete(owner, "r", 1, NULL, 0, 60000), REDISX_OK);
    redisx_idem_free(owner);
    rt_sleep_ms(300);
    cr_assert_eq(atomic_load(&d.calls), 1);
    redisx_client_close(c);
}

/* The acquire was sent to a frozen server and cancelled; when the server
 * resumes the script takes the lease, and the client releases it. */
Test(cancel, a_lease_taken_after_the_cancel_is_released_by_the_client, .timeout = 120)
{
    rt_server s;
    cr_assert_eq(rt_server_start(&s), 0);
    redisx_client *c = client_on(&s, 30000);
    kill(rt_server_pid(&s), SIGSTOP);
    done d = {0};
    cr_assert_eq(redisx_lock_acquire_async(c, "late", 60000, 0, on_lock, &d), REDISX_OK);
    rt_sleep_ms(200);
    cr_assert_eq(redisx_cancel(c, &d), REDISX_OK);
    wait_calls(&d, 1, 10000);
    cr_assert_eq(d.st, REDISX_ERR_CANCELLED);
    kill(rt_server_pid(&s), SIGCONT);
    cr_assert_eq(locked_after(c, "late", 20000), 0, "the 60 s lease nobody owns is still held");
    cr_assert_eq(atomic_load(&d.calls), 1);
    redisx_client_close(c);
    rt_server_stop(&s);
}

Test(cancel, a_record_created_after_the_cancel_is_failed_by_the_client, .timeout = 120)
{
    rt_server s;
    cr_assert_eq(rt_server_start(&s), 0);
    redisx_client *c = client_on(&s, 30000);
    kill(rt_server_pid(&s), SIGSTOP);
    done d = {0};
    cr_assert_eq(redisx_idem_begin_async(c, "late", "fp", 2, 60000, 0, on_idem, &d), REDISX_OK);
    rt_sleep_ms(200);
    cr_assert_eq(redisx_cancel(c, &d), REDISX_OK);
    wait_calls(&d, 1, 10000);
    cr_assert_eq(d.st, REDISX_ERR_CANCELLED);
    kill(rt_server_pid(&s), SIGCONT);
    cr_assert_eq(state_after(c, "late", 20000), REDISX_IDEM_NEW, "the record nobody owns is still in progress");
    redisx_client_close(c);
    rt_server_stop(&s);
}

/* ---- no ownerless leftovers after a timeout (the server was frozen, the
 * command sat in its socket and ran when it resumed) ---- */

Test(cancel, an_acquire_that_timed_out_leaves_no_lease_behind, .timeout = 120)
{
    rt_server s;
    cr_assert_eq(rt_server_start(&s), 0);
    redisx_client *c = client_on(&s, 300);
    kill(rt_server_pid(&s), SIGSTOP);
    redisx_lock *lk = NULL;
    redisx_status st = redisx_lock_try_acquire(&lk, c, "to", 60000);
    cr_assert_eq(st, REDISX_ERR_TIMEOUT, "%s", redisx_strerror(st));
    rt_sleep_ms(200);
    kill(rt_server_pid(&s), SIGCONT);
    /* It did run once the server resumed... and was released: within a few
     * seconds, not after its 60 s lease. */
    cr_assert_eq(locked_after(c, "to", 20000), 0, "the lease of the timed-out acquire is still held");
    redisx_client_close(c);
    rt_server_stop(&s);
}

Test(cancel, a_begin_that_timed_out_leaves_no_record_in_progress, .timeout = 120)
{
    rt_server s;
    cr_assert_eq(rt_server_start(&s), 0);
    redisx_client *c = client_on(&s, 300);
    kill(rt_server_pid(&s), SIGSTOP);
    redisx_idem *rec = NULL;
    redisx_status st = redisx_idem_begin(&rec, c, "to", "fp", 2, 60000, 0);
    cr_assert_eq(st, REDISX_ERR_TIMEOUT, "%s", redisx_strerror(st));
    rt_sleep_ms(200);
    kill(rt_server_pid(&s), SIGCONT);
    cr_assert_eq(state_after(c, "to", 20000), REDISX_IDEM_NEW, "the record of the timed-out begin is in progress");
    redisx_client_close(c);
    rt_server_stop(&s);
}

/* ---- shutdown vs free ---------------------------------------------------------- */

typedef struct racer {
    redisx_client *c;
    atomic_int stop;
    int ok, closed, other;
    redisx_status other_st;
    char other_detail[256];
} racer;

static void *race_calls(void *arg)
{
    racer *r = arg;
    const char *ping[] = {"PING"};
    while (!atomic_load(&r->stop)) {
        redisx_reply *rep = NULL;
        redisx_status st = redisx_command(&rep, r->c, 1, ping, NULL);
        redisx_reply_free(rep);
        if (st == REDISX_OK)
            r->ok++;
        else if (st == REDISX_ERR_CLOSED)
            r->closed++;
        else {
            r->other++;
            r->other_st = st;
            snprintf(r->other_detail, sizeof r->other_detail, "%s", redisx_last_error());
        }
    }
    return NULL;
}

Test(cancel, calls_racing_a_shutdown_meet_a_closed_client, .timeout = 120)
{
    redisx_client *c = rt_client();
    racer r[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        r[i] = (racer){.c = c};
        pthread_create(&th[i], NULL, race_calls, &r[i]);
    }
    rt_sleep_ms(300);
    redisx_client_shutdown(c);
    rt_sleep_ms(100);
    for (int i = 0; i < 4; i++)
        atomic_store(&r[i].stop, 1);
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        cr_assert_gt(r[i].ok, 0);
        cr_assert_gt(r[i].closed, 0, "thread %d never saw the shutdown", i);
        cr_assert_eq(r[i].other, 0, "%d calls failed otherwise: %s (%s)", r[i].other,
                     redisx_strerror(r[i].other_st), r[i].other_detail);
    }
    redisx_client_close(c);
}
