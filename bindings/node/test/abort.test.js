'use strict';
// { signal }: an AbortSignal stops an operation through redisx_cancel, and the
// operation rejects once with an AbortError carrying the signal's reason.
// Bounds are generous (a loaded machine, a slow CI): they tell "stopped at
// once" from "waited out its 30 s", nothing finer.
const test = require('node:test');
const assert = require('node:assert/strict');
const { getEventListeners } = require('node:events');
const { Client, AbortError, Cancelled, RedisxError, InvalidArgument, LockHeld } = require('..');
const { startRedis, stopRedis, sleep, eventually, uniq } = require('../scripts/redis-for-tests');

let server;
let client;
let other;

test.before(async () => {
  server = await startRedis();
  client = Client.fromUrl(server.url, { prefix: 'nodeabort' });
  other = Client.fromUrl(server.url, { prefix: 'nodeabort' });
});

test.after(async () => {
  if (client) await client.close();
  if (other) await other.close();
  await stopRedis(server);
});

const LONG = 30000; // a wait that must never run out in these tests

function isAbort(reason) {
  return (e) => {
    assert.ok(e instanceof AbortError, String(e));
    assert.ok(e instanceof Cancelled && e instanceof RedisxError);
    assert.equal(e.name, 'AbortError');
    assert.equal(e.code, 'ERR_CANCELLED');
    assert.equal(e.status, Cancelled.status);
    if (reason !== undefined) assert.equal(e.cause, reason);
    return true;
  };
}

const listeners = (signal) => getEventListeners(signal, 'abort').length;

test('an abort stops a waiting acquire at once, and the lock is free once its holder releases it', async () => {
  const name = uniq('wait');
  const held = await other.acquire(name, { ttl: LONG });
  const ac = new AbortController();
  const t0 = Date.now();
  const waiting = client.acquire(name, { ttl: LONG, wait: LONG, signal: ac.signal });
  assert.equal(listeners(ac.signal), 1);
  await sleep(200);
  const reason = new Error('the caller went away');
  ac.abort(reason);
  await assert.rejects(waiting, isAbort(reason));
  const elapsed = Date.now() - t0;
  assert.ok(elapsed >= 150 && elapsed < 1500, `rejected after ${elapsed} ms`);
  assert.equal(listeners(ac.signal), 0, 'the abort listener is removed');
  await held.release();
  // The cancelled waiter took nothing, not even later: the lock stays free.
  await sleep(300);
  assert.equal((await client.lockInfo(name)).locked, false);
  const again = await client.tryAcquire(name, { ttl: 1000 });
  await again.release();
});

test('AbortSignal.timeout stops a long wait the same way', async () => {
  const name = uniq('timeout');
  const held = await other.acquire(name, { ttl: LONG });
  const signal = AbortSignal.timeout(300);
  const t0 = Date.now();
  await assert.rejects(client.acquire(name, { ttl: LONG, wait: LONG, signal }), (e) => {
    isAbort()(e);
    assert.equal(e.cause, signal.reason);
    assert.equal(e.cause.name, 'TimeoutError');
    return true;
  });
  const elapsed = Date.now() - t0;
  assert.ok(elapsed >= 250 && elapsed < 3000, `rejected after ${elapsed} ms`);
  await held.release();
  await sleep(300);
  assert.equal((await client.lockInfo(name)).locked, false);
});

test('withLock with an aborted acquire does not run its function', async () => {
  const name = uniq('withlock');
  const held = await other.acquire(name, { ttl: LONG });
  let ran = false;
  await assert.rejects(
    client.withLock(name, { ttl: 1000, wait: LONG, signal: AbortSignal.timeout(200) }, () => {
      ran = true;
    }),
    isAbort(),
  );
  assert.equal(ran, false);
  await held.release();
});

test('an abort stops a waiting idempotency begin, which leaves no record of its own', async () => {
  const key = uniq('idem');
  const first = await other.idempotencyBegin(key, 'fp', { lease: LONG });
  assert.equal(first.state, 'NEW');
  const ac = new AbortController();
  const t0 = Date.now();
  const waiting = client.idempotencyBegin(key, 'fp', { lease: LONG, wait: LONG, signal: ac.signal });
  await sleep(200);
  ac.abort();
  await assert.rejects(waiting, isAbort(ac.signal.reason));
  const elapsed = Date.now() - t0;
  assert.ok(elapsed >= 150 && elapsed < 1500, `rejected after ${elapsed} ms`);
  assert.equal(listeners(ac.signal), 0);
  // The first owner still owns it; once it fails the record, the next
  // begin runs the work (no in-progress record left by the aborted waiter).
  await first.fail();
  await sleep(300);
  const next = await client.idempotencyBegin(key, 'fp', { lease: 1000 });
  assert.equal(next.state, 'NEW');
  await next.fail();
});

test('idempotent() passes its signal to the begin', async () => {
  const key = uniq('idem-run');
  const first = await other.idempotencyBegin(key, 'fp', { lease: LONG });
  let ran = false;
  await assert.rejects(
    client.idempotent(key, 'fp', () => (ran = true), { wait: LONG, signal: AbortSignal.timeout(200) }),
    isAbort(),
  );
  assert.equal(ran, false);
  await first.fail();
});

test('an already-aborted signal rejects at once and sends nothing to Redis', async () => {
  let events = 0;
  const c = Client.fromUrl(server.url, { prefix: 'nodeabort', onEvent: () => events++ });
  try {
    await c.execute('PING'); // connected, one event
    await eventually(() => events === 1);
    const before = c.stats().client;
    const reason = new Error('already gone');
    const signal = AbortSignal.abort(reason);
    const limiter = c.limiter(uniq('rl'), { algorithm: 'fixed_window', limit: 1, period: 60000 });
    const lock = await c.acquire(uniq('pre'), { ttl: 5000 });
    const rec = await c.idempotencyBegin(uniq('pre-idem'), null);
    await eventually(() => events === 3);
    const calls = [
      c.acquire(uniq('pre'), { ttl: 1000, signal }),
      c.tryAcquire(uniq('pre'), { ttl: 1000, signal }),
      c.lockInfo(uniq('pre'), { signal }),
      c.idempotencyBegin(uniq('pre'), 'fp', { signal }),
      c.execute('SET', uniq('pre'), 'v', { signal }),
      limiter.check('k', { signal }),
      limiter.check('k', 1, { signal }),
      limiter.peek('k', { signal }),
      limiter.reset('k', { signal }),
      lock.release({ signal }),
      lock.extend(1000, { signal }),
      rec.complete('r', null, { signal }),
      rec.fail({ signal }),
    ];
    for (const p of calls) await assert.rejects(p, isAbort(reason));
    assert.equal(listeners(signal), 0);
    await sleep(200);
    assert.equal(events, 3, 'no operation reached the core');
    assert.equal(c.stats().client.inFlight, 0);
    assert.equal(c.stats().client.connects, before.connects);
    // The lock and the record were untouched by the aborted calls.
    assert.equal((await c.lockInfo(lock.name)).locked, true);
    assert.equal(limiter.capacity, 1);
    assert.equal((await limiter.check('k')).allowed, true, 'the aborted check spent nothing');
    await lock.release();
    await rec.fail();
  } finally {
    await c.close();
  }
});

test('the abort listener is removed whatever the outcome', async () => {
  const ac = new AbortController();
  const { signal } = ac;
  const name = uniq('listeners');
  const lock = await client.acquire(name, { ttl: 5000, signal });
  assert.equal(listeners(signal), 0, 'after success');
  await assert.rejects(client.tryAcquire(name, { ttl: 1000, signal }), LockHeld);
  assert.equal(listeners(signal), 0, 'after a failure');
  await assert.rejects(client.execute('NOSUCHCOMMAND', { signal }));
  assert.equal(listeners(signal), 0, 'after an error reply');
  const inFlight = [];
  for (let i = 0; i < 200; i++) inFlight.push(client.execute('INCR', uniq('n'), { signal }));
  assert.equal(listeners(signal), 1, 'one listener, however many operations share the signal');
  await Promise.all(inFlight);
  assert.equal(listeners(signal), 0, 'after many in flight');
  await lock.release({ signal });
  assert.equal(listeners(signal), 0);
  // An abort after everything completed changes nothing.
  ac.abort();
  assert.equal((await client.lockInfo(name)).locked, false);
});

test('an abort cancels only its own operation', async () => {
  const name = uniq('own');
  const held = await other.acquire(name, { ttl: LONG });
  const ac = new AbortController();
  const kept = client.acquire(name, { ttl: 5000, wait: LONG });
  const aborted = client.acquire(name, { ttl: 5000, wait: LONG, signal: ac.signal });
  const sameSignal = client.idempotencyBegin(uniq('own-idem'), 'fp', { signal: ac.signal });
  await sleep(100);
  ac.abort();
  await assert.rejects(aborted, isAbort());
  // A begin sharing the signal completed before the abort: its record stands.
  const rec = await sameSignal;
  assert.equal(rec.state, 'NEW');
  await rec.fail();
  await held.release();
  const lock = await kept; // the other waiter still got the lock
  assert.ok(lock.fencingToken > held.fencingToken);
  await lock.release();
});

test('one abort stops every waiting operation that shares the signal', async () => {
  const name = uniq('shared');
  const held = await other.acquire(name, { ttl: LONG });
  const key = uniq('shared-idem');
  const first = await other.idempotencyBegin(key, 'fp', { lease: LONG });
  const ac = new AbortController();
  const waits = [];
  for (let i = 0; i < 20; i++) waits.push(client.acquire(name, { ttl: 1000, wait: LONG, signal: ac.signal }));
  for (let i = 0; i < 20; i++) waits.push(client.idempotencyBegin(key, 'fp', { wait: LONG, signal: ac.signal }));
  await sleep(200);
  assert.equal(listeners(ac.signal), 1);
  const t0 = Date.now();
  ac.abort();
  for (const w of waits) await assert.rejects(w, isAbort());
  assert.ok(Date.now() - t0 < 2000);
  assert.equal(listeners(ac.signal), 0);
  await held.release();
  await first.fail();
});

test('a signal that is not an AbortSignal is InvalidArgument', async () => {
  await assert.rejects(client.acquire(uniq('bad'), { ttl: 1000, signal: 'stop' }), InvalidArgument);
  await assert.rejects(client.execute('PING', { signal: {} }), InvalidArgument);
  // null is "no signal", as in fetch.
  assert.equal(await client.execute('PING', { signal: null }), 'PONG');
});

test('many aborts racing completions settle every operation exactly once', async () => {
  const ops = [];
  for (let i = 0; i < 500; i++) {
    const ac = new AbortController();
    const p = client.execute('INCR', uniq('race'), { signal: ac.signal });
    let settled = 0;
    ops.push(
      p.then(
        (v) => {
          settled++;
          assert.equal(v, 1);
          return settled;
        },
        (e) => {
          settled++;
          isAbort()(e);
          return settled;
        },
      ),
    );
    if (i % 2) queueMicrotask(() => ac.abort());
    else setImmediate(() => ac.abort());
  }
  for (const n of await Promise.all(ops)) assert.equal(n, 1);
  assert.equal(await client.execute('PING'), 'PONG');
});
