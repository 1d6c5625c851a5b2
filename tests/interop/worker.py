"""Interop worker, Python side. Same command line in every language:

  count URL PREFIX N   N times: take lock "counter", GET/SET +1 the plain
                       counter, RPUSH "<lang>:<fencing>" to the fences list,
                       release, pause 2 ms (locks are not fair: without the
                       pause one process could run all its rounds in a row)
  hold URL PREFIX      take lock "hold", print "HELD <fencing>", wait for a
                       line on stdin, release, print "RELEASED"
  probe URL PREFIX     try lock "hold": print "HELD-BY <fencing>" when
                       refused (LockHeld), else "FREE"
  rl-sequence URL PREFIX ALGORITHM
                       the canonical sequence (SEQ) on limiter
                       "seq-<ALGORITHM>" (5 per hour), key "k"
  rl-share URL PREFIX ALGORITHM N CONC
                       limiter "share-<ALGORITHM>" (30 per hour, burst 0):
                       N checks of cost 1 on key "shared", CONC at a time;
                       prints "ALLOWED <count>"
  idem-dup URL PREFIX KEY M
                       M concurrent begins (fingerprint "same-request",
                       lease 10 s, wait 20 s); NEW: INCR <PREFIX>:executions,
                       300 ms of work, complete "python-<pid>"; prints M lines
                       "RESP <response>"
  idem-hold URL PREFIX KEY LEASE_MS
                       begin (fingerprint "crash"), print "STARTED <STATE>",
                       sleep until killed
  http-dump URL PREFIX LANG
                       the canonical dump of the HTTP middlewares' answers
                       (see http_dump; run.sh compares the languages)
  http-fingerprint URL PREFIX METHOD TARGET BODY
                       print the hex SHA-256 fingerprint the HTTP idempotency
                       helpers give that request
  idem-begin URL PREFIX KEY LEASE_MS WAIT_MS
                       begin (fingerprint "crash"), print "<STATE> <taken_over>";
                       NEW completes with "done-python"
  cache-set URL PREFIX KEY JSON / cache-get URL PREFIX KEY / cache-delete URL PREFIX KEY
                       on cache "interop": set the JSON value (60 s), print
                       "VALUE <canonical JSON>" or "MISS", delete
  cache-set-tagged URL PREFIX KEY JSON TAG / cache-invalidate-tags URL PREFIX TAG
                       set the JSON value (60 s) carrying TAG; invalidate TAG
  cache-serve URL PREFIX KEY
                       one lookup per line of stdin on one L1 (TTL 1 s) for
                       the process's life: "VALUE <canonical JSON> <layer>" or "MISS"
  cache-load URL PREFIX KEY M
                       M concurrent get-or-loads of KEY; the loader INCRs
                       <PREFIX>:cache-loads and takes 300 ms; prints M lines
                       "LOADED <canonical JSON>"
"""
import asyncio
import json
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import redisx
import redisx.http

SEQ_LIMIT, SEQ_PERIOD = 5, 3600.0


def rl_line(op, cost, r):
    flag = "-" if r.retry_after_ms == -1 else ("+" if r.retry_after_ms > 0 else "?")
    return "%s %d %d %d %d %s" % (op, cost, int(r.allowed), r.limit, r.remaining, flag)


def rl_sequence(client, algorithm):
    lim = client.limiter("seq-" + algorithm, algorithm, limit=SEQ_LIMIT, period=SEQ_PERIOD, burst=0)
    lim.reset("k")
    print("reset")
    for _ in range(7):
        print(rl_line("check", 1, lim.check("k", 1)))
    print(rl_line("peek", 1, lim.peek("k")))
    lim.reset("k")
    print("reset")
    print(rl_line("peek", 1, lim.peek("k")))
    for cost in (3, 3, 2, 6):
        try:
            print(rl_line("check", cost, lim.check("k", cost)))
        except redisx.RedisxError as e:
            print("check %d %s" % (cost, type(e).__name__))
    sys.stdout.flush()


async def rl_share(client, algorithm, n, conc):
    lim = client.limiter("share-" + algorithm, algorithm, limit=30, period=3600.0, burst=0)
    gate = asyncio.Semaphore(conc)

    async def one():
        async with gate:
            return (await lim.check_async("shared", 1)).allowed

    results = await asyncio.gather(*(one() for _ in range(n)))
    print("ALLOWED %d" % sum(results), flush=True)


async def idem_dup(client, prefix, key, m):
    mine = "python-%d" % os.getpid()

    async def one():
        rec = await client.idempotency_begin_async(key, b"same-request", lease=10.0, wait=20.0)
        if rec.state == "NEW":
            await client.execute_async("INCR", prefix + ":executions")
            await asyncio.sleep(0.3)
            await rec.complete_async(mine, b"m", ttl=60.0)
            return mine
        if rec.state == "COMPLETED":
            return rec.response.decode("utf-8", "surrogateescape")
        raise SystemExit("idem-dup: unexpected state %s" % rec.state)

    for resp in await asyncio.gather(*(one() for _ in range(m))):
        print("RESP " + resp)
    sys.stdout.flush()


# ---- the HTTP middlewares' answers, dumped canonically --------------------------
# One line per situation: "<case> <status> <headers> <body hex>", the headers
# of DUMP_HEADERS only, lower-case, sorted, "name=value" joined by "|"; a
# time-derived value (Retry-After, X-RateLimit-Reset) is checked to be
# whole seconds in range and printed as "N". Every worker (C, Python, Node,
# Go) prints the same lines for the same situations.
DUMP_HEADERS = ("content-type", "idempotent-replayed", "retry-after", "x-ratelimit-limit", "x-ratelimit-remaining",
                "x-ratelimit-reset")
DUMP_BODY = '{"amount":"10 \u20ac"}'.encode("utf-8")


def dump_line(case, status, headers, body):
    out = []
    for k, v in headers:
        k = k.lower()
        if k not in DUMP_HEADERS:
            continue
        if k in ("retry-after", "x-ratelimit-reset"):
            if not v.isdigit() or not (k == "x-ratelimit-reset" or 1 <= int(v)) or int(v) > 3600:
                raise SystemExit("%s: %s out of range: %r" % (case, k, v))
            v = "N"
        out.append("%s=%s" % (k, v))
    print("%s %d %s %s" % (case, status, "|".join(sorted(out)) or "-", body.hex() or "-"), flush=True)


def http_dump(client, lang):
    import io
    import redisx.wsgi

    def handler(environ, start_response):
        environ["wsgi.input"].read()
        start_response("201 Created", [("Content-Type", "application/json; charset=utf-8")])
        return [b'{"id":7}']

    def ok(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    def call(app, case, key=None, body=DUMP_BODY):
        environ = {"REQUEST_METHOD": "POST", "PATH_INFO": "/orders", "QUERY_STRING": "id=7",
                   "CONTENT_LENGTH": str(len(body)), "wsgi.input": io.BytesIO(body), "REMOTE_ADDR": "10.0.0.1"}
        if key is not None:
            environ["HTTP_IDEMPOTENCY_KEY"] = key
        got = []
        data = b"".join(app(environ, lambda status, headers, exc=None: got.extend([status, headers])))
        dump_line(case, int(got[0].split()[0]), got[1], data)

    ns = "dump-" + lang
    idem = redisx.wsgi.IdempotencyMiddleware(handler, client, namespace=ns, required=True)
    call(idem, "required")
    call(idem, "invalid", "k" * 1100)
    call(idem, "first", "k1")
    call(idem, "replay", "k1")
    call(idem, "mismatch", "k1", b"another body")
    client.idempotency_begin(ns + ":k2", redisx.http.fingerprint("POST", "/orders?id=7", DUMP_BODY), lease=600.0)
    call(idem, "in-progress", "k2")
    rec = client.idempotency_begin(ns + ":k1", redisx.http.fingerprint("POST", "/orders?id=7", DUMP_BODY))
    print("metadata %s %s" % (rec.state.value, rec.metadata.hex()), flush=True)
    limiter = client.limiter(ns, "fixed_window", 1, 3600.0)
    rl = redisx.wsgi.RateLimitMiddleware(ok, limiter)
    call(rl, "rl-allowed")
    call(rl, "rl-denied")


def stream_consume(client, prefix, stream):
    """Consumes group "g" of stream: each message HINCRBYs <prefix>:stream-handled
    by its id (the side effect run.sh counts), then is acked; stops when the
    key <prefix>:stream-stop exists; prints "HANDLED <count>"."""
    handled = [0]
    cons = client.consumer(stream, "g", max_in_flight=32, min_idle=3.0, reclaim_interval=0.5, block=0.2)

    def handle(msg):
        if msg.payload.get("n") is None or msg.headers.get("type") != b"interop":
            raise ValueError("unexpected message %r" % (msg.payload,))
        client.execute("HINCRBY", prefix + ":stream-handled", msg.id, 1)
        handled[0] += 1

    def watch():
        while not client.execute("EXISTS", prefix + ":stream-stop"):
            time.sleep(0.1)
        cons.stop()

    import threading
    threading.Thread(target=watch, daemon=True).start()
    print("STARTED", flush=True)
    cons.run(handle, workers=8)
    cons.close()
    print("HANDLED %d" % handled[0], flush=True)


def main() -> int:
    mode, url, prefix = sys.argv[1], sys.argv[2], sys.argv[3]
    with redisx.Client.from_url(url, prefix=prefix, command_timeout=10.0) as client:
        if mode == "count":
            for _ in range(int(sys.argv[4])):
                with client.acquire("counter", ttl=30.0, wait=120.0) as lk:
                    raw = client.execute("GET", prefix + ":counter")
                    value = int(raw) if raw is not None else 0
                    client.execute("SET", prefix + ":counter", str(value + 1))
                    client.execute("RPUSH", prefix + ":fences", "python:%d" % lk.fencing_token)
                time.sleep(0.002)  # outside the lock: let the other languages in
        elif mode == "hold":
            with client.acquire("hold", ttl=30.0, wait=30.0) as lk:
                print("HELD %d" % lk.fencing_token, flush=True)
                sys.stdin.readline()
            print("RELEASED", flush=True)
        elif mode == "probe":
            try:
                lk = client.try_lock("hold", ttl=30.0)
            except redisx.LockHeld:
                print("HELD-BY %d" % client.lock_info("hold").fencing_token, flush=True)
            else:
                lk.release()
                print("FREE", flush=True)
        elif mode == "rl-sequence":
            rl_sequence(client, sys.argv[4])
        elif mode == "rl-share":
            asyncio.run(rl_share(client, sys.argv[4], int(sys.argv[5]), int(sys.argv[6])))
        elif mode == "idem-dup":
            try:
                asyncio.run(idem_dup(client, prefix, sys.argv[4], int(sys.argv[5])))
            except SystemExit as e:
                print(e, file=sys.stderr)
                return 1
        elif mode == "idem-hold":
            rec = client.idempotency_begin(sys.argv[4], b"crash", lease=int(sys.argv[5]) / 1000.0, wait=0)
            print("STARTED %s" % rec.state.value, flush=True)
            while True:
                time.sleep(3600)
        elif mode == "http-dump":
            http_dump(client, sys.argv[4])
        elif mode == "http-fingerprint":
            print(redisx.http.fingerprint(sys.argv[4], sys.argv[5], sys.argv[6].encode("utf-8")).hex(), flush=True)
        elif mode == "idem-begin":
            rec = client.idempotency_begin(sys.argv[4], b"crash", lease=int(sys.argv[5]) / 1000.0,
                                           wait=int(sys.argv[6]) / 1000.0)
            print("%s %d" % (rec.state.value, int(rec.taken_over)), flush=True)
            if rec.state == "NEW":
                rec.complete(b"done-python", b"", ttl=60.0)
        elif mode.startswith("cache-"):
            return cache_mode(client, prefix, mode, sys.argv[4:])
        elif mode == "stream-requeue":
            # Requeues the one DLQ entry of the stream and consumes it again (group "g").
            (entry,) = client.dead_letters(sys.argv[4])
            new_id = client.requeue_dead_letter(sys.argv[4], entry.id)
            with client.consumer(sys.argv[4], "g") as cons:
                msgs = []
                while not msgs:
                    msgs = cons.fetch(1, 1.0)
                msgs[0].ack()
            print("REQUEUED %s %s %s %d %s" % (entry.original_id, new_id, msgs[0].id, msgs[0].payload["n"],
                                               entry.error.replace(" ", "_")), flush=True)
        elif mode == "stream-consume":
            stream_consume(client, prefix, sys.argv[4])
        else:
            print("unknown mode " + mode, file=sys.stderr)
            return 2
    return 0


def canonical(value) -> str:
    # the line every language prints for a cached JSON value (run.sh, part 7)
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, sort_keys=True)


def cache_line(cache, key) -> str:
    entry = cache.lookup(key)
    return "VALUE " + canonical(entry.value) if entry.found else "MISS"


def cache_mode(client, prefix, mode, args) -> int:
    """cache-set KEY JSON, cache-get KEY, cache-delete KEY, cache-serve KEY
    (one lookup per line of stdin, on one L1 of TTL 1 s), cache-load KEY M
    (M concurrent get_or_load of a cold key; the loader INCRs a counter)."""
    cache = client.cache("interop", l1_ttl=1.0)
    key = args[0]
    if mode == "cache-set":
        cache.set(key, json.loads(args[1]), ttl=60)
    elif mode == "cache-set-tagged":
        cache.set(key, json.loads(args[1]), ttl=60, tags=[args[2]])
    elif mode == "cache-invalidate-tags":
        cache.invalidate_tags([key])
    elif mode == "cache-get":
        print(cache_line(cache, key), flush=True)
    elif mode == "cache-delete":
        cache.delete(key)
    elif mode == "cache-serve":
        for _ in sys.stdin:
            entry = cache.lookup(key)
            print("VALUE %s %s" % (canonical(entry.value), entry.layer) if entry.found else "MISS", flush=True)
    elif mode == "cache-load":
        def load():
            client.execute("INCR", prefix + ":cache-loads")
            time.sleep(0.3)
            return {"by": "python"}

        with ThreadPoolExecutor(int(args[1])) as pool:
            for v in pool.map(lambda _: cache.get_or_load(key, load, wait=30), range(int(args[1]))):
                print("LOADED " + canonical(v), flush=True)
    else:
        print("unknown mode " + mode, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
