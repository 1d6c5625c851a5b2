"""Events reach a Python callable; stats() is the core's snapshot."""

from __future__ import annotations

import asyncio
import threading
import urllib.parse

import pytest

import redisx


@pytest.fixture
def recorder(redis_url, prefix):
    events = []
    threads = set()

    def on_event(ev):
        events.append(ev)
        threads.add(threading.current_thread() is threading.main_thread())

    c = redisx.Client(redis_url, prefix=prefix, on_event=on_event)
    try:
        yield c, events, threads
    finally:
        c.close()


def test_events_reach_the_callable_with_their_fields(recorder, redis_url):
    c, events, threads = recorder
    lk = c.lock("ev", ttl=5)
    with pytest.raises(redisx.LockHeld):
        c.try_lock("ev", ttl=5)
    lk.release()
    c.execute("PING")
    # An operation's event is emitted before its completion: no waiting needed.
    got = [(e.primitive, e.operation, e.status) for e in events]
    assert got == [
        ("lock", "acquire", "OK"),
        ("lock", "acquire", "ERR_LOCKED"),
        ("lock", "release", "OK"),
        ("client", "command", "OK"),
    ]
    assert events[1].code == redisx._rawc.REDISX_ERR_LOCKED and not events[1].ok
    assert all(e.duration_ns > 0 and e.round_trips >= 1 and e.key is None for e in events)
    node = urllib.parse.urlsplit(redis_url).netloc
    assert [e.node for e in events] == [node] * 4, "each event names the server its command went to"
    assert not any(e.fail_open for e in events)
    # The I/O thread, or the calling thread for a blocking call that did its
    # own round trip on an idle connection (the core's direct path).
    assert threads and threads <= {False, True}


def test_a_blocking_call_inside_on_event_raises_would_block_on_either_thread(redis_url, prefix):
    got = []
    inside = []

    def on_event(ev):
        if inside:
            return
        inside.append(1)
        try:
            c.execute("PING")
        except redisx.RedisxError as e:
            got.append((e, threading.current_thread() is threading.main_thread()))

    c = redisx.Client(redis_url, prefix=prefix, on_event=on_event)
    try:
        c.execute("PING")  # its event runs on this thread (direct path) or the I/O thread
        assert c.execute("PING") == "PONG"  # the client still works
        asyncio.run(c.execute_async("PING"))  # an I/O-thread event as well
    finally:
        c.close()
    assert got and all(isinstance(e, redisx.WouldBlock) for e, _ in got)


def test_event_keys_carry_the_lock_name(redis_url, prefix):
    events = []
    with redisx.Client(redis_url, prefix=prefix, on_event=events.append, event_keys=True) as c:
        c.try_lock("named", ttl=5).release()
    assert [e.key for e in events] == ["named", "named"]


def test_a_failing_callable_is_reported_and_the_client_keeps_working(redis_url, prefix, monkeypatch):
    reported = []
    monkeypatch.setattr("sys.unraisablehook", lambda u: reported.append(u.exc_value))
    calls = []

    def bad(ev):
        calls.append(ev)
        raise RuntimeError("callback bug")

    with redisx.Client(redis_url, prefix=prefix, on_event=bad) as c:
        c.try_lock("x", ttl=5).release()
        assert c.execute("PING") == "PONG"
    assert len(calls) == 3
    assert len(reported) == 3 and all(isinstance(e, RuntimeError) for e in reported)


def test_blocking_calls_inside_on_event_raise_would_block(redis_url, prefix):
    got = []
    holder = {}

    def on_event(ev):
        if ev.operation == "command":
            try:
                holder["c"].execute("PING")
            except redisx.RedisxError as e:
                got.append(type(e))
            try:
                holder["c"].close()
            except redisx.RedisxError as e:
                got.append(type(e))

    with redisx.Client(redis_url, prefix=prefix, on_event=on_event) as c:
        holder["c"] = c
        c.execute("PING")
        assert not c.closed
    assert got == [redisx.WouldBlock, redisx.WouldBlock]


def test_async_calls_inside_on_event_are_allowed(redis_url, prefix):
    done = threading.Event()
    holder = {}

    def on_event(ev):
        if ev.operation == "command" and "lock" not in holder:
            holder["lock"] = True
            # submit from the I/O thread: it completes into the queue
            redisx._rawc.pyx_acquire_async(holder["c"]._ctx, "from-callback", 5000, 0, 0)
        elif ev.operation == "acquire":
            holder["status"] = ev.status
            done.set()

    with redisx.Client(redis_url, prefix=prefix, on_event=on_event) as c:
        holder["c"] = c
        c.execute("PING")
        assert done.wait(15)
        assert holder["status"] == "OK"
        assert c.lock_info("from-callback").locked


def test_stats_is_a_dict_of_series_and_client_gauges(client):
    for i in range(5):
        client.try_lock(f"s{i}", ttl=5).release()
    with client.lock("busy", ttl=5):
        for _ in range(3):
            with pytest.raises(redisx.LockHeld):
                client.try_lock("busy", ttl=5)
    client.execute("PING")
    s = client.stats()
    acq = s["lock.acquire"]
    assert (acq["calls"], acq["ok"], acq["rejected"], acq["errors"]) == (9, 6, 3, 0)
    assert acq["timeouts"] == 0 and acq["fail_open"] == 0 and acq["round_trips"] >= 9
    assert 0 < acq["p50_ns"] <= acq["p90_ns"] <= acq["p99_ns"]
    assert sum(n for _, n in acq["buckets"]) == 9
    assert s["lock.release"]["ok"] == 6
    assert s["client.command"]["calls"] == 1
    assert set(s) >= {"client.command", "lock.acquire", "lock.release", "lock.extend", "lock.renew",
                      "lock.inspect", "client"}
    gauges = s["client"]
    assert set(gauges) == {"connects", "disconnects", "connect_failures", "script_reloads", "in_flight",
                           "connections_up", "circuit_opens", "circuit_rejected", "circuits_open", "wakeups",
                           "cluster_moved", "cluster_ask", "cluster_retries", "cluster_refreshes"}
    assert gauges["circuit_opens"] == gauges["circuits_open"] == 0  # no breaker unless asked for
    assert gauges["connects"] >= 1 and gauges["connections_up"] == 1 and gauges["in_flight"] == 0


def test_blocking_rate_limit_and_idempotency_calls_inside_on_event_raise_would_block(redis_url, prefix):
    got = []
    holder = {}

    def on_event(ev):
        if ev.operation == "command" and not got:
            for call in (lambda: holder["lim"].check("k"), lambda: holder["lim"].peek("k"),
                         lambda: holder["lim"].reset("k"), lambda: holder["c"].idempotency_begin("k", b"fp"),
                         lambda: holder["rec"].complete(b"x"), lambda: holder["rec"].fail()):
                try:
                    call()
                    got.append(None)
                except redisx.RedisxError as e:
                    got.append(type(e))

    with redisx.Client(redis_url, prefix=prefix, on_event=on_event) as c:
        holder["c"] = c
        holder["lim"] = c.limiter("cb", "gcra", limit=5, period=60)
        holder["rec"] = c.idempotency_begin("cb-rec", b"fp")
        c.execute("PING")
        assert holder["lim"].peek("k").remaining == 5  # nothing was spent
        holder["rec"].complete(b"after")  # still NEW and owned
    assert got == [redisx.WouldBlock] * 6
