"""The behaviours every binding shares (root README, "Same behaviour in every
language"): the Node and Go suites assert the same rules."""

from __future__ import annotations

import asyncio
import gc
import threading
import time

import pytest

import redisx
from conftest import unused_port, wait_until


def test_acquire_without_wait_waits_for_a_release(client):
    holder = client.lock("wait", ttl=60)
    threading.Timer(0.5, holder.release).start()
    lk = client.lock("wait", ttl=10)  # no wait: the default
    assert lk.fencing_token > holder.fencing_token
    lk.release()


def test_acquire_without_wait_gives_up_with_lock_held_after_the_default_10_s(client):
    holder = client.lock("giveup", ttl=60)
    start = time.monotonic()
    with pytest.raises(redisx.LockHeld):
        client.lock("giveup", ttl=10)
    elapsed = time.monotonic() - start
    assert 9.5 <= elapsed < 30, f"gave up after {elapsed:.1f} s, want the default 10"
    holder.release()


def test_a_kept_alive_lock_dropped_by_the_caller_is_renewed_until_close(redis_url, prefix, client):
    c = redisx.Client(redis_url, prefix=prefix)
    lk = c.lock("dropped", ttl=1.0).keep_alive()
    fencing = lk.fencing_token
    del lk
    gc.collect()
    time.sleep(4.0)
    gc.collect()
    info = client.lock_info("dropped")
    assert info.locked and info.fencing_token == fencing, "4 x ttl after the kept-alive Lock was dropped"
    c.close()  # stops renewal: the lease runs out on its own
    assert wait_until(lambda: not client.lock_info("dropped").locked)


def test_names_with_lone_surrogates_are_invalid_argument(client):
    for bad in ("\ud800", "\udbff", "a\udc00b"):
        with pytest.raises(redisx.InvalidArgument):
            client.try_lock(bad, ttl=1)
        with pytest.raises(redisx.InvalidArgument):
            client.idempotency_begin(bad, b"fp")
    # Well-formed text, U+FFFD included, is its UTF-8; bytes are binary names.
    a = client.try_lock("text\ufffd", ttl=10)
    b = client.try_lock(b"text\xff", ttl=10)
    a.release()
    b.release()


def test_negative_waits_are_invalid_argument(client):
    with pytest.raises(redisx.InvalidArgument):
        client.lock("neg", ttl=1, wait=-1)
    with pytest.raises(redisx.InvalidArgument):
        client.idempotency_begin("neg", b"fp", wait=-1)


def test_reconnect_backoff_reaches_the_core(redis_url):
    with pytest.raises(redisx.InvalidArgument):
        redisx.Client(redis_url, reconnect_backoff=(2.0, 1.0))
    dead = f"redis://127.0.0.1:{unused_port()}/0"  # nobody listens

    def failures(lo: float, hi: float) -> int:
        with redisx.Client(dead, reconnect_backoff=(lo, hi), connect_timeout=1.0) as c:
            time.sleep(1.5)
            return c.stats()["client"]["connect_failures"]

    slow, fast = failures(60.0, 60.0), failures(0.001, 0.01)
    # A minute between attempts leaves time for the first attempt and the
    # immediate retry only; 10 ms for many more.
    assert slow <= 3 and fast >= 10, (slow, fast)


def test_a_refused_connection_is_a_warning_and_a_disconnected_state():
    logs, states = [], []
    port = unused_port()
    c = redisx.Client(f"redis://127.0.0.1:{port}/0", on_log=logs.append, on_state=states.append)
    try:
        # Nothing drains the queue here but the client's notification thread.
        assert wait_until(lambda: logs and states)
    finally:
        c.close()
    assert all(isinstance(e, redisx.LogEntry) and e.level in ("warn", "error") and e.message for e in logs)
    first = states[0]
    assert isinstance(first, redisx.StateChange)
    assert (first.connection, first.state) == (0, "disconnected") and first.detail
    assert first.node == f"127.0.0.1:{port}"  # the node that refused


def test_state_and_log_handlers_see_a_connection_at_debug_level(redis_url):
    logs, states = [], []
    with redisx.Client(redis_url, on_log=logs.append, on_state=states.append, log_level="debug") as c:
        c.execute("PING")
        assert wait_until(lambda: any(s.state == "connected" for s in states))
    assert logs and all(e.level in ("debug", "info", "warn", "error") for e in logs)


def test_handlers_also_run_when_an_asyncio_loop_drains_the_queue(redis_url):
    states = []

    async def main() -> None:
        async with redisx.Client(redis_url, on_state=states.append) as c:
            for _ in range(20):
                await c.execute_async("PING")

    asyncio.run(main())
    assert any(s.state == "connected" for s in states)


def test_log_level_without_on_log_is_invalid(redis_url):
    with pytest.raises(redisx.InvalidArgument):
        redisx.Client(redis_url, log_level="debug")
    with pytest.raises(redisx.InvalidArgument):
        redisx.Client(redis_url, on_log=print, log_level="loud")
