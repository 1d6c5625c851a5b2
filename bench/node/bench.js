'use strict';
// redisx (Node binding) vs its npm peers, against ONE server in ONE run:
//   - locks: redisx vs redlock on ioredis, acquire+release cycles per second;
//   - rate limits: redisx fixed_window vs rate-limiter-flexible's
//     RateLimiterRedis on ioredis (a fixed window too), checks per second,
//     with a limit high enough that every check is allowed;
// each sequentially (await each) and with many operations in flight. Started
// by bench/node/run.sh, which installs the peers into a throwaway folder
// (PEER_DIR) and provides REDISX_URL. BENCH_ONLY=lock|rl|cache runs one part;
// the cache part prints ns per L1 hit of cache.get().
//
// Each measurement is repeated (REPEATS, alternating the libraries) and the
// median is printed. Only figures are printed; nothing is judged.
const path = require('node:path');

const url = process.env.REDISX_URL;
const peerDir = process.env.PEER_DIR;
const SEQ = Number(process.env.BENCH_SEQ_CYCLES || 5000);
const CONC = Number(process.env.BENCH_CONCURRENCY || 1000);
const PER_WORKER = Number(process.env.BENCH_CYCLES_PER_WORKER || 20);
const REPEATS = Number(process.env.BENCH_REPEATS || 3);
const RL_SEQ = Number(process.env.BENCH_RL_SEQ_CHECKS || 5000);
const RL_CONC = Number(process.env.BENCH_RL_CONCURRENCY || 1000);
const RL_PER_WORKER = Number(process.env.BENCH_RL_CHECKS_PER_WORKER || 20);
const ONLY = process.env.BENCH_ONLY || '';
const TTL = 10000;
const RL_LIMIT = 1000000000; // every check is allowed
const RL_PERIOD_S = 3600;

const { Client } = require(path.resolve(__dirname, '..', '..', 'bindings', 'node'));
const Redis = require(path.join(peerDir, 'node_modules', 'ioredis'));
const Redlock = require(path.join(peerDir, 'node_modules', 'redlock'));
const { RateLimiterRedis } = require(path.join(peerDir, 'node_modules', 'rate-limiter-flexible'));
const peerVersion = (name) => require(path.join(peerDir, 'node_modules', name, 'package.json')).version;

function parseUrl(u) {
  const m = /^redis:\/\/(?:[^@]*@)?([^:/]+)(?::(\d+))?(?:\/(\d+))?/.exec(u);
  if (!m) throw new Error(`bench.js: only redis:// URLs are supported for the peers, got ${u}`);
  return { host: m[1], port: Number(m[2] || 6379), db: Number(m[3] || 0) };
}

// Both libraries get the same interface: cycle(name) = acquire + release.
function redisxLib(name = 'redisx', options = {}) {
  const client = Client.fromUrl(url, { prefix: 'bench-node', ...options });
  return {
    name,
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

// Rate limiters get one interface too: cycle(key) = one allowed check.
function redisxRl() {
  const client = Client.fromUrl(url, { prefix: 'bench-node-rl' });
  const limiter = client.limiter('bench', { algorithm: 'fixed_window', limit: RL_LIMIT, period: RL_PERIOD_S * 1000 });
  return {
    name: 'redisx',
    async cycle(key) {
      const r = await limiter.check(key);
      if (!r.allowed) throw new Error('bench.js: a redisx check was denied; the limit is meant to allow all');
    },
    close: () => client.close(),
  };
}

async function flexibleRl() {
  const redis = new Redis(parseUrl(url));
  await redis.ping(); // connected before timing starts
  const limiter = new RateLimiterRedis({
    storeClient: redis,
    keyPrefix: 'bench-rlflx',
    points: RL_LIMIT,
    duration: RL_PERIOD_S,
  });
  return {
    name: 'flexible',
    // consume() rejects with a RateLimiterRes when denied, an Error on failure.
    cycle: (key) => limiter.consume(key, 1),
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

async function lockBench(out) {
  const libs = [redisxLib(), redlockLib(), redisxLib('redisx_busy_poll', { busyPoll: 0.2 })];
  // Warm up: connections, script caches, JIT.
  for (const lib of libs) {
    await sequential(lib, Math.min(500, SEQ));
    await concurrent(lib, Math.min(100, CONC), 5);
  }
  const seq = { redisx: [], redlock: [], redisx_busy_poll: [] };
  const conc = { redisx: [], redlock: [], redisx_busy_poll: [] };
  for (let r = 0; r < REPEATS; r++) {
    for (const lib of r % 2 ? [...libs].reverse() : libs) {
      seq[lib.name].push(await sequential(lib, SEQ));
      conc[lib.name].push(await concurrent(lib, CONC, PER_WORKER));
    }
  }
  for (const lib of libs) await lib.close();

  Object.assign(out, {
    redlock_version: peerVersion('redlock'),
    seq_cycles: SEQ,
    concurrency: CONC,
    concurrent_cycles: CONC * PER_WORKER,
    redisx_seq_cycles_per_s: median(seq.redisx).toFixed(0),
    redlock_seq_cycles_per_s: median(seq.redlock).toFixed(0),
    redisx_concurrent_cycles_per_s: median(conc.redisx).toFixed(0),
    redlock_concurrent_cycles_per_s: median(conc.redlock).toFixed(0),
    // > 1: redisx completes more cycles per second than redlock.
    node_seq_ratio: (median(seq.redisx) / median(seq.redlock)).toFixed(3),
    node_concurrent_ratio: (median(conc.redisx) / median(conc.redlock)).toFixed(3),
    // The same with busyPoll: 0.2 (ms; off by default).
    node_seq_busy_poll_ratio: (median(seq.redisx_busy_poll) / median(seq.redlock)).toFixed(3),
    node_concurrent_busy_poll_ratio: (median(conc.redisx_busy_poll) / median(conc.redlock)).toFixed(3),
  });
}

async function rlBench(out) {
  const libs = [redisxRl(), await flexibleRl()];
  for (const lib of libs) {
    await sequential(lib, Math.min(500, RL_SEQ));
    await concurrent(lib, Math.min(100, RL_CONC), 5);
  }
  const seq = { redisx: [], flexible: [] };
  const conc = { redisx: [], flexible: [] };
  for (let r = 0; r < REPEATS; r++) {
    for (const lib of r % 2 ? [...libs].reverse() : libs) {
      seq[lib.name].push(await sequential(lib, RL_SEQ));
      conc[lib.name].push(await concurrent(lib, RL_CONC, RL_PER_WORKER));
    }
  }
  for (const lib of libs) await lib.close();
  Object.assign(out, {
    rate_limiter_flexible_version: peerVersion('rate-limiter-flexible'),
    rl_algorithm: 'fixed_window',
    rl_seq_checks: RL_SEQ,
    rl_concurrency: RL_CONC,
    rl_concurrent_checks: RL_CONC * RL_PER_WORKER,
    redisx_rl_seq_checks_per_s: median(seq.redisx).toFixed(0),
    flexible_rl_seq_checks_per_s: median(seq.flexible).toFixed(0),
    redisx_rl_conc_checks_per_s: median(conc.redisx).toFixed(0),
    flexible_rl_conc_checks_per_s: median(conc.flexible).toFixed(0),
    // > 1: redisx completes more checks per second than rate-limiter-flexible.
    node_rl_seq_ratio: (median(seq.redisx) / median(seq.flexible)).toFixed(3),
    node_rl_conc_ratio: (median(conc.redisx) / median(conc.flexible)).toFixed(3),
  });
}

// ns per cache.get() that hits this process's L1: answered on the JS thread by
// redisx_cache_peek (no queue, no round trip), a 100-byte Buffer with the
// buffer codec and a small object with the JSON codec (decoded on every hit).
async function cacheBench(out) {
  const client = Client.fromUrl(url, { prefix: `bench-cache-${process.pid}` });
  try {
    const N_GETS = 200000;
    for (const [codec, value, memoize] of [
      ['buffer', Buffer.alloc(100), false],
      ['json', { id: 1, name: 'x' }, false],
      ['json', { id: 1, name: 'x' }, true],
    ]) {
      const label = memoize ? `${codec}_memoized` : codec;
      const cache = client.cache(`bench-l1-${label}`, { codec, l1Ttl: 60000, memoize });
      await cache.set('k', value, 3600000);
      const runs = [];
      for (let r = 0; r <= REPEATS; r++) {
        const t0 = process.hrtime.bigint();
        for (let i = 0; i < N_GETS; i++) await cache.get('k');
        if (r > 0) runs.push(Number(process.hrtime.bigint() - t0) / N_GETS); // round 0 warms up
      }
      out[`node_cache_l1_hit_${label}_ns`] = Math.round(median(runs));
    }
  } finally {
    await client.close();
  }
}

async function main() {
  const out = { node_version: process.version, ioredis_version: peerVersion('ioredis'), repeats: REPEATS };
  if (ONLY === '' || ONLY === 'lock') await lockBench(out);
  if (ONLY === '' || ONLY === 'rl') await rlBench(out);
  if (ONLY === '' || ONLY === 'cache') await cacheBench(out);
  for (const [k, v] of Object.entries(out)) console.log(`${k}=${v}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
