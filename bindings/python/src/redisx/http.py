"""The HTTP rules shared by every redisx language (framework-neutral).

Rate limits (``rate_limit_headers``): X-RateLimit-Limit = limit,
X-RateLimit-Remaining = remaining, X-RateLimit-Reset = ceil(reset_ms/1000),
Retry-After = max(1, ceil(retry_after_ms/1000)) only when denied; a denied
request gets 429 and the body "Too Many Requests".

Idempotency (IETF draft "The Idempotency-Key HTTP Header Field"):
- header ``Idempotency-Key``; absent → the handler runs normally (or 400
  when the key is required);
- record key = namespace + ":" + header value (the value alone without a
  namespace);
- fingerprint = SHA-256 (the raw 32 bytes) of
  METHOD + "\\n" + path-with-query + "\\n" + body;
- NEW → the handler runs; status < 500 → the body is stored as the response
  and ``{"status":<int>,"content_type":"<type or empty>"}`` (compact JSON) as
  the metadata; status >= 500 or an exception → the record is failed so that
  a retry runs;
- IN_PROGRESS → 409 with Retry-After = max(1, ceil(remaining_ms/1000));
  MISMATCH → 422; COMPLETED → the stored status, Content-Type and body, plus
  ``Idempotent-Replayed: true``.

Responses stored by one language replay in the others. redisx.wsgi and
redisx.asgi hold the middleware built on these functions.
"""

from __future__ import annotations

import hashlib
import json
from http import HTTPStatus
from typing import Any, Dict, List, Optional, Tuple, Union

from ._idempotency import IdempotencyRecord, IdempotencyState
from ._ratelimit import RateLimitResult
from ._util import ceil_seconds

IDEMPOTENCY_KEY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
TOO_MANY_REQUESTS_BODY = b"Too Many Requests"

#: defaults of the idempotency middleware, in seconds
DEFAULT_LEASE = 30.0
DEFAULT_TTL = 86400.0
DEFAULT_WAIT = 0.0

#: (status, [(header, value)], body)
Response = Tuple[int, List[Tuple[str, str]], bytes]

_TEXT = "text/plain; charset=utf-8"


def rate_limit_headers(result: RateLimitResult) -> Dict[str, str]:
    """The standard rate-limit headers of a result."""
    return result.headers()


def too_many_requests(result: RateLimitResult) -> Response:
    """The 429 response of a denied check."""
    return 429, [*result.headers().items(), ("Content-Type", _TEXT)], TOO_MANY_REQUESTS_BODY


def record_key(value: str, namespace: Optional[str] = None) -> str:
    """The idempotency record key of a header value."""
    return f"{namespace}:{value}" if namespace else value


def fingerprint(method: str, target: Union[str, bytes], body: bytes) -> bytes:
    """SHA-256 (32 raw bytes) of METHOD (upper case) + "\\n" + path-with-query + "\\n" + body."""
    h = hashlib.sha256()
    h.update(method.upper().encode("ascii", "surrogateescape"))
    h.update(b"\n")
    h.update(target if isinstance(target, bytes) else target.encode("utf-8", "surrogateescape"))
    h.update(b"\n")
    h.update(body)
    return h.digest()


def response_metadata(status: int, content_type: Optional[str]) -> bytes:
    """The metadata stored with a response: compact JSON, this key order."""
    return json.dumps({"status": int(status), "content_type": content_type or ""},
                      separators=(",", ":")).encode("utf-8")


def parse_metadata(metadata: bytes) -> Tuple[int, str]:
    """(status, content type) of stored metadata (200 and "" when absent)."""
    try:
        meta: Any = json.loads(metadata) if metadata else {}
    except ValueError:
        meta = {}
    if not isinstance(meta, dict):
        meta = {}
    status = meta.get("status", 200)
    content_type = meta.get("content_type", "")
    return (status if isinstance(status, int) and 100 <= status <= 999 else 200,
            content_type if isinstance(content_type, str) else "")


def retry_after_seconds(remaining_ms: int) -> int:
    """max(1, ceil(remaining_ms / 1000))."""
    return max(1, ceil_seconds(remaining_ms))


def key_required() -> Response:
    return 400, [("Content-Type", _TEXT)], b"Idempotency-Key header required"


def answer_without_handler(rec: IdempotencyRecord) -> Optional[Response]:
    """The response for a record that is not NEW (replay, 409, 422); None
    when the handler must run."""
    if rec.state is IdempotencyState.COMPLETED:
        status, content_type = parse_metadata(rec.metadata)
        headers = [("Content-Type", content_type)] if content_type else []
        headers.append((REPLAYED_HEADER, "true"))
        return status, headers, rec.response
    if rec.state is IdempotencyState.IN_PROGRESS:
        return (409, [("Content-Type", _TEXT), ("Retry-After", str(retry_after_seconds(rec.remaining_ms)))],
                b"A request with this Idempotency-Key is being processed")
    if rec.state is IdempotencyState.MISMATCH:
        return 422, [("Content-Type", _TEXT)], b"Idempotency-Key reused with another request"
    return None


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
    "status_line",
]
