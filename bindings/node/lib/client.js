'use strict';
// The idiomatic layer: Client, Lock, Promises, events. Every decision about
// locks, rate limits and idempotency records (retries, backoff, renewal, keys,
// timeouts, algorithms) is the C core's; this file only turns JavaScript
// values into C calls and queue items into Promise settlements.
//
// How a call completes: each asynchronous C call gets an integer tag and a NULL
// callback, so the core's I/O thread puts its completion into this client's
// queue. A libuv poll handle on the queue's fd (src/loop.cc) calls drain() on
// the JS thread while items wait; drain() has the native drainQueue() pop a
// bounded batch (decoded into numbers and values, the items freed in C: one
// native call per batch, not several per item) and settles the Promise
// stored under each tag. The poll handle is ref'd only while some
// operation is pending, so an idle client never keeps the process alive.
//
// Aborting (`{ signal }`): the tag is also what redisx_cancel(client, tag)
// matches, so an abort cancels exactly that operation in the core, which then
// completes it once with ERR_CANCELLED (releasing a lock or failing a NEW
// record its command may still take: nothing of that kind is done here).
//
// Closing: redisx_client_shutdown() (on libuv's pool: it joins the I/O
// thread) completes every operation, ClientClosed for those it did not
// finish, and keeps the handle valid while JavaScript may still call into it;
// the handle is freed on the JS thread once the poll handle has stopped.
const util = require('node:util');
const N = require('./native');
const { fromStatus, translate, invalid, ClientClosed, ServerError, Cancelled, AbortError } = require('./errors');
const { call, checkMs, checkKey, binary, options: optionsArg, signalOf, isSignal } = require('./util');
const { Limiter, RateLimitResult } = require('./ratelimit');
const { IdempotencyRecord, runIdempotent, DEFAULT_LEASE_MS } = require('./idempotency');
const { Cache } = require('./cache');
const streams = require('./stream');
const { OPS } = require('./instrument');

// How long acquire() and withLock() wait for a held lock when no `wait` is
// given: the default of every redisx binding (root README).
const DEFAULT_WAIT_MS = 10000;

const DRAIN_BATCH = 256; // items per poll callback: other I/O runs in between

// Where drainQueue() puts an item's numbers (src/loop.cc).
const L = N.drainLayout;
const STRIDE = L.stride;
const F_KIND = L.kind;
const F_TAG = L.tag;
const F_STATUS = L.status;
const F_PAYLOAD = L.payload;
const F_V0 = L.v0;

const OP_STATUS = 0;
const OP_ACQUIRE = 1;
const OP_INSPECT = 2;
const OP_COMMAND = 3;
const OP_RATELIMIT = 4;
const OP_IDEM = 5;
const OP_RELEASE = 6; // OP_STATUS that also stops watching the lock for loss
const OP_CACHE = 7; // a cache fetch or get: resolves to the answer array (lib/cache.js)

const LEVELS = ['debug', 'info', 'warn', 'error'];

// An onLog passing the core's lines to a logger with pino's or Nest's
// Logger's methods (debug, info or log, warn, error), after `also`.
function toLogger(logger, also) {
  if (logger === null || typeof logger !== 'object' && typeof logger !== 'function') {
    throw invalid('logger must be an object with debug/info/warn/error (or log) methods');
  }
  const pick = (...names) => {
    for (const n of names) if (typeof logger[n] === 'function') return logger[n].bind(logger);
    return null;
  };
  const by = {
    debug: pick('debug', 'verbose', 'log'),
    info: pick('info', 'log'),
    warn: pick('warn', 'log'),
    error: pick('error', 'log'),
  };
  if (!by.warn || !by.error) throw invalid('logger needs warn and error (or log) methods');
  return (entry) => {
    if (also) also(entry);
    const f = by[entry.level] || by.error;
    if (f) f(`redisx: ${entry.message}`);
  };
}
const STATES = ['connected', 'disconnected', 'reconnecting'];

// Lock handles are freed when their Lock is garbage collected: release() does
// not free (the C handle stays valid and answers LockNotOwned afterwards, as
// in every language), and freeing never releases a lease.
const lockHandles = new FinalizationRegistry((h) => N.redisx_lock_free(h));

function reportAsync(e) {
  // A user callback threw inside drain(): surface it as an uncaught exception
  // without losing the rest of the batch.
  process.nextTick(() => {
    throw e;
  });
}

function checkName(name) {
  if (typeof name !== 'string') throw invalid(`lock name must be a string, got ${typeof name}`);
  return name;
}

function commandArg(a, i) {
  if (typeof a === 'string' || Buffer.isBuffer(a)) return a;
  if (a instanceof Uint8Array) return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
  if ((typeof a === 'number' && Number.isFinite(a)) || typeof a === 'bigint') return String(a);
  throw invalid(`execute: argument ${i} must be a string, Buffer, Uint8Array, finite number or bigint`);
}

// The arguments as the native call takes them: the caller's array itself
// when it holds only strings and Buffers (the common case), else a copy with
// the others converted.
function commandArgs(args) {
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (typeof a !== 'string' && !Buffer.isBuffer(a)) return args.map(commandArg);
  }
  return args;
}

// A raw command's name for its span: upper-cased, as the command itself.
function commandName(a) {
  if (typeof a === 'string') return a.toUpperCase();
  if (Buffer.isBuffer(a)) return a.toString('latin1').toUpperCase();
  return 'UNKNOWN';
}

function isOptionsObject(v) {
  if (v === null || typeof v !== 'object') return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** The value drainQueue() makes of an error reply (also inside an array,
 *  where it is a value, not thrown). */
function replyError(text) {
  return fromStatus(ServerError.status, text);
}

// A pending operation (one shape for all, so the lookups stay monomorphic).
class Pending {
  constructor(kind, resolve, reject, name, owner, signal) {
    this.kind = kind;
    this.resolve = resolve;
    this.reject = reject;
    this.name = name;
    this.owner = owner;
    this.signal = signal;
  }
}

// The Promise executor of Client._op without a closure per call: it runs
// synchronously inside `new Promise`, and _op reads the functions right after.
const captured = { resolve: null, reject: null };
function capture(resolve, reject) {
  captured.resolve = resolve;
  captured.reject = reject;
}

// The submit functions of Client._op: they check the arguments (after the
// closed and signal checks, as the options are read inside the operation)
// and start the C call under `tag`.
function submitAcquire(tag, c, name, opts) {
  const { ttl, wait = DEFAULT_WAIT_MS } = optionsArg(opts, 'acquire: options');
  N.redisx_lock_acquire_async(c, checkName(name), checkMs(ttl, 'ttl'), checkMs(wait, 'wait'), tag);
}

function submitTryAcquire(tag, c, name, opts) {
  const { ttl } = optionsArg(opts, 'tryAcquire: options');
  N.redisx_lock_acquire_async(c, checkName(name), checkMs(ttl, 'ttl'), 0, tag);
}

function submitRelease(tag, h, opts) {
  optionsArg(opts, 'release: options');
  N.redisx_lock_release_async(h, tag);
}

function submitExtend(tag, h, ttl, opts) {
  optionsArg(opts, 'extend: options');
  N.redisx_lock_extend_async(h, checkMs(ttl, 'ttl'), tag);
}

function submitInspect(tag, c, name, opts) {
  optionsArg(opts, 'lockInfo: options');
  N.redisx_lock_inspect_async(c, checkName(name), tag);
}

function submitCommand(tag, c, args) {
  if (args.length === 0) throw invalid('execute: a command is needed');
  N.redisx_command_async(c, commandArgs(args), tag);
}

function submitBegin(tag, c, key, fingerprint, opts) {
  const { lease = DEFAULT_LEASE_MS, wait = 0 } = optionsArg(opts, 'idempotencyBegin: options');
  N.redisx_idem_begin_async(
    c,
    checkKey(key, 'idempotency key'),
    binary(fingerprint, 'fingerprint'),
    checkMs(lease, 'lease'),
    checkMs(wait, 'wait'),
    tag,
  );
}

// A handle drainQueue() took out of an item that no operation claims (none
// should arrive): freed here, as redisx_item_free() would have.
function freePayload(payload, obj) {
  if (payload === L.LOCK) N.redisx_lock_free(obj);
  else if (payload === L.IDEM) N.redisx_idem_free(obj);
  else if (payload === L.CACHE && obj[7] !== null) N.redisx_cache_entry_free(obj[7]); // abandons its lease
}

const IDEM_OPS = Object.freeze({ status: OP_STATUS });

function lockInfoObject(info) {
  return {
    locked: N.redisx_lock_info_locked(info) !== 0,
    fencingToken: N.redisx_lock_info_fencing_token(info),
    ttl: N.redisx_lock_info_ttl_ms(info),
    lastFencingToken: N.redisx_lock_info_last_fencing_token(info),
  };
}

const OPTION_KEYS = new Set([
  'prefix',
  'commandTimeout',
  'connectTimeout',
  'connections',
  'failOpenLocks',
  'failOpenRateLimits',
  'failOpenIdempotency',
  'username',
  'password',
  'eventKeys',
  'onEvent',
  'onState',
  'onLog',
  'logLevel',
  'logger',
  'reconnectBackoff',
  'circuitBreaker',
  'busyPoll',
  'cacheTrackingBcast',
  'tls',
  'clusterSeeds',
  'sentinelMaster',
  'sentinels',
  'sentinelUsername',
  'sentinelPassword',
]);

// `clusterSeeds` as the core's "host:port,host:port" text (the core parses
// and judges it).
function seedList(seeds, what = 'clusterSeeds') {
  if (typeof seeds === 'string') return seeds;
  if (Array.isArray(seeds) && seeds.every((s) => typeof s === 'string')) return seeds.join(',');
  throw invalid(`${what} must be a string or an array of "host:port" strings`);
}

// The `tls` option's keys and the C setter each one reaches; every rule
// (defaults, what a combination means, loading the files) is the core's.
const TLS_STRINGS = ['caFile', 'caDir', 'certFile', 'keyFile', 'serverName'];
const TLS_BOOLEANS = ['verifyHostname', 'insecureSkipVerify'];
const TLS_KEYS = new Set([...TLS_STRINGS, ...TLS_BOOLEANS]);

/** `tls`: true / an object (TLS on, as rediss:// does, with those
 *  settings) or false (TLS off, overriding rediss://), as ioredis takes it. */
function setTls(opts, tls) {
  if (typeof tls === 'boolean') {
    N.redisx_options_set_tls(opts, tls ? 1 : 0);
    return;
  }
  if (!isOptionsObject(tls)) {
    throw invalid(`tls must be a boolean or an object, got ${tls === null ? 'null' : typeof tls}`);
  }
  for (const k of Object.keys(tls)) {
    if (!TLS_KEYS.has(k)) throw invalid(`unknown tls option ${JSON.stringify(k)}`);
  }
  for (const k of TLS_STRINGS) {
    const v = tls[k];
    if (v !== undefined && v !== null && typeof v !== 'string') {
      throw invalid(`tls.${k} must be a string, got ${typeof v}`);
    }
  }
  for (const k of TLS_BOOLEANS) {
    if (tls[k] !== undefined && typeof tls[k] !== 'boolean') throw invalid(`tls.${k} must be a boolean, got ${typeof tls[k]}`);
  }
  N.redisx_options_set_tls(opts, 1);
  if (tls.caFile != null) N.redisx_options_set_tls_ca_file(opts, tls.caFile);
  if (tls.caDir != null) N.redisx_options_set_tls_ca_dir(opts, tls.caDir);
  if (tls.certFile != null || tls.keyFile != null) {
    N.redisx_options_set_tls_client_cert(opts, tls.certFile ?? null, tls.keyFile ?? null);
  }
  if (tls.serverName != null) N.redisx_options_set_tls_server_name(opts, tls.serverName);
  if (tls.verifyHostname !== undefined) N.redisx_options_set_tls_verify_hostname(opts, tls.verifyHostname ? 1 : 0);
  if (tls.insecureSkipVerify !== undefined) {
    N.redisx_options_set_tls_insecure_skip_verify(opts, tls.insecureSkipVerify ? 1 : 0);
  }
}

function checkFunction(f, what) {
  if (f !== undefined && typeof f !== 'function') throw invalid(`${what} must be a function`);
  return f;
}

class Lock {
  /** @internal */
  constructor(client, handle, name) {
    this._client = client;
    this._h = handle;
    this.name = name;
    this._token = undefined;
    this._fencing = undefined;
    this._lostTag = 0;
    lockHandles.register(this, handle);
  }

  /** Fencing token: a number, strictly increasing per lock name (0 for a
   *  fail-open lock). Exact while below 2^53 (a bigint beyond). */
  get fencingToken() {
    if (this._fencing === undefined) this._fencing = N.redisx_lock_fencing_token(this._h);
    return this._fencing;
  }

  /** Owner token "<fencing>:<32 hex>" ("" for a fail-open lock). */
  get token() {
    if (this._token === undefined) this._token = N.redisx_lock_token(this._h);
    return this._token;
  }

  /** Lease length in ms set by the last acquire/extend. */
  get ttl() {
    return N.redisx_lock_ttl_ms(this._h);
  }

  /** True when the lock was granted by the fail-open policy without Redis. */
  get failOpen() {
    return N.redisx_lock_is_fail_open(this._h) !== 0;
  }

  /** True once automatic renewal found the lock lost. */
  get lost() {
    return N.redisx_lock_is_lost(this._h) !== 0;
  }

  /** Releases the lease if this handle still owns it; LockNotOwned otherwise.
   *  `signal` aborts the wait for the reply (the release may still happen). */
  release(opts) {
    const t = this._client._instr;
    const s = t === null ? null : t.start(OPS.LOCK_RELEASE, null);
    const p = this._client._op(OP_RELEASE, null, signalOf(opts), this, submitRelease, this._h, opts);
    return s === null ? p : s.settle(p);
  }

  /** Sets the remaining lease to `ttl` ms if this handle still owns it. */
  extend(ttl, opts) {
    const t = this._client._instr;
    const s = t === null ? null : t.start(OPS.LOCK_EXTEND, null);
    const p = this._client._op(OP_STATUS, null, signalOf(opts), this, submitExtend, this._h, ttl, opts);
    return s === null ? p : s.settle(p);
  }

  /** Starts automatic renewal by the core (every ttl/3 to the full ttl).
   *  onLost(lock) runs once if renewal finds the lock gone or cannot renew it
   *  in time. Renewal stops on release, on client close, and when the lock is
   *  lost; it does not keep the process alive. Returns the lock. */
  keepAlive(opts) {
    const { onLost } = optionsArg(opts, 'keepAlive: options');
    checkFunction(onLost, 'keepAlive: onLost');
    this._client._keepAlive(this, onLost);
    return this;
  }

  // The owner token is left out of JSON and inspection: it is what lets a
  // holder release the lock, so it should not end up in logs by accident.
  toJSON() {
    return { name: this.name, fencingToken: this.fencingToken, ttl: this.ttl };
  }

  [util.inspect.custom](depth, options, inspect) {
    return `Lock ${inspect(this.toJSON(), options)}`;
  }
}

class Client {
  /** Opens a client (connecting in the background; see README for options). */
  static fromUrl(url, options = {}) {
    return new Client(url, options);
  }

  constructor(url, options = {}) {
    if (options === null || typeof options !== 'object') throw invalid('options must be an object');
    for (const k of Object.keys(options)) {
      if (!OPTION_KEYS.has(k)) throw invalid(`unknown option ${JSON.stringify(k)}`);
    }
    const { onEvent, onState } = options;
    let { onLog } = options;
    checkFunction(onEvent, 'onEvent');
    checkFunction(onState, 'onState');
    checkFunction(onLog, 'onLog');
    if (options.logger !== undefined) {
      onLog = toLogger(options.logger, onLog);
      if (options.logLevel === undefined) options = { ...options, logLevel: 'info' };
    }
    this._onEvent = onEvent;
    this._onState = onState;
    this._onLog = onLog;
    this._pending = new Map(); // tag → { kind, resolve, reject, name }
    this._lost = new Map(); // tag → { lock, onLost }
    // signal → { tags, onAbort }: one abort listener per signal and client,
    // however many operations share the signal (a request's signal handed
    // to every call would otherwise trip MaxListenersExceededWarning).
    this._signals = new Map();
    this._nextTag = 1;
    // The instrumentation hook (lib/instrument.js), null unless one is
    // attached.
    this._instr = null;
    this._closing = false;
    this._closed = null;

    const opts = call(() => N.redisx_options_new());
    let queue = null;
    try {
      call(() => {
        N.redisx_options_set_url(opts, url);
        if (options.clusterSeeds !== undefined) N.redisx_options_set_cluster_seeds(opts, seedList(options.clusterSeeds));
        if (options.sentinelMaster !== undefined || options.sentinels !== undefined) {
          if (options.sentinelMaster === undefined || options.sentinels === undefined) {
            throw invalid('sentinelMaster and sentinels go together');
          }
          N.redisx_options_set_sentinels(opts, options.sentinelMaster, seedList(options.sentinels, 'sentinels'));
        }
        if (options.sentinelUsername !== undefined || options.sentinelPassword !== undefined) {
          N.redisx_options_set_sentinel_auth(opts, options.sentinelUsername ?? null, options.sentinelPassword ?? null);
        }
        if (options.prefix !== undefined) N.redisx_options_set_prefix(opts, options.prefix);
        if (options.commandTimeout !== undefined) {
          N.redisx_options_set_command_timeout_ms(opts, checkMs(options.commandTimeout, 'commandTimeout'));
        }
        if (options.connectTimeout !== undefined) {
          N.redisx_options_set_connect_timeout_ms(opts, checkMs(options.connectTimeout, 'connectTimeout'));
        }
        if (options.connections !== undefined) N.redisx_options_set_connections(opts, options.connections);
        if (options.reconnectBackoff !== undefined) {
          const { min, max } = optionsArg(options.reconnectBackoff, 'reconnectBackoff');
          N.redisx_options_set_reconnect_backoff_ms(
            opts,
            checkMs(min, 'reconnectBackoff.min'),
            checkMs(max, 'reconnectBackoff.max'),
          );
        }
        if (options.circuitBreaker !== undefined) {
          const { failures, window, open } = optionsArg(options.circuitBreaker, 'circuitBreaker');
          if (!Number.isInteger(failures)) {
            throw invalid('circuitBreaker.failures must be an integer');
          }
          N.redisx_options_set_circuit_breaker(
            opts,
            failures,
            checkMs(window, 'circuitBreaker.window'),
            checkMs(open, 'circuitBreaker.open'),
          );
        }
        if (options.busyPoll !== undefined) {
          const ms = options.busyPoll;
          if (typeof ms !== 'number' || !Number.isFinite(ms)) {
            throw invalid(`busyPoll must be a finite number of milliseconds, got ${typeof ms === 'number' ? ms : typeof ms}`);
          }
          N.redisx_options_set_busy_poll_us(opts, Math.round(ms * 1000)); // the core checks the range
        }
        if (options.cacheTrackingBcast !== undefined) {
          if (typeof options.cacheTrackingBcast !== 'boolean') {
            throw invalid(`cacheTrackingBcast must be a boolean, got ${typeof options.cacheTrackingBcast}`);
          }
          N.redisx_options_set_cache_tracking_bcast(opts, options.cacheTrackingBcast ? 1 : 0);
        }
        if (options.username !== undefined || options.password !== undefined) {
          N.redisx_options_set_auth(opts, options.username ?? null, options.password ?? null);
        }
        if (options.tls !== undefined) setTls(opts, options.tls);
        for (const [opt, primitive] of [
          ['failOpenLocks', N.REDISX_PRIMITIVE_LOCK],
          ['failOpenRateLimits', N.REDISX_PRIMITIVE_RATELIMIT],
          ['failOpenIdempotency', N.REDISX_PRIMITIVE_IDEMPOTENCY],
        ]) {
          if (options[opt] === undefined) continue;
          if (typeof options[opt] !== 'boolean') throw invalid(`${opt} must be a boolean`);
          N.redisx_options_set_fail_policy(opts, primitive, options[opt] ? N.REDISX_FAIL_OPEN : N.REDISX_FAIL_CLOSED);
        }
        if (options.eventKeys !== undefined) {
          if (typeof options.eventKeys !== 'boolean') throw invalid('eventKeys must be a boolean');
          N.redisx_options_set_event_keys(opts, options.eventKeys ? 1 : 0);
        }
        let mask = N.REDISX_QUEUE_LOCK_LOST;
        if (onEvent) mask |= N.REDISX_QUEUE_EVENTS;
        if (onState) mask |= N.REDISX_QUEUE_STATES;
        if (onLog) {
          const level = LEVELS.indexOf(options.logLevel ?? 'warn');
          if (level < 0) throw invalid(`logLevel must be one of ${LEVELS.join(', ')}`);
          mask |= N.REDISX_QUEUE_LOGS;
          // No C callback (NULL): this only sets the least severe level, which
          // filters the queue's log lines too.
          N.redisx_options_set_log_cb(opts, level, 0);
        } else if (options.logLevel !== undefined) {
          throw invalid('logLevel needs onLog');
        }
        queue = N.redisx_queue_new();
        N.redisx_options_set_queue(opts, queue, mask);
        this._c = N.redisx_client_open(opts);
      });
    } catch (e) {
      if (queue) N.redisx_queue_free(queue);
      throw e;
    } finally {
      N.redisx_options_free(opts);
    }
    this._q = queue;
    // drainQueue()'s output, reused by every batch.
    this._nums = new Float64Array(DRAIN_BATCH * STRIDE);
    this._objs = new Array(DRAIN_BATCH).fill(undefined);
    this._prefix = N.redisx_client_prefix(this._c);
    try {
      this._poller = new N.Poller(N.redisx_queue_fd(queue), () => this._drain(DRAIN_BATCH));
    } catch (e) {
      const c = this._c;
      N.shutdownClient(c).finally(() => {
        N.freeClient(c);
        N.redisx_queue_free(queue);
      });
      throw e;
    }
  }

  /** The key prefix: clients that share locks use the same one. */
  get prefix() {
    return this._prefix;
  }

  /** True once close() was called. */
  get closed() {
    return this._closing;
  }

  /** Acquires lock `name` for `ttl` ms, retrying for up to `wait` ms (default
   *  10000, as in every binding; 0: one attempt). Resolves to a Lock; rejects
   *  with LockHeld when it stayed held. */
  acquire(name, opts) {
    return this._acquire(name, opts, false);
  }

  /** One attempt: acquire(name, { ttl, wait: 0 }). */
  tryAcquire(name, opts) {
    return this._acquire(name, opts, true);
  }

  _acquire(name, opts, once) {
    const t = this._instr;
    if (t !== null) {
      const s = t.start(once ? OPS.LOCK_TRY_ACQUIRE : OPS.LOCK_ACQUIRE, null);
      return s.settle(this._op(OP_ACQUIRE, name, signalOf(opts), null, once ? submitTryAcquire : submitAcquire, this._c, name, opts));
    }
    return this._op(OP_ACQUIRE, name, signalOf(opts), null, once ? submitTryAcquire : submitAcquire, this._c, name, opts);
  }

  /** Runs `fn(lock)` while holding lock `name` and releases it in `finally`.
   *  Resolves to what fn resolves to. If fn throws, that error is rethrown
   *  (a failing release is then ignored); if fn succeeds but the release
   *  fails (LockNotOwned: the lease ran out during fn), the release error is
   *  thrown. keepAlive: true renews the lease while fn runs. `signal` aborts
   *  the acquire (fn then does not run); the release always runs. */
  async withLock(name, opts, fn) {
    const { ttl, wait = DEFAULT_WAIT_MS, keepAlive = false, signal } = optionsArg(opts, 'withLock: options');
    if (typeof fn !== 'function') throw invalid('withLock: the last argument must be a function');
    const lock = await this.acquire(name, { ttl, wait, signal });
    if (keepAlive) lock.keepAlive();
    let result;
    try {
      result = await fn(lock);
    } catch (e) {
      await lock.release().catch(() => {});
      throw e;
    }
    await lock.release();
    return result;
  }

  /** Who holds lock `name`: { locked, fencingToken, ttl, lastFencingToken }. */
  lockInfo(name, opts) {
    const t = this._instr;
    const s = t === null ? null : t.start(OPS.LOCK_INSPECT, null);
    const p = this._op(OP_INSPECT, name, signalOf(opts), null, submitInspect, this._c, name, opts);
    return s === null ? p : s.settle(p);
  }

  /** Runs one raw command: strings, Buffers, numbers in; Buffer (bulk
   *  string), string (status), number/bigint, null, Array out. An error reply
   *  rejects with ServerError (inside an array it is a ServerError value).
   *  A last argument that is a plain object with a `signal` property is
   *  options: execute('GET', key, { signal }). */
  execute(...args) {
    let signal;
    const last = args[args.length - 1];
    if (isOptionsObject(last) && Object.hasOwn(last, 'signal')) {
      args.pop();
      signal = last.signal;
    }
    const t = this._instr;
    if (t !== null) {
      const s = t.start(OPS.COMMAND, commandName(args[0]));
      return s.settle(this._op(OP_COMMAND, null, signal, null, submitCommand, this._c, args));
    }
    return this._op(OP_COMMAND, null, signal, null, submitCommand, this._c, args);
  }

  /** A rate limiter bound to this client: `limit` units per `period` ms of
   *  `algorithm` ("fixed_window", "sliding_log", "sliding_window",
   *  "token_bucket", "gcra"), `burst` (token bucket / GCRA bucket size; 0 =
   *  limit), `failOpen` (overrides the client's policy; the core's default is
   *  fail open). Limiters with the same name, algorithm and parameters share
   *  one budget per key, in every process and language. */
  limiter(name, options = {}) {
    this._checkOpen();
    return new Limiter(this, name, options, { op: OP_RATELIMIT, status: OP_STATUS });
  }

  /** A two-tier cache named `name` (lib/cache.js, docs/CACHE.md): `codec`
   *  ('json' by default, 'buffer', 'string' or { encode, decode }); `ttl`,
   *  `wait`, `swr`, `sie` (ms) the defaults of its calls; `l1Entries`,
   *  `l1Bytes`, `l1Ttl`, `maxValueBytes`, `negativeTtl`, `lease`, `stale`,
   *  `jitter`, `xfetchBeta`, `failOpen` the core's settings. */
  cache(name, options = {}) {
    this._checkOpen();
    return new Cache(this, name, options, { cache: OP_CACHE, status: OP_STATUS });
  }

  // ---- streams (lib/stream.js) ---------------------------------------------------

  /** Appends one message to `stream`: `payload` encoded by `opts.codec`
   *  ('json' by default, 'bytes', or { name, encode, decode }), with
   *  `opts.headers` and plain `opts.fields` ({ name: Buffer | string });
   *  trimmed by `opts.maxLen` (entries) or `opts.maxAge` (ms). Resolves to the id. */
  publish(stream, payload, opts) {
    return streams.publish(this, stream, payload, opts);
  }

  /** Appends many messages in one round trip (atomic, ids in order): each a
   *  payload or { payload?, fields?, headers?, codec? }. Resolves to the ids. */
  publishBatch(stream, messages, opts) {
    return streams.publishBatch(this, stream, messages, opts);
  }

  /** Creates consumer group `group` on `stream` (MKSTREAM) from `opts.start`
   *  ('$' new entries, the default; '0' all); an existing group is fine. */
  createGroup(stream, group, opts) {
    return streams.createGroup(this, stream, group, opts);
  }

  /** Entries of `stream`'s dead-letter stream ({ id, originalId, stream,
   *  group, consumer, deliveries, error, deleted, fields }), oldest first
   *  (`opts.newestFirst`), up to `opts.count` (100), after `opts.after`. */
  deadLetters(stream, opts) {
    return streams.deadLetters(this, stream, opts);
  }

  /** Puts DLQ entry `dlqId` back on `stream` (a new entry with
   *  rx-requeued-from) and removes it from the DLQ; resolves to the new id. */
  requeueDeadLetter(stream, dlqId) {
    return streams.requeueDeadLetter(this, stream, dlqId);
  }

  /** DLQ entry `dlqId` of `stream` (as deadLetters() gives them); rejects
   *  with Empty (code ERR_EMPTY) when there is none. */
  deadLetter(stream, dlqId) {
    return streams.inspectDeadLetter(this, stream, dlqId);
  }

  /** The state of consumer group `group` on `stream`: { consumers, pending,
   *  lag, entriesRead, lastDeliveredId } (lag and entriesRead null when
   *  Redis cannot tell); rejects with Empty (code ERR_EMPTY) when there is
   *  no such group. */
  groupInfo(stream, group) {
    return streams.groupInfo(this, stream, group);
  }

  /** Deletes the DLQ entries of `stream` (all, or up to `opts.upTo`);
   *  resolves to how many. */
  purgeDeadLetters(stream, opts) {
    return streams.purgeDeadLetters(this, stream, opts);
  }

  /** A consumer of `group` on `stream` (see Consumer in lib/stream.js). */
  consumer(stream, group, opts) {
    return new streams.Consumer(this, stream, group, opts);
  }

  /** Looks up or creates the idempotency record of `key`: resolves to an
   *  IdempotencyRecord whose state is "NEW" (run the work, then complete() or
   *  fail() it), "IN_PROGRESS", "COMPLETED" (with the stored response and
   *  metadata) or "MISMATCH" (another fingerprint). `lease` (ms, default
   *  30000) is the in-progress lease; `wait` (ms, default 0) waits for an
   *  in-progress record to finish. */
  idempotencyBegin(key, fingerprint, opts) {
    const t = this._instr;
    const s = t === null ? null : t.start(OPS.IDEM_BEGIN, null);
    const p = this._op(OP_IDEM, null, signalOf(opts), null, submitBegin, this._c, key, fingerprint, opts);
    return s === null ? p : s.settle(p);
  }

  /** Runs `fn()` once per `key`: the first caller (state NEW) runs it and
   *  stores its result (encoded by `codec`, JSON by default) for `ttl` ms
   *  (default 24 h); duplicates get the stored result decoded. fn throwing
   *  fails the record (a retry runs it again) and rethrows. A duplicate
   *  while the first still runs (after `wait` ms) rejects with
   *  IdempotencyInProgress; another fingerprint with IdempotencyMismatch. */
  idempotent(key, fingerprint, fn, options = {}) {
    return runIdempotent(this, key, fingerprint, fn, options);
  }

  /** A snapshot of the core's counters and latency histograms. */
  stats() {
    this._checkOpen();
    const s = call(() => N.redisx_client_stats(this._c));
    try {
      const cc = (c) => N.redisx_stats_client(s, c);
      const nb = N.redisx_stats_buckets(s);
      const bucketUpperNs = [];
      for (let b = 0; b < nb; b++) {
        const u = N.redisx_stats_bucket_upper_ns(s, b);
        bucketUpperNs.push(typeof u === 'bigint' ? Infinity : u);
      }
      const series = [];
      for (let i = 0, n = N.redisx_stats_series(s); i < n; i++) {
        const c = (k) => N.redisx_stats_counter(s, i, k);
        const buckets = [];
        for (let b = 0; b < nb; b++) buckets.push(N.redisx_stats_bucket_count(s, i, b));
        series.push({
          primitive: N.redisx_stats_primitive(s, i),
          operation: N.redisx_stats_operation(s, i),
          calls: c(N.REDISX_COUNTER_CALLS),
          ok: c(N.REDISX_COUNTER_OK),
          rejected: c(N.REDISX_COUNTER_REJECTED),
          errors: c(N.REDISX_COUNTER_ERRORS),
          timeouts: c(N.REDISX_COUNTER_TIMEOUTS),
          failOpen: c(N.REDISX_COUNTER_FAIL_OPEN),
          roundTrips: c(N.REDISX_COUNTER_ROUND_TRIPS),
          p50Ns: N.redisx_stats_quantile_ns(s, i, 0.5),
          p90Ns: N.redisx_stats_quantile_ns(s, i, 0.9),
          p99Ns: N.redisx_stats_quantile_ns(s, i, 0.99),
          buckets,
        });
      }
      return {
        client: {
          connects: cc(N.REDISX_CLIENT_CONNECTS),
          disconnects: cc(N.REDISX_CLIENT_DISCONNECTS),
          connectFailures: cc(N.REDISX_CLIENT_CONNECT_FAILURES),
          scriptReloads: cc(N.REDISX_CLIENT_SCRIPT_RELOADS),
          inFlight: cc(N.REDISX_CLIENT_IN_FLIGHT),
          connectionsUp: cc(N.REDISX_CLIENT_CONNECTIONS_UP),
          circuitOpens: cc(N.REDISX_CLIENT_CIRCUIT_OPENS),
          circuitRejected: cc(N.REDISX_CLIENT_CIRCUIT_REJECTED),
          circuitsOpen: cc(N.REDISX_CLIENT_CIRCUITS_OPEN),
          wakeups: cc(N.REDISX_CLIENT_WAKEUPS),
          clusterMoved: cc(N.REDISX_CLIENT_CLUSTER_MOVED),
          clusterAsk: cc(N.REDISX_CLIENT_CLUSTER_ASK),
          clusterRetries: cc(N.REDISX_CLIENT_CLUSTER_RETRIES),
          clusterRefreshes: cc(N.REDISX_CLIENT_CLUSTER_REFRESHES),
        },
        bucketUpperNs,
        series,
      };
    } finally {
      N.redisx_stats_free(s);
    }
  }

  /** Closes the client: stops lock waits and renewals, lets sent commands
   *  finish within their timeout, rejects everything else with ClientClosed.
   *  The blocking part runs off the JS thread. Idempotent. */
  close() {
    if (this._closed) return this._closed;
    this._closing = true;
    const finish = () => {
      // The shutdown has completed every operation into the queue.
      this._drain(Infinity);
      this._poller.close();
      // Nothing should be left; if the core ever left one, it must not hang.
      for (const [tag, op] of this._pending) this._settle(tag, op, ClientClosed.status, 'client is closed');
      this._lost.clear();
      // Every use of the handle is behind _closing or _pending (empty now),
      // on this thread: nothing can call into it any more.
      N.freeClient(this._c);
      this._c = null;
      N.redisx_queue_free(this._q);
      this._q = null;
    };
    // Stream consumers and operations use the handle from the thread pool:
    // they end before the shutdown (lib/stream.js).
    const streamsDone = this._streams ? this._streams.close().catch(() => {}) : Promise.resolve();
    this._closed = streamsDone.then(() => N.shutdownClient(this._c)).then(finish, (e) => {
      finish();
      throw e;
    });
    return this._closed;
  }

  // ---- internals -------------------------------------------------------------

  _checkOpen() {
    if (this._closing) throw fromStatus(ClientClosed.status, 'client is closed');
  }

  // One asynchronous C call: submit(tag, a, b, c, d) starts it with `tag` as
  // its user value, and the completion carrying that tag settles the
  // Promise. submit is a function of its arguments only (no closure per call:
  // at a thousand operations in flight they add up in the collector). After
  // close() every call rejects with ClientClosed at once: the shutdown runs
  // on another thread, and a call made after close() must not race it into
  // the core. `owner` (a Limiter, an IdempotencyRecord, a Lock) is held until the
  // operation completes, so that its C handle is not freed by the garbage
  // collector while the core still uses it. `signal` (an AbortSignal) cancels
  // the operation in the core.
  _op(kind, name, signal, owner, submit, a, b, c, d) {
    if (this._closing) return this._refuse(kind, owner, fromStatus(ClientClosed.status, 'client is closed'));
    if (signal === undefined || signal === null) {
      signal = null;
    } else if (!isSignal(signal)) {
      return this._refuse(kind, owner, invalid('signal must be an AbortSignal'));
    } else if (signal.aborted) {
      return this._refuse(kind, owner, new AbortError(signal.reason));
    }
    const tag = this._nextTag++;
    try {
      submit(tag, a, b, c, d);
    } catch (e) {
      return this._refuse(kind, owner, translate(e));
    }
    const promise = new Promise(capture);
    this._pending.set(tag, new Pending(kind, captured.resolve, captured.reject, name, owner, signal));
    if (signal) this._watch(signal, tag);
    if (this._pending.size === 1) this._poller.ref();
    return promise;
  }

  // An operation that never reached the core.
  _refuse(kind, owner, err) {
    if (kind === OP_RELEASE) this._forgetLost(owner);
    return Promise.reject(err);
  }

  _watch(signal, tag) {
    let entry = this._signals.get(signal);
    if (!entry) {
      entry = { tags: new Set(), onAbort: null };
      entry.onAbort = () => this._abort(entry);
      this._signals.set(signal, entry);
      signal.addEventListener('abort', entry.onAbort, { once: true });
    }
    entry.tags.add(tag);
  }

  _unwatch(signal, tag) {
    const entry = this._signals.get(signal);
    if (!entry) return;
    entry.tags.delete(tag);
    if (entry.tags.size === 0) {
      this._signals.delete(signal);
      signal.removeEventListener('abort', entry.onAbort);
    }
  }

  // A signal fired: each of its pending operations is cancelled in the core,
  // which completes it with ERR_CANCELLED shortly (or normally, if it
  // finished first). During close the shutdown completes them with
  // ClientClosed instead. The entry goes when the last one completes.
  _abort(entry) {
    for (const tag of entry.tags) {
      try {
        N.redisx_cancel(this._c, tag);
      } catch {
        // ClientClosed: the shutdown completes the operation.
        break;
      }
    }
  }

  // Removes a pending operation and rejects it with `status` (an abort
  // becomes an AbortError carrying the signal's reason).
  _settle(tag, op, status, detail) {
    this._pending.delete(tag);
    if (op.signal) this._unwatch(op.signal, tag);
    if (op.kind === OP_RELEASE) this._forgetLost(op.owner);
    if (status === Cancelled.status && op.signal) op.reject(new AbortError(op.signal.reason));
    else op.reject(fromStatus(status, detail));
  }

  _keepAlive(lock, onLost) {
    const tag = this._nextTag++;
    call(() => N.redisx_lock_start_renewal(lock._h, tag));
    lock._lostTag = tag;
    // Held here so that renewal (stopped when a handle is freed) outlives the
    // caller's references to the lock.
    this._lost.set(tag, { lock, onLost });
  }

  _forgetLost(lock) {
    if (lock._lostTag) this._lost.delete(lock._lostTag);
  }

  _drain(budget) {
    const q = this._q;
    if (!q) return;
    const nums = this._nums;
    const objs = this._objs;
    while (budget > 0) {
      const n = N.drainQueue(q, nums, objs, budget, replyError);
      for (let i = 0; i < n; i++) {
        const obj = objs[i];
        objs[i] = undefined;
        try {
          this._dispatch(nums, i * STRIDE, obj);
        } catch (e) {
          // Never lose the rest of the batch: its items are already freed.
          reportAsync(e);
        }
      }
      budget -= n;
      if (n < DRAIN_BATCH) break; // the queue is empty
    }
    if (this._pending.size === 0) this._poller.unref();
  }

  // One completion: nums[o + F_*] and obj as drainQueue() left them.
  _complete(nums, o, obj) {
    const tag = nums[o + F_TAG];
    const payload = nums[o + F_PAYLOAD];
    const op = this._pending.get(tag);
    if (op === undefined) {
      freePayload(payload, obj);
      return;
    }
    const status = nums[o + F_STATUS];
    if (status < 0) {
      this._settle(tag, op, status, obj);
      return;
    }
    this._pending.delete(tag);
    if (op.signal) this._unwatch(op.signal, tag);
    const v = o + F_V0;
    switch (op.kind) {
      case OP_ACQUIRE:
        op.resolve(new Lock(this, payload === L.LOCK ? obj : null, op.name));
        return;
      case OP_INSPECT:
        if (payload === L.LOCK_INFO) {
          op.resolve({
            locked: nums[v] !== 0,
            fencingToken: nums[v + 1],
            ttl: nums[v + 2],
            lastFencingToken: nums[v + 3],
          });
        } else if (payload === L.LOCK_INFO_OBJ) {
          op.resolve({ locked: obj[0] !== 0, fencingToken: obj[1], ttl: obj[2], lastFencingToken: obj[3] });
        } else {
          op.resolve(lockInfoObject(null));
        }
        return;
      case OP_RATELIMIT:
        if (payload === L.RATELIMIT) {
          op.resolve(
            new RateLimitResult(nums[v] !== 0, nums[v + 1], nums[v + 2], nums[v + 3], nums[v + 4], nums[v + 5] !== 0),
          );
        } else if (payload === L.RATELIMIT_OBJ) {
          op.resolve(new RateLimitResult(obj[0] !== 0, obj[1], obj[2], obj[3], obj[4], obj[5] !== 0));
        } else {
          op.resolve(RateLimitResult._fromHandle(null));
        }
        return;
      case OP_IDEM:
        op.resolve(new IdempotencyRecord(this, payload === L.IDEM ? obj : null, IDEM_OPS));
        return;
      case OP_CACHE:
        op.resolve(payload === L.CACHE ? obj : null);
        return;
      case OP_COMMAND: {
        const value = payload === L.REPLY ? obj : null;
        if (value instanceof ServerError) op.reject(value);
        else op.resolve(value);
        return;
      }
      case OP_RELEASE:
        this._forgetLost(op.owner);
        op.resolve();
        return;
      default:
        freePayload(payload, obj);
        op.resolve();
    }
  }

  _dispatch(nums, o, obj) {
    const kind = nums[o + F_KIND];
    if (kind === N.REDISX_ITEM_COMPLETION) {
      this._complete(nums, o, obj);
    } else if (kind === N.REDISX_ITEM_LOCK_LOST) {
      const tag = nums[o + F_TAG];
      const entry = this._lost.get(tag);
      if (!entry) return;
      this._lost.delete(tag);
      if (entry.onLost) {
        try {
          entry.onLost(entry.lock);
        } catch (e) {
          reportAsync(e);
        }
      }
    } else if (kind === N.REDISX_ITEM_EVENT) {
      if (!this._onEvent) return;
      try {
        this._onEvent(obj);
      } catch (e) {
        reportAsync(e);
      }
    } else if (kind === N.REDISX_ITEM_STATE) {
      if (!this._onState) return;
      const state = nums[o + F_V0];
      try {
        this._onState({
          connection: nums[o + F_V0 + 1],
          state: STATES[state] ?? String(state),
          detail: obj[0],
          node: obj[1],
        });
      } catch (e) {
        reportAsync(e);
      }
    } else if (kind === N.REDISX_ITEM_LOG) {
      const level = nums[o + F_V0];
      if (!this._onLog) return;
      try {
        this._onLog({ level: LEVELS[level] ?? String(level), message: obj });
      } catch (e) {
        reportAsync(e);
      }
    }
  }
}

module.exports = { Client, Lock };
