/* redisx — client options, set through a handle so that adding an option never
 * changes the ABI. An options handle is copied by redisx_client_open(): free
 * it or reuse it afterwards. Not thread-safe: build it on one thread. */
#ifndef REDISX_OPTIONS_H
#define REDISX_OPTIONS_H

#include "redisx/common.h"
#include "redisx/errors.h"
#include "redisx/observe.h"

REDISX_BEGIN_DECLS

/** New options with the defaults: redis://127.0.0.1:6379/0, connect timeout
 *  2000 ms, command timeout 1000 ms, prefix "redisx", 1 connection, reconnect
 *  backoff 50..2000 ms, no callbacks, key names kept out of events.
 *  Returns REDISX_OK or REDISX_ERR_NOMEM; free with redisx_options_free(). */
REDISX_API redisx_status redisx_options_new(redisx_options **out);

/** Frees the options; NULL is a no-op. */
REDISX_API void redisx_options_free(redisx_options *opts);

/** Server address: redis://[user[:password]@]host[:port][/db] (IPv6 hosts in
 *  brackets, percent-escapes in user and password),
 *  rediss://[user[:password]@]host[:port][/db] (the same over TLS; the TLS
 *  settings come from the redisx_options_set_tls_* setters, no query
 *  options; a build without TLS refuses it with REDISX_ERR_URL "rediss://
 *  (TLS) is not supported by this build"; since 0.4),
 *  redis+cluster://[user[:password]@]host1:port1,host2:port2[/0] or
 *  rediss+cluster://... (a Redis Cluster and its seed nodes, see
 *  redisx_options_set_cluster_seeds; since 0.5) or unix:///path.sock
 *  (optionally ?db=N). REDISX_ERR_URL with the reason in redisx_last_error()
 *  when malformed; the options keep their previous address then. */
REDISX_API redisx_status redisx_options_set_url(redisx_options *opts, const char *url);

/** Redis Cluster (since 0.5; docs/CLUSTER.md): the seed nodes as
 *  "host1:7000,host2:7001" (IPv6 hosts in brackets, port 6379 when left
 *  out), the same as a redis+cluster:// (or rediss+cluster://) URL names.
 *  The client reads the slot map from the first seed that answers and
 *  sends each command to the master of its keys' slot. User, password and
 *  TLS stay as the URL and the other setters say; NULL turns cluster mode
 *  off (the address is then the first seed). REDISX_ERR_URL naming the bad
 *  seed (empty host, bad port), or when the URL names a unix socket or a
 *  database other than 0; the options are unchanged then. */
REDISX_API redisx_status redisx_options_set_cluster_seeds(redisx_options *opts, const char *seeds);

/** Redis Sentinel (since 0.6; docs/SENTINEL.md): the client asks the
 *  sentinels "host1:26379,host2:26379" (IPv6 hosts in brackets, port 26379
 *  when left out, at most 16, each named once) in turn for the address of
 *  master `master_name` (SENTINEL get-master-addr-by-name) before every
 *  connect, checks that the server it reaches says ROLE master, and asks
 *  again after every drop, so it follows a failover. The same as a
 *  redis+sentinel://s1:26379,s2:26379/master_name[/db] URL (or
 *  rediss+sentinel://, TLS to the sentinels and the master). User,
 *  password, database and TLS stay as the URL and the other setters say
 *  (they are the master's; the sentinels' own password is
 *  redisx_options_set_sentinel_auth). master_name NULL turns sentinel mode
 *  off. REDISX_ERR_URL naming the bad part (empty master name, empty host,
 *  bad port, a sentinel named twice, too many) or when cluster seeds or a
 *  unix socket are set; the options are unchanged then. */
REDISX_API redisx_status redisx_options_set_sentinels(redisx_options *opts, const char *master_name,
                                                      const char *sentinels);

/** The sentinels' own ACL user and password (since 0.6): sent as AUTH to
 *  every sentinel before asking it (sentinels often have a password of
 *  their own, or none while the master has one). NULL password (or ""):
 *  no AUTH to the sentinels, the default; NULL or "" user: AUTH with the
 *  password only. A user without a password is REDISX_ERR_INVALID. */
REDISX_API redisx_status redisx_options_set_sentinel_auth(redisx_options *opts, const char *user,
                                                          const char *password);

/** ACL user name and password, overriding the URL's; NULL clears. A user
 *  without a password is REDISX_ERR_INVALID at open. An empty password (with
 *  or without a user) means no AUTH at all, as an empty password in a URL
 *  (redis://:@host) does. */
REDISX_API redisx_status redisx_options_set_auth(redisx_options *opts, const char *user, const char *password);

/** Timeout for establishing a connection (name lookup, done off the I/O
 *  thread, plus TCP connect plus the TLS handshake plus AUTH/SELECT);
 *  1..3600000 ms. */
REDISX_API redisx_status redisx_options_set_connect_timeout_ms(redisx_options *opts, int64_t ms);

/** Timeout of each command, from submission to reply, 1..3600000 ms. A
 *  command that is not answered in time completes with REDISX_ERR_TIMEOUT and
 *  its connection is reset (its replies can no longer be matched); a command
 *  that could not be sent because no connection was up completes with
 *  REDISX_ERR_CONNECTION. */
REDISX_API redisx_status redisx_options_set_command_timeout_ms(redisx_options *opts, int64_t ms);

/** Prefix of every key redisx writes: "{prefix}:{kind}:..." (1..128 bytes,
 *  no NUL, no '{' or '}': REDISX_ERR_INVALID). Services that must share
 *  locks use the same prefix. */
REDISX_API redisx_status redisx_options_set_prefix(redisx_options *opts, const char *prefix);

/** Number of connections the client multiplexes over, 1..64 (default 1: with
 *  pipelining one connection usually saturates a Redis server). */
REDISX_API redisx_status redisx_options_set_connections(redisx_options *opts, int n);

/** Reconnect backoff: the first retry after a drop is immediate, then the
 *  delay doubles from min_ms up to max_ms, each drawn with jitter in
 *  [delay/2, delay]. 1 <= min_ms <= max_ms <= 3600000. */
REDISX_API redisx_status redisx_options_set_reconnect_backoff_ms(redisx_options *opts, int64_t min_ms, int64_t max_ms);

/** Circuit breaker (off by default; docs/RESILIENCE.md). With failures > 0:
 *  after `failures` connection failures (a connection lost or not made, a
 *  command timed out) within window_ms with no reply from the server in
 *  between, the breaker opens: calls fail at once with REDISX_ERR_CONNECTION
 *  (a detail naming the breaker; fail-open policies answer as they do for an
 *  unreachable server) instead of waiting for their timeout, and commands
 *  waiting for a connection fail too. After open_ms one call goes out as a
 *  probe (half-open): a reply closes the breaker, a failure opens it again.
 *  A reconnect closes it at once (under an open breaker a new connection
 *  sends PING, and its answer counts as a reply).
 *  One breaker per standalone client, one per node of a cluster.
 *  failures 0 (off) or 1..1000000; window_ms and open_ms 1..3600000. */
REDISX_API redisx_status redisx_options_set_circuit_breaker(redisx_options *opts, int failures, int64_t window_ms,
                                                           int64_t open_ms);

/** Busy polling (off by default: 0). With us > 0, a thread waiting for a
 *  reply spins for up to `us` microseconds reading the socket without
 *  sleeping before it sleeps in poll(): a blocking call doing its own round
 *  trip (redisx/client.h) on the calling thread, and the I/O thread while
 *  replies are due. A sleeping thread pays the kernel's (and a virtual
 *  machine's) wake-up on every reply, often more than the round trip
 *  itself; spinning removes it at the price of that CPU time. Worth it
 *  where cores are idle and latency matters; it costs throughput where
 *  every core is busy. 0..100000 (0.1 s). Since 0.6. */
REDISX_API redisx_status redisx_options_set_busy_poll_us(redisx_options *opts, int64_t us);

/** How the caches with tracking on (redisx_cache_set_tracking) learn of
 *  changes (0: the default mode, 1: BCAST; since 0.6). Default: the server
 *  remembers every key each data connection read and tells of those only
 *  (its tracking table costs server memory, and losing a data connection
 *  loses what it read). BCAST: the invalidation connection itself registers
 *  `CLIENT TRACKING on REDIRECT <its id> BCAST PREFIX <prefix>:cache:` and
 *  the server tells of every write under that prefix, read or not: no
 *  tracking table and nothing tracked on data connections, at the cost of a
 *  message for every cache write of every process under the prefix. On a
 *  cluster, per node. See docs/CACHE.md. 0 or 1. */
REDISX_API redisx_status redisx_options_set_cache_tracking_bcast(redisx_options *opts, int on);

/** What a primitive does when Redis is unreachable (see redisx_fail_policy).
 *  Defaults: locks REDISX_FAIL_CLOSED, rate limits REDISX_FAIL_OPEN (each
 *  limiter can override it), idempotency REDISX_FAIL_CLOSED, caches
 *  REDISX_FAIL_OPEN (each cache can override it; since 0.5). Other
 *  primitives: REDISX_ERR_INVALID. */
REDISX_API redisx_status redisx_options_set_fail_policy(redisx_options *opts, redisx_primitive primitive,
                                                        redisx_fail_policy policy);

/** Event callback, called once per finished operation on the client's I/O
 *  thread, or on the calling thread of a blocking call that did its own round
 *  trip (see redisx/observe.h for what it may do). NULL clears. */
REDISX_API redisx_status redisx_options_set_event_cb(redisx_options *opts, redisx_event_cb cb, void *user);

/** Whether events carry the key name (off by default: names can be personal
 *  data). */
REDISX_API redisx_status redisx_options_set_event_keys(redisx_options *opts, int enabled);

/** Log callback and the least severe level passed to it (default
 *  REDISX_LOG_WARN). Called on the I/O thread or on the thread of the call that
 *  logs. NULL clears. */
REDISX_API redisx_status redisx_options_set_log_cb(redisx_options *opts, redisx_log_cb cb, redisx_log_level min_level,
                                                   void *user);

/** Connection-state callback (connected, disconnected, reconnecting), called
 *  on the I/O thread (a disconnect met by a blocking call's own round trip:
 *  on its thread). NULL clears. */
REDISX_API redisx_status redisx_options_set_state_cb(redisx_options *opts, redisx_state_cb cb, void *user);

/** Attaches a pollable queue (redisx/queue.h). Asynchronous calls made with a
 *  NULL callback complete into it, tagged with their user pointer. `what` is
 *  a mask of REDISX_QUEUE_* saying which notifications also go to the queue
 *  (events, logs, state changes, lost locks), in addition to any callback.
 *  The client keeps its own reference to the queue. NULL detaches. */
REDISX_API redisx_status redisx_options_set_queue(redisx_options *opts, redisx_queue *queue, unsigned what);

/* ---- TLS (0.4) ----------------------------------------------------------
 *
 * rediss:// (or redisx_options_set_tls(opts, 1)) makes every connection of
 * the client, the subscriber included, TLS 1.2 or later. By default the
 * server's certificate must chain to a CA of the system's store (or of the
 * CA file/directory set here) and name the URL's host (or the server name
 * set here). CA, certificate and key files are read when the client opens:
 * a file that cannot be loaded fails redisx_client_open() with
 * REDISX_ERR_INVALID naming it. A connection that fails its handshake (a
 * certificate not trusted, another host's certificate, a client certificate
 * required but not given, a server not speaking TLS, the connect timeout)
 * counts as a failed connect: commands waiting for it complete with
 * REDISX_ERR_CONNECTION and the reason in redisx_last_error(), e.g.
 * "127.0.0.1:6380: TLS handshake: certificate verify failed: Hostname
 * mismatch (...)". A build without TLS keeps every setter, but
 * redisx_options_set_tls(opts, 1) returns REDISX_ERR_INVALID there. */

/** TLS on (non-zero) or off, overriding the URL's scheme in either order
 *  (like redisx_options_set_auth). REDISX_ERR_INVALID for on in a build
 *  without TLS; TLS with a unix:// URL is REDISX_ERR_INVALID at open. (0.4) */
REDISX_API redisx_status redisx_options_set_tls(redisx_options *opts, int enabled);

/** PEM file of the CAs that may sign the server's certificate, instead of
 *  the system's store (NULL: the system's store, unless a CA directory is
 *  set). (0.4) */
REDISX_API redisx_status redisx_options_set_tls_ca_file(redisx_options *opts, const char *path);

/** Directory of CA certificates in OpenSSL's hashed layout (c_rehash /
 *  `openssl rehash`), with or instead of the CA file. NULL clears. (0.4) */
REDISX_API redisx_status redisx_options_set_tls_ca_dir(redisx_options *opts, const char *path);

/** Client certificate (PEM, may hold the chain) and its private key (PEM,
 *  unencrypted; NULL: the key is in cert_file), for servers that require
 *  one (Redis' default, tls-auth-clients yes). Both NULL clears; a key
 *  without a certificate is REDISX_ERR_INVALID. (0.4) */
REDISX_API redisx_status redisx_options_set_tls_client_cert(redisx_options *opts, const char *cert_file,
                                                            const char *key_file);

/** The name sent as SNI and checked against the server's certificate,
 *  instead of the URL's host (for a server reached by IP address or through
 *  a tunnel). SNI is not sent for an IP literal. NULL clears. (0.4) */
REDISX_API redisx_status redisx_options_set_tls_server_name(redisx_options *opts, const char *name);

/** Whether the certificate must name the host (default on). Off, any
 *  certificate signed by a trusted CA is accepted, whoever it was issued
 *  to. (0.4) */
REDISX_API redisx_status redisx_options_set_tls_verify_hostname(redisx_options *opts, int enabled);

/** INSECURE: non-zero accepts any server certificate, unverified — the
 *  connection is encrypted but anyone on the path can impersonate the
 *  server and read everything, passwords included. For tests and
 *  throwaway servers only. The client logs a REDISX_LOG_WARN at open and on
 *  every connect, and each CONNECTED state change says "certificate NOT
 *  verified". Default 0. (0.4) */
REDISX_API redisx_status redisx_options_set_tls_insecure_skip_verify(redisx_options *opts, int insecure);

REDISX_END_DECLS

#endif
