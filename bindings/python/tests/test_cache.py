"""The two-tier cache: get/set/delete, get-or-load under single flight, loader
errors, codecs, bad input, the decorator and the asyncio forms."""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

import redisx


def test_set_get_delete_round_trip_a_json_value(client):
    cache = client.cache("users")
    assert cache.get("u1") is None
    assert cache.get("u1", "dflt") == "dflt"
    value = {"id": 1, "name": "Zoë", "tags": ["a", "b"], "n": 1.5, "none": None}
    cache.set("u1", value, ttl=60)
    assert cache.get("u1") == value
    entry = cache.lookup("u1")
    assert entry.found and entry.value == value and entry.layer == "l1" and not entry.stale
    assert 0 < entry.ttl <= 60  # an L1 copy is fresh for at most the L1 TTL
    cache.delete("u1")
    assert cache.get("u1") is None
    assert not cache.lookup("u1").found


def test_the_value_is_json_in_redis_for_other_languages(client, prefix):
    cache = client.cache("interop", l1_entries=0)
    cache.set("k", {"a": [1, 2]}, ttl=60)
    # docs/KEYS.md: the entry is a hash whose field v holds the value's bytes
    key = f"{prefix}:cache:interop:{{k}}"
    assert client.execute("HGET", key, "v") == b'{"a":[1,2]}'
    assert cache.get("k") == {"a": [1, 2]}
    assert cache.lookup("k").layer == "l2"


def test_bytes_str_and_custom_codecs(client):
    raw = client.cache("raw", codec="bytes")
    raw.set("b", b"\x00\xffbin")
    assert raw.get("b") == b"\x00\xffbin"
    text = client.cache("text", codec="str")
    text.set("s", "héllo")
    assert text.get("s") == "héllo"

    class Upper:
        def dumps(self, v):
            return v.upper().encode()

        def loads(self, b):
            return b.decode().lower() + "!"

    custom = client.cache("custom", codec=Upper())
    custom.set("c", "abc")
    assert custom.get("c") == "abc!"
    with pytest.raises(redisx.InvalidArgument):
        raw.set("b", "not bytes")
    with pytest.raises(redisx.InvalidArgument):
        client.cache("bad", codec="yaml")
    with pytest.raises(redisx.InvalidArgument):
        client.cache("bad", codec=object())


def test_get_or_load_runs_the_loader_once_for_concurrent_callers(client):
    cache = client.cache("flight")
    calls = 0
    mu = threading.Lock()
    go = threading.Event()

    def loader():
        nonlocal calls
        with mu:
            calls += 1
        time.sleep(0.3)  # keeps the others waiting on the lease
        return {"loaded": True}

    def one(_):
        go.wait()
        return cache.get_or_load("cold", loader, ttl=60, wait=30)

    with ThreadPoolExecutor(8) as pool:
        futs = [pool.submit(one, i) for i in range(8)]
        go.set()
        results = [f.result(timeout=60) for f in futs]
    assert results == [{"loaded": True}] * 8
    assert calls == 1
    c = cache.counters()
    assert c["loads"] == 1
    assert cache.get_or_load("cold", loader) == {"loaded": True}
    assert calls == 1


def test_get_or_load_across_two_clients_loads_once(client, redis_url, prefix):
    other = redisx.Client.from_url(redis_url, prefix=prefix, command_timeout=5.0)
    try:
        a, b = client.cache("xclient"), other.cache("xclient")
        calls = []
        started = threading.Event()

        def slow():
            calls.append(1)
            started.set()
            time.sleep(0.3)
            return 7

        t = threading.Thread(target=lambda: a.get_or_load("k", slow, wait=30))
        t.start()
        assert started.wait(30)
        assert b.get_or_load("k", slow, wait=30) == 7
        t.join(30)
        assert calls == [1]
        assert b.counters()["waiters_woken"] + b.counters()["l2_hits"] >= 1
    finally:
        other.close()


def test_a_loader_error_caches_nothing_and_surfaces(client):
    cache = client.cache("errs")

    def boom():
        raise RuntimeError("backend down")

    with pytest.raises(RuntimeError, match="backend down"):
        cache.get_or_load("k", boom)
    assert cache.get("k") is None
    assert cache.counters()["load_errors"] == 1
    assert cache.get_or_load("k", lambda: 5) == 5, "the lease went at once: the next caller loads"


def test_a_loader_that_raises_not_found_caches_not_found(client):
    cache = client.cache("neg", negative_ttl=30)
    calls = []

    def missing():
        calls.append(1)
        raise redisx.NotFound("k")

    for _ in range(3):
        with pytest.raises(redisx.NotFound):
            cache.get_or_load("k", missing)
    assert calls == [1]
    assert cache.lookup("k").negative
    assert cache.get("k", "d") == "d"


def test_bad_input_raises_invalid_argument(client):
    cache = client.cache("bad", max_value_bytes=1024)
    for key in ("", "a\x00b", "x" * 1025):
        with pytest.raises(redisx.InvalidArgument):
            cache.get(key)
        with pytest.raises(redisx.InvalidArgument):
            cache.set(key, 1)
    with pytest.raises(redisx.InvalidArgument, match="exceeds"):
        cache.set("big", "x" * 2000)
    with pytest.raises(redisx.InvalidArgument, match="exceeds"):
        cache.get_or_load("big", lambda: "x" * 2000)
    assert cache.get_or_load("big", lambda: "small") == "small", "the refused fill left no lease behind"
    with pytest.raises(redisx.InvalidArgument):
        cache.set("k", 1, ttl=-1)
    with pytest.raises(redisx.InvalidArgument):
        cache.set("k", 1, ttl=0)
    with pytest.raises(redisx.InvalidArgument):
        client.cache("")
    with pytest.raises(redisx.InvalidArgument):
        client.cache("a{b}")
    with pytest.raises(redisx.InvalidArgument):
        client.cache("c", l1_entries=-1)
    with pytest.raises(redisx.InvalidArgument):
        client.cache("c", jitter=0.9)
    with pytest.raises(TypeError):
        cache.set("k", object())  # the JSON codec's own error


def test_the_decorator_caches_sync_functions_by_key_template(client):
    cache = client.cache("deco")
    calls = []

    @cache.cached(key="user:{0}", ttl=60)
    def user(uid):
        calls.append(uid)
        return {"id": uid}

    assert user(1) == {"id": 1}
    assert user(1) == {"id": 1}
    assert user(2) == {"id": 2}
    assert calls == [1, 2]
    assert cache.get("user:1") == {"id": 1}

    @redisx.cached(cache, ttl=60)
    def default_key(a, b=2):
        calls.append((a, b))
        return a + b

    assert default_key(1) == 3 and default_key(1) == 3
    assert calls[-1] == (1, 2) and len(calls) == 3


def test_asyncio_forms_and_the_async_decorator(client):
    cache = client.cache("aio")
    calls = []

    async def loader():
        calls.append(1)
        await asyncio.sleep(0.2)
        return [1, 2, 3]

    @cache.cached(key=lambda x: f"sq:{x}", ttl=60)
    async def square(x):
        calls.append(x)
        return x * x

    async def main():
        assert await cache.get_async("a") is None
        await cache.set_async("a", {"v": 1})
        assert await cache.get_async("a") == {"v": 1}
        assert (await cache.lookup_async("a")).layer == "l1"
        await cache.delete_async("a")
        assert await cache.get_async("a") is None
        got = await asyncio.gather(*(cache.get_or_load_async("cold", loader, wait=30) for _ in range(5)))
        assert got == [[1, 2, 3]] * 5
        assert calls == [1]

        async def boom():
            raise ValueError("nope")

        with pytest.raises(ValueError):
            await cache.get_or_load_async("err", boom)
        assert await cache.get_async("err") is None
        assert await square(4) == 16 and await square(4) == 16
        assert calls == [1, 4]

    asyncio.run(main())


def test_stale_if_error_serves_the_old_value_when_the_loader_fails(client):
    cache = client.cache("sie", l1_entries=0)
    cache.set("k", "old", ttl=0.2)
    deadline = time.monotonic() + 30
    while cache.lookup("k").found and time.monotonic() < deadline:
        time.sleep(0.05)

    def boom():
        raise RuntimeError("down")

    assert cache.get_or_load("k", boom, sie=60) == "old"
    with pytest.raises(RuntimeError):
        cache.get_or_load("k", boom, sie=0)


def test_stale_while_revalidate_refreshes_once_through_the_chosen_caller(client):
    cache = client.cache("swr", l1_entries=0)
    cache.set("k", "old", ttl=0.2)
    deadline = time.monotonic() + 30
    while cache.lookup("k").found and time.monotonic() < deadline:
        time.sleep(0.05)
    calls = []

    def refresh():
        calls.append(1)
        return "new"

    assert cache.get_or_load("k", refresh, swr=60) == "new", "the chosen caller refreshes and gets the new value"
    assert calls == [1]
    assert cache.get("k") == "new"
    assert cache.get_or_load("k", refresh, swr=60) == "new"
    assert calls == [1], "a fresh value needs no refresh"


def test_memoize_decodes_an_l1_copy_once_per_version(client):
    cache = client.cache("memo", memoize=True)
    cache.set("k", {"v": 1})
    a, b = cache.get("k"), cache.get("k")
    assert a == {"v": 1} and a is b, "one decode for one L1 copy"
    cache.set("k", {"v": 2})
    c = cache.get("k")
    assert c == {"v": 2} and c is not a, "a new value, a new version, a new decode"
    plain = client.cache("memo")
    assert plain.get("k") is not plain.get("k")


def test_a_blocking_wait_for_another_load_is_interruptible(client):
    import _thread

    from conftest import wait_until

    cache = client.cache("intr")
    started, release = threading.Event(), threading.Event()

    def slow():
        started.set()
        release.wait(30)
        return "v"

    holder = threading.Thread(target=lambda: cache.get_or_load("k", slow, wait=30))
    holder.start()
    assert started.wait(30)

    def interrupt_once_waiting():
        if wait_until(lambda: client.stats()["client"]["in_flight"] >= 1):
            time.sleep(0.2)
            _thread.interrupt_main()

    threading.Thread(target=interrupt_once_waiting).start()
    t0 = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        cache.get_or_load("k", lambda: "other", wait=30)
    assert time.monotonic() - t0 < 15  # far from the 30 s wait
    release.set()
    holder.join(30)
    assert cache.get("k") == "v", "the interrupted waiter took nothing"


def test_a_keyboard_interrupt_in_the_loader_is_never_turned_into_a_stale_answer(client):
    cache = client.cache("kbi", l1_entries=0)
    cache.set("k", "old", ttl=0.2)
    deadline = time.monotonic() + 30
    while cache.lookup("k").found and time.monotonic() < deadline:
        time.sleep(0.05)

    def interrupted():
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        cache.get_or_load("k", interrupted, sie=60)
    assert cache.get_or_load("k", lambda: "new", sie=60) == "new", "the lease was abandoned"


@pytest.mark.parametrize("tracking", [True, False])
def test_tracking_drops_another_processs_l1_copy(client, redis_url, prefix, tracking):
    """Two clients (two processes' worth of L1): with tracking, B's write
    reaches A's L1 at once; without it, A serves its copy until the L1 TTL
    (a minute here), which is what makes the first case meaningful."""
    other = redisx.Client.from_url(redis_url, prefix=prefix, command_timeout=5.0)
    try:
        name = f"track-{tracking}"
        a = client.cache(name, l1_ttl=60.0, tracking=tracking)
        b = other.cache(name, tracking=tracking)
        b.set("k", 1)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and a.counters()["l1_hits"] == 0:
            assert a.get("k") == 1  # the first reads keep an L1 copy
        assert a.counters()["l1_hits"] >= 1
        b.set("k", 2)
        seen = a.get("k")
        deadline = time.monotonic() + 5
        while tracking and seen != 2 and time.monotonic() < deadline:
            time.sleep(0.01)
            seen = a.get("k")
        if tracking:
            assert seen == 2
            assert a.counters()["invalidations"] >= 1
        else:
            assert seen == 1, "without tracking the L1 copy lives its TTL"
    finally:
        other.close()


def test_tracking_in_bcast_mode_is_told_of_keys_never_read(redis_url, prefix):
    """cache_tracking_bcast=True: the server tells A of every cache write
    under the prefix, even of a key A never read, and B's write still
    drops A's copy."""
    a_client = redisx.Client.from_url(redis_url, prefix=prefix, command_timeout=5.0, cache_tracking_bcast=True)
    other = redisx.Client.from_url(redis_url, prefix=prefix, command_timeout=5.0)
    try:
        a = a_client.cache("track-bcast", l1_ttl=60.0, tracking=True)
        b = other.cache("track-bcast")
        b.set("k", 1)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and a.counters()["l1_hits"] == 0:
            assert a.get("k") == 1
        assert a.counters()["l1_hits"] >= 1
        before = a.counters()["invalidations"]
        b.set("never-read", 0)
        deadline = time.monotonic() + 5
        while a.counters()["invalidations"] == before and time.monotonic() < deadline:
            time.sleep(0.01)
        assert a.counters()["invalidations"] > before, "BCAST tells of a key A never read"
        b.set("k", 2)
        seen = a.get("k")
        deadline = time.monotonic() + 5
        while seen != 2 and time.monotonic() < deadline:
            time.sleep(0.01)
            seen = a.get("k")
        assert seen == 2
    finally:
        other.close()
        a_client.close()


def test_tracking_must_be_a_bool(client):
    with pytest.raises(redisx.InvalidArgument):
        client.cache("badtrack", tracking="yes")
