// Types of `redisx/testing` (lib/testing.js): throwaway redis-servers for tests.
import { Client, ClientOptions } from './index';

/** A node:test context: the server stops when the test ends. */
export interface TestContext {
  after(fn: () => unknown): void;
}

export interface ServerOptions {
  /** Extra redis-server arguments, e.g. ['--maxmemory', '10mb']. */
  args?: string[];
}

export interface ClusterOptions extends ServerOptions {
  /** Number of masters, 1 to 16 (default 3). */
  masters?: number;
}

export class RedisServerError extends Error {}

export class RedisServer {
  readonly port: number;
  /** redis://127.0.0.1:<port>/0 */
  readonly url: string;
  /** Its working folder (its log is dir/redis.log). */
  readonly dir: string;
  /** A new client on this server, closed by stop(). */
  client(options?: ClientOptions): Client;
  /** Closes its clients and stops the server. Idempotent. */
  stop(): Promise<void>;
}

export class RedisCluster {
  readonly nodes: RedisServer[];
  /** redis+cluster://127.0.0.1:p1,127.0.0.1:p2,... */
  readonly url: string;
  client(options?: ClientOptions): Client;
  stop(): Promise<void>;
}

export function startServer(t?: TestContext | null, options?: ServerOptions): Promise<RedisServer>;
export function startServer(options: ServerOptions): Promise<RedisServer>;
export function startCluster(t?: TestContext | null, options?: ClusterOptions): Promise<RedisCluster>;
export function startCluster(options: ClusterOptions): Promise<RedisCluster>;
