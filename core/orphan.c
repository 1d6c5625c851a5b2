/* Cleaning up what nobody owns: a lock acquire or an idempotency begin whose
 * answer the caller never used (it timed out, its connection was lost, or it
 * was cancelled) may still have taken a lease or created an IN_PROGRESS
 * record on the server. The client knows the owner part it sent, so it
 * releases / fails that itself, retrying with backoff while the server is
 * unreachable, until the lease would have run out on its own anyway. A
 * client that closes first leaves it to the lease (the remaining window). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

typedef struct orphan_op {
    redisx_client *c; /* a reference */
    const redisx__script *script;
    char *key;
    char arg[80];
    uint64_t until; /* monotonic ns: the lease is over by then */
    int64_t backoff_ms;
    const char *what;
} orphan_op;

static void orphan_free(orphan_op *op)
{
    redisx_client *c = op->c;
    free(op->key);
    free(op);
    redisx__client_unref(c);
}

static void orphan_send(orphan_op *op);

static void orphan_retry(redisx_client *c, void *ctx, uint64_t arg, int cancelled)
{
    (void)c;
    (void)arg;
    orphan_op *op = ctx;
    if (cancelled) {
        orphan_free(op); /* closing: the lease runs out on its own */
        return;
    }
    orphan_send(op);
}

static void orphan_reply(redisx__cmd *cmd, redisx_status st, redisx_reply *r)
{
    orphan_op *op = cmd->ctx;
    redisx_client *c = op->c;
    redisx__cmd_free(cmd);
    if (st == REDISX_OK) {
        if (r->type == REDISX_REPLY_INTEGER && r->integer == 1)
            redisx__log(c, REDISX_LOG_INFO, "%s %s: released what an unanswered call had taken", op->what,
                        op->key);
        redisx__reply_free(r);
        orphan_free(op);
        return;
    }
    uint64_t now = redisx__now_ns();
    if (redisx__connection_failure(st) && !redisx__client_closing(c) && now < op->until) {
        uint64_t due = now + (uint64_t)op->backoff_ms * REDISX__NS_PER_MS;
        op->backoff_ms = op->backoff_ms * 2 > 1000 ? 1000 : op->backoff_ms * 2;
        if (due > op->until)
            due = op->until;
        if (redisx__timer_add(c, due, orphan_retry, op, 0) == REDISX_OK)
            return;
    }
    redisx__log(c, REDISX_LOG_WARN, "%s %s: could not release what an unanswered call may have taken (%s); "
                "its lease runs out on its own",
                op->what, op->key, redisx_strerror(st));
    orphan_free(op);
}

static void orphan_send(orphan_op *op)
{
    const char *argv[] = {op->key, op->arg};
    redisx__cmd *cmd = redisx__cmd_script(op->script, 1, 1, argv, NULL);
    if (!cmd) {
        orphan_free(op);
        return;
    }
    cmd->fn = orphan_reply;
    cmd->ctx = op;
    redisx__submit(op->c, cmd);
}

void redisx__orphan_cleanup(redisx_client *c, const redisx__script *script, const char *key, const char *arg,
                            int64_t lease_ms, const char *what)
{
    orphan_op *op = calloc(1, sizeof *op);
    if (!op)
        return;
    op->key = redisx__strdup(key);
    if (!op->key || strlen(arg) >= sizeof op->arg) {
        free(op->key);
        free(op);
        return;
    }
    snprintf(op->arg, sizeof op->arg, "%s", arg);
    redisx__client_ref(c);
    op->c = c;
    op->script = redisx__script_for(c, script);
    op->until = redisx__now_ns() + (uint64_t)lease_ms * REDISX__NS_PER_MS;
    op->backoff_ms = 50;
    op->what = what;
    orphan_send(op);
}
