"""Blocking lock API: acquire/release, fencing, try, expiry, renewal."""

from __future__ import annotations

import threading
import time

import pytest

import redisx

from conftest import wait_until


def test_acquire_holds_the_lock_until_release(client):
    lk = client.lock("res", ttl=5.0, wait=1.0)
    info = client.lock_info("res")
    assert info.locked and info.fencing_token == lk.fencing_token
    assert 0 < info.ttl_ms <= 5000
    lk.release()
    assert lk.released
    assert not client.lock_info("res").locked


def test_with_block_releases_on_exit(client):
    with client.lock("res", ttl=5.0, wait=1.0) as lk:
        assert client.lock_info("res").locked
        assert lk.name == "res"
        assert lk.token.startswith(f"{lk.fencing_token}:")
    assert not client.lock_info("res").locked


def test_with_block_releases_when_the_body_raises(client):
    with pytest.raises(KeyError):
        with client.lock("res", ttl=5.0):
            raise KeyError("boom")
    assert not client.lock_info("res").locked


def test_fencing_tokens_strictly_increase_per_name(client):
    tokens = []
    for _ in range(5):
        with client.lock("fenced", ttl=5.0) as lk:
            tokens.append(lk.fencing_token)
    assert tokens == sorted(tokens) and len(set(tokens)) == 5
    assert tokens[0] >= 1
    assert client.lock_info("fenced").last_fencing_token == tokens[-1]
    other = client.try_lock("other-name", ttl=5.0)
    assert other.fencing_token > tokens[-1]  # from the server's clock: later is larger
    other.release()


def test_try_lock_raises_lock_held_while_held(client):
    with client.lock("busy", ttl=5.0) as lk:
        with pytest.raises(redisx.LockHeld) as ei:
            client.try_lock("busy", ttl=5.0)
        assert ei.value.name == "ERR_LOCKED"
        assert "busy" in ei.value.detail
        assert client.lock_info("busy").fencing_token == lk.fencing_token


def test_locks_are_shared_by_prefix_not_by_client(redis_url, client, prefix):
    with redisx.Client(redis_url, prefix=prefix) as same, redisx.Client(redis_url, prefix=prefix + "x") as other:
        with client.lock("shared", ttl=5.0):
            with pytest.raises(redisx.LockHeld):
                same.try_lock("shared", ttl=5.0)
            other.try_lock("shared", ttl=5.0).release()


def test_wait_acquires_once_the_holder_releases(client):
    holder = client.lock("handoff", ttl=30.0)
    threading.Timer(0.2, holder.release).start()
    lk = client.lock("handoff", ttl=5.0, wait=30.0)
    assert lk.fencing_token > holder.fencing_token
    lk.release()


def test_release_after_expiry_raises_lock_not_owned(client):
    lk = client.lock("short", ttl=0.05)
    assert wait_until(lambda: not client.lock_info("short").locked)
    with pytest.raises(redisx.LockNotOwned) as ei:
        lk.release()
    assert ei.value.name == "ERR_NOT_OWNER"


def test_extend_after_expiry_raises_lock_not_owned(client):
    lk = client.lock("short", ttl=0.05)
    assert wait_until(lambda: not client.lock_info("short").locked)
    with pytest.raises(redisx.LockNotOwned):
        lk.extend(5.0)


def test_release_after_someone_else_took_over_raises_lock_not_owned(client):
    lk = client.lock("taken", ttl=0.05)
    assert wait_until(lambda: not client.lock_info("taken").locked)
    newer = client.try_lock("taken", ttl=5.0)
    with pytest.raises(redisx.LockNotOwned):
        lk.release()
    assert client.lock_info("taken").fencing_token == newer.fencing_token  # untouched
    newer.release()


def test_with_block_reports_a_lease_lost_inside_it(client):
    with pytest.raises(redisx.LockNotOwned):
        with client.lock("lapse", ttl=0.05):
            assert wait_until(lambda: not client.lock_info("lapse").locked)


def test_extend_sets_the_remaining_lease(client):
    with client.lock("ext", ttl=1.0) as lk:
        lk.extend(60.0)
        assert lk.ttl == 60.0
        assert client.lock_info("ext").ttl_ms > 1000


def test_keep_alive_renews_past_the_ttl(client):
    lk = client.lock("renewed", ttl=1.0).keep_alive()
    t0 = time.monotonic()
    while time.monotonic() - t0 < 2.5:  # more than two leases
        info = client.lock_info("renewed")
        assert info.locked and info.fencing_token == lk.fencing_token
        time.sleep(0.1)
    assert not lk.lost
    lk.release()
    assert not client.lock_info("renewed").locked


def test_keep_alive_calls_on_lost_on_the_io_thread_when_the_lock_vanishes(client, prefix):
    fired = threading.Event()
    seen = []

    def on_lost(lock):
        seen.append((lock, threading.current_thread() is threading.main_thread()))
        fired.set()

    lk = client.lock("vanish", ttl=0.6).keep_alive(on_lost=on_lost)
    assert client.execute("DEL", f"{prefix}:lock:{{vanish}}") == 1
    assert fired.wait(15)
    assert seen == [(lk, False)]
    assert lk.lost
    with pytest.raises(redisx.LockNotOwned):
        lk.release()


def test_keep_alive_twice_is_invalid(client):
    with client.lock("twice", ttl=5.0) as lk:
        lk.keep_alive()
        with pytest.raises(redisx.InvalidArgument):
            lk.keep_alive()


def test_blocking_calls_inside_on_lost_raise_would_block(client, prefix):
    done = threading.Event()
    got = []

    def on_lost(lock):
        try:
            client.lock_info("x")
        except redisx.RedisxError as e:
            got.append(e)
        done.set()

    lk = client.lock("wb", ttl=0.6).keep_alive(on_lost=on_lost)
    client.execute("DEL", f"{prefix}:lock:{{wb}}")
    assert done.wait(15)
    assert lk.lost
    assert len(got) == 1 and isinstance(got[0], redisx.WouldBlock)


def test_threads_share_one_client_with_mutual_exclusion(client):
    inside = {"n": 0, "max": 0}
    tokens = []
    guard = threading.Lock()
    errors = []

    def worker():
        try:
            for _ in range(25):
                with client.lock("mutex", ttl=10.0, wait=60.0) as lk:
                    with guard:
                        tokens.append(lk.fencing_token)
                        inside["n"] += 1
                        inside["max"] = max(inside["max"], inside["n"])
                    time.sleep(0.001)
                    with guard:
                        inside["n"] -= 1
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors
    assert inside["max"] == 1
    assert len(tokens) == 100 and tokens == sorted(set(tokens))  # one holder at a time, each a new token
    assert client.lock_info("mutex").last_fencing_token == tokens[-1]


def test_blocking_wait_is_interruptible_and_the_interrupted_waiter_never_takes_the_lock(client):
    import _thread

    holder = client.lock("intr", ttl=30.0)

    def interrupt_once_waiting():
        # Ctrl-C as the OS would deliver it, once the main thread is waiting.
        if wait_until(lambda: client.stats()["client"]["in_flight"] >= 1):
            time.sleep(0.2)
            _thread.interrupt_main()

    threading.Thread(target=interrupt_once_waiting).start()
    t0 = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        client.lock("intr", ttl=30.0, wait=30.0)
    assert time.monotonic() - t0 < 15  # far from the 30 s wait
    holder.release()
    # The interrupt cancelled the wait in the core: nobody takes the lock.
    time.sleep(0.5)
    info = client.lock_info("intr")
    assert not info.locked
    assert info.last_fencing_token == holder.fencing_token


def test_blocking_idempotency_wait_is_interruptible(client):
    import _thread

    first = client.idempotency_begin("intr-job", b"fp", lease=30)

    def interrupt_once_waiting():
        if wait_until(lambda: client.stats()["client"]["in_flight"] >= 1):
            time.sleep(0.2)
            _thread.interrupt_main()

    threading.Thread(target=interrupt_once_waiting).start()
    with pytest.raises(KeyboardInterrupt):
        client.idempotency_begin("intr-job", b"fp", lease=30, wait=30)
    first.fail()
    time.sleep(0.5)
    probe = client.idempotency_begin("intr-job", b"fp", lease=30)
    assert probe.state == "NEW"  # the interrupted waiter holds nothing
    probe.fail()
