// Interop worker, Node side: same command line as worker.py (see there), plus
// the rate-limit and idempotency modes:
//
//   rl-sequence URL PREFIX ALGORITHM        the canonical sequence on limiter "seq-<ALGORITHM>"
//   rl-share URL PREFIX ALGORITHM N CONC    N checks on "share-<ALGORITHM>", key "shared": ALLOWED <count>
//   idem-dup URL PREFIX KEY M               M concurrent duplicates: M lines RESP <response>
//   idem-hold URL PREFIX KEY LEASE_MS       begin, STARTED <STATE>, then sleep until killed
//   idem-begin URL PREFIX KEY LEASE_MS WAIT_MS  begin: <STATE> <taken_over 0|1>; completes a NEW one
//   http-fingerprint URL PREFIX METHOD TARGET BODY  hex SHA-256 fingerprint of that HTTP request
'use strict';
const readline = require('node:readline');
const { Client, LockHeld, requestFingerprint } = require('redisx');

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function seqLine(op, cost, r) {
  const sign = r.retryAfter === -1 ? '-' : r.retryAfter > 0 ? '+' : '?';
  return `${op} ${cost} ${r.allowed ? 1 : 0} ${r.limit} ${r.remaining} ${sign}`;
}

async function rlSequence(client, algorithm) {
  const limiter = client.limiter(`seq-${algorithm}`, { algorithm, limit: 5, period: 3600000, burst: 0 });
  const key = 'k';
  const check = async (cost) => {
    try {
      console.log(seqLine('check', cost, await limiter.check(key, cost)));
    } catch (err) {
      if (!err.code) throw err; // not a redisx error
      console.log(`check ${cost} ${err.name}`);
    }
  };
  const peek = async () => console.log(seqLine('peek', 1, await limiter.peek(key)));
  const reset = async () => {
    await limiter.reset(key);
    console.log('reset');
  };
  await reset();
  for (let i = 0; i < 7; i++) await check(1);
  await peek();
  await reset();
  await peek();
  await check(3);
  await check(3);
  await check(2);
  await check(6);
}

async function rlShare(client, algorithm, n, conc) {
  const limiter = client.limiter(`share-${algorithm}`, { algorithm, limit: 30, period: 3600000, burst: 0 });
  let started = 0;
  let allowed = 0;
  const lane = async () => {
    while (started < n) {
      started++;
      if ((await limiter.check('shared', 1)).allowed) allowed++;
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(conc, n)) }, lane));
  console.log(`ALLOWED ${allowed}`);
}

async function idemDup(client, prefix, key, m) {
  const one = async (i) => {
    const rec = await client.idempotencyBegin(key, 'same-request', { lease: 10000, wait: 20000 });
    if (rec.state === 'NEW') {
      await client.execute('INCR', `${prefix}:executions`);
      await sleep(300);
      const response = `node-${process.pid}`;
      await rec.complete(response, 'm', { ttl: 60000 });
      return response;
    }
    if (rec.state === 'COMPLETED') return rec.response.toString();
    throw new Error(`begin ${i}: unexpected state ${rec.state}`);
  };
  const responses = await Promise.all(Array.from({ length: m }, (_, i) => one(i)));
  for (const r of responses) console.log(`RESP ${r}`);
}

async function main() {
  const [mode, url, prefix, n] = process.argv.slice(2);
  const args = process.argv.slice(6); // after mode, url, prefix and the fourth argument
  const client = Client.fromUrl(url, { prefix, commandTimeout: 10000 });
  try {
    if (mode === 'rl-sequence') {
      await rlSequence(client, n);
    } else if (mode === 'rl-share') {
      await rlShare(client, n, Number(args[0]), Number(args[1]));
    } else if (mode === 'idem-dup') {
      await idemDup(client, prefix, n, Number(args[0]));
    } else if (mode === 'idem-hold') {
      const rec = await client.idempotencyBegin(n, 'crash', { lease: Number(args[0]), wait: 0 });
      console.log(`STARTED ${rec.state}`);
      // Until SIGKILL: a timer keeps the event loop (and the record) alive.
      await new Promise(() => setInterval(() => {}, 60000));
    } else if (mode === 'http-fingerprint') {
      console.log(requestFingerprint(n, args[0], Buffer.from(args[1], 'utf8')).toString('hex'));
    } else if (mode === 'idem-begin') {
      const rec = await client.idempotencyBegin(n, 'crash', { lease: Number(args[0]), wait: Number(args[1]) });
      console.log(`${rec.state} ${rec.takenOver ? 1 : 0}`);
      if (rec.state === 'NEW') await rec.complete('done-node', '', { ttl: 60000 });
    } else if (mode === 'count') {
      for (let i = 0; i < Number(n); i++) {
        await client.withLock('counter', { ttl: 30000, wait: 120000 }, async (lk) => {
          const raw = await client.execute('GET', `${prefix}:counter`);
          const value = raw === null ? 0 : Number(raw.toString());
          await client.execute('SET', `${prefix}:counter`, String(value + 1));
          await client.execute('RPUSH', `${prefix}:fences`, `node:${lk.fencingToken}`);
        });
        await new Promise((resolve) => setTimeout(resolve, 2)); // outside the lock
      }
    } else if (mode === 'hold') {
      const lk = await client.acquire('hold', { ttl: 30000, wait: 30000 });
      console.log(`HELD ${lk.fencingToken}`);
      const rl = readline.createInterface({ input: process.stdin });
      await new Promise((resolve) => rl.once('line', resolve).once('close', resolve));
      rl.close();
      await lk.release();
      console.log('RELEASED');
    } else if (mode === 'probe') {
      try {
        const lk = await client.tryAcquire('hold', { ttl: 30000 });
        await lk.release();
        console.log('FREE');
      } catch (err) {
        if (!(err instanceof LockHeld)) throw err;
        console.log(`HELD-BY ${(await client.lockInfo('hold')).fencingToken}`);
      }
    } else {
      throw new Error(`unknown mode ${mode}`);
    }
  } finally {
    await client.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
