/* Exported: status names and messages, the thread's error detail. */
#include "internal.h"

const char *redisx_strerror(int status)
{
    switch (status) {
#define REDISX_STRERROR_CASE(name, code, msg) \
    case code:                                \
        return msg;
        REDISX_STATUS_MAP(REDISX_STRERROR_CASE)
#undef REDISX_STRERROR_CASE
    default:
        return "unknown status";
    }
}

const char *redisx_status_name(int status)
{
    switch (status) {
#define REDISX_NAME_CASE(name, code, msg) \
    case code:                            \
        return #name;
        REDISX_STATUS_MAP(REDISX_NAME_CASE)
#undef REDISX_NAME_CASE
    default:
        return NULL;
    }
}

const char *redisx_last_error(void)
{
    return redisx__last_error_buf;
}

