"""redisx (Python) locks next to redis-py's Lock, against ONE server in ONE run.

    python bench.py URL [--seq-cycles N] [--tasks N] [--rounds N]

Prints `name=value` lines; never judges them. A cycle is acquire + release of
an uncontended lock.

- Sequential, one caller: redisx ``try_lock(...).release()`` and
  ``lock(..., wait=...)`` vs redis-py ``Lock(blocking=False)`` and
  ``Lock(blocking=True, blocking_timeout=...)``.
- asyncio, ``--tasks`` concurrent tasks on distinct names, each doing
  ``--rounds`` cycles: redisx ``lock_async`` (the core's asynchronous calls,
  one multiplexed connection) vs ``redis.asyncio`` Lock over a
  ``BlockingConnectionPool`` of ``--pool`` connections (tasks wait for a free
  connection; redis-py sends one command per connection at a time).

Ratios are redisx / redis-py (above 1: redisx faster).

Rate limits, redisx next to ``limits`` (its Redis storage over redis-py), with
a limit high enough that every hit is allowed (a hit that is not aborts):

- ``sliding_log`` vs ``MovingWindowRateLimiter`` ("moving") and
  ``fixed_window`` vs ``FixedWindowRateLimiter`` ("fixed");
- sequential (one thread, ``--rl-seq-hits`` hits) and concurrent (``--rl-threads``
  threads, ``--rl-conc-hits`` hits in all, on one key);
- ``python_rl_<seq|conc>_<moving|fixed>_ratio`` = redisx checks/s / limits hits/s.

The cache: ``redisx_py_cache_l1_hit_<bytes|json>_ns``, ns per ``Cache.get`` that
hits this process's L1 (a 100-byte value with the bytes codec; a small object
with the JSON codec, decoded on every hit, and ``_json_memoized_ns`` with
``memoize=True``: decoded once per L1 copy).
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import sys
import time
import uuid

import threading
from typing import Any, Callable

import limits
import limits.storage
import limits.strategies
import redis
import redis.asyncio as aredis

import redisx

RL_LIMIT = 100_000  # per hour: every hit of a run is allowed (sliding_log allows at most 100000)


def rate(n: int, seconds: float) -> float:
    return n / seconds if seconds > 0 else float("nan")


def bench_seq_redisx(client: redisx.Client, cycles: int, wait: bool) -> float:
    name = "seq-wait" if wait else "seq"
    if wait:
        t0 = time.perf_counter()
        for _ in range(cycles):
            client.lock(name, ttl=10.0, wait=10.0).release()
    else:
        t0 = time.perf_counter()
        for _ in range(cycles):
            client.try_lock(name, ttl=10.0).release()
    return rate(cycles, time.perf_counter() - t0)


def bench_seq_redispy(r: redis.Redis, prefix: str, cycles: int, blocking: bool) -> float:
    name = f"{prefix}:rp:seq-{'b' if blocking else 'nb'}"
    t0 = time.perf_counter()
    for _ in range(cycles):
        lk = r.lock(name, timeout=10, blocking=blocking, blocking_timeout=10 if blocking else None)
        if not lk.acquire():
            raise RuntimeError("redis-py lock not acquired")
        lk.release()
    return rate(cycles, time.perf_counter() - t0)


async def bench_async_redisx(client: redisx.Client, tasks: int, rounds: int) -> float:
    async def worker(i: int) -> None:
        name = f"a{i}"
        for _ in range(rounds):
            async with client.lock_async(name, ttl=10, wait=0):
                pass

    t0 = time.perf_counter()
    await asyncio.gather(*(worker(i) for i in range(tasks)))
    return rate(tasks * rounds, time.perf_counter() - t0)


async def bench_async_redispy(r: "aredis.Redis", prefix: str, tasks: int, rounds: int) -> float:
    async def worker(i: int) -> None:
        name = f"{prefix}:rp:a{i}"
        for _ in range(rounds):
            lk = r.lock(name, timeout=10, blocking=False)
            if not await lk.acquire():
                raise RuntimeError("redis.asyncio lock not acquired")
            await lk.release()

    t0 = time.perf_counter()
    await asyncio.gather(*(worker(i) for i in range(tasks)))
    return rate(tasks * rounds, time.perf_counter() - t0)


def _timed_threads(threads: int, total: int, hit: Callable[[], bool]) -> float:
    """``total`` calls of ``hit`` spread over ``threads`` threads; hits/s."""
    per = total // threads
    barrier = threading.Barrier(threads + 1)
    denied = []

    def worker() -> None:
        barrier.wait()
        n = 0
        for _ in range(per):
            if not hit():
                n += 1
        if n:
            denied.append(n)

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    barrier.wait()
    t0 = time.perf_counter()
    for t in pool:
        t.join()
    elapsed = time.perf_counter() - t0
    if denied:
        raise RuntimeError(f"{sum(denied)} hits were denied: the limit must allow every hit")
    return rate(per * threads, elapsed)


def _timed_seq(total: int, hit: Callable[[], bool]) -> float:
    t0 = time.perf_counter()
    for _ in range(total):
        if not hit():
            raise RuntimeError("a hit was denied: the limit must allow every hit")
    return rate(total, time.perf_counter() - t0)


def bench_rate_limits(client: redisx.Client, url: str, prefix: str, seq_hits: int, conc_hits: int,
                      threads: int, out: dict) -> None:
    storage: Any = limits.storage.storage_from_string(url)
    item = limits.RateLimitItemPerHour(RL_LIMIT)
    peers = {
        "moving": ("sliding_log", limits.strategies.MovingWindowRateLimiter(storage)),
        "fixed": ("fixed_window", limits.strategies.FixedWindowRateLimiter(storage)),
    }
    warm = max(100, seq_hits // 10)
    for label, (algorithm, peer) in peers.items():
        lim = client.limiter(f"{prefix}-{label}", algorithm, limit=RL_LIMIT, period=3600)
        # warm-up (scripts loaded, pools filled), each phase on its own key
        _timed_seq(warm, lambda: lim.check("warm").allowed)
        _timed_seq(warm, lambda: peer.hit(item, prefix, label, "warm"))
        out[f"redisx_py_rl_seq_{label}_checks_per_s"] = _timed_seq(seq_hits, lambda: lim.check("seq").allowed)
        out[f"limits_rl_seq_{label}_hits_per_s"] = _timed_seq(seq_hits, lambda: peer.hit(item, prefix, label, "seq"))
        out[f"redisx_py_rl_conc_{label}_checks_per_s"] = _timed_threads(threads, conc_hits,
                                                                        lambda: lim.check("conc").allowed)
        out[f"limits_rl_conc_{label}_hits_per_s"] = _timed_threads(
            threads, conc_hits, lambda: peer.hit(item, prefix, label, "conc"))
    for mode in ("seq", "conc"):
        for label in peers:
            out[f"python_rl_{mode}_{label}_ratio"] = (out[f"redisx_py_rl_{mode}_{label}_checks_per_s"]
                                                     / out[f"limits_rl_{mode}_{label}_hits_per_s"])


def bench_cache_l1(client: redisx.Client, n: int, codec: str, memoize: bool = False) -> float:
    """ns per L1 hit of Cache.get (the core's L1 peek plus the codec's decode,
    or with memoize the decoded value of that L1 copy)."""
    cache = client.cache("bench-l1-" + codec + ("-memo" if memoize else ""), codec=codec, l1_ttl=60.0,
                         memoize=memoize)
    cache.set("k", {"id": 1, "name": "x"} if codec == "json" else b"x" * 100)
    for _ in range(1000):
        cache.get("k")
    t0 = time.perf_counter()
    for _ in range(n):
        cache.get("k")
    return (time.perf_counter() - t0) / n * 1e9


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("url")
    ap.add_argument("--seq-cycles", type=int, default=5000)
    ap.add_argument("--tasks", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--pool", type=int, default=100)
    ap.add_argument("--rl-seq-hits", type=int, default=5000)
    ap.add_argument("--rl-conc-hits", type=int, default=16000)
    ap.add_argument("--rl-threads", type=int, default=8)
    args = ap.parse_args()
    if args.rl_seq_hits + max(100, args.rl_seq_hits // 10) > RL_LIMIT or args.rl_conc_hits > RL_LIMIT:
        ap.error(f"at most {RL_LIMIT} rate-limit hits per phase")

    prefix = "bench" + uuid.uuid4().hex[:8]
    out = {}
    out["python_version"] = platform.python_version()
    out["redisx_library_version"] = redisx.library_version()
    out["redis_py_version"] = redis.__version__
    out["limits_version"] = getattr(limits, "__version__", "unknown")
    out["rl_threads"] = args.rl_threads
    out["rl_seq_hits"] = args.rl_seq_hits
    out["rl_conc_hits"] = args.rl_conc_hits

    r = redis.Redis.from_url(args.url)
    with redisx.Client.from_url(args.url, prefix=prefix) as client:
        warm = max(200, args.seq_cycles // 10)
        bench_seq_redisx(client, warm, False)
        bench_seq_redispy(r, prefix, warm, False)

        out["redisx_py_seq_cycles_per_s"] = bench_seq_redisx(client, args.seq_cycles, False)
        out["redispy_seq_cycles_per_s"] = bench_seq_redispy(r, prefix, args.seq_cycles, False)
        out["redisx_py_seq_wait_cycles_per_s"] = bench_seq_redisx(client, args.seq_cycles, True)
        out["redispy_seq_blocking_cycles_per_s"] = bench_seq_redispy(r, prefix, args.seq_cycles, True)

        async def run_async() -> None:
            pool = aredis.BlockingConnectionPool.from_url(args.url, max_connections=args.pool, timeout=60)
            ar = aredis.Redis(connection_pool=pool)
            try:
                # warm-up: scripts loaded, the pool's connections opened
                await bench_async_redisx(client, args.tasks, 1)
                await bench_async_redispy(ar, prefix, args.tasks, 1)
                out["redisx_py_async_cycles_per_s"] = await bench_async_redisx(client, args.tasks, args.rounds)
                out["redispy_async_cycles_per_s"] = await bench_async_redispy(ar, prefix, args.tasks, args.rounds)
                out["redispy_async_pool_max_connections"] = args.pool
            finally:
                await ar.aclose() if hasattr(ar, "aclose") else await ar.close()

        asyncio.run(run_async())
        # The same sequential cycle with busy polling (busy_poll=, off by default).
        with redisx.Client.from_url(args.url, prefix=prefix, busy_poll=200e-6) as bp:
            bench_seq_redisx(bp, warm, False)
            out["redisx_py_seq_busy_poll_cycles_per_s"] = bench_seq_redisx(bp, args.seq_cycles, False)
        bench_rate_limits(client, args.url, prefix, args.rl_seq_hits, args.rl_conc_hits, args.rl_threads, out)
        # the cache: an L1 hit (issue 11's target: at most 1 us from a binding)
        out["redisx_py_cache_l1_hit_bytes_ns"] = bench_cache_l1(client, 200_000, "bytes")
        out["redisx_py_cache_l1_hit_json_ns"] = bench_cache_l1(client, 200_000, "json")
        out["redisx_py_cache_l1_hit_json_memoized_ns"] = bench_cache_l1(client, 200_000, "json", True)
        out["redisx_py_connections"] = client.stats()["client"]["connections_up"]
        out["redisx_py_lock_acquire_p50_us"] = client.stats()["lock.acquire"]["p50_ns"] / 1000.0

    out["python_seq_ratio"] = out["redisx_py_seq_cycles_per_s"] / out["redispy_seq_cycles_per_s"]
    out["python_seq_blocking_ratio"] = out["redisx_py_seq_wait_cycles_per_s"] / out["redispy_seq_blocking_cycles_per_s"]
    out["python_seq_busy_poll_ratio"] = out["redisx_py_seq_busy_poll_cycles_per_s"] / out["redispy_seq_cycles_per_s"]
    out["python_async_ratio"] = out["redisx_py_async_cycles_per_s"] / out["redispy_async_cycles_per_s"]

    # Leave the server as found (it may be $REDISX_URL): the fence counters
    # never expire by design.
    for pattern in (f"{prefix}:*", f"*{prefix}*"):  # redisx's keys, then the limits keys naming it
        for key in r.scan_iter(match=pattern, count=1000):
            r.delete(key)
    r.close()

    for k, v in out.items():
        print(f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
