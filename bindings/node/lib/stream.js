'use strict';
// Redis Streams: publishing with a codec and headers, consumer groups with
// callback, async-iterator and decorator forms, AbortSignal to stop. The
// semantics (retries by delivery count, dead-letter stream, reclaiming, the
// graceful stop) are the C core's (docs/STREAMS.md), and so is the split of
// a message into payload, codec, headers and plain fields (docs/KEYS.md,
// contract v4): a message published here decodes the same in Python and Go.
// Every core call blocks, so src/stream.cc runs each on the libuv pool.
const os = require('node:os');
const N = require('./native');
const { translate, invalid, ClientClosed, ConnectionError, Timeout } = require('./errors');
const { OPS } = require('./instrument');

const TRIM_NONE = 0;
const TRIM_MAXLEN = 1;
const TRIM_MAXAGE = 2;

/** JSON as UTF-8, codec name "json" (the default of every binding). */
const jsonStreamCodec = Object.freeze({
  name: 'json',
  encode: (v) => Buffer.from(JSON.stringify(v === undefined ? null : v), 'utf8'),
  decode: (b) => JSON.parse(b.toString('utf8')),
});
/** Buffers (strings as UTF-8) passed through, codec name "bytes". */
const bytesCodec = Object.freeze({
  name: 'bytes',
  encode: (v) => {
    if (Buffer.isBuffer(v)) return v;
    if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
    if (typeof v === 'string') return Buffer.from(v, 'utf8');
    throw invalid(`the bytes codec takes a Buffer, Uint8Array or string, got ${typeof v}`);
  },
  decode: (b) => b,
});
const CODECS = { json: jsonStreamCodec, bytes: bytesCodec };

function codecOf(codec, known = CODECS) {
  if (codec === undefined || codec === null) return jsonStreamCodec;
  if (typeof codec === 'string') {
    if (!Object.hasOwn(known, codec)) throw invalid(`unknown codec ${JSON.stringify(codec)}`);
    return known[codec];
  }
  if (typeof codec !== 'object' || typeof codec.name !== 'string' || typeof codec.encode !== 'function' ||
      typeof codec.decode !== 'function') {
    throw invalid('a codec needs .name (string), .encode(value) -> Buffer and .decode(Buffer)');
  }
  return codec;
}

/** Thrown by a handler: the message goes to the dead-letter stream at once. */
class DeadLetter extends Error {}
Object.defineProperty(DeadLetter.prototype, 'name', { value: 'DeadLetter', writable: true, configurable: true });

function pairs(obj, what) {
  if (obj === undefined || obj === null) return undefined;
  if (typeof obj !== 'object') throw invalid(`${what} must be an object`);
  const entries = obj instanceof Map ? [...obj.entries()] : Object.entries(obj);
  return entries;
}

function encodeMessage(m, defaultCodec) {
  if (m === null || typeof m !== 'object' || Buffer.isBuffer(m) || !('payload' in m || 'fields' in m)) {
    m = { payload: m };
  }
  for (const k of Object.keys(m)) {
    if (!['payload', 'fields', 'headers', 'codec'].includes(k)) throw invalid(`unknown message key ${JSON.stringify(k)}`);
  }
  const out = { headers: pairs(m.headers, 'headers'), fields: pairs(m.fields, 'fields') };
  if ('payload' in m) {
    const codec = codecOf(m.codec !== undefined ? m.codec : defaultCodec);
    let data;
    try {
      data = codec.encode(m.payload);
    } catch (e) {
      throw translate(e).status !== undefined ? translate(e) : invalid(`payload cannot be encoded by ${codec.name}: ${e.message}`);
    }
    if (!(data instanceof Uint8Array)) throw invalid(`codec ${codec.name} must encode to a Buffer`);
    out.payload = data;
    out.codec = codec.name;
  } else if (!out.fields || out.fields.length === 0) {
    throw invalid('a message needs a payload or fields');
  }
  return out;
}

function trimOf(opts) {
  const { maxLen, maxAge } = opts;
  if (maxLen !== undefined && maxAge !== undefined) throw invalid('give maxLen or maxAge, not both');
  if (maxLen !== undefined) {
    if (!Number.isInteger(maxLen) || maxLen < 0) throw invalid('maxLen must be an integer >= 0');
    return [TRIM_MAXLEN, maxLen];
  }
  if (maxAge !== undefined) {
    if (!Number.isInteger(maxAge) || maxAge < 0) throw invalid('maxAge must be an integer number of ms >= 0');
    return [TRIM_MAXAGE, maxAge];
  }
  return [TRIM_NONE, 0];
}

// Every stream operation of a client, so that close() waits for them before
// the handle goes (lib/client.js calls streamsOf(client).close()).
class ClientStreams {
  constructor() {
    this.consumers = new Set();
    this.ops = new Set();
  }
  track(p) {
    this.ops.add(p);
    const done = () => this.ops.delete(p);
    p.then(done, done);
    return p;
  }
  async close() {
    await Promise.allSettled([...this.consumers].map((c) => c.close()));
    await Promise.allSettled([...this.ops]);
  }
}

function streamsOf(client) {
  if (!client._streams) client._streams = new ClientStreams();
  return client._streams;
}

function native(client, fn) {
  client._checkOpen();
  let p;
  try {
    p = fn(client._c);
  } catch (e) {
    return Promise.reject(translate(e));
  }
  return streamsOf(client).track(p.catch((e) => Promise.reject(translate(e))));
}

// The trace context headers of the instrumentation scope `s` go into each
// message that does not carry its own.
function addTraceHeaders(encoded, s) {
  const h = s.headers();
  if (h === null) return;
  for (const m of encoded) {
    if (m.headers === undefined) m.headers = [];
    for (const name of Object.keys(h)) {
      if (!m.headers.some(([k]) => k === name)) m.headers.push([name, h[name]]);
    }
  }
}

function publishBatch(client, stream, messages, opts = {}) {
  const t = client._instr;
  if (t === null) return publishEncoded(client, stream, messages, opts, null);
  const s = t.start(OPS.STREAM_PUBLISH, stream, { count: Array.isArray(messages) ? messages.length : 0 });
  return s.settle(publishEncoded(client, stream, messages, opts, s));
}

function publishEncoded(client, stream, messages, opts, s) {
  try {
    if (!Array.isArray(messages) || messages.length === 0) throw invalid('messages must be a non-empty array');
    if (opts === null || typeof opts !== 'object') throw invalid('options must be an object');
    const [trim, threshold] = trimOf(opts);
    const encoded = messages.map((m) => encodeMessage(m, opts.codec));
    if (s !== null) addTraceHeaders(encoded, s);
    return native(client, (c) => N.streamPublish(c, stream, encoded, trim, threshold));
  } catch (e) {
    return Promise.reject(translate(e));
  }
}

function publish(client, stream, payload, opts = {}) {
  const t = client._instr;
  if (t === null) return publishOne(client, stream, payload, opts, null);
  const s = t.start(OPS.STREAM_PUBLISH, stream, null);
  return s.settle(publishOne(client, stream, payload, opts, s));
}

async function publishOne(client, stream, payload, opts, s) {
  if (opts === null || typeof opts !== 'object') throw invalid('options must be an object');
  const { headers, fields, codec, noPayload, ...trim } = opts;
  const m = noPayload ? { fields, headers } : { payload, fields, headers, codec };
  const ids = await publishEncoded(client, stream, [m], trim, s);
  return ids[0];
}

function createGroup(client, stream, group, opts = {}) {
  const start = opts && opts.start !== undefined ? opts.start : '$';
  return native(client, (c) => N.groupCreate(c, stream, group, start));
}

function utf8Object(list) {
  const o = {};
  for (const [k, v] of list) o[Buffer.isBuffer(k) ? k.toString('utf8') : k] = v;
  return o;
}

// What a stream handle span is told about its message.
function handleInfo(consumer, m) {
  return { group: consumer.group, id: m.id, headers: m.headers };
}

/** A message handed out by a consumer. Settle it once: ack(), retry() or
 *  deadLetter(); the run() form settles by the handler's outcome. */
class StreamMessage {
  /** @internal */
  constructor(raw, consumer) {
    this._h = raw.h;
    this._consumer = consumer;
    this._settled = false;
    /** The entry id ("<ms>-<seq>"). */
    this.id = raw.id;
    this.stream = raw.stream;
    /** Deliveries so far, this one included (Redis' counter). */
    this.deliveryCount = raw.deliveryCount;
    /** With the idempotent option: its record was taken over from a consumer
     *  that began it and never finished (part of the work may be done). */
    this.takenOver = raw.takenOver;
    /** Plain fields (names not starting with "rx-"), name -> Buffer. */
    this.fields = utf8Object(raw.fields);
    /** Headers (rx-h-*), name -> string (UTF-8). */
    this.headers = {};
    for (const [k, v] of raw.headers) this.headers[k] = v.toString('utf8');
    /** The payload's bytes, or null (a message of plain fields). */
    this.rawPayload = raw.payload;
    /** The payload codec's name, or null. */
    this.codec = raw.codec;
    this._scope = null; // the iterator form's handle span (lib/instrument.js)
  }

  /** The payload decoded by its codec (null when there is none). */
  get payload() {
    if (this.rawPayload === null) return null;
    if (this._decoded === undefined) {
      const codec = this._consumer._codecs[this.codec || 'json'];
      if (!codec) throw invalid(`message ${this.id}: unknown codec ${JSON.stringify(this.codec)} (pass codecs to the consumer)`);
      this._decoded = codec.decode(this.rawPayload);
    }
    return this._decoded;
  }

  get settled() {
    return this._settled;
  }

  _settle(fn) {
    if (this._settled) return Promise.reject(invalid(`message ${this.id} is settled already`));
    this._settled = true;
    const client = this._consumer._client;
    const p = streamsOf(client).track(
      fn().catch((e) => {
        e = translate(e);
        if (e.code === 'ERR_INVALID') this._settled = false;
        throw e;
      }),
    );
    const s = this._scope;
    if (s === null) return p;
    this._scope = null;
    return s.settle(p);
  }

  /** Acknowledges: done, never delivered again. */
  ack() {
    return this._settle(() => N.messageAck(this._h));
  }

  /** Leaves the message pending, redelivered after `delay` ms (default:
   *  the consumer's jittered backoff); after maxDeliveries it goes to the
   *  dead-letter stream instead: resolves true then. */
  retry({ delay, reason = '' } = {}) {
    const ms = delay === undefined ? -1 : delay;
    if (!Number.isInteger(ms) || ms < -1) return Promise.reject(invalid('delay must be an integer number of ms >= 0'));
    return this._settle(() => N.messageRetry(this._h, ms, String(reason).replace(/\0/g, '')));
  }

  /** Moves the message to the dead-letter stream and acks it, atomically. */
  deadLetter(reason = '') {
    return this._settle(() => N.messageDeadLetter(this._h, String(reason).replace(/\0/g, '')));
  }
}

const CONSUMER_OPTIONS = new Set([
  'name', 'maxInFlight', 'maxDeliveries', 'retryBackoff', 'minIdle', 'reclaimInterval', 'block', 'deleteIdle',
  'deadLetterMaxLen', 'codecs', 'idempotent',
]);
let consumerSeq = 0;

/** A consumer of `group` on `stream` (client.consumer()): run(handler) for
 *  the callback form, `for await (const m of consumer)` for the iterator;
 *  stop() or an AbortSignal ends either gracefully. */
class Consumer {
  /** @internal */
  constructor(client, stream, group, opts = {}) {
    if (opts === null || typeof opts !== 'object') throw invalid('consumer options must be an object');
    for (const k of Object.keys(opts)) {
      if (!CONSUMER_OPTIONS.has(k)) throw invalid(`unknown consumer option ${JSON.stringify(k)}`);
    }
    client._checkOpen();
    this._client = client;
    this.stream = stream;
    this.group = group;
    this.name = opts.name !== undefined ? opts.name : `${os.hostname()}-${process.pid}-js${++consumerSeq}`;
    this._codecs = { ...CODECS };
    for (const k of opts.codecs || []) {
      const c = codecOf(k);
      this._codecs[c.name] = c;
    }
    const native = {};
    for (const k of ['maxInFlight', 'maxDeliveries', 'minIdle', 'reclaimInterval', 'block', 'deleteIdle', 'deadLetterMaxLen']) {
      if (opts[k] !== undefined) native[k] = opts[k];
    }
    if (opts.idempotent !== undefined && opts.idempotent !== false) {
      // Exactly-once in effect: the core wraps each message in an idempotency
      // record (lease: the longest handler time; ttl: how long a redelivery
      // is recognised), both in ms.
      const idem = opts.idempotent === true ? {} : opts.idempotent;
      if (idem === null || typeof idem !== 'object') throw invalid('idempotent must be true or { lease, ttl } (ms)');
      for (const k of Object.keys(idem)) {
        if (k !== 'lease' && k !== 'ttl') throw invalid(`unknown idempotent option ${JSON.stringify(k)}`);
      }
      native.idempotentLease = idem.lease !== undefined ? idem.lease : 30000;
      native.idempotentTtl = idem.ttl !== undefined ? idem.ttl : 86400000;
    }
    if (opts.retryBackoff !== undefined) {
      if (!Array.isArray(opts.retryBackoff) || opts.retryBackoff.length !== 2) {
        throw invalid('retryBackoff must be [minMs, maxMs]');
      }
      [native.backoffMin, native.backoffMax] = opts.retryBackoff;
    }
    this._opened = native; // opened on first use
    this._h = null;
    this._stopping = false;
    this._stopped = null;
    streamsOf(client).consumers.add(this);
  }

  _open() {
    if (this._h) return Promise.resolve(this._h);
    if (!this._opening) {
      this._opening = native(this._client, (c) => N.consumerNew(c, this.stream, this.group, this.name, this._opened)).then(
        (h) => {
          this._h = h;
          return h;
        },
      );
    }
    return this._opening;
  }

  async _next(max) {
    const h = await this._open();
    if (this._stopping) return undefined;
    for (;;) {
      let raw;
      try {
        raw = await N.consumerNext(h, max, 1000);
      } catch (e) {
        e = translate(e);
        if (e instanceof ClientClosed) return undefined;
        if (e instanceof ConnectionError || e instanceof Timeout) {
          if (this._stopping) return undefined;
          await new Promise((r) => setTimeout(r, 200)); // the next call reconnects
          continue;
        }
        throw e;
      }
      if (raw === null) {
        if (this._stopping) return undefined;
        continue;
      }
      return raw.map((r) => new StreamMessage(r, this));
    }
  }

  _watch(signal) {
    if (signal === undefined) return () => {};
    if (signal === null || typeof signal.aborted !== 'boolean') throw invalid('signal must be an AbortSignal');
    const onAbort = () => this.stop().catch(() => {});
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    return () => signal.removeEventListener('abort', onAbort);
  }

  /** Runs `handler(message)` (may be async), `concurrency` at a time
   *  (default 4), until stop() or `signal` aborts; resolves once stopped.
   *  Returning acks the message (unless the handler settled it), throwing
   *  retries it (dead-lettered after maxDeliveries), throwing a DeadLetter
   *  dead-letters it at once. A read error other than a lost connection
   *  (ServerError NOGROUP: the group or stream is gone) rejects. */
  async run(handler, { concurrency = 4, signal } = {}) {
    if (typeof handler !== 'function') throw invalid('handler must be a function');
    if (!Number.isInteger(concurrency) || concurrency < 1) throw invalid('concurrency must be an integer >= 1');
    const unwatch = this._watch(signal);
    let active = 0;
    let wake = null;
    const running = new Set();
    const one = async (m) => {
      let err = null;
      const t = this._client._instr;
      const s = t === null ? null : t.start(OPS.STREAM_HANDLE, this.stream, handleInfo(this, m));
      try {
        await (s === null ? handler(m) : s.run(() => handler(m)));
      } catch (e) {
        err = e === undefined || e === null ? new Error('handler failed') : e;
      }
      if (!m.settled) {
        try {
          if (err === null) await m.ack();
          else if (err instanceof DeadLetter) await m.deadLetter(err.message);
          else await m.retry({ reason: `${err.name || 'Error'}: ${err.message}` });
        } catch {
          // left pending: redelivered after min idle
        }
      }
      if (s !== null) s.end(err, undefined);
    };
    try {
      for (;;) {
        while (active >= concurrency) await new Promise((r) => (wake = r));
        const msgs = await this._next(concurrency - active);
        if (msgs === undefined) break;
        for (const m of msgs) {
          active++;
          const p = one(m).finally(() => {
            active--;
            running.delete(p);
            if (wake) {
              const w = wake;
              wake = null;
              w();
            }
          });
          running.add(p);
        }
      }
    } finally {
      unwatch();
      await Promise.allSettled([...running]);
    }
  }

  /** The async-iterator form: yields messages (settle each yourself) until
   *  stop() or `signal` aborts. `batch`: most messages per read (16). */
  async *messages({ signal, batch = 16 } = {}) {
    if (!Number.isInteger(batch) || batch < 1) throw invalid('batch must be an integer >= 1');
    const unwatch = this._watch(signal);
    try {
      for (;;) {
        const msgs = await this._next(batch);
        if (msgs === undefined) return;
        const t = this._client._instr;
        for (const m of msgs) {
          // The iterator's handle span runs from hand-out to settle.
          if (t !== null) m._scope = t.start(OPS.STREAM_HANDLE, this.stream, handleInfo(this, m));
          yield m;
        }
      }
    } finally {
      unwatch();
    }
  }

  [Symbol.asyncIterator]() {
    return this.messages();
  }

  /** Graceful stop: no more reads (a blocked read ends at once), waits up to
   *  `timeout` ms (default 10000) for the messages handed out to be settled;
   *  the rest stay pending for other consumers. Resolves true when everything
   *  was settled in time. Idempotent. */
  stop({ timeout = 10000 } = {}) {
    this._stopping = true;
    if (!this._stopped) {
      this._stopped = (this._opening || Promise.resolve(null))
        .catch(() => null)
        .then((h) => (h ? N.consumerStop(h, timeout) : true))
        .catch((e) => Promise.reject(translate(e)));
    }
    return this._stopped;
  }

  /** Hard close: stop without waiting and release the consumer. */
  async close() {
    this._stopping = true;
    const h = await (this._opening || Promise.resolve(null)).catch(() => null);
    streamsOf(this._client).consumers.delete(this);
    if (h) await N.consumerFree(h);
  }

  /** Messages handed out and not settled. */
  get inFlight() {
    return this._h ? N.consumerInFlight(this._h) : 0;
  }
}

// ---- dead-letter tools (the core's redisx_dlq_*) -----------------------------------

function traced(client, op, stream, p) {
  const t = client._instr;
  return t === null ? p() : t.start(op, stream, null).settle(p());
}

function deadLetters(client, stream, { count = 100, newestFirst = false, after = null } = {}) {
  return traced(client, OPS.STREAM_DLQ_LIST, stream, () => native(client, (c) => N.deadLetters(c, stream, newestFirst, after, count)));
}

function requeueDeadLetter(client, stream, dlqId) {
  return traced(client, OPS.STREAM_DLQ_REQUEUE, stream, () => native(client, (c) => N.requeueDeadLetter(c, stream, dlqId)));
}

function inspectDeadLetter(client, stream, dlqId) {
  return traced(client, OPS.STREAM_DLQ_INSPECT, stream, () => native(client, (c) => N.inspectDeadLetter(c, stream, dlqId)));
}

function groupInfo(client, stream, group) {
  return traced(client, OPS.STREAM_GROUP_INSPECT, stream, () => native(client, (c) => N.groupInfo(c, stream, group)));
}

function purgeDeadLetters(client, stream, { upTo = null } = {}) {
  return traced(client, OPS.STREAM_DLQ_PURGE, stream, () => native(client, (c) => N.purgeDeadLetters(c, stream, upTo)));
}

// ---- the decorator form ---------------------------------------------------------

const CONSUMERS = Symbol.for('redisx.streamConsumers');

/** NestJS-style method decorator: `@StreamConsumer({ stream, group,
 *  concurrency, ...consumer options })` marks a method as the handler of a
 *  consumer; startStreamConsumers(instance, client) starts every marked
 *  method of the instance (bound to it). Works with TypeScript's
 *  experimentalDecorators and with standard decorators. */
function StreamConsumer(options) {
  if (options === null || typeof options !== 'object' || typeof options.stream !== 'string' ||
      typeof options.group !== 'string') {
    throw invalid('@StreamConsumer({ stream, group, ... }) needs a stream and a group');
  }
  if (options.client !== undefined && (typeof options.client !== 'string' || options.client === '')) {
    throw invalid('@StreamConsumer: client must be the name of a client');
  }
  return function decorate(target, key, descriptor) {
    if (key && typeof key === 'object' && 'kind' in key) {
      // standard decorators: (method, context)
      const context = key;
      context.addInitializer(function init() {
        const list = Object.hasOwn(this, CONSUMERS) ? this[CONSUMERS] : (this[CONSUMERS] = []);
        list.push({ method: context.name, options });
      });
      return target;
    }
    const proto = target;
    const list = Object.hasOwn(proto, CONSUMERS) ? proto[CONSUMERS] : (proto[CONSUMERS] = [...(proto[CONSUMERS] || [])]);
    list.push({ method: key, options });
    return descriptor;
  };
}

/** Starts the consumers marked with @StreamConsumer on `instance` (e.g. from
 *  a NestJS onModuleInit): returns { consumers, done, stop() } where stop()
 *  (e.g. in onModuleDestroy) stops them all gracefully. `client` is the
 *  Client every marked method runs on, or a function of a mark's options
 *  giving the Client for it (null: not this one), as redisx/nestjs does for
 *  the `client` option (a client name). */
function startStreamConsumers(instance, client, { signal } = {}) {
  const marks = instance[CONSUMERS] || [];
  const consumers = [];
  const runs = [];
  for (const { method, options } of marks) {
    // eslint-disable-next-line no-unused-vars
    const { stream, group, concurrency, createGroup: create, client: clientName, ...opts } = options;
    const on = typeof client === 'function' ? client(options) : client;
    if (!on) continue;
    const cons = new Consumer(on, stream, group, opts);
    consumers.push(cons);
    const fn = instance[method].bind(instance);
    const start = create ? createGroup(on, stream, group, { start: create === true ? '$' : create }) : Promise.resolve();
    runs.push(start.then(() => cons.run(fn, { concurrency, signal })));
  }
  const done = Promise.all(runs);
  return {
    consumers,
    done,
    async stop(opts) {
      await Promise.all(consumers.map((c) => c.stop(opts)));
      await done.catch(() => {});
      await Promise.all(consumers.map((c) => c.close()));
    },
  };
}

module.exports = {
  deadLetters,
  requeueDeadLetter,
  purgeDeadLetters,
  inspectDeadLetter,
  groupInfo,
  publish,
  publishBatch,
  createGroup,
  Consumer,
  StreamMessage,
  DeadLetter,
  StreamConsumer,
  startStreamConsumers,
  streamsOf,
  jsonStreamCodec,
  bytesCodec,
};
