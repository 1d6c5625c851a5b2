"""The per-client instrumentation hook that :mod:`redisx.opentelemetry`
attaches; the package itself knows no tracing library (as Node's
lib/instrument.js and Go's ``Client.SetInstrumentation``).

``client._instr`` is None unless a hook is attached, and every public
operation reads it once: an uninstrumented call costs that attribute read.

The protocol, called by _client.py, _ratelimit.py, _idempotency.py and
_stream.py:

``hook.start(op, name=None, extra=None) -> scope``
    on the calling thread, before the operation does anything, in the
    caller's context (contextvars: a thread's, or the awaiting asyncio
    task's; never the I/O thread's nor the loop's reader callback's).
    ``op`` is one of the ``Op`` constants below; ``name`` the limiter's or
    stream's name (bounded; never a key), or a raw command's name
    upper-cased; ``extra`` what a stream operation knows (``count`` of a
    publish; ``group``, ``id``, ``headers`` of a handled message).
``scope.end(error, result)``
    once, when the operation completed, on the thread (or in the task) that
    started it: ``error`` the exception raised (None on success), ``result``
    what the call returned (a Lock, a RateLimitResult, message ids, ...).
``scope.use()``
    a context manager that makes the scope current (a stream handler runs
    inside it, so the spans the handler makes are its children).
``scope.outcome(id)``
    the core's outcome identifier of a cache answer (``hit_l1``,
    ``hit_l2``, ``stale``, ``refresh``, ``load``, ``negative``, ``miss``:
    redisx_event_outcome).
``scope.headers()``
    ``{"traceparent": ..., "tracestate": ...}`` for each published message,
    or None.
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple, Optional, TypeVar

T = TypeVar("T")


class Op(NamedTuple):
    """An operation by the core's stable identifiers (redisx_event_primitive
    / redisx_event_operation in ffi/include/redisx/observe.h)."""

    primitive: str
    operation: str
    name: str  #: "<primitive>.<operation>": the span name
    #: the status (redisx_status_name) that is an answer of this operation,
    #: not a failure (a held lock on a try-acquire)
    expected: Optional[str] = None


def _op(primitive: str, operation: str, expected: Optional[str] = None) -> Op:
    return Op(primitive, operation, f"{primitive}.{operation}", expected)


COMMAND = _op("client", "command")
LOCK_ACQUIRE = _op("lock", "acquire")
LOCK_TRY_ACQUIRE = _op("lock", "acquire", "ERR_LOCKED")
LOCK_RELEASE = _op("lock", "release")
LOCK_EXTEND = _op("lock", "extend")
LOCK_INSPECT = _op("lock", "inspect")
RL_CHECK = _op("ratelimit", "check")
RL_PEEK = _op("ratelimit", "peek")
RL_RESET = _op("ratelimit", "reset")
IDEM_BEGIN = _op("idempotency", "begin")
IDEM_COMPLETE = _op("idempotency", "complete")
IDEM_FAIL = _op("idempotency", "fail")
CACHE_FETCH = _op("cache", "fetch")
CACHE_GET = _op("cache", "get")
CACHE_SET = _op("cache", "set")
CACHE_DELETE = _op("cache", "delete")
CACHE_INVALIDATE_TAGS = _op("cache", "invalidate_tags")
STREAM_PUBLISH = _op("stream", "publish")
STREAM_HANDLE = _op("stream", "handle")


def acquire_op(wait_ms: int) -> Op:
    """An acquire that does not wait answers "held"; one that waited fails."""
    return LOCK_TRY_ACQUIRE if wait_ms == 0 else LOCK_ACQUIRE


def call(hook: Any, op: Op, name: Optional[str], fn: Callable[..., T], *args: Any) -> T:
    """``fn(*args)`` under a scope of ``hook``."""
    scope = hook.start(op, name)
    try:
        result = fn(*args)
    except BaseException as e:
        scope.end(e, None)
        raise
    scope.end(None, result)
    return result


def call_scoped(hook: Any, op: Op, name: Optional[str], fn: Callable[..., T], *args: Any) -> T:
    """``fn(*args, scope)`` under a scope of ``hook`` (fn reports an
    outcome, or runs a loader inside the scope)."""
    scope = hook.start(op, name)
    try:
        result = fn(*args, scope)
    except BaseException as e:
        scope.end(e, None)
        raise
    scope.end(None, result)
    return result


async def traced_async_scoped(hook: Any, op: Op, name: Optional[str], make: Callable[[Any], Any]) -> Any:
    """``await make(scope)`` under a scope started in the awaiting task."""
    scope = hook.start(op, name)
    try:
        result = await make(scope)
    except BaseException as e:
        scope.end(e, None)
        raise
    scope.end(None, result)
    return result


async def traced_async(hook: Any, op: Op, name: Optional[str], submit: Callable[[], Any]) -> Any:
    """Starts a scope in the awaiting task's context, then ``await
    submit()``; the scope ends in the same task when it completed (never in
    the loop's reader callback that completes the future)."""
    scope = hook.start(op, name)
    try:
        result = await submit()
    except BaseException as e:
        scope.end(e, None)
        raise
    scope.end(None, result)
    return result


def command_name(args: Any) -> str:
    """A raw command's name, upper-cased ("SET"): its span name."""
    if not args:
        return "COMMAND"
    a = args[0]
    if isinstance(a, (bytes, bytearray, memoryview)):
        a = bytes(a).decode("utf-8", "replace")
    return str(a).upper()
