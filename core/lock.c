/* Distributed locks: acquire (one attempt or waiting with jittered backoff),
 * release and extend by the owner, automatic renewal with a lost-lock
 * notification, inspection. Every Redis step is one Lua script
 * (core/scripts/lock_*.lua); everything here runs on the I/O thread except
 * the submitting halves of the *_async functions. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "keys.h"

struct redisx_lock {
    atomic_int refs;
    redisx_client *client; /* a reference */
    char *name;
    char *key;
    char token[72];
    int64_t fencing;
    atomic_llong ttl_ms;
    int fail_open;
    atomic_int released; /* release asked for: renewal must stop */
    atomic_int freed;    /* the user dropped the handle */
    atomic_int lost;
    atomic_int renewing;
    redisx_lock_lost_cb on_lost;
    void *lost_user;
    uint64_t lease_until; /* I/O thread: conservative end of the lease */
    atomic_int held;      /* counted in the client's locks held (metrics) */
    uint64_t held_t0;     /* when it was granted */
};

/* The end of a hold for the metrics (release call, loss, free): once. */
static void lock_hold_end(redisx_lock *lk)
{
    if (atomic_exchange(&lk->held, 0))
        redisx__lock_held_end(lk->client, redisx__now_ns() - lk->held_t0);
}

static void lock_ref(redisx_lock *lk)
{
    atomic_fetch_add(&lk->refs, 1);
}

void redisx__lock_unref(redisx_lock *lk)
{
    if (!lk || atomic_fetch_sub(&lk->refs, 1) != 1)
        return;
    redisx_client *c = lk->client;
    lock_hold_end(lk);
    free(lk->name);
    free(lk->key);
    free(lk);
    redisx__client_unref(c);
}

static redisx_lock *lock_new(redisx_client *c, const char *name, const char *key, int64_t ttl_ms)
{
    redisx_lock *lk = calloc(1, sizeof *lk);
    if (!lk)
        return NULL;
    lk->name = redisx__strdup(name);
    lk->key = redisx__strdup(key);
    if (!lk->name || !lk->key) {
        free(lk->name);
        free(lk->key);
        free(lk);
        return NULL;
    }
    atomic_init(&lk->refs, 1);
    atomic_init(&lk->ttl_ms, ttl_ms);
    redisx__client_ref(c);
    lk->client = c;
    return lk;
}

static int fail_open(const redisx_client *c)
{
    return redisx__client_options(c)->fail_policy[REDISX_PRIMITIVE_LOCK] == REDISX_FAIL_OPEN;
}


/* ---- acquire ------------------------------------------------------------ */

/* A waiting acquire sleeps on a backoff timer and is also woken by the
 * release script's PUBLISH on the lease key's channel. A woken op's pending
 * timer goes stale (gen) and is ignored; the op's memory lives until its
 * last timer has fired. */
typedef struct acquire_op {
    redisx__req req;
    redisx_client *c;
    redisx__chan_waiter waiter; /* woken by the release's PUBLISH */
    int in_flight; /* an attempt awaits its reply */
    int woken;     /* released while the attempt was in flight: retry at once */
    int timers;    /* pending timers referring to this op */
    int finished;  /* completed; freed when timers == 0 */
    uint64_t gen;  /* only the timer carrying this value is current */
    char *name, *key, *fence_key;
    int64_t ttl_ms;
    uint64_t give_up; /* monotonic ns; 0: one attempt */
    int64_t backoff_ms;
    char rnd[33];
    char ttl_arg[24];
    uint64_t attempt_t0;
    redisx_lock_cb cb;
    void *user;
} acquire_op;

static void acquire_free(acquire_op *op)
{
    free(op->name);
    free(op->key);
    free(op->fence_key);
    free(op);
}

/* Its memory lives until it finished, no timer refers to it and no attempt
 * is in flight (a cancelled op's attempt may still be). */
static void acquire_maybe_free(acquire_op *op)
{
    if (op->finished && op->timers == 0 && !op->in_flight)
        acquire_free(op);
}

static void acquire_deliver(acquire_op *op, redisx_status st, redisx_lock *lk)
{
    redisx_client *c = op->c;
    if (op->cb) {
        op->cb(c, st, lk, op->user);
    } else {
        redisx_item *it = redisx__completion_item(op->user, st);
        if (it) {
            it->lock = lk;
            redisx__queue_push(redisx__client_options(c)->queue, it);
        } else {
            redisx__lock_unref(lk); /* nobody can receive it */
        }
    }
}

static void acquire_finish(acquire_op *op, redisx_status st, redisx_lock *lk, int opened)
{
    redisx__chan_unwait(op->c, &op->waiter);
    redisx__req_finish(&op->req, st, opened);
    acquire_deliver(op, st, lk);
    op->finished = 1;
    acquire_maybe_free(op);
}

/* redisx_cancel: stop waiting now. An attempt in flight may still take the
 * lease: its reply releases it (acquire_reply). */
static void acquire_cancel(redisx__req *req)
{
    acquire_op *op = (acquire_op *)req;
    if (op->finished)
        return;
    redisx__chan_unwait(op->c, &op->waiter);
    op->gen++; /* a sleeping timer is now stale */
    redisx__req_cancelled(req);
    acquire_deliver(op, REDISX_ERR_CANCELLED, NULL);
    op->finished = 1;
    acquire_maybe_free(op);
}

/* The attempt that was sent may have taken the lease although nobody will
 * own it (timed out, connection lost, cancelled): release it by its random
 * part. */
static void acquire_unclaimed(acquire_op *op)
{
    redisx__orphan_cleanup(op->c, &redisx__script_lock_release_unclaimed, op->key, op->rnd, op->ttl_ms, "lock");
}

static void acquire_send(acquire_op *op);
static void acquire_wake(redisx__chan_waiter *w);

static void acquire_retry(redisx_client *c, void *ctx, uint64_t gen, int cancelled)
{
    (void)c;
    acquire_op *op = ctx;
    op->timers--;
    if (op->finished) {
        acquire_maybe_free(op);
        return;
    }
    if (gen != op->gen)
        return; /* superseded by a wake-up; whatever woke the op drives it */
    if (cancelled) {
        redisx__fail(REDISX_ERR_CLOSED, "client closed while waiting for lock %s", op->name);
        acquire_finish(op, REDISX_ERR_CLOSED, NULL, 0);
        return;
    }
    acquire_send(op);
}

static void acquire_reply(redisx__cmd *cmd, redisx_status st, redisx_reply *r)
{
    acquire_op *op = cmd->ctx;
    redisx_client *c = op->c;
    int sent = cmd->sent;
    redisx__cmd_free(cmd);
    op->in_flight = 0;
    if (op->finished) { /* cancelled while this attempt was in flight */
        if ((st == REDISX_OK && redisx__reply_int_at(r, 0, 0) == 1) || (sent && redisx__connection_failure(st)))
            acquire_unclaimed(op);
        redisx__reply_free(r);
        acquire_maybe_free(op);
        return;
    }
    if (st != REDISX_OK && sent && redisx__connection_failure(st))
        acquire_unclaimed(op); /* whatever the caller is told below */
    if (st != REDISX_OK) {
        if (redisx__connection_failure(st) && fail_open(c)) {
            redisx_lock *lk = lock_new(c, op->name, op->key, op->ttl_ms);
            if (!lk) {
                acquire_finish(op, redisx__fail(REDISX_ERR_NOMEM, "out of memory"), NULL, 0);
                return;
            }
            lk->fail_open = 1;
            redisx__log(c, REDISX_LOG_WARN, "lock %s granted by the fail-open policy: %s", op->name,
                        redisx__last_error_buf);
            acquire_finish(op, REDISX_OK, lk, 1);
            return;
        }
        acquire_finish(op, st, NULL, 0);
        return;
    }
    if (r->type != REDISX_REPLY_ARRAY || r->elements != 3) {
        st = redisx__unexpected_reply(r, "lock_acquire");
        redisx__reply_free(r);
        acquire_finish(op, st, NULL, 0);
        return;
    }
    int64_t got = redisx__reply_int_at(r, 0, -1);
    int64_t fence = redisx__reply_int_at(r, 1, 0);
    if (got == 1 && r->element[2]->type == REDISX_REPLY_STRING && r->element[2]->len < sizeof(((redisx_lock *)0)->token)) {
        redisx_lock *lk = lock_new(c, op->name, op->key, op->ttl_ms);
        if (!lk) {
            redisx__reply_free(r);
            acquire_finish(op, redisx__fail(REDISX_ERR_NOMEM, "out of memory"), NULL, 0);
            return;
        }
        memcpy(lk->token, r->element[2]->str, r->element[2]->len + 1);
        lk->fencing = fence;
        lk->lease_until = op->attempt_t0 + (uint64_t)op->ttl_ms * REDISX__NS_PER_MS;
        lk->held_t0 = redisx__now_ns();
        atomic_store(&lk->held, 1);
        redisx__lock_held_begin(c, lk->held_t0 - op->req.t0);
        redisx__reply_free(r);
        acquire_finish(op, REDISX_OK, lk, 0);
        return;
    }
    int64_t pttl = redisx__reply_int_at(r, 2, 0);
    redisx__reply_free(r);
    if (got != 0) {
        acquire_finish(op, redisx__fail(REDISX_ERR_PROTOCOL, "lock_acquire: malformed reply"), NULL, 0);
        return;
    }
    uint64_t now = redisx__now_ns();
    if (op->give_up && now < op->give_up && redisx__client_closing(c)) {
        /* Still allowed to wait, but the client is closing: the same answer
         * as a close that finds the wait between attempts. */
        redisx__fail(REDISX_ERR_CLOSED, "client closed while waiting for lock %s", op->name);
        acquire_finish(op, REDISX_ERR_CLOSED, NULL, 0);
        return;
    }
    if (op->give_up && now < op->give_up) {
        redisx__chan_wait(c, &op->waiter);
        if (op->woken) {
            acquire_send(op); /* a release came while this attempt was in flight */
            return;
        }
        /* Jittered exponential backoff, never sleeping past the holder's
         * remaining lease nor past our own deadline. */
        int64_t d = op->backoff_ms;
        if (pttl > 0 && pttl < d)
            d = pttl;
        op->backoff_ms = op->backoff_ms * 2 > 100 ? 100 : op->backoff_ms * 2;
        uint64_t delay = (uint64_t)d * REDISX__NS_PER_MS;
        delay = delay / 2 + redisx__rand_below(delay / 2 + 1);
        uint64_t due = now + delay;
        if (due > op->give_up)
            due = op->give_up;
        if (redisx__timer_add(c, due, acquire_retry, op, ++op->gen) == REDISX_OK) {
            op->timers++;
            return;
        }
    }
    redisx__fail(REDISX_ERR_LOCKED, "lock %s is held (holder's fencing token %lld, %lld ms left)", op->name,
                 (long long)fence, (long long)pttl);
    acquire_finish(op, REDISX_ERR_LOCKED, NULL, 0);
}

static void acquire_send(acquire_op *op)
{
    const char *argv[] = {op->key, op->fence_key, op->rnd, op->ttl_arg};
    redisx__random_hex(op->rnd, 16);
    redisx__cmd *cmd = redisx__cmd_script(&redisx__script_lock_acquire, 2, 2, argv, NULL);
    if (!cmd) {
        acquire_finish(op, redisx__fail(REDISX_ERR_NOMEM, "out of memory"), NULL, 0);
        return;
    }
    cmd->fn = acquire_reply;
    cmd->ctx = op;
    cmd->req = &op->req;
    op->in_flight = 1;
    op->woken = 0;
    op->attempt_t0 = redisx__now_ns();
    redisx__submit(op->c, cmd);
}

redisx_status redisx__lock_acquire_async(redisx_client *c, const char *name, int64_t ttl_ms, int64_t wait_ms,
                                         redisx_lock_cb cb, void *user)
{
    acquire_op *op = calloc(1, sizeof *op);
    if (!op)
        return redisx__fail(REDISX_ERR_NOMEM, "out of memory");
    op->c = c;
    op->name = redisx__strdup(name);
    op->key = redisx__key_build(redisx__client_options(c)->prefix, "lock", name, "");
    op->fence_key = redisx__key_build(redisx__client_options(c)->prefix, "lock", name, ":fence");
    if (!op->name || !op->key || !op->fence_key) {
        acquire_free(op);
        return redisx__fail(REDISX_ERR_NOMEM, "out of memory");
    }
    op->ttl_ms = ttl_ms;
    redisx__fmt_i64(op->ttl_arg, ttl_ms);
    op->backoff_ms = 1;
    op->waiter.channel = op->key;
    op->waiter.wake = acquire_wake;
    op->cb = cb;
    op->user = user;
    redisx__req_init(&op->req, c, REDISX__OP_LOCK_ACQUIRE, name);
    redisx__req_cancellable(&op->req, user, acquire_cancel);
    if (wait_ms > 0)
        op->give_up = op->req.t0 + (uint64_t)wait_ms * REDISX__NS_PER_MS;
    acquire_send(op);
    return REDISX_OK;
}

/* A release published on the lease key: try again at once. */
static void acquire_wake(redisx__chan_waiter *w)
{
    acquire_op *op = (acquire_op *)((char *)w - offsetof(acquire_op, waiter));
    if (op->in_flight) {
        op->woken = 1;
    } else {
        op->gen++; /* its sleeping timer is now stale */
        acquire_send(op);
    }
}

/* ---- release, extend, renew ---------------------------------------------- */

typedef struct owner_op {
    redisx__req req;
    redisx_lock *lk; /* a reference */
    int64_t ttl_ms;
    uint64_t t0;
    redisx_status_cb cb;
    void *user;
} owner_op;

static void renew_schedule(redisx_lock *lk, uint64_t due);

static void owner_finish(owner_op *op, redisx_status st, int opened)
{
    redisx_client *c = op->lk->client;
    redisx__req_finish(&op->req, st, opened);
    if (op->req.op != REDISX__OP_LOCK_RENEW) /* renew_reply handles renewals */
        redisx__deliver_status(c, op->cb, op->user, st);
    redisx__lock_unref(op->lk);
    free(op);
}

static redisx_status owner_status(redisx_status st, redisx_reply *r, const redisx_lock *lk, const char *script)
{
    if (st != REDISX_OK)
        return st;
    if (r->type != REDISX_REPLY_INTEGER)
        st = redisx__unexpected_reply(r, script);
    else if (r->integer == 1)
        st = REDISX_OK;
    else
        st = redisx__fail(REDISX_ERR_NOT_OWNER, "lock %s is no longer held by token %s (lease expired or taken over)",
                          lk->name, lk->token);
    redisx__reply_free(r);
    return st;
}

/* A release or extend already sent still runs on the server: cancelling
 * only stops waiting for its answer. */
static void owner_cancel(redisx__req *req)
{
    owner_op *op = (owner_op *)req;
    redisx__req_cancelled(req);
    redisx__deliver_status(op->lk->client, op->cb, op->user, REDISX_ERR_CANCELLED);
}

/* Frees a cancelled op when its answer comes; 1 when it did. */
static int owner_cancelled(owner_op *op, redisx_reply *r)
{
    if (!op->req.cancelled)
        return 0;
    redisx__reply_free(r);
    redisx__lock_unref(op->lk);
    free(op);
    return 1;
}

static void owner_reply(redisx__cmd *cmd, redisx_status st, redisx_reply *r)
{
    owner_op *op = cmd->ctx;
    const char *script = cmd->script->name;
    redisx__cmd_free(cmd);
    if (owner_cancelled(op, r))
        return;
    owner_finish(op, owner_status(st, r, op->lk, script), 0);
}

static void fail_open_done(redisx__cmd *cmd, redisx_status st, redisx_reply *r)
{
    owner_op *op = cmd->ctx;
    redisx__cmd_free(cmd);
    if (owner_cancelled(op, r))
        return;
    owner_finish(op, st, st == REDISX_OK);
}

static void notify_lost(redisx_lock *lk, const char *why)
{
    redisx_client *c = lk->client;
    const redisx_options *o = redisx__client_options(c);
    atomic_store(&lk->lost, 1);
    lock_hold_end(lk);
    redisx__log(c, REDISX_LOG_WARN, "lock %s lost: %s", lk->name, why);
    if (lk->on_lost) {
        lk->on_lost(c, lk, lk->lost_user);
    } else if (o->queue && (o->queue_what & REDISX_QUEUE_LOCK_LOST)) {
        redisx_item *it = redisx__item_new(REDISX_ITEM_LOCK_LOST, lk->lost_user, REDISX_OK, why);
        if (it) {
            lock_ref(lk);
            it->lock = lk;
            redisx__queue_push(o->queue, it);
        }
    }
}

static int renewal_stopped(const redisx_lock *lk)
{
    return atomic_load(&((redisx_lock *)lk)->released) || atomic_load(&((redisx_lock *)lk)->freed);
}

static void renew_reply(redisx__cmd *cmd, redisx_status st, redisx_reply *r)
{
    owner_op *op = cmd->ctx;
    redisx_lock *lk = op->lk;
    redisx_client *c = lk->client;
    const char *script = cmd->script->name;
    redisx__cmd_free(cmd);
    st = owner_status(st, r, lk, script);
    uint64_t now = redisx__now_ns();
    int64_t ttl = atomic_load(&lk->ttl_ms);
    lock_ref(lk); /* owner_finish drops the op's reference */
    uint64_t t0 = op->t0;
    owner_finish(op, st, 0);
    if (renewal_stopped(lk) || redisx__client_closing(c)) {
        /* Released meanwhile: a NOT_OWNER here is the release, not a loss. */
    } else if (st == REDISX_OK) {
        lk->lease_until = t0 + (uint64_t)ttl * REDISX__NS_PER_MS;
        renew_schedule(lk, now + (uint64_t)ttl * REDISX__NS_PER_MS / 3);
        return; /* the timer keeps the reference */
    } else if (st == REDISX_ERR_NOT_OWNER) {
        notify_lost(lk, "the lock key was gone or held by another token at renewal");
    } else if (now + 10 * REDISX__NS_PER_MS < lk->lease_until) {
        /* Redis unreachable or slow: retry while the lease may still hold. */
        uint64_t step = (uint64_t)ttl * REDISX__NS_PER_MS / 10;
        if (step < 10 * REDISX__NS_PER_MS)
            step = 10 * REDISX__NS_PER_MS;
        redisx__log(c, REDISX_LOG_WARN, "renewal of lock %s failed (%s); retrying", lk->name, redisx_strerror(st));
        renew_schedule(lk, now + step);
        return;
    } else {
        notify_lost(lk, "renewals failed until the lease ran out");
    }
    redisx__lock_unref(lk);
}

static redisx_status owner_submit(redisx_lock *lk, redisx__op kind, int64_t ttl_ms, redisx_status_cb cb, void *user)
{
    redisx_client *c = lk->client;
    owner_op *op = calloc(1, sizeof *op);
    if (!op)
        return redisx__fail(REDISX_ERR_NOMEM, "out of memory");
    char ttl[24];
    redisx__fmt_i64(ttl, ttl_ms);
    lock_ref(lk);
    op->lk = lk;
    op->ttl_ms = ttl_ms;
    op->cb = cb;
    op->user = user;
    redisx__cmd *cmd;
    if (lk->fail_open) {
        cmd = redisx__cmd_task(); /* nothing in Redis to release or extend */
        if (cmd)
            cmd->fn = fail_open_done;
    } else if (kind == REDISX__OP_LOCK_RELEASE) {
        const char *argv[] = {lk->key, lk->token};
        cmd = redisx__cmd_script(redisx__script_for(lk->client, &redisx__script_lock_release), 1, 1, argv, NULL);
        if (cmd)
            cmd->fn = owner_reply;
    } else {
        const char *argv[] = {lk->key, lk->token, ttl};
        cmd = redisx__cmd_script(&redisx__script_lock_extend, 1, 2, argv, NULL);
        if (cmd)
            cmd->fn = kind == REDISX__OP_LOCK_RENEW ? renew_reply : owner_reply;
    }
    if (!cmd) {
        redisx__lock_unref(lk);
        free(op);
        return redisx__fail(REDISX_ERR_NOMEM, "out of memory");
    }
    redisx__req_init(&op->req, c, kind, lk->name);
    if (kind != REDISX__OP_LOCK_RENEW)
        redisx__req_cancellable(&op->req, user, owner_cancel);
    op->t0 = op->req.t0;
    cmd->ctx = op;
    cmd->req = &op->req;
    redisx__submit(c, cmd);
    return REDISX_OK;
}

redisx_status redisx__lock_release_async(redisx_lock *lk, redisx_status_cb cb, void *user)
{
    atomic_store(&lk->released, 1); /* before sending: no renewal after it */
    lock_hold_end(lk);
    return owner_submit(lk, REDISX__OP_LOCK_RELEASE, 0, cb, user);
}

redisx_status redisx__lock_extend_async(redisx_lock *lk, int64_t ttl_ms, redisx_status_cb cb, void *user)
{
    atomic_store(&lk->ttl_ms, ttl_ms);
    return owner_submit(lk, REDISX__OP_LOCK_EXTEND, ttl_ms, cb, user);
}

static void renew_tick(redisx_client *c, void *ctx, uint64_t arg, int cancelled)
{
    (void)c;
    (void)arg;
    redisx_lock *lk = ctx;
    if (cancelled || renewal_stopped(lk) ||
        owner_submit(lk, REDISX__OP_LOCK_RENEW, atomic_load(&lk->ttl_ms), NULL, NULL) != REDISX_OK) {
        redisx__lock_unref(lk);
        return;
    }
    redisx__lock_unref(lk); /* the renew command holds its own reference */
}

static void renew_schedule(redisx_lock *lk, uint64_t due)
{
    /* Takes over the caller's reference. */
    if (redisx__timer_add(lk->client, due, renew_tick, lk, 0) != REDISX_OK) {
        notify_lost(lk, "out of memory scheduling a renewal");
        redisx__lock_unref(lk);
    }
}

static void renewal_start_task(redisx__cmd *cmd, redisx_status st, redisx_reply *r)
{
    (void)r;
    redisx_lock *lk = cmd->ctx;
    redisx__cmd_free(cmd);
    if (st != REDISX_OK || renewal_stopped(lk)) {
        redisx__lock_unref(lk);
        return;
    }
    uint64_t ttl_ns = (uint64_t)atomic_load(&lk->ttl_ms) * REDISX__NS_PER_MS;
    renew_schedule(lk, redisx__now_ns() + ttl_ns / 3);
}

redisx_status redisx__lock_start_renewal(redisx_lock *lk, redisx_lock_lost_cb on_lost, void *user)
{
    if (lk->fail_open)
        return REDISX_OK; /* nothing to renew */
    if (atomic_exchange(&lk->renewing, 1))
        return redisx__fail(REDISX_ERR_INVALID, "renewal of lock %s is already running", lk->name);
    if (atomic_load(&lk->released))
        return redisx__fail(REDISX_ERR_NOT_OWNER, "lock %s was released", lk->name);
    lk->on_lost = on_lost;
    lk->lost_user = user;
    redisx__cmd *task = redisx__cmd_task();
    if (!task)
        return redisx__fail(REDISX_ERR_NOMEM, "out of memory");
    lock_ref(lk);
    task->fn = renewal_start_task;
    task->ctx = lk;
    redisx__submit(lk->client, task);
    return REDISX_OK;
}

void redisx__lock_free(redisx_lock *lk)
{
    atomic_store(&lk->freed, 1);
    lock_hold_end(lk);
    redisx__lock_unref(lk);
}

/* ---- inspect ------------------------------------------------------------- */

typedef struct inspect_op {
    redisx__req req;
    redisx_client *c;
    redisx_lock_info_cb cb;
    void *user;
} inspect_op;

static void inspect_deliver(inspect_op *op, redisx_status st, const redisx_lock_info *info)
{
    if (op->cb) {
        op->cb(op->c, st, st == REDISX_OK ? info : NULL, op->user);
    } else {
        redisx_item *it = redisx__completion_item(op->user, st);
        if (it) {
            it->info = *info;
            it->has_info = st == REDISX_OK;
            redisx__queue_push(redisx__client_options(op->c)->queue, it);
        }
    }
}

static void inspect_cancel(redisx__req *req)
{
    inspect_op *op = (inspect_op *)req;
    redisx_lock_info none = {0};
    redisx__req_cancelled(req);
    inspect_deliver(op, REDISX_ERR_CANCELLED, &none);
}

static void inspect_reply(redisx__cmd *cmd, redisx_status st, redisx_reply *r)
{
    inspect_op *op = cmd->ctx;
    redisx__cmd_free(cmd);
    if (op->req.cancelled) {
        redisx__reply_free(r);
        free(op);
        return;
    }
    redisx_lock_info info = {0};
    if (st == REDISX_OK) {
        if (r->type != REDISX_REPLY_ARRAY || r->elements != 4) {
            st = redisx__unexpected_reply(r, "lock_inspect");
        } else {
            info.locked = redisx__reply_int_at(r, 0, 0) == 1;
            info.fencing = redisx__reply_int_at(r, 1, 0);
            info.ttl_ms = redisx__reply_int_at(r, 2, 0);
            info.last_fencing = redisx__reply_int_at(r, 3, 0);
        }
        redisx__reply_free(r);
    }
    redisx__req_finish(&op->req, st, 0);
    inspect_deliver(op, st, &info);
    free(op);
}

redisx_status redisx__lock_inspect_async(redisx_client *c, const char *name, redisx_lock_info_cb cb, void *user)
{
    char *key = redisx__key_build(redisx__client_options(c)->prefix, "lock", name, "");
    char *fkey = redisx__key_build(redisx__client_options(c)->prefix, "lock", name, ":fence");
    inspect_op *op = calloc(1, sizeof *op);
    redisx__cmd *cmd = NULL;
    if (key && fkey && op) {
        const char *argv[] = {key, fkey};
        cmd = redisx__cmd_script(&redisx__script_lock_inspect, 2, 0, argv, NULL);
    }
    free(key);
    free(fkey);
    if (!cmd) {
        free(op);
        return redisx__fail(REDISX_ERR_NOMEM, "out of memory");
    }
    op->c = c;
    op->cb = cb;
    op->user = user;
    redisx__req_init(&op->req, c, REDISX__OP_LOCK_INSPECT, name);
    redisx__req_cancellable(&op->req, user, inspect_cancel);
    cmd->fn = inspect_reply;
    cmd->ctx = op;
    cmd->req = &op->req;
    redisx__submit(c, cmd);
    return REDISX_OK;
}

/* ---- accessors (ffi/lock.c checks for NULL) -------------------------------- */

const char *redisx__lock_name(const redisx_lock *lk)
{
    return lk->name;
}
const char *redisx__lock_token(const redisx_lock *lk)
{
    return lk->token;
}
int64_t redisx__lock_fencing(const redisx_lock *lk)
{
    return lk->fencing;
}
int64_t redisx__lock_ttl(const redisx_lock *lk)
{
    return atomic_load(&((redisx_lock *)lk)->ttl_ms);
}
int redisx__lock_is_fail_open(const redisx_lock *lk)
{
    return lk->fail_open;
}
int redisx__lock_is_lost(const redisx_lock *lk)
{
    return atomic_load(&((redisx_lock *)lk)->lost);
}
redisx_client *redisx__lock_client(const redisx_lock *lk)
{
    return lk->client;
}
