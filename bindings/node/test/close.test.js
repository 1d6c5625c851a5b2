'use strict';
// close() ends the client's work in the core (redisx_client_shutdown) while
// calls keep coming: every operation settles once, resolved or with
// ClientClosed, and nothing crashes, also when handles outlive the client.
const test = require('node:test');
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const path = require('node:path');
const { Client, ClientClosed, AbortError } = require('..');
const { startRedis, stopRedis, sleep, uniq } = require('../scripts/redis-for-tests');

const PKG = path.resolve(__dirname, '..');
let server;

test.before(async () => {
  server = await startRedis();
});

test.after(async () => {
  await stopRedis(server);
});

// Every call's outcome: 'ok' or the error's class name; anything else fails.
function outcome(p) {
  return p.then(
    () => 'ok',
    (e) => {
      if (e instanceof ClientClosed) return 'closed';
      if (e instanceof AbortError) return 'aborted';
      throw e;
    },
  );
}

test('calls racing close() each resolve or reject with ClientClosed', async () => {
  for (let round = 0; round < 3; round++) {
    const c = Client.fromUrl(server.url, { prefix: 'nodeclose' });
    const other = Client.fromUrl(server.url, { prefix: 'nodeclose' });
    const held = await other.acquire(uniq('held'), { ttl: 30000 });
    const limiter = c.limiter(uniq('rl'), { algorithm: 'gcra', limit: 1000000, period: 60000 });
    const locks = [];
    for (let i = 0; i < 20; i++) locks.push(await c.acquire(uniq('mine'), { ttl: 30000 }));
    const rec = await c.idempotencyBegin(uniq('rec'), 'fp');
    const results = [];
    const fire = (n) => {
      for (let i = 0; i < n; i++) {
        const ac = new AbortController();
        results.push(outcome(c.execute('INCR', uniq('n'))));
        results.push(outcome(limiter.check(uniq('k'))));
        results.push(outcome(c.acquire(uniq('cycle'), { ttl: 1000 }).then((l) => l.release())));
        results.push(outcome(c.idempotencyBegin(uniq('idem'), 'fp', { signal: ac.signal })));
        if (i % 3 === 0) setImmediate(() => ac.abort());
      }
    };
    fire(300);
    // Waiting operations that only the close can end.
    results.push(outcome(c.acquire(held.name, { ttl: 1000, wait: 60000 })));
    results.push(outcome(c.idempotencyBegin(rec.key, 'fp', { wait: 60000 })));
    let firing = true;
    const more = (async () => {
      while (firing) {
        fire(20);
        await new Promise((r) => setImmediate(r));
      }
    })();
    await sleep(round * 5);
    const t0 = Date.now();
    const closing = c.close();
    fire(100); // after close(): ClientClosed at once
    results.push(outcome(rec.complete('done')));
    for (const l of locks) results.push(outcome(l.release()));
    await closing;
    firing = false;
    await more;
    fire(10);
    const all = await Promise.all(results);
    assert.ok(Date.now() - t0 < 10000, 'close does not wait out the 60 s waits');
    const closed = all.filter((r) => r === 'closed').length;
    assert.ok(closed >= 400 + locks.length, `${closed} ClientClosed of ${all.length}`);
    assert.equal(all.at(-1), 'closed');
    await held.release();
    // The server is fine and the leases the closed client held are its own
    // to run out: close does not release them.
    assert.equal((await other.lockInfo(locks[0].name)).locked, true);
    await other.close();
  }
});

test('handles that outlive their closed client are freed without harm', async () => {
  // A child process with --expose-gc: locks, limiters and records dropped
  // after their client was closed and freed, then collected.
  const script = `'use strict';
const { Client } = require(${JSON.stringify(PKG)});
(async () => {
  const kept = [];
  for (let r = 0; r < 5; r++) {
    const c = Client.fromUrl(process.env.URL, { prefix: 'nodeclose-gc' });
    const lock = await c.acquire('gc-' + process.pid + '-' + r, { ttl: 2000 });
    lock.keepAlive();
    const limiter = c.limiter('gc', { algorithm: 'fixed_window', limit: 10, period: 1000 });
    await limiter.check('k');
    const rec = await c.idempotencyBegin('gc-' + process.pid + '-' + r, null);
    const pending = c.execute('PING');
    await c.close();
    await pending;
    await lock.release().catch((e) => { if (e.name !== 'ClientClosed') throw e; });
    if (r % 2) kept.push(lock, limiter, rec);
  }
  for (let i = 0; i < 5; i++) { global.gc(); await new Promise((r) => setTimeout(r, 20)); }
  kept.length = 0;
  for (let i = 0; i < 5; i++) { global.gc(); await new Promise((r) => setTimeout(r, 20)); }
  console.log('done');
})().catch((e) => { console.error(e); process.exit(3); });
`;
  const r = await new Promise((resolve) => {
    const child = spawn(process.execPath, ['--expose-gc', '-e', script], {
      env: { ...process.env, URL: server.url },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30000);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
  assert.equal(r.stderr, '');
  assert.equal(r.signal, null);
  assert.equal(r.code, 0);
  assert.equal(r.stdout.trim(), 'done');
});
