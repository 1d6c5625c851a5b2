"""The idiomatic layer: Client, Lock, LockInfo, Event (rate limits in
_ratelimit.py, idempotency records in _idempotency.py).

Everything with semantics (retries, backoff, renewal, key layout, timeouts)
happens in the C core; this module turns seconds into milliseconds, handles
into objects, completions into futures, and keeps the objects alive exactly
as long as the core may call back into them.

Threads and the GIL
-------------------
Blocking calls (``acquire``, ``lock_info``, ``execute``, ``Lock.release``,
``Lock.extend``, ``Limiter.check``/``peek``/``reset``, ``idempotency_begin``,
``IdempotencyRecord.complete``/``fail``, ``close``) release the GIL while
they wait. One-shot calls are the core's blocking functions (on an idle
connection the round trip runs on the calling thread); waits (``acquire``
and ``idempotency_begin`` with ``wait`` > 0) go through the asynchronous
call so that Ctrl-C interrupts them and cancels them in the core.
``close()`` shuts the core down (a call racing it on another thread gets
ClientClosed); the C handle is freed when the Client object is finalized.
``on_event`` and ``on_lost`` callables run holding the GIL on the client's
I/O thread (``on_event`` of a blocking call that did its own round trip: on
the calling thread): keep them short; a blocking call on the same client
from inside them raises WouldBlock (asynchronous calls are fine).

asyncio
-------
The ``*_async`` forms use the core's asynchronous calls: each completes into
the pollable queue attached to the client, tagged with an integer. A loop
with operations in flight watches the queue's file descriptor
(``loop.add_reader``); whichever loop (or ``close()``) pops a completion
hands it to the loop that owns the future (``call_soon_threadsafe`` when that
is another loop), so one client serves several loops and threads. A loop's
reader is removed as soon as it has nothing in flight.

Cancelling the awaiting task (``task.cancel()``, ``asyncio.wait_for`` or
``asyncio.timeout`` running out) cancels the operation in the core
(``redisx_cancel`` with its tag): a waiting acquire or idempotency begin
stops at once, and a lock or NEW record that an attempt already in flight
still takes is released / failed by the core. The CancelledError propagates;
the core's CANCELLED completion is ignored. Only a result that completed
before the cancel took effect is given back here (released / failed).
"""

from __future__ import annotations

import asyncio
import atexit
import itertools
import logging
import os
import select
import sys
import threading
import types
import weakref
from typing import (
    Any,
    Callable,
    Dict,
    Generator,
    List,
    NamedTuple,
    Optional,
    Sequence,
    Tuple,
    Union,
)

from . import _rawc as _c
from ._errors import CODES, ClientClosed, InvalidArgument, RedisxError, make_error
from ._idempotency import (
    IdempotencyRecord,
    _AsyncIdempotency,
    _begin_args,
    idempotent_decorator,
)
from ._cache import Cache, _codec_of
from . import _instrument as _ins
from . import _stream
from ._ratelimit import Limiter, RateLimitResult, _algorithm_code
from ._util import check_callable as _check_callable
from ._util import flag as _flag
from ._util import ms as _ms
from ._util import us as _us
from ._util import path as _path



def _seed_list(seeds: Any, what: str = "cluster_seeds") -> str:
    """cluster_seeds (or sentinels) as the core's "host:port,host:port"
    text (the core parses and judges it)."""
    if isinstance(seeds, str):
        return seeds
    if isinstance(seeds, (list, tuple)) and all(isinstance(s, str) for s in seeds):
        return ",".join(seeds)
    raise make_error("ERR_INVALID", f"{what} must be a str or a list of \"host:port\" str")


# A file name as the TLS keywords take it.
_PathArg = Union[str, bytes, "os.PathLike[str]"]

if _c.redisx_version() < _c.pyx_header_version():
    raise ImportError(
        f"libredisx {_c.redisx_version_string()} is older than the headers this package was built with "
        f"({_c.pyx_header_version()}); upgrade libredisx0"
    )

Name = Union[str, bytes]
Arg = Union[bytes, str, int, float, bytearray, memoryview]

_STATUS_NAMES: Dict[int, str] = {code: name for name, code in CODES.items()}


def _enum(prefix: str) -> List[Tuple[str, int]]:
    """Names of a C enum, from the constants SWIG generated (never copied)."""
    pairs = [(k[len(prefix):].lower(), getattr(_c, k)) for k in dir(_c) if k.startswith(prefix)]
    return sorted(pairs, key=lambda p: p[1])


def _pointer_type() -> type:
    opts = _c.redisx_options_new()
    try:
        return type(opts)
    finally:
        _c.redisx_options_free(opts)


_SwigPointer = _pointer_type()
_COUNTERS = _enum("REDISX_COUNTER_")
_CLIENT_COUNTERS = _enum("REDISX_CLIENT_")
_QUANTILES = ((0.5, "p50_ns"), (0.9, "p90_ns"), (0.99, "p99_ns"))


class Event(NamedTuple):
    """One finished operation, as the core reports it."""

    primitive: str  #: "client", "lock", "ratelimit", "idempotency"
    operation: str  #: "command"; "acquire", "release", "extend", "renew", "inspect"; "check", "peek",
    #: "reset"; "begin", "complete", "fail"
    status: str  #: "OK" or the error name, e.g. "ERR_LOCKED"
    code: int  #: the numeric status (0 or negative)
    fail_open: bool  #: granted by the fail-open policy without Redis
    duration_ns: int
    round_trips: int
    key: Optional[str]  #: the lock name / rate-limit key / idempotency key when ``event_keys=True``, else None
    node: Optional[str] = None  #: "host:port" the last command went to (a cluster's master); None when none was sent

    @property
    def ok(self) -> bool:
        return self.code == 0


_LOG_LEVELS = ("debug", "info", "warn", "error")  # redisx_log_level 0..3
_CONN_STATES = ("connected", "disconnected", "reconnecting")  # redisx_conn_state 0..2

#: How long ``acquire``/``lock`` wait for a held lock when no ``wait`` is
#: given: the default of every redisx binding (see the root README).
DEFAULT_WAIT = 10.0


_PY_LEVELS = (logging.DEBUG, logging.INFO, logging.WARNING, logging.ERROR)


def _level_for(logger: "logging.Logger") -> str:
    """The core's least severe level that `logger` would emit."""
    for name, lvl in zip(_LOG_LEVELS, _PY_LEVELS):
        if logger.isEnabledFor(lvl):
            return name
    return "error"


def _to_logger(logger: "logging.Logger", also: Optional[Callable[["LogEntry"], Any]]) -> Callable[["LogEntry"], Any]:
    """An on_log that passes the core's lines to `logger` (after `also`)."""

    def emit(entry: "LogEntry") -> None:
        if also is not None:
            also(entry)
        i = _LOG_LEVELS.index(entry.level) if entry.level in _LOG_LEVELS else 3
        logger.log(_PY_LEVELS[i], "%s", entry.message)

    return emit


class LogEntry(NamedTuple):
    """A log line of the core (``on_log``)."""

    level: str  #: "debug", "info", "warn" or "error"
    message: str


class StateChange(NamedTuple):
    """A state change of one of the client's connections (``on_state``)."""

    connection: int  #: index of the connection in the client's pool
    state: str  #: "connected", "disconnected" or "reconnecting"
    detail: str  #: why (the connect error, ...); may be ""
    #: "host:port" of the node the connection serves (a cluster's master, the
    #: master a sentinel named), for every state; None before it is known
    node: Optional[str] = None


class LockInfo(NamedTuple):
    """Who holds a lock right now (``Client.lock_info``)."""

    locked: bool
    fencing_token: int  #: of the current holder; 0 when free
    ttl_ms: int  #: remaining lease of the holder; 0 when free
    last_fencing_token: int  #: newest token the server still remembers for the name (docs/KEYS.md); 0 when none

    @property
    def ttl(self) -> float:
        """Remaining lease in seconds."""
        return self.ttl_ms / 1000.0


def _event_dispatcher(fn: Callable[[Event], Any]) -> Callable[..., None]:
    names = _STATUS_NAMES

    def dispatch(primitive: str, operation: str, code: int, fail_open: bool, ns: int, rtt: int,
                 key: Optional[str], node: Optional[str] = None) -> None:
        fn(Event(primitive, operation, names.get(code, str(code)), code, fail_open, ns, rtt, key, node))

    return dispatch


class Lock:
    """A held lease. Release it with ``release()`` or by leaving a ``with``
    block; a Lock that is dropped without release is freed but its lease
    simply expires (after ``ttl``)."""

    __slots__ = ("_client", "_h", "name", "token", "fencing_token", "fail_open", "_released", "__weakref__")

    name: str
    token: str
    fencing_token: int
    fail_open: bool

    def __init__(self, client: "Client", handle: Any) -> None:
        self._client = client
        self._h = handle
        self.name, self.token, self.fencing_token, _ttl, self.fail_open = _c.pyx_lock_props(handle)
        self._released = False

    def __repr__(self) -> str:
        state = "released" if self._released else ("lost" if self.lost else "held")
        return f"<redisx.Lock {self.name!r} fencing_token={self.fencing_token} {state}>"

    # -- properties ---------------------------------------------------------

    @property
    def ttl(self) -> float:
        """Lease length used at acquire/extend, in seconds."""
        return float(_c.redisx_lock_ttl_ms(self._h)) / 1000.0

    @property
    def lost(self) -> bool:
        """True once automatic renewal found the lock gone."""
        return bool(_c.redisx_lock_is_lost(self._h))

    @property
    def released(self) -> bool:
        """True once ``release()`` (or the end of a ``with`` block) ran."""
        return self._released

    # -- blocking ------------------------------------------------------------

    def release(self) -> None:
        """Releases the lease if this owner still holds it; LockNotOwned when
        it expired or someone else holds it now. Stops automatic renewal."""
        self._released = True
        self._client._forget_renewal(self)
        instr = self._client._instr
        if instr is not None:
            _ins.call(instr, _ins.LOCK_RELEASE, None, _c.redisx_lock_release, self._h)
            return
        _c.redisx_lock_release(self._h)

    def extend(self, ttl: float) -> None:
        """Sets the remaining lease to ``ttl`` seconds (LockNotOwned if lost)."""
        ttl_ms = _ms(ttl, "ttl")
        instr = self._client._instr
        if instr is not None:
            _ins.call(instr, _ins.LOCK_EXTEND, None, _c.redisx_lock_extend, self._h, ttl_ms)
            return
        _c.redisx_lock_extend(self._h, ttl_ms)

    def keep_alive(self, on_lost: Optional[Callable[["Lock"], Any]] = None) -> "Lock":
        """Starts automatic renewal by the core (every ttl/3). If the lock is
        found gone, or renewals fail until the lease must have run out,
        ``on_lost(lock)`` runs once on the client's I/O thread. The client
        holds the lock until ``release()``, loss or ``close()``: dropping
        every reference to it does not stop renewal (the rule of every
        binding). Returns self."""
        _check_callable(on_lost, "on_lost")
        client = self._client
        ctx = client._ctx
        if ctx is None:
            raise make_error("ERR_CLOSED", "client is closed")
        ref = weakref.ref(self)
        cb = on_lost

        def fire() -> None:
            lk = ref()
            if lk is not None:
                client._forget_renewal(lk)
                if cb is not None:
                    cb(lk)

        client._renewing[id(self)] = self
        _holding.add(client)
        try:
            _c.pyx_lock_keep_alive(ctx, self._h, fire)
        except BaseException:
            client._forget_renewal(self)
            raise
        return self

    def __enter__(self) -> "Lock":
        return self

    def __exit__(self, et: Any, ev: Any, tb: Any) -> None:
        if self._released:
            return
        try:
            self.release()
        except RedisxError:
            if et is None:
                raise

    # -- asyncio ---------------------------------------------------------------

    async def release_async(self) -> None:
        """``release()`` for asyncio."""
        self._released = True
        client = self._client
        client._forget_renewal(self)
        instr = client._instr
        if instr is not None:
            await _ins.traced_async(instr, _ins.LOCK_RELEASE, None,
                                    lambda: client._submit("status", _c.redisx_lock_release_async, (self._h,)))
            return
        await client._submit("status", _c.redisx_lock_release_async, (self._h,))

    async def extend_async(self, ttl: float) -> None:
        """``extend()`` for asyncio."""
        client = self._client
        args = (self._h, _ms(ttl, "ttl"))
        instr = client._instr
        if instr is not None:
            await _ins.traced_async(instr, _ins.LOCK_EXTEND, None,
                                    lambda: client._submit("status", _c.redisx_lock_extend_async, args))
            return
        await client._submit("status", _c.redisx_lock_extend_async, args)

    async def __aenter__(self) -> "Lock":
        return self

    async def __aexit__(self, et: Any, ev: Any, tb: Any) -> None:
        if self._released:
            return
        try:
            await self.release_async()
        except RedisxError:
            if et is None:
                raise

    def __del__(self) -> None:
        h = getattr(self, "_h", None)  # unset if __init__ failed
        if h is None:
            return
        self._h = None
        try:
            client = self._client
            _c.pyx_lock_free(client._ctx if client is not None else None, h)
        except Exception:  # interpreter shutdown
            pass


def _notify_loop(ref: "weakref.ReferenceType[Client]", fd: int, wake: int) -> None:
    """Body of a client's notification thread (see Client._start_notifier)."""
    try:
        while True:
            try:
                ready, _, _ = select.select([fd, wake], [], [])
            except (OSError, ValueError):
                return
            if wake in ready:
                return
            client = ref()
            if client is None or client._ctx is None:
                return
            client._on_readable(None)
            del client
    finally:
        os.close(fd)
        os.close(wake)


class _AsyncLock:
    """What ``Client.lock_async`` returns: await it for a Lock, or use it with
    ``async with`` to release at the end of the block."""

    __slots__ = ("_client", "_args", "_lock")

    def __init__(self, client: "Client", args: Tuple[Any, ...]) -> None:
        self._client = client
        self._args = args
        self._lock: Optional[Lock] = None

    def __await__(self) -> Generator[Any, None, Lock]:
        return self._client.acquire_async(*self._args).__await__()

    async def __aenter__(self) -> Lock:
        self._lock = await self._client.acquire_async(*self._args)
        return self._lock

    async def __aexit__(self, et: Any, ev: Any, tb: Any) -> None:
        lk, self._lock = self._lock, None
        if lk is not None:
            await lk.__aexit__(et, ev, tb)


#: completion kinds whose value is a handle that must not leak when unclaimed
_HANDLE_KINDS = ("lock", "idem", "cache")


class _Op(asyncio.Future):  # type: ignore[type-arg]
    """The future of one operation in flight. Cancelling it (directly, or
    through the task awaiting it) also cancels the operation in the core.
    Costs nothing on completion (no done callback per operation)."""

    __slots__ = ("_client", "_tag")

    def cancel(self, msg: Any = None) -> bool:
        if not super().cancel(msg):
            return False
        client, self._client = self._client, None
        if client is not None:
            ctx = client._ctx
            if ctx is not None:
                _c.pyx_ctx_cancel(ctx, self._tag)
        return True

_live: "weakref.WeakSet[Client]" = weakref.WeakSet()
#: Clients with locks under keep_alive: held, so that neither they nor their
#: locks are collected (and renewal stopped) before release, loss or close,
#: as in Node and Go, whose open clients are never collected.
_holding: "set[Client]" = set()


@atexit.register
def _close_all() -> None:
    # The I/O threads call into Python (events, lost locks): stop them before
    # the interpreter goes away.
    for client in list(_live):
        try:
            client.close()
        except Exception:
            pass


class Client:
    """A thread-safe client over a small pool of multiplexed connections.

    ``url``: ``redis://[user[:password]@]host[:port][/db]``,
    ``rediss://…`` (the same over TLS), ``unix:///path.sock[?db=N]``, or
    ``redis+cluster://host1:7000,host2:7001`` (``rediss+cluster://`` over
    TLS) for Redis Cluster: seed nodes, from which the core reads the slot
    map and routes each command to the master of its keys' slot
    (docs/CLUSTER.md). ``cluster_seeds=["host1:7000", "host2:7001"]`` (or
    one "host:port,host:port" str) does the same with any URL, whose user,
    password and TLS then apply to every node.
    ``redis+sentinel://s1:26379,s2:26379/mymaster[/db]``
    (``rediss+sentinel://`` over TLS) for Redis Sentinel: the core asks the
    sentinels for the master on every (re)connect and follows a failover
    (docs/SENTINEL.md). ``sentinel_master="mymaster"`` with
    ``sentinels=["s1:26379", "s2:26379"]`` does the same with any URL (its
    user, password and database are the master's);
    ``sentinel_username`` / ``sentinel_password`` are the sentinels' own.
    Times are in seconds. ``prefix`` decides
    which keys are shared: services that share locks use the same prefix.
    ``fail_open_locks=True`` grants locks without Redis when it is
    unreachable (``Lock.fail_open`` is then True and it excludes nobody).
    Rate limits fail open by default (an unreachable Redis allows checks,
    ``fail_open=True`` in the result): ``fail_open_rate_limits=False`` makes
    them raise instead (each limiter can override it).
    ``fail_open_idempotency=True`` answers NEW without Redis (default: raise).
    ``on_event(Event)`` runs on the I/O thread for every finished operation.
    ``logger=logging.getLogger("redisx")`` passes the core's log lines to a
    ``logging.Logger`` (at the levels it has enabled, unless ``log_level``
    says otherwise; with ``on_log`` too, both get them).
    ``on_log(LogEntry)`` (lines at ``log_level`` and above, default "warn")
    and ``on_state(StateChange)`` come through the core's queue and run on
    the thread that drains it: the client's notification thread, or an
    asyncio loop / blocking call of this client that found them first;
    never on the I/O thread. ``reconnect_backoff=(min, max)`` in seconds
    (default 0.05..2: the core's). The client connects in the background: an unreachable server is not an
    error here, operations fail until it is reachable.
    ``circuit_breaker=(failures, window, open)`` (seconds; off by default)
    turns on the core's circuit breaker: after ``failures`` connection
    failures within ``window`` seconds, calls raise ConnectionError at once
    (fail-open primitives answer fail-open at once) instead of waiting for
    their timeout, until a reconnect or a probe after ``open`` seconds
    succeeds (docs/RESILIENCE.md).
    ``busy_poll=seconds`` (off by default; e.g. ``200e-6``, at most 0.1)
    makes a thread waiting for a reply spin on the socket that long before
    it sleeps (the core's ``redisx_options_set_busy_poll_us``): lower
    latency for CPU time, worth it where cores are idle.
    ``cache_tracking_bcast=True`` (off by default) runs the client tracking
    of this client's caches with ``tracking=True`` in BCAST mode (the
    core's ``redisx_options_set_cache_tracking_bcast``): the server tells of
    every write under ``<prefix>:cache:``, read or not, with no tracking
    table and nothing tracked per data connection (docs/CACHE.md).

    TLS (each keyword is one of the core's ``redisx_options_set_tls*``
    setters, with its meaning and defaults): ``tls=True`` / ``False``
    overrides the URL's scheme (``rediss://`` turns it on). The server's
    certificate must chain to the system's CAs or to ``tls_ca_file`` (PEM) /
    ``tls_ca_dir`` (hashed directory), and name the URL's host or
    ``tls_server_name`` (also sent as SNI); ``tls_verify_hostname=False``
    accepts any name from a trusted CA; ``tls_insecure_skip_verify=True``
    checks nothing (encrypted, not authenticated: tests only).
    ``tls_cert_file`` / ``tls_key_file`` (PEM, unencrypted; no key file: the
    key is in the certificate file) for servers that require a client
    certificate. Paths are str, bytes or os.PathLike. Files are read here, at
    construction: one that cannot be loaded raises InvalidArgument naming it;
    a failed handshake (untrusted certificate, wrong name, certificate
    required) is a ConnectionError of the operations, with OpenSSL's reason.
    """

    prefix: str

    def __init__(
        self,
        url: str = "redis://127.0.0.1:6379/0",
        *,
        prefix: Optional[str] = None,
        command_timeout: Optional[float] = None,
        connect_timeout: Optional[float] = None,
        connections: Optional[int] = None,
        fail_open_locks: bool = False,
        fail_open_rate_limits: Optional[bool] = None,
        fail_open_idempotency: bool = False,
        on_event: Optional[Callable[[Event], Any]] = None,
        event_keys: bool = False,
        username: Optional[str] = None,
        password: Optional[str] = None,
        reconnect_backoff: Optional[Tuple[float, float]] = None,
        circuit_breaker: Optional[Tuple[int, float, float]] = None,
        busy_poll: Optional[float] = None,
        cache_tracking_bcast: bool = False,
        on_log: Optional[Callable[[LogEntry], Any]] = None,
        on_state: Optional[Callable[[StateChange], Any]] = None,
        log_level: Optional[str] = None,
        tls: Optional[bool] = None,
        tls_ca_file: Optional[_PathArg] = None,
        tls_ca_dir: Optional[_PathArg] = None,
        tls_cert_file: Optional[_PathArg] = None,
        tls_key_file: Optional[_PathArg] = None,
        tls_server_name: Optional[str] = None,
        tls_verify_hostname: Optional[bool] = None,
        tls_insecure_skip_verify: bool = False,
        cluster_seeds: Optional[Union[str, Sequence[str]]] = None,
        sentinel_master: Optional[str] = None,
        sentinels: Optional[Union[str, Sequence[str]]] = None,
        sentinel_username: Optional[str] = None,
        sentinel_password: Optional[str] = None,
        logger: Optional["logging.Logger"] = None,
    ) -> None:
        self._ctx: Any = None
        self._closed = True
        self.prefix = ""
        # The instrumentation hook (redisx._instrument; redisx.opentelemetry
        # sets it); where the client connects, for its server attributes.
        self._instr: Any = None
        _check_callable(on_event, "on_event")
        _check_callable(on_log, "on_log")
        _check_callable(on_state, "on_state")
        if logger is not None:
            if not isinstance(logger, logging.Logger):
                raise make_error("ERR_INVALID", "logger must be a logging.Logger")
            on_log = _to_logger(logger, on_log)
            if log_level is None:
                log_level = _level_for(logger)
        if log_level is not None and on_log is None:
            raise make_error("ERR_INVALID", "log_level needs on_log")
        if log_level is not None and log_level not in _LOG_LEVELS:
            raise make_error("ERR_INVALID", f"log_level must be one of {', '.join(_LOG_LEVELS)}")
        self._on_log = on_log
        self._on_state = on_state
        self._notifier: Optional[threading.Thread] = None
        self._wake: Optional[Tuple[int, int]] = None
        # Locks under keep_alive, by id: renewal never depends on the
        # caller's references (released, lost or closed: removed).
        self._renewing: Dict[int, Lock] = {}
        # Borrowed by the C context; kept here, where the GC can see them.
        self._lost: Dict[int, Callable[[], None]] = {}
        self._on_event = _event_dispatcher(on_event) if on_event is not None else None
        self._pending: Dict[int, Tuple["asyncio.Future[Any]", str]] = {}
        self._loop_pending: Dict[asyncio.AbstractEventLoop, int] = {}
        self._tags = itertools.count(1)  # 0 is never used: it marks nothing
        self._close_lock = threading.Lock()

        opts = _c.redisx_options_new()
        try:
            _c.redisx_options_set_url(opts, url)
            if cluster_seeds is not None:
                _c.redisx_options_set_cluster_seeds(opts, _seed_list(cluster_seeds))
            if sentinel_master is not None or sentinels is not None:
                if sentinel_master is None or sentinels is None:
                    raise make_error("ERR_INVALID", "sentinel_master and sentinels go together")
                _c.redisx_options_set_sentinels(opts, sentinel_master, _seed_list(sentinels, "sentinels"))
            if sentinel_username is not None or sentinel_password is not None:
                _c.redisx_options_set_sentinel_auth(opts, sentinel_username, sentinel_password)
            if prefix is not None:
                _c.redisx_options_set_prefix(opts, prefix)
            if command_timeout is not None:
                _c.redisx_options_set_command_timeout_ms(opts, _ms(command_timeout, "command_timeout"))
            if connect_timeout is not None:
                _c.redisx_options_set_connect_timeout_ms(opts, _ms(connect_timeout, "connect_timeout"))
            if connections is not None:
                _c.redisx_options_set_connections(opts, connections)
            if username is not None or password is not None:
                _c.redisx_options_set_auth(opts, username, password)
            if reconnect_backoff is not None:
                if not isinstance(reconnect_backoff, (tuple, list)) or len(reconnect_backoff) != 2:
                    raise make_error("ERR_INVALID", "reconnect_backoff must be (min_seconds, max_seconds)")
                lo, hi = reconnect_backoff
                _c.redisx_options_set_reconnect_backoff_ms(opts, _ms(lo, "reconnect_backoff"),
                                                           _ms(hi, "reconnect_backoff"))
            if circuit_breaker is not None:
                if not isinstance(circuit_breaker, (tuple, list)) or len(circuit_breaker) != 3:
                    raise make_error("ERR_INVALID",
                                     "circuit_breaker must be (failures, window_seconds, open_seconds)")
                failures, window, open_for = circuit_breaker
                if not isinstance(failures, int) or isinstance(failures, bool):
                    raise make_error("ERR_INVALID", "circuit_breaker failures must be an int")
                _c.redisx_options_set_circuit_breaker(opts, failures, _ms(window, "circuit_breaker window"),
                                                      _ms(open_for, "circuit_breaker open time"))
            if busy_poll is not None:
                _c.redisx_options_set_busy_poll_us(opts, _us(busy_poll, "busy_poll"))
            if cache_tracking_bcast:
                _c.redisx_options_set_cache_tracking_bcast(opts, 1)
            if fail_open_locks:
                _c.redisx_options_set_fail_policy(opts, _c.REDISX_PRIMITIVE_LOCK, _c.REDISX_FAIL_OPEN)
            if fail_open_rate_limits is not None:
                _c.redisx_options_set_fail_policy(opts, _c.REDISX_PRIMITIVE_RATELIMIT,
                                                  _c.REDISX_FAIL_OPEN if fail_open_rate_limits
                                                  else _c.REDISX_FAIL_CLOSED)
            if fail_open_idempotency:
                _c.redisx_options_set_fail_policy(opts, _c.REDISX_PRIMITIVE_IDEMPOTENCY, _c.REDISX_FAIL_OPEN)
            if event_keys:
                _c.redisx_options_set_event_keys(opts, 1)
            if tls is not None:
                _c.redisx_options_set_tls(opts, _flag(tls, "tls"))
            if tls_ca_file is not None:
                _c.redisx_options_set_tls_ca_file(opts, _path(tls_ca_file))
            if tls_ca_dir is not None:
                _c.redisx_options_set_tls_ca_dir(opts, _path(tls_ca_dir))
            if tls_cert_file is not None or tls_key_file is not None:
                _c.redisx_options_set_tls_client_cert(opts, _path(tls_cert_file), _path(tls_key_file))
            if tls_server_name is not None:
                _c.redisx_options_set_tls_server_name(opts, tls_server_name)
            if tls_verify_hostname is not None:
                _c.redisx_options_set_tls_verify_hostname(opts, _flag(tls_verify_hostname, "tls_verify_hostname"))
            if tls_insecure_skip_verify is not False:
                _c.redisx_options_set_tls_insecure_skip_verify(
                    opts, _flag(tls_insecure_skip_verify, "tls_insecure_skip_verify"))
            what = 0
            if on_log is not None:
                what |= _c.REDISX_QUEUE_LOGS
                _c.pyx_options_set_log_level(opts, _LOG_LEVELS.index(log_level or "warn"))
            if on_state is not None:
                what |= _c.REDISX_QUEUE_STATES
            ctx = _c.pyx_ctx_new(self._on_event, self._lost)
            try:
                _c.pyx_ctx_open(ctx, opts, what)
            except BaseException:
                _c.pyx_ctx_free(ctx)
                raise
        finally:
            _c.redisx_options_free(opts)
        self._ctx = ctx
        self._closed = False
        self._fd: int = _c.pyx_ctx_fd(ctx)
        self.prefix = _c.pyx_ctx_prefix(ctx)
        # (address, port, database) the core parsed from the URL and options.
        self._server: Tuple[str, int, int] = _c.pyx_ctx_server(ctx)
        _live.add(self)
        if on_log is not None or on_state is not None:
            self._start_notifier()

    @classmethod
    def from_url(cls, url: str, **options: Any) -> "Client":
        """``Client(url, **options)``."""
        return cls(url, **options)

    def __repr__(self) -> str:
        return f"<redisx.Client prefix={self.prefix!r}{' closed' if self._closed else ''}>"

    # -- lifetime ----------------------------------------------------------------

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        """Stops lock waits and renewals, lets commands already sent finish
        within their timeout, fails everything else with ClientClosed, and
        stops the I/O thread (redisx_client_shutdown: calls racing it on
        other threads raise ClientClosed; the handle is freed when this
        object is finalized). Idempotent. Locks stay usable objects (their
        operations raise ClientClosed). Raises WouldBlock when called from
        one of this client's own callbacks."""
        ctx = self._ctx
        if ctx is None:
            return
        if _c.pyx_ctx_in_callback(ctx):
            # Another thread may be closing and joining this very thread.
            raise make_error("ERR_WOULDBLOCK", "close() from a callback of the same client")
        with self._close_lock:
            if self._closed:
                return
            _c.pyx_ctx_close(ctx, 0)
            self._closed = True
            self._renewing.clear()  # renewal stopped with the close
            _holding.discard(self)
        self._settle()
        self._stop_notifier()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, et: Any, ev: Any, tb: Any) -> None:
        self.close()

    async def __aenter__(self) -> "Client":
        return self

    async def __aexit__(self, et: Any, ev: Any, tb: Any) -> None:
        self.close()

    async def aclose(self) -> None:
        """``close()``; it blocks the loop only while the I/O thread stops."""
        self.close()

    def __del__(self) -> None:
        ctx = getattr(self, "_ctx", None)
        if ctx is None:
            return
        try:
            _c.pyx_ctx_close(ctx, 1)
            self._closed = True
            self._stop_notifier()
            _c.pyx_ctx_discard_all(ctx)
            _c.pyx_ctx_free(ctx)  # 0: closed from its own I/O thread, it lives on
            self._ctx = None
        except Exception:  # interpreter shutdown
            pass

    # -- logs and states -------------------------------------------------------

    def _start_notifier(self) -> None:
        """A daemon thread that drains the queue while no asyncio loop or
        blocking call does, so that log lines and state changes arrive on
        their own. It holds only a weak reference to the client, on its own
        duplicate of the queue's fd, and stops when woken through a pipe."""
        wake_r, wake_w = os.pipe()
        fd = os.dup(self._fd)
        self._wake = (wake_r, wake_w)
        t = threading.Thread(target=_notify_loop, args=(weakref.ref(self), fd, wake_r),
                             name="redisx-notify", daemon=True)
        self._notifier = t
        t.start()

    def _stop_notifier(self) -> None:
        t, wake = self._notifier, self._wake
        if t is None or wake is None:
            return
        self._notifier = self._wake = None
        try:
            os.write(wake[1], b"x")
        except OSError:
            pass
        if t is not threading.current_thread():
            t.join()
        os.close(wake[1])

    def _forget_renewal(self, lk: Lock) -> None:
        self._renewing.pop(id(lk), None)
        if not self._renewing:
            _holding.discard(self)

    def _notify(self, value: Tuple[Any, ...]) -> None:
        try:
            if value[0] == "log":
                if self._on_log is not None:
                    level = value[1]
                    self._on_log(LogEntry(_LOG_LEVELS[level] if 0 <= level < len(_LOG_LEVELS) else str(level),
                                          value[2] or ""))
            elif self._on_state is not None:
                state = value[2]
                self._on_state(StateChange(value[1], _CONN_STATES[state] if 0 <= state < len(_CONN_STATES)
                                           else str(state), value[3] or "", value[4]))
        except Exception:
            et, ev, tb = sys.exc_info()
            sys.unraisablehook(types.SimpleNamespace(exc_type=et, exc_value=ev, exc_traceback=tb,
                                                     err_msg="Exception in redisx on_log/on_state handler",
                                                     object=self._on_log if value[0] == "log" else self._on_state))

    def _ctx_or_raise(self) -> Any:
        ctx = self._ctx
        if ctx is None:
            raise make_error("ERR_CLOSED", "client is closed")
        return ctx

    # -- locks, blocking -----------------------------------------------------------

    def acquire(self, name: Name, ttl: float = 10.0, wait: float = DEFAULT_WAIT) -> Lock:
        """Acquires lock ``name`` for ``ttl`` seconds, retrying (jittered
        backoff in the core) for up to ``wait`` seconds (default 10, as in
        every binding; 0: one attempt); LockHeld when it stayed held. The GIL
        is released while waiting."""
        if self._pending:
            self._reap()
        ttl_ms, wait_ms = _ms(ttl, "ttl"), _ms(wait, "wait")
        instr = self._instr
        if instr is not None:
            return _ins.call(instr, _ins.acquire_op(wait_ms), None, self._acquire, name, ttl_ms, wait_ms)
        return Lock(self, _c.pyx_acquire(self._ctx_or_raise(), name, ttl_ms, wait_ms))

    def _acquire(self, name: Name, ttl_ms: int, wait_ms: int) -> Lock:
        return Lock(self, _c.pyx_acquire(self._ctx_or_raise(), name, ttl_ms, wait_ms))

    lock = acquire  # ``with client.lock("name", ttl=5.0, wait=10.0) as lk:``

    def try_lock(self, name: Name, ttl: float = 10.0) -> Lock:
        """One attempt: the Lock, or LockHeld."""
        if self._pending:
            self._reap()
        ttl_ms = _ms(ttl, "ttl")
        instr = self._instr
        if instr is not None:
            return _ins.call(instr, _ins.LOCK_TRY_ACQUIRE, None, self._acquire, name, ttl_ms, 0)
        return Lock(self, _c.pyx_acquire(self._ctx_or_raise(), name, ttl_ms, 0))

    def lock_info(self, name: Name) -> LockInfo:
        """Who holds ``name`` right now."""
        if self._pending:
            self._reap()
        instr = self._instr
        if instr is not None:
            return _ins.call(instr, _ins.LOCK_INSPECT, None, lambda: LockInfo(*_c.pyx_inspect(self._ctx_or_raise(), name)))
        return LockInfo(*_c.pyx_inspect(self._ctx_or_raise(), name))

    # -- raw commands -----------------------------------------------------------

    def execute(self, *args: Arg) -> Any:
        """Runs one command (not a blocking one such as BLPOP). Arguments:
        bytes, str (UTF-8), int, float or buffers. Returns bytes for bulk
        strings, str for status replies ("OK"), int, None, or a list; an
        error reply raises ServerError."""
        if self._pending:
            self._reap()
        instr = self._instr
        if instr is not None:
            return _ins.call(instr, _ins.COMMAND, _ins.command_name(args), _c.pyx_command, self._ctx_or_raise(), args)
        return _c.pyx_command(self._ctx_or_raise(), args)

    # -- streams (redisx._stream) ---------------------------------------------------

    def publish(self, stream: str, payload: Any = _stream._NO_PAYLOAD, *, fields: Any = None, headers: Any = None,
                codec: Any = None, maxlen: Optional[int] = None, maxage: Optional[float] = None) -> str:
        """Appends one message to ``stream`` and returns its id: ``payload``
        encoded by ``codec`` ("json" by default, "bytes", or an object with
        name/dumps/loads), ``headers`` (str -> bytes/str) and plain
        ``fields``; trimmed to about ``maxlen`` entries or ``maxage`` seconds."""
        return _stream.publish(self, stream, payload, fields, headers, codec, maxlen, maxage)

    def publish_batch(self, stream: str, messages: Any, *, codec: Any = None, maxlen: Optional[int] = None,
                      maxage: Optional[float] = None) -> List[str]:
        """Appends many messages in one round trip (atomic, ids in order):
        each a payload, or a dict with "payload"/"fields"/"headers"/"codec"."""
        return _stream.publish_batch(self, stream, messages, maxlen, maxage, codec)

    def create_group(self, stream: str, group: str, start: str = "$") -> None:
        """Creates consumer group ``group`` on ``stream`` (MKSTREAM) reading
        from ``start`` ("$": new entries, "0": all); an existing group is fine."""
        _c.redisx_group_create(_c.pyx_ctx_client(self._ctx_or_raise()), stream, group, start)

    def consumer(self, stream: str, group: str, name: Optional[str] = None, **options: Any) -> "_stream.Consumer":
        """A consumer of ``group`` on ``stream`` (redisx.Consumer): options
        max_in_flight, max_deliveries, retry_backoff=(min, max) seconds,
        min_idle, reclaim_interval, block, delete_idle (seconds), codecs."""
        return _stream.make_consumer(self, stream, group, name, options)

    def dead_letters(self, stream: str, count: int = 100, *, newest_first: bool = False,
                     after: Optional[str] = None) -> List["_stream.DeadLetterEntry"]:
        """Up to ``count`` entries of ``stream``'s dead-letter stream
        (redisx.DeadLetterEntry), oldest first; ``after`` pages on."""
        return _stream.dead_letters(self, stream, count, newest_first, after)

    def requeue_dead_letter(self, stream: str, dlq_id: str) -> str:
        """Puts DLQ entry ``dlq_id`` back on ``stream`` as a new entry (with
        rx-requeued-from = the original id) and removes it from the DLQ, in
        one script; returns the new id. Empty when there is no such entry."""
        return _stream.requeue_dead_letter(self, stream, dlq_id)

    def dead_letter(self, stream: str, dlq_id: str) -> "_stream.DeadLetterEntry":
        """DLQ entry ``dlq_id`` of ``stream`` (as dead_letters() gives them);
        Empty when there is none."""
        return _stream.dead_letter(self, stream, dlq_id)

    def group_info(self, stream: str, group: str) -> "_stream.GroupInfo":
        """The state of consumer group ``group`` on ``stream`` (consumers,
        pending, lag, entries_read, last_delivered_id; lag and entries_read
        None when Redis cannot tell); Empty when there is no such group."""
        return _stream.group_info(self, stream, group)

    def purge_dead_letters(self, stream: str, up_to: Optional[str] = None) -> int:
        """Deletes the DLQ entries of ``stream`` (all, or up to and including
        ``up_to``); returns how many."""
        return _stream.purge_dead_letters(self, stream, up_to)

    def stream_handler(self, stream: str, group: str, *, workers: int = 4, name: Optional[str] = None,
                       **options: Any) -> Callable[[Callable[..., Any]], "_stream.Consumer"]:
        """Decorator: ``@client.stream_handler("orders", "billing")`` turns the
        function into a Consumer with it as handler; ``.run()`` (threads) or
        ``await .run_async()`` (for an ``async def``) consumes, ``.stop()`` ends."""
        def decorate(fn: Callable[..., Any]) -> "_stream.Consumer":
            cons = self.consumer(stream, group, name, **options)
            cons.handler(fn, workers=workers)
            return cons
        return decorate

    # -- rate limits ---------------------------------------------------------------

    def limiter(self, name: Name, algorithm: str, limit: int, period: float, *, burst: int = 0,
                fail_open: Optional[bool] = None) -> Limiter:
        """A rate limiter: ``limit`` units per ``period`` seconds per key.
        ``algorithm``: "fixed_window", "sliding_log", "sliding_window",
        "token_bucket" or "gcra". ``burst`` is the bucket size of token_bucket
        and gcra (0: ``limit``); the window algorithms take 0 or ``limit``.
        ``fail_open`` overrides the client's fail policy for this limiter
        (None keeps it; the default is to fail open)."""
        policy = -1 if fail_open is None else (_c.REDISX_FAIL_OPEN if fail_open else _c.REDISX_FAIL_CLOSED)
        period_ms = _ms(period, "period")
        h = _c.pyx_limiter_new(self._ctx_or_raise(), name, _algorithm_code(algorithm), limit, period_ms, burst,
                               policy)
        return Limiter(self, h, name if isinstance(name, str) else name.decode("utf-8", "surrogateescape"),
                       algorithm, limit, period, burst)

    # -- cache ------------------------------------------------------------------------

    def cache(self, name: Name, *, codec: Any = None, ttl: float = 60.0, wait: float = 10.0, swr: float = 0.0,
              sie: float = 0.0, l1_entries: Optional[int] = None, l1_bytes: Optional[int] = None,
              l1_ttl: Optional[float] = None, max_value_bytes: Optional[int] = None,
              negative_ttl: Optional[float] = None, lease: Optional[float] = None, stale: Optional[float] = None,
              jitter: Optional[float] = None, xfetch_beta: Optional[float] = None,
              fail_open: Optional[bool] = None, memoize: bool = False,
              tracking: Optional[bool] = None) -> Cache:
        """A two-tier cache named ``name`` (see Cache and docs/CACHE.md).
        ``codec``: "json" (default), "bytes", "str" or an object with
        dumps/loads. ``ttl``, ``wait``, ``swr``, ``sie``: the defaults of
        the calls, in seconds. The rest are the core's settings (None keeps
        its default): L1 bounds (``l1_entries``, 0 turns the L1 off;
        ``l1_bytes``; ``l1_ttl`` seconds), the largest value, the TTL of a
        cached "not found", the load lease, the stale window, the TTL
        jitter fraction, XFetch's beta and the fail policy. ``memoize``:
        ``get`` decodes each L1 copy once and hands out the same object
        (read-only by convention) on later hits. ``tracking``: keep the L1
        coherent across processes with Redis' client tracking (off by
        default; docs/CACHE.md "The L1 in the cache, and its coherence"):
        another process's write or tag invalidation drops this process's
        copies within milliseconds instead of the L1 TTL."""
        codec = _codec_of(codec)
        def opt_ms(v: Optional[float], what: str) -> int:
            return -1 if v is None else _ms(v, what)
        def opt_int(v: Optional[int], what: str) -> int:
            if v is None:
                return -1
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                raise make_error("ERR_INVALID", f"{what} must be an int >= 0, got {v!r}")
            return v
        nan = float("nan")
        policy = -1 if fail_open is None else (_c.REDISX_FAIL_OPEN if fail_open else _c.REDISX_FAIL_CLOSED)
        for what, v in (("ttl", ttl), ("wait", wait), ("swr", swr), ("sie", sie)):
            _ms(v, what)
        h = _c.pyx_cache_new(self._ctx_or_raise(), name, opt_int(l1_entries, "l1_entries"),
                             opt_int(l1_bytes, "l1_bytes"), opt_ms(l1_ttl, "l1_ttl"),
                             opt_int(max_value_bytes, "max_value_bytes"), opt_ms(negative_ttl, "negative_ttl"),
                             opt_ms(lease, "lease"), opt_ms(stale, "stale"),
                             nan if jitter is None else float(jitter),
                             nan if xfetch_beta is None else float(xfetch_beta), policy,
                             -1 if tracking is None else int(_flag(tracking, "tracking")))
        return Cache(self, h, name if isinstance(name, str) else name.decode("utf-8", "surrogateescape"), codec,
                     ttl, wait, swr, sie, bool(memoize))

    # -- idempotency -----------------------------------------------------------------

    def idempotency_begin(self, key: Name, fingerprint: Any = b"", *, lease: float = 30.0, wait: float = 0.0,
                          ttl: float = 86400.0) -> IdempotencyRecord:
        """Looks up or creates the idempotency record of ``key``:
        ``fingerprint`` (bytes or str; e.g. a hash of the request) tells
        requests apart (another one answers MISMATCH). A NEW record is
        leased to this caller for ``lease`` seconds; with ``wait`` > 0 an
        IN_PROGRESS record is waited on (GIL released) until it completes,
        fails or its lease passes. ``ttl``: the default of ``complete()``.
        Use the record with ``with`` (see IdempotencyRecord)."""
        if self._pending:
            self._reap()
        args = _begin_args(key, fingerprint, lease, wait)
        instr = self._instr
        if instr is not None:
            return _ins.call(instr, _ins.IDEM_BEGIN, None,
                             lambda: IdempotencyRecord(self, _c.pyx_idem_begin(self._ctx_or_raise(), *args), ttl))
        h = _c.pyx_idem_begin(self._ctx_or_raise(), *args)
        return IdempotencyRecord(self, h, ttl)

    idempotency = idempotency_begin  # ``with client.idempotency(key, fp) as rec:``

    async def idempotency_begin_async(self, key: Name, fingerprint: Any = b"", *, lease: float = 30.0,
                                      wait: float = 0.0, ttl: float = 86400.0) -> IdempotencyRecord:
        """``idempotency_begin()`` for asyncio."""
        _ms(ttl, "ttl")
        args = (self._ctx_or_raise(), *_begin_args(key, fingerprint, lease, wait))
        instr = self._instr
        rec: IdempotencyRecord
        if instr is not None:
            rec = await _ins.traced_async(instr, _ins.IDEM_BEGIN, None,
                                          lambda: self._submit("idem", _c.pyx_idem_begin_async, args))
        else:
            rec = await self._submit("idem", _c.pyx_idem_begin_async, args)
        rec.ttl = ttl
        return rec

    def idempotency_async(self, key: Name, fingerprint: Any = b"", *, lease: float = 30.0, wait: float = 0.0,
                          ttl: float = 86400.0) -> _AsyncIdempotency:
        """``async with client.idempotency_async(key, fp) as rec:`` (or await it)."""
        return _AsyncIdempotency(self, (key, fingerprint), dict(lease=lease, wait=wait, ttl=ttl))

    def idempotent(self, key: Any, *, fingerprint: Any = None, lease: float = 30.0, ttl: float = 86400.0,
                   wait: float = 0.0, codec: Any = None) -> Callable[[Any], Any]:
        """Decorator: runs the function once per idempotency key and replays
        its stored result to duplicates. ``key`` and ``fingerprint`` are
        fixed str/bytes or callables given the call's arguments (no
        fingerprint by default). The result is stored with ``codec``
        (``dumps(value) -> bytes``, ``loads(bytes) -> value``; compact JSON by
        default) for ``ttl`` seconds. A duplicate that finds the key still
        in progress after ``wait`` seconds raises IdempotencyInProgress, one
        with another fingerprint IdempotencyMismatch. When the function
        raises, the record is failed so a retry runs it again. Works on
        ``async def`` functions too."""
        return idempotent_decorator(self, key, fingerprint, lease, ttl, wait, codec)

    # -- observability -----------------------------------------------------------

    def stats(self) -> Dict[str, Dict[str, Any]]:
        """A snapshot of the core's counters and latency histograms:
        ``{"lock.acquire": {"calls", "ok", "rejected", "errors", "timeouts",
        "fail_open", "round_trips", "p50_ns", "p90_ns", "p99_ns", "buckets"},
        ..., "client": {"connects", ..., "in_flight", "connections_up"}}``.
        ``buckets`` lists (upper bound in ns, count) of the non-empty latency
        buckets."""
        s = _c.pyx_stats(self._ctx_or_raise())
        try:
            out: Dict[str, Dict[str, Any]] = {}
            nb = _c.redisx_stats_buckets(s)
            for i in range(_c.redisx_stats_series(s)):
                series: Dict[str, Any] = {name: _c.redisx_stats_counter(s, i, code) for name, code in _COUNTERS}
                for q, label in _QUANTILES:
                    series[label] = _c.redisx_stats_quantile_ns(s, i, q)
                buckets = []
                for b in range(nb):
                    n = _c.redisx_stats_bucket_count(s, i, b)
                    if n:
                        buckets.append((_c.redisx_stats_bucket_upper_ns(s, b), n))
                series["buckets"] = buckets
                out[f"{_c.redisx_stats_primitive(s, i)}.{_c.redisx_stats_operation(s, i)}"] = series
            out["client"] = {name: _c.redisx_stats_client(s, code) for name, code in _CLIENT_COUNTERS}
            return out
        finally:
            _c.redisx_stats_free(s)

    # -- asyncio -------------------------------------------------------------------

    async def acquire_async(self, name: Name, ttl: float = 10.0, wait: float = DEFAULT_WAIT) -> Lock:
        """``acquire()`` for asyncio, on the core's asynchronous call."""
        args = (self._ctx_or_raise(), name, _ms(ttl, "ttl"), _ms(wait, "wait"))
        instr = self._instr
        if instr is not None:
            return await _ins.traced_async(instr, _ins.acquire_op(args[3]), None,  # type: ignore[no-any-return]
                                           lambda: self._submit("lock", _c.pyx_acquire_async, args))
        lk: Lock = await self._submit("lock", _c.pyx_acquire_async, args)
        return lk

    async def try_lock_async(self, name: Name, ttl: float = 10.0) -> Lock:
        """``try_lock()`` for asyncio."""
        args = (self._ctx_or_raise(), name, _ms(ttl, "ttl"), 0)
        instr = self._instr
        if instr is not None:
            return await _ins.traced_async(instr, _ins.LOCK_TRY_ACQUIRE, None,  # type: ignore[no-any-return]
                                           lambda: self._submit("lock", _c.pyx_acquire_async, args))
        lk: Lock = await self._submit("lock", _c.pyx_acquire_async, args)
        return lk

    def lock_async(self, name: Name, ttl: float = 10.0, wait: float = DEFAULT_WAIT) -> _AsyncLock:
        """``async with client.lock_async("name", ttl=5) as lk:`` (or await it)."""
        return _AsyncLock(self, (name, ttl, wait))

    async def lock_info_async(self, name: Name) -> LockInfo:
        """``lock_info()`` for asyncio."""
        args = (self._ctx_or_raise(), name)
        instr = self._instr
        if instr is not None:
            return await _ins.traced_async(instr, _ins.LOCK_INSPECT, None,  # type: ignore[no-any-return]
                                           lambda: self._submit("info", _c.pyx_inspect_async, args))
        info: LockInfo = await self._submit("info", _c.pyx_inspect_async, args)
        return info

    async def execute_async(self, *args: Arg) -> Any:
        """``execute()`` for asyncio."""
        call = (self._ctx_or_raise(), args)
        instr = self._instr
        if instr is not None:
            return await _ins.traced_async(instr, _ins.COMMAND, _ins.command_name(args),
                                           lambda: self._submit("value", _c.pyx_command_async, call))
        return await self._submit("value", _c.pyx_command_async, call)

    def _submit(self, kind: str, call: Callable[..., Any], args: Tuple[Any, ...]) -> "asyncio.Future[Any]":
        loop = asyncio.get_running_loop()
        fut = _Op(loop=loop)
        tag = next(self._tags)
        fut._client = self
        fut._tag = tag
        self._pending[tag] = (fut, kind)
        try:
            call(*args, tag)
        except BaseException:
            self._pending.pop(tag, None)  # a racing close() may have settled it
            fut._client = None
            raise
        n = self._loop_pending.get(loop, 0)
        if n == 0:
            loop.add_reader(self._fd, self._on_readable, loop)
        self._loop_pending[loop] = n + 1
        return fut

    def _reap(self) -> None:
        """Pops what is waiting in the queue. Loops pop their own completions;
        this catches those of loops that stopped or closed with operations
        in flight (a lock that completed for nobody is released at once)."""
        ctx = self._ctx
        if ctx is not None:
            self._dispatch(_c.pyx_ctx_drain(ctx, 4096), asyncio._get_running_loop())

    def _on_readable(self, loop: asyncio.AbstractEventLoop) -> None:
        ctx = self._ctx
        if ctx is not None:
            self._dispatch(_c.pyx_ctx_drain(ctx, 4096), loop)

    def _dispatch(self, items: List[Tuple[int, bool, Any]], here: Optional[asyncio.AbstractEventLoop]) -> None:
        pending = self._pending
        for tag, ok, value in items:
            if tag is None:  # a log line or a state change
                self._notify(value)
                continue
            entry = pending.pop(tag, None)
            if entry is None:
                if ok and isinstance(value, _SwigPointer):
                    _c.pyx_discard(value)  # a lock released, a NEW record failed
                continue
            fut, kind = entry
            floop = fut.get_loop()
            if floop is here:
                self._complete(floop, fut, kind, ok, value)
                continue
            try:
                floop.call_soon_threadsafe(self._complete, floop, fut, kind, ok, value)
            except RuntimeError:  # that loop is closed: nobody waits any more
                self._loop_pending.pop(floop, None)
                if ok and kind in _HANDLE_KINDS:
                    _c.pyx_discard(value)

    def _complete(self, loop: asyncio.AbstractEventLoop, fut: "asyncio.Future[Any]", kind: str, ok: bool,
                  value: Any) -> None:
        """Runs on the future's loop."""
        fut._client = None  # type: ignore[attr-defined]  # completed: nothing left to cancel
        try:
            if fut.done():
                # Cancelled. Normally this is the core's CANCELLED completion
                # (ignored); a result that beat the cancel is given back.
                if ok and kind in _HANDLE_KINDS:
                    _c.pyx_discard(value)
            elif not ok:
                fut.set_exception(value)
            elif kind == "lock":
                fut.set_result(Lock(self, value))
            elif kind == "info":
                fut.set_result(LockInfo(*value))
            elif kind == "ratelimit":
                fut.set_result(RateLimitResult(*value))
            elif kind == "idem":
                fut.set_result(IdempotencyRecord(self, value))
            else:
                fut.set_result(value)
        finally:
            n = self._loop_pending.get(loop, 0) - 1
            if n > 0:
                self._loop_pending[loop] = n
            else:
                self._loop_pending.pop(loop, None)
                if not loop.is_closed():
                    loop.remove_reader(self._fd)

    def _settle(self) -> None:
        """After close: every operation has completed into the queue; hand
        the completions to their loops, and fail anything left over."""
        ctx = self._ctx
        if ctx is None:
            return
        try:
            here: Optional[asyncio.AbstractEventLoop] = asyncio.get_running_loop()
        except RuntimeError:
            here = None
        self._dispatch(_c.pyx_ctx_drain(ctx, 1 << 30), here)
        for tag in list(self._pending):
            entry = self._pending.pop(tag, None)
            if entry is None:
                continue
            fut, kind = entry
            err = make_error("ERR_CLOSED", "client closed before the operation completed")
            self._dispatch_one(fut, kind, err, here)

    def _dispatch_one(self, fut: "asyncio.Future[Any]", kind: str, err: RedisxError,
                      here: Optional[asyncio.AbstractEventLoop]) -> None:
        floop = fut.get_loop()
        if floop is here:
            self._complete(floop, fut, kind, False, err)
            return
        try:
            floop.call_soon_threadsafe(self._complete, floop, fut, kind, False, err)
        except RuntimeError:
            self._loop_pending.pop(floop, None)


__all__ = ["Client", "Cache", "Lock", "LockInfo", "Event", "LogEntry", "StateChange", "ClientClosed", "InvalidArgument", "Limiter", "RateLimitResult",
           "IdempotencyRecord"]
