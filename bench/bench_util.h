/* What the C benchmarks share: a monotonic clock, a status check that ends
 * the run, a positive-integer argument and a comparator for sorting
 * latencies. Define BENCH_PROG (the program's name, for messages) before
 * including it. */
#ifndef REDISX_BENCH_UTIL_H
#define REDISX_BENCH_UTIL_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <redisx/redisx.h>

#ifndef BENCH_PROG
#error "define BENCH_PROG before including bench_util.h"
#endif

static inline uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Exits with status 1 and the core's detail unless st is REDISX_OK. */
static inline void check(redisx_status st, const char *what)
{
    if (st == REDISX_OK)
        return;
    fprintf(stderr, BENCH_PROG ": %s: %s: %s\n", what, redisx_strerror(st), redisx_last_error());
    exit(1);
}

/* argv[i] as a positive integer, `def` when absent; exits with status 2
 * on anything else. */
static inline long count_arg(int argc, char **argv, int i, long def)
{
    if (argc <= i)
        return def;
    char *end;
    errno = 0;
    long v = strtol(argv[i], &end, 10);
    if (errno || *end || v < 1) {
        fprintf(stderr, BENCH_PROG ": argument %d must be a positive integer, got '%s'\n", i, argv[i]);
        exit(2);
    }
    return v;
}

static inline int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

#endif
