"""Exceptions: one class per status code of the C core, all under RedisxError.

The numbers are never written here: at import the package walks the core's
table (``redisx_status_name(code)`` for code = -1, -2, ... until it has no
name) and maps each name to its class. A code added to the core later, that
this version does not know, gets a class made on the fly (``ErrFooError``
for ``ERR_FOO``), still a subclass of RedisxError.
"""

from __future__ import annotations

from typing import Dict, Optional, Tuple, Type

from . import _rawc


class RedisxError(Exception):
    """Base of every redisx error.

    ``code`` is the core's numeric status (negative), ``name`` its symbolic
    name (e.g. ``"ERR_NOT_OWNER"``) and ``detail`` the core's message for this
    failure (e.g. ``"connect 127.0.0.1:6390: Connection refused"``).
    """

    code: int
    name: str
    detail: str

    def __init__(self, code: int, name: str, detail: str = "") -> None:
        super().__init__(code, name, detail)
        self.code = code
        self.name = name
        self.detail = detail

    def __str__(self) -> str:
        return f"{self.name}: {self.detail}" if self.detail else self.name

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code}, name={self.name!r}, detail={self.detail!r})"

    def __reduce__(self) -> Tuple[type, Tuple[int, str, str]]:  # pickling (multiprocessing)
        return (type(self), (self.code, self.name, self.detail))


class InvalidArgument(RedisxError, ValueError):
    """ERR_INVALID: an argument out of range, of the wrong type, or malformed."""


class OutOfMemory(RedisxError, MemoryError):
    """ERR_NOMEM."""


class Timeout(RedisxError):
    """ERR_TIMEOUT: the server did not answer within the command timeout."""


class ConnectionError(RedisxError):  # noqa: A001 - the shared name across languages
    """ERR_CONNECTION: the server cannot be reached."""


class ClientClosed(RedisxError):
    """ERR_CLOSED: the client (or the operation's client) is closed."""


class AuthError(RedisxError):
    """ERR_AUTH: authentication or database selection refused."""


class ServerError(RedisxError):
    """ERR_SERVER: the server replied with an error (``detail`` is its text)."""


class ProtocolError(RedisxError):
    """ERR_PROTOCOL: an unexpected reply."""


class LockHeld(RedisxError):
    """ERR_LOCKED: the lock is held by another owner."""


class LockNotOwned(RedisxError):
    """ERR_NOT_OWNER: the lock is no longer held by this owner (expired or taken)."""


class WouldBlock(RedisxError):
    """ERR_WOULDBLOCK: a blocking call from a callback of the same client."""


class Empty(RedisxError):
    """ERR_EMPTY: nothing to return."""


class InvalidURL(RedisxError):
    """ERR_URL: a malformed Redis URL."""


class Cancelled(RedisxError):
    """ERR_CANCELLED: the operation was cancelled (``redisx_cancel``). The
    asyncio forms raise ``asyncio.CancelledError`` instead when their task is
    cancelled; this class is for code that meets the status directly (the raw
    module)."""


_BY_NAME: Dict[str, Type[RedisxError]] = {
    "ERR_INVALID": InvalidArgument,
    "ERR_NOMEM": OutOfMemory,
    "ERR_TIMEOUT": Timeout,
    "ERR_CONNECTION": ConnectionError,
    "ERR_CLOSED": ClientClosed,
    "ERR_AUTH": AuthError,
    "ERR_SERVER": ServerError,
    "ERR_PROTOCOL": ProtocolError,
    "ERR_LOCKED": LockHeld,
    "ERR_NOT_OWNER": LockNotOwned,
    "ERR_WOULDBLOCK": WouldBlock,
    "ERR_EMPTY": Empty,
    "ERR_URL": InvalidURL,
    "ERR_CANCELLED": Cancelled,
}

#: code -> class and name -> code, both read from the C table at import.
ERRORS: Dict[int, Type[RedisxError]] = {}
CODES: Dict[str, int] = {}


def _build_table() -> None:
    code = 0
    while True:
        name: Optional[str] = _rawc.redisx_status_name(code)
        if name is None:
            break
        CODES[name] = code
        if code < 0:
            cls = _BY_NAME.get(name)
            if cls is None:
                words = name[4:] if name.startswith("ERR_") else name
                cls_name = "".join(w.capitalize() for w in words.split("_")) + "Error"
                cls = type(cls_name, (RedisxError,), {"__doc__": f"{name}: {_rawc.redisx_strerror(code)}"})
            ERRORS[code] = cls
        code -= 1
    missing = set(_BY_NAME) - set(CODES)
    if missing:  # the loaded library is older than this package
        raise ImportError(f"libredisx lacks status codes {sorted(missing)}; upgrade libredisx")
    _rawc.pyx_set_error_classes(ERRORS, RedisxError)


_build_table()


def make_error(name: str, detail: str) -> RedisxError:
    """An instance for a failure found in Python (argument checks)."""
    code = CODES[name]
    return ERRORS[code](code, name, detail)


__all__ = ["RedisxError", "ERRORS", "CODES"] + [c.__name__ for c in _BY_NAME.values()]
