"""The two-tier cache: Cache (from ``Client.cache``), codecs, NotFound and the
``cached`` decorator.

L1, L2, single flight across processes, stale-while-revalidate,
stale-if-error, XFetch and the fail policy are the C core's (core/cache.c,
docs/CACHE.md); a Cache here holds the core's handle, encodes and decodes
values with its codec, and runs the caller's loader between the core's two
phases (fetch, then fill / fill_negative / abandon).
"""

from __future__ import annotations

import contextlib
import functools
import inspect
from typing import (TYPE_CHECKING, Any, Awaitable, Callable, Iterable, NamedTuple, Optional, Tuple, TypeVar, Union,
                    cast)

from . import _instrument as _ins
from . import _rawc as _c
from ._errors import LockNotOwned, RedisxError, make_error
from ._idempotency import JSONCodec

if TYPE_CHECKING:  # pragma: no cover
    from ._client import Client

Key = Union[str, bytes]
Tag = Union[str, bytes]
F = TypeVar("F", bound=Callable[..., Any])

_HIT = _c.REDISX_CACHE_HIT
_NEGATIVE = _c.REDISX_CACHE_NEGATIVE
_LAYERS = {_c.REDISX_CACHE_LAYER_NONE: None, _c.REDISX_CACHE_LAYER_L1: "l1", _c.REDISX_CACHE_LAYER_L2: "l2"}
_MISSING = object()


def _inside(scope: Any, fn: Callable[[], Any]) -> Any:
    with scope.use():
        return fn()


def _outcome(t: Tuple[Any, ...]) -> str:
    """The core's outcome identifier of an answer
    (redisx_cache_entry_outcome), for the instrumentation hook."""
    return t[8]


_MEMO_MAX = 4096  # memoised decoded values per cache (cleared when full)

#: The cache's counters by name, in the core's order (redisx_cache_counter).
COUNTERS = ("l1_hits", "l1_misses", "l2_hits", "l2_misses", "loads", "load_errors", "waiters_woken",
            "stale_served", "early_refreshes", "fail_open", "l1_evictions", "l1_entries", "l1_bytes",
            "invalidations")


class NotFound(KeyError):
    """Raised by a loader to say the key has no value: ``get_or_load`` then
    caches "not found" for the cache's negative TTL and raises NotFound, as
    it does for a cached "not found". Not a RedisxError: it is an answer,
    not a failure."""

    def __init__(self, key: Any = None) -> None:
        super().__init__(key)
        self.key = key


class Codec:
    """Turns values into bytes and back: ``dumps(value) -> bytes``,
    ``loads(bytes) -> value``. Any object with those two methods works; the
    default is JSONCodec (compact UTF-8 JSON), the format every redisx
    language reads, so a value cached by Python is read by Node and Go."""

    name = "custom"

    def dumps(self, value: Any) -> bytes:  # pragma: no cover - interface
        raise NotImplementedError

    def loads(self, data: bytes) -> Any:  # pragma: no cover - interface
        raise NotImplementedError


class BytesCodec(Codec):
    """Values are bytes (any buffer in, bytes out)."""

    name = "bytes"

    def dumps(self, value: Any) -> bytes:
        if isinstance(value, bytes):
            return value
        if isinstance(value, (bytearray, memoryview)):
            return bytes(value)
        raise make_error("ERR_INVALID", f"the bytes codec takes bytes, got {type(value).__name__}")

    def loads(self, data: bytes) -> Any:
        return data


class StrCodec(Codec):
    """Values are str, stored as UTF-8."""

    name = "str"

    def dumps(self, value: Any) -> bytes:
        if not isinstance(value, str):
            raise make_error("ERR_INVALID", f"the str codec takes str, got {type(value).__name__}")
        return value.encode("utf-8")

    def loads(self, data: bytes) -> Any:
        return data.decode("utf-8")


CODECS = {"json": JSONCodec(), "bytes": BytesCodec(), "str": StrCodec()}


def _codec_of(codec: Any) -> Any:
    if codec is None:
        return CODECS["json"]
    if isinstance(codec, str):
        c = CODECS.get(codec)
        if c is None:
            raise make_error("ERR_INVALID", f"codec must be one of {', '.join(CODECS)} or an object with "
                                            f"dumps/loads; got {codec!r}")
        return c
    if not (callable(getattr(codec, "dumps", None)) and callable(getattr(codec, "loads", None))):
        raise make_error("ERR_INVALID", "a codec needs dumps(value) -> bytes and loads(bytes) -> value")
    return codec


def _ms(seconds: Optional[float], what: str, default: int = -1) -> int:
    if seconds is None:
        return default
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds != seconds or seconds < 0:
        raise make_error("ERR_INVALID", f"{what} must be a number of seconds >= 0, got {seconds!r}")
    return int(round(seconds * 1000))


def _tags(tags: Optional[Iterable[Tag]]) -> Optional[Tuple[bytes, ...]]:
    """Tags as the core takes them: bytes (str as UTF-8); None for none. The
    bounds (1..1024 bytes a tag, 64 per entry) are the core's."""
    if tags is None:
        return None
    if isinstance(tags, (str, bytes)):
        tags = (tags,)
    out = []
    for t in tags:
        if isinstance(t, str):
            out.append(t.encode("utf-8"))
        elif isinstance(t, (bytes, bytearray, memoryview)):
            out.append(bytes(t))
        else:
            raise make_error("ERR_INVALID", f"a cache tag is str or bytes, got {type(t).__name__}")
    return tuple(out)


class CacheEntry(NamedTuple):
    """What ``Cache.lookup`` found: the decoded value (None for a miss or a
    cached "not found"), where it came from and how fresh it is."""

    found: bool  #: a value (fresh, or stale within the call's windows)
    value: Any
    negative: bool  #: a cached "not found"
    stale: bool  #: past its TTL (served under SWR or stale-if-error)
    fail_open: bool  #: Redis could not be reached; the fail-open policy answered
    layer: Optional[str]  #: "l1", "l2" or None
    ttl: float  #: seconds still fresh in the layer it came from (an L1 copy: at most the L1 TTL; negative: stale)


class Cache:
    """A cache bound to a client (``Client.cache(name, ...)``). Caches of one
    name share their L2 entries across processes and languages; each
    process keeps an L1 copy for at most ``l1_ttl`` seconds (1 s by default)
    since another process's set or delete reaches it only when it expires.

    ``get(key)`` looks up without loading; ``set(key, value, ttl)`` writes;
    ``delete(key)`` deletes (this process's L1 copy at once);
    ``get_or_load(key, loader)`` runs ``loader()`` once per key across every
    process when nobody has the value, the other callers waiting for it.
    ``set`` and ``get_or_load`` take ``tags=``; ``invalidate_tags(tags)``
    drops every entry carrying any of them, in every process and language
    (docs/CACHE.md, "Tags").
    Every call has an ``_async`` form for asyncio. Keys are str (UTF-8) or
    bytes, 1..1024 bytes without NUL; bad input raises InvalidArgument."""

    __slots__ = ("_client", "_h", "name", "codec", "ttl", "wait", "swr", "sie", "_memo", "__weakref__")

    def __init__(self, client: "Client", handle: Any, name: str, codec: Any, ttl: float, wait: float,
                 swr: float, sie: float, memoize: bool = False) -> None:
        self._client = client
        #: key -> (L1 value version, decoded value): get() decodes an L1 copy once
        self._memo: Optional[dict] = {} if memoize else None
        self._h = handle
        self.name = name
        self.codec = codec
        self.ttl = ttl
        self.wait = wait
        self.swr = swr
        self.sie = sie

    def __repr__(self) -> str:
        return f"<redisx.Cache {self.name!r} codec={getattr(self.codec, 'name', 'custom')} ttl={self.ttl:g}s>"

    # -- helpers -------------------------------------------------------------------

    def _ctx(self) -> Any:
        client = self._client
        if client._pending:
            client._reap()
        return client._ctx_or_raise()

    def _ttl_ms(self, ttl: Optional[float]) -> int:
        ms = _ms(self.ttl if ttl is None else ttl, "ttl")
        if ms < 1:
            raise make_error("ERR_INVALID", f"ttl must be at least 1 ms, got {ttl!r}")
        return ms

    def _windows(self, wait: Optional[float], swr: Optional[float], sie: Optional[float]) -> Tuple[int, int, int]:
        return (_ms(self.wait if wait is None else wait, "wait"), _ms(self.swr if swr is None else swr, "swr"),
                _ms(self.sie if sie is None else sie, "sie"))

    def _encode(self, value: Any) -> bytes:
        data = self.codec.dumps(value)
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise make_error("ERR_INVALID", f"codec.dumps must return bytes, got {type(data).__name__}")
        return bytes(data) if not isinstance(data, bytes) else data

    @staticmethod
    def _entry(t: Tuple[Any, ...], value: Any) -> CacheEntry:
        state, raw, stale, fail_open, layer, ttl_ms, _version, _lease, _outcome_id = t
        return CacheEntry(state == _HIT, value, state == _NEGATIVE, stale, fail_open, _LAYERS.get(layer),
                          ttl_ms / 1000.0)

    # -- blocking (the GIL is released while waiting) -------------------------------

    def lookup(self, key: Key) -> CacheEntry:
        """Looks ``key`` up without loading: a fresh value, a cached "not
        found" or nothing, with where it came from."""
        instr = self._client._instr
        if instr is not None:
            return _ins.call_scoped(instr, _ins.CACHE_GET, self.name, self._lookup, key)
        return self._lookup(key, None)

    def _lookup(self, key: Key, scope: Any) -> CacheEntry:
        t = _c.pyx_cache_fetch(self._ctx(), self._h, key, 0, 0, 0, 1, None)
        if scope is not None:
            scope.outcome(_outcome(t))
        return self._entry(t, self.codec.loads(t[1]) if t[0] == _HIT else None)

    def get(self, key: Key, default: Any = None) -> Any:
        """The fresh value of ``key``, or ``default`` (also for a cached "not
        found"). With ``memoize=True`` (Client.cache) an L1 copy is decoded
        once and the same object returned on every hit: do not modify it."""
        instr = self._client._instr
        if instr is not None:
            return _ins.call_scoped(instr, _ins.CACHE_GET, self.name, self._get, key, default)
        return self._get(key, default, None)

    def _get(self, key: Key, default: Any, scope: Any) -> Any:
        t = _c.pyx_cache_peek(self._h, key)  # an L1 hit: no context check, no GIL release
        if t is None:
            t = _c.pyx_cache_fetch(self._ctx(), self._h, key, 0, 0, 0, 1, None)
        if scope is not None:
            scope.outcome(_outcome(t))
        if t[0] != _HIT:
            return default
        memo = self._memo
        version = t[6]
        if memo is None or not version:
            return self.codec.loads(t[1])
        m = memo.get(key)
        if m is not None and m[0] == version:
            return m[1]
        value = self.codec.loads(t[1])
        if len(memo) >= _MEMO_MAX:
            memo.clear()
        memo[key] = (version, value)
        return value

    def set(self, key: Key, value: Any, ttl: Optional[float] = None, *,
            tags: Optional[Iterable[Tag]] = None) -> None:
        """Writes ``value`` for ``ttl`` seconds (the cache's default when
        None) to Redis and this process's L1; a load in progress can then no
        longer fill. ``tags``: str or bytes the entry carries, for
        ``invalidate_tags``."""
        ttl_ms = self._ttl_ms(ttl)
        tg = _tags(tags)
        instr = self._client._instr
        if instr is not None:
            _ins.call(instr, _ins.CACHE_SET, self.name,
                      lambda: _c.pyx_cache_write(self._ctx(), self._h, key, self._encode(value), ttl_ms, 0, tg))
            return
        _c.pyx_cache_write(self._ctx(), self._h, key, self._encode(value), ttl_ms, 0, tg)

    def invalidate_tags(self, tags: Iterable[Tag]) -> None:
        """Invalidates every entry carrying any of ``tags`` (str or bytes),
        written by any process in any language: once this returns no read
        from Redis answers such an entry and this process's L1 copies are
        gone; other processes' L1 copies go as after a delete (with
        tracking, when the server's message arrives; without, within their
        L1 TTL). One round trip per Redis node, whatever the number of
        entries. Raises when Redis cannot be reached (whatever the fail
        policy)."""
        t = _tags(tags)
        args = t if t is not None else ()
        instr = self._client._instr
        if instr is not None:
            _ins.call(instr, _ins.CACHE_INVALIDATE_TAGS, self.name,
                      lambda: _c.pyx_cache_invalidate_tags(self._ctx(), self._h, args))
            return
        _c.pyx_cache_invalidate_tags(self._ctx(), self._h, args)

    def delete(self, key: Key) -> None:
        """Deletes ``key`` from Redis and this process's L1, and ends any load
        in progress."""
        instr = self._client._instr
        if instr is not None:
            _ins.call(instr, _ins.CACHE_DELETE, self.name,
                      lambda: _c.pyx_cache_write(self._ctx(), self._h, key, None, 0, 1, None))
            return
        _c.pyx_cache_write(self._ctx(), self._h, key, None, 0, 1, None)

    def get_or_load(self, key: Key, loader: Callable[[], Any], ttl: Optional[float] = None, *,
                    wait: Optional[float] = None, swr: Optional[float] = None,
                    sie: Optional[float] = None, tags: Optional[Iterable[Tag]] = None) -> Any:
        """The value of ``key``; when nobody has it, ``loader()`` runs once
        across every process (the others wait up to ``wait`` seconds, then
        raise Timeout) and its result is cached for ``ttl`` seconds. A
        loader that raises NotFound caches "not found" (NotFound raised);
        any other exception caches nothing, lets a waiter take over, and
        propagates unless a stale value within ``sie`` seconds is there to
        serve. ``swr``: serve a value up to that long past its TTL while
        one caller refreshes it (this one, when chosen). ``tags``: the
        loaded value carries them; an ``invalidate_tags`` of one of them
        while the loader runs makes the value stale on arrival."""
        instr = self._client._instr
        if instr is not None:
            return _ins.call_scoped(instr, _ins.CACHE_FETCH, self.name, self._get_or_load, key, loader, ttl, wait,
                                    swr, sie, tags)
        return self._get_or_load(key, loader, ttl, wait, swr, sie, tags, None)

    def _get_or_load(self, key: Key, loader: Callable[[], Any], ttl: Optional[float], wait: Optional[float],
                     swr: Optional[float], sie: Optional[float], tags: Optional[Iterable[Tag]],
                     scope: Any) -> Any:
        ttl_ms = self._ttl_ms(ttl)
        ctx = self._ctx()
        t = _c.pyx_cache_fetch(ctx, self._h, key, *self._windows(wait, swr, sie), 0, _tags(tags))
        state, raw, lease = t[0], t[1], t[7]
        if scope is not None:
            scope.outcome(_outcome(t))
            if lease is not None:  # the loader runs inside the span: its spans are children
                loader = functools.partial(_inside, scope, loader)
        if state == _NEGATIVE:
            raise NotFound(key)
        fallback = self.codec.loads(raw) if raw is not None else _MISSING
        if lease is None:
            return fallback
        try:
            try:
                value = loader()
            except NotFound:
                _c.pyx_cache_fill(ctx, lease, None, 0, 1)
                raise
            except BaseException as e:
                _c.pyx_cache_abandon(ctx, lease)
                if fallback is _MISSING or not isinstance(e, Exception):
                    raise  # KeyboardInterrupt and the like are never turned into a stale answer
                return fallback  # stale-if-error, or the HIT that was to be refreshed
            self._fill(ctx, lease, value, ttl_ms)
            return value
        finally:
            _c.redisx_cache_entry_free(lease)

    def _fill(self, ctx: Any, lease: Any, value: Any, ttl_ms: int) -> None:
        try:
            _c.pyx_cache_fill(ctx, lease, self._encode(value), ttl_ms, 0)
        except LockNotOwned:
            pass  # the lease passed, or a set/delete ended the load: the value is still ours

    # -- asyncio ----------------------------------------------------------------------

    async def _fetch_async(self, key: Key, windows: Tuple[int, int, int], get: int,
                           tags: Optional[Tuple[bytes, ...]] = None) -> Tuple[Any, ...]:
        hit = _c.pyx_cache_peek(self._h, key)
        if hit is not None:
            return cast(Tuple[Any, ...], hit)
        client = self._client
        h = await client._submit("cache", _c.pyx_cache_fetch_async, (client._ctx_or_raise(), self._h, key, *windows,
                                                                    get, tags))
        return cast(Tuple[Any, ...], _c.pyx_cache_take(h))

    async def lookup_async(self, key: Key) -> CacheEntry:
        """``lookup()`` for asyncio (an L1 hit answers without a round trip)."""
        instr = self._client._instr
        if instr is not None:
            return await _ins.traced_async_scoped(instr, _ins.CACHE_GET, self.name,  # type: ignore[no-any-return]
                                                  lambda scope: self._lookup_async(key, scope))
        return await self._lookup_async(key, None)

    async def _lookup_async(self, key: Key, scope: Any) -> CacheEntry:
        t = await self._fetch_async(key, (0, 0, 0), 1)
        if scope is not None:
            scope.outcome(_outcome(t))
        return self._entry(t, self.codec.loads(t[1]) if t[0] == _HIT else None)

    async def get_async(self, key: Key, default: Any = None) -> Any:
        """``get()`` for asyncio."""
        instr = self._client._instr
        if instr is not None:
            return await _ins.traced_async_scoped(instr, _ins.CACHE_GET, self.name,
                                                  lambda scope: self._get_async(key, default, scope))
        return await self._get_async(key, default, None)

    async def _get_async(self, key: Key, default: Any, scope: Any) -> Any:
        t = await self._fetch_async(key, (0, 0, 0), 1)
        if scope is not None:
            scope.outcome(_outcome(t))
        return self.codec.loads(t[1]) if t[0] == _HIT else default

    async def set_async(self, key: Key, value: Any, ttl: Optional[float] = None, *,
                        tags: Optional[Iterable[Tag]] = None) -> None:
        """``set()`` for asyncio."""
        client = self._client
        ttl_ms = self._ttl_ms(ttl)
        args = (client._ctx_or_raise(), self._h, key, self._encode(value), ttl_ms, 0, _tags(tags))
        instr = client._instr
        if instr is not None:
            await _ins.traced_async(instr, _ins.CACHE_SET, self.name,
                                    lambda: client._submit("status", _c.pyx_cache_write_async, args))
            return
        await client._submit("status", _c.pyx_cache_write_async, args)

    async def delete_async(self, key: Key) -> None:
        """``delete()`` for asyncio."""
        client = self._client
        args = (client._ctx_or_raise(), self._h, key, None, 0, 1, None)
        instr = client._instr
        if instr is not None:
            await _ins.traced_async(instr, _ins.CACHE_DELETE, self.name,
                                    lambda: client._submit("status", _c.pyx_cache_write_async, args))
            return
        await client._submit("status", _c.pyx_cache_write_async, args)

    async def invalidate_tags_async(self, tags: Iterable[Tag]) -> None:
        """``invalidate_tags()`` for asyncio."""
        client = self._client
        t = _tags(tags)
        args = (client._ctx_or_raise(), self._h, t if t is not None else ())
        instr = client._instr
        if instr is not None:
            await _ins.traced_async(instr, _ins.CACHE_INVALIDATE_TAGS, self.name,
                                    lambda: client._submit("status", _c.pyx_cache_invalidate_tags_async, args))
            return
        await client._submit("status", _c.pyx_cache_invalidate_tags_async, args)

    async def get_or_load_async(self, key: Key, loader: Callable[[], Any], ttl: Optional[float] = None, *,
                                wait: Optional[float] = None, swr: Optional[float] = None,
                                sie: Optional[float] = None, tags: Optional[Iterable[Tag]] = None) -> Any:
        """``get_or_load()`` for asyncio: ``loader`` is an async function (or
        a function returning an awaitable, or a plain value)."""
        instr = self._client._instr
        if instr is not None:
            return await _ins.traced_async_scoped(
                instr, _ins.CACHE_FETCH, self.name,
                lambda scope: self._get_or_load_async(key, loader, ttl, wait, swr, sie, tags, scope))
        return await self._get_or_load_async(key, loader, ttl, wait, swr, sie, tags, None)

    async def _get_or_load_async(self, key: Key, loader: Callable[[], Any], ttl: Optional[float],
                                 wait: Optional[float], swr: Optional[float], sie: Optional[float],
                                 tags: Optional[Iterable[Tag]], scope: Any) -> Any:
        ttl_ms = self._ttl_ms(ttl)
        client = self._client
        t = await self._fetch_async(key, self._windows(wait, swr, sie), 0, _tags(tags))
        state, raw, lease = t[0], t[1], t[7]
        if scope is not None:
            scope.outcome(_outcome(t))
        if state == _NEGATIVE:
            raise NotFound(key)
        fallback = self.codec.loads(raw) if raw is not None else _MISSING
        if lease is None:
            return fallback
        try:
            try:
                with (scope.use() if scope is not None else contextlib.nullcontext()):
                    value = loader()
                    if inspect.isawaitable(value):
                        value = await value
            except NotFound:
                await client._submit("status", _c.pyx_cache_fill_async,
                                     (client._ctx_or_raise(), lease, None, 0, 1))
                raise
            except BaseException as e:
                if isinstance(e, Exception):
                    try:
                        await client._submit("status", _c.pyx_cache_abandon_async, (client._ctx_or_raise(), lease))
                    except RedisxError:
                        pass  # freeing the entry (below) abandons it too
                if fallback is _MISSING or not isinstance(e, Exception):
                    raise  # a cancelled task stays cancelled; freeing the entry abandons its lease
                return fallback
            try:
                await client._submit("status", _c.pyx_cache_fill_async,
                                     (client._ctx_or_raise(), lease, self._encode(value), ttl_ms, 0))
            except LockNotOwned:
                pass
            return value
        finally:
            _c.redisx_cache_entry_free(lease)

    # -- decorator ----------------------------------------------------------------------

    def cached(self, key: Union[None, Key, Callable[..., Key]] = None, ttl: Optional[float] = None, *,
               wait: Optional[float] = None, swr: Optional[float] = None,
               sie: Optional[float] = None,
               tags: Union[None, Iterable[Tag], Callable[..., Iterable[Tag]]] = None) -> Callable[[F], F]:
        """Decorator: the function's result is cached under ``key`` (a fixed
        key, a format string filled with the call's arguments such as
        ``"user:{0}"`` / ``"user:{id}"``, or a callable given the arguments;
        default: the qualified name and the repr of the arguments) through
        ``get_or_load``. ``tags``: a list of tags (str ones may be format
        strings as ``key``, e.g. ``["user:{0}"]``) or a callable given the
        arguments that returns them. Works on ``async def`` functions too."""
        if tags is None:
            tags_of: Callable[..., Optional[Iterable[Tag]]] = lambda *a, **k: None  # noqa: E731
        elif callable(tags):
            tags_of = tags
        else:
            tag_list = [tags] if isinstance(tags, (str, bytes)) else list(tags)
            tags_of = lambda *a, **k: [t.format(*a, **k) if isinstance(t, str) and "{" in t else t  # noqa: E731
                                       for t in tag_list]

        def decorate(fn: F) -> F:
            if key is None:
                base = f"{fn.__module__}.{fn.__qualname__}"
                key_of: Callable[..., Key] = lambda *a, **k: base + ":" + repr((a, sorted(k.items())))  # noqa: E731
            elif callable(key):
                key_of = key
            elif isinstance(key, str) and "{" in key:
                fmt = key
                key_of = lambda *a, **k: fmt.format(*a, **k)  # noqa: E731
            else:
                fixed = key
                key_of = lambda *a, **k: fixed  # noqa: E731

            if inspect.iscoroutinefunction(fn):
                afn = cast(Callable[..., Awaitable[Any]], fn)

                @functools.wraps(fn)
                async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                    return await self.get_or_load_async(key_of(*args, **kwargs), lambda: afn(*args, **kwargs), ttl,
                                                        wait=wait, swr=swr, sie=sie, tags=tags_of(*args, **kwargs))

                return cast(F, async_wrapper)

            @functools.wraps(fn)
            def wrapper(*args: Any, **kwargs: Any) -> Any:
                return self.get_or_load(key_of(*args, **kwargs), lambda: fn(*args, **kwargs), ttl, wait=wait,
                                        swr=swr, sie=sie, tags=tags_of(*args, **kwargs))

            return cast(F, wrapper)

        return decorate

    # -- observability ------------------------------------------------------------------

    def counters(self) -> dict:
        """The cache's counters and gauges by name (COUNTERS): hits and misses
        per layer, loads, load errors, waiters woken (stampedes avoided),
        stale served, early refreshes, fail-open answers, L1 evictions,
        entries and bytes."""
        return dict(zip(COUNTERS, _c.pyx_cache_counters(self._h)))

    def __del__(self) -> None:
        h = getattr(self, "_h", None)
        if h is None:
            return
        self._h = None
        try:
            _c.redisx_cache_free(h)
        except Exception:  # interpreter shutdown
            pass


def cached(cache: Cache, key: Union[None, Key, Callable[..., Key]] = None, ttl: Optional[float] = None,
           **windows: Optional[float]) -> Callable[[F], F]:
    """``cache.cached(key, ttl, ...)`` as a free function:
    ``@redisx.cached(cache, key="user:{0}", ttl=60)``."""
    return cache.cached(key, ttl, **windows)


__all__ = ["Cache", "CacheEntry", "Codec", "BytesCodec", "StrCodec", "CODECS", "COUNTERS", "NotFound",
           "cached"]
