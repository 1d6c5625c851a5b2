'use strict';
// `require('redisx/nestjs')`: a NestJS module over the redisx client. Plain
// JavaScript: Nest's decorators are applied as functions (Reflect.decorate),
// dependencies are named by explicit tokens. Nothing here adds semantics: the
// locks, limits, idempotency rules and caches are the client's (and the C
// core's); this file wires them into Nest's modules, guards, interceptors,
// filters and lifecycle hooks. @nestjs/common, @nestjs/core, reflect-metadata
// and rxjs are optional peer dependencies loaded only by this file.
function peer(name) {
  try {
    return require(name);
  } catch (e) {
    if (e && e.code === 'MODULE_NOT_FOUND' && String(e.message).includes(`'${name}'`)) {
      throw new Error(`redisx/nestjs needs ${name} (npm install @nestjs/common @nestjs/core reflect-metadata rxjs)`);
    }
    throw e;
  }
}
peer('reflect-metadata');
const common = peer('@nestjs/common');
const core = peer('@nestjs/core');
const { Client } = require('./client');
const errors = require('./errors');
const { invalid } = errors;
const { IdempotencyInProgress, IdempotencyMismatch } = require('./idempotency');
const { IdempotencyInterceptor } = require('./http');
const { rateLimitAnswer, clientIp } = require('./ratelimit');
const { Cached, InvalidateTags } = require('./cache');
const { StreamConsumer, startStreamConsumers } = require('./stream');

const DEFAULT = 'default';

/** The DI token of the client named `name` ('default'). */
function getClientToken(name = DEFAULT) {
  return `redisx:client:${name}`;
}
const REGISTRY = 'redisx:registry';
const MODULE_OPTIONS = 'redisx:module-options';

// The registries of the application, by client name: the decorators, which
// have no injector, find their client here (a registry adds itself when Nest
// creates it and removes itself at shutdown).
const registries = new Map();

function registryFor(name = DEFAULT) {
  const r = registries.get(name);
  if (!r) throw invalid(`redisx/nestjs: no client named ${JSON.stringify(name)} (is RedisxModule.forRoot imported?)`);
  return r;
}

function makeClient(spec) {
  if (spec instanceof Client) return spec;
  if (typeof spec === 'string') return Client.fromUrl(spec);
  if (spec && typeof spec === 'object' && typeof spec.url === 'string') {
    const { url, ...opts } = spec;
    return Client.fromUrl(url, opts);
  }
  throw invalid('redisx/nestjs: a client is a URL, { url, ...clientOptions } or a Client');
}

/** The clients of module options: { url | client, name } and/or { clients: { name: spec } }. */
function clientSpecs(options) {
  if (options === null || typeof options !== 'object') throw invalid('RedisxModule: options must be an object');
  const specs = {};
  if (options.clients !== undefined) {
    if (options.clients === null || typeof options.clients !== 'object') throw invalid('RedisxModule: clients must be an object');
    Object.assign(specs, options.clients);
  }
  const single = options.client ?? (options.url !== undefined ? { url: options.url, ...(options.clientOptions || {}) } : undefined);
  if (single !== undefined) specs[options.name ?? DEFAULT] = single;
  if (Object.keys(specs).length === 0) throw invalid('RedisxModule: give url, client or clients');
  return specs;
}

/** Owns the clients of one forRoot: starts the @StreamConsumer methods of
 *  every provider on bootstrap; at shutdown stops (drains) them, releases
 *  the locks still held through the module and closes the clients. */
class RedisxRegistry {
  constructor(options, discovery) {
    this.options = options;
    this.discovery = discovery;
    this.clients = new Map();
    for (const [name, spec] of Object.entries(clientSpecs(options))) {
      this.clients.set(name, makeClient(spec));
      registries.set(name, this);
    }
    this.locks = new Set();
    this.runs = [];
  }

  client(name = DEFAULT) {
    const c = this.clients.get(name);
    if (!c) throw invalid(`redisx/nestjs: no client named ${JSON.stringify(name)}`);
    return c;
  }

  /** Tracks a lock until it is released (released at shutdown otherwise). */
  track(lock) {
    this.locks.add(lock);
    return lock;
  }

  untrack(lock) {
    this.locks.delete(lock);
  }

  onApplicationBootstrap() {
    if (!this.discovery || this.options.consumers === false) return;
    // A mark's `client` names the client it runs on; without one, the
    // default client (or the one this module names first). Each module
    // starts the marks of the clients it owns.
    const fallback = this.clients.has(DEFAULT) ? DEFAULT : this.clients.keys().next().value;
    const pick = (opts) => {
      const name = opts.client ?? fallback;
      if (!registries.has(name)) {
        throw invalid(`@StreamConsumer(${JSON.stringify(opts.stream)}): no client named ${JSON.stringify(name)}`);
      }
      return registries.get(name) === this ? this.clients.get(name) : null;
    };
    const seen = new Set();
    for (const wrapper of this.discovery.getProviders()) {
      const instance = wrapper.instance;
      if (!instance || typeof instance !== 'object' || seen.has(instance)) continue;
      seen.add(instance);
      const marks = instance[Symbol.for('redisx.streamConsumers')];
      if (!Array.isArray(marks) || marks.length === 0) continue;
      if (!marks.some((m) => pick(m.options))) continue;
      this.runs.push(startStreamConsumers(instance, pick));
    }
  }

  async onApplicationShutdown() {
    await Promise.all(this.runs.map((r) => r.stop().catch(() => {})));
    this.runs = [];
    await Promise.all([...this.locks].map((l) => l.release().catch(() => {})));
    this.locks.clear();
    for (const [name, c] of this.clients) {
      if (registries.get(name) === this) registries.delete(name);
      await c.close().catch(() => {});
    }
  }
}

function registryProvider(extra) {
  return {
    provide: REGISTRY,
    useFactory: (options, discovery) => new RedisxRegistry(options, discovery),
    inject: [MODULE_OPTIONS, core.DiscoveryService],
    ...extra,
  };
}

function clientProviders(names, registryToken) {
  return names.map((n) => ({ provide: getClientToken(n), useFactory: (r) => r.client(n), inject: [registryToken] }));
}

const SERVICES = () => [LockService, RateLimitService, CacheService, StreamService, IdempotencyService];

class RedisxModule {
  /** options: url (+ clientOptions) or client, name ('default'), clients
   *  ({ name: url | { url, ...options } | Client }), global (true),
   *  consumers (true: start @StreamConsumer methods). */
  static forRoot(options = {}) {
    const names = Object.keys(clientSpecs(options));
    return RedisxModule._dynamic(options, [{ provide: MODULE_OPTIONS, useValue: options }], names, options.global, []);
  }

  /** { imports, useFactory, inject, names, global }: the options from a
   *  factory; `names` lists the clients it will define (['default']). */
  static forRootAsync({ imports = [], useFactory, inject = [], names = [DEFAULT], global } = {}) {
    if (typeof useFactory !== 'function') throw invalid('RedisxModule.forRootAsync: useFactory must be a function');
    return RedisxModule._dynamic({}, [{ provide: MODULE_OPTIONS, useFactory, inject }], names, global, imports);
  }

  static _dynamic(options, optionProviders, names, global = true, imports) {
    const services = SERVICES().map((S) => ({ provide: S, useFactory: (r) => new S(r), inject: [REGISTRY] }));
    const providers = [...optionProviders, registryProvider(), ...clientProviders(names, REGISTRY), ...services];
    return {
      module: RedisxModule,
      global: global !== false,
      imports: [core.DiscoveryModule, ...imports],
      providers,
      exports: [REGISTRY, ...names.map(getClientToken), ...SERVICES()],
    };
  }
}
Reflect.decorate([common.Module({})], RedisxModule);

/** Parameter decorator: the Client named `name` ('default'). In plain JS:
 *  Reflect.decorate / __param(0, InjectRedisx()), or inject: [getClientToken()]. */
function InjectRedisx(name = DEFAULT) {
  return common.Inject(getClientToken(name));
}

class LockService {
  constructor(registry) {
    this.registry = registry;
  }
  /** Acquires lock `name` (opts: ttl, wait ms; client); tracked until released. */
  async acquire(name, opts = {}) {
    const { client, ...o } = opts;
    const lock = this.registry.track(await this.registry.client(client).acquire(name, o));
    const release = lock.release.bind(lock);
    lock.release = (...a) => {
      this.registry.untrack(lock);
      return release(...a);
    };
    return lock;
  }
  /** Runs fn(lock) holding lock `name` (the client's withLock rules). */
  async withLock(name, opts, fn) {
    const { client, keepAlive, ...o } = opts || {};
    const lock = await this.acquire(name, { ...o, client });
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
}

class RateLimitService {
  constructor(registry) {
    this.registry = registry;
    this.limiters = new Map();
  }
  /** The limiter `name` of client `client` ({ algorithm, limit, period, burst, failOpen }). */
  limiter(name, options = {}, client) {
    const id = JSON.stringify([client ?? DEFAULT, name, options]);
    let l = this.limiters.get(id);
    if (!l) this.limiters.set(id, (l = this.registry.client(client).limiter(name, options)));
    return l;
  }
  /** check(key) on limiter `name`: a RateLimitResult. */
  check(name, options, key, cost = 1) {
    return this.limiter(name, options, options?.client).check(key, cost);
  }
}

class CacheService {
  constructor(registry) {
    this.registry = registry;
    this.caches = new Map();
  }
  /** client.cache(name, options), one per name. */
  cache(name = DEFAULT, options = {}, client) {
    const id = `${client ?? DEFAULT}\0${name}`;
    let c = this.caches.get(id);
    if (!c) this.caches.set(id, (c = this.registry.client(client).cache(name, options)));
    return c;
  }
  /** invalidateTags(tags) on cache `name` (of client `client`). */
  invalidateTags(name, tags, client) {
    return this.cache(name, {}, client).invalidateTags(tags);
  }
}

class StreamService {
  constructor(registry) {
    this.registry = registry;
  }
  publish(stream, payload, opts = {}) {
    const { client, ...o } = opts;
    return this.registry.client(client).publish(stream, payload, o);
  }
  consumer(stream, group, opts = {}) {
    const { client, ...o } = opts;
    return this.registry.client(client).consumer(stream, group, o);
  }
}

class IdempotencyService {
  constructor(registry) {
    this.registry = registry;
  }
  /** client.idempotent(key, fingerprint, fn, options). */
  run(key, fingerprint, fn, opts = {}) {
    const { client, ...o } = opts;
    return this.registry.client(client).idempotent(key, fingerprint, fn, o);
  }
}

// ---- decorators -------------------------------------------------------------------

/** `${a.b}`-style template over the arguments: "order:{0}" / "order:{0.id}". */
function keyOf(key, args, what) {
  if (typeof key === 'function') return String(key(...args));
  if (typeof key !== 'string' || key === '') throw invalid(`${what}: key must be a non-empty string or a function of the arguments`);
  return key.replace(/\{(\d+)((?:\.[A-Za-z_$][\w$]*)*)\}/g, (_, i, path) => {
    let v = args[Number(i)];
    for (const p of path.split('.').slice(1)) v = v == null ? v : v[p];
    return String(v);
  });
}

/** Method decorator: the method runs holding lock `key` (string template
 *  "order:{0.id}" or a function of the arguments); ttl (ms), wait (ms, the
 *  client's 10 s by default), keepAlive, client. LockHeld when it stays held
 *  (409 through RedisxExceptionFilter). */
function WithLock(options) {
  if (options === null || typeof options !== 'object' || options.key === undefined) {
    throw invalid('@WithLock({ key, ttl, wait }) needs a key');
  }
  const { key, client, ...lockOpts } = options;
  return function decorate(target, name, descriptor) {
    if (!descriptor || typeof descriptor.value !== 'function') throw invalid('@WithLock applies to methods');
    const fn = descriptor.value;
    descriptor.value = function withLockMethod(...args) {
      const r = registryFor(client);
      return new LockService(r).withLock(keyOf(key, args, '@WithLock'), { ...lockOpts, client }, () => fn.apply(this, args));
    };
    return descriptor;
  };
}

function setHeader(res, k, v) {
  if (res && res.raw && typeof res.header === 'function') res.header(k, v); // Fastify reply
  else if (res && typeof res.setHeader === 'function') res.setHeader(k, v);
}

/** Thrown by the @RateLimit guard when a request is denied: 429. */
class RateLimited extends common.HttpException {
  constructor(result, answer) {
    super({ statusCode: 429, message: answer.body.toString('utf8') || 'Too Many Requests' }, 429);
    this.result = result;
    this.headers = Object.fromEntries(answer.headers.filter(([k]) => k !== 'Content-Type'));
  }
}

const ROUTE_KEY = (context, req) => `${context.getClass().name}.${context.getHandler().name}:${clientIp(req)}`;

class RateLimitGuard {
  constructor(options) {
    const { key = ROUTE_KEY, cost, client, name = 'nestjs', limit, period, window, algorithm, burst, failOpen } = options;
    this.key = key;
    this.cost = cost;
    this.client = client;
    this.name = name;
    this.limiterOptions = { limit, period: period ?? window, burst, failOpen };
    if (algorithm !== undefined) this.limiterOptions.algorithm = algorithm.replace(/-/g, '_');
    for (const k of Object.keys(this.limiterOptions)) if (this.limiterOptions[k] === undefined) delete this.limiterOptions[k];
    this.limiter = null;
  }

  async canActivate(context) {
    if (context.getType() !== 'http') return true;
    const http = context.switchToHttp();
    const req = http.getRequest();
    const res = http.getResponse();
    if (this.limiter === null) this.limiter = registryFor(this.client).client(this.client).limiter(this.name, this.limiterOptions);
    const k = typeof this.key === 'function' ? await this.key(context, req) : this.key;
    if (k === null || k === undefined) return true;
    const cost = this.cost ? await this.cost(context, req) : 1;
    const result = await this.limiter.check(String(k), cost);
    req.rateLimit = result;
    const a = rateLimitAnswer(result);
    for (const [h, v] of a.headers) if (h !== 'Content-Type') setHeader(res, h, v);
    if (a.status === 0) return true;
    throw new RateLimited(result, a);
  }
}

/** Method or class decorator: a guard checking a limiter (limit, period or
 *  window in ms, algorithm 'fixed_window' | 'sliding_log' | 'sliding_window' |
 *  'token_bucket' | 'gcra' (dashes accepted), burst, failOpen, name, client)
 *  for key(context, req) (default: Class.method + client IP). Denied: 429
 *  with X-RateLimit-* and Retry-After. */
function RateLimit(options) {
  if (options === null || typeof options !== 'object') throw invalid('@RateLimit(options) needs options');
  return common.UseGuards(new RateLimitGuard(options));
}

/** The IdempotencyInterceptor (lib/http.js) of a client resolved at the first request. */
class LazyIdempotencyInterceptor {
  constructor(options) {
    const { client, ...o } = options;
    this.client = client;
    this.options = o;
    this.inner = null;
  }
  intercept(context, next) {
    if (this.inner === null) this.inner = new IdempotencyInterceptor(registryFor(this.client).client(this.client), this.options);
    return this.inner.intercept(context, next);
  }
}

/** Method or class decorator: the HTTP idempotency rules (Idempotency-Key,
 *  replay with Idempotent-Replayed: true, 409/422/400) of lib/http.js;
 *  options: namespace, lease, ttl, wait (ms), required, client. */
function Idempotent(options = {}) {
  return common.UseInterceptors(new LazyIdempotencyInterceptor(options));
}

/** @Cached over the CacheService: { key, ttl, cache: name, client, ...cacheOptions } ;
 *  a Cache instance as `cache` works as in lib/cache.js. */
function CachedNest(options = {}) {
  if (options.cache === undefined || typeof options.cache !== 'string') return Cached(options);
  const { cache: name, client, key, ttl, wait, swr, sie, tags } = options;
  return function decorate(target, method, descriptor) {
    const fn = descriptor.value;
    let inner = null;
    descriptor.value = function cachedMethod(...args) {
      if (inner === null) {
        const c = registryFor(client).client(client).cache(name);
        const d = { value: fn };
        Cached({ cache: c, key, ttl, wait, swr, sie, tags })(target, method, d);
        inner = d.value;
      }
      return inner.apply(this, args);
    };
    return descriptor;
  };
}

/** @InvalidateTags over the CacheService: `@InvalidateTags({ tags, cache:
 *  name, client })` (or `@InvalidateTags(['users', 'user:{0}'])` for
 *  `this.cache`) invalidates the tags once the method resolved; a Cache
 *  instance as `cache` works as in lib/cache.js. */
function InvalidateTagsNest(options = {}) {
  if (Array.isArray(options) || typeof options === 'function' || options.cache === undefined ||
      typeof options.cache !== 'string') {
    return InvalidateTags(options);
  }
  const { cache: name, client, tags } = options;
  return function decorate(target, method, descriptor) {
    const fn = descriptor.value;
    let inner = null;
    descriptor.value = function invalidatingMethod(...args) {
      if (inner === null) {
        const c = registryFor(client).client(client).cache(name);
        const d = { value: fn };
        InvalidateTags({ cache: c, tags })(target, method, d);
        inner = d.value;
      }
      return inner.apply(this, args);
    };
    return descriptor;
  };
}

// ---- errors → HTTP ----------------------------------------------------------------

/** The HTTP status of a redisx error, or 0 for none. */
function httpStatusOf(err) {
  if (err instanceof IdempotencyMismatch) return 422;
  if (err instanceof IdempotencyInProgress) return 409;
  if (err instanceof errors.LockHeld) return 409;
  if (err instanceof errors.LockNotOwned) return 409;
  if (err instanceof errors.Timeout || err instanceof errors.ConnectionError || err instanceof errors.ClientClosed) return 503;
  return 0;
}

/** Catches redisx errors (and IdempotencyConflict) and answers with the
 *  table of docs/NESTJS.md; others (status 0) become 500 as Nest's own. */
class RedisxExceptionFilter {
  catch(err, host) {
    const res = host.switchToHttp().getResponse();
    const status = httpStatusOf(err) || 500;
    if (err instanceof IdempotencyInProgress && err.retryAfter !== undefined) {
      setHeader(res, 'Retry-After', String(Math.max(1, Math.ceil(err.retryAfter / 1000))));
    }
    const body = { statusCode: status, error: err.name, message: status === 500 ? 'Internal server error' : err.message };
    res.status(status);
    if (typeof res.json === 'function' && !res.raw) res.json(body);
    else res.send(body);
  }
}
Reflect.decorate([common.Catch(errors.RedisxError, require('./idempotency').IdempotencyConflict)], RedisxExceptionFilter);

module.exports = {
  RedisxModule,
  RedisxRegistry,
  InjectRedisx,
  getClientToken,
  LockService,
  RateLimitService,
  CacheService,
  StreamService,
  IdempotencyService,
  WithLock,
  RateLimit,
  RateLimitGuard,
  RateLimited,
  Idempotent,
  Cached: CachedNest,
  InvalidateTags: InvalidateTagsNest,
  StreamConsumer,
  RedisxExceptionFilter,
  httpStatusOf,
  REDISX_REGISTRY: REGISTRY,
};
