"""redisx — Redis building blocks (distributed locks with fencing tokens, rate
limits, idempotency records, a multiplexing client) from one C core shared
with the Node and Go packages: the same keys, the same Lua scripts, the same
semantics.

    import redisx

    with redisx.Client.from_url("redis://127.0.0.1:6379/0") as client:
        with client.lock("orders:42", ttl=5.0, wait=10.0) as lk:
            write_with_fencing(lk.fencing_token)

        api = client.limiter("api", "gcra", limit=100, period=60)
        if not api.check(user_id).allowed:
            ...

HTTP helpers: redisx.wsgi and redisx.asgi (rate-limit and Idempotency-Key
middleware), redisx.http (the shared header and fingerprint rules).
"""

from __future__ import annotations

from . import _rawc
from ._errors import (
    AuthError,
    Cancelled,
    ClientClosed,
    ConnectionError,
    Empty,
    InvalidArgument,
    InvalidURL,
    LockHeld,
    LockNotOwned,
    OutOfMemory,
    ProtocolError,
    RedisxError,
    ServerError,
    Timeout,
    WouldBlock,
)
from ._client import Client, Event, Lock, LockInfo, LogEntry, StateChange
from ._idempotency import (
    IdempotencyConflict,
    IdempotencyInProgress,
    IdempotencyMismatch,
    IdempotencyRecord,
    IdempotencyState,
    JSONCodec,
)
from ._cache import CODECS, BytesCodec, Cache, CacheEntry, Codec, NotFound, StrCodec, cached
from ._stream import Consumer, DeadLetter, DeadLetterEntry, GroupInfo, Message
from ._ratelimit import ALGORITHMS, Limiter, RateLimited, RateLimitResult, rate_limit_headers

__version__ = "0.6.0"

# Public classes live in private modules; show (and pickle) them as redisx.X.
for _cls in (Client, Consumer, DeadLetter, DeadLetterEntry, GroupInfo, Message, Cache, CacheEntry, Codec, BytesCodec, StrCodec, NotFound, Event, Lock, LockInfo, Limiter, RateLimitResult, RateLimited, IdempotencyRecord, IdempotencyState,
             IdempotencyConflict, IdempotencyInProgress, IdempotencyMismatch, JSONCodec, RedisxError, InvalidArgument, OutOfMemory, Timeout, ConnectionError,
             ClientClosed, AuthError, ServerError, ProtocolError, LockHeld, LockNotOwned, WouldBlock, Empty,
             InvalidURL, Cancelled):
    _cls.__module__ = __name__
del _cls


def library_version() -> str:
    """Version of the loaded libredisx ("MAJOR.MINOR.PATCH")."""
    return str(_rawc.redisx_version_string())


__all__ = [
    "Client",
    "Consumer",
    "Message",
    "DeadLetter",
    "DeadLetterEntry",
    "GroupInfo",
    "Lock",
    "LockInfo",
    "LogEntry",
    "StateChange",
    "Event",
    "Limiter",
    "RateLimitResult",
    "RateLimited",
    "rate_limit_headers",
    "ALGORITHMS",
    "IdempotencyRecord",
    "IdempotencyState",
    "IdempotencyConflict",
    "IdempotencyInProgress",
    "IdempotencyMismatch",
    "JSONCodec",
    "Cache",
    "CacheEntry",
    "Codec",
    "BytesCodec",
    "StrCodec",
    "CODECS",
    "NotFound",
    "cached",
    "library_version",
    "RedisxError",
    "InvalidArgument",
    "OutOfMemory",
    "Timeout",
    "ConnectionError",
    "ClientClosed",
    "AuthError",
    "ServerError",
    "ProtocolError",
    "LockHeld",
    "LockNotOwned",
    "WouldBlock",
    "Empty",
    "InvalidURL",
    "Cancelled",
]
