'use strict';
// Busy polling (busyPoll, the core's redisx_options_set_busy_poll_us): the
// option's checks, and that spinning on the sockets changes no answer —
// commands and locks in flight together, and a timeout on a frozen server.
const test = require('node:test');
const assert = require('node:assert/strict');
const { Client, InvalidArgument, LockHeld, Timeout } = require('..');
const { startRedis, stopRedis } = require('../scripts/redis-for-tests');

test('bad busyPoll values throw InvalidArgument', () => {
  for (const bad of [-0.001, 100.5, NaN, Infinity, '1', true, null]) {
    assert.throws(
      () => new Client('redis://127.0.0.1:1', { busyPoll: bad }),
      (e) => e instanceof InvalidArgument && /busy ?[pP]oll/.test(e.message),
      String(bad),
    );
  }
});

test('calls answer the same with busy polling', async () => {
  const server = await startRedis();
  const c = new Client(server.url, { busyPoll: 0.2, prefix: `bp-${process.pid}` });
  try {
    const n = await Promise.all(Array.from({ length: 200 }, () => c.execute('INCR', 'bp-n')));
    assert.deepEqual(n.sort((a, b) => a - b), Array.from({ length: 200 }, (_, i) => i + 1));
    for (let i = 0; i < 50; i++) assert.equal(await c.execute('SET', 'bp-k', String(i)), 'OK');
    const lock = await c.acquire('bp-job', { ttl: 30000 });
    assert.ok(lock.fencingToken > 0);
    await assert.rejects(c.tryAcquire('bp-job', { ttl: 30000 }), LockHeld);
    await lock.release();
  } finally {
    c.close();
    await stopRedis(server);
  }
});

test('a frozen server still times out', async () => {
  const server = await startRedis();
  const c = new Client(server.url, { busyPoll: 100, commandTimeout: 500 });
  try {
    assert.equal(await c.execute('PING'), 'PONG');
    process.kill(server.pid, 'SIGSTOP');
    try {
      await assert.rejects(c.execute('PING'), Timeout);
    } finally {
      process.kill(server.pid, 'SIGCONT');
    }
  } finally {
    c.close();
    await stopRedis(server);
  }
});
