"""ASGI middleware (Starlette, FastAPI, Quart, ...) for rate limits and the
Idempotency-Key header, with the HTTP rules of redisx.http, on the core's
asynchronous calls.

    app.add_middleware(RateLimitMiddleware, limiter=client.limiter("api", "gcra", 100, 60))
    app.add_middleware(IdempotencyMiddleware, client=client, namespace="payments")
"""

from __future__ import annotations

import logging
from typing import Any, Awaitable, Callable, Dict, List, MutableMapping, Optional, Union
from urllib.parse import quote

from . import http as _http
from ._errors import InvalidArgument, RedisxError
from ._ratelimit import Limiter

log = logging.getLogger("redisx")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def client_ip(scope: Scope) -> str:
    """The default rate-limit key: the client's address."""
    client = scope.get("client")
    return str(client[0]) if client else ""


def _encode_headers(headers: Any) -> List[List[bytes]]:
    return [[k.lower().encode("latin-1"), v.encode("latin-1")] for k, v in headers]


async def _respond(send: Send, response: _http.Response) -> None:
    status, headers, body = response
    await send({"type": "http.response.start", "status": status,
                "headers": _encode_headers([*headers, ("Content-Length", str(len(body)))])})
    await send({"type": "http.response.body", "body": body, "more_body": False})


class RateLimitMiddleware:
    """Checks every HTTP request against ``limiter``: allowed → the
    rate-limit headers are added to the app's response; denied → 429 with
    the headers and "Too Many Requests". ``key(scope)`` picks the key
    (default: the client IP), ``cost`` is an int or ``cost(scope)``. With a
    fail-closed limiter an unreachable Redis raises (the server's error
    path)."""

    def __init__(self, app: ASGIApp, limiter: Limiter, *, key: Callable[[Scope], Any] = client_ip,
                 cost: Union[int, Callable[[Scope], int]] = 1) -> None:
        self.app = app
        self.limiter = limiter
        self.key = key
        self.cost = cost

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("type") != "http":
            await self.app(scope, receive, send)
            return
        cost = self.cost(scope) if callable(self.cost) else self.cost
        result = await self.limiter.check_async(self.key(scope), cost)
        if not result.allowed:
            await _respond(send, _http.too_many_requests(result))
            return
        extra = _encode_headers(result.headers().items())

        async def send_with_headers(message: Message) -> None:
            if message.get("type") == "http.response.start":
                message = dict(message)
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def request_target(scope: Scope) -> bytes:
    """Path with query as the client sent it (raw_path when the server
    provides it)."""
    path = scope.get("raw_path")
    if not path:
        path = quote(scope.get("root_path", "") + scope.get("path", "/"), safe="/:@!$&'()*+,;=-._~").encode("ascii")
    query = scope.get("query_string") or b""
    return bytes(path) + (b"?" + bytes(query) if query else b"")


class IdempotencyMiddleware:
    """The Idempotency-Key header (see redisx.http and
    redisx.wsgi.IdempotencyMiddleware): runs the app once per key, replays
    its stored response (status < 500) to duplicates, 409 while the first
    runs, 422 for another request under the same key, 400 without the header
    when ``required``. The app's response is buffered."""

    def __init__(self, app: ASGIApp, client: Any, *, namespace: Optional[str] = None, required: bool = False,
                 lease: float = _http.DEFAULT_LEASE, ttl: float = _http.DEFAULT_TTL,
                 wait: float = _http.DEFAULT_WAIT) -> None:
        self.app = app
        self.client = client
        self.namespace = namespace
        self.required = required
        self.lease = lease
        self.ttl = ttl
        self.wait = wait

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("type") != "http":
            await self.app(scope, receive, send)
            return
        value = _http.header_value(scope.get("headers", []), _http.IDEMPOTENCY_KEY_HEADER)
        if not value:
            if self.required:
                await _respond(send, _http.key_required())
                return
            await self.app(scope, receive, send)
            return
        chunks: List[bytes] = []
        while True:
            message = await receive()
            if message.get("type") == "http.disconnect":
                return
            chunks.append(bytes(message.get("body", b"")))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        fp = _http.fingerprint(scope.get("method", "GET"), request_target(scope), body)
        try:
            rec = await self.client.idempotency_begin_async(_http.record_key(value, self.namespace), fp,
                                                            lease=self.lease, wait=self.wait, ttl=self.ttl)
        except InvalidArgument:
            await _respond(send, _http.key_invalid())
            return
        early = _http.answer_without_handler(rec)
        if early is not None:
            await _respond(send, early)
            return

        delivered = False

        async def replay_body() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()  # the disconnect, when it comes

        start: Dict[str, Any] = {}
        parts: List[bytes] = []

        async def capture(message: Message) -> None:
            if message.get("type") == "http.response.start":
                start.update(message)
            elif message.get("type") == "http.response.body":
                parts.append(bytes(message.get("body", b"")))

        try:
            await self.app(scope, replay_body, capture)
            if not start:
                raise RuntimeError("ASGI app returned without starting a response")
        except BaseException:
            await _quietly(rec.fail_async())
            raise
        status = int(start.get("status", 200))
        headers = list(start.get("headers", []))
        data = b"".join(parts)
        meta = _http.stored_metadata(status, _http.header_value(headers, "content-type"))
        if not _http.is_stored(status) or meta is None:
            await _quietly(rec.fail_async())
        else:
            try:
                await rec.complete_async(data, meta)
            except RedisxError as e:  # the work ran; its response still goes out
                log.warning("redisx: idempotency record %r not completed: %s", rec.key, e)
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": data, "more_body": False})


async def _quietly(aw: Awaitable[Any]) -> None:
    try:
        await aw
    except RedisxError as e:
        log.warning("redisx: idempotency record not failed: %s", e)


__all__ = ["RateLimitMiddleware", "IdempotencyMiddleware", "client_ip", "request_target"]
