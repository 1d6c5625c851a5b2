"""Streams against a real redis-server: publish/consume round trips (threads,
asyncio, the decorator), retries by delivery count then the dead-letter
stream, a graceful stop that loses nothing, bad input."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid

import pytest

import redisx

from conftest import wait_until


def _skey(client: redisx.Client, stream: str, suffix: str = "") -> bytes:
    return f"{client.prefix}:stream:{{{stream}}}{suffix}".encode()


def _pending(client: redisx.Client, stream: str, group: str) -> int:
    return client.execute("XPENDING", _skey(client, stream), group)[0]


def _stream() -> str:
    return "s-" + uuid.uuid4().hex[:8]


def _stop_when(cons: redisx.Consumer, pred) -> threading.Thread:
    def watch() -> None:
        wait_until(pred, timeout=60)
        cons.stop()
    t = threading.Thread(target=watch, daemon=True)
    t.start()
    return t


def test_publish_consume_round_trip_threads(client: redisx.Client) -> None:
    s = _stream()
    client.create_group(s, "g", start="0")
    ids = client.publish_batch(s, [{"n": i} for i in range(40)])
    assert len(ids) == 40 and ids == sorted(ids, key=lambda i: tuple(map(int, i.split("-"))))
    raw = client.publish(s, fields={"k": b"v\0w"}, headers={"type": "raw"})
    binary = client.publish(s, b"\x00\xff", codec="bytes", headers={"traceparent": "00-1"})
    seen: dict = {}
    lock = threading.Lock()

    with client.consumer(s, "g") as cons:
        def handle(msg: redisx.Message) -> None:
            with lock:
                seen[msg.id] = msg
        _stop_when(cons, lambda: len(seen) == 42)
        cons.run(handle, workers=4)

    assert len(seen) == 42
    assert [seen[i].payload for i in ids] == [{"n": i} for i in range(40)]
    m = seen[ids[0]]
    assert m.codec == "json" and m.delivery_count == 1 and m.stream == s and m.fields == {} and m.settled
    r = seen[raw]
    assert r.payload is None and r.raw_payload is None and r.fields == {b"k": b"v\0w"} and r.headers == {"type": b"raw"}
    b = seen[binary]
    assert b.payload == b"\x00\xff" and b.codec == "bytes" and b.headers == {"traceparent": b"00-1"}
    assert _pending(client, s, "g") == 0


def test_async_handler_and_decorator(client: redisx.Client) -> None:
    s = _stream()
    client.create_group(s, "g", start="0")
    client.publish_batch(s, list(range(30)))
    got: list = []

    @client.stream_handler(s, "g", workers=8)
    async def handle(msg: redisx.Message) -> None:
        await asyncio.sleep(0.001)
        got.append(msg.payload)
        if len(got) == 30:
            asyncio.get_running_loop().create_task(handle.stop_async())

    assert isinstance(handle, redisx.Consumer)
    asyncio.run(asyncio.wait_for(handle.run_async(), 60))
    handle.close()
    assert sorted(got) == list(range(30))
    assert _pending(client, s, "g") == 0


def test_failing_handler_is_retried_then_dead_lettered(client: redisx.Client) -> None:
    s = _stream()
    client.create_group(s, "g", start="0")
    mid = client.publish(s, {"x": 1}, headers={"type": "t"})
    counts: list = []
    dlq = _skey(client, s, ":dlq")
    with client.consumer(s, "g", max_deliveries=3, retry_backoff=(0.01, 0.04)) as cons:
        def handle(msg: redisx.Message) -> None:
            counts.append(msg.delivery_count)
            raise RuntimeError("boom")
        _stop_when(cons, lambda: client.execute("XLEN", dlq) == 1)
        cons.run(handle, workers=1)
    assert counts == [1, 2, 3]
    entry = client.execute("XRANGE", dlq, "-", "+")[0][1]
    f = dict(zip(entry[::2], entry[1::2]))
    assert f[b"rx-dlq-id"] == mid.encode() and f[b"rx-dlq-deliveries"] == b"3"
    assert f[b"rx-dlq-error"] == b"RuntimeError: boom" and f[b"rx-codec"] == b"json" and f[b"rx-h-type"] == b"t"
    assert _pending(client, s, "g") == 0


def test_dead_letter_exception_and_manual_settling(client: redisx.Client) -> None:
    s = _stream()
    client.create_group(s, "g", start="0")
    client.publish_batch(s, ["poison", "ok"])
    cons = client.consumer(s, "g")
    msgs = []
    assert wait_until(lambda: msgs.extend(cons.fetch(10, 1.0)) or len(msgs) == 2)
    for m in msgs:
        if m.payload == "ok":
            m.ack()
            with pytest.raises(redisx.InvalidArgument):
                m.ack()
        else:
            m.dead_letter("poison")
    assert client.execute("XLEN", _skey(client, s, ":dlq")) == 1
    assert _pending(client, s, "g") == 0
    client.publish(s, "again")
    done = []

    def handle(msg: redisx.Message) -> None:
        done.append(msg.id)
        raise redisx.DeadLetter("at once")
    _stop_when(cons, lambda: len(done) == 1)
    cons.run(handle)
    cons.close()
    assert client.execute("XLEN", _skey(client, s, ":dlq")) == 2


def test_graceful_stop_loses_nothing(client: redisx.Client) -> None:
    s = _stream()
    client.create_group(s, "g", start="0")
    n = 300
    client.publish_batch(s, list(range(n)))
    handled: dict = {}
    lock = threading.Lock()

    def handle(msg: redisx.Message) -> None:
        time.sleep(0.002)
        with lock:
            handled[msg.id] = handled.get(msg.id, 0) + 1

    a = client.consumer(s, "g", name="a")
    _stop_when(a, lambda: len(handled) >= 50)
    a.run(handle, workers=8)
    a.close()
    assert _pending(client, s, "g") == 0, "every message handed out is settled by the stop"
    assert len(handled) < n
    b = client.consumer(s, "g", name="b")
    _stop_when(b, lambda: len(handled) >= n)
    b.run(handle, workers=4)
    b.close()
    assert len(handled) == n and set(handled.values()) == {1}


def test_bad_input_raises_invalid_argument(client: redisx.Client) -> None:
    s = _stream()
    client.create_group(s, "g", start="0")
    bad = [
        lambda: client.publish("", 1),
        lambda: client.publish(s, fields={"rx-x": "v"}),
        lambda: client.publish(s),
        lambda: client.publish(s, object()),
        lambda: client.publish(s, 3, codec="bytes"),
        lambda: client.publish(s, 1, codec="nope"),
        lambda: client.publish(s, 1, headers={"": "v"}),
        lambda: client.publish(s, 1, maxlen=5, maxage=1),
        lambda: client.publish_batch(s, []),
        lambda: client.consumer(s, "g", max_deliveries=0),
        lambda: client.consumer(s, "g", bogus=1),
        lambda: client.consumer(s, "g\0"),
        lambda: client.consumer(s, "g").run(lambda m: None, workers=0),
        lambda: client.consumer(s, "g").run(None),
    ]
    for i, f in enumerate(bad):
        with pytest.raises(redisx.InvalidArgument):
            f()
            pytest.fail(f"case {i} did not raise")
    with pytest.raises(redisx.ServerError, match="NOGROUP"):
        client.consumer(s + "-none", "g").run(lambda m: None)


def test_stop_with_a_blocked_read_returns_promptly(client: redisx.Client) -> None:
    s = _stream()
    client.create_group(s, "g")
    cons = client.consumer(s, "g", block=30.0)
    t = threading.Thread(target=cons.run, args=(lambda m: None,), daemon=True)
    t.start()
    time.sleep(0.2)  # let the read block (not an assertion)
    start = time.monotonic()
    cons.stop()
    t.join(25)
    assert not t.is_alive(), "run() did not return after stop(): the blocked read was not ended"
    assert time.monotonic() - start < 10
    cons.close()


def test_closing_the_client_ends_run(redis_url: str, prefix: str) -> None:
    c = redisx.Client.from_url(redis_url, prefix=prefix + "-close")
    s = _stream()
    c.create_group(s, "g")
    cons = c.consumer(s, "g", block=0.2)
    t = threading.Thread(target=cons.run, args=(lambda m: None,), daemon=True)
    t.start()
    c.close()
    t.join(25)
    assert not t.is_alive()
    cons.close()


def test_dead_letters_are_listed_requeued_and_purged(client: redisx.Client) -> None:
    s = _stream()
    client.create_group(s, "g", start="0")
    mid = client.publish(s, {"n": 7}, headers={"type": "t"})
    cons = client.consumer(s, "g", name="c1")
    msgs: list = []
    assert wait_until(lambda: msgs.extend(cons.fetch(1, 1.0)) or len(msgs) == 1)
    msgs[0].dead_letter("gave up")
    (entry,) = client.dead_letters(s)
    assert (entry.original_id, entry.stream, entry.group, entry.consumer, entry.error, entry.deleted) == (
        mid, s, "g", "c1", "gave up", False)
    assert (b"rx-payload", b'{"n":7}') in entry.fields and (b"rx-h-type", b"t") in entry.fields
    new_id = client.requeue_dead_letter(s, entry.id)
    assert client.dead_letters(s) == []
    again: list = []
    assert wait_until(lambda: again.extend(cons.fetch(1, 1.0)) or len(again) == 1)
    assert again[0].id == new_id and again[0].payload == {"n": 7} and again[0].headers == {"type": b"t"}
    again[0].dead_letter("twice")
    assert client.purge_dead_letters(s) == 1
    with pytest.raises(redisx.Empty):
        client.requeue_dead_letter(s, entry.id)
    cons.close()


def test_one_dead_letter_by_id_and_group_info(client: redisx.Client) -> None:
    s = _stream()
    client.create_group(s, "g", start="0")
    for n in range(3):
        client.publish(s, {"n": n})
    cons = client.consumer(s, "g", name="c1")
    msgs: list = []
    assert wait_until(lambda: msgs.extend(cons.fetch(1, 1.0)) or len(msgs) >= 1)
    msgs[0].dead_letter("bad")
    (entry,) = client.dead_letters(s)
    assert client.dead_letter(s, entry.id) == entry
    with pytest.raises(redisx.Empty):
        client.dead_letter(s, "1-1")
    more: list = []
    assert wait_until(lambda: more.extend(cons.fetch(1, 1.0)) or len(more) >= 1)  # left unsettled: pending
    info = client.group_info(s, "g")
    assert isinstance(info, redisx.GroupInfo)
    assert info.consumers == 1 and info.pending >= 1, info
    assert info.lag is None or info.lag + info.pending >= 1, info
    assert info.last_delivered_id.count("-") == 1
    with pytest.raises(redisx.Empty):
        client.group_info(s, "nosuch")
    cons.close()


def test_an_idempotent_consumer_acks_a_completed_redelivery(client: redisx.Client) -> None:
    s = _stream()
    client.create_group(s, "g", start="0")
    mid = client.publish(s, {"n": 1})
    cons = client.consumer(s, "g", name="c1", idempotent=(30.0, 60.0))
    msgs: list = []
    assert wait_until(lambda: msgs.extend(cons.fetch(1, 1.0)) or len(msgs) == 1)
    assert msgs[0].id == mid and msgs[0].taken_over is False
    msgs[0].ack()
    cons.close()
    # Its record is COMPLETED: the entry put back on the pending list is
    # acked by the core and never handed out again.
    client.execute("XCLAIM", _skey(client, s), "g", "c1", "0", mid, "FORCE")
    again = client.consumer(s, "g", name="c1", idempotent=True, min_idle=1.0)
    seen: list = []
    assert wait_until(lambda: seen.extend(again.fetch(1, 0.5)) or _pending(client, s, "g") == 0, timeout=60)
    assert seen == [], "a completed message is not handled twice"
    again.close()
    for bad in ("yes", (1.0,), (1.0, 2.0, 3.0)):
        with pytest.raises(redisx.InvalidArgument):
            client.consumer(s, "g", idempotent=bad)
