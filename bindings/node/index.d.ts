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
  /** Locks granted without Redis when it is unreachable (fail open); default false. */
  failOpenLocks?: boolean;
  /** ACL user and password, overriding the URL's. */
  username?: string;
  password?: string;
  /** Whether events carry the key (lock name); default false. */
  eventKeys?: boolean;
  /** Called on the JS thread once per finished operation. */
  onEvent?: (event: RedisxEvent) => void;
  /** Called on connection state changes. */
  onState?: (state: StateChange) => void;
  /** Called with the core's log lines at or above logLevel (default "warn"). */
  onLog?: (line: LogLine) => void;
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
}

export interface RedisxEvent {
  /** "client" | "lock" */
  primitive: string;
  /** "command" | "acquire" | "release" | "extend" | "renew" | "inspect" */
  operation: string;
  /** The status the caller received (0 = OK). */
  status: number;
  /** Its name: "OK", "ERR_LOCKED", ... */
  code: string;
  ok: boolean;
  failOpen: boolean;
  durationNs: number;
  roundTrips: number;
  /** The key name when eventKeys is on; null otherwise. */
  key: string | null;
}

export interface StateChange {
  connection: number;
  state: 'connected' | 'disconnected' | 'reconnecting';
  detail: string;
}

export interface LogLine {
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
}

export interface AcquireOptions {
  /** Lease in ms (1..86400000). Required. */
  ttl: number;
  /** How long to keep retrying in ms (0..86400000); default 0 = one attempt. */
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
  /** Last fencing token issued for the name (0 when never locked). */
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
  release(): Promise<void>;
  /** Sets the remaining lease to ttl ms; LockNotOwned when no longer owned. */
  extend(ttl: number): Promise<void>;
  /** Starts automatic renewal by the core; onLost runs once if the lock is lost. */
  keepAlive(options?: { onLost?: (lock: Lock) => void }): this;
  /** Name, fencing token and ttl (the owner token is left out). */
  toJSON(): { name: string; fencingToken: number; ttl: number };
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
  tryAcquire(name: string, options: { ttl: number }): Promise<Lock>;
  withLock<T>(name: string, options: WithLockOptions, fn: (lock: Lock) => T | Promise<T>): Promise<T>;
  lockInfo(name: string): Promise<LockInfo>;
  execute(...args: Array<string | Buffer | Uint8Array | number | bigint>): Promise<Reply>;
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

/** Every error class by name (RedisxError included). */
export const errors: Record<string, typeof RedisxError>;
/** Version of the loaded libredisx, "MAJOR.MINOR.PATCH". */
export const libraryVersion: string;
/** The SWIG-generated module (one function per C call). */
export const native: Record<string, any>;
