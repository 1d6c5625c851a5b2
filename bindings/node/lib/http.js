'use strict';
// HTTP idempotency (IETF draft "The Idempotency-Key HTTP Header Field") over
// the C core's records, as an Express-style middleware and as a NestJS-style
// interceptor. The rules are the same in every redisx language, so a response
// stored by a Node service replays from a Python or Go one and back:
//
//   - no Idempotency-Key header: the handler runs normally (required → 400);
//   - record key = namespace + ":" + header value (the value alone without a
//     namespace); fingerprint = SHA-256 (raw 32 bytes) of
//     METHOD "\n" path-with-query "\n" body;
//   - NEW: the handler runs; its status, Content-Type and body are captured;
//     status < 500 → complete(body, {"status":S,"content_type":"T"}, ttl),
//     status >= 500, an error or an aborted response → fail() (a retry runs);
//   - IN_PROGRESS → 409 with Retry-After; MISMATCH → 422;
//     COMPLETED → the stored status, Content-Type and body, plus
//     "Idempotent-Replayed: true".
// Every one of these rules is the C core's (redisx/http.h, core/http.c):
// this file only moves bytes between node:http and it.
const N = require('./native');
const { invalid, InvalidArgument } = require('./errors');
const { DEFAULT_LEASE_MS, DEFAULT_TTL_MS } = require('./idempotency');
const { call } = require('./util');

const HEADER = 'idempotency-key';
const OPTIONS = new Set(['namespace', 'lease', 'ttl', 'wait', 'required', 'onError']);

/** SHA-256 of METHOD (upper case) "\n" path-with-query "\n" body, the raw 32 bytes. */
function requestFingerprint(method, pathWithQuery, body) {
  const b =
    body instanceof Uint8Array && !Buffer.isBuffer(body)
      ? Buffer.from(body.buffer, body.byteOffset, body.byteLength)
      : body;
  return call(() => N.redisx_http_fingerprint(String(method) || 'GET', String(pathWithQuery), b ?? null));
}

function declaresBody(req) {
  const h = req.headers || {};
  return h['transfer-encoding'] !== undefined || (h['content-length'] !== undefined && h['content-length'] !== '0');
}

function readStream(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(typeof c === 'string' ? Buffer.from(c) : c));
    req.once('end', () => resolve(Buffer.concat(chunks)));
    req.once('error', reject);
  });
}

/** The request body as bytes, for the fingerprint: req.rawBody (NestJS with
 *  rawBody: true, or a body-parser `verify` hook) or a Buffer/string req.body
 *  (express.raw/express.text) as they are; a parsed body (express.json) as
 *  JSON.stringify of it; an unread body is read here and left in req.rawBody
 *  (and in req.body when nothing parsed it). */
async function requestBody(req) {
  if (Buffer.isBuffer(req.rawBody)) return req.rawBody;
  if (typeof req.rawBody === 'string') return Buffer.from(req.rawBody);
  if (Buffer.isBuffer(req.body)) return req.body;
  if (typeof req.body === 'string') return Buffer.from(req.body);
  if (!declaresBody(req)) return Buffer.alloc(0);
  if (req.body !== undefined && req.body !== null) return Buffer.from(JSON.stringify(req.body));
  if (typeof req.on !== 'function' || req.readableEnded || req.complete) return Buffer.alloc(0);
  const body = await readStream(req);
  req.rawBody = body;
  if (req.body === undefined) req.body = body;
  return body;
}

function headerValue(req) {
  const v = req.headers ? req.headers[HEADER] : undefined;
  if (Array.isArray(v)) return v.join(', ');
  return v;
}

function contentTypeOf(value) {
  if (value === undefined || value === null) return '';
  return Array.isArray(value) ? String(value[0] ?? '') : String(value);
}

/** A decision of kind 'respond' from an answer of the core. */
function answer(a) {
  const headers = {};
  for (const [k, v] of a.headers) headers[k] = v;
  return { kind: 'respond', status: a.status, headers, body: a.body };
}

/** The metadata stored with a response, from the Content-Type as node:http
 *  holds it (one character per byte); null when the core refuses it. */
function storedMetadata(status, contentType) {
  try {
    return N.redisx_http_metadata(status, Buffer.from(contentType, 'latin1'));
  } catch {
    return null;
  }
}

/** The shared engine of the middleware and the interceptor. */
class IdempotencyHttp {
  constructor(client, options = {}) {
    if (!client || typeof client.idempotencyBegin !== 'function') throw invalid('idempotency: a redisx Client is needed');
    if (options === null || typeof options !== 'object') throw invalid('idempotency: options must be an object');
    for (const k of Object.keys(options)) {
      if (!OPTIONS.has(k)) throw invalid(`idempotency: unknown option ${JSON.stringify(k)}`);
    }
    const { namespace, lease = DEFAULT_LEASE_MS, ttl = DEFAULT_TTL_MS, wait = 0, required = false, onError } = options;
    if (namespace !== undefined && (typeof namespace !== 'string' || namespace === '')) {
      throw invalid('idempotency: namespace must be a non-empty string');
    }
    if (typeof required !== 'boolean') throw invalid('idempotency: required must be a boolean');
    if (onError !== undefined && typeof onError !== 'function') throw invalid('idempotency: onError must be a function');
    for (const [name, v] of [['lease', lease], ['ttl', ttl], ['wait', wait]]) {
      if (typeof v !== 'number' || !Number.isInteger(v)) throw invalid(`idempotency: ${name} must be an integer of ms`);
    }
    this.client = client;
    this.namespace = namespace;
    this.lease = lease;
    this.ttl = ttl;
    this.wait = wait;
    this.required = required;
    this.onError =
      onError ??
      ((err) => process.emitWarning(`redisx idempotency: storing the outcome failed: ${err.message}`, 'RedisxWarning'));
  }

  /** What to do with a request: { kind: 'pass' } (no key), { kind: 'run',
   *  record } (NEW: run the handler under capture()), or { kind: 'respond',
   *  status, headers, body } (400, 409, 422, or a replay). Errors other than
   *  an invalid key reject (a fail-closed store without Redis). */
  async decide(req) {
    const value = headerValue(req);
    if (value === undefined || value === '') {
      if (this.required) return answer(call(() => N.redisx_http_key_required()));
      return { kind: 'pass' };
    }
    let key;
    try {
      key = N.redisx_http_record_key(this.namespace ?? null, Buffer.from(value, 'utf8')).toString('utf8');
    } catch {
      return answer(call(() => N.redisx_http_key_invalid()));
    }
    const body = await requestBody(req);
    const fingerprint = requestFingerprint(req.method || 'GET', req.originalUrl ?? req.url ?? '/', body);
    let record;
    try {
      record = await this.client.idempotencyBegin(key, fingerprint, { lease: this.lease, wait: this.wait });
    } catch (e) {
      if (e instanceof InvalidArgument) return answer(call(() => N.redisx_http_key_invalid()));
      throw e;
    }
    if (record.state === 'NEW') return { kind: 'run', record };
    const state = N[`REDISX_IDEM_${record.state}`];
    if (state === undefined) throw new Error(`redisx idempotency: unknown record state ${record.state}`);
    // 409 with Retry-After, 422, or the stored response replayed.
    return answer(
      call(() => N.redisx_http_idem_answer(state, record.remainingMs, record.metadata ?? null, record.response ?? null)),
    );
  }

  /** Captures what the handler sends on `res` (a node:http ServerResponse or
   *  Express response): writes are held back and sent with end() once the
   *  record is completed (status < 500) or failed, so a duplicate arriving
   *  after this response finds the stored one. An aborted response fails the
   *  record. */
  capture(res, record) {
    const engine = this;
    const origWrite = res.write;
    const origEnd = res.end;
    const origWriteHead = res.writeHead;
    const chunks = [];
    let headType; // Content-Type given to writeHead() directly
    let ended = false;
    let settled = false;
    const settle = (fn) => {
      if (settled) return Promise.resolve();
      settled = true;
      return Promise.resolve()
        .then(fn)
        .catch((err) => engine.onError(err, record));
    };
    const add = (chunk, encoding) => {
      if (chunk === undefined || chunk === null) return;
      if (typeof chunk === 'string') chunks.push(Buffer.from(chunk, typeof encoding === 'string' ? encoding : 'utf8'));
      else if (Buffer.isBuffer(chunk)) chunks.push(chunk);
      else if (chunk instanceof Uint8Array) chunks.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      else chunks.push(Buffer.from(String(chunk)));
    };
    res.writeHead = function writeHead(status, reason, headers) {
      const h = typeof reason === 'string' ? headers : reason;
      if (Array.isArray(h)) {
        for (let i = 0; i + 1 < h.length; i += 2) if (String(h[i]).toLowerCase() === 'content-type') headType = h[i + 1];
      } else if (h && typeof h === 'object') {
        for (const [k, v] of Object.entries(h)) if (k.toLowerCase() === 'content-type') headType = v;
      }
      return origWriteHead.apply(this, arguments);
    };
    res.write = function write(chunk, encoding, cb) {
      if (typeof encoding === 'function') {
        cb = encoding;
        encoding = undefined;
      }
      add(chunk, encoding);
      if (typeof cb === 'function') process.nextTick(cb);
      return true;
    };
    res.end = function end(chunk, encoding, cb) {
      if (typeof chunk === 'function') {
        cb = chunk;
        chunk = undefined;
      } else if (typeof encoding === 'function') {
        cb = encoding;
        encoding = undefined;
      }
      if (ended) return this;
      ended = true;
      add(chunk, encoding);
      const body = Buffer.concat(chunks);
      const status = res.statusCode;
      const contentType = contentTypeOf(headType ?? res.getHeader('content-type'));
      const self = this;
      const meta = Number.isInteger(status) ? storedMetadata(status, contentType) : null;
      settle(() =>
        meta !== null && N.redisx_http_status_is_stored(status)
          ? record.complete(body, meta, { ttl: engine.ttl })
          : record.fail(),
      ).then(() => {
        res.write = origWrite;
        res.end = origEnd;
        res.writeHead = origWriteHead;
        origEnd.call(self, body, cb);
      });
      return this;
    };
    res.once('close', () => {
      if (!ended) settle(() => record.fail());
    });
  }

  /** Sends a decision of kind 'respond' on a node:http/Express response. */
  static send(res, d) {
    res.statusCode = d.status;
    for (const [k, v] of Object.entries(d.headers)) res.setHeader(k, v);
    res.end(d.body);
  }
}

/** Express-style middleware `(req, res, next)` with the HTTP idempotency
 *  semantics above (Express app.use / router.post(path, mw, handler), NestJS
 *  consumer.apply, Connect, plain node:http). Place it after your body parser
 *  (NestJS: rawBody: true gives the exact bytes). Options: namespace, lease
 *  (ms, 30 s), ttl (ms, 24 h), wait (ms, 0), required (false), onError(err)
 *  for a failure to store the outcome (the response is sent regardless). */
function idempotency(client, options = {}) {
  const engine = new IdempotencyHttp(client, options);
  return function redisxIdempotency(req, res, next) {
    engine.decide(req).then(
      (d) => {
        if (d.kind === 'pass') return next();
        if (d.kind === 'respond') return IdempotencyHttp.send(res, d);
        engine.capture(res, d.record);
        return next();
      },
      (err) => next(err),
    );
  };
}

/** A NestJS interceptor (`intercept(context, next)`) with the same HTTP
 *  semantics: `app.useGlobalInterceptors(new IdempotencyInterceptor(client,
 *  options))` or `@UseInterceptors(new IdempotencyInterceptor(...))`. The
 *  handler's response is captured on the underlying node:http response
 *  (what Nest actually sent, exception responses included); 400/409/422 and
 *  replays are emitted as a string body with the status and headers set on
 *  the response, so Nest sends them. Contexts other than HTTP pass through.
 *  Needs no NestJS or rxjs import: it makes its Observable with the class of
 *  next.handle()'s (which Nest creates lazily: the handler only runs when
 *  subscribed). */
class IdempotencyInterceptor {
  constructor(client, options = {}) {
    this._engine = new IdempotencyHttp(client, options);
  }

  async intercept(context, next) {
    if (typeof context.getType === 'function' && context.getType() !== 'http') return next.handle();
    const http = context.switchToHttp();
    const req = http.getRequest();
    const response = http.getResponse();
    const res = response && response.raw && typeof response.raw.end === 'function' ? response.raw : response;
    const d = await this._engine.decide(req);
    if (d.kind === 'pass') return next.handle();
    if (d.kind === 'run') {
      this._engine.capture(res, d.record);
      return next.handle();
    }
    res.statusCode = d.status;
    for (const [k, v] of Object.entries(d.headers)) res.setHeader(k, v);
    const handled = next.handle(); // never subscribed: the handler does not run
    const Observable = handled.constructor;
    const body = d.body.toString('utf8');
    return new Observable((subscriber) => {
      subscriber.next(body);
      subscriber.complete();
    });
  }
}

module.exports = { idempotency, IdempotencyInterceptor, IdempotencyHttp, requestFingerprint, requestBody };
