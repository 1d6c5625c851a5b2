// Type definitions for redisx (Node.js binding of the redisx C core).

/// <reference types="node" />

export interface ClientOptions {
  /** Key prefix (default "redisx"): services that share locks use the same one. */
  prefix?: string;
  /** Timeout of each command in ms (core default 1000). */
  commandTimeout?: number;
  /** Timeout of connect + AUTH/SELECT in ms (core default 2000). */
  connectTimeout?: number;
  /** Connections multiplexed over (1..64, core default 1). */
  connections?: number;
  /** Reconnect delays in ms: the first retry is immediate, then the delay
   *  doubles from min to max (jittered); core default 50..2000. */
  reconnectBackoff?: { min: number; max: number };
  /** The core's circuit breaker (off by default): after `failures` connection
   *  failures within `window` ms, calls reject with ConnectionError at once
   *  (fail-open primitives answer fail-open at once) until a reconnect or a
   *  probe after `open` ms succeeds (docs/RESILIENCE.md). */
  circuitBreaker?: { failures: number; window: number; open: number };
  /** Busy polling, in milliseconds (fractions allowed, e.g. 0.2; at most 100; off by default): the I/O
   *  thread spins on the sockets that long while replies are due before it sleeps (the core's
   *  redisx_options_set_busy_poll_us). Lower latency for CPU time. */
  busyPoll?: number;
  /** Client tracking of the caches with `{ tracking: true }` in BCAST mode (the core's
   *  redisx_options_set_cache_tracking_bcast; default false): the server tells of every write
   *  under `<prefix>:cache:`, read or not, with no tracking table and nothing tracked per data
   *  connection (docs/CACHE.md). */
  cacheTrackingBcast?: boolean;
  /** Locks granted without Redis when it is unreachable (fail open); default false. */
  failOpenLocks?: boolean;
  /** Rate-limit checks allowed without Redis when it is unreachable; default
   *  true (the core's). Each limiter can override it. */
  failOpenRateLimits?: boolean;
  /** Idempotency begins answered NEW without Redis when it is unreachable;
   *  default false. */
  failOpenIdempotency?: boolean;
  /** ACL user and password, overriding the URL's. */
  username?: string;
  password?: string;
  /** Whether events carry the key (lock name); default false. */
  eventKeys?: boolean;
  /** Called on the JS thread once per finished operation. */
  onEvent?: (event: RedisxEvent) => void;
  /** Called on the JS thread on connection state changes (from the queue). */
  onState?: (state: StateChange) => void;
  /** Called with the core's log lines at or above logLevel (default "warn"). */
  onLog?: (line: LogLine) => void;
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
  /** A logger with pino's or Nest's Logger's methods: the core's lines go to
   *  debug, info (or log), warn and error, prefixed "redisx: "; logLevel
   *  defaults to 'info' with it. onLog, when given too, gets them as well. */
  logger?: {
    debug?(message: string): unknown;
    verbose?(message: string): unknown;
    info?(message: string): unknown;
    log?(message: string): unknown;
    warn?(message: string): unknown;
    error?(message: string): unknown;
  };
  /** TLS for every connection: `true` or an object turns it on (as a
   *  rediss:// URL does), `false` turns it off even for rediss://. */
  tls?: boolean | TlsOptions;
  /** Redis Cluster seed nodes ("host:port" each, or one "h1:p1,h2:p2"
   *  string), as a redis+cluster:// URL names them: the core reads the slot
   *  map from the first that answers and routes every command to the master
   *  of its keys' slot. The URL's user, password and TLS apply to every node. */
  clusterSeeds?: string | string[];
  /** Redis Sentinel (docs/SENTINEL.md), as a
   *  redis+sentinel://s1:26379,s2:26379/mymaster URL says: the master's name
   *  and the sentinels ("host:port" each, or one "h1:p1,h2:p2" string), both
   *  or neither. The URL's user, password and database are the master's. */
  sentinelMaster?: string;
  sentinels?: string | string[];
  /** The sentinels' own ACL user and password (default: no AUTH to them). */
  sentinelUsername?: string;
  sentinelPassword?: string;
}

/** TLS settings (the core's redisx_options_set_tls_* setters). Files are
 *  read when the client opens: one that cannot be loaded throws
 *  InvalidArgument naming it. A failed handshake (untrusted certificate,
 *  another host's certificate, a client certificate required but not given)
 *  makes operations reject with ConnectionError, the reason in its message. */
export interface TlsOptions {
  /** PEM file of the CAs that may sign the server's certificate, instead of
   *  the system's store. */
  caFile?: string | null;
  /** Directory of CA certificates in OpenSSL's hashed layout (`openssl rehash`). */
  caDir?: string | null;
  /** Client certificate (PEM, may hold the chain), for servers that require
   *  one (Redis' default, tls-auth-clients yes). */
  certFile?: string | null;
  /** Its private key (PEM, unencrypted); default: the key is in certFile. */
  keyFile?: string | null;
  /** Name sent as SNI and checked against the certificate, instead of the
   *  URL's host (SNI is not sent for an IP address). */
  serverName?: string | null;
  /** Whether the certificate must name the host; default true. */
  verifyHostname?: boolean;
  /** INSECURE: accept any server certificate, unverified (tests and
   *  throwaway servers only; the core logs a warning). Default false. */
  insecureSkipVerify?: boolean;
}

export interface RedisxEvent {
  /** "client" | "lock" | "ratelimit" | "idempotency" */
  primitive: string;
  /** "command"; "acquire" | "release" | "extend" | "renew" | "inspect";
   *  "check" | "peek" | "reset"; "begin" | "complete" | "fail" */
  operation: string;
  /** The status the caller received (0 = OK). */
  status: number;
  /** Its name: "OK", "ERR_LOCKED", ... */
  code: string;
  ok: boolean;
  failOpen: boolean;
  durationNs: number;
  roundTrips: number;
  /** The key (lock name, rate-limit key, record key) when eventKeys is on; null otherwise. */
  key: string | null;
  /** "host:port" the operation's last command went to (on a cluster, the master that answered); null when none was sent. */
  node: string | null;
}

export interface StateChange {
  connection: number;
  state: 'connected' | 'disconnected' | 'reconnecting';
  detail: string;
  /** "host:port" of the node the connection serves, for every state; null before it is known. */
  node: string | null;
}

export interface LogLine {
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
}

/** `signal` stops the operation: redisx cancels it in the core and the
 *  Promise rejects with AbortError (cause = signal.reason). An already-aborted
 *  signal rejects without calling the core; an abort after the operation
 *  completed changes nothing. */
export interface Abortable {
  signal?: AbortSignal | null;
}

export interface AcquireOptions extends Abortable {
  /** Lease in ms (1..86400000). Required. */
  ttl: number;
  /** How long to keep retrying in ms (0..86400000); default 10000, as in
   *  every binding; 0 = one attempt. */
  wait?: number;
}

export interface WithLockOptions extends AcquireOptions {
  /** Renew the lease automatically while the function runs. */
  keepAlive?: boolean;
}

export interface LockInfo {
  locked: boolean;
  /** Fencing token of the current holder (0 when free). */
  fencingToken: number;
  /** Remaining lease in ms (0 when free). */
  ttl: number;
  /** Newest fencing token the server still remembers for the name (docs/KEYS.md; 0 when none). */
  lastFencingToken: number;
}

export interface SeriesStats {
  primitive: string;
  operation: string;
  calls: number;
  ok: number;
  rejected: number;
  errors: number;
  timeouts: number;
  failOpen: number;
  roundTrips: number;
  p50Ns: number;
  p90Ns: number;
  p99Ns: number;
  /** Operations per latency bucket (not cumulative), see bucketUpperNs. */
  buckets: number[];
}

export interface Stats {
  client: {
    connects: number;
    disconnects: number;
    connectFailures: number;
    scriptReloads: number;
    inFlight: number;
    connectionsUp: number;
    /** Times a circuit breaker opened. */
    circuitOpens: number;
    /** Calls a circuit breaker failed at once. */
    circuitRejected: number;
    /** Breakers open or half-open now (one per cluster node). */
    circuitsOpen: number;
    /** Wake-up messages received (a release or completion waited for). */
    wakeups: number;
    /** Cluster: MOVED and ASK replies followed, TRYAGAIN/CLUSTERDOWN/LOADING retries, slot map refreshes. */
    clusterMoved: number;
    clusterAsk: number;
    clusterRetries: number;
    clusterRefreshes: number;
  };
  /** Inclusive upper bound of each bucket in ns; the last is Infinity. */
  bucketUpperNs: number[];
  series: SeriesStats[];
}

/** A raw command's reply: bulk string → Buffer, status → string, integer →
 *  number (bigint beyond 2^53), nil → null, array → Array (an error element is
 *  a ServerError value). */
export type Reply = Buffer | string | number | bigint | null | ServerError | Reply[];

export class Lock {
  private constructor();
  readonly name: string;
  /** Strictly increasing per lock name; a number (exact below 2^53, which
   *  no real lock reaches; a bigint beyond). 0 for a fail-open lock. */
  readonly fencingToken: number;
  /** Owner token "<fencing>:<32 hex>" ("" for a fail-open lock). */
  readonly token: string;
  /** Lease length in ms set by the last acquire/extend. */
  readonly ttl: number;
  readonly failOpen: boolean;
  /** True once automatic renewal found the lock lost. */
  readonly lost: boolean;
  /** Releases the lease; rejects with LockNotOwned when it expired or was taken. */
  release(options?: Abortable): Promise<void>;
  /** Sets the remaining lease to ttl ms; LockNotOwned when no longer owned. */
  extend(ttl: number, options?: Abortable): Promise<void>;
  /** Starts automatic renewal by the core; onLost runs once if the lock is lost. */
  keepAlive(options?: { onLost?: (lock: Lock) => void }): this;
  /** Name, fencing token and ttl (the owner token is left out). */
  toJSON(): { name: string; fencingToken: number; ttl: number };
}

/** Binary input: a Buffer, a Uint8Array or a string (UTF-8). */
export type Bytes = Buffer | Uint8Array | string;

export type Algorithm = 'fixed_window' | 'sliding_log' | 'sliding_window' | 'token_bucket' | 'gcra';

export interface LimiterOptions {
  algorithm: Algorithm;
  /** Units per period (1..1e9; sliding_log: 1..100000). */
  limit: number;
  /** Window or refill period in ms (1..31622400000). */
  period: number;
  /** Bucket size of token_bucket and gcra (0 = limit); the window algorithms
   *  take 0 or limit only. Default 0. */
  burst?: number;
  /** Overrides the client's fail policy (whose default is fail open). */
  failOpen?: boolean;
}

/** The outcome of a check or peek; times in ms. */
export class RateLimitResult {
  constructor(allowed: boolean, limit: number, remaining: number, reset: number, retryAfter: number, failOpen: boolean);
  readonly allowed: boolean;
  /** The limiter's capacity (X-RateLimit-Limit). */
  readonly limit: number;
  /** Units still available (X-RateLimit-Remaining). */
  readonly remaining: number;
  /** Ms until the budget is whole again (0 when whole). */
  readonly reset: number;
  /** When denied: ms until the same cost can pass; -1 when allowed. */
  readonly retryAfter: number;
  /** Redis was unreachable or too slow and the fail-open policy allowed the
   *  check; a check that timed out may or may not have been counted. */
  readonly failOpen: boolean;
  /** The standard headers: see rateLimitHeaders. */
  headers(): RateLimitHeaders;
}

export interface RateLimitHeaders {
  'X-RateLimit-Limit': string;
  'X-RateLimit-Remaining': string;
  /** ceil(reset / 1000): seconds from now. */
  'X-RateLimit-Reset': string;
  /** Only when denied: max(1, ceil(retryAfter / 1000)). */
  'Retry-After'?: string;
}

export class Limiter {
  private constructor();
  readonly name: string;
  readonly algorithm: Algorithm;
  readonly limit: number;
  readonly period: number;
  readonly burst: number;
  /** Most units one check can spend: limit (windows) or burst (buckets). */
  readonly capacity: number;
  /** Spends cost (1..capacity, default 1) units of key's budget if all are
   *  available. Resolves allowed or denied; InvalidArgument for a bad cost;
   *  ConnectionError/Timeout only when the limiter fails closed. */
  check(key: string, cost?: number, options?: Abortable): Promise<RateLimitResult>;
  check(key: string, options: Abortable & { cost?: number }): Promise<RateLimitResult>;
  /** What check(key, 1) would answer, spending nothing. */
  peek(key: string, options?: Abortable): Promise<RateLimitResult>;
  /** Forgets key's state: its whole budget is available again. */
  reset(key: string, options?: Abortable): Promise<void>;
  /** rateLimit(this, options). */
  middleware(options?: RateLimitOptions): Middleware;
}

/** (req, res, next) as Express, Connect and NestJS (consumer.apply) take it. */
export type Middleware = (req: any, res: any, next: (err?: unknown) => void) => void;

export interface RateLimitOptions {
  /** The key to limit by (default: req.ip, else the socket's address);
   *  null/undefined skips the check. */
  key?: (req: any, res: any) => string | number | null | undefined | Promise<string | number | null | undefined>;
  /** Units the request spends (default 1). */
  cost?: (req: any, res: any) => number | Promise<number>;
}

export type IdempotencyStateName = 'NEW' | 'IN_PROGRESS' | 'COMPLETED' | 'MISMATCH';

export interface BeginOptions extends Abortable {
  /** In-progress lease in ms (default 30000). */
  lease?: number;
  /** How long to wait for an in-progress record to finish, ms (default 0). */
  wait?: number;
}

export class IdempotencyRecord {
  private constructor();
  readonly key: string;
  readonly state: IdempotencyStateName;
  /** COMPLETED: the stored response (empty otherwise). */
  readonly response: Buffer;
  /** COMPLETED: the stored metadata (empty otherwise). */
  readonly metadata: Buffer;
  /** Lease left (IN_PROGRESS), TTL left (COMPLETED, MISMATCH), lease granted (NEW), in ms. */
  readonly remainingMs: number;
  /** NEW after taking over a stale in-progress record. */
  readonly takenOver: boolean;
  /** NEW granted without Redis by the fail-open policy. */
  readonly failOpen: boolean;
  /** Stores the outcome of a NEW record for ttl ms (default 24 h); LockNotOwned
   *  after a takeover, InvalidArgument when the record is not NEW. */
  complete(response: Bytes, metadata?: Bytes | null, options?: Abortable & { ttl?: number }): Promise<void>;
  /** Drops a NEW record's lease so that a retry runs the work again. */
  fail(options?: Abortable): Promise<void>;
}

export interface Codec<T> {
  encode(value: T): Bytes;
  decode(stored: Buffer): T;
}

export interface CacheOptions<T = any> {
  /** 'json' (default: the format every redisx language reads), 'buffer', 'string' or a Codec. */
  codec?: 'json' | 'buffer' | 'string' | Codec<T>;
  /** Defaults of the calls, ms: TTL of a set or load (60000), wait for another
   *  caller's load (10000), stale-while-revalidate and stale-if-error windows (0). */
  ttl?: number;
  wait?: number;
  swr?: number;
  sie?: number;
  /** L1 bounds (l1Entries 0 turns it off; defaults 10000, 64 MiB, 1000 ms). */
  l1Entries?: number;
  l1Bytes?: number;
  l1Ttl?: number;
  /** Largest value (default 1 MiB; larger: InvalidArgument). */
  maxValueBytes?: number;
  /** TTL of a cached "not found", ms (default 5000). */
  negativeTtl?: number;
  /** How long a loader may take before a waiter takes over, ms (default 10000). */
  lease?: number;
  /** How long entries are kept past their TTL to be served stale, ms (default 60000). */
  stale?: number;
  /** TTL jitter fraction, 0..0.5 (default 0.1). */
  jitter?: number;
  /** XFetch's beta, 0..16 (0: no early refresh; default 1). */
  xfetchBeta?: number;
  /** Default true: without Redis the L1 serves and loaders run (single flight per process). */
  failOpen?: boolean;
  /** get() decodes each L1 copy once and returns the same value on later hits (do not modify it). */
  memoize?: boolean;
  /** Keep the L1 coherent across processes with Redis' client tracking (default false): another process's
   *  write or tag invalidation drops this process's copies within milliseconds instead of the L1 TTL. */
  tracking?: boolean;
}

/** A cache tag: a string (UTF-8) or bytes; 1..1024 bytes, at most 64 per entry. */
export type CacheTag = string | Buffer | Uint8Array;

export interface GetOrLoadOptions extends Abortable {
  ttl?: number;
  wait?: number;
  swr?: number;
  sie?: number;
  /** Tags of the loaded value, for invalidateTags(). */
  tags?: CacheTag[];
}

export interface SetOptions extends Abortable {
  /** Tags of the entry, for invalidateTags(). */
  tags?: CacheTag[];
}

export interface CacheEntry<T> {
  found: boolean;
  value: T | undefined;
  negative: boolean;
  stale: boolean;
  failOpen: boolean;
  layer: 'l1' | 'l2' | null;
  /** Ms still fresh in that layer (an L1 copy: at most the L1 TTL); negative: stale. */
  ttl: number;
}

export interface CacheCounters {
  l1Hits: number;
  l1Misses: number;
  l2Hits: number;
  l2Misses: number;
  loads: number;
  loadErrors: number;
  /** Waits ended by another caller's fill: stampedes avoided. */
  waitersWoken: number;
  staleServed: number;
  earlyRefreshes: number;
  failOpen: number;
  l1Evictions: number;
  l1Entries: number;
  l1Bytes: number;
}

/** A two-tier cache (client.cache(name, options)): an L1 in this process over
 *  an L2 in Redis shared by every process and language. Another process's set
 *  or delete reaches this process's L1 copy when it expires (l1Ttl). */
export class Cache<T = any> {
  readonly name: string;
  readonly codec: Codec<T>;
  /** The fresh value, or undefined (also for a cached "not found"). */
  get(key: string, options?: Abortable): Promise<T | undefined>;
  lookup(key: string, options?: Abortable): Promise<CacheEntry<T>>;
  set(key: string, value: T, ttl?: number, options?: SetOptions): Promise<void>;
  delete(key: string, options?: Abortable): Promise<void>;
  /** Invalidates every entry carrying any of the tags, in every process and
   *  language: once resolved, no read from Redis answers one and this
   *  process's L1 copies are gone (others' go as after a delete). */
  invalidateTags(tags: CacheTag[], options?: Abortable): Promise<void>;
  /** loader runs once per key across every process; NotFound from it caches "not found". */
  getOrLoad(key: string, loader: () => T | Promise<T>, options?: GetOrLoadOptions): Promise<T>;
  cached(options?: Omit<CachedOptions, 'cache'>): MethodDecorator & (<F extends (...args: any[]) => any>(fn: F, context: { kind: 'method'; name: string | symbol }) => F);
  counters(): CacheCounters;
}

export interface CachedOptions {
  /** The Cache; omitted: `this.cache` of the instance. */
  cache?: Cache;
  /** A fixed key, a template ("{0}" an argument, "{id}" a property of the first), or a function of the arguments. */
  key?: string | ((...args: any[]) => string);
  ttl?: number;
  wait?: number;
  swr?: number;
  sie?: number;
  /** Tags of the cached value: templates as `key`, or a function of the arguments. */
  tags?: CacheTag[] | ((...args: any[]) => CacheTag[]);
}

/** NestJS-style method decorator: the method's result is cached through getOrLoad. */
export function Cached(options?: CachedOptions): MethodDecorator & (<F extends (...args: any[]) => any>(fn: F, context: { kind: 'method'; name: string | symbol }) => F);

export interface InvalidateTagsOptions {
  /** The Cache; omitted: `this.cache` of the instance. */
  cache?: Cache;
  /** Templates as @Cached's key ("user:{0}"), or a function of the arguments. */
  tags: CacheTag[] | ((...args: any[]) => CacheTag[]);
}

/** Method decorator: invalidates the tags once the (async) method resolved. */
export function InvalidateTags(options: InvalidateTagsOptions | CacheTag[] | ((...args: any[]) => CacheTag[])): MethodDecorator & (<F extends (...args: any[]) => any>(fn: F, context: { kind: 'method'; name: string | symbol }) => F);

/** Thrown by a loader for "no value"; what getOrLoad rejects with for a cached "not found". */
export class NotFound extends Error {
  readonly key: unknown;
  constructor(key?: unknown);
}

/** The cache codecs by name. */
export const cacheCodecs: Readonly<{ json: Codec<any>; buffer: Codec<Buffer>; string: Codec<string> }>;

export interface IdempotentOptions<T = unknown> extends BeginOptions {
  /** How long the result is kept, ms (default 24 h). */
  ttl?: number;
  /** How results are stored (default jsonCodec). */
  codec?: Codec<T>;
}

export class IdempotencyConflict extends Error {
  readonly record: IdempotencyRecord;
  readonly state: IdempotencyStateName;
  readonly key: string;
  /** 409 (in progress) or 422 (mismatch). */
  readonly statusCode: number;
  readonly status: number;
}
export class IdempotencyInProgress extends IdempotencyConflict {
  /** Ms until the other caller's lease runs out. */
  readonly retryAfter: number;
}
export class IdempotencyMismatch extends IdempotencyConflict {}

export interface IdempotencyHttpOptions {
  /** Record key = namespace + ":" + Idempotency-Key (the value alone without one). */
  namespace?: string;
  /** In-progress lease, ms (default 30000). */
  lease?: number;
  /** How long a completed response is kept, ms (default 86400000). */
  ttl?: number;
  /** How long a duplicate waits for the first request, ms (default 0: 409 at once). */
  wait?: number;
  /** Answer 400 to requests without the header (default false: they run normally). */
  required?: boolean;
  /** Storing the outcome failed (the response is sent regardless); default: a process warning. */
  onError?: (err: Error, record: IdempotencyRecord) => void;
}

export class Client {
  /** Opens a client; it connects in the background (an unreachable server
   *  makes operations fail, not this call). */
  static fromUrl(url: string, options?: ClientOptions): Client;
  constructor(url: string, options?: ClientOptions);
  readonly prefix: string;
  readonly closed: boolean;
  /** Rejects with LockHeld when the lock stayed held for `wait` ms. */
  acquire(name: string, options: AcquireOptions): Promise<Lock>;
  tryAcquire(name: string, options: Abortable & { ttl: number }): Promise<Lock>;
  withLock<T>(name: string, options: WithLockOptions, fn: (lock: Lock) => T | Promise<T>): Promise<T>;
  lockInfo(name: string, options?: Abortable): Promise<LockInfo>;
  execute(...args: Array<string | Buffer | Uint8Array | number | bigint>): Promise<Reply>;
  /** A last argument `{ signal }` (a plain object with a signal property) is options. */
  execute(...args: [...Array<string | Buffer | Uint8Array | number | bigint>, { signal: AbortSignal | null | undefined }]): Promise<Reply>;
  /** A rate limiter: limiters with the same name, algorithm and parameters
   *  share one budget per key, in every process and language. */
  limiter(name: string, options: LimiterOptions): Limiter;
  /** A two-tier cache: caches of one name share their L2 entries across processes and languages. */
  cache<T = any>(name: string, options?: CacheOptions<T>): Cache<T>;
  /** Appends one message to a stream; resolves to its id. */
  publish(stream: string, payload?: unknown, options?: PublishOptions): Promise<string>;
  /** Appends many messages in one round trip (atomic, ids in order). */
  publishBatch(stream: string, messages: Array<unknown | OutMessage>, options?: PublishBatchOptions): Promise<string[]>;
  /** Creates a consumer group (MKSTREAM); an existing group is fine. */
  createGroup(stream: string, group: string, options?: { start?: string }): Promise<void>;
  deadLetters(stream: string, options?: { count?: number; newestFirst?: boolean; after?: string | null }): Promise<DeadLetterEntry[]>;
  requeueDeadLetter(stream: string, dlqId: string): Promise<string>;
  /** DLQ entry `dlqId` of `stream`; rejects with Empty when there is none. */
  deadLetter(stream: string, dlqId: string): Promise<DeadLetterEntry>;
  /** The state of a consumer group; rejects with Empty when there is no such group. */
  groupInfo(stream: string, group: string): Promise<GroupInfo>;
  purgeDeadLetters(stream: string, options?: { upTo?: string | null }): Promise<number>;
  /** A consumer of `group` on `stream`. */
  consumer(stream: string, group: string, options?: ConsumerOptions): Consumer;
  /** Looks up or creates the idempotency record of key. */
  idempotencyBegin(key: string, fingerprint: Bytes | null, options?: BeginOptions): Promise<IdempotencyRecord>;
  /** Runs fn once per key and replays its stored result to duplicates;
   *  IdempotencyInProgress / IdempotencyMismatch for conflicts. */
  idempotent<T>(
    key: string,
    fingerprint: Bytes | null,
    fn: (record: IdempotencyRecord) => T | Promise<T>,
    options?: IdempotentOptions<T>,
  ): Promise<T>;
  stats(): Stats;
  close(): Promise<void>;
}

export class RedisxError extends Error {
  /** On each subclass: its status number and name, from the C table. */
  static readonly status: number;
  static readonly code: string;
  /** Numeric status from the C core (negative). */
  readonly status: number;
  /** Status name, e.g. "ERR_NOT_OWNER". */
  readonly code: string;
  /** The core's detail for this failure. */
  readonly detail: string;
}
export class InvalidArgument extends RedisxError {}
export class OutOfMemory extends RedisxError {}
export class Timeout extends RedisxError {}
export class ConnectionError extends RedisxError {}
export class ClientClosed extends RedisxError {}
export class AuthError extends RedisxError {}
export class ServerError extends RedisxError {}
export class ProtocolError extends RedisxError {}
export class LockHeld extends RedisxError {}
export class LockNotOwned extends RedisxError {}
export class WouldBlock extends RedisxError {}
export class Empty extends RedisxError {}
export class InvalidURL extends RedisxError {}
/** An operation cancelled in the core (REDISX_ERR_CANCELLED). */
export class Cancelled extends RedisxError {}
/** What an operation aborted through its `signal` rejects with: name
 *  "AbortError" (as fetch), code "ERR_CANCELLED", cause = signal.reason. */
export class AbortError extends Cancelled {
  readonly name: 'AbortError';
  readonly cause: unknown;
}

/** Express-style rate-limit middleware: allowed → headers + next();
 *  denied → 429 "Too Many Requests" with the headers; errors → next(err). */
export function rateLimit(limiter: Limiter, options?: RateLimitOptions): Middleware;
/** The standard rate-limit headers of a result (the same rule in every language). */
export function rateLimitHeaders(result: Pick<RateLimitResult, 'allowed' | 'limit' | 'remaining' | 'reset' | 'retryAfter'>): RateLimitHeaders;
/** The algorithm names, in C enum order. */
export const algorithms: readonly Algorithm[];

export const IdempotencyState: Readonly<{ [S in IdempotencyStateName]: S }>;
/** JSON.stringify / JSON.parse over UTF-8 bytes (undefined is stored as null). */
export const jsonCodec: Codec<any>;
/** Express-style HTTP idempotency middleware (Idempotency-Key header). */
export function idempotency(client: Client, options?: IdempotencyHttpOptions): Middleware;
/** SHA-256 (32 raw bytes) of METHOD "\n" path-with-query "\n" body. */
export function requestFingerprint(method: string, pathWithQuery: string, body?: Buffer | Uint8Array | string): Buffer;

/** A NestJS interceptor with the HTTP idempotency semantics; needs no NestJS
 *  import (structurally a NestInterceptor). */
export class IdempotencyInterceptor {
  constructor(client: Client, options?: IdempotencyHttpOptions);
  intercept(context: any, next: { handle(): any }): Promise<any>;
}

/** Every error class by name (RedisxError included). */
export const errors: Record<string, typeof RedisxError>;
/** Version of the loaded libredisx, "MAJOR.MINOR.PATCH". */
export const libraryVersion: string;
/** The SWIG-generated module (one function per C call). */
export const native: Record<string, any>;

// ---- streams ---------------------------------------------------------------------

/** A payload codec; its name travels with the message (rx-codec). */
export interface StreamCodec {
  name: string;
  encode(value: any): Uint8Array;
  decode(data: Buffer): any;
}
export type Bytes = Buffer | Uint8Array | string;
export interface OutMessage {
  payload?: unknown;
  fields?: Record<string, Bytes> | Map<Bytes, Bytes>;
  headers?: Record<string, Bytes> | Map<string, Bytes>;
  codec?: 'json' | 'bytes' | StreamCodec;
}
export interface PublishBatchOptions {
  codec?: 'json' | 'bytes' | StreamCodec;
  /** Trim to about this many entries (MAXLEN ~). */
  maxLen?: number;
  /** Drop entries older than this many ms by the server's clock (MINID ~). */
  maxAge?: number;
}
export interface PublishOptions extends PublishBatchOptions {
  headers?: OutMessage['headers'];
  fields?: OutMessage['fields'];
  /** Publish the fields only, no payload. */
  noPayload?: boolean;
}
export interface ConsumerOptions {
  /** Unique within the group (default: host, pid and a counter). */
  name?: string;
  maxInFlight?: number;
  maxDeliveries?: number;
  /** [min, max] ms of the jittered exponential retry backoff. */
  retryBackoff?: [number, number];
  minIdle?: number;
  reclaimInterval?: number;
  block?: number;
  deleteIdle?: number;
  deadLetterMaxLen?: number;
  /** Exactly-once in effect: each message wrapped in an idempotency record
   *  (lease: longest handler time, default 30000 ms; ttl: how long a
   *  redelivery is recognised, default 86400000 ms). Off by default. */
  idempotent?: boolean | { lease?: number; ttl?: number };
  codecs?: StreamCodec[];
}
export class StreamMessage<T = any> {
  readonly id: string;
  readonly stream: string;
  readonly deliveryCount: number;
  /** With the idempotent option: the record was taken over from a consumer that never finished. */
  readonly takenOver: boolean;
  readonly fields: Record<string, Buffer>;
  readonly headers: Record<string, string>;
  readonly rawPayload: Buffer | null;
  readonly codec: string | null;
  readonly payload: T | null;
  readonly settled: boolean;
  ack(): Promise<void>;
  /** Resolves true when the message went to the dead-letter stream instead. */
  retry(options?: { delay?: number; reason?: string }): Promise<boolean>;
  deadLetter(reason?: string): Promise<void>;
}
export class Consumer {
  readonly stream: string;
  readonly group: string;
  readonly name: string;
  readonly inFlight: number;
  run(handler: (message: StreamMessage) => unknown, options?: { concurrency?: number; signal?: AbortSignal }): Promise<void>;
  messages(options?: { signal?: AbortSignal; batch?: number }): AsyncGenerator<StreamMessage, void, undefined>;
  [Symbol.asyncIterator](): AsyncGenerator<StreamMessage, void, undefined>;
  stop(options?: { timeout?: number }): Promise<boolean>;
  close(): Promise<void>;
}
/** Throw from a handler: its message is dead-lettered at once. */
export class DeadLetter extends Error {}
export interface StreamConsumerOptions extends ConsumerOptions {
  stream: string;
  group: string;
  concurrency?: number;
  /** Create the group first: true ('$') or a start id. */
  createGroup?: boolean | string;
  /** redisx/nestjs: the name of the module's client it runs on (default: the default client). */
  client?: string;
}
/** Method decorator (experimental or standard decorators). */
export function StreamConsumer(options: StreamConsumerOptions): any;
export function startStreamConsumers(
  instance: object,
  client: Client | ((options: StreamConsumerOptions) => Client | null),
  options?: { signal?: AbortSignal },
): {
  consumers: Consumer[];
  done: Promise<void[]>;
  stop(options?: { timeout?: number }): Promise<void>;
};
export const bytesCodec: StreamCodec;
export const jsonStreamCodec: StreamCodec;
export interface GroupInfo {
  consumers: number;
  /** Delivered, not yet acknowledged. */
  pending: number;
  /** Not yet delivered to the group; null when Redis cannot tell. */
  lag: number | null;
  entriesRead: number | null;
  lastDeliveredId: string;
}

export interface DeadLetterEntry {
  id: string;
  originalId: string;
  stream: string;
  group: string;
  consumer: string;
  deliveries: number;
  error: string;
  deleted: boolean;
  fields: Array<[Buffer, Buffer]>;
}
