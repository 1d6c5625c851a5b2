/* Status messages and the per-thread error detail. */
#include <stdio.h>
#include <string.h>

#include "internal.h"

_Thread_local char redisx__last_error_buf[REDISX__DETAIL];

redisx_status redisx__fail(redisx_status st, const char *fmt, ...)
{
    /* Formatted aside first: an argument may be the detail itself
     * (redisx_last_error()), and vsnprintf must not read what it writes. */
    char buf[sizeof redisx__last_error_buf];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    memcpy(redisx__last_error_buf, buf, strlen(buf) + 1);
    return st;
}

/* Every completion sets the detail (mostly ""): a copy, not a printf. */
void redisx__copy_detail(char *dst, size_t cap, const char *msg)
{
    if (!msg)
        msg = "";
    size_t n = strnlen(msg, cap - 1);
    memmove(dst, msg, n);
    dst[n] = '\0';
}

void redisx__set_detail(const char *msg)
{
    redisx__copy_detail(redisx__last_error_buf, sizeof redisx__last_error_buf, msg);
}

void redisx__clear_error(void)
{
    redisx__last_error_buf[0] = '\0';
}
