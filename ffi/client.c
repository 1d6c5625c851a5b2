/* Exported: client lifetime, raw commands, replies, stats snapshot. */
#include <stdlib.h>

#include "ffi.h"

redisx_status redisx_client_open(redisx_client **out, const redisx_options *opts)
{
    REDISX_FFI_REQUIRE(out != NULL, "out is NULL");
    *out = NULL;
    if (opts)
        return redisx__client_open(out, opts);
    redisx_options defaults;
    redisx_status st = redisx__options_init(&defaults);
    if (st != REDISX_OK)
        return st;
    st = redisx__client_open(out, &defaults);
    redisx__options_clear(&defaults);
    return st;
}

redisx_status redisx_client_open_url(redisx_client **out, const char *url)
{
    REDISX_FFI_REQUIRE(out != NULL, "out is NULL");
    *out = NULL;
    REDISX_FFI_REQUIRE(url != NULL, "url is NULL");
    redisx_options o;
    redisx_status st = redisx__options_init(&o);
    if (st != REDISX_OK)
        return st;
    st = redisx__parse_url(&o.ep, url);
    if (st == REDISX_OK)
        st = redisx__client_open(out, &o);
    redisx__options_clear(&o);
    return st;
}

void redisx_client_close(redisx_client *client)
{
    if (client)
        redisx__client_close(client);
}

void redisx_client_shutdown(redisx_client *client)
{
    if (client)
        redisx__client_shutdown(client);
}

redisx_status redisx_cancel(redisx_client *client, void *user)
{
    redisx_status st = redisx__ffi_client(client, 0);
    if (st != REDISX_OK)
        return st;
    return redisx__cancel(client, user);
}

const char *redisx_client_prefix(const redisx_client *client)
{
    return client ? redisx__client_options(client)->prefix : NULL;
}

const char *redisx_client_server_address(const redisx_client *client)
{
    return client ? redisx__client_endpoint(client)->host : NULL;
}

int redisx_client_server_port(const redisx_client *client)
{
    if (!client)
        return -1;
    const redisx__endpoint *ep = redisx__client_endpoint(client);
    return ep->is_unix ? 0 : ep->port;
}

int redisx_client_database(const redisx_client *client)
{
    return client ? redisx__client_endpoint(client)->db : -1;
}

/* ---- raw commands ---- */

typedef struct command_op {
    redisx__req req;
    redisx_client *c;
    redisx_reply_cb cb;
    void *user;
} command_op;

static void command_deliver(command_op *op, redisx_status st, redisx_reply *r)
{
    if (op->cb) {
        op->cb(op->c, st, r, op->user);
    } else {
        redisx_item *it = redisx__completion_item(op->user, st);
        if (it) {
            it->reply = r;
            redisx__queue_push(redisx__client_options(op->c)->queue, it);
        } else {
            redisx__reply_free(r);
        }
    }
}

static void command_reply(redisx__cmd *cmd, redisx_status st, redisx_reply *r)
{
    command_op *op = cmd->ctx;
    redisx__cmd_free(cmd);
    if (!op->req.cancelled) {
        redisx__req_finish(&op->req, st, 0);
        command_deliver(op, st, r);
    } else {
        redisx__reply_free(r); /* delivered as cancelled already */
    }
    free(op);
}

static void command_cancel(redisx__req *req)
{
    command_op *op = (command_op *)req;
    redisx__req_cancelled(req);
    command_deliver(op, REDISX_ERR_CANCELLED, NULL);
}

static redisx_status check_argv(int argc, const char *const *argv)
{
    REDISX_FFI_REQUIRE(argc >= 1 && argc <= 1048576, "argc must be in 1..1048576, got %d", argc);
    REDISX_FFI_REQUIRE(argv != NULL, "argv is NULL");
    for (int i = 0; i < argc; i++)
        REDISX_FFI_REQUIRE(argv[i] != NULL, "argv[%d] is NULL", i);
    return REDISX_OK;
}

redisx_status redisx_command_async(redisx_client *client, int argc, const char *const *argv,
                                   const size_t *argvlen, redisx_reply_cb cb, void *user)
{
    redisx_status st = redisx__ffi_client(client, 0);
    if (st == REDISX_OK)
        st = check_argv(argc, argv);
    if (st == REDISX_OK)
        st = redisx__check_async_target(client, cb != NULL);
    if (st != REDISX_OK)
        return st;
    command_op *op = calloc(1, sizeof *op);
    redisx__cmd *cmd = op ? redisx__cmd_argv(argc, argv, argvlen) : NULL;
    if (!cmd) {
        free(op);
        return redisx__fail(REDISX_ERR_NOMEM, "out of memory formatting the command");
    }
    op->c = client;
    op->cb = cb;
    op->user = user;
    redisx__req_init(&op->req, client, REDISX__OP_COMMAND, NULL);
    redisx__req_cancellable(&op->req, user, command_cancel);
    cmd->fn = command_reply;
    cmd->ctx = op;
    cmd->req = &op->req;
    redisx__submit(client, cmd);
    return REDISX_OK;
}

static void command_wake(redisx_client *c, redisx_status st, redisx_reply *reply, void *user)
{
    (void)c;
    redisx__waiter_signal(user, st, reply);
}

redisx_status redisx_command(redisx_reply **out, redisx_client *client, int argc, const char *const *argv,
                             const size_t *argvlen)
{
    REDISX_FFI_REQUIRE(out != NULL, "out is NULL");
    *out = NULL;
    redisx_status st = redisx__ffi_client(client, 1);
    if (st != REDISX_OK)
        return st;
    redisx__waiter w;
    redisx__waiter_init(&w);
    st = redisx_command_async(client, argc, argv, argvlen, command_wake, &w);
    if (st != REDISX_OK)
        return redisx__waiter_drop(&w, st);
    st = redisx__waiter_wait(&w);
    *out = w.result;
    return st;
}

void redisx_reply_free(redisx_reply *reply)
{
    redisx__reply_free(reply);
}

redisx_reply_type redisx_reply_type_of(const redisx_reply *reply)
{
    return reply ? reply->type : REDISX_REPLY_NIL;
}

int64_t redisx_reply_integer(const redisx_reply *reply)
{
    return reply && reply->type == REDISX_REPLY_INTEGER ? reply->integer : 0;
}

const char *redisx_reply_string(const redisx_reply *reply, size_t *len)
{
    if (!reply || !reply->str) {
        if (len)
            *len = 0;
        return NULL;
    }
    if (len)
        *len = reply->len;
    return reply->str;
}

size_t redisx_reply_elements(const redisx_reply *reply)
{
    return reply && reply->type == REDISX_REPLY_ARRAY ? reply->elements : 0;
}

const redisx_reply *redisx_reply_element(const redisx_reply *reply, size_t i)
{
    return reply && reply->type == REDISX_REPLY_ARRAY && i < reply->elements ? reply->element[i] : NULL;
}

redisx_status redisx_client_stats(redisx_stats **out, redisx_client *client)
{
    REDISX_FFI_REQUIRE(out != NULL, "out is NULL");
    *out = NULL;
    REDISX_FFI_REQUIRE(client != NULL, "client is NULL");
    return redisx__stats_snapshot(out, client);
}
