/* The connection layer: the client's I/O thread, its connections, automatic
 * pipelining, timeouts, reconnects, AUTH/SELECT, NOSCRIPT reloads and timers.
 * The only file that includes hiredis (its RESP formatter and reader).
 *
 * Model: callers append commands to the client's submission list and poke an
 * eventfd. The I/O thread moves everything submitted to the least busy
 * serving connection (appending to its write buffer and its FIFO of pending
 * replies), writes each buffer in as few syscalls as the socket allows, and
 * completes commands from replies in order. A command has one deadline, from
 * submission to reply. When the oldest pending command of a connection
 * misses it, the connection is reset: later replies could no longer be
 * matched to their commands, so everything pending there fails with
 * REDISX_ERR_TIMEOUT, and the connection is re-established at once. */
#include <errno.h>
#include <fcntl.h>
#include <hiredis.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "client_impl.h"

#if HIREDIS_MAJOR >= 1
#error "redisx is written against hiredis 0.14; review conn.c before building with hiredis 1.x"
#endif

typedef enum conn_state { CONN_DOWN, CONN_CONNECTING, CONN_HANDSHAKE, CONN_READY } conn_state;

struct redisx__conn {
    int idx;
    int fd;
    conn_state state;
    redisReader *reader;
    char *wbuf;
    size_t wlen, woff, wcap;
    redisx__cmd *pend_head, *pend_tail;
    size_t npend;
    int handshake_left;
    uint64_t connect_deadline;
    uint64_t next_attempt;
    int failures; /* consecutive failed attempts, drives the backoff */
    int ever_connected;
    int is_sub; /* the subscriber connection: pushes, no request FIFO */
    struct addrinfo *ai_list, *ai_cur;
    char endpoint[300];
};

/* ---- commands ---------------------------------------------------------- */

redisx__cmd *redisx__cmd_argv(int argc, const char *const *argv, const size_t *lens)
{
    redisx__cmd *cmd = calloc(1, sizeof *cmd);
    if (!cmd)
        return NULL;
    char *out = NULL;
    int n = redisFormatCommandArgv(&out, argc, (const char **)argv, lens);
    if (n < 0 || !out) {
        free(cmd);
        return NULL;
    }
    cmd->buf = out;
    cmd->len = (size_t)n;
    return cmd;
}

redisx__cmd *redisx__cmd_script(const redisx__script *s, int nkeys, int nargs, const char *const *argv,
                                const size_t *lens)
{
    enum { MAXA = 16 };
    const char *a[MAXA + 3];
    size_t l[MAXA + 3];
    char nk[16];
    if (nkeys + nargs > MAXA)
        return NULL;
    snprintf(nk, sizeof nk, "%d", nkeys);
    a[0] = "EVALSHA";
    l[0] = 7;
    a[1] = s->sha1;
    l[1] = 40;
    a[2] = nk;
    l[2] = strlen(nk);
    for (int i = 0; i < nkeys + nargs; i++) {
        a[3 + i] = argv[i];
        l[3 + i] = lens ? lens[i] : strlen(argv[i]);
    }
    redisx__cmd *cmd = redisx__cmd_argv(3 + nkeys + nargs, a, l);
    if (cmd)
        cmd->script = s;
    return cmd;
}

redisx__cmd *redisx__cmd_task(void)
{
    return calloc(1, sizeof(redisx__cmd));
}

void redisx__cmd_free(redisx__cmd *cmd)
{
    if (!cmd)
        return;
    if (cmd->buf)
        redisFreeCommand(cmd->buf);
    free(cmd);
}

/* ---- replies ----------------------------------------------------------- */

static redisx_reply *convert(const redisReply *r)
{
    redisx_reply *out = calloc(1, sizeof *out);
    if (!out)
        return NULL;
    out->type = (redisx_reply_type)r->type;
    switch (r->type) {
    case REDIS_REPLY_INTEGER:
        out->integer = r->integer;
        break;
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
    case REDIS_REPLY_ERROR:
        out->str = malloc(r->len + 1);
        if (!out->str)
            goto oom;
        memcpy(out->str, r->str, r->len);
        out->str[r->len] = '\0';
        out->len = r->len;
        break;
    case REDIS_REPLY_ARRAY:
        if (r->elements == 0)
            break;
        out->element = calloc(r->elements, sizeof *out->element);
        if (!out->element)
            goto oom;
        for (size_t i = 0; i < r->elements; i++) {
            out->element[i] = convert(r->element[i]);
            out->elements = i + 1;
            if (!out->element[i])
                goto oom;
        }
        break;
    default:
        break;
    }
    return out;
oom:
    redisx__reply_free(out);
    return NULL;
}

/* ---- helpers ----------------------------------------------------------- */

static void complete(redisx__cmd *cmd, redisx_status st, redisx_reply *reply, const char *detail)
{
    redisx__set_detail(st == REDISX_OK ? "" : detail);
    cmd->fn(cmd, st, reply);
}

static void fifo_push(redisx__cmd **head, redisx__cmd **tail, redisx__cmd *cmd)
{
    cmd->next = NULL;
    if (*tail)
        (*tail)->next = cmd;
    else
        *head = cmd;
    *tail = cmd;
}

static redisx__cmd *fifo_pop(redisx__cmd **head, redisx__cmd **tail)
{
    redisx__cmd *cmd = *head;
    if (cmd) {
        *head = cmd->next;
        if (!*head)
            *tail = NULL;
        cmd->next = NULL;
    }
    return cmd;
}

static int wbuf_append(redisx__conn *cn, const char *p, size_t n)
{
    if (cn->woff > 0 && cn->woff == cn->wlen) {
        cn->woff = cn->wlen = 0;
    }
    if (cn->wlen + n > cn->wcap) {
        if (cn->woff > 0) {
            memmove(cn->wbuf, cn->wbuf + cn->woff, cn->wlen - cn->woff);
            cn->wlen -= cn->woff;
            cn->woff = 0;
        }
        if (cn->wlen + n > cn->wcap) {
            size_t cap = cn->wcap ? cn->wcap : 16384;
            while (cap < cn->wlen + n)
                cap *= 2;
            char *nb = realloc(cn->wbuf, cap);
            if (!nb)
                return -1;
            cn->wbuf = nb;
            cn->wcap = cap;
        }
    }
    memcpy(cn->wbuf + cn->wlen, p, n);
    cn->wlen += n;
    return 0;
}

static uint64_t cmd_timeout_ns(const redisx_client *c)
{
    return (uint64_t)c->opts.command_timeout_ms * REDISX__NS_PER_MS;
}

/* Puts a command on a connection: write buffer + FIFO of pending replies. */
static void conn_push(redisx__conn *cn, redisx__cmd *cmd)
{
    if (wbuf_append(cn, cmd->buf, cmd->len) != 0) {
        if (cmd->internal == REDISX__CMD_USER)
            complete(cmd, REDISX_ERR_NOMEM, NULL, "out of memory for the write buffer");
        else
            redisx__cmd_free(cmd);
        return;
    }
    if (cmd->req)
        cmd->req->round_trips++;
    fifo_push(&cn->pend_head, &cn->pend_tail, cmd);
    cn->npend++;
}

static redisx__conn *pick_conn(redisx_client *c)
{
    redisx__conn *best = NULL;
    for (int i = 0; i < c->nconns; i++) {
        redisx__conn *cn = &c->conns[i];
        if (cn->state == CONN_READY && (!best || cn->npend < best->npend))
            best = cn;
    }
    return best;
}

static void dispatch(redisx_client *c, redisx__cmd *cmd)
{
    redisx__conn *cn = pick_conn(c);
    if (cn)
        conn_push(cn, cmd);
    else
        fifo_push(&c->wait_head, &c->wait_tail, cmd);
}

static void emit_state(redisx_client *c, redisx__conn *cn, redisx_conn_state st, const char *detail)
{
    redisx__emit_state(c, cn->idx, st, detail);
}

/* ---- connection lifecycle ---------------------------------------------- */

static uint64_t backoff_ns(const redisx_client *c, int failures)
{
    if (failures <= 0)
        return 0;
    uint64_t d = (uint64_t)c->opts.backoff_min_ms;
    for (int i = 1; i < failures && d < (uint64_t)c->opts.backoff_max_ms; i++)
        d *= 2;
    if (d > (uint64_t)c->opts.backoff_max_ms)
        d = (uint64_t)c->opts.backoff_max_ms;
    d *= REDISX__NS_PER_MS;
    /* Jitter in [d/2, d]: clients that lost the same server spread out. */
    return d / 2 + redisx__rand_below(d / 2 + 1);
}

static void conn_close_fd(redisx__conn *cn)
{
    if (cn->fd >= 0)
        close(cn->fd);
    cn->fd = -1;
    if (cn->reader)
        redisReaderFree(cn->reader);
    cn->reader = NULL;
    cn->wlen = cn->woff = 0;
    if (cn->ai_list)
        freeaddrinfo(cn->ai_list);
    cn->ai_list = cn->ai_cur = NULL;
}

/* Drops the connection: everything pending on it completes with `st`. */
static void conn_reset(redisx_client *c, redisx__conn *cn, redisx_status st, const char *detail)
{
    int was_ready = cn->state == CONN_READY;
    conn_close_fd(cn);
    cn->state = CONN_DOWN;
    redisx__cmd *cmd;
    cn->npend = 0;
    while ((cmd = fifo_pop(&cn->pend_head, &cn->pend_tail))) {
        if (cmd->internal == REDISX__CMD_USER)
            complete(cmd, st, NULL, detail);
        else
            redisx__cmd_free(cmd);
    }
    uint64_t now = redisx__now_ns();
    if (cn->is_sub) {
        /* Lost messages are covered by the waiters' own polling. */
        cn->failures = was_ready ? 0 : cn->failures + 1;
        cn->next_attempt = c->channels ? now + backoff_ns(c, cn->failures) : UINT64_MAX;
        redisx__log(c, REDISX_LOG_INFO, "subscriber connection to %s down: %s", cn->endpoint, detail);
    } else if (was_ready) {
        cn->failures = 0;
        cn->next_attempt = now; /* a dropped connection is retried at once */
        redisx__stats_add_client(c, REDISX_CLIENT_DISCONNECTS, 1);
        redisx__stats_add_client(c, REDISX_CLIENT_CONNECTIONS_UP, -1);
        redisx__log(c, REDISX_LOG_WARN, "connection %d to %s lost: %s", cn->idx, cn->endpoint, detail);
    } else {
        cn->failures++;
        cn->next_attempt = now + backoff_ns(c, cn->failures);
        redisx__stats_add_client(c, REDISX_CLIENT_CONNECT_FAILURES, 1);
        c->conn_status = st == REDISX_ERR_AUTH ? REDISX_ERR_AUTH : REDISX_ERR_CONNECTION;
        snprintf(c->conn_error, sizeof c->conn_error, "%s", detail);
        redisx__log(c, REDISX_LOG_WARN, "connection %d to %s failed: %s", cn->idx, cn->endpoint, detail);
    }
    emit_state(c, cn, REDISX_STATE_DISCONNECTED, detail);
}

static void send_channels(redisx__conn *cn, const char *verb, redisx__channel *list, const char *one);

static void conn_ready(redisx_client *c, redisx__conn *cn)
{
    if (cn->is_sub) {
        cn->state = CONN_READY;
        cn->failures = 0;
        cn->ever_connected = 1;
        redisx__log(c, REDISX_LOG_DEBUG, "subscriber connection to %s ready", cn->endpoint);
        emit_state(c, cn, REDISX_STATE_CONNECTED, cn->endpoint);
        send_channels(cn, "SUBSCRIBE", c->channels, NULL);
        return;
    }
    cn->state = CONN_READY;
    cn->failures = 0;
    cn->ever_connected = 1;
    c->conn_status = REDISX_OK;
    c->conn_error[0] = '\0';
    redisx__stats_add_client(c, REDISX_CLIENT_CONNECTS, 1);
    redisx__stats_add_client(c, REDISX_CLIENT_CONNECTIONS_UP, 1);
    redisx__log(c, REDISX_LOG_INFO, "connection %d to %s ready", cn->idx, cn->endpoint);
    emit_state(c, cn, REDISX_STATE_CONNECTED, cn->endpoint);
    /* Whatever waited for a connection goes out now, oldest first. */
    redisx__cmd *cmd;
    while ((cmd = fifo_pop(&c->wait_head, &c->wait_tail)))
        dispatch(c, cmd);
}

static int push_handshake(redisx__conn *cn, int argc, const char **argv)
{
    redisx__cmd *cmd = redisx__cmd_argv(argc, argv, NULL);
    if (!cmd)
        return -1;
    cmd->internal = REDISX__CMD_HANDSHAKE;
    conn_push(cn, cmd);
    cn->handshake_left++;
    return 0;
}

/* TCP (or unix) connection is up: start AUTH/SELECT, or serve at once. */
static void conn_established(redisx_client *c, redisx__conn *cn)
{
    if (cn->ai_list) {
        freeaddrinfo(cn->ai_list);
        cn->ai_list = cn->ai_cur = NULL;
    }
    if (!c->ep.is_unix) {
        int one = 1;
        setsockopt(cn->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        setsockopt(cn->fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
    }
    cn->reader = redisReaderCreate();
    if (!cn->reader) {
        conn_reset(c, cn, REDISX_ERR_NOMEM, "out of memory");
        return;
    }
    cn->handshake_left = 0;
    int rc = 0;
    if (c->ep.password) {
        if (c->ep.user) {
            const char *a[] = {"AUTH", c->ep.user, c->ep.password};
            rc |= push_handshake(cn, 3, a);
        } else {
            const char *a[] = {"AUTH", c->ep.password};
            rc |= push_handshake(cn, 2, a);
        }
    }
    if (c->ep.db != 0) {
        char db[16];
        snprintf(db, sizeof db, "%d", c->ep.db);
        const char *a[] = {"SELECT", db};
        rc |= push_handshake(cn, 2, a);
    }
    if (rc) {
        conn_reset(c, cn, REDISX_ERR_NOMEM, "out of memory");
        return;
    }
    if (cn->handshake_left == 0)
        conn_ready(c, cn);
    else
        cn->state = CONN_HANDSHAKE;
}

/* Starts a non-blocking connect to cn->ai_cur (TCP) or the unix path.
 * Returns 0 when it is under way or done, -1 with errno on failure. */
static int start_socket(redisx_client *c, redisx__conn *cn)
{
    int fd;
    int rc;
    if (c->ep.is_unix) {
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        snprintf(sa.sun_path, sizeof sa.sun_path, "%s", c->ep.host);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
            return -1;
        rc = connect(fd, (struct sockaddr *)&sa, sizeof sa);
    } else {
        struct addrinfo *ai = cn->ai_cur;
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0)
            return -1;
        rc = connect(fd, ai->ai_addr, ai->ai_addrlen);
    }
    if (rc != 0 && errno != EINPROGRESS && errno != EAGAIN) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    cn->fd = fd;
    cn->state = CONN_CONNECTING;
    if (rc == 0)
        conn_established(c, cn);
    return 0;
}

/* Tries the remaining resolved addresses in turn. */
static void connect_next(redisx_client *c, redisx__conn *cn, const char *why)
{
    char detail[REDISX__DETAIL];
    snprintf(detail, sizeof detail, "%s", why);
    while (cn->ai_cur) {
        if (start_socket(c, cn) == 0)
            return;
        snprintf(detail, sizeof detail, "connect %s: %s", cn->endpoint, strerror(errno));
        cn->ai_cur = cn->ai_cur->ai_next;
    }
    conn_reset(c, cn, REDISX_ERR_CONNECTION, detail);
}

static void conn_start(redisx_client *c, redisx__conn *cn)
{
    if (cn->ever_connected || cn->failures > 0)
        emit_state(c, cn, REDISX_STATE_RECONNECTING, cn->endpoint);
    cn->connect_deadline = redisx__now_ns() + (uint64_t)c->opts.connect_timeout_ms * REDISX__NS_PER_MS;
    if (c->ep.is_unix) {
        if (start_socket(c, cn) != 0) {
            char detail[REDISX__DETAIL];
            snprintf(detail, sizeof detail, "connect %s: %s", cn->endpoint, strerror(errno));
            conn_reset(c, cn, REDISX_ERR_CONNECTION, detail);
        }
        return;
    }
    /* Name resolution blocks this thread; with IP literals (the common case
     * for Redis) it returns at once. */
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    char port[8];
    snprintf(port, sizeof port, "%d", c->ep.port);
    int gai = getaddrinfo(c->ep.host, port, &hints, &cn->ai_list);
    if (gai != 0) {
        char detail[REDISX__DETAIL];
        snprintf(detail, sizeof detail, "resolve %s: %s", c->ep.host, gai_strerror(gai));
        cn->ai_list = NULL;
        conn_reset(c, cn, REDISX_ERR_CONNECTION, detail);
        return;
    }
    cn->ai_cur = cn->ai_list;
    connect_next(c, cn, "no address");
}

static void conn_connect_done(redisx_client *c, redisx__conn *cn)
{
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(cn->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
        err = errno;
    if (err == 0) {
        conn_established(c, cn);
        return;
    }
    char detail[REDISX__DETAIL];
    snprintf(detail, sizeof detail, "connect %s: %s", cn->endpoint, strerror(err));
    close(cn->fd);
    cn->fd = -1;
    if (cn->ai_cur)
        cn->ai_cur = cn->ai_cur->ai_next;
    connect_next(c, cn, detail);
}

/* ---- reading and writing ------------------------------------------------ */

static void send_reload(redisx_client *c, redisx__conn *cn, redisx__cmd *cmd)
{
    const redisx__script *s = cmd->script;
    const char *a[] = {"SCRIPT", "LOAD", s->body};
    size_t l[] = {6, 4, s->len};
    redisx__cmd *load = redisx__cmd_argv(3, a, l);
    if (!load) {
        complete(cmd, REDISX_ERR_NOMEM, NULL, "out of memory");
        return;
    }
    load->internal = REDISX__CMD_RELOAD;
    load->deadline = cmd->deadline;
    cmd->reloaded = 1;
    redisx__stats_add_client(c, REDISX_CLIENT_SCRIPT_RELOADS, 1);
    redisx__log(c, REDISX_LOG_INFO, "script %s missing on the server (NOSCRIPT): reloading", s->name);
    conn_push(cn, load);
    conn_push(cn, cmd);
}

/* A push on the subscriber connection: ["message", channel, payload] or the
 * confirmations of (UN)SUBSCRIBE, which need no answer. */
static void on_push(redisx_client *c, redisReply *r)
{
    if (r->type == REDIS_REPLY_ARRAY && r->elements == 3 && r->element[0]->type == REDIS_REPLY_STRING &&
        r->element[1]->type == REDIS_REPLY_STRING && r->element[0]->len == 7 &&
        memcmp(r->element[0]->str, "message", 7) == 0)
        redisx__on_message(c, r->element[1]->str, r->element[1]->len);
    freeReplyObject(r);
}

/* Returns -1 when the connection was reset. */
static int on_reply(redisx_client *c, redisx__conn *cn, redisReply *r)
{
    if (cn->is_sub && cn->state == CONN_READY) {
        on_push(c, r);
        return 0;
    }
    redisx__cmd *cmd = fifo_pop(&cn->pend_head, &cn->pend_tail);
    if (!cmd) {
        freeReplyObject(r);
        conn_reset(c, cn, REDISX_ERR_PROTOCOL, "reply without a pending command");
        return -1;
    }
    cn->npend--;
    if (cmd->internal == REDISX__CMD_HANDSHAKE) {
        char detail[REDISX__DETAIL] = "";
        if (r->type == REDIS_REPLY_ERROR)
            snprintf(detail, sizeof detail, "handshake with %s refused: %.*s", cn->endpoint, (int)r->len, r->str);
        freeReplyObject(r);
        redisx__cmd_free(cmd);
        if (detail[0]) {
            conn_reset(c, cn, REDISX_ERR_AUTH, detail);
            return -1;
        }
        if (--cn->handshake_left == 0)
            conn_ready(c, cn);
        return 0;
    }
    if (cmd->internal == REDISX__CMD_RELOAD) {
        if (r->type == REDIS_REPLY_ERROR)
            redisx__log(c, REDISX_LOG_ERROR, "SCRIPT LOAD failed: %.*s", (int)r->len, r->str);
        freeReplyObject(r);
        redisx__cmd_free(cmd);
        return 0;
    }
    if (cmd->script && !cmd->reloaded && r->type == REDIS_REPLY_ERROR && r->len >= 8 &&
        memcmp(r->str, "NOSCRIPT", 8) == 0) {
        freeReplyObject(r);
        send_reload(c, cn, cmd);
        return 0;
    }
    redisx_reply *rep = convert(r);
    freeReplyObject(r);
    if (!rep)
        complete(cmd, REDISX_ERR_NOMEM, NULL, "out of memory for a reply");
    else
        complete(cmd, REDISX_OK, rep, "");
    return 0;
}

static void conn_read(redisx_client *c, redisx__conn *cn)
{
    char buf[65536];
    for (;;) {
        ssize_t n = recv(cn->fd, buf, sizeof buf, 0);
        if (n == 0) {
            conn_reset(c, cn, REDISX_ERR_CONNECTION, "server closed the connection");
            return;
        }
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return;
            char detail[REDISX__DETAIL];
            snprintf(detail, sizeof detail, "read from %s: %s", cn->endpoint, strerror(errno));
            conn_reset(c, cn, REDISX_ERR_CONNECTION, detail);
            return;
        }
        if (redisReaderFeed(cn->reader, buf, (size_t)n) != REDIS_OK) {
            conn_reset(c, cn, REDISX_ERR_PROTOCOL, "protocol error");
            return;
        }
        for (;;) {
            void *reply = NULL;
            if (redisReaderGetReply(cn->reader, &reply) != REDIS_OK) {
                char detail[REDISX__DETAIL];
                snprintf(detail, sizeof detail, "protocol error: %s", cn->reader->errstr);
                conn_reset(c, cn, REDISX_ERR_PROTOCOL, detail);
                return;
            }
            if (!reply)
                break;
            if (on_reply(c, cn, reply) != 0)
                return;
        }
        if ((size_t)n < sizeof buf)
            return;
    }
}

static void conn_write(redisx_client *c, redisx__conn *cn)
{
    while (cn->woff < cn->wlen) {
        ssize_t n = send(cn->fd, cn->wbuf + cn->woff, cn->wlen - cn->woff, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return;
            char detail[REDISX__DETAIL];
            snprintf(detail, sizeof detail, "write to %s: %s", cn->endpoint, strerror(errno));
            conn_reset(c, cn, REDISX_ERR_CONNECTION, detail);
            return;
        }
        cn->woff += (size_t)n;
    }
    cn->woff = cn->wlen = 0;
    /* Do not keep a huge buffer after a burst. */
    if (cn->wcap > (1u << 20)) {
        free(cn->wbuf);
        cn->wbuf = NULL;
        cn->wcap = 0;
    }
}

/* ---- timers (binary min-heap, I/O thread only) --------------------------- */

static int timer_less(const redisx__timer *a, const redisx__timer *b)
{
    return a->due < b->due || (a->due == b->due && a->seq < b->seq);
}

redisx_status redisx__timer_add(redisx_client *c, uint64_t due, redisx__timer_fn fn, void *ctx, uint64_t arg)
{
    if (c->ntimers == c->timer_cap) {
        size_t cap = c->timer_cap ? c->timer_cap * 2 : 64;
        redisx__timer *t = realloc(c->timers, cap * sizeof *t);
        if (!t)
            return redisx__fail(REDISX_ERR_NOMEM, "out of memory for a timer");
        c->timers = t;
        c->timer_cap = cap;
    }
    size_t i = c->ntimers++;
    c->timers[i] = (redisx__timer){due, c->timer_seq++, fn, ctx, arg};
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!timer_less(&c->timers[i], &c->timers[p]))
            break;
        redisx__timer t = c->timers[i];
        c->timers[i] = c->timers[p];
        c->timers[p] = t;
        i = p;
    }
    return REDISX_OK;
}

static redisx__timer timer_pop(redisx_client *c)
{
    redisx__timer top = c->timers[0];
    c->timers[0] = c->timers[--c->ntimers];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < c->ntimers && timer_less(&c->timers[l], &c->timers[m]))
            m = l;
        if (r < c->ntimers && timer_less(&c->timers[r], &c->timers[m]))
            m = r;
        if (m == i)
            break;
        redisx__timer t = c->timers[i];
        c->timers[i] = c->timers[m];
        c->timers[m] = t;
        i = m;
    }
    return top;
}

static void run_timers(redisx_client *c, uint64_t now)
{
    while (c->ntimers > 0 && (c->closing_seen || c->timers[0].due <= now)) {
        redisx__timer t = timer_pop(c);
        t.fn(c, t.ctx, t.arg, c->closing_seen);
    }
}

/* ---- the loop ----------------------------------------------------------- */

static void take_submissions(redisx_client *c)
{
    uint64_t v;
    atomic_store(&c->wake_pending, 0);
    ssize_t r = read(c->wake_fd, &v, sizeof v);
    (void)r;
    pthread_mutex_lock(&c->mu);
    redisx__cmd *list = c->sub_head;
    c->sub_head = c->sub_tail = NULL;
    pthread_mutex_unlock(&c->mu);
    while (list) {
        redisx__cmd *cmd = list;
        list = list->next;
        cmd->next = NULL;
        if (!cmd->buf)
            complete(cmd, c->closing_seen ? REDISX_ERR_CLOSED : REDISX_OK, NULL, "client is closing");
        else if (c->closing_seen)
            complete(cmd, REDISX_ERR_CLOSED, NULL, "client is closing");
        else
            dispatch(c, cmd);
    }
}

static void expire_waiting(redisx_client *c, uint64_t now)
{
    while (c->wait_head && (c->closing_seen || c->wait_head->deadline <= now)) {
        redisx__cmd *cmd = fifo_pop(&c->wait_head, &c->wait_tail);
        char detail[REDISX__DETAIL + 512];
        if (c->closing_seen) {
            complete(cmd, REDISX_ERR_CLOSED, NULL, "client closed before a connection was available");
            continue;
        }
        snprintf(detail, sizeof detail, "no connection to %s within %lld ms%s%s", c->conns[0].endpoint,
                 (long long)c->opts.command_timeout_ms, c->conn_error[0] ? ": " : " (still connecting)",
                 c->conn_error);
        complete(cmd, c->conn_status == REDISX_ERR_AUTH ? REDISX_ERR_AUTH : REDISX_ERR_CONNECTION, NULL, detail);
    }
}

static void check_conn_deadlines(redisx_client *c, redisx__conn *cn, uint64_t now)
{
    if ((cn->state == CONN_CONNECTING || cn->state == CONN_HANDSHAKE) && now >= cn->connect_deadline) {
        char detail[REDISX__DETAIL];
        snprintf(detail, sizeof detail, "connect %s: timed out after %lld ms", cn->endpoint,
                 (long long)c->opts.connect_timeout_ms);
        conn_reset(c, cn, REDISX_ERR_CONNECTION, detail);
        return;
    }
    if (cn->state == CONN_READY) {
        /* Handshake commands carry no deadline of their own (deadline 0). */
        redisx__cmd *head = cn->pend_head;
        if (head && head->deadline && now >= head->deadline) {
            char detail[REDISX__DETAIL];
            snprintf(detail, sizeof detail, "no reply from %s within %lld ms; connection reset", cn->endpoint,
                     (long long)c->opts.command_timeout_ms);
            conn_reset(c, cn, REDISX_ERR_TIMEOUT, detail);
        }
    }
}

static int user_pending(const redisx_client *c)
{
    if (c->wait_head || c->ntimers > 0)
        return 1;
    for (int i = 0; i < c->nconns; i++)
        for (redisx__cmd *cmd = c->conns[i].pend_head; cmd; cmd = cmd->next)
            if (cmd->internal == REDISX__CMD_USER)
                return 1;
    return 0;
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

void redisx__conn_loop(redisx_client *c)
{
    struct pollfd *pfd = calloc((size_t)c->nconns + 2, sizeof *pfd);
    if (!pfd) {
        redisx__log(c, REDISX_LOG_ERROR, "out of memory starting the I/O loop");
        return;
    }
    for (;;) {
        if (!c->closing_seen && atomic_load(&c->closing)) {
            c->closing_seen = 1;
            redisx__log(c, REDISX_LOG_DEBUG, "closing: cancelling waits and renewals");
        }
        take_submissions(c);
        uint64_t now = redisx__now_ns();
        run_timers(c, now);
        expire_waiting(c, now);

        for (int i = 0; i <= c->nconns; i++) {
            redisx__conn *cn = &c->conns[i];
            if (cn->state == CONN_DOWN && !c->closing_seen && now >= cn->next_attempt)
                conn_start(c, cn);
            check_conn_deadlines(c, cn, now);
            if (cn->fd >= 0 && cn->state != CONN_CONNECTING && cn->woff < cn->wlen)
                conn_write(c, cn);
        }

        if (c->closing_seen && !user_pending(c)) {
            pthread_mutex_lock(&c->mu);
            int more = c->sub_head != NULL;
            if (!more)
                c->io_exited = 1;
            pthread_mutex_unlock(&c->mu);
            if (!more)
                break;
            continue;
        }

        /* Sleep until something is readable/writable or the next deadline. */
        now = redisx__now_ns();
        uint64_t wake = now + 1000 * REDISX__NS_PER_MS;
        if (c->ntimers > 0)
            wake = min_u64(wake, c->timers[0].due);
        if (c->wait_head)
            wake = min_u64(wake, c->wait_head->deadline);
        int n = 0;
        pfd[n++] = (struct pollfd){.fd = c->wake_fd, .events = POLLIN};
        for (int i = 0; i <= c->nconns; i++) {
            redisx__conn *cn = &c->conns[i];
            if (cn->state == CONN_DOWN) {
                if (!c->closing_seen)
                    wake = min_u64(wake, cn->next_attempt);
                continue;
            }
            short ev = POLLIN;
            if (cn->state == CONN_CONNECTING || cn->woff < cn->wlen)
                ev |= POLLOUT;
            pfd[n++] = (struct pollfd){.fd = cn->fd, .events = ev};
            if (cn->state != CONN_READY)
                wake = min_u64(wake, cn->connect_deadline);
            else if (cn->pend_head && cn->pend_head->deadline)
                wake = min_u64(wake, cn->pend_head->deadline);
        }
        int timeout_ms = wake <= now ? 0 : (int)((wake - now + REDISX__NS_PER_MS - 1) / REDISX__NS_PER_MS);
        int rc = poll(pfd, (nfds_t)n, timeout_ms);
        if (rc < 0 && errno != EINTR) {
            redisx__log(c, REDISX_LOG_ERROR, "poll: %s", strerror(errno));
            continue;
        }
        if (rc <= 0)
            continue;
        /* pfd[1..] follow the connections that were not DOWN, in order. */
        int k = 1;
        for (int i = 0; i <= c->nconns && k < n; i++) {
            redisx__conn *cn = &c->conns[i];
            if (cn->fd != pfd[k].fd)
                continue;
            short re = pfd[k++].revents;
            if (!re)
                continue;
            if (cn->state == CONN_CONNECTING) {
                if (re & (POLLOUT | POLLERR | POLLHUP))
                    conn_connect_done(c, cn);
                continue;
            }
            if (re & (POLLIN | POLLERR | POLLHUP))
                conn_read(c, cn);
            if (cn->fd >= 0 && (re & POLLOUT))
                conn_write(c, cn);
        }
    }
    free(pfd);
}

/* ---- set-up and tear-down (called by client.c) --------------------------- */

redisx_status redisx__conns_init(redisx_client *c)
{
    c->nconns = c->opts.connections;
    c->conns = calloc((size_t)c->nconns + 1, sizeof *c->conns);
    if (!c->conns)
        return redisx__fail(REDISX_ERR_NOMEM, "out of memory");
    for (int i = 0; i <= c->nconns; i++) {
        redisx__conn *cn = &c->conns[i];
        cn->idx = i;
        cn->fd = -1;
        cn->state = CONN_DOWN;
        cn->is_sub = i == c->nconns;
        if (cn->is_sub)
            cn->next_attempt = UINT64_MAX; /* dormant until a subscription */
        if (c->ep.is_unix)
            snprintf(cn->endpoint, sizeof cn->endpoint, "%s", c->ep.host);
        else if (strchr(c->ep.host, ':'))
            snprintf(cn->endpoint, sizeof cn->endpoint, "[%s]:%d", c->ep.host, c->ep.port);
        else
            snprintf(cn->endpoint, sizeof cn->endpoint, "%s:%d", c->ep.host, c->ep.port);
    }
    return REDISX_OK;
}

void redisx__conns_free(redisx_client *c)
{
    while (c->channels) {
        redisx__channel *ch = c->channels;
        c->channels = ch->next;
        free(ch);
    }
    for (int i = 0; i <= c->nconns; i++) {
        redisx__conn *cn = &c->conns[i];
        if (cn->state == CONN_READY && !cn->is_sub)
            redisx__stats_add_client(c, REDISX_CLIENT_CONNECTIONS_UP, -1);
        conn_close_fd(cn);
        redisx__cmd *cmd;
        while ((cmd = fifo_pop(&cn->pend_head, &cn->pend_tail)))
            redisx__cmd_free(cmd); /* only internal commands remain here */
        free(cn->wbuf);
    }
    free(c->conns);
    c->conns = NULL;
    free(c->timers);
    c->timers = NULL;
}

uint64_t redisx__cmd_timeout_ns(const redisx_client *c)
{
    return cmd_timeout_ns(c);
}

/* ---- pub/sub ---------------------------------------------------------------- */

static redisx__conn *sub_conn(redisx_client *c)
{
    return &c->conns[c->nconns];
}

/* One (UN)SUBSCRIBE for `one`, or for every channel of `list`. */
static void send_channels(redisx__conn *cn, const char *verb, redisx__channel *list, const char *one)
{
    int n = one ? 1 : 0;
    for (redisx__channel *ch = list; !one && ch; ch = ch->next)
        n++;
    if (n == 0)
        return;
    const char **argv = calloc((size_t)n + 1, sizeof *argv);
    if (!argv)
        return; /* waiters still poll */
    argv[0] = verb;
    int i = 1;
    if (one)
        argv[i++] = one;
    for (redisx__channel *ch = list; !one && ch; ch = ch->next)
        argv[i++] = ch->name;
    char *out = NULL;
    int len = redisFormatCommandArgv(&out, n + 1, argv, NULL);
    if (len > 0 && out)
        wbuf_append(cn, out, (size_t)len);
    if (out)
        redisFreeCommand(out);
    free(argv);
}

void redisx__subscribe(redisx_client *c, const char *channel)
{
    for (redisx__channel *ch = c->channels; ch; ch = ch->next) {
        if (strcmp(ch->name, channel) == 0) {
            ch->refs++;
            return;
        }
    }
    size_t n = strlen(channel) + 1;
    redisx__channel *ch = malloc(sizeof *ch + n);
    if (!ch)
        return; /* waiters still poll */
    memcpy(ch->name, channel, n);
    ch->refs = 1;
    ch->next = c->channels;
    c->channels = ch;
    redisx__conn *cn = sub_conn(c);
    if (cn->state == CONN_READY)
        send_channels(cn, "SUBSCRIBE", NULL, channel);
    else if (cn->state == CONN_DOWN && cn->next_attempt == UINT64_MAX)
        cn->next_attempt = redisx__now_ns(); /* first use: connect now */
}

void redisx__unsubscribe(redisx_client *c, const char *channel)
{
    for (redisx__channel **pp = &c->channels; *pp; pp = &(*pp)->next) {
        redisx__channel *ch = *pp;
        if (strcmp(ch->name, channel) != 0)
            continue;
        if (--ch->refs > 0)
            return;
        *pp = ch->next;
        redisx__conn *cn = sub_conn(c);
        if (cn->state == CONN_READY)
            send_channels(cn, "UNSUBSCRIBE", NULL, ch->name);
        free(ch);
        return;
    }
}

void redisx__chan_wait(redisx_client *c, redisx__chan_waiter *w)
{
    if (w->linked)
        return;
    w->prev = NULL;
    w->next = c->waiters;
    if (c->waiters)
        c->waiters->prev = w;
    c->waiters = w;
    w->linked = 1;
    redisx__subscribe(c, w->channel);
}

void redisx__chan_unwait(redisx_client *c, redisx__chan_waiter *w)
{
    if (!w->linked)
        return;
    if (w->prev)
        w->prev->next = w->next;
    else
        c->waiters = w->next;
    if (w->next)
        w->next->prev = w->prev;
    w->linked = 0;
    redisx__unsubscribe(c, w->channel);
}

void redisx__on_message(redisx_client *c, const char *channel, size_t len)
{
    redisx__chan_waiter *w = c->waiters;
    while (w) {
        redisx__chan_waiter *next = w->next; /* w may leave the list in wake */
        if (strlen(w->channel) == len && memcmp(w->channel, channel, len) == 0)
            w->wake(w);
        w = next;
    }
}

/* ---- fuzzing and tests: the reply path without a socket ---- */

redisx_status redisx__replies_from_resp(const char *bytes, size_t len, size_t chunk,
                                        void (*each)(redisx_reply *r, void *u), void *u)
{
    /* The same reader and converter as conn_read() and on_reply(), fed as
     * recv() would have delivered the bytes. */
    redisReader *rd = redisReaderCreate();
    if (!rd)
        return redisx__fail(REDISX_ERR_NOMEM, "out of memory");
    if (chunk == 0 || chunk > len)
        chunk = len ? len : 1;
    redisx_status st = REDISX_OK;
    for (size_t off = 0; off < len && st == REDISX_OK;) {
        size_t n = len - off < chunk ? len - off : chunk;
        if (redisReaderFeed(rd, bytes + off, n) != REDIS_OK) {
            st = redisx__fail(REDISX_ERR_PROTOCOL, "protocol error: %s", rd->errstr);
            break;
        }
        off += n;
        for (;;) {
            void *reply = NULL;
            if (redisReaderGetReply(rd, &reply) != REDIS_OK) {
                st = redisx__fail(REDISX_ERR_PROTOCOL, "protocol error: %s", rd->errstr);
                break;
            }
            if (!reply)
                break;
            redisx_reply *rep = convert(reply);
            freeReplyObject(reply);
            if (!rep) {
                st = redisx__fail(REDISX_ERR_NOMEM, "out of memory for a reply");
                break;
            }
            each(rep, u);
        }
    }
    /* A connection would wait for the rest; here nothing more comes. The
     * reader keeps its root task set up (ridx 0, type -1) after a call that
     * found no bytes: that is not a reply begun. */
#if HIREDIS_MAJOR >= 1
    int begun = rd->ridx > 0 || (rd->ridx == 0 && rd->task[0]->type >= 0);
#else
    int begun = rd->ridx > 0 || (rd->ridx == 0 && rd->rstack[0].type >= 0);
#endif
    if (st == REDISX_OK && (begun || rd->pos < rd->len))
        st = redisx__fail(REDISX_ERR_PROTOCOL, "truncated reply: %zu bytes left unparsed", rd->len - rd->pos);
    redisReaderFree(rd);
    return st;
}
