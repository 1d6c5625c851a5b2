"""Idempotency: IdempotencyRecord (a context manager), the ``idempotent``
decorator and its exceptions.

``begin(key, fingerprint)`` answers NEW (run the work, then ``complete`` or
``fail``), IN_PROGRESS, COMPLETED (with the stored response and metadata) or
MISMATCH (the key was used with another fingerprint). Records, leases,
takeover of stale records and waiting all live in the C core
(core/scripts/idem_*.lua); this module holds the core's record handle.
"""

from __future__ import annotations

import contextlib
import enum
import functools
import inspect
import json
from typing import (
    TYPE_CHECKING,
    Any,
    Awaitable,
    Callable,
    Dict,
    Generator,
    Iterator,
    Optional,
    Tuple,
    TypeVar,
    Union,
    cast,
)

from . import _instrument as _ins
from . import _rawc as _c
from ._errors import LockNotOwned, RedisxError, make_error
from ._util import ceil_seconds
from ._util import ms as _ms

if TYPE_CHECKING:  # pragma: no cover
    from ._client import Client

Key = Union[str, bytes]
Data = Union[bytes, bytearray, memoryview, str, None]
F = TypeVar("F", bound=Callable[..., Any])

DEFAULT_LEASE = 30.0  #: seconds an in-progress record is leased to its worker
DEFAULT_TTL = 86400.0  #: seconds a completed record is kept
DEFAULT_WAIT = 0.0  #: seconds a begin waits on an in-progress record


class IdempotencyState(str, enum.Enum):
    """What ``begin`` found (compares equal to its name: ``state == "NEW"``)."""

    NEW = "NEW"
    IN_PROGRESS = "IN_PROGRESS"
    COMPLETED = "COMPLETED"
    MISMATCH = "MISMATCH"

    def __str__(self) -> str:
        return self.value


_STATES: Dict[int, IdempotencyState] = {getattr(_c, "REDISX_IDEM_" + s.name): s for s in IdempotencyState}


def _begin_args(key: Key, fingerprint: Data, lease: float, wait: float) -> Tuple[Key, Data, int, int]:
    return key, fingerprint, _ms(lease, "lease"), _ms(wait, "wait")


class IdempotencyRecord:
    """The answer of ``Client.idempotency_begin``.

    ``state`` is NEW, IN_PROGRESS, COMPLETED or MISMATCH. For COMPLETED,
    ``response`` and ``metadata`` are the stored bytes. ``remaining_ms`` is
    the lease granted (NEW), the lease left (IN_PROGRESS: a Retry-After
    hint) or the time the record still lives (COMPLETED, MISMATCH).
    ``taken_over`` marks a NEW record that took over a stale in-progress one
    (an earlier attempt may have done part of the work); ``fail_open`` a NEW
    record granted without Redis by the fail-open policy (nothing protects
    against duplicates; complete and fail do nothing).

    Only the owner of a NEW record calls ``complete(response, metadata,
    ttl)`` or ``fail()``; both raise LockNotOwned once the record was taken
    over (its lease passed) and InvalidArgument for a record that is not
    NEW. As a context manager (``with client.idempotency(...) as rec:``) a
    NEW record still open at the end of the block is failed when the block
    raised (so a retry runs the work again) and completed with an empty
    response otherwise (the work ran: duplicates must not run it again).
    """

    __slots__ = ("_client", "_h", "key", "state", "response", "metadata", "remaining_ms", "taken_over", "fail_open",
                 "ttl", "_finished", "__weakref__")

    key: str
    state: IdempotencyState
    response: bytes
    metadata: bytes
    remaining_ms: int
    taken_over: bool
    fail_open: bool
    ttl: float

    def __init__(self, client: "Client", handle: Any, ttl: float = DEFAULT_TTL) -> None:
        self._client = client
        self._h = handle
        state, self.key, self.response, self.metadata, self.remaining_ms, self.taken_over, self.fail_open = (
            _c.pyx_idem_props(handle))
        self.state = _STATES[state]
        #: default ``ttl`` (seconds) of ``complete()``
        self.ttl = ttl
        self._finished = self.state is not IdempotencyState.NEW

    def __repr__(self) -> str:
        extra = " taken_over" if self.taken_over else ""
        extra += " fail_open" if self.fail_open else ""
        return f"<redisx.IdempotencyRecord {self.key!r} {self.state.value} remaining_ms={self.remaining_ms}{extra}>"

    @property
    def is_new(self) -> bool:
        """True when this caller owns the record and runs the work."""
        return self.state is IdempotencyState.NEW

    @property
    def remaining(self) -> float:
        """``remaining_ms`` in seconds."""
        return self.remaining_ms / 1000.0

    @property
    def retry_after(self) -> int:
        """Whole seconds (at least 1) to wait before retrying an IN_PROGRESS
        record: ``max(1, ceil(remaining_ms / 1000))``."""
        return max(1, ceil_seconds(self.remaining_ms))

    @property
    def finished(self) -> bool:
        """True for a record that is not NEW, or once complete()/fail() succeeded
        (or found the record taken over)."""
        return self._finished

    # -- blocking --------------------------------------------------------------

    def complete(self, response: Data = b"", metadata: Data = b"", ttl: Optional[float] = None) -> None:
        """Stores the outcome (bytes, or str as UTF-8) of the work for ``ttl``
        seconds (default: the ``ttl`` given to begin, 24 h) and wakes the
        duplicates waiting on it."""
        client = self._client
        ttl_ms = _ms(self.ttl if ttl is None else ttl, "ttl")
        with self._finishing():
            instr = client._instr
            if instr is not None:
                _ins.call(instr, _ins.IDEM_COMPLETE, None, _c.pyx_idem_complete, client._ctx_or_raise(), self._h,
                          response, metadata, ttl_ms)
                return
            _c.pyx_idem_complete(client._ctx_or_raise(), self._h, response, metadata, ttl_ms)

    def fail(self) -> None:
        """Deletes the in-progress record so that a retry runs the work again
        (and wakes waiting duplicates)."""
        client = self._client
        with self._finishing():
            instr = client._instr
            if instr is not None:
                _ins.call(instr, _ins.IDEM_FAIL, None, _c.pyx_idem_fail, client._ctx_or_raise(), self._h)
                return
            _c.pyx_idem_fail(client._ctx_or_raise(), self._h)

    @contextlib.contextmanager
    def _finishing(self) -> Iterator[None]:
        """The record counts as finished once complete/fail succeeded or
        found it no longer ours; after any other error (a connection error,
        WouldBlock, a bad argument) it is still open."""
        try:
            yield
        except LockNotOwned:
            self._finished = True
            raise
        self._finished = True

    def __enter__(self) -> "IdempotencyRecord":
        return self

    def __exit__(self, et: Any, ev: Any, tb: Any) -> None:
        if self._finished:
            return
        if et is not None:
            try:
                self.fail()
            except RedisxError:
                pass  # the block's exception is the one to see
        else:
            self.complete(b"", b"")

    # -- asyncio ---------------------------------------------------------------

    async def complete_async(self, response: Data = b"", metadata: Data = b"", ttl: Optional[float] = None) -> None:
        """``complete()`` for asyncio."""
        client = self._client
        args = (self._h, response, metadata, _ms(self.ttl if ttl is None else ttl, "ttl"))
        with self._finishing():
            instr = client._instr
            if instr is not None:
                await _ins.traced_async(instr, _ins.IDEM_COMPLETE, None,
                                        lambda: client._submit("status", _c.redisx_idem_complete_async, args))
                return
            await client._submit("status", _c.redisx_idem_complete_async, args)

    async def fail_async(self) -> None:
        """``fail()`` for asyncio."""
        client = self._client
        with self._finishing():
            instr = client._instr
            if instr is not None:
                await _ins.traced_async(instr, _ins.IDEM_FAIL, None,
                                        lambda: client._submit("status", _c.redisx_idem_fail_async, (self._h,)))
                return
            await client._submit("status", _c.redisx_idem_fail_async, (self._h,))

    async def __aenter__(self) -> "IdempotencyRecord":
        return self

    async def __aexit__(self, et: Any, ev: Any, tb: Any) -> None:
        if self._finished:
            return
        if et is not None:
            try:
                await self.fail_async()
            except RedisxError:
                pass
        else:
            await self.complete_async(b"", b"")

    def __del__(self) -> None:
        # Frees the handle only: an abandoned NEW record stays in progress
        # until its lease passes (the core's rule).
        h = getattr(self, "_h", None)
        if h is None:
            return
        self._h = None
        try:
            _c.redisx_idem_free(h)
        except Exception:  # interpreter shutdown
            pass


class _AsyncIdempotency:
    """What ``Client.idempotency_async`` returns: await it for the record, or
    use it with ``async with`` (the record's own ``__aexit__`` rules)."""

    __slots__ = ("_client", "_args", "_kwargs", "_rec")

    def __init__(self, client: "Client", args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> None:
        self._client = client
        self._args = args
        self._kwargs = kwargs
        self._rec: Optional[IdempotencyRecord] = None

    def __await__(self) -> Generator[Any, None, IdempotencyRecord]:
        return self._client.idempotency_begin_async(*self._args, **self._kwargs).__await__()

    async def __aenter__(self) -> IdempotencyRecord:
        self._rec = await self._client.idempotency_begin_async(*self._args, **self._kwargs)
        return self._rec

    async def __aexit__(self, et: Any, ev: Any, tb: Any) -> None:
        rec, self._rec = self._rec, None
        if rec is not None:
            await rec.__aexit__(et, ev, tb)


# -- the decorator ---------------------------------------------------------------


class IdempotencyConflict(Exception):
    """Raised by ``idempotent``-decorated functions when the key cannot run
    nor replay: IdempotencyInProgress or IdempotencyMismatch."""

    def __init__(self, key: Key, state: IdempotencyState, remaining_ms: int) -> None:
        super().__init__(key, state, remaining_ms)
        self.key = key
        self.state = state
        self.remaining_ms = remaining_ms

    def __str__(self) -> str:
        return f"idempotency key {self.key!r}: {self.state.value} (remaining {self.remaining_ms} ms)"

    def __reduce__(self) -> Any:
        return (type(self), (self.key, self.state, self.remaining_ms))


class IdempotencyInProgress(IdempotencyConflict):
    """Another call with the same key is running (and did not finish within
    ``wait``); ``retry_after`` is a hint in whole seconds."""

    @property
    def retry_after(self) -> int:
        return max(1, ceil_seconds(self.remaining_ms))


class IdempotencyMismatch(IdempotencyConflict):
    """The key was used with another fingerprint (other arguments)."""


def _conflict(rec: IdempotencyRecord) -> IdempotencyConflict:
    cls = IdempotencyInProgress if rec.state is IdempotencyState.IN_PROGRESS else IdempotencyMismatch
    return cls(rec.key, rec.state, rec.remaining_ms)


class JSONCodec:
    """The decorator's default codec: compact JSON as UTF-8."""

    @staticmethod
    def dumps(value: Any) -> bytes:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")

    @staticmethod
    def loads(data: bytes) -> Any:
        return json.loads(data)


def _fixed_or_callable(value: Any, what: str) -> Callable[..., Any]:
    if callable(value):
        return cast(Callable[..., Any], value)
    if isinstance(value, (str, bytes)):
        return lambda *a, **k: value
    raise make_error("ERR_INVALID", f"{what} must be str, bytes or a callable, got {type(value).__name__}")


def idempotent_decorator(client: "Client", key: Any, fingerprint: Any, lease: float, ttl: float, wait: float,
                         codec: Any) -> Callable[[F], F]:
    """See ``Client.idempotent``."""
    key_of = _fixed_or_callable(key, "key")
    fp_of = None if fingerprint is None else _fixed_or_callable(fingerprint, "fingerprint")
    codec = JSONCodec if codec is None else codec
    if not (callable(getattr(codec, "dumps", None)) and callable(getattr(codec, "loads", None))):
        raise make_error("ERR_INVALID", "codec must have dumps(value) -> bytes and loads(bytes) -> value")
    _ms(lease, "lease"), _ms(ttl, "ttl"), _ms(wait, "wait")  # type errors now, not at the first call
    lease_s, ttl_s, wait_s = lease, ttl, wait

    def encode(value: Any) -> bytes:
        data = codec.dumps(value)
        return data.encode("utf-8") if isinstance(data, str) else bytes(data)

    def decorate(fn: F) -> F:
        if inspect.iscoroutinefunction(fn):
            afn = cast(Callable[..., Awaitable[Any]], fn)

            @functools.wraps(fn)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                k = key_of(*args, **kwargs)
                fp = fp_of(*args, **kwargs) if fp_of is not None else b""
                rec = await client.idempotency_begin_async(k, fp, lease=lease_s, wait=wait_s, ttl=ttl_s)
                if rec.state is IdempotencyState.COMPLETED:
                    return codec.loads(rec.response)
                if rec.state is not IdempotencyState.NEW:
                    raise _conflict(rec)
                try:
                    value = await afn(*args, **kwargs)
                    data = encode(value)
                except BaseException:
                    try:
                        await rec.fail_async()
                    except RedisxError:
                        pass
                    raise
                await rec.complete_async(data, b"", ttl_s)
                return value

            return cast(F, async_wrapper)

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            k = key_of(*args, **kwargs)
            fp = fp_of(*args, **kwargs) if fp_of is not None else b""
            rec = client.idempotency_begin(k, fp, lease=lease_s, wait=wait_s, ttl=ttl_s)
            if rec.state is IdempotencyState.COMPLETED:
                return codec.loads(rec.response)
            if rec.state is not IdempotencyState.NEW:
                raise _conflict(rec)
            try:
                value = fn(*args, **kwargs)
                data = encode(value)
            except BaseException:
                try:
                    rec.fail()
                except RedisxError:
                    pass
                raise
            rec.complete(data, b"", ttl_s)
            return value

        return cast(F, wrapper)

    return decorate


__all__ = [
    "DEFAULT_LEASE",
    "DEFAULT_TTL",
    "DEFAULT_WAIT",
    "IdempotencyState",
    "IdempotencyRecord",
    "IdempotencyConflict",
    "IdempotencyInProgress",
    "IdempotencyMismatch",
    "JSONCodec",
]
