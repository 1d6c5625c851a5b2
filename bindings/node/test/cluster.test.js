'use strict';
// Redis Cluster through the package: a redis+cluster:// URL (or the
// clusterSeeds option) and every primitive on a 3-master cluster that
// tests/cluster/cluster.sh starts on loopback. The routing is the core's
// (docs/CLUSTER.md); this checks the package passes the topology through and
// that primitives and raw commands land on every master.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const { Client, LockHeld, InvalidArgument, InvalidURL } = require('..');
const { uniq } = require('../scripts/redis-for-tests');

const CLUSTER_SH = path.join(__dirname, '..', '..', '..', 'tests', 'cluster', 'cluster.sh');
let dir;
let ports;
let client;
let prefix;

const urlOf = (ps) => `redis+cluster://${ps.map((p) => `127.0.0.1:${p}`).join(',')}`;

test.before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'redisx-node-cluster-'));
  const out = execFileSync(CLUSTER_SH, ['start', dir, '3', '0', String(process.pid)], { encoding: 'utf8' });
  ports = out.trim().split(/\s+/).map(Number);
  prefix = uniq('nodec');
  client = new Client(urlOf(ports), { prefix, commandTimeout: 10000, connectTimeout: 5000 });
});

test.after(async () => {
  if (client) await client.close();
  if (dir) execFileSync(CLUSTER_SH, ['stop', dir]);
});

/** Keys matching pattern on each node (a plain client per node). */
async function keysPerNode(pattern) {
  const counts = [];
  for (const p of ports) {
    const node = new Client(`redis://127.0.0.1:${p}`);
    try {
      let cursor = '0';
      let found = 0;
      do {
        const [next, batch] = await node.execute('SCAN', cursor, 'MATCH', pattern, 'COUNT', '1000');
        cursor = next.toString();
        found += batch.length;
      } while (cursor !== '0');
      counts.push(found);
    } finally {
      await node.close();
    }
  }
  return counts;
}

test('raw commands are routed to the master of their slot', async () => {
  const keys = Array.from({ length: 90 }, (_, i) => `${prefix}:k${i}`);
  await Promise.all(keys.map((k, i) => client.execute('SET', k, `v${i}`)));
  const got = await Promise.all(keys.map((k) => client.execute('GET', k)));
  assert.deepEqual(got.map(String), keys.map((_, i) => `v${i}`));
  const counts = await keysPerNode(`${prefix}:k*`);
  assert.equal(counts.reduce((a, b) => a + b, 0), 90);
  assert.ok(counts.every((n) => n > 0), `keys per node ${counts}`);
  assert.equal(await client.execute('MSET', `{${prefix}}a`, '1', `{${prefix}}b`, '2'), 'OK');
  assert.deepEqual((await client.execute('MGET', `{${prefix}}a`, `{${prefix}}b`)).map(String), ['1', '2']);
});

test('a multi-key command across slots is refused naming the slots', async () => {
  await assert.rejects(client.execute('MSET', `${prefix}:x1`, '1', `${prefix}:x2`, '2'), (e) => {
    assert.ok(e instanceof InvalidArgument, e.constructor.name);
    assert.match(e.message, /slot/);
    return true;
  });
});

test('locks on every master, and a waiter woken by a release', async () => {
  const locks = await Promise.all(Array.from({ length: 30 }, (_, i) => client.acquire(`res-${i}`, { ttl: 30000 })));
  assert.ok(locks.every((l) => l.fencingToken > 0));
  const counts = await keysPerNode(`*${prefix}*lock*`);
  assert.ok(counts.every((n) => n > 0), `lock keys per node ${counts}`);
  await assert.rejects(client.tryAcquire('res-0', { ttl: 30000 }), LockHeld);
  const waiting = client.acquire('res-0', { ttl: 30000, wait: 20000 });
  await locks[0].release();
  const next = await waiting;
  assert.ok(next.fencingToken > locks[0].fencingToken);
  await next.release();
  await Promise.all(locks.slice(1).map((l) => l.release()));
  for (let i = 0; i < 30; i++) assert.equal((await client.lockInfo(`res-${i}`)).locked, false);
});

test('rate limits and idempotency records on every master', async () => {
  const limiter = client.limiter('api', { algorithm: 'gcra', limit: 3, period: 3600000 });
  for (let i = 0; i < 30; i++) {
    const out = [];
    for (let j = 0; j < 4; j++) out.push((await limiter.check(`user-${i}`)).allowed);
    assert.deepEqual(out, [true, true, true, false]);
  }
  for (let i = 0; i < 30; i++) {
    const rec = await client.idempotencyBegin(`order-${i}`, 'fp', { lease: 30000 });
    assert.equal(rec.state, 'NEW');
    await rec.complete(Buffer.from(`done-${i}`), Buffer.alloc(0), { ttl: 60000 });
  }
  for (let i = 0; i < 30; i++) {
    const again = await client.idempotencyBegin(`order-${i}`, 'fp');
    assert.equal(again.state, 'COMPLETED');
    assert.equal(again.response.toString(), `done-${i}`);
  }
  const counts = await keysPerNode(`*${prefix}*`);
  assert.ok(counts.every((n) => n > 0), `keys per node ${counts}`);
});

test('the clusterSeeds option, with a dead seed first', async () => {
  const dead = [1, 2, 3].map((d) => ports[0] + d).find((p) => !ports.includes(p));
  for (const seeds of [[`127.0.0.1:${dead}`, `127.0.0.1:${ports[1]}`], `127.0.0.1:${dead},127.0.0.1:${ports[2]}`]) {
    const c = new Client('redis://127.0.0.1:1', { clusterSeeds: seeds, prefix, commandTimeout: 10000 });
    try {
      assert.equal(await c.execute('SET', `${prefix}:seed`, '1'), 'OK');
      assert.equal(String(await c.execute('GET', `${prefix}:seed`)), '1');
    } finally {
      await c.close();
    }
  }
});

test('malformed cluster URLs and seeds are refused', () => {
  for (const url of ['redis+cluster://', 'redis+cluster://127.0.0.1:0', 'redis+cluster://127.0.0.1:7000,',
    'redis+cluster://127.0.0.1:7000,:7001', 'redis+cluster://127.0.0.1:7000/3']) {
    assert.throws(() => new Client(url), InvalidURL, url);
  }
  for (const seeds of [[], [''], ['127.0.0.1:99999'], 'h:1,,h:2']) {
    assert.throws(() => new Client('redis://127.0.0.1:1', { clusterSeeds: seeds }), InvalidURL, String(seeds));
  }
  assert.throws(() => new Client('redis://127.0.0.1:1', { clusterSeeds: [1234] }), InvalidArgument);
});
