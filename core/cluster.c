/* Redis Cluster groundwork (cluster.h, docs/CLUSTER.md): key slots, the
 * slot map, redirect errors and the key positions of commands. */
#include "cluster.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- key slots ---- */

/* CRC16/XMODEM, as Redis' crc16.c: one table lookup per byte. */
static const uint16_t crc16_table[256] = {
    0x0000, 0x1021, 0x2042, 0x3063, 0x4084, 0x50a5, 0x60c6, 0x70e7,
    0x8108, 0x9129, 0xa14a, 0xb16b, 0xc18c, 0xd1ad, 0xe1ce, 0xf1ef,
    0x1231, 0x0210, 0x3273, 0x2252, 0x52b5, 0x4294, 0x72f7, 0x62d6,
    0x9339, 0x8318, 0xb37b, 0xa35a, 0xd3bd, 0xc39c, 0xf3ff, 0xe3de,
    0x2462, 0x3443, 0x0420, 0x1401, 0x64e6, 0x74c7, 0x44a4, 0x5485,
    0xa56a, 0xb54b, 0x8528, 0x9509, 0xe5ee, 0xf5cf, 0xc5ac, 0xd58d,
    0x3653, 0x2672, 0x1611, 0x0630, 0x76d7, 0x66f6, 0x5695, 0x46b4,
    0xb75b, 0xa77a, 0x9719, 0x8738, 0xf7df, 0xe7fe, 0xd79d, 0xc7bc,
    0x48c4, 0x58e5, 0x6886, 0x78a7, 0x0840, 0x1861, 0x2802, 0x3823,
    0xc9cc, 0xd9ed, 0xe98e, 0xf9af, 0x8948, 0x9969, 0xa90a, 0xb92b,
    0x5af5, 0x4ad4, 0x7ab7, 0x6a96, 0x1a71, 0x0a50, 0x3a33, 0x2a12,
    0xdbfd, 0xcbdc, 0xfbbf, 0xeb9e, 0x9b79, 0x8b58, 0xbb3b, 0xab1a,
    0x6ca6, 0x7c87, 0x4ce4, 0x5cc5, 0x2c22, 0x3c03, 0x0c60, 0x1c41,
    0xedae, 0xfd8f, 0xcdec, 0xddcd, 0xad2a, 0xbd0b, 0x8d68, 0x9d49,
    0x7e97, 0x6eb6, 0x5ed5, 0x4ef4, 0x3e13, 0x2e32, 0x1e51, 0x0e70,
    0xff9f, 0xefbe, 0xdfdd, 0xcffc, 0xbf1b, 0xaf3a, 0x9f59, 0x8f78,
    0x9188, 0x81a9, 0xb1ca, 0xa1eb, 0xd10c, 0xc12d, 0xf14e, 0xe16f,
    0x1080, 0x00a1, 0x30c2, 0x20e3, 0x5004, 0x4025, 0x7046, 0x6067,
    0x83b9, 0x9398, 0xa3fb, 0xb3da, 0xc33d, 0xd31c, 0xe37f, 0xf35e,
    0x02b1, 0x1290, 0x22f3, 0x32d2, 0x4235, 0x5214, 0x6277, 0x7256,
    0xb5ea, 0xa5cb, 0x95a8, 0x8589, 0xf56e, 0xe54f, 0xd52c, 0xc50d,
    0x34e2, 0x24c3, 0x14a0, 0x0481, 0x7466, 0x6447, 0x5424, 0x4405,
    0xa7db, 0xb7fa, 0x8799, 0x97b8, 0xe75f, 0xf77e, 0xc71d, 0xd73c,
    0x26d3, 0x36f2, 0x0691, 0x16b0, 0x6657, 0x7676, 0x4615, 0x5634,
    0xd94c, 0xc96d, 0xf90e, 0xe92f, 0x99c8, 0x89e9, 0xb98a, 0xa9ab,
    0x5844, 0x4865, 0x7806, 0x6827, 0x18c0, 0x08e1, 0x3882, 0x28a3,
    0xcb7d, 0xdb5c, 0xeb3f, 0xfb1e, 0x8bf9, 0x9bd8, 0xabbb, 0xbb9a,
    0x4a75, 0x5a54, 0x6a37, 0x7a16, 0x0af1, 0x1ad0, 0x2ab3, 0x3a92,
    0xfd2e, 0xed0f, 0xdd6c, 0xcd4d, 0xbdaa, 0xad8b, 0x9de8, 0x8dc9,
    0x7c26, 0x6c07, 0x5c64, 0x4c45, 0x3ca2, 0x2c83, 0x1ce0, 0x0cc1,
    0xef1f, 0xff3e, 0xcf5d, 0xdf7c, 0xaf9b, 0xbfba, 0x8fd9, 0x9ff8,
    0x6e17, 0x7e36, 0x4e55, 0x5e74, 0x2e93, 0x3eb2, 0x0ed1, 0x1ef0
};

uint16_t redisx__crc16(const void *p, size_t len)
{
    const unsigned char *b = p;
    uint16_t crc = 0;
    for (size_t i = 0; i < len; i++)
        crc = (uint16_t)((crc << 8) ^ crc16_table[((crc >> 8) ^ b[i]) & 0xff]);
    return crc;
}

int redisx__slot_of(const void *key, size_t len)
{
    const char *k = key;
    const char *open = len ? memchr(k, '{', len) : NULL;
    if (open) {
        size_t from = (size_t)(open - k) + 1;
        const char *close = memchr(k + from, '}', len - from);
        if (close && close > k + from) /* "{}" hashes the whole key */
            return redisx__crc16(k + from, (size_t)(close - (k + from))) & (REDISX__SLOTS - 1);
    }
    return redisx__crc16(k, len) & (REDISX__SLOTS - 1);
}

/* ---- the slot map ---- */

static void nodes_free(redisx__cluster_node *nodes, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(nodes[i].host);
        free(nodes[i].id);
        free(nodes[i].replicas);
    }
    free(nodes);
}

static void map_free(redisx__slot_map *m)
{
    nodes_free(m->nodes, m->n_nodes);
    free(m);
}

redisx__slot_map *redisx__slot_map_ref(redisx__slot_map *m)
{
    if (m)
        atomic_fetch_add_explicit(&m->refs, 1, memory_order_relaxed);
    return m;
}

void redisx__slot_map_unref(redisx__slot_map *m)
{
    if (m && atomic_fetch_sub_explicit(&m->refs, 1, memory_order_acq_rel) == 1)
        map_free(m);
}

const redisx__cluster_node *redisx__slot_map_master(const redisx__slot_map *m, int slot)
{
    if (!m || slot < 0 || slot >= REDISX__SLOTS || m->slot_node[slot] == REDISX__SLOT_NONE)
        return NULL;
    return &m->nodes[m->slot_node[slot]];
}

int redisx__slot_map_find(const redisx__slot_map *m, const char *host, int port)
{
    for (size_t i = 0; m && i < m->n_nodes; i++)
        if (m->nodes[i].port == port && strcasecmp(m->nodes[i].host, host) == 0)
            return (int)i;
    return -1;
}

static void count_uncovered(redisx__slot_map *m)
{
    m->n_uncovered = 0;
    for (int s = 0; s < REDISX__SLOTS; s++)
        m->n_uncovered += m->slot_node[s] == REDISX__SLOT_NONE;
}

size_t redisx__slot_map_uncovered(const redisx__slot_map *m, char *out, size_t cap)
{
    size_t need = 0;
    if (cap)
        out[0] = '\0';
    for (int s = 0; s < REDISX__SLOTS; s++) {
        if (m->slot_node[s] != REDISX__SLOT_NONE)
            continue;
        int e = s;
        while (e + 1 < REDISX__SLOTS && m->slot_node[e + 1] == REDISX__SLOT_NONE)
            e++;
        char part[32];
        int n = e > s ? snprintf(part, sizeof part, "%s%d-%d", need ? "," : "", s, e)
                      : snprintf(part, sizeof part, "%s%d", need ? "," : "", s);
        if (cap && need + (size_t)n < cap)
            memcpy(out + need, part, (size_t)n + 1);
        else if (cap && need < cap) { /* cut: end in "..." where it fits */
            size_t at = cap >= 4 && need > cap - 4 ? cap - 4 : need;
            if (cap >= 4)
                memcpy(out + at, "...", 4);
            else
                out[0] = '\0';
        }
        need += (size_t)n;
        s = e;
    }
    return need;
}

/* The map under construction. */
typedef struct builder {
    redisx__slot_map *m;
    size_t cap;
} builder;

static int host_ok(const char *h, size_t len)
{
    if (len == 0 || len >= REDISX__HOST_MAX)
        return 0;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)h[i] <= ' ' || (unsigned char)h[i] >= 0x7f)
            return 0;
    return 1;
}

static int id_ok(const char *id, size_t len)
{
    if (len != 40)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!isxdigit((unsigned char)id[i]))
            return 0;
    return 1;
}

/* Index of host:port in the builder, added (as a master, no id) when new;
 * -1 on out-of-memory. */
static int node_add(builder *b, const char *host, int port)
{
    int i = redisx__slot_map_find(b->m, host, port);
    if (i >= 0)
        return i;
    if (b->m->n_nodes == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 8;
        redisx__cluster_node *nn = realloc(b->m->nodes, cap * sizeof *nn);
        if (!nn)
            return -1;
        b->m->nodes = nn;
        b->cap = cap;
    }
    redisx__cluster_node *n = &b->m->nodes[b->m->n_nodes];
    memset(n, 0, sizeof *n);
    n->host = redisx__strdup(host);
    if (!n->host)
        return -1;
    n->port = port;
    n->master = -2; /* no role yet: the caller gives it one */
    return (int)b->m->n_nodes++;
}

static int replica_add(redisx__cluster_node *master, size_t idx)
{
    for (size_t i = 0; i < master->n_replicas; i++)
        if (master->replicas[i] == idx)
            return 0;
    size_t *r = realloc(master->replicas, (master->n_replicas + 1) * sizeof *r);
    if (!r)
        return -1;
    r[master->n_replicas++] = idx;
    master->replicas = r;
    return 0;
}

static const redisx_reply *meta_get(const redisx_reply *meta, const char *key)
{
    for (size_t i = 0; meta && i + 1 < meta->elements; i += 2) {
        const redisx_reply *k = meta->element[i];
        if (k->type == REDISX_REPLY_STRING && strcasecmp(k->str, key) == 0 &&
            meta->element[i + 1]->type == REDISX_REPLY_STRING)
            return meta->element[i + 1];
    }
    return NULL;
}

/* Reads one node entry [endpoint, port, id?, metadata?] of range r (1-based
 * for messages) at position `what` into the builder; its index into *idx. */
static redisx_status parse_node(builder *b, const redisx_reply *e, size_t r, const char *what, const char *from_host,
                                int *idx)
{
    if (e->type != REDISX_REPLY_ARRAY || e->elements < 2)
        return redisx__fail(REDISX_ERR_PROTOCOL, "CLUSTER SLOTS: range %zu: %s is not an array [endpoint, port, ...]",
                            r, what);
    const redisx_reply *ep = e->element[0], *port = e->element[1];
    const redisx_reply *id = e->elements > 2 ? e->element[2] : NULL;
    const redisx_reply *meta = e->elements > 3 ? e->element[3] : NULL;
    if (port->type != REDISX_REPLY_INTEGER || port->integer < 1 || port->integer > 65535)
        return redisx__fail(REDISX_ERR_PROTOCOL, "CLUSTER SLOTS: range %zu: %s: port %s", r, what,
                            port->type == REDISX_REPLY_INTEGER ? "out of range 1..65535" : "is not an integer");
    if (id && (id->type != REDISX_REPLY_STRING || !id_ok(id->str, id->len)))
        return redisx__fail(REDISX_ERR_PROTOCOL, "CLUSTER SLOTS: range %zu: %s: node id is not 40 hex digits", r,
                            what);
    if (meta && (meta->type != REDISX_REPLY_ARRAY || meta->elements % 2 != 0))
        return redisx__fail(REDISX_ERR_PROTOCOL, "CLUSTER SLOTS: range %zu: %s: metadata is not a list of pairs", r,
                            what);
    const char *host;
    if (ep->type == REDISX_REPLY_NIL || (ep->type == REDISX_REPLY_STRING && ep->len == 0)) {
        host = from_host; /* unknown endpoint: the address we reached it by */
    } else if (ep->type == REDISX_REPLY_STRING && strcmp(ep->str, "?") == 0) {
        /* Hostnames preferred, none announced: its IP if the metadata has it. */
        const redisx_reply *ip = meta_get(meta, "ip");
        host = ip && ip->len ? ip->str : from_host;
    } else if (ep->type == REDISX_REPLY_STRING) {
        if (!host_ok(ep->str, ep->len))
            return redisx__fail(REDISX_ERR_PROTOCOL, "CLUSTER SLOTS: range %zu: %s: endpoint is not a host name", r,
                                what);
        host = ep->str;
    } else {
        return redisx__fail(REDISX_ERR_PROTOCOL, "CLUSTER SLOTS: range %zu: %s: endpoint is not a string or null", r,
                            what);
    }
    if (!host || !host_ok(host, strlen(host)))
        return redisx__fail(REDISX_ERR_PROTOCOL,
                            "CLUSTER SLOTS: range %zu: %s: endpoint unknown and no address to stand in for it", r,
                            what);
    int i = node_add(b, host, (int)port->integer);
    if (i < 0)
        return redisx__fail(REDISX_ERR_NOMEM, "CLUSTER SLOTS: out of memory");
    redisx__cluster_node *n = &b->m->nodes[i];
    if (id) {
        if (n->id && strcmp(n->id, id->str) != 0)
            return redisx__fail(REDISX_ERR_PROTOCOL, "CLUSTER SLOTS: range %zu: %s: %s:%d has two node ids", r, what,
                                n->host, n->port);
        if (!n->id && !(n->id = redisx__strdup(id->str)))
            return redisx__fail(REDISX_ERR_NOMEM, "CLUSTER SLOTS: out of memory");
    }
    *idx = i;
    return REDISX_OK;
}

static redisx_status parse_range(builder *b, const redisx_reply *e, size_t r, const char *from_host)
{
    if (e->type != REDISX_REPLY_ARRAY || e->elements < 3)
        return redisx__fail(REDISX_ERR_PROTOCOL, "CLUSTER SLOTS: range %zu is not an array [start, end, master, ...]",
                            r);
    const redisx_reply *lo = e->element[0], *hi = e->element[1];
    if (lo->type != REDISX_REPLY_INTEGER || hi->type != REDISX_REPLY_INTEGER)
        return redisx__fail(REDISX_ERR_PROTOCOL, "CLUSTER SLOTS: range %zu: start or end is not an integer", r);
    if (lo->integer < 0 || hi->integer >= REDISX__SLOTS || lo->integer > hi->integer)
        return redisx__fail(REDISX_ERR_PROTOCOL, "CLUSTER SLOTS: range %zu: %lld-%lld is not within 0-16383", r,
                            (long long)lo->integer, (long long)hi->integer);
    int master;
    redisx_status st = parse_node(b, e->element[2], r, "master", from_host, &master);
    if (st != REDISX_OK)
        return st;
    redisx__cluster_node *m = &b->m->nodes[master];
    if (m->master >= 0)
        return redisx__fail(REDISX_ERR_PROTOCOL, "CLUSTER SLOTS: range %zu: %s:%d is a master here, a replica elsewhere",
                            r, m->host, m->port);
    m->master = -1;
    for (size_t i = 3; i < e->elements; i++) {
        char what[32];
        snprintf(what, sizeof what, "replica %zu", i - 2);
        int rep;
        if ((st = parse_node(b, e->element[i], r, what, from_host, &rep)) != REDISX_OK)
            return st;
        redisx__cluster_node *n = &b->m->nodes[rep];
        if (n->master != -2 && n->master != master)
            return redisx__fail(REDISX_ERR_PROTOCOL,
                                "CLUSTER SLOTS: range %zu: %s: %s:%d is already listed with another role", r, what,
                                n->host, n->port);
        n->master = master;
        if (replica_add(&b->m->nodes[master], (size_t)rep) != 0)
            return redisx__fail(REDISX_ERR_NOMEM, "CLUSTER SLOTS: out of memory");
    }
    for (int64_t s = lo->integer; s <= hi->integer; s++) {
        if (b->m->slot_node[s] != REDISX__SLOT_NONE)
            return redisx__fail(REDISX_ERR_PROTOCOL, "CLUSTER SLOTS: range %zu: slot %lld is also in an earlier range",
                                r, (long long)s);
        b->m->slot_node[s] = (uint16_t)master;
    }
    return REDISX_OK;
}

redisx_status redisx__slot_map_parse(redisx__slot_map **out, const redisx_reply *reply, const char *from_host,
                                     uint64_t version, unsigned flags)
{
    *out = NULL;
    if (!reply)
        return redisx__fail(REDISX_ERR_PROTOCOL, "CLUSTER SLOTS: no reply");
    if (reply->type == REDISX_REPLY_ERROR)
        return redisx__fail(REDISX_ERR_SERVER, "CLUSTER SLOTS: %s", reply->str);
    if (reply->type != REDISX_REPLY_ARRAY)
        return redisx__fail(REDISX_ERR_PROTOCOL, "CLUSTER SLOTS: reply is not an array (type %d)", (int)reply->type);
    builder b = {calloc(1, sizeof *b.m), 0};
    if (!b.m)
        return redisx__fail(REDISX_ERR_NOMEM, "CLUSTER SLOTS: out of memory");
    atomic_init(&b.m->refs, 1);
    b.m->version = version;
    memset(b.m->slot_node, 0xff, sizeof b.m->slot_node);
    redisx_status st = REDISX_OK;
    for (size_t i = 0; i < reply->elements && st == REDISX_OK; i++)
        st = parse_range(&b, reply->element[i], i + 1, from_host);
    if (st == REDISX_OK) {
        count_uncovered(b.m);
        if (b.m->n_uncovered && (flags & REDISX__SLOTS_FULL_COVERAGE)) {
            char ranges[200];
            redisx__slot_map_uncovered(b.m, ranges, sizeof ranges);
            st = redisx__fail(REDISX_ERR_PROTOCOL, "CLUSTER SLOTS: %zu slots served by no master: %s",
                              b.m->n_uncovered, ranges);
        }
    }
    if (st != REDISX_OK) {
        map_free(b.m);
        return st;
    }
    *out = b.m;
    return REDISX_OK;
}

redisx_status redisx__slot_map_patch(redisx__slot_map **out, const redisx__slot_map *m, int slot, const char *host,
                                     int port)
{
    *out = NULL;
    if (slot < 0 || slot >= REDISX__SLOTS || port < 1 || port > 65535 || !host || !host_ok(host, strlen(host)))
        return redisx__fail(REDISX_ERR_INVALID, "slot map: cannot move slot %d to %s:%d", slot, host ? host : "(null)",
                            port);
    builder b = {malloc(sizeof *b.m), 0};
    if (!b.m)
        return redisx__fail(REDISX_ERR_NOMEM, "slot map: out of memory");
    memcpy(b.m->slot_node, m->slot_node, sizeof b.m->slot_node);
    atomic_init(&b.m->refs, 1);
    b.m->version = m->version + 1;
    b.m->n_nodes = 0;
    b.m->nodes = calloc(m->n_nodes + 1, sizeof *b.m->nodes);
    b.cap = m->n_nodes + 1;
    if (!b.m->nodes)
        goto nomem;
    for (size_t i = 0; i < m->n_nodes; i++) {
        const redisx__cluster_node *s = &m->nodes[i];
        redisx__cluster_node *d = &b.m->nodes[i];
        *d = *s;
        d->host = redisx__strdup(s->host);
        d->id = s->id ? redisx__strdup(s->id) : NULL;
        d->replicas = s->n_replicas ? redisx__memdup(s->replicas, s->n_replicas * sizeof *s->replicas) : NULL;
        b.m->n_nodes++;
        if (!d->host || (s->id && !d->id) || (s->n_replicas && !d->replicas))
            goto nomem;
    }
    int i = node_add(&b, host, port);
    if (i < 0)
        goto nomem;
    redisx__cluster_node *n = &b.m->nodes[i];
    if (n->master >= 0) { /* a replica that took over (failover): now a master */
        redisx__cluster_node *old = &b.m->nodes[n->master];
        for (size_t k = 0; k < old->n_replicas; k++)
            if (old->replicas[k] == (size_t)i)
                old->replicas[k] = old->replicas[--old->n_replicas];
    }
    n->master = -1;
    b.m->slot_node[slot] = (uint16_t)i;
    count_uncovered(b.m);
    *out = b.m;
    return REDISX_OK;
nomem:
    map_free(b.m);
    return redisx__fail(REDISX_ERR_NOMEM, "slot map: out of memory");
}

/* ---- errors a cluster node replies with ---- */

static int word_is(const char *msg, size_t len, const char *w)
{
    size_t n = strlen(w);
    return len >= n && memcmp(msg, w, n) == 0 && (len == n || msg[n] == ' ');
}

redisx__cluster_err redisx__cluster_err_of(const char *msg, size_t len)
{
    if (!msg)
        return REDISX__CERR_NONE;
    if (word_is(msg, len, "MOVED"))
        return REDISX__CERR_MOVED;
    if (word_is(msg, len, "ASK"))
        return REDISX__CERR_ASK;
    if (word_is(msg, len, "TRYAGAIN"))
        return REDISX__CERR_TRYAGAIN;
    if (word_is(msg, len, "CLUSTERDOWN"))
        return REDISX__CERR_CLUSTERDOWN;
    if (word_is(msg, len, "LOADING"))
        return REDISX__CERR_LOADING;
    return REDISX__CERR_NONE;
}

/* Decimal digits only, no sign, no leading '+', value <= max; -1 otherwise. */
static long parse_uint(const char *p, size_t len, long max)
{
    if (len == 0 || len > 6)
        return -1;
    long v = 0;
    for (size_t i = 0; i < len; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        v = v * 10 + (p[i] - '0');
    }
    return v <= max ? v : -1;
}

redisx_status redisx__redirect_parse(redisx__redirect *out, const char *msg, size_t len, const char *from_host)
{
    memset(out, 0, sizeof *out);
    int shown = len > 120 ? 120 : (int)len;
    redisx__cluster_err kind = redisx__cluster_err_of(msg, len);
    if (kind != REDISX__CERR_MOVED && kind != REDISX__CERR_ASK)
        return redisx__fail(REDISX_ERR_PROTOCOL, "not a MOVED or ASK redirect: \"%.*s\"", shown, msg ? msg : "");
    size_t skip = kind == REDISX__CERR_MOVED ? 6 : 4; /* the word and its space */
    const char *p = msg + (skip < len ? skip : len), *end = msg + len;
    const char *sp = p < end ? memchr(p, ' ', (size_t)(end - p)) : NULL;
    long slot = sp ? parse_uint(p, (size_t)(sp - p), REDISX__SLOTS - 1) : -1;
    if (slot < 0)
        return redisx__fail(REDISX_ERR_PROTOCOL, "redirect without a slot in 0..16383: \"%.*s\"", shown, msg);
    const char *ep = sp + 1, *host, *colon;
    size_t hlen;
    if (ep < end && *ep == '[') { /* "[::1]:7000" */
        const char *rb = memchr(ep, ']', (size_t)(end - ep));
        if (!rb || rb + 1 >= end || rb[1] != ':')
            return redisx__fail(REDISX_ERR_PROTOCOL, "redirect with a bad [address]:port: \"%.*s\"", shown, msg);
        host = ep + 1;
        hlen = (size_t)(rb - host);
        colon = rb + 1;
        if (hlen == 0)
            return redisx__fail(REDISX_ERR_PROTOCOL, "redirect with an empty [address]: \"%.*s\"", shown, msg);
    } else { /* the port follows the last ':' ("::1:7000" is ::1 port 7000) */
        colon = NULL;
        for (const char *q = ep; q < end; q++)
            if (*q == ':')
                colon = q;
        if (!colon)
            return redisx__fail(REDISX_ERR_PROTOCOL, "redirect without host:port: \"%.*s\"", shown, msg);
        host = ep;
        hlen = (size_t)(colon - ep);
    }
    long port = parse_uint(colon + 1, (size_t)(end - colon - 1), 65535);
    if (port < 1)
        return redisx__fail(REDISX_ERR_PROTOCOL, "redirect without a port in 1..65535: \"%.*s\"", shown, msg);
    if (hlen == 0 || (hlen == 1 && host[0] == '?')) { /* endpoint unknown to the server */
        if (!from_host || !*from_host)
            return redisx__fail(REDISX_ERR_PROTOCOL, "redirect to an unknown endpoint and no address to stand in: \"%.*s\"",
                                shown, msg);
        host = from_host;
        hlen = strlen(from_host);
    }
    if (!host_ok(host, hlen))
        return redisx__fail(REDISX_ERR_PROTOCOL, "redirect with a bad host: \"%.*s\"", shown, msg);
    out->kind = kind;
    out->slot = (int)slot;
    memcpy(out->host, host, hlen);
    out->host[hlen] = '\0';
    out->port = (int)port;
    return REDISX_OK;
}

/* ---- where a command's keys are ---- */

/* How to find a command's keys, as Redis' own key specs say it for these
 * commands: the keys at first, first+step, ... up to last (negative: from
 * the end, -1 the last argument); then, when numkeys > 0, argv[numkeys]
 * holds a count of keys that follow it; STREAMS: the keys are the first
 * half of what follows the STREAMS argument. ANY: no keys at all. */
enum { KEYS_PLAIN = 0, KEYS_ANY, KEYS_STREAMS };
typedef struct keyspec {
    const char *name;
    signed char first, last, step, numkeys, kind;
} keyspec;

/* Sorted by name (a unit test checks): looked up by binary search. */
static const keyspec keyspecs[] = {
    {"APPEND", 1, 1, 1, 0, 0},       {"BITCOUNT", 1, 1, 1, 0, 0},      {"BITFIELD", 1, 1, 1, 0, 0},
    {"BITFIELD_RO", 1, 1, 1, 0, 0},  {"BITPOS", 1, 1, 1, 0, 0},        {"BLMOVE", 1, 2, 1, 0, 0},
    {"BLMPOP", 0, 0, 0, 2, 0},       {"BLPOP", 1, -2, 1, 0, 0},        {"BRPOP", 1, -2, 1, 0, 0},
    {"BRPOPLPUSH", 1, 2, 1, 0, 0},   {"BZMPOP", 0, 0, 0, 2, 0},        {"BZPOPMAX", 1, -2, 1, 0, 0},
    {"BZPOPMIN", 1, -2, 1, 0, 0},    {"COPY", 1, 2, 1, 0, 0},          {"DECR", 1, 1, 1, 0, 0},
    {"DECRBY", 1, 1, 1, 0, 0},       {"DEL", 1, -1, 1, 0, 0},          {"DUMP", 1, 1, 1, 0, 0},
    {"ECHO", 0, 0, 0, 0, KEYS_ANY},  {"EVAL", 0, 0, 0, 2, 0},          {"EVALSHA", 0, 0, 0, 2, 0},
    {"EVALSHA_RO", 0, 0, 0, 2, 0},   {"EVAL_RO", 0, 0, 0, 2, 0},       {"EXISTS", 1, -1, 1, 0, 0},
    {"EXPIRE", 1, 1, 1, 0, 0},       {"EXPIREAT", 1, 1, 1, 0, 0},      {"EXPIRETIME", 1, 1, 1, 0, 0},
    {"FCALL", 0, 0, 0, 2, 0},        {"FCALL_RO", 0, 0, 0, 2, 0},      {"GEOADD", 1, 1, 1, 0, 0},
    {"GEODIST", 1, 1, 1, 0, 0},      {"GEOHASH", 1, 1, 1, 0, 0},       {"GEOPOS", 1, 1, 1, 0, 0},
    {"GEOSEARCH", 1, 1, 1, 0, 0},    {"GEOSEARCHSTORE", 1, 2, 1, 0, 0}, {"GET", 1, 1, 1, 0, 0},
    {"GETBIT", 1, 1, 1, 0, 0},       {"GETDEL", 1, 1, 1, 0, 0},        {"GETEX", 1, 1, 1, 0, 0},
    {"GETRANGE", 1, 1, 1, 0, 0},     {"GETSET", 1, 1, 1, 0, 0},        {"HDEL", 1, 1, 1, 0, 0},
    {"HEXISTS", 1, 1, 1, 0, 0},      {"HGET", 1, 1, 1, 0, 0},          {"HGETALL", 1, 1, 1, 0, 0},
    {"HINCRBY", 1, 1, 1, 0, 0},      {"HINCRBYFLOAT", 1, 1, 1, 0, 0},  {"HKEYS", 1, 1, 1, 0, 0},
    {"HLEN", 1, 1, 1, 0, 0},         {"HMGET", 1, 1, 1, 0, 0},         {"HMSET", 1, 1, 1, 0, 0},
    {"HRANDFIELD", 1, 1, 1, 0, 0},   {"HSCAN", 1, 1, 1, 0, 0},         {"HSET", 1, 1, 1, 0, 0},
    {"HSETNX", 1, 1, 1, 0, 0},       {"HSTRLEN", 1, 1, 1, 0, 0},       {"HVALS", 1, 1, 1, 0, 0},
    {"INCR", 1, 1, 1, 0, 0},         {"INCRBY", 1, 1, 1, 0, 0},        {"INCRBYFLOAT", 1, 1, 1, 0, 0},
    {"LINDEX", 1, 1, 1, 0, 0},       {"LINSERT", 1, 1, 1, 0, 0},       {"LLEN", 1, 1, 1, 0, 0},
    {"LMOVE", 1, 2, 1, 0, 0},        {"LMPOP", 0, 0, 0, 1, 0},         {"LPOP", 1, 1, 1, 0, 0},
    {"LPOS", 1, 1, 1, 0, 0},         {"LPUSH", 1, 1, 1, 0, 0},         {"LPUSHX", 1, 1, 1, 0, 0},
    {"LRANGE", 1, 1, 1, 0, 0},       {"LREM", 1, 1, 1, 0, 0},          {"LSET", 1, 1, 1, 0, 0},
    {"LTRIM", 1, 1, 1, 0, 0},        {"MGET", 1, -1, 1, 0, 0},         {"MSET", 1, -1, 2, 0, 0},
    {"MSETNX", 1, -1, 2, 0, 0},      {"PERSIST", 1, 1, 1, 0, 0},       {"PEXPIRE", 1, 1, 1, 0, 0},
    {"PEXPIREAT", 1, 1, 1, 0, 0},    {"PEXPIRETIME", 1, 1, 1, 0, 0},   {"PFADD", 1, 1, 1, 0, 0},
    {"PFCOUNT", 1, -1, 1, 0, 0},     {"PFMERGE", 1, -1, 1, 0, 0},      {"PING", 0, 0, 0, 0, KEYS_ANY},
    {"PSETEX", 1, 1, 1, 0, 0},       {"PTTL", 1, 1, 1, 0, 0},          {"RENAME", 1, 2, 1, 0, 0},
    {"RENAMENX", 1, 2, 1, 0, 0},     {"RESTORE", 1, 1, 1, 0, 0},       {"RPOP", 1, 1, 1, 0, 0},
    {"RPOPLPUSH", 1, 2, 1, 0, 0},    {"RPUSH", 1, 1, 1, 0, 0},         {"RPUSHX", 1, 1, 1, 0, 0},
    {"SADD", 1, 1, 1, 0, 0},         {"SCARD", 1, 1, 1, 0, 0},         {"SDIFF", 1, -1, 1, 0, 0},
    {"SDIFFSTORE", 1, -1, 1, 0, 0},  {"SET", 1, 1, 1, 0, 0},           {"SETBIT", 1, 1, 1, 0, 0},
    {"SETEX", 1, 1, 1, 0, 0},        {"SETNX", 1, 1, 1, 0, 0},         {"SETRANGE", 1, 1, 1, 0, 0},
    {"SINTER", 1, -1, 1, 0, 0},      {"SINTERCARD", 0, 0, 0, 1, 0},    {"SINTERSTORE", 1, -1, 1, 0, 0},
    {"SISMEMBER", 1, 1, 1, 0, 0},    {"SMEMBERS", 1, 1, 1, 0, 0},      {"SMISMEMBER", 1, 1, 1, 0, 0},
    {"SMOVE", 1, 2, 1, 0, 0},        {"SORT_RO", 1, 1, 1, 0, 0},       {"SPOP", 1, 1, 1, 0, 0},
    {"SRANDMEMBER", 1, 1, 1, 0, 0},  {"SREM", 1, 1, 1, 0, 0},          {"SSCAN", 1, 1, 1, 0, 0},
    {"STRLEN", 1, 1, 1, 0, 0},       {"SUBSTR", 1, 1, 1, 0, 0},        {"SUNION", 1, -1, 1, 0, 0},
    {"SUNIONSTORE", 1, -1, 1, 0, 0}, {"TIME", 0, 0, 0, 0, KEYS_ANY},   {"TOUCH", 1, -1, 1, 0, 0},
    {"TTL", 1, 1, 1, 0, 0},          {"TYPE", 1, 1, 1, 0, 0},          {"UNLINK", 1, -1, 1, 0, 0},
    {"WATCH", 1, -1, 1, 0, 0},       {"XACK", 1, 1, 1, 0, 0},          {"XADD", 1, 1, 1, 0, 0},
    {"XAUTOCLAIM", 1, 1, 1, 0, 0},   {"XCLAIM", 1, 1, 1, 0, 0},        {"XDEL", 1, 1, 1, 0, 0},
    {"XGROUP", 2, 2, 1, 0, 0},       {"XINFO", 2, 2, 1, 0, 0},         {"XLEN", 1, 1, 1, 0, 0},         {"XPENDING", 1, 1, 1, 0, 0},      {"XRANGE", 1, 1, 1, 0, 0},
    {"XREAD", 0, 0, 0, 0, KEYS_STREAMS}, {"XREADGROUP", 0, 0, 0, 0, KEYS_STREAMS},
    {"XREVRANGE", 1, 1, 1, 0, 0},    {"XSETID", 1, 1, 1, 0, 0},        {"XTRIM", 1, 1, 1, 0, 0},
    {"ZADD", 1, 1, 1, 0, 0},         {"ZCARD", 1, 1, 1, 0, 0},         {"ZCOUNT", 1, 1, 1, 0, 0},
    {"ZDIFF", 0, 0, 0, 1, 0},        {"ZDIFFSTORE", 1, 1, 1, 2, 0},    {"ZINCRBY", 1, 1, 1, 0, 0},
    {"ZINTER", 0, 0, 0, 1, 0},       {"ZINTERCARD", 0, 0, 0, 1, 0},    {"ZINTERSTORE", 1, 1, 1, 2, 0},
    {"ZLEXCOUNT", 1, 1, 1, 0, 0},    {"ZMPOP", 0, 0, 0, 1, 0},         {"ZMSCORE", 1, 1, 1, 0, 0},
    {"ZPOPMAX", 1, 1, 1, 0, 0},      {"ZPOPMIN", 1, 1, 1, 0, 0},       {"ZRANDMEMBER", 1, 1, 1, 0, 0},
    {"ZRANGE", 1, 1, 1, 0, 0},       {"ZRANGEBYLEX", 1, 1, 1, 0, 0},   {"ZRANGEBYSCORE", 1, 1, 1, 0, 0},
    {"ZRANGESTORE", 1, 2, 1, 0, 0},  {"ZRANK", 1, 1, 1, 0, 0},         {"ZREM", 1, 1, 1, 0, 0},
    {"ZREMRANGEBYLEX", 1, 1, 1, 0, 0}, {"ZREMRANGEBYRANK", 1, 1, 1, 0, 0}, {"ZREMRANGEBYSCORE", 1, 1, 1, 0, 0},
    {"ZREVRANGE", 1, 1, 1, 0, 0},    {"ZREVRANGEBYLEX", 1, 1, 1, 0, 0}, {"ZREVRANGEBYSCORE", 1, 1, 1, 0, 0},
    {"ZREVRANK", 1, 1, 1, 0, 0},     {"ZSCAN", 1, 1, 1, 0, 0},         {"ZSCORE", 1, 1, 1, 0, 0},
    {"ZUNION", 0, 0, 0, 1, 0},       {"ZUNIONSTORE", 1, 1, 1, 2, 0},
};

/* For the unit test: the table's names in order, NULL past the end. */
const char *redisx__keyspec_name(size_t i);
const char *redisx__keyspec_name(size_t i)
{
    return i < sizeof keyspecs / sizeof keyspecs[0] ? keyspecs[i].name : NULL;
}

static int keyspec_cmp(const void *name, const void *spec)
{
    return strcmp(name, ((const keyspec *)spec)->name);
}

static const keyspec *keyspec_of(const char *cmd, size_t len)
{
    char up[24];
    if (len == 0 || len >= sizeof up)
        return NULL;
    for (size_t i = 0; i < len; i++)
        up[i] = (char)toupper((unsigned char)cmd[i]);
    up[len] = '\0';
    if (memchr(cmd, '\0', len))
        return NULL;
    return bsearch(up, keyspecs, sizeof keyspecs / sizeof keyspecs[0], sizeof keyspecs[0], keyspec_cmp);
}

static size_t arg_len(const char *const *argv, const size_t *lens, int i)
{
    return lens ? lens[i] : strlen(argv[i]);
}

static void put(size_t *pos, size_t cap, size_t *n, size_t at)
{
    if (*n < cap)
        pos[*n] = at;
    (*n)++;
}

redisx_status redisx__command_keys(size_t *pos, size_t cap, size_t *n, redisx__route *route, int argc,
                                   const char *const *argv, const size_t *lens)
{
    *n = 0;
    *route = REDISX__ROUTE_UNKNOWN;
    if (argc < 1 || !argv)
        return redisx__fail(REDISX_ERR_INVALID, "command: no arguments");
    const keyspec *k = keyspec_of(argv[0], arg_len(argv, lens, 0));
    if (!k)
        return REDISX_OK;
    int shown = (int)arg_len(argv, lens, 0);
    if (k->kind == KEYS_STREAMS) {
        int at = -1;
        for (int i = 1; i < argc && at < 0; i++)
            if (arg_len(argv, lens, i) == 7 && strncasecmp(argv[i], "STREAMS", 7) == 0)
                at = i;
        int rest = at < 0 ? 0 : argc - at - 1;
        if (at < 0 || rest == 0 || rest % 2 != 0)
            return redisx__fail(REDISX_ERR_INVALID, "%.*s: STREAMS must be followed by keys and as many ids", shown,
                                argv[0]);
        for (int i = 0; i < rest / 2; i++)
            put(pos, cap, n, (size_t)(at + 1 + i));
    } else if (k->kind != KEYS_ANY) {
        if (k->first > 0) {
            int last = k->last >= 0 ? k->last : argc + k->last;
            if (argc <= k->first || last < k->first)
                return redisx__fail(REDISX_ERR_INVALID, "%.*s: too few arguments for its keys", shown, argv[0]);
            for (int i = k->first; i <= last && i < argc; i += k->step)
                put(pos, cap, n, (size_t)i);
        }
        if (k->numkeys > 0) {
            long nk = k->numkeys < argc ? parse_uint(argv[k->numkeys], arg_len(argv, lens, k->numkeys), 1000000)
                                        : -1;
            if (nk < 0 || nk > argc - k->numkeys - 1)
                return redisx__fail(REDISX_ERR_INVALID, "%.*s: numkeys is not a count of the arguments that follow",
                                    shown, argv[0]);
            for (long i = 0; i < nk; i++)
                put(pos, cap, n, (size_t)(k->numkeys + 1 + i));
        }
    }
    *route = *n ? REDISX__ROUTE_SLOT : REDISX__ROUTE_ANY;
    return REDISX_OK;
}

redisx_status redisx__command_slot(int *slot, redisx__route *route, int argc, const char *const *argv,
                                   const size_t *lens)
{
    *slot = -1;
    size_t local[16], *pos = local, n;
    redisx_status st = redisx__command_keys(pos, 16, &n, route, argc, argv, lens);
    if (st != REDISX_OK || *route != REDISX__ROUTE_SLOT)
        return st;
    if (n > 16) {
        if (!(pos = malloc(n * sizeof *pos)))
            return redisx__fail(REDISX_ERR_NOMEM, "command: out of memory");
        redisx__command_keys(pos, n, &n, route, argc, argv, lens);
    }
    int first = redisx__slot_of(argv[pos[0]], arg_len(argv, lens, (int)pos[0]));
    for (size_t i = 1; i < n; i++) {
        int s = redisx__slot_of(argv[pos[i]], arg_len(argv, lens, (int)pos[i]));
        if (s != first) {
            st = redisx__fail(REDISX_ERR_INVALID,
                              "%.*s: keys in different cluster slots (%d for argument %zu, %d for argument %zu): "
                              "use one hash tag for all of them",
                              (int)arg_len(argv, lens, 0), argv[0], first, pos[0], s, pos[i]);
            break;
        }
    }
    if (pos != local)
        free(pos);
    if (st == REDISX_OK)
        *slot = first;
    else
        *route = REDISX__ROUTE_UNKNOWN;
    return st;
}
