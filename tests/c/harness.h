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
} rt_server;

/* Starts redis-server on a free 127.0.0.1 port; 0 on success. */
int rt_server_start(rt_server *s);
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
/* Opens a client on `s` with `prefix` (NULL: the default). */
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
/* "redis://127.0.0.1:<port>" of the shared server. */
const char *rt_url(void);
/* Opens a client on the shared server with a prefix unique to this test. */
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
