/* redisx — version of the headers and of the loaded library. */
#ifndef REDISX_VERSION_H
#define REDISX_VERSION_H

#include "redisx/common.h"

/* The one source of truth for the version: CMake parses these three lines. */
#define REDISX_VERSION_MAJOR 0
#define REDISX_VERSION_MINOR 6
#define REDISX_VERSION_PATCH 0

/** MAJOR * 10000 + MINOR * 100 + PATCH, for compile-time checks. */
#define REDISX_VERSION_NUMBER (REDISX_VERSION_MAJOR * 10000 + REDISX_VERSION_MINOR * 100 + REDISX_VERSION_PATCH)

REDISX_BEGIN_DECLS

/** Version of the loaded library as REDISX_VERSION_NUMBER computes it; lets a
 *  binding refuse a runtime older than the headers it was built against. */
REDISX_API int redisx_version(void);

/** Version of the loaded library as "MAJOR.MINOR.PATCH"; static storage. */
REDISX_API const char *redisx_version_string(void);

REDISX_END_DECLS

#endif
