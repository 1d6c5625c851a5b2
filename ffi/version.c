/* Exported: runtime version. */
#include "internal.h"

#define REDISX_STR2(x) #x
#define REDISX_STR(x) REDISX_STR2(x)

int redisx_version(void)
{
    return REDISX_VERSION_NUMBER;
}

const char *redisx_version_string(void)
{
    return REDISX_STR(REDISX_VERSION_MAJOR) "." REDISX_STR(REDISX_VERSION_MINOR) "." REDISX_STR(REDISX_VERSION_PATCH);
}
