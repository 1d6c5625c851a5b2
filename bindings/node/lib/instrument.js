'use strict';
// The per-client instrumentation hook that `redisx/opentelemetry`
// (lib/opentelemetry.js) attaches; the package itself knows no tracing
// library. `client._instr` is null unless a hook is attached, and every
// public operation tests it once, so an uninstrumented call costs one
// property read.
//
// The protocol, called by lib/client.js, ratelimit.js, idempotency.js,
// cache.js and stream.js:
//   hook.start(op, name, extra) → scope   synchronously at the call, in the
//       caller's async context (a tracer captures its context here, never in
//       the I/O completion); `op` is one of OPS below, `name` the limiter's,
//       cache's or stream's name (bounded; never a key) or the command name
//       for a raw command; `extra` what a stream handle knows (group, id,
//       headers).
//   scope.settle(promise) → promise       the same outcome, and ends the scope
//   scope.end(error, result)              ends it: result is what the call
//       resolved to (a Lock, a RateLimitResult, a message id, ...)
//   scope.run(fn)                         fn() inside the scope (a cache
//       loader, a stream handler), so the caller's own spans nest under it
//   scope.outcome(id)                     the core's outcome identifier
//       (cache: "hit_l1", "miss", ...: redisx_event_outcome)
//   scope.headers()                       {traceparent, tracestate?} to put
//       into a published message's headers, or null

// `expected`: the status (redisx_status_name) that is an answer of this
// operation, not a failure (a held lock on a try-acquire).
function op(primitive, operation, expected = null) {
  return Object.freeze({ primitive, operation, name: `${primitive}.${operation}`, expected });
}

/** The operations, by the core's stable identifiers (redisx_event_primitive
 *  / redisx_event_operation in ffi/include/redisx/observe.h). */
const OPS = Object.freeze({
  COMMAND: op('client', 'command'),
  LOCK_ACQUIRE: op('lock', 'acquire'),
  LOCK_TRY_ACQUIRE: op('lock', 'acquire', 'ERR_LOCKED'),
  LOCK_RELEASE: op('lock', 'release'),
  LOCK_EXTEND: op('lock', 'extend'),
  LOCK_INSPECT: op('lock', 'inspect'),
  RL_CHECK: op('ratelimit', 'check'),
  RL_PEEK: op('ratelimit', 'peek'),
  RL_RESET: op('ratelimit', 'reset'),
  IDEM_BEGIN: op('idempotency', 'begin'),
  IDEM_COMPLETE: op('idempotency', 'complete'),
  IDEM_FAIL: op('idempotency', 'fail'),
  CACHE_FETCH: op('cache', 'fetch'),
  CACHE_GET: op('cache', 'get'),
  CACHE_SET: op('cache', 'set'),
  CACHE_DELETE: op('cache', 'delete'),
  CACHE_INVALIDATE_TAGS: op('cache', 'invalidate_tags'),
  STREAM_PUBLISH: op('stream', 'publish'),
  STREAM_HANDLE: op('stream', 'handle'),
  STREAM_DLQ_LIST: op('stream', 'dlq_list'),
  STREAM_DLQ_REQUEUE: op('stream', 'dlq_requeue'),
  STREAM_DLQ_PURGE: op('stream', 'dlq_purge'),
  STREAM_DLQ_INSPECT: op('stream', 'dlq_inspect'),
  STREAM_GROUP_INSPECT: op('stream', 'group_inspect'),
});

module.exports = { OPS };
