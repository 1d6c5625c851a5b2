/* Rate limiting: five algorithms, each one Lua script and one round trip
 * (core/scripts/rl_*.lua) that reads the server's clock. Everything here runs
 * on the I/O thread except the submitting halves of the *_async functions. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "keys.h"

struct redisx_limiter {
    atomic_int refs; /* the user's, plus one per check in flight */
    redisx_client *client; /* a reference */
    char *kind;            /* "rl:<name>" */
    redisx_ratelimit_algorithm alg;
    int64_t capacity;
    atomic_int policy;
    char limit_arg[24], period_arg[24], burst_arg[24];
    redisx__named *named; /* its per-name series (NULL: out of memory) */
};

static const struct {
    const redisx__script *script;
    const char *suffix[2]; /* the keys' suffixes; NULL when unused */
} algs[] = {
    [REDISX_RATELIMIT_FIXED_WINDOW] = {&redisx__script_rl_fixed_window, {":fw", NULL}},
    [REDISX_RATELIMIT_SLIDING_LOG] = {&redisx__script_rl_sliding_log, {":sl", ":sl:seq"}},
    [REDISX_RATELIMIT_SLIDING_WINDOW] = {&redisx__script_rl_sliding_window, {":sw", NULL}},
    [REDISX_RATELIMIT_TOKEN_BUCKET] = {&redisx__script_rl_token_bucket, {":tb", NULL}},
    [REDISX_RATELIMIT_GCRA] = {&redisx__script_rl_gcra, {":gcra", NULL}},
};

static void limiter_unref(redisx_limiter *lim)
{
    if (atomic_fetch_sub(&lim->refs, 1) != 1)
        return;
    redisx_client *c = lim->client;
    free(lim->kind);
    free(lim);
    redisx__client_unref(c);
}

redisx_status redisx__limiter_new(redisx_limiter **out, redisx_client *c, const char *name,
                                  redisx_ratelimit_algorithm alg, int64_t limit, int64_t period_ms, int64_t burst)
{
    redisx_limiter *lim = calloc(1, sizeof *lim);
    size_t n = strlen(name) + 4;
    char *kind = malloc(n);
    if (!lim || !kind) {
        free(lim);
        free(kind);
        return redisx__fail(REDISX_ERR_NOMEM, "out of memory");
    }
    snprintf(kind, n, "rl:%s", name);
    if (burst == 0)
        burst = limit;
    atomic_init(&lim->refs, 1);
    atomic_init(&lim->policy, (int)redisx__client_options(c)->fail_policy[REDISX_PRIMITIVE_RATELIMIT]);
    lim->kind = kind;
    lim->alg = alg;
    lim->capacity = (alg == REDISX_RATELIMIT_TOKEN_BUCKET || alg == REDISX_RATELIMIT_GCRA) ? burst : limit;
    snprintf(lim->limit_arg, sizeof lim->limit_arg, "%lld", (long long)limit);
    snprintf(lim->period_arg, sizeof lim->period_arg, "%lld", (long long)period_ms);
    snprintf(lim->burst_arg, sizeof lim->burst_arg, "%lld", (long long)burst);
    lim->named = redisx__named_get(c, REDISX__NAMED_LIMITER, name, NULL);
    redisx__client_ref(c);
    lim->client = c;
    *out = lim;
    return REDISX_OK;
}

void redisx__limiter_free(redisx_limiter *lim)
{
    limiter_unref(lim);
}

void redisx__limiter_set_fail_policy(redisx_limiter *lim, redisx_fail_policy policy)
{
    atomic_store(&lim->policy, (int)policy);
}

int64_t redisx__limiter_capacity(const redisx_limiter *lim)
{
    return lim->capacity;
}

redisx_client *redisx__limiter_client(const redisx_limiter *lim)
{
    return lim->client;
}

/* The algorithm's keys for `key`; returns how many (1 or 2), 0 on OOM. */
static int limiter_keys(const redisx_limiter *lim, const char *key, char *keys[2])
{
    int n = 0;
    keys[0] = keys[1] = NULL;
    for (int i = 0; i < 2 && algs[lim->alg].suffix[i]; i++) {
        keys[i] = redisx__key_build(redisx__client_options(lim->client)->prefix, lim->kind, key,
                                    algs[lim->alg].suffix[i]);
        if (!keys[i]) {
            free(keys[0]);
            keys[0] = NULL;
            return 0;
        }
        n++;
    }
    return n;
}

/* ---- check and peek --------------------------------------------------------- */

typedef struct check_op {
    redisx__req req;
    redisx_limiter *lim; /* a reference */
    redisx_ratelimit_cb cb;
    void *user;
} check_op;

static void check_deliver(check_op *op, redisx_status st, redisx_ratelimit_result *res)
{
    redisx_client *c = op->lim->client;
    if (op->cb) {
        op->cb(c, st, res, op->user);
    } else {
        redisx_item *it = redisx__completion_item(op->user, st);
        if (it) {
            it->rl_result = res;
            redisx__queue_push(redisx__client_options(c)->queue, it);
        } else {
            free(res);
        }
    }
}

static void check_finish(check_op *op, redisx_status st, redisx_ratelimit_result *res, int opened)
{
    op->req.rejected = res && !res->allowed;
    redisx__req_finish(&op->req, st, opened);
    check_deliver(op, st, res);
    limiter_unref(op->lim);
    free(op);
}

/* A cancelled check may still have been counted by the server (the script
 * was sent); like a timed-out one, its answer is lost. */
static void check_cancel(redisx__req *req)
{
    check_op *op = (check_op *)req;
    redisx__req_cancelled(req);
    check_deliver(op, REDISX_ERR_CANCELLED, NULL);
}

static void check_reply(redisx__cmd *cmd, redisx_status st, redisx_reply *r)
{
    check_op *op = cmd->ctx;
    const char *script = cmd->script->name;
    redisx__cmd_free(cmd);
    if (op->req.cancelled) {
        redisx__reply_free(r);
        limiter_unref(op->lim);
        free(op);
        return;
    }
    redisx_ratelimit_result *res = calloc(1, sizeof *res);
    if (!res) {
        redisx__reply_free(r);
        check_finish(op, redisx__fail(REDISX_ERR_NOMEM, "out of memory"), NULL, 0);
        return;
    }
    if (st != REDISX_OK) {
        if (redisx__connection_failure(st) && atomic_load(&op->lim->policy) == REDISX_FAIL_OPEN) {
            redisx__log(op->lim->client, REDISX_LOG_WARN, "rate limit %s allowed by the fail-open policy: %s",
                        op->lim->kind + 3, redisx__last_error_buf);
            *res = (redisx_ratelimit_result){.allowed = 1,
                                             .fail_open = 1,
                                             .limit = op->lim->capacity,
                                             .remaining = op->lim->capacity,
                                             .reset_ms = 0,
                                             .retry_after_ms = -1};
            check_finish(op, REDISX_OK, res, 1);
            return;
        }
        free(res);
        check_finish(op, st, NULL, 0);
        return;
    }
    if (r->type != REDISX_REPLY_ARRAY || r->elements != 5) {
        st = redisx__unexpected_reply(r, script);
        redisx__reply_free(r);
        free(res);
        check_finish(op, st, NULL, 0);
        return;
    }
    res->allowed = redisx__reply_int_at(r, 0, 0) == 1;
    res->limit = redisx__reply_int_at(r, 1, 0);
    res->remaining = redisx__reply_int_at(r, 2, 0);
    res->reset_ms = redisx__reply_int_at(r, 3, 0);
    res->retry_after_ms = redisx__reply_int_at(r, 4, -1);
    if (res->remaining < 0)
        res->remaining = 0;
    if (res->reset_ms < 0)
        res->reset_ms = 0;
    redisx__reply_free(r);
    check_finish(op, REDISX_OK, res, 0);
}

redisx_status redisx__limiter_check_async(redisx_limiter *lim, const char *key, int64_t cost, int peek,
                                          redisx_ratelimit_cb cb, void *user)
{
    check_op *op = calloc(1, sizeof *op);
    char *keys[2];
    int nkeys = op ? limiter_keys(lim, key, keys) : 0;
    redisx__cmd *cmd = NULL;
    if (nkeys > 0) {
        char cost_arg[24];
        redisx__fmt_i64(cost_arg, cost);
        const char *argv[7];
        int a = 0;
        for (int i = 0; i < nkeys; i++)
            argv[a++] = keys[i];
        argv[a++] = lim->limit_arg;
        argv[a++] = lim->period_arg;
        argv[a++] = lim->burst_arg;
        argv[a++] = cost_arg;
        argv[a++] = peek ? "1" : "0";
        cmd = redisx__cmd_script(algs[lim->alg].script, nkeys, 5, argv, NULL);
        free(keys[0]);
        free(keys[1]);
    }
    if (!cmd) {
        free(op);
        return redisx__fail(REDISX_ERR_NOMEM, "out of memory");
    }
    atomic_fetch_add(&lim->refs, 1);
    op->lim = lim;
    op->cb = cb;
    op->user = user;
    redisx__req_init(&op->req, lim->client, peek ? REDISX__OP_RL_PEEK : REDISX__OP_RL_CHECK, key);
    op->req.named = lim->named;
    redisx__req_cancellable(&op->req, user, check_cancel);
    cmd->fn = check_reply;
    cmd->ctx = op;
    cmd->req = &op->req;
    redisx__submit(lim->client, cmd);
    return REDISX_OK;
}

/* ---- reset ------------------------------------------------------------------ */

typedef struct reset_op {
    redisx__req req;
    redisx_client *c;
    redisx_status_cb cb;
    void *user;
} reset_op;

static void reset_cancel(redisx__req *req)
{
    reset_op *op = (reset_op *)req;
    redisx__req_cancelled(req);
    redisx__deliver_status(op->c, op->cb, op->user, REDISX_ERR_CANCELLED);
}

static void reset_reply(redisx__cmd *cmd, redisx_status st, redisx_reply *r)
{
    reset_op *op = cmd->ctx;
    redisx__cmd_free(cmd);
    if (op->req.cancelled) {
        redisx__reply_free(r);
        free(op);
        return;
    }
    if (st == REDISX_OK && r->type != REDISX_REPLY_INTEGER)
        st = redisx__unexpected_reply(r, "DEL");
    redisx__reply_free(r);
    redisx__req_finish(&op->req, st, 0);
    redisx__deliver_status(op->c, op->cb, op->user, st);
    free(op);
}

redisx_status redisx__limiter_reset_async(redisx_limiter *lim, const char *key, redisx_status_cb cb, void *user)
{
    reset_op *op = calloc(1, sizeof *op);
    char *keys[2];
    int nkeys = op ? limiter_keys(lim, key, keys) : 0;
    redisx__cmd *cmd = NULL;
    if (nkeys > 0) {
        const char *argv[] = {"DEL", keys[0], keys[1]};
        cmd = redisx__cmd_argv(1 + nkeys, argv, NULL);
        free(keys[0]);
        free(keys[1]);
    }
    if (!cmd) {
        free(op);
        return redisx__fail(REDISX_ERR_NOMEM, "out of memory");
    }
    op->c = lim->client;
    op->cb = cb;
    op->user = user;
    redisx__req_init(&op->req, lim->client, REDISX__OP_RL_RESET, key);
    op->req.named = lim->named;
    redisx__req_cancellable(&op->req, user, reset_cancel);
    cmd->fn = reset_reply;
    cmd->ctx = op;
    cmd->req = &op->req;
    redisx__submit(lim->client, cmd);
    return REDISX_OK;
}
