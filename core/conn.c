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
 * REDISX_ERR_TIMEOUT, and the connection is re-established at once. The
 * I/O thread never blocks but in poll(): host names are looked up on
 * resolver threads ("name resolution" below). In cluster mode the pool is
 * one per node and a command goes to the master of its slot ("cluster
 * routing" below, docs/CLUSTER.md). */
#include <errno.h>
#include <fcntl.h>
#include <hiredis.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "client_impl.h"
#include "cluster.h"
#include "sentinel.h"
#include "tls.h"

#if HIREDIS_MAJOR >= 1
#error "redisx is written against hiredis 0.14; review conn.c before building with hiredis 1.x"
#endif

/* CONN_RESOLVING: a host name is being looked up on a resolver thread
 * (see "name resolution" below); no socket yet. CONN_LOOKUP: sentinel
 * mode, waiting for the sentinels to name the master ("sentinel" below).
 * CONN_TLS: TCP is up, the
 * TLS handshake runs (non-blocking, under the connect deadline). */
typedef enum conn_state {
    CONN_DOWN,
    CONN_RESOLVING,
    CONN_LOOKUP,
    CONN_CONNECTING,
    CONN_TLS,
    CONN_HANDSHAKE,
    CONN_READY
} conn_state;

typedef struct resolve_req resolve_req;

typedef struct ssub_sent {
    struct ssub_sent *next;
    int unsub; /* 0 SSUBSCRIBE, 1 SUNSUBSCRIBE, 2 SUBSCRIBE (__redis__:invalidate) */
    char name[];
} ssub_sent;

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
    int borrowed; /* a blocking caller does its own I/O on it */
    int polled; /* in the set the sleeping I/O thread polls (for POLLIN) */
    struct addrinfo *ai_list, *ai_cur;
    resolve_req *resolve; /* the lookup of this connection, running or unread */
    /* TLS (NULL: plain). A TLS read or write may wait for the other
     * direction (POLLIN/POLLOUT in tls_rwant / tls_wwant, 0: its own), and
     * a write that waited is retried with the same length (tls_wretry). */
    redisx__tls *tls;
    short tls_rwant, tls_wwant;
    size_t tls_wretry;
    int got_bytes; /* anything received on this socket yet */
    /* A node's sharded subscriber: its (S)SUBSCRIBE / SUNSUBSCRIBE sent
     * and not yet answered, oldest first (each names one channel and gets
     * one answer: a confirmation or an error, in order). */
    struct ssub_sent *ss_head, *ss_tail;
    uint64_t track_gen; /* a data connection: CLIENT TRACKING sent under it (0: not) */
    /* Where it connects: the client's address, or a cluster node's (its
     * strings live as long as the client). */
    int node; /* index in c->nodes, -1: standalone */
    const char *host;
    int port;
    char endpoint[300];
    uint64_t down_at; /* when it last went down (sentinel: ask again after) */
    char master_host[256]; /* sentinel mode: host points here */
};

/* ---- the loop lock -------------------------------------------------------- */

/* The client whose loop lock this thread holds (NULL: none). */
static _Thread_local redisx_client *tls_loop;

static redisx_client *loop_enter(redisx_client *c)
{
    pthread_mutex_lock(&c->loop_mu);
    redisx_client *prev = tls_loop;
    tls_loop = c;
    return prev;
}

static void loop_leave(redisx_client *c, redisx_client *prev)
{
    tls_loop = prev;
    pthread_mutex_unlock(&c->loop_mu);
}

bool redisx__in_loop(const redisx_client *c)
{
    return tls_loop == c || pthread_equal(pthread_self(), c->io_thread) != 0;
}

/* ---- commands ---------------------------------------------------------- */

static size_t dec_len(size_t v)
{
    size_t n = 1;
    while (v >= 10) {
        v /= 10;
        n++;
    }
    return n;
}

static char *put_dec(char *p, size_t v)
{
    size_t n = dec_len(v);
    for (size_t i = n; i > 0; i--) {
        p[i - 1] = (char)('0' + v % 10);
        v /= 10;
    }
    return p + n;
}

/* RESP into one allocation with the command (no printf, one malloc). */
redisx__cmd *redisx__cmd_argv(int argc, const char *const *argv, const size_t *lens)
{
    /* Lengths of C-string arguments, measured once (most commands are short). */
    size_t local[16];
    size_t *own = NULL;
    if (!lens) {
        own = argc <= 16 ? local : malloc((size_t)argc * sizeof *own);
        if (!own)
            return NULL;
        for (int i = 0; i < argc; i++)
            own[i] = strlen(argv[i]);
        lens = own;
    }
    redisx__cmd *cmd = NULL;
    size_t total = 1 + dec_len((size_t)argc) + 2;
    for (int i = 0; i < argc; i++) {
        size_t l = lens[i];
        size_t add = 1 + dec_len(l) + 2 + l + 2;
        if (add < l || total + add < total)
            goto out;
        total += add;
    }
    if (total > SIZE_MAX - sizeof(redisx__cmd))
        goto out;
    cmd = malloc(sizeof *cmd + total);
    if (!cmd)
        goto out;
    memset(cmd, 0, sizeof *cmd);
    cmd->slot = cmd->node = -1;
    char *p = (char *)(cmd + 1);
    cmd->buf = p;
    cmd->len = total;
    *p++ = '*';
    p = put_dec(p, (size_t)argc);
    *p++ = '\r';
    *p++ = '\n';
    for (int i = 0; i < argc; i++) {
        size_t l = lens[i];
        *p++ = '$';
        p = put_dec(p, l);
        *p++ = '\r';
        *p++ = '\n';
        memcpy(p, argv[i], l);
        p += l;
        *p++ = '\r';
        *p++ = '\n';
    }
out:
    if (own != local)
        free(own);
    return cmd;
}

redisx__cmd *redisx__cmd_script(const redisx__script *s, int nkeys, int nargs, const char *const *argv,
                                const size_t *lens)
{
    enum { MAXA = 16 };
    const char *a[MAXA + 3];
    size_t l[MAXA + 3];
    char nk[24];
    if (nkeys + nargs > MAXA)
        return NULL;
    redisx__fmt_i64(nk, nkeys);
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
    if (cmd) {
        cmd->script = s;
        /* The keys of one script share a hash tag (docs/KEYS.md): KEYS[1]
         * says where it runs in a cluster. */
        cmd->slot = nkeys > 0 ? redisx__slot_of(a[3], l[3]) : -1;
        cmd->slot_known = 1;
    }
    return cmd;
}

redisx__cmd *redisx__cmd_task(void)
{
    redisx__cmd *cmd = calloc(1, sizeof(redisx__cmd));
    if (cmd)
        cmd->slot = cmd->node = -1;
    return cmd;
}

static int cmd_buf_inline(const redisx__cmd *cmd)
{
    return cmd->buf == (const char *)(cmd + 1);
}

void redisx__cmd_free(redisx__cmd *cmd)
{
    if (!cmd)
        return;
    if (cmd->buf && !cmd_buf_inline(cmd))
        free(cmd->buf);
    free(cmd);
}

/* ---- replies ----------------------------------------------------------- */

/* hiredis' reader builds our reply objects directly (the root on its own,
 * its parts in the root's arena: see reply.c), so no reply is built twice
 * and converted. */

/* The reply being built that this task's object belongs to; NULL for the
 * root itself. */
static redisx_reply *task_root(const redisReadTask *task)
{
    if (!task->parent)
        return NULL;
    while (task->parent)
        task = task->parent;
    return task->obj;
}

/* Small arrays get all their slots at once from the arena; large ones grow
 * theirs as elements arrive, so a header announcing billions of elements
 * costs nothing until they come. */
#define SLOTS_UPFRONT 64

static void *reply_attach(const redisReadTask *task, redisx_reply *r)
{
    if (!r || !task->parent)
        return r;
    redisx_reply *parent = task->parent->obj;
    size_t idx = (size_t)task->idx;
    if (idx >= parent->cap) {
        size_t cap = parent->cap ? parent->cap * 2 : 16;
        if (cap < idx + 1)
            cap = idx + 1;
        if (cap > parent->elements)
            cap = parent->elements;
        redisx_reply **el = realloc(parent->element, cap * sizeof *el);
        if (!el) {
            redisx__reply_free(r);
            return NULL;
        }
        memset(el + parent->cap, 0, (cap - parent->cap) * sizeof *el);
        parent->element = el;
        parent->cap = cap;
    }
    parent->element[idx] = r;
    return r;
}

static void *reply_string(const redisReadTask *task, char *str, size_t len)
{
    redisx_reply *r = redisx__reply_new(task_root(task), (redisx_reply_type)task->type, len ? len : 1);
    if (!r)
        return NULL;
    memcpy(r->str, str, len);
    r->str[len] = '\0';
    r->len = len;
    return reply_attach(task, r);
}

static void *reply_array(const redisReadTask *task, int elements)
{
    redisx_reply *root = task_root(task);
    redisx_reply *r = redisx__reply_new(root, REDISX_REPLY_ARRAY, 0);
    if (!r)
        return NULL;
    if (elements > 0) {
        r->elements = (size_t)elements;
        if (elements <= SLOTS_UPFRONT) {
            r->element = redisx__reply_slots(root ? root : r, (size_t)elements);
            if (!r->element) {
                redisx__reply_free(r);
                return NULL;
            }
            r->slots_in_arena = 1;
            r->cap = (size_t)elements;
        }
    }
    return reply_attach(task, r);
}

static void *reply_integer(const redisReadTask *task, long long v)
{
    redisx_reply *r = redisx__reply_new(task_root(task), REDISX_REPLY_INTEGER, 0);
    if (!r)
        return NULL;
    r->integer = v;
    return reply_attach(task, r);
}

static void *reply_nil(const redisReadTask *task)
{
    return reply_attach(task, redisx__reply_new(task_root(task), REDISX_REPLY_NIL, 0));
}

static void reply_free_object(void *r)
{
    redisx__reply_free(r);
}

static redisReplyObjectFunctions reply_functions = {
    reply_string, reply_array, reply_integer, reply_nil, reply_free_object,
};

static redisReader *reader_new(void)
{
    return redisReaderCreateWithFunctions(&reply_functions);
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
    cmd->track_gen = cn->track_gen;
    cmd->track_lane = cn->idx & 255;
    if (wbuf_append(cn, cmd->buf, cmd->len) != 0) {
        if (cmd->internal == REDISX__CMD_USER)
            complete(cmd, REDISX_ERR_NOMEM, NULL, "out of memory for the write buffer");
        else
            redisx__cmd_free(cmd);
        return;
    }
    if (cmd->req) {
        cmd->req->round_trips++;
        cmd->req->node = cn->endpoint;
    }
    cmd->sent = 1;
    fifo_push(&cn->pend_head, &cn->pend_tail, cmd);
    cn->npend++;
}

static redisx__conn *pick_conn(redisx_client *c)
{
    redisx__conn *best = NULL;
    for (int i = 0; i < c->nconns; i++) {
        redisx__conn *cn = c->conns[i];
        if (cn->state == CONN_READY && !cn->borrowed && (!best || cn->npend < best->npend))
            best = cn;
    }
    return best;
}

/* ---- cluster routing --------------------------------------------------------
 *
 * In cluster mode (a redis+cluster:// URL or redisx_options_set_cluster_seeds)
 * the client keeps a pool of connections per node (c->nodes, their
 * connections contiguous in c->conns) and routes every command by the slot
 * of its keys through the current slot map (core/cluster.c). Scripts carry
 * the slot of KEYS[1] from redisx__cmd_script; any other command's keys are
 * found from its RESP on first routing (redisx__command_slot). Routing runs
 * when a command is dispatched, so a command waiting for a connection (or
 * for the first map) is routed again by the map of that moment.
 *
 * Replies that say a command did not run are handled here, never seen by
 * the caller: MOVED patches the map (a new version), re-routes the command
 * and asks for a refresh; ASK sends ASKING and then the command, back to
 * back on one connection of the target, the map unchanged; TRYAGAIN,
 * CLUSTERDOWN and LOADING retry on a timer with a doubling delay while the
 * command's deadline allows. A refresh is CLUSTER SLOTS to a node with a
 * ready connection (to every known node when none has one), at most about
 * once a second unless it failed; a connection to a node that drops asks
 * for one too. */

#define MAX_REDIRECTS 5
#define MAX_RETRIES 10
#define REFRESH_EVERY_NS (1000 * REDISX__NS_PER_MS)

static uint64_t backoff_ns(const redisx_client *c, int failures);
static void dispatch(redisx_client *c, redisx__cmd *cmd);

static void set_endpoint(redisx__conn *cn, int is_unix)
{
    if (is_unix)
        snprintf(cn->endpoint, sizeof cn->endpoint, "%s", cn->host);
    else if (strchr(cn->host, ':'))
        snprintf(cn->endpoint, sizeof cn->endpoint, "[%s]:%d", cn->host, cn->port);
    else
        snprintf(cn->endpoint, sizeof cn->endpoint, "%s:%d", cn->host, cn->port);
}

static redisx__conn *conn_new(int idx, int node, const char *host, int port, int is_unix)
{
    redisx__conn *cn = calloc(1, sizeof *cn);
    if (!cn)
        return NULL;
    cn->idx = idx;
    cn->fd = -1;
    cn->state = CONN_DOWN;
    cn->node = node;
    cn->host = host;
    cn->port = port;
    set_endpoint(cn, is_unix);
    return cn;
}

/* Appends `count` dormant connections for node `node` and its sharded
 * subscriber connection; the client's subscriber stays last. -1 on
 * out-of-memory (nothing changed). */
static int conns_add(redisx_client *c, int node, int count)
{
    int total = count + 1;
    redisx__conn **a = realloc(c->conns, ((size_t)c->nconns + (size_t)total + 1) * sizeof *a);
    if (!a)
        return -1;
    c->conns = a;
    redisx__node *nd = &c->nodes[node];
    redisx__conn *sub = a[c->nconns];
    for (int k = 0; k < total; k++) {
        redisx__conn *cn = conn_new(c->nconns + k, node, nd->host, nd->port, 0);
        if (!cn) {
            for (int j = 0; j < k; j++)
                free(a[c->nconns + j]);
            a[c->nconns] = sub;
            return -1;
        }
        cn->next_attempt = UINT64_MAX; /* dormant until a command (or a subscription) needs it */
        cn->is_sub = k == count;
        a[c->nconns + k] = cn;
    }
    nd->first = c->nconns;
    nd->count = count;
    nd->sub = c->nconns + count;
    c->nconns += total;
    a[c->nconns] = sub;
    sub->idx = c->nconns;
    c->loop_dirty = 1;
    return 0;
}

/* The node host:port, added (with its connections) when new; -1 on
 * out-of-memory. */
static int node_get(redisx_client *c, const char *host, int port)
{
    for (int i = 0; i < c->nnodes; i++)
        if (c->nodes[i].port == port && strcasecmp(c->nodes[i].host, host) == 0)
            return i;
    if (c->nnodes == c->nodes_cap) {
        int cap = c->nodes_cap ? c->nodes_cap * 2 : 8;
        redisx__node *n = realloc(c->nodes, (size_t)cap * sizeof *n);
        if (!n)
            return -1;
        c->nodes = n;
        c->nodes_cap = cap;
    }
    redisx__node *nd = &c->nodes[c->nnodes];
    memset(nd, 0, sizeof *nd);
    nd->port = port;
    if (!(nd->host = redisx__strdup(host)))
        return -1;
    if (conns_add(c, c->nnodes, c->opts.connections) != 0) {
        free(nd->host);
        return -1;
    }
    return c->nnodes++;
}

/* The least busy ready connection of a node, or NULL. */
static redisx__conn *node_conn(redisx_client *c, int node)
{
    redisx__conn *best = NULL;
    const redisx__node *nd = &c->nodes[node];
    for (int i = nd->first; i < nd->first + nd->count; i++) {
        redisx__conn *cn = c->conns[i];
        if (cn->state == CONN_READY && !cn->borrowed && (!best || cn->npend < best->npend))
            best = cn;
    }
    return best;
}

/* Starts the dormant connections of a node. */
static void node_wake(redisx_client *c, int node)
{
    const redisx__node *nd = &c->nodes[node];
    for (int i = nd->first; i < nd->first + nd->count; i++) {
        redisx__conn *cn = c->conns[i];
        if (cn->state == CONN_DOWN && cn->next_attempt == UINT64_MAX) {
            cn->next_attempt = redisx__now_ns();
            c->loop_dirty = 1;
        }
    }
}

static int node_is_master(const redisx_client *c, int node)
{
    if (!c->map)
        return 0;
    for (size_t i = 0; i < c->map->n_nodes; i++)
        if (c->map_node[i] == node)
            return 1;
    return 0;
}

static void request_refresh(redisx_client *c)
{
    if (!c->cluster || c->refresh_wanted)
        return;
    uint64_t now = redisx__now_ns();
    c->refresh_wanted = 1;
    c->refresh_next = c->refresh_last + REFRESH_EVERY_NS > now ? c->refresh_last + REFRESH_EVERY_NS : now;
    c->loop_dirty = 1;
}

static void ssub_sync_all(redisx_client *c);
static void track_lost(redisx_client *c, const char *why);
static void track_reply(redisx_client *c, redisx__conn *cn, uint64_t gen, redisx_reply *r);
static void track_sync(redisx_client *c);
static void track_node_wake(redisx_client *c, int node);
static void ssub_sent_clear(redisx__conn *cn);
static void ssub_conn_down(redisx_client *c, redisx__conn *cn, int was_ready, const char *detail);
static int ssub_send(redisx_client *c, redisx__conn *cn, int unsub, const char *name);
static void ssub_sync(redisx_client *c, redisx__channel *ch);

/* Makes m (one reference, taken over) the client's map. */
static void map_install(redisx_client *c, redisx__slot_map *m)
{
    int *mn = malloc((m->n_nodes ? m->n_nodes : 1) * sizeof *mn);
    if (!mn) {
        redisx__slot_map_unref(m);
        return;
    }
    int masters = 0;
    for (size_t i = 0; i < m->n_nodes; i++) {
        mn[i] = m->nodes[i].master < 0 ? node_get(c, m->nodes[i].host, m->nodes[i].port) : -1;
        if (mn[i] >= 0) {
            node_wake(c, mn[i]); /* masters connect at once */
            masters++;
        }
        if (mn[i] >= 0 && c->track_want)
            track_node_wake(c, mn[i]);
    }
    redisx__slot_map_unref(c->map);
    free(c->map_node);
    c->map = m;
    c->map_node = mn;
    c->loop_dirty = 1;
    redisx__log(c, REDISX_LOG_DEBUG, "cluster map version %llu: %d masters, %zu slots uncovered",
                (unsigned long long)m->version, masters, m->n_uncovered);
    ssub_sync_all(c);
}

/* The slot of a command that carries none yet, from its RESP. */
static redisx_status cmd_find_slot(redisx__cmd *cmd)
{
    enum { LOCAL = 32 };
    const char *la[LOCAL];
    size_t ll[LOCAL];
    const char **argv = la;
    size_t *lens = ll;
    const char *p = cmd->buf, *end = cmd->buf + cmd->len;
    char *e;
    long argc = *p == '*' ? strtol(p + 1, &e, 10) : -1;
    if (argc <= 0 || argc > INT32_MAX || (size_t)argc > cmd->len)
        return redisx__fail(REDISX_ERR_INVALID, "malformed command");
    if (argc > LOCAL) {
        argv = malloc((size_t)argc * sizeof *argv);
        lens = malloc((size_t)argc * sizeof *lens);
        if (!argv || !lens) {
            free(argv);
            free(lens);
            return redisx__fail(REDISX_ERR_NOMEM, "out of memory");
        }
    }
    p = e + 2;
    for (long i = 0; i < argc; i++) {
        unsigned long long l = strtoull(p + 1, &e, 10);
        argv[i] = e + 2;
        lens[i] = (size_t)l;
        p = e + 2 + l + 2;
    }
    redisx_status st = p == end ? REDISX_OK : redisx__fail(REDISX_ERR_INVALID, "malformed command");
    redisx__route route = REDISX__ROUTE_UNKNOWN;
    if (st == REDISX_OK)
        st = redisx__command_slot(&cmd->slot, &route, (int)argc, argv, lens);
    if (st == REDISX_OK && route == REDISX__ROUTE_UNKNOWN)
        st = redisx__fail(REDISX_ERR_INVALID,
                          "%.*s is not routable by key in cluster mode (its keys, if any, are not known): send "
                          "node-wide commands with a client of that one node",
                          (int)(lens[0] > 64 ? 64 : lens[0]), argv[0]);
    if (st == REDISX_OK && route == REDISX__ROUTE_ANY)
        cmd->slot = -1;
    cmd->slot_known = st == REDISX_OK;
    if (argv != la) {
        free(argv);
        free(lens);
    }
    return st;
}

/* The node cmd goes to: >= 0; -1 while there is no map yet; -2 when cmd
 * was completed with an error. */
static int route(redisx_client *c, redisx__cmd *cmd)
{
    if (cmd->node >= 0)
        return cmd->node;
    redisx_status st = cmd->slot_known ? REDISX_OK : cmd_find_slot(cmd);
    if (st != REDISX_OK) {
        char detail[REDISX__DETAIL];
        redisx__copy_detail(detail, sizeof detail, redisx__last_error_buf);
        complete(cmd, st, NULL, detail);
        return -2;
    }
    if (!c->map)
        return -1;
    if (cmd->slot < 0) { /* no keys: a master with a ready connection */
        int first = -1;
        for (size_t i = 0; i < c->map->n_nodes; i++) {
            int n = c->map_node[i];
            if (n < 0)
                continue;
            if (first < 0)
                first = n;
            if (node_conn(c, n))
                return n;
        }
        if (first >= 0)
            return first;
        cmd->slot = 0;
    }
    unsigned mi = c->map->slot_node[cmd->slot];
    if (mi == REDISX__SLOT_NONE || c->map_node[mi] < 0) {
        char detail[REDISX__DETAIL];
        snprintf(detail, sizeof detail, "cluster slot %d is served by no master (slot map version %llu)", cmd->slot,
                 (unsigned long long)c->map->version);
        request_refresh(c);
        complete(cmd, REDISX_ERR_CONNECTION, NULL, detail);
        return -2;
    }
    return c->map_node[mi];
}

static int push_asking(redisx__conn *cn)
{
    static const char *const a[] = {"ASKING"};
    redisx__cmd *cmd = redisx__cmd_argv(1, a, NULL);
    if (!cmd)
        return -1;
    cmd->internal = REDISX__CMD_ASKING;
    conn_push(cn, cmd);
    return 0;
}

/* ---- refreshing the map ---- */

static void refresh_reply(redisx__cmd *cmd, redisx_status st, redisx_reply *r);

static void refresh_send(redisx_client *c, int node)
{
    static const char *const a[] = {"CLUSTER", "SLOTS"};
    redisx__cmd *cmd = redisx__cmd_argv(2, a, NULL);
    if (!cmd)
        return;
    cmd->client = c;
    cmd->fn = refresh_reply;
    cmd->ctx = c;
    cmd->node = node;
    cmd->slot_known = 1;
    cmd->aux = c->refresh_round;
    cmd->deadline = redisx__now_ns() +
                    (uint64_t)(c->opts.connect_timeout_ms + c->opts.command_timeout_ms) * REDISX__NS_PER_MS;
    c->refresh_inflight++;
    node_wake(c, node);
    dispatch(c, cmd);
}

static void refresh_start(redisx_client *c)
{
    redisx__stats_add_client(c, REDISX_CLIENT_CLUSTER_REFRESHES, 1);
    c->refresh_wanted = 0;
    c->refresh_round++;
    c->refresh_inflight = 0;
    c->refresh_version = c->map ? c->map->version : 0;
    c->refresh_last = redisx__now_ns();
    for (int k = 0; k < c->nnodes; k++) {
        int n = (c->refresh_rr + k) % c->nnodes;
        if (node_conn(c, n)) {
            c->refresh_rr = n + 1;
            refresh_send(c, n);
            return;
        }
    }
    /* No node has a ready connection: ask them all, the first answer wins. */
    for (int n = 0; n < c->nnodes && n < 16; n++)
        refresh_send(c, n);
}

/* Commands that wait for a map fail when no node answered. */
static void fail_unmapped(redisx_client *c)
{
    redisx__cmd *list = c->wait_head, *keep_head = NULL, *keep_tail = NULL;
    c->wait_head = c->wait_tail = NULL;
    char detail[REDISX__DETAIL + 64];
    snprintf(detail, sizeof detail, "no node of the cluster answered CLUSTER SLOTS: %s", c->conn_error);
    while (list) {
        redisx__cmd *cmd = list;
        list = list->next;
        if (cmd->node >= 0)
            fifo_push(&keep_head, &keep_tail, cmd);
        else
            complete(cmd, c->conn_status == REDISX_ERR_AUTH ? REDISX_ERR_AUTH : REDISX_ERR_CONNECTION, NULL,
                     detail);
    }
    while (keep_head)
        fifo_push(&c->wait_head, &c->wait_tail, fifo_pop(&keep_head, &keep_tail));
}

static void refresh_reply(redisx__cmd *cmd, redisx_status st, redisx_reply *r)
{
    redisx_client *c = cmd->client;
    int node = cmd->node;
    unsigned round = cmd->aux;
    redisx__cmd_free(cmd);
    if (round != c->refresh_round || c->closing_seen) {
        redisx__reply_free(r);
        return;
    }
    c->refresh_inflight--;
    if (st == REDISX_OK) {
        redisx__slot_map *m = NULL;
        st = redisx__slot_map_parse(&m, r, c->nodes[node].host, (c->map ? c->map->version : 0) + 1, 0);
        redisx__reply_free(r);
        if (st == REDISX_OK) {
            c->refresh_round++; /* later answers of this round are dropped */
            c->refresh_inflight = 0;
            c->refresh_failures = 0;
            if (c->map && c->map->version > c->refresh_version) {
                /* A MOVED patched the map meanwhile: this answer may be
                 * older than the patch. Ask again (throttled). */
                redisx__slot_map_unref(m);
                request_refresh(c);
                return;
            }
            map_install(c, m);
            return;
        }
    }
    char why[REDISX__DETAIL / 2];
    redisx__copy_detail(why, sizeof why, redisx__last_error_buf);
    snprintf(c->conn_error, sizeof c->conn_error, "CLUSTER SLOTS from %.300s:%d: %s", c->nodes[node].host,
             c->nodes[node].port, why);
    if (!c->map)
        c->conn_status = st == REDISX_ERR_AUTH ? REDISX_ERR_AUTH : REDISX_ERR_CONNECTION;
    redisx__log(c, REDISX_LOG_WARN, "%s", c->conn_error);
    if (c->refresh_inflight > 0)
        return; /* another node may still answer */
    c->refresh_failures++;
    c->refresh_wanted = 1;
    c->refresh_next = redisx__now_ns() + backoff_ns(c, c->refresh_failures);
    c->loop_dirty = 1;
    if (!c->map)
        fail_unmapped(c);
}

/* ---- replies that say a command did not run ---- */

static void retry_timer(redisx_client *c, void *ctx, uint64_t arg, int cancelled)
{
    (void)arg;
    redisx__cmd *cmd = ctx;
    if (cancelled)
        complete(cmd, REDISX_ERR_CLOSED, NULL, "client is closing");
    else
        dispatch(c, cmd);
}

/* An error reply to a routed command: 1 when it was a redirect or a
 * retryable condition and cmd is on its way again (r freed), 0 when the
 * caller gets r as it is. */
static int cluster_reply(redisx_client *c, redisx__conn *cn, redisx__cmd *cmd, redisx_reply *r)
{
    if (cmd->fn == refresh_reply)
        return 0;
    redisx__cluster_err kind = redisx__cluster_err_of(r->str, r->len);
    if (kind == REDISX__CERR_NONE)
        return 0;
    if (kind == REDISX__CERR_MOVED || kind == REDISX__CERR_ASK) {
        redisx__redirect rd;
        if (cmd->redirects >= MAX_REDIRECTS || redisx__redirect_parse(&rd, r->str, r->len, cn->host) != REDISX_OK)
            return 0;
        int node = node_get(c, rd.host, rd.port);
        if (node < 0)
            return 0;
        cmd->redirects++;
        redisx__stats_add_client(c, kind == REDISX__CERR_MOVED ? REDISX_CLIENT_CLUSTER_MOVED : REDISX_CLIENT_CLUSTER_ASK,
                                 1);
        redisx__log(c, REDISX_LOG_DEBUG, "%s slot %d: %s -> %s:%d", kind == REDISX__CERR_MOVED ? "MOVED" : "ASK",
                    rd.slot, cn->endpoint, rd.host, rd.port);
        if (kind == REDISX__CERR_MOVED) {
            /* Replies pipelined behind the first MOVED of a slot say the
             * same: the map is patched once. */
            const redisx__cluster_node *cur = c->map ? redisx__slot_map_master(c->map, rd.slot) : NULL;
            int known = cur && cur->port == rd.port && strcasecmp(cur->host, rd.host) == 0;
            redisx__slot_map *m = NULL;
            if (c->map && !known && redisx__slot_map_patch(&m, c->map, rd.slot, rd.host, rd.port) == REDISX_OK)
                map_install(c, m);
            request_refresh(c);
            cmd->node = cmd->slot == rd.slot && c->map ? -1 : node;
            cmd->asking = 0;
        } else {
            cmd->node = node;
            cmd->asking = 1;
        }
        redisx__reply_free(r);
        dispatch(c, cmd);
        return 1;
    }
    /* TRYAGAIN, CLUSTERDOWN, LOADING: later, by the slot's master then. */
    uint64_t delay = (10 * REDISX__NS_PER_MS) << (cmd->retries < 6 ? cmd->retries : 6);
    uint64_t due = redisx__now_ns() + delay;
    if (cmd->retries >= MAX_RETRIES || due >= cmd->deadline)
        return 0;
    if (redisx__timer_add(c, due, retry_timer, cmd, 0) != REDISX_OK)
        return 0;
    cmd->retries++;
    cmd->node = -1;
    cmd->asking = 0;
    redisx__stats_add_client(c, REDISX_CLIENT_CLUSTER_RETRIES, 1);
    redisx__log(c, REDISX_LOG_DEBUG, "%.*s from %s: retry %d in %llu ms", (int)(r->len > 80 ? 80 : r->len), r->str,
                cn->endpoint, cmd->retries, (unsigned long long)(delay / REDISX__NS_PER_MS));
    if (kind == REDISX__CERR_CLUSTERDOWN)
        request_refresh(c);
    redisx__reply_free(r);
    return 1;
}

/* A connection of a cluster node went down (lost, or never up). */
static void cluster_conn_down(redisx_client *c, redisx__conn *cn, int was_ready, redisx_status st,
                              const char *detail)
{
    if (cn->node < 0)
        return;
    if (!node_is_master(c, cn->node))
        cn->next_attempt = UINT64_MAX; /* woken again when a command needs it */
    if (c->map)
        request_refresh(c); /* has the node gone? */
    if (was_ready || node_conn(c, cn->node))
        return;
    /* Commands sent to this node by name (a refresh, an ASK) fail now:
     * waiting for it would only spend their deadline. */
    redisx__cmd *list = c->wait_head, *fail_head = NULL, *fail_tail = NULL;
    c->wait_head = c->wait_tail = NULL;
    while (list) {
        redisx__cmd *cmd = list;
        list = list->next;
        if (cmd->node == cn->node)
            fifo_push(&fail_head, &fail_tail, cmd);
        else
            fifo_push(&c->wait_head, &c->wait_tail, cmd);
    }
    redisx__cmd *cmd;
    while ((cmd = fifo_pop(&fail_head, &fail_tail)))
        complete(cmd, st == REDISX_ERR_AUTH ? REDISX_ERR_AUTH : REDISX_ERR_CONNECTION, NULL, detail);
}

/* Commands waiting for a connection, routed again (cluster mode). */
static void cluster_drain(redisx_client *c)
{
    redisx__cmd *list = c->wait_head, *tail = c->wait_tail;
    (void)tail;
    c->wait_head = c->wait_tail = NULL;
    while (list) {
        redisx__cmd *cmd = list;
        list = list->next;
        cmd->next = NULL;
        dispatch(c, cmd);
    }
}

/* ---- circuit breaker ----------------------------------------------------
 *
 * Off unless redisx_options_set_circuit_breaker() turned it on (see
 * options.h and docs/RESILIENCE.md; the state machine is core/breaker.c).
 * One breaker for a standalone client, one per cluster node. Failures are
 * connection events, not commands: a command connection reset because it
 * was lost, could not be made or a command timed out (1000 commands failing
 * with one connection count once). Successes: a reply on a command
 * connection, a handshake completed. While a breaker is open, user commands
 * dispatched to it complete at once with REDISX_ERR_CONNECTION (the
 * primitives apply their fail policy as for any unreachable server), and
 * blocking calls take the hand-off path so that the rule lives here only. */

static redisx__breaker *breaker_of(redisx_client *c, int node)
{
    return c->cluster && node >= 0 ? &c->nodes[node].breaker : &c->breaker;
}

static const char *breaker_where(const redisx_client *c, int node, char *buf, size_t n)
{
    if (c->cluster && node >= 0)
        snprintf(buf, n, "%s:%d", c->nodes[node].host, c->nodes[node].port);
    else
        snprintf(buf, n, "%s", c->nconns > 0 ? c->conns[0]->endpoint : "the server");
    return buf;
}

/* Completes cmd at once when the breaker it goes through is open. */
static int breaker_rejects(redisx_client *c, redisx__cmd *cmd, int node)
{
    redisx__breaker *b = breaker_of(c, node);
    if (b->state == REDISX__BREAKER_CLOSED || cmd->internal != REDISX__CMD_USER)
        return 0;
    uint64_t now = redisx__now_ns();
    if (redisx__breaker_admit(b, &c->breaker_cfg, now))
        return 0; /* the half-open probe */
    char where[320], detail[REDISX__DETAIL];
    uint64_t left = b->open_until > now ? b->open_until - now : 0;
    snprintf(detail, sizeof detail,
             "circuit breaker for %s is open after %d connection failures within %llu ms: failing at once "
             "(next probe in %llu ms)",
             breaker_where(c, node, where, sizeof where), c->breaker_cfg.threshold,
             (unsigned long long)(c->breaker_cfg.window_ns / REDISX__NS_PER_MS),
             (unsigned long long)((left + REDISX__NS_PER_MS - 1) / REDISX__NS_PER_MS));
    redisx__stats_add_client(c, REDISX_CLIENT_CIRCUIT_REJECTED, 1);
    complete(cmd, REDISX_ERR_CONNECTION, NULL, detail);
    return 1;
}

/* A command connection failed with st (conn_reset). */
static void breaker_failure(redisx_client *c, redisx__conn *cn, redisx_status st, const char *detail)
{
    if (c->breaker_cfg.threshold <= 0 || cn->is_sub || c->closing_seen ||
        (st != REDISX_ERR_CONNECTION && st != REDISX_ERR_TIMEOUT))
        return;
    redisx__breaker *b = breaker_of(c, cn->node);
    redisx__breaker_state was = b->state;
    if (!redisx__breaker_failure(b, &c->breaker_cfg, redisx__now_ns()))
        return;
    char where[320];
    redisx__stats_add_client(c, REDISX_CLIENT_CIRCUIT_OPENS, 1);
    if (was == REDISX__BREAKER_CLOSED) {
        redisx__stats_add_client(c, REDISX_CLIENT_CIRCUITS_OPEN, 1);
        redisx__log(c, REDISX_LOG_WARN,
                    "circuit breaker for %s open: %d connection failures within %llu ms (last: %s); calls fail at "
                    "once for %llu ms",
                    breaker_where(c, cn->node, where, sizeof where), c->breaker_cfg.threshold,
                    (unsigned long long)(c->breaker_cfg.window_ns / REDISX__NS_PER_MS), detail,
                    (unsigned long long)(c->breaker_cfg.open_ns / REDISX__NS_PER_MS));
    } else {
        redisx__log(c, REDISX_LOG_WARN, "circuit breaker for %s open again: the probe failed (%s)",
                    breaker_where(c, cn->node, where, sizeof where), detail);
    }
    /* What waits for a connection through this breaker fails now too. */
    redisx__cmd *list = c->wait_head;
    c->wait_head = c->wait_tail = NULL;
    while (list) {
        redisx__cmd *cmd = list;
        list = list->next;
        cmd->next = NULL;
        dispatch(c, cmd);
    }
}

/* The server answered on a command connection of `node` (-1: standalone):
 * a reply, or one of the handshake (conn_session sends a PING under an open
 * breaker, so a reconnect closes it at once). */
static void breaker_success(redisx_client *c, int node)
{
    if (c->breaker_cfg.threshold <= 0)
        return;
    redisx__breaker *b = breaker_of(c, node);
    if (b->state == REDISX__BREAKER_CLOSED && b->failures == 0)
        return;
    if (redisx__breaker_success(b)) {
        char where[320];
        redisx__stats_add_client(c, REDISX_CLIENT_CIRCUITS_OPEN, -1);
        redisx__log(c, REDISX_LOG_INFO, "circuit breaker for %s closed: the server answers again",
                    breaker_where(c, node, where, sizeof where));
    }
}

static void dispatch(redisx_client *c, redisx__cmd *cmd)
{
    c->loop_dirty = 1;
    redisx__conn *cn;
    if (c->cluster) {
        int node = route(c, cmd);
        if (node == -2 || (node >= 0 && breaker_rejects(c, cmd, node)))
            return;
        cn = node >= 0 ? node_conn(c, node) : NULL;
        if (!cn && node >= 0)
            node_wake(c, node);
        if (cn && cmd->asking) {
            if (push_asking(cn) != 0) {
                complete(cmd, REDISX_ERR_NOMEM, NULL, "out of memory");
                return;
            }
            cmd->asking = 0;
            cmd->asked = 1;
        } else {
            cmd->asked = 0;
        }
    } else {
        if (breaker_rejects(c, cmd, -1))
            return;
        cn = pick_conn(c);
        if (!cn && c->sentinel && c->sentinel_down && cmd->internal == REDISX__CMD_USER) {
            char detail[REDISX__DETAIL + 64];
            snprintf(detail, sizeof detail, "no master: %s", c->conn_error);
            complete(cmd, REDISX_ERR_CONNECTION, NULL, detail);
            return;
        }
    }
    if (cn)
        conn_push(cn, cmd);
    else
        fifo_push(&c->wait_head, &c->wait_tail, cmd);
}

static void emit_state(redisx_client *c, redisx__conn *cn, redisx_conn_state st, const char *detail)
{
    redisx__emit_state(c, cn->idx, st, detail, cn->endpoint);
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
    redisx__tls_free(cn->tls); /* close_notify goes out before the close */
    cn->tls = NULL;
    cn->tls_rwant = cn->tls_wwant = 0;
    cn->tls_wretry = 0;
    cn->got_bytes = 0;
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

static void resolve_release(redisx__conn *cn);

/* Drops the connection: everything pending on it completes with `st`. */
static void conn_reset(redisx_client *c, redisx__conn *cn, redisx_status st, const char *detail)
{
    int was_ready = cn->state == CONN_READY;
    if (!c->cluster && cn->is_sub) {
        if (c->track_refused)
            redisx__cache_fallback_lost(c, NULL, 0);
        c->track_id = 0;
        if (c->track_subscribed)
            track_lost(c, "the invalidation connection dropped");
        c->track_subscribed = 0;
    } else if (cn->track_gen) {
        /* The server forgets what this connection read: the entries read
         * on it (its lane's epoch) go, the rest stay (they are tracked on
         * other connections). Tracking is sent again when it is back. */
        cn->track_gen = 0;
        if (c->track_want && !c->track_refused && !c->opts.tracking_bcast) {
            redisx__log(c, REDISX_LOG_DEBUG, "cache tracking: connection %d dropped: its L1 entries invalidated",
                        cn->idx);
            redisx__cache_tracking_lane_lost(c, (unsigned)(cn->idx & 255));
        }
    }
    conn_close_fd(cn);
    cn->state = CONN_DOWN;
    cn->down_at = redisx__now_ns();
    cn->polled = 0;
    c->loop_dirty = 1;
    redisx__cmd *cmd;
    cn->npend = 0;
    while ((cmd = fifo_pop(&cn->pend_head, &cn->pend_tail))) {
        if (cmd->internal == REDISX__CMD_USER)
            complete(cmd, st, NULL, detail);
        else
            redisx__cmd_free(cmd);
    }
    uint64_t now = redisx__now_ns();
    if (cn->is_sub && c->cluster && cn->node >= 0) {
        ssub_conn_down(c, cn, was_ready, detail);
    } else if (cn->is_sub) {
        /* Lost messages are covered by the waiters' own polling. */
        cn->failures = was_ready ? 0 : cn->failures + 1;
        cn->next_attempt = c->channels ? now + backoff_ns(c, cn->failures) : UINT64_MAX;
        redisx__log(c, REDISX_LOG_INFO, "subscriber connection to %s down: %s", cn->endpoint, detail);
        if (c->cluster && c->nnodes > 1) {
            /* A PUBLISH reaches every node of a cluster: try the next one. */
            resolve_release(cn);
            c->sub_node = (c->sub_node + 1) % c->nnodes;
            cn->host = c->nodes[c->sub_node].host;
            cn->port = c->nodes[c->sub_node].port;
            set_endpoint(cn, 0);
        }
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
    if (c->cluster && !cn->is_sub)
        cluster_conn_down(c, cn, was_ready, st, detail);
    breaker_failure(c, cn, st, detail);
}

static void send_channels(redisx__conn *cn, const char *verb, redisx__channel *list, const char *one);
static void ssub_conn_ready(redisx_client *c, redisx__conn *cn);
static void ssub_push(redisx_client *c, redisx__conn *cn, redisx_reply *r);

/* The detail of a CONNECTED state: the endpoint, and a warning when its
 * certificate was not checked. */
static const char *connected_detail(const redisx_client *c, const redisx__conn *cn, char *buf, size_t n)
{
    if (!cn->tls || !c->opts.tls_insecure)
        return cn->endpoint;
    snprintf(buf, n, "%s (TLS, certificate NOT verified: insecure_skip_verify)", cn->endpoint);
    return buf;
}

static void conn_ready(redisx_client *c, redisx__conn *cn)
{
    char buf[400];
    if (cn->is_sub) {
        cn->state = CONN_READY;
        cn->failures = 0;
        cn->ever_connected = 1;
        redisx__log(c, REDISX_LOG_DEBUG, "subscriber connection to %s ready", cn->endpoint);
        emit_state(c, cn, REDISX_STATE_CONNECTED, connected_detail(c, cn, buf, sizeof buf));
        if (c->cluster && cn->node >= 0)
            ssub_conn_ready(c, cn);
        else
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
    emit_state(c, cn, REDISX_STATE_CONNECTED, connected_detail(c, cn, buf, sizeof buf));
    /* Whatever waited for a connection goes out now, oldest first. */
    if (c->cluster) {
        cluster_drain(c);
        return;
    }
    redisx__cmd *cmd;
    while ((cmd = fifo_pop(&c->wait_head, &c->wait_tail)))
        dispatch(c, cmd);
}

/* BCAST mode (redisx_options_set_cache_tracking_bcast): the subscriber
 * connection registers its own tracking, redirected to itself, for every
 * key under {prefix}:cache:, before it subscribes to __redis__:invalidate
 * (a subscribed RESP2 connection can no longer ask). Data connections then
 * track nothing. 0 when sent. */
static int track_bcast_send(redisx_client *c, redisx__conn *cn, long long id)
{
    char idb[24];
    redisx__fmt_i64(idb, id);
    size_t n = strlen(c->opts.prefix) + sizeof ":cache:";
    char *prefix = malloc(n);
    if (!prefix)
        return -1;
    snprintf(prefix, n, "%s:cache:", c->opts.prefix);
    const char *a[] = {"CLIENT", "TRACKING", "on", "REDIRECT", idb, "BCAST", "PREFIX", prefix};
    redisx__cmd *cmd = redisx__cmd_argv(8, a, NULL);
    free(prefix);
    if (!cmd)
        return -1;
    cmd->internal = REDISX__CMD_TRACKING;
    cmd->track_gen = c->track_gen;
    conn_push(cn, cmd);
    return 0;
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

/* The byte stream is up (TCP, TLS or unix): start AUTH/SELECT, or serve at
 * once. */
static void conn_session(redisx_client *c, redisx__conn *cn)
{
    cn->reader = reader_new();
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
    if (c->sentinel) {
        /* What the sentinels named may have been demoted since: only a
         * master serves (else the handshake fails and they are asked
         * again). */
        redisx__cmd *cmd = redisx__cmd_argv(1, (const char *[]){"ROLE"}, NULL);
        if (cmd) {
            cmd->internal = REDISX__CMD_ROLE;
            conn_push(cn, cmd);
            cn->handshake_left++;
        }
        rc |= !cmd;
    }
    if (cn->is_sub && (!c->cluster || cn->node >= 0) && c->track_want) {
        /* Its id, for data connections' CLIENT TRACKING ... REDIRECT. */
        const char *a[] = {"CLIENT", "ID"};
        redisx__cmd *cmd = redisx__cmd_argv(2, a, NULL);
        if (cmd) {
            cmd->internal = REDISX__CMD_CLIENT_ID;
            conn_push(cn, cmd);
            cn->handshake_left++;
        } else {
            rc = -1;
        }
    }
    if (cn->handshake_left == 0 && (cn->tls || breaker_of(c, cn->node)->state != REDISX__BREAKER_CLOSED)) {
        /* With TLS 1.3 the client's handshake ends before the server has
         * checked its certificate: a refusal (certificate required) comes
         * with the first reply. One PING makes it a failed connect (with
         * backoff and the reason in every waiting command) rather than a
         * connection lost, and retried at once, after each success. Under
         * an open circuit breaker only an answer shows that the server is
         * back (a frozen one still accepts connections): the PING's closes
         * the breaker at once. */
        const char *a[] = {"PING"};
        rc |= push_handshake(cn, 1, a);
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

/* The TLS handshake, one step per readiness of the socket. */
static void conn_tls_step(redisx_client *c, redisx__conn *cn)
{
    char why[REDISX__DETAIL - 320];
    short want = POLLIN;
    int r = redisx__tls_handshake(cn->tls, &want, why, sizeof why);
    c->loop_dirty = 1;
    if (r == 0) {
        cn->tls_rwant = want;
        return;
    }
    cn->tls_rwant = 0;
    if (r < 0) {
        char detail[REDISX__DETAIL];
        snprintf(detail, sizeof detail, "%s: %s", cn->endpoint, why);
        conn_reset(c, cn, REDISX_ERR_CONNECTION, detail);
        return;
    }
    char desc[128];
    redisx__log(c, REDISX_LOG_DEBUG, "connection %d to %s: %s", cn->idx, cn->endpoint,
                redisx__tls_describe(cn->tls, desc, sizeof desc));
    if (c->opts.tls_insecure)
        redisx__log(c, REDISX_LOG_WARN,
                    "connection %d to %s: TLS certificate NOT verified (insecure_skip_verify): anyone on the path "
                    "can impersonate the server",
                    cn->idx, cn->endpoint);
    conn_session(c, cn);
}

/* TCP (or unix) connection is up: TLS first if the client speaks it. */
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
    if (!c->tls_ctx) {
        conn_session(c, cn);
        return;
    }
    char why[REDISX__DETAIL - 320];
    cn->tls = redisx__tls_new(c->tls_ctx, cn->fd,
                              (c->cluster || c->sentinel) && !c->opts.tls_server_name ? cn->host : c->tls_name, why,
                              sizeof why);
    if (!cn->tls) {
        char detail[REDISX__DETAIL];
        snprintf(detail, sizeof detail, "%s: %s", cn->endpoint, why);
        conn_reset(c, cn, REDISX_ERR_CONNECTION, detail);
        return;
    }
    cn->state = CONN_TLS;
    conn_tls_step(c, cn);
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

/* ---- name resolution -------------------------------------------------------
 *
 * getaddrinfo() may take seconds (a slow or unreachable DNS server), and the
 * I/O thread must never wait for it: it serves every other connection of
 * the client, its timers (lock renewals) and every deadline. So a host name
 * is looked up on a thread of its own, started for this one lookup and
 * detached; the I/O thread waits for it in its loop (CONN_RESOLVING, under
 * the connect deadline) and is woken through the client's eventfd when the
 * answer is there. IP literals and unix sockets need no lookup and connect
 * at once, on the I/O thread.
 *
 * Why a detached thread per lookup: lookups happen only when a connection
 * is (re)established, so a thread's cost is nothing beside the round trips
 * that follow, and a lookup that hangs holds nothing but its own request.
 * getaddrinfo_a() would not do better: it runs its lookups on glibc's
 * process-wide helper threads (state that another user of it in the same
 * process shares), cannot cancel a lookup under way, and its SIGEV_THREAD
 * notification starts a thread per answer anyway. A resolver thread per
 * client would have to be detached as well when close finds it stuck, and
 * would serialize the lookups of the client's connections.
 *
 * The request is shared by the two sides and freed by whichever finishes
 * last (refs). Its answer is used only if it arrives while an attempt of
 * the connection waits for it; an attempt that times out leaves its lookup
 * running, and the connection's next attempt waits for that same lookup
 * instead of starting a second one (at most one resolver thread per
 * connection). An answer that arrives while no attempt waits (during the
 * backoff, or after close) is discarded. Once the connection lets go
 * (`abandoned`, under the request's mutex, before the client can be freed)
 * the resolver thread touches nothing but the request. */

int (*redisx__resolve_hook)(const char *host, const char *port, const struct addrinfo *hints,
                            struct addrinfo **res);

struct resolve_req {
    pthread_mutex_t mu;
    int refs; /* the connection's and the resolver thread's */
    int done;
    int abandoned; /* the connection let go: do not wake the client */
    redisx_client *client; /* valid while !abandoned */
    int gai; /* getaddrinfo's result */
    int err; /* errno after it, for EAI_SYSTEM */
    struct addrinfo *list;
    char port[8];
    char host[]; /* copied: the lookup may outlive the client */
};

static const struct addrinfo resolve_hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};

/* Drops one side's reference; the other side may still hold one. */
static void resolve_unref_locked(resolve_req *rq)
{
    int last = --rq->refs == 0;
    pthread_mutex_unlock(&rq->mu);
    if (!last)
        return;
    if (rq->list)
        freeaddrinfo(rq->list);
    pthread_mutex_destroy(&rq->mu);
    free(rq);
}

static void *resolve_main(void *arg)
{
    resolve_req *rq = arg;
    struct addrinfo *list = NULL;
    int gai = redisx__resolve_hook ? redisx__resolve_hook(rq->host, rq->port, &resolve_hints, &list)
                                   : getaddrinfo(rq->host, rq->port, &resolve_hints, &list);
    pthread_mutex_lock(&rq->mu);
    rq->gai = gai;
    rq->err = errno;
    rq->list = gai == 0 ? list : NULL;
    rq->done = 1;
    if (!rq->abandoned)
        redisx__wake(rq->client); /* the client lives until the connection lets go */
    resolve_unref_locked(rq);
    return NULL;
}

/* I/O thread: the connection lets go of its lookup (a late or unread
 * answer is discarded with it). */
static void resolve_release(redisx__conn *cn)
{
    resolve_req *rq = cn->resolve;
    if (!rq)
        return;
    cn->resolve = NULL;
    pthread_mutex_lock(&rq->mu);
    rq->abandoned = 1;
    resolve_unref_locked(rq);
}

static int resolve_is_done(resolve_req *rq)
{
    pthread_mutex_lock(&rq->mu);
    int done = rq->done;
    pthread_mutex_unlock(&rq->mu);
    return done;
}

/* Starts the lookup of the client's host on a detached thread. Returns 0,
 * or an error number when no thread could be started. */
static int resolve_start(redisx_client *c, redisx__conn *cn)
{
    size_t hlen = strlen(cn->host) + 1;
    resolve_req *rq = calloc(1, sizeof *rq + hlen);
    if (!rq)
        return ENOMEM;
    pthread_mutex_init(&rq->mu, NULL);
    rq->refs = 2;
    rq->client = c;
    memcpy(rq->host, cn->host, hlen);
    snprintf(rq->port, sizeof rq->port, "%d", cn->port);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    /* The resolver thread takes no signals: the application's handlers keep
     * running on its own threads (the mask is per thread; nothing global). */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pthread_t t;
    int err = pthread_create(&t, &attr, resolve_main, rq);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&attr);
    if (err != 0) {
        pthread_mutex_destroy(&rq->mu);
        free(rq);
        return err;
    }
    cn->resolve = rq;
    return 0;
}

/* I/O thread, CONN_RESOLVING: connects once the answer is there. */
static void resolve_poll(redisx_client *c, redisx__conn *cn)
{
    resolve_req *rq = cn->resolve;
    pthread_mutex_lock(&rq->mu);
    if (!rq->done) {
        pthread_mutex_unlock(&rq->mu);
        return;
    }
    int gai = rq->gai, err = rq->err;
    cn->ai_list = rq->list; /* the connection owns the list now */
    rq->list = NULL;
    pthread_mutex_unlock(&rq->mu);
    resolve_release(cn);
    if (gai != 0) {
        char detail[REDISX__DETAIL];
        snprintf(detail, sizeof detail, "resolve %s: %s", cn->host,
                 gai == EAI_SYSTEM ? strerror(err) : gai_strerror(gai));
        conn_reset(c, cn, REDISX_ERR_CONNECTION, detail);
        return;
    }
    cn->ai_cur = cn->ai_list;
    connect_next(c, cn, "no address");
}

static void conn_open(redisx_client *c, redisx__conn *cn);

static void conn_start(redisx_client *c, redisx__conn *cn)
{
    if (cn->ever_connected || cn->failures > 0)
        emit_state(c, cn, REDISX_STATE_RECONNECTING, cn->endpoint);
    if (c->sentinel) {
        /* The sentinels first (sentinel_tick opens it once they answer). */
        cn->state = CONN_LOOKUP;
        c->loop_dirty = 1;
        return;
    }
    conn_open(c, cn);
}

/* Connects to cn->host:cn->port (or the unix path). */
static void conn_open(redisx_client *c, redisx__conn *cn)
{
    /* The connect timeout covers the lookup and the connect. */
    cn->connect_deadline = redisx__now_ns() + (uint64_t)c->opts.connect_timeout_ms * REDISX__NS_PER_MS;
    if (c->ep.is_unix) {
        if (start_socket(c, cn) != 0) {
            char detail[REDISX__DETAIL];
            snprintf(detail, sizeof detail, "connect %s: %s", cn->endpoint, strerror(errno));
            conn_reset(c, cn, REDISX_ERR_CONNECTION, detail);
        }
        return;
    }
    /* An IP literal (the common case for Redis) is parsed here and now:
     * AI_NUMERICHOST never asks a resolver. */
    struct addrinfo hints = resolve_hints;
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
    char port[8];
    snprintf(port, sizeof port, "%d", cn->port);
    int gai = getaddrinfo(cn->host, port, &hints, &cn->ai_list);
    if (gai == EAI_NONAME) {
        /* A host name: looked up on a resolver thread, unless the lookup of
         * an earlier attempt still runs (this attempt waits for it). */
        cn->ai_list = NULL;
        if (cn->resolve && resolve_is_done(cn->resolve))
            resolve_release(cn); /* answered while no attempt waited: stale */
        int err = cn->resolve ? 0 : resolve_start(c, cn);
        if (err != 0) {
            char detail[REDISX__DETAIL];
            snprintf(detail, sizeof detail, "resolve %s: cannot start a resolver thread: %s", cn->host,
                     strerror(err));
            conn_reset(c, cn, err == ENOMEM ? REDISX_ERR_NOMEM : REDISX_ERR_CONNECTION, detail);
            return;
        }
        cn->state = CONN_RESOLVING;
        c->loop_dirty = 1;
        redisx__log(c, REDISX_LOG_DEBUG, "connection %d: resolving %s", cn->idx, cn->host);
        return;
    }
    if (gai != 0) {
        char detail[REDISX__DETAIL];
        snprintf(detail, sizeof detail, "resolve %s: %s", cn->host, gai_strerror(gai));
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

/* ---- sentinel ---------------------------------------------------------------
 *
 * In sentinel mode (redis+sentinel://, redisx_options_set_sentinels) every
 * connect starts with the sentinels: a connection that goes down waits in
 * CONN_LOOKUP for a lookup (sentinel.c, on a thread of its own) that
 * started after it went down, so each reconnect asks again and follows a
 * failover; connections that drop together share one lookup. The
 * handshake then checks ROLE (a demoted master is dropped and the
 * sentinels asked again, with the reconnect backoff), and a READONLY
 * reply (a write that reached a master demoted under us) resets the
 * connection, the refused command going out again once a master is
 * found. A lookup that fails (no sentinel answers, none knows the master)
 * fails every waiting command at once with its detail, and new ones too
 * until a lookup answers: no command waits out its deadline for a master
 * nobody can name. */

static void sentinel_fail_waiting(redisx_client *c)
{
    char detail[REDISX__DETAIL + 64];
    snprintf(detail, sizeof detail, "no master: %s", c->conn_error);
    redisx__cmd *cmd;
    while ((cmd = fifo_pop(&c->wait_head, &c->wait_tail)))
        complete(cmd, REDISX_ERR_CONNECTION, NULL, detail);
}

static void sentinel_answer(redisx_client *c)
{
    char host[256], detail[REDISX__DETAIL];
    int port = 0;
    size_t which = 0;
    int ok = redisx__sentinel_query_result(c->sq, host, sizeof host, &port, &which, detail, sizeof detail);
    redisx__sentinel_query_release(c->sq);
    c->sq = NULL;
    if (ok) {
        if (!c->master_ok || strcmp(host, c->master_host) != 0 || port != c->master_port)
            redisx__log(c, REDISX_LOG_INFO, "sentinel %s:%d: master '%s' is at %s:%d",
                        c->ep.sentinels[which].host, c->ep.sentinels[which].port, c->ep.master_name, host, port);
        snprintf(c->master_host, sizeof c->master_host, "%s", host);
        c->master_port = port;
        c->master_ok = 1;
        c->master_at = c->sq_started;
        c->sentinel_next = which;
        c->sentinel_down = 0;
        return;
    }
    c->master_ok = 0;
    c->sentinel_down = 1;
    c->sentinel_failed_at = c->sq_started;
    c->conn_status = REDISX_ERR_CONNECTION;
    snprintf(c->conn_error, sizeof c->conn_error, "%s", detail);
    redisx__log(c, REDISX_LOG_WARN, "%s", detail);
    sentinel_fail_waiting(c);
}

/* I/O thread, every turn: takes a lookup's answer, opens the connections
 * that waited for it, starts a lookup for those that need a newer one. */
static void sentinel_watch(redisx_client *c)
{
    if (!c->watch_tried && !c->closing_seen) {
        c->watch_tried = 1;
        c->watch = redisx__sentinel_watch_start(c, &c->opts, &c->ep, c->tls_ctx != NULL);
        if (!c->watch)
            redisx__log(c, REDISX_LOG_WARN, "sentinel: no +switch-master watcher (%s); reconnects still ask the "
                        "sentinels", redisx__last_error_buf);
    }
    if (!c->watch)
        return;
    char host[256], sub_to[300];
    int port = 0;
    int what = redisx__sentinel_watch_poll(c->watch, host, sizeof host, &port, sub_to, sizeof sub_to);
    if (what & 1)
        redisx__log(c, REDISX_LOG_DEBUG, "sentinel %s: watching +switch-master for '%s'", sub_to,
                    c->ep.master_name);
    if (!(what & 2))
        return;
    /* A hint: connections elsewhere reconnect (and ask the sentinels). */
    char detail[REDISX__DETAIL];
    snprintf(detail, sizeof detail, "sentinels announced +switch-master: '%s' is now at %s:%d; reconnecting",
             c->ep.master_name, host, port);
    redisx__log(c, REDISX_LOG_INFO, "%s", detail);
    for (int i = 0; i <= c->nconns; i++) {
        redisx__conn *cn = c->conns[i];
        if (cn->state == CONN_DOWN || cn->state == CONN_LOOKUP || cn->borrowed)
            continue;
        if (cn->port == port && strcmp(cn->host, host) == 0)
            continue;
        conn_reset(c, cn, REDISX_ERR_CONNECTION, detail);
    }
    /* The announced address serves as the answer for these reconnects (a
     * sentinel asked now may not have heard of the switch yet); ROLE still
     * checks it. */
    snprintf(c->master_host, sizeof c->master_host, "%s", host);
    c->master_port = port;
    c->master_ok = 1;
    c->sentinel_down = 0;
    c->master_at = redisx__now_ns();
}

static void sentinel_tick(redisx_client *c)
{
    sentinel_watch(c);
    if (c->sq && redisx__sentinel_query_done(c->sq))
        sentinel_answer(c);
    int need = 0;
    for (int i = 0; i <= c->nconns; i++) {
        redisx__conn *cn = c->conns[i];
        if (cn->state != CONN_LOOKUP)
            continue;
        if (c->master_ok && c->master_at >= cn->down_at) {
            snprintf(cn->master_host, sizeof cn->master_host, "%s", c->master_host);
            cn->host = cn->master_host;
            cn->port = c->master_port;
            set_endpoint(cn, 0);
            cn->state = CONN_DOWN;
            conn_open(c, cn);
        } else if (!c->master_ok && c->sentinel_failed_at && c->sentinel_failed_at >= cn->down_at) {
            char detail[REDISX__DETAIL];
            snprintf(detail, sizeof detail, "%s", c->conn_error);
            conn_reset(c, cn, REDISX_ERR_CONNECTION, detail);
        } else {
            need = 1;
        }
    }
    if (!need || c->sq || c->closing_seen)
        return;
    c->sq_started = redisx__now_ns();
    c->sq = redisx__sentinel_query_start(c, &c->opts, &c->ep, c->tls_ctx != NULL, c->sentinel_next);
    if (!c->sq) {
        c->master_ok = 0;
        c->sentinel_down = 1;
        c->sentinel_failed_at = c->sq_started;
        c->conn_status = REDISX_ERR_CONNECTION;
        snprintf(c->conn_error, sizeof c->conn_error, "sentinel lookup: %.900s", redisx__last_error_buf);
        sentinel_fail_waiting(c);
    }
    c->loop_dirty = 1;
}

/* A ROLE reply of the handshake: 0 when it says master, else -1 with detail. */
static int role_is_master(const redisx__conn *cn, const redisx_reply *r, char *detail, size_t dlen)
{
    if (r->type == REDISX_REPLY_ARRAY && r->elements > 0 && r->element[0]->type == REDISX_REPLY_STRING &&
        strcmp(r->element[0]->str, "master") == 0)
        return 0;
    if (r->type == REDISX_REPLY_ARRAY && r->elements > 0 && r->element[0]->type == REDISX_REPLY_STRING)
        snprintf(detail, dlen, "%s says ROLE %s, not master (a failover under way?): asking the sentinels again",
                 cn->endpoint, r->element[0]->str);
    else if (r->type == REDISX_REPLY_ERROR)
        snprintf(detail, dlen, "ROLE refused by %s: %.*s", cn->endpoint, (int)r->len, r->str);
    else
        snprintf(detail, dlen, "%s answered ROLE with something other than a role", cn->endpoint);
    return -1;
}

/* ---- reading and writing ------------------------------------------------ */

/* Why a connection may drop before its first reply: a TLS-only port resets
 * a plain client; a server that requires a client certificate closes a TLS
 * connection right after the handshake (TLS 1.3 checks it only then, and
 * its alert is lost when our write meets the reset first). */
static const char *tls_hint(const redisx__conn *cn)
{
    if (cn->got_bytes || cn->npend == 0)
        return ""; /* answered before, or idle (a server timeout closes those) */
    return cn->tls ? " right after the TLS handshake (does the server require a client certificate? see "
                     "redisx_options_set_tls_client_cert)"
                   : " before any reply (a TLS-only port? then use rediss://)";
}

/* recv() on the connection, through TLS when it has it. Returns like
 * recv(); on an error other than EINTR/EAGAIN, detail says what failed. */
static ssize_t conn_recv(redisx__conn *cn, char *buf, size_t n, char *detail, size_t dlen)
{
    if (!cn->tls) {
        ssize_t r = recv(cn->fd, buf, n, 0);
        if (r < 0 && errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK)
            snprintf(detail, dlen, "read from %s: %s%s", cn->endpoint, strerror(errno), tls_hint(cn));
        return r;
    }
    char why[480];
    short want = POLLIN;
    ssize_t r = redisx__tls_recv(cn->tls, buf, n, &want, why, sizeof why);
    int err = errno;
    cn->tls_rwant = r < 0 && err == EAGAIN ? want : 0;
    if (r < 0 && err != EAGAIN)
        snprintf(detail, dlen, "read from %s: %s%s", cn->endpoint, why, err == EPROTO ? "" : tls_hint(cn));
    errno = err;
    return r;
}

/* send() of the unwritten part of the write buffer, through TLS when it has
 * it (a write that waited is repeated with the same length: the buffer
 * only grows at its end meanwhile). `flags` adds to MSG_NOSIGNAL. */
static ssize_t conn_send(redisx__conn *cn, int flags, char *detail, size_t dlen)
{
    size_t len = cn->wlen - cn->woff;
    if (!cn->tls) {
        ssize_t r = send(cn->fd, cn->wbuf + cn->woff, len, MSG_NOSIGNAL | flags);
        if (r < 0 && errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK)
            snprintf(detail, dlen, "write to %s: %s", cn->endpoint, strerror(errno));
        return r;
    }
    if (cn->tls_wretry && cn->tls_wretry <= len)
        len = cn->tls_wretry;
    char why[480];
    short want = POLLOUT;
    ssize_t r = redisx__tls_send(cn->tls, cn->wbuf + cn->woff, len, &want, why, sizeof why);
    int err = errno;
    if (r < 0 && err == EAGAIN) {
        cn->tls_wretry = len;
        cn->tls_wwant = want;
    } else {
        cn->tls_wretry = 0;
        cn->tls_wwant = 0;
    }
    if (r < 0 && err != EAGAIN)
        snprintf(detail, dlen, "write to %s: %s%s", cn->endpoint, why, err == EPROTO ? "" : tls_hint(cn));
    errno = err;
    return r;
}

/* A plain connection whose first bytes are a TLS record (an alert or a
 * handshake: 0x15 or 0x16, then 0x03) went to a TLS port. */
static int plain_meets_tls(redisx__conn *cn, const char *buf, ssize_t n, char *detail, size_t dlen)
{
    int first = !cn->got_bytes;
    cn->got_bytes = 1;
    if (cn->tls || !first || n < 2 || (buf[0] != 0x15 && buf[0] != 0x16) || buf[1] != 0x03)
        return 0;
    snprintf(detail, dlen, "the server at %s answered with TLS: use a rediss:// URL (or redisx_options_set_tls)",
             cn->endpoint);
    return 1;
}

/* Rewrites an EVALSHA command as EVAL of the script's body. EVAL cannot
 * answer NOSCRIPT (and caches the script again for the EVALSHAs that
 * follow), so a SCRIPT FLUSH, however often, never reaches the caller.
 * cmd->buf is "*N\r\n$7\r\nEVALSHA\r\n$40\r\n<sha1>\r\n<the rest>". */
static int cmd_to_eval(redisx__cmd *cmd)
{
    const redisx__script *s = cmd->script;
    static const char verb[] = "$7\r\nEVALSHA\r\n$40\r\n";
    const char *p = memchr(cmd->buf, '\n', cmd->len);
    if (!p)
        return -1;
    size_t head = (size_t)(p + 1 - cmd->buf); /* "*N\r\n" */
    size_t rest = head + sizeof verb - 1 + 40 + 2;
    if (rest > cmd->len || memcmp(cmd->buf + head, verb, sizeof verb - 1) != 0)
        return -1;
    char lenbuf[32];
    int ln = snprintf(lenbuf, sizeof lenbuf, "$4\r\nEVAL\r\n$%zu\r\n", s->len);
    size_t n = head + (size_t)ln + s->len + 2 + (cmd->len - rest);
    char *out = malloc(n);
    if (!out)
        return -1;
    memcpy(out, cmd->buf, head);
    memcpy(out + head, lenbuf, (size_t)ln);
    memcpy(out + head + ln, s->body, s->len);
    memcpy(out + head + ln + s->len, "\r\n", 2);
    memcpy(out + head + ln + s->len + 2, cmd->buf + rest, cmd->len - rest);
    if (!cmd_buf_inline(cmd))
        free(cmd->buf);
    cmd->buf = out;
    cmd->len = n;
    cmd->reloaded = 1;
    return 0;
}

static int is_noscript(const redisx__cmd *cmd, const redisx_reply *r)
{
    return cmd->script && !cmd->reloaded && r->type == REDISX_REPLY_ERROR && r->len >= 8 &&
           memcmp(r->str, "NOSCRIPT", 8) == 0;
}

static void noscript_noted(redisx_client *c, const redisx__cmd *cmd)
{
    redisx__stats_add_client(c, REDISX_CLIENT_SCRIPT_RELOADS, 1);
    redisx__log(c, REDISX_LOG_INFO, "script %s missing on the server (NOSCRIPT): sent as EVAL", cmd->script->name);
}

static void send_eval(redisx_client *c, redisx__conn *cn, redisx__cmd *cmd)
{
    if (cmd_to_eval(cmd) != 0) {
        complete(cmd, REDISX_ERR_NOMEM, NULL, "out of memory");
        return;
    }
    c->loop_dirty = 1;
    noscript_noted(c, cmd);
    if (cmd->asked && push_asking(cn) != 0) {
        complete(cmd, REDISX_ERR_NOMEM, NULL, "out of memory");
        return;
    }
    conn_push(cn, cmd);
}

#define TRACK_CHANNEL "__redis__:invalidate"

/* ["message", "__redis__:invalidate", keys]: an array of keys, or a null
 * (FLUSHALL, FLUSHDB: everything). */
static void on_invalidation(redisx_client *c, const redisx_reply *keys)
{
    if (keys->type == REDISX_REPLY_ARRAY) {
        for (size_t i = 0; i < keys->elements; i++)
            if (keys->element[i]->type == REDISX_REPLY_STRING)
                redisx__cache_invalidate_key(c, keys->element[i]->str, keys->element[i]->len);
    } else {
        redisx__cache_tracking_flush(c, 1);
    }
}

/* A push on the subscriber connection: ["message", channel, payload] or the
 * confirmations of (UN)SUBSCRIBE, which need no answer. */
static void on_push(redisx_client *c, redisx_reply *r)
{
    if (r->type == REDISX_REPLY_ARRAY && r->elements == 3 && r->element[0]->type == REDISX_REPLY_STRING &&
        r->element[1]->type == REDISX_REPLY_STRING) {
        const redisx_reply *k = r->element[0], *ch = r->element[1];
        int inval = ch->len == sizeof TRACK_CHANNEL - 1 && memcmp(ch->str, TRACK_CHANNEL, ch->len) == 0;
        const redisx_reply *pl = r->element[2];
        if (k->len == 7 && memcmp(k->str, "message", 7) == 0) {
            if (inval)
                on_invalidation(c, pl);
            else if (!(c->track_refused && pl->type == REDISX_REPLY_STRING &&
                       redisx__cache_fallback_message(c, ch->str, ch->len, pl->str, pl->len)))
                redisx__on_message(c, ch->str, ch->len);
        } else if (k->len == 9 && memcmp(k->str, "subscribe", 9) == 0 && c->track_want) {
            if (inval) {
                c->track_subscribed = 1; /* data connections may track now (track_sync) */
                c->loop_dirty = 1;
            } else if (c->track_refused && redisx__cache_fallback_confirmed(c, ch->str, ch->len)) {
                /* Reads in flight may have run before the subscription:
                 * only those sent from now on are cached. */
                c->track_gen++;
                c->loop_dirty = 1;
            }
        }
    }
    redisx__reply_free(r);
}

/* Returns -1 when the connection was reset. */
static int on_reply(redisx_client *c, redisx__conn *cn, redisx_reply *r)
{
    if (cn->is_sub && cn->state == CONN_READY) {
        if (c->cluster && cn->node >= 0)
            ssub_push(c, cn, r);
        else
            on_push(c, r);
        return 0;
    }
    redisx__cmd *cmd = fifo_pop(&cn->pend_head, &cn->pend_tail);
    if (!cmd) {
        redisx__reply_free(r);
        conn_reset(c, cn, REDISX_ERR_PROTOCOL, "reply without a pending command");
        return -1;
    }
    cn->npend--;
    if (cmd->internal == REDISX__CMD_ROLE) {
        char detail[REDISX__DETAIL] = "";
        int bad = role_is_master(cn, r, detail, sizeof detail);
        redisx__reply_free(r);
        redisx__cmd_free(cmd);
        if (bad) {
            redisx__log(c, REDISX_LOG_INFO, "%s", detail);
            conn_reset(c, cn, REDISX_ERR_CONNECTION, detail);
            return -1;
        }
        breaker_success(c, cn->node);
        if (--cn->handshake_left == 0)
            conn_ready(c, cn);
        return 0;
    }
    if (cmd->internal == REDISX__CMD_CLIENT_ID || cmd->internal == REDISX__CMD_TRACKING) {
        int tracking = cmd->internal == REDISX__CMD_TRACKING;
        uint64_t gen = cmd->track_gen;
        redisx__cmd_free(cmd);
        if (tracking) {
            track_reply(c, cn, gen, r);
            if (cn->is_sub && --cn->handshake_left == 0) /* BCAST: the subscriber's own registration */
                conn_ready(c, cn);
            return 0;
        }
        /* CLIENT ID: an old server (or a proxy) may refuse it: no tracking then. */
        long long id = r->type == REDISX_REPLY_INTEGER ? r->integer : 0;
        if (c->cluster && cn->node >= 0)
            c->nodes[cn->node].track_id = id;
        else
            c->track_id = id;
        redisx__reply_free(r);
        if (id > 0 && c->opts.tracking_bcast && track_bcast_send(c, cn, id) == 0)
            cn->handshake_left++; /* ready once the server answered it */
        if (--cn->handshake_left == 0)
            conn_ready(c, cn);
        return 0;
    }
    if (cmd->internal == REDISX__CMD_HANDSHAKE) {
        char detail[REDISX__DETAIL] = "";
        if (r->type == REDISX_REPLY_ERROR)
            snprintf(detail, sizeof detail, "handshake with %s refused: %.*s", cn->endpoint, (int)r->len, r->str);
        redisx__reply_free(r);
        redisx__cmd_free(cmd);
        if (detail[0]) {
            conn_reset(c, cn, REDISX_ERR_AUTH, detail);
            return -1;
        }
        breaker_success(c, cn->node);
        if (--cn->handshake_left == 0)
            conn_ready(c, cn);
        return 0;
    }
    if (cmd->internal == REDISX__CMD_ASKING) {
        redisx__reply_free(r); /* the command after it answers */
        redisx__cmd_free(cmd);
        return 0;
    }
    if (is_noscript(cmd, r)) {
        redisx__reply_free(r);
        send_eval(c, cn, cmd);
        return 0;
    }
    breaker_success(c, cn->node);
    if (c->cluster && r->type == REDISX_REPLY_ERROR && cluster_reply(c, cn, cmd, r))
        return 0;
    if (c->sentinel && r->type == REDISX_REPLY_ERROR && strncmp(r->str, "READONLY", 8) == 0) {
        /* A write reached a replica: the master we connected to was
         * demoted (a failover). The server refused it, so it goes out
         * again once the sentinels name the new master. */
        char detail[REDISX__DETAIL];
        snprintf(detail, sizeof detail, "%s answered READONLY: a replica now (a failover); asking the sentinels again",
                 cn->endpoint);
        redisx__log(c, REDISX_LOG_WARN, "%s", detail);
        int again = cmd->retries < MAX_RETRIES && cmd->deadline > redisx__now_ns();
        if (again) {
            cmd->retries++;
            redisx__reply_free(r);
        } else {
            complete(cmd, REDISX_OK, r, "");
        }
        conn_reset(c, cn, REDISX_ERR_CONNECTION, detail);
        if (again)
            dispatch(c, cmd);
        return -1;
    }
    complete(cmd, REDISX_OK, r, "");
    return 0;
}

static void conn_read(redisx_client *c, redisx__conn *cn)
{
    char buf[65536];
    for (;;) {
        char detail[REDISX__DETAIL];
        ssize_t n = conn_recv(cn, buf, sizeof buf, detail, sizeof detail);
        if (n == 0) {
            snprintf(detail, sizeof detail, "server closed the connection%s", tls_hint(cn));
            conn_reset(c, cn, REDISX_ERR_CONNECTION, detail);
            return;
        }
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return;
            conn_reset(c, cn, REDISX_ERR_CONNECTION, detail);
            return;
        }
        if (plain_meets_tls(cn, buf, n, detail, sizeof detail)) {
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
                snprintf(detail, sizeof detail, "protocol error: %s", cn->reader->errstr);
                conn_reset(c, cn, REDISX_ERR_PROTOCOL, detail);
                return;
            }
            if (!reply)
                break;
            if (on_reply(c, cn, reply) != 0)
                return;
        }
        /* A short read emptied the socket; with TLS, bytes may still wait
         * inside OpenSSL, which poll() never sees: read until it wants more. */
        if ((size_t)n < sizeof buf && !cn->tls)
            return;
    }
}

static void conn_write(redisx_client *c, redisx__conn *cn)
{
    while (cn->woff < cn->wlen) {
        char detail[REDISX__DETAIL];
        ssize_t n = conn_send(cn, 0, detail, sizeof detail);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return;
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
    c->loop_dirty = 1;
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
    /* Read the eventfd before clearing the flag: the other way round, a
     * wake in between is consumed while the flag stays set, and every later
     * wake (a borrower returning a connection that commands wait for) is
     * skipped until poll's timeout. */
    uint64_t v;
    ssize_t r = read(c->wake_fd, &v, sizeof v);
    (void)r;
    atomic_store(&c->wake_pending, 0);
    pthread_mutex_lock(&c->mu);
    redisx__cmd *list = c->sub_head;
    c->sub_head = c->sub_tail = NULL;
    pthread_mutex_unlock(&c->mu);
    while (list) {
        redisx__cmd *cmd = list;
        list = list->next;
        cmd->next = NULL;
        if (cmd->req)
            redisx__req_track(cmd->req);
        if (!cmd->buf)
            complete(cmd, c->closing_seen ? REDISX_ERR_CLOSED : REDISX_OK, NULL, "client is closing");
        else if (c->closing_seen)
            complete(cmd, REDISX_ERR_CLOSED, NULL, "client is closing");
        else
            dispatch(c, cmd);
    }
}

/* Commands that waited while every ready connection was borrowed. */
static void drain_waiting(redisx_client *c)
{
    if (c->cluster) {
        cluster_drain(c);
        return;
    }
    while (c->wait_head && pick_conn(c))
        dispatch(c, fifo_pop(&c->wait_head, &c->wait_tail));
}

static int any_ready(const redisx_client *c)
{
    for (int i = 0; i < c->nconns; i++)
        if (c->conns[i]->state == CONN_READY && !c->conns[i]->is_sub)
            return 1;
    return 0;
}

/* Cluster mode: the list is not in deadline order (redirected and
 * retried commands rejoin it), so all of it is looked at. */
static void cluster_expire_waiting(redisx_client *c, uint64_t now)
{
    redisx__cmd *list = c->wait_head;
    c->wait_head = c->wait_tail = NULL;
    while (list) {
        redisx__cmd *cmd = list;
        list = list->next;
        cmd->next = NULL;
        if (!c->closing_seen && cmd->deadline > now) {
            fifo_push(&c->wait_head, &c->wait_tail, cmd);
            continue;
        }
        if (c->closing_seen) {
            complete(cmd, REDISX_ERR_CLOSED, NULL, "client closed before a connection was available");
            continue;
        }
        char where[400];
        if (cmd->node >= 0)
            snprintf(where, sizeof where, "%s:%d", c->nodes[cmd->node].host, c->nodes[cmd->node].port);
        else if (!c->map)
            snprintf(where, sizeof where, "any cluster node (no slot map yet)");
        else
            snprintf(where, sizeof where, "the master of slot %d", cmd->slot);
        char detail[REDISX__DETAIL + 512];
        snprintf(detail, sizeof detail, "no connection to %s within %lld ms%s%s", where,
                 (long long)c->opts.command_timeout_ms, c->conn_error[0] ? ": " : " (still connecting)",
                 c->conn_error);
        complete(cmd, c->conn_status == REDISX_ERR_AUTH ? REDISX_ERR_AUTH : REDISX_ERR_CONNECTION, NULL, detail);
    }
}

static void expire_waiting(redisx_client *c, uint64_t now)
{
    if (c->cluster) {
        cluster_expire_waiting(c, now);
        return;
    }
    while (c->wait_head && (c->closing_seen || c->wait_head->deadline <= now)) {
        redisx__cmd *cmd = fifo_pop(&c->wait_head, &c->wait_tail);
        char detail[REDISX__DETAIL + 512];
        if (c->closing_seen) {
            complete(cmd, REDISX_ERR_CLOSED, NULL, "client closed before a connection was available");
            continue;
        }
        if (any_ready(c)) { /* ready, but borrowed by blocking calls all along */
            snprintf(detail, sizeof detail, "no reply from %s within %lld ms (waited for a busy connection)",
                     c->conns[0]->endpoint, (long long)c->opts.command_timeout_ms);
            complete(cmd, REDISX_ERR_TIMEOUT, NULL, detail);
            continue;
        }
        snprintf(detail, sizeof detail, "no connection to %s within %lld ms%s%s", c->conns[0]->endpoint,
                 (long long)c->opts.command_timeout_ms, c->conn_error[0] ? ": " : " (still connecting)",
                 c->conn_error);
        complete(cmd, c->conn_status == REDISX_ERR_AUTH ? REDISX_ERR_AUTH : REDISX_ERR_CONNECTION, NULL, detail);
    }
}

static void check_conn_deadlines(redisx_client *c, redisx__conn *cn, uint64_t now)
{
    if (cn->state == CONN_RESOLVING && now >= cn->connect_deadline) {
        /* The lookup goes on: the next attempt waits for it (see above). */
        char detail[REDISX__DETAIL];
        snprintf(detail, sizeof detail, "resolve %s: timed out after %lld ms", cn->host,
                 (long long)c->opts.connect_timeout_ms);
        conn_reset(c, cn, REDISX_ERR_CONNECTION, detail);
        return;
    }
    if ((cn->state == CONN_CONNECTING || cn->state == CONN_TLS || cn->state == CONN_HANDSHAKE) &&
        now >= cn->connect_deadline) {
        char detail[REDISX__DETAIL];
        if (cn->state == CONN_TLS)
            snprintf(detail, sizeof detail,
                     "TLS handshake with %s: timed out after %lld ms (is the server speaking TLS on that port?)",
                     cn->endpoint, (long long)c->opts.connect_timeout_ms);
        else
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
        for (redisx__cmd *cmd = c->conns[i]->pend_head; cmd; cmd = cmd->next)
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
    int *pconn = calloc((size_t)c->nconns + 2, sizeof *pconn);
    int pfd_cap = c->nconns + 2;
    redisx_client *prev = loop_enter(c);
    if (!pfd || !pconn) {
        redisx__log(c, REDISX_LOG_ERROR, "out of memory starting the I/O loop");
        loop_leave(c, prev);
        free(pfd);
        free(pconn);
        return;
    }
    for (;;) {
        if (!c->closing_seen && atomic_load(&c->closing)) {
            c->closing_seen = 1;
            redisx__log(c, REDISX_LOG_DEBUG, "closing: cancelling waits and renewals");
        }
        take_submissions(c);
        uint64_t now = redisx__now_ns();
        if (c->cluster && c->refresh_wanted && !c->refresh_inflight && !c->closing_seen && now >= c->refresh_next)
            refresh_start(c);
        if (c->sentinel)
            sentinel_tick(c);
        drain_waiting(c);
        track_sync(c);
        run_timers(c, now);
        expire_waiting(c, now);

        for (int i = 0; i <= c->nconns; i++) {
            redisx__conn *cn = c->conns[i];
            if (cn->borrowed)
                continue; /* its borrower does its I/O and keeps its deadline */
            if (cn->state == CONN_RESOLVING)
                resolve_poll(c, cn);
            else if (cn->resolve && resolve_is_done(cn->resolve))
                resolve_release(cn); /* answered between attempts: discarded */
            if (cn->state == CONN_DOWN && !c->closing_seen && now >= cn->next_attempt)
                conn_start(c, cn);
            check_conn_deadlines(c, cn, now);
            if (cn->fd >= 0 && cn->state != CONN_CONNECTING && cn->state != CONN_TLS && cn->woff < cn->wlen &&
                cn->tls_wwant != POLLIN)
                conn_write(c, cn);
            /* What OpenSSL holds already (a blocking caller's read left it
             * there) never wakes poll(). */
            if (cn->fd >= 0 && cn->tls && cn->state >= CONN_HANDSHAKE && redisx__tls_pending(cn->tls))
                conn_read(c, cn);
        }

        if (c->closing_seen && !user_pending(c)) {
            pthread_mutex_lock(&c->mu);
            int more = c->sub_head != NULL;
            if (!more) {
                c->io_exited = 1;
                pthread_cond_broadcast(&c->io_cv);
            }
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
        for (redisx__cmd *w = c->cluster && c->wait_head ? c->wait_head->next : NULL; w; w = w->next)
            wake = min_u64(wake, w->deadline);
        if (c->cluster && c->refresh_wanted && !c->refresh_inflight && !c->closing_seen)
            wake = min_u64(wake, c->refresh_next);
        if (c->nconns + 2 > pfd_cap) { /* a cluster node was added */
            int cap = c->nconns + 2;
            struct pollfd *np = realloc(pfd, (size_t)cap * sizeof *np);
            if (np)
                pfd = np;
            int *nc = realloc(pconn, (size_t)cap * sizeof *nc);
            if (nc)
                pconn = nc;
            if (np && nc)
                pfd_cap = cap;
        }
        int n = 0, due = 0;
        pfd[n++] = (struct pollfd){.fd = c->wake_fd, .events = POLLIN};
        for (int i = 0; i <= c->nconns && n < pfd_cap; i++) {
            redisx__conn *cn = c->conns[i];
            cn->polled = 0;
            if (cn->state == CONN_READY && cn->npend > 0 && !cn->borrowed)
                due = 1;
            if (cn->state == CONN_DOWN) {
                if (!c->closing_seen)
                    wake = min_u64(wake, cn->next_attempt);
                continue;
            }
            if (cn->state == CONN_LOOKUP) {
                /* A lookup under way wakes us when done (eventfd); none yet:
                 * sentinel_tick starts one at once. */
                if (!c->sq)
                    wake = now;
                continue;
            }
            if (cn->state == CONN_RESOLVING) {
                /* No socket yet: the resolver thread wakes us (eventfd). */
                wake = min_u64(wake, cn->connect_deadline);
                continue;
            }
            if (cn->borrowed)
                continue;
            short ev = POLLIN;
            if (cn->state == CONN_TLS)
                ev = cn->tls_rwant ? cn->tls_rwant : POLLIN;
            else if (cn->state == CONN_CONNECTING || (cn->woff < cn->wlen && cn->tls_wwant != POLLIN) ||
                     cn->tls_rwant == POLLOUT)
                ev |= POLLOUT;
            pconn[n] = i;
            pfd[n++] = (struct pollfd){.fd = cn->fd, .events = ev};
            cn->polled = 1;
            if (cn->state != CONN_READY)
                wake = min_u64(wake, cn->connect_deadline);
            else if (cn->pend_head && cn->pend_head->deadline)
                wake = min_u64(wake, cn->pend_head->deadline);
        }
        c->poll_until = wake;
        c->loop_dirty = 0; /* from here on: what changes the sleep's plan */
        int timeout_ms = wake <= now ? 0 : (int)((wake - now + REDISX__NS_PER_MS - 1) / REDISX__NS_PER_MS);
        uint64_t spin_ns = due && timeout_ms > 0 ? (uint64_t)c->opts.busy_poll_us * 1000u : 0;
        loop_leave(c, prev);
        int rc = 0;
        if (spin_ns) { /* busy polling: replies are due */
            uint64_t until = redisx__now_ns() + spin_ns;
            while ((rc = poll(pfd, (nfds_t)n, 0)) == 0 && redisx__now_ns() < until)
                ;
        }
        if (rc == 0)
            rc = poll(pfd, (nfds_t)n, timeout_ms);
        int err = errno;
        prev = loop_enter(c);
        if (rc < 0 && err != EINTR) {
            redisx__log(c, REDISX_LOG_ERROR, "poll: %s", strerror(err));
            continue;
        }
        if (rc <= 0)
            continue;
        for (int k = 1; k < n; k++) {
            redisx__conn *cn = c->conns[pconn[k]];
            short re = pfd[k].revents;
            /* Borrowed or reset while we slept: the revents are stale. */
            if (!re || !cn->polled || cn->borrowed || cn->fd != pfd[k].fd)
                continue;
            if (cn->state == CONN_CONNECTING) {
                if (re & (POLLOUT | POLLERR | POLLHUP))
                    conn_connect_done(c, cn);
                continue;
            }
            if (cn->state == CONN_TLS) {
                conn_tls_step(c, cn);
                continue;
            }
            if ((re & (POLLIN | POLLERR | POLLHUP)) || (cn->tls_rwant == POLLOUT && (re & POLLOUT)))
                conn_read(c, cn);
            if (cn->fd >= 0 && cn->woff < cn->wlen &&
                ((re & POLLOUT) || (cn->tls_wwant == POLLIN && (re & POLLIN))))
                conn_write(c, cn);
        }
    }
    loop_leave(c, prev);
    free(pfd);
    free(pconn);
}

/* ---- direct submissions: no hand-off to the I/O thread ------------------ */

static redisx__conn *idle_conn(redisx_client *c)
{
    for (int i = 0; i < c->nconns; i++) {
        redisx__conn *cn = c->conns[i];
        if (cn->state == CONN_READY && !cn->is_sub && !cn->borrowed && cn->npend == 0 && cn->woff == cn->wlen)
            return cn;
    }
    return NULL;
}

/* An idle connection nobody polled may have been closed by the server (or
 * have sent something unasked): find out before using it, as the I/O thread
 * would have. Returns 0 when it is usable. Under the loop lock. */
static int check_idle(redisx_client *c, redisx__conn *cn)
{
    if (!cn->tls || !redisx__tls_pending(cn->tls)) {
        char b;
        ssize_t n = recv(cn->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return 0;
    }
    conn_read(c, cn); /* EOF, an error or unasked data: it resets */
    /* TLS records that carry no reply (a session ticket, a key update)
     * leave the connection as it was. */
    return cn->tls && cn->state == CONN_READY && cn->npend == 0 ? 0 : -1;
}

static int ms_until(uint64_t deadline)
{
    uint64_t now = redisx__now_ns();
    if (deadline <= now)
        return 0;
    uint64_t ms = (deadline - now + REDISX__NS_PER_MS - 1) / REDISX__NS_PER_MS;
    return ms > INT32_MAX ? INT32_MAX : (int)ms;
}

/* One round trip on a borrowed connection, without the loop lock: writes
 * the buffer, then reads until the reader holds one reply. */
static redisx_status borrowed_round_trip(redisx__conn *cn, uint64_t deadline, uint64_t spin_ns, redisx_reply **out,
                                         char *detail, size_t dlen)
{
    while (cn->woff < cn->wlen) {
        ssize_t n = conn_send(cn, 0, detail, dlen);
        if (n >= 0) {
            cn->woff += (size_t)n;
            continue;
        }
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            return REDISX_ERR_CONNECTION;
        struct pollfd p = {.fd = cn->fd, .events = cn->tls_wwant ? cn->tls_wwant : POLLOUT};
        int rc = poll(&p, 1, ms_until(deadline));
        if (rc == 0)
            goto timeout;
    }
    cn->woff = cn->wlen = 0;
    /* Busy polling: read without sleeping until spin_until, then poll(). */
    uint64_t spin_until = spin_ns ? redisx__now_ns() + spin_ns : 0;
    if (spin_until > deadline)
        spin_until = deadline;
    for (;;) {
        void *reply = NULL;
        if (redisReaderGetReply(cn->reader, &reply) != REDIS_OK) {
            snprintf(detail, dlen, "protocol error: %s", cn->reader->errstr);
            return REDISX_ERR_PROTOCOL;
        }
        if (reply) {
            *out = reply;
            return REDISX_OK;
        }
        int spinning = spin_until && (cn->tls_rwant == 0 || cn->tls_rwant == POLLIN) && redisx__now_ns() < spin_until;
        /* Bytes inside OpenSSL are read first: poll() cannot see them. */
        if (!spinning && (!cn->tls || !redisx__tls_pending(cn->tls))) {
            struct pollfd p = {.fd = cn->fd, .events = cn->tls_rwant ? cn->tls_rwant : POLLIN};
            int rc = poll(&p, 1, ms_until(deadline));
            if (rc == 0)
                goto timeout;
            if (rc < 0)
                continue; /* EINTR */
        }
        char buf[16384];
        ssize_t n = conn_recv(cn, buf, sizeof buf, detail, dlen);
        if (n == 0) {
            snprintf(detail, dlen, "server closed the connection%s", tls_hint(cn));
            return REDISX_ERR_CONNECTION;
        }
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
                continue;
            return REDISX_ERR_CONNECTION;
        }
        if (plain_meets_tls(cn, buf, n, detail, dlen))
            return REDISX_ERR_CONNECTION;
        if (redisReaderFeed(cn->reader, buf, (size_t)n) != REDIS_OK) {
            snprintf(detail, dlen, "protocol error");
            return REDISX_ERR_PROTOCOL;
        }
    }
timeout:
    snprintf(detail, dlen, "no reply from %s within the command timeout; connection reset", cn->endpoint);
    return REDISX_ERR_TIMEOUT;
}

int redisx__conn_direct(redisx_client *c, redisx__cmd *cmd, int blocking)
{
    if (c->cluster || c->sentinel || redisx__in_loop(c) || atomic_load(&c->wake_pending))
        return 0; /* cluster mode (routing is the I/O thread's), sentinel mode (READONLY handling is the I/O
                   * thread's), inside a callback, or submissions wait: keep their order */
    redisx_client *prev;
    if (blocking) {
        prev = loop_enter(c);
    } else {
        if (pthread_mutex_trylock(&c->loop_mu) != 0)
            return 0; /* the I/O thread is awake: it batches */
        prev = tls_loop;
        tls_loop = c;
    }
    redisx__conn *cn = NULL;
    /* Commands that wait for a connection go first. */
    if (!atomic_load(&c->closing) && !c->closing_seen && !c->wait_head &&
        c->breaker.state == REDISX__BREAKER_CLOSED) {
        cn = idle_conn(c);
        if (cn && !blocking && (!cn->polled || c->poll_until > cmd->deadline))
            cn = NULL; /* the sleeping I/O thread would miss its reply or deadline */
        if (cn && !cn->polled && check_idle(c, cn) != 0)
            cn = NULL;
    }
    if (!cn || wbuf_append(cn, cmd->buf, cmd->len) != 0) {
        loop_leave(c, prev);
        return 0;
    }
    cmd->track_gen = cn->track_gen;
    cmd->track_lane = cn->idx & 255;
    if (cmd->req) {
        redisx__req_track(cmd->req);
        cmd->req->round_trips++;
        cmd->req->node = cn->endpoint;
    }
    cmd->sent = 1;
    fifo_push(&cn->pend_head, &cn->pend_tail, cmd);
    cn->npend++;
    if (!blocking) {
        /* The I/O thread polls this socket: it reads the reply. Whatever
         * cannot be written now (or fails) is left to it. */
        char detail[REDISX__DETAIL];
        ssize_t n = conn_send(cn, MSG_DONTWAIT, detail, sizeof detail);
        if (n > 0)
            cn->woff += (size_t)n;
        int rest = cn->woff < cn->wlen;
        if (!rest)
            cn->woff = cn->wlen = 0;
        loop_leave(c, prev);
        if (rest)
            redisx__wake(c);
        return 1;
    }
    cn->borrowed = 1;
    redisx__client_ref(c); /* a close may finish while we read */
    loop_leave(c, prev);

    redisx_reply *r = NULL;
    char detail[REDISX__DETAIL];
    uint64_t spin_ns = (uint64_t)c->opts.busy_poll_us * 1000u;
    redisx_status st = borrowed_round_trip(cn, cmd->deadline, spin_ns, &r, detail, sizeof detail);
    int noscript = 0;
    if (st == REDISX_OK && is_noscript(cmd, r) && cmd_to_eval(cmd) == 0 &&
        wbuf_append(cn, cmd->buf, cmd->len) == 0) {
        /* The script is missing on the server: EVAL it, still on this
         * connection and this thread. */
        redisx__reply_free(r);
        r = NULL;
        noscript = 1;
        if (cmd->req)
            cmd->req->round_trips++;
        st = borrowed_round_trip(cn, cmd->deadline, spin_ns, &r, detail, sizeof detail);
    }

    prev = loop_enter(c);
    cn->borrowed = 0;
    if (noscript)
        noscript_noted(c, cmd);
    if (st == REDISX_OK)
        on_reply(c, cn, r); /* completes cmd here, or queues a reload */
    else
        conn_reset(c, cn, st, detail);
    int dirty = c->loop_dirty || c->wait_head || (atomic_load(&c->closing) && !c->closing_seen);
    c->loop_dirty = 0;
    loop_leave(c, prev);
    if (dirty || atomic_load(&c->closing))
        redisx__wake(c);
    redisx__client_unref(c);
    return 1;
}

void redisx__conns_each(redisx_client *c, void (*fn)(void *u, const char *endpoint, int up), void *u)
{
    int inside = redisx__in_loop(c);
    redisx_client *prev = inside ? NULL : loop_enter(c);
    for (int i = 0; c->conns && i < c->nconns; i++) {
        const redisx__conn *cn = c->conns[i];
        if (cn && !cn->is_sub)
            fn(u, cn->endpoint, cn->state == CONN_READY);
    }
    if (!inside)
        loop_leave(c, prev);
}

/* ---- set-up and tear-down (called by client.c) --------------------------- */

redisx_status redisx__conns_init(redisx_client *c)
{
    c->cluster = c->ep.cluster;
    c->breaker_cfg.threshold = c->opts.breaker_failures;
    c->breaker_cfg.window_ns = (uint64_t)c->opts.breaker_window_ms * REDISX__NS_PER_MS;
    c->breaker_cfg.open_ns = (uint64_t)c->opts.breaker_open_ms * REDISX__NS_PER_MS;
    c->sentinel = c->ep.sentinel;
    c->nconns = c->cluster ? 0 : c->opts.connections;
    c->conns = calloc((size_t)c->nconns + 1, sizeof *c->conns);
    if (!c->conns)
        return redisx__fail(REDISX_ERR_NOMEM, "out of memory");
    for (int i = 0; i <= c->nconns; i++) {
        redisx__conn *cn = conn_new(i, -1, c->ep.host, c->ep.port, c->ep.is_unix);
        if (!cn) {
            redisx__conns_free(c);
            return redisx__fail(REDISX_ERR_NOMEM, "out of memory");
        }
        c->conns[i] = cn;
        cn->is_sub = i == c->nconns;
        if (cn->is_sub)
            cn->next_attempt = UINT64_MAX; /* dormant until a subscription */
    }
    if (!c->cluster)
        return REDISX_OK;
    /* The seeds are the first nodes; the first refresh asks them all. */
    for (size_t i = 0; i < c->ep.nseeds; i++) {
        if (node_get(c, c->ep.seeds[i].host, c->ep.seeds[i].port) < 0) {
            redisx__conns_free(c);
            return redisx__fail(REDISX_ERR_NOMEM, "out of memory");
        }
    }
    redisx__conn *sub = c->conns[c->nconns];
    sub->host = c->nodes[0].host;
    sub->port = c->nodes[0].port;
    set_endpoint(sub, 0);
    c->refresh_wanted = 1;
    return REDISX_OK;
}

void redisx__conns_free(redisx_client *c)
{
    redisx__sentinel_query_release(c->sq); /* a lookup still running finishes on its own */
    c->sq = NULL;
    redisx__sentinel_watch_stop(c->watch);
    c->watch = NULL;
    while (c->channels) {
        redisx__channel *ch = c->channels;
        c->channels = ch->next;
        free(ch);
    }
    for (int i = 0; c->conns && i <= c->nconns; i++) {
        redisx__conn *cn = c->conns[i];
        if (!cn)
            continue;
        if (cn->state == CONN_READY && !cn->is_sub)
            redisx__stats_add_client(c, REDISX_CLIENT_CONNECTIONS_UP, -1);
        conn_close_fd(cn);
        resolve_release(cn); /* a lookup still running finishes on its own */
        redisx__cmd *cmd;
        while ((cmd = fifo_pop(&cn->pend_head, &cn->pend_tail)))
            redisx__cmd_free(cmd); /* only internal commands remain here */
        ssub_sent_clear(cn);
        free(cn->wbuf);
        free(cn);
    }
    free(c->conns);
    c->conns = NULL;
    for (int i = 0; i < c->nnodes; i++)
        free(c->nodes[i].host);
    free(c->nodes);
    c->nodes = NULL;
    c->nnodes = c->nodes_cap = 0;
    redisx__slot_map_unref(c->map);
    c->map = NULL;
    free(c->map_node);
    c->map_node = NULL;
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
    return c->conns[c->nconns];
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

/* ---- client tracking (standalone) ------------------------------------------
 *
 * For caches that ask for it (redisx_cache_set_tracking): the subscriber
 * connection learns its CLIENT ID in its handshake and subscribes to
 * __redis__:invalidate; once that is confirmed every data connection sends
 * CLIENT TRACKING on REDIRECT <id> (RESP2: invalidations arrive as pub/sub
 * messages there), and commands sent after it are stamped with the
 * client's tracking generation. Whatever may lose an invalidation (the
 * subscriber or a tracked data connection dropping) bumps the generation
 * and flushes the tracking caches' L1 at once; replies stamped with an
 * older generation never go into an L1, so nothing is cached again before
 * tracking is back on the connection it was read on. */

static void track_lost(redisx_client *c, const char *why)
{
    if (!c->track_want)
        return;
    c->track_gen++;
    c->loop_dirty = 1;
    redisx__log(c, REDISX_LOG_DEBUG, "cache tracking interrupted (%s): L1 of tracking caches flushed", why);
    redisx__cache_tracking_flush(c, 0);
}

static void track_reply(redisx_client *c, redisx__conn *cn, uint64_t gen, redisx_reply *r)
{
    if (r->type == REDISX_REPLY_ERROR) {
        if (!c->track_refused)
            redisx__log(c, REDISX_LOG_WARN,
                        "CLIENT TRACKING refused by %s: %.*s (tracking caches fall back to their redisx invalidation "
                        "channels)",
                        cn->endpoint, (int)(r->len > 200 ? 200 : r->len), r->str);
        int first = !c->track_refused;
        c->track_refused = 1;
        cn->track_gen = 0;
        track_lost(c, "CLIENT TRACKING refused");
        if (first)
            redisx__cache_fallback_start(c); /* caching resumes once its channels are confirmed */
    } else if (gen == c->track_gen) {
        redisx__log(c, REDISX_LOG_DEBUG, "connection %d tracked (REDIRECT %lld)", cn->idx, c->track_id);
    }
    redisx__reply_free(r);
}

/* Cluster: node's subscriber connection up for tracking (an existing one
 * without an id is connected again: a subscribed connection cannot ask). */
static void track_node_wake(redisx_client *c, int node)
{
    redisx__conn *sub = c->conns[c->nodes[node].sub];
    if (sub->state == CONN_DOWN && sub->next_attempt == UINT64_MAX && !c->closing_seen) {
        sub->next_attempt = redisx__now_ns();
        c->loop_dirty = 1;
    } else if ((sub->state == CONN_HANDSHAKE || sub->state == CONN_READY) && !c->nodes[node].track_id) {
        conn_reset(c, sub, REDISX_ERR_CONNECTION, "reconnecting for cache tracking");
    }
}

/* CLIENT TRACKING on REDIRECT id on cn, under the current generation. */
static void track_send(redisx_client *c, redisx__conn *cn, long long redirect)
{
    char id[24];
    redisx__fmt_i64(id, redirect);
    const char *a[] = {"CLIENT", "TRACKING", "on", "REDIRECT", id};
    redisx__cmd *cmd = redisx__cmd_argv(5, a, NULL);
    if (!cmd)
        return;
    cmd->internal = REDISX__CMD_TRACKING;
    cmd->slot_known = 1;
    cmd->node = cn->node;
    cn->track_gen = c->track_gen;
    conn_push(cn, cmd); /* stamps cmd (and everything after it) with the generation */
    c->loop_dirty = 1;
}

/* Puts CLIENT TRACKING on every ready data connection not tracked under
 * the current generation. Loop, every round: cheap when nothing is due. */
static void track_sync(redisx_client *c)
{
    if (!c->track_want)
        return;
    if (c->cluster) {
        if (c->track_refused) {
            /* The fallback channels (sharded, each on its slot's node)
             * need nothing of a data connection, as below. */
            for (int i = 0; i < c->nconns; i++)
                if (!c->conns[i]->is_sub && c->conns[i]->node >= 0 && c->conns[i]->state == CONN_READY)
                    c->conns[i]->track_gen = c->track_gen;
            return;
        }
        for (int i = 0; i < c->nconns; i++) {
            redisx__conn *cn = c->conns[i];
            if (cn->is_sub || cn->node < 0 || cn->state != CONN_READY || cn->borrowed || cn->track_gen == c->track_gen)
                continue;
            const redisx__node *nd = &c->nodes[cn->node];
            if (nd->track_subscribed && nd->track_id) {
                if (c->opts.tracking_bcast)
                    cn->track_gen = c->track_gen; /* the node's subscriber is told of every write */
                else
                    track_send(c, cn, nd->track_id);
            }
        }
        return;
    }
    if (!c->track_subscribed)
        return;
    if (c->track_refused) {
        /* The fallback needs nothing of a data connection: what it reads
         * after the channels were confirmed (the generation) is covered. */
        for (int i = 0; i < c->nconns; i++)
            if (!c->conns[i]->is_sub && c->conns[i]->state == CONN_READY)
                c->conns[i]->track_gen = c->track_gen;
        return;
    }
    if (!c->track_id)
        return;
    for (int i = 0; i < c->nconns; i++) {
        redisx__conn *cn = c->conns[i];
        if (cn->is_sub || cn->state != CONN_READY || cn->borrowed || cn->track_gen == c->track_gen)
            continue;
        if (c->opts.tracking_bcast)
            cn->track_gen = c->track_gen; /* BCAST: the subscriber is told of every write */
        else
            track_send(c, cn, c->track_id);
    }
}

static void track_enable_task(redisx__cmd *cmd, redisx_status st, redisx_reply *r)
{
    (void)st;
    redisx__reply_free(r);
    redisx_client *c = cmd->ctx;
    redisx__cmd_free(cmd);
    if (c->track_want) {
        if (c->track_refused)
            redisx__cache_fallback_start(c); /* a cache made after the refusal */
        return;
    }
    c->track_want = 1;
    if (c->track_gen == 0)
        c->track_gen = 1;
    if (c->cluster) {
        /* Every master's subscriber connection: its handshake asks for its
         * id, then it subscribes (ssub_conn_ready). */
        for (int n = 0; n < c->nnodes; n++)
            if (node_is_master(c, n))
                track_node_wake(c, n);
        return;
    }
    redisx__subscribe(c, TRACK_CHANNEL);
    /* A subscriber connection up before tracking was wanted has no id (a
     * subscribed RESP2 connection cannot ask for it): connect it again. */
    redisx__conn *sub = sub_conn(c);
    if ((sub->state == CONN_HANDSHAKE || sub->state == CONN_READY) && !c->track_id)
        conn_reset(c, sub, REDISX_ERR_CONNECTION, "reconnecting for cache tracking");
}

void redisx__tracking_enable(redisx_client *c)
{
    redisx__cmd *cmd = redisx__cmd_task();
    if (!cmd)
        return; /* the cache then never caches: redisx__tracking_current stays false */
    cmd->fn = track_enable_task;
    cmd->ctx = c;
    redisx__submit(c, cmd);
}

bool redisx__tracking_current(const redisx_client *c, uint64_t track_gen)
{
    /* Cluster: a connection is stamped only once its node's subscriber
     * is subscribed (or, on the fallback, at once: the caches' channels
     * say when they are covered), and any node's loss bumps the
     * generation. */
    return c->track_want && (c->cluster || c->track_subscribed) && track_gen != 0 && track_gen == c->track_gen;
}

bool redisx__tracking_fallback(const redisx_client *c)
{
    return c->track_refused;
}

bool redisx__client_is_cluster(const redisx_client *c)
{
    return c->cluster;
}

/* ---- sharded pub/sub (cluster mode) ----------------------------------------
 *
 * A wake-up channel is named like its key, so it has the key's slot. On a
 * cluster client the scripts wake waiters with SPUBLISH (the *_sharded.lua
 * twins), which only the node serving the slot delivers, so each node has
 * a subscriber connection of its own (c->nodes[n].sub) and a channel is
 * SSUBSCRIBEd where the map says its slot lives. It moves when the map
 * moves the slot (map_install), when that node pushes `sunsubscribe` (the
 * slot left it), and when an SSUBSCRIBE answers MOVED (the map is patched
 * first). Missed or refused subscriptions cost nothing but speed: every
 * waiter also polls. */

enum { SSUB_RETRY_MS = 200 };

static void ssub_sent_clear(redisx__conn *cn)
{
    while (cn->ss_head) {
        ssub_sent *x = cn->ss_head;
        cn->ss_head = x->next;
        free(x);
    }
    cn->ss_tail = NULL;
}

/* SSUBSCRIBE (unsub 0) or SUNSUBSCRIBE one channel on cn if it is ready;
 * 1 when sent. */
static int ssub_send(redisx_client *c, redisx__conn *cn, int unsub, const char *name)
{
    (void)c;
    if (cn->state != CONN_READY)
        return 0;
    size_t n = strlen(name) + 1;
    ssub_sent *x = malloc(sizeof *x + n);
    if (!x)
        return 0; /* waiters still poll */
    x->next = NULL;
    x->unsub = unsub;
    memcpy(x->name, name, n);
    if (cn->ss_tail)
        cn->ss_tail->next = x;
    else
        cn->ss_head = x;
    cn->ss_tail = x;
    send_channels(cn, unsub == 2 ? "SUBSCRIBE" : unsub ? "SUNSUBSCRIBE" : "SSUBSCRIBE", NULL, name);
    return 1;
}

/* The node serving ch's slot by the current map, or -1. */
static int chan_owner(const redisx_client *c, const redisx__channel *ch)
{
    if (!c->map)
        return -1;
    unsigned mi = c->map->slot_node[ch->slot];
    return mi == REDISX__SLOT_NONE ? -1 : c->map_node[mi];
}

static redisx__channel *chan_find(redisx_client *c, const char *name, size_t len)
{
    for (redisx__channel *ch = c->channels; ch; ch = ch->next)
        if (strlen(ch->name) == len && memcmp(ch->name, name, len) == 0)
            return ch;
    return NULL;
}

/* ch is no longer subscribed where it was (moved, dropped, pushed out):
 * a cache's fallback channel among them no longer covers its L1, so the
 * L1 goes and nothing is cached until it is confirmed again. */
static void ssub_lost(redisx_client *c, redisx__channel *ch)
{
    ch->node = -1;
    if (c->track_refused && redisx__cache_fallback_lost(c, ch->name, strlen(ch->name)))
        track_lost(c, "a cache's invalidation channel moved or dropped");
}

/* Moves ch's subscription to the node that serves its slot now. */
static void ssub_sync(redisx_client *c, redisx__channel *ch)
{
    int owner = chan_owner(c, ch);
    if (owner == ch->node)
        return;
    if (ch->node >= 0) {
        ssub_send(c, c->conns[c->nodes[ch->node].sub], 1, ch->name);
        ssub_lost(c, ch);
    }
    if (owner < 0)
        return; /* no map yet, or the slot has no master: the next map syncs */
    redisx__conn *cn = c->conns[c->nodes[owner].sub];
    if (ssub_send(c, cn, 0, ch->name)) {
        ch->node = owner;
    } else if (cn->state == CONN_DOWN && cn->next_attempt == UINT64_MAX && !c->closing_seen) {
        cn->next_attempt = redisx__now_ns(); /* first use: connect now; ready subscribes */
        c->loop_dirty = 1;
    }
}

static void ssub_sync_all(redisx_client *c)
{
    for (redisx__channel *ch = c->channels; ch; ch = ch->next)
        ssub_sync(c, ch);
}

static void ssub_retry_timer(redisx_client *c, void *ctx, uint64_t arg, int cancelled)
{
    (void)ctx;
    (void)arg;
    c->ssub_retry = 0;
    if (!cancelled)
        ssub_sync_all(c);
}

static void ssub_retry_later(redisx_client *c)
{
    if (c->ssub_retry || c->closing_seen)
        return;
    if (redisx__timer_add(c, redisx__now_ns() + SSUB_RETRY_MS * REDISX__NS_PER_MS, ssub_retry_timer, NULL, 0) ==
        REDISX_OK)
        c->ssub_retry = 1;
}

static void ssub_conn_ready(redisx_client *c, redisx__conn *cn)
{
    if (c->track_want && c->nodes[cn->node].track_id)
        ssub_send(c, cn, 2, TRACK_CHANNEL); /* this node's invalidations for cache tracking */
    for (redisx__channel *ch = c->channels; ch; ch = ch->next)
        if (ch->node < 0 && chan_owner(c, ch) == cn->node && ssub_send(c, cn, 0, ch->name))
            ch->node = cn->node;
}

static void ssub_conn_down(redisx_client *c, redisx__conn *cn, int was_ready, const char *detail)
{
    ssub_sent_clear(cn);
    redisx__node *nd = &c->nodes[cn->node];
    if (nd->track_subscribed)
        track_lost(c, "a node's invalidation connection dropped");
    nd->track_subscribed = 0;
    nd->track_id = 0;
    int wanted = c->track_want && node_is_master(c, cn->node);
    for (redisx__channel *ch = c->channels; ch; ch = ch->next) {
        if (ch->node == cn->node)
            ssub_lost(c, ch); /* resubscribed when it is back, or elsewhere by the next map */
        if (chan_owner(c, ch) == cn->node)
            wanted = 1;
    }
    cn->failures = was_ready ? 0 : cn->failures + 1;
    cn->next_attempt = wanted ? redisx__now_ns() + backoff_ns(c, cn->failures) : UINT64_MAX;
    redisx__log(c, was_ready ? REDISX_LOG_INFO : REDISX_LOG_DEBUG, "sharded subscriber connection to %s down: %s",
                cn->endpoint, detail);
    if (c->map)
        request_refresh(c); /* has the node gone? */
}

/* An error answering the oldest (S|SUN)SUBSCRIBE of cn. */
static void ssub_error(redisx_client *c, redisx__conn *cn, const redisx_reply *r)
{
    ssub_sent *x = cn->ss_head;
    if (!x) {
        redisx__log(c, REDISX_LOG_WARN, "sharded subscriber %s: unexpected error %.*s", cn->endpoint,
                    (int)(r->len > 200 ? 200 : r->len), r->str);
        return;
    }
    cn->ss_head = x->next;
    if (!cn->ss_head)
        cn->ss_tail = NULL;
    redisx__channel *ch = chan_find(c, x->name, strlen(x->name));
    int unsub = x->unsub;
    free(x);
    if (unsub == 2) {
        redisx__log(c, REDISX_LOG_WARN, "SUBSCRIBE %s on %s refused: %.*s (tracking caches keep no L1 copies)",
                    TRACK_CHANNEL, cn->endpoint, (int)(r->len > 200 ? 200 : r->len), r->str);
        return;
    }
    if (unsub || !ch || ch->node != cn->node)
        return; /* nothing to undo */
    ch->node = -1;
    redisx__cluster_err kind = redisx__cluster_err_of(r->str, r->len);
    redisx__redirect rd;
    if (kind == REDISX__CERR_MOVED && redisx__redirect_parse(&rd, r->str, r->len, cn->host) == REDISX_OK) {
        redisx__log(c, REDISX_LOG_DEBUG, "SSUBSCRIBE %s: MOVED slot %d: %s -> %s:%d", ch->name, rd.slot, cn->endpoint,
                    rd.host, rd.port);
        const redisx__cluster_node *cur = c->map ? redisx__slot_map_master(c->map, rd.slot) : NULL;
        int known = cur && cur->port == rd.port && strcasecmp(cur->host, rd.host) == 0;
        redisx__slot_map *m = NULL;
        if (node_get(c, rd.host, rd.port) >= 0 && c->map && !known &&
            redisx__slot_map_patch(&m, c->map, rd.slot, rd.host, rd.port) == REDISX_OK)
            map_install(c, m); /* resyncs every channel */
        else
            ssub_retry_later(c); /* the map already says so: give it a moment */
        request_refresh(c);
        return;
    }
    if (kind != REDISX__CERR_NONE) { /* ASK (a slot migrating), TRYAGAIN, CLUSTERDOWN, LOADING */
        redisx__log(c, REDISX_LOG_DEBUG, "SSUBSCRIBE %s on %s: %.*s: again in %d ms", ch->name, cn->endpoint,
                    (int)(r->len > 200 ? 200 : r->len), r->str, (int)SSUB_RETRY_MS);
        ssub_retry_later(c);
        if (kind == REDISX__CERR_CLUSTERDOWN)
            request_refresh(c);
        return;
    }
    /* NOPERM and the like: retrying cannot help; the waiters poll. */
    ch->node = cn->node;
    redisx__log(c, REDISX_LOG_WARN, "SSUBSCRIBE %s on %s refused: %.*s (waiters poll instead)", ch->name,
                cn->endpoint, (int)(r->len > 200 ? 200 : r->len), r->str);
}

/* A push or an answer on a node's sharded subscriber connection. */
static void ssub_push(redisx_client *c, redisx__conn *cn, redisx_reply *r)
{
    if (r->type == REDISX_REPLY_ERROR) {
        ssub_error(c, cn, r);
        redisx__reply_free(r);
        return;
    }
    if (r->type != REDISX_REPLY_ARRAY || r->elements != 3 || r->element[0]->type != REDISX_REPLY_STRING ||
        r->element[1]->type != REDISX_REPLY_STRING) {
        redisx__reply_free(r);
        return;
    }
    const char *kind = r->element[0]->str;
    size_t klen = r->element[0]->len;
    const char *name = r->element[1]->str;
    size_t nlen = r->element[1]->len;
    int inval = nlen == sizeof TRACK_CHANNEL - 1 && memcmp(name, TRACK_CHANNEL, nlen) == 0;
    if (inval && klen == 7 && memcmp(kind, "message", 7) == 0) {
        on_invalidation(c, r->element[2]);
    } else if (inval && klen == 9 && memcmp(kind, "subscribe", 9) == 0) {
        ssub_sent *x = cn->ss_head;
        if (x && x->unsub == 2) {
            cn->ss_head = x->next;
            if (!cn->ss_head)
                cn->ss_tail = NULL;
            free(x);
        }
        c->nodes[cn->node].track_subscribed = 1; /* its data connections may track now */
        c->loop_dirty = 1;
    } else if ((klen == 8 && memcmp(kind, "smessage", 8) == 0) || (klen == 7 && memcmp(kind, "message", 7) == 0)) {
        const redisx_reply *pl = r->element[2];
        if (!(c->track_refused && pl->type == REDISX_REPLY_STRING &&
              redisx__cache_fallback_message(c, name, nlen, pl->str, pl->len)))
            redisx__on_message(c, name, nlen);
    } else if ((klen == 10 && memcmp(kind, "ssubscribe", 10) == 0) ||
               (klen == 12 && memcmp(kind, "sunsubscribe", 12) == 0)) {
        int unsub = klen == 12;
        ssub_sent *x = cn->ss_head;
        if (x && x->unsub == unsub && strlen(x->name) == nlen && memcmp(x->name, name, nlen) == 0) {
            cn->ss_head = x->next; /* the answer to ours */
            if (!cn->ss_head)
                cn->ss_tail = NULL;
            free(x);
            redisx__channel *ch = unsub ? NULL : chan_find(c, name, nlen);
            if (ch && ch->node == cn->node && c->track_refused && redisx__cache_fallback_confirmed(c, name, nlen)) {
                /* As on a standalone client: only reads sent from now on
                 * are cached. */
                c->track_gen++;
                c->loop_dirty = 1;
            }
        } else if (unsub) {
            /* Pushed by the server: the slot left this node. */
            redisx__channel *ch = chan_find(c, name, nlen);
            if (ch && ch->node == cn->node) {
                redisx__log(c, REDISX_LOG_DEBUG, "%s pushed sunsubscribe %s: its slot %d moved", cn->endpoint,
                            ch->name, ch->slot);
                ssub_lost(c, ch);
                request_refresh(c);
                ssub_sync(c, ch); /* by the map of now; a MOVED answer patches it */
            }
        }
    }
    redisx__reply_free(r);
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
    ch->slot = redisx__slot_of(channel, n - 1);
    ch->node = -1;
    ch->next = c->channels;
    c->channels = ch;
    c->loop_dirty = 1;
    if (c->cluster) {
        ssub_sync(c, ch);
        return;
    }
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
        c->loop_dirty = 1;
        if (c->cluster) {
            if (ch->node >= 0)
                ssub_send(c, c->conns[c->nodes[ch->node].sub], 1, ch->name);
            free(ch);
            return;
        }
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
    /* Counted whether or not a waiter is still there to wake (one that
     * polled its way through first has left already). */
    redisx__stats_add_client(c, REDISX_CLIENT_WAKEUPS, 1);
    redisx__chan_waiter *w = c->waiters;
    while (w) {
        redisx__chan_waiter *next = w->next; /* w may leave the list in wake */
        if (strlen(w->channel) == len && memcmp(w->channel, channel, len) == 0)
            w->wake(w);
        w = next;
    }
}

const redisx__script *redisx__script_for(const redisx_client *c, const redisx__script *s)
{
    if (!c->cluster)
        return s;
    static const struct {
        const redisx__script *v3, *v4;
    } twins[] = {
        {&redisx__script_lock_release, &redisx__script_lock_release_sharded},
        {&redisx__script_lock_release_unclaimed, &redisx__script_lock_release_unclaimed_sharded},
        {&redisx__script_idem_complete, &redisx__script_idem_complete_sharded},
        {&redisx__script_idem_fail, &redisx__script_idem_fail_sharded},
        {&redisx__script_cache_fill, &redisx__script_cache_fill_sharded},
        {&redisx__script_cache_release, &redisx__script_cache_release_sharded},
    };
    for (size_t i = 0; i < sizeof twins / sizeof twins[0]; i++)
        if (twins[i].v3 == s)
            return twins[i].v4;
    return s;
}

/* ---- fuzzing and tests: the reply path without a socket ---- */

redisx_status redisx__replies_from_resp(const char *bytes, size_t len, size_t chunk,
                                        void (*each)(redisx_reply *r, void *u), void *u)
{
    /* The same reader (building our replies) as conn_read(), fed as
     * recv() would have delivered the bytes. */
    redisReader *rd = reader_new();
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
            each(reply, u);
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
