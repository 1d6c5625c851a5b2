'use strict';
// redisx's cache and streams next to Node's usual libraries, in one run
// against one server (bench/node/run.sh installs the peers into PEER_DIR and
// provides REDISX_URL). Prints name=value lines; ratios are redisx over the
// peer (above 1: redisx did more per second).
//
// The cache (issue 11), cache-manager 7 on Keyv:
//   - L1 hit: `await cache.get('k')` of a 100-byte Buffer held in this
//     process: redisx answers on the JS thread from the core's L1
//     (redisx_cache_peek, one copy into a Buffer); cache-manager's memory
//     store (Keyv on cacheable's CacheableMemory, LRU of 10,000 entries, TTL
//     60 s): a Map lookup behind Keyv's async get (no copy, values kept as
//     objects).
//   - get-or-load: TASKS async loops each doing PER calls over KEYS keys
//     drawn Zipf(s) (one draw sequence for both), a loader that resolves
//     100 bytes at once, TTL 1 h, fresh keys every round. redisx getOrLoad
//     with L1 off ("l2") and with an L1 of 10,000 entries ("l1"); on an L1
//     miss one EVALSHA of cache_fetch.lua (a hit, or one lease across every
//     process), after a load one of cache_fill.lua. cache-manager `wrap` on
//     @keyv/redis (node-redis) ("l2"), and on memory + @keyv/redis ("l1"):
//     a GET, on a miss the loader and a SET; Keyv stores values as JSON (a
//     Buffer becomes {"type":"Buffer","data":[...]}); wrap coalesces
//     concurrent loads of a key within the process only.
//
// Streams (issue 12), each round on a fresh stream and group:
//   - throughput: PUBLISHERS async loops publish N messages (100 bytes,
//     MAXLEN ~ 100000) while the consumer runs WORKERS handlers at a time;
//     the clock stops when every message was handled and the group has
//     nothing pending. redisx: client.publish (one EVALSHA of
//     stream_publish.lua), consumer({ maxInFlight: 64 }).run(handler,
//     { concurrency: WORKERS }); ioredis: XADD MAXLEN ~, a reader on its own
//     connection doing XREADGROUP COUNT <free of 64> BLOCK 1000, handlers
//     started as messages arrive (at most 64 unacked), one XACK each on a
//     second connection.
//   - latency: one message at a time, publish start to handler start.
const path = require('node:path');

const url = process.env.REDISX_URL;
const peerDir = process.env.PEER_DIR;
if (!url || !peerDir) {
  console.error('peers.js: run through bench/node/run.sh (REDISX_URL, PEER_DIR)');
  process.exit(2);
}
const REPEATS = Number(process.env.BENCH_REPEATS || 3);
const GOL_TASKS = Number(process.env.BENCH_GOL_TASKS || 64);
const GOL_PER = Number(process.env.BENCH_GOL_PER || 500);
const GOL_KEYS = Number(process.env.BENCH_GOL_KEYS || 100000);
const GOL_ZIPF = Number(process.env.BENCH_GOL_ZIPF || 1.1);
const ST_N = Number(process.env.BENCH_STREAM_N || 10000);
const ST_PUB = Number(process.env.BENCH_STREAM_PUBLISHERS || 16);
const ST_W = Number(process.env.BENCH_STREAM_WORKERS || 16);
const ST_LAT = Number(process.env.BENCH_STREAM_LATENCY_N || 500);
const MAXLEN = 100000;
const VALUE = Buffer.alloc(100, 'x');

const { Client } = require(path.resolve(__dirname, '..', '..', 'bindings', 'node'));
const peer = (name) => require(path.join(peerDir, 'node_modules', name));
const peerVersion = (name) => require(path.join(peerDir, 'node_modules', name, 'package.json')).version;
const Redis = peer('ioredis');
const { createCache } = peer('cache-manager');
const { Keyv } = peer('keyv');
const { CacheableMemory } = peer('cacheable');
const KeyvRedis = peer('@keyv/redis').default;

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const now = () => Number(process.hrtime.bigint());
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---- the cache

async function l1Bench(client, out) {
  const N = 200000;
  const cache = client.cache('bench-peer-l1', { codec: 'buffer', l1Entries: 10000, l1Ttl: 60000 });
  await cache.set('k', VALUE, 3600000);
  const mem = createCache({ stores: [new Keyv({ store: new CacheableMemory({ ttl: 60000, lruSize: 10000 }) })] });
  await mem.set('k', VALUE, 3600000);
  const perGet = async (get) => {
    const t0 = now();
    for (let i = 0; i < N; i++) await get('k');
    return (now() - t0) / N;
  };
  const rxGet = (k) => cache.get(k);
  const memGet = (k) => mem.get(k);
  if ((await mem.get('k')) === undefined) throw new Error('cache-manager memory store: no hit');
  await perGet(rxGet);
  await perGet(memGet);
  const rx = [];
  const pc = [];
  for (let r = 0; r < REPEATS; r++) {
    rx.push(await perGet(rxGet));
    pc.push(await perGet(memGet));
  }
  out.node_cache_l1_hit_redisx_ns = Math.round(median(rx));
  out.node_cache_l1_hit_cache_manager_memory_ns = Math.round(median(pc));
  out.node_cache_l1_hit_ratio = (median(pc) / median(rx)).toFixed(3);
}

function zipfDraws(n, keys, s, seed) {
  const cdf = new Float64Array(keys);
  let total = 0;
  for (let k = 0; k < keys; k++) cdf[k] = total += 1 / (k + 1) ** s;
  let x = seed * 2654435761 + 1; // xorshift32: the same draws on every run
  const rnd = () => {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    return x / 4294967296;
  };
  const out = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    const u = rnd() * total;
    let lo = 0;
    let hi = keys - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid] < u) lo = mid + 1; else hi = mid;
    }
    out[i] = lo;
  }
  return out;
}

async function golRun(getOrLoad, ns, draws) {
  const t0 = now();
  await Promise.all(Array.from({ length: GOL_TASKS }, async (_, i) => {
    for (let j = 0; j < GOL_PER; j++) await getOrLoad(`${ns}:${draws[i * GOL_PER + j]}`);
  }));
  return (GOL_TASKS * GOL_PER * 1e9) / (now() - t0);
}

async function golBench(client, out) {
  const loader = async () => VALUE;
  Object.assign(out, {
    node_cache_gol_tasks: GOL_TASKS, node_cache_gol_per_task: GOL_PER, node_cache_gol_keys: GOL_KEYS,
    node_cache_gol_zipf_s: GOL_ZIPF,
  });
  const redisStore = new Keyv({ store: new KeyvRedis(url), namespace: '' });
  try {
    for (const mode of ['l2', 'l1']) {
      const rx = [];
      const pc = [];
      let cache;
      for (let r = 0; r <= REPEATS; r++) { // round 0: warm-up
        const draws = zipfDraws(GOL_TASKS * GOL_PER, GOL_KEYS, GOL_ZIPF, r + 1);
        cache = client.cache(`bench-gol-${mode}-${r}`, {
          codec: 'buffer', ttl: 3600000, ...(mode === 'l2' ? { l1Entries: 0 } : { l1Entries: 10000, l1Ttl: 60000 }),
        });
        const v = await golRun((k) => cache.getOrLoad(k, loader), 'k', draws);
        const stores = mode === 'l2' ? [redisStore]
          : [new Keyv({ store: new CacheableMemory({ ttl: 60000, lruSize: 10000 }) }), redisStore];
        const cm = createCache({ stores });
        const w = await golRun((k) => cm.wrap(k, loader, 3600000), `bench-node-gol-${mode}-${r}`, draws);
        if (r > 0) {
          rx.push(v);
          pc.push(w);
        }
      }
      const c = cache.counters();
      out[`node_cache_gol_${mode}_redisx_counters`] = `l1_hits:${c.l1Hits ?? c.l1_hits},l2_hits:${c.l2Hits ?? c.l2_hits},loads:${c.loads}`;
      out[`node_cache_gol_${mode}_redisx_per_s`] = Math.round(median(rx));
      out[`node_cache_gol_${mode}_cache_manager_per_s`] = Math.round(median(pc));
      out[`node_cache_gol_${mode}_ratio`] = (median(rx) / median(pc)).toFixed(3);
    }
  } finally {
    await redisStore.disconnect();
  }
}

// ---- streams

function redisxSide(client) {
  return {
    name: 'redisx',
    key: (stream) => `redisx:stream:{${stream}}`,
    async start(stream, onMsg) {
      await client.createGroup(stream, 'g', { start: '0' });
      const cons = client.consumer(stream, 'g', { name: 'c', maxInFlight: 64 });
      const running = cons.run(async () => onMsg(), { concurrency: ST_W });
      return async () => {
        await cons.stop();
        await running;
      };
    },
    publish: (stream) => client.publish(stream, VALUE, { codec: 'bytes', maxLen: MAXLEN }),
  };
}

function ioredisSide(io) {
  return {
    name: 'ioredis',
    key: (stream) => stream,
    async start(stream, onMsg) {
      await io.xgroup('CREATE', stream, 'g', '0', 'MKSTREAM');
      const reader = new Redis(url);
      let stopping = false;
      let unacked = 0;
      let room = null;
      const running = new Set();
      const handle = async (id) => {
        await onMsg();
        await io.xack(stream, 'g', id);
        unacked--;
        if (room) { room(); room = null; }
      };
      const loop = (async () => {
        while (!stopping) {
          while (unacked >= 64) await new Promise((r) => { room = r; });
          const res = await reader.xreadgroup('GROUP', 'g', 'c', 'COUNT', 64 - unacked, 'BLOCK', 200,
            'STREAMS', stream, '>');
          if (!res) continue;
          for (const [, msgs] of res) {
            for (const [id] of msgs) {
              unacked++;
              const p = handle(id);
              running.add(p);
              p.finally(() => running.delete(p));
            }
          }
        }
      })();
      return async () => {
        stopping = true;
        await loop;
        await Promise.all(running);
        reader.disconnect();
      };
    },
    publish: (stream) => io.xadd(stream, 'MAXLEN', '~', MAXLEN, '*', 'payload', VALUE),
  };
}

async function pendingCount(io, key) {
  const p = await io.xpending(key, 'g');
  return Number(p[0]);
}

async function throughputRun(io, side, stream, n) {
  let seen = 0;
  let allSeen;
  const all = new Promise((r) => { allSeen = r; });
  const stop = await side.start(stream, async () => { if (++seen === n) allSeen(); });
  try {
    let next = 0;
    const t0 = now();
    await Promise.all(Array.from({ length: ST_PUB }, async () => {
      while (next++ < n) await side.publish(stream);
    }));
    const pubRate = (n * 1e9) / (now() - t0);
    await Promise.race([all, sleep(120000).then(() => { throw new Error(`${side.name}: ${seen} of ${n} handled`); })]);
    while (await pendingCount(io, side.key(stream))) await sleep(0.2);
    return [(n * 1e9) / (now() - t0), pubRate];
  } finally {
    await stop();
  }
}

async function latencyRun(side, stream) {
  let got = null;
  const stop = await side.start(stream, async () => { if (got) got(now()); });
  try {
    const lat = [];
    for (let i = 0; i < ST_LAT + 50; i++) {
      const seen = new Promise((r) => { got = r; });
      const t0 = now();
      await side.publish(stream);
      const t = await seen;
      if (i >= 50) lat.push((t - t0) / 1000);
    }
    lat.sort((a, b) => a - b);
    return [lat[Math.floor(lat.length / 2)], lat[Math.floor((lat.length - 1) * 0.99)]];
  } finally {
    await stop();
  }
}

async function streamBench(client, io, out) {
  const sides = [redisxSide(client), ioredisSide(io)];
  Object.assign(out, { node_stream_messages: ST_N, node_stream_publishers: ST_PUB, node_stream_workers: ST_W,
    node_stream_latency_messages: ST_LAT });
  const rates = { redisx: [], ioredis: [] };
  const pubRates = { redisx: [], ioredis: [] };
  for (let r = 0; r <= REPEATS; r++) {
    for (const side of sides) {
      const stream = `bench-node-stream-${side.name}-${r}-${Date.now()}`;
      const [v, pv] = await throughputRun(io, side, stream, r ? ST_N : Math.floor(ST_N / 10));
      await io.del(side.key(stream));
      if (r) {
        rates[side.name].push(v);
        pubRates[side.name].push(pv);
      }
    }
  }
  for (const side of sides) {
    out[`node_stream_${side.name}_msgs_per_s`] = Math.round(median(rates[side.name]));
    out[`node_stream_${side.name}_published_per_s`] = Math.round(median(pubRates[side.name]));
  }
  for (const side of sides) {
    const stream = `bench-node-stream-lat-${side.name}-${Date.now()}`;
    const [p50, p99] = await latencyRun(side, stream);
    await io.del(side.key(stream));
    out[`node_stream_${side.name}_latency_p50_us`] = Math.round(p50);
    out[`node_stream_${side.name}_latency_p99_us`] = Math.round(p99);
  }
  out.node_stream_vs_ioredis_ratio = (median(rates.redisx) / median(rates.ioredis)).toFixed(3);
}

async function main() {
  const out = {
    node_version: process.version, ioredis_version: peerVersion('ioredis'),
    cache_manager_version: peerVersion('cache-manager'), keyv_redis_version: peerVersion('@keyv/redis'),
    cacheable_version: peerVersion('cacheable'), repeats: REPEATS,
  };
  const client = Client.fromUrl(url);
  const io = new Redis(url);
  try {
    await l1Bench(client, out);
    await golBench(client, out);
    await streamBench(client, io, out);
    for (const pattern of ['redisx:cache:bench-*', 'bench-node-*']) {
      let cursor = '0';
      do {
        const [c, keys] = await io.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
        cursor = c;
        if (keys.length) await io.del(...keys);
      } while (cursor !== '0');
    }
  } finally {
    await client.close();
    io.disconnect();
  }
  for (const [k, v] of Object.entries(out)) console.log(`${k}=${v}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
