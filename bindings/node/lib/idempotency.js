'use strict';
// Idempotency records: IdempotencyRecord (from client.idempotencyBegin()) and
// the run-once helper client.idempotent(). States, leases, takeover and the
// keys are the C core's (core/scripts/idem_*.lua), shared with Python and Go.
const nodeUtil = require('node:util');
const N = require('./native');
const { invalid } = require('./errors');
const { checkMs, binary, options: optionsArg, signalOf } = require('./util');
const { OPS } = require('./instrument');

const STATES = Object.freeze(['NEW', 'IN_PROGRESS', 'COMPLETED', 'MISMATCH']);
/** The four states by name (the values are the names). */
const IdempotencyState = Object.freeze(Object.fromEntries(STATES.map((s) => [s, s])));

const DEFAULT_LEASE_MS = 30000;
const DEFAULT_TTL_MS = 24 * 3600 * 1000;

// Record handles are freed when their IdempotencyRecord is garbage collected;
// complete()/fail() in flight hold the record (Client._op's owner). Freeing
// never completes or fails a record.
const recordHandles = new FinalizationRegistry((h) => N.redisx_idem_free(h));

// The submit functions of client._op (no closure per call).
function submitComplete(tag, h, response, metadata, opts) {
  const { ttl = DEFAULT_TTL_MS } = optionsArg(opts, 'complete: options');
  N.redisx_idem_complete_async(h, binary(response, 'response'), binary(metadata, 'metadata'), checkMs(ttl, 'ttl'), tag);
}

function submitFail(tag, h, opts) {
  optionsArg(opts, 'fail: options');
  N.redisx_idem_fail_async(h, tag);
}

class IdempotencyRecord {
  /** @internal — made by client.idempotencyBegin(). */
  constructor(client, handle, ops) {
    this._client = client;
    this._h = handle;
    this._ops = ops;
    const state = N.redisx_idem_state_of(handle);
    /** The record key. */
    this.key = N.redisx_idem_key(handle);
    /** "NEW" | "IN_PROGRESS" | "COMPLETED" | "MISMATCH". */
    this.state = STATES[state] ?? String(state);
    /** COMPLETED: the stored response (a Buffer; empty otherwise). */
    this.response = N.redisx_idem_response(handle);
    /** COMPLETED: the stored metadata (a Buffer; empty otherwise). */
    this.metadata = N.redisx_idem_metadata(handle);
    /** Ms the record still lives: the lease left (IN_PROGRESS, a Retry-After
     *  hint), the TTL left (COMPLETED, MISMATCH), the lease granted (NEW). */
    this.remainingMs = N.redisx_idem_remaining_ms(handle);
    /** NEW after taking over a stale in-progress record (an earlier attempt
     *  may have done part of the work). */
    this.takenOver = N.redisx_idem_taken_over(handle) !== 0;
    /** NEW granted by the fail-open policy without Redis: nothing protects
     *  against duplicates; complete() and fail() do nothing. */
    this.failOpen = N.redisx_idem_is_fail_open(handle) !== 0;
    recordHandles.register(this, handle);
  }

  /** Stores the outcome of the work of a NEW record — `response` and
   *  `metadata` (Buffer, Uint8Array or string) kept for `ttl` ms (default
   *  24 h) — and wakes waiting begins. Rejects with LockNotOwned when the
   *  record was taken over or is gone, InvalidArgument when it is not NEW.
   *  `signal` aborts the wait for the reply (the store may still happen). */
  complete(response, metadata = null, opts) {
    const t = this._client._instr;
    const s = t === null ? null : t.start(OPS.IDEM_COMPLETE, null);
    const p = this._client._op(this._ops.status, null, signalOf(opts), this, submitComplete, this._h, response, metadata, opts);
    return s === null ? p : s.settle(p);
  }

  /** Drops the in-progress record of a NEW record so that a retry runs the
   *  work again, and wakes waiting begins. LockNotOwned when taken over. */
  fail(opts) {
    const t = this._client._instr;
    const s = t === null ? null : t.start(OPS.IDEM_FAIL, null);
    const p = this._client._op(this._ops.status, null, signalOf(opts), this, submitFail, this._h, opts);
    return s === null ? p : s.settle(p);
  }

  // The response can be large and private: inspection shows its size only.
  toJSON() {
    return {
      key: this.key,
      state: this.state,
      remainingMs: this.remainingMs,
      takenOver: this.takenOver,
      failOpen: this.failOpen,
      responseBytes: this.response.length,
      metadataBytes: this.metadata.length,
    };
  }

  [nodeUtil.inspect.custom](depth, options, inspect) {
    return `IdempotencyRecord ${inspect(this.toJSON(), options)}`;
  }
}

/** A duplicate that cannot be answered with a stored result. `statusCode` is
 *  the HTTP status that fits (Express' and NestJS' default error handlers use
 *  it). */
class IdempotencyConflict extends Error {
  constructor(message, record, statusCode) {
    super(message);
    this.record = record;
    this.state = record.state;
    this.key = record.key;
    this.statusCode = statusCode;
    this.status = statusCode;
  }
}
Object.defineProperty(IdempotencyConflict.prototype, 'name', { value: 'IdempotencyConflict', writable: true, configurable: true });

/** Another caller is still running the work (after `wait`). */
class IdempotencyInProgress extends IdempotencyConflict {
  constructor(record) {
    super(`idempotency key ${JSON.stringify(record.key)} is in progress`, record, 409);
    /** Ms until the other caller's lease runs out. */
    this.retryAfter = record.remainingMs;
  }
}
Object.defineProperty(IdempotencyInProgress.prototype, 'name', { value: 'IdempotencyInProgress', writable: true, configurable: true });

/** The key was used with another fingerprint. */
class IdempotencyMismatch extends IdempotencyConflict {
  constructor(record) {
    super(`idempotency key ${JSON.stringify(record.key)} was used with another request`, record, 422);
  }
}
Object.defineProperty(IdempotencyMismatch.prototype, 'name', { value: 'IdempotencyMismatch', writable: true, configurable: true });

/** JSON: what the Python decorator stores by default too. undefined is
 *  stored as null. */
const jsonCodec = Object.freeze({
  encode: (value) => Buffer.from(JSON.stringify(value === undefined ? null : value)),
  decode: (buf) => JSON.parse(buf.toString('utf8')),
});

const RUN_OPTIONS = new Set(['lease', 'wait', 'ttl', 'codec', 'signal']);

async function runIdempotent(client, key, fingerprint, fn, options) {
  if (typeof fn !== 'function') throw invalid('idempotent: fn must be a function');
  if (options === null || typeof options !== 'object') throw invalid('idempotent: options must be an object');
  for (const k of Object.keys(options)) {
    if (!RUN_OPTIONS.has(k)) throw invalid(`idempotent: unknown option ${JSON.stringify(k)}`);
  }
  const { lease = DEFAULT_LEASE_MS, wait = 0, ttl = DEFAULT_TTL_MS, codec = jsonCodec, signal } = options;
  if (!codec || typeof codec.encode !== 'function' || typeof codec.decode !== 'function') {
    throw invalid('idempotent: codec must have encode(value) and decode(buffer)');
  }
  checkMs(ttl, 'ttl');
  // The signal stops the begin only: once fn ran, its outcome is stored.
  const record = await client.idempotencyBegin(key, fingerprint, { lease, wait, signal });
  switch (record.state) {
    case 'COMPLETED':
      return codec.decode(record.response);
    case 'IN_PROGRESS':
      throw new IdempotencyInProgress(record);
    case 'MISMATCH':
      throw new IdempotencyMismatch(record);
    default:
      break;
  }
  let value;
  try {
    value = await fn(record);
  } catch (e) {
    await record.fail().catch(() => {});
    throw e;
  }
  let encoded;
  try {
    encoded = codec.encode(value);
  } catch (e) {
    await record.fail().catch(() => {});
    throw e;
  }
  await record.complete(encoded, null, { ttl });
  return value;
}

module.exports = {
  IdempotencyRecord,
  IdempotencyState,
  IdempotencyConflict,
  IdempotencyInProgress,
  IdempotencyMismatch,
  jsonCodec,
  runIdempotent,
  DEFAULT_LEASE_MS,
  DEFAULT_TTL_MS,
};
