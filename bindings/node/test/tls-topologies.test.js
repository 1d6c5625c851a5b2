'use strict';
// TLS over a cluster and over Sentinel: rediss+cluster:// against a 3-master
// cluster whose nodes serve TLS only (bus and replication too), and
// rediss+sentinel:// against TLS-only sentinels, master and replica, both
// started by the scripts the plain tests use (tests/cluster/cluster.sh with
// REDISX_CLUSTER_TLS, tests/sentinel/sentinel.sh with REDISX_SENTINEL_TLS)
// with the certificates of tests/tls/make-certs.sh. Topology and TLS are the
// core's; this checks that the `tls` option reaches every connection the core
// makes (seeds, every master, the sentinels, the master they name) and that a
// wrong CA is a ConnectionError with the certificate's reason.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const { Client, LockHeld, ConnectionError } = require('..');
const { makeCerts, uniq } = require('../scripts/redis-for-tests');

const TESTS = path.join(__dirname, '..', '..', '..', 'tests');
const CLUSTER_SH = path.join(TESTS, 'cluster', 'cluster.sh');
const SENTINEL_SH = path.join(TESTS, 'sentinel', 'sentinel.sh');
// Generous: TLS handshakes to several servers on a loaded machine.
const SLOW = { connectTimeout: 15000, commandTimeout: 15000 };
// Where every handshake fails a command waits until its own deadline and then
// carries the last attempt's reason: shorter, still far above a handshake.
const FAILING = { connectTimeout: 15000, commandTimeout: 5000 };

let certs;
let clusterDir;
let clusterPorts;
let sentinelDir;
let sentinelPorts; // master, replica, s1, s2, s3

const file = (name) => path.join(certs, name);
const clusterUrl = () => `rediss+cluster://${clusterPorts.map((p) => `127.0.0.1:${p}`).join(',')}`;
const sentinelUrl = () => `rediss+sentinel://${sentinelPorts.slice(2).map((p) => `127.0.0.1:${p}`).join(',')}/mymaster`;

function start(script, envName, ...args) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'redisx-node-tlstopo-'));
  const out = execFileSync(script, ['start', dir, ...args, String(process.pid)], {
    encoding: 'utf8',
    env: { ...process.env, [envName]: certs },
  });
  return [dir, out.trim().split(/\s+/).map(Number)];
}

test.before(() => {
  certs = makeCerts();
  [clusterDir, clusterPorts] = start(CLUSTER_SH, 'REDISX_CLUSTER_TLS', '3', '0');
  [sentinelDir, sentinelPorts] = start(SENTINEL_SH, 'REDISX_SENTINEL_TLS');
});

test.after(() => {
  if (clusterDir) execFileSync(CLUSTER_SH, ['stop', clusterDir]);
  if (sentinelDir) execFileSync(SENTINEL_SH, ['stop', sentinelDir]);
  if (certs) fs.rmSync(certs, { recursive: true, force: true });
});

/** Keys matching pattern on each node (a rediss:// client per node). */
async function keysPerNode(pattern) {
  const counts = [];
  for (const p of clusterPorts) {
    const node = new Client(`rediss://127.0.0.1:${p}`, { tls: { caFile: file('ca.crt') }, ...SLOW });
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

async function connectionError(client) {
  const e = await client.execute('PING').then(() => null, (err) => err);
  assert.ok(e, 'PING should have failed');
  assert.ok(e instanceof ConnectionError, `${e.name}: ${e.message}`);
  return e;
}

test('rediss+cluster://: locks, rate limits and idempotency records on every master', async () => {
  const prefix = uniq('nodetc');
  // The names are the keys' hash tags: 30 of them spread over the 3 masters.
  const names = Array.from({ length: 30 }, (_, i) => `n-${i}`);
  const c = new Client(clusterUrl(), { prefix, tls: { caFile: file('ca.crt') }, ...SLOW });
  try {
    const locks = [];
    for (const n of names) locks.push(await c.acquire(n, { ttl: 60000, wait: 15000 }));
    assert.ok(locks.every((l) => l.fencingToken > 0));
    await assert.rejects(c.tryAcquire(names[0], { ttl: 60000 }), LockHeld);
    const lockKeys = await keysPerNode(`${prefix}:lock:*`);
    for (const l of locks) await l.release();
    for (const n of names) assert.equal((await c.lockInfo(n)).locked, false);

    const limiter = c.limiter('api', { algorithm: 'fixed_window', limit: 2, period: 3600000 });
    for (const n of names) {
      const seen = [];
      for (let j = 0; j < 3; j++) seen.push((await limiter.check(n)).allowed);
      assert.deepEqual(seen, [true, true, false], n);
    }
    const rlKeys = await keysPerNode(`${prefix}:rl:*`);

    for (const n of names) {
      const rec = await c.idempotencyBegin(n, 'fp', { lease: 30000 });
      assert.equal(rec.state, 'NEW');
      await rec.complete(Buffer.from(`done-${n}`), Buffer.alloc(0), { ttl: 300000 });
    }
    for (const n of names) {
      const again = await c.idempotencyBegin(n, 'fp');
      assert.equal(again.state, 'COMPLETED');
      assert.equal(again.response.toString(), `done-${n}`);
    }
    const idemKeys = await keysPerNode(`${prefix}:idem:*`);
    for (const [what, counts] of [['lock', lockKeys], ['rate-limit', rlKeys], ['idempotency', idemKeys]]) {
      assert.ok(counts.every((k) => k > 0), `${what} keys per master ${counts}`);
    }
  } finally {
    await c.close();
  }
});

test('rediss+cluster:// with a wrong CA fails with ConnectionError naming the certificate', async () => {
  const c = new Client(clusterUrl(), { tls: { caFile: file('other-ca.crt') }, ...FAILING });
  try {
    assert.match((await connectionError(c)).message, /certificate verify failed/);
  } finally {
    await c.close();
  }
});

test('rediss+sentinel://: the master, a lock, a rate-limit check and an idempotency record', async () => {
  const c = new Client(sentinelUrl(), { prefix: uniq('nodets'), tls: { caFile: file('ca.crt') }, ...SLOW });
  try {
    // TLS only: the master's plain port is 0, its TLS port the one printed.
    const [, tlsPort] = await c.execute('CONFIG', 'GET', 'tls-port');
    assert.equal(tlsPort.toString(), String(sentinelPorts[0]));
    const lock = await c.acquire('res', { ttl: 60000, wait: 15000 });
    assert.ok(lock.fencingToken > 0);
    await assert.rejects(c.tryAcquire('res', { ttl: 60000 }), LockHeld);
    await lock.release();
    const limiter = c.limiter('api', { algorithm: 'fixed_window', limit: 2, period: 3600000 });
    const seen = [];
    for (let i = 0; i < 3; i++) seen.push((await limiter.check('u')).allowed);
    assert.deepEqual(seen, [true, true, false]);
    const rec = await c.idempotencyBegin('order-1', 'fp', { lease: 30000 });
    assert.equal(rec.state, 'NEW');
    await rec.complete(Buffer.from('done'), Buffer.alloc(0), { ttl: 300000 });
    const again = await c.idempotencyBegin('order-1', 'fp');
    assert.equal(again.state, 'COMPLETED');
    assert.equal(again.response.toString(), 'done');
  } finally {
    await c.close();
  }
});

test('rediss+sentinel:// with a wrong CA fails with ConnectionError naming the certificate', async () => {
  const c = new Client(sentinelUrl(), { tls: { caFile: file('other-ca.crt') }, ...FAILING });
  try {
    assert.match((await connectionError(c)).message, /certificate verify failed/);
  } finally {
    await c.close();
  }
});
