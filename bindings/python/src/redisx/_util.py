"""Small helpers shared by the idiomatic modules (no semantics here)."""

from __future__ import annotations

import math
import os
from typing import Any

from ._errors import make_error

_INT64_MAX = 2**63 - 1


def _scaled(value: Any, what: str, per_second: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise make_error("ERR_INVALID", f"{what} must be a number of seconds, got {type(value).__name__}")
    if isinstance(value, float) and not math.isfinite(value):
        raise make_error("ERR_INVALID", f"{what} must be finite, got {value!r}")
    out = round(value * per_second)
    # Out-of-range values still reach the core, which names the valid range.
    return max(-_INT64_MAX, min(_INT64_MAX, out))


def ms(value: Any, what: str) -> int:
    """Seconds (int or float) to whole milliseconds; range checks stay in C."""
    return _scaled(value, what, 1000)


def us(value: Any, what: str) -> int:
    """Seconds (int or float) to whole microseconds; range checks stay in C."""
    return _scaled(value, what, 1_000_000)


def check_callable(fn: Any, what: str) -> None:
    if fn is not None and not callable(fn):
        raise make_error("ERR_INVALID", f"{what} must be callable or None, got {type(fn).__name__}")


def ceil_seconds(milliseconds: int) -> int:
    """ceil(milliseconds / 1000) in integers (no float rounding)."""
    return -(-int(milliseconds) // 1000)


def flag(value: Any, what: str) -> int:
    """True/False to 1/0; anything else is refused rather than taken for its
    truth value (a string "false" must never turn a safety check off)."""
    if not isinstance(value, bool):
        raise make_error("ERR_INVALID", f"{what} must be True or False, got {type(value).__name__}")
    return int(value)


def path(value: Any) -> Any:
    """A str/bytes path, or an os.PathLike turned into one; other types go on
    to the C layer, which refuses them with InvalidArgument."""
    return os.fspath(value) if isinstance(value, os.PathLike) else value
