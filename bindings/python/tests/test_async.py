"""asyncio forms: the core's async calls completing through the queue."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

import redisx

from conftest import wait_until


def test_many_concurrent_acquires_on_one_loop(client):
    async def main():
        locks = await asyncio.gather(*(client.acquire_async(f"n{i}", ttl=30) for i in range(1000)))
        assert [lk.name for lk in locks] == [f"n{i}" for i in range(1000)]
        assert all(lk.fencing_token > 0 for lk in locks)
        assert all(client.lock_info(f"n{i}").locked for i in (0, 499, 999))
        await asyncio.gather(*(lk.release_async() for lk in locks))
        infos = await asyncio.gather(*(client.lock_info_async(f"n{i}") for i in range(1000)))
        assert not any(i.locked for i in infos)

    asyncio.run(main())


def test_contending_tasks_take_turns_with_increasing_fencing(client):
    inside = []
    tokens = []

    async def worker():
        async with client.lock_async("turns", ttl=10, wait=60) as lk:
            inside.append(1)
            assert len(inside) == 1
            tokens.append(lk.fencing_token)
            await asyncio.sleep(0.002)
            inside.pop()

    async def main():
        await asyncio.gather(*(worker() for _ in range(20)))

    asyncio.run(main())
    assert tokens == sorted(tokens) and len(set(tokens)) == 20


def test_async_errors_are_the_same_exceptions(client):
    async def main():
        lk = await client.lock_async("held", ttl=10)
        with pytest.raises(redisx.LockHeld) as ei:
            await client.try_lock_async("held", ttl=10)
        assert (ei.value.code, ei.value.name) == (redisx._rawc.REDISX_ERR_LOCKED, "ERR_LOCKED")
        with pytest.raises(redisx.InvalidArgument):
            await client.acquire_async("", ttl=10)
        with pytest.raises(redisx.ServerError):
            await client.execute_async("NOPE")
        await lk.release_async()
        with pytest.raises(redisx.LockNotOwned):
            await lk.release_async()
        with pytest.raises(redisx.LockNotOwned):
            await lk.extend_async(5)

    asyncio.run(main())


def test_execute_async_returns_python_values(client, prefix):
    k, missing, lst = f"{prefix}:k", f"{prefix}:missing", f"{prefix}:l"

    async def main():
        assert await client.execute_async("SET", k, b"\x00\x01") == "OK"
        assert await client.execute_async("GET", k) == b"\x00\x01"
        assert await client.execute_async("GET", missing) is None
        assert await client.execute_async("RPUSH", lst, 1, 2) == 2
        assert await client.execute_async("LRANGE", lst, 0, -1) == [b"1", b"2"]

    asyncio.run(main())


async def _until(pred, timeout=15.0):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        if await pred():
            return True
        await asyncio.sleep(0.02)
    return await pred()


async def _held_then_free(client, name, holder, pause=0.5):
    """After the holder's release: nobody takes the lock (no newer token)."""
    await holder.release_async()
    await asyncio.sleep(pause)  # room for a waiter that wrongly kept waiting
    info = await client.lock_info_async(name)
    return info


def test_a_cancelled_waiting_acquire_stops_at_once_and_never_takes_the_lock(client):
    async def main():
        holder = await client.acquire_async("cancel", ttl=30)
        task = asyncio.ensure_future(client.acquire_async("cancel", ttl=30, wait=30))
        await asyncio.sleep(0.2)
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert loop.time() - t0 < 1.0  # generous: the cancel is one hop to the I/O thread
        info = await _held_then_free(client, "cancel", holder)
        assert not info.locked
        assert info.last_fencing_token == holder.fencing_token  # the waiter never acquired
        # The core's CANCELLED completion was consumed: nothing left in flight.
        assert await _until(lambda: _async_true(not client._pending))

    asyncio.run(main())


async def _async_true(v):
    return v


def test_wait_for_timeout_cancels_a_waiting_acquire(client):
    async def main():
        holder = await client.acquire_async("wf", ttl=30)
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(client.acquire_async("wf", ttl=30, wait=30), 0.2)
        assert loop.time() - t0 < 1.2
        info = await _held_then_free(client, "wf", holder)
        assert not info.locked
        assert info.last_fencing_token == holder.fencing_token

    asyncio.run(main())


def test_a_cancelled_waiting_idempotency_begin_stops_and_takes_no_record(client):
    async def main():
        first = await client.idempotency_begin_async("job", b"fp", lease=30)
        assert first.state == "NEW"
        task = asyncio.ensure_future(client.idempotency_begin_async("job", b"fp", lease=30, wait=30))
        await asyncio.sleep(0.2)
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert loop.time() - t0 < 1.0
        await first.fail_async()  # the record is free again
        await asyncio.sleep(0.5)  # room for a waiter that wrongly kept waiting
        probe = await client.idempotency_begin_async("job", b"fp", lease=30)
        assert probe.state == "NEW"  # not IN_PROGRESS under a cancelled waiter
        await probe.fail_async()

    asyncio.run(main())


def test_acquire_cancelled_by_a_loop_that_then_closed_never_takes_the_lock(client):
    async def main():
        holder = await client.acquire_async("cancel2", ttl=30)
        task = asyncio.ensure_future(client.acquire_async("cancel2", ttl=30, wait=30))
        await asyncio.sleep(0.1)
        task.cancel()
        return holder

    holder = asyncio.run(main())  # the loop is gone before anything more arrives
    holder.release()
    time.sleep(0.5)
    info = client.lock_info("cancel2")
    assert not info.locked and info.last_fencing_token == holder.fencing_token


def test_one_client_serves_loops_in_several_threads(client):
    results = {}

    def run(idx):
        async def main():
            locks = await asyncio.gather(*(client.acquire_async(f"t{idx}-{i}", ttl=30) for i in range(200)))
            await asyncio.gather(*(lk.release_async() for lk in locks))
            return len(locks)

        results[idx] = asyncio.run(main())

    threads = [threading.Thread(target=run, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert results == {0: 200, 1: 200, 2: 200}


def test_successive_event_loops_reuse_the_client(client):
    for i in range(3):
        lk = asyncio.run(client.acquire_async(f"loop{i}", ttl=5))
        asyncio.run(lk.release_async())
    assert client._loop_pending == {}


def test_close_fails_operations_in_flight_with_client_closed(client):
    async def main():
        await client.acquire_async("blocker", ttl=30)
        waiting = asyncio.ensure_future(client.acquire_async("blocker", ttl=30, wait=60))
        await asyncio.sleep(0.1)
        client.close()
        with pytest.raises(redisx.ClientClosed):
            await waiting
        with pytest.raises(redisx.ClientClosed):
            await client.acquire_async("other", ttl=5)

    asyncio.run(main())


def test_close_from_another_thread_resolves_futures_of_a_loop(client):
    async def main():
        await client.acquire_async("blocker2", ttl=30)
        waiting = asyncio.ensure_future(client.acquire_async("blocker2", ttl=30, wait=60))
        await asyncio.sleep(0.1)
        closer = threading.Thread(target=client.close)
        closer.start()
        with pytest.raises(redisx.ClientClosed):
            await waiting
        closer.join(30)

    asyncio.run(main())


def test_async_with_client_closes_it(redis_url, prefix):
    async def main():
        async with redisx.Client(redis_url, prefix=prefix) as c:
            async with c.lock_async("x", ttl=5) as lk:
                assert lk.fencing_token > 0
        return c

    c = asyncio.run(main())
    assert c.closed
