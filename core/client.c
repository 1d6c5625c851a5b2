/* Client lifetime, command submission, blocking waits, logs and states. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "client_impl.h"
#include "tls.h"

static void *io_main(void *arg)
{
    redisx_client *c = arg;
    redisx__conn_loop(c);
    redisx__conns_free(c);
    pthread_mutex_lock(&c->mu);
    if (c->io_state == REDISX__IO_DETACHED)
        pthread_detach(pthread_self()); /* shut down from a callback: nobody joins */
    pthread_cond_broadcast(&c->io_cv);
    pthread_mutex_unlock(&c->mu);
    redisx__client_unref(c); /* the I/O thread's own reference */
    return NULL;
}

redisx_status redisx__client_open(redisx_client **out, const redisx_options *opts)
{
    redisx_client *c = calloc(1, sizeof *c);
    if (!c)
        return redisx__fail(REDISX_ERR_NOMEM, "out of memory");
    atomic_init(&c->refs, 2); /* the caller's and the I/O thread's */
    c->wake_fd = -1;
    redisx_status st = redisx__options_copy(&c->opts, opts);
    if (st != REDISX_OK) {
        free(c);
        return st;
    }
    st = redisx__endpoint_copy(&c->ep, &opts->ep);
    if (st != REDISX_OK)
        goto fail_opts;
    if (opts->auth_set) {
        free(c->ep.user);
        free(c->ep.password);
        c->ep.user = redisx__strdup(opts->auth_user);
        c->ep.password = redisx__strdup(opts->auth_password);
        if ((opts->auth_user && !c->ep.user) || (opts->auth_password && !c->ep.password)) {
            st = redisx__fail(REDISX_ERR_NOMEM, "out of memory");
            goto fail_ep;
        }
    }
    if (c->ep.user && !c->ep.password) {
        st = redisx__fail(REDISX_ERR_INVALID, "an ACL user needs a password");
        goto fail_ep;
    }
    int tls = opts->tls_set ? opts->tls_on : c->ep.tls;
    if (tls && c->ep.is_unix) {
        st = redisx__fail(REDISX_ERR_INVALID, "TLS over a unix socket is not supported (Redis serves TLS on TCP only)");
        goto fail_ep;
    }
    if (tls) {
        /* Certificates and keys are loaded now: a wrong path fails the open,
         * not every connect. */
        st = redisx__tls_ctx_new(&c->tls_ctx, &c->opts);
        if (st != REDISX_OK)
            goto fail_ep;
        c->tls_name = c->opts.tls_server_name ? c->opts.tls_server_name : c->ep.host;
        if (c->opts.tls_insecure)
            redisx__log(c, REDISX_LOG_WARN,
                        "TLS certificate verification is OFF (redisx_options_set_tls_insecure_skip_verify): "
                        "connections to %s are encrypted but not authenticated",
                        c->ep.host);
    }
    c->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (c->wake_fd < 0) {
        st = redisx__fail(REDISX_ERR_CONNECTION, "eventfd: %s", strerror(errno));
        goto fail_ep;
    }
    c->conn_status = REDISX_ERR_CONNECTION;
    /* A diagnosis switch (and how the tests cover both paths): with
     * REDISX_DIRECT_IO=0 every call is handed to the I/O thread. */
    const char *direct = getenv("REDISX_DIRECT_IO");
    c->direct = !(direct && strcmp(direct, "0") == 0);
    pthread_mutex_init(&c->mu, NULL);
    pthread_mutex_init(&c->stats_mu, NULL);
    pthread_mutex_init(&c->loop_mu, NULL);
    pthread_cond_init(&c->io_cv, NULL);
    st = redisx__conns_init(c);
    if (st != REDISX_OK)
        goto fail_fd;
    int err = pthread_create(&c->io_thread, NULL, io_main, c);
    if (err != 0) {
        redisx__conns_free(c);
        st = redisx__fail(REDISX_ERR_CONNECTION, "cannot start the I/O thread: %s", strerror(err));
        goto fail_fd;
    }
    *out = c;
    return REDISX_OK;
fail_fd:
    pthread_mutex_destroy(&c->mu);
    pthread_mutex_destroy(&c->stats_mu);
    pthread_mutex_destroy(&c->loop_mu);
    pthread_cond_destroy(&c->io_cv);
    close(c->wake_fd);
fail_ep:
    redisx__tls_ctx_free(c->tls_ctx);
    redisx__endpoint_clear(&c->ep);
fail_opts:
    redisx__options_clear(&c->opts);
    free(c);
    return st;
}

void redisx__client_ref(redisx_client *c)
{
    atomic_fetch_add(&c->refs, 1);
}

void redisx__client_unref(redisx_client *c)
{
    if (atomic_fetch_sub(&c->refs, 1) != 1)
        return;
    close(c->wake_fd);
    redisx__named_free_all(c);
    pthread_mutex_destroy(&c->mu);
    pthread_mutex_destroy(&c->stats_mu);
    pthread_mutex_destroy(&c->loop_mu);
    pthread_cond_destroy(&c->io_cv);
    redisx__tls_ctx_free(c->tls_ctx);
    redisx__endpoint_clear(&c->ep);
    redisx__options_clear(&c->opts);
    free(c);
}

void redisx__wake(redisx_client *c)
{
    if (!atomic_exchange(&c->wake_pending, 1)) {
        uint64_t one = 1;
        ssize_t w = write(c->wake_fd, &one, sizeof one);
        (void)w;
    }
}

void redisx__client_shutdown(redisx_client *c)
{
    if (!atomic_exchange(&c->closing, 1))
        redisx__wake(c);
    pthread_mutex_lock(&c->mu);
    if (redisx__in_loop(c)) {
        /* From one of its callbacks (on the I/O thread, or on a caller's
         * thread that holds the loop): waiting would wait for ourselves. */
        if (c->io_state == REDISX__IO_RUNNING)
            c->io_state = REDISX__IO_DETACHED;
        pthread_mutex_unlock(&c->mu);
        return;
    }
    while (c->io_state == REDISX__IO_JOINING) /* another thread joins */
        pthread_cond_wait(&c->io_cv, &c->mu);
    if (c->io_state == REDISX__IO_RUNNING) {
        c->io_state = REDISX__IO_JOINING;
        pthread_mutex_unlock(&c->mu);
        pthread_join(c->io_thread, NULL);
        pthread_mutex_lock(&c->mu);
        c->io_state = REDISX__IO_JOINED;
        pthread_cond_broadcast(&c->io_cv);
    }
    while (!c->io_exited) /* detached: its loop has still to end */
        pthread_cond_wait(&c->io_cv, &c->mu);
    pthread_mutex_unlock(&c->mu);
}

void redisx__client_close(redisx_client *c)
{
    redisx__client_shutdown(c);
    redisx__client_unref(c);
}

bool redisx__client_closing(const redisx_client *c)
{
    return atomic_load(&((redisx_client *)c)->closing) != 0;
}

const redisx_options *redisx__client_options(const redisx_client *c)
{
    return &c->opts;
}

/* Set between redisx__waiter_init and the first submission of the blocking
 * call that owns the waiter: that submission may do its own I/O. */
static _Thread_local int tls_blocking;

void redisx__submit(redisx_client *c, redisx__cmd *cmd)
{
    cmd->client = c;
    cmd->next = NULL;
    /* An operation's first command starts at the operation's start (read
     * once already); later attempts of a waiting one start now. */
    if (cmd->buf && !cmd->deadline)
        cmd->deadline = (cmd->req && cmd->req->round_trips == 0 ? cmd->req->t0 : redisx__now_ns()) +
                        redisx__cmd_timeout_ns(c);
    int blocking = tls_blocking;
    tls_blocking = 0;
    if (cmd->buf && c->direct && redisx__conn_direct(c, cmd, blocking))
        return;
    pthread_mutex_lock(&c->mu);
    if (c->io_exited) {
        pthread_mutex_unlock(&c->mu);
        /* No I/O thread any more: complete here, on the caller's thread. */
        redisx__set_detail("client is closed");
        cmd->fn(cmd, REDISX_ERR_CLOSED, NULL);
        return;
    }
    if (c->sub_tail)
        c->sub_tail->next = cmd;
    else
        c->sub_head = cmd;
    c->sub_tail = cmd;
    pthread_mutex_unlock(&c->mu);
    redisx__wake(c);
}

void redisx__waiter_init(redisx__waiter *w)
{
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    w->done = 0;
    w->status = REDISX_OK;
    w->detail[0] = '\0';
    w->result = NULL;
    tls_blocking = 1;
}

redisx_status redisx__waiter_drop(redisx__waiter *w, redisx_status st)
{
    tls_blocking = 0;
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    return st;
}

void redisx__waiter_signal(redisx__waiter *w, redisx_status st, void *result)
{
    pthread_mutex_lock(&w->mu);
    w->status = st;
    w->result = result;
    redisx__copy_detail(w->detail, sizeof w->detail, st == REDISX_OK ? "" : redisx__last_error_buf);
    w->done = 1;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

redisx_status redisx__waiter_wait(redisx__waiter *w)
{
    tls_blocking = 0;
    pthread_mutex_lock(&w->mu);
    while (!w->done)
        pthread_cond_wait(&w->cv, &w->mu);
    pthread_mutex_unlock(&w->mu);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    redisx__set_detail(w->detail);
    return w->status;
}

void redisx__log(redisx_client *c, redisx_log_level level, const char *fmt, ...)
{
    const redisx_options *o = &c->opts;
    int to_cb = o->log_cb && level >= o->log_level;
    int to_q = o->queue && (o->queue_what & REDISX_QUEUE_LOGS) && level >= o->log_level;
    if (!to_cb && !to_q)
        return;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (to_cb)
        o->log_cb(c, level, msg, o->log_user);
    if (to_q) {
        redisx_item *it = redisx__item_new(REDISX_ITEM_LOG, o->log_user, REDISX_OK, msg);
        if (it) {
            it->level = level;
            redisx__queue_push(o->queue, it);
        }
    }
}

/* The node of the state change being reported on this thread (redisx_state_node). */
static _Thread_local const char *tls_state_node;

const char *redisx__state_node(void)
{
    return tls_state_node;
}

void redisx__emit_state(redisx_client *c, int conn, redisx_conn_state st, const char *detail, const char *node)
{
    const redisx_options *o = &c->opts;
    if (node && !*node)
        node = NULL;
    if (o->state_cb) {
        const char *prev = tls_state_node;
        tls_state_node = node;
        o->state_cb(c, conn, st, detail, o->state_user);
        tls_state_node = prev;
    }
    if (o->queue && (o->queue_what & REDISX_QUEUE_STATES)) {
        redisx_item *it = redisx__item_new(REDISX_ITEM_STATE, o->state_user, REDISX_OK, detail);
        if (it && node && !(it->event_node = redisx__strdup(node))) {
            redisx_item_free(it);
            it = NULL;
        }
        if (it) {
            it->state = st;
            it->connection = conn;
            redisx__queue_push(o->queue, it);
        }
    }
}

redisx_status redisx__check_async_target(const redisx_client *c, int has_cb)
{
    if (has_cb)
        return REDISX_OK;
    if (c->opts.queue)
        return REDISX_OK;
    return redisx__fail(REDISX_ERR_INVALID, "callback is NULL and no queue is attached to the client");
}

/* ---- cancellation ---------------------------------------------------------- */

static void cancel_task(redisx__cmd *cmd, redisx_status st, redisx_reply *r)
{
    (void)r;
    if (st == REDISX_OK)
        redisx__cancel_matching(cmd->client, cmd->ctx);
    redisx__cmd_free(cmd);
}

redisx_status redisx__cancel(redisx_client *c, void *user)
{
    /* A task behind everything this thread submitted before: those
     * operations are tracked by the time it runs. */
    redisx__cmd *task = redisx__cmd_task();
    if (!task)
        return redisx__fail(REDISX_ERR_NOMEM, "out of memory");
    task->fn = cancel_task;
    task->ctx = user;
    redisx__submit(c, task);
    redisx__clear_error();
    return REDISX_OK;
}
