'use strict';
// What issue 8's "Done when" asks of every binding, shown against real
// redis-servers this file starts itself (each test its own server on a free
// loopback port, no persistence, stopped by pid):
// - no owner-less lease or record after a timeout (docs/KEYS.md, "Unanswered
//   calls");
// - every primitive works as a least-privilege ACL user ("ACL rules for a
//   least-privilege user"), with and without the wake-up channels;
// - a SCRIPT FLUSH storm yields no error (NOSCRIPT → EVAL of the body);
// - fencing tokens keep increasing across a restart without persistence
//   ("Fencing tokens").
// The defaults shared by all three packages are in rules.test.js.
const test = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { Client, Timeout, ConnectionError, ServerError, ClientClosed } = require('..');
const { startRedis, stopRedis, sleep, uniq } = require('../scripts/redis-for-tests');

const ALGORITHMS = ['fixed_window', 'sliding_log', 'sliding_window', 'token_bucket', 'gcra'];

/** Runs `fn(server)` with a private redis-server, always stopped (and
 *  resumed first, should the test have left it stopped). */
async function withServer(fn) {
  const server = await startRedis();
  try {
    return await fn(server);
  } finally {
    try {
      process.kill(server.pid, 'SIGCONT');
    } catch {}
    await stopRedis(server);
  }
}

/** Polls `check` until it returns truthy or `ms` passed; returns the value
 *  and the time it took, or throws with `what`. */
async function within(ms, what, check, step = 50) {
  const start = Date.now();
  for (;;) {
    const v = await check();
    if (v) return { value: v, elapsed: Date.now() - start };
    if (Date.now() - start > ms) throw new Error(`${what}: not within ${ms} ms`);
    await sleep(step);
  }
}

/** Counters of `INFO commandstats` (commands run inside scripts included). */
async function commandCalls(client, command) {
  const info = (await client.execute('INFO', 'commandstats')).toString();
  const m = info.match(new RegExp(`^cmdstat_${command}:calls=(\\d+)`, 'm'));
  return m ? Number(m[1]) : 0;
}

function ping(port) {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.on('error', () => resolve(false));
    s.on('connect', () => s.write('PING\r\n'));
    s.on('data', (d) => {
      s.destroy();
      resolve(d.toString().startsWith('+PONG'));
    });
  });
}

/** A new redis-server on `port` (the port a stopped one just left), in the
 *  shape startRedis returns, so stopRedis stops it. */
async function startOnPort(port) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'redisx-node-test-'));
  const pidfile = path.join(dir, 'redis.pid');
  for (let attempt = 0; attempt < 40; attempt++) {
    try {
      execFileSync('redis-server', [
        '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
        '--daemonize', 'yes', '--pidfile', pidfile, '--dir', dir, '--logfile', path.join(dir, 'redis.log'),
      ], { stdio: 'inherit' });
    } catch {
      await sleep(250);
      continue;
    }
    for (let i = 0; i < 400; i++) {
      if (fs.existsSync(pidfile) && (await ping(port))) {
        const pid = Number(fs.readFileSync(pidfile, 'utf8').trim());
        return { port, url: `redis://127.0.0.1:${port}`, pid, dir };
      }
      await sleep(25);
    }
    break; // it daemonized but never answered (the port was taken meanwhile)
  }
  throw new Error(`could not start redis-server on port ${port} again (see ${dir})`);
}

/** Stops (SIGSTOP) `server` around `fn` and resumes it afterwards. */
async function frozen(server, fn) {
  process.kill(server.pid, 'SIGSTOP');
  try {
    return await fn();
  } finally {
    process.kill(server.pid, 'SIGCONT');
  }
}

const isTimeout = (e) => e instanceof Timeout;

test('a tryAcquire that timed out on a stopped server leaves no lease once it resumes', async (t) => {
  await withServer(async (server) => {
    const prefix = 'nodefault';
    const c = Client.fromUrl(server.url, { prefix, commandTimeout: 2000, connections: 1 });
    const observer = Client.fromUrl(server.url, { prefix, commandTimeout: 10000 });
    try {
      const name = uniq('frozen-lock');
      // Connected, and lock_acquire in the server's script cache: the frozen
      // call's EVALSHA then runs there once it resumes (a NOSCRIPT would not).
      await (await c.tryAcquire(uniq('warm'), { ttl: 10000 })).release();
      assert.equal((await observer.lockInfo(name)).lastFencingToken, 0);
      await frozen(server, async () => {
        const start = Date.now();
        await assert.rejects(c.tryAcquire(name, { ttl: 60000 }), isTimeout);
        const elapsed = Date.now() - start;
        assert.ok(elapsed < 10000, `the timeout took ${elapsed} ms, commandTimeout is 2000`);
      });
      // The acquire reaches the server once it resumes (its :fence key then
      // remembers a token); the core releases that lease itself, far sooner
      // than its 60 s ttl.
      const { elapsed } = await within(20000, 'the lease of the timed-out acquire released', async () => {
        const info = await observer.lockInfo(name);
        return info.lastFencingToken > 0 && !info.locked;
      });
      const lock = await observer.tryAcquire(name, { ttl: 10000 });
      await lock.release();
      t.diagnostic(`lease released ${elapsed} ms after the server resumed`);
    } finally {
      await c.close();
      await observer.close();
    }
  });
});

test('an idempotency begin that timed out on a stopped server leaves no record once it resumes', async (t) => {
  await withServer(async (server) => {
    const prefix = 'nodefault';
    const c = Client.fromUrl(server.url, { prefix, commandTimeout: 2000, connections: 1 });
    const observer = Client.fromUrl(server.url, { prefix, commandTimeout: 10000 });
    try {
      const key = uniq('frozen-idem');
      const record = `${prefix}:idem:{${key}}`;
      // Connected, and idem_begin in the server's script cache (see above).
      await (await c.idempotencyBegin(uniq('warm'), 'fp')).fail();
      const hsets = await commandCalls(observer, 'hset');
      await frozen(server, async () => {
        await assert.rejects(c.idempotencyBegin(key, 'fp', { lease: 60000 }), isTimeout);
      });
      // Once the server resumes, the begin runs there (HSET of the record)
      // and the core fails (deletes) the record nobody owns.
      const { elapsed } = await within(20000, 'the record of the timed-out begin failed', async () =>
        (await commandCalls(observer, 'hset')) > hsets && (await observer.execute('EXISTS', record)) === 0,
      );
      t.diagnostic(`record failed ${elapsed} ms after the server resumed`);
      const rec = await observer.idempotencyBegin(key, 'fp', { lease: 60000 });
      assert.equal(rec.state, 'NEW');
      assert.equal(rec.takenOver, false);
      await rec.complete('done');
    } finally {
      await c.close();
      await observer.close();
    }
  });
});

/** The rules of docs/KEYS.md, "ACL rules for a least-privilege user". */
function aclRules(prefix, password, { channels }) {
  const p = prefix.replace(/[*?[\\]/g, '\\$&');
  const rules = ['on', `>${password}`, 'resetkeys', `~${p}:*`, 'resetchannels'];
  if (channels) rules.push(`&${p}:*`);
  rules.push(
    '-@all',
    '+evalsha', '+eval', '+del', '+time',
    '+get', '+set', '+pttl', '+pexpire', '+hmget', '+hset', '+hdel', '+hincrby', '+incrby',
    '+zadd', '+zcard', '+zcount', '+zrangebyscore', '+zremrangebyscore',
  );
  if (channels) rules.push('+publish', '+subscribe', '+unsubscribe');
  return rules;
}

for (const channels of [true, false]) {
  const label = channels ? 'with the wake-up channels' : 'without the wake-up channels';
  test(`every primitive works as a least-privilege ACL user ${label}`, async () => {
    await withServer(async (server) => {
      const prefix = channels ? 'nodeacl' : 'nodeaclnochan';
      const user = channels ? 'svc' : 'svc-nochan';
      const admin = Client.fromUrl(server.url, { prefix });
      await admin.execute('ACL', 'SETUSER', user, ...aclRules(prefix, 'secret', { channels }));
      const c = Client.fromUrl(server.url, { prefix, username: user, password: 'secret' });
      const other = Client.fromUrl(server.url, { prefix, username: user, password: 'secret' });
      try {
        // The rules are in force: nothing outside the prefix, no PUBLISH
        // without the channels.
        await assert.rejects(c.execute('SET', 'elsewhere', 'v'), (e) => e instanceof ServerError && /NOPERM/i.test(e.message));
        if (!channels) {
          await assert.rejects(c.execute('PUBLISH', `${prefix}:x`, 'm'), (e) => e instanceof ServerError);
        }

        // Locks: acquire, inspect, extend, release.
        const name = uniq('acl-lock');
        const lock = await c.acquire(name, { ttl: 10000 });
        assert.equal((await c.lockInfo(name)).locked, true);
        await lock.extend(20000);
        assert.ok((await c.lockInfo(name)).ttl > 10000);
        await lock.release();
        assert.equal((await c.lockInfo(name)).locked, false);

        // A waiting acquire still gets the lock after a release (wake-up or polling).
        const holder = await c.acquire(name, { ttl: 30000 });
        const waiter = other.acquire(name, { ttl: 10000, wait: 20000 });
        await sleep(200);
        await holder.release();
        const next = await waiter;
        assert.ok(next.fencingToken > holder.fencingToken);
        await next.release();

        // Idempotency: begin + complete (then a replay), begin + fail (then NEW again).
        const key = uniq('acl-idem');
        const rec = await c.idempotencyBegin(key, 'fp', { lease: 10000 });
        assert.equal(rec.state, 'NEW');
        await rec.complete('response', 'meta', { ttl: 60000 });
        const replay = await c.idempotencyBegin(key, 'fp');
        assert.equal(replay.state, 'COMPLETED');
        assert.equal(replay.response.toString(), 'response');
        const key2 = uniq('acl-idem-fail');
        const rec2 = await c.idempotencyBegin(key2, 'fp', { lease: 10000 });
        assert.equal(rec2.state, 'NEW');
        await rec2.fail();
        const again = await c.idempotencyBegin(key2, 'fp', { lease: 10000 });
        assert.equal(again.state, 'NEW');
        await again.complete('ok');

        // A waiting begin ends when the record completes.
        const key3 = uniq('acl-idem-wait');
        const first = await c.idempotencyBegin(key3, 'fp', { lease: 30000 });
        const waiting = other.idempotencyBegin(key3, 'fp', { wait: 20000 });
        await sleep(200);
        await first.complete('late');
        assert.equal((await waiting).state, 'COMPLETED');

        // Rate limits: check, peek and reset for every algorithm.
        for (const algorithm of ALGORITHMS) {
          const limiter = c.limiter(`acl-${algorithm}`, { algorithm, limit: 5, period: 60000 });
          const k = uniq('acl-rl');
          const r = await limiter.check(k);
          assert.equal(r.allowed, true, algorithm);
          assert.equal(r.remaining, 4, algorithm);
          assert.equal(r.failOpen, false, algorithm);
          assert.equal((await limiter.peek(k)).remaining, 4, algorithm);
          await limiter.reset(k);
          assert.equal((await limiter.peek(k)).remaining, 5, algorithm);
        }
      } finally {
        await c.close();
        await other.close();
        await admin.close();
      }
    });
  });
}

test('a SCRIPT FLUSH storm from another client yields no error', async (t) => {
  await withServer(async (server) => {
    const prefix = 'nodeflush';
    const c = Client.fromUrl(server.url, { prefix });
    const flusher = Client.fromUrl(server.url, { prefix });
    try {
      const limiters = ALGORITHMS.map((algorithm) =>
        c.limiter(`flush-${algorithm}`, { algorithm, limit: 100000, period: 60000 }),
      );
      const failures = [];
      let ops = 0;
      let flushing = true;
      const note = (what) => (e) => failures.push(`${what}: ${e && e.name}: ${e && e.message}`);

      const worker = async (w) => {
        for (let i = 0; flushing || i < 3; i++) {
          const name = `flush-lock-${w}-${i}`;
          await c
            .acquire(name, { ttl: 10000, wait: 10000 })
            .then((lock) => lock.release())
            .then(() => ops++, note('lock cycle'));
          await limiters[i % limiters.length].check(`k${w}`).then((r) => {
            if (!r.allowed || r.failOpen) failures.push(`check: ${JSON.stringify(r)}`);
            ops++;
          }, note('check'));
          await c
            .idempotencyBegin(`flush-idem-${w}-${i}`, 'fp', { lease: 10000 })
            .then((rec) => {
              if (rec.state !== 'NEW') failures.push(`begin: ${rec.state}`);
              return rec.complete('ok');
            })
            .then(() => ops++, note('begin/complete'));
        }
      };
      const workers = Promise.all([0, 1, 2, 3, 4, 5, 6, 7].map(worker));

      // ~400 flushes, as concurrent promises spread over the workload.
      const flushes = [];
      for (let i = 0; i < 400; i++) {
        flushes.push(flusher.execute('SCRIPT', 'FLUSH'));
        if (i % 8 === 7) await sleep(5);
      }
      const settled = await Promise.allSettled(flushes);
      flushing = false;
      await workers;

      const refused = settled.filter((s) => s.status === 'rejected');
      assert.equal(refused.length, 0, `SCRIPT FLUSH itself failed: ${refused[0] && refused[0].reason}`);
      assert.equal(
        failures.length,
        0,
        `${failures.length} of ${ops + failures.length} calls failed, e.g.\n${failures.slice(0, 5).join('\n')}`,
      );
      const reloads = c.stats().client.scriptReloads;
      assert.ok(reloads > 0, `the workload met no NOSCRIPT (${ops} calls, scriptReloads ${reloads})`);
      assert.ok(ops >= 100, `only ${ops} calls ran during the storm`);
      t.diagnostic(`${ops} calls during 400 flushes, ${reloads} script reloads`);
    } finally {
      await c.close();
      await flusher.close();
    }
  });
});

test('fencing tokens keep increasing across a restart without persistence', async () => {
  let server = await startRedis();
  const c = Client.fromUrl(server.url, { prefix: 'noderestart', commandTimeout: 2000 });
  try {
    const name = uniq('restart');
    const before = await c.acquire(name, { ttl: 60000 });
    await before.release();
    assert.equal((await c.lockInfo(name)).lastFencingToken, before.fencingToken);

    const oldPid = server.pid;
    const { port } = server;
    await stopRedis(server);
    server = null;
    server = await startOnPort(port);
    assert.notEqual(server.pid, oldPid);

    // The client reconnects by itself; calls before that fail.
    const transient = (e) => e instanceof ConnectionError || e instanceof Timeout;
    const { value: info } = await within(20000, 'the client back on the new server', async () =>
      c.lockInfo(name).catch((e) => {
        if (transient(e)) return null;
        throw e;
      }),
    );
    // Nothing survived the restart: the server remembers no token for the name.
    assert.deepEqual(info, { locked: false, fencingToken: 0, ttl: 0, lastFencingToken: 0 });

    const after = await c.acquire(name, { ttl: 60000 });
    assert.ok(
      after.fencingToken > before.fencingToken,
      `token after the restart ${after.fencingToken}, before ${before.fencingToken}`,
    );
    await after.release();
  } finally {
    await c.close().catch((e) => {
      if (!(e instanceof ClientClosed)) throw e;
    });
    if (server) await stopRedis(server);
  }
});
