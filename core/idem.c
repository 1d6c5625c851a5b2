/* Idempotency records: begin (optionally waiting for an in-progress record),
 * complete and fail by the owner. Every Redis step is one Lua script
 * (core/scripts/idem_*.lua); everything here runs on the I/O thread except
 * the submitting halves of the *_async functions. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "keys.h"

struct redisx_idem {
    redisx_client *client; /* a reference */
    char *name;            /* the caller's key */
    char *key;             /* the Redis key */
    redisx_idem_state state;
    char token[33];
    char *resp, *meta;
    size_t resp_len, meta_len;
    int64_t remaining_ms;
    int taken_over;
    int fail_open;
};

void redisx__idem_free(redisx_idem *rec)
{
    redisx_client *c = rec->client;
    free(rec->name);
    free(rec->key);
    free(rec->resp);
    free(rec->meta);
    free(rec);
    redisx__client_unref(c);
}

static bool idem_fail_open(const redisx_client *c)
{
    return redisx__client_options(c)->fail_policy[REDISX_PRIMITIVE_IDEMPOTENCY] == REDISX_FAIL_OPEN;
}

/* ---- begin ------------------------------------------------------------------ */

/* A waiting begin sleeps on a backoff timer and is also woken by the PUBLISH
 * of complete/fail on the record's key. As in lock.c, a woken op's pending
 * timer goes stale (gen) and the op's memory lives until its last timer
 * fired. */
typedef struct begin_op {
    redisx__req req;
    redisx_client *c;
    redisx__chan_waiter waiter; /* woken by complete's or fail's PUBLISH */
    int in_flight, woken, timers, finished;
    uint64_t gen;
    redisx_idem *rec; /* filled by the reply */
    char *fp;
    size_t fp_len;
    char lease_arg[24];
    int64_t lease_ms;
    uint64_t give_up; /* monotonic ns; 0: no wait */
    int64_t backoff_ms;
    redisx_idem_cb cb;
    void *user;
} begin_op;

static void begin_free(begin_op *op)
{
    if (op->rec)
        redisx__idem_free(op->rec);
    free(op->fp);
    free(op);
}

static void begin_maybe_free(begin_op *op)
{
    if (op->finished && op->timers == 0 && !op->in_flight)
        begin_free(op);
}

static void begin_deliver(begin_op *op, redisx_status st, redisx_idem *rec)
{
    redisx_client *c = op->c;
    if (op->cb) {
        op->cb(c, st, rec, op->user);
    } else {
        redisx_item *it = redisx__completion_item(op->user, st);
        if (it) {
            it->idem = rec;
            redisx__queue_push(redisx__client_options(c)->queue, it);
        } else if (rec) {
            redisx__idem_free(rec);
        }
    }
}

/* Hands the record (or nothing on error) to the caller. */
static void begin_finish(begin_op *op, redisx_status st)
{
    redisx__chan_unwait(op->c, &op->waiter);
    redisx_idem *rec = st == REDISX_OK ? op->rec : NULL;
    if (rec)
        op->rec = NULL;
    op->req.rejected = rec && (rec->state == REDISX_IDEM_IN_PROGRESS || rec->state == REDISX_IDEM_MISMATCH);
    redisx__req_finish(&op->req, st, rec && rec->fail_open);
    begin_deliver(op, st, rec);
    op->finished = 1;
    begin_maybe_free(op);
}

/* redisx_cancel: stop waiting now. An attempt in flight may still create
 * (or take over) the record: its reply fails it (begin_reply). */
static void begin_cancel(redisx__req *req)
{
    begin_op *op = (begin_op *)req;
    if (op->finished)
        return;
    redisx__chan_unwait(op->c, &op->waiter);
    op->gen++;
    redisx__req_cancelled(req);
    begin_deliver(op, REDISX_ERR_CANCELLED, NULL);
    op->finished = 1;
    begin_maybe_free(op);
}

/* The attempt that was sent may have made us the owner of a record nobody
 * will complete (timed out, connection lost, cancelled): fail it by token. */
static void begin_unclaimed(begin_op *op)
{
    redisx__orphan_cleanup(op->c, &redisx__script_idem_fail, op->rec->key, op->rec->token, op->lease_ms,
                           "idempotency record");
}

static void begin_send(begin_op *op);
static void begin_wake(redisx__chan_waiter *w);

static void begin_retry(redisx_client *c, void *ctx, uint64_t gen, int cancelled)
{
    (void)c;
    begin_op *op = ctx;
    op->timers--;
    if (op->finished) {
        begin_maybe_free(op);
        return;
    }
    if (gen != op->gen)
        return;
    if (cancelled) {
        begin_finish(op, redisx__fail(REDISX_ERR_CLOSED, "client closed while waiting for idempotency record %s",
                                      op->rec->name));
        return;
    }
    begin_send(op);
}

static int64_t int_at(const redisx_reply *r, size_t i)
{
    return redisx__reply_int_at(r, i, 0);
}

static char *bytes_at(const redisx_reply *r, size_t i, size_t *len)
{
    const redisx_reply *e = r->element[i];
    *len = e->type == REDISX_REPLY_STRING ? e->len : 0;
    return redisx__memdup(*len ? e->str : "", *len + 1); /* NUL-terminated for convenience */
}

/* Fills op->rec from the script's reply; REDISX_OK or an error status. */
static redisx_status begin_parse(begin_op *op, const redisx_reply *r)
{
    redisx_idem *rec = op->rec;
    if (r->type != REDISX_REPLY_ARRAY || r->elements < 2)
        return redisx__unexpected_reply(r, "idem_begin");
    int64_t code = int_at(r, 0);
    rec->remaining_ms = int_at(r, 1);
    rec->taken_over = 0;
    switch (code) {
    case 0:
        rec->state = REDISX_IDEM_NEW;
        rec->taken_over = r->elements > 2 && int_at(r, 2) == 1;
        return REDISX_OK;
    case 1:
        rec->state = REDISX_IDEM_IN_PROGRESS;
        return REDISX_OK;
    case 2:
        if (r->elements != 4)
            break;
        rec->state = REDISX_IDEM_COMPLETED;
        rec->resp = bytes_at(r, 2, &rec->resp_len);
        rec->meta = bytes_at(r, 3, &rec->meta_len);
        if (!rec->resp || !rec->meta)
            return redisx__fail(REDISX_ERR_NOMEM, "out of memory");
        return REDISX_OK;
    case 3:
        rec->state = REDISX_IDEM_MISMATCH;
        return REDISX_OK;
    }
    return redisx__fail(REDISX_ERR_PROTOCOL, "idem_begin: malformed reply");
}

static void begin_reply(redisx__cmd *cmd, redisx_status st, redisx_reply *r)
{
    begin_op *op = cmd->ctx;
    redisx_client *c = op->c;
    int sent = cmd->sent;
    redisx__cmd_free(cmd);
    op->in_flight = 0;
    if (op->finished) { /* cancelled while this attempt was in flight */
        if ((st == REDISX_OK && redisx__reply_int_at(r, 0, -1) == 0) || (sent && redisx__connection_failure(st)))
            begin_unclaimed(op);
        redisx__reply_free(r);
        begin_maybe_free(op);
        return;
    }
    if (st != REDISX_OK && sent && redisx__connection_failure(st))
        begin_unclaimed(op); /* whatever the caller is told below */
    if (st != REDISX_OK) {
        if (redisx__connection_failure(st) && idem_fail_open(c)) {
            redisx__log(c, REDISX_LOG_WARN, "idempotency record %s granted by the fail-open policy: %s",
                        op->rec->name, redisx__last_error_buf);
            op->rec->state = REDISX_IDEM_NEW;
            op->rec->fail_open = 1;
            op->rec->remaining_ms = op->lease_ms;
            begin_finish(op, REDISX_OK);
            return;
        }
        begin_finish(op, st);
        return;
    }
    st = begin_parse(op, r);
    redisx__reply_free(r);
    if (st != REDISX_OK || op->rec->state != REDISX_IDEM_IN_PROGRESS) {
        begin_finish(op, st);
        return;
    }
    uint64_t now = redisx__now_ns();
    if (!op->give_up || now >= op->give_up) {
        begin_finish(op, REDISX_OK);
        return;
    }
    if (redisx__client_closing(c)) {
        begin_finish(op, redisx__fail(REDISX_ERR_CLOSED, "client closed while waiting for idempotency record %s",
                                      op->rec->name));
        return;
    }
    redisx__chan_wait(c, &op->waiter);
    if (op->woken) {
        begin_send(op); /* completed or failed while this attempt was in flight */
        return;
    }
    /* Poll as a fallback for a lost PUBLISH, and to take over promptly when
     * the lease passes: jittered backoff 10 ms doubling to 250 ms, never past
     * the lease nor our own deadline. */
    int64_t d = op->backoff_ms;
    op->backoff_ms = op->backoff_ms * 2 > 250 ? 250 : op->backoff_ms * 2;
    uint64_t delay = (uint64_t)d * REDISX__NS_PER_MS;
    delay = delay / 2 + redisx__rand_below(delay / 2 + 1);
    uint64_t lease_end = (uint64_t)(op->rec->remaining_ms + 1) * REDISX__NS_PER_MS;
    if (lease_end < delay)
        delay = lease_end;
    uint64_t due = now + delay;
    if (due > op->give_up)
        due = op->give_up;
    if (redisx__timer_add(c, due, begin_retry, op, ++op->gen) == REDISX_OK) {
        op->timers++;
        return;
    }
    begin_finish(op, REDISX_OK); /* cannot wait: report IN_PROGRESS */
}

static void begin_send(begin_op *op)
{
    const char *argv[] = {op->rec->key, op->fp, op->rec->token, op->lease_arg};
    const size_t lens[] = {strlen(op->rec->key), op->fp_len, strlen(op->rec->token), strlen(op->lease_arg)};
    redisx__cmd *cmd = redisx__cmd_script(&redisx__script_idem_begin, 1, 3, argv, lens);
    if (!cmd) {
        begin_finish(op, redisx__fail(REDISX_ERR_NOMEM, "out of memory"));
        return;
    }
    cmd->fn = begin_reply;
    cmd->ctx = op;
    cmd->req = &op->req;
    op->in_flight = 1;
    op->woken = 0;
    redisx__submit(op->c, cmd);
}

redisx_status redisx__idem_begin_async(redisx_client *c, const char *key, const void *fp, size_t fp_len,
                                       int64_t lease_ms, int64_t wait_ms, redisx_idem_cb cb, void *user)
{
    begin_op *op = calloc(1, sizeof *op);
    redisx_idem *rec = calloc(1, sizeof *rec);
    if (op)
        op->fp = redisx__memdup(fp_len ? fp : "", fp_len + 1);
    if (rec) {
        rec->name = redisx__strdup(key);
        rec->key = redisx__key_build(redisx__client_options(c)->prefix, "idem", key, "");
    }
    if (!op || !rec || !op->fp || !rec->name || !rec->key) {
        if (rec) {
            free(rec->name);
            free(rec->key);
            free(rec);
        }
        if (op)
            free(op->fp);
        free(op);
        return redisx__fail(REDISX_ERR_NOMEM, "out of memory");
    }
    redisx__client_ref(c);
    rec->client = c;
    redisx__random_hex(rec->token, 16);
    op->rec = rec;
    op->c = c;
    op->fp_len = fp_len;
    op->lease_ms = lease_ms;
    redisx__fmt_i64(op->lease_arg, lease_ms);
    op->backoff_ms = 10;
    op->waiter.channel = rec->key;
    op->waiter.wake = begin_wake;
    op->cb = cb;
    op->user = user;
    redisx__req_init(&op->req, c, REDISX__OP_IDEM_BEGIN, key);
    redisx__req_cancellable(&op->req, user, begin_cancel);
    if (wait_ms > 0)
        op->give_up = op->req.t0 + (uint64_t)wait_ms * REDISX__NS_PER_MS;
    begin_send(op);
    return REDISX_OK;
}

/* The record was completed or failed: look again at once. */
static void begin_wake(redisx__chan_waiter *w)
{
    begin_op *op = (begin_op *)((char *)w - offsetof(begin_op, waiter));
    if (op->in_flight) {
        op->woken = 1;
    } else {
        op->gen++; /* its sleeping timer is now stale */
        begin_send(op);
    }
}

/* ---- complete and fail ---------------------------------------------------------- */

typedef struct owner_op {
    redisx__req req;
    redisx_client *c;
    char *name;
    redisx_status_cb cb;
    void *user;
} owner_op;

static void owner_finish(owner_op *op, redisx_status st, int opened)
{
    redisx__req_finish(&op->req, st, opened);
    redisx__deliver_status(op->c, op->cb, op->user, st);
    redisx__client_unref(op->c);
    free(op->name);
    free(op);
}

/* A complete or fail already sent still runs on the server: cancelling only
 * stops waiting for its answer. */
static void owner_cancel(redisx__req *req)
{
    owner_op *op = (owner_op *)req;
    redisx__req_cancelled(req);
    redisx__deliver_status(op->c, op->cb, op->user, REDISX_ERR_CANCELLED);
}

static int owner_cancelled(owner_op *op, redisx_reply *r)
{
    if (!op->req.cancelled)
        return 0;
    redisx__reply_free(r);
    redisx__client_unref(op->c);
    free(op->name);
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
    if (st == REDISX_OK) {
        if (r->type != REDISX_REPLY_INTEGER)
            st = redisx__unexpected_reply(r, script);
        else if (r->integer != 1)
            st = redisx__fail(REDISX_ERR_NOT_OWNER,
                              "idempotency record %s is no longer ours (taken over after its lease, "
                              "already completed or failed, or expired)",
                              op->name);
        redisx__reply_free(r);
    }
    owner_finish(op, st, 0);
}

static void fail_open_done(redisx__cmd *cmd, redisx_status st, redisx_reply *r)
{
    owner_op *op = cmd->ctx;
    redisx__cmd_free(cmd);
    if (owner_cancelled(op, r))
        return;
    owner_finish(op, st, st == REDISX_OK);
}

static redisx_status owner_submit(redisx_idem *rec, redisx__op kind, const void *resp, size_t resp_len,
                                  const void *meta, size_t meta_len, int64_t ttl_ms, redisx_status_cb cb,
                                  void *user)
{
    owner_op *op = calloc(1, sizeof *op);
    char *name = redisx__strdup(rec->name);
    redisx__cmd *cmd = NULL;
    if (op && name) {
        if (rec->fail_open) {
            cmd = redisx__cmd_task(); /* nothing in Redis to complete or fail */
            if (cmd)
                cmd->fn = fail_open_done;
        } else if (kind == REDISX__OP_IDEM_COMPLETE) {
            char ttl[24];
            redisx__fmt_i64(ttl, ttl_ms);
            const char *argv[] = {rec->key, rec->token, resp_len ? resp : "", meta_len ? meta : "", ttl};
            const size_t lens[] = {strlen(rec->key), strlen(rec->token), resp_len, meta_len, strlen(ttl)};
            cmd = redisx__cmd_script(redisx__script_for(rec->client, &redisx__script_idem_complete), 1, 4, argv, lens);
        } else {
            const char *argv[] = {rec->key, rec->token};
            cmd = redisx__cmd_script(redisx__script_for(rec->client, &redisx__script_idem_fail), 1, 1, argv, NULL);
        }
        if (cmd && !rec->fail_open)
            cmd->fn = owner_reply;
    }
    if (!cmd) {
        free(op);
        free(name);
        return redisx__fail(REDISX_ERR_NOMEM, "out of memory");
    }
    redisx__client_ref(rec->client);
    op->c = rec->client;
    op->name = name;
    op->cb = cb;
    op->user = user;
    redisx__req_init(&op->req, rec->client, kind, rec->name);
    redisx__req_cancellable(&op->req, user, owner_cancel);
    cmd->ctx = op;
    cmd->req = &op->req;
    redisx__submit(rec->client, cmd);
    return REDISX_OK;
}

redisx_status redisx__idem_complete_async(redisx_idem *rec, const void *resp, size_t resp_len, const void *meta,
                                          size_t meta_len, int64_t ttl_ms, redisx_status_cb cb, void *user)
{
    return owner_submit(rec, REDISX__OP_IDEM_COMPLETE, resp, resp_len, meta, meta_len, ttl_ms, cb, user);
}

redisx_status redisx__idem_fail_async(redisx_idem *rec, redisx_status_cb cb, void *user)
{
    return owner_submit(rec, REDISX__OP_IDEM_FAIL, NULL, 0, NULL, 0, 0, cb, user);
}

/* ---- accessors (ffi/idempotency.c checks for NULL) ------------------------------ */

redisx_client *redisx__idem_client(const redisx_idem *rec)
{
    return rec->client;
}
redisx_idem_state redisx__idem_state(const redisx_idem *rec)
{
    return rec->state;
}
const char *redisx__idem_key(const redisx_idem *rec)
{
    return rec->name;
}
const char *redisx__idem_response(const redisx_idem *rec, size_t *len)
{
    *len = rec->resp ? rec->resp_len : 0;
    return rec->resp ? rec->resp : "";
}
const char *redisx__idem_metadata(const redisx_idem *rec, size_t *len)
{
    *len = rec->meta ? rec->meta_len : 0;
    return rec->meta ? rec->meta : "";
}
int64_t redisx__idem_remaining(const redisx_idem *rec)
{
    return rec->remaining_ms;
}
int redisx__idem_taken_over(const redisx_idem *rec)
{
    return rec->taken_over;
}
int redisx__idem_is_fail_open(const redisx_idem *rec)
{
    return rec->fail_open;
}
