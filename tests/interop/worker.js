// Interop worker, Node side: same command line as worker.py (see there), plus
// the rate-limit and idempotency modes:
//
//   rl-sequence URL PREFIX ALGORITHM        the canonical sequence on limiter "seq-<ALGORITHM>"
//   rl-share URL PREFIX ALGORITHM N CONC    N checks on "share-<ALGORITHM>", key "shared": ALLOWED <count>
//   idem-dup URL PREFIX KEY M               M concurrent duplicates: M lines RESP <response>
//   idem-hold URL PREFIX KEY LEASE_MS       begin, STARTED <STATE>, then sleep until killed
//   idem-begin URL PREFIX KEY LEASE_MS WAIT_MS  begin: <STATE> <taken_over 0|1>; completes a NEW one
//   http-fingerprint URL PREFIX METHOD TARGET BODY  hex SHA-256 fingerprint of that HTTP request
//   http-dump URL PREFIX LANG               the canonical dump of the HTTP middlewares' answers (as worker.py)
//   cache-set / cache-get / cache-delete / cache-serve / cache-load   the cache modes (as worker.py)
//   cache-set-tagged / cache-invalidate-tags                       tags (as worker.py)
'use strict';
const http = require('node:http');
const readline = require('node:readline');
const { Client, LockHeld, requestFingerprint, idempotency, rateLimit } = require('redisx');

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

// ---- the HTTP middlewares' answers, dumped canonically (as worker.py) --------
const DUMP_HEADERS = new Set([
  'content-type',
  'idempotent-replayed',
  'retry-after',
  'x-ratelimit-limit',
  'x-ratelimit-remaining',
  'x-ratelimit-reset',
]);
const DUMP_BODY = Buffer.from('{"amount":"10 \u20ac"}', 'utf8');

function dumpLine(name, status, rawHeaders, body) {
  const out = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const k = rawHeaders[i].toLowerCase();
    let v = rawHeaders[i + 1];
    if (!DUMP_HEADERS.has(k)) continue;
    if (k === 'retry-after' || k === 'x-ratelimit-reset') {
      const n = /^[0-9]+$/.test(v) ? Number(v) : NaN;
      if (!(n <= 3600) || (k === 'retry-after' && n < 1)) throw new Error(`${name}: ${k} out of range: ${v}`);
      v = 'N';
    }
    out.push(`${k}=${v}`);
  }
  out.sort();
  console.log(`${name} ${status} ${out.join('|') || '-'} ${body.toString('hex') || '-'}`);
}

async function httpDump(client, lang) {
  const ns = `dump-${lang}`;
  const handler = (req, res) => {
    res.statusCode = 201;
    res.setHeader('Content-Type', 'application/json; charset=utf-8');
    res.end('{"id":7}');
  };
  const ok = (req, res) => {
    res.setHeader('Content-Type', 'text/plain');
    res.end('ok');
  };
  const idem = idempotency(client, { namespace: ns, required: true });
  const rl = rateLimit(client.limiter(ns, { algorithm: 'fixed_window', limit: 1, period: 3600000 }), {
    key: () => '10.0.0.1',
  });
  let chain = idem;
  let app = handler;
  const server = http.createServer((req, res) => {
    chain(req, res, (err) => {
      if (err) {
        res.statusCode = 599;
        res.end(String(err));
      } else app(req, res);
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  const call = (name, key, body = DUMP_BODY) =>
    new Promise((resolve, reject) => {
      const headers = { 'Content-Length': String(body.length) };
      if (key !== undefined) headers['Idempotency-Key'] = key;
      const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/orders?id=7', headers }, (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          try {
            dumpLine(name, res.statusCode, res.rawHeaders, Buffer.concat(chunks));
            resolve();
          } catch (e) {
            reject(e);
          }
        });
      });
      req.on('error', reject);
      req.end(body);
    });
  try {
    await call('required');
    await call('invalid', 'k'.repeat(1100));
    await call('first', 'k1');
    await call('replay', 'k1');
    await call('mismatch', 'k1', Buffer.from('another body'));
    const fp = requestFingerprint('POST', '/orders?id=7', DUMP_BODY);
    await client.idempotencyBegin(`${ns}:k2`, fp, { lease: 600000 });
    await call('in-progress', 'k2');
    const rec = await client.idempotencyBegin(`${ns}:k1`, fp);
    console.log(`metadata ${rec.state} ${rec.metadata.toString('hex')}`);
    chain = rl;
    app = ok;
    await call('rl-allowed');
    await call('rl-denied');
  } finally {
    server.close();
  }
}

// The line every language prints for a cached JSON value: compact, keys sorted.
function canonical(v) {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

async function cacheLine(cache, key) {
  const e = await cache.lookup(key);
  return e.found ? `VALUE ${canonical(e.value)}` : 'MISS';
}

async function cacheMode(client, prefix, mode, key, args) {
  const cache = client.cache('interop', { l1Ttl: 1000 });
  if (mode === 'cache-set') {
    await cache.set(key, JSON.parse(args[0]), 60000);
  } else if (mode === 'cache-set-tagged') {
    await cache.set(key, JSON.parse(args[0]), 60000, { tags: [args[1]] });
  } else if (mode === 'cache-invalidate-tags') {
    await cache.invalidateTags([key]);
  } else if (mode === 'cache-get') {
    console.log(await cacheLine(cache, key));
  } else if (mode === 'cache-delete') {
    await cache.delete(key);
  } else if (mode === 'cache-serve') {
    const rl = readline.createInterface({ input: process.stdin });
    // eslint-disable-next-line no-unused-vars
    for await (const _ of rl) {
      const e = await cache.lookup(key);
      console.log(e.found ? `VALUE ${canonical(e.value)} ${e.layer}` : 'MISS');
    }
  } else if (mode === 'cache-load') {
    const load = async () => {
      await client.execute('INCR', `${prefix}:cache-loads`);
      await sleep(300);
      return { by: 'node' };
    };
    const got = await Promise.all(Array.from({ length: Number(args[0]) }, () => cache.getOrLoad(key, load, { wait: 30000 })));
    for (const v of got) console.log(`LOADED ${canonical(v)}`);
  } else {
    throw new Error(`unknown mode ${mode}`);
  }
}

// Consumes group "g" of `stream` as worker.py's stream_consume does.
async function streamConsume(client, prefix, stream) {
  let handled = 0;
  const cons = client.consumer(stream, 'g', { maxInFlight: 32, minIdle: 3000, reclaimInterval: 500, block: 200 });
  const ac = new AbortController();
  const watch = setInterval(async () => {
    if (await client.execute('EXISTS', `${prefix}:stream-stop`)) ac.abort();
  }, 100);
  console.log('STARTED');
  try {
    await cons.run(
      async (m) => {
        if (m.payload.n === undefined || m.headers.type !== 'interop') throw new Error('unexpected message');
        await client.execute('HINCRBY', `${prefix}:stream-handled`, m.id, '1');
        handled++;
      },
      { concurrency: 8, signal: ac.signal },
    );
  } finally {
    clearInterval(watch);
    await cons.close();
  }
  console.log(`HANDLED ${handled}`);
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
    } else if (mode === 'http-dump') {
      await httpDump(client, n);
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
    } else if (mode.startsWith('cache-')) {
      await cacheMode(client, prefix, mode, n, args);
    } else if (mode === 'stream-deadletter') {
      // One message of group "g" dead-lettered by hand.
      const cons = client.consumer(n, 'g');
      for await (const m of cons) {
        await m.deadLetter('node gave up');
        console.log(`DEAD ${m.id}`);
        break;
      }
      await cons.close();
    } else if (mode === 'stream-consume') {
      await streamConsume(client, prefix, n);
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
