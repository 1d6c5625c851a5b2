'use strict';
// The core's circuit breaker through the package: the option, calls failing
// at once while it is open (a frozen server), fail-open answers, the stats,
// recovery once the server answers again.
const test = require('node:test');
const assert = require('node:assert/strict');
const { Client, ConnectionError, InvalidArgument } = require('..');
const { startRedis, stopRedis, sleep } = require('../scripts/redis-for-tests');

test('bad circuitBreaker settings throw InvalidArgument', async () => {
  for (const bad of [
    { failures: -1, window: 1000, open: 1000 },
    { failures: 1.5, window: 1000, open: 1000 },
    { failures: 5, window: 0, open: 1000 },
    { failures: 5, window: 1000, open: 7200000 },
    { failures: 5, window: 1000 },
    'x',
  ]) {
    assert.throws(
      () => new Client('redis://127.0.0.1:1', { circuitBreaker: bad }),
      (e) => e instanceof InvalidArgument && /circuitBreaker|circuit breaker|options/.test(e.message) && !/unknown option/.test(e.message),
      JSON.stringify(bad),
    );
  }
});

async function opened(c) {
  try {
    await c.execute('PING');
    return false;
  } catch (e) {
    return e instanceof ConnectionError && /circuit breaker/.test(e.message);
  }
}

test('a frozen server opens it: calls fail at once, and it closes when the server answers', async () => {
  const server = await startRedis();
  const c = new Client(server.url, {
    commandTimeout: 400,
    connectTimeout: 500,
    reconnectBackoff: { min: 20, max: 100 },
    circuitBreaker: { failures: 2, window: 60000, open: 60000 },
  });
  try {
    assert.equal(await c.execute('PING'), 'PONG');
    process.kill(server.pid, 'SIGSTOP');
    let open = false;
    for (const end = Date.now() + 30000; !open && Date.now() < end; ) {
      open = await opened(c);
      if (!open) await sleep(20);
    }
    assert.ok(open, 'the breaker never opened');
    const t0 = Date.now();
    for (let i = 0; i < 50; i++) {
      await assert.rejects(c.execute('PING'), (e) => e instanceof ConnectionError && /circuit breaker/.test(e.message));
    }
    assert.ok(Date.now() - t0 < 5000, `50 calls took ${Date.now() - t0} ms; each would wait 400 ms`);
    const lim = c.limiter('brk', { algorithm: 'fixed_window', limit: 5, period: 1000, failOpen: true });
    const r = await lim.check('user');
    assert.ok(r.allowed && r.failOpen);
    const st = c.stats().client;
    assert.ok(st.circuitOpens >= 1 && st.circuitRejected >= 50, JSON.stringify(st));
    assert.equal(st.circuitsOpen, 1);

    process.kill(server.pid, 'SIGCONT');
    let back = false;
    for (const end = Date.now() + 30000; !back && Date.now() < end; ) {
      back = await c.execute('PING').then(() => true, () => false);
      if (!back) await sleep(50);
    }
    assert.ok(back, 'never answered again');
    assert.equal(c.stats().client.circuitsOpen, 0);
  } finally {
    await c.close();
    try {
      process.kill(server.pid, 'SIGCONT');
    } catch {}
    await stopRedis(server);
  }
});
