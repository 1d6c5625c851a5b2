"""Rate limiting: Limiter, RateLimitResult, RateLimited and the ``limit``
decorator.

The algorithms, the key layout, the clock (the Redis server's) and the fail
policy all live in the C core (core/scripts/rl_*.lua); a Limiter here only
holds the core's limiter handle and turns results into a NamedTuple.
"""

from __future__ import annotations

import functools
import inspect
from typing import TYPE_CHECKING, Any, Awaitable, Callable, Dict, NamedTuple, Optional, TypeVar, Union, cast

from . import _instrument as _ins
from . import _rawc as _c
from ._errors import make_error

if TYPE_CHECKING:  # pragma: no cover
    from ._client import Client

Key = Union[str, bytes]
F = TypeVar("F", bound=Callable[..., Any])

#: The algorithm names shared by every language; the numbers are the core's.
ALGORITHMS: Dict[str, int] = {
    name: getattr(_c, "REDISX_RATELIMIT_" + name.upper())
    for name in ("fixed_window", "sliding_log", "sliding_window", "token_bucket", "gcra")
}
_ALGORITHM_NAMES = {code: name for name, code in ALGORITHMS.items()}


def _algorithm_code(algorithm: str) -> int:
    code = ALGORITHMS.get(algorithm) if isinstance(algorithm, str) else None
    if code is None:
        raise make_error("ERR_INVALID", f"algorithm must be one of {', '.join(ALGORITHMS)}; got {algorithm!r}")
    return code


class RateLimitResult(NamedTuple):
    """What a check (or peek) answered. Times are in milliseconds, as the
    core reports them; ``reset`` and ``retry_after`` give seconds."""

    allowed: bool  #: the check was allowed and its cost spent
    limit: int  #: the limiter's capacity (X-RateLimit-Limit)
    remaining: int  #: units still available after this check
    reset_ms: int  #: until the key's budget is whole again; 0 when whole now
    retry_after_ms: int  #: denied: until the same cost can be allowed; -1 when allowed
    fail_open: bool  #: Redis was unreachable or too slow and the fail-open policy allowed it; a check that
    #: timed out may or may not have been counted by the server

    @property
    def reset(self) -> float:
        """``reset_ms`` in seconds."""
        return self.reset_ms / 1000.0

    @property
    def retry_after(self) -> Optional[float]:
        """``retry_after_ms`` in seconds; None when allowed."""
        return None if self.retry_after_ms < 0 else self.retry_after_ms / 1000.0

    def headers(self) -> Dict[str, str]:
        """The standard response headers (the same rule in every language):
        X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset (whole
        seconds from now, rounded up) and, only when denied, Retry-After
        (whole seconds, at least 1)."""
        # The rule is the core's (redisx_http_ratelimit_answer), as in every
        # language; the 429's own Content-Type is not one of these headers.
        _, headers, _ = _c.redisx_http_ratelimit_answer(int(bool(self.allowed)), int(self.limit),
                                                        int(self.remaining), int(self.reset_ms),
                                                        max(0, int(self.retry_after_ms)))
        return {k: v for k, v in headers if k != "Content-Type"}


def rate_limit_headers(result: RateLimitResult) -> Dict[str, str]:
    """``result.headers()``."""
    return result.headers()


class RateLimited(Exception):
    """Raised by ``Limiter.limit``-decorated functions when the check is
    denied; ``result`` is the RateLimitResult, ``key`` the key checked."""

    def __init__(self, result: RateLimitResult, key: Optional[Key] = None) -> None:
        super().__init__(result, key)
        self.result = result
        self.key = key

    @property
    def retry_after(self) -> Optional[float]:
        """Seconds until the same cost can be allowed."""
        return self.result.retry_after

    @property
    def headers(self) -> Dict[str, str]:
        return self.result.headers()

    def __str__(self) -> str:
        return f"rate limited (key {self.key!r}): retry after {self.result.retry_after_ms} ms"

    def __reduce__(self) -> Any:
        return (type(self), (self.result, self.key))


class Limiter:
    """A limiter definition bound to a client (``Client.limiter``): ``limit``
    units per ``period`` seconds for each key. Limiters with the same name,
    algorithm and parameters in any process and language (same prefix and
    database) share one budget per key.

    ``check(key, cost)`` spends ``cost`` units if all are available (a denied
    check spends nothing); ``peek(key)`` answers what a check of cost 1 would,
    spending nothing; ``reset(key)`` gives the key its whole budget back.
    A cost above ``capacity`` or below 1 raises InvalidArgument. When Redis
    is unreachable the fail policy decides: fail open (the core's default)
    allows with ``fail_open=True``; fail closed raises ConnectionError or
    Timeout."""

    __slots__ = ("_client", "_h", "name", "algorithm", "quota", "period", "burst", "capacity", "__weakref__")

    name: str
    algorithm: str
    quota: int
    period: float
    burst: int
    capacity: int

    def __init__(self, client: "Client", handle: Any, name: str, algorithm: str, quota: int, period: float,
                 burst: int) -> None:
        self._client = client
        self._h = handle
        self.name = name
        self.algorithm = algorithm
        #: units per ``period`` (the ``limit`` given to ``Client.limiter``)
        self.quota = quota
        self.period = period
        self.burst = burst
        #: most units one check can spend: ``limit`` for the window
        #: algorithms, the bucket size for token_bucket and gcra
        self.capacity = int(_c.redisx_limiter_capacity(handle))

    def __repr__(self) -> str:
        return (f"<redisx.Limiter {self.name!r} {self.algorithm} {self.quota}/{self.period:g}s"
                f" capacity={self.capacity}>")

    # -- blocking (the GIL is released while waiting) --------------------------

    def check(self, key: Key, cost: int = 1) -> RateLimitResult:
        """Spends ``cost`` units of ``key``'s budget if they are available."""
        client = self._client
        if client._pending:
            client._reap()
        instr = client._instr
        if instr is not None:
            return _ins.call(instr, _ins.RL_CHECK, self.name, self._run, key, cost, 0)
        return RateLimitResult(*_c.pyx_ratelimit(client._ctx_or_raise(), self._h, key, cost, 0))

    def _run(self, key: Key, cost: int, peek: int) -> RateLimitResult:
        return RateLimitResult(*_c.pyx_ratelimit(self._client._ctx_or_raise(), self._h, key, cost, peek))

    def peek(self, key: Key) -> RateLimitResult:
        """What a check of cost 1 would answer now, spending nothing."""
        client = self._client
        if client._pending:
            client._reap()
        instr = client._instr
        if instr is not None:
            return _ins.call(instr, _ins.RL_PEEK, self.name, self._run, key, 1, 1)
        return RateLimitResult(*_c.pyx_ratelimit(client._ctx_or_raise(), self._h, key, 1, 1))

    def reset(self, key: Key) -> None:
        """Forgets ``key``'s state: its whole budget is available again."""
        client = self._client
        if client._pending:
            client._reap()
        instr = client._instr
        if instr is not None:
            _ins.call(instr, _ins.RL_RESET, self.name, _c.pyx_ratelimit_reset, client._ctx_or_raise(), self._h, key)
            return
        _c.pyx_ratelimit_reset(client._ctx_or_raise(), self._h, key)

    # -- asyncio -----------------------------------------------------------------

    async def check_async(self, key: Key, cost: int = 1) -> RateLimitResult:
        """``check()`` for asyncio, on the core's asynchronous call."""
        client = self._client
        args = (client._ctx_or_raise(), self._h, key, cost, 0)
        instr = client._instr
        if instr is not None:
            return await _ins.traced_async(instr, _ins.RL_CHECK, self.name,  # type: ignore[no-any-return]
                                           lambda: client._submit("ratelimit", _c.pyx_ratelimit_async, args))
        result: RateLimitResult = await client._submit("ratelimit", _c.pyx_ratelimit_async, args)
        return result

    async def peek_async(self, key: Key) -> RateLimitResult:
        """``peek()`` for asyncio."""
        client = self._client
        args = (client._ctx_or_raise(), self._h, key, 1, 1)
        instr = client._instr
        if instr is not None:
            return await _ins.traced_async(instr, _ins.RL_PEEK, self.name,  # type: ignore[no-any-return]
                                           lambda: client._submit("ratelimit", _c.pyx_ratelimit_async, args))
        result: RateLimitResult = await client._submit("ratelimit", _c.pyx_ratelimit_async, args)
        return result

    async def reset_async(self, key: Key) -> None:
        """``reset()`` for asyncio."""
        client = self._client
        args = (client._ctx_or_raise(), self._h, key)
        instr = client._instr
        if instr is not None:
            await _ins.traced_async(instr, _ins.RL_RESET, self.name,
                                    lambda: client._submit("status", _c.pyx_ratelimit_reset_async, args))
            return
        await client._submit("status", _c.pyx_ratelimit_reset_async, args)

    # -- decorator -----------------------------------------------------------------

    def limit(self, key: Union[None, Key, Callable[..., Key]] = None,
                    cost: Union[int, Callable[..., int]] = 1) -> Callable[[F], F]:
        """Decorator: every call first checks ``key`` (a fixed key, or a
        callable given the call's arguments; default: the function's
        qualified name, one budget for all its callers) with ``cost`` (an int
        or a callable given the call's arguments). A denied check raises
        RateLimited before the function runs. Works on ``async def``
        functions too (with ``check_async``)."""
        if cost is not None and not callable(cost) and (isinstance(cost, bool) or not isinstance(cost, int)):
            raise make_error("ERR_INVALID", f"cost must be an int or a callable, got {type(cost).__name__}")

        def decorate(fn: F) -> F:
            if key is None:
                fixed: Key = f"{fn.__module__}.{fn.__qualname__}"
                key_of: Callable[..., Key] = lambda *a, **k: fixed  # noqa: E731
            elif callable(key):
                key_of = key
            else:
                fixed_key = key
                key_of = lambda *a, **k: fixed_key  # noqa: E731
            if callable(cost):
                cost_of: Callable[..., int] = cost
            else:
                fixed_cost = cost
                cost_of = lambda *a, **k: fixed_cost  # noqa: E731

            if inspect.iscoroutinefunction(fn):
                afn = cast(Callable[..., Awaitable[Any]], fn)

                @functools.wraps(fn)
                async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                    k = key_of(*args, **kwargs)
                    result = await self.check_async(k, cost_of(*args, **kwargs))
                    if not result.allowed:
                        raise RateLimited(result, k)
                    return await afn(*args, **kwargs)

                return cast(F, async_wrapper)

            @functools.wraps(fn)
            def wrapper(*args: Any, **kwargs: Any) -> Any:
                k = key_of(*args, **kwargs)
                result = self.check(k, cost_of(*args, **kwargs))
                if not result.allowed:
                    raise RateLimited(result, k)
                return fn(*args, **kwargs)

            return cast(F, wrapper)

        return decorate

    def __del__(self) -> None:
        h = getattr(self, "_h", None)
        if h is None:
            return
        self._h = None
        try:
            _c.redisx_limiter_free(h)
        except Exception:  # interpreter shutdown
            pass


__all__ = ["ALGORITHMS", "Limiter", "RateLimitResult", "RateLimited", "rate_limit_headers"]
