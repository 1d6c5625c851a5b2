'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { Client, Lock, LockHeld, LockNotOwned, RedisxError } = require('..');
const { startRedis, stopRedis, sleep, eventually, uniq } = require('../scripts/redis-for-tests');

let server;
let client;

test.before(async () => {
  server = await startRedis();
  client = Client.fromUrl(server.url, { prefix: 'nodetest' });
});

test.after(async () => {
  if (client) await client.close();
  await stopRedis(server);
});

test('acquire returns a lock that lockInfo sees, and release frees it', async () => {
  const name = uniq('basic');
  const lock = await client.acquire(name, { ttl: 10000 });
  assert.ok(lock instanceof Lock);
  assert.equal(lock.name, name);
  assert.equal(typeof lock.fencingToken, 'number');
  assert.ok(lock.fencingToken > 0);
  assert.match(lock.token, new RegExp(`^${lock.fencingToken}:[0-9a-f]{32}$`));
  assert.equal(lock.ttl, 10000);
  assert.equal(lock.failOpen, false);
  const held = await client.lockInfo(name);
  assert.equal(held.locked, true);
  assert.equal(held.fencingToken, lock.fencingToken);
  assert.ok(held.ttl > 0 && held.ttl <= 10000);
  await lock.release();
  const free = await client.lockInfo(name);
  assert.deepEqual(free, { locked: false, fencingToken: 0, ttl: 0, lastFencingToken: lock.fencingToken });
});

test('fencing tokens strictly increase across holders of one name', async () => {
  const name = uniq('fence');
  let last = 0;
  for (let i = 0; i < 10; i++) {
    const lock = await client.acquire(name, { ttl: 5000 });
    assert.ok(lock.fencingToken > last, `${lock.fencingToken} > ${last}`);
    last = lock.fencingToken;
    await lock.release();
  }
});

test('tryAcquire on a held lock rejects with LockHeld', async () => {
  const name = uniq('held');
  const lock = await client.acquire(name, { ttl: 10000 });
  await assert.rejects(client.tryAcquire(name, { ttl: 1000 }), (e) => {
    assert.ok(e instanceof LockHeld);
    assert.ok(e instanceof RedisxError);
    assert.equal(e.code, 'ERR_LOCKED');
    assert.equal(e.status, LockHeld.status);
    assert.match(e.detail, /held/);
    return true;
  });
  // Waiting a little still fails while the holder keeps it.
  await assert.rejects(client.acquire(name, { ttl: 1000, wait: 50 }), LockHeld);
  await lock.release();
});

test('acquire with wait gets the lock once the holder releases it', async () => {
  const name = uniq('wait');
  const first = await client.acquire(name, { ttl: 10000 });
  const second = client.acquire(name, { ttl: 10000, wait: 10000 });
  await sleep(50);
  await first.release();
  const lock = await second;
  assert.ok(lock.fencingToken > first.fencingToken);
  await lock.release();
});

test('release and extend after the lease expired reject with LockNotOwned', async () => {
  const name = uniq('expire');
  const lock = await client.acquire(name, { ttl: 50 });
  await eventually(async () => !(await client.lockInfo(name)).locked);
  await assert.rejects(lock.extend(1000), (e) => e instanceof LockNotOwned && e.code === 'ERR_NOT_OWNER');
  await assert.rejects(lock.release(), (e) => {
    assert.ok(e instanceof LockNotOwned);
    assert.equal(e.status, LockNotOwned.status);
    assert.ok(e.detail.length > 0);
    return true;
  });
});

test('a lock taken over by another holder is not released by the old one', async () => {
  const name = uniq('takeover');
  const old = await client.acquire(name, { ttl: 50 });
  const now = await client.acquire(name, { ttl: 10000, wait: 5000 });
  await assert.rejects(old.release(), LockNotOwned);
  assert.equal((await client.lockInfo(name)).fencingToken, now.fencingToken);
  await now.release();
});

test('extend sets a new lease for the owner', async () => {
  const name = uniq('extend');
  const lock = await client.acquire(name, { ttl: 1000 });
  await lock.extend(60000);
  assert.equal(lock.ttl, 60000);
  const info = await client.lockInfo(name);
  assert.ok(info.ttl > 1000, `ttl ${info.ttl}`);
  await lock.release();
});

test('keepAlive holds the lock past 3 x ttl', async () => {
  const name = uniq('keepalive');
  const lost = [];
  const lock = await client.acquire(name, { ttl: 600 });
  assert.equal(lock.keepAlive({ onLost: (l) => lost.push(l) }), lock);
  await sleep(2000);
  const info = await client.lockInfo(name);
  assert.equal(info.locked, true);
  assert.equal(info.fencingToken, lock.fencingToken);
  assert.equal(lock.lost, false);
  assert.deepEqual(lost, []);
  await lock.release();
  assert.equal((await client.lockInfo(name)).locked, false);
});

test('keepAlive calls onLost when the lock key is deleted', async () => {
  const name = uniq('lost');
  const lock = await client.acquire(name, { ttl: 300 });
  const lostCalled = new Promise((resolve) => lock.keepAlive({ onLost: resolve }));
  assert.equal(await client.execute('DEL', `nodetest:lock:{${name}}`), 1);
  // Renewal does not keep the event loop alive by itself (see README): a
  // timer does, for the time the test is willing to wait.
  let timer;
  const which = await Promise.race([
    lostCalled,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error('onLost was not called within 20 s')), 20000);
    }),
  ]);
  clearTimeout(timer);
  assert.equal(which, lock);
  assert.equal(lock.lost, true);
  await assert.rejects(lock.release(), LockNotOwned);
});

test('keepAlive twice on one lock is InvalidArgument', async () => {
  const lock = await client.acquire(uniq('ka2'), { ttl: 1000 });
  lock.keepAlive();
  assert.throws(() => lock.keepAlive(), { name: 'InvalidArgument' });
  await lock.release();
});

test('withLock runs the function under the lock and returns its result', async () => {
  const name = uniq('with');
  const out = await client.withLock(name, { ttl: 5000 }, async (lock) => {
    assert.equal((await client.lockInfo(name)).fencingToken, lock.fencingToken);
    return 42;
  });
  assert.equal(out, 42);
  assert.equal((await client.lockInfo(name)).locked, false);
});

test('withLock releases the lock when the function throws', async () => {
  const name = uniq('withthrow');
  await assert.rejects(
    client.withLock(name, { ttl: 5000 }, async () => {
      throw new Error('boom');
    }),
    /boom/,
  );
  assert.equal((await client.lockInfo(name)).locked, false);
  // The name can be taken again at once.
  const lock = await client.tryAcquire(name, { ttl: 1000 });
  await lock.release();
});

test('withLock reports a lease lost during the function as LockNotOwned', async () => {
  const name = uniq('withlost');
  await assert.rejects(
    client.withLock(name, { ttl: 50 }, async () => {
      await eventually(async () => !(await client.lockInfo(name)).locked);
    }),
    LockNotOwned,
  );
});

test('1000 concurrent acquires all complete', async () => {
  const names = Array.from({ length: 1000 }, () => uniq('many'));
  const locks = await Promise.all(names.map((n) => client.acquire(n, { ttl: 30000 })));
  assert.equal(locks.length, 1000);
  assert.ok(locks.every((l, i) => l.name === names[i] && l.fencingToken > 0));
  await Promise.all(locks.map((l) => l.release()));
  const infos = await Promise.all(names.map((n) => client.lockInfo(n)));
  assert.ok(infos.every((i) => !i.locked));
});

test('50 waiters on one name hold it one at a time, each with a new fencing token', async () => {
  const name = uniq('contended');
  let inside = 0;
  let most = 0;
  const tokens = await Promise.all(
    Array.from({ length: 50 }, () =>
      client.acquire(name, { ttl: 30000, wait: 60000 }).then(async (l) => {
        most = Math.max(most, ++inside);
        await sleep(1);
        inside--;
        await l.release();
        return l.fencingToken;
      }),
    ),
  );
  assert.equal(most, 1);
  assert.equal(new Set(tokens).size, 50);
});

test('the event loop keeps turning while 1000 operations are in flight', async () => {
  // 1000 waiters on 1000 held locks: none can complete until the holders
  // release, so every tick counted below happens with all of them in flight.
  const names = Array.from({ length: 1000 }, () => uniq('loop'));
  const holders = await Promise.all(names.map((n) => client.acquire(n, { ttl: 60000 })));
  let settled = 0;
  const waiters = names.map((n) =>
    client.acquire(n, { ttl: 60000, wait: 60000 }).finally(() => {
      settled++;
    }),
  );
  let ticks = 0;
  await new Promise((resolve) => {
    const spin = () => (++ticks >= 200 ? resolve() : setImmediate(spin));
    setImmediate(spin);
  });
  const timerFired = await new Promise((resolve) => setTimeout(() => resolve(true), 5));
  assert.equal(ticks, 200);
  assert.equal(timerFired, true);
  assert.equal(settled, 0, 'no waiter may finish while the holders keep their locks');
  await Promise.all(holders.map((l) => l.release()));
  const locks = await Promise.all(waiters);
  assert.equal(settled, 1000);
  await Promise.all(locks.map((l) => l.release()));
});

test('clients with the same prefix share locks; another prefix does not', async () => {
  const same = Client.fromUrl(server.url, { prefix: 'nodetest' });
  const other = Client.fromUrl(server.url, { prefix: 'elsewhere' });
  try {
    const name = uniq('shared');
    const lock = await client.acquire(name, { ttl: 10000 });
    await assert.rejects(same.tryAcquire(name, { ttl: 1000 }), LockHeld);
    const mine = await other.tryAcquire(name, { ttl: 1000 });
    await mine.release();
    await lock.release();
  } finally {
    await same.close();
    await other.close();
  }
});
