'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { Client, Cache, Cached, NotFound, InvalidArgument, cacheCodecs } = require('..');
const { startRedis, stopRedis, uniq } = require('../scripts/redis-for-tests');

const PREFIX = 'nodecache';
let server;
let client;

test.before(async () => {
  server = await startRedis();
  client = Client.fromUrl(server.url, { prefix: PREFIX });
});

test.after(async () => {
  if (client) await client.close();
  await stopRedis(server);
});

test('set, get and delete round-trip a JSON value', async () => {
  const cache = client.cache(uniq('users'));
  assert.ok(cache instanceof Cache);
  assert.equal(await cache.get('u1'), undefined);
  const value = { id: 1, name: 'Zoë', tags: ['a', 'b'], n: 1.5, none: null };
  await cache.set('u1', value, 60000);
  assert.deepEqual(await cache.get('u1'), value);
  const entry = await cache.lookup('u1');
  assert.equal(entry.found, true);
  assert.equal(entry.layer, 'l1');
  assert.equal(entry.stale, false);
  await cache.delete('u1');
  assert.equal(await cache.get('u1'), undefined);
  assert.equal((await cache.lookup('u1')).found, false);
});

test('the value is JSON in Redis, read back from L2', async () => {
  const name = uniq('interop');
  const cache = client.cache(name, { l1Entries: 0 });
  await cache.set('k', { a: [1, 2] });
  const raw = await client.execute('HGET', `${PREFIX}:cache:${name}:{k}`, 'v'); // docs/KEYS.md
  assert.equal(raw.toString(), '{"a":[1,2]}');
  assert.deepEqual(await cache.get('k'), { a: [1, 2] });
  assert.equal((await cache.lookup('k')).layer, 'l2');
});

test('buffer, string and custom codecs', async () => {
  const raw = client.cache(uniq('buf'), { codec: 'buffer' });
  await raw.set('b', Buffer.from([0, 0xff, 0x78]));
  assert.deepEqual(await raw.get('b'), Buffer.from([0, 0xff, 0x78]));
  const text = client.cache(uniq('str'), { codec: cacheCodecs.string });
  await text.set('s', 'héllo');
  assert.equal(await text.get('s'), 'héllo');
  const custom = client.cache(uniq('custom'), {
    codec: { encode: (v) => Buffer.from(v.toUpperCase()), decode: (b) => `${b.toString().toLowerCase()}!` },
  });
  await custom.set('c', 'abc');
  assert.equal(await custom.get('c'), 'abc!');
  await assert.rejects(raw.set('b', 'not a buffer'), InvalidArgument);
  assert.throws(() => client.cache(uniq('bad'), { codec: 'yaml' }), InvalidArgument);
  assert.throws(() => client.cache(uniq('bad'), { codec: {} }), InvalidArgument);
});

test('getOrLoad runs the loader once for concurrent callers', async () => {
  const name = uniq('flight');
  const a = client.cache(name);
  const other = Client.fromUrl(server.url, { prefix: PREFIX });
  try {
    const b = other.cache(name);
    let calls = 0;
    const loader = async () => {
      calls++;
      await new Promise((r) => setTimeout(r, 300)); // keeps the others waiting on the lease
      return { loaded: true };
    };
    const got = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? b : a).getOrLoad('cold', loader, { wait: 30000 })));
    assert.deepEqual(got, Array(10).fill({ loaded: true }));
    assert.equal(calls, 1);
    assert.equal(a.counters().loads + b.counters().loads, 1);
  } finally {
    await other.close();
  }
});

test('a loader error caches nothing and rejects', async () => {
  const cache = client.cache(uniq('errs'));
  await assert.rejects(
    cache.getOrLoad('k', async () => {
      throw new Error('backend down');
    }),
    /backend down/,
  );
  assert.equal(await cache.get('k'), undefined);
  assert.equal(cache.counters().loadErrors, 1);
  assert.equal(await cache.getOrLoad('k', () => 5), 5, 'the lease went at once: the next caller loads');
});

test('a loader throwing NotFound caches "not found"', async () => {
  const cache = client.cache(uniq('neg'), { negativeTtl: 30000 });
  let calls = 0;
  for (let i = 0; i < 3; i++) {
    await assert.rejects(
      cache.getOrLoad('k', () => {
        calls++;
        throw new NotFound('k');
      }),
      NotFound,
    );
  }
  assert.equal(calls, 1);
  assert.equal((await cache.lookup('k')).negative, true);
});

test('bad input rejects with InvalidArgument', async () => {
  const cache = client.cache(uniq('bad'), { maxValueBytes: 1024 });
  for (const key of ['', 'a\0b', 'x'.repeat(1025), '\uD800', 42, null]) {
    await assert.rejects(cache.get(key), InvalidArgument, String(key).slice(0, 8));
    await assert.rejects(cache.set(key, 1), InvalidArgument);
    await assert.rejects(cache.delete(key), InvalidArgument);
  }
  await assert.rejects(cache.set('big', 'x'.repeat(2000)), /exceeds/);
  await assert.rejects(cache.getOrLoad('big', () => 'x'.repeat(2000)), InvalidArgument);
  assert.equal(await cache.getOrLoad('big', () => 'small'), 'small', 'the refused fill left no lease behind');
  await assert.rejects(cache.set('k', 1, -1), InvalidArgument);
  await assert.rejects(cache.getOrLoad('k', 'not a function'), InvalidArgument);
  assert.throws(() => client.cache(''), InvalidArgument);
  assert.throws(() => client.cache('a{b}'), InvalidArgument);
  assert.throws(() => client.cache(uniq('c'), { jitter: 0.9 }), InvalidArgument);
  assert.throws(() => client.cache(uniq('c'), { nope: 1 }), InvalidArgument);
});

test('@Cached caches a method by key template (legacy and TC39 forms)', async () => {
  const cache = client.cache(uniq('deco'));
  const calls = [];
  class Users {
    constructor() {
      this.cache = cache;
    }
    async find(id) {
      calls.push(id);
      return { id };
    }
  }
  // legacy (TypeScript experimentalDecorators): (prototype, name, descriptor)
  const d = Object.getOwnPropertyDescriptor(Users.prototype, 'find');
  Object.defineProperty(Users.prototype, 'find', Cached({ key: 'user:{0}', ttl: 60000 })(Users.prototype, 'find', d));
  const users = new Users();
  assert.deepEqual(await users.find(1), { id: 1 });
  assert.deepEqual(await users.find(1), { id: 1 });
  assert.deepEqual(await users.find(2), { id: 2 });
  assert.deepEqual(calls, [1, 2]);
  assert.deepEqual(await cache.get('user:1'), { id: 1 });
  // TC39: (method, context), with an explicit cache and a key function
  const byName = Cached({ cache, key: (o) => `name:${o.name}` })(async (o) => {
    calls.push(o.name);
    return o.name.toUpperCase();
  }, { kind: 'method', name: 'byName' });
  assert.equal(await byName({ name: 'ann' }), 'ANN');
  assert.equal(await byName({ name: 'ann' }), 'ANN');
  assert.deepEqual(calls, [1, 2, 'ann']);
});

test('an L1 hit answers without a round trip', async () => {
  const cache = client.cache(uniq('l1'));
  await cache.set('k', 'v');
  const before = cache.counters();
  for (let i = 0; i < 100; i++) assert.equal(await cache.get('k'), 'v');
  const after = cache.counters();
  assert.equal(after.l1Hits - before.l1Hits, 100);
  assert.equal(after.l2Hits, before.l2Hits);
});

test('memoize decodes an L1 copy once per version', async () => {
  const cache = client.cache(uniq('memo'), { memoize: true });
  await cache.set('k', { v: 1 });
  const a = await cache.get('k');
  const b = await cache.get('k');
  assert.deepEqual(a, { v: 1 });
  assert.equal(a, b, 'one decode for one L1 copy');
  await cache.set('k', { v: 2 });
  const c = await cache.get('k');
  assert.deepEqual(c, { v: 2 });
  assert.notEqual(c, a);
  const plain = client.cache(uniq('memo-off'));
  await plain.set('k', { v: 1 });
  assert.notEqual(await plain.get('k'), await plain.get('k'));
});

for (const tracking of [true, false]) {
  test(`tracking ${tracking}: another process's write ${tracking ? 'drops' : 'does not drop'} this L1 copy`, async () => {
    // Two clients: two processes' worth of L1. Without tracking A serves its
    // copy for the L1 TTL (a minute here): what makes the tracked case mean something.
    const other = Client.fromUrl(server.url, { prefix: PREFIX });
    try {
      const name = uniq(`track-${tracking}`);
      const a = client.cache(name, { l1Ttl: 60000, tracking });
      const b = other.cache(name, { tracking });
      await b.set('k', 1);
      for (let i = 0; i < 1000 && a.counters().l1Hits === 0; i++) assert.equal(await a.get('k'), 1);
      assert.ok(a.counters().l1Hits >= 1, 'A keeps an L1 copy');
      await b.set('k', 2);
      let seen = await a.get('k');
      for (let i = 0; tracking && seen !== 2 && i < 500; i++) {
        await new Promise((r) => setTimeout(r, 10));
        seen = await a.get('k');
      }
      if (tracking) {
        assert.equal(seen, 2);
        assert.ok(a.counters().invalidations >= 1);
      } else {
        assert.equal(seen, 1, 'without tracking the L1 copy lives its TTL');
      }
    } finally {
      await other.close();
    }
  });
}

test('cacheTrackingBcast: the server tells of keys never read, and a write drops the copy', async () => {
  const aClient = Client.fromUrl(server.url, { prefix: PREFIX, cacheTrackingBcast: true });
  const other = Client.fromUrl(server.url, { prefix: PREFIX });
  try {
    const name = uniq('track-bcast');
    const a = aClient.cache(name, { l1Ttl: 60000, tracking: true });
    const b = other.cache(name);
    await b.set('k', 1);
    for (let i = 0; i < 1000 && a.counters().l1Hits === 0; i++) assert.equal(await a.get('k'), 1);
    assert.ok(a.counters().l1Hits >= 1, 'A keeps an L1 copy');
    const before = a.counters().invalidations;
    await b.set('never-read', 0);
    for (let i = 0; a.counters().invalidations === before && i < 500; i++) await new Promise((r) => setTimeout(r, 10));
    assert.ok(a.counters().invalidations > before, 'BCAST tells of a key A never read');
    await b.set('k', 2);
    let seen = await a.get('k');
    for (let i = 0; seen !== 2 && i < 500; i++) {
      await new Promise((r) => setTimeout(r, 10));
      seen = await a.get('k');
    }
    assert.equal(seen, 2);
  } finally {
    await other.close();
    await aClient.close();
  }
});

test('cacheTrackingBcast must be a boolean', () => {
  assert.throws(() => Client.fromUrl(server.url, { cacheTrackingBcast: 1 }), InvalidArgument);
});

test('tracking must be a boolean', () => {
  assert.throws(() => client.cache(uniq('badtrack'), { tracking: 'yes' }), InvalidArgument);
});
