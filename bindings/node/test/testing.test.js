'use strict';
// redisx/testing: the throwaway servers users' tests get.
const test = require('node:test');
const assert = require('node:assert/strict');
const net = require('node:net');
const { LockHeld } = require('..');
const { startServer, startCluster, RedisServerError } = require('../testing');

const refused = (port) =>
  new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.on('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.on('error', () => resolve(true));
  });

test('a server of the test own, stopped when the test ends', async (t) => {
  let port;
  await t.test('inner', async (t2) => {
    const server = await startServer(t2, { args: ['--maxmemory', '10mb'] });
    port = server.port;
    const c = server.client({ prefix: 'a' });
    await c.execute('SET', 'k', Buffer.from([0, 118]));
    assert.deepEqual(await c.execute('GET', 'k'), Buffer.from([0, 118]));
    const [, maxmemory] = await c.execute('CONFIG', 'GET', 'maxmemory');
    assert.equal(String(maxmemory), '10485760');
    const lock = await c.acquire('job', { ttl: 30000 });
    assert.ok(lock.fencingToken > 0);
    const same = server.client({ prefix: 'a' });
    await assert.rejects(same.acquire('job', { ttl: 30000, wait: 0 }), LockHeld);
  });
  assert.ok(await refused(port), `port ${port} still accepts connections after the test ended`);
});

test('stop is idempotent and a new server starts empty', async () => {
  const a = await startServer();
  const c = a.client();
  await c.execute('SET', 'k', 'v');
  await a.stop();
  await a.stop();
  assert.ok(await refused(a.port));
  const b = await startServer({ args: [] });
  try {
    assert.equal(await b.client().execute('DBSIZE'), 0);
  } finally {
    await b.stop();
  }
});

test('a missing binary rejects with its name', async () => {
  const saved = process.env.REDISX_REDIS_SERVER;
  process.env.REDISX_REDIS_SERVER = '/nonexistent/redis-server';
  try {
    await assert.rejects(startServer(), (e) => e instanceof RedisServerError && /\/nonexistent\/redis-server/.test(e.message));
  } finally {
    if (saved === undefined) delete process.env.REDISX_REDIS_SERVER;
    else process.env.REDISX_REDIS_SERVER = saved;
  }
  await assert.rejects(startServer({ args: 'x' }), TypeError);
  await assert.rejects(startCluster({ masters: 0 }), RangeError);
});

test('a cluster spreads keys over every master', async (t) => {
  const cluster = await startCluster(t, { masters: 3 });
  assert.match(cluster.url, /^redis\+cluster:\/\//);
  const c = cluster.client({ commandTimeout: 10000 });
  for (let i = 0; i < 60; i++) {
    const lock = await c.acquire(`name-${i}`, { ttl: 60000, wait: 0 });
    assert.ok(lock.fencingToken > 0);
  }
  for (const node of cluster.nodes) {
    assert.ok((await node.client().execute('DBSIZE')) > 0, `node ${node.port} holds no key`);
  }
});
