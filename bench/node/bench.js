'use strict';
// redisx (Node binding) vs redlock on ioredis: acquire+release cycles per
// second, sequentially and with many cycles in flight, against ONE server in
// ONE run. Started by bench/node/run.sh, which installs the peers into a
// throwaway folder (PEER_DIR) and provides REDISX_URL.
//
// Each measurement is repeated (REPEATS, alternating the two libraries) and
// the median is printed. Only figures are printed; nothing is judged.
const path = require('node:path');

const url = process.env.REDISX_URL;
const peerDir = process.env.PEER_DIR;
const SEQ = Number(process.env.BENCH_SEQ_CYCLES || 5000);
const CONC = Number(process.env.BENCH_CONCURRENCY || 1000);
const PER_WORKER = Number(process.env.BENCH_CYCLES_PER_WORKER || 20);
const REPEATS = Number(process.env.BENCH_REPEATS || 3);
const TTL = 10000;

const { Client } = require(path.resolve(__dirname, '..', '..', 'bindings', 'node'));
const Redis = require(path.join(peerDir, 'node_modules', 'ioredis'));
const Redlock = require(path.join(peerDir, 'node_modules', 'redlock'));
const peerVersion = (name) => require(path.join(peerDir, 'node_modules', name, 'package.json')).version;

function parseUrl(u) {
  const m = /^redis:\/\/(?:[^@]*@)?([^:/]+)(?::(\d+))?(?:\/(\d+))?/.exec(u);
  if (!m) throw new Error(`bench.js: only redis:// URLs are supported for the peers, got ${u}`);
  return { host: m[1], port: Number(m[2] || 6379), db: Number(m[3] || 0) };
}

// Both libraries get the same interface: cycle(name) = acquire + release.
function redisxLib() {
  const client = Client.fromUrl(url, { prefix: 'bench-node' });
  return {
    name: 'redisx',
    async cycle(name) {
      const lock = await client.acquire(name, { ttl: TTL });
      await lock.release();
    },
    close: () => client.close(),
  };
}

function redlockLib() {
  const redis = new Redis({ ...parseUrl(url), lazyConnect: false });
  const redlock = new Redlock([redis], { retryCount: 0 });
  // redlock 4: lock()/unlock(); redlock 5: acquire()/release().
  const v5 = typeof redlock.acquire === 'function' && typeof redlock.lock !== 'function';
  return {
    name: 'redlock',
    async cycle(name) {
      if (v5) {
        const lock = await redlock.acquire([`bench-redlock:${name}`], TTL);
        await lock.release();
      } else {
        const lock = await redlock.lock(`bench-redlock:${name}`, TTL);
        await lock.unlock();
      }
    },
    close: async () => {
      redis.disconnect();
    },
  };
}

async function sequential(lib, n) {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await lib.cycle('seq');
  return n / (Number(process.hrtime.bigint() - t0) / 1e9);
}

async function concurrent(lib, workers, perWorker) {
  const t0 = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: workers }, async (_, w) => {
      for (let i = 0; i < perWorker; i++) await lib.cycle(`conc-${w}`);
    }),
  );
  return (workers * perWorker) / (Number(process.hrtime.bigint() - t0) / 1e9);
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main() {
  const libs = [redisxLib(), redlockLib()];
  // Warm up: connections, script caches, JIT.
  for (const lib of libs) {
    await sequential(lib, Math.min(500, SEQ));
    await concurrent(lib, Math.min(100, CONC), 5);
  }
  const seq = { redisx: [], redlock: [] };
  const conc = { redisx: [], redlock: [] };
  for (let r = 0; r < REPEATS; r++) {
    for (const lib of r % 2 ? [...libs].reverse() : libs) {
      seq[lib.name].push(await sequential(lib, SEQ));
      conc[lib.name].push(await concurrent(lib, CONC, PER_WORKER));
    }
  }
  for (const lib of libs) await lib.close();

  const out = {
    node_version: process.version,
    redlock_version: peerVersion('redlock'),
    ioredis_version: peerVersion('ioredis'),
    seq_cycles: SEQ,
    concurrency: CONC,
    concurrent_cycles: CONC * PER_WORKER,
    repeats: REPEATS,
    redisx_seq_cycles_per_s: median(seq.redisx).toFixed(0),
    redlock_seq_cycles_per_s: median(seq.redlock).toFixed(0),
    redisx_concurrent_cycles_per_s: median(conc.redisx).toFixed(0),
    redlock_concurrent_cycles_per_s: median(conc.redlock).toFixed(0),
    // > 1: redisx completes more cycles per second than redlock.
    node_seq_ratio: (median(seq.redisx) / median(seq.redlock)).toFixed(3),
    node_concurrent_ratio: (median(conc.redisx) / median(conc.redlock)).toFixed(3),
  };
  for (const [k, v] of Object.entries(out)) console.log(`${k}=${v}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
