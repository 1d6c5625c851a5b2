/* Exported: locks. Argument checks here, behaviour in core/lock.c. */
#include <stdlib.h>

#include "ffi.h"

static redisx_status check_name(const char *name)
{
    return redisx__ffi_name(name, REDISX_LOCK_NAME_MAX, "lock name");
}

static redisx_status check_ttl(int64_t ttl_ms)
{
    REDISX_FFI_REQUIRE(ttl_ms >= 1 && ttl_ms <= REDISX_LOCK_TTL_MAX_MS, "lock ttl must be in 1..%d ms, got %lld",
                       REDISX_LOCK_TTL_MAX_MS, (long long)ttl_ms);
    return REDISX_OK;
}

static redisx_status check_lock(const redisx_lock *lk, int blocking)
{
    REDISX_FFI_REQUIRE(lk != NULL, "lock handle is NULL");
    return redisx__ffi_client(redisx__lock_client(lk), blocking);
}

redisx_status redisx_lock_acquire_async(redisx_client *client, const char *name, int64_t ttl_ms, int64_t wait_ms,
                                        redisx_lock_cb cb, void *user)
{
    redisx_status st = redisx__ffi_client(client, 0);
    if (st == REDISX_OK)
        st = check_name(name);
    if (st == REDISX_OK)
        st = check_ttl(ttl_ms);
    if (st == REDISX_OK && (wait_ms < 0 || wait_ms > REDISX_LOCK_TTL_MAX_MS))
        st = redisx__fail(REDISX_ERR_INVALID, "wait must be in 0..%d ms, got %lld", REDISX_LOCK_TTL_MAX_MS,
                          (long long)wait_ms);
    if (st == REDISX_OK)
        st = redisx__check_async_target(client, cb != NULL);
    if (st != REDISX_OK)
        return st;
    return redisx__lock_acquire_async(client, name, ttl_ms, wait_ms, cb, user);
}

static void lock_wake(redisx_client *c, redisx_status st, redisx_lock *lk, void *user)
{
    (void)c;
    redisx__waiter_signal(user, st, lk);
}

redisx_status redisx_lock_acquire(redisx_lock **out, redisx_client *client, const char *name, int64_t ttl_ms,
                                  int64_t wait_ms)
{
    REDISX_FFI_REQUIRE(out != NULL, "out is NULL");
    *out = NULL;
    redisx_status st = redisx__ffi_client(client, 1);
    if (st != REDISX_OK)
        return st;
    redisx__waiter w;
    redisx__waiter_init(&w);
    st = redisx_lock_acquire_async(client, name, ttl_ms, wait_ms, lock_wake, &w);
    if (st != REDISX_OK)
        return redisx__waiter_drop(&w, st);
    st = redisx__waiter_wait(&w);
    *out = w.result;
    return st;
}

redisx_status redisx_lock_try_acquire(redisx_lock **out, redisx_client *client, const char *name, int64_t ttl_ms)
{
    return redisx_lock_acquire(out, client, name, ttl_ms, 0);
}

redisx_status redisx_lock_release_async(redisx_lock *lock, redisx_status_cb cb, void *user)
{
    redisx_status st = check_lock(lock, 0);
    if (st == REDISX_OK)
        st = redisx__check_async_target(redisx__lock_client(lock), cb != NULL);
    if (st != REDISX_OK)
        return st;
    return redisx__lock_release_async(lock, cb, user);
}

redisx_status redisx_lock_release(redisx_lock *lock)
{
    redisx_status st = check_lock(lock, 1);
    if (st != REDISX_OK)
        return st;
    redisx__waiter w;
    redisx__waiter_init(&w);
    st = redisx__lock_release_async(lock, redisx__ffi_status_wake, &w);
    return st == REDISX_OK ? redisx__waiter_wait(&w) : redisx__waiter_drop(&w, st);
}

redisx_status redisx_lock_extend_async(redisx_lock *lock, int64_t ttl_ms, redisx_status_cb cb, void *user)
{
    redisx_status st = check_lock(lock, 0);
    if (st == REDISX_OK)
        st = check_ttl(ttl_ms);
    if (st == REDISX_OK)
        st = redisx__check_async_target(redisx__lock_client(lock), cb != NULL);
    if (st != REDISX_OK)
        return st;
    return redisx__lock_extend_async(lock, ttl_ms, cb, user);
}

redisx_status redisx_lock_extend(redisx_lock *lock, int64_t ttl_ms)
{
    redisx_status st = check_lock(lock, 1);
    if (st == REDISX_OK)
        st = check_ttl(ttl_ms);
    if (st != REDISX_OK)
        return st;
    redisx__waiter w;
    redisx__waiter_init(&w);
    st = redisx__lock_extend_async(lock, ttl_ms, redisx__ffi_status_wake, &w);
    return st == REDISX_OK ? redisx__waiter_wait(&w) : redisx__waiter_drop(&w, st);
}

redisx_status redisx_lock_start_renewal(redisx_lock *lock, redisx_lock_lost_cb on_lost, void *user)
{
    redisx_status st = check_lock(lock, 0);
    if (st != REDISX_OK)
        return st;
    return redisx__lock_start_renewal(lock, on_lost, user);
}

void redisx_lock_free(redisx_lock *lock)
{
    if (lock)
        redisx__lock_free(lock);
}

const char *redisx_lock_name(const redisx_lock *lock)
{
    return lock ? redisx__lock_name(lock) : NULL;
}

const char *redisx_lock_token(const redisx_lock *lock)
{
    return lock ? redisx__lock_token(lock) : NULL;
}

int64_t redisx_lock_fencing_token(const redisx_lock *lock)
{
    return lock ? redisx__lock_fencing(lock) : 0;
}

int64_t redisx_lock_ttl_ms(const redisx_lock *lock)
{
    return lock ? redisx__lock_ttl(lock) : 0;
}

int redisx_lock_is_fail_open(const redisx_lock *lock)
{
    return lock ? redisx__lock_is_fail_open(lock) : 0;
}

int redisx_lock_is_lost(const redisx_lock *lock)
{
    return lock ? redisx__lock_is_lost(lock) : 0;
}

redisx_status redisx_lock_inspect_async(redisx_client *client, const char *name, redisx_lock_info_cb cb, void *user)
{
    redisx_status st = redisx__ffi_client(client, 0);
    if (st == REDISX_OK)
        st = check_name(name);
    if (st == REDISX_OK)
        st = redisx__check_async_target(client, cb != NULL);
    if (st != REDISX_OK)
        return st;
    return redisx__lock_inspect_async(client, name, cb, user);
}

static void info_wake(redisx_client *c, redisx_status st, const redisx_lock_info *info, void *user)
{
    (void)c;
    redisx_lock_info *copy = NULL;
    if (st == REDISX_OK) {
        copy = malloc(sizeof *copy);
        if (copy)
            *copy = *info;
        else
            st = redisx__fail(REDISX_ERR_NOMEM, "out of memory");
    }
    redisx__waiter_signal(user, st, copy);
}

redisx_status redisx_lock_inspect(redisx_lock_info **out, redisx_client *client, const char *name)
{
    REDISX_FFI_REQUIRE(out != NULL, "out is NULL");
    *out = NULL;
    redisx_status st = redisx__ffi_client(client, 1);
    if (st == REDISX_OK)
        st = check_name(name);
    if (st != REDISX_OK)
        return st;
    redisx__waiter w;
    redisx__waiter_init(&w);
    st = redisx__lock_inspect_async(client, name, info_wake, &w);
    if (st != REDISX_OK)
        return redisx__waiter_drop(&w, st);
    st = redisx__waiter_wait(&w);
    *out = w.result;
    return st;
}

void redisx_lock_info_free(redisx_lock_info *info)
{
    free(info);
}

int redisx_lock_info_locked(const redisx_lock_info *info)
{
    return info ? info->locked : 0;
}

int64_t redisx_lock_info_fencing_token(const redisx_lock_info *info)
{
    return info ? info->fencing : 0;
}

int64_t redisx_lock_info_ttl_ms(const redisx_lock_info *info)
{
    return info ? info->ttl_ms : 0;
}

int64_t redisx_lock_info_last_fencing_token(const redisx_lock_info *info)
{
    return info ? info->last_fencing : 0;
}
