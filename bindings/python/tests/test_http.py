"""The HTTP helpers end to end: WSGI middleware behind a real HTTP server on
127.0.0.1 (wsgiref, threaded), ASGI middleware driven directly."""

from __future__ import annotations

import asyncio
import http.client
import json
import socketserver
import threading
from concurrent.futures import ThreadPoolExecutor
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest

import redisx
import redisx.asgi
import redisx.http
import redisx.wsgi

from conftest import unused_port


class _ThreadingServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):
        pass


class Server:
    def __init__(self, app):
        self.httpd = make_server("127.0.0.1", 0, app, server_class=_ThreadingServer, handler_class=_QuietHandler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def request(self, method, path, body=b"", headers=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
        finally:
            conn.close()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()


@pytest.fixture
def serve():
    servers = []

    def start(app):
        s = Server(app)
        servers.append(s)
        return s

    yield start
    for s in servers:
        s.close()


class PaymentApp:
    """A WSGI handler that counts its runs; `gate` holds it while set up."""

    def __init__(self):
        self.runs = 0
        self.lock = threading.Lock()
        self.entered = threading.Event()
        self.gate = None
        self.status = "201 Created"
        self.raise_error = False

    def __call__(self, environ, start_response):
        with self.lock:
            self.runs += 1
            n = self.runs
        self.entered.set()
        if self.gate is not None:
            self.gate.wait(60)
        if self.raise_error:
            raise RuntimeError("handler crashed")
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length)
        out = json.dumps({"run": n, "body": body.decode()}).encode()
        start_response(self.status, [("Content-Type", "application/json"), ("Content-Length", str(len(out)))])
        return [out]


def idem(key, **extra):
    return {"Idempotency-Key": key, **extra}


# -- WSGI: idempotency -----------------------------------------------------------------


def test_wsgi_same_key_and_body_runs_once_and_replays(client, serve, prefix):
    app = PaymentApp()
    srv = serve(redisx.wsgi.IdempotencyMiddleware(app, client))
    s1, h1, b1 = srv.request("POST", "/pay?x=1", b'{"amount":5}', idem("k-1"))
    s2, h2, b2 = srv.request("POST", "/pay?x=1", b'{"amount":5}', idem("k-1"))
    assert app.runs == 1
    assert (s1, s2) == (201, 201)
    assert b1 == b2 and json.loads(b1) == {"run": 1, "body": '{"amount":5}'}
    assert h1["content-type"] == h2["content-type"] == "application/json"
    assert "idempotent-replayed" not in h1
    assert h2["idempotent-replayed"] == "true"
    # The stored metadata is the cross-language contract: compact JSON.
    meta = client.execute("HGET", f"{prefix}:idem:{{k-1}}", "meta")
    assert meta == b'{"status":201,"content_type":"application/json"}'


def test_wsgi_same_key_other_request_is_422(client, serve):
    app = PaymentApp()
    srv = serve(redisx.wsgi.IdempotencyMiddleware(app, client))
    assert srv.request("POST", "/pay", b"a", idem("k-2"))[0] == 201
    assert srv.request("POST", "/pay", b"b", idem("k-2"))[0] == 422  # other body
    assert srv.request("POST", "/pay?other", b"a", idem("k-2"))[0] == 422  # other target
    assert srv.request("PUT", "/pay", b"a", idem("k-2"))[0] == 422  # other method
    assert app.runs == 1


def test_wsgi_concurrent_duplicate_while_the_first_runs_is_409(client, serve):
    app = PaymentApp()
    app.gate = threading.Event()
    srv = serve(redisx.wsgi.IdempotencyMiddleware(app, client, lease=30))
    with ThreadPoolExecutor(1) as pool:
        first = pool.submit(srv.request, "POST", "/pay", b"x", idem("k-3"))
        assert app.entered.wait(30)
        status, headers, body = srv.request("POST", "/pay", b"x", idem("k-3"))
        assert status == 409
        assert 1 <= int(headers["retry-after"]) <= 30
        app.gate.set()
        assert first.result()[0] == 201
    assert app.runs == 1
    assert srv.request("POST", "/pay", b"x", idem("k-3"))[1]["idempotent-replayed"] == "true"


def test_wsgi_without_the_header_runs_normally_or_400_when_required(client, serve):
    app = PaymentApp()
    srv = serve(redisx.wsgi.IdempotencyMiddleware(app, client))
    assert srv.request("POST", "/pay", b"x")[0] == 201
    assert srv.request("POST", "/pay", b"x")[0] == 201
    assert app.runs == 2
    strict = serve(redisx.wsgi.IdempotencyMiddleware(app, client, required=True))
    status, _, body = strict.request("POST", "/pay", b"x")
    assert status == 400 and b"Idempotency-Key" in body
    assert app.runs == 2


def test_wsgi_answers_carry_the_cores_bodies(client, serve):
    # The texts are the C core's (docs/KEYS.md "HTTP"), the same in Node and Go.
    app = PaymentApp()
    srv = serve(redisx.wsgi.IdempotencyMiddleware(app, client, namespace="texts", required=True))
    assert srv.request("POST", "/pay", b"x")[2] == b"Idempotency-Key header required"
    status, headers, body = srv.request("POST", "/pay", b"x", idem("k" * 1100))
    assert (status, headers["content-type"], body) == (400, "text/plain; charset=utf-8", b"Invalid Idempotency-Key")
    assert srv.request("POST", "/pay", b"x", idem("t-1"))[0] == 201
    assert srv.request("POST", "/pay", b"y", idem("t-1"))[2] == b"Idempotency-Key was used with a different request"
    assert app.runs == 1


def test_a_content_type_the_core_cannot_store_fails_the_record(client, serve):
    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain; x=\x01")])
        return [b"sent"]

    srv = serve(redisx.wsgi.IdempotencyMiddleware(app, client))
    assert srv.request("POST", "/pay", b"x", idem("ctl-1"))[2] == b"sent"
    rec = client.idempotency_begin("ctl-1", redisx.http.fingerprint("POST", "/pay", b"x"))
    assert rec.state == "NEW"  # failed, not stored with another type
    rec.fail()


def test_metadata_helpers_round_trip_and_refuse_what_no_header_carries():
    meta = redisx.http.response_metadata(201, 'text/x; q="a\\b" \u00e9')
    assert meta == '{"status":201,"content_type":"text/x; q=\\"a\\\\b\\" \u00e9"}'.encode("utf-8")
    assert redisx.http.parse_metadata(meta) == (201, 'text/x; q="a\\b" \u00e9')
    assert redisx.http.parse_metadata(b"not json") == (200, "")
    with pytest.raises(redisx.InvalidArgument):
        redisx.http.response_metadata(200, "a\r\nSet-Cookie: x")
    assert redisx.http.retry_after_seconds(0) == 1 and redisx.http.retry_after_seconds(1001) == 2


def test_wsgi_server_errors_are_not_stored(client, serve):
    app = PaymentApp()
    app.status = "503 Service Unavailable"
    srv = serve(redisx.wsgi.IdempotencyMiddleware(app, client))
    assert srv.request("POST", "/pay", b"x", idem("k-4"))[0] == 503
    app.status = "201 Created"
    status, headers, _ = srv.request("POST", "/pay", b"x", idem("k-4"))
    assert status == 201 and "idempotent-replayed" not in headers
    assert app.runs == 2


def test_wsgi_handler_exception_fails_the_record(client, serve):
    app = PaymentApp()
    app.raise_error = True
    srv = serve(redisx.wsgi.IdempotencyMiddleware(app, client))
    assert srv.request("POST", "/pay", b"x", idem("k-5"))[0] == 500  # wsgiref's error page
    app.raise_error = False
    assert srv.request("POST", "/pay", b"x", idem("k-5"))[0] == 201
    assert app.runs == 2


def test_wsgi_namespace_prefixes_the_record_key(client, serve, prefix):
    srv = serve(redisx.wsgi.IdempotencyMiddleware(PaymentApp(), client, namespace="payments"))
    srv.request("POST", "/pay", b"x", idem("k-6"))
    assert client.execute("EXISTS", f"{prefix}:idem:{{payments:k-6}}") == 1
    assert client.execute("EXISTS", f"{prefix}:idem:{{k-6}}") == 0


def test_wsgi_replays_a_response_stored_by_another_language(client, serve):
    # What the Node or Go middleware stores for the same request.
    fp = redisx.http.fingerprint("POST", "/pay", b"x")
    rec = client.idempotency_begin("k-7", fp)
    rec.complete(b"<p>go</p>", b'{"status":202,"content_type":"text/html"}')
    app = PaymentApp()
    srv = serve(redisx.wsgi.IdempotencyMiddleware(app, client))
    status, headers, body = srv.request("POST", "/pay", b"x", idem("k-7"))
    assert (status, headers["content-type"], body) == (202, "text/html", b"<p>go</p>")
    assert headers["idempotent-replayed"] == "true"
    assert app.runs == 0


def test_fingerprint_is_sha256_of_method_target_and_body():
    import hashlib

    assert redisx.http.fingerprint("POST", "/a?b=1", b"body") == hashlib.sha256(b"POST\n/a?b=1\nbody").digest()
    assert len(redisx.http.fingerprint("GET", b"/", b"")) == 32


# -- WSGI: rate limits -----------------------------------------------------------------


def hello(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"hello"]


def test_wsgi_rate_limit_middleware_sets_headers_and_answers_429(client, serve):
    lim = client.limiter("http", "sliding_log", limit=3, period=3600)
    srv = serve(redisx.wsgi.RateLimitMiddleware(hello, lim, key=lambda env: env.get("HTTP_X_USER", "anon")))
    remaining = []
    for _ in range(3):
        status, headers, body = srv.request("GET", "/", headers={"X-User": "ann"})
        assert (status, body) == (200, b"hello")
        assert headers["x-ratelimit-limit"] == "3"
        assert "retry-after" not in headers
        remaining.append(headers["x-ratelimit-remaining"])
    assert remaining == ["2", "1", "0"]
    status, headers, body = srv.request("GET", "/", headers={"X-User": "ann"})
    assert (status, body) == (429, b"Too Many Requests")
    assert headers["x-ratelimit-remaining"] == "0"
    assert 1 <= int(headers["retry-after"]) <= 3600
    assert 1 <= int(headers["x-ratelimit-reset"]) <= 3600
    assert srv.request("GET", "/", headers={"X-User": "bob"})[0] == 200


def test_wsgi_rate_limit_default_key_is_the_client_ip_and_cost_applies(client, serve):
    lim = client.limiter("http-ip", "fixed_window", limit=4, period=3600)
    srv = serve(redisx.wsgi.RateLimitMiddleware(hello, lim, cost=lambda env: 2))
    assert srv.request("GET", "/")[0] == 200
    assert srv.request("GET", "/")[0] == 200
    assert srv.request("GET", "/")[0] == 429
    assert lim.peek("127.0.0.1").remaining == 0


def test_wsgi_fail_closed_limiter_takes_the_error_path(serve):
    with redisx.Client(f"redis://127.0.0.1:{unused_port()}/0", connect_timeout=0.2, command_timeout=0.5) as dead:
        closed = dead.limiter("down", "gcra", limit=5, period=60, fail_open=False)
        srv = serve(redisx.wsgi.RateLimitMiddleware(hello, closed))
        assert srv.request("GET", "/")[0] == 500
        opened = dead.limiter("down", "gcra", limit=5, period=60)
        srv2 = serve(redisx.wsgi.RateLimitMiddleware(hello, opened))
        status, headers, _ = srv2.request("GET", "/")
        assert status == 200 and headers["x-ratelimit-remaining"] == "5"


# -- ASGI --------------------------------------------------------------------------------


async def call_asgi(app, method="POST", path="/pay", query=b"", body=b"", headers=(), client_addr=("10.0.0.1", 1)):
    scope = {"type": "http", "method": method, "path": path, "raw_path": path.encode(), "query_string": query,
             "headers": [(k.lower().encode(), v.encode()) for k, v in headers], "client": client_addr}
    chunks = [body[:1], body[1:]] if len(body) > 1 else [body]  # a body in two messages
    incoming = [{"type": "http.request", "body": c, "more_body": i < len(chunks) - 1} for i, c in enumerate(chunks)]

    async def receive():
        if incoming:
            return incoming.pop(0)
        await asyncio.sleep(3600)

    sent = []

    async def send(message):
        sent.append(message)

    await app(scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    data = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    hdrs = {k.decode().lower(): v.decode() for k, v in start["headers"]}
    return start["status"], hdrs, data


class AsgiPayments:
    def __init__(self):
        self.runs = 0
        self.entered = asyncio.Event()
        self.gate = None
        self.status = 201

    async def __call__(self, scope, receive, send):
        self.runs += 1
        self.entered.set()
        if self.gate is not None:
            await self.gate.wait()
        body = b""
        while True:
            m = await receive()
            body += m.get("body", b"")
            if not m.get("more_body"):
                break
        out = json.dumps({"run": self.runs, "body": body.decode()}).encode()
        await send({"type": "http.response.start", "status": self.status,
                    "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": out})


def test_asgi_answers_carry_the_cores_bodies(client):
    async def main():
        app = AsgiPayments()
        mw = redisx.asgi.IdempotencyMiddleware(app, client, namespace="asgi-texts", required=True)
        assert (await call_asgi(mw, body=b"x"))[2] == b"Idempotency-Key header required"
        status, headers, body = await call_asgi(mw, body=b"x", headers=[("Idempotency-Key", "k" * 1100)])
        assert (status, headers["content-type"], body) == (400, "text/plain; charset=utf-8",
                                                           b"Invalid Idempotency-Key")
        assert app.runs == 0

    asyncio.run(main())


def test_asgi_idempotency_end_to_end(client):
    async def main():
        app = AsgiPayments()
        mw = redisx.asgi.IdempotencyMiddleware(app, client, lease=30)
        s1, h1, b1 = await call_asgi(mw, body=b"hello", headers=[("Idempotency-Key", "a-1")])
        s2, h2, b2 = await call_asgi(mw, body=b"hello", headers=[("Idempotency-Key", "a-1")])
        assert (s1, s2) == (201, 201) and b1 == b2
        assert json.loads(b1) == {"run": 1, "body": "hello"}
        assert "idempotent-replayed" not in h1 and h2["idempotent-replayed"] == "true"
        assert h2["content-type"] == "application/json"
        assert (await call_asgi(mw, body=b"other", headers=[("Idempotency-Key", "a-1")]))[0] == 422
        assert app.runs == 1

        # A duplicate while the first runs: 409 with Retry-After.
        app.gate = asyncio.Event()
        app.entered.clear()
        first = asyncio.ensure_future(call_asgi(mw, body=b"x", headers=[("Idempotency-Key", "a-2")]))
        await asyncio.wait_for(app.entered.wait(), 30)
        status, headers, _ = await call_asgi(mw, body=b"x", headers=[("Idempotency-Key", "a-2")])
        assert status == 409 and 1 <= int(headers["retry-after"]) <= 30
        app.gate.set()
        assert (await first)[0] == 201
        assert app.runs == 2

        # 5xx is not stored; no header runs normally; required → 400.
        app.status = 500
        assert (await call_asgi(mw, body=b"y", headers=[("Idempotency-Key", "a-3")]))[0] == 500
        app.status = 201
        assert (await call_asgi(mw, body=b"y", headers=[("Idempotency-Key", "a-3")]))[0] == 201
        assert app.runs == 4
        assert (await call_asgi(mw, body=b"y"))[0] == 201
        assert app.runs == 5
        strict = redisx.asgi.IdempotencyMiddleware(app, client, required=True)
        assert (await call_asgi(strict, body=b"y"))[0] == 400
        assert app.runs == 5

    asyncio.run(main())


def test_asgi_fingerprint_covers_the_query(client):
    async def main():
        app = AsgiPayments()
        mw = redisx.asgi.IdempotencyMiddleware(app, client)
        assert (await call_asgi(mw, query=b"a=1", body=b"z", headers=[("Idempotency-Key", "q-1")]))[0] == 201
        assert (await call_asgi(mw, query=b"a=2", body=b"z", headers=[("Idempotency-Key", "q-1")]))[0] == 422

    asyncio.run(main())
    fp = redisx.http.fingerprint("POST", "/pay?a=1", b"z")
    assert client.idempotency_begin("q-1", fp).state == "COMPLETED"


def test_asgi_rate_limit_middleware(client):
    async def hello_app(scope, receive, send):
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"hi"})

    lim = client.limiter("asgi", "gcra", limit=2, period=3600)
    mw = redisx.asgi.RateLimitMiddleware(hello_app, lim)

    async def main():
        out = [await call_asgi(mw, method="GET") for _ in range(3)]
        other = await call_asgi(mw, method="GET", client_addr=("10.0.0.2", 1))
        return out, other

    out, other = asyncio.run(main())
    assert [o[0] for o in out] == [200, 200, 429]
    assert [o[1]["x-ratelimit-remaining"] for o in out] == ["1", "0", "0"]
    assert out[0][2] == b"hi" and out[2][2] == b"Too Many Requests"
    assert "retry-after" not in out[1][1] and int(out[2][1]["retry-after"]) >= 1
    assert other[0] == 200  # keyed by client IP
