"""Cache tags (docs/CACHE.md, "Tags"): tags= on set, get_or_load and the
decorator, invalidate_tags, across two clients of one prefix and in
asyncio. The semantics are the core's; these check the binding passes them
through."""

from __future__ import annotations

import asyncio
import threading

import pytest

import redisx


def test_invalidate_tags_drops_every_entry_carrying_a_tag(client):
    cache = client.cache("tagged")
    for i in range(50):
        cache.set(f"p{i}", i, ttl=60, tags=["products", f"product:{i}"])
    cache.set("other", "x", ttl=60, tags=["orders"])
    cache.set("plain", "y", ttl=60)
    assert cache.get("p7") == 7 and cache.lookup("p7").layer == "l1"
    cache.invalidate_tags(["products"])
    assert all(cache.get(f"p{i}") is None for i in range(50))
    assert cache.get("other") == "x" and cache.get("plain") == "y"
    cache.set("p1", "again", ttl=60, tags=["products"])
    assert cache.get("p1") == "again", "a write after the invalidation is served"


def test_another_client_reads_no_invalidated_entry_from_redis(client, redis_url, prefix):
    other = redisx.Client.from_url(redis_url, prefix=prefix, command_timeout=5.0)
    try:
        a, b = client.cache("shared", l1_entries=0), other.cache("shared", l1_entries=0)
        a.set("k", {"v": 1}, ttl=60, tags=[b"bin\x00tag", "t"])
        assert b.get("k") == {"v": 1}
        b.invalidate_tags([b"bin\x00tag"])
        assert a.get("k") is None and b.get("k") is None
    finally:
        other.close()


def test_an_invalidation_while_the_loader_runs_makes_its_value_stale(client):
    cache = client.cache("during")
    started, release = threading.Event(), threading.Event()
    calls = []

    def loader():
        calls.append(1)
        started.set()
        assert release.wait(30)
        return "old"

    t = threading.Thread(target=lambda: cache.get_or_load("k", loader, ttl=60, tags=["t"]))
    t.start()
    assert started.wait(30)
    cache.invalidate_tags(["t"])
    release.set()
    t.join(30)
    assert cache.get("k") is None, "filled, but stale on arrival"
    assert cache.get_or_load("k", lambda: "new", ttl=60, tags=["t"]) == "new"
    assert cache.get("k") == "new"


def test_the_decorator_takes_tags_with_templates(client):
    cache = client.cache("deco")
    calls = []

    @cache.cached(key="user:{0}", ttl=60, tags=["users", "user:{0}"])
    def user(uid):
        calls.append(uid)
        return {"id": uid}

    assert user(1) == {"id": 1} and user(1) == {"id": 1} and user(2) == {"id": 2}
    assert calls == [1, 2]
    cache.invalidate_tags(["user:1"])
    assert user(1) == {"id": 1} and user(2) == {"id": 2}
    assert calls == [1, 2, 1]
    cache.invalidate_tags("users")  # one tag as a str
    user(1), user(2)
    assert calls == [1, 2, 1, 1, 2]

    @redisx.cached(cache, key=lambda x: f"sq:{x}", ttl=60, tags=lambda x: [f"sq:{x}"])
    def square(x):
        calls.append(("sq", x))
        return x * x

    assert square(3) == 9 and square(3) == 9
    cache.invalidate_tags(["sq:3"])
    assert square(3) == 9
    assert calls.count(("sq", 3)) == 2


def test_asyncio_forms_take_tags(client):
    cache = client.cache("aiotags")

    async def main():
        await cache.set_async("a", 1, tags=["t"])
        assert await cache.get_async("a") == 1
        assert await cache.get_or_load_async("b", lambda: 2, ttl=60, tags=["t"]) == 2
        assert await cache.get_async("b") == 2
        await cache.invalidate_tags_async(["t"])
        assert await cache.get_async("a") is None and await cache.get_async("b") is None
        await cache.invalidate_tags_async([])

    asyncio.run(main())


def test_bad_tags_raise_invalid_argument(client):
    cache = client.cache("badtags")
    with pytest.raises(redisx.InvalidArgument):
        cache.set("k", 1, tags=[""])
    with pytest.raises(redisx.InvalidArgument):
        cache.set("k", 1, tags=["x" * 1025])
    with pytest.raises(redisx.InvalidArgument):
        cache.set("k", 1, tags=[str(i) for i in range(65)])
    with pytest.raises(redisx.InvalidArgument):
        cache.set("k", 1, tags=[1])
    with pytest.raises(redisx.InvalidArgument):
        cache.get_or_load("k", lambda: 1, tags=[str(i) for i in range(65)])
    cache.invalidate_tags([])  # nothing to do
    cache.set("k", 1, tags=[])  # untagged
    assert cache.get("k") == 1
