/* redisx — common definitions shared by every public header. */
#ifndef REDISX_COMMON_H
#define REDISX_COMMON_H

#include <stddef.h>
#include <stdint.h>

/* The one export macro. Object-like on purpose: SWIG and cffi read it as-is.
 * The library is built with -fvisibility=hidden; the linker version script
 * (ffi/redisx.map) decides what is exported. */
#if defined(REDISX_BUILDING) && defined(__GNUC__)
#define REDISX_API __attribute__((visibility("default")))
#else
#define REDISX_API
#endif

#ifdef __cplusplus
#define REDISX_BEGIN_DECLS extern "C" {
#define REDISX_END_DECLS }
#else
#define REDISX_BEGIN_DECLS
#define REDISX_END_DECLS
#endif

REDISX_BEGIN_DECLS

/** Opaque client handle: thread-safe, multiplexes many requests over a small
 *  pool of connections. Created by redisx_client_open(), destroyed by
 *  redisx_client_close(). */
typedef struct redisx_client redisx_client;

/** Opaque options handle (a builder, as librdkafka's conf objects). */
typedef struct redisx_options redisx_options;

/** Opaque pollable queue of completions and events (see redisx/queue.h). */
typedef struct redisx_queue redisx_queue;

/** Primitive identifiers used in events, stats and fail policies. The numbers
 *  never change. */
typedef enum redisx_primitive {
    REDISX_PRIMITIVE_CLIENT = 0, /* raw commands, connection handling */
    REDISX_PRIMITIVE_LOCK = 1,
    REDISX_PRIMITIVE_RATELIMIT = 2, /* since 0.2 */
    REDISX_PRIMITIVE_IDEMPOTENCY = 3, /* since 0.2 */
    REDISX_PRIMITIVE_CACHE = 4 /* since 0.5 */
} redisx_primitive;

/** What a primitive does when Redis cannot be reached. */
typedef enum redisx_fail_policy {
    /** Report the error to the caller (REDISX_ERR_CONNECTION, ...). */
    REDISX_FAIL_CLOSED = 0,
    /** Pretend success in the degraded way the primitive documents, and say so
     *  in the result and in the event. */
    REDISX_FAIL_OPEN = 1
} redisx_fail_policy;

REDISX_END_DECLS

#endif
