"""redisx.opentelemetry against a real redis-server: spans into the SDK's
InMemorySpanExporter, metrics through an InMemoryMetricReader
(docs/OPENTELEMETRY.md is the contract these check)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
import uuid
from typing import Any, Dict, Iterator, List, Tuple

import pytest
from opentelemetry import trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

import redisx
from redisx.opentelemetry import Instrumentation, instrument, uninstrument

from conftest import unused_port, wait_until


class Otel:
    """A tracer provider into memory, a meter provider read on demand, and
    the client instrumented with both."""

    def __init__(self, client: redisx.Client) -> None:
        self.exporter = InMemorySpanExporter()
        self.tp = TracerProvider()
        self.tp.add_span_processor(SimpleSpanProcessor(self.exporter))
        self.reader = InMemoryMetricReader()
        self.mp = MeterProvider(metric_readers=[self.reader])
        self.tracer = self.tp.get_tracer("test")
        self.inst: Instrumentation = instrument(client, tracer_provider=self.tp, meter_provider=self.mp)

    def spans(self, name: str | None = None) -> List[Any]:
        return [s for s in self.exporter.get_finished_spans() if name is None or s.name == name]

    def one(self, name: str) -> Any:
        got = self.spans(name)
        assert len(got) == 1, f"{len(got)} spans named {name}: {[s.name for s in self.spans()]}"
        return got[0]

    def units(self) -> Dict[str, str]:
        """Instrument name -> unit, of the redisx scope."""
        data = self.reader.get_metrics_data()
        return {m.name: m.unit for rm in (data.resource_metrics if data else []) for sm in rm.scope_metrics
                if sm.scope.name == "redisx" for m in sm.metrics}

    def metrics(self) -> Dict[str, List[Any]]:
        """Instrument name -> data points of the redisx scope."""
        out: Dict[str, List[Any]] = {}
        data = self.reader.get_metrics_data()
        for rm in data.resource_metrics if data else []:
            for sm in rm.scope_metrics:
                if sm.scope.name != "redisx":
                    continue
                for m in sm.metrics:
                    out.setdefault(m.name, []).extend(m.data.data_points)
        return out

    def close(self) -> None:
        self.inst.uninstrument()
        self.mp.shutdown()
        self.tp.shutdown()


@pytest.fixture
def otel(client: redisx.Client) -> Iterator[Otel]:
    o = Otel(client)
    try:
        yield o
    finally:
        o.close()


def point(points: List[Any], **attrs: Any) -> Any:
    for p in points:
        if dict(p.attributes) == attrs:
            return p
    raise AssertionError(f"no point {attrs} in {[dict(p.attributes) for p in points]}")


def _stream() -> str:
    return "s-" + uuid.uuid4().hex[:8]


# ---- spans ---------------------------------------------------------------------------


def test_a_request_span_is_the_parent_of_each_operation(client: redisx.Client, otel: Otel,
                                                        redis_server: Any) -> None:
    lim = client.limiter("api", "fixed_window", limit=5, period=60)
    with otel.tracer.start_as_current_span("request") as req:
        with client.lock("job", ttl=30):
            pass
        lim.check("user-1")
        client.execute("SET", "k", "v")
    rid = req.get_span_context()
    for name in ("lock.acquire", "lock.release", "ratelimit.check", "SET"):
        s = otel.one(name)
        assert s.parent is not None and s.parent.span_id == rid.span_id, name
        assert s.context.trace_id == rid.trace_id
        assert s.kind == SpanKind.CLIENT
        assert s.attributes["db.system.name"] == "redis"
        assert s.attributes["db.operation.name"] == name
        assert s.attributes["db.namespace"] == "0"
        assert s.attributes["server.address"] == "127.0.0.1"
        assert s.attributes["server.port"] == redis_server.port
        assert s.status.status_code == StatusCode.UNSET
        assert "error.type" not in s.attributes
    assert otel.one("ratelimit.check").attributes["redisx.name"] == "api"
    # never a key or a lock name
    for s in otel.spans():
        assert "job" not in s.attributes.values() and "user-1" not in s.attributes.values()


def test_asyncio_calls_are_children_of_the_awaiting_tasks_span(client: redisx.Client, otel: Otel) -> None:
    lim = client.limiter("api", "gcra", limit=100, period=60)

    async def request(i: int) -> Tuple[int, int]:
        with otel.tracer.start_as_current_span(f"request-{i}") as req:
            lk = await client.acquire_async(f"job-{i}", ttl=30)
            await lim.check_async(f"user-{i}")
            await client.execute_async("PING")
            await lk.release_async()
            return i, req.get_span_context().span_id

    async def main() -> List[Tuple[int, int]]:
        return await asyncio.gather(*(request(i) for i in range(8)))

    parents = dict(asyncio.run(main()))
    for name in ("lock.acquire", "ratelimit.check", "PING", "lock.release"):
        spans = otel.spans(name)
        assert len(spans) == 8, name
        assert sorted(s.parent.span_id for s in spans) == sorted(parents.values()), name
    # each task's acquire sits under that task's request (no cross-talk)
    req = {s.name: s.context.span_id for s in otel.spans() if s.name.startswith("request-")}
    for s in otel.spans("lock.acquire"):
        assert s.parent.span_id in req.values()


def test_sync_calls_from_threads_keep_their_threads_parent(client: redisx.Client, otel: Otel) -> None:
    seen: Dict[int, int] = {}

    def work(i: int) -> None:
        with otel.tracer.start_as_current_span(f"t-{i}") as req:
            client.execute("PING")
            seen[i] = req.get_span_context().span_id

    threads = [threading.Thread(target=work, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(s.parent.span_id for s in otel.spans("PING")) == sorted(seen.values())


def test_lock_acquire_carries_the_fencing_token(client: redisx.Client, otel: Otel) -> None:
    lk = client.acquire("job", ttl=30)
    s = otel.one("lock.acquire")
    assert s.attributes["redisx.lock.fencing_token"] == lk.fencing_token > 0
    lk.release()


def test_a_held_lock_on_try_lock_is_an_answer_and_after_a_wait_an_error(client: redisx.Client, otel: Otel) -> None:
    lk = client.acquire("job", ttl=30)
    otel.exporter.clear()
    with pytest.raises(redisx.LockHeld):
        client.try_lock("job", ttl=30)
    s = otel.one("lock.acquire")
    assert "error.type" not in s.attributes and s.status.status_code == StatusCode.UNSET
    assert "redisx.lock.fencing_token" not in s.attributes
    otel.exporter.clear()
    with pytest.raises(redisx.LockHeld):
        client.acquire("job", ttl=30, wait=0.05)
    s = otel.one("lock.acquire")
    assert s.attributes["error.type"] == "ERR_LOCKED"
    assert s.status.status_code == StatusCode.ERROR
    lk.release()


def test_rate_limit_check_says_allowed_and_remaining(client: redisx.Client, otel: Otel) -> None:
    lim = client.limiter("login", "sliding_log", limit=2, period=60)
    for _ in range(3):
        lim.check("user-1")
    got = [(s.attributes["redisx.ratelimit.allowed"], s.attributes["redisx.ratelimit.remaining"])
           for s in otel.spans("ratelimit.check")]
    assert got == [(True, 1), (True, 0), (False, 0)]
    denied = otel.spans("ratelimit.check")[2]
    assert "error.type" not in denied.attributes and denied.status.status_code == StatusCode.UNSET
    lim.peek("user-1")
    lim.reset("user-1")
    assert otel.one("ratelimit.peek").attributes["redisx.name"] == "login"
    assert "redisx.ratelimit.allowed" not in otel.one("ratelimit.peek").attributes
    otel.one("ratelimit.reset")


def test_idempotency_spans(client: redisx.Client, otel: Otel) -> None:
    with client.idempotency("order-1", "fp") as rec:
        assert rec.is_new
    async def again() -> None:
        rec = await client.idempotency_begin_async("order-2", "fp")
        await rec.fail_async()
    asyncio.run(again())
    assert len(otel.spans("idempotency.begin")) == 2
    otel.one("idempotency.complete")
    otel.one("idempotency.fail")


def test_cache_spans_carry_the_cores_outcome(client: redisx.Client, otel: Otel) -> None:
    cache = client.cache("users", ttl=60)
    assert cache.get("u1") is None
    loads: List[Any] = []

    def load() -> Dict[str, int]:
        with otel.tracer.start_as_current_span("db.query") as q:
            loads.append(q)
        return {"id": 1}

    with otel.tracer.start_as_current_span("request") as req:
        assert cache.get_or_load("u1", load) == {"id": 1}
        assert cache.get_or_load("u1", load) == {"id": 1}
    cache.set("u2", "x")
    cache.delete("u2")
    assert [s.attributes["redisx.cache.outcome"] for s in otel.spans("cache.get")] == ["miss"]
    fetches = otel.spans("cache.fetch")
    assert [s.attributes["redisx.cache.outcome"] for s in fetches] == ["load", "hit_l1"]
    for s in fetches:
        assert s.parent.span_id == req.get_span_context().span_id
        assert s.attributes["redisx.name"] == "users"
    # the loader ran inside the cache.fetch span
    assert otel.one("db.query").parent.span_id == fetches[0].context.span_id
    assert otel.one("cache.set").attributes["redisx.name"] == "users"
    otel.one("cache.delete")

    def not_found() -> Any:
        raise redisx.NotFound("u3")

    with pytest.raises(redisx.NotFound):
        cache.get_or_load("u3", not_found)
    miss = otel.spans("cache.fetch")[-1]
    assert "error.type" not in miss.attributes and miss.status.status_code == StatusCode.UNSET


def test_async_cache_spans(client: redisx.Client, otel: Otel) -> None:
    cache = client.cache("items", ttl=60, l1_entries=0)

    async def load() -> str:
        with otel.tracer.start_as_current_span("db.query"):
            await asyncio.sleep(0)
        return "v"

    async def main() -> Tuple[int, int]:
        with otel.tracer.start_as_current_span("request") as req:
            await cache.set_async("a", "v0")
            assert await cache.get_async("a") == "v0"
            await cache.delete_async("a")
            assert await cache.get_or_load_async("a", load) == "v"
            assert await cache.get_or_load_async("a", load) == "v"
            return req.get_span_context().span_id, 0

    rid, _ = asyncio.run(main())
    assert [s.attributes["redisx.cache.outcome"] for s in otel.spans("cache.fetch")] == ["load", "hit_l2"]
    assert otel.one("cache.get").attributes["redisx.cache.outcome"] == "hit_l2"
    for s in otel.spans():
        if s.name.startswith("cache."):
            assert s.parent.span_id == rid, s.name
    assert otel.one("db.query").parent.span_id == otel.spans("cache.fetch")[0].context.span_id


def test_a_server_error_names_its_redis_prefix(client: redisx.Client, otel: Otel) -> None:
    client.execute("LPUSH", "list", "x")
    with pytest.raises(redisx.ServerError):
        client.execute("get", "list")
    s = otel.one("GET")
    assert s.attributes["db.operation.name"] == "GET"
    assert s.attributes["error.type"] == "ERR_SERVER"
    assert s.attributes["db.response.status_code"] == "WRONGTYPE"
    assert s.status.status_code == StatusCode.ERROR and "WRONGTYPE" in s.status.description


def test_an_unreachable_server_is_an_error_span(prefix: str) -> None:
    port = unused_port()
    c = redisx.Client.from_url(f"redis://127.0.0.1:{port}/2", prefix=prefix, command_timeout=0.5,
                               connect_timeout=0.2)
    o = Otel(c)
    try:
        with pytest.raises(redisx.RedisxError) as ei:
            c.execute("PING")
        s = o.one("PING")
        assert s.attributes["error.type"] == ei.value.name
        assert s.attributes["error.type"] in ("ERR_CONNECTION", "ERR_TIMEOUT")
        assert s.attributes["server.port"] == port and s.attributes["db.namespace"] == "2"
        assert s.status.status_code == StatusCode.ERROR
        hist = o.metrics()["db.client.operation.duration"]
        assert point(hist, **{"db.system.name": "redis", "db.operation.name": "PING",
                              "error.type": ei.value.name}).count == 1
    finally:
        o.close()
        c.close()


def test_a_unix_socket_is_the_address_without_a_port() -> None:
    from redisx.opentelemetry import server_attributes
    assert server_attributes("unix:///run/redis.sock?db=3") == {
        "db.system.name": "redis", "db.namespace": "3", "server.address": "/run/redis.sock"}
    assert server_attributes("redis+cluster://h1:7000,h2:7001")["server.address"] == "h1"
    assert server_attributes("redis://x:1/0", sentinels=["s1:26380"])["server.port"] == 26380


# ---- streams ---------------------------------------------------------------------------


def _consume(client: redisx.Client, s: str, n: int, handler: Any) -> None:
    cons = client.consumer(s, "g")
    done: List[str] = []

    def h(m: redisx.Message) -> None:
        handler(m)
        done.append(m.id)

    def watch() -> None:
        wait_until(lambda: len(done) >= n, timeout=60)
        cons.stop()

    t = threading.Thread(target=watch, daemon=True)
    t.start()
    cons.run(h, workers=2)
    t.join()
    cons.close()


def test_a_handled_message_links_to_its_producers_span(client: redisx.Client, otel: Otel) -> None:
    s = _stream()
    client.create_group(s, "g", start="0")
    with otel.tracer.start_as_current_span("request"):
        mid = client.publish(s, {"n": 1})
    pub = otel.one("stream.publish")
    assert pub.kind == SpanKind.PRODUCER
    assert pub.attributes["messaging.system"] == "redis"
    assert pub.attributes["messaging.destination.name"] == s
    assert pub.attributes["messaging.message.id"] == mid
    inner: List[Any] = []
    headers: List[Dict[str, bytes]] = []

    def handler(m: redisx.Message) -> None:
        headers.append(m.headers)
        with otel.tracer.start_as_current_span("work") as w:
            inner.append(w)

    _consume(client, s, 1, handler)
    assert wait_until(lambda: len(otel.spans("stream.handle")) == 1)
    h = otel.one("stream.handle")
    pc = pub.get_span_context()
    # W3C: version 00, the publish span's ids, the sampled bit (the SDK may
    # add Level 2's "random" bit: 03)
    tp = headers[0]["traceparent"].decode()
    assert tp[:52] == f"00-{pc.trace_id:032x}-{pc.span_id:016x}"
    assert tp[52] == "-" and int(tp[53:], 16) & 1 == 1
    assert h.kind == SpanKind.CONSUMER
    assert h.parent is None  # a new trace
    assert h.context.trace_id != pc.trace_id
    assert [(l.context.trace_id, l.context.span_id) for l in h.links] == [(pc.trace_id, pc.span_id)]
    assert h.attributes["messaging.message.id"] == mid
    assert h.attributes["messaging.consumer.group.name"] == "g"
    assert h.attributes["messaging.destination.name"] == s
    # the handler ran inside the handle span
    work = otel.one("work")
    assert work.parent.span_id == h.context.span_id
    # on the wire it is the field Node and Go read (docs/KEYS.md, "Payload form")
    (entry_id, fields), = client.execute("XRANGE", f"{client.prefix}:stream:{{{s}}}", "-", "+")
    wire = dict(zip(fields[::2], fields[1::2]))
    assert wire[b"rx-h-traceparent"] == headers[0]["traceparent"]


def test_a_batch_is_one_span_and_every_message_carries_it(client: redisx.Client, otel: Otel) -> None:
    s = _stream()
    client.create_group(s, "g", start="0")
    client.publish_batch(s, [{"n": i} for i in range(3)])
    pub = otel.one("stream.publish")
    assert pub.attributes["messaging.batch.message_count"] == 3
    assert "messaging.message.id" not in pub.attributes
    _consume(client, s, 3, lambda m: None)
    assert wait_until(lambda: len(otel.spans("stream.handle")) == 3)
    for h in otel.spans("stream.handle"):
        assert [l.context.span_id for l in h.links] == [pub.context.span_id]


def test_the_callers_own_traceparent_is_kept(client: redisx.Client, otel: Otel) -> None:
    s = _stream()
    client.create_group(s, "g", start="0")
    own = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    client.publish(s, {"n": 1}, headers={"traceparent": own})
    got: List[bytes] = []
    _consume(client, s, 1, lambda m: got.append(m.headers["traceparent"]))
    assert got == [own.encode()]
    assert wait_until(lambda: len(otel.spans("stream.handle")) == 1)
    link = otel.one("stream.handle").links[0].context
    assert (link.trace_id, link.span_id) == (0x0af7651916cd43dd8448eb211c80319c, 0xb7ad6b7169203331)


def test_fetch_spans_run_from_hand_out_to_settle(client: redisx.Client, otel: Otel) -> None:
    s = _stream()
    client.create_group(s, "g", start="0")
    client.publish(s, {"n": 1})
    pub = otel.one("stream.publish")
    cons = client.consumer(s, "g")
    try:
        msgs: List[redisx.Message] = []
        assert wait_until(lambda: bool(msgs.extend(cons.fetch(1, timeout=1.0)) or msgs))
        assert otel.spans("stream.handle") == []  # open until the settle
        assert not trace.get_current_span().get_span_context().is_valid  # not made current
        msgs[0].ack()
    finally:
        cons.stop()
        cons.close()
    h = otel.one("stream.handle")
    assert h.parent is None and [l.context.span_id for l in h.links] == [pub.context.span_id]
    assert h.attributes["messaging.message.id"] == msgs[0].id
    assert h.status.status_code == StatusCode.UNSET


def test_an_async_handler_runs_in_its_handle_span_and_its_error_is_other(client: redisx.Client,
                                                                         otel: Otel) -> None:
    s = _stream()
    client.create_group(s, "g", start="0")
    client.publish(s, {"n": 1})
    cons = client.consumer(s, "g", max_deliveries=1)
    seen: List[Any] = []

    async def handler(m: redisx.Message) -> None:
        seen.append(trace.get_current_span().get_span_context().span_id)
        await asyncio.sleep(0)
        raise ValueError("bad order")

    async def main() -> None:
        task = asyncio.ensure_future(cons.run_async(handler))
        await asyncio.get_running_loop().run_in_executor(
            None, lambda: wait_until(lambda: len(otel.spans("stream.handle")) == 1, timeout=60))
        await cons.stop_async()
        await asyncio.wait_for(task, 60)

    asyncio.run(main())
    cons.close()
    h = otel.one("stream.handle")
    assert seen == [h.context.span_id]
    assert h.attributes["error.type"] == "_OTHER"
    assert h.status.status_code == StatusCode.ERROR and "bad order" in h.status.description


# ---- metrics ---------------------------------------------------------------------------


def test_metrics_after_known_operations(client: redisx.Client, otel: Otel) -> None:
    with client.lock("job", ttl=30):
        with pytest.raises(redisx.LockHeld):
            client.try_lock("job", ttl=30)
    lim = client.limiter("api", "sliding_log", limit=2, period=60)
    for _ in range(3):
        lim.check("user-1")
    client.execute("SET", "k", "v")
    cache = client.cache("pages", ttl=60)
    cache.set("home", "<html>")
    m = otel.metrics()
    ops = m["redisx.operations"]
    assert point(ops, primitive="lock", operation="acquire", status="ok").value == 1
    assert point(ops, primitive="lock", operation="acquire", status="rejected").value == 1
    assert point(ops, primitive="ratelimit", operation="check", status="ok").value == 2
    assert point(ops, primitive="ratelimit", operation="check", status="rejected").value == 1
    assert point(m["redisx.lock.acquisitions"], status="acquired").value == 1
    assert point(m["redisx.lock.acquisitions"], status="held").value == 1
    assert point(m["redisx.ratelimit.requests"], limiter="api", status="rejected").value == 1
    assert point(m["redisx.connections.up"]).value >= 1
    assert "redisx.operations.in_flight" in m
    hist = m["db.client.operation.duration"]
    base = {"db.system.name": "redis"}
    assert point(hist, **base, **{"db.operation.name": "lock.acquire"}).count == 2  # a held try-lock: no error
    assert point(hist, **base, **{"db.operation.name": "ratelimit.check"}).count == 3
    assert point(hist, **base, **{"db.operation.name": "SET"}).count == 1
    # names and units are the core's (redisx_metrics_otel_name / _unit), as Node's and Go's
    units = otel.units()
    assert units["db.client.operation.duration"] == "s"
    assert units["redisx.operations"] == "{operation}"
    assert units["redisx.cache.l1.bytes"] == "By"
    assert "redisx.locks.held" in units and "redisx.node.connections.up" in units
    assert point(m["redisx.cache.l1.entries"], cache="pages").value == 1
    p = point(hist, **base, **{"db.operation.name": "lock.release"})
    assert list(p.explicit_bounds) == [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0]
    assert p.count == 1 and 0 < p.sum < 5


def test_one_core_snapshot_per_collection(client: redisx.Client, otel: Otel) -> None:
    client.execute("PING")
    observer = otel.inst._hook.observer
    before = observer.snapshots
    otel.metrics()
    assert observer.snapshots == before + 1
    otel.metrics()
    assert observer.snapshots == before + 2


# ---- lifecycle ---------------------------------------------------------------------------


def test_uninstrument_stops_spans_and_observations(client: redisx.Client) -> None:
    o = Otel(client)
    client.execute("PING")
    observer = o.inst._hook.observer
    o.metrics()
    taken = observer.snapshots
    o.inst.uninstrument()
    o.exporter.clear()
    client.execute("PING")
    assert o.spans() == []
    o.metrics()
    assert observer.snapshots == taken  # the callbacks read nothing any more
    assert point(o.metrics()["db.client.operation.duration"],
                 **{"db.system.name": "redis", "db.operation.name": "PING"}).count == 1
    o2 = Otel(client)  # again after uninstrument
    uninstrument(client)
    client.execute("PING")
    assert o2.spans() == []
    o.close()
    o2.close()


def test_bad_arguments(client: redisx.Client, redis_url: str) -> None:
    o = Otel(client)
    try:
        with pytest.raises(redisx.InvalidArgument):
            instrument(client, tracer_provider=o.tp, meter_provider=o.mp)
    finally:
        o.close()
    with pytest.raises(redisx.InvalidArgument):
        instrument(client, tracer_provider=object(), meter_provider=False)
    with pytest.raises(redisx.InvalidArgument):
        instrument("not a client")  # type: ignore[arg-type]
    c = redisx.Client.from_url(redis_url)
    c.close()
    with pytest.raises(redisx.InvalidArgument):
        instrument(c)


def test_spans_only_or_metrics_only(client: redisx.Client) -> None:
    exporter = InMemorySpanExporter()
    tp = TracerProvider()
    tp.add_span_processor(SimpleSpanProcessor(exporter))
    inst = instrument(client, tracer_provider=tp, meter_provider=False)
    client.execute("PING")
    inst.uninstrument()
    assert [s.name for s in exporter.get_finished_spans()] == ["PING"]
    reader = InMemoryMetricReader()
    mp = MeterProvider(metric_readers=[reader])
    inst = instrument(client, tracer_provider=False, meter_provider=mp)
    client.execute("PING")
    inst.uninstrument()
    assert [s.name for s in exporter.get_finished_spans()] == ["PING"]
    names = {m.name for rm in reader.get_metrics_data().resource_metrics for sm in rm.scope_metrics
             for m in sm.metrics}
    assert "db.client.operation.duration" in names
    mp.shutdown()
    tp.shutdown()


def test_redisx_imports_without_opentelemetry_and_the_module_says_what_is_missing() -> None:
    code = (
        "import sys\n"
        "sys.modules['opentelemetry'] = None  # as if not installed\n"
        "import redisx\n"
        "redisx.Client\n"
        "try:\n"
        "    import redisx.opentelemetry\n"
        "except ImportError as e:\n"
        "    print('ImportError:', e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         env=dict(os.environ))
    assert out.returncode == 0, out.stderr
    assert "redisx.opentelemetry needs opentelemetry-api" in out.stdout
    assert "redisx-client[opentelemetry]" in out.stdout
