/* Stream tools beside the consumer: the dead-letter stream (list, inspect,
 * requeue, purge), group inspection (XINFO GROUPS) and the stream events
 * and counters of observability (docs/STREAMS.md, docs/KEYS.md v4).
 *
 * Every call is blocking and runs on the caller's thread; the events are
 * finished on the I/O thread (a task), where every other event of the
 * client is emitted, so event callbacks never run at the same time. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client_impl.h"
#include "keys.h"
#include "stream_impl.h"

/* ---- commands ---------------------------------------------------------------- */

static void tool_reply(redisx__cmd *cmd, redisx_status st, redisx_reply *r)
{
    redisx__waiter *w = cmd->ctx;
    redisx__cmd_free(cmd);
    redisx__waiter_signal(w, st, r);
}

/* Runs argv on c and waits; an error reply becomes REDISX_ERR_SERVER with
 * the server's text. */
static redisx_status tool_run(redisx_reply **out, redisx_client *c, int argc, const char **argv, const size_t *lens,
                              const redisx__script *script)
{
    *out = NULL;
    redisx__cmd *cmd = redisx__cmd_argv(argc, argv, lens);
    if (!cmd)
        return redisx__fail(REDISX_ERR_NOMEM, "out of memory building a stream command");
    cmd->script = script;
    redisx__waiter w;
    redisx__waiter_init(&w);
    cmd->fn = tool_reply;
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

static const redisx_reply *at(const redisx_reply *r, size_t i)
{
    return r && r->type == REDISX_REPLY_ARRAY && i < r->elements ? r->element[i] : NULL;
}

static int str_reply(const redisx_reply *r)
{
    return r && (r->type == REDISX_REPLY_STRING || r->type == REDISX_REPLY_STATUS) && r->str;
}

static int64_t int_reply(const redisx_reply *r, int64_t fallback)
{
    if (r && r->type == REDISX_REPLY_INTEGER)
        return r->integer;
    if (str_reply(r)) {
        char *end;
        long long v = strtoll(r->str, &end, 10);
        return end != r->str ? v : fallback;
    }
    return fallback;
}

static char *tool_key(redisx_client *c, const char *stream, const char *suffix)
{
    return redisx__key_build(redisx__client_options(c)->prefix, "stream", stream, suffix);
}

/* ---- stream events -------------------------------------------------------------- */

typedef struct stream_ev {
    redisx__req req;
    redisx_status st;
    char *stream, *group;
} stream_ev;

static void stream_ev_run(redisx__cmd *cmd, redisx_status st, redisx_reply *r)
{
    (void)st;
    (void)r;
    stream_ev *e = cmd->ctx;
    redisx__cmd_free(cmd);
    e->req.stream = e->stream;
    e->req.group = e->group;
    redisx__req_finish(&e->req, e->st, 0);
    free(e->stream);
    free(e->group);
    free(e);
}

void redisx__stream_event(redisx_client *c, redisx__op op, const char *stream, const char *group,
                          redisx_status st, uint64_t t0, int round_trips, const char *outcome, const char *key)
{
    stream_ev *e = calloc(1, sizeof *e);
    redisx__cmd *cmd = e ? redisx__cmd_task() : NULL;
    if (!cmd) {
        free(e);
        return; /* an event lost to out-of-memory; the operation's status stands */
    }
    redisx__req_init(&e->req, c, op, key);
    e->req.t0 = t0;
    e->req.round_trips = round_trips;
    e->req.outcome = outcome;
    e->req.named = redisx__named_get(c, REDISX__NAMED_STREAM, stream, group);
    e->st = st;
    e->stream = stream ? redisx__strdup(stream) : NULL;
    e->group = group ? redisx__strdup(group) : NULL;
    cmd->fn = stream_ev_run;
    cmd->ctx = e;
    redisx__submit(c, cmd);
}

void redisx__stream_count(redisx_client *c, const char *stream, const char *group, redisx_stream_counter which,
                          int64_t n)
{
    if ((int)which >= 0 && which < REDISX_STREAM_COUNTER_COUNT && n > 0) {
        atomic_fetch_add(&c->stream_counter[which], n);
        redisx__named_stream_count(redisx__named_get(c, REDISX__NAMED_STREAM, stream, group), which, n);
    }
}

/* ---- dead-letter entries ------------------------------------------------------ */

struct redisx_dlq_entry {
    char id[REDISX_STREAM_ID_SIZE];
    char *error, *orig, *stream, *group, *consumer; /* never NULL once parsed */
    int64_t deliveries;
    int deleted;
    size_t nfields;
    char **p; /* name, value, ... of the original fields */
    size_t *len;
};

struct redisx_dlq_entries {
    size_t n;
    redisx_dlq_entry *e;
};

static void entry_clear(redisx_dlq_entry *e)
{
    free(e->error);
    free(e->orig);
    free(e->stream);
    free(e->group);
    free(e->consumer);
    for (size_t i = 0; i < 2 * e->nfields; i++)
        free(e->p[i]);
    free(e->p);
    free(e->len);
    memset(e, 0, sizeof *e);
}

static char *dup_bytes(const redisx_reply *r, size_t *len)
{
    size_t n = str_reply(r) ? r->len : 0;
    char *s = malloc(n + 1);
    if (!s)
        return NULL;
    if (n)
        memcpy(s, r->str, n);
    s[n] = '\0';
    if (len)
        *len = n;
    return s;
}

static int set_meta(char **slot, const redisx_reply *v)
{
    free(*slot);
    *slot = dup_bytes(v, NULL);
    return *slot ? 0 : -1;
}

/* Parses an XRANGE element {id, {name, value, ...}}. */
static redisx_status entry_parse(redisx_dlq_entry *e, const redisx_reply *r)
{
    memset(e, 0, sizeof *e);
    const redisx_reply *id = at(r, 0), *f = at(r, 1);
    if (!str_reply(id) || id->len >= REDISX_STREAM_ID_SIZE || (f && f->type != REDISX_REPLY_ARRAY))
        return redisx__unexpected_reply(r, "XRANGE of a dead-letter stream");
    memcpy(e->id, id->str, id->len + 1);
    e->deliveries = -1;
    size_t pairs = f ? f->elements / 2 : 0;
    e->p = calloc(2 * pairs + 1, sizeof *e->p);
    e->len = calloc(2 * pairs + 1, sizeof *e->len);
    int oom = !e->p || !e->len;
    for (size_t i = 0; !oom && i < pairs; i++) {
        const redisx_reply *n = f->element[2 * i], *v = f->element[2 * i + 1];
        const char *name = str_reply(n) ? n->str : "";
        if (strncmp(name, "rx-dlq-", 7) == 0) {
            const char *k = name + 7;
            if (strcmp(k, "error") == 0)
                oom = set_meta(&e->error, v);
            else if (strcmp(k, "id") == 0)
                oom = set_meta(&e->orig, v);
            else if (strcmp(k, "stream") == 0)
                oom = set_meta(&e->stream, v);
            else if (strcmp(k, "group") == 0)
                oom = set_meta(&e->group, v);
            else if (strcmp(k, "consumer") == 0)
                oom = set_meta(&e->consumer, v);
            else if (strcmp(k, "deliveries") == 0)
                e->deliveries = int_reply(v, -1);
            else if (strcmp(k, "deleted") == 0)
                e->deleted = str_reply(v) && strcmp(v->str, "1") == 0;
            continue; /* unknown rx-dlq-* fields of a later contract: skipped */
        }
        size_t k = 2 * e->nfields;
        e->p[k] = dup_bytes(n, &e->len[k]);
        e->p[k + 1] = dup_bytes(v, &e->len[k + 1]);
        e->nfields++;
        oom = !e->p[k] || !e->p[k + 1];
    }
    char **meta[] = {&e->error, &e->orig, &e->stream, &e->group, &e->consumer};
    for (size_t i = 0; !oom && i < sizeof meta / sizeof meta[0]; i++)
        if (!*meta[i] && !(*meta[i] = redisx__strdup("")))
            oom = 1;
    if (oom) {
        entry_clear(e);
        return redisx__fail(REDISX_ERR_NOMEM, "out of memory");
    }
    return REDISX_OK;
}

void redisx__dlq_list_free(redisx_dlq_entries *l)
{
    for (size_t i = 0; i < l->n; i++)
        entry_clear(&l->e[i]);
    free(l->e);
    free(l);
}

size_t redisx__dlq_list_count(const redisx_dlq_entries *l)
{
    return l->n;
}

const redisx_dlq_entry *redisx__dlq_list_entry(const redisx_dlq_entries *l, size_t i)
{
    return i < l->n ? &l->e[i] : NULL;
}

redisx_status redisx__dlq_list(redisx_dlq_entries **out, redisx_client *c, const char *stream, int newest_first,
                               const char *after_id, int count)
{
    *out = NULL;
    uint64_t t0 = redisx__now_ns();
    char *dlq = tool_key(c, stream, ":dlq");
    if (!dlq)
        return redisx__fail(REDISX_ERR_NOMEM, "out of memory");
    char from[REDISX_STREAM_ID_SIZE + 1], cnt[24];
    const char *start = newest_first ? "+" : "-", *end = newest_first ? "-" : "+";
    if (after_id) {
        snprintf(from, sizeof from, "(%s", after_id); /* exclusive (Redis 6.2+) */
        start = from;
    }
    snprintf(cnt, sizeof cnt, "%d", count);
    const char *argv[] = {newest_first ? "XREVRANGE" : "XRANGE", dlq, start, end, "COUNT", cnt};
    redisx_reply *r;
    redisx_status st = tool_run(&r, c, 6, argv, NULL, NULL);
    free(dlq);
    redisx_dlq_entries *l = NULL;
    if (st == REDISX_OK && (!r || r->type != REDISX_REPLY_ARRAY))
        st = redisx__unexpected_reply(r, "XRANGE of a dead-letter stream");
    if (st == REDISX_OK) {
        l = calloc(1, sizeof *l);
        l->e = l ? calloc(r->elements + 1, sizeof *l->e) : NULL;
        if (!l || !l->e) {
            free(l);
            l = NULL;
            st = redisx__fail(REDISX_ERR_NOMEM, "out of memory");
        }
    }
    for (size_t i = 0; st == REDISX_OK && i < r->elements; i++) {
        st = entry_parse(&l->e[i], r->element[i]);
        if (st == REDISX_OK)
            l->n++;
    }
    redisx__reply_free(r);
    if (st != REDISX_OK && l) {
        redisx__dlq_list_free(l);
        l = NULL;
    }
    redisx__stream_event(c, REDISX__OP_STREAM_DLQ_LIST, stream, NULL, st, t0, 1, NULL, stream);
    *out = l;
    return st;
}

redisx_status redisx__dlq_inspect(redisx_dlq_entry **out, redisx_client *c, const char *stream, const char *id)
{
    *out = NULL;
    uint64_t t0 = redisx__now_ns();
    char *dlq = tool_key(c, stream, ":dlq");
    if (!dlq)
        return redisx__fail(REDISX_ERR_NOMEM, "out of memory");
    const char *argv[] = {"XRANGE", dlq, id, id};
    redisx_reply *r;
    redisx_status st = tool_run(&r, c, 4, argv, NULL, NULL);
    free(dlq);
    redisx_dlq_entry *e = NULL;
    if (st == REDISX_OK && (!r || r->type != REDISX_REPLY_ARRAY))
        st = redisx__unexpected_reply(r, "XRANGE of a dead-letter stream");
    if (st == REDISX_OK && r->elements == 0)
        st = redisx__fail(REDISX_ERR_EMPTY, "no entry %s in the dead-letter stream of %s", id, stream);
    if (st == REDISX_OK) {
        e = malloc(sizeof *e);
        st = e ? entry_parse(e, r->element[0]) : redisx__fail(REDISX_ERR_NOMEM, "out of memory");
        if (st != REDISX_OK) {
            free(e);
            e = NULL;
        }
    }
    redisx__reply_free(r);
    redisx__stream_event(c, REDISX__OP_STREAM_DLQ_INSPECT, stream, NULL, st, t0, 1, NULL, stream);
    *out = e;
    return st;
}

void redisx__dlq_entry_free(redisx_dlq_entry *e)
{
    entry_clear(e);
    free(e);
}

const char *redisx__dlq_entry_id(const redisx_dlq_entry *e)
{
    return e->id;
}
const char *redisx__dlq_entry_error(const redisx_dlq_entry *e)
{
    return e->error;
}
const char *redisx__dlq_entry_original_id(const redisx_dlq_entry *e)
{
    return e->orig;
}
const char *redisx__dlq_entry_stream(const redisx_dlq_entry *e)
{
    return e->stream;
}
const char *redisx__dlq_entry_group(const redisx_dlq_entry *e)
{
    return e->group;
}
const char *redisx__dlq_entry_consumer(const redisx_dlq_entry *e)
{
    return e->consumer;
}
int64_t redisx__dlq_entry_deliveries(const redisx_dlq_entry *e)
{
    return e->deliveries;
}
int redisx__dlq_entry_deleted(const redisx_dlq_entry *e)
{
    return e->deleted;
}
size_t redisx__dlq_entry_fields(const redisx_dlq_entry *e)
{
    return e->nfields;
}

const char *redisx__dlq_entry_field(const redisx_dlq_entry *e, size_t i, int value, size_t *len)
{
    if (i >= e->nfields) {
        if (len)
            *len = 0;
        return NULL;
    }
    if (len)
        *len = e->len[2 * i + (size_t)value];
    return e->p[2 * i + (size_t)value];
}

redisx_status redisx__dlq_requeue(char *new_id, redisx_client *c, const char *stream, const char *id)
{
    uint64_t t0 = redisx__now_ns();
    char *key = tool_key(c, stream, ""), *dlq = tool_key(c, stream, ":dlq");
    redisx_status st = REDISX_OK;
    redisx_reply *r = NULL;
    if (!key || !dlq) {
        st = redisx__fail(REDISX_ERR_NOMEM, "out of memory");
    } else {
        const redisx__script *s = &redisx__script_stream_dlq_requeue;
        const char *argv[] = {"EVALSHA", s->sha1, "2", key, dlq, id};
        size_t lens[] = {7, 40, 1, strlen(key), strlen(dlq), strlen(id)};
        st = tool_run(&r, c, 6, argv, lens, s);
    }
    free(key);
    free(dlq);
    if (st == REDISX_OK) {
        int64_t code = int_reply(at(r, 0), -2);
        const redisx_reply *nid = at(r, 1);
        if (code == 1 && str_reply(nid) && nid->len < REDISX_STREAM_ID_SIZE) {
            if (new_id)
                memcpy(new_id, nid->str, nid->len + 1);
        } else if (code == 0) {
            st = redisx__fail(REDISX_ERR_EMPTY, "no entry %s in the dead-letter stream of %s", id, stream);
        } else if (code == -1) {
            st = redisx__fail(REDISX_ERR_INVALID,
                              "dead-letter entry %s has no original fields (deleted before its move): not requeued",
                              id);
        } else {
            st = redisx__unexpected_reply(r, "stream_dlq_requeue");
        }
    }
    redisx__reply_free(r);
    redisx__stream_event(c, REDISX__OP_STREAM_DLQ_REQUEUE, stream, NULL, st, t0, 1, NULL, stream);
    return st;
}

redisx_status redisx__dlq_purge(int64_t *removed, redisx_client *c, const char *stream, const char *up_to)
{
    uint64_t t0 = redisx__now_ns();
    char *dlq = tool_key(c, stream, ":dlq");
    if (!dlq)
        return redisx__fail(REDISX_ERR_NOMEM, "out of memory");
    const redisx__script *s = &redisx__script_stream_dlq_purge;
    const char *argv[] = {"EVALSHA", s->sha1, "1", dlq, up_to ? up_to : ""};
    size_t lens[] = {7, 40, 1, strlen(dlq), up_to ? strlen(up_to) : 0};
    redisx_reply *r;
    redisx_status st = tool_run(&r, c, 5, argv, lens, s);
    free(dlq);
    if (st == REDISX_OK && (!r || r->type != REDISX_REPLY_INTEGER))
        st = redisx__unexpected_reply(r, "stream_dlq_purge");
    if (st == REDISX_OK && removed)
        *removed = r->integer;
    redisx__reply_free(r);
    redisx__stream_event(c, REDISX__OP_STREAM_DLQ_PURGE, stream, NULL, st, t0, 1, NULL, stream);
    return st;
}

/* ---- group inspection --------------------------------------------------------- */

struct redisx_group_info {
    int64_t consumers, pending, lag, entries_read;
    char last_id[REDISX_STREAM_ID_SIZE];
};

static redisx_status group_fetch(redisx_group_info **out, redisx_client *c, const char *stream, const char *group);

redisx_status redisx__group_inspect(redisx_group_info **out, redisx_client *c, const char *stream, const char *group)
{
    uint64_t t0 = redisx__now_ns();
    redisx_status st = group_fetch(out, c, stream, group);
    redisx__stream_event(c, REDISX__OP_STREAM_GROUP_INSPECT, stream, group, st, t0, 1, NULL, stream);
    return st;
}

void redisx__group_observe(redisx_client *c, const char *stream, const char *group)
{
    redisx_group_info *info = NULL;
    char saved[REDISX__DETAIL];
    redisx__copy_detail(saved, sizeof saved, redisx_last_error());
    (void)group_fetch(&info, c, stream, group); /* gauges only: a failure changes nothing */
    free(info);
    redisx__set_detail(saved);
}

/* XINFO GROUPS of stream, the row of group; notes its figures in the
 * group's per-name series. */
static redisx_status group_fetch(redisx_group_info **out, redisx_client *c, const char *stream, const char *group)
{
    *out = NULL;
    char *key = tool_key(c, stream, "");
    if (!key)
        return redisx__fail(REDISX_ERR_NOMEM, "out of memory");
    const char *argv[] = {"XINFO", "GROUPS", key};
    redisx_reply *r;
    redisx_status st = tool_run(&r, c, 3, argv, NULL, NULL);
    free(key);
    if (st == REDISX_OK && (!r || r->type != REDISX_REPLY_ARRAY))
        st = redisx__unexpected_reply(r, "XINFO GROUPS");
    const redisx_reply *g = NULL;
    for (size_t i = 0; st == REDISX_OK && !g && i < r->elements; i++) {
        const redisx_reply *e = r->element[i];
        for (size_t k = 0; k + 1 < (e && e->type == REDISX_REPLY_ARRAY ? e->elements : 0); k += 2)
            if (str_reply(e->element[k]) && strcmp(e->element[k]->str, "name") == 0 &&
                str_reply(e->element[k + 1]) && strcmp(e->element[k + 1]->str, group) == 0)
                g = e;
    }
    redisx_group_info *info = NULL;
    if (st == REDISX_OK && !g)
        st = redisx__fail(REDISX_ERR_EMPTY, "stream %s has no consumer group %s", stream, group);
    if (st == REDISX_OK) {
        info = calloc(1, sizeof *info);
        if (!info)
            st = redisx__fail(REDISX_ERR_NOMEM, "out of memory");
    }
    if (st == REDISX_OK) {
        /* lag and entries-read are nil when Redis cannot tell (7.0). */
        info->lag = info->entries_read = -1;
        for (size_t k = 0; k + 1 < g->elements; k += 2) {
            const char *n = str_reply(g->element[k]) ? g->element[k]->str : "";
            const redisx_reply *v = g->element[k + 1];
            if (strcmp(n, "consumers") == 0)
                info->consumers = int_reply(v, 0);
            else if (strcmp(n, "pending") == 0)
                info->pending = int_reply(v, 0);
            else if (strcmp(n, "lag") == 0)
                info->lag = int_reply(v, -1);
            else if (strcmp(n, "entries-read") == 0)
                info->entries_read = int_reply(v, -1);
            else if (strcmp(n, "last-delivered-id") == 0 && str_reply(v))
                redisx__copy_detail(info->last_id, sizeof info->last_id, v->str);
        }
    }
    redisx__reply_free(r);
    if (st == REDISX_OK) {
        redisx__named *n = redisx__named_get(c, REDISX__NAMED_STREAM, stream, group);
        if (n) {
            atomic_store(&n->group_pending, info->pending);
            atomic_store(&n->group_lag, info->lag);
            atomic_store(&n->group_consumers, info->consumers);
            atomic_store(&n->group_seen, 1);
        }
    }
    *out = info;
    return st;
}

void redisx__group_info_free(redisx_group_info *info)
{
    free(info);
}
int64_t redisx__group_info_consumers(const redisx_group_info *i)
{
    return i->consumers;
}
int64_t redisx__group_info_pending(const redisx_group_info *i)
{
    return i->pending;
}
const char *redisx__group_info_last_id(const redisx_group_info *i)
{
    return i->last_id;
}
int64_t redisx__group_info_lag(const redisx_group_info *i)
{
    return i->lag;
}
int64_t redisx__group_info_entries_read(const redisx_group_info *i)
{
    return i->entries_read;
}
