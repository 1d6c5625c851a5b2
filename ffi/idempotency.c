/* Exported: idempotency records. Argument checks here, behaviour in
 * core/idem.c. */
#include <stdlib.h>

#include "ffi.h"

static redisx_status check_ttl(int64_t ttl_ms, const char *what)
{
    REDISX_FFI_REQUIRE(ttl_ms >= 1 && ttl_ms <= REDISX_IDEM_TTL_MAX_MS, "%s must be in 1..%lld ms, got %lld", what,
                       (long long)REDISX_IDEM_TTL_MAX_MS, (long long)ttl_ms);
    return REDISX_OK;
}

static redisx_status check_bytes(const void *p, size_t len, size_t max, const char *what)
{
    REDISX_FFI_REQUIRE(p != NULL || len == 0, "%s is NULL with a length of %zu", what, len);
    REDISX_FFI_REQUIRE(len <= max, "%s is longer than %zu bytes", what, max);
    return REDISX_OK;
}

static redisx_status check_begin(redisx_client *client, const char *key, const void *fp, size_t fp_len,
                                 int64_t lease_ms, int64_t wait_ms, int blocking)
{
    redisx_status st = redisx__ffi_client(client, blocking);
    if (st == REDISX_OK)
        st = redisx__ffi_name(key, REDISX_IDEM_KEY_MAX, "idempotency key");
    if (st == REDISX_OK)
        st = check_bytes(fp, fp_len, REDISX_IDEM_FINGERPRINT_MAX, "fingerprint");
    if (st == REDISX_OK)
        st = check_ttl(lease_ms, "in-progress ttl");
    if (st == REDISX_OK && (wait_ms < 0 || wait_ms > REDISX_IDEM_TTL_MAX_MS))
        st = redisx__fail(REDISX_ERR_INVALID, "wait must be in 0..%lld ms, got %lld",
                          (long long)REDISX_IDEM_TTL_MAX_MS, (long long)wait_ms);
    return st;
}

redisx_status redisx_idem_begin_async(redisx_client *client, const char *key, const void *fingerprint,
                                      size_t fingerprint_len, int64_t in_progress_ttl_ms, int64_t wait_ms,
                                      redisx_idem_cb cb, void *user)
{
    redisx_status st = check_begin(client, key, fingerprint, fingerprint_len, in_progress_ttl_ms, wait_ms, 0);
    if (st == REDISX_OK)
        st = redisx__check_async_target(client, cb != NULL);
    if (st != REDISX_OK)
        return st;
    return redisx__idem_begin_async(client, key, fingerprint, fingerprint_len, in_progress_ttl_ms, wait_ms, cb,
                                    user);
}

static void idem_wake(redisx_client *c, redisx_status st, redisx_idem *rec, void *user)
{
    (void)c;
    redisx__waiter_signal(user, st, rec);
}

redisx_status redisx_idem_begin(redisx_idem **out, redisx_client *client, const char *key, const void *fingerprint,
                                size_t fingerprint_len, int64_t in_progress_ttl_ms, int64_t wait_ms)
{
    REDISX_FFI_REQUIRE(out != NULL, "out is NULL");
    *out = NULL;
    redisx_status st = check_begin(client, key, fingerprint, fingerprint_len, in_progress_ttl_ms, wait_ms, 1);
    if (st != REDISX_OK)
        return st;
    redisx__waiter w;
    redisx__waiter_init(&w);
    st = redisx__idem_begin_async(client, key, fingerprint, fingerprint_len, in_progress_ttl_ms, wait_ms, idem_wake,
                                  &w);
    if (st != REDISX_OK)
        return redisx__waiter_drop(&w, st);
    st = redisx__waiter_wait(&w);
    *out = w.result;
    return st;
}

/* Only the NEW record of a begin owns the work. */
static redisx_status check_owner(const redisx_idem *rec, int blocking)
{
    REDISX_FFI_REQUIRE(rec != NULL, "idempotency record is NULL");
    redisx_status st = redisx__ffi_client(redisx__idem_client(rec), blocking);
    if (st != REDISX_OK)
        return st;
    REDISX_FFI_REQUIRE(redisx__idem_state(rec) == REDISX_IDEM_NEW,
                       "only a NEW idempotency record can be completed or failed (record %s)",
                       redisx__idem_key(rec));
    return REDISX_OK;
}

static redisx_status check_complete(const redisx_idem *rec, const void *resp, size_t resp_len, const void *meta,
                                    size_t meta_len, int64_t ttl_ms, int blocking)
{
    redisx_status st = check_owner(rec, blocking);
    if (st == REDISX_OK)
        st = check_bytes(resp, resp_len, REDISX_IDEM_VALUE_MAX, "response");
    if (st == REDISX_OK)
        st = check_bytes(meta, meta_len, REDISX_IDEM_VALUE_MAX, "metadata");
    if (st == REDISX_OK)
        st = check_ttl(ttl_ms, "ttl");
    return st;
}

redisx_status redisx_idem_complete_async(redisx_idem *record, const void *response, size_t response_len,
                                         const void *metadata, size_t metadata_len, int64_t ttl_ms,
                                         redisx_status_cb cb, void *user)
{
    redisx_status st = check_complete(record, response, response_len, metadata, metadata_len, ttl_ms, 0);
    if (st == REDISX_OK)
        st = redisx__check_async_target(redisx__idem_client(record), cb != NULL);
    if (st != REDISX_OK)
        return st;
    return redisx__idem_complete_async(record, response, response_len, metadata, metadata_len, ttl_ms, cb, user);
}

redisx_status redisx_idem_complete(redisx_idem *record, const void *response, size_t response_len,
                                   const void *metadata, size_t metadata_len, int64_t ttl_ms)
{
    redisx_status st = check_complete(record, response, response_len, metadata, metadata_len, ttl_ms, 1);
    if (st != REDISX_OK)
        return st;
    redisx__waiter w;
    redisx__waiter_init(&w);
    st = redisx__idem_complete_async(record, response, response_len, metadata, metadata_len, ttl_ms,
                                     redisx__ffi_status_wake, &w);
    return st == REDISX_OK ? redisx__waiter_wait(&w) : redisx__waiter_drop(&w, st);
}

redisx_status redisx_idem_fail_async(redisx_idem *record, redisx_status_cb cb, void *user)
{
    redisx_status st = check_owner(record, 0);
    if (st == REDISX_OK)
        st = redisx__check_async_target(redisx__idem_client(record), cb != NULL);
    if (st != REDISX_OK)
        return st;
    return redisx__idem_fail_async(record, cb, user);
}

redisx_status redisx_idem_fail(redisx_idem *record)
{
    redisx_status st = check_owner(record, 1);
    if (st != REDISX_OK)
        return st;
    redisx__waiter w;
    redisx__waiter_init(&w);
    st = redisx__idem_fail_async(record, redisx__ffi_status_wake, &w);
    return st == REDISX_OK ? redisx__waiter_wait(&w) : redisx__waiter_drop(&w, st);
}

void redisx_idem_free(redisx_idem *record)
{
    if (record)
        redisx__idem_free(record);
}

redisx_idem_state redisx_idem_state_of(const redisx_idem *record)
{
    return record ? redisx__idem_state(record) : REDISX_IDEM_IN_PROGRESS;
}

const char *redisx_idem_key(const redisx_idem *record)
{
    return record ? redisx__idem_key(record) : NULL;
}

const char *redisx_idem_response(const redisx_idem *record, size_t *len)
{
    size_t n = 0;
    const char *p = record ? redisx__idem_response(record, &n) : NULL;
    if (len)
        *len = n;
    return p;
}

const char *redisx_idem_metadata(const redisx_idem *record, size_t *len)
{
    size_t n = 0;
    const char *p = record ? redisx__idem_metadata(record, &n) : NULL;
    if (len)
        *len = n;
    return p;
}

int64_t redisx_idem_remaining_ms(const redisx_idem *record)
{
    return record ? redisx__idem_remaining(record) : 0;
}

int redisx_idem_taken_over(const redisx_idem *record)
{
    return record ? redisx__idem_taken_over(record) : 0;
}

int redisx_idem_is_fail_open(const redisx_idem *record)
{
    return record ? redisx__idem_is_fail_open(record) : 0;
}
