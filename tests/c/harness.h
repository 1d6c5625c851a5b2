/* Test harness: every test binary starts its own redis-server on a free
 * loopback port before Criterion runs (see harness.c's main) and stops it
 * afterwards. Tests that kill or restart a server start a private one. */
#ifndef REDISX_TEST_HARNESS_H
#define REDISX_TEST_HARNESS_H

#include <criterion/criterion.h>
#include <redisx/redisx.h>
#include <sys/types.h>

typedef struct rt_server {
    int port;
    char dir[256];
    char pidfile[300];
    int cluster; /* started with --cluster-enabled yes */
    int tls; /* TLS only (--port 0 --tls-port <port>), certificates from rt_tls_dir() */
    int tls_auth_clients; /* --tls-auth-clients yes: a client certificate is required */
} rt_server;

/* Starts redis-server on a free 127.0.0.1 port (TLS-only in TLS mode, see
 * rt_tls_mode); 0 on success. */
int rt_server_start(rt_server *s);
/* Sets the URL of `s` (on `host`, NULL: 127.0.0.1) on o, with the test CA
 * when it serves TLS (no assert: usable in forked children). */
redisx_status rt_options_server(redisx_options *o, const rt_server *s, const char *host);
/* The same with --cluster-enabled yes: one node serving every slot (waits
 * until CLUSTER INFO says cluster_state:ok); 0 on success. */
int rt_server_start_cluster(rt_server *s);
/* A Redis Cluster of its own: masters (at least 3, as redis-cli --cluster
 * create wants) and replicas_per_master replicas each, all on free
 * 127.0.0.1 ports. node[0..masters-1] are the masters at creation. */
#define RT_CLUSTER_MAX 16
typedef struct rt_cluster {
    int masters, replicas; /* per master */
    int n;                 /* nodes in node[] */
    rt_server node[RT_CLUSTER_MAX];
} rt_cluster;
/* Starts the nodes, joins them with `redis-cli --cluster create
 * --cluster-replicas R --cluster-yes` and waits (up to 60 s) until every
 * node says cluster_state:ok, knows every other node and lists every
 * replica in CLUSTER SLOTS. 0 on success; on failure everything started is
 * stopped again. */
int rt_cluster_start(rt_cluster *c, int masters, int replicas_per_master);
/* Stops every node and removes their directories. */
void rt_cluster_stop(rt_cluster *c);
/* The same serving TLS only on its port, with the test certificates
 * (server.crt for 127.0.0.1 and localhost, signed by ca.crt); a client
 * certificate is required when auth_clients. 0 on success. */
int rt_server_start_tls(rt_server *s, int auth_clients);
/* Opens a client on `s` with `prefix` (NULL: the default); over TLS
 * (trusting ca.crt) when `s` serves TLS. */
redisx_client *rt_client_on(const rt_server *s, const char *prefix);
/* Starts it again on the same port (after rt_server_kill). */
int rt_server_restart(rt_server *s);
/* SIGKILLs it and waits until the port is closed. */
void rt_server_kill(rt_server *s);
/* Stops it and removes its directory. */
void rt_server_stop(rt_server *s);
pid_t rt_server_pid(const rt_server *s);

/* Port of the binary's shared server (from REDISX_TEST_PORT). */
int rt_port(void);
/* "redis://127.0.0.1:<port>" of the shared server ("rediss://..." in TLS
 * mode). */
const char *rt_url(void);
/* TLS mode (REDISX_TEST_TLS=1, the *_tls ctest variants): the shared
 * server serves TLS only (no client certificate required), rt_url() is
 * rediss:// and rt_client*() / rt_options_url() trust the test CA. */
int rt_tls_mode(void);
/* Cluster mode (REDISX_TEST_CLUSTER=1, the *_cluster ctest variants): the
 * shared server is a 3-master cluster the harness starts; rt_url() is
 * redis+cluster:// naming the masters, rt_port() the first master's port. */
int rt_cluster_mode(void);
/* Calls fn with c, or in cluster mode with a plain client of each master in
 * turn (for node-wide commands: KEYS, PUBSUB, INFO ...). */
void rt_each_node(redisx_client *c, void (*fn)(redisx_client *node, void *u), void *u);
/* PUBSUB NUMSUB channel, summed over every node in cluster mode. */
long long rt_numsub(redisx_client *c, const char *channel);
/* Sets rt_url() on o and, in TLS mode, the test CA (no assert: usable in
 * forked children). */
redisx_status rt_options_url(redisx_options *o);
/* "redis", or "rediss" in TLS mode: for URLs a test builds itself. */
const char *rt_scheme(void);
/* In TLS mode, makes o trust the test CA (REDISX_OK otherwise). */
redisx_status rt_options_ca(redisx_options *o);
/* redisx_client_open_url(out, url), trusting the test CA in TLS mode. */
redisx_status rt_open_url(redisx_client **out, const char *url);
/* The folder of the test certificates (made with the openssl CLI when a
 * binary starts in TLS mode or defines rt_wants_tls_certs): ca.crt,
 * server.crt/.key, client.crt/.key (signed by ca.crt), other-ca.crt (an
 * unrelated CA), other-client.crt/.key (signed by other-ca). */
const char *rt_tls_dir(void);
/* rt_tls_dir()/name into buf. */
const char *rt_tls_file(const char *name, char *buf, size_t n);
/* A suite defines `const int rt_wants_tls_certs = 1;` to get the certificates. */
extern const int rt_wants_tls_certs __attribute__((weak));
/* The command timeout of rt_client()'s clients: long, so that a slow
 * machine is never mistaken for an unreachable Redis. */
#define RT_COMMAND_TIMEOUT_MS 30000
/* Opens a client on the shared server with a prefix unique to this test and
 * a command timeout of RT_COMMAND_TIMEOUT_MS. */
redisx_client *rt_client(void);
redisx_client *rt_client_opts(redisx_options *o);
/* A name unique to this process and call: tests run in parallel. */
const char *rt_unique(const char *stem, char *buf, size_t n);
/* A client of a port where nothing listens (connect 200 ms, commands 300 ms)
 * with `policy` for `primitive`: for fail-policy tests. */
redisx_client *rt_dead_client(redisx_primitive primitive, redisx_fail_policy policy);
/* Runs a command (NUL-terminated args), returns the reply; asserts OK. */
redisx_reply *rt_cmd(redisx_client *c, int argc, const char **argv);
long long rt_incr_get(redisx_client *c, const char *key);
void rt_sleep_ms(long ms);
/* Index of the stats series (primitive, operation); asserts it exists. */
int rt_series(const redisx_stats *s, const char *primitive, const char *operation);
/* Counter of a series in a fresh snapshot of the client's stats. */
uint64_t rt_counter(redisx_client *c, const char *primitive, const char *operation, redisx_counter which);

#endif
