/* redisx — the client: a thread-safe, multiplexing connection pool.
 *
 * Callers on any thread enqueue operations; the client's one I/O thread writes
 * everything queued in one batch (automatic pipelining) and completes the
 * operations from the replies, in order. Every operation has a blocking form
 * and an asynchronous form. A blocking call that finds a connection idle
 * skips the hand-off: it writes, waits for the reply and completes on its own
 * thread (one round trip, no thread wake-up); on a busy connection it joins
 * the pipeline. Timeouts, reconnects, fail policies, events and stats are the
 * same either way.
 *
 * Asynchronous forms take a callback and a user pointer. The callback runs
 * exactly once, on the client's I/O thread, unless the call itself returned
 * an error (then it never runs). Inside it, redisx_last_error() describes the
 * completion. A NULL callback sends the completion to the queue attached with
 * redisx_options_set_queue() instead (REDISX_ERR_INVALID when there is none).
 * Blocking forms called from a callback return REDISX_ERR_WOULDBLOCK. */
#ifndef REDISX_CLIENT_H
#define REDISX_CLIENT_H

#include "redisx/common.h"
#include "redisx/errors.h"
#include "redisx/options.h"
#include "redisx/queue.h"

REDISX_BEGIN_DECLS

/** Completion of an operation that returns only a status. */
typedef void (*redisx_status_cb)(redisx_client *client, redisx_status status, void *user);

/** Opens a client with a copy of `opts` (NULL: defaults). It connects in the
 *  background: an unreachable server is not an error here, but operations
 *  fail (or fail open) until it is reachable. REDISX_ERR_INVALID for
 *  inconsistent options, REDISX_ERR_NOMEM, REDISX_ERR_CONNECTION when the I/O
 *  thread cannot start. */
REDISX_API redisx_status redisx_client_open(redisx_client **out, const redisx_options *opts);

/** Shorthand: default options with this URL. */
REDISX_API redisx_status redisx_client_open_url(redisx_client **out, const char *url);

/** Closes the client: stops lock waits and automatic renewals, lets commands
 *  already sent finish within their timeout, completes every other operation
 *  with REDISX_ERR_CLOSED, then stops the I/O thread. Every operation
 *  completes exactly once. Lock handles stay valid (their operations then
 *  return REDISX_ERR_CLOSED) until freed. NULL is a no-op. Called from one of
 *  this client's callbacks, it returns at once and the I/O thread finishes the
 *  job. Frees the handle: see redisx_client_shutdown() to end the work first
 *  while other threads may still hold it. */
REDISX_API void redisx_client_close(redisx_client *client);

/** Ends the client's work as redisx_client_close() does (every operation
 *  completes exactly once; renewals and waits stop; the I/O thread ends) but
 *  keeps the handle valid: every later call on it returns REDISX_ERR_CLOSED
 *  until redisx_client_close() frees it. Bindings call it from their close()
 *  so a call racing it on another thread meets a closed client, never freed
 *  memory. Idempotent; from one of this client's callbacks it returns at
 *  once and the I/O thread finishes the job. NULL is a no-op. (0.3) */
REDISX_API void redisx_client_shutdown(redisx_client *client);

/** Cancels the asynchronous operations of this client that were started
 *  with `user` as their user pointer and have not completed: each completes
 *  exactly once, with REDISX_ERR_CANCELLED, on the I/O thread shortly after
 *  this call (its callback or queue item as usual). Operations whose _async
 *  call returned before this call was made are covered (on any thread);
 *  later ones with the same `user` are not; one that completes before the cancellation is processed completes
 *  normally. A waiting lock acquire or idempotency begin stops waiting at
 *  once. A command already sent still runs on the server: a lock or an
 *  idempotency record it then takes is released or failed by the client
 *  itself (a check may still have been counted, a release or complete may
 *  still have happened). Blocking calls cannot be cancelled. REDISX_OK, or
 *  REDISX_ERR_INVALID / REDISX_ERR_CLOSED for a NULL or closed client. (0.3) */
REDISX_API redisx_status redisx_cancel(redisx_client *client, void *user);

/** The client's key prefix (borrowed, lives as long as the client). */
REDISX_API const char *redisx_client_prefix(const redisx_client *client);

/** The server the client was opened for, as its URL and options name it
 *  (what OpenTelemetry's server.address, server.port and db.namespace
 *  report): the host (an IP literal without brackets, a Unix socket's
 *  path), of the first seed on a cluster, of the first sentinel in sentinel
 *  mode; borrowed, lives as long as the client; NULL for NULL. The port: 0
 *  for a Unix socket, -1 for NULL. The database index: -1 for NULL. Since
 *  0.6. */
REDISX_API const char *redisx_client_server_address(const redisx_client *client);
REDISX_API int redisx_client_server_port(const redisx_client *client);
REDISX_API int redisx_client_database(const redisx_client *client);

/* ---- raw commands ----------------------------------------------------------
 * For what the primitives do not cover (and for tests). Not for blocking
 * commands (BLPOP, XREAD BLOCK, SUBSCRIBE): they would hold the multiplexed
 * connection. */

typedef enum redisx_reply_type {
    REDISX_REPLY_STRING = 1,
    REDISX_REPLY_ARRAY = 2,
    REDISX_REPLY_INTEGER = 3,
    REDISX_REPLY_NIL = 4,
    REDISX_REPLY_STATUS = 5,
    REDISX_REPLY_ERROR = 6
} redisx_reply_type;

/** Completion of redisx_command_async(); `reply` (NULL unless status is OK)
 *  is owned by the callee: free it with redisx_reply_free(). */
typedef void (*redisx_reply_cb)(redisx_client *client, redisx_status status, redisx_reply *reply, void *user);

/** Runs one command given as binary-safe arguments (argv[i] of argvlen[i]
 *  bytes; argvlen NULL means NUL-terminated strings). An error reply from the
 *  server is still REDISX_OK with a reply of type REDISX_REPLY_ERROR.
 *  1 <= argc <= 1048576. */
REDISX_API redisx_status redisx_command(redisx_reply **out, redisx_client *client, int argc, const char *const *argv,
                                        const size_t *argvlen);
REDISX_API redisx_status redisx_command_async(redisx_client *client, int argc, const char *const *argv,
                                              const size_t *argvlen, redisx_reply_cb cb, void *user);

/** Frees a reply and its elements; NULL is a no-op. */
REDISX_API void redisx_reply_free(redisx_reply *reply);
REDISX_API redisx_reply_type redisx_reply_type_of(const redisx_reply *reply);
/** Integer of an INTEGER reply (0 otherwise). */
REDISX_API int64_t redisx_reply_integer(const redisx_reply *reply);
/** Bytes of a STRING, STATUS or ERROR reply (NUL-terminated for convenience,
 *  may contain NULs); NULL otherwise. `len` may be NULL. */
REDISX_API const char *redisx_reply_string(const redisx_reply *reply, size_t *len);
/** Elements of an ARRAY reply (0 otherwise). */
REDISX_API size_t redisx_reply_elements(const redisx_reply *reply);
/** Element `i` of an ARRAY reply, borrowed from it; NULL when out of range. */
REDISX_API const redisx_reply *redisx_reply_element(const redisx_reply *reply, size_t i);

REDISX_END_DECLS

#endif
