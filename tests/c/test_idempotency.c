/* Idempotency records against a real redis-server: the four answers of
 * begin, stored binary responses, fail and retry, takeover after a crashed
 * process, TTL expiry, waiting for an in-progress record, 100 concurrent
 * duplicates running the work once, fail policies and stats. */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

static redisx_idem *begin(redisx_client *c, const char *key, const char *fp, int64_t lease_ms, int64_t wait_ms)
{
    redisx_idem *rec = NULL;
    redisx_status st = redisx_idem_begin(&rec, c, key, fp, fp ? strlen(fp) : 0, lease_ms, wait_ms);
    cr_assert_eq(st, REDISX_OK, "begin %s: %s", key, redisx_last_error());
    cr_assert_not_null(rec);
    return rec;
}

static redisx_idem_state begin_state(redisx_client *c, const char *key, const char *fp, int64_t lease_ms)
{
    redisx_idem *rec = begin(c, key, fp, lease_ms, 0);
    redisx_idem_state s = redisx_idem_state_of(rec);
    redisx_idem_free(rec);
    return s;
}

Test(idempotency, first_begin_is_new_and_a_duplicate_replays_the_stored_response)
{
    redisx_client *c = rt_client();
    redisx_idem *rec = begin(c, "order-1", "body-hash", 10000, 0);
    cr_assert_eq(redisx_idem_state_of(rec), REDISX_IDEM_NEW);
    cr_assert_eq(redisx_idem_taken_over(rec), 0);
    cr_assert_eq(redisx_idem_is_fail_open(rec), 0);
    cr_assert_eq(redisx_idem_remaining_ms(rec), 10000);
    cr_assert_str_eq(redisx_idem_key(rec), "order-1");
    const char resp[] = {'o', 'k', 0, '\xff', 'x'};
    cr_assert_eq(redisx_idem_complete(rec, resp, sizeof resp, "201", 3, 60000), REDISX_OK, "%s", redisx_last_error());
    redisx_idem_free(rec);

    rec = begin(c, "order-1", "body-hash", 10000, 0);
    cr_assert_eq(redisx_idem_state_of(rec), REDISX_IDEM_COMPLETED);
    size_t n = 0;
    const char *got = redisx_idem_response(rec, &n);
    cr_assert_eq(n, sizeof resp);
    cr_assert(memcmp(got, resp, n) == 0, "binary response kept byte for byte");
    got = redisx_idem_metadata(rec, &n);
    cr_assert_eq(n, 3);
    cr_assert(memcmp(got, "201", 3) == 0);
    cr_assert(redisx_idem_remaining_ms(rec) > 50000 && redisx_idem_remaining_ms(rec) <= 60000);
    redisx_idem_state again = redisx_idem_state_of(rec);
    redisx_idem_free(rec);
    cr_assert_eq(again, REDISX_IDEM_COMPLETED);
    redisx_client_close(c);
}

Test(idempotency, another_fingerprint_for_the_same_key_is_a_mismatch)
{
    redisx_client *c = rt_client();
    redisx_idem *rec = begin(c, "pay", "amount=10", 10000, 0);
    cr_assert_eq(begin_state(c, "pay", "amount=99", 10000), REDISX_IDEM_MISMATCH, "while in progress");
    cr_assert_eq(redisx_idem_complete(rec, "done", 4, NULL, 0, 60000), REDISX_OK);
    redisx_idem_free(rec);
    cr_assert_eq(begin_state(c, "pay", "amount=99", 10000), REDISX_IDEM_MISMATCH, "once completed");
    cr_assert_eq(begin_state(c, "pay", NULL, 10000), REDISX_IDEM_MISMATCH, "no fingerprint is another one");
    cr_assert_eq(begin_state(c, "pay", "amount=10", 10000), REDISX_IDEM_COMPLETED);
    redisx_client_close(c);
}

Test(idempotency, a_duplicate_during_the_work_is_in_progress_with_the_lease_left)
{
    redisx_client *c = rt_client();
    redisx_idem *rec = begin(c, "job", "fp", 5000, 0);
    redisx_idem *dup = begin(c, "job", "fp", 5000, 0);
    cr_assert_eq(redisx_idem_state_of(dup), REDISX_IDEM_IN_PROGRESS);
    cr_assert(redisx_idem_remaining_ms(dup) > 0 && redisx_idem_remaining_ms(dup) <= 5000);
    size_t n = 99;
    cr_assert_str_eq(redisx_idem_response(dup, &n), "");
    cr_assert_eq(n, 0);
    cr_assert_eq(redisx_idem_complete(dup, "x", 1, NULL, 0, 1000), REDISX_ERR_INVALID,
                 "only the NEW record may complete");
    cr_assert_eq(redisx_idem_fail(dup), REDISX_ERR_INVALID);
    redisx_idem_free(dup);
    cr_assert_eq(rt_counter(c, "idempotency", "begin", REDISX_COUNTER_REJECTED), 1);
    cr_assert_eq(rt_counter(c, "idempotency", "begin", REDISX_COUNTER_OK), 1);
    redisx_idem_free(rec);
    redisx_client_close(c);
}

Test(idempotency, fail_releases_the_record_so_a_retry_runs_the_work)
{
    redisx_client *c = rt_client();
    redisx_idem *rec = begin(c, "retry", "fp", 10000, 0);
    cr_assert_eq(redisx_idem_fail(rec), REDISX_OK, "%s", redisx_last_error());
    cr_assert_eq(redisx_idem_fail(rec), REDISX_ERR_NOT_OWNER, "a second fail finds nothing of ours");
    cr_assert_eq(redisx_idem_complete(rec, "late", 4, NULL, 0, 1000), REDISX_ERR_NOT_OWNER);
    redisx_idem_free(rec);
    rec = begin(c, "retry", "fp", 10000, 0);
    cr_assert_eq(redisx_idem_state_of(rec), REDISX_IDEM_NEW);
    cr_assert_eq(redisx_idem_taken_over(rec), 0);
    redisx_idem_free(rec);
    redisx_client_close(c);
}

Test(idempotency, a_completed_record_expires_after_its_ttl)
{
    redisx_client *c = rt_client();
    redisx_idem *rec = begin(c, "short", "fp", 10000, 0);
    cr_assert_eq(redisx_idem_complete(rec, "r", 1, NULL, 0, 200), REDISX_OK);
    redisx_idem_free(rec);
    cr_assert_eq(begin_state(c, "short", "fp", 10000), REDISX_IDEM_COMPLETED);
    rt_sleep_ms(300);
    cr_assert_eq(begin_state(c, "short", "fp", 10000), REDISX_IDEM_NEW);
    redisx_client_close(c);
}

Test(idempotency, a_stale_worker_cannot_complete_a_record_taken_over)
{
    redisx_client *c = rt_client();
    redisx_idem *slow = begin(c, "stale", "fp", 2000, 0);
    /* Duplicates see IN_PROGRESS until the lease passes; the record itself
     * lives twice the lease, so the takeover has a 2 s window. */
    redisx_idem *next = NULL;
    for (;;) {
        next = begin(c, "stale", "fp", 10000, 0);
        if (redisx_idem_state_of(next) != REDISX_IDEM_IN_PROGRESS)
            break;
        long left = (long)redisx_idem_remaining_ms(next);
        redisx_idem_free(next);
        rt_sleep_ms(left + 20);
    }
    cr_assert_eq(redisx_idem_state_of(next), REDISX_IDEM_NEW);
    cr_assert_eq(redisx_idem_taken_over(next), 1);
    cr_assert_eq(redisx_idem_complete(slow, "old", 3, NULL, 0, 60000), REDISX_ERR_NOT_OWNER);
    cr_assert(strstr(redisx_last_error(), "taken over") != NULL, "%s", redisx_last_error());
    cr_assert_eq(redisx_idem_complete(next, "new", 3, NULL, 0, 60000), REDISX_OK);
    redisx_idem_free(slow);
    redisx_idem_free(next);
    redisx_idem *rec = begin(c, "stale", "fp", 10000, 0);
    size_t n = 0;
    const char *resp = redisx_idem_response(rec, &n);
    cr_assert(n == 3 && memcmp(resp, "new", 3) == 0);
    redisx_idem_free(rec);
    redisx_client_close(c);
}

/* A worker process dies (SIGKILL) while its record is in progress: nothing
 * completes or fails it. Duplicates see IN_PROGRESS until the lease passes,
 * then the next begin takes the record over. */
/* The child's lease (5 s) outlasts the kill and the parent's client start
 * even under valgrind on a busy machine. */
Test(idempotency, a_record_of_a_killed_process_is_taken_over_after_its_lease)
{
    /* Fork before this process opens a client: a child forked while another
     * thread holds an allocator lock could deadlock. */
    char prefix[96];
    rt_unique("crash", prefix, sizeof prefix);
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    pid_t kid = fork();
    cr_assert_geq(kid, 0);
    if (kid == 0) {
        redisx_options *o = NULL;
        redisx_client *kc = NULL;
        redisx_idem *rec = NULL;
        if (redisx_options_new(&o) || rt_options_url(o) || redisx_options_set_prefix(o, prefix) ||
            redisx_client_open(&kc, o) || redisx_idem_begin(&rec, kc, "crash", "fp", 2, 5000, 0) ||
            redisx_idem_state_of(rec) != REDISX_IDEM_NEW)
            _exit(2);
        if (write(fds[1], "S", 1) != 1)
            _exit(3);
        for (;;)
            pause(); /* "working" until killed */
    }
    close(fds[1]);
    char b = 0;
    cr_assert_eq(read(fds[0], &b, 1), 1, "the child began the record");
    close(fds[0]);
    kill(kid, SIGKILL);
    int status = 0;
    waitpid(kid, &status, 0);
    cr_assert(WIFSIGNALED(status), "status %d", status);

    redisx_options *o = NULL;
    cr_assert_eq(redisx_options_new(&o), REDISX_OK);
    cr_assert_eq(rt_options_url(o), REDISX_OK);
    cr_assert_eq(redisx_options_set_prefix(o, prefix), REDISX_OK);
    redisx_client *c = NULL;
    cr_assert_eq(redisx_client_open(&c, o), REDISX_OK);
    redisx_options_free(o);
    redisx_idem *dup = begin(c, "crash", "fp", 1000, 0);
    cr_assert_eq(redisx_idem_state_of(dup), REDISX_IDEM_IN_PROGRESS, "the lease still runs");
    int64_t left = redisx_idem_remaining_ms(dup);
    redisx_idem_free(dup);
    rt_sleep_ms((long)left + 50);
    redisx_idem *rec = begin(c, "crash", "fp", 1000, 0);
    cr_assert_eq(redisx_idem_state_of(rec), REDISX_IDEM_NEW);
    cr_assert_eq(redisx_idem_taken_over(rec), 1);
    cr_assert_eq(redisx_idem_complete(rec, "recovered", 9, NULL, 0, 60000), REDISX_OK);
    redisx_idem_free(rec);
    cr_assert_eq(begin_state(c, "crash", "fp", 1000), REDISX_IDEM_COMPLETED);
    redisx_client_close(c);
}

/* ---- waiting --------------------------------------------------------------------- */

typedef struct later {
    redisx_idem *rec;
    int fail; /* fail instead of complete */
    long after_ms;
} later;

static void *finish_later(void *arg)
{
    later *l = arg;
    rt_sleep_ms(l->after_ms);
    if (l->fail)
        (void)redisx_idem_fail(l->rec);
    else
        (void)redisx_idem_complete(l->rec, "result", 6, "meta", 4, 60000);
    return NULL;
}

Test(idempotency, a_waiting_begin_gets_the_response_once_the_owner_completes)
{
    redisx_client *c = rt_client();
    redisx_idem *owner = begin(c, "wait", "fp", 30000, 0);
    later l = {owner, 0, 300};
    pthread_t th;
    cr_assert_eq(pthread_create(&th, NULL, finish_later, &l), 0);
    redisx_idem *rec = begin(c, "wait", "fp", 30000, 20000);
    pthread_join(th, NULL);
    cr_assert_eq(redisx_idem_state_of(rec), REDISX_IDEM_COMPLETED);
    size_t n = 0;
    cr_assert_str_eq(redisx_idem_response(rec, &n), "result");
    redisx_idem_free(rec);
    redisx_idem_free(owner);
    redisx_client_close(c);
}

Test(idempotency, a_waiting_begin_becomes_the_owner_when_the_work_fails)
{
    redisx_client *c = rt_client();
    redisx_idem *owner = begin(c, "waitfail", "fp", 30000, 0);
    later l = {owner, 1, 300};
    pthread_t th;
    cr_assert_eq(pthread_create(&th, NULL, finish_later, &l), 0);
    redisx_idem *rec = begin(c, "waitfail", "fp", 30000, 20000);
    pthread_join(th, NULL);
    cr_assert_eq(redisx_idem_state_of(rec), REDISX_IDEM_NEW);
    cr_assert_eq(redisx_idem_taken_over(rec), 0);
    redisx_idem_free(rec);
    redisx_idem_free(owner);
    redisx_client_close(c);
}

Test(idempotency, a_wait_that_runs_out_answers_in_progress)
{
    redisx_client *c = rt_client();
    redisx_idem *owner = begin(c, "waitout", "fp", 30000, 0);
    redisx_idem *rec = begin(c, "waitout", "fp", 30000, 300);
    cr_assert_eq(redisx_idem_state_of(rec), REDISX_IDEM_IN_PROGRESS);
    redisx_idem_free(rec);
    redisx_idem_free(owner);
    redisx_client_close(c);
}

/* ---- 100 concurrent duplicates ------------------------------------------------ */

typedef struct dup_job {
    redisx_client *c;
    const char *counter;
    char response[64];
    int error;
    char detail[160];
} dup_job;

static void dup_fail(dup_job *job, int error, const char *what)
{
    job->error = error;
    snprintf(job->detail, sizeof job->detail, "%s: %s", what, redisx_last_error());
}

static void *duplicate_request(void *arg)
{
    dup_job *job = arg;
    redisx_idem *rec = NULL;
    if (redisx_idem_begin(&rec, job->c, "checkout-7", "cart", 4, 30000, 30000) != REDISX_OK) {
        dup_fail(job, 1, "begin");
        return NULL;
    }
    size_t n = 0;
    const char *resp = NULL;
    if (redisx_idem_state_of(rec) == REDISX_IDEM_NEW) {
        /* The work: counted in Redis, slow enough that every duplicate
         * arrives while it runs. */
        const char *incr[] = {"INCR", job->counter};
        redisx_reply *r = NULL;
        long long nth = -1;
        if (redisx_command(&r, job->c, 2, incr, NULL) == REDISX_OK)
            nth = redisx_reply_integer(r);
        redisx_reply_free(r);
        rt_sleep_ms(300);
        snprintf(job->response, sizeof job->response, "order #%lld", nth);
        if (redisx_idem_complete(rec, job->response, strlen(job->response), NULL, 0, 60000) != REDISX_OK)
            dup_fail(job, 2, "complete");
    } else if (redisx_idem_state_of(rec) == REDISX_IDEM_COMPLETED) {
        resp = redisx_idem_response(rec, &n);
        snprintf(job->response, sizeof job->response, "%.*s", (int)n, resp);
    } else {
        dup_fail(job, 3, redisx_idem_state_of(rec) == REDISX_IDEM_IN_PROGRESS ? "still in progress" : "mismatch");
    }
    redisx_idem_free(rec);
    return NULL;
}

Test(idempotency, one_hundred_concurrent_duplicates_run_the_work_once, .timeout = 120)
{
    redisx_options *o = NULL;
    cr_assert_eq(redisx_options_new(&o), REDISX_OK);
    cr_assert_eq(redisx_options_set_connections(o, 4), REDISX_OK);
    /* 100 threads on a slow machine (valgrind): the test is about running the
     * work once, not about command deadlines. */
    cr_assert_eq(redisx_options_set_command_timeout_ms(o, 20000), REDISX_OK);
    redisx_client *c = rt_client_opts(o);
    redisx_options_free(o);
    char counter[128];
    snprintf(counter, sizeof counter, "%s:executions", redisx_client_prefix(c));
    enum { N = 100 };
    pthread_t th[N];
    dup_job *jobs = calloc(N, sizeof *jobs);
    for (int i = 0; i < N; i++) {
        jobs[i].c = c;
        jobs[i].counter = counter;
        cr_assert_eq(pthread_create(&th[i], NULL, duplicate_request, &jobs[i]), 0);
    }
    for (int i = 0; i < N; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < N; i++) {
        cr_assert_eq(jobs[i].error, 0, "request %d: %s", i, jobs[i].detail);
        cr_assert_str_eq(jobs[i].response, "order #1", "request %d got \"%s\"", i, jobs[i].response);
    }
    cr_assert_eq(rt_incr_get(c, counter), 1, "the work ran exactly once");
    free(jobs);
    redisx_client_close(c);
}

/* ---- fail policies and sizes ----------------------------------------------------- */


Test(idempotency, unreachable_redis_is_an_error_by_default)
{
    redisx_client *c = rt_dead_client(REDISX_PRIMITIVE_IDEMPOTENCY, REDISX_FAIL_CLOSED);
    redisx_idem *rec = (redisx_idem *)1;
    redisx_status st = redisx_idem_begin(&rec, c, "k", "fp", 2, 1000, 0);
    cr_assert(st == REDISX_ERR_CONNECTION || st == REDISX_ERR_TIMEOUT, "got %s", redisx_status_name(st));
    cr_assert_null(rec);
    redisx_client_close(c);
}

Test(idempotency, fail_open_answers_new_and_says_so)
{
    redisx_client *c = rt_dead_client(REDISX_PRIMITIVE_IDEMPOTENCY, REDISX_FAIL_OPEN);
    redisx_idem *rec = begin(c, "k", "fp", 1000, 0);
    cr_assert_eq(redisx_idem_state_of(rec), REDISX_IDEM_NEW);
    cr_assert_eq(redisx_idem_is_fail_open(rec), 1);
    cr_assert_eq(redisx_idem_complete(rec, "r", 1, NULL, 0, 1000), REDISX_OK, "nothing to store: a no-op");
    redisx_idem_free(rec);
    cr_assert_eq(rt_counter(c, "idempotency", "begin", REDISX_COUNTER_FAIL_OPEN), 1);
    redisx_client_close(c);
}

Test(idempotency, a_one_mib_binary_response_and_an_empty_fingerprint_round_trip)
{
    redisx_client *c = rt_client();
    size_t n = 1 << 20;
    char *big = malloc(n);
    for (size_t i = 0; i < n; i++)
        big[i] = (char)(i * 31 + 7);
    redisx_idem *rec = begin(c, "big", NULL, 10000, 0);
    cr_assert_eq(redisx_idem_complete(rec, big, n, "", 0, 60000), REDISX_OK, "%s", redisx_last_error());
    redisx_idem_free(rec);
    rec = begin(c, "big", "", 10000, 0);
    cr_assert_eq(redisx_idem_state_of(rec), REDISX_IDEM_COMPLETED, "NULL and \"\" are the same empty fingerprint");
    size_t got = 0;
    const char *resp = redisx_idem_response(rec, &got);
    cr_assert_eq(got, n);
    cr_assert(memcmp(resp, big, n) == 0);
    redisx_idem_metadata(rec, &got);
    cr_assert_eq(got, 0);
    redisx_idem_free(rec);
    free(big);
    redisx_client_close(c);
}

static void begin_cb(redisx_client *c, redisx_status st, redisx_idem *rec, void *user)
{
    (void)c;
    atomic_int *out = user;
    atomic_store(out, st == REDISX_OK ? (int)redisx_idem_state_of(rec) + 10 : st);
    redisx_idem_free(rec);
}

Test(idempotency, async_begin_completes_through_its_callback_and_the_queue)
{
    redisx_queue *q = NULL;
    cr_assert_eq(redisx_queue_new(&q), REDISX_OK);
    redisx_options *o = NULL;
    cr_assert_eq(redisx_options_new(&o), REDISX_OK);
    cr_assert_eq(redisx_options_set_queue(o, q, 0), REDISX_OK);
    redisx_client *c = rt_client_opts(o);
    redisx_options_free(o);
    atomic_int got = -100;
    cr_assert_eq(redisx_idem_begin_async(c, "async", "fp", 2, 10000, 0, begin_cb, &got), REDISX_OK);
    for (int i = 0; i < 500 && atomic_load(&got) == -100; i++)
        rt_sleep_ms(10);
    cr_assert_eq(atomic_load(&got), 10 + REDISX_IDEM_NEW);
    cr_assert_eq(redisx_idem_begin_async(c, "async", "fp", 2, 10000, 0, NULL, (void *)7), REDISX_OK);
    redisx_item *it = NULL;
    cr_assert_eq(redisx_queue_pop(&it, q, 5000), REDISX_OK);
    cr_assert_eq((intptr_t)redisx_item_user(it), 7);
    redisx_idem *rec = redisx_item_take_idem(it);
    cr_assert_not_null(rec);
    cr_assert_null(redisx_item_take_idem(it));
    cr_assert_eq(redisx_idem_state_of(rec), REDISX_IDEM_IN_PROGRESS);
    redisx_idem_free(rec);
    redisx_item_free(it);
    /* An item freed with its record still inside frees the record. */
    cr_assert_eq(redisx_idem_begin_async(c, "async2", "fp", 2, 10000, 0, NULL, NULL), REDISX_OK);
    cr_assert_eq(redisx_queue_pop(&it, q, 5000), REDISX_OK);
    redisx_item_free(it);
    redisx_client_close(c);
    redisx_queue_free(q);
}

/* ---- waiting and the client's lifetime ------------------------------------------- */

typedef struct begin_box {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int done;
    redisx_status st;
    redisx_idem *rec;
} begin_box;

static void box_cb(redisx_client *c, redisx_status st, redisx_idem *rec, void *user)
{
    (void)c;
    begin_box *b = user;
    pthread_mutex_lock(&b->mu);
    b->st = st;
    b->rec = rec;
    b->done = 1;
    pthread_cond_signal(&b->cv);
    pthread_mutex_unlock(&b->mu);
}

static void box_wait(begin_box *b)
{
    pthread_mutex_lock(&b->mu);
    while (!b->done)
        pthread_cond_wait(&b->cv, &b->mu);
    pthread_mutex_unlock(&b->mu);
}

static long long numsub(redisx_client *c, const char *channel)
{
    return rt_numsub(c, channel);
}

Test(idempotency, a_waiting_begin_subscribes_to_the_record_and_leaves_when_done)
{
    redisx_client *c = rt_client();
    char channel[256];
    snprintf(channel, sizeof channel, "%s:idem:{sub}", redisx_client_prefix(c));
    redisx_idem *owner = begin(c, "sub", "fp", 30000, 0);
    begin_box b = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, NULL};
    cr_assert_eq(redisx_idem_begin_async(c, "sub", "fp", 2, 30000, 20000, box_cb, &b), REDISX_OK);
    for (int i = 0; i < 200 && numsub(c, channel) == 0; i++)
        rt_sleep_ms(10);
    cr_assert_eq(numsub(c, channel), 1, "the waiter listens for the completion");
    cr_assert_eq(redisx_idem_complete(owner, "r", 1, NULL, 0, 60000), REDISX_OK);
    box_wait(&b);
    cr_assert_eq(b.st, REDISX_OK);
    cr_assert_eq(redisx_idem_state_of(b.rec), REDISX_IDEM_COMPLETED);
    for (int i = 0; i < 200 && numsub(c, channel) != 0; i++)
        rt_sleep_ms(10);
    cr_assert_eq(numsub(c, channel), 0, "unsubscribed once nobody waits");
    redisx_idem_free(b.rec);
    redisx_idem_free(owner);
    redisx_client_close(c);
}

Test(idempotency, closing_the_client_ends_a_waiting_begin_with_closed)
{
    redisx_client *c = rt_client();
    redisx_idem *owner = begin(c, "closing", "fp", 30000, 0);
    begin_box b = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, NULL};
    cr_assert_eq(redisx_idem_begin_async(c, "closing", "fp", 2, 30000, 20000, box_cb, &b), REDISX_OK);
    rt_sleep_ms(300); /* in its backoff between two looks at the record */
    redisx_client_close(c);
    box_wait(&b);
    cr_assert_eq(b.st, REDISX_ERR_CLOSED, "got %s", redisx_status_name(b.st));
    cr_assert_null(b.rec);
    redisx_idem_free(owner);
}
