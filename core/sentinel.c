/* Redis Sentinel: the master's address from the sentinels (sentinel.h,
 * docs/SENTINEL.md). One short exchange per sentinel on a thread of its
 * own: connect, TLS if the client speaks it, AUTH when the sentinels have a
 * password, SENTINEL get-master-addr-by-name. RESP is formatted and read
 * through conn.c's helpers (redisx__cmd_argv, redisx__replies_from_resp),
 * so hiredis stays in conn.c. */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sentinel.h"
#include "tls.h"

struct redisx__sentinel_query {
    pthread_mutex_t mu;
    int refs; /* the client's and the thread's */
    int done;
    int abandoned; /* the client let go: do not wake it */
    redisx_client *client; /* valid while !abandoned */
    /* Inputs: copies, the lookup may outlive the client. */
    char *master;
    char *user, *password;
    size_t n, first;
    struct redisx__seed *sentinels;
    int64_t timeout_ms;
    redisx__tls_ctx *tls; /* the query's own (NULL: plain) */
    const char *tls_name; /* in the options copy below, or NULL */
    char *tls_name_copy;
    /* The watcher (redisx__sentinel_watch_*): an eventfd that stop()
     * writes, whether it is subscribed (and to which sentinel), and the
     * last +switch-master for our master not yet taken. */
    int stop_fd;
    int subscribed, switched;
    char sub_to[300];
    /* Output. */
    int ok;
    char host[256];
    int port;
    size_t which;
    char detail[REDISX__DETAIL];
};

static void query_free(redisx__sentinel_query *q)
{
    for (size_t i = 0; q->sentinels && i < q->n; i++)
        free(q->sentinels[i].host);
    free(q->sentinels);
    free(q->master);
    free(q->user);
    free(q->password);
    free(q->tls_name_copy);
    redisx__tls_ctx_free(q->tls);
    if (q->stop_fd >= 0)
        close(q->stop_fd);
    pthread_mutex_destroy(&q->mu);
    free(q);
}

static void unref_locked(redisx__sentinel_query *q)
{
    int last = --q->refs == 0;
    pthread_mutex_unlock(&q->mu);
    if (last)
        query_free(q);
}

/* Waits until fd is ready for `events` or the deadline passes: 0 or -1. */
static int wait_fd(int fd, short events, uint64_t deadline)
{
    for (;;) {
        uint64_t now = redisx__now_ns();
        if (now >= deadline)
            return -1;
        int ms = (int)((deadline - now + REDISX__NS_PER_MS - 1) / REDISX__NS_PER_MS);
        struct pollfd p = {.fd = fd, .events = events};
        int rc = poll(&p, 1, ms);
        if (rc > 0)
            return 0;
        if (rc < 0 && errno != EINTR)
            return -1;
    }
}

/* One sentinel's connection for one exchange. */
typedef struct sentinel_link {
    int fd;
    redisx__tls *tls;
    uint64_t deadline;
    char *why;
    size_t wcap;
} sentinel_link;

static int link_connect(sentinel_link *l, redisx__sentinel_query *q, const struct redisx__seed *s)
{
    char port[8];
    snprintf(port, sizeof port, "%d", s->port);
    const struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    struct addrinfo *list = NULL;
    int gai = redisx__resolve_hook ? redisx__resolve_hook(s->host, port, &hints, &list)
                                   : getaddrinfo(s->host, port, &hints, &list);
    if (gai != 0) {
        snprintf(l->why, l->wcap, "resolve %s: %s", s->host, gai == EAI_SYSTEM ? strerror(errno) : gai_strerror(gai));
        return -1;
    }
    snprintf(l->why, l->wcap, "no address");
    for (struct addrinfo *ai = list; ai; ai = ai->ai_next) {
        int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) {
            snprintf(l->why, l->wcap, "socket: %s", strerror(errno));
            continue;
        }
        int rc = connect(fd, ai->ai_addr, ai->ai_addrlen);
        int err = rc == 0 ? 0 : errno;
        if (rc != 0 && (err == EINPROGRESS || err == EAGAIN)) {
            if (wait_fd(fd, POLLOUT, l->deadline) != 0) {
                err = ETIMEDOUT;
            } else {
                socklen_t len = sizeof err;
                if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
                    err = errno;
            }
        }
        if (err == 0) {
            l->fd = fd;
            break;
        }
        snprintf(l->why, l->wcap, "connect: %s", err == ETIMEDOUT ? "timed out" : strerror(err));
        close(fd);
    }
    freeaddrinfo(list);
    if (l->fd < 0)
        return -1;
    if (!q->tls)
        return 0;
    l->tls = redisx__tls_new(q->tls, l->fd, q->tls_name ? q->tls_name : s->host, l->why, l->wcap);
    if (!l->tls)
        return -1;
    for (;;) {
        short want = POLLIN;
        int r = redisx__tls_handshake(l->tls, &want, l->why, l->wcap);
        if (r > 0)
            return 0;
        if (r < 0)
            return -1;
        if (wait_fd(l->fd, want, l->deadline) != 0) {
            snprintf(l->why, l->wcap, "TLS handshake: timed out");
            return -1;
        }
    }
}

static int link_send(sentinel_link *l, const char *buf, size_t len)
{
    size_t off = 0;
    while (off < len) {
        short want = POLLOUT;
        ssize_t w = l->tls ? redisx__tls_send(l->tls, buf + off, len - off, &want, l->why, l->wcap)
                           : send(l->fd, buf + off, len - off, MSG_NOSIGNAL);
        if (w > 0) {
            off += (size_t)w;
            continue;
        }
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
            if (wait_fd(l->fd, want, l->deadline) != 0) {
                snprintf(l->why, l->wcap, "send: timed out");
                return -1;
            }
            continue;
        }
        if (!l->tls)
            snprintf(l->why, l->wcap, "send: %s", strerror(errno));
        return -1;
    }
    return 0;
}

typedef struct collected {
    redisx_reply *r[2];
    size_t n;
} collected;

static void collect(redisx_reply *r, void *u)
{
    collected *c = u;
    if (c->n < 2)
        c->r[c->n++] = r;
    else
        redisx__reply_free(r);
}

static void collected_clear(collected *c)
{
    for (size_t i = 0; i < c->n; i++)
        redisx__reply_free(c->r[i]);
    c->n = 0;
}

/* Reads until `want` replies are complete. */
static int link_read(sentinel_link *l, size_t want, collected *out)
{
    char *buf = NULL;
    size_t len = 0, cap = 0;
    int rc = -1;
    for (;;) {
        if (cap - len < 4096) {
            if (cap >= 65536) {
                snprintf(l->why, l->wcap, "reply longer than 64 KiB");
                break;
            }
            char *nb = realloc(buf, cap + 8192);
            if (!nb) {
                snprintf(l->why, l->wcap, "out of memory");
                break;
            }
            buf = nb;
            cap += 8192;
        }
        short wanted = POLLIN;
        ssize_t n = l->tls ? redisx__tls_recv(l->tls, buf + len, cap - len, &wanted, l->why, l->wcap)
                           : recv(l->fd, buf + len, cap - len, 0);
        /* Dropped before any byte: the usual TLS mix-ups. */
        const char *hint = len ? ""
                           : l->tls ? " (right after the TLS handshake: does it require a client certificate?)"
                                    : " (a TLS-only port? then use rediss+sentinel://)";
        if (n == 0) {
            snprintf(l->why, l->wcap, "connection closed before the answer%s", hint);
            break;
        }
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
                if (wait_fd(l->fd, wanted, l->deadline) != 0) {
                    snprintf(l->why, l->wcap, "no answer within the connect timeout");
                    break;
                }
                continue;
            }
            if (!l->tls)
                snprintf(l->why, l->wcap, "recv: %s%s", strerror(errno), hint);
            break;
        }
        len += (size_t)n;
        collected_clear(out);
        /* An incomplete tail reads as a protocol error: read on for it. */
        (void)redisx__replies_from_resp(buf, len, 0, collect, out);
        if (out->n >= want) {
            rc = 0;
            break;
        }
    }
    free(buf);
    return rc;
}

static void link_close(sentinel_link *l)
{
    redisx__tls_free(l->tls);
    if (l->fd >= 0)
        close(l->fd);
}

/* Appends one command's RESP to *buf. */
static int append_cmd(char **buf, size_t *len, int argc, const char *const *argv)
{
    redisx__cmd *cmd = redisx__cmd_argv(argc, argv, NULL);
    if (!cmd)
        return -1;
    char *nb = realloc(*buf, *len + cmd->len);
    if (!nb) {
        redisx__cmd_free(cmd);
        return -1;
    }
    memcpy(nb + *len, cmd->buf, cmd->len);
    *buf = nb;
    *len += cmd->len;
    redisx__cmd_free(cmd);
    return 0;
}

/* Asks one sentinel: 1 with q->host/port, 0 when it does not know the
 * master, -1 when it cannot be asked (why says so). */
static int ask_one(redisx__sentinel_query *q, const struct redisx__seed *s, char *why, size_t wcap)
{
    sentinel_link l = {.fd = -1, .deadline = redisx__now_ns() + (uint64_t)q->timeout_ms * REDISX__NS_PER_MS,
              .why = why, .wcap = wcap};
    collected got = {0};
    char *req = NULL;
    size_t rlen = 0;
    int rc = -1;
    int nauth = q->password ? 1 : 0;
    if (link_connect(&l, q, s) != 0)
        goto out;
    int bad = 0;
    if (q->password && q->user) {
        const char *a[] = {"AUTH", q->user, q->password};
        bad |= append_cmd(&req, &rlen, 3, a);
    } else if (q->password) {
        const char *a[] = {"AUTH", q->password};
        bad |= append_cmd(&req, &rlen, 2, a);
    }
    const char *g[] = {"SENTINEL", "get-master-addr-by-name", q->master};
    bad |= append_cmd(&req, &rlen, 3, g);
    if (bad) {
        snprintf(why, wcap, "out of memory");
        goto out;
    }
    if (link_send(&l, req, rlen) != 0 || link_read(&l, (size_t)nauth + 1, &got) != 0)
        goto out;
    if (nauth && got.r[0]->type == REDISX_REPLY_ERROR) {
        snprintf(why, wcap, "AUTH refused: %.*s (see redisx_options_set_sentinel_auth)", (int)got.r[0]->len,
                 got.r[0]->str);
        goto out;
    }
    redisx_reply *r = got.r[nauth];
    if (r->type == REDISX_REPLY_NIL) {
        snprintf(why, wcap, "does not know master '%s'", q->master);
        rc = 0;
        goto out;
    }
    if (r->type == REDISX_REPLY_ERROR) {
        int auth = strncmp(r->str, "NOAUTH", 6) == 0 || strncmp(r->str, "WRONGPASS", 9) == 0;
        snprintf(why, wcap, "%.300s%s", r->str,
                 auth ? " (the sentinels' own password: redisx_options_set_sentinel_auth)" : "");
        goto out;
    }
    long port = 0;
    char *end = NULL;
    if (r->type == REDISX_REPLY_ARRAY && r->elements == 2 && r->element[0]->type == REDISX_REPLY_STRING &&
        r->element[1]->type == REDISX_REPLY_STRING && r->element[0]->len > 0 && r->element[0]->len < sizeof q->host) {
        port = strtol(r->element[1]->str, &end, 10);
        if (end == r->element[1]->str || *end || port < 1 || port > 65535)
            port = 0;
    }
    if (port == 0) {
        snprintf(why, wcap, "answered something other than [host, port]");
        goto out;
    }
    memcpy(q->host, r->element[0]->str, r->element[0]->len + 1);
    q->port = (int)port;
    rc = 1;
out:
    free(req);
    collected_clear(&got);
    link_close(&l);
    return rc;
}

static void *query_main(void *arg)
{
    redisx__sentinel_query *q = arg;
    char detail[REDISX__DETAIL - 320] = ""; /* room for the rest of the message */
    size_t used = 0;
    int unknown = 0, ok = 0;
    for (size_t i = 0; i < q->n && !ok; i++) {
        size_t k = (q->first + i) % q->n;
        const struct redisx__seed *s = &q->sentinels[k];
        char why[400];
        int r = ask_one(q, s, why, sizeof why);
        if (r == 1) {
            ok = 1;
            q->which = k;
            break;
        }
        unknown += r == 0;
        int v6 = strchr(s->host, ':') != NULL;
        int w = snprintf(detail + used, sizeof detail - used, "%s%s%s%s:%d: %s", used ? "; " : "", v6 ? "[" : "",
                         s->host, v6 ? "]" : "", s->port, why);
        if (w > 0)
            used = used + (size_t)w < sizeof detail ? used + (size_t)w : sizeof detail - 1;
    }
    pthread_mutex_lock(&q->mu);
    q->ok = ok;
    if (!ok)
        snprintf(q->detail, sizeof q->detail, "%s for master '%s' (%zu sentinel%s asked): %.690s",
                 unknown == (int)q->n ? "no sentinel knows the master" : "no sentinel gave the address", q->master,
                 q->n, q->n == 1 ? "" : "s", detail);
    q->done = 1;
    if (!q->abandoned)
        redisx__wake(q->client); /* the client lives until it lets go */
    unref_locked(q);
    return NULL;
}

static redisx__sentinel_query *query_new(redisx_client *c, const redisx_options *o, const redisx__endpoint *ep,
                                         int tls, size_t first)
{
    redisx__sentinel_query *q = calloc(1, sizeof *q);
    if (!q) {
        redisx__fail(REDISX_ERR_NOMEM, "out of memory");
        return NULL;
    }
    q->stop_fd = -1;
    pthread_mutex_init(&q->mu, NULL);
    q->refs = 2;
    q->client = c;
    q->n = ep->nsentinels;
    q->first = ep->nsentinels ? first % ep->nsentinels : 0;
    q->timeout_ms = o->connect_timeout_ms;
    q->master = redisx__strdup(ep->master_name);
    q->user = redisx__strdup(o->sentinel_user);
    q->password = redisx__strdup(o->sentinel_password);
    q->sentinels = calloc(q->n ? q->n : 1, sizeof *q->sentinels);
    int bad = !q->master || (o->sentinel_user && !q->user) || (o->sentinel_password && !q->password) ||
              !q->sentinels;
    for (size_t i = 0; !bad && i < q->n; i++) {
        q->sentinels[i].port = ep->sentinels[i].port;
        bad = !(q->sentinels[i].host = redisx__strdup(ep->sentinels[i].host));
    }
    if (!bad && o->tls_server_name)
        bad = !(q->tls_name = q->tls_name_copy = redisx__strdup(o->tls_server_name));
    if (bad) {
        query_free(q);
        redisx__fail(REDISX_ERR_NOMEM, "out of memory");
        return NULL;
    }
    if (tls && redisx__tls_ctx_new(&q->tls, o) != REDISX_OK) {
        query_free(q);
        return NULL;
    }
    return q;
}

/* Runs fn(q) on a detached thread that takes no signals; frees q when no
 * thread could be started. */
static redisx__sentinel_query *spawn(redisx__sentinel_query *q, void *(*fn)(void *))
{
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old); /* the application's signals stay on its threads */
    pthread_t t;
    int err = pthread_create(&t, &attr, fn, q);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&attr);
    if (err != 0) {
        query_free(q);
        redisx__fail(REDISX_ERR_CONNECTION, "cannot start a sentinel thread: %s", strerror(err));
        return NULL;
    }
    return q;
}

redisx__sentinel_query *redisx__sentinel_query_start(redisx_client *c, const redisx_options *o,
                                                     const redisx__endpoint *ep, int tls, size_t first)
{
    redisx__sentinel_query *q = query_new(c, o, ep, tls, first);
    return q ? spawn(q, query_main) : NULL;
}

int redisx__sentinel_query_done(redisx__sentinel_query *q)
{
    pthread_mutex_lock(&q->mu);
    int done = q->done;
    pthread_mutex_unlock(&q->mu);
    return done;
}

int redisx__sentinel_query_result(redisx__sentinel_query *q, char *host, size_t hcap, int *port, size_t *which,
                                  char *detail, size_t dlen)
{
    pthread_mutex_lock(&q->mu);
    int ok = q->ok;
    if (ok) {
        snprintf(host, hcap, "%s", q->host);
        *port = q->port;
        *which = q->which;
    } else {
        snprintf(detail, dlen, "%s", q->detail);
    }
    pthread_mutex_unlock(&q->mu);
    return ok;
}

void redisx__sentinel_query_release(redisx__sentinel_query *q)
{
    if (!q)
        return;
    pthread_mutex_lock(&q->mu);
    q->abandoned = 1;
    unref_locked(q);
}

/* ---- the +switch-master watcher ------------------------------------------- */

static int watch_stopped(redisx__sentinel_query *q)
{
    pthread_mutex_lock(&q->mu);
    int stop = q->abandoned;
    pthread_mutex_unlock(&q->mu);
    return stop;
}

/* A message of the subscription: +switch-master "<name> <old-ip>
 * <old-port> <new-ip> <new-port>" for our master wakes the client. */
static void watch_message(redisx__sentinel_query *q, const redisx_reply *r)
{
    if (r->type != REDISX_REPLY_ARRAY || r->elements != 3 || r->element[0]->type != REDISX_REPLY_STRING ||
        r->element[2]->type != REDISX_REPLY_STRING || strcmp(r->element[0]->str, "message") != 0)
        return;
    char name[256], oldip[256], newip[256];
    int oldport, newport;
    if (sscanf(r->element[2]->str, "%255s %255s %d %255s %d", name, oldip, &oldport, newip, &newport) != 5 ||
        strcmp(name, q->master) != 0)
        return;
    pthread_mutex_lock(&q->mu);
    q->switched = 1;
    snprintf(q->host, sizeof q->host, "%s", newip);
    q->port = newport;
    if (!q->abandoned)
        redisx__wake(q->client);
    pthread_mutex_unlock(&q->mu);
}

typedef struct watch_ctx {
    redisx__sentinel_query *q;
    size_t base;    /* replies of earlier buffers */
    size_t handled; /* replies of this buffer handled by an earlier pass */
    size_t skip;    /* the first replies are AUTH's and SUBSCRIBE's */
    size_t index;   /* of the reply at hand, in this buffer */
    const struct redisx__seed *from;
} watch_ctx;

static void watch_each(redisx_reply *r, void *u)
{
    watch_ctx *w = u;
    size_t i = w->index++;
    if (i >= w->handled) {
        if (w->base + i + 1 == w->skip) {
            int ok = r->type == REDISX_REPLY_ARRAY && r->elements == 3 && r->element[0]->type == REDISX_REPLY_STRING &&
                     strcmp(r->element[0]->str, "subscribe") == 0;
            pthread_mutex_lock(&w->q->mu);
            w->q->subscribed = ok;
            snprintf(w->q->sub_to, sizeof w->q->sub_to, "%s:%d", w->from->host, w->from->port);
            if (ok && !w->q->abandoned)
                redisx__wake(w->q->client);
            pthread_mutex_unlock(&w->q->mu);
        } else if (w->base + i >= w->skip) {
            watch_message(w->q, r);
        }
    }
    redisx__reply_free(r);
}

/* Subscribes on one sentinel and reads its messages until the connection
 * fails or the watcher is stopped. */
static void watch_one(redisx__sentinel_query *q, const struct redisx__seed *s)
{
    char why[400];
    sentinel_link l = {.fd = -1, .deadline = redisx__now_ns() + (uint64_t)q->timeout_ms * REDISX__NS_PER_MS,
                       .why = why, .wcap = sizeof why};
    char *req = NULL, *buf = NULL;
    size_t rlen = 0, len = 0, cap = 0, handled = 0, base = 0;
    if (link_connect(&l, q, s) != 0)
        goto out;
    int bad = 0;
    if (q->password && q->user) {
        const char *a[] = {"AUTH", q->user, q->password};
        bad |= append_cmd(&req, &rlen, 3, a);
    } else if (q->password) {
        const char *a[] = {"AUTH", q->password};
        bad |= append_cmd(&req, &rlen, 2, a);
    }
    const char *sub[] = {"SUBSCRIBE", "+switch-master"};
    bad |= append_cmd(&req, &rlen, 2, sub);
    if (bad || link_send(&l, req, rlen) != 0)
        goto out;
    size_t skip = q->password ? 2 : 1; /* AUTH's +OK and the subscribe confirmation */
    for (;;) {
        if (cap - len < 4096) {
            if (cap >= 65536)
                goto out; /* a reply that large is not a sentinel's message */
            char *nb = realloc(buf, cap + 8192);
            if (!nb)
                goto out;
            buf = nb;
            cap += 8192;
        }
        short want = POLLIN;
        ssize_t n = l.tls ? redisx__tls_recv(l.tls, buf + len, cap - len, &want, why, sizeof why)
                          : recv(l.fd, buf + len, cap - len, 0);
        if (n == 0)
            goto out;
        if (n < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
                goto out;
            struct pollfd p[2] = {{.fd = l.fd, .events = want}, {.fd = q->stop_fd, .events = POLLIN}};
            if (poll(p, 2, -1) < 0 && errno != EINTR)
                goto out;
            if (p[1].revents || watch_stopped(q))
                goto out;
            continue;
        }
        len += (size_t)n;
        /* Replies are re-read from the start of the buffer (messages are
         * few and small); those handled before are skipped, and the
         * buffer empties once it holds whole replies only. */
        watch_ctx w = {.q = q, .base = base, .handled = handled, .skip = skip, .from = s};
        redisx_status st = redisx__replies_from_resp(buf, len, 0, watch_each, &w);
        handled = w.index;
        if (st == REDISX_OK) {
            base += handled;
            handled = 0;
            len = 0;
        }
    }
out:
    free(req);
    free(buf);
    link_close(&l);
}

static void *watch_main(void *arg)
{
    redisx__sentinel_query *q = arg;
    for (size_t k = 0; !watch_stopped(q); k++) {
        watch_one(q, &q->sentinels[k % q->n]);
        pthread_mutex_lock(&q->mu);
        q->subscribed = 0;
        pthread_mutex_unlock(&q->mu);
        /* The next sentinel after a pause, unless stopped meanwhile. */
        struct pollfd p = {.fd = q->stop_fd, .events = POLLIN};
        if (poll(&p, 1, 1000) > 0)
            break;
    }
    pthread_mutex_lock(&q->mu);
    unref_locked(q);
    return NULL;
}

redisx__sentinel_query *redisx__sentinel_watch_start(redisx_client *c, const redisx_options *o,
                                                     const redisx__endpoint *ep, int tls)
{
    redisx__sentinel_query *q = query_new(c, o, ep, tls, 0);
    if (!q)
        return NULL;
    q->stop_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (q->stop_fd < 0) {
        redisx__fail(REDISX_ERR_CONNECTION, "eventfd: %s", strerror(errno));
        query_free(q);
        return NULL;
    }
    return spawn(q, watch_main);
}

int redisx__sentinel_watch_poll(redisx__sentinel_query *w, char *host, size_t hcap, int *port, char *sub_to,
                                size_t scap)
{
    pthread_mutex_lock(&w->mu);
    int what = 0;
    if (w->subscribed == 1) {
        w->subscribed = 2; /* reported */
        snprintf(sub_to, scap, "%s", w->sub_to);
        what |= 1;
    }
    if (w->switched) {
        w->switched = 0;
        snprintf(host, hcap, "%s", w->host);
        *port = w->port;
        what |= 2;
    }
    pthread_mutex_unlock(&w->mu);
    return what;
}

void redisx__sentinel_watch_stop(redisx__sentinel_query *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    w->abandoned = 1;
    uint64_t one = 1;
    ssize_t r = write(w->stop_fd, &one, sizeof one);
    (void)r;
    unref_locked(w);
}
