/* Blocking SET latency over TLS (and, for comparison, over plain TCP when a
 * second URL is given), one call at a time on one client: what
 * redis-benchmark --tls -c 1 -t set measures for itself. bench/tls.sh runs
 * it against a throwaway TLS server and prints the ratio.
 *
 *   redisx_tls_bench CA_FILE TLS_URL [PLAIN_URL [calls]]
 *
 * Prints `name=value` lines only. */
#include <redisx/redisx.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void die(const char *what, redisx_status st)
{
    fprintf(stderr, "redisx_tls_bench: %s: %s (%s)\n", what, redisx_strerror(st), redisx_last_error());
    exit(1);
}

/* p50 (and mean, in *mean) in µs of `calls` blocking SETs (after a tenth
 * as warm-up). */
static double set_p50_us(const char *url, const char *ca, long calls, double *mean)
{
    redisx_options *o = NULL;
    redisx_status st = redisx_options_new(&o);
    if (st == REDISX_OK)
        st = redisx_options_set_url(o, url);
    if (st == REDISX_OK && ca)
        st = redisx_options_set_tls_ca_file(o, ca);
    redisx_client *c = NULL;
    if (st == REDISX_OK)
        st = redisx_client_open(&c, o);
    redisx_options_free(o);
    if (st != REDISX_OK)
        die(url, st);
    uint64_t *v = malloc((size_t)calls * sizeof *v);
    if (!v) {
        fprintf(stderr, "redisx_tls_bench: out of memory\n");
        exit(1);
    }
    const char *argv[] = {"SET", "redisx:bench:tls:set", "xxx"};
    for (long i = -calls / 10; i < calls; i++) {
        redisx_reply *r = NULL;
        uint64_t t0 = now_ns();
        st = redisx_command(&r, c, 3, argv, NULL);
        uint64_t t1 = now_ns();
        if (st != REDISX_OK)
            die("SET", st);
        redisx_reply_free(r);
        if (i >= 0)
            v[i] = t1 - t0;
    }
    double sum = 0;
    for (long i = 0; i < calls; i++)
        sum += (double)v[i];
    *mean = sum / (double)calls / 1000.0;
    qsort(v, (size_t)calls, sizeof *v, cmp_u64);
    double p50 = (double)v[calls / 2] / 1000.0;
    free(v);
    redisx_client_close(c);
    return p50;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s CA_FILE TLS_URL [PLAIN_URL [calls]]\n", argv[0]);
        return 2;
    }
    long calls = argc > 4 ? atol(argv[4]) : 20000;
    if (calls < 10)
        calls = 10;
    double mean;
    printf("redisx_tls_set_seq_p50_us=%.1f\n", set_p50_us(argv[2], argv[1], calls, &mean));
    printf("redisx_tls_set_seq_mean_us=%.1f\n", mean);
    if (argc > 3 && *argv[3]) {
        printf("redisx_plain_set_seq_p50_us=%.1f\n", set_p50_us(argv[3], NULL, calls, &mean));
        printf("redisx_plain_set_seq_mean_us=%.1f\n", mean);
    }
    return 0;
}
