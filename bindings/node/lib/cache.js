'use strict';
// The two-tier cache: Cache (made by client.cache()), codecs, NotFound and the
// NestJS-style @Cached method decorator. L1, L2, single flight across
// processes, stale-while-revalidate, stale-if-error, XFetch and the fail
// policy are the C core's (core/cache.c, docs/CACHE.md): a Cache here encodes
// and decodes values and runs the caller's loader between the core's two
// phases (fetch, then fill / fillNegative / abandon). An L1 hit is answered on
// the JS thread by redisx_cache_peek (never blocks, sends nothing); anything
// else goes through the core's asynchronous calls and the client's queue.
const nodeUtil = require('node:util');
const N = require('./native');
const { invalid, LockNotOwned, RedisxError } = require('./errors');
const { call, checkMs, options: optionsArg, signalOf } = require('./util');
const { jsonCodec } = require('./idempotency');
const { OPS } = require('./instrument');

const HIT = N.REDISX_CACHE_HIT;
const NEGATIVE = N.REDISX_CACHE_NEGATIVE;
const LAYERS = [null, 'l1', 'l2'];

// The core's outcome identifier of an answer (redisx_cache_entry_outcome),
// for the instrumentation hook.
function outcomeOf(a) {
  return a[8];
}

/** The cache's counters by name, in the core's order (redisx_cache_counter). */
const COUNTERS = Object.freeze([
  'l1Hits', 'l1Misses', 'l2Hits', 'l2Misses', 'loads', 'loadErrors', 'waitersWoken',
  'staleServed', 'earlyRefreshes', 'failOpen', 'l1Evictions', 'l1Entries', 'l1Bytes', 'invalidations',
]);

/** Codecs by name: json (the default and the interop format), buffer, string. */
const codecs = Object.freeze({
  json: jsonCodec,
  buffer: Object.freeze({
    encode: (v) => {
      if (Buffer.isBuffer(v)) return v;
      if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
      throw invalid(`the buffer codec takes a Buffer or Uint8Array, got ${typeof v}`);
    },
    decode: (b) => b,
  }),
  string: Object.freeze({
    encode: (v) => {
      if (typeof v !== 'string') throw invalid(`the string codec takes a string, got ${typeof v}`);
      return Buffer.from(v, 'utf8');
    },
    decode: (b) => b.toString('utf8'),
  }),
});

/** Thrown by a loader to say the key has no value: getOrLoad() then caches
 *  "not found" for the cache's negative TTL and rejects with NotFound, as it
 *  does for a cached "not found". An answer, not a RedisxError. */
class NotFound extends Error {
  constructor(key) {
    super(key === undefined ? 'not found' : `not found: ${JSON.stringify(key)}`);
    this.key = key;
  }
}
Object.defineProperty(NotFound.prototype, 'name', { value: 'NotFound', writable: true, configurable: true });

const CACHE_OPTIONS = new Set([
  'codec', 'ttl', 'wait', 'swr', 'sie', 'l1Entries', 'l1Bytes', 'l1Ttl', 'maxValueBytes', 'negativeTtl', 'lease',
  'stale', 'jitter', 'xfetchBeta', 'failOpen', 'memoize', 'tracking',
]);

// Cache handles are freed when their Cache is garbage collected; operations in
// flight hold the Cache (Client._op's owner).
const cacheHandles = new FinalizationRegistry((h) => N.redisx_cache_free(h));

function codecOf(codec) {
  if (codec === undefined || codec === null) return jsonCodec;
  if (typeof codec === 'string') {
    const c = codecs[codec];
    if (!c) throw invalid(`codec must be one of ${Object.keys(codecs).join(', ')} or { encode, decode }; got ${codec}`);
    return c;
  }
  if (typeof codec.encode !== 'function' || typeof codec.decode !== 'function') {
    throw invalid('a codec needs encode(value) → Buffer and decode(buffer) → value');
  }
  return codec;
}

const SURROGATE = /\p{Cs}/u;
const MEMO_MAX = 4096; // memoised decoded values per cache (cleared when full)
const versionOut = new Float64Array(1); // cacheGetL1's version (one JS thread: shared)

function checkCacheKey(key) {
  if (typeof key !== 'string') throw invalid(`cache key must be a string, got ${key === null ? 'null' : typeof key}`);
  if (key.includes('\0')) throw invalid('cache key must not contain NUL characters');
  if (SURROGATE.test(key)) throw invalid('cache key must not contain lone surrogates');
  return key;
}

function encodeWith(codec, value) {
  const b = codec.encode(value);
  if (Buffer.isBuffer(b)) return b;
  if (b instanceof Uint8Array) return Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  if (typeof b === 'string') return Buffer.from(b, 'utf8');
  throw invalid('codec.encode must return a Buffer, a Uint8Array or a string');
}

// Tags: an array of strings (UTF-8) or Buffers/Uint8Arrays; their bounds
// (1..1024 bytes, 64 per entry) are the core's. Checked before submitting;
// the core's list handle lives only for the submitting call (the core copies).
function checkTags(tags, what) {
  if (tags === undefined || tags === null) return null;
  if (typeof tags === 'string' || tags instanceof Uint8Array) tags = [tags];
  if (!Array.isArray(tags)) throw invalid(`${what}: tags must be an array of strings or Buffers`);
  return tags.map((t) => {
    if (typeof t === 'string') return Buffer.from(t, 'utf8');
    if (Buffer.isBuffer(t)) return t;
    if (t instanceof Uint8Array) return Buffer.from(t.buffer, t.byteOffset, t.byteLength);
    throw invalid(`${what}: a cache tag is a string or a Buffer, got ${t === null ? 'null' : typeof t}`);
  });
}
function withTags(tags, fn) {
  const th = N.redisx_tags_new();
  try {
    for (const t of tags) N.redisx_tags_add(th, t);
    return fn(th);
  } finally {
    N.redisx_tags_free(th);
  }
}

// The submit functions of client._op (no closure per call).
function submitFetch(tag, h, key, get, windows) {
  if (get) N.redisx_cache_get_async(h, key, tag);
  else if (windows.length > 3) withTags(windows[3], (th) => N.redisx_cache_fetch_tagged_async(h, key, th, windows[0], windows[1], windows[2], tag));
  else N.redisx_cache_fetch_async(h, key, windows[0], windows[1], windows[2], tag);
}
function submitSet(tag, h, key, value, ttl) {
  N.redisx_cache_set_async(h, key, value, ttl, tag);
}
function submitSetTagged(tag, h, key, value, rest) {
  withTags(rest[1], (th) => N.redisx_cache_set_tagged_async(h, key, value, rest[0], th, tag));
}
function submitInvalidate(tag, h, tags) {
  withTags(tags, (th) => N.redisx_cache_invalidate_tags_async(h, th, tag));
}
function submitDelete(tag, h, key) {
  N.redisx_cache_delete_async(h, key, tag);
}
function submitFill(tag, entry, value, ttl, negative) {
  if (negative) N.redisx_cache_fill_negative_async(entry, tag);
  else N.redisx_cache_fill_async(entry, value, ttl, tag);
}
function submitAbandon(tag, entry) {
  N.redisx_cache_abandon_async(entry, tag);
}

class Cache {
  /** @internal — made by client.cache(name, options). */
  constructor(client, name, opts, ops) {
    const o = optionsArg(opts, 'cache: options');
    for (const k of Object.keys(o)) if (!CACHE_OPTIONS.has(k)) throw invalid(`cache: unknown option ${k}`);
    const {
      codec, ttl = 60000, wait = 10000, swr = 0, sie = 0, l1Entries, l1Bytes, l1Ttl, maxValueBytes, negativeTtl,
      lease, stale, jitter, xfetchBeta, failOpen, memoize = false, tracking,
    } = o;
    this._client = client;
    this._memo = memoize ? new Map() : null; // key → { version, value } of L1 copies
    this._ops = ops;
    /** The cache's name. */
    this.name = name;
    this.codec = codecOf(codec);
    this.ttl = checkMs(ttl, 'ttl');
    this.wait = checkMs(wait, 'wait');
    this.swr = checkMs(swr, 'swr');
    this.sie = checkMs(sie, 'sie');
    const h = call(() => N.redisx_cache_new(client._c, name));
    try {
      if (l1Entries !== undefined || l1Bytes !== undefined || l1Ttl !== undefined) {
        call(() => N.redisx_cache_set_l1(h, l1Entries ?? 10000, l1Bytes ?? 64 * 1024 * 1024, checkMs(l1Ttl ?? 1000, 'l1Ttl')));
      }
      if (maxValueBytes !== undefined) call(() => N.redisx_cache_set_max_value_bytes(h, maxValueBytes));
      if (negativeTtl !== undefined) call(() => N.redisx_cache_set_negative_ttl_ms(h, checkMs(negativeTtl, 'negativeTtl')));
      if (lease !== undefined) call(() => N.redisx_cache_set_lease_ms(h, checkMs(lease, 'lease')));
      if (stale !== undefined) call(() => N.redisx_cache_set_stale_ms(h, checkMs(stale, 'stale')));
      if (jitter !== undefined) call(() => N.redisx_cache_set_ttl_jitter(h, jitter));
      if (xfetchBeta !== undefined) call(() => N.redisx_cache_set_xfetch_beta(h, xfetchBeta));
      if (failOpen !== undefined) {
        call(() => N.redisx_cache_set_fail_policy(h, failOpen ? N.REDISX_FAIL_OPEN : N.REDISX_FAIL_CLOSED));
      }
      if (tracking !== undefined) {
        if (typeof tracking !== 'boolean') throw invalid('cache: tracking must be a boolean');
        call(() => N.redisx_cache_set_tracking(h, tracking ? 1 : 0));
      }
    } catch (e) {
      N.redisx_cache_free(h);
      throw e;
    }
    this._h = h;
    cacheHandles.register(this, h);
  }

  // An answer of the core: [state, value, stale, failOpen, layer, ttlMs, version, lease].
  _fetch(key, get, windows, opts) {
    let hit;
    try {
      hit = call(() => N.cachePeek(this._h, checkCacheKey(key)));
    } catch (e) {
      return Promise.reject(e);
    }
    if (hit !== null) return Promise.resolve(hit);
    return this._client._op(this._ops.cache, null, signalOf(opts), this, submitFetch, this._h, key, get, windows);
  }

  _entry(a) {
    return {
      found: a[0] === HIT,
      value: a[0] === HIT ? this.codec.decode(a[1]) : undefined,
      negative: a[0] === NEGATIVE,
      stale: a[2],
      failOpen: a[3],
      layer: LAYERS[a[4]] ?? null,
      ttl: a[5],
    };
  }

  /** Looks `key` up without loading: { found, value, negative, stale,
   *  failOpen, layer ('l1' | 'l2' | null), ttl (ms fresh in that layer) }. */
  lookup(key, opts) {
    const t = this._client._instr;
    if (t === null) return this._lookup(key, opts, null);
    const s = t.start(OPS.CACHE_GET, this.name);
    return s.settle(this._lookup(key, opts, s));
  }

  async _lookup(key, opts, s) {
    const a = await this._fetch(key, true, null, opts);
    if (s !== null) s.outcome(outcomeOf(a));
    return this._entry(a);
  }

  /** The fresh value of `key`, or undefined (also for a cached "not found").
   *  With `memoize: true` an L1 copy is decoded once and the same value
   *  returned on every hit: do not modify it. */
  get(key, opts) {
    const t = this._client._instr;
    if (t === null) return this._get(key, opts, null);
    const s = t.start(OPS.CACHE_GET, this.name);
    return s.settle(this._get(key, opts, s));
  }

  async _get(key, opts, s) {
    if (typeof key === 'string' && !key.includes('\0') && !SURROGATE.test(key)) {
      const memo = this._memo;
      const m = memo === null ? undefined : memo.get(key);
      // an L1 hit: no queue, no answer array; true: `m` is that copy's decode
      const hit = N.cacheGetL1(this._h, key, m === undefined ? 0 : m.version, versionOut);
      // no entry on this path: what redisx_cache_entry_outcome says of an L1 copy
      if (hit !== null && s !== null) s.outcome(hit === false ? 'negative' : 'hit_l1');
      if (hit === true) return m.value;
      if (hit === false) return undefined;
      if (hit !== null) {
        const value = this.codec.decode(hit);
        if (memo !== null && versionOut[0] !== 0) {
          if (memo.size >= MEMO_MAX) memo.clear();
          memo.set(key, { version: versionOut[0], value });
        }
        return value;
      }
    }
    const a = await this._fetch(key, true, null, opts);
    if (s !== null) s.outcome(outcomeOf(a));
    return a[0] === HIT ? this.codec.decode(a[1]) : undefined;
  }

  /** Writes `value` for `ttl` ms (default: the cache's) to Redis and this
   *  process's L1; a load in progress can then no longer fill. `opts.tags`:
   *  the tags the entry carries, for invalidateTags(). */
  set(key, value, ttl, opts) {
    const t = this._client._instr;
    if (t === null) return this._set(key, value, ttl, opts);
    return t.start(OPS.CACHE_SET, this.name).settle(this._set(key, value, ttl, opts));
  }

  _set(key, value, ttl, opts) {
    let args, tags;
    try {
      args = [checkCacheKey(key), encodeWith(this.codec, value), checkMs(ttl ?? this.ttl, 'ttl')];
      tags = checkTags(opts?.tags, 'set');
    } catch (e) {
      return Promise.reject(e);
    }
    if (tags !== null) {
      return this._client._op(this._ops.status, null, signalOf(opts), this, submitSetTagged, this._h, args[0], args[1],
        [args[2], tags]);
    }
    return this._client._op(this._ops.status, null, signalOf(opts), this, submitSet, this._h, ...args);
  }

  /** Invalidates every entry carrying any of `tags` (strings or Buffers),
   *  written by any process in any language: once the Promise resolves no
   *  read from Redis answers such an entry and this process's L1 copies are
   *  gone; other processes' L1 copies go as after a delete. One round trip
   *  per Redis node, whatever the number of entries. Rejects when Redis
   *  cannot be reached (whatever the fail policy). */
  invalidateTags(tags, opts) {
    const t = this._client._instr;
    if (t === null) return this._invalidateTags(tags, opts);
    return t.start(OPS.CACHE_INVALIDATE_TAGS, this.name).settle(this._invalidateTags(tags, opts));
  }

  _invalidateTags(tags, opts) {
    let list;
    try {
      list = checkTags(tags, 'invalidateTags');
      if (list === null) throw invalid('invalidateTags: tags must be an array of strings or Buffers');
    } catch (e) {
      return Promise.reject(e);
    }
    return this._client._op(this._ops.status, null, signalOf(opts), this, submitInvalidate, this._h, list);
  }

  /** Deletes `key` from Redis and this process's L1, and ends any load in progress. */
  delete(key, opts) {
    const t = this._client._instr;
    if (t === null) return this._delete(key, opts);
    return t.start(OPS.CACHE_DELETE, this.name).settle(this._delete(key, opts));
  }

  _delete(key, opts) {
    try {
      checkCacheKey(key);
    } catch (e) {
      return Promise.reject(e);
    }
    return this._client._op(this._ops.status, null, signalOf(opts), this, submitDelete, this._h, key);
  }

  /** The value of `key`; when nobody has it, `loader()` (may be async) runs
   *  once across every process (the others wait up to `wait` ms, then
   *  reject with Timeout) and its result is cached for `ttl` ms. A loader
   *  throwing NotFound caches "not found" (NotFound rejected); any other
   *  error caches nothing, lets a waiter take over at once, and rejects
   *  unless a stale value within `sie` ms is there to serve. Under `swr`
   *  (ms) a stale value is served while one caller refreshes it. `tags`:
   *  the loaded value carries them; an invalidateTags() of one of them while
   *  the loader runs makes the value stale on arrival. */
  getOrLoad(key, loader, opts) {
    const t = this._client._instr;
    if (t === null) return this._getOrLoad(key, loader, opts, null);
    const s = t.start(OPS.CACHE_FETCH, this.name);
    return s.settle(this._getOrLoad(key, loader, opts, s));
  }

  async _getOrLoad(key, loader, opts, s) {
    if (typeof loader !== 'function') throw invalid('getOrLoad: loader must be a function');
    const o = optionsArg(opts, 'getOrLoad: options');
    const ttl = checkMs(o.ttl ?? this.ttl, 'ttl');
    const windows = [checkMs(o.wait ?? this.wait, 'wait'), checkMs(o.swr ?? this.swr, 'swr'), checkMs(o.sie ?? this.sie, 'sie')];
    const tags = checkTags(o.tags, 'getOrLoad');
    if (tags !== null) windows.push(tags);
    const a = await this._fetch(key, false, windows, o);
    if (s !== null) s.outcome(outcomeOf(a));
    if (a[0] === NEGATIVE) throw new NotFound(key);
    const hasFallback = a[1] !== null;
    const fallback = hasFallback ? this.codec.decode(a[1]) : undefined;
    const lease = a[7];
    if (lease === null) return fallback;
    const client = this._client;
    try {
      let value;
      try {
        value = await (s === null ? loader() : s.run(loader));
      } catch (e) {
        if (e instanceof NotFound) {
          await client._op(this._ops.status, null, null, this, submitFill, lease, null, 0, true);
          throw e;
        }
        try {
          await client._op(this._ops.status, null, null, this, submitAbandon, lease);
        } catch (e2) {
          if (!(e2 instanceof RedisxError)) throw e2; // freeing the entry abandons it too
        }
        if (hasFallback) return fallback;
        throw e;
      }
      try {
        await client._op(this._ops.status, null, null, this, submitFill, lease, encodeWith(this.codec, value), ttl, false);
      } catch (e) {
        if (!(e instanceof LockNotOwned)) throw e; // the lease passed: the value is still ours
      }
      return value;
    } finally {
      N.redisx_cache_entry_free(lease);
    }
  }

  /** A method decorator (legacy/TypeScript `experimentalDecorators` and
   *  TC39 forms): see Cached(). */
  cached(options) {
    return Cached({ ...options, cache: this });
  }

  /** The cache's counters and gauges by name (hits and misses per layer,
   *  loads, load errors, waiters woken, stale served, early refreshes,
   *  fail-open answers, L1 evictions, entries and bytes). */
  counters() {
    const out = {};
    COUNTERS.forEach((name, i) => {
      out[name] = N.redisx_cache_counter_of(this._h, i);
    });
    return out;
  }

  [nodeUtil.inspect.custom]() {
    return `Cache ${JSON.stringify(this.name)} { ttl: ${this.ttl} }`;
  }
}

function keyFn(key, name) {
  if (typeof key === 'function') return key;
  if (typeof key === 'string') {
    if (!key.includes('{')) return () => key;
    // "user:{0}" (positional) or "user:{id}" (a property of the first argument)
    return (...args) =>
      key.replace(/\{(\w+)\}/g, (_, p) => {
        const v = /^\d+$/.test(p) ? args[Number(p)] : args[0] == null ? undefined : args[0][p];
        return String(v);
      });
  }
  if (key === undefined) return (...args) => `${name}:${JSON.stringify(args)}`;
  throw invalid('Cached: key must be a string, a function or undefined');
}

// Tags of a decorated call: an array whose strings are templates as `key`
// is, or a function given the arguments returning the array.
function tagsFn(tags) {
  if (tags === undefined || tags === null) return () => undefined;
  if (typeof tags === 'function') return tags;
  const list = typeof tags === 'string' ? [tags] : tags;
  if (!Array.isArray(list)) throw invalid('tags must be an array (templates allowed) or a function');
  const fns = list.map((t) => (typeof t === 'string' ? keyFn(t) : () => t));
  return (...args) => fns.map((f) => f(...args));
}

/** NestJS-style method decorator: `@Cached({ key: 'user:{0}', ttl: 60000 })`
 *  caches the method's (async) result through getOrLoad. `cache` is a Cache,
 *  or omitted to use `this.cache` of the instance (a property holding a
 *  Cache, as NestJS services inject it). `key`: a fixed key, a template
 *  ("{0}" an argument, "{id}" a property of the first argument), or a
 *  function given the arguments (default: the method name and the JSON of
 *  the arguments). Works with TypeScript's experimentalDecorators and with
 *  TC39 decorators. */
function Cached(options = {}) {
  const o = optionsArg(options, 'Cached: options');
  const { cache, key, ttl, wait, swr, sie, tags } = o;
  if (cache !== undefined && !(cache instanceof Cache)) throw invalid('Cached: cache must be a Cache');
  const tagsOf = tagsFn(tags);
  const wrap = (fn, name) => {
    const keyOf = keyFn(key, name);
    return function cachedMethod(...args) {
      const c = cache ?? this?.cache;
      if (!(c instanceof Cache)) return Promise.reject(invalid(`@Cached ${name}: no Cache (pass { cache } or set this.cache)`));
      return c.getOrLoad(keyOf(...args), () => fn.apply(this, args), { ttl, wait, swr, sie, tags: tagsOf(...args) });
    };
  };
  return function decorate(target, context, descriptor) {
    // TC39: (method, context)
    if (typeof target === 'function' && context && typeof context === 'object' && 'kind' in context) {
      return wrap(target, String(context.name));
    }
    // legacy: (prototype, name, descriptor)
    if (descriptor && typeof descriptor.value === 'function') {
      descriptor.value = wrap(descriptor.value, String(context));
      return descriptor;
    }
    throw invalid('@Cached applies to methods');
  };
}

/** Method decorator: after the (async) method resolves, invalidates `tags`
 *  (an array of tags, templates as @Cached's key, or a function given the
 *  arguments) in `cache`, or `this.cache` of the instance. A method that
 *  throws invalidates nothing. */
function InvalidateTags(options = {}) {
  const o = Array.isArray(options) || typeof options === 'function' ? { tags: options } : optionsArg(options, 'InvalidateTags: options');
  const { cache } = o;
  if (cache !== undefined && !(cache instanceof Cache)) throw invalid('InvalidateTags: cache must be a Cache');
  if (o.tags === undefined || o.tags === null) throw invalid('InvalidateTags: tags are required');
  const tagsOf = tagsFn(o.tags);
  const wrap = (fn, name) =>
    async function invalidatingMethod(...args) {
      const c = cache ?? this?.cache;
      if (!(c instanceof Cache)) throw invalid(`@InvalidateTags ${name}: no Cache (pass { cache } or set this.cache)`);
      const result = await fn.apply(this, args);
      await c.invalidateTags(tagsOf(...args));
      return result;
    };
  return function decorate(target, context, descriptor) {
    if (typeof target === 'function' && context && typeof context === 'object' && 'kind' in context) {
      return wrap(target, String(context.name));
    }
    if (descriptor && typeof descriptor.value === 'function') {
      descriptor.value = wrap(descriptor.value, String(context));
      return descriptor;
    }
    throw invalid('@InvalidateTags applies to methods');
  };
}

module.exports = { Cache, Cached, InvalidateTags, NotFound, codecs, COUNTERS };
