'use strict';
// The behaviours every binding shares (root README, "Same behaviour in every
// language"): the Python and Go suites assert the same rules.
const test = require('node:test');
const assert = require('node:assert/strict');
const v8 = require('node:v8');
const vm = require('node:vm');
const { Client, InvalidArgument, LockHeld } = require('..');
const { startRedis, stopRedis, sleep, eventually, uniq, freePort } = require('../scripts/redis-for-tests');

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc');

let server;
let client;

test.before(async () => {
  server = await startRedis();
  client = Client.fromUrl(server.url, { prefix: 'noderules' });
});

test.after(async () => {
  if (client) await client.close();
  await stopRedis(server);
});

const isInvalid = (e) => e instanceof InvalidArgument;

test('acquire without wait waits for a release', async () => {
  const name = uniq('wait');
  const holder = await client.acquire(name, { ttl: 60000 });
  setTimeout(() => holder.release(), 500);
  const lock = await client.acquire(name, { ttl: 10000 });
  assert.ok(lock.fencingToken > holder.fencingToken);
  await lock.release();
});

test('acquire without wait gives up with LockHeld after the default 10 s', async () => {
  const name = uniq('giveup');
  const holder = await client.acquire(name, { ttl: 60000 });
  const start = Date.now();
  await assert.rejects(client.acquire(name, { ttl: 10000 }), (e) => e instanceof LockHeld);
  const elapsed = Date.now() - start;
  assert.ok(elapsed >= 9500 && elapsed < 30000, `gave up after ${elapsed} ms, want the default 10000`);
  await holder.release();
});

test('a kept-alive lock dropped by the caller is renewed until close', async () => {
  const c = Client.fromUrl(server.url, { prefix: 'noderules' });
  const name = uniq('dropped');
  const ttl = 1000;
  const fencing = await (async () => {
    const lock = await c.acquire(name, { ttl });
    lock.keepAlive();
    return lock.fencingToken;
  })(); // the Lock is unreachable from here on
  for (let i = 0; i < 3; i++) {
    gc();
    await sleep(10);
  }
  await sleep(4 * ttl);
  gc();
  const info = await client.lockInfo(name);
  assert.equal(info.locked, true, '4 x ttl after the kept-alive lock was dropped');
  assert.equal(info.fencingToken, fencing);
  await c.close(); // stops renewal: the lease runs out on its own
  await eventually(async () => !(await client.lockInfo(name)).locked);
});

test('tryAcquire, acquire, withLock and idempotencyBegin refuse null options with InvalidArgument', async () => {
  const name = uniq('nullopts');
  await assert.rejects(client.tryAcquire(name, null), isInvalid);
  await assert.rejects(client.acquire(name, null), isInvalid);
  await assert.rejects(client.acquire(name, 5), isInvalid);
  await assert.rejects(
    client.withLock(name, null, async () => {}),
    isInvalid,
  );
  await assert.rejects(client.idempotencyBegin(name, 'fp', null), isInvalid);
  assert.equal((await client.lockInfo(name)).locked, false);
});

test('names with lone surrogates are InvalidArgument, so distinct strings never share a key', async () => {
  for (const bad of ['\uD800', '\uDBFF', 'a\uDC00b', 'x\uD800']) {
    await assert.rejects(client.tryAcquire(bad, { ttl: 1000 }), isInvalid, JSON.stringify(bad));
    await assert.rejects(client.lockInfo(bad), isInvalid);
    await assert.rejects(client.idempotencyBegin(bad, 'fp'), isInvalid);
    await assert.rejects(client.idempotencyBegin(uniq('fp'), bad), isInvalid);
    const l = client.limiter(uniq('rl'), { algorithm: 'fixed_window', limit: 5, period: 60000 });
    await assert.rejects(l.check(bad), isInvalid);
    await assert.rejects(client.execute('SET', bad, 'v'), isInvalid);
    assert.throws(() => client.limiter(bad, { algorithm: 'fixed_window', limit: 5, period: 60000 }), isInvalid);
    assert.throws(() => Client.fromUrl(server.url, { prefix: bad }), isInvalid);
  }
  // Well-formed text is its UTF-8, U+FFFD and astral characters included:
  // each is its own lock.
  const base = uniq('text');
  const a = await client.tryAcquire(`${base}\uFFFD`, { ttl: 10000 });
  const b = await client.tryAcquire(`${base}\u{1F512}`, { ttl: 10000 });
  assert.notEqual(a.name, b.name);
  await a.release();
  await b.release();
});

test('reconnectBackoff {min, max} reaches the core', async () => {
  assert.throws(() => Client.fromUrl(server.url, { reconnectBackoff: { min: 2000, max: 1000 } }), isInvalid);
  assert.throws(() => Client.fromUrl(server.url, { reconnectBackoff: null }), isInvalid);
  const dead = `redis://127.0.0.1:${await freePort()}/0`; // nobody listens
  const failures = async (min, max) => {
    const c = Client.fromUrl(dead, { reconnectBackoff: { min, max }, connectTimeout: 1000 });
    await sleep(1500);
    const n = c.stats().client.connectFailures;
    await c.close();
    return n;
  };
  const slow = await failures(60000, 60000);
  const fast = await failures(1, 10);
  // A minute between attempts leaves time for the first attempt and the
  // immediate retry only; 10 ms for many more.
  assert.ok(slow <= 3 && fast >= 10, `connect failures in 1.5 s: ${slow} (1 min backoff), ${fast} (1..10 ms)`);
});

test('a refused connection is a warning and a disconnected state', async () => {
  const logs = [];
  const states = [];
  const port = await freePort();
  const c = Client.fromUrl(`redis://127.0.0.1:${port}/0`, {
    onLog: (l) => logs.push(l),
    onState: (s) => states.push(s),
  });
  await eventually(() => logs.length > 0 && states.length > 0);
  await c.close();
  for (const l of logs) assert.ok(l.level === 'warn' || l.level === 'error', JSON.stringify(l));
  assert.equal(states[0].state, 'disconnected');
  assert.equal(states[0].connection, 0);
  assert.ok(states[0].detail.length > 0);
  assert.equal(states[0].node, `127.0.0.1:${port}`, 'the node that refused');
});
