'use strict';
// Process CPU time (user + system, JS thread and the core's I/O thread) per
// operation with many operations in flight, for the lock cycle (acquire +
// release), PING and a rate-limit check. CPU time per operation is steadier
// than throughput on a shared machine. Not a test: run it by hand.
//
//   node scripts/cpu-per-op.js            # own redis-server on a free port
//   REDISX_URL=redis://... node scripts/cpu-per-op.js
//
// Optional: CONC (1000 in flight), PER_WORKER (20 ops each), REPEATS (3).
// js_thread_us_per_op is the JS thread's share (Linux /proc, 10 ms ticks).
const { Client } = require('..');
const { startRedis, stopRedis } = require('./redis-for-tests');

const fs = require('node:fs');

const CONC = Number(process.env.CONC || 1000);
const PER_WORKER = Number(process.env.PER_WORKER || 20);
const REPEATS = Number(process.env.REPEATS || 3);

// CPU time of the JS thread alone (its task id is the process id), in µs:
// the rest of the process time is the core's I/O thread (and libuv's pool).
const TICK_US = 1e6 / 100; // USER_HZ, 100 on Linux
function jsThreadUs() {
  const f = fs.readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
  const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return (Number(rest[11]) + Number(rest[12])) * TICK_US; // utime, stime
}

async function run(op) {
  const j0 = jsThreadUs();
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: CONC }, async (_, w) => {
      for (let i = 0; i < PER_WORKER; i++) await op(w);
    }),
  );
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const c = process.cpuUsage(c0);
  const n = CONC * PER_WORKER;
  return { cpuUs: (c.user + c.system) / n, jsUs: (jsThreadUs() - j0) / n, opsPerS: n / wall };
}

async function main() {
  const server = process.env.REDISX_URL ? null : await startRedis();
  const url = process.env.REDISX_URL || server.url;
  const client = Client.fromUrl(url, { prefix: `cpu-${process.pid}` });
  const limiter = client.limiter('cpu', { algorithm: 'fixed_window', limit: 1e9, period: 3600000 });
  const ops = {
    lock: async (w) => {
      const l = await client.acquire(`l${w}`, { ttl: 10000 });
      await l.release();
    },
    ping: () => client.execute('PING'),
    ratelimit: async (w) => {
      const r = await limiter.check(`k${w}`);
      if (!r.allowed) throw new Error('denied');
    },
  };
  try {
    for (const op of Object.values(ops)) await run(op); // warm-up: connections, scripts, JIT
    const out = {};
    for (let r = 0; r < REPEATS; r++) {
      for (const [name, op] of Object.entries(ops)) (out[name] ??= []).push(await run(op));
    }
    for (const [name, rs] of Object.entries(out)) {
      console.log(
        `${name}: cpu_us_per_op=${rs.map((x) => x.cpuUs.toFixed(2)).join(',')} ` +
          `js_thread_us_per_op=${rs.map((x) => x.jsUs.toFixed(2)).join(',')} ` +
          `ops_per_s=${rs.map((x) => x.opsPerS.toFixed(0)).join(',')}`,
      );
    }
  } finally {
    await client.close();
    await stopRedis(server);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
