"""Idempotency records: states, duplicates, failure, takeover, expiry,
waiting, the context manager and the decorator."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

import redisx
from redisx import IdempotencyState as S

from conftest import unused_port, wait_until


def record_key(prefix: str, key: str) -> str:
    return f"{prefix}:idem:{{{key}}}"  # docs/KEYS.md


def test_new_then_completed_replays_response_and_metadata(client):
    rec = client.idempotency_begin("order-1", b"fp", lease=10)
    assert rec.state is S.NEW and rec.state == "NEW" and rec.is_new
    assert rec.key == "order-1"
    assert not rec.taken_over and not rec.fail_open
    assert rec.remaining_ms == 10_000
    assert (rec.response, rec.metadata) == (b"", b"")
    rec.complete(b"\x00binary\xffbody", b"meta\x00data", ttl=60)
    assert rec.finished

    dup = client.idempotency_begin("order-1", b"fp")
    assert dup.state is S.COMPLETED and not dup.is_new
    assert dup.response == b"\x00binary\xffbody"
    assert dup.metadata == b"meta\x00data"
    assert 0 < dup.remaining_ms <= 60_000


def test_str_and_buffer_values_are_utf8_and_bytes(client):
    rec = client.idempotency_begin("order-2", "fingerprint-é")
    rec.complete("réponse", bytearray(b"m"))
    dup = client.idempotency_begin("order-2", memoryview("fingerprint-é".encode()))
    assert dup.state is S.COMPLETED
    assert dup.response == "réponse".encode() and dup.metadata == b"m"


def test_values_of_another_type_are_invalid(client):
    with pytest.raises(redisx.InvalidArgument):
        client.idempotency_begin("bad", 42)
    rec = client.idempotency_begin("bad", b"fp")
    with pytest.raises(redisx.InvalidArgument):
        rec.complete(object())
    rec.fail()


def test_another_fingerprint_is_a_mismatch(client):
    rec = client.idempotency_begin("order-3", b"body-a")
    mid = client.idempotency_begin("order-3", b"body-b")
    assert mid.state is S.MISMATCH  # also while in progress
    rec.complete(b"done")
    after = client.idempotency_begin("order-3", b"body-b")
    assert after.state is S.MISMATCH and after.response == b""
    assert after.remaining_ms > 0


def test_duplicate_while_in_progress_sees_the_lease_left(client):
    rec = client.idempotency_begin("order-4", b"fp", lease=30)
    dup = client.idempotency_begin("order-4", b"fp")
    assert dup.state is S.IN_PROGRESS
    assert 0 < dup.remaining_ms <= 30_000
    assert 1 <= dup.retry_after <= 30
    rec.fail()


def test_fail_lets_a_retry_run(client):
    rec = client.idempotency_begin("order-5", b"fp")
    rec.fail()
    retry = client.idempotency_begin("order-5", b"fp")
    assert retry.state is S.NEW and not retry.taken_over
    retry.complete(b"second")
    assert client.idempotency_begin("order-5", b"fp").response == b"second"


def test_complete_or_fail_of_a_record_that_is_not_new_is_invalid(client):
    rec = client.idempotency_begin("order-6", b"fp")
    dup = client.idempotency_begin("order-6", b"fp")
    with pytest.raises(redisx.InvalidArgument):
        dup.complete(b"x")
    rec.complete(b"ok")
    done = client.idempotency_begin("order-6", b"fp")
    with pytest.raises(redisx.InvalidArgument):
        done.fail()


def test_complete_after_a_takeover_raises_lock_not_owned(client):
    stale = client.idempotency_begin("order-7", b"fp", lease=0.2)
    assert stale.state is S.NEW
    newer = None

    def taken():
        nonlocal newer
        rec = client.idempotency_begin("order-7", b"fp", lease=30)
        if rec.state is S.NEW:
            newer = rec
            return True
        assert rec.state is S.IN_PROGRESS
        return False

    assert wait_until(taken)
    assert newer.taken_over
    with pytest.raises(redisx.LockNotOwned) as ei:
        stale.complete(b"late")
    assert ei.value.name == "ERR_NOT_OWNER"
    with pytest.raises(redisx.LockNotOwned):
        stale.fail()
    newer.complete(b"winner")
    assert client.idempotency_begin("order-7", b"fp").response == b"winner"


def test_completed_record_expires_after_its_ttl(client):
    client.idempotency_begin("order-8", b"fp").complete(b"short", ttl=0.2)
    assert client.idempotency_begin("order-8", b"fp").state is S.COMPLETED

    def gone():
        rec = client.idempotency_begin("order-8", b"fp")
        if rec.state is S.NEW:
            rec.fail()
            return True
        return False

    assert wait_until(gone)


CHILD = r"""
import sys, time, redisx
url, prefix, key = sys.argv[1:4]
client = redisx.Client(url, prefix=prefix)
rec = client.idempotency_begin(key, b"crash", lease=1.5)
print("BEGAN", rec.state.value, flush=True)
time.sleep(3600)
"""


def test_takeover_after_the_worker_is_killed(client, redis_url, prefix):
    child = subprocess.Popen([sys.executable, "-c", CHILD, redis_url, prefix, "crashy"], stdout=subprocess.PIPE,
                             text=True)
    try:
        assert child.stdout.readline().strip() == "BEGAN NEW"
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
    assert child.returncode == -signal.SIGKILL

    during = client.idempotency_begin("crashy", b"crash", lease=1.5)
    assert during.state is S.IN_PROGRESS
    assert 0 < during.remaining_ms <= 1500

    # Waits for the lease of the dead worker to pass, then takes over.
    after = client.idempotency_begin("crashy", b"crash", lease=5.0, wait=20.0)
    assert after.state is S.NEW
    assert after.taken_over
    after.complete(b"recovered")
    assert client.idempotency_begin("crashy", b"crash").response == b"recovered"


def test_a_waiting_begin_gets_the_completed_response(client):
    owner = client.idempotency_begin("order-9", b"fp", lease=30)
    threading.Timer(0.3, owner.complete, args=(b"from-owner", b"meta")).start()
    waiter = client.idempotency_begin("order-9", b"fp", wait=30)
    assert waiter.state is S.COMPLETED
    assert (waiter.response, waiter.metadata) == (b"from-owner", b"meta")


def test_a_waiting_begin_gets_new_when_the_owner_fails(client):
    owner = client.idempotency_begin("order-10", b"fp", lease=30)
    threading.Timer(0.3, owner.fail).start()
    waiter = client.idempotency_begin("order-10", b"fp", wait=30)
    assert waiter.state is S.NEW and not waiter.taken_over
    waiter.fail()


def test_a_wait_that_runs_out_answers_in_progress(client):
    owner = client.idempotency_begin("order-11", b"fp", lease=30)
    waiter = client.idempotency_begin("order-11", b"fp", wait=0.3)
    assert waiter.state is S.IN_PROGRESS
    owner.fail()


def test_hundred_concurrent_duplicates_run_the_work_once(client, prefix):
    counter = f"{prefix}:executions"
    local = []

    def request(_):
        rec = client.idempotency_begin("dup", b"same-request", lease=10, wait=20)
        if rec.state is S.NEW:
            local.append(1)
            client.execute("INCR", counter)
            time.sleep(0.3)
            rec.complete(b"the-one-response", b"m", ttl=60)
            return b"the-one-response"
        assert rec.state is S.COMPLETED, rec
        return rec.response

    with ThreadPoolExecutor(100) as pool:
        responses = list(pool.map(request, range(100)))
    assert client.execute("GET", counter) == b"1"
    assert len(local) == 1
    assert responses == [b"the-one-response"] * 100


def test_hundred_concurrent_duplicates_on_asyncio(client, prefix):
    counter = f"{prefix}:executions"

    async def request(i):
        rec = await client.idempotency_begin_async("dup-async", b"same-request", lease=10, wait=20)
        if rec.state is S.NEW:
            await client.execute_async("INCR", counter)
            await asyncio.sleep(0.3)
            await rec.complete_async(f"response-{i}", b"m", ttl=60)
            return f"response-{i}".encode()
        assert rec.state is S.COMPLETED, rec
        return rec.response

    async def main():
        return await asyncio.gather(*(request(i) for i in range(100)))

    responses = asyncio.run(main())
    assert client.execute("GET", counter) == b"1"
    assert len(set(responses)) == 1 and responses[0].startswith(b"response-")


def test_async_forms_and_errors(client):
    async def main():
        rec = await client.idempotency_begin_async("order-12", b"fp", lease=0.2)
        assert rec.state is S.NEW
        assert (await client.idempotency_begin_async("order-12", b"other")).state is S.MISMATCH

        async def taken():
            r = await client.idempotency_begin_async("order-12", b"fp", lease=30)
            return r if r.state is S.NEW else None

        newer = None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 15
        while newer is None and loop.time() < deadline:
            newer = await taken()
            await asyncio.sleep(0.02)
        assert newer is not None and newer.taken_over
        with pytest.raises(redisx.LockNotOwned):
            await rec.complete_async(b"late")
        with pytest.raises(redisx.LockNotOwned):
            await rec.fail_async()
        await newer.fail_async()
        with pytest.raises(redisx.InvalidArgument):
            await client.idempotency_begin_async("", b"fp")

    asyncio.run(main())


def test_cancelled_begin_fails_the_record_it_was_given(client, prefix):
    async def main():
        holder = await client.idempotency_begin_async("cancel", b"fp", lease=30)
        task = asyncio.ensure_future(client.idempotency_begin_async("cancel", b"fp", lease=30, wait=30))
        await asyncio.sleep(0.1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await holder.fail_async()  # the waiting begin gets NEW, which nobody receives

    asyncio.run(main())
    # Failed at once rather than left in progress for its lease.
    assert wait_until(lambda: client.execute("EXISTS", record_key(prefix, "cancel")) == 0)


# -- context manager -----------------------------------------------------------------


def test_context_manager_completes_an_open_record_on_success(client):
    with client.idempotency("cm-1", b"fp") as rec:
        assert rec.is_new
    assert rec.finished
    dup = client.idempotency("cm-1", b"fp")
    assert dup.state is S.COMPLETED and dup.response == b""


def test_context_manager_keeps_an_explicit_complete(client):
    with client.idempotency("cm-2", b"fp", ttl=60) as rec:
        rec.complete(b"explicit", b"m")
    dup = client.idempotency("cm-2", b"fp")
    assert (dup.response, dup.metadata) == (b"explicit", b"m")
    assert dup.remaining_ms <= 60_000


def test_context_manager_fails_the_record_when_the_block_raises(client):
    with pytest.raises(KeyError):
        with client.idempotency("cm-3", b"fp"):
            raise KeyError("boom")
    retry = client.idempotency("cm-3", b"fp")
    assert retry.state is S.NEW and not retry.taken_over
    retry.fail()


def test_context_manager_leaves_other_states_alone(client):
    owner = client.idempotency("cm-4", b"fp")
    with client.idempotency("cm-4", b"fp") as dup:
        assert dup.state is S.IN_PROGRESS
    assert client.idempotency("cm-4", b"fp").state is S.IN_PROGRESS
    owner.complete(b"x")


def test_async_context_manager(client):
    async def main():
        async with client.idempotency_async("cm-5", b"fp") as rec:
            assert rec.is_new
            await rec.complete_async(b"async-body")
        with pytest.raises(ValueError):
            async with client.idempotency_async("cm-6", b"fp"):
                raise ValueError("boom")
        return (await client.idempotency_async("cm-5", b"fp")), (await client.idempotency_async("cm-6", b"fp"))

    done, retried = asyncio.run(main())
    assert done.state is S.COMPLETED and done.response == b"async-body"
    assert retried.state is S.NEW
    retried.fail()


# -- decorator -----------------------------------------------------------------------


def test_decorator_runs_once_per_key_and_replays_the_result(client):
    runs = []

    @client.idempotent(key=lambda order_id, amount: f"charge:{order_id}",
                       fingerprint=lambda order_id, amount: str(amount))
    def charge(order_id, amount):
        runs.append((order_id, amount))
        return {"order": order_id, "charged": amount, "ids": [1, 2]}

    first = charge(1, 100)
    again = charge(1, 100)
    assert first == again == {"order": 1, "charged": 100, "ids": [1, 2]}
    assert runs == [(1, 100)]
    with pytest.raises(redisx.IdempotencyMismatch) as ei:
        charge(1, 200)
    assert ei.value.state is S.MISMATCH and ei.value.key == "charge:1"
    assert charge(2, 100)["order"] == 2
    assert runs == [(1, 100), (2, 100)]
    assert charge.__name__ == "charge"


def test_decorator_stores_compact_json(client, prefix):
    @client.idempotent(key="fixed")
    def work():
        return {"a": [1, "é"]}

    work()
    stored = client.execute("HGET", record_key(prefix, "fixed"), "resp")
    assert stored == '{"a":[1,"é"]}'.encode()


def test_decorator_fails_the_record_when_the_function_raises(client):
    attempts = []

    @client.idempotent(key=lambda n: f"flaky:{n}")
    def flaky(n):
        attempts.append(n)
        if len(attempts) == 1:
            raise RuntimeError("transient")
        return n * 2

    with pytest.raises(RuntimeError):
        flaky(21)
    assert flaky(21) == 42
    assert flaky(21) == 42
    assert attempts == [21, 21]


def test_decorator_raises_in_progress_for_a_running_duplicate(client):
    entered, release = threading.Event(), threading.Event()

    @client.idempotent(key="slow", lease=30)
    def slow():
        entered.set()
        release.wait(30)
        return "done"

    t = threading.Thread(target=slow)
    t.start()
    try:
        assert entered.wait(30)
        with pytest.raises(redisx.IdempotencyInProgress) as ei:
            slow()
        assert ei.value.retry_after >= 1
    finally:
        release.set()
        t.join()
    assert slow() == "done"


def test_decorator_with_wait_replays_to_concurrent_duplicates(client, prefix):
    counter = f"{prefix}:deco-executions"

    @client.idempotent(key="shared-work", wait=30)
    def work():
        client.execute("INCR", counter)
        time.sleep(0.3)
        return [threading.get_ident()]

    with ThreadPoolExecutor(20) as pool:
        results = list(pool.map(lambda _: work(), range(20)))
    assert client.execute("GET", counter) == b"1"
    assert all(r == results[0] for r in results)


def test_decorator_on_coroutines_with_a_custom_codec(client):
    class Codec:
        @staticmethod
        def dumps(v):
            return repr(v)

        @staticmethod
        def loads(b):
            return ("replayed", b.decode())

    runs = []

    @client.idempotent(key=lambda x: f"co:{x}", codec=Codec)
    async def work(x):
        runs.append(x)
        await asyncio.sleep(0)
        return x + 1

    async def main():
        return await work(1), await work(1)

    assert asyncio.run(main()) == (2, ("replayed", "2"))
    assert runs == [1]


def test_decorator_rejects_bad_configuration(client):
    with pytest.raises(redisx.InvalidArgument):
        client.idempotent(key=42)
    with pytest.raises(redisx.InvalidArgument):
        client.idempotent(key="k", lease="30")
    with pytest.raises(redisx.InvalidArgument):
        client.idempotent(key="k", codec=object())


# -- fail policy ---------------------------------------------------------------------


def test_unreachable_redis_fails_closed_by_default():
    with redisx.Client(f"redis://127.0.0.1:{unused_port()}/0", connect_timeout=0.2, command_timeout=0.5) as c:
        with pytest.raises((redisx.ConnectionError, redisx.Timeout)):
            c.idempotency_begin("k", b"fp")


def test_fail_open_idempotency_answers_new_without_redis():
    with redisx.Client(f"redis://127.0.0.1:{unused_port()}/0", connect_timeout=0.2, command_timeout=0.5,
                       fail_open_idempotency=True) as c:
        rec = c.idempotency_begin("k", b"fp")
        assert rec.state is S.NEW and rec.fail_open
        rec.complete(b"nothing happens")  # a no-op without Redis
        rec2 = c.idempotency_begin("k", b"fp")
        assert rec2.state is S.NEW and rec2.fail_open
        rec2.fail()
