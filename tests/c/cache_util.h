/* Helpers shared by the cache suites (test_cache.c, test_cache_load.c). */
#ifndef REDISX_TEST_CACHE_UTIL_H
#define REDISX_TEST_CACHE_UTIL_H

#include <pthread.h>
#include <string.h>
#include <time.h>

#include "harness.h"

static inline long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Clients sharing one prefix: two "processes" of one service. */
static inline redisx_client *client_with_prefix(const char *prefix)
{
    redisx_options *o = NULL;
    cr_assert_eq(redisx_options_new(&o), REDISX_OK);
    cr_assert_eq(rt_options_url(o), REDISX_OK);
    cr_assert_eq(redisx_options_set_prefix(o, prefix), REDISX_OK);
    redisx_client *c = NULL;
    cr_assert_eq(redisx_client_open(&c, o), REDISX_OK, "%s", redisx_last_error());
    redisx_options_free(o);
    return c;
}

static inline redisx_cache *cache_on(redisx_client *c, const char *name, int l1)
{
    redisx_cache *cache = NULL;
    cr_assert_eq(redisx_cache_new(&cache, c, name), REDISX_OK, "%s", redisx_last_error());
    if (!l1)
        cr_assert_eq(redisx_cache_set_l1(cache, 0, 0, 0), REDISX_OK);
    return cache;
}

static inline redisx_cache_entry *fetch(redisx_cache *cache, const char *key, int64_t wait_ms, int64_t swr_ms,
                                 int64_t sie_ms)
{
    redisx_cache_entry *e = NULL;
    redisx_status st = redisx_cache_fetch(&e, cache, key, wait_ms, swr_ms, sie_ms);
    cr_assert_eq(st, REDISX_OK, "fetch %s: %s (%s)", key, redisx_strerror(st), redisx_last_error());
    cr_assert_not_null(e);
    return e;
}

static inline int value_is(const redisx_cache_entry *e, const void *want, size_t n)
{
    size_t len = 0;
    const void *v = redisx_cache_entry_value(e, &len);
    return v && len == n && memcmp(v, want, n) == 0;
}

typedef struct done {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int n;
    redisx_status st;
    redisx_cache_entry *e;
} done;

static inline void on_entry(redisx_client *c, redisx_status st, redisx_cache_entry *e, void *user)
{
    (void)c;
    done *d = user;
    pthread_mutex_lock(&d->mu);
    d->st = st;
    d->e = e;
    d->n++;
    pthread_cond_broadcast(&d->cv);
    pthread_mutex_unlock(&d->mu);
}

static inline void wait_done(done *d)
{
    pthread_mutex_lock(&d->mu);
    while (d->n == 0)
        pthread_cond_wait(&d->cv, &d->mu);
    pthread_mutex_unlock(&d->mu);
}

#endif
