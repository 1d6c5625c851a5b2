/* The cache's in-process L1 (core/l1.c): prints `name=value` lines, asserts
 * nothing. No server.
 *
 *   redisx_l1_bench [ops [keys [capacity]]]
 *
 * (a) Hit latency: an L1 of `keys` (10k) entries (key "key:<n>", 100-byte
 *     values), hits from 1 and from 2 threads drawn Zipf(0.99) as the
 *     caffeine/otter/theine get benchmarks draw them: l1_hit_ns_1thread,
 *     l1_hit_ns_2threads (each thread's time per hit; the target is <= 100),
 *     l1_hit_mops_2threads (both together), l1_hit_ns_2threads_separate_l1s
 *     (each thread on its own L1: the machine's two-thread floor); the same
 *     drawn uniformly
 *     (_uniform: every hit a likely cache miss), and uniformly over 1M
 *     entries (_uniform_1m_keys: table and values far beyond the CPU
 *     caches, main-memory latency per hit).
 * (b) l1_set_ns: overwriting sets from one thread.
 * (c) Hit ratios at the same capacity (`capacity` = 1,000 entries = 1% of a
 *     100k-key universe, 2M requests): Zipf alpha 0.9 and 1.1, and a scan-mixed trace
 *     (Zipf 0.9 with a burst of 2,000 one-time keys after every 5,000
 *     requests). lru, sieve and s3fifo are exact single-queue simulations
 *     (entry-count capacity); core is the L1 itself on the same trace with
 *     its default sharding, for the cost of sharding on a small capacity. */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"
#include "l1.h"

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- random numbers and traces ---- */
typedef struct rng {
    uint64_t s;
} rng;

static uint64_t rng_next(rng *r)
{
    r->s += 0x9E3779B97F4A7C15ull;
    uint64_t z = r->s;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static double rng_unit(rng *r)
{
    return (double)(rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

/* Zipf(alpha) over [0, universe) by the inverse CDF; ranks shuffled so that
 * popularity has nothing to do with the key's number. */
static uint32_t *zipf_trace(size_t n, uint32_t universe, double alpha, uint64_t seed)
{
    double *cdf = malloc(universe * sizeof *cdf), sum = 0;
    uint32_t *perm = malloc(universe * sizeof *perm), *tr = malloc(n * sizeof *tr);
    if (!cdf || !perm || !tr) {
        fprintf(stderr, "l1_bench: out of memory\n");
        exit(1);
    }
    for (uint32_t i = 0; i < universe; i++) {
        sum += 1.0 / pow((double)(i + 1), alpha);
        cdf[i] = sum;
    }
    rng r = {seed};
    for (uint32_t i = 0; i < universe; i++)
        perm[i] = i;
    for (uint32_t i = universe - 1; i > 0; i--) {
        uint32_t j = (uint32_t)(rng_next(&r) % (i + 1)), t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
    for (size_t i = 0; i < n; i++) {
        double u = rng_unit(&r) * sum;
        uint32_t lo = 0, hi = universe - 1;
        while (lo < hi) {
            uint32_t mid = (lo + hi) / 2;
            if (cdf[mid] < u)
                lo = mid + 1;
            else
                hi = mid;
        }
        tr[i] = perm[lo];
    }
    free(cdf);
    free(perm);
    return tr;
}

/* ---- policy simulations: nodes indexed by key id, intrusive lists ---- */
typedef struct simnode {
    int32_t prev, next;
    uint8_t freq, where; /* where: 0 out, 1 main (or the only queue), 2 small */
} simnode;
typedef struct simlist {
    int32_t head, tail;
    size_t n;
} simlist;

static void sl_push_head(simnode *nd, simlist *l, int32_t i)
{
    nd[i].prev = -1;
    nd[i].next = l->head;
    if (l->head >= 0)
        nd[l->head].prev = i;
    else
        l->tail = i;
    l->head = i;
    l->n++;
}

static void sl_remove(simnode *nd, simlist *l, int32_t i)
{
    if (nd[i].prev >= 0)
        nd[nd[i].prev].next = nd[i].next;
    else
        l->head = nd[i].next;
    if (nd[i].next >= 0)
        nd[nd[i].next].prev = nd[i].prev;
    else
        l->tail = nd[i].prev;
    l->n--;
}

static simnode *sim_nodes(uint32_t universe)
{
    simnode *nd = calloc(universe, sizeof *nd);
    if (!nd) {
        fprintf(stderr, "l1_bench: out of memory\n");
        exit(1);
    }
    return nd;
}

static double sim_lru(const uint32_t *tr, size_t n, uint32_t universe, size_t cap)
{
    simnode *nd = sim_nodes(universe);
    simlist l = {-1, -1, 0};
    size_t hits = 0;
    for (size_t i = 0; i < n; i++) {
        int32_t k = (int32_t)tr[i];
        if (nd[k].where) {
            hits++;
            sl_remove(nd, &l, k);
            sl_push_head(nd, &l, k);
            continue;
        }
        if (l.n >= cap) {
            int32_t t = l.tail;
            sl_remove(nd, &l, t);
            nd[t].where = 0;
        }
        sl_push_head(nd, &l, k);
        nd[k].where = 1;
    }
    free(nd);
    return (double)hits / (double)n;
}

/* SIEVE (Zhang et al., NSDI '24): one FIFO, a visited bit, a hand. */
static double sim_sieve(const uint32_t *tr, size_t n, uint32_t universe, size_t cap)
{
    simnode *nd = sim_nodes(universe);
    simlist l = {-1, -1, 0};
    size_t hits = 0;
    int32_t hand = -1;
    for (size_t i = 0; i < n; i++) {
        int32_t k = (int32_t)tr[i];
        if (nd[k].where) {
            hits++;
            nd[k].freq = 1;
            continue;
        }
        if (l.n >= cap) {
            int32_t h = hand >= 0 ? hand : l.tail;
            while (nd[h].freq) {
                nd[h].freq = 0;
                h = nd[h].prev >= 0 ? nd[h].prev : l.tail;
            }
            hand = nd[h].prev;
            sl_remove(nd, &l, h);
            nd[h].where = 0;
        }
        sl_push_head(nd, &l, k);
        nd[k].where = 1;
        nd[k].freq = 0;
    }
    free(nd);
    return (double)hits / (double)n;
}

/* S3-FIFO (Yang et al., SOSP '23): small FIFO (10%), main FIFO (90%) with
 * 2-bit frequencies, and an exact ghost FIFO of main's size. */
static double sim_s3fifo(const uint32_t *tr, size_t n, uint32_t universe, size_t cap)
{
    simnode *nd = sim_nodes(universe);
    simlist s = {-1, -1, 0}, m = {-1, -1, 0};
    size_t small_cap = cap / 10 ? cap / 10 : 1, hits = 0, gcap = cap - small_cap;
    uint64_t *ghost_at = calloc(universe, sizeof *ghost_at), gseq = 0;
    if (!ghost_at) {
        fprintf(stderr, "l1_bench: out of memory\n");
        exit(1);
    }
    for (size_t i = 0; i < n; i++) {
        int32_t k = (int32_t)tr[i];
        if (nd[k].where) {
            hits++;
            if (nd[k].freq < 3)
                nd[k].freq++;
            continue;
        }
        while (s.n + m.n >= cap) {
            if (s.n >= small_cap || m.n == 0) {
                int32_t t = s.tail;
                sl_remove(nd, &s, t);
                if (nd[t].freq >= 1) {
                    nd[t].freq = 0;
                    sl_push_head(nd, &m, t);
                    nd[t].where = 1;
                } else {
                    nd[t].where = 0;
                    ghost_at[t] = ++gseq;
                }
            } else {
                int32_t t = m.tail;
                sl_remove(nd, &m, t);
                if (nd[t].freq > 0) {
                    nd[t].freq--;
                    sl_push_head(nd, &m, t);
                } else {
                    nd[t].where = 0;
                }
            }
        }
        if (ghost_at[k] && gseq - ghost_at[k] < gcap) {
            ghost_at[k] = 0;
            sl_push_head(nd, &m, k);
            nd[k].where = 1;
        } else {
            sl_push_head(nd, &s, k);
            nd[k].where = 2;
        }
        nd[k].freq = 0;
    }
    free(nd);
    free(ghost_at);
    return (double)hits / (double)n;
}

static redisx__l1 *core_l1(size_t entries, size_t bytes, unsigned shards)
{
    redisx__l1_config cfg = {.max_entries = entries, .max_bytes = bytes, .shards = shards,
                             .max_ttl_ns = 3600ull * 1000000000ull};
    redisx__l1 *l1 = NULL;
    if (redisx__l1_new(&l1, &cfg) != REDISX_OK) {
        fprintf(stderr, "l1_bench: %s\n", redisx_last_error());
        exit(1);
    }
    return l1;
}

/* The core L1 as a cache over the trace: get, and set on a miss. */
static double core_ratio(const uint32_t *tr, size_t n, size_t cap)
{
    redisx__l1 *l1 = core_l1(cap, (size_t)1 << 30, 0);
    size_t hits = 0;
    char k[16];
    for (size_t i = 0; i < n; i++) {
        int kl = snprintf(k, sizeof k, "k%u", tr[i]);
        redisx__l1_value *v = NULL;
        if (redisx__l1_get(l1, k, (size_t)kl, &v) == REDISX_OK) {
            hits++;
            redisx__l1_value_release(v);
        } else {
            redisx__l1_set(l1, k, (size_t)kl, "v", 1, 0, NULL);
        }
    }
    redisx__l1_free(l1);
    return (double)hits / (double)n;
}

static void ratios(const char *trace, const uint32_t *tr, size_t n, uint32_t universe, size_t cap)
{
    printf("l1_hitratio_lru_%s=%.4f\n", trace, sim_lru(tr, n, universe, cap));
    printf("l1_hitratio_sieve_%s=%.4f\n", trace, sim_sieve(tr, n, universe, cap));
    printf("l1_hitratio_s3fifo_%s=%.4f\n", trace, sim_s3fifo(tr, n, universe, cap));
    printf("l1_hitratio_core_%s=%.4f\n", trace, core_ratio(tr, n, cap));
    fflush(stdout);
}

/* ---- latency ---- */
typedef struct keyset {
    char (*key)[16];
    uint8_t *len;
    size_t n;
} keyset;

static keyset keys_make(size_t n)
{
    keyset ks = {malloc(n * sizeof *ks.key), malloc(n), n};
    if (!ks.key || !ks.len) {
        fprintf(stderr, "l1_bench: out of memory\n");
        exit(1);
    }
    for (size_t i = 0; i < n; i++)
        ks.len[i] = (uint8_t)snprintf(ks.key[i], sizeof ks.key[i], "key:%zu", i);
    return ks;
}

static void fill(redisx__l1 *l1, const keyset *ks)
{
    char v[100];
    memset(v, 'v', sizeof v);
    for (size_t i = 0; i < ks->n; i++)
        redisx__l1_set(l1, ks->key[i], ks->len[i], v, sizeof v, 0, NULL);
}

/* Key indices to hit, cycled: drawn once, so drawing costs nothing in the
 * timed loop. */
#define HIT_TRACE (1u << 20)

typedef struct hitarg {
    redisx__l1 *l1;
    const keyset *ks;
    const uint32_t *trace;
    size_t ops;
    uint64_t seed, ns, misses;
    atomic_int *go;
} hitarg;

static void *hitter(void *p)
{
    hitarg *a = p;
    size_t at = (size_t)(a->seed * 104729) % HIT_TRACE;
    while (!atomic_load(a->go)) {
    }
    uint64_t t0 = now_ns(), misses = 0;
    for (size_t i = 0; i < a->ops; i++) {
        size_t k = a->trace[(at + i) & (HIT_TRACE - 1)];
        redisx__l1_value *v;
        if (redisx__l1_get(a->l1, a->ks->key[k], a->ks->len[k], &v) == REDISX_OK)
            redisx__l1_value_release(v);
        else
            misses++;
    }
    a->ns = now_ns() - t0;
    a->misses = misses;
    return NULL;
}

/* ns per hit of each of `threads` threads hitting at once; *wall_mops the
 * hits per µs of all of them together. */
static double hit_ns_on(redisx__l1 *const *l1s, const keyset *ks, const uint32_t *trace, int threads, size_t ops,
                        double *mops)
{
    pthread_t th[8];
    hitarg a[8];
    atomic_int go = 0;
    for (int i = 0; i < threads; i++) {
        a[i] = (hitarg){.l1 = l1s[i], .ks = ks, .trace = trace, .ops = ops, .seed = (uint64_t)i * 7919 + 1, .go = &go};
        pthread_create(&th[i], NULL, hitter, &a[i]);
    }
    uint64_t t0 = now_ns();
    atomic_store(&go, 1);
    double sum = 0;
    uint64_t misses = 0;
    for (int i = 0; i < threads; i++) {
        pthread_join(th[i], NULL);
        sum += (double)a[i].ns / (double)ops;
        misses += a[i].misses;
    }
    uint64_t wall = now_ns() - t0;
    if (misses)
        fprintf(stderr, "l1_bench: %llu misses in a hit run\n", (unsigned long long)misses);
    if (mops)
        *mops = (double)threads * (double)ops / ((double)wall / 1000.0);
    return sum / threads;
}

static double hit_ns(redisx__l1 *l1, const keyset *ks, const uint32_t *trace, int threads, size_t ops,
                     double *mops)
{
    redisx__l1 *l1s[8];
    for (int i = 0; i < threads; i++)
        l1s[i] = l1;
    return hit_ns_on(l1s, ks, trace, threads, ops, mops);
}

int main(int argc, char **argv)
{
    size_t ops = argc > 1 ? strtoull(argv[1], NULL, 10) : 5000000;

    /* (a) hits: Zipf 0.99 over the keys (as caffeine's, otter's and
     * theine's get benchmarks draw them), and uniform */
    size_t nkeys = argc > 2 ? strtoull(argv[2], NULL, 10) : 10000;
    keyset small = keys_make(nkeys ? nkeys : 1);
    uint32_t *zipf = zipf_trace(HIT_TRACE, (uint32_t)small.n, 0.99, 1), *uniform = malloc(HIT_TRACE * sizeof *uniform);
    rng ur = {5};
    for (size_t i = 0; i < HIT_TRACE; i++)
        uniform[i] = (uint32_t)(rng_next(&ur) % small.n);
    redisx__l1 *l1 = core_l1(2 * small.n, (size_t)64 << 20, 0);
    fill(l1, &small);
    hit_ns(l1, &small, zipf, 1, ops / 10, NULL); /* warm up */
    double mops = 0;
    printf("l1_hit_ns_1thread=%.1f\n", hit_ns(l1, &small, zipf, 1, ops, NULL));
    printf("l1_hit_ns_2threads=%.1f\n", hit_ns(l1, &small, zipf, 2, ops, &mops));
    printf("l1_hit_mops_2threads=%.1f\n", mops);
    /* The machine's own two-thread figure: each thread on its own L1, so
     * no line is shared. The gap to l1_hit_ns_2threads is what sharing one
     * L1 costs (the hot keys' shard lock and refcount lines move between
     * cores); the gap to l1_hit_ns_1thread is the machine (load, SMT). */
    redisx__l1 *own[2] = {l1, core_l1(2 * small.n, (size_t)64 << 20, 0)};
    fill(own[1], &small);
    printf("l1_hit_ns_2threads_separate_l1s=%.1f\n", hit_ns_on(own, &small, zipf, 2, ops, NULL));
    redisx__l1_free(own[1]);
    printf("l1_hit_ns_1thread_uniform=%.1f\n", hit_ns(l1, &small, uniform, 1, ops, NULL));
    printf("l1_hit_ns_2threads_uniform=%.1f\n", hit_ns(l1, &small, uniform, 2, ops, &mops));
    fflush(stdout);

    /* (b) sets: overwrite the same keys */
    char v[100];
    memset(v, 'w', sizeof v);
    rng r = {99};
    size_t set_ops = ops / 5;
    uint64_t t0 = now_ns();
    for (size_t i = 0; i < set_ops; i++) {
        size_t k = (size_t)(rng_next(&r) % small.n);
        redisx__l1_set(l1, small.key[k], small.len[k], v, sizeof v, 0, NULL);
    }
    printf("l1_set_ns=%.1f\n", (double)(now_ns() - t0) / (double)set_ops);
    redisx__l1_stats st;
    redisx__l1_stats_get(l1, &st);
    printf("l1_bytes_per_entry_100b_values=%.1f\n", (double)st.bytes / (double)st.entries);
    redisx__l1_free(l1);
    fflush(stdout);

    keyset big = keys_make(1000000);
    l1 = core_l1(2000000, (size_t)1 << 31, 0);
    fill(l1, &big);
    for (size_t i = 0; i < HIT_TRACE; i++)
        uniform[i] = (uint32_t)(rng_next(&ur) % big.n);
    printf("l1_hit_ns_1thread_uniform_1m_keys=%.1f\n", hit_ns(l1, &big, uniform, 1, ops, NULL));
    redisx__l1_free(l1);
    fflush(stdout);

    /* (c) hit ratios */
    const uint32_t universe = 100000;
    const size_t n = 2000000, cap = argc > 3 && atoi(argv[3]) > 0 ? (size_t)atoi(argv[3]) : 1000;
    printf("l1_hitratio_capacity=%zu\n", cap);
    uint32_t *tr = zipf_trace(n, universe, 0.9, 42);
    ratios("zipf0.9", tr, n, universe, cap);
    free(tr);
    tr = zipf_trace(n, universe, 1.1, 42);
    ratios("zipf1.1", tr, n, universe, cap);
    free(tr);
    uint32_t *z = zipf_trace(n, universe, 0.9, 7), scan_universe = universe * 10, scan = universe;
    tr = malloc(n * sizeof *tr);
    for (size_t i = 0, zi = 0; i < n;) {
        for (int j = 0; j < 5000 && i < n; j++)
            tr[i++] = z[zi++];
        for (size_t j = 0; j < 2000 && i < n; j++) {
            tr[i++] = scan++;
            if (scan >= scan_universe)
                scan = universe;
        }
    }
    ratios("scan", tr, n, scan_universe, cap);
    free(z);
    free(tr);
    free(small.key);
    free(small.len);
    free(big.key);
    free(big.len);
    free(zipf);
    free(uniform);
    return 0;
}
