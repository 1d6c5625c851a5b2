'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const path = require('node:path');
const readline = require('node:readline');
const {
  Client,
  IdempotencyRecord,
  IdempotencyState,
  IdempotencyInProgress,
  IdempotencyMismatch,
  InvalidArgument,
  LockNotOwned,
  ConnectionError,
  Timeout,
  ClientClosed,
} = require('..');
const { startRedis, stopRedis, sleep, eventually, uniq, freePort } = require('../scripts/redis-for-tests');

const PKG = path.resolve(__dirname, '..');
const PREFIX = 'nodeidem';
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

test('the state names are the four of the C enum', () => {
  assert.deepEqual(Object.keys(IdempotencyState), ['NEW', 'IN_PROGRESS', 'COMPLETED', 'MISMATCH']);
});

test('a new key is NEW; after complete() it replays the response and metadata, binary-safe', async () => {
  const key = uniq('basic');
  const rec = await client.idempotencyBegin(key, 'fp', { lease: 10000 });
  assert.ok(rec instanceof IdempotencyRecord);
  assert.equal(rec.key, key);
  assert.equal(rec.state, 'NEW');
  assert.equal(rec.remainingMs, 10000);
  assert.equal(rec.takenOver, false);
  assert.equal(rec.failOpen, false);
  assert.deepEqual(rec.response, Buffer.alloc(0));
  const response = Buffer.from([0, 1, 2, 0, 255, 10, 0]);
  const metadata = Buffer.from('{"status":201,"content_type":"a\u0000b"}');
  await rec.complete(response, metadata, { ttl: 60000 });
  const again = await client.idempotencyBegin(key, 'fp');
  assert.equal(again.state, 'COMPLETED');
  assert.ok(Buffer.isBuffer(again.response));
  assert.deepEqual(again.response, response);
  assert.deepEqual(again.metadata, metadata);
  assert.ok(again.remainingMs > 0 && again.remainingMs <= 60000, `remaining ${again.remainingMs}`);
  // The fingerprint may be a Buffer, a Uint8Array or a string: the same bytes
  // are the same request.
  assert.equal((await client.idempotencyBegin(key, Buffer.from('fp'))).state, 'COMPLETED');
  assert.equal((await client.idempotencyBegin(key, new Uint8Array([0x66, 0x70]))).state, 'COMPLETED');
});

test('a record is IN_PROGRESS for duplicates while its lease runs', async () => {
  const key = uniq('busy');
  const owner = await client.idempotencyBegin(key, 'fp', { lease: 30000 });
  const dup = await client.idempotencyBegin(key, 'fp');
  assert.equal(dup.state, 'IN_PROGRESS');
  assert.ok(dup.remainingMs > 0 && dup.remainingMs <= 30000);
  await owner.complete('r', '', { ttl: 1000 });
});

test('100 concurrent duplicates run the work once and all get the same response', async () => {
  const key = uniq('dup');
  const counter = uniq('executions');
  const clients = Array.from({ length: 4 }, () => Client.fromUrl(server.url, { prefix: PREFIX }));
  let local = 0;
  try {
    const work = async () => {
      local++;
      const n = await client.execute('INCR', counter);
      await sleep(200);
      return { order: key, execution: n };
    };
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) => clients[i % 4].idempotent(key, 'same-request', work, { wait: 30000 })),
    );
    assert.equal(local, 1);
    assert.equal(Number(await client.execute('GET', counter)), 1);
    for (const r of results) assert.deepEqual(r, { order: key, execution: 1 });
  } finally {
    await Promise.all(clients.map((c) => c.close()));
  }
});

test('another fingerprint on a used key is MISMATCH, in progress or completed', async () => {
  const key = uniq('mismatch');
  const rec = await client.idempotencyBegin(key, 'body-a');
  const busy = await client.idempotencyBegin(key, 'body-b');
  assert.equal(busy.state, 'MISMATCH');
  await rec.complete('done', '', { ttl: 60000 });
  const done = await client.idempotencyBegin(key, 'body-b');
  assert.equal(done.state, 'MISMATCH');
  assert.deepEqual(done.response, Buffer.alloc(0));
  assert.equal((await client.idempotencyBegin(key, null)).state, 'MISMATCH');
  assert.equal((await client.idempotencyBegin(key, 'body-a')).state, 'COMPLETED');
});

test('fail() lets a retry run the work again', async () => {
  const key = uniq('fail');
  const first = await client.idempotencyBegin(key, 'fp');
  await first.fail();
  const retry = await client.idempotencyBegin(key, 'fp');
  assert.equal(retry.state, 'NEW');
  assert.equal(retry.takenOver, false);
  await retry.complete('ok', '', { ttl: 60000 });
  assert.equal((await client.idempotencyBegin(key, 'fp')).state, 'COMPLETED');
});

test('complete() after a takeover is LockNotOwned; the new owner completes', async () => {
  const key = uniq('takeover');
  const stale = await client.idempotencyBegin(key, 'fp', { lease: 200 });
  const fresh = await eventually(async () => {
    const r = await client.idempotencyBegin(key, 'fp', { lease: 30000 });
    return r.state === 'NEW' ? r : null;
  });
  assert.equal(fresh.takenOver, true);
  await assert.rejects(stale.complete('late', '', { ttl: 60000 }), (e) => {
    assert.ok(e instanceof LockNotOwned);
    assert.equal(e.code, 'ERR_NOT_OWNER');
    return true;
  });
  await assert.rejects(stale.fail(), LockNotOwned);
  await fresh.complete('on time', '', { ttl: 60000 });
  const done = await client.idempotencyBegin(key, 'fp');
  assert.equal(done.state, 'COMPLETED');
  assert.equal(done.response.toString(), 'on time');
});

test('a completed record expires after its ttl and the key is NEW again', async () => {
  const key = uniq('ttl');
  const rec = await client.idempotencyBegin(key, 'fp');
  await rec.complete('short-lived', '', { ttl: 200 });
  assert.equal((await client.idempotencyBegin(key, 'fp')).state, 'COMPLETED');
  const fresh = await eventually(async () => {
    const r = await client.idempotencyBegin(key, 'fp');
    return r.state === 'NEW' ? r : null;
  });
  assert.equal(fresh.takenOver, false);
  await fresh.fail();
});

function childBegin(key, lease) {
  const script = `'use strict';
const { Client } = require(${JSON.stringify(PKG)});
(async () => {
  const c = Client.fromUrl(process.env.URL, { prefix: ${JSON.stringify(PREFIX)} });
  const rec = await c.idempotencyBegin(process.env.KEY, 'crash', { lease: Number(process.env.LEASE) });
  console.log('STARTED ' + rec.state);
  setInterval(() => {}, 1000);
})().catch((e) => { console.error(e); process.exit(3); });
`;
  return spawn(process.execPath, ['-e', script], {
    env: { ...process.env, URL: server.url, KEY: key, LEASE: String(lease) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
}

test('a crashed worker (SIGKILL while IN_PROGRESS) is taken over once its lease passes', async () => {
  const key = uniq('crash');
  const lease = 2000;
  const child = childBegin(key, lease);
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const killer = setTimeout(() => child.kill('SIGKILL'), 30000);
  try {
    const line = await new Promise((resolve, reject) => {
      const rl = readline.createInterface({ input: child.stdout });
      rl.once('line', resolve);
      child.once('exit', () => reject(new Error('the child exited before beginning')));
    });
    assert.equal(line, 'STARTED NEW');
    child.kill('SIGKILL');
    const { signal } = await exited;
    assert.equal(signal, 'SIGKILL');
    const busy = await client.idempotencyBegin(key, 'crash', { lease });
    assert.equal(busy.state, 'IN_PROGRESS');
    assert.ok(busy.remainingMs > 0 && busy.remainingMs <= lease, `remaining ${busy.remainingMs}`);
    const taken = await eventually(async () => {
      const r = await client.idempotencyBegin(key, 'crash', { lease });
      return r.state === 'NEW' ? r : null;
    });
    assert.equal(taken.takenOver, true);
    await taken.complete('recovered', '', { ttl: 60000 });
    assert.equal((await client.idempotencyBegin(key, 'crash')).response.toString(), 'recovered');
  } finally {
    clearTimeout(killer);
    child.kill('SIGKILL');
  }
});

test('a waiting begin gets COMPLETED with the response once the owner completes', async () => {
  const key = uniq('wait');
  const owner = await client.idempotencyBegin(key, 'fp', { lease: 30000 });
  const waiting = client.idempotencyBegin(key, 'fp', { wait: 20000 });
  await sleep(100);
  await owner.complete('finished', 'meta', { ttl: 60000 });
  const rec = await waiting;
  assert.equal(rec.state, 'COMPLETED');
  assert.equal(rec.response.toString(), 'finished');
  assert.equal(rec.metadata.toString(), 'meta');
});

test('a waiting begin gets NEW once the owner fails', async () => {
  const key = uniq('waitfail');
  const owner = await client.idempotencyBegin(key, 'fp', { lease: 30000 });
  const waiting = client.idempotencyBegin(key, 'fp', { wait: 20000 });
  await sleep(100);
  await owner.fail();
  const rec = await waiting;
  assert.equal(rec.state, 'NEW');
  await rec.fail();
});

test('idempotent() runs fn once, replays its JSON result, fails on throw and reports conflicts', async () => {
  const key = uniq('helper');
  let runs = 0;
  await assert.rejects(
    client.idempotent(key, 'fp', async () => {
      runs++;
      throw new Error('boom');
    }),
    /boom/,
  );
  const first = await client.idempotent(key, 'fp', async (rec) => {
    runs++;
    assert.equal(rec.state, 'NEW');
    return { total: 42, items: ['a'] };
  });
  const second = await client.idempotent(key, 'fp', async () => {
    runs++;
    return 'not this';
  });
  assert.equal(runs, 2);
  assert.deepEqual(first, { total: 42, items: ['a'] });
  assert.deepEqual(second, first);
  await assert.rejects(client.idempotent(key, 'other', async () => 1), (e) => {
    assert.ok(e instanceof IdempotencyMismatch);
    assert.equal(e.statusCode, 422);
    assert.equal(e.state, 'MISMATCH');
    return true;
  });
  const busyKey = uniq('helper-busy');
  const owner = await client.idempotencyBegin(busyKey, 'fp');
  await assert.rejects(client.idempotent(busyKey, 'fp', async () => 1), (e) => {
    assert.ok(e instanceof IdempotencyInProgress);
    assert.equal(e.statusCode, 409);
    assert.ok(e.retryAfter > 0);
    return true;
  });
  await owner.fail();
  // A custom codec: raw Buffers.
  const raw = { encode: (v) => v, decode: (b) => b };
  const bin = Buffer.from([0, 9, 0]);
  const k2 = uniq('codec');
  assert.deepEqual(await client.idempotent(k2, null, async () => bin, { codec: raw }), bin);
  assert.deepEqual(await client.idempotent(k2, null, async () => Buffer.from('x'), { codec: raw }), bin);
});

test('bad idempotency input is InvalidArgument', async () => {
  const bad = [
    () => client.idempotencyBegin('', 'fp'),
    () => client.idempotencyBegin(42, 'fp'),
    () => client.idempotencyBegin(uniq('b'), 'fp', { lease: 0 }),
    () => client.idempotencyBegin(uniq('b'), 'fp', { lease: 'long' }),
    () => client.idempotencyBegin(uniq('b'), 'fp', { wait: -1 }),
    () => client.idempotencyBegin(uniq('b'), { body: 1 }),
    () => client.idempotencyBegin('k'.repeat(1025), 'fp'),
    () => client.idempotent(uniq('b'), 'fp', 'not a function'),
    () => client.idempotent(uniq('b'), 'fp', async () => 1, { nosuch: 1 }),
  ];
  for (const [i, f] of bad.entries()) {
    await assert.rejects(f(), (e) => {
      assert.ok(e instanceof InvalidArgument, `case ${i}: ${e}`);
      return true;
    });
  }
  const rec = await client.idempotencyBegin(uniq('b'), 'fp');
  await assert.rejects(rec.complete({ not: 'bytes' }), InvalidArgument);
  await assert.rejects(rec.complete('x', '', { ttl: 0 }), InvalidArgument);
  await rec.complete('x', '', { ttl: 60000 });
  // A record that is not NEW cannot be completed.
  const done = await client.idempotencyBegin(rec.key, 'fp');
  assert.equal(done.state, 'COMPLETED');
  await assert.rejects(done.complete('y', '', { ttl: 60000 }), InvalidArgument);
});

test('an unreachable server fails closed by default; failOpenIdempotency grants NEW', async () => {
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  const strict = Client.fromUrl(url, { commandTimeout: 200, connectTimeout: 200 });
  const lenient = Client.fromUrl(url, { commandTimeout: 200, connectTimeout: 200, failOpenIdempotency: true });
  try {
    await assert.rejects(strict.idempotencyBegin('k', 'fp'), (e) => e instanceof ConnectionError || e instanceof Timeout);
    const rec = await lenient.idempotencyBegin('k', 'fp');
    assert.equal(rec.state, 'NEW');
    assert.equal(rec.failOpen, true);
    await rec.complete('r', '', { ttl: 1000 }); // does nothing, succeeds
    await rec.fail();
  } finally {
    await strict.close();
    await lenient.close();
  }
});

test('records of a closed client reject with ClientClosed', async () => {
  const c = Client.fromUrl(server.url, { prefix: PREFIX });
  const rec = await c.idempotencyBegin(uniq('closed'), 'fp');
  await c.close();
  await assert.rejects(rec.complete('x'), ClientClosed);
  await assert.rejects(rec.fail(), ClientClosed);
  await assert.rejects(c.idempotencyBegin(uniq('closed'), 'fp'), ClientClosed);
});
