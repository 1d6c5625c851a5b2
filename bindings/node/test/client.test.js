'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const redisx = require('..');
const {
  Client,
  RedisxError,
  InvalidArgument,
  InvalidURL,
  ClientClosed,
  ConnectionError,
  ServerError,
  LockHeld,
  LockNotOwned,
  Timeout,
} = redisx;
const { startRedis, stopRedis, eventually, uniq, freePort, sleep } = require('../scripts/redis-for-tests');

let server;
let client;

test.before(async () => {
  server = await startRedis();
  client = Client.fromUrl(server.url, { prefix: 'nodeclient' });
});

test.after(async () => {
  if (client) await client.close();
  await stopRedis(server);
});

test('execute round-trips Buffers with NUL and high bytes', async () => {
  const key = Buffer.from(`bin\0key-${uniq('k')}`);
  const value = Buffer.from([0, 1, 0, 255, 0xfe, 0, 10, 13, 0]);
  assert.equal(await client.execute('SET', key, value), 'OK');
  const got = await client.execute('GET', key);
  assert.ok(Buffer.isBuffer(got));
  assert.deepEqual(got, value);
  assert.equal(await client.execute('STRLEN', key), value.length);
  assert.equal(await client.execute('EXISTS', Buffer.from('bin')), 0, 'the key is not cut at its NUL');
  const u8 = new Uint8Array([0, 0, 7]);
  await client.execute('SET', key, u8);
  assert.deepEqual(await client.execute('GET', key), Buffer.from(u8));
});

test('execute converts every reply type', async () => {
  const k = uniq('types');
  assert.equal(await client.execute('GET', k), null);
  assert.equal(await client.execute('INCRBY', k, 41), 41);
  assert.equal(await client.execute('INCR', k), 42);
  assert.equal(await client.execute('SET', k, 9007199254740993n), 'OK');
  assert.equal(await client.execute('INCR', k), 9007199254740994n, 'past 2^53 an integer is a bigint');
  const list = uniq('list');
  await client.execute('RPUSH', list, 'a', Buffer.from('b\0'), 3);
  assert.deepEqual(await client.execute('LRANGE', list, 0, -1), [Buffer.from('a'), Buffer.from('b\0'), Buffer.from('3')]);
  assert.deepEqual(await client.execute('MGET', list + 'x', k), [null, Buffer.from('9007199254740994')]);
});

test('an error reply rejects with ServerError carrying the server message', async () => {
  await assert.rejects(client.execute('NOSUCHCOMMAND', 'x'), (e) => {
    assert.ok(e instanceof ServerError);
    assert.equal(e.code, 'ERR_SERVER');
    assert.match(e.detail, /unknown command/i);
    return true;
  });
  const k = uniq('wrongtype');
  await client.execute('SET', k, 'v');
  await assert.rejects(client.execute('LPUSH', k, 'x'), /WRONGTYPE/);
});

test('errors carry status, code and detail from the C table', async () => {
  const N = redisx.native;
  const lock = await client.acquire(uniq('err'), { ttl: 5000 });
  const err = await client.tryAcquire(lock.name, { ttl: 1000 }).catch((e) => e);
  assert.ok(err instanceof LockHeld && err instanceof RedisxError && err instanceof Error);
  assert.equal(err.name, 'LockHeld');
  assert.equal(err.code, 'ERR_LOCKED');
  assert.equal(err.status, N.REDISX_ERR_LOCKED);
  assert.equal(typeof err.detail, 'string');
  assert.ok(err.detail.length > 0);
  assert.equal(err.message, err.detail);
  assert.ok(err.stack.includes('LockHeld'));
  await lock.release();
  // Every status of the C table has a class with its number and name.
  const table = [];
  for (let s = -1; N.redisx_status_name(s) != null; s--) table.push([s, N.redisx_status_name(s)]);
  assert.ok(table.length >= 13);
  const classes = Object.values(redisx).filter((v) => typeof v === 'function' && v.prototype instanceof RedisxError);
  for (const [status, code] of table) {
    const cls = classes.find((c) => c.status === status);
    assert.ok(cls, `a class for ${code}`);
    assert.equal(cls.code, code);
  }
  assert.equal(LockNotOwned.code, 'ERR_NOT_OWNER');
  assert.equal(Timeout.code, 'ERR_TIMEOUT');
});

test('bad input is rejected with InvalidArgument', async () => {
  const bad = [
    () => client.acquire(uniq('b'), { ttl: -1 }),
    () => client.acquire(uniq('b'), { ttl: 0 }),
    () => client.acquire(uniq('b'), { ttl: 1.5 }),
    () => client.acquire(uniq('b'), { ttl: 'soon' }),
    () => client.acquire(uniq('b'), {}),
    () => client.acquire(uniq('b'), { ttl: 1000, wait: -5 }),
    () => client.acquire(uniq('b'), { ttl: 86400001 }),
    () => client.acquire('', { ttl: 1000 }),
    () => client.acquire('a\0b', { ttl: 1000 }),
    () => client.acquire(42, { ttl: 1000 }),
    () => client.acquire('x'.repeat(1025), { ttl: 1000 }),
    () => client.lockInfo(''),
    () => client.execute(),
    () => client.execute('GET', {}),
    () => client.execute('GET', NaN),
  ];
  for (const [i, f] of bad.entries()) {
    await assert.rejects(f(), (e) => {
      assert.ok(e instanceof InvalidArgument, `case ${i}: ${e}`);
      assert.equal(e.code, 'ERR_INVALID');
      assert.ok(e.detail.length > 0);
      return true;
    });
  }
  const lock = await client.acquire(uniq('b'), { ttl: 1000 });
  await assert.rejects(lock.extend(-3), InvalidArgument);
  await lock.release();
  assert.throws(() => Client.fromUrl(server.url, { connections: 0 }), InvalidArgument);
  assert.throws(() => Client.fromUrl(server.url, { commandTimeout: 'fast' }), InvalidArgument);
  assert.throws(() => Client.fromUrl(server.url, { nosuch: 1 }), InvalidArgument);
  assert.throws(() => Client.fromUrl(server.url, { onEvent: 'no' }), InvalidArgument);
  assert.throws(() => Client.fromUrl(server.url, { prefix: '' }), InvalidArgument);
  assert.throws(() => Client.fromUrl('http://localhost'), (e) => e instanceof InvalidURL && e.code === 'ERR_URL');
  assert.throws(() => Client.fromUrl(42), InvalidArgument);
});

test('onEvent receives one event per operation, with keys when asked', async () => {
  const events = [];
  const c = Client.fromUrl(server.url, { prefix: 'nodeclient', onEvent: (e) => events.push(e), eventKeys: true });
  try {
    const name = uniq('ev');
    const lock = await c.acquire(name, { ttl: 5000 });
    await c.tryAcquire(name, { ttl: 5000 }).catch(() => {});
    await lock.release();
    await c.execute('PING');
    await eventually(() => events.length >= 4);
    const ops = events.map((e) => `${e.primitive}/${e.operation}/${e.code}`);
    assert.deepEqual(ops.slice(0, 4), ['lock/acquire/OK', 'lock/acquire/ERR_LOCKED', 'lock/release/OK', 'client/command/OK']);
    const first = events[0];
    assert.equal(first.key, name);
    assert.equal(first.ok, true);
    assert.equal(first.status, 0);
    assert.equal(first.failOpen, false);
    assert.ok(first.durationNs > 0);
    assert.ok(first.roundTrips >= 1);
    const node = new URL(server.url).host;
    assert.deepEqual(events.slice(0, 4).map((e) => e.node), [node, node, node, node]);
    assert.equal(events[1].ok, false);
    assert.equal(events[1].status, LockHeld.status);
  } finally {
    await c.close();
  }
});

test('onState reports the connection coming up', async () => {
  const states = [];
  const c = Client.fromUrl(server.url, { onState: (s) => states.push(s) });
  try {
    await c.execute('PING');
    await eventually(() => states.some((s) => s.state === 'connected'));
    assert.equal(states.find((s) => s.state === 'connected').connection, 0);
  } finally {
    await c.close();
  }
});

test('stats is a snapshot object of counters and histograms', async () => {
  const c = Client.fromUrl(server.url, { prefix: 'nodeclient' });
  try {
    const name = uniq('stats');
    for (let i = 0; i < 5; i++) await (await c.acquire(name, { ttl: 5000 })).release();
    const lock = await c.acquire(name, { ttl: 5000 });
    await c.tryAcquire(name, { ttl: 5000 }).catch(() => {});
    await lock.release();
    const s = c.stats();
    assert.equal(s.client.connectionsUp, 1);
    assert.ok(s.client.connects >= 1);
    assert.equal(s.client.inFlight, 0);
    const acq = s.series.find((x) => x.primitive === 'lock' && x.operation === 'acquire');
    assert.equal(acq.calls, 7);
    assert.equal(acq.ok, 6);
    assert.equal(acq.rejected, 1);
    assert.equal(acq.errors, 0);
    assert.equal(acq.buckets.reduce((a, b) => a + b, 0), 7);
    assert.equal(acq.buckets.length, s.bucketUpperNs.length);
    assert.equal(s.bucketUpperNs.at(-1), Infinity);
    assert.ok(acq.p50Ns > 0 && acq.p50Ns <= acq.p99Ns);
    const rel = s.series.find((x) => x.primitive === 'lock' && x.operation === 'release');
    assert.equal(rel.ok, 6);
    assert.doesNotThrow(() => JSON.stringify(s));
  } finally {
    await c.close();
  }
});

test('an unreachable server makes operations fail with ConnectionError or Timeout', async () => {
  const port = await freePort();
  const c = Client.fromUrl(`redis://127.0.0.1:${port}`, { commandTimeout: 200, connectTimeout: 200 });
  try {
    await assert.rejects(c.acquire(uniq('down'), { ttl: 1000 }), (e) => e instanceof ConnectionError || e instanceof Timeout);
  } finally {
    await c.close();
  }
});

test('failOpenLocks grants a fail-open lock when the server is unreachable', async () => {
  const port = await freePort();
  const c = Client.fromUrl(`redis://127.0.0.1:${port}`, { failOpenLocks: true, commandTimeout: 200, connectTimeout: 200 });
  try {
    const lock = await c.acquire(uniq('open'), { ttl: 1000 });
    assert.equal(lock.failOpen, true);
    assert.equal(lock.fencingToken, 0);
  } finally {
    await c.close();
  }
});

test('a closed client rejects everything with ClientClosed', async () => {
  const c = Client.fromUrl(server.url, { prefix: 'nodeclient' });
  const name = uniq('closed');
  const lock = await c.acquire(name, { ttl: 60000 });
  const other = Client.fromUrl(server.url, { prefix: 'nodeclient' });
  const held = await other.acquire(uniq('closed-held'), { ttl: 60000 });
  // A waiting acquire is stopped by close with ClientClosed, whether close
  // finds it between attempts or with an attempt in flight; it does not wait
  // out its 60 s.
  const waiting = c.acquire(held.name, { ttl: 1000, wait: 60000 }).then(
    () => assert.fail('acquired a held lock'),
    (e) => e,
  );
  await sleep(50);
  const closing = c.close();
  assert.equal(c.close(), closing, 'close is idempotent');
  assert.equal(c.closed, true);
  await closing;
  const stopped = await waiting;
  assert.ok(stopped instanceof ClientClosed, String(stopped));
  const isClosed = (e) => e instanceof ClientClosed && e.code === 'ERR_CLOSED' && e.status === ClientClosed.status;
  await assert.rejects(c.acquire(uniq('x'), { ttl: 1000 }), isClosed);
  await assert.rejects(c.tryAcquire(uniq('x'), { ttl: 1000 }), isClosed);
  await assert.rejects(c.lockInfo(name), isClosed);
  await assert.rejects(c.execute('PING'), isClosed);
  await assert.rejects(c.withLock(uniq('x'), { ttl: 1000 }, () => {}), isClosed);
  assert.throws(() => c.stats(), isClosed);
  await assert.rejects(lock.release(), isClosed);
  await assert.rejects(lock.extend(1000), isClosed);
  assert.throws(() => lock.keepAlive(), isClosed);
  // The lease itself was not released by close: it runs out on its own.
  assert.equal((await other.lockInfo(name)).locked, true);
  await held.release();
  await other.close();
});
