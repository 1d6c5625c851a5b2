/* redisx — status codes and error detail.
 *
 * Every call that can fail returns a redisx_status: 0 is success, negative
 * values are errors. The numbers are part of the ABI and are never reused or
 * renumbered. If a call returns an error, its callback is never called. */
#ifndef REDISX_ERRORS_H
#define REDISX_ERRORS_H

#include "redisx/common.h"

/* The one list of status codes: XX(NAME, number, message). The enum below,
 * redisx_strerror(), redisx_status_name() and the bindings' exception tables
 * are all generated from it. Append only. */
#define REDISX_STATUS_MAP(XX)                                                   \
    XX(OK, 0, "success")                                                        \
    XX(ERR_INVALID, -1, "invalid argument")                                     \
    XX(ERR_NOMEM, -2, "out of memory")                                          \
    XX(ERR_TIMEOUT, -3, "command timed out")                                    \
    XX(ERR_CONNECTION, -4, "cannot reach the Redis server")                     \
    XX(ERR_CLOSED, -5, "client is closed")                                      \
    XX(ERR_AUTH, -6, "authentication or database selection refused")           \
    XX(ERR_SERVER, -7, "the server replied with an error")                      \
    XX(ERR_PROTOCOL, -8, "unexpected reply from the server")                    \
    XX(ERR_LOCKED, -9, "lock is held by another owner")                         \
    XX(ERR_NOT_OWNER, -10, "lock is not held by this owner (expired or taken)") \
    XX(ERR_WOULDBLOCK, -11, "blocking call from a redisx callback thread")      \
    XX(ERR_EMPTY, -12, "nothing to return")                                     \
    XX(ERR_URL, -13, "malformed Redis URL")                                     \
    XX(ERR_CANCELLED, -14, "operation cancelled")

/** Status of a call: REDISX_OK (0) or a negative REDISX_ERR_* code. */
typedef enum redisx_status {
#define REDISX_STATUS_ENUM_ENTRY(name, code, msg) REDISX_##name = code,
    REDISX_STATUS_MAP(REDISX_STATUS_ENUM_ENTRY)
#undef REDISX_STATUS_ENUM_ENTRY
    REDISX_STATUS_MIN_ = -14 /* lowest code in use; grows as codes are added */
} redisx_status;

REDISX_BEGIN_DECLS

/** Human-readable message for a status; never NULL (unknown codes give
 *  "unknown status"). Static storage. */
REDISX_API const char *redisx_strerror(int status);

/** Symbolic name of a status without the prefix ("ERR_TIMEOUT", "OK"), or
 *  NULL for a code that does not exist; bindings build their exception
 *  classes from it. Static storage. */
REDISX_API const char *redisx_status_name(int status);

/** Detail of the last error returned to the calling thread, e.g.
 *  "connect 127.0.0.1:6390: Connection refused". Never NULL (empty when there
 *  was none). Valid until the next redisx call on this thread. Inside a
 *  completion callback it describes that completion. */
REDISX_API const char *redisx_last_error(void);

REDISX_END_DECLS

#endif
