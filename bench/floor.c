/* The floor a lock cycle can reach from any client: the same two scripts of
 * docs/KEYS.md (lock_acquire.lua, lock_release.lua) on the same key layout,
 * sent by bare synchronous hiredis (redisCommandArgv, one call at a time,
 * nothing else). redisx is built on hiredis, so this is its own I/O with
 * nothing of redisx around it; the lock benchmark interleaves blocks of it
 * with blocks of redisx cycles, so both see the same server and machine.
 *
 * It also reads the server's own time per command from INFO commandstats, so
 * that the share of a cycle spent executing the scripts is printed next to
 * the round trips. */
#include "floor.h"

#include <hiredis.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct bench_floor {
    redisContext *rc;
    char prefix[96];
    char acquire_sha[41];
    char release_sha[41];
    uint64_t rnd;
};

static char *read_script(const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", REDISX_SCRIPTS_DIR, name);
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = NULL;
    size_t len = 0;
    if (fseek(f, 0, SEEK_END) == 0) {
        long n = ftell(f);
        if (n > 0 && fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n + 1)) != NULL) {
            len = fread(buf, 1, (size_t)n, f);
            buf[len] = '\0';
        }
    }
    fclose(f);
    return buf;
}

static int load_script(bench_floor *fl, const char *file, char sha[41], char *why, size_t why_len)
{
    char *body = read_script(file);
    if (!body) {
        snprintf(why, why_len, "cannot read %s/%s", REDISX_SCRIPTS_DIR, file);
        return -1;
    }
    redisReply *r = redisCommand(fl->rc, "SCRIPT LOAD %s", body);
    free(body);
    if (!r || r->type != REDIS_REPLY_STRING || r->len != 40) {
        snprintf(why, why_len, "SCRIPT LOAD %s: %s", file, r && r->str ? r->str : fl->rc->errstr);
        if (r)
            freeReplyObject(r);
        return -1;
    }
    memcpy(sha, r->str, 41);
    freeReplyObject(r);
    return 0;
}

bench_floor *bench_floor_open(const char *url, const char *prefix, char *why, size_t why_len)
{
    /* redis://[host][:port][/db] and unix://path only: what bench/run.sh
     * passes; anything else (a password, TLS) is reported, not guessed. */
    char host[256] = "127.0.0.1";
    int port = 6379, db = 0;
    redisContext *rc = NULL;
    if (strncmp(url, "unix://", 7) == 0) {
        rc = redisConnectUnix(url + 7);
    } else if (strncmp(url, "redis://", 8) == 0) {
        const char *p = url + 8;
        if (strchr(p, '@') || strchr(p, '?')) {
            snprintf(why, why_len, "only redis://host:port[/db] or unix://path URLs");
            return NULL;
        }
        size_t hl = strcspn(p, ":/");
        if (hl > 0 && hl < sizeof host) {
            memcpy(host, p, hl);
            host[hl] = '\0';
        }
        p += hl;
        if (*p == ':')
            port = (int)strtol(p + 1, (char **)&p, 10);
        if (*p == '/')
            db = (int)strtol(p + 1, NULL, 10);
        rc = redisConnect(host, port);
    } else {
        snprintf(why, why_len, "only redis://host:port[/db] or unix://path URLs");
        return NULL;
    }
    if (!rc || rc->err) {
        snprintf(why, why_len, "connect: %s", rc ? rc->errstr : "out of memory");
        if (rc)
            redisFree(rc);
        return NULL;
    }
    bench_floor *fl = calloc(1, sizeof *fl);
    if (!fl) {
        redisFree(rc);
        snprintf(why, why_len, "out of memory");
        return NULL;
    }
    fl->rc = rc;
    fl->rnd = 0x9e3779b97f4a7c15u ^ (uint64_t)(uintptr_t)fl;
    snprintf(fl->prefix, sizeof fl->prefix, "%s", prefix);
    if (db) {
        redisReply *r = redisCommand(rc, "SELECT %d", db);
        int ok = r && r->type == REDIS_REPLY_STATUS;
        if (r)
            freeReplyObject(r);
        if (!ok) {
            snprintf(why, why_len, "SELECT %d failed", db);
            bench_floor_close(fl);
            return NULL;
        }
    }
    if (load_script(fl, "lock_acquire.lua", fl->acquire_sha, why, why_len) != 0 ||
        load_script(fl, "lock_release.lua", fl->release_sha, why, why_len) != 0) {
        bench_floor_close(fl);
        return NULL;
    }
    return fl;
}

void bench_floor_close(bench_floor *fl)
{
    if (!fl)
        return;
    redisFree(fl->rc);
    free(fl);
}

static void floor_die(bench_floor *fl, const char *what, redisReply *r)
{
    fprintf(stderr, "redisx_lock_bench: floor %s: %s\n", what,
            r && r->str ? r->str : (fl->rc->err ? fl->rc->errstr : "unexpected reply"));
    exit(1);
}

/* 32 lowercase hex characters, like the owner part redisx sends (its value
 * does not matter to the server's work; a cheap generator is enough here). */
static void random_hex(bench_floor *fl, char out[33])
{
    static const char digits[] = "0123456789abcdef";
    for (int w = 0; w < 2; w++) {
        fl->rnd ^= fl->rnd << 13;
        fl->rnd ^= fl->rnd >> 7;
        fl->rnd ^= fl->rnd << 17;
        uint64_t v = fl->rnd;
        for (int i = 0; i < 16; i++, v >>= 4)
            out[w * 16 + i] = digits[v & 15];
    }
    out[32] = '\0';
}

uint64_t bench_floor_lock_cycle(bench_floor *fl, const char *name, int ttl_ms, uint64_t (*now)(void))
{
    char lease[256], fence[264], hex[33], ttl[16], token[128];
    snprintf(lease, sizeof lease, "%s:lock:{%s}", fl->prefix, name); /* docs/KEYS.md */
    snprintf(fence, sizeof fence, "%s:fence", lease);
    snprintf(ttl, sizeof ttl, "%d", ttl_ms);
    random_hex(fl, hex);

    uint64_t t0 = now();
    const char *acq[] = {"EVALSHA", fl->acquire_sha, "2", lease, fence, hex, ttl};
    redisReply *r = redisCommandArgv(fl->rc, 7, acq, NULL);
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 3 || r->element[0]->type != REDIS_REPLY_INTEGER ||
        r->element[0]->integer != 1 || r->element[2]->type != REDIS_REPLY_STRING ||
        r->element[2]->len >= sizeof token)
        floor_die(fl, "acquire", r);
    memcpy(token, r->element[2]->str, r->element[2]->len + 1);
    freeReplyObject(r);
    const char *rel[] = {"EVALSHA", fl->release_sha, "1", lease, token};
    r = redisCommandArgv(fl->rc, 5, rel, NULL);
    if (!r || r->type != REDIS_REPLY_INTEGER || r->integer != 1)
        floor_die(fl, "release", r);
    freeReplyObject(r);
    return now() - t0;
}

uint64_t bench_floor_set(bench_floor *fl, const char *key, uint64_t (*now)(void))
{
    const char *argv[] = {"SET", key, "xxx"};
    uint64_t t0 = now();
    redisReply *r = redisCommandArgv(fl->rc, 3, argv, NULL);
    if (!r || r->type != REDIS_REPLY_STATUS)
        floor_die(fl, "SET", r);
    freeReplyObject(r);
    return now() - t0;
}

int bench_floor_commandstat(bench_floor *fl, const char *command, uint64_t *calls, uint64_t *usec)
{
    redisReply *r = redisCommand(fl->rc, "INFO commandstats");
    if (!r || r->type != REDIS_REPLY_STRING) {
        if (r)
            freeReplyObject(r);
        return -1;
    }
    char needle[64];
    snprintf(needle, sizeof needle, "cmdstat_%s:", command);
    const char *p = strstr(r->str, needle);
    unsigned long long c = 0, u = 0;
    int ok = p && sscanf(p + strlen(needle), "calls=%llu,usec=%llu", &c, &u) == 2;
    freeReplyObject(r);
    *calls = ok ? c : 0; /* absent: never called since the last reset */
    *usec = ok ? u : 0;
    return 0;
}

void bench_floor_cleanup(bench_floor *fl, const char *name)
{
    char lease[256], fence[264];
    snprintf(lease, sizeof lease, "%s:lock:{%s}", fl->prefix, name);
    snprintf(fence, sizeof fence, "%s:fence", lease);
    const char *argv[] = {"DEL", lease, fence};
    redisReply *r = redisCommandArgv(fl->rc, 3, argv, NULL);
    if (r)
        freeReplyObject(r);
}
