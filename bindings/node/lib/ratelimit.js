'use strict';
// Rate limiting: Limiter (made by client.limiter()), RateLimitResult, the
// standard headers, and an Express-style middleware. The algorithms, the keys
// and the fail policy are the C core's (core/scripts/rl_*.lua): a limiter here
// shares its budget with a Python or Go limiter of the same name, algorithm
// and parameters on the same prefix.
const util = require('node:util');
const N = require('./native');
const { invalid } = require('./errors');
const { call, checkMs, checkKey, options: optionsArg, signalOf } = require('./util');
const { OPS } = require('./instrument');

/** Algorithm names → the C enum (numbers never change). */
const ALGORITHMS = Object.freeze({
  fixed_window: N.REDISX_RATELIMIT_FIXED_WINDOW,
  sliding_log: N.REDISX_RATELIMIT_SLIDING_LOG,
  sliding_window: N.REDISX_RATELIMIT_SLIDING_WINDOW,
  token_bucket: N.REDISX_RATELIMIT_TOKEN_BUCKET,
  gcra: N.REDISX_RATELIMIT_GCRA,
});

const LIMITER_OPTIONS = new Set(['algorithm', 'limit', 'period', 'burst', 'failOpen']);

// Limiter handles are freed when their Limiter is garbage collected; checks in
// flight hold the Limiter (Client._op's owner), and the core lets them finish.
const limiterHandles = new FinalizationRegistry((h) => N.redisx_limiter_free(h));

/** The outcome of a check or peek. Times are milliseconds. */
class RateLimitResult {
  /** @internal */
  constructor(allowed, limit, remaining, reset, retryAfter, failOpen) {
    /** True when the check was allowed (and its cost spent). */
    this.allowed = allowed;
    /** The limiter's capacity (X-RateLimit-Limit). */
    this.limit = limit;
    /** Units still available (X-RateLimit-Remaining). */
    this.remaining = remaining;
    /** Milliseconds until the budget is whole again. */
    this.reset = reset;
    /** When denied: milliseconds until the same cost can pass; -1 when allowed. */
    this.retryAfter = retryAfter;
    /** True when Redis was unreachable and the fail-open policy allowed it. */
    this.failOpen = failOpen;
  }

  /** @internal */
  static _fromHandle(r) {
    return new RateLimitResult(
      N.redisx_ratelimit_result_allowed(r) !== 0,
      N.redisx_ratelimit_result_limit(r),
      N.redisx_ratelimit_result_remaining(r),
      N.redisx_ratelimit_result_reset_ms(r),
      N.redisx_ratelimit_result_retry_after_ms(r),
      N.redisx_ratelimit_result_fail_open(r) !== 0,
    );
  }

  /** The standard response headers (see rateLimitHeaders). */
  headers() {
    return rateLimitHeaders(this);
  }
}

/** The C core's rate-limit answer of a result (redisx_http_ratelimit_answer):
 *  { status, headers: [[name, value], ...], body }; status 0 when allowed
 *  (only the headers), 429 when denied. Negative values count as 0. */
function rateLimitAnswer(result) {
  const z = (v) => (v < 0 ? 0 : v);
  return call(() =>
    N.redisx_http_ratelimit_answer(
      result.allowed ? 1 : 0,
      z(result.limit),
      z(result.remaining),
      z(result.reset),
      z(result.retryAfter),
    ),
  );
}

/** X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset (seconds from
 *  now, rounded up) and, when denied, Retry-After (seconds, at least 1): the
 *  same rule in every redisx language (the core's). Values are strings. */
function rateLimitHeaders(result) {
  const headers = {};
  for (const [k, v] of rateLimitAnswer(result).headers) if (k !== 'Content-Type') headers[k] = v;
  return headers;
}

// The submit functions of client._op (no closure per call).
function submitCheck(tag, h, key, cost, opts) {
  optionsArg(opts, 'check: options');
  N.redisx_limiter_check_async(h, checkKey(key, 'rate-limit key'), cost, tag);
}

function submitPeek(tag, h, key, opts) {
  optionsArg(opts, 'peek: options');
  N.redisx_limiter_peek_async(h, checkKey(key, 'rate-limit key'), tag);
}

function submitReset(tag, h, key, opts) {
  optionsArg(opts, 'reset: options');
  N.redisx_limiter_reset_async(h, checkKey(key, 'rate-limit key'), tag);
}

class Limiter {
  /** @internal — use client.limiter(name, options). */
  constructor(client, name, options, ops) {
    if (options === null || typeof options !== 'object') throw invalid('limiter options must be an object');
    for (const k of Object.keys(options)) {
      if (!LIMITER_OPTIONS.has(k)) throw invalid(`unknown limiter option ${JSON.stringify(k)}`);
    }
    const { algorithm, limit, period, burst = 0, failOpen } = options;
    checkKey(name, 'limiter name');
    if (typeof algorithm !== 'string' || !Object.hasOwn(ALGORITHMS, algorithm)) {
      throw invalid(`algorithm must be one of ${Object.keys(ALGORITHMS).join(', ')}, got ${JSON.stringify(algorithm)}`);
    }
    if (typeof limit !== 'number' && typeof limit !== 'bigint') throw invalid('limit must be a number');
    if (typeof burst !== 'number' && typeof burst !== 'bigint') throw invalid('burst must be a number');
    checkMs(period, 'period');
    if (failOpen !== undefined && typeof failOpen !== 'boolean') throw invalid('failOpen must be a boolean');
    const h = call(() => N.redisx_limiter_new(client._c, name, ALGORITHMS[algorithm], limit, period, burst));
    try {
      if (failOpen !== undefined) {
        call(() => N.redisx_limiter_set_fail_policy(h, failOpen ? N.REDISX_FAIL_OPEN : N.REDISX_FAIL_CLOSED));
      }
    } catch (e) {
      N.redisx_limiter_free(h);
      throw e;
    }
    this._client = client;
    this._h = h;
    this._ops = ops;
    /** The limiter's name (namespaces its keys). */
    this.name = name;
    this.algorithm = algorithm;
    this.limit = limit;
    /** Window or refill period in ms. */
    this.period = period;
    this.burst = burst;
    /** Most units one check can spend: limit (windows) or burst (buckets). */
    this.capacity = N.redisx_limiter_capacity(h);
    limiterHandles.register(this, h);
  }

  /** Spends `cost` units (1..capacity, default 1) of `key`'s budget if all are
   *  available. Resolves to a RateLimitResult, allowed or not; rejects with
   *  InvalidArgument for a cost outside 1..capacity, and with
   *  ConnectionError/Timeout only when the limiter fails closed.
   *  check(key, { cost, signal }) and check(key, cost, { signal }) take an
   *  AbortSignal (an aborted check may still have been counted). */
  check(key, cost = 1, opts) {
    if (cost !== null && typeof cost === 'object') {
      opts = cost;
      cost = cost.cost ?? 1;
    }
    const t = this._client._instr;
    const s = t === null ? null : t.start(OPS.RL_CHECK, this.name);
    const p = this._client._op(this._ops.op, null, signalOf(opts), this, submitCheck, this._h, key, cost, opts);
    return s === null ? p : s.settle(p);
  }

  /** What check(key, 1) would answer now, spending nothing. */
  peek(key, opts) {
    const t = this._client._instr;
    const s = t === null ? null : t.start(OPS.RL_PEEK, this.name);
    const p = this._client._op(this._ops.op, null, signalOf(opts), this, submitPeek, this._h, key, opts);
    return s === null ? p : s.settle(p);
  }

  /** Forgets `key`'s state: its whole budget is available again. */
  reset(key, opts) {
    const t = this._client._instr;
    const s = t === null ? null : t.start(OPS.RL_RESET, this.name);
    const p = this._client._op(this._ops.status, null, signalOf(opts), this, submitReset, this._h, key, opts);
    return s === null ? p : s.settle(p);
  }

  /** An Express-style middleware over this limiter (see rateLimit()). */
  middleware(options) {
    return rateLimit(this, options);
  }

  toJSON() {
    const { name, algorithm, limit, period, burst, capacity } = this;
    return { name, algorithm, limit, period, burst, capacity };
  }

  [util.inspect.custom](depth, options, inspect) {
    return `Limiter ${inspect(this.toJSON(), options)}`;
  }
}

/** The client address: Express' req.ip (which honours 'trust proxy'), else
 *  the socket's peer address. */
function clientIp(req) {
  return req.ip ?? req.socket?.remoteAddress ?? req.connection?.remoteAddress ?? 'unknown';
}

/** Express-style middleware `(req, res, next)` (Express app.use, NestJS
 *  consumer.apply or app.use, Connect, plain node:http): checks
 *  `key(req)` (default: the client IP; may return a Promise; null or
 *  undefined skips the check) at `cost(req)` (default 1). Allowed: sets the
 *  standard headers, puts the result on req.rateLimit and calls next().
 *  Denied: 429 with the headers and body "Too Many Requests". An error (a
 *  fail-closed limiter without Redis, a bad key or cost) goes to next(err). */
function rateLimit(limiter, { key = clientIp, cost } = {}) {
  if (!(limiter instanceof Limiter)) throw invalid('rateLimit: the first argument must be a Limiter');
  if (typeof key !== 'function') throw invalid('rateLimit: key must be a function of the request');
  if (cost !== undefined && typeof cost !== 'function') throw invalid('rateLimit: cost must be a function of the request');
  return function redisxRateLimit(req, res, next) {
    (async () => {
      const k = await key(req, res);
      if (k === null || k === undefined) return null;
      const c = cost ? await cost(req, res) : 1;
      return limiter.check(typeof k === 'string' ? k : String(k), c);
    })().then(
      (result) => {
        if (result === null) {
          next();
          return;
        }
        req.rateLimit = result;
        const a = rateLimitAnswer(result);
        for (const [k, v] of a.headers) res.setHeader(k, v);
        if (a.status === 0) {
          next();
          return;
        }
        res.statusCode = a.status; // 429, with Retry-After and the core's body
        res.end(a.body);
      },
      (err) => next(err),
    );
  };
}

module.exports = { Limiter, RateLimitResult, rateLimit, rateLimitHeaders, rateLimitAnswer, ALGORITHMS, clientIp };
