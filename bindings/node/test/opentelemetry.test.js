'use strict';
// redisx/opentelemetry against a real redis-server, through the real SDK
// (BasicTracerProvider into an InMemorySpanExporter, AsyncLocalStorage
// context, a MeterProvider read by collect()). The contract these tests hold
// the package to:
//   - scope `redisx` at the package version; one span per public operation,
//     started at call time in the caller's active context, ended at
//     completion; name = db.operation.name = <primitive>.<operation>, a raw
//     command: its name upper-cased;
//   - kind CLIENT; stream.publish PRODUCER; stream.handle CONSUMER;
//   - db.system.name "redis", db.namespace the db index, server.address /
//     server.port from the URL; on error error.type = the core status name and
//     status ERROR; db.response.status_code the Redis error prefix for
//     ERR_SERVER; redisx.lock.fencing_token on acquire; redisx.ratelimit.allowed
//     / .remaining on check; redisx.cache.outcome on cache fetch/get; stream:
//     messaging.system, messaging.destination.name, messaging.message.id,
//     messaging.consumer.group.name on handle; never key values;
//   - a held lock on try-acquire, a denied check, a cache miss: status unset;
//   - publish injects traceparent unless the caller set one; the handle span
//     is a new root with a link to the producer's context;
//   - db.client.operation.duration (s) through a MetricProducer, counters and
//     gauges through one batch observable callback.
const test = require('node:test');
const assert = require('node:assert/strict');
const api = require('@opentelemetry/api');
const { AsyncLocalStorageContextManager } = require('@opentelemetry/context-async-hooks');
const { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } = require('@opentelemetry/sdk-trace-base');
const { MeterProvider, PeriodicExportingMetricReader, InMemoryMetricExporter, AggregationTemporality, DataPointType } =
  require('@opentelemetry/sdk-metrics');
const { Client, InvalidArgument } = require('..');
const { instrument, metricProducer } = require('../opentelemetry');
const { startRedis, stopRedis, uniq, freePort } = require('../scripts/redis-for-tests');
const VERSION = require('../package.json').version;

const { context, trace, SpanKind, SpanStatusCode } = api;
const contextManager = new AsyncLocalStorageContextManager().enable();
api.context.setGlobalContextManager(contextManager);

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const tracer = provider.getTracer('test');

let server;
test.before(async () => {
  server = await startRedis();
});
test.after(async () => {
  await stopRedis(server);
  api.context.disable();
});
test.beforeEach(() => exporter.reset());

function client(opts = {}) {
  const c = new Client(server.url, { prefix: uniq('otel'), ...opts });
  const otel = instrument(c, { tracerProvider: provider, meterProvider: false });
  return { c, otel };
}

const spans = (name) => exporter.getFinishedSpans().filter((s) => name === undefined || s.name === name);
const one = (name) => {
  const got = spans(name);
  assert.equal(got.length, 1, `one ${name} span, got ${got.map((s) => s.name).join(', ')}`);
  return got[0];
};
const parentOf = (s) => s.parentSpanContext && s.parentSpanContext.spanId;
const inSpan = (span, fn) => context.with(trace.setSpan(context.active(), span), fn);

test('the request span is the parent, also for concurrent calls under different parents', async () => {
  // The client (and so its completion poll handle) is made inside another
  // span: a context taken at completion would show that span as the parent.
  const maker = tracer.startSpan('maker');
  const { c } = inSpan(maker, () => client());
  try {
    const parents = Array.from({ length: 8 }, (_, i) => tracer.startSpan(`request-${i}`));
    const key = uniq('k');
    await Promise.all(
      parents.map((p, i) => inSpan(p, () => (i % 2 ? c.execute('GET', key) : c.tryAcquire(uniq('lock'), { ttl: 5000 })))),
    );
    parents.forEach((p) => p.end());
    maker.end();
    const ops = spans().filter((s) => s.name === 'GET' || s.name === 'lock.acquire');
    assert.equal(ops.length, 8);
    for (const [i, p] of parents.entries()) {
      const mine = ops.filter((s) => parentOf(s) === p.spanContext().spanId);
      assert.equal(mine.length, 1, `request-${i} has one child`);
      assert.equal(mine[0].name, i % 2 ? 'GET' : 'lock.acquire');
      assert.equal(mine[0].spanContext().traceId, p.spanContext().traceId);
    }
    // awaited outside any span: a root span
    await c.execute('PING');
    assert.equal(parentOf(one('PING')), undefined);
  } finally {
    await c.close();
  }
});

test('lock acquire: a CLIENT span with the fencing token and the server attributes', async () => {
  const { c } = client();
  try {
    const name = uniq('job');
    const lock = await c.acquire(name, { ttl: 30000 });
    await lock.extend(30000);
    await lock.release();
    const s = one('lock.acquire');
    assert.equal(s.kind, SpanKind.CLIENT);
    assert.equal(s.instrumentationScope.name, 'redisx');
    assert.equal(s.instrumentationScope.version, VERSION);
    assert.equal(s.attributes['db.operation.name'], 'lock.acquire');
    assert.equal(s.attributes['db.system.name'], 'redis');
    assert.equal(s.attributes['db.namespace'], '0');
    assert.equal(s.attributes['server.address'], '127.0.0.1');
    assert.equal(s.attributes['server.port'], server.port);
    assert.equal(s.attributes['redisx.lock.fencing_token'], Number(lock.fencingToken));
    assert.ok(lock.fencingToken > 0);
    assert.equal(s.status.code, SpanStatusCode.UNSET);
    assert.equal(one('lock.extend').attributes['db.operation.name'], 'lock.extend');
    assert.equal(one('lock.release').status.code, SpanStatusCode.UNSET);
    for (const sp of spans()) assert.ok(!Object.values(sp.attributes).includes(name), 'no lock name in attributes');
  } finally {
    await c.close();
  }
});

test('a lock held by another on try-acquire is an answer, not an error', async () => {
  const { c } = client();
  try {
    const name = uniq('held');
    await c.acquire(name, { ttl: 30000 });
    exporter.reset();
    await assert.rejects(c.tryAcquire(name, { ttl: 30000 }), (e) => e.code === 'ERR_LOCKED');
    const s = one('lock.acquire');
    assert.equal(s.status.code, SpanStatusCode.UNSET);
    assert.equal(s.attributes['error.type'], undefined);
    assert.equal(s.attributes['redisx.lock.fencing_token'], undefined);
  } finally {
    await c.close();
  }
});

test('rate-limit check: allowed and remaining; a denied check has no error status', async () => {
  const { c } = client();
  try {
    const lim = c.limiter(uniq('api'), { algorithm: 'fixed_window', limit: 2, period: 60000 });
    const key = uniq('user');
    await lim.check(key);
    await lim.check(key);
    await lim.check(key);
    const checks = spans('ratelimit.check');
    assert.equal(checks.length, 3);
    assert.deepEqual(
      checks.map((s) => [s.attributes['redisx.ratelimit.allowed'], s.attributes['redisx.ratelimit.remaining']]),
      [[true, 1], [true, 0], [false, 0]],
    );
    for (const s of checks) {
      assert.equal(s.status.code, SpanStatusCode.UNSET);
      assert.equal(s.attributes['redisx.name'], lim.name);
      assert.equal(s.kind, SpanKind.CLIENT);
      assert.ok(!Object.values(s.attributes).includes(key), 'no rate-limit key in attributes');
    }
    await lim.peek(key);
    await lim.reset(key);
    assert.equal(spans('ratelimit.peek').length, 1);
    assert.equal(spans('ratelimit.reset').length, 1);
  } finally {
    await c.close();
  }
});

test('an unreachable server: error.type is the core status and the span status ERROR', async () => {
  const port = await freePort();
  const c = new Client(`redis://127.0.0.1:${port}/3`, { commandTimeout: 200, connectTimeout: 200 });
  instrument(c, { tracerProvider: provider, meterProvider: false });
  try {
    await assert.rejects(c.acquire(uniq('down'), { ttl: 1000 }));
    const s = one('lock.acquire');
    assert.ok(['ERR_CONNECTION', 'ERR_TIMEOUT'].includes(s.attributes['error.type']), s.attributes['error.type']);
    assert.equal(s.status.code, SpanStatusCode.ERROR);
    assert.ok(s.status.message.length > 0);
    assert.equal(s.attributes['db.namespace'], '3');
    assert.equal(s.attributes['server.port'], port);
  } finally {
    await c.close();
  }
});

test('a raw command: span named by the command; a server error carries its prefix', async () => {
  const { c } = client();
  try {
    const key = uniq('str');
    await c.execute('set', key, 'secret-value');
    await assert.rejects(c.execute('LPUSH', key, 'x'), (e) => e.code === 'ERR_SERVER');
    const set = one('SET');
    assert.equal(set.attributes['db.operation.name'], 'SET');
    assert.equal(set.kind, SpanKind.CLIENT);
    assert.equal(set.status.code, SpanStatusCode.UNSET);
    for (const v of Object.values(set.attributes)) assert.ok(v !== key && v !== 'secret-value', 'no key or value');
    const lpush = one('LPUSH');
    assert.equal(lpush.attributes['error.type'], 'ERR_SERVER');
    assert.equal(lpush.attributes['db.response.status_code'], 'WRONGTYPE');
    assert.equal(lpush.status.code, SpanStatusCode.ERROR);
  } finally {
    await c.close();
  }
});

test('cache spans: outcome miss then hit; the loader runs inside cache.fetch', async () => {
  const { c } = client();
  try {
    const cache = c.cache(uniq('users'), { ttl: 60000 });
    const key = uniq('u');
    assert.equal(await cache.get(key), undefined);
    assert.equal(spans('cache.get')[0].attributes['redisx.cache.outcome'], 'miss');
    assert.equal(spans('cache.get')[0].status.code, SpanStatusCode.UNSET);
    const v = await cache.getOrLoad(key, async () => {
      tracer.startSpan('load-user').end();
      return { id: 1 };
    });
    assert.deepEqual(v, { id: 1 });
    const fetch = one('cache.fetch');
    assert.equal(fetch.attributes['redisx.cache.outcome'], 'load');
    assert.equal(fetch.attributes['redisx.name'], cache.name);
    assert.equal(parentOf(one('load-user')), fetch.spanContext().spanId);
    exporter.reset();
    await cache.get(key);
    assert.match(one('cache.get').attributes['redisx.cache.outcome'], /^hit_l[12]$/);
    await cache.set(key, { id: 2 });
    await cache.delete(key);
    assert.equal(spans('cache.set').length, 1);
    assert.equal(spans('cache.delete').length, 1);
  } finally {
    await c.close();
  }
});

test('idempotency spans: begin and complete', async () => {
  const { c } = client();
  try {
    const rec = await c.idempotencyBegin(uniq('req'), 'fp');
    assert.equal(rec.state, 'NEW');
    await rec.complete(Buffer.from('done'));
    assert.equal(one('idempotency.begin').kind, SpanKind.CLIENT);
    assert.equal(one('idempotency.complete').status.code, SpanStatusCode.UNSET);
  } finally {
    await c.close();
  }
});

test('stream publish → consume: traceparent in the headers, the handle span is a root linked to publish', async () => {
  const { c } = client();
  try {
    const stream = uniq('orders');
    await c.createGroup(stream, 'billing', { start: '0' });
    const parent = tracer.startSpan('checkout');
    const id = await inSpan(parent, () => c.publish(stream, { order: 1 }));
    const own = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const kept = await c.publish(stream, { order: 2 }, { headers: { traceparent: own } });
    parent.end();
    const pubs = spans('stream.publish');
    assert.equal(pubs.length, 2);
    const pub = pubs.find((s) => s.attributes['messaging.message.id'] === id);
    assert.equal(pub.kind, SpanKind.PRODUCER);
    assert.equal(parentOf(pub), parent.spanContext().spanId);
    assert.equal(pub.attributes['messaging.system'], 'redis');
    assert.equal(pub.attributes['messaging.destination.name'], stream);

    const seen = new Map();
    const ac = new AbortController();
    const cons = c.consumer(stream, 'billing');
    await cons.run(
      async (m) => {
        seen.set(m.id, m.headers);
        tracer.startSpan(`work-${m.id}`).end();
        if (seen.size === 2) ac.abort();
      },
      { signal: ac.signal },
    );
    await cons.close();
    const pc = pub.spanContext();
    assert.equal(seen.get(id).traceparent, `00-${pc.traceId}-${pc.spanId}-01`);
    assert.equal(seen.get(kept).traceparent, own);

    const handles = spans('stream.handle');
    assert.equal(handles.length, 2);
    const h = handles.find((s) => s.attributes['messaging.message.id'] === id);
    assert.equal(h.kind, SpanKind.CONSUMER);
    assert.equal(parentOf(h), undefined, 'a new root span');
    assert.notEqual(h.spanContext().traceId, pc.traceId);
    assert.equal(h.links.length, 1);
    assert.equal(h.links[0].context.traceId, pc.traceId);
    assert.equal(h.links[0].context.spanId, pc.spanId);
    assert.equal(h.attributes['messaging.consumer.group.name'], 'billing');
    assert.equal(h.attributes['messaging.destination.name'], stream);
    assert.equal(h.status.code, SpanStatusCode.UNSET);
    assert.equal(parentOf(one(`work-${id}`)), h.spanContext().spanId, 'the handler runs inside the handle span');
    const hk = handles.find((s) => s.attributes['messaging.message.id'] === kept);
    assert.equal(hk.links[0].context.spanId, 'b7ad6b7169203331');
  } finally {
    await c.close();
  }
});

test('the iterator form: the handle span ends when the message is settled', async () => {
  const { c } = client();
  try {
    const stream = uniq('it');
    await c.createGroup(stream, 'g', { start: '0' });
    await c.publish(stream, 'x');
    const cons = c.consumer(stream, 'g');
    for await (const m of cons.messages()) {
      assert.equal(spans('stream.handle').length, 0);
      await m.ack();
      break;
    }
    await cons.close();
    assert.equal(one('stream.handle').kind, SpanKind.CONSUMER);
    assert.equal(one('stream.handle').links.length, 1);
  } finally {
    await c.close();
  }
});

test('a failing stream handler: error status on the handle span', async () => {
  const { c } = client();
  try {
    const stream = uniq('fail');
    await c.createGroup(stream, 'g', { start: '0' });
    await c.publish(stream, 'x');
    const ac = new AbortController();
    const cons = c.consumer(stream, 'g', { maxDeliveries: 1 });
    await cons.run(
      async () => {
        ac.abort();
        throw new TypeError('bad order');
      },
      { signal: ac.signal },
    );
    await cons.close();
    const h = spans('stream.handle')[0];
    assert.equal(h.status.code, SpanStatusCode.ERROR);
    assert.equal(h.attributes['error.type'], 'TypeError');
  } finally {
    await c.close();
  }
});

test('metrics: the duration histogram through the MetricProducer, counters and gauges observed', async () => {
  const c = new Client(server.url, { prefix: uniq('otelm') });
  try {
    const reader = new PeriodicExportingMetricReader({
      exporter: new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE),
      exportIntervalMillis: 3600000,
      metricProducers: [metricProducer(c)],
    });
    const meterProvider = new MeterProvider({ readers: [reader] });
    const otel = instrument(c, { tracerProvider: provider, meterProvider });
    assert.ok(otel.metricProducer);
    const lock = await c.acquire(uniq('m'), { ttl: 30000 });
    await lock.release();
    for (let i = 0; i < 3; i++) await c.execute('PING');
    const lim = c.limiter(uniq('api'), { algorithm: 'fixed_window', limit: 1, period: 60000 });
    await lim.check('k');
    await lim.check('k');
    const cacheName = uniq('mcache');
    await c.cache(cacheName).set('k', 'v', 60000);

    const { resourceMetrics, errors } = await reader.collect();
    assert.deepEqual(errors, []);
    const scopes = resourceMetrics.scopeMetrics.filter((s) => s.scope.name === 'redisx');
    const metric = (name) => {
      for (const s of scopes) for (const m of s.metrics) if (m.descriptor.name === name) return m;
      throw new assert.AssertionError({ message: `no metric ${name}` });
    };
    const point = (m, attrs) => {
      const p = m.dataPoints.find((d) => Object.entries(attrs).every(([k, v]) => d.attributes[k] === v));
      assert.ok(p, `${m.descriptor.name} has a point ${JSON.stringify(attrs)}`);
      return p;
    };

    const hist = metric('db.client.operation.duration');
    assert.equal(hist.descriptor.unit, 's');
    assert.equal(hist.dataPointType, DataPointType.HISTOGRAM);
    const cmd = point(hist, { 'db.system.name': 'redis', 'db.operation.name': 'client.command' });
    assert.equal(cmd.value.count, 3);
    assert.deepEqual(cmd.value.buckets.boundaries, [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10]);
    assert.equal(cmd.value.buckets.counts.reduce((a, b) => a + b, 0), 3);
    assert.ok(cmd.value.sum > 0);
    assert.equal(point(hist, { 'db.operation.name': 'lock.acquire' }).value.count, 1);

    // the other histograms: lock wait and hold, per limiter and cache name
    const wait = metric('redisx.lock.wait.duration');
    assert.equal(wait.descriptor.unit, 's');
    assert.equal(wait.dataPoints[0].value.count, 1);
    assert.equal(metric('redisx.lock.hold.duration').dataPoints[0].value.count, 1);
    assert.equal(point(metric('redisx.ratelimit.duration'), { limiter: lim.name, operation: 'check' }).value.count, 2);
    assert.equal(point(metric('redisx.cache.duration'), { cache: cacheName, operation: 'set' }).value.count, 1);

    // counters and gauges: the core's labels as attributes (the contract)
    const ops = metric('redisx.operations');
    assert.equal(ops.dataPointType, DataPointType.SUM);
    assert.equal(ops.descriptor.unit, '{operation}');
    assert.equal(point(ops, { primitive: 'client', operation: 'command', status: 'ok' }).value, 3);
    assert.equal(point(ops, { primitive: 'lock', operation: 'release', status: 'ok' }).value, 1);
    const rl = metric('redisx.ratelimit.requests');
    assert.equal(point(rl, { status: 'allowed' }).value, 1);
    assert.equal(point(rl, { status: 'rejected' }).value, 1);
    assert.equal(point(metric('redisx.lock.acquisitions'), { status: 'acquired' }).value, 1);
    assert.equal(metric('redisx.connections.up').dataPoints[0].value, 1);
    assert.equal(metric('redisx.operations.in_flight').dataPoints[0].value, 0);
    const l1 = metric('redisx.cache.l1.bytes');
    assert.equal(l1.descriptor.unit, 'By');
    assert.ok(point(l1, { cache: cacheName }).value > 0, 'per cache name');
    assert.equal(point(rl, { limiter: lim.name, status: 'rejected' }).value, 1);

    // instrument()'s own producer gives the same histogram
    const own = await otel.metricProducer.collect();
    assert.equal(own.resourceMetrics.scopeMetrics[0].metrics[0].descriptor.name, 'db.client.operation.duration');

    // after uninstrument(): no spans, no new observations (the SDK keeps
    // the last cumulative point of an observable), nothing from its producer
    otel.uninstrument();
    exporter.reset();
    await c.execute('PING');
    assert.equal(spans().length, 0);
    const after = await reader.collect();
    const names = after.resourceMetrics.scopeMetrics.flatMap((s) => s.metrics.map((m) => m.descriptor.name));
    assert.ok(names.includes('db.client.operation.duration'), 'the standalone producer still reports');
    assert.deepEqual((await otel.metricProducer.collect()).resourceMetrics.scopeMetrics[0].metrics, []);
    const still = after.resourceMetrics.scopeMetrics.flatMap((s) => s.metrics).find((m) => m.descriptor.name === 'redisx.operations');
    if (still) assert.equal(point(still, { primitive: 'client', operation: 'command', status: 'ok' }).value, 3);
    await meterProvider.shutdown();
  } finally {
    await c.close();
  }
});

test('bad arguments: InvalidArgument, and a client is instrumented once', async () => {
  const c = new Client(server.url);
  try {
    assert.throws(() => instrument({}), InvalidArgument);
    assert.throws(() => instrument(c, { tracer: provider }), InvalidArgument);
    assert.throws(() => instrument(c, { tracerProvider: {} }), InvalidArgument);
    const otel = instrument(c, { tracerProvider: provider, meterProvider: false });
    assert.throws(() => instrument(c, { tracerProvider: provider }), InvalidArgument);
    otel.uninstrument();
    instrument(c, { tracerProvider: provider, meterProvider: false }).uninstrument();
    const metricsOnly = instrument(c, { tracerProvider: false, meterProvider: false });
    assert.throws(() => instrument(c, { tracerProvider: provider }), InvalidArgument);
    metricsOnly.uninstrument();
  } finally {
    await c.close();
  }
});

test('a unix socket URL: server.address is the path, no port', async () => {
  const c = new Client('unix:///tmp/redisx-none.sock?db=2', { connectTimeout: 200, commandTimeout: 200 });
  instrument(c, { tracerProvider: provider, meterProvider: false });
  try {
    await c.execute('PING').catch(() => {});
    const s = one('PING');
    assert.equal(s.attributes['server.address'], '/tmp/redisx-none.sock');
    assert.equal(s.attributes['server.port'], undefined);
    assert.equal(s.attributes['db.namespace'], '2');
  } finally {
    await c.close();
  }
});
