// Types of `redisx/nestjs` (lib/nestjs.js). Needs @nestjs/common, @nestjs/core,
// reflect-metadata and rxjs (optional peer dependencies of redisx).
import { Client, Lock, Limiter, RateLimitResult, Cache, CacheTag, Consumer, StreamConsumer as StreamConsumerDecorator } from './index';

/** A client: a URL, { url, ...client options } or a Client. */
export type ClientSpec = string | ({ url: string } & Record<string, unknown>) | Client;

export interface RedisxModuleOptions {
  /** The URL of the client named `name` ('default'). */
  url?: string;
  /** Client options for `url`. */
  clientOptions?: Record<string, unknown>;
  /** A ready client (or spec) named `name`. */
  client?: ClientSpec;
  /** The name of `url`/`client` (default 'default'). */
  name?: string;
  /** Several named clients. */
  clients?: Record<string, ClientSpec>;
  /** Global module (default true). */
  global?: boolean;
  /** Start the @StreamConsumer methods of the providers (default true). */
  consumers?: boolean;
}

export interface RedisxModuleAsyncOptions {
  imports?: unknown[];
  useFactory: (...args: any[]) => RedisxModuleOptions | Promise<RedisxModuleOptions>;
  inject?: unknown[];
  /** The client names the factory defines (default ['default']). */
  names?: string[];
  global?: boolean;
}

export class RedisxModule {
  static forRoot(options: RedisxModuleOptions): unknown;
  static forRootAsync(options: RedisxModuleAsyncOptions): unknown;
}

/** DI token of the client `name` ('default'). */
export function getClientToken(name?: string): string;
/** DI token of the module's registry (RedisxRegistry). */
export const REDISX_REGISTRY: string;
/** Parameter decorator injecting the client `name`. */
export function InjectRedisx(name?: string): ParameterDecorator;

export class RedisxRegistry {
  client(name?: string): Client;
  /** Stream consumer runs started at bootstrap. */
  runs: Array<{ consumers: Consumer[]; stop(): Promise<void> }>;
}

export class LockService {
  acquire(name: string, opts?: { ttl?: number; wait?: number; client?: string }): Promise<Lock>;
  withLock<T>(name: string, opts: { ttl?: number; wait?: number; keepAlive?: boolean; client?: string }, fn: (lock: Lock) => T | Promise<T>): Promise<T>;
}

export interface LimiterOptions {
  algorithm?: 'fixed_window' | 'sliding_log' | 'sliding_window' | 'token_bucket' | 'gcra';
  limit?: number;
  period?: number;
  burst?: number;
  failOpen?: boolean;
}

export class RateLimitService {
  limiter(name: string, options?: LimiterOptions, client?: string): Limiter;
  check(name: string, options: LimiterOptions & { client?: string }, key: string, cost?: number): Promise<RateLimitResult>;
}

export class CacheService {
  cache(name?: string, options?: Record<string, unknown>, client?: string): Cache;
  /** invalidateTags(tags) on cache `name` (of client `client`). */
  invalidateTags(name: string, tags: CacheTag[], client?: string): Promise<void>;
}

export class StreamService {
  publish(stream: string, payload: unknown, opts?: Record<string, unknown> & { client?: string }): Promise<string>;
  consumer(stream: string, group: string, opts?: Record<string, unknown> & { client?: string }): Consumer;
}

export class IdempotencyService {
  run<T>(key: string, fingerprint: Buffer | string, fn: () => T | Promise<T>, opts?: Record<string, unknown> & { client?: string }): Promise<T>;
}

export interface WithLockOptions {
  /** "order:{0.id}" (argument index, then properties) or a function of the arguments. */
  key: string | ((...args: any[]) => string);
  /** Lease, ms. */
  ttl?: number;
  /** How long to wait for the lock, ms (default 10000; 0: one attempt). */
  wait?: number;
  keepAlive?: boolean;
  client?: string;
}
export function WithLock(options: WithLockOptions): MethodDecorator;

export interface RateLimitOptions {
  limit: number;
  /** Window, ms. */
  period?: number;
  /** Alias of period. */
  window?: number;
  /** redisx names; dashes accepted ('sliding-log'). */
  algorithm?: string;
  burst?: number;
  failOpen?: boolean;
  /** Limiter name (default 'nestjs'). */
  name?: string;
  /** Key of a request (default `${Class}.${method}:${client IP}`); null skips. */
  key?: string | ((context: any, req: any) => string | null | undefined | Promise<string | null | undefined>);
  cost?: (context: any, req: any) => number | Promise<number>;
  client?: string;
}
export function RateLimit(options: RateLimitOptions): MethodDecorator & ClassDecorator;
export class RateLimitGuard {
  constructor(options: RateLimitOptions);
  canActivate(context: any): Promise<boolean>;
}
/** The 429 HttpException of the guard. */
export class RateLimited extends Error {
  result: RateLimitResult;
  headers: Record<string, string>;
}

export interface IdempotentOptions {
  namespace?: string;
  lease?: number;
  ttl?: number;
  wait?: number;
  required?: boolean;
  onError?: (err: Error) => void;
  client?: string;
}
export function Idempotent(options?: IdempotentOptions): MethodDecorator & ClassDecorator;

export interface CachedOptions {
  /** A cache name (through the module's client) or a Cache. */
  cache?: string | Cache;
  key?: string | ((...args: any[]) => string);
  ttl?: number;
  wait?: number;
  swr?: number;
  sie?: number;
  /** Tags of the cached value: templates as `key` ("user:{0}"), or a function of the arguments. */
  tags?: CacheTag[] | ((...args: any[]) => CacheTag[]);
  client?: string;
}
export function Cached(options?: CachedOptions): MethodDecorator;

export interface InvalidateTagsOptions {
  /** A cache name (through the module's client) or a Cache; default: `this.cache`. */
  cache?: string | Cache;
  /** Templates as @Cached's key ("user:{0}"), or a function of the arguments. */
  tags: CacheTag[] | ((...args: any[]) => CacheTag[]);
  client?: string;
}
/** Invalidates the tags once the method resolved (a method that throws invalidates nothing). */
export function InvalidateTags(options: InvalidateTagsOptions | CacheTag[] | ((...args: any[]) => CacheTag[])): MethodDecorator;

export const StreamConsumer: typeof StreamConsumerDecorator;

/** HTTP status of a redisx error (0: none of the table). */
export function httpStatusOf(err: unknown): number;
/** Exception filter for RedisxError and IdempotencyConflict (docs/NESTJS.md). */
export class RedisxExceptionFilter {
  catch(err: unknown, host: any): void;
}
