/* Shared argument checks of the exported entry points. */
#ifndef REDISX_FFI_H
#define REDISX_FFI_H

#include <string.h>

#include "internal.h"

#define REDISX_FFI_REQUIRE(cond, ...)                           \
    do {                                                        \
        if (!(cond))                                            \
            return redisx__fail(REDISX_ERR_INVALID, __VA_ARGS__); \
    } while (0)

/* A usable client: not NULL, not closed; a blocking call must not come from
 * its I/O thread. */
static inline redisx_status redisx__ffi_client(const redisx_client *c, int blocking)
{
    if (!c)
        return redisx__fail(REDISX_ERR_INVALID, "client is NULL");
    if (redisx__client_closing(c))
        return redisx__fail(REDISX_ERR_CLOSED, "client is closed");
    if (blocking && redisx__in_loop(c))
        return redisx__fail(REDISX_ERR_WOULDBLOCK, "blocking redisx call from a callback of the same client");
    return REDISX_OK;
}

/* A NUL-terminated name of 1..max bytes. */
static inline redisx_status redisx__ffi_name(const char *name, size_t max, const char *what)
{
    if (!name)
        return redisx__fail(REDISX_ERR_INVALID, "%s is NULL", what);
    size_t n = strnlen(name, max + 1);
    if (n == 0)
        return redisx__fail(REDISX_ERR_INVALID, "%s is empty", what);
    if (n > max)
        return redisx__fail(REDISX_ERR_INVALID, "%s is longer than %zu bytes", what, max);
    return REDISX_OK;
}

/* Completion callback of a blocking call made from a status-only async one. */
static inline void redisx__ffi_status_wake(redisx_client *c, redisx_status st, void *user)
{
    (void)c;
    redisx__waiter_signal(user, st, NULL);
}

#endif
