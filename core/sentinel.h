/* redisx core — Redis Sentinel: where is the master now? (sentinel.c,
 * docs/SENTINEL.md). Private.
 *
 * A lookup asks the sentinels in turn, starting with the one that answered
 * last, `SENTINEL get-master-addr-by-name <master>` (after AUTH when the
 * sentinels have a password of their own; over TLS when the client speaks
 * it), each within the connect timeout. It runs on a detached thread of its
 * own, as a name lookup does (conn.c, "name resolution"): the I/O thread
 * never waits for a sentinel. The request is shared by the two sides and
 * freed by whichever lets go last; once the client let go (release) the
 * thread touches nothing of it. */
#ifndef REDISX_CORE_SENTINEL_H
#define REDISX_CORE_SENTINEL_H

#include <stddef.h>

#include "internal.h"

typedef struct redisx__sentinel_query redisx__sentinel_query;

/* Starts a lookup of ep's master through ep's sentinels, the first asked
 * being sentinel `first`, each within o's connect timeout, with o's
 * sentinel auth and TLS settings (tls: whether to speak TLS). The thread
 * wakes client c (redisx__wake) when it has the answer. NULL with detail
 * (REDISX_ERR_NOMEM, or a thread or TLS context that cannot be made). */
redisx__sentinel_query *redisx__sentinel_query_start(redisx_client *c, const redisx_options *o,
                                                     const redisx__endpoint *ep, int tls, size_t first);
/* Whether the answer is there. */
int redisx__sentinel_query_done(redisx__sentinel_query *q);
/* Once done: 1 with the master's host (NUL-terminated, at most hcap - 1
 * bytes), its port and the index of the sentinel that answered; 0 with
 * detail naming every sentinel asked and what each said. */
int redisx__sentinel_query_result(redisx__sentinel_query *q, char *host, size_t hcap, int *port, size_t *which,
                                  char *detail, size_t dlen);
/* The client lets go (a running lookup finishes on its own). NULL: no-op. */
void redisx__sentinel_query_release(redisx__sentinel_query *q);

/* The +switch-master watcher: a thread subscribed to +switch-master on
 * one sentinel after the other (the next one a second after a connection
 * fails), which wakes client c when the sentinels announce a new address
 * for ep's master. Only a hint to reconnect sooner: the connections still
 * ask the sentinels on reconnect. NULL with detail when it cannot start. */
redisx__sentinel_query *redisx__sentinel_watch_start(redisx_client *c, const redisx_options *o,
                                                     const redisx__endpoint *ep, int tls);
/* What happened since the last call: bit 1 the watcher subscribed (to
 * sub_to, "host:port"), bit 2 a +switch-master for the master arrived (its
 * new address in host and port). */
int redisx__sentinel_watch_poll(redisx__sentinel_query *w, char *host, size_t hcap, int *port, char *sub_to,
                                size_t scap);
/* Stops it (the thread ends on its own at once). NULL: no-op. */
void redisx__sentinel_watch_stop(redisx__sentinel_query *w);

#endif
