'use strict';
// The event loop is held only by pending operations: a process exits on its
// own after close(), and even with an idle client left open.
const test = require('node:test');
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const path = require('node:path');
const { Client } = require('..');
const { startRedis, stopRedis, uniq } = require('../scripts/redis-for-tests');

const PKG = path.resolve(__dirname, '..');
let server;

test.before(async () => {
  server = await startRedis();
});

test.after(async () => {
  await stopRedis(server);
});

function runChild(body, env = {}) {
  const script = `'use strict';\nconst { Client } = require(${JSON.stringify(PKG)});\n(async () => {\n${body}\n})().catch((e) => { console.error(e); process.exit(3); });\n`;
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['-e', script], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    // A child that hangs is killed: the assertion on its exit then fails.
    const timer = setTimeout(() => child.kill('SIGKILL'), 30000);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

test('a process exits cleanly after close()', async () => {
  const r = await runChild(`
    const c = Client.fromUrl(process.env.URL);
    const lock = await c.acquire('${uniq('child')}', { ttl: 5000 });
    lock.keepAlive();
    await lock.release();
    await c.close();
    console.log('closed');
  `, { URL: server.url });
  assert.equal(r.stderr, '');
  assert.equal(r.signal, null);
  assert.equal(r.code, 0);
  assert.equal(r.stdout.trim(), 'closed');
});

test('an idle open client does not keep the process alive', async () => {
  const r = await runChild(`
    const c = Client.fromUrl(process.env.URL, { onEvent: () => {} });
    await c.execute('PING');
    const lock = await c.acquire('${uniq('idle')}', { ttl: 60000 });
    lock.keepAlive();
    console.log('idle');
  `, { URL: server.url });
  assert.equal(r.signal, null);
  assert.equal(r.code, 0);
  assert.equal(r.stdout.trim(), 'idle');
});

test('a pending operation keeps the process alive until it completes', async () => {
  const holder = Client.fromUrl(server.url);
  const name = uniq('pending');
  const lock = await holder.acquire(name, { ttl: 60000 });
  try {
    // Nothing but the waiting acquire is left in the child's event loop.
    const r = await runChild(`
      const c = Client.fromUrl(process.env.URL);
      c.acquire(process.env.NAME, { ttl: 1000, wait: 300 }).then(
        () => console.log('acquired'),
        (e) => console.log(e.name),
      );
    `, { URL: server.url, NAME: name });
    assert.equal(r.code, 0);
    assert.equal(r.stdout.trim(), 'LockHeld');
  } finally {
    await lock.release();
    await holder.close();
  }
});

test('close() with operations in flight settles them all and exits', async () => {
  const r = await runChild(`
    const c = Client.fromUrl(process.env.URL);
    const ops = [];
    for (let i = 0; i < 500; i++) ops.push(c.acquire('inflight-' + process.pid + '-' + i, { ttl: 5000 }).then(() => 'ok', (e) => e.name));
    await c.close();
    const outcomes = await Promise.all(ops);
    const names = new Set(outcomes);
    console.log(outcomes.length, [...names].sort().join(','));
  `, { URL: server.url });
  assert.equal(r.code, 0, r.stderr);
  const [count, kinds] = r.stdout.trim().split(' ');
  assert.equal(count, '500');
  for (const k of kinds.split(',')) assert.ok(['ok', 'ClientClosed'].includes(k), kinds);
});
