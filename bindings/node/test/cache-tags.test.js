'use strict';
// Cache tags (docs/CACHE.md, "Tags"): tags on set and getOrLoad,
// invalidateTags, across two clients of one prefix, and the @Cached /
// @InvalidateTags decorators. The semantics are the core's; these check
// the binding passes them through.
const test = require('node:test');
const assert = require('node:assert/strict');
const { Client, Cached, InvalidateTags, InvalidArgument } = require('..');
const { startRedis, stopRedis, uniq } = require('../scripts/redis-for-tests');

const PREFIX = 'nodetags';
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

test('invalidateTags drops every entry carrying a tag, and only those', async () => {
  const cache = client.cache(uniq('tagged'));
  for (let i = 0; i < 50; i++) await cache.set(`p${i}`, i, 60000, { tags: ['products', `product:${i}`] });
  await cache.set('other', 'x', 60000, { tags: ['orders'] });
  await cache.set('plain', 'y', 60000);
  assert.equal(await cache.get('p7'), 7);
  assert.equal((await cache.lookup('p7')).layer, 'l1');
  await cache.invalidateTags(['products']);
  for (let i = 0; i < 50; i++) assert.equal(await cache.get(`p${i}`), undefined);
  assert.equal(await cache.get('other'), 'x');
  assert.equal(await cache.get('plain'), 'y');
  await cache.set('p1', 'again', 60000, { tags: ['products'] });
  assert.equal(await cache.get('p1'), 'again');
});

test('another client reads no invalidated entry from Redis; binary tags', async () => {
  const other = Client.fromUrl(server.url, { prefix: PREFIX });
  try {
    const name = uniq('shared');
    const a = client.cache(name, { l1Entries: 0 });
    const b = other.cache(name, { l1Entries: 0 });
    await a.set('k', { v: 1 }, 60000, { tags: [Buffer.from([0x62, 0x00, 0x7d]), 't'] });
    assert.deepEqual(await b.get('k'), { v: 1 });
    await b.invalidateTags([Buffer.from([0x62, 0x00, 0x7d])]);
    assert.equal(await a.get('k'), undefined);
    assert.equal(await b.get('k'), undefined);
  } finally {
    await other.close();
  }
});

test('an invalidation while the loader runs makes its value stale on arrival', async () => {
  const cache = client.cache(uniq('during'));
  let release;
  const gate = new Promise((r) => { release = r; });
  let started;
  const running = new Promise((r) => { started = r; });
  const load = cache.getOrLoad('k', async () => { started(); await gate; return 'old'; }, { ttl: 60000, tags: ['t'] });
  await running;
  await cache.invalidateTags(['t']);
  release();
  assert.equal(await load, 'old');
  assert.equal(await cache.get('k'), undefined);
  assert.equal(await cache.getOrLoad('k', async () => 'new', { ttl: 60000, tags: ['t'] }), 'new');
  assert.equal(await cache.get('k'), 'new');
});

test('@Cached takes tags (templates) and @InvalidateTags invalidates after the method', async () => {
  const cache = client.cache(uniq('deco'));
  const calls = [];
  class Users {
    constructor() { this.cache = cache; }
    async user(id) { calls.push(id); return { id }; }
    async rename(id) { return `renamed ${id}`; }
    async fail() { throw new Error('nope'); }
  }
  const d = (name, dec) => Object.defineProperty(Users.prototype, name,
    dec(Users.prototype, name, Object.getOwnPropertyDescriptor(Users.prototype, name)));
  d('user', Cached({ key: 'user:{0}', ttl: 60000, tags: ['users', 'user:{0}'] }));
  d('rename', InvalidateTags({ tags: ['user:{0}'] }));
  d('fail', InvalidateTags(['users']));
  const u = new Users();
  assert.deepEqual(await u.user(1), { id: 1 });
  assert.deepEqual(await u.user(1), { id: 1 });
  await u.user(2);
  assert.deepEqual(calls, [1, 2]);
  assert.equal(await u.rename(1), 'renamed 1');
  await u.user(1);
  await u.user(2);
  assert.deepEqual(calls, [1, 2, 1]);
  await assert.rejects(u.fail(), /nope/);
  await u.user(2);
  assert.deepEqual(calls, [1, 2, 1], 'a method that throws invalidates nothing');
  await cache.invalidateTags(['users']);
  await u.user(2);
  assert.deepEqual(calls, [1, 2, 1, 2]);
});

test('bad tags are InvalidArgument', async () => {
  const cache = client.cache(uniq('badtags'));
  await assert.rejects(cache.set('k', 1, 60000, { tags: [''] }), InvalidArgument);
  await assert.rejects(cache.set('k', 1, 60000, { tags: ['x'.repeat(1025)] }), InvalidArgument);
  await assert.rejects(cache.set('k', 1, 60000, { tags: Array.from({ length: 65 }, (_, i) => String(i)) }), InvalidArgument);
  await assert.rejects(cache.set('k', 1, 60000, { tags: [1] }), InvalidArgument);
  await assert.rejects(cache.getOrLoad('k', () => 1, { tags: {} }), InvalidArgument);
  await assert.rejects(cache.invalidateTags(), InvalidArgument);
  assert.throws(() => InvalidateTags({}), InvalidArgument);
  await cache.invalidateTags([]);
  await cache.set('k', 1, 60000, { tags: [] });
  assert.equal(await cache.get('k'), 1);
});
