"""The HTTP rules shared by every redisx language (framework-neutral).

The rules themselves live in the C core (redisx/http.h, core/http.c; the
contract is docs/KEYS.md, "HTTP"): this module only hands them Python
values, so WSGI, ASGI, Express/NestJS and net/http answer byte for byte the
same.

Rate limits (``rate_limit_headers``): X-RateLimit-Limit = limit,
X-RateLimit-Remaining = remaining, X-RateLimit-Reset = ceil(reset_ms/1000),
Retry-After = max(1, ceil(retry_after_ms/1000)) only when denied; a denied
request gets 429 and the body "Too Many Requests".

Idempotency (IETF draft "The Idempotency-Key HTTP Header Field"):
- header ``Idempotency-Key``; absent → the handler runs normally (or 400
  when the key is required); a key the store refuses (too long) → 400;
- record key = namespace + ":" + header value (the value alone without a
  namespace);
- fingerprint = SHA-256 (the raw 32 bytes) of
  METHOD + "\\n" + path-with-query + "\\n" + body;
- NEW → the handler runs; status < 500 → the body is stored as the response
  and ``{"status":<int>,"content_type":"<type or empty>"}`` (compact JSON,
  only quote and backslash escaped) as the metadata; status >= 500 or an
  exception → the record is failed so that a retry runs;
- IN_PROGRESS → 409 with Retry-After = max(1, ceil(remaining_ms/1000));
  MISMATCH → 422; COMPLETED → the stored status, Content-Type and body, plus
  ``Idempotent-Replayed: true``.

Header values are str holding one character per byte (Latin-1, as WSGI and
ASGI carry them). Responses stored by one language replay in the others.
redisx.wsgi and redisx.asgi hold the middleware built on these functions.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any, Dict, List, Optional, Tuple, Union

from . import _rawc as _c
from ._errors import RedisxError
from ._idempotency import IdempotencyRecord, IdempotencyState
from ._ratelimit import RateLimitResult

IDEMPOTENCY_KEY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
TOO_MANY_REQUESTS_BODY = b"Too Many Requests"

#: defaults of the idempotency middleware, in seconds
DEFAULT_LEASE = 30.0
DEFAULT_TTL = 86400.0
DEFAULT_WAIT = 0.0

#: (status, [(header, value)], body)
Response = Tuple[int, List[Tuple[str, str]], bytes]

_STATE = {s: getattr(_c, "REDISX_IDEM_" + s.name) for s in IdempotencyState}


def rate_limit_headers(result: RateLimitResult) -> Dict[str, str]:
    """The standard rate-limit headers of a result."""
    return result.headers()


def too_many_requests(result: RateLimitResult) -> Response:
    """The 429 response of a denied check."""
    r = _c.redisx_http_ratelimit_answer(0, int(result.limit), int(result.remaining), int(result.reset_ms),
                                        max(0, int(result.retry_after_ms)))
    return r[0], list(r[1]), r[2]


def record_key(value: str, namespace: Optional[str] = None) -> str:
    """The idempotency record key of a header value (InvalidArgument when it
    is empty or the key would be too long)."""
    key = _c.redisx_http_record_key(namespace or None, value.encode("utf-8", "surrogateescape"))
    return key.decode("utf-8", "surrogateescape")


def fingerprint(method: str, target: Union[str, bytes], body: bytes) -> bytes:
    """SHA-256 (32 raw bytes) of METHOD (upper case) + "\\n" + path-with-query + "\\n" + body."""
    return _c.redisx_http_fingerprint(method.encode("ascii", "surrogateescape"),
                                      target if isinstance(target, bytes) else target.encode("utf-8", "surrogateescape"),
                                      body)


def response_metadata(status: int, content_type: Union[str, bytes, None]) -> bytes:
    """The metadata stored with a response: compact JSON, this key order
    (a str content type is taken as UTF-8; bytes as they are)."""
    if isinstance(content_type, str):
        content_type = content_type.encode("utf-8", "surrogateescape")
    return _c.redisx_http_metadata(int(status), content_type or b"")


def parse_metadata(metadata: bytes) -> Tuple[int, str]:
    """(status, content type) of stored metadata (200 and "" when it is not
    the metadata of an HTTP helper)."""
    status, headers, _ = _c.redisx_http_idem_answer(_c.REDISX_IDEM_COMPLETED, 0, metadata or b"", b"")
    content_type = next((v for k, v in headers if k == "Content-Type"), "")
    return status, content_type.encode("latin-1").decode("utf-8", "surrogateescape")


def retry_after_seconds(remaining_ms: int) -> int:
    """max(1, ceil(remaining_ms / 1000))."""
    _, headers, _ = _c.redisx_http_idem_answer(_c.REDISX_IDEM_IN_PROGRESS, int(remaining_ms), None, None)
    return int(dict(headers)["Retry-After"])


def key_required() -> Response:
    """400: the Idempotency-Key header is missing and required."""
    return _c.redisx_http_key_required()


def key_invalid() -> Response:
    """400: the store refused the Idempotency-Key (e.g. too long)."""
    return _c.redisx_http_key_invalid()


def answer_without_handler(rec: IdempotencyRecord) -> Optional[Response]:
    """The response for a record that is not NEW (replay, 409, 422); None
    when the handler must run."""
    if rec.state is IdempotencyState.COMPLETED:
        return _c.redisx_http_idem_answer(_c.REDISX_IDEM_COMPLETED, 0, rec.metadata, rec.response)
    return _c.redisx_http_idem_answer(_STATE[rec.state], int(rec.remaining_ms), None, None)


def is_stored(status: int) -> bool:
    """Whether a handler's response of this status is stored (< 500) or the
    record is failed so that a retry runs."""
    return bool(_c.redisx_http_status_is_stored(int(status)))


def stored_metadata(status: int, content_type: Optional[str]) -> Optional[bytes]:
    """The metadata of a captured response whose Content-Type header value
    came from WSGI/ASGI (one character per byte); None when the core refuses
    it (a content type no header of another language could carry), so that
    the record is failed rather than stored differently."""
    try:
        return _c.redisx_http_metadata(int(status), _wire(content_type or ""))
    except RedisxError:
        return None


def _wire(value: str) -> bytes:
    """A header value's bytes: Latin-1 as WSGI/ASGI decode them, UTF-8 for
    text that Latin-1 cannot hold."""
    try:
        return value.encode("latin-1")
    except UnicodeEncodeError:
        return value.encode("utf-8", "surrogateescape")


def status_line(status: int) -> str:
    """"429 Too Many Requests" (WSGI status strings)."""
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Unknown"
    return f"{status} {phrase}"


def header_value(headers: Any, name: str) -> Optional[str]:
    """Case-insensitive lookup in a list of (name, value) pairs (str or
    bytes, as WSGI and ASGI use)."""
    want = name.lower()
    for k, v in headers:
        k = k.decode("latin-1") if isinstance(k, bytes) else k
        if k.lower() == want:
            return v.decode("latin-1") if isinstance(v, bytes) else v
    return None


__all__ = [
    "IDEMPOTENCY_KEY_HEADER",
    "REPLAYED_HEADER",
    "rate_limit_headers",
    "too_many_requests",
    "record_key",
    "fingerprint",
    "response_metadata",
    "parse_metadata",
    "retry_after_seconds",
    "answer_without_handler",
    "key_required",
    "key_invalid",
    "is_stored",
    "stored_metadata",
    "status_line",
]
