"""WSGI middleware (Flask, Django, Falcon, ...) for rate limits and the
Idempotency-Key header, with the HTTP rules of redisx.http.

    app.wsgi_app = RateLimitMiddleware(app.wsgi_app, client.limiter("api", "gcra", 100, 60))
    app.wsgi_app = IdempotencyMiddleware(app.wsgi_app, client, namespace="payments")
"""

from __future__ import annotations

import io
import logging
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple, Union
from urllib.parse import quote

from . import http as _http
from ._errors import InvalidArgument, RedisxError
from ._ratelimit import Limiter

log = logging.getLogger("redisx")

Environ = Dict[str, Any]
StartResponse = Callable[..., Any]
WSGIApp = Callable[[Environ, StartResponse], Iterable[bytes]]


def client_ip(environ: Environ) -> str:
    """The default rate-limit key: REMOTE_ADDR."""
    return str(environ.get("REMOTE_ADDR") or "")


def _respond(start_response: StartResponse, response: _http.Response) -> List[bytes]:
    status, headers, body = response
    start_response(_http.status_line(status), [*headers, ("Content-Length", str(len(body)))])
    return [body]


class RateLimitMiddleware:
    """Checks every request against ``limiter``: allowed → the rate-limit
    headers are added to the app's response; denied → 429 with the headers
    and "Too Many Requests". ``key(environ)`` picks the key (default: the
    client IP), ``cost`` is an int or ``cost(environ)``. With a fail-closed
    limiter an unreachable Redis raises (the server's error path, 500)."""

    def __init__(self, app: WSGIApp, limiter: Limiter, *, key: Callable[[Environ], Any] = client_ip,
                 cost: Union[int, Callable[[Environ], int]] = 1) -> None:
        self.app = app
        self.limiter = limiter
        self.key = key
        self.cost = cost

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        cost = self.cost(environ) if callable(self.cost) else self.cost
        result = self.limiter.check(self.key(environ), cost)
        if not result.allowed:
            return _respond(start_response, _http.too_many_requests(result))
        extra = list(result.headers().items())

        def start(status: str, headers: List[Tuple[str, str]], exc_info: Any = None) -> Any:
            return start_response(status, [*headers, *extra], exc_info)

        return self.app(environ, start)


def request_target(environ: Environ) -> str:
    """Path with query as the client sent it (RAW_URI/REQUEST_URI when the
    server provides them, else rebuilt from SCRIPT_NAME, PATH_INFO and
    QUERY_STRING)."""
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if raw:
        return str(raw)
    path = (environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")).encode("latin-1")
    target = quote(path, safe="/:@!$&'()*+,;=-._~") or "/"
    query = environ.get("QUERY_STRING")
    return f"{target}?{query}" if query else target


def _read_body(environ: Environ) -> bytes:
    stream = environ.get("wsgi.input")
    if stream is None:
        return b""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > 0:
        return bytes(stream.read(length))
    if environ.get("wsgi.input_terminated"):
        return bytes(stream.read())
    return b""


class IdempotencyMiddleware:
    """The Idempotency-Key header (see redisx.http): a request with the
    header runs the app once per key; its response (status < 500) is stored
    for ``ttl`` seconds and replayed to duplicates with
    ``Idempotent-Replayed: true``; a duplicate arriving while the first runs
    gets 409 (after waiting up to ``wait`` seconds), one with another
    method/path/body 422. A 5xx response or an exception fails the record so
    that a retry runs. ``required=True`` answers 400 to requests without the
    header. The app's response is buffered."""

    def __init__(self, app: WSGIApp, client: Any, *, namespace: Optional[str] = None, required: bool = False,
                 lease: float = _http.DEFAULT_LEASE, ttl: float = _http.DEFAULT_TTL,
                 wait: float = _http.DEFAULT_WAIT) -> None:
        self.app = app
        self.client = client
        self.namespace = namespace
        self.required = required
        self.lease = lease
        self.ttl = ttl
        self.wait = wait

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        value = environ.get("HTTP_IDEMPOTENCY_KEY")
        if not value:
            if self.required:
                return _respond(start_response, _http.key_required())
            return self.app(environ, start_response)
        body = _read_body(environ)
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        fp = _http.fingerprint(environ.get("REQUEST_METHOD", "GET"), request_target(environ), body)
        try:
            rec = self.client.idempotency_begin(_http.record_key(value, self.namespace), fp, lease=self.lease,
                                                wait=self.wait, ttl=self.ttl)
        except InvalidArgument:
            return _respond(start_response, _http.key_invalid())
        early = _http.answer_without_handler(rec)
        if early is not None:
            return _respond(start_response, early)

        captured: List[Any] = []  # [status, headers]
        parts: List[bytes] = []

        def capture(status: str, headers: List[Tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], Any]:
            if exc_info is not None and captured:
                raise exc_info[1].with_traceback(exc_info[2])
            captured[:] = [status, list(headers)]
            return parts.append

        try:
            it = self.app(environ, capture)
            try:
                for chunk in it:
                    parts.append(bytes(chunk))
            finally:
                close = getattr(it, "close", None)
                if close is not None:
                    close()
            if not captured:
                raise RuntimeError("WSGI app returned without calling start_response")
        except BaseException:
            _quietly(rec.fail)
            raise
        status_str, headers = captured
        status = int(status_str.split(None, 1)[0])
        data = b"".join(parts)
        meta = _http.stored_metadata(status, _http.header_value(headers, "Content-Type"))
        if not _http.is_stored(status) or meta is None:
            _quietly(rec.fail)
        else:
            try:
                rec.complete(data, meta)
            except RedisxError as e:  # the work ran; its response still goes out
                log.warning("redisx: idempotency record %r not completed: %s", rec.key, e)
        start_response(status_str, headers)
        return [data]


def _quietly(fn: Callable[[], Any]) -> None:
    try:
        fn()
    except RedisxError as e:
        log.warning("redisx: idempotency record not failed: %s", e)


__all__ = ["RateLimitMiddleware", "IdempotencyMiddleware", "client_ip", "request_target"]
