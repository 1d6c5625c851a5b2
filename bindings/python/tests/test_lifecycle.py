"""Closed clients, garbage collection of handles, interpreter exit."""

from __future__ import annotations

import asyncio
import gc
import os
import subprocess
import sys
import threading
import time
import weakref

import pytest

import redisx

from conftest import wait_until


def test_closed_client_raises_client_closed(client):
    lk = client.lock("before", ttl=5)
    client.close()
    assert client.closed
    for call in (
        lambda: client.lock("x", ttl=5),
        lambda: client.try_lock("x", ttl=5),
        lambda: client.lock_info("x"),
        lambda: client.execute("PING"),
        lambda: client.stats(),
        lambda: lk.release(),
        lambda: lk.extend(5),
        lambda: lk.keep_alive(),
        lambda: asyncio.run(client.acquire_async("x", ttl=5)),
        lambda: asyncio.run(client.execute_async("PING")),
    ):
        with pytest.raises(redisx.ClientClosed) as ei:
            call()
        assert ei.value.name == "ERR_CLOSED"
    client.close()  # idempotent


def test_close_wakes_a_thread_waiting_for_a_lock(client):
    client.lock("wake", ttl=30)
    got = []

    def waiter():
        try:
            client.lock("wake", ttl=5, wait=120)
        except redisx.RedisxError as e:
            got.append(e)

    t = threading.Thread(target=waiter)
    t.start()
    assert wait_until(lambda: client.stats()["client"]["in_flight"] >= 1)
    time.sleep(0.5)  # let the waiter settle into its backoff (not an assertion)
    client.close()
    t.join(60)
    assert not t.is_alive()  # woken long before its 120 s wait
    assert len(got) == 1
    # ClientClosed whether close() finds the wait between attempts or with an
    # attempt in flight (the next test pins the second case down).
    assert isinstance(got[0], redisx.ClientClosed)


def test_close_during_an_in_flight_wait_attempt_reports_client_closed(redis_url, prefix):
    with redisx.Client(redis_url, prefix=prefix, command_timeout=10.0) as holder_client:
        holder = holder_client.lock("inflight", ttl=30)
        c = redisx.Client(redis_url, prefix=prefix, command_timeout=10.0)
        c.try_lock("warm-up", ttl=5).release()  # scripts loaded, connection up
        got = []

        def waiter():
            try:
                c.lock("inflight", ttl=5, wait=120)
            except redisx.RedisxError as e:
                got.append(e)

        # The server holds write commands (the acquire script) for 1.5 s, so
        # the waiter's first attempt is in flight when close() comes.
        holder_client.execute("CLIENT", "PAUSE", 1500, "WRITE")
        t = threading.Thread(target=waiter)
        t.start()
        assert wait_until(lambda: c.stats()["client"]["in_flight"] >= 1)
        time.sleep(0.2)
        c.close()
        t.join(60)
        holder.release()
    assert len(got) == 1
    assert isinstance(got[0], redisx.ClientClosed), repr(got[0])


def test_close_races_with_calls_from_other_threads(redis_url, prefix):
    # Calls entering while another thread closes must fail cleanly.
    for _ in range(20):
        c = redisx.Client(redis_url, prefix=prefix)
        errors = []
        stop = threading.Event()

        def hammer():
            while not stop.is_set():
                try:
                    c.try_lock("race", ttl=5).release()
                except (redisx.ClientClosed, redisx.LockHeld, redisx.LockNotOwned):
                    pass
                except Exception as e:  # pragma: no cover
                    errors.append(e)
                    return
                if c.closed:
                    return

        threads = [threading.Thread(target=hammer) for _ in range(3)]
        for t in threads:
            t.start()
        c.close()
        stop.set()
        for t in threads:
            t.join(30)
        assert not errors


def test_commands_on_eight_threads_racing_close_return_or_raise_client_closed(redis_url, prefix):
    # close() shuts the core down while calls run on the core's blocking
    # path on other threads: each returns, or raises ClientClosed; the
    # handle is freed only when the Client object goes.
    calls = [0]
    for round_ in range(10):
        c = redisx.Client(redis_url, prefix=prefix)
        lim = c.limiter("race", "fixed_window", limit=10**9, period=60)
        c.execute("PING")
        errors = []
        started = threading.Barrier(9)

        def hammer(i):
            started.wait()
            n = 0
            while True:
                try:
                    k = n % 4
                    if k == 0:
                        c.execute("SET", f"{prefix}:race{round_}.{i}", n)
                    elif k == 1:
                        c.try_lock(f"race{round_}.{i}", ttl=5).release()
                    elif k == 2:
                        c.lock_info(f"race{round_}.{i}")
                    else:
                        lim.check(f"k{i}")
                except redisx.ClientClosed:
                    calls[0] += n
                    return
                except Exception as e:  # pragma: no cover - reported below
                    errors.append(e)
                    return
                n += 1

        threads = [threading.Thread(target=hammer, args=(i,)) for i in range(8)]
        for t in threads:
            t.start()
        started.wait()
        time.sleep(0.02 * (round_ % 3))
        c.close()
        for t in threads:
            t.join(60)
        assert not any(t.is_alive() for t in threads)
        assert not errors, errors
        del c, lim
        gc.collect()
    assert calls[0] > 0  # the threads did run calls before the close


def _fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def _threads() -> int:
    return len(os.listdir("/proc/self/task"))


def test_dropping_clients_and_locks_without_close_does_not_crash_or_leak(redis_url, prefix):
    def churn(i):
        events = []
        c = redisx.Client(redis_url, prefix=prefix, on_event=events.append)
        lk = c.try_lock(f"gc{i}", ttl=5)
        if i % 3 == 0:
            # a cycle through the lost-lock callable: lock -> client -> table -> callable -> lock;
            # released, since a renewing lock keeps its client until release, loss or close
            lk.keep_alive(on_lost=lambda _l, lk=lk: lk)
            lk.release()
        if i % 4 == 0:
            asyncio.run(c.acquire_async(f"gca{i}", ttl=5))  # the Lock is dropped at once
        if i % 5 == 0:
            c.self_ref = c  # a cycle through the client itself
        c.execute("SET", f"{prefix}:gc{i}", b"\x00")
        # everything dropped here: Lock.__del__ / Client.__del__ / the GC

    churn(-1)
    gc.collect()
    fds0, threads0 = _fds(), _threads()
    for i in range(150):
        churn(i)
        if i % 25 == 0:
            gc.collect()
    gc.collect()
    assert wait_until(lambda: _threads() <= threads0, timeout=30)
    assert _fds() <= fds0
    assert not [o for o in gc.get_objects() if type(o) is redisx.Client]


def test_dropping_a_client_that_holds_renewing_locks(redis_url, prefix):
    c = redisx.Client(redis_url, prefix=prefix)
    lk = c.lock("drop", ttl=1.0).keep_alive(on_lost=lambda _l: None)
    ref = weakref.ref(c)
    del c, lk  # the renewing lock keeps its client, and itself, alive
    gc.collect()
    with redisx.Client(redis_url, prefix=prefix) as probe:
        time.sleep(3.0)
        gc.collect()
        assert ref() is not None and not ref().closed
        assert probe.lock_info("drop").locked
        ref().close()  # renewal stops: the lease simply expires
        assert wait_until(lambda: not probe.lock_info("drop").locked)


def test_interpreter_exit_with_open_clients_and_callbacks(redis_url, prefix):
    code = f"""
import redisx, asyncio
c = redisx.Client({redis_url!r}, prefix={prefix!r}, on_event=lambda e: None)
lk = c.lock("exit", ttl=2).keep_alive(on_lost=lambda l: None)
asyncio.run(c.acquire_async("exit2", ttl=2))
c.execute("PING")
print("ok")
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"
