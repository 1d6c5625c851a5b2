/* Criterion main that brings its own redis-server (see harness.h). */
#include "harness.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

void rt_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof sa;
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || getsockname(fd, (struct sockaddr *)&sa, &len)) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    close(fd);
    return ntohs(sa.sin_port);
}

static int port_open(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int ok = fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
    if (fd >= 0)
        close(fd);
    return ok;
}

static const char *server_bin(void)
{
    const char *b = getenv("REDISX_TEST_REDIS_SERVER");
    return b && *b ? b : "redis-server";
}

const char *rt_tls_dir(void)
{
    const char *d = getenv("REDISX_TEST_TLS_DIR");
    return d ? d : "";
}

const char *rt_tls_file(const char *name, char *buf, size_t n)
{
    snprintf(buf, n, "%s/%s", rt_tls_dir(), name);
    return buf;
}

int rt_tls_mode(void)
{
    const char *t = getenv("REDISX_TEST_TLS");
    return t && strcmp(t, "1") == 0;
}

/* The servers daemonize, so they outlive a test process that dies (a crash,
 * a ctest timeout) unless something stops them: a watchdog per server, a
 * shell in a session of its own (so a signal to the test's process group
 * spares it), polls both pids every second and kills the server once this
 * process is gone. It ends by itself when the server stops first. The outer
 * shell exits at once (the loop runs in the background), so nothing is left
 * to reap. */
static const char watchdog[] =
    "(while kill -0 \"$1\" 2>/dev/null && kill -0 \"$2\" 2>/dev/null; do sleep 1; done;"
    " kill -0 \"$1\" 2>/dev/null || kill -KILL \"$2\" 2>/dev/null) </dev/null >/dev/null 2>&1 &";

static void watch(pid_t server)
{
    char owner[24], srv[24];
    snprintf(owner, sizeof owner, "%ld", (long)getpid());
    snprintf(srv, sizeof srv, "%ld", (long)server);
    pid_t pid = fork();
    if (pid < 0)
        return;
    if (pid == 0) {
        setsid();
        execlp("sh", "sh", "-c", watchdog, "sh", owner, srv, (char *)NULL);
        _exit(127);
    }
    int status;
    waitpid(pid, &status, 0);
}

static int launch(rt_server *s)
{
    char port[16];
    snprintf(port, sizeof port, "%d", s->port);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        int devnull = open("/dev/null", 0);
        if (devnull >= 0) {
            dup2(devnull, 1);
        }
        char sock[300], nodes[300], cert[300], key[300], ca[300], ccert[300], ckey[300];
        snprintf(sock, sizeof sock, "%s/redis.sock", s->dir);
        snprintf(nodes, sizeof nodes, "%s/nodes.conf", s->dir);
        const char *argv[72]; /* 3 + TLS 10 + TLS cluster 8 + the rest 34, with room */
        int n = 0;
        argv[n++] = server_bin();
        argv[n++] = "--port";
        argv[n++] = s->tls ? "0" : port;
        if (s->tls) {
            argv[n++] = "--tls-port";
            argv[n++] = port;
            argv[n++] = "--tls-cert-file";
            argv[n++] = rt_tls_file("server.crt", cert, sizeof cert);
            argv[n++] = "--tls-key-file";
            argv[n++] = rt_tls_file("server.key", key, sizeof key);
            argv[n++] = "--tls-ca-cert-file";
            argv[n++] = rt_tls_file("ca.crt", ca, sizeof ca);
            argv[n++] = "--tls-auth-clients";
            argv[n++] = s->tls_auth_clients ? "yes" : "no";
            if (s->cluster) {
                /* The bus and replication over TLS too. A node dials its
                 * peers as a TLS client: with the client certificate
                 * (server.crt is for serverAuth only, which a peer that
                 * checks clients refuses). */
                argv[n++] = "--tls-cluster";
                argv[n++] = "yes";
                argv[n++] = "--tls-replication";
                argv[n++] = "yes";
                argv[n++] = "--tls-client-cert-file";
                argv[n++] = rt_tls_file("client.crt", ccert, sizeof ccert);
                argv[n++] = "--tls-client-key-file";
                argv[n++] = rt_tls_file("client.key", ckey, sizeof ckey);
            }
        }
        const char *rest[] = {"--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "yes",
                              "--pidfile", s->pidfile, "--dir", s->dir, "--logfile", "redis.log", "--unixsocket",
                              sock, "--unixsocketperm", "700", "--cluster-enabled", s->cluster ? "yes" : "no",
                              "--cluster-config-file", nodes,
                              /* a replica's first sync starts at once, not after 5 s */
                              "--repl-diskless-sync-delay", "0",
                              /* CLUSTER SLOTS lists a replica once its offset moved: a
                               * master pings into the stream every second, not every 10 */
                              "--repl-ping-replica-period", "1",
                              /* nodes ping each other at least every half of this: a
                               * replica shows in CLUSTER SLOTS everywhere in seconds */
                              "--cluster-node-timeout", "5000"};
        for (size_t i = 0; i < sizeof rest / sizeof rest[0]; i++)
            argv[n++] = rest[i];
        argv[n] = NULL;
        execvp(server_bin(), (char *const *)argv);
        _exit(127);
    }
    int status;
    waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return -1;
    for (int i = 0; i < 500; i++) {
        if (port_open(s->port) && rt_server_pid(s) > 0) {
            watch(rt_server_pid(s));
            return 0;
        }
        rt_sleep_ms(10);
    }
    return -1;
}

static int start(rt_server *s, int cluster, int tls, int auth_clients)
{
    memset(s, 0, sizeof *s);
    s->cluster = cluster;
    s->tls = tls;
    s->tls_auth_clients = auth_clients;
    snprintf(s->dir, sizeof s->dir, "/tmp/redisx-test-XXXXXX");
    if (!mkdtemp(s->dir))
        return -1;
    snprintf(s->pidfile, sizeof s->pidfile, "%s/redis.pid", s->dir);
    for (int attempt = 0; attempt < 20; attempt++) {
        s->port = free_port();
        /* A cluster node's bus listens on port + 10000, which must stay a
         * port: Redis refuses a cluster port above 55535. */
        if (cluster && s->port > 55535)
            continue;
        if (s->port > 0 && launch(s) == 0)
            return 0;
    }
    return -1;
}

int rt_server_start(rt_server *s)
{
    return start(s, 0, rt_tls_mode(), 0);
}

redisx_status rt_options_server(redisx_options *o, const rt_server *s, const char *host)
{
    char url[320], ca[300];
    snprintf(url, sizeof url, "%s://%s:%d", s->tls ? "rediss" : "redis", host ? host : "127.0.0.1", s->port);
    redisx_status st = redisx_options_set_url(o, url);
    if (st == REDISX_OK && s->tls)
        st = redisx_options_set_tls_ca_file(o, rt_tls_file("ca.crt", ca, sizeof ca));
    return st;
}

int rt_server_start_tls(rt_server *s, int auth_clients)
{
    return start(s, 0, 1, auth_clients);
}

redisx_client *rt_client_on(const rt_server *s, const char *prefix)
{
    char url[64], ca[300];
    snprintf(url, sizeof url, "%s://127.0.0.1:%d", s->tls ? "rediss" : "redis", s->port);
    redisx_options *o = NULL;
    cr_assert_eq(redisx_options_new(&o), REDISX_OK);
    cr_assert_eq(redisx_options_set_url(o, url), REDISX_OK, "%s", redisx_last_error());
    if (s->tls)
        cr_assert_eq(redisx_options_set_tls_ca_file(o, rt_tls_file("ca.crt", ca, sizeof ca)), REDISX_OK);
    if (prefix)
        cr_assert_eq(redisx_options_set_prefix(o, prefix), REDISX_OK, "%s", redisx_last_error());
    redisx_client *c = NULL;
    cr_assert_eq(redisx_client_open(&c, o), REDISX_OK, "%s", redisx_last_error());
    redisx_options_free(o);
    return c;
}

int rt_server_start_cluster(rt_server *s)
{
    if (start(s, 1, 0, 0) != 0)
        return -1;
    redisx_client *c = rt_client_on(s, NULL);
    const char *add[] = {"CLUSTER", "ADDSLOTSRANGE", "0", "16383"};
    redisx_reply_free(rt_cmd(c, 4, add));
    int ok = 0;
    for (int i = 0; i < 1000 && !ok; i++) { /* the cluster cron marks it ok */
        const char *info[] = {"CLUSTER", "INFO"};
        redisx_reply *r = rt_cmd(c, 2, info);
        const char *txt = redisx_reply_string(r, NULL);
        ok = txt && strstr(txt, "cluster_state:ok") != NULL;
        redisx_reply_free(r);
        if (!ok)
            rt_sleep_ms(10);
    }
    redisx_client_close(c);
    return ok ? 0 : -1;
}

int rt_server_restart(rt_server *s)
{
    return launch(s);
}

pid_t rt_server_pid(const rt_server *s)
{
    FILE *f = fopen(s->pidfile, "r");
    long pid = 0;
    if (f) {
        if (fscanf(f, "%ld", &pid) != 1)
            pid = 0;
        fclose(f);
    }
    return (pid_t)pid;
}

void rt_server_kill(rt_server *s)
{
    pid_t pid = rt_server_pid(s); /* 0 when already killed: kill(0, …) would be our group */
    if (pid > 0)
        kill(pid, SIGKILL);
    for (int i = 0; i < 500 && ((pid > 0 && kill(pid, 0) == 0) || port_open(s->port)); i++)
        rt_sleep_ms(10);
    unlink(s->pidfile);
}

void rt_server_stop(rt_server *s)
{
    rt_server_kill(s);
    /* Whatever the server left (log, socket, nodes.conf, a replica's
     * dump.rdb, redis-cli's output): the directory is the test's own. */
    DIR *d = opendir(s->dir);
    for (struct dirent *e; d && (e = readdir(d)) != NULL;) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char path[600];
        snprintf(path, sizeof path, "%s/%s", s->dir, e->d_name);
        unlink(path);
    }
    if (d)
        closedir(d);
    rmdir(s->dir);
}

static const char *cli_bin(void)
{
    const char *b = getenv("REDISX_TEST_REDIS_CLI");
    return b && *b ? b : "redis-cli";
}

/* A reply of a plain client on `port`, or NULL when it cannot be had. */
static redisx_reply *ask_node(int port, int argc, const char **argv)
{
    char url[64];
    snprintf(url, sizeof url, "%s://127.0.0.1:%d", rt_scheme(), port);
    redisx_options *o = NULL;
    redisx_client *c = NULL;
    redisx_reply *r = NULL;
    if (redisx_options_new(&o) == REDISX_OK && redisx_options_set_url(o, url) == REDISX_OK &&
        rt_options_ca(o) == REDISX_OK && redisx_client_open(&c, o) == REDISX_OK &&
        redisx_command(&r, c, argc, argv, NULL) != REDISX_OK)
        r = NULL;
    redisx_client_close(c);
    redisx_options_free(o);
    return r;
}

/* The node agrees the cluster is whole: state ok, every node known, every
 * range listed with its replicas (a replica appears once it has synced). */
static int node_ready(const rt_cluster *c, int port)
{
    const char *info[] = {"CLUSTER", "INFO"};
    redisx_reply *r = ask_node(port, 2, info);
    const char *txt = r ? redisx_reply_string(r, NULL) : NULL;
    char known[64];
    snprintf(known, sizeof known, "cluster_known_nodes:%d\r", c->n);
    int ok = txt && strstr(txt, "cluster_state:ok") && strstr(txt, known);
    redisx_reply_free(r);
    if (!ok)
        return 0;
    const char *slots[] = {"CLUSTER", "SLOTS"};
    r = ask_node(port, 2, slots);
    ok = r && redisx_reply_type_of(r) == REDISX_REPLY_ARRAY && redisx_reply_elements(r) >= (size_t)c->masters;
    for (size_t i = 0; ok && i < redisx_reply_elements(r); i++)
        ok = redisx_reply_elements(redisx_reply_element(r, i)) == (size_t)(3 + c->replicas);
    redisx_reply_free(r);
    return ok;
}

static int cluster_start_once(rt_cluster *c, int masters, int replicas_per_master)
{
    memset(c, 0, sizeof *c);
    c->masters = masters;
    c->replicas = replicas_per_master;
    int total = masters * (1 + replicas_per_master);
    if (masters < 3 || replicas_per_master < 0 || total > RT_CLUSTER_MAX)
        return -1;
    for (; c->n < total; c->n++)
        if (start(&c->node[c->n], 1, rt_tls_mode(), 0) != 0)
            goto fail;
    char reps[16], out[400], ca[300];
    snprintf(reps, sizeof reps, "%d", replicas_per_master);
    snprintf(out, sizeof out, "%s/cluster-create.log", c->node[0].dir);
    char addr[RT_CLUSTER_MAX][32];
    const char *argv[RT_CLUSTER_MAX + 12];
    int argc = 0;
    argv[argc++] = cli_bin();
    if (rt_tls_mode()) { /* TLS mode: the nodes serve TLS only */
        argv[argc++] = "--tls";
        argv[argc++] = "--cacert";
        argv[argc++] = rt_tls_file("ca.crt", ca, sizeof ca);
    }
    argv[argc++] = "--cluster";
    argv[argc++] = "create";
    for (int i = 0; i < c->n; i++) {
        snprintf(addr[i], sizeof addr[i], "127.0.0.1:%d", c->node[i].port);
        argv[argc++] = addr[i];
    }
    argv[argc++] = "--cluster-replicas";
    argv[argc++] = reps;
    argv[argc++] = "--cluster-yes";
    argv[argc] = NULL;
    pid_t pid = fork();
    if (pid < 0)
        goto fail;
    if (pid == 0) {
        int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        execvp(argv[0], (char *const *)argv);
        _exit(127);
    }
    int status;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "harness: %s --cluster create failed (see %s)\n", cli_bin(), out);
        goto fail;
    }
    for (int i = 0; i < c->n; i++) {
        int ok = 0;
        for (int t = 0; t < 3000 && !ok; t++) { /* 60 s: gossip and replica sync */
            ok = node_ready(c, c->node[i].port);
            if (!ok)
                rt_sleep_ms(20);
        }
        if (!ok) {
            fprintf(stderr, "harness: cluster node 127.0.0.1:%d not ready in 60 s\n", c->node[i].port);
            goto fail;
        }
    }
    return 0;
fail:
    rt_cluster_stop(c);
    return -1;
}

/* A cluster that fails to form (a port taken by another process between
 * the probe and a node's bus bind, a busy machine) is started again on new
 * ports, up to three times. */
int rt_cluster_start(rt_cluster *c, int masters, int replicas_per_master)
{
    for (int attempt = 1; attempt <= 3; attempt++) {
        if (cluster_start_once(c, masters, replicas_per_master) == 0)
            return 0;
        if (masters < 3 || replicas_per_master < 0 || masters * (1 + replicas_per_master) > RT_CLUSTER_MAX)
            return -1; /* refused, not failed */
        fprintf(stderr, "harness: cluster start attempt %d of 3 failed%s\n", attempt, attempt < 3 ? "; again" : "");
    }
    return -1;
}

void rt_cluster_stop(rt_cluster *c)
{
    /* Every node at once: each one's end is then waited for together. */
    for (int i = 0; i < c->n; i++) {
        pid_t pid = rt_server_pid(&c->node[i]);
        if (pid > 0)
            kill(pid, SIGKILL);
    }
    for (int i = 0; i < c->n; i++)
        rt_server_stop(&c->node[i]);
    c->n = 0;
}

int rt_port(void)
{
    const char *p = getenv("REDISX_TEST_PORT");
    return p ? atoi(p) : 0;
}

int rt_cluster_mode(void)
{
    const char *t = getenv("REDISX_TEST_CLUSTER");
    return t && strcmp(t, "1") == 0;
}

const char *rt_url(void)
{
    static char url[320];
    const char *seeds = getenv("REDISX_TEST_CLUSTER_SEEDS");
    if (rt_cluster_mode() && seeds)
        snprintf(url, sizeof url, "%s+cluster://%s", rt_scheme(), seeds);
    else
        snprintf(url, sizeof url, "%s://127.0.0.1:%d", rt_scheme(), rt_port());
    return url;
}

const char *rt_scheme(void)
{
    return rt_tls_mode() ? "rediss" : "redis";
}

redisx_status rt_options_ca(redisx_options *o)
{
    /* REDISX_TEST_BUSY_POLL_US: the suites again with busy polling. */
    const char *bp = getenv("REDISX_TEST_BUSY_POLL_US");
    if (bp && *bp) {
        redisx_status st = redisx_options_set_busy_poll_us(o, strtoll(bp, NULL, 10));
        if (st != REDISX_OK)
            return st;
    }
    char ca[300];
    return rt_tls_mode() ? redisx_options_set_tls_ca_file(o, rt_tls_file("ca.crt", ca, sizeof ca)) : REDISX_OK;
}

redisx_status rt_options_url(redisx_options *o)
{
    redisx_status st = redisx_options_set_url(o, rt_url());
    return st == REDISX_OK ? rt_options_ca(o) : st;
}

redisx_status rt_open_url(redisx_client **out, const char *url)
{
    redisx_options *o = NULL;
    redisx_status st = redisx_options_new(&o);
    if (st == REDISX_OK)
        st = redisx_options_set_url(o, url);
    if (st == REDISX_OK)
        st = rt_options_ca(o);
    if (st == REDISX_OK)
        st = redisx_client_open(out, o);
    redisx_options_free(o);
    return st;
}

const char *rt_unique(const char *stem, char *buf, size_t n)
{
    static int counter;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    snprintf(buf, n, "%s-%d-%d-%ld", stem, (int)getpid(), ++counter, (long)(ts.tv_nsec % 100000));
    return buf;
}

redisx_client *rt_client_opts(redisx_options *o)
{
    char prefix[96];
    cr_assert_eq(rt_options_url(o), REDISX_OK, "%s", redisx_last_error());
    cr_assert_eq(redisx_options_set_prefix(o, rt_unique("t", prefix, sizeof prefix)), REDISX_OK);
    redisx_client *c = NULL;
    cr_assert_eq(redisx_client_open(&c, o), REDISX_OK, "%s", redisx_last_error());
    return c;
}

redisx_client *rt_client(void)
{
    redisx_options *o = NULL;
    cr_assert_eq(redisx_options_new(&o), REDISX_OK);
    /* Not the 1 s default: under valgrind on a busy machine a reply can take
     * longer, and a primitive that fails open would then answer without
     * Redis. Tests of timeouts set their own. */
    cr_assert_eq(redisx_options_set_command_timeout_ms(o, RT_COMMAND_TIMEOUT_MS), REDISX_OK);
    redisx_client *c = rt_client_opts(o);
    redisx_options_free(o);
    return c;
}

redisx_client *rt_dead_client(redisx_primitive primitive, redisx_fail_policy policy)
{
    rt_server s;
    cr_assert_eq(rt_server_start(&s), 0);
    rt_server_stop(&s); /* its port is free again: nothing listens there */
    char url[64];
    snprintf(url, sizeof url, "redis://127.0.0.1:%d", s.port);
    redisx_options *o = NULL;
    cr_assert_eq(redisx_options_new(&o), REDISX_OK);
    cr_assert_eq(redisx_options_set_url(o, url), REDISX_OK);
    cr_assert_eq(redisx_options_set_connect_timeout_ms(o, 200), REDISX_OK);
    cr_assert_eq(redisx_options_set_command_timeout_ms(o, 300), REDISX_OK);
    cr_assert_eq(redisx_options_set_fail_policy(o, primitive, policy), REDISX_OK);
    redisx_client *c = NULL;
    cr_assert_eq(redisx_client_open(&c, o), REDISX_OK, "%s", redisx_last_error());
    redisx_options_free(o);
    return c;
}

redisx_reply *rt_cmd(redisx_client *c, int argc, const char **argv)
{
    redisx_reply *r = NULL;
    redisx_status st = redisx_command(&r, c, argc, argv, NULL);
    cr_assert_eq(st, REDISX_OK, "%s: %s (%s)", argv[0], redisx_strerror(st), redisx_last_error());
    return r;
}

void rt_each_node(redisx_client *c, void (*fn)(redisx_client *node, void *u), void *u)
{
    const char *seeds = getenv("REDISX_TEST_CLUSTER_SEEDS");
    if (!rt_cluster_mode() || !seeds) {
        fn(c, u);
        return;
    }
    for (const char *p = seeds; p && *p;) {
        const char *colon = strchr(p, ':');
        cr_assert_not_null(colon, "REDISX_TEST_CLUSTER_SEEDS: %s", seeds);
        char url[64];
        snprintf(url, sizeof url, "%s://127.0.0.1:%d", rt_scheme(), atoi(colon + 1));
        redisx_client *node = NULL;
        cr_assert_eq(rt_open_url(&node, url), REDISX_OK, "%s", redisx_last_error());
        fn(node, u);
        redisx_client_close(node);
        p = strchr(p, ',');
        if (p)
            p++;
    }
}

struct numsub_sum {
    const char *channel;
    long long n;
};

static void numsub_on(redisx_client *node, void *u)
{
    struct numsub_sum *sum = u;
    const char *argv[] = {"PUBSUB", "NUMSUB", sum->channel};
    redisx_reply *r = rt_cmd(node, 3, argv);
    sum->n += redisx_reply_integer(redisx_reply_element(r, 1));
    redisx_reply_free(r);
    if (!rt_cluster_mode())
        return;
    /* Cluster clients wait on the key's shard channel (SSUBSCRIBE). */
    const char *sargv[] = {"PUBSUB", "SHARDNUMSUB", sum->channel};
    r = rt_cmd(node, 3, sargv);
    sum->n += redisx_reply_integer(redisx_reply_element(r, 1));
    redisx_reply_free(r);
}

long long rt_numsub(redisx_client *c, const char *channel)
{
    struct numsub_sum sum = {channel, 0};
    rt_each_node(c, numsub_on, &sum);
    return sum.n;
}

long long rt_incr_get(redisx_client *c, const char *key)
{
    const char *argv[] = {"GET", key};
    redisx_reply *r = rt_cmd(c, 2, argv);
    long long v = 0;
    if (redisx_reply_type_of(r) == REDISX_REPLY_STRING)
        v = atoll(redisx_reply_string(r, NULL));
    redisx_reply_free(r);
    return v;
}

int rt_series(const redisx_stats *s, const char *primitive, const char *operation)
{
    for (int i = 0; i < redisx_stats_series(s); i++)
        if (strcmp(redisx_stats_primitive(s, i), primitive) == 0 && strcmp(redisx_stats_operation(s, i), operation) == 0)
            return i;
    cr_assert_fail("no stats series %s.%s", primitive, operation);
    return -1;
}

uint64_t rt_counter(redisx_client *c, const char *primitive, const char *operation, redisx_counter which)
{
    redisx_stats *s = NULL;
    cr_assert_eq(redisx_client_stats(&s, c), REDISX_OK);
    uint64_t v = redisx_stats_counter(s, rt_series(s, primitive, operation), which);
    redisx_stats_free(s);
    return v;
}

/* The test certificates: tests/tls/make-certs.sh (shared by every
 * language's TLS tests) into a fresh folder. */
static char cert_dir[256];

static int certs_make(void)
{
    snprintf(cert_dir, sizeof cert_dir, "/tmp/redisx-tls-XXXXXX");
    if (!mkdtemp(cert_dir))
        return -1;
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        execlp("sh", "sh", REDISX_TEST_MAKE_CERTS, cert_dir, (char *)NULL);
        _exit(127);
    }
    int status;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "harness: %s could not make test certificates in %s\n", REDISX_TEST_MAKE_CERTS, cert_dir);
        return -1;
    }
    setenv("REDISX_TEST_TLS_DIR", cert_dir, 1);
    return 0;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void certs_remove(void)
{
    nftw(cert_dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
}

int main(int argc, char *argv[])
{
    /* A suite run with REDISX_TEST_PORT set uses that server instead. */
    rt_server shared;
    int own_certs = (rt_tls_mode() || &rt_wants_tls_certs != NULL) && getenv("REDISX_TEST_TLS_DIR") == NULL;
    if (own_certs && certs_make() != 0)
        return 1;
    int own_server = getenv("REDISX_TEST_PORT") == NULL;
    /* Cluster mode (REDISX_TEST_CLUSTER=1): the shared server is a
     * 3-master cluster, rt_url() names its masters as seeds and rt_port()
     * is the first master. */
    static rt_cluster shared_cluster;
    int own_cluster = own_server && rt_cluster_mode();
    int started = own_cluster ? rt_cluster_start(&shared_cluster, 3, 0) : own_server ? start(&shared, 0, rt_tls_mode(), 0) : 0;
    if (started != 0) {
        fprintf(stderr, "harness: cannot start %s on free ports\n", own_cluster ? "a cluster" : server_bin());
        if (own_certs)
            certs_remove();
        return 1;
    }
    struct criterion_test_set *tests = criterion_initialize();
    int result = 1;
    if (own_server) {
        char port[16], seeds[300] = "";
        snprintf(port, sizeof port, "%d", own_cluster ? shared_cluster.node[0].port : shared.port);
        setenv("REDISX_TEST_PORT", port, 1);
        for (int i = 0; own_cluster && i < shared_cluster.masters; i++)
            snprintf(seeds + strlen(seeds), sizeof seeds - strlen(seeds), "%s127.0.0.1:%d", i ? "," : "",
                     shared_cluster.node[i].port);
        if (own_cluster)
            setenv("REDISX_TEST_CLUSTER_SEEDS", seeds, 1);
    }
    if (criterion_handle_args(argc, argv, true))
        result = !criterion_run_all_tests(tests);
    if (own_cluster)
        rt_cluster_stop(&shared_cluster);
    else if (own_server)
        rt_server_stop(&shared);
    if (own_certs)
        certs_remove();
    criterion_finalize(tests);
    return result;
}
