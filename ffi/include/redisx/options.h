/* redisx — client options, set through a handle so that adding an option never
 * changes the ABI. An options handle is copied by redisx_client_open(): free
 * it or reuse it afterwards. Not thread-safe: build it on one thread. */
#ifndef REDISX_OPTIONS_H
#define REDISX_OPTIONS_H

#include "redisx/common.h"
#include "redisx/errors.h"
#include "redisx/observe.h"

REDISX_BEGIN_DECLS

/** New options with the defaults: redis://127.0.0.1:6379/0, connect timeout
 *  2000 ms, command timeout 1000 ms, prefix "redisx", 1 connection, reconnect
 *  backoff 50..2000 ms, no callbacks, key names kept out of events.
 *  Returns REDISX_OK or REDISX_ERR_NOMEM; free with redisx_options_free(). */
REDISX_API redisx_status redisx_options_new(redisx_options **out);

/** Frees the options; NULL is a no-op. */
REDISX_API void redisx_options_free(redisx_options *opts);

/** Server address: redis://[user[:password]@]host[:port][/db] (IPv6 hosts in
 *  brackets, percent-escapes in user and password) or unix:///path.sock
 *  (optionally ?db=N). REDISX_ERR_URL with the reason in redisx_last_error()
 *  when malformed; the options keep their previous address then. */
REDISX_API redisx_status redisx_options_set_url(redisx_options *opts, const char *url);

/** ACL user name and password, overriding the URL's; NULL clears. A user
 *  without a password is REDISX_ERR_INVALID at open. An empty password (with
 *  or without a user) means no AUTH at all, as an empty password in a URL
 *  (redis://:@host) does. */
REDISX_API redisx_status redisx_options_set_auth(redisx_options *opts, const char *user, const char *password);

/** Timeout for establishing a connection (name lookup, done off the I/O
 *  thread, plus TCP connect plus AUTH/SELECT); 1..3600000 ms. */
REDISX_API redisx_status redisx_options_set_connect_timeout_ms(redisx_options *opts, int64_t ms);

/** Timeout of each command, from submission to reply, 1..3600000 ms. A
 *  command that is not answered in time completes with REDISX_ERR_TIMEOUT and
 *  its connection is reset (its replies can no longer be matched); a command
 *  that could not be sent because no connection was up completes with
 *  REDISX_ERR_CONNECTION. */
REDISX_API redisx_status redisx_options_set_command_timeout_ms(redisx_options *opts, int64_t ms);

/** Prefix of every key redisx writes: "{prefix}:{kind}:..." (1..128 bytes,
 *  no NUL, no '{' or '}': REDISX_ERR_INVALID). Services that must share
 *  locks use the same prefix. */
REDISX_API redisx_status redisx_options_set_prefix(redisx_options *opts, const char *prefix);

/** Number of connections the client multiplexes over, 1..64 (default 1: with
 *  pipelining one connection usually saturates a Redis server). */
REDISX_API redisx_status redisx_options_set_connections(redisx_options *opts, int n);

/** Reconnect backoff: the first retry after a drop is immediate, then the
 *  delay doubles from min_ms up to max_ms, each drawn with jitter in
 *  [delay/2, delay]. 1 <= min_ms <= max_ms <= 3600000. */
REDISX_API redisx_status redisx_options_set_reconnect_backoff_ms(redisx_options *opts, int64_t min_ms, int64_t max_ms);

/** What a primitive does when Redis is unreachable (see redisx_fail_policy).
 *  Defaults: locks REDISX_FAIL_CLOSED, rate limits REDISX_FAIL_OPEN (each
 *  limiter can override it), idempotency REDISX_FAIL_CLOSED. Other
 *  primitives: REDISX_ERR_INVALID. */
REDISX_API redisx_status redisx_options_set_fail_policy(redisx_options *opts, redisx_primitive primitive,
                                                        redisx_fail_policy policy);

/** Event callback, called once per finished operation on the client's I/O
 *  thread, or on the calling thread of a blocking call that did its own round
 *  trip (see redisx/observe.h for what it may do). NULL clears. */
REDISX_API redisx_status redisx_options_set_event_cb(redisx_options *opts, redisx_event_cb cb, void *user);

/** Whether events carry the key name (off by default: names can be personal
 *  data). */
REDISX_API redisx_status redisx_options_set_event_keys(redisx_options *opts, int enabled);

/** Log callback and the least severe level passed to it (default
 *  REDISX_LOG_WARN). Called on the I/O thread or on the thread of the call that
 *  logs. NULL clears. */
REDISX_API redisx_status redisx_options_set_log_cb(redisx_options *opts, redisx_log_cb cb, redisx_log_level min_level,
                                                   void *user);

/** Connection-state callback (connected, disconnected, reconnecting), called
 *  on the I/O thread (a disconnect met by a blocking call's own round trip:
 *  on its thread). NULL clears. */
REDISX_API redisx_status redisx_options_set_state_cb(redisx_options *opts, redisx_state_cb cb, void *user);

/** Attaches a pollable queue (redisx/queue.h). Asynchronous calls made with a
 *  NULL callback complete into it, tagged with their user pointer. `what` is
 *  a mask of REDISX_QUEUE_* saying which notifications also go to the queue
 *  (events, logs, state changes, lost locks), in addition to any callback.
 *  The client keeps its own reference to the queue. NULL detaches. */
REDISX_API redisx_status redisx_options_set_queue(redisx_options *opts, redisx_queue *queue, unsigned what);

REDISX_END_DECLS

#endif
