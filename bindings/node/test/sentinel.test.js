'use strict';
// Redis Sentinel through the package: a redis+sentinel:// URL passed through
// to the core (docs/SENTINEL.md), against a master, a replica and three
// sentinels that tests/sentinel/sentinel.sh starts on loopback. The lookup,
// the ROLE check and failover handling are the core's (tests/c/test_sentinel.c);
// this checks the package passes the URL through and its primitives work.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const { Client, LockHeld, ConnectionError, InvalidURL } = require('..');
const { uniq } = require('../scripts/redis-for-tests');

const SENTINEL_SH = path.join(__dirname, '..', '..', '..', 'tests', 'sentinel', 'sentinel.sh');
let dir;
let ports; // master, replica, s1, s2, s3

const urlOf = (master) => `redis+sentinel://${ports.slice(2).map((p) => `127.0.0.1:${p}`).join(',')}/${master}`;

test.before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'redisx-node-sentinel-'));
  const out = execFileSync(SENTINEL_SH, ['start', dir, String(process.pid)], { encoding: 'utf8' });
  ports = out.trim().split(/\s+/).map(Number);
});

test.after(async () => {
  if (dir) execFileSync(SENTINEL_SH, ['stop', dir]);
});

test('a sentinel URL reaches the master and the primitives work', async () => {
  const client = new Client(urlOf('mymaster'), { prefix: uniq('nodes'), commandTimeout: 10000 });
  try {
    const info = (await client.execute('INFO', 'server')).toString();
    assert.match(info, new RegExp(`tcp_port:${ports[0]}\\b`));
    const lock = await client.acquire('res', { ttl: 30000 });
    assert.ok(lock.fencingToken > 0);
    await assert.rejects(client.tryAcquire('res', { ttl: 30000 }), LockHeld);
    await lock.release();
    const limiter = client.limiter('api', { algorithm: 'gcra', limit: 2, period: 3600000 });
    const allowed = [];
    for (let i = 0; i < 3; i++) allowed.push((await limiter.check('u')).allowed);
    assert.deepEqual(allowed, [true, true, false]);
    const rec = await client.idempotencyBegin('order-1', 'fp', { lease: 30000 });
    assert.equal(rec.state, 'NEW');
    await rec.complete(Buffer.from('done'), Buffer.alloc(0), { ttl: 60000 });
    assert.equal((await client.idempotencyBegin('order-1', 'fp')).response.toString(), 'done');
  } finally {
    await client.close();
  }
});

test('the sentinel options do what the URL does', async () => {
  const sentinels = ['127.0.0.1:1', ...ports.slice(2).map((p) => `127.0.0.1:${p}`)]; // a dead one first
  const client = new Client('redis://127.0.0.1:1/0', { sentinelMaster: 'mymaster', sentinels, commandTimeout: 10000 });
  try {
    assert.match((await client.execute('INFO', 'server')).toString(), new RegExp(`tcp_port:${ports[0]}\\b`));
  } finally {
    await client.close();
  }
  assert.throws(() => new Client('redis://127.0.0.1:1', { sentinelMaster: 'mymaster' }), /go together/);
  assert.throws(() => new Client('redis://127.0.0.1:1', { sentinelMaster: 'm', sentinels: ['a:1', 'a:1'] }),
    /named twice/);
});

test('an unknown master name is a clear ConnectionError', async () => {
  const client = new Client(urlOf('nosuchmaster'), { commandTimeout: 10000 });
  try {
    await assert.rejects(client.execute('PING'), (e) => e instanceof ConnectionError &&
      /does not know master 'nosuchmaster'/.test(e.message));
  } finally {
    await client.close();
  }
});

test('a sentinel URL without a master name is refused', () => {
  assert.throws(() => new Client('redis+sentinel://127.0.0.1:26379/'), (e) => e instanceof InvalidURL &&
    /names no master/.test(e.message));
});
