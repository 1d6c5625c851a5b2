'use strict';
// What observability costs the Node binding, in ONE run against ONE server:
// lock acquire+release cycles/s and rate-limit checks/s of a plain client,
// and of a client with prom-client's registerMetrics (scraped every second)
// and redisx/opentelemetry's instrument() attached (the SDK's
// BasicTracerProvider with a BatchSpanProcessor into an exporter that drops
// the spans; a MeterProvider exporting every second into a dropping
// exporter; AsyncLocalStorage context for both clients).
//
//   (cd bindings/node && npm install)   # the addon, prom-client and the OTel SDK (devDependencies)
//   node bench/node/observability.js
//
// REDISX_URL: the server (default: a throwaway redis-server from
// redisx/testing, stopped at exit). BENCH_SEQ (3000 sequential operations),
// BENCH_CONC (200 in flight), BENCH_PER_WORKER (20), BENCH_REPEATS (5): the
// median of the repeats, alternating plain and instrumented.
//
// BENCH_TRACER: sdk (default), noop (the API's no-op tracer: the cost of the
// hook itself) or off (metrics only).
//
// Prints `name=value` lines; observability_lock_ratio and
// observability_check_ratio are instrumented / plain, sequential (the
// `_conc_` ratios: with BENCH_CONC in flight). It reports figures only.
const path = require('node:path');

const pkg = path.resolve(__dirname, '..', '..', 'bindings', 'node');
const req = (name) => require(require.resolve(name, { paths: [pkg] }));
const { Client } = require(pkg);
const { startServer } = require(path.join(pkg, 'testing'));
const { registerMetrics } = require(path.join(pkg, 'prometheus'));
const { instrument, metricProducer } = require(path.join(pkg, 'opentelemetry'));
const api = req('@opentelemetry/api');
const { AsyncLocalStorageContextManager } = req('@opentelemetry/context-async-hooks');
const { BasicTracerProvider, BatchSpanProcessor } = req('@opentelemetry/sdk-trace-base');
const { MeterProvider, PeriodicExportingMetricReader, AggregationTemporality } = req('@opentelemetry/sdk-metrics');
const promClient = req('prom-client');

const SEQ = Number(process.env.BENCH_SEQ || 3000);
const CONC = Number(process.env.BENCH_CONC || 200);
const PER_WORKER = Number(process.env.BENCH_PER_WORKER || 20);
const REPEATS = Number(process.env.BENCH_REPEATS || 5);

const dropSpans = { export: (spans, done) => done({ code: 0 }), shutdown: async () => {}, forceFlush: async () => {} };
const dropMetrics = {
  export: (metrics, done) => done({ code: 0 }),
  selectAggregationTemporality: () => AggregationTemporality.CUMULATIVE,
  shutdown: async () => {},
  forceFlush: async () => {},
};

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function rate(n, fn) {
  const t0 = process.hrtime.bigint();
  await fn();
  return n / (Number(process.hrtime.bigint() - t0) / 1e9);
}

function setup(url) {
  const plain = new Client(url, { prefix: 'bench-obs-plain' });
  const obs = new Client(url, { prefix: 'bench-obs-otel' });
  const registry = new promClient.Registry();
  registerMetrics(obs, { registry });
  const scrape = setInterval(() => registry.metrics().catch(() => {}), 1000);
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(dropSpans)] });
  const reader = new PeriodicExportingMetricReader({
    exporter: dropMetrics,
    exportIntervalMillis: 1000,
    metricProducers: [metricProducer(obs)],
  });
  const meterProvider = new MeterProvider({ readers: [reader] });
  // BENCH_TRACER=noop: the API's no-op tracer instead of the SDK's (what
  // the hook and the span calls cost without recording); =off: no spans.
  const mode = process.env.BENCH_TRACER || 'sdk';
  const tracer = mode === 'off' ? false : mode === 'noop' ? api.trace.getTracerProvider() : tracerProvider;
  instrument(obs, { tracerProvider: tracer, meterProvider });
  return {
    plain,
    obs,
    async close() {
      clearInterval(scrape);
      await tracerProvider.shutdown();
      await meterProvider.shutdown();
      await plain.close();
      await obs.close();
    },
  };
}

const parts = {
  async lockSeq(c) {
    return rate(SEQ, async () => {
      for (let i = 0; i < SEQ; i++) {
        const lock = await c.acquire(`seq-${i % 64}`, { ttl: 10000 });
        await lock.release();
      }
    });
  },
  async lockConc(c) {
    return rate(CONC * PER_WORKER, () =>
      Promise.all(
        Array.from({ length: CONC }, async (_, w) => {
          for (let i = 0; i < PER_WORKER; i++) {
            const lock = await c.acquire(`conc-${w}`, { ttl: 10000 });
            await lock.release();
          }
        }),
      ),
    );
  },
  async checkSeq(c) {
    const lim = c.limiter('bench', { algorithm: 'fixed_window', limit: 1e9, period: 3600000 });
    return rate(SEQ, async () => {
      for (let i = 0; i < SEQ; i++) await lim.check(`u-${i % 64}`);
    });
  },
  async checkConc(c) {
    const lim = c.limiter('bench', { algorithm: 'fixed_window', limit: 1e9, period: 3600000 });
    return rate(CONC * PER_WORKER, () =>
      Promise.all(
        Array.from({ length: CONC }, async (_, w) => {
          for (let i = 0; i < PER_WORKER; i++) await lim.check(`w-${w}`);
        }),
      ),
    );
  },
};

async function main() {
  api.context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  let server = null;
  let url = process.env.REDISX_URL;
  if (!url) {
    server = await startServer();
    url = server.url;
  }
  const s = setup(url);
  try {
    await s.plain.execute('PING');
    await s.obs.execute('PING');
    const got = {};
    for (const [name, fn] of Object.entries(parts)) {
      await fn(s.plain); // warm-up
      await fn(s.obs);
      const plain = [];
      const obs = [];
      for (let r = 0; r < REPEATS; r++) {
        if (r % 2 === 0) {
          plain.push(await fn(s.plain));
          obs.push(await fn(s.obs));
        } else {
          obs.push(await fn(s.obs));
          plain.push(await fn(s.plain));
        }
      }
      got[name] = { plain: median(plain), obs: median(obs) };
    }
    const line = (k, v) => console.log(`${k}=${typeof v === 'number' ? (Number.isInteger(v) ? v : v.toFixed(3)) : v}`);
    line('node_version', process.version);
    line('tracer', process.env.BENCH_TRACER || 'sdk');
    line('sequential_ops', SEQ);
    line('concurrency', CONC);
    line('repeats', REPEATS);
    line('lock_cycles_per_s_plain', Math.round(got.lockSeq.plain));
    line('lock_cycles_per_s_observed', Math.round(got.lockSeq.obs));
    line('lock_conc_cycles_per_s_plain', Math.round(got.lockConc.plain));
    line('lock_conc_cycles_per_s_observed', Math.round(got.lockConc.obs));
    line('ratelimit_checks_per_s_plain', Math.round(got.checkSeq.plain));
    line('ratelimit_checks_per_s_observed', Math.round(got.checkSeq.obs));
    line('ratelimit_conc_checks_per_s_plain', Math.round(got.checkConc.plain));
    line('ratelimit_conc_checks_per_s_observed', Math.round(got.checkConc.obs));
    line('observability_lock_ratio', got.lockSeq.obs / got.lockSeq.plain);
    line('observability_check_ratio', got.checkSeq.obs / got.checkSeq.plain);
    line('observability_lock_conc_ratio', got.lockConc.obs / got.lockConc.plain);
    line('observability_check_conc_ratio', got.checkConc.obs / got.checkConc.plain);
  } finally {
    await s.close();
    if (server) await server.stop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
