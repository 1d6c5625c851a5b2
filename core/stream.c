/* Redis Streams: producer (one script call per message or batch), consumer
 * groups, retries by delivery count, the dead-letter move, reclaiming and
 * claim extension, graceful stop (docs/STREAMS.md, docs/KEYS.md).
 *
 * Every call here is blocking and runs on the caller's thread; the only
 * work on the parent client's I/O thread is the claim-extension timer
 * (extend_tick), which only submits a script. A consumer reads with
 * XREADGROUP BLOCK through a client of its own (one connection), so a
 * blocked read never holds a connection of the parent's pool.
 *
 * Locking: cons->mu guards the consumer's owned entries, its unsettled
 * count and every message's settled flag. It is never held across a
 * command: the I/O thread takes it in extend_tick. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cluster.h"
#include "internal.h"
#include "keys.h"
#include "stream_impl.h"

/* ---- arguments and blocking commands ------------------------------------ */

typedef struct args {
    const char **v;
    size_t *l;
    int n, cap;
    char **owned; /* formatted numbers */
    int nowned, capowned;
    int oom;
} args;

static void args_push(args *a, const char *p, size_t len)
{
    if (a->oom)
        return;
    if (a->n == a->cap) {
        int cap = a->cap ? a->cap * 2 : 16;
        const char **v = realloc(a->v, (size_t)cap * sizeof *v);
        if (v)
            a->v = v;
        size_t *l = v ? realloc(a->l, (size_t)cap * sizeof *l) : NULL;
        if (!v || !l) {
            a->oom = 1;
            return;
        }
        a->l = l;
        a->cap = cap;
    }
    a->v[a->n] = p;
    a->l[a->n] = len;
    a->n++;
}

static void args_str(args *a, const char *s)
{
    args_push(a, s, strlen(s));
}

static void args_int(args *a, int64_t v)
{
    if (a->oom)
        return;
    if (a->nowned == a->capowned) {
        int cap = a->capowned ? a->capowned * 2 : 8;
        char **o = realloc(a->owned, (size_t)cap * sizeof *o);
        if (!o) {
            a->oom = 1;
            return;
        }
        a->owned = o;
        a->capowned = cap;
    }
    char buf[24];
    char *s = redisx__strdup(redisx__fmt_i64(buf, v));
    if (!s) {
        a->oom = 1;
        return;
    }
    a->owned[a->nowned++] = s;
    args_str(a, s);
}

static void args_clear(args *a)
{
    for (int i = 0; i < a->nowned; i++)
        free(a->owned[i]);
    free(a->owned);
    free(a->v);
    free(a->l);
    memset(a, 0, sizeof *a);
}

/* EVALSHA of s: the caller pushes "EVALSHA", sha, numkeys first (script_args). */
static void script_args(args *a, const redisx__script *s, int nkeys)
{
    args_str(a, "EVALSHA");
    args_push(a, s->sha1, 40);
    args_int(a, nkeys);
}

static void sync_reply(redisx__cmd *cmd, redisx_status st, redisx_reply *r)
{
    redisx__waiter *w = cmd->ctx;
    redisx__cmd_free(cmd);
    redisx__waiter_signal(w, st, r);
}

/* Runs the command in `a` on c and waits. An error reply becomes
 * REDISX_ERR_SERVER with the server's text as detail (the reply is freed). */
/* Runs a command and waits. slot_key (NULL: none) routes a command that
 * names no key (CLIENT ID, CLIENT UNBLOCK) to the node of that key on a
 * cluster: the node where the consumer's blocked read runs. */
static redisx_status run_at(redisx_reply **out, redisx_client *c, args *a, const redisx__script *script,
                            const char *slot_key)
{
    *out = NULL;
    redisx__cmd *cmd = a->oom ? NULL : redisx__cmd_argv(a->n, a->v, a->l);
    if (!cmd)
        return redisx__fail(REDISX_ERR_NOMEM, "out of memory building a stream command");
    if (slot_key) {
        cmd->slot = redisx__slot_of(slot_key, strlen(slot_key));
        cmd->slot_known = 1;
    }
    cmd->script = script;
    redisx__waiter w;
    redisx__waiter_init(&w);
    cmd->fn = sync_reply;
    cmd->ctx = &w;
    redisx__submit(c, cmd);
    redisx_status st = redisx__waiter_wait(&w);
    redisx_reply *r = w.result;
    if (st == REDISX_OK && r && r->type == REDISX_REPLY_ERROR) {
        st = redisx__fail(REDISX_ERR_SERVER, "%s", r->str ? r->str : "error reply");
        redisx__reply_free(r);
        r = NULL;
    }
    *out = r;
    return st;
}

static redisx_status run(redisx_reply **out, redisx_client *c, args *a, const redisx__script *script)
{
    return run_at(out, c, a, script, NULL);
}

static const redisx_reply *elem(const redisx_reply *r, size_t i)
{
    return r && r->type == REDISX_REPLY_ARRAY && i < r->elements ? r->element[i] : NULL;
}

static int is_str(const redisx_reply *r)
{
    return r && (r->type == REDISX_REPLY_STRING || r->type == REDISX_REPLY_STATUS) && r->str;
}

static int64_t as_int(const redisx_reply *r, int64_t fallback)
{
    if (r && r->type == REDISX_REPLY_INTEGER)
        return r->integer;
    if (is_str(r))
        return strtoll(r->str, NULL, 10);
    return fallback;
}

static char *stream_key(redisx_client *c, const char *stream, const char *suffix)
{
    return redisx__key_build(redisx__client_options(c)->prefix, "stream", stream, suffix);
}

/* ---- producer -------------------------------------------------------------- */

typedef struct pub_msg {
    size_t nfields;
    char **p;     /* 2 * nfields: name, value, ... (each with a NUL after it) */
    size_t *len;
} pub_msg;

struct redisx_stream_batch {
    pub_msg *m;
    size_t n, cap;
    char (*ids)[REDISX_STREAM_ID_SIZE]; /* after a publish, n of them */
    size_t nids;
};

redisx_status redisx__stream_batch_new(redisx_stream_batch **out)
{
    *out = calloc(1, sizeof **out);
    return *out ? REDISX_OK : redisx__fail(REDISX_ERR_NOMEM, "out of memory");
}

static void pub_msg_clear(pub_msg *m)
{
    for (size_t i = 0; i < 2 * m->nfields; i++)
        free(m->p[i]);
    free(m->p);
    free(m->len);
}

void redisx__stream_batch_free(redisx_stream_batch *b)
{
    for (size_t i = 0; i < b->n; i++)
        pub_msg_clear(&b->m[i]);
    free(b->m);
    free(b->ids);
    free(b);
}

redisx_status redisx__stream_batch_add(redisx_stream_batch *b, size_t nfields, const char *const *names,
                                       const size_t *name_lens, const char *const *values,
                                       const size_t *value_lens)
{
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 8;
        pub_msg *m = realloc(b->m, cap * sizeof *m);
        if (!m)
            return redisx__fail(REDISX_ERR_NOMEM, "out of memory");
        b->m = m;
        b->cap = cap;
    }
    size_t slots = nfields ? 2 * nfields : 2;
    pub_msg pm = {nfields, calloc(slots, sizeof(char *)), calloc(slots, sizeof(size_t))};
    if (!pm.p || !pm.len) {
        pub_msg_clear(&(pub_msg){0, pm.p, pm.len});
        return redisx__fail(REDISX_ERR_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < nfields; i++) {
        size_t ln = name_lens ? name_lens[i] : strlen(names[i]);
        size_t lv = value_lens ? value_lens[i] : strlen(values[i]);
        char *n = malloc(ln + 1), *v = malloc(lv + 1);
        if (n) {
            memcpy(n, names[i], ln);
            n[ln] = '\0';
        }
        if (v) {
            if (lv)
                memcpy(v, values[i], lv);
            v[lv] = '\0';
        }
        pm.p[2 * i] = n;
        pm.p[2 * i + 1] = v;
        pm.len[2 * i] = ln;
        pm.len[2 * i + 1] = lv;
        if (!n || !v) {
            pub_msg_clear(&pm);
            return redisx__fail(REDISX_ERR_NOMEM, "out of memory");
        }
    }
    b->m[b->n++] = pm;
    return REDISX_OK;
}

redisx_status redisx__stream_batch_open(redisx_stream_batch *b)
{
    return redisx__stream_batch_add(b, 0, NULL, NULL, NULL, NULL);
}

redisx_status redisx__stream_batch_append(redisx_stream_batch *b, const char *prefix, const void *name, size_t ln,
                                          const void *value, size_t lv)
{
    pub_msg *pm = &b->m[b->n - 1];
    size_t lp = prefix ? strlen(prefix) : 0;
    char **p = realloc(pm->p, (2 * pm->nfields + 2) * sizeof *p);
    if (!p)
        return redisx__fail(REDISX_ERR_NOMEM, "out of memory");
    pm->p = p;
    size_t *len = realloc(pm->len, (2 * pm->nfields + 2) * sizeof *len);
    if (!len)
        return redisx__fail(REDISX_ERR_NOMEM, "out of memory");
    pm->len = len;
    char *n = malloc(lp + ln + 1), *v = malloc(lv + 1);
    if (!n || !v) {
        free(n);
        free(v);
        return redisx__fail(REDISX_ERR_NOMEM, "out of memory");
    }
    if (lp)
        memcpy(n, prefix, lp);
    if (ln)
        memcpy(n + lp, name, ln);
    n[lp + ln] = '\0';
    if (lv)
        memcpy(v, value, lv);
    v[lv] = '\0';
    p[2 * pm->nfields] = n;
    p[2 * pm->nfields + 1] = v;
    len[2 * pm->nfields] = lp + ln;
    len[2 * pm->nfields + 1] = lv;
    pm->nfields++;
    return REDISX_OK;
}

int redisx__stream_batch_has(const redisx_stream_batch *b, const char *name)
{
    if (!b->n)
        return 0;
    const pub_msg *pm = &b->m[b->n - 1];
    size_t ln = strlen(name);
    for (size_t k = 0; k < pm->nfields; k++)
        if (pm->len[2 * k] == ln && memcmp(pm->p[2 * k], name, ln) == 0)
            return 1;
    return 0;
}

size_t redisx__stream_batch_fields(const redisx_stream_batch *b, size_t i)
{
    return i < b->n ? b->m[i].nfields : 0;
}

size_t redisx__stream_batch_size(const redisx_stream_batch *b)
{
    return b->n;
}

const char *redisx__stream_batch_id(const redisx_stream_batch *b, size_t i)
{
    return i < b->nids ? b->ids[i] : NULL;
}

/* The command publishing the batch (NULL on out-of-memory): one message
 * without trimming by age is a plain XADD (what the script would run, at a
 * fraction of its server time: no script call, no TIME); a batch, or a
 * trim by age (MINID from the server's clock), is one stream_publish.lua
 * call (atomic, ids in order). The entries are the same either way. */
static redisx__cmd *publish_cmd(redisx_client *c, const char *stream, const redisx_stream_batch *b,
                                redisx_stream_trim trim, int64_t threshold)
{
    char *key = stream_key(c, stream, "");
    if (!key)
        return NULL;
    args a = {0};
    if (b->n == 1 && trim != REDISX_STREAM_TRIM_MAXAGE) {
        args_str(&a, "XADD");
        args_str(&a, key);
        if (trim == REDISX_STREAM_TRIM_MAXLEN) {
            args_str(&a, "MAXLEN");
            args_str(&a, "~");
            args_int(&a, threshold);
        }
        args_str(&a, "*");
        for (size_t j = 0; j < 2 * b->m[0].nfields; j++)
            args_push(&a, b->m[0].p[j], b->m[0].len[j]);
        redisx__cmd *cmd = a.oom ? NULL : redisx__cmd_argv(a.n, a.v, a.l);
        if (cmd) {
            cmd->slot = redisx__slot_of(key, strlen(key));
            cmd->slot_known = 1;
        }
        args_clear(&a);
        free(key);
        return cmd;
    }
    script_args(&a, &redisx__script_stream_publish, 1);
    args_str(&a, key);
    args_str(&a, trim == REDISX_STREAM_TRIM_MAXLEN ? "maxlen" : trim == REDISX_STREAM_TRIM_MAXAGE ? "minid" : "none");
    args_int(&a, threshold);
    args_int(&a, (int64_t)b->n);
    for (size_t i = 0; i < b->n; i++) {
        args_int(&a, (int64_t)b->m[i].nfields);
        for (size_t j = 0; j < 2 * b->m[i].nfields; j++)
            args_push(&a, b->m[i].p[j], b->m[i].len[j]);
    }
    redisx__cmd *cmd = a.oom ? NULL : redisx__cmd_argv(a.n, a.v, a.l);
    if (cmd)
        cmd->script = &redisx__script_stream_publish;
    args_clear(&a);
    free(key);
    return cmd;
}

/* The i-th id of a publish reply: the array of stream_publish.lua, or the
 * one id of an XADD. */
static const redisx_reply *publish_id(const redisx_reply *r, size_t i)
{
    return r->type == REDISX_REPLY_ARRAY ? r->element[i] : r;
}

/* Checks a publish reply of n ids (an error reply included). */
static redisx_status publish_reply_ok(const redisx_reply *r, size_t n)
{
    if (r->type == REDISX_REPLY_ERROR)
        return redisx__fail(REDISX_ERR_SERVER, "%s", r->str ? r->str : "error reply");
    if (n == 1 && is_str(r))
        return r->len < REDISX_STREAM_ID_SIZE ? REDISX_OK : redisx__unexpected_reply(r, "XADD");
    if (r->type != REDISX_REPLY_ARRAY || r->elements != n)
        return redisx__unexpected_reply(r, "stream_publish");
    for (size_t i = 0; i < n; i++)
        if (!is_str(r->element[i]) || r->element[i]->len >= REDISX_STREAM_ID_SIZE)
            return redisx__unexpected_reply(r, "stream_publish");
    return REDISX_OK;
}

redisx_status redisx__stream_publish_batch(redisx_client *c, const char *stream, redisx_stream_batch *b,
                                           redisx_stream_trim trim, int64_t threshold)
{
    b->nids = 0;
    uint64_t t0 = redisx__now_ns();
    redisx__cmd *cmd = publish_cmd(c, stream, b, trim, threshold);
    if (!cmd)
        return redisx__fail(REDISX_ERR_NOMEM, "out of memory building a stream command");
    redisx__waiter w;
    redisx__waiter_init(&w);
    cmd->fn = sync_reply;
    cmd->ctx = &w;
    redisx__submit(c, cmd);
    redisx_status st = redisx__waiter_wait(&w);
    redisx_reply *r = w.result;
    if (st == REDISX_OK)
        st = publish_reply_ok(r, b->n);
    char(*ids)[REDISX_STREAM_ID_SIZE] = NULL;
    if (st == REDISX_OK) {
        ids = realloc(b->ids, (b->n ? b->n : 1) * sizeof *ids);
        if (!ids)
            st = redisx__fail(REDISX_ERR_NOMEM, "out of memory");
    }
    if (st == REDISX_OK) {
        b->ids = ids;
        for (size_t i = 0; i < b->n; i++)
            redisx__copy_detail(ids[i], REDISX_STREAM_ID_SIZE, publish_id(r, i)->str);
        b->nids = b->n;
        redisx__stream_count(c, stream, NULL, REDISX_STREAM_PUBLISHED, (int64_t)b->n);
    }
    redisx__reply_free(r);
    redisx__stream_event(c, REDISX__OP_STREAM_PUBLISH, stream, NULL, st, t0, 1, NULL, stream);
    return st;
}

typedef struct publish_op {
    redisx_client *c;
    redisx_stream_publish_cb cb;
    void *user;
    uint64_t t0;
    char *stream;
} publish_op;

static void publish_async_reply(redisx__cmd *cmd, redisx_status st, redisx_reply *r)
{
    publish_op *op = cmd->ctx;
    redisx__cmd_free(cmd);
    if (st == REDISX_OK)
        st = publish_reply_ok(r, 1);
    if (st == REDISX_OK)
        redisx__stream_count(op->c, op->stream, NULL, REDISX_STREAM_PUBLISHED, 1);
    {
        char saved[REDISX__DETAIL];
        redisx__copy_detail(saved, sizeof saved, redisx_last_error());
        redisx__stream_event(op->c, REDISX__OP_STREAM_PUBLISH, op->stream, NULL, st, op->t0, 1, NULL, op->stream);
        if (st != REDISX_OK)
            redisx__fail(st, "%s", saved);
    }
    const char *id = st == REDISX_OK ? publish_id(r, 0)->str : NULL;
    if (op->cb) {
        if (st == REDISX_OK)
            redisx__clear_error();
        op->cb(op->c, st, id, op->user);
    } else {
        redisx_item *it = redisx__completion_item(op->user, st);
        if (it && id) {
            /* The id rides as a STRING reply: redisx_item_take_reply(). */
            size_t len = strlen(id);
            redisx_reply *idr = redisx__reply_new(NULL, REDISX_REPLY_STRING, len);
            if (idr) {
                memcpy(idr->str, id, len + 1);
                idr->len = len;
            }
            it->reply = idr;
        }
        if (it)
            redisx__queue_push(redisx__client_options(op->c)->queue, it);
    }
    redisx__reply_free(r);
    free(op->stream);
    free(op);
}

redisx_status redisx__stream_publish_async(redisx_client *c, const char *stream, const redisx_stream_batch *one,
                                           redisx_stream_trim trim, int64_t threshold, redisx_stream_publish_cb cb,
                                           void *user)
{
    publish_op *op = calloc(1, sizeof *op);
    if (op)
        op->stream = redisx__strdup(stream);
    redisx__cmd *cmd = op && op->stream ? publish_cmd(c, stream, one, trim, threshold) : NULL;
    if (!cmd) {
        if (op)
            free(op->stream);
        free(op);
        return redisx__fail(REDISX_ERR_NOMEM, "out of memory building a stream command");
    }
    op->c = c;
    op->cb = cb;
    op->user = user;
    op->t0 = redisx__now_ns();
    cmd->fn = publish_async_reply;
    cmd->ctx = op;
    redisx__submit(c, cmd);
    return REDISX_OK;
}

redisx_status redisx__group_create(redisx_client *c, const char *stream, const char *group, const char *start)
{
    char *key = stream_key(c, stream, "");
    if (!key)
        return redisx__fail(REDISX_ERR_NOMEM, "out of memory");
    args a = {0};
    args_str(&a, "XGROUP");
    args_str(&a, "CREATE");
    args_str(&a, key);
    args_str(&a, group);
    args_str(&a, start ? start : "$");
    args_str(&a, "MKSTREAM");
    redisx_reply *r;
    redisx_status st = run(&r, c, &a, NULL);
    args_clear(&a);
    free(key);
    if (st == REDISX_ERR_SERVER && strncmp(redisx_last_error(), "BUSYGROUP", 9) == 0)
        st = REDISX_OK;
    redisx__reply_free(r);
    if (st == REDISX_OK)
        redisx__clear_error();
    return st;
}

/* ---- consumer ------------------------------------------------------------------ */

void redisx__consumer_options_init(redisx_consumer_options *o)
{
    o->max_in_flight = 64;
    o->max_deliveries = 5;
    o->backoff_min_ms = 100;
    o->backoff_max_ms = 30000;
    o->min_idle_ms = 30000;
    o->reclaim_interval_ms = 0;
    o->block_ms = 1000;
    o->dlq_maxlen = 0;
    o->delete_idle_ms = 0;
    o->idem_lease_ms = 0;
    o->idem_ttl_ms = 0;
}

/* An entry pending on this consumer that it answers for: handed out
 * (msg set, unsettled) or waiting for its retry (due). */
typedef struct owned {
    char id[REDISX_STREAM_ID_SIZE];
    redisx_message *msg;
    uint64_t due; /* retry: monotonic ns */
    int64_t deliveries;
} owned;

struct redisx_consumer {
    atomic_int refs;
    redisx_client *client; /* referenced */
    redisx_client *reader; /* own client, one connection, for XREADGROUP BLOCK */
    char *stream, *key, *dlq, *group, *name;
    redisx_consumer_options o;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    owned *own;
    size_t nown, capown;
    int unsettled;
    int stopping;  /* next() returns CLOSED */
    int in_read;   /* a read on the reader is under way */
    int extending; /* the claim-extension timer keeps running */
    int64_t reader_id; /* CLIENT ID of the reader's connection, -1 unknown */
    uint64_t next_reclaim;
    char cursor[REDISX_STREAM_ID_SIZE]; /* XAUTOCLAIM cursor */
};

struct redisx_message {
    redisx_consumer *cons;
    char id[REDISX_STREAM_ID_SIZE];
    int64_t deliveries;
    size_t nfields;
    char **p; /* name, value, ... */
    size_t *len;
    int settled;
    uint64_t t_out;    /* handed out (monotonic ns): the handler's time */
    redisx_idem *idem; /* idempotent consumers: the NEW record, owned */
    int taken_over;
};

struct redisx_delivery {
    redisx_consumer *cons; /* referenced */
    size_t n;
    redisx_message **m;
};

static void cons_ref(redisx_consumer *cons)
{
    atomic_fetch_add(&cons->refs, 1);
}

static void cons_unref(redisx_consumer *cons)
{
    if (atomic_fetch_sub(&cons->refs, 1) != 1)
        return;
    if (cons->reader)
        redisx__client_close(cons->reader);
    redisx__client_unref(cons->client);
    pthread_mutex_destroy(&cons->mu);
    pthread_cond_destroy(&cons->cv);
    free(cons->own);
    free(cons->stream);
    free(cons->key);
    free(cons->dlq);
    free(cons->group);
    free(cons->name);
    free(cons);
}

redisx_client *redisx__consumer_client(const redisx_consumer *cons)
{
    return cons->client;
}

int redisx__consumer_in_flight(const redisx_consumer *cons)
{
    redisx_consumer *c = (redisx_consumer *)cons;
    pthread_mutex_lock(&c->mu);
    int n = c->unsettled;
    pthread_mutex_unlock(&c->mu);
    return n;
}

static int64_t extend_every_ms(const redisx_consumer *cons)
{
    int64_t ms = cons->o.min_idle_ms / 3;
    return ms > 0 ? ms : 1;
}

/* Caller holds mu. */
static owned *own_find(redisx_consumer *cons, const char *id)
{
    for (size_t i = 0; i < cons->nown; i++)
        if (strcmp(cons->own[i].id, id) == 0)
            return &cons->own[i];
    return NULL;
}

static void own_remove(redisx_consumer *cons, owned *o)
{
    *o = cons->own[--cons->nown];
}

static int own_add(redisx_consumer *cons, const char *id, redisx_message *msg, int64_t deliveries)
{
    owned *o = own_find(cons, id);
    if (!o) {
        if (cons->nown == cons->capown) {
            size_t cap = cons->capown ? cons->capown * 2 : 64;
            owned *n = realloc(cons->own, cap * sizeof *n);
            if (!n)
                return -1;
            cons->own = n;
            cons->capown = cap;
        }
        o = &cons->own[cons->nown++];
    }
    redisx__copy_detail(o->id, sizeof o->id, id);
    o->msg = msg;
    o->due = 0;
    o->deliveries = deliveries;
    return 0;
}

/* ---- claim extension: a timer on the parent client's I/O thread ---- */

static void extend_reply(redisx__cmd *cmd, redisx_status st, redisx_reply *r)
{
    (void)st;
    redisx_consumer *cons = cmd->ctx;
    redisx__cmd_free(cmd);
    redisx__reply_free(r); /* ids no longer ours are found out when claimed or settled */
    cons_unref(cons);
}

static void extend_schedule(redisx_consumer *cons);

static void extend_tick(redisx_client *c, void *ctx, uint64_t arg, int cancelled)
{
    (void)arg;
    redisx_consumer *cons = ctx;
    pthread_mutex_lock(&cons->mu);
    int go = !cancelled && cons->extending;
    args a = {0};
    if (go && cons->nown > 0) {
        script_args(&a, &redisx__script_stream_extend, 1);
        args_str(&a, cons->key);
        args_str(&a, cons->group);
        args_str(&a, cons->name);
        for (size_t i = 0; i < cons->nown; i++)
            args_str(&a, cons->own[i].id);
    }
    /* The ids are copied into the command before the lock is released. */
    redisx__cmd *cmd = a.n > 0 && !a.oom ? redisx__cmd_argv(a.n, a.v, a.l) : NULL;
    pthread_mutex_unlock(&cons->mu);
    args_clear(&a);
    if (cmd) {
        cmd->script = &redisx__script_stream_extend;
        cmd->fn = extend_reply;
        cmd->ctx = cons;
        cons_ref(cons);
        redisx__submit(c, cmd);
    }
    if (go)
        extend_schedule(cons); /* takes over the timer's reference */
    else
        cons_unref(cons);
}

/* I/O thread; takes over a reference. */
static void extend_schedule(redisx_consumer *cons)
{
    uint64_t due = redisx__now_ns() + (uint64_t)extend_every_ms(cons) * REDISX__NS_PER_MS;
    if (redisx__timer_add(cons->client, due, extend_tick, cons, 0) != REDISX_OK) {
        redisx__log(cons->client, REDISX_LOG_ERROR, "stream consumer %s: out of memory for its claim timer",
                    cons->name);
        cons_unref(cons);
    }
}

static void extend_start_task(redisx__cmd *cmd, redisx_status st, redisx_reply *r)
{
    (void)r;
    redisx_consumer *cons = cmd->ctx;
    redisx__cmd_free(cmd);
    if (st != REDISX_OK) {
        cons_unref(cons);
        return;
    }
    extend_schedule(cons);
}

/* ---- new ---- */

redisx_status redisx__consumer_new(redisx_consumer **out, redisx_client *c, const char *stream, const char *group,
                                   const char *name, const redisx_consumer_options *o)
{
    *out = NULL;
    redisx_consumer *cons = calloc(1, sizeof *cons);
    if (!cons)
        return redisx__fail(REDISX_ERR_NOMEM, "out of memory");
    atomic_init(&cons->refs, 1);
    pthread_mutex_init(&cons->mu, NULL);
    pthread_cond_init(&cons->cv, NULL);
    redisx__client_ref(c);
    cons->client = c;
    cons->o = *o;
    if (cons->o.reclaim_interval_ms <= 0)
        cons->o.reclaim_interval_ms = cons->o.min_idle_ms / 2 > 0 ? cons->o.min_idle_ms / 2 : 1;
    cons->reader_id = -1;
    cons->extending = 1;
    redisx__copy_detail(cons->cursor, sizeof cons->cursor, "0-0");
    cons->stream = redisx__strdup(stream);
    cons->key = stream_key(c, stream, "");
    cons->dlq = stream_key(c, stream, ":dlq");
    cons->group = redisx__strdup(group);
    cons->name = redisx__strdup(name);
    if (!cons->stream || !cons->key || !cons->dlq || !cons->group || !cons->name) {
        cons_unref(cons);
        return redisx__fail(REDISX_ERR_NOMEM, "out of memory");
    }

    /* The reader: the parent's endpoint, auth, TLS and prefix; one
     * connection whose command timeout covers the longest BLOCK; no
     * events, logs or queue of its own (they would reach the user twice). */
    redisx_options ro;
    redisx_status st = redisx__options_copy(&ro, redisx__client_options(c));
    if (st != REDISX_OK) {
        cons_unref(cons);
        return st;
    }
    if (ro.queue)
        redisx__queue_unref(ro.queue);
    ro.queue = NULL;
    ro.queue_what = 0;
    ro.event_cb = NULL;
    ro.state_cb = NULL;
    ro.connections = 1;
    ro.command_timeout_ms = cons->o.block_ms + ro.command_timeout_ms + 1000;
    st = redisx__client_open(&cons->reader, &ro);
    redisx__options_clear(&ro);
    if (st != REDISX_OK) {
        cons->reader = NULL;
        cons_unref(cons);
        return st;
    }
    redisx__cmd *task = redisx__cmd_task();
    if (!task) {
        cons_unref(cons);
        return redisx__fail(REDISX_ERR_NOMEM, "out of memory");
    }
    cons_ref(cons); /* the timer's */
    task->fn = extend_start_task;
    task->ctx = cons;
    redisx__submit(c, task);
    *out = cons;
    return REDISX_OK;
}

/* ---- messages and deliveries ---- */

static void message_free(redisx_message *m)
{
    if (!m)
        return;
    if (m->idem)
        redisx__idem_free(m->idem); /* unsettled: in progress until its lease passes */
    for (size_t i = 0; i < 2 * m->nfields; i++)
        free(m->p[i]);
    free(m->p);
    free(m->len);
    free(m);
}

/* A message from an entry's id and its flat field array. */
static redisx_message *message_from(redisx_consumer *cons, const redisx_reply *id, const redisx_reply *fields,
                                    int64_t deliveries)
{
    if (!is_str(id))
        return NULL;
    redisx_message *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->cons = cons;
    m->deliveries = deliveries;
    redisx__copy_detail(m->id, sizeof m->id, id->str);
    size_t n = fields && fields->type == REDISX_REPLY_ARRAY ? fields->elements / 2 : 0;
    m->p = calloc(2 * n + 1, sizeof(char *));
    m->len = calloc(2 * n + 1, sizeof(size_t));
    if (!m->p || !m->len) {
        message_free(m);
        return NULL;
    }
    for (size_t i = 0; i < 2 * n; i++) {
        const redisx_reply *f = fields->element[i];
        size_t len = is_str(f) ? f->len : 0;
        m->p[i] = malloc(len + 1);
        if (!m->p[i]) {
            m->nfields = (i + 1) / 2;
            message_free(m);
            return NULL;
        }
        if (len)
            memcpy(m->p[i], f->str, len);
        m->p[i][len] = '\0';
        m->len[i] = len;
        m->nfields = (i + 2) / 2;
    }
    m->nfields = n;
    return m;
}

typedef struct msg_list {
    redisx_message **m;
    size_t n, cap;
} msg_list;

static int list_push(msg_list *l, redisx_message *m)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        redisx_message **n = realloc(l->m, cap * sizeof *n);
        if (!n)
            return -1;
        l->m = n;
        l->cap = cap;
    }
    l->m[l->n++] = m;
    return 0;
}

void redisx__delivery_free(redisx_delivery *d)
{
    redisx_consumer *cons = d->cons;
    pthread_mutex_lock(&cons->mu);
    for (size_t i = 0; i < d->n; i++) {
        redisx_message *m = d->m[i];
        if (!m->settled) {
            /* Left pending: no longer ours to extend, no longer in flight. */
            owned *o = own_find(cons, m->id);
            if (o && o->msg == m)
                own_remove(cons, o);
            cons->unsettled--;
        }
    }
    pthread_cond_broadcast(&cons->cv);
    pthread_mutex_unlock(&cons->mu);
    for (size_t i = 0; i < d->n; i++)
        message_free(d->m[i]);
    free(d->m);
    free(d);
    cons_unref(cons);
}

size_t redisx__delivery_count(const redisx_delivery *d)
{
    return d->n;
}

redisx_message *redisx__delivery_message(redisx_delivery *d, size_t i)
{
    return i < d->n ? d->m[i] : NULL;
}

const char *redisx__message_id(const redisx_message *m)
{
    return m->id;
}

int64_t redisx__message_deliveries(const redisx_message *m)
{
    return m->deliveries;
}

size_t redisx__message_fields(const redisx_message *m)
{
    return m->nfields;
}

static const char *field_at(const redisx_message *m, size_t k, size_t *len)
{
    if (k >= 2 * m->nfields) {
        if (len)
            *len = 0;
        return NULL;
    }
    if (len)
        *len = m->len[k];
    return m->p[k];
}

const char *redisx__message_name(const redisx_message *m, size_t i, size_t *len)
{
    return field_at(m, i < m->nfields ? 2 * i : SIZE_MAX, len);
}

const char *redisx__message_value(const redisx_message *m, size_t i, size_t *len)
{
    return field_at(m, i < m->nfields ? 2 * i + 1 : SIZE_MAX, len);
}

const char *redisx__message_get(const redisx_message *m, const char *name, size_t *len)
{
    size_t ln = strlen(name);
    for (size_t i = 0; i < m->nfields; i++)
        if (m->len[2 * i] == ln && memcmp(m->p[2 * i], name, ln) == 0)
            return field_at(m, 2 * i + 1, len);
    if (len)
        *len = 0;
    return NULL;
}

int redisx__message_header_at(const redisx_message *m, size_t i, size_t *field)
{
    size_t lp = strlen(REDISX_STREAM_HEADER_PREFIX);
    for (size_t k = 0; k < m->nfields; k++) {
        if (m->len[2 * k] > lp && memcmp(m->p[2 * k], REDISX_STREAM_HEADER_PREFIX, lp) == 0) {
            if (i == 0) {
                if (field)
                    *field = k;
                return 1;
            }
            i--;
        }
    }
    return 0;
}

size_t redisx__message_header_count(const redisx_message *m)
{
    size_t n = 0;
    while (redisx__message_header_at(m, n, NULL))
        n++;
    return n;
}

int redisx__message_reserved(const redisx_message *m, size_t i)
{
    return i < m->nfields && m->len[2 * i] >= 3 && memcmp(m->p[2 * i], "rx-", 3) == 0;
}

const char *redisx__message_stream(const redisx_message *m)
{
    return m->cons->stream;
}

redisx_client *redisx__message_client(const redisx_message *m)
{
    return m->cons->client;
}

/* ---- settling ---- */

/* Takes the right to settle m (under mu): REDISX_ERR_INVALID if settled. */
static redisx_status settle_begin(redisx_message *m)
{
    redisx_consumer *cons = m->cons;
    pthread_mutex_lock(&cons->mu);
    int was = m->settled;
    m->settled = 1;
    pthread_mutex_unlock(&cons->mu);
    return was ? redisx__fail(REDISX_ERR_INVALID, "message %s was settled already", m->id) : REDISX_OK;
}

/* Ends a settle: on success the message leaves the consumer's books (a
 * retry stays there, as waiting); on failure the message is unsettled
 * again, so the caller can try once more (or free it: pending). */
static void settle_end(redisx_message *m, redisx_status st, uint64_t retry_due)
{
    redisx_consumer *cons = m->cons;
    pthread_mutex_lock(&cons->mu);
    if (st != REDISX_OK) {
        m->settled = 0;
    } else {
        owned *o = own_find(cons, m->id);
        if (o && o->msg == m) {
            if (retry_due) {
                o->msg = NULL;
                o->due = retry_due;
            } else {
                own_remove(cons, o);
            }
        }
        cons->unsettled--;
        pthread_cond_broadcast(&cons->cv);
    }
    pthread_mutex_unlock(&cons->mu);
}

static void idem_wake(redisx_client *c, redisx_status st, void *user)
{
    (void)c;
    redisx__waiter_signal(user, st, NULL);
}

/* Completes (complete = 1) or fails the message's idempotency record and
 * drops it. A record taken over by another consumer meanwhile (our lease
 * passed and the entry was reclaimed) is logged and dropped: the caller
 * goes on. Other failures keep the record for another try. */
static redisx_status idem_settle(redisx_message *m, int complete)
{
    redisx_idem *rec = m->idem;
    if (!rec)
        return REDISX_OK;
    redisx_consumer *cons = m->cons;
    redisx_status st = REDISX_OK;
    if (!redisx__idem_is_fail_open(rec)) {
        redisx__waiter w;
        redisx__waiter_init(&w);
        st = complete ? redisx__idem_complete_async(rec, "", 0, "", 0, cons->o.idem_ttl_ms, idem_wake, &w)
                      : redisx__idem_fail_async(rec, idem_wake, &w);
        st = st == REDISX_OK ? redisx__waiter_wait(&w) : redisx__waiter_drop(&w, st);
    }
    if (st == REDISX_ERR_NOT_OWNER) {
        redisx__log(cons->client, REDISX_LOG_WARN,
                    "stream %s: the idempotency record of message %s was taken over by another consumer", cons->stream,
                    m->id);
        st = REDISX_OK;
    }
    if (st == REDISX_OK || !complete) {
        m->idem = NULL;
        redisx__idem_free(rec);
    }
    return complete ? st : REDISX_OK; /* a failed release only delays a redelivery until the lease passes */
}

/* The event of a settle, and the handler's time (hand-out to settle). */
static void settle_event(redisx_message *m, redisx__op op, redisx_status st, uint64_t t0, const char *outcome)
{
    redisx_consumer *cons = m->cons;
    char saved[REDISX__DETAIL];
    redisx__copy_detail(saved, sizeof saved, redisx_last_error());
    redisx__stream_event(cons->client, op, cons->stream, cons->group, st, t0, 1, NULL, cons->stream);
    if (st == REDISX_OK)
        redisx__stream_event(cons->client, REDISX__OP_STREAM_HANDLE, cons->stream, cons->group, REDISX_OK, m->t_out, 0,
                             outcome, cons->stream);
    if (st != REDISX_OK)
        (void)redisx__fail(st, "%s", saved);
}

redisx_status redisx__message_ack(redisx_message *m)
{
    uint64_t t0 = redisx__now_ns();
    redisx_status st = settle_begin(m);
    if (st != REDISX_OK)
        return st;
    redisx_consumer *cons = m->cons;
    /* The record first: a crash between the two leaves a completed record,
     * and its redelivery is acked without running the handler again. */
    st = idem_settle(m, 1);
    if (st != REDISX_OK) {
        settle_end(m, st, 0);
        settle_event(m, REDISX__OP_STREAM_ACK, st, t0, "ack");
        return st;
    }
    args a = {0};
    args_str(&a, "XACK");
    args_str(&a, cons->key);
    args_str(&a, cons->group);
    args_str(&a, m->id);
    redisx_reply *r;
    st = run(&r, cons->client, &a, NULL);
    args_clear(&a);
    redisx__reply_free(r);
    settle_end(m, st, 0);
    if (st == REDISX_OK)
        redisx__stream_count(cons->client, cons->stream, cons->group, REDISX_STREAM_ACKED, 1);
    settle_event(m, REDISX__OP_STREAM_ACK, st, t0, "ack");
    return st;
}

/* Runs the dead-letter script for entry `id` (moved and acked, or
 * REDISX_ERR_NOT_OWNER when it is no longer pending on this consumer). */
static redisx_status dead_letter(redisx_consumer *cons, const char *id, const char *error)
{
    char maxlen[24];
    args a = {0};
    script_args(&a, &redisx__script_stream_dead_letter, 2);
    args_str(&a, cons->key);
    args_str(&a, cons->dlq);
    args_str(&a, cons->group);
    args_str(&a, id);
    args_str(&a, cons->name);
    args_str(&a, error ? error : "");
    args_str(&a, cons->stream);
    args_str(&a, redisx__fmt_i64(maxlen, cons->o.dlq_maxlen));
    redisx_reply *r;
    redisx_status st = run(&r, cons->client, &a, &redisx__script_stream_dead_letter);
    args_clear(&a);
    if (st != REDISX_OK)
        return st;
    int64_t code = as_int(elem(r, 0), -2);
    if (code == -1)
        st = redisx__fail(REDISX_ERR_NOT_OWNER, "message %s is now pending on consumer %s", id,
                          is_str(elem(r, 1)) ? elem(r, 1)->str : "?");
    else if (code == 0)
        st = redisx__fail(REDISX_ERR_NOT_OWNER, "message %s is no longer pending (acknowledged)", id);
    else if (code != 1)
        st = redisx__unexpected_reply(r, "stream_dead_letter");
    redisx__reply_free(r);
    return st;
}

redisx_status redisx__message_dead_letter(redisx_message *m, const char *error)
{
    uint64_t t0 = redisx__now_ns();
    redisx_status st = settle_begin(m);
    if (st != REDISX_OK)
        return st;
    st = dead_letter(m->cons, m->id, error);
    if (st == REDISX_OK || st == REDISX_ERR_NOT_OWNER) {
        char saved[REDISX__DETAIL];
        redisx__copy_detail(saved, sizeof saved, redisx_last_error());
        (void)idem_settle(m, 0); /* a requeued copy (a new id) or a reclaimer runs the work again */
        if (st != REDISX_OK)
            (void)redisx__fail(st, "%s", saved);
    }
    /* Not ours any more either way when another consumer holds it. */
    settle_end(m, st == REDISX_ERR_NOT_OWNER ? REDISX_OK : st, 0);
    if (st == REDISX_OK)
        redisx__stream_count(m->cons->client, m->cons->stream, m->cons->group, REDISX_STREAM_DEAD_LETTERED, 1);
    settle_event(m, REDISX__OP_STREAM_DEAD_LETTER, st, t0, "dead_letter");
    return st;
}

static int64_t backoff_ms(const redisx_consumer *cons, int64_t deliveries)
{
    int64_t d = cons->o.backoff_min_ms;
    for (int64_t i = 1; i < deliveries && d < cons->o.backoff_max_ms; i++)
        d *= 2;
    if (d > cons->o.backoff_max_ms)
        d = cons->o.backoff_max_ms;
    /* 50..100 % of it: consumers failing together do not retry together. */
    return d / 2 + (int64_t)redisx__rand_below((uint64_t)(d - d / 2) + 1);
}

redisx_status redisx__message_retry(redisx_message *m, int64_t delay_ms, const char *error, int *moved)
{
    if (moved)
        *moved = 0;
    redisx_consumer *cons = m->cons;
    if (m->deliveries >= cons->o.max_deliveries) {
        char why[REDISX__DETAIL];
        snprintf(why, sizeof why, "%s", error && *error ? error : "failed");
        redisx_status st = redisx__message_dead_letter(m, why);
        if (st == REDISX_OK && moved)
            *moved = 1;
        return st;
    }
    uint64_t t0 = redisx__now_ns();
    redisx_status st = settle_begin(m);
    if (st != REDISX_OK)
        return st;
    (void)idem_settle(m, 0); /* the redelivery runs the handler again */
    int64_t d = delay_ms >= 0 ? delay_ms : backoff_ms(cons, m->deliveries);
    settle_end(m, REDISX_OK, redisx__now_ns() + (uint64_t)d * REDISX__NS_PER_MS + 1);
    redisx__stream_count(cons->client, cons->stream, cons->group, REDISX_STREAM_RETRIED, 1);
    settle_event(m, REDISX__OP_STREAM_RETRY, REDISX_OK, t0, "retry");
    return REDISX_OK;
}

/* ---- idempotent consumers ---- */

int redisx__message_taken_over(const redisx_message *m)
{
    return m->taken_over;
}

/* The idempotency record name of an entry: the stream's length first, so
 * that no two (stream, group) pairs give one name (docs/KEYS.md v4). */
static char *idem_name(const redisx_consumer *cons, const char *id)
{
    size_t n = strlen(cons->stream) + strlen(cons->group) + strlen(id) + 48;
    char *s = malloc(n);
    if (s)
        snprintf(s, n, "rx-stream:%zu:%s:%s:%s", strlen(cons->stream), cons->stream, cons->group, id);
    return s;
}

static void idem_begin_wake(redisx_client *c, redisx_status st, redisx_idem *rec, void *user)
{
    (void)c;
    redisx__waiter_signal(user, st, rec);
}

/* Begins the record of every message in l: NEW ones stay in l (holding
 * their record), COMPLETED ones are acked (their handler ran), IN_PROGRESS
 * ones (a handler runs elsewhere) wait here as a retry due when that lease
 * passes. A failing begin leaves the message and the rest pending (not
 * booked: reclaimed after min idle) and returns the error. */
static redisx_status idem_filter(redisx_consumer *cons, msg_list *l)
{
    size_t keep = 0, i = 0;
    redisx_status st = REDISX_OK;
    for (; i < l->n; i++) {
        redisx_message *m = l->m[i];
        char *name = idem_name(cons, m->id);
        redisx_idem *rec = NULL;
        if (!name) {
            st = redisx__fail(REDISX_ERR_NOMEM, "out of memory");
            break;
        }
        redisx__waiter w;
        redisx__waiter_init(&w);
        st = redisx__idem_begin_async(cons->client, name, NULL, 0, cons->o.idem_lease_ms, 0, idem_begin_wake, &w);
        st = st == REDISX_OK ? redisx__waiter_wait(&w) : redisx__waiter_drop(&w, st);
        rec = w.result;
        free(name);
        if (st != REDISX_OK)
            break;
        redisx_idem_state state = redisx__idem_state(rec);
        if (state == REDISX_IDEM_NEW) {
            m->idem = rec;
            m->taken_over = redisx__idem_taken_over(rec);
            l->m[keep++] = m;
            continue;
        }
        if (state == REDISX_IDEM_COMPLETED) {
            args a = {0};
            args_str(&a, "XACK");
            args_str(&a, cons->key);
            args_str(&a, cons->group);
            args_str(&a, m->id);
            redisx_reply *r;
            redisx_status ast = run(&r, cons->client, &a, NULL);
            args_clear(&a);
            redisx__reply_free(r);
            if (ast == REDISX_OK)
                redisx__stream_count(cons->client, cons->stream, cons->group, REDISX_STREAM_ACKED, 1);
            else /* still pending: redelivered and recognised again */
                redisx__log(cons->client, REDISX_LOG_WARN, "stream %s: acking completed message %s: %s", cons->stream,
                            m->id, redisx_last_error());
        } else {
            /* IN_PROGRESS (MISMATCH cannot happen: no fingerprint). Ours to
             * hold as a retry due when the other handler's lease passes. */
            int64_t left = redisx__idem_remaining(rec);
            pthread_mutex_lock(&cons->mu);
            if (own_add(cons, m->id, NULL, m->deliveries) == 0)
                own_find(cons, m->id)->due =
                    redisx__now_ns() + (uint64_t)(left > 0 ? left : 1) * REDISX__NS_PER_MS + 1;
            pthread_mutex_unlock(&cons->mu);
        }
        redisx__idem_free(rec);
        message_free(m);
    }
    for (; i < l->n; i++)
        message_free(l->m[i]);
    l->n = keep;
    if (st == REDISX_OK)
        redisx__clear_error();
    return st;
}

/* ---- next ---- */

/* Parses a stream_claim.lua reply into messages; dead-letters those beyond
 * max deliveries (a consumer died on them). Adds the rest to `out`. */
static redisx_status take_claimed(redisx_consumer *cons, const redisx_reply *r, msg_list *out)
{
    const redisx_reply *entries = elem(r, 1);
    if (!entries || entries->type != REDISX_REPLY_ARRAY)
        return redisx__unexpected_reply(r, "stream_claim");
    for (size_t i = 0; i < entries->elements; i++) {
        const redisx_reply *e = entries->element[i];
        int64_t n = as_int(elem(e, 1), 1);
        if (n > cons->o.max_deliveries) {
            char why[128];
            snprintf(why, sizeof why, "delivered %lld times without being settled (max %d)", (long long)n - 1,
                     cons->o.max_deliveries);
            if (is_str(elem(e, 0))) {
                redisx_status st = dead_letter(cons, elem(e, 0)->str, why);
                if (st == REDISX_OK)
                    redisx__stream_count(cons->client, cons->stream, cons->group, REDISX_STREAM_DEAD_LETTERED, 1);
                if (st != REDISX_OK && st != REDISX_ERR_NOT_OWNER)
                    redisx__log(cons->client, REDISX_LOG_WARN, "stream %s: dead-lettering %s: %s", cons->stream,
                                elem(e, 0)->str, redisx_last_error());
            }
            continue;
        }
        redisx_message *m = message_from(cons, elem(e, 0), elem(e, 2), n);
        if (!m || list_push(out, m) != 0) {
            message_free(m);
            return redisx__fail(REDISX_ERR_NOMEM, "out of memory");
        }
    }
    return REDISX_OK;
}

/* Redelivers up to `room` retries that are due (XCLAIM through the claim
 * script: the delivery count grows by one and is read back). */
static redisx_status claim_due(redisx_consumer *cons, size_t room, msg_list *out)
{
    uint64_t now = redisx__now_ns();
    args a = {0};
    script_args(&a, &redisx__script_stream_claim, 1);
    args_str(&a, cons->key);
    args_str(&a, cons->group);
    args_str(&a, cons->name);
    args_str(&a, "0");
    args_str(&a, "ids");
    char (*ids)[REDISX_STREAM_ID_SIZE] = NULL;
    size_t nids = 0;
    pthread_mutex_lock(&cons->mu);
    for (size_t i = 0; i < cons->nown && nids < room; i++) {
        owned *o = &cons->own[i];
        if (!o->msg && o->due && o->due <= now) {
            char(*n)[REDISX_STREAM_ID_SIZE] = realloc(ids, (nids + 1) * sizeof *ids);
            if (!n)
                break;
            ids = n;
            memcpy(ids[nids++], o->id, REDISX_STREAM_ID_SIZE);
        }
    }
    pthread_mutex_unlock(&cons->mu);
    redisx_status st = REDISX_OK;
    if (nids > 0) {
        for (size_t i = 0; i < nids; i++)
            args_str(&a, ids[i]);
        redisx_reply *r;
        st = run(&r, cons->client, &a, &redisx__script_stream_claim);
        if (st == REDISX_OK) {
            st = take_claimed(cons, r, out);
            /* Due ids are ours no longer as waiting retries: handed out
             * again now, or gone (acked away, deleted, reclaimed). */
            pthread_mutex_lock(&cons->mu);
            for (size_t i = 0; i < nids; i++) {
                owned *o = own_find(cons, ids[i]);
                if (o && !o->msg)
                    own_remove(cons, o);
            }
            pthread_mutex_unlock(&cons->mu);
            redisx__reply_free(r);
        }
    }
    free(ids);
    args_clear(&a);
    return st;
}

/* XAUTOCLAIM of entries idle for longer than min idle on any consumer of
 * the group (dead ones), at most `room`. Deleted entries are acked away
 * by the script. Also deletes idle empty consumers when asked to. */
static redisx_status reclaim(redisx_consumer *cons, size_t room, msg_list *out)
{
    uint64_t now = redisx__now_ns();
    if (now < cons->next_reclaim || room == 0)
        return REDISX_OK;
    args a = {0};
    script_args(&a, &redisx__script_stream_claim, 1);
    args_str(&a, cons->key);
    args_str(&a, cons->group);
    args_str(&a, cons->name);
    args_int(&a, cons->o.min_idle_ms);
    args_str(&a, "auto");
    args_str(&a, cons->cursor);
    args_int(&a, (int64_t)room);
    redisx_reply *r;
    redisx_status st = run(&r, cons->client, &a, &redisx__script_stream_claim);
    args_clear(&a);
    if (st != REDISX_OK)
        return st;
    size_t before = out->n;
    st = take_claimed(cons, r, out);
    if (out->n > before) {
        redisx__stream_count(cons->client, cons->stream, cons->group, REDISX_STREAM_CLAIMED, (int64_t)(out->n - before));
        redisx__stream_event(cons->client, REDISX__OP_STREAM_CLAIM, cons->stream, cons->group, st, now, 1, NULL,
                             cons->stream);
    }
    redisx__copy_detail(cons->cursor, sizeof cons->cursor, is_str(elem(r, 0)) ? elem(r, 0)->str : "0-0");
    redisx__reply_free(r);
    int pass_done = strcmp(cons->cursor, "0-0") == 0;
    if (pass_done) { /* a whole pass over the pending list: rest, and note the group's figures */
        cons->next_reclaim = now + (uint64_t)cons->o.reclaim_interval_ms * REDISX__NS_PER_MS;
        redisx__group_observe(cons->client, cons->stream, cons->group);
    }
    if (st == REDISX_OK && cons->o.delete_idle_ms > 0 && pass_done) {
        args d = {0};
        script_args(&d, &redisx__script_stream_delete_idle, 1);
        args_str(&d, cons->key);
        args_str(&d, cons->group);
        args_str(&d, cons->name);
        args_int(&d, cons->o.delete_idle_ms);
        st = run(&r, cons->client, &d, &redisx__script_stream_delete_idle);
        args_clear(&d);
        redisx__reply_free(r);
    }
    return st;
}

/* XREADGROUP ... BLOCK on the reader. block_ms < 0: no BLOCK. Marks the
 * read (in_read) so stop() can end it with CLIENT UNBLOCK. */
static redisx_status read_new(redisx_consumer *cons, size_t room, int64_t block_ms, msg_list *out)
{
    pthread_mutex_lock(&cons->mu);
    if (cons->stopping) {
        pthread_mutex_unlock(&cons->mu);
        return redisx__fail(REDISX_ERR_CLOSED, "stream consumer %s is stopped", cons->name);
    }
    cons->in_read = 1;
    int64_t rid = cons->reader_id;
    pthread_mutex_unlock(&cons->mu);

    redisx_reply *r = NULL;
    redisx_status st = REDISX_OK;
    if (rid < 0) {
        args a = {0};
        args_str(&a, "CLIENT");
        args_str(&a, "ID");
        st = run_at(&r, cons->reader, &a, NULL, cons->key);
        args_clear(&a);
        if (st == REDISX_OK) {
            rid = as_int(r, -1);
            pthread_mutex_lock(&cons->mu);
            cons->reader_id = rid;
            pthread_mutex_unlock(&cons->mu);
        }
        redisx__reply_free(r);
        r = NULL;
    }
    if (st == REDISX_OK) {
        args a = {0};
        args_str(&a, "XREADGROUP");
        args_str(&a, "GROUP");
        args_str(&a, cons->group);
        args_str(&a, cons->name);
        args_str(&a, "COUNT");
        args_int(&a, (int64_t)room);
        if (block_ms >= 0) {
            args_str(&a, "BLOCK");
            args_int(&a, block_ms > 0 ? block_ms : 1);
        }
        args_str(&a, "STREAMS");
        args_str(&a, cons->key);
        args_str(&a, ">");
        pthread_mutex_lock(&cons->mu);
        int stopping = cons->stopping;
        pthread_mutex_unlock(&cons->mu);
        st = stopping ? redisx__fail(REDISX_ERR_CLOSED, "stream consumer %s is stopped", cons->name)
                      : run(&r, cons->reader, &a, NULL);
        args_clear(&a);
    }
    pthread_mutex_lock(&cons->mu);
    cons->in_read = 0;
    if (st != REDISX_OK && st != REDISX_ERR_SERVER && st != REDISX_ERR_CLOSED)
        cons->reader_id = -1; /* the connection may be a new one next time */
    int stopping = cons->stopping;
    pthread_cond_broadcast(&cons->cv);
    pthread_mutex_unlock(&cons->mu);
    if (st == REDISX_ERR_SERVER) {
        char e[REDISX__DETAIL / 2];
        redisx__copy_detail(e, sizeof e, redisx_last_error());
        if (strncmp(e, "NOGROUP", 7) == 0)
            st = redisx__fail(REDISX_ERR_SERVER, "%s (group %s on stream %s: create it with redisx_group_create)",
                              e, cons->group, cons->stream);
        else if (strncmp(e, "UNBLOCKED", 9) == 0) /* key deleted, or a failover/role change */
            st = redisx__fail(REDISX_ERR_SERVER, "%s (the server ended the blocked read on stream %s%s)", e,
                              cons->stream, strstr(e, "no longer exists") ? ": it was deleted" : "");
    }
    if (st != REDISX_OK)
        return st;
    /* nil: the BLOCK ran out (or CLIENT UNBLOCK from stop) */
    const redisx_reply *entries = elem(elem(r, 0), 1);
    for (size_t i = 0; entries && i < entries->elements; i++) {
        const redisx_reply *e = entries->element[i];
        redisx_message *m = message_from(cons, elem(e, 0), elem(e, 1), 1);
        if (!m || list_push(out, m) != 0) {
            message_free(m);
            st = redisx__fail(REDISX_ERR_NOMEM, "out of memory");
            break;
        }
    }
    redisx__reply_free(r);
    if (st == REDISX_OK && out->n == 0 && stopping)
        st = redisx__fail(REDISX_ERR_CLOSED, "stream consumer %s is stopped", cons->name);
    return st;
}

/* Hands the messages out: books them as in flight. */
static redisx_status deliver(redisx_delivery **out, redisx_consumer *cons, msg_list *l)
{
    redisx_delivery *d = calloc(1, sizeof *d);
    if (!d)
        return redisx__fail(REDISX_ERR_NOMEM, "out of memory");
    pthread_mutex_lock(&cons->mu);
    for (size_t i = 0; i < l->n; i++) {
        if (own_add(cons, l->m[i]->id, l->m[i], l->m[i]->deliveries) != 0) {
            /* Not booked: left pending (reclaimed after min idle). */
            message_free(l->m[i]);
            continue;
        }
        l->m[i]->t_out = redisx__now_ns();
        l->m[d->n++] = l->m[i];
        cons->unsettled++;
    }
    pthread_mutex_unlock(&cons->mu);
    redisx__stream_count(cons->client, cons->stream, cons->group, REDISX_STREAM_DELIVERED, (int64_t)d->n);
    d->m = l->m;
    l->m = NULL;
    l->n = 0;
    cons_ref(cons);
    d->cons = cons;
    *out = d;
    return REDISX_OK;
}

static void list_clear(msg_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        message_free(l->m[i]);
    free(l->m);
    memset(l, 0, sizeof *l);
}

/* Earliest due retry (0: none). Caller holds mu. */
static uint64_t earliest_due(const redisx_consumer *cons)
{
    uint64_t e = 0;
    for (size_t i = 0; i < cons->nown; i++)
        if (!cons->own[i].msg && cons->own[i].due && (!e || cons->own[i].due < e))
            e = cons->own[i].due;
    return e;
}

redisx_status redisx__consumer_next(redisx_delivery **out, redisx_consumer *cons, int max, int64_t timeout_ms)
{
    *out = NULL;
    uint64_t t0 = redisx__now_ns();
    uint64_t deadline = t0 + (uint64_t)timeout_ms * REDISX__NS_PER_MS;
    msg_list l = {0};
    redisx_status st = REDISX_OK;
    for (;;) {
        pthread_mutex_lock(&cons->mu);
        /* Backpressure: no read while the in-flight limit is reached. */
        while (!cons->stopping && cons->unsettled >= cons->o.max_in_flight && redisx__now_ns() < deadline) {
            uint64_t ns = deadline;
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            uint64_t wait = ns - redisx__now_ns();
            if (wait > 50 * REDISX__NS_PER_MS)
                wait = 50 * REDISX__NS_PER_MS; /* re-check the clock: deadline is monotonic */
            ts.tv_sec += (time_t)(wait / 1000000000ull);
            ts.tv_nsec += (long)(wait % 1000000000ull);
            if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&cons->cv, &cons->mu, &ts);
        }
        int stopping = cons->stopping;
        int room = cons->o.max_in_flight - cons->unsettled;
        uint64_t due = earliest_due(cons);
        pthread_mutex_unlock(&cons->mu);
        if (stopping)
            return redisx__fail(REDISX_ERR_CLOSED, "stream consumer %s is stopped", cons->name);
        if (room <= 0)
            return redisx__fail(REDISX_ERR_EMPTY, "%d messages in flight (the limit): settle some first",
                                cons->o.max_in_flight);
        size_t n = (size_t)(room < max ? room : max);

        st = claim_due(cons, n, &l);
        if (st == REDISX_OK && l.n < n)
            st = reclaim(cons, n - l.n, &l);
        if (st == REDISX_OK && cons->o.idem_lease_ms > 0)
            st = idem_filter(cons, &l);
        if (st != REDISX_OK)
            break;
        if (l.n > 0)
            break;
        uint64_t now = redisx__now_ns();
        int64_t left_ms = now < deadline ? (int64_t)((deadline - now) / REDISX__NS_PER_MS) : 0;
        int64_t block = left_ms < cons->o.block_ms ? left_ms : cons->o.block_ms;
        /* Wake up for the next due retry or reclaim pass. */
        uint64_t wake = cons->next_reclaim;
        if (due && (!wake || due < wake))
            wake = due;
        if (wake > now && (int64_t)((wake - now) / REDISX__NS_PER_MS) + 1 < block)
            block = (int64_t)((wake - now) / REDISX__NS_PER_MS) + 1;
        st = read_new(cons, n, timeout_ms == 0 ? -1 : block, &l);
        if (st == REDISX_OK && cons->o.idem_lease_ms > 0)
            st = idem_filter(cons, &l);
        if (st != REDISX_OK || l.n > 0 || redisx__now_ns() >= deadline)
            break;
    }
    if (st == REDISX_OK && l.n > 0)
        st = deliver(out, cons, &l);
    else if (st == REDISX_OK)
        st = redisx__fail(REDISX_ERR_EMPTY, "no message within %lld ms", (long long)timeout_ms);
    list_clear(&l);
    if (st == REDISX_OK || (st != REDISX_ERR_EMPTY && st != REDISX_ERR_CLOSED)) {
        char saved[REDISX__DETAIL];
        redisx__copy_detail(saved, sizeof saved, redisx_last_error());
        redisx__stream_event(cons->client, REDISX__OP_STREAM_DELIVER, cons->stream, cons->group, st, t0, 0, NULL,
                             cons->stream);
        if (st != REDISX_OK)
            st = redisx__fail(st, "%s", saved);
    }
    return st;
}

/* ---- stop and free ---- */

redisx_status redisx__consumer_stop(redisx_consumer *cons, int64_t deadline_ms)
{
    uint64_t deadline = redisx__now_ns() + (uint64_t)deadline_ms * REDISX__NS_PER_MS;
    pthread_mutex_lock(&cons->mu);
    cons->stopping = 1;
    pthread_cond_broadcast(&cons->cv); /* a next() waiting at the in-flight limit */
    /* End a blocked read at once: CLIENT UNBLOCK over the parent client
     * (the read ends as if its BLOCK ran out), then wait for it. A read
     * that had not reached the server yet sees `stopping` or ends at its
     * BLOCK, at most block_ms later. */
    int unblock = 1; /* until refused: CLIENT UNBLOCK is in @admin for ACLs */
    while (cons->in_read) {
        int64_t rid = cons->reader_id;
        pthread_mutex_unlock(&cons->mu);
        if (unblock && rid >= 0 && !redisx__client_closing(cons->client)) {
            args a = {0};
            args_str(&a, "CLIENT");
            args_str(&a, "UNBLOCK");
            args_int(&a, rid);
            redisx_reply *r;
            if (run_at(&r, cons->client, &a, NULL, cons->key) == REDISX_ERR_SERVER)
                unblock = 0; /* the read ends at its BLOCK instead */
            redisx__reply_free(r);
            args_clear(&a);
        }
        pthread_mutex_lock(&cons->mu);
        if (!cons->in_read)
            break;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 20 * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&cons->cv, &cons->mu, &ts);
    }
    pthread_mutex_unlock(&cons->mu);
    redisx__client_shutdown(cons->reader);

    /* Let the messages handed out be settled within the deadline. */
    pthread_mutex_lock(&cons->mu);
    while (cons->unsettled > 0 && redisx__now_ns() < deadline) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 20 * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&cons->cv, &cons->mu, &ts);
    }
    int left = cons->unsettled;
    /* The rest stays pending: no more claim extension, so other
     * consumers reclaim it after min idle. */
    cons->extending = 0;
    pthread_mutex_unlock(&cons->mu);
    if (left > 0)
        return redisx__fail(REDISX_ERR_TIMEOUT, "%d messages still unsettled at the deadline (left pending)", left);
    return REDISX_OK;
}

void redisx__consumer_free(redisx_consumer *cons)
{
    redisx_status st = redisx__consumer_stop(cons, 0);
    (void)st;
    cons_unref(cons);
}
