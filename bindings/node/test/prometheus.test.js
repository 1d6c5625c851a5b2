'use strict';
// redisx/prometheus: the core's metric families through a real prom-client
// registry, scraped as Prometheus text.
const test = require('node:test');
const assert = require('node:assert/strict');
const promClient = require('prom-client');
const { Client, LockHeld, InvalidArgument } = require('..');
const { registerMetrics } = require('../prometheus');
const { startRedis, stopRedis, uniq } = require('../scripts/redis-for-tests');

/** The value of sample `name{labels}` in a scrape (labels in any order). */
function sample(text, name, labels) {
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got = {};
    for (const [, k, v] of (m[2] || '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) got[k] = v;
    const keys = Object.keys(got);
    if (keys.length === Object.keys(labels).length && keys.every((k) => got[k] === labels[k])) return Number(m[3]);
  }
  throw new assert.AssertionError({ message: `no sample ${name}${JSON.stringify(labels)} in the scrape` });
}

test('a scrape after known operations', async () => {
  const server = await startRedis();
  const c = new Client(server.url, { prefix: uniq('prom') });
  try {
    const registry = new promClient.Registry();
    const unregister = registerMetrics(c, { registry, labels: { client: 'orders' } });
    const lock = await c.acquire('job', { ttl: 30000 });
    await assert.rejects(c.acquire('job', { ttl: 30000, wait: 0 }), LockHeld);
    await lock.release();
    const lim = c.limiter('api', { algorithm: 'sliding_log', limit: 2, period: 60000 });
    for (let i = 0; i < 3; i++) await lim.check('user-1');
    for (let i = 0; i < 4; i++) await c.execute('PING');
    const text = await registry.metrics();
    const L = { client: 'orders' };
    assert.equal(sample(text, 'redisx_lock_acquisitions_total', { ...L, status: 'acquired' }), 1);
    assert.equal(sample(text, 'redisx_lock_acquisitions_total', { ...L, status: 'held' }), 1);
    assert.equal(sample(text, 'redisx_ratelimit_requests_total', { ...L, limiter: 'api', status: 'allowed' }), 2);
    assert.equal(sample(text, 'redisx_ratelimit_requests_total', { ...L, limiter: 'api', status: 'rejected' }), 1);
    assert.equal(sample(text, 'redisx_ratelimit_duration_seconds_count', { ...L, limiter: 'api', operation: 'check' }), 3);
    assert.equal(sample(text, 'redisx_locks_held', L), 0);
    assert.equal(sample(text, 'redisx_lock_wait_duration_seconds_count', L), 1);
    assert.equal(sample(text, 'redisx_lock_hold_duration_seconds_count', L), 1);
    const cmd = { ...L, primitive: 'client', operation: 'command' };
    assert.equal(sample(text, 'redisx_operations_total', { ...cmd, status: 'ok' }), 4);
    assert.equal(sample(text, 'redisx_operation_duration_seconds_count', cmd), 4);
    assert.equal(sample(text, 'redisx_operation_duration_seconds_bucket', { ...cmd, le: '+Inf' }), 4);
    assert.equal(sample(text, 'redisx_operation_duration_seconds_bucket', { ...cmd, le: '10' }), 4);
    assert.ok(sample(text, 'redisx_operation_duration_seconds_sum', cmd) > 0);
    assert.equal(sample(text, 'redisx_connections_up', L), 1);
    assert.match(text, /# TYPE redisx_operation_duration_seconds histogram/);
    assert.match(text, /# TYPE redisx_cache_l1_bytes gauge/);
    await c.execute('PING');
    await new Promise((r) => setImmediate(r));
    assert.equal(sample(await registry.metrics(), 'redisx_operations_total', { ...cmd, status: 'ok' }), 5);
    assert.throws(() => registerMetrics(c, { registry }), /already been registered/);
    unregister();
    assert.doesNotMatch(await registry.metrics(), /redisx_/);
    registerMetrics(c, { registry });
    await c.close();
    await new Promise((r) => setImmediate(r));
    assert.doesNotMatch((await registry.metrics()).replace(/^#.*$/gm, ''), /redisx_\w+ /, 'a closed client reports no samples');
  } finally {
    await c.close();
    await stopRedis(server);
  }
});

test('registerMetrics checks its arguments', () => {
  assert.throws(() => registerMetrics({}), InvalidArgument);
  assert.throws(() => registerMetrics(null), InvalidArgument);
  const c = new Client('redis://127.0.0.1:1');
  try {
    assert.throws(() => registerMetrics(c, { registry: {} }), InvalidArgument);
    assert.throws(() => registerMetrics(c, { registry: new promClient.Registry(), labels: { a: 1 } }), InvalidArgument);
  } finally {
    c.close();
  }
});
