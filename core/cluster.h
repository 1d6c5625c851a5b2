/* Redis Cluster groundwork (docs/CLUSTER.md): key slots, the slot map read
 * from CLUSTER SLOTS, redirect errors, and where the keys of a command are.
 * Pure logic: no sockets, no threads, no hiredis. The routing layer builds
 * on it; a primitive never sees any of this. */
#ifndef REDISX_CORE_CLUSTER_H
#define REDISX_CORE_CLUSTER_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "internal.h"

#define REDISX__SLOTS 16384
/* slot_node[] value of a slot that no master serves. */
#define REDISX__SLOT_NONE UINT16_MAX
/* Longest host name kept from a reply (RFC 1035's 253 and a NUL, rounded). */
#define REDISX__HOST_MAX 256

/* ---- key slots ---- */

/* CRC16/XMODEM (poly 0x1021, init 0, no reflection): "123456789" -> 0x31C3. */
uint16_t redisx__crc16(const void *p, size_t len);
/* The slot of a key (binary-safe): CRC16 of its hash tag (the bytes between
 * the first '{' and the first '}' after it, when not empty) or of the whole
 * key, modulo 16384. */
int redisx__slot_of(const void *key, size_t len);

/* ---- the slot map ---- */

typedef struct redisx__cluster_node {
    char *host;       /* as the map will connect to it: never NULL, never "" */
    int port;         /* 1..65535 */
    char *id;         /* node id (40 hex digits) or NULL when not sent */
    int master;       /* index of its master in nodes[], or -1: it is a master */
    size_t n_replicas; /* masters: their replicas' indexes */
    size_t *replicas;
} redisx__cluster_node;

/* Immutable once built: readers on any thread share it through the
 * reference count, a change (redisx__slot_map_patch, a refresh) builds a
 * new map with a higher version and the old one lives until its last
 * reader lets go. */
typedef struct redisx__slot_map {
    atomic_size_t refs;
    uint64_t version;
    size_t n_nodes;
    redisx__cluster_node *nodes;
    size_t n_uncovered; /* slots no master serves */
    uint16_t slot_node[REDISX__SLOTS]; /* master's index, or REDISX__SLOT_NONE */
} redisx__slot_map;

/* Parse flags. */
#define REDISX__SLOTS_FULL_COVERAGE 1u /* refuse a map with uncovered slots */

/* Builds a map from a CLUSTER SLOTS reply received from `from_host` (the
 * address the client used to reach that node: it stands in for an endpoint
 * the server reports as NULL, "" or "?", see docs/CLUSTER.md). The map gets
 * version `version` and one reference. REDISX_OK; REDISX_ERR_PROTOCOL with
 * detail naming the range and field for a malformed reply (overlapping
 * ranges included), and with REDISX__SLOTS_FULL_COVERAGE for uncovered
 * slots (listed as ranges); REDISX_ERR_SERVER for an error reply;
 * REDISX_ERR_NOMEM. */
redisx_status redisx__slot_map_parse(redisx__slot_map **out, const redisx_reply *reply, const char *from_host,
                                     uint64_t version, unsigned flags);
redisx__slot_map *redisx__slot_map_ref(redisx__slot_map *m);
/* Drops a reference; frees the map with the last. NULL is a no-op. */
void redisx__slot_map_unref(redisx__slot_map *m);
/* The master serving `slot`, or NULL (uncovered, or slot out of range). */
const redisx__cluster_node *redisx__slot_map_master(const redisx__slot_map *m, int slot);
/* Index in nodes[] of host:port, or -1. Host names compare without case. */
int redisx__slot_map_find(const redisx__slot_map *m, const char *host, int port);
/* The uncovered slots as ranges ("0-99,5000"), NUL-terminated and cut to
 * cap bytes (ending in "..." when cut); returns the length it needed. */
size_t redisx__slot_map_uncovered(const redisx__slot_map *m, char *out, size_t cap);
/* What a MOVED says: a new map (version m->version + 1, one reference) where
 * `slot` is served by host:port, added as a master when not yet known; every
 * other slot as in m, m unchanged. REDISX_ERR_INVALID for a bad slot, host
 * or port; REDISX_ERR_NOMEM. */
redisx_status redisx__slot_map_patch(redisx__slot_map **out, const redisx__slot_map *m, int slot, const char *host,
                                     int port);

/* ---- errors a cluster node replies with ---- */

typedef enum redisx__cluster_err {
    REDISX__CERR_NONE = 0,   /* not a cluster condition */
    REDISX__CERR_MOVED,      /* the slot lives elsewhere: patch, refresh, resend there */
    REDISX__CERR_ASK,        /* mid-migration: ASKING + this one command on the target */
    REDISX__CERR_TRYAGAIN,   /* multi-key command mid-migration: retry later */
    REDISX__CERR_CLUSTERDOWN, /* the cluster cannot serve now: retry within the deadline */
    REDISX__CERR_LOADING,    /* the node is loading its dataset: retry within the deadline */
} redisx__cluster_err;

/* Classifies an error reply's text by its first word. */
redisx__cluster_err redisx__cluster_err_of(const char *msg, size_t len);

typedef struct redisx__redirect {
    redisx__cluster_err kind; /* MOVED or ASK */
    int slot;
    /* Where to go. An endpoint the server does not know ("MOVED 1 :7000",
     * "?:7000") is the host the command was sent to (`from_host`). */
    char host[REDISX__HOST_MAX];
    int port;
} redisx__redirect;

/* Parses "MOVED <slot> <endpoint>:<port>" or "ASK ..."; the endpoint is an
 * IPv4 address, a host name, an IPv6 address as Redis writes it ("::1:7000":
 * the port follows the last ':') or in brackets ("[::1]:7000"), or empty /
 * "?" (unknown: from_host, which may then not be NULL or empty). REDISX_OK;
 * REDISX_ERR_PROTOCOL with detail quoting the text for anything else. */
redisx_status redisx__redirect_parse(redisx__redirect *out, const char *msg, size_t len, const char *from_host);

/* ---- where a command's keys are (for routing raw commands) ---- */

typedef enum redisx__route {
    REDISX__ROUTE_SLOT = 0, /* every key in one slot: send it to that slot's master */
    REDISX__ROUTE_ANY,      /* no keys (PING, EVAL with numkeys 0): any node */
    REDISX__ROUTE_UNKNOWN,  /* not in the table: not routable by key */
} redisx__route;

/* The positions in argv of the command's keys, from the table in cluster.c
 * (docs/CLUSTER.md lists it): up to cap of them into pos, their number into
 * *n (which may exceed cap: call again with more room). *route is
 * REDISX__ROUTE_UNKNOWN for a command not in the table (with *n = 0).
 * REDISX_ERR_INVALID with detail when argv does not fit the command's
 * shape (EVAL's numkeys not a number or past the end). lens may be NULL
 * (NUL-terminated arguments). */
redisx_status redisx__command_keys(size_t *pos, size_t cap, size_t *n, redisx__route *route, int argc,
                                   const char *const *argv, const size_t *lens);
/* The slot every key of the command hashes to (*slot = -1 unless *route is
 * REDISX__ROUTE_SLOT). REDISX_ERR_INVALID with detail naming the command
 * and two of the slots when its keys span slots, or when argv is malformed;
 * REDISX_ERR_NOMEM. */
redisx_status redisx__command_slot(int *slot, redisx__route *route, int argc, const char *const *argv,
                                   const size_t *lens);

#endif
