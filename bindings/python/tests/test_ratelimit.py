"""Rate limiting: the canonical sequence for every algorithm, concurrency,
costs, fail policies, headers and the decorator."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

import redisx
from redisx import RateLimitResult

from conftest import unused_port

ALGORITHMS = ["fixed_window", "sliding_log", "sliding_window", "token_bucket", "gcra"]

# The SEQ of the issue: limit 5 per hour, burst 0, key "k".
EXPECTED_SEQ = """\
reset
check 1 1 5 4 -
check 1 1 5 3 -
check 1 1 5 2 -
check 1 1 5 1 -
check 1 1 5 0 -
check 1 0 5 0 +
check 1 0 5 0 +
peek 1 0 5 0 +
reset
peek 1 1 5 5 -
check 3 1 5 2 -
check 3 0 5 2 +
check 2 1 5 0 -
check 6 InvalidArgument""".splitlines()


def line(op: str, cost: int, r: RateLimitResult) -> str:
    flag = "-" if r.retry_after_ms == -1 else ("+" if r.retry_after_ms > 0 else "?")
    return f"{op} {cost} {int(r.allowed)} {r.limit} {r.remaining} {flag}"


def run_seq(lim: redisx.Limiter) -> list:
    out = []
    lim.reset("k")
    out.append("reset")
    for _ in range(7):
        out.append(line("check", 1, lim.check("k", 1)))
    out.append(line("peek", 1, lim.peek("k")))
    lim.reset("k")
    out.append("reset")
    out.append(line("peek", 1, lim.peek("k")))
    for cost in (3, 3, 2, 6):
        try:
            out.append(line("check", cost, lim.check("k", cost)))
        except redisx.RedisxError as e:
            out.append(f"check {cost} {type(e).__name__}")
    return out


async def run_seq_async(lim: redisx.Limiter) -> list:
    out = []
    await lim.reset_async("k")
    out.append("reset")
    for _ in range(7):
        out.append(line("check", 1, await lim.check_async("k", 1)))
    out.append(line("peek", 1, await lim.peek_async("k")))
    await lim.reset_async("k")
    out.append("reset")
    out.append(line("peek", 1, await lim.peek_async("k")))
    for cost in (3, 3, 2, 6):
        try:
            out.append(line("check", cost, await lim.check_async("k", cost)))
        except redisx.RedisxError as e:
            out.append(f"check {cost} {type(e).__name__}")
    return out


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_canonical_sequence(client, algorithm):
    lim = client.limiter(f"seq-{algorithm}", algorithm, limit=5, period=3600, burst=0)
    assert run_seq(lim) == EXPECTED_SEQ


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_canonical_sequence_asyncio(client, algorithm):
    lim = client.limiter(f"seq-{algorithm}", algorithm, limit=5, period=3600)
    assert asyncio.run(run_seq_async(lim)) == EXPECTED_SEQ


def test_all_five_algorithms_are_known():
    assert list(redisx.ALGORITHMS) == ALGORITHMS
    assert sorted(redisx.ALGORITHMS.values()) == [0, 1, 2, 3, 4]


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_eight_threads_on_one_key_get_exactly_the_limit(client, algorithm):
    lim = client.limiter("hammer", algorithm, limit=20, period=3600, burst=20)

    def worker(_):
        return sum(lim.check("one-key").allowed for _ in range(15))

    with ThreadPoolExecutor(8) as pool:
        allowed = sum(pool.map(worker, range(8)))
    assert allowed == 20
    assert lim.peek("one-key").remaining == 0


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_concurrent_async_checks_get_exactly_the_limit(client, algorithm):
    lim = client.limiter("hammer-async", algorithm, limit=20, period=3600, burst=20)

    async def main():
        results = await asyncio.gather(*(lim.check_async("one-key") for _ in range(200)))
        return sum(r.allowed for r in results)

    assert asyncio.run(main()) == 20


def test_limiters_share_a_budget_by_prefix_and_name(redis_url, client, prefix):
    with redisx.Client(redis_url, prefix=prefix) as same, redisx.Client(redis_url, prefix=prefix + "x") as other:
        a = client.limiter("shared", "gcra", limit=3, period=3600)
        b = same.limiter("shared", "gcra", limit=3, period=3600)
        assert [a.check("k").allowed, b.check("k").allowed, a.check("k").allowed] == [True, True, True]
        assert not b.check("k").allowed
        assert other.limiter("shared", "gcra", limit=3, period=3600).check("k").allowed  # other prefix
        assert client.limiter("other-name", "gcra", limit=3, period=3600).check("k").allowed
        assert a.check("other-key").allowed


def test_cost_above_capacity_is_invalid(client):
    lim = client.limiter("cost", "fixed_window", limit=5, period=60)
    assert lim.capacity == 5
    with pytest.raises(redisx.InvalidArgument) as ei:
        lim.check("k", 6)
    assert ei.value.name == "ERR_INVALID"
    assert lim.peek("k").remaining == 5  # nothing spent


def test_capacity_of_bucket_algorithms_is_the_burst(client):
    for algorithm in ("token_bucket", "gcra"):
        lim = client.limiter(f"burst-{algorithm}", algorithm, limit=5, period=60, burst=10)
        assert lim.capacity == 10
        r = lim.check("k", 10)
        assert (r.allowed, r.limit, r.remaining) == (True, 10, 0)
        with pytest.raises(redisx.InvalidArgument):
            lim.check("k", 11)


@pytest.mark.parametrize("cost", [0, -1, -(2**40)])
def test_zero_or_negative_cost_is_invalid(client, cost):
    lim = client.limiter("cost", "sliding_window", limit=5, period=60)
    with pytest.raises(redisx.InvalidArgument):
        lim.check("k", cost)


@pytest.mark.parametrize("cost", ["1", 1.0, True, None])
def test_cost_of_another_type_is_invalid(client, cost):
    lim = client.limiter("cost", "gcra", limit=5, period=60)
    with pytest.raises(redisx.InvalidArgument):
        lim.check("k", cost)


def test_async_cost_errors_are_the_same_exceptions(client):
    lim = client.limiter("cost", "token_bucket", limit=5, period=60)

    async def main():
        with pytest.raises(redisx.InvalidArgument):
            await lim.check_async("k", 6)
        with pytest.raises(redisx.InvalidArgument):
            await lim.check_async("k", 0)

    asyncio.run(main())


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(algorithm="leaky_bucket", limit=5, period=60),
        dict(algorithm=3, limit=5, period=60),
        dict(algorithm="gcra", limit=0, period=60),
        dict(algorithm="gcra", limit=-5, period=60),
        dict(algorithm="gcra", limit=5, period=0),
        dict(algorithm="gcra", limit=5, period=-1),
        dict(algorithm="fixed_window", limit=5, period=60, burst=7),
        dict(algorithm="gcra", limit=5, period="60"),
    ],
)
def test_invalid_limiter_definitions(client, kwargs):
    with pytest.raises(redisx.InvalidArgument):
        client.limiter("bad", **kwargs)


def test_empty_name_or_key_is_invalid(client):
    with pytest.raises(redisx.InvalidArgument):
        client.limiter("", "gcra", limit=5, period=60)
    lim = client.limiter("named", "gcra", limit=5, period=60)
    with pytest.raises(redisx.InvalidArgument):
        lim.check("")
    with pytest.raises(redisx.InvalidArgument):
        lim.check("a\0b")


def test_binary_keys_are_separate_budgets(client):
    lim = client.limiter("bin", "fixed_window", limit=1, period=3600)
    assert lim.check(b"\xff\xfe").allowed
    assert not lim.check(b"\xff\xfe").allowed
    assert lim.check(b"\xff\xfd").allowed


def test_limiter_of_a_closed_client_raises_client_closed(redis_url, prefix):
    c = redisx.Client(redis_url, prefix=prefix)
    lim = c.limiter("closing", "gcra", limit=5, period=60)
    assert lim.check("k").allowed
    c.close()
    with pytest.raises(redisx.ClientClosed):
        lim.check("k")
    with pytest.raises(redisx.ClientClosed):
        c.limiter("again", "gcra", limit=5, period=60)


def test_denied_results_carry_reset_and_retry_after(client):
    lim = client.limiter("times", "fixed_window", limit=2, period=3600)
    first = lim.check("k")
    assert first.allowed and first.retry_after_ms == -1 and first.retry_after is None
    assert 0 < first.reset_ms <= 3600_000
    lim.check("k")
    denied = lim.check("k")
    assert not denied.allowed
    assert 0 < denied.retry_after_ms <= 3600_000
    assert denied.retry_after == denied.retry_after_ms / 1000.0
    assert not denied.fail_open


# -- fail policy ---------------------------------------------------------------------


@pytest.fixture
def dead_client():
    c = redisx.Client(f"redis://127.0.0.1:{unused_port()}/0", connect_timeout=0.2, command_timeout=0.5,
                      reconnect_backoff=(0.05, 0.2))
    try:
        yield c
    finally:
        c.close()


def test_unreachable_redis_fails_open_by_default(dead_client):
    lim = dead_client.limiter("down", "sliding_log", limit=5, period=60)
    r = lim.check("k")
    assert r.allowed and r.fail_open
    assert (r.limit, r.remaining, r.reset_ms, r.retry_after_ms) == (5, 5, 0, -1)
    r = asyncio.run(lim.check_async("k"))
    assert r.allowed and r.fail_open


def test_a_fail_closed_limiter_raises_when_redis_is_unreachable(dead_client):
    lim = dead_client.limiter("down", "gcra", limit=5, period=60, fail_open=False)
    with pytest.raises((redisx.ConnectionError, redisx.Timeout)) as ei:
        lim.check("k")
    assert ei.value.name in ("ERR_CONNECTION", "ERR_TIMEOUT")

    async def main():
        with pytest.raises((redisx.ConnectionError, redisx.Timeout)):
            await lim.check_async("k")

    asyncio.run(main())


def test_fail_closed_client_option_and_per_limiter_override():
    with redisx.Client(f"redis://127.0.0.1:{unused_port()}/0", connect_timeout=0.2, command_timeout=0.5,
                       fail_open_rate_limits=False) as c:
        with pytest.raises((redisx.ConnectionError, redisx.Timeout)):
            c.limiter("down", "token_bucket", limit=5, period=60).check("k")
        r = c.limiter("down", "token_bucket", limit=5, period=60, fail_open=True).check("k")
        assert r.allowed and r.fail_open


# -- headers -------------------------------------------------------------------------


def test_headers_of_an_allowed_result():
    r = RateLimitResult(allowed=True, limit=10, remaining=7, reset_ms=1001, retry_after_ms=-1, fail_open=False)
    assert r.headers() == {"X-RateLimit-Limit": "10", "X-RateLimit-Remaining": "7", "X-RateLimit-Reset": "2"}
    assert redisx.rate_limit_headers(r) == r.headers()
    whole = r._replace(reset_ms=0)
    assert whole.headers()["X-RateLimit-Reset"] == "0"
    assert r._replace(reset_ms=3000).headers()["X-RateLimit-Reset"] == "3"


def test_headers_of_a_denied_result():
    r = RateLimitResult(allowed=False, limit=10, remaining=0, reset_ms=59_999, retry_after_ms=2500, fail_open=False)
    assert r.headers() == {"X-RateLimit-Limit": "10", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "60",
                           "Retry-After": "3"}
    assert r._replace(retry_after_ms=1).headers()["Retry-After"] == "1"
    assert r._replace(retry_after_ms=0).headers()["Retry-After"] == "1"  # never 0
    assert r._replace(retry_after_ms=4000).headers()["Retry-After"] == "4"


def test_headers_of_real_results(client):
    lim = client.limiter("hdr", "sliding_window", limit=2, period=3600)
    h = lim.check("k").headers()
    assert h["X-RateLimit-Limit"] == "2" and h["X-RateLimit-Remaining"] == "1"
    assert 1 <= int(h["X-RateLimit-Reset"]) <= 7200
    assert "Retry-After" not in h
    lim.check("k")
    h = lim.check("k").headers()
    assert h["X-RateLimit-Remaining"] == "0" and 1 <= int(h["Retry-After"]) <= 7200


# -- decorator -----------------------------------------------------------------------


def test_decorator_raises_rate_limited_once_the_budget_is_spent(client):
    lim = client.limiter("deco", "gcra", limit=3, period=3600)
    calls = []

    @lim.limit(key=lambda user, **_: f"user:{user}")
    def handler(user, payload=None):
        calls.append((user, payload))
        return "ok"

    assert [handler("ann", payload=i) for i in range(3)] == ["ok"] * 3
    with pytest.raises(redisx.RateLimited) as ei:
        handler("ann", payload=99)
    assert calls == [("ann", 0), ("ann", 1), ("ann", 2)]  # the denied call did not run
    err = ei.value
    assert err.key == "user:ann"
    assert not err.result.allowed and err.result.remaining == 0
    assert err.retry_after > 0 and int(err.headers["Retry-After"]) >= 1
    assert handler("bob") == "ok"  # another key
    assert handler.__name__ == "handler"


def test_decorator_default_key_and_cost_function(client):
    lim = client.limiter("deco-cost", "fixed_window", limit=10, period=3600)

    @lim.limit(cost=lambda n: n)
    def spend(n):
        return n

    assert spend(4) == 4 and spend(6) == 6
    with pytest.raises(redisx.RateLimited):
        spend(1)
    with pytest.raises(redisx.InvalidArgument):
        spend(11)  # above the capacity: never allowed
    key = f"{spend.__module__}.{spend.__qualname__}"
    assert lim.peek(key).remaining == 0


def test_decorator_on_coroutines(client):
    lim = client.limiter("deco-async", "token_bucket", limit=2, period=3600)

    @lim.limit(key="fixed")
    async def handler(i):
        await asyncio.sleep(0)
        return i

    async def main():
        assert [await handler(1), await handler(2)] == [1, 2]
        with pytest.raises(redisx.RateLimited) as ei:
            await handler(3)
        return ei.value

    err = asyncio.run(main())
    assert err.key == "fixed" and not err.result.allowed


def test_checks_report_events_and_stats(redis_url, prefix):
    events = []
    lock = threading.Lock()

    def on_event(ev):
        with lock:
            events.append(ev)

    with redisx.Client(redis_url, prefix=prefix, on_event=on_event, event_keys=True) as c:
        lim = c.limiter("ev", "gcra", limit=1, period=3600)
        lim.check("k")
        lim.check("k")
        lim.peek("k")
        lim.reset("k")
        stats = c.stats()
    ops = [(e.primitive, e.operation) for e in events if e.primitive == "ratelimit"]
    assert ops == [("ratelimit", "check"), ("ratelimit", "check"), ("ratelimit", "peek"), ("ratelimit", "reset")]
    assert all(e.key is not None and "k" in e.key for e in events if e.primitive == "ratelimit")
    assert stats["ratelimit.check"]["calls"] == 2
    assert stats["ratelimit.check"]["rejected"] == 1
