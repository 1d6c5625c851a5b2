"""redisx's cache and streams next to Python's usual libraries, in one run
against one server (run by bench/python/run.sh; prints name=value lines;
ratios are redisx over the peer, above 1: redisx did more per second).

The cache (issue 11):

- ``py_cache_l1_hit_*``: ``Cache.get`` of one key held in this process's L1
  (bytes codec, 100 bytes: the core's L1 peek and a copy into a ``bytes``)
  next to ``cachetools.TTLCache`` (maxsize 10,000, ttl 60 s) ``get``: a
  Python dict lookup and a timer check, no copy, no lock (cachetools is not
  thread-safe by itself). ``py_cache_l1_hit_ratio`` = hits/s redisx / peer.
- ``py_cache_gol_*``: get-or-load with asyncio, TASKS tasks each doing PER
  calls over KEYS keys drawn Zipf(s) (one draw sequence shared by both),
  a loader that returns 100 bytes at once, TTL 1 h, fresh keys each round.
  redisx: ``get_or_load_async`` with L1 off ("l2", like for like with a
  Redis-only cache) and with an L1 of 10,000 entries ("l1"); per call on a
  miss of L1: one EVALSHA of cache_fetch.lua (a hit, or one lease across
  every process), after a load one of cache_fill.lua. aiocache 0.12
  ``RedisCache`` (NullSerializer, redis.asyncio pool): ``get``, and on a
  miss the loader and ``set`` (what its ``@cached`` does); no single flight
  (concurrent misses of one key all load), no in-process tier.

Streams (issue 12), threads on both sides, each round a fresh stream:

- ``py_stream_*_msgs_per_s``: PUBLISHERS threads publish N messages (100
  bytes, MAXLEN ~ 100000) while WORKERS handler threads consume; the clock
  stops when every message was handled and the group has nothing pending.
  redisx: ``Client.publish`` (one EVALSHA of stream_publish.lua), a
  ``Consumer`` (max_in_flight 64) with ``run(handler, workers=WORKERS)``,
  one XACK per message. redis-py 8: ``xadd`` (MAXLEN ~), one reader thread
  ``xreadgroup`` COUNT <free slots of 64> BLOCK 1000, WORKERS threads
  handling and ``xack``-ing each message.
- ``py_stream_*_latency_p50_us`` / ``_p99_us``: one message at a time,
  publish start to handler start.
"""
import argparse
import asyncio
import bisect
import itertools
import queue
import random
import sys
import threading
import time

import cachetools
import redis
from aiocache import RedisCache
from aiocache.serializers import NullSerializer

import redisx

VALUE = b"x" * 100
MAXLEN = 100000


def median(xs):
    s = sorted(xs)
    return s[len(s) // 2]


# ---- the cache ---------------------------------------------------------------------

def bench_l1(client, rounds, n, out):
    cache = client.cache("bench-peer-l1", codec="bytes", l1_ttl=60.0, l1_entries=10000)
    cache.set("k", VALUE)
    peer = cachetools.TTLCache(maxsize=10000, ttl=60)
    peer["k"] = VALUE

    def per_get(get):
        t0 = time.perf_counter()
        for _ in range(n):
            get("k")
        return (time.perf_counter() - t0) / n * 1e9

    per_get(cache.get)
    per_get(peer.get)
    rx, pc = [], []
    for _ in range(rounds):
        rx.append(per_get(cache.get))
        pc.append(per_get(peer.get))
    out["py_cache_l1_hit_redisx_ns"] = median(rx)
    out["py_cache_l1_hit_cachetools_ns"] = median(pc)
    out["py_cache_l1_hit_ratio"] = median(pc) / median(rx)


def zipf_draws(n, keys, s, seed):
    weights = [1.0 / (k ** s) for k in range(1, keys + 1)]
    cdf = list(itertools.accumulate(weights))
    total = cdf[-1]
    rnd = random.Random(seed)
    return [bisect.bisect_left(cdf, rnd.random() * total) for _ in range(n)]


async def gol_run(get_or_load, ns, draws, tasks, per):
    async def one(i):
        for j in range(per):
            await get_or_load(f"{ns}:{draws[i * per + j]}")

    t0 = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(tasks)))
    return tasks * per / (time.perf_counter() - t0)


async def bench_gol(client, host, port, rounds, tasks, per, keys, s, out):
    async def loader():
        return VALUE

    peer = RedisCache(endpoint=host, port=port, serializer=NullSerializer())

    async def peer_gol(key):
        v = await peer.get(key)
        if v is None:
            v = await loader()
            await peer.set(key, v, ttl=3600)
        return v

    out.update(py_cache_gol_tasks=tasks, py_cache_gol_per_task=per, py_cache_gol_keys=keys, py_cache_gol_zipf_s=s)
    try:
        for mode in ("l2", "l1"):
            l1 = dict(l1_entries=0) if mode == "l2" else dict(l1_entries=10000, l1_ttl=60.0)
            rx, pc = [], []
            for r in range(rounds + 1):  # round 0: warm-up
                draws = zipf_draws(tasks * per, keys, s, r)
                cache = client.cache(f"bench-gol-{mode}-{r}", codec="bytes", ttl=3600.0, **l1)
                v = await gol_run(lambda k: cache.get_or_load_async(k, loader), "k", draws, tasks, per)
                w = await gol_run(peer_gol, f"bench-py-gol-{mode}-{r}", draws, tasks, per)
                if r:
                    rx.append(v)
                    pc.append(w)
            c = cache.counters()
            out[f"py_cache_gol_{mode}_redisx_counters"] = ",".join(
                f"{k}:{c[k]}" for k in ("l1_hits", "l2_hits", "loads") if k in c)
            out[f"py_cache_gol_{mode}_redisx_per_s"] = median(rx)
            out[f"py_cache_gol_{mode}_aiocache_per_s"] = median(pc)
            out[f"py_cache_gol_{mode}_ratio"] = median(rx) / median(pc)
    finally:
        await peer.close()


# ---- streams -----------------------------------------------------------------------

class RedisxSide:
    name = "redisx"

    def __init__(self, client):
        self.client = client

    def key(self, stream):
        return f"redisx:stream:{{{stream}}}"

    def start(self, stream, workers, on_msg):
        self.client.create_group(stream, "g", "0")
        cons = self.client.consumer(stream, "g", "c", max_in_flight=64)
        t = threading.Thread(target=cons.run, args=(lambda m: on_msg(),), kwargs=dict(workers=workers), daemon=True)
        t.start()

        def stop():
            cons.stop()
            t.join()
            cons.close()
        return stop

    def publish(self, stream):
        self.client.publish(stream, VALUE, codec="bytes", maxlen=MAXLEN)


class RedisPySide:
    name = "redispy"

    def __init__(self, r):
        self.r = r

    def key(self, stream):
        return stream

    def start(self, stream, workers, on_msg):
        r = self.r
        r.xgroup_create(stream, "g", id="0", mkstream=True)
        work = queue.Queue()
        slots = threading.Semaphore(64)
        stopping = threading.Event()

        def worker():
            while True:
                mid = work.get()
                if mid is None:
                    return
                on_msg()
                r.xack(stream, "g", mid)
                slots.release()

        def reader():
            while not stopping.is_set():
                slots.acquire()  # room for one more unacked message
                extra = 0
                while extra < 63 and slots.acquire(blocking=False):
                    extra += 1
                res = r.xreadgroup("g", "c", {stream: ">"}, count=1 + extra, block=200)
                got = 0
                for _, msgs in res or ():
                    for mid, _fields in msgs:
                        got += 1
                        work.put(mid)
                for _ in range(1 + extra - got):
                    slots.release()

        threads = [threading.Thread(target=worker, daemon=True) for _ in range(workers)]
        rt = threading.Thread(target=reader, daemon=True)
        for t in threads + [rt]:
            t.start()

        def stop():
            stopping.set()
            rt.join()
            for _ in threads:
                work.put(None)
            for t in threads:
                t.join()
        return stop

    def publish(self, stream):
        self.r.xadd(stream, {"payload": VALUE}, maxlen=MAXLEN, approximate=True)


def throughput_run(r, side, stream, n, publishers, workers):
    lock = threading.Lock()
    seen = [0]
    done = threading.Event()

    def on_msg():
        with lock:
            seen[0] += 1
            if seen[0] == n:
                done.set()

    stop = side.start(stream, workers, on_msg)
    try:
        counter = itertools.count()
        t0 = time.perf_counter()

        def pub():
            while next(counter) < n:
                side.publish(stream)

        ts = [threading.Thread(target=pub) for _ in range(publishers)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        pub_rate = n / (time.perf_counter() - t0)
        if not done.wait(120):
            raise RuntimeError(f"{side.name}: {seen[0]} of {n} handled after 120 s")
        while r.xpending(side.key(stream), "g")["pending"]:
            time.sleep(0.0002)
        return n / (time.perf_counter() - t0), pub_rate
    finally:
        stop()


def latency_run(side, stream, n, workers):
    got = queue.Queue()
    stop = side.start(stream, workers, lambda: got.put(time.perf_counter()))
    try:
        lat = []
        for i in range(n + 50):
            t0 = time.perf_counter()
            side.publish(stream)
            t = got.get(timeout=10)
            if i >= 50:
                lat.append((t - t0) * 1e6)
        lat.sort()
        return lat[len(lat) // 2], lat[int((len(lat) - 1) * 0.99)]
    finally:
        stop()


def bench_streams(client, r, rounds, n, publishers, workers, lat_n, out):
    sides = [RedisxSide(client), RedisPySide(r)]
    out.update(py_stream_messages=n, py_stream_publishers=publishers, py_stream_workers=workers,
               py_stream_latency_messages=lat_n)
    rates = {s.name: [] for s in sides}
    pub_rates = {s.name: [] for s in sides}
    for rnd in range(rounds + 1):  # round 0: warm-up
        for side in sides:
            stream = f"bench-py-stream-{side.name}-{rnd}-{time.time_ns()}"
            v, pv = throughput_run(r, side, stream, n if rnd else n // 10, publishers, workers)
            r.delete(side.key(stream))
            if rnd:
                rates[side.name].append(v)
                pub_rates[side.name].append(pv)
    for side in sides:
        out[f"py_stream_{side.name}_msgs_per_s"] = median(rates[side.name])
        out[f"py_stream_{side.name}_published_per_s"] = median(pub_rates[side.name])
    for side in sides:
        stream = f"bench-py-stream-lat-{side.name}-{time.time_ns()}"
        p50, p99 = latency_run(side, stream, lat_n, workers)
        r.delete(side.key(stream))
        out[f"py_stream_{side.name}_latency_p50_us"] = p50
        out[f"py_stream_{side.name}_latency_p99_us"] = p99
    out["py_stream_vs_redispy_ratio"] = median(rates["redisx"]) / median(rates["redispy"])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("url")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--gol-tasks", type=int, default=64)
    ap.add_argument("--gol-per", type=int, default=500)
    ap.add_argument("--gol-keys", type=int, default=100000)
    ap.add_argument("--gol-zipf", type=float, default=1.1)
    ap.add_argument("--stream-n", type=int, default=10000)
    ap.add_argument("--stream-publishers", type=int, default=4)
    ap.add_argument("--stream-workers", type=int, default=16)
    ap.add_argument("--stream-latency-n", type=int, default=500)
    args = ap.parse_args()
    r = redis.Redis.from_url(args.url)
    host = r.connection_pool.connection_kwargs.get("host", "127.0.0.1")
    port = r.connection_pool.connection_kwargs.get("port", 6379)
    out = {}
    with redisx.Client.from_url(args.url) as client:
        bench_l1(client, args.rounds, 200_000, out)
        asyncio.run(bench_gol(client, host, port, args.rounds, args.gol_tasks, args.gol_per, args.gol_keys,
                              args.gol_zipf, out))
        bench_streams(client, r, args.rounds, args.stream_n, args.stream_publishers, args.stream_workers,
                      args.stream_latency_n, out)
    for pattern in ("redisx:cache:bench-*", "bench-py-*"):
        for key in r.scan_iter(match=pattern, count=1000):
            r.delete(key)
    r.close()
    for k, v in out.items():
        print(f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
