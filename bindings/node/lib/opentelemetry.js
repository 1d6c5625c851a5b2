'use strict';
// OpenTelemetry spans and metrics of a redisx client (`redisx/opentelemetry`;
// @opentelemetry/api and, for the MetricProducer, @opentelemetry/sdk-metrics
// are optional peer dependencies):
//
//   const { instrument } = require('redisx/opentelemetry');
//   const otel = instrument(client, { tracerProvider, meterProvider }); // global providers by default
//   new PeriodicExportingMetricReader({ exporter, metricProducers: [otel.metricProducer] });
//   ...
//   otel.uninstrument();
//
// Spans: one per public operation, started when the method is called, in the
// caller's active context (captured then, never in the I/O completion), ended
// when its Promise settles; the names are the core's identifiers
// (`lock.acquire`, ...; a raw command: its name). Metrics: the core's
// histograms (`db.client.operation.duration`, the lock wait/hold and the
// per-name ones) through a MetricProducer, and the core's counters and gauges as observable instruments under one batch
// callback; both read the core's snapshot (redisx_metrics_collect, as
// lib/prometheus.js does): nothing is recorded per operation. docs/OPENTELEMETRY.md.
const { invalid, RedisxError } = require('./errors');
const { NotFound } = require('./cache');
const { OPS } = require('./instrument');
const { snapshot } = require('./metrics');
const VERSION = require('../package.json').version;

const SCOPE = 'redisx';
const DURATION_FAMILY = 'redisx_operation_duration_seconds';

// A family's labels as attributes, as the core names them (status, layer,
// limiter, cache, ...: the contract's rule, the Prometheus labels' names).
function attributesOf(labelNames, values) {
  const out = {};
  for (let i = 0; i < labelNames.length; i++) out[labelNames[i]] = values[i];
  return out;
}

// The duration histogram's attributes: db.system.name and db.operation.name
// (<primitive>.<operation>), as its spans have them.
function durationAttributes(labelNames, values) {
  const a = attributesOf(labelNames, values);
  return { 'db.system.name': 'redis', 'db.operation.name': `${a.primitive}.${a.operation}` };
}

function hrNow() {
  const ms = Date.now();
  return [Math.floor(ms / 1000), (ms % 1000) * 1e6];
}

/** server.address, server.port and db.namespace of the client's URL (a
 *  cluster: its first seed; a unix socket: its path, no port). */
function serverAttributes(url, clusterSeeds) {
  const out = { 'db.system.name': 'redis' };
  let db = '0';
  let address = null;
  let port = null;
  const u = typeof url === 'string' ? url : '';
  let m;
  if ((m = /^unix:\/\/([^?]*)(?:\?(.*))?$/.exec(u))) {
    address = m[1];
    const q = /(?:^|&)db=(\d+)/.exec(m[2] || '');
    if (q) db = q[1];
  } else if ((m = /^redis\+sentinel:\/\/(?:[^@/]*@)?([^/]*)(?:\/[^/]*)?(?:\/(\d+))?/.exec(u))) {
    [address, port] = hostPort(m[1].split(',')[0]);
    if (m[2]) db = m[2];
  } else if ((m = /^rediss?:\/\/(?:[^@/]*@)?([^/?]*)(?:\/(\d+))?/.exec(u))) {
    [address, port] = hostPort(m[1]);
    if (m[2]) db = m[2];
  }
  if (clusterSeeds !== undefined) {
    const first = (Array.isArray(clusterSeeds) ? clusterSeeds : String(clusterSeeds).split(','))[0];
    if (first) [address, port] = hostPort(first.trim());
  }
  out['db.namespace'] = db;
  if (address !== null) out['server.address'] = address;
  if (port !== null) out['server.port'] = port;
  return out;
}

function hostPort(s) {
  const m = /^(\[[^\]]*\]|[^:]*)(?::(\d+))?$/.exec(s);
  if (!m) return [s, null];
  const host = m[1].replace(/^\[(.*)\]$/, '$1') || '127.0.0.1';
  return [host, m[2] ? Number(m[2]) : 6379];
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

// The span context a W3C traceparent/tracestate pair names, or null.
function extract(api, headers) {
  const tp = headers && headers.traceparent;
  if (typeof tp !== 'string') return null;
  const m = TRACEPARENT.exec(tp.trim());
  if (!m || m[1] === 'ff') return null;
  const sc = { traceId: m[2], spanId: m[3], traceFlags: parseInt(m[4], 16) & 1, isRemote: true };
  if (typeof headers.tracestate === 'string' && typeof api.createTraceState === 'function') {
    sc.traceState = api.createTraceState(headers.tracestate);
  }
  return api.trace.isSpanContextValid(sc) ? sc : null;
}

// The Redis error prefix of a server error ("WRONGTYPE ...").
function responseCode(message) {
  const m = /^([A-Z][A-Z0-9_-]*)\b/.exec(message || '');
  return m ? m[1] : null;
}

function safeNumber(v) {
  return typeof v === 'bigint' ? Number(v) : v;
}

// One span: what lib/instrument.js calls a scope.
class Scope {
  constructor(api, op, span, parent) {
    this._api = api;
    this._op = op;
    this._span = span;
    this._parent = parent;
    this._ended = false;
  }

  settle(p) {
    return p.then(
      (v) => {
        this.end(null, v);
        return v;
      },
      (e) => {
        this.end(e, undefined);
        throw e;
      },
    );
  }

  run(fn) {
    const api = this._api;
    return api.context.with(api.trace.setSpan(this._parent, this._span), fn);
  }

  outcome(id) {
    this._span.setAttribute('redisx.cache.outcome', id);
  }

  headers() {
    const sc = this._span.spanContext();
    if (!this._api.trace.isSpanContextValid(sc)) return null;
    const flags = (sc.traceFlags & 0xff).toString(16).padStart(2, '0');
    const out = { traceparent: `00-${sc.traceId}-${sc.spanId}-${flags}` };
    const ts = sc.traceState && sc.traceState.serialize();
    if (ts) out.tracestate = ts;
    return out;
  }

  end(err, result) {
    if (this._ended) return;
    this._ended = true;
    const span = this._span;
    const op = this._op;
    if (err !== null && err !== undefined) {
      if (err instanceof RedisxError) {
        if (err.code !== op.expected) {
          span.setAttribute('error.type', err.code);
          if (err.code === 'ERR_SERVER') {
            const code = responseCode(err.message);
            if (code !== null) span.setAttribute('db.response.status_code', code);
          }
          span.setStatus({ code: this._api.SpanStatusCode.ERROR, message: err.message });
        }
      } else if (!(err instanceof NotFound)) {
        // a stream handler's own error, or a cache loader's
        span.setAttribute('error.type', (err && err.name) || 'Error');
        span.setStatus({ code: this._api.SpanStatusCode.ERROR, message: String((err && err.message) || err) });
      }
    } else if (result !== undefined && result !== null) {
      if (op === OPS.LOCK_ACQUIRE || op === OPS.LOCK_TRY_ACQUIRE) {
        span.setAttribute('redisx.lock.fencing_token', safeNumber(result.fencingToken));
      } else if (op === OPS.RL_CHECK) {
        span.setAttribute('redisx.ratelimit.allowed', result.allowed);
        span.setAttribute('redisx.ratelimit.remaining', safeNumber(result.remaining));
      } else if (op === OPS.STREAM_PUBLISH && typeof result === 'string') {
        span.setAttribute('messaging.message.id', result);
      }
    }
    span.end();
  }
}

// The hook lib/instrument.js describes, for one client.
class Hook {
  constructor(api, tracer, base) {
    this._api = api;
    this._tracer = tracer;
    this._base = base;
    this._kinds = { client: api.SpanKind.CLIENT, producer: api.SpanKind.PRODUCER, consumer: api.SpanKind.CONSUMER };
  }

  start(op, name, extra) {
    const api = this._api;
    const parent = api.context.active();
    const attributes = { ...this._base };
    let spanName = op.name;
    let kind = this._kinds.client;
    let links;
    let root = false;
    if (op === OPS.COMMAND) {
      spanName = name;
    } else if (op.primitive === 'stream') {
      attributes['messaging.system'] = 'redis';
      attributes['messaging.destination.name'] = name;
      attributes['redisx.name'] = name;
      if (op === OPS.STREAM_PUBLISH) {
        kind = this._kinds.producer;
        if (extra && extra.count > 1) attributes['messaging.batch.message_count'] = extra.count;
      } else if (op === OPS.STREAM_HANDLE) {
        kind = this._kinds.consumer;
        root = true;
        attributes['messaging.consumer.group.name'] = extra.group;
        attributes['messaging.message.id'] = extra.id;
        const producer = extract(api, extra.headers);
        if (producer !== null) links = [{ context: producer }];
      }
    } else if (name !== null && name !== undefined) {
      attributes['redisx.name'] = name;
    }
    attributes['db.operation.name'] = spanName;
    const span = this._tracer.startSpan(spanName, { kind, attributes, links, root }, parent);
    return new Scope(api, op, span, root ? api.ROOT_CONTEXT : parent);
  }
}

// The MetricProducer of the core's histograms: db.client.operation.duration
// and the per-name and lock wait/hold ones (sdk-metrics' shape: a
// CollectionResult with one ScopeMetrics; a MetricReader keeps its own
// resource).
class HistogramProducer {
  constructor(client, sdk, api) {
    this._client = client;
    this._sdk = sdk;
    this._api = api;
    this._start = hrNow();
    this._active = true;
  }

  async collect() {
    const end = hrNow();
    const families = this._active ? snapshot(this._client) : [];
    const metrics = [];
    for (const f of families) {
      if (f.type !== 'histogram' || f.samples.length === 0) continue;
      const points = [];
      for (const s of f.samples) {
        const counts = [];
        let prev = 0;
        for (const c of s.cumulative) {
          counts.push(c - prev);
          prev = c;
        }
        counts.push(s.count - prev);
        points.push({
          attributes: f.name === DURATION_FAMILY ? durationAttributes(f.labels, s.values) : attributesOf(f.labels, s.values),
          startTime: this._start,
          endTime: end,
          value: { buckets: { boundaries: f.bounds.slice(), counts }, sum: s.value, count: s.count },
        });
      }
      metrics.push({
        descriptor: { name: f.otel, description: f.help, unit: f.unit, valueType: this._api.ValueType.DOUBLE },
        aggregationTemporality: this._sdk.AggregationTemporality.CUMULATIVE,
        dataPointType: this._sdk.DataPointType.HISTOGRAM,
        dataPoints: points,
      });
    }
    return {
      resourceMetrics: { resource: undefined, scopeMetrics: [{ scope: { name: SCOPE, version: VERSION }, metrics }] },
      errors: [],
    };
  }
}

// The counters and gauges, observed in one batch callback per collection.
function observeFamilies(client, meter) {
  const families = snapshot(client).filter((f) => f.type !== 'histogram');
  const instruments = new Map();
  for (const f of families) {
    const opts = { description: f.help, unit: f.unit };
    const name = f.otel;
    instruments.set(
      f.name,
      f.type === 'counter' ? meter.createObservableCounter(name, opts) : meter.createObservableGauge(name, opts),
    );
  }
  const callback = (observer) => {
    for (const f of snapshot(client)) {
      const instrument = instruments.get(f.name);
      if (instrument === undefined) continue;
      for (const s of f.samples) observer.observe(instrument, s.value, attributesOf(f.labels, s.values));
    }
  };
  meter.addBatchObservableCallback(callback, [...instruments.values()]);
  return () => meter.removeBatchObservableCallback(callback, [...instruments.values()]);
}

/**
 * A MetricProducer of the client's histograms (db.client.operation.duration,
 * redisx.lock.wait.duration, redisx.ratelimit.duration, ...),
 * for a MetricReader made before the MeterProvider that instrument() is
 * given (`metricProducers: [metricProducer(client)]`). Needs
 * @opentelemetry/sdk-metrics.
 */
function metricProducer(client) {
  if (!client || typeof client.stats !== 'function' || !('_instr' in client)) {
    throw invalid('metricProducer: client must be a redisx Client');
  }
  const api = load('@opentelemetry/api');
  const sdk = load('@opentelemetry/sdk-metrics');
  if (api === null || sdk === null) {
    throw invalid('metricProducer needs @opentelemetry/api and @opentelemetry/sdk-metrics');
  }
  return new HistogramProducer(client, sdk, api);
}

// The clients instrument() holds (also those with spans left out).
const instrumented = new WeakSet();

function load(name) {
  try {
    return require(name);
  } catch {
    return null;
  }
}

/**
 * Instruments `client`: spans through `options.tracerProvider` and
 * observable counters and gauges through `options.meterProvider` (the global
 * providers by default; `false` leaves either out). Returns
 * { metricProducer, uninstrument() }: metricProducer (null without
 * @opentelemetry/sdk-metrics) gives db.client.operation.duration to the
 * MetricReader it is handed to (`metricProducers: [metricProducer]`).
 */
function instrument(client, options = {}) {
  if (!client || typeof client.stats !== 'function' || !('_instr' in client)) {
    throw invalid('instrument: client must be a redisx Client');
  }
  if (options === null || typeof options !== 'object') throw invalid('instrument: options must be an object');
  for (const k of Object.keys(options)) {
    if (k !== 'tracerProvider' && k !== 'meterProvider') throw invalid(`instrument: unknown option ${JSON.stringify(k)}`);
  }
  if (client._closing) throw invalid('instrument: the client is closed');
  if (client._instr !== null || instrumented.has(client)) throw invalid('instrument: the client is instrumented already');
  const api = load('@opentelemetry/api');
  if (api === null) throw invalid('instrument needs @opentelemetry/api (npm install @opentelemetry/api)');
  let { tracerProvider, meterProvider } = options;
  if (tracerProvider === undefined) tracerProvider = api.trace.getTracerProvider();
  if (meterProvider === undefined) meterProvider = api.metrics.getMeterProvider();
  if (tracerProvider !== false && (!tracerProvider || typeof tracerProvider.getTracer !== 'function')) {
    throw invalid('instrument: tracerProvider must be a TracerProvider or false');
  }
  if (meterProvider !== false && (!meterProvider || typeof meterProvider.getMeter !== 'function')) {
    throw invalid('instrument: meterProvider must be a MeterProvider or false');
  }
  let hook = null;
  instrumented.add(client);
  if (tracerProvider !== false) {
    hook = new Hook(api, tracerProvider.getTracer(SCOPE, VERSION), serverAttributes(client._url, client._clusterSeeds));
    client._instr = hook;
  }
  const stopObserving = meterProvider !== false ? observeFamilies(client, meterProvider.getMeter(SCOPE, VERSION)) : () => {};
  const sdk = load('@opentelemetry/sdk-metrics');
  const metricProducer = sdk === null ? null : new HistogramProducer(client, sdk, api);
  let done = false;
  return {
    metricProducer,
    uninstrument() {
      if (done) return;
      done = true;
      instrumented.delete(client);
      if (hook !== null && client._instr === hook) client._instr = null;
      stopObserving();
      if (metricProducer !== null) metricProducer._active = false;
    },
  };
}

module.exports = { instrument, metricProducer };
