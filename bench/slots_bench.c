/* Cluster groundwork (core/cluster.c): prints `name=value` lines, asserts
 * nothing. No server.
 *
 *   redisx_slots_bench [rounds]
 *
 * keyslot_ns_short   slot of a 16-byte key with a hash tag (the shape of
 *                    redisx's own keys)
 * keyslot_ns_1k      slot of a 1 KiB key without a tag (CRC16 of every byte)
 * map_parse_us       a 3-master CLUSTER SLOTS reply (ids, no replicas) into
 *                    a slot map, freed again: the cost of one refresh
 * map_patch_us       one MOVED patched into that map (a new map version) */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cluster.h"

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void take(redisx_reply *r, void *u)
{
    *(redisx_reply **)u = r;
}

/* The reply redis-cli --cluster create's layout gives, as RESP. */
static redisx_reply *three_master_reply(void)
{
    static char buf[4096];
    size_t len = (size_t)snprintf(buf, sizeof buf, "*3\r\n");
    int lo[] = {0, 5461, 10923}, hi[] = {5460, 10922, 16383};
    for (int i = 0; i < 3; i++) {
        char id[41];
        memset(id, 'a' + i, 40);
        id[40] = '\0';
        len += (size_t)snprintf(buf + len, sizeof buf - len,
                                "*3\r\n:%d\r\n:%d\r\n*3\r\n$9\r\n127.0.0.1\r\n:%d\r\n$40\r\n%s\r\n", lo[i], hi[i],
                                7000 + i, id);
    }
    redisx_reply *r = NULL;
    if (redisx__replies_from_resp(buf, len, 0, take, &r) != REDISX_OK || !r) {
        fprintf(stderr, "slots_bench: cannot build the reply: %s\n", redisx_last_error());
        exit(1);
    }
    return r;
}

int main(int argc, char **argv)
{
    long rounds = argc > 1 ? atol(argv[1]) : 2000000;
    if (rounds < 1000)
        rounds = 1000;
    volatile int sink = 0;

    const char *shortkey = "rx:lock:{o-4711}"; /* 16 bytes */
    uint64_t t0 = now_ns();
    for (long i = 0; i < rounds; i++)
        sink += redisx__slot_of(shortkey, 16);
    printf("keyslot_ns_short=%.1f\n", (double)(now_ns() - t0) / (double)rounds);

    char big[1024];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (char)('a' + i % 26);
    long big_rounds = rounds / 20;
    t0 = now_ns();
    for (long i = 0; i < big_rounds; i++) {
        big[i % sizeof big] ^= 1; /* no hoisting out of the loop */
        sink += redisx__slot_of(big, sizeof big);
    }
    printf("keyslot_ns_1k=%.1f\n", (double)(now_ns() - t0) / (double)big_rounds);

    redisx_reply *reply = three_master_reply();
    long maps = rounds / 200;
    t0 = now_ns();
    for (long i = 0; i < maps; i++) {
        redisx__slot_map *m = NULL;
        if (redisx__slot_map_parse(&m, reply, "127.0.0.1", 1, REDISX__SLOTS_FULL_COVERAGE) != REDISX_OK) {
            fprintf(stderr, "slots_bench: %s\n", redisx_last_error());
            return 1;
        }
        sink += m->slot_node[(size_t)i % REDISX__SLOTS];
        redisx__slot_map_unref(m);
    }
    printf("map_parse_us=%.2f\n", (double)(now_ns() - t0) / (double)maps / 1000.0);

    redisx__slot_map *m = NULL;
    redisx__slot_map_parse(&m, reply, "127.0.0.1", 1, 0);
    t0 = now_ns();
    for (long i = 0; i < maps; i++) {
        redisx__slot_map *p = NULL;
        if (redisx__slot_map_patch(&p, m, (int)(i % REDISX__SLOTS), "127.0.0.1", 7001) != REDISX_OK)
            return 1;
        redisx__slot_map_unref(p);
    }
    printf("map_patch_us=%.2f\n", (double)(now_ns() - t0) / (double)maps / 1000.0);
    redisx__slot_map_unref(m);
    redisx__reply_free(reply);
    return sink == 42 ? 2 : 0;
}
