'use strict';
// Throwaway redis-servers for the tests of code that uses redisx
// (`require('redisx/testing')`): a standalone server or a local Redis Cluster
// on free 127.0.0.1 ports, without persistence, stopped by `stop()`, by the
// test framework's hook, or at the latest when the process exits.
//
//   const { startServer } = require('redisx/testing');
//   test('checkout', async (t) => {
//     const server = await startServer(t);   // node:test: stopped after t
//     const client = server.client();        // closed with the server
//     ...
//   });
//
// With Jest or Mocha: `beforeAll(async () => { server = await startServer(); })`
// and `afterAll(() => server.stop())`.
//
// The server binary is $REDISX_REDIS_SERVER when set, else `redis-server` on
// PATH (Debian: apt-get install redis-server). When it cannot be found or does
// not start, the promise rejects with a RedisServerError saying why.
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { Client } = require('./client');

/** How long a server may take to answer its first PING (busy CI machines). */
const START_DEADLINE_MS = 20000;

class RedisServerError extends Error {
  constructor(message) {
    super(message);
    this.name = 'RedisServerError';
  }
}

// Servers still running: killed (synchronously) when the process exits, so a
// test run that crashes or forgets stop() leaves none behind.
const running = new Set();
process.on('exit', () => {
  for (const s of running) s._killNow();
});

function binary() {
  if (process.env.REDISX_REDIS_SERVER) return process.env.REDISX_REDIS_SERVER;
  for (const dir of (process.env.PATH || '').split(path.delimiter)) {
    if (!dir) continue;
    const p = path.join(dir, 'redis-server');
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      /* next */
    }
  }
  throw new RedisServerError(
    'redis-server not found on PATH (install it, e.g. apt-get install redis-server, or set REDISX_REDIS_SERVER)',
  );
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function ping(port) {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    const done = (ok) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(1000, () => done(false));
    s.on('error', () => done(false));
    s.on('connect', () => s.write('PING\r\n'));
    s.on('data', (d) => done(d.toString().startsWith('+PONG')));
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// (t?, options?): t is a node:test context (it has t.after) or left out.
function contextAndOptions(t, options) {
  if (t != null && typeof t.after !== 'function') {
    if (options !== undefined || typeof t !== 'object') {
      throw new TypeError('the first argument must be a node:test context (with t.after), or the options');
    }
    return [null, t];
  }
  return [t || null, options || {}];
}

class RedisServer {
  constructor(port, dir, child) {
    /** The loopback port; `url` is redis://127.0.0.1:<port>/0. */
    this.port = port;
    this.url = `redis://127.0.0.1:${port}/0`;
    /** Its working folder (its log is dir/redis.log). */
    this.dir = dir;
    this._child = child;
    this._exited = new Promise((resolve) => child.once('exit', resolve));
    this._clients = new Set();
    running.add(this);
  }

  /** A new client on this server, closed by stop(). */
  client(options = {}) {
    const c = new Client(this.url, options);
    this._clients.add(c);
    return c;
  }

  /** Closes its clients and stops the server (SIGTERM, SIGKILL after 10 s). Idempotent. */
  async stop() {
    if (!this._stopping) {
      this._stopping = (async () => {
        for (const c of this._clients) await c.close().catch(() => {});
        this._clients.clear();
        if (this._child.exitCode === null && this._child.signalCode === null) {
          this._child.kill('SIGTERM');
          const timer = setTimeout(() => this._child.kill('SIGKILL'), 10000);
          await this._exited;
          clearTimeout(timer);
        }
        running.delete(this);
        fs.rmSync(this.dir, { recursive: true, force: true });
      })();
    }
    return this._stopping;
  }

  _killNow() {
    try {
      this._child.kill('SIGKILL');
    } catch {
      /* gone */
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

async function spawnServer(args, dir) {
  const exe = binary();
  let last = '';
  for (let attempt = 0; attempt < 5; attempt++) {
    // A port taken between the probe and the bind costs another attempt.
    const port = await freePort();
    const log = path.join(dir, 'redis.log');
    const child = spawn(
      exe,
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
        '--daemonize', 'no', '--dir', dir, '--logfile', log, ...args],
      { stdio: 'ignore' },
    );
    let spawnError = null;
    child.once('error', (e) => {
      spawnError = e;
    });
    const server = new RedisServer(port, dir, child);
    const deadline = Date.now() + START_DEADLINE_MS;
    while (Date.now() < deadline && child.exitCode === null && spawnError === null) {
      if (await ping(port)) return server;
      await sleep(20);
    }
    running.delete(server);
    if (spawnError) throw new RedisServerError(`cannot run ${exe}: ${spawnError.message}`);
    child.kill('SIGKILL');
    await server._exited;
    try {
      last = fs.readFileSync(log, 'utf8').trim().split('\n').slice(-5).join(' | ');
    } catch {
      last = 'no log';
    }
  }
  throw new RedisServerError(`redis-server did not start on a free port: ${last}`);
}

/**
 * Starts a redis-server on a free loopback port: `startServer()`,
 * `startServer(t)` (node:test: stopped when t ends), `startServer(t, options)`
 * or `startServer(options)`. `options.args`: extra redis-server arguments,
 * e.g. ['--maxmemory', '10mb'].
 */
async function startServer(t, options) {
  [t, options] = contextAndOptions(t, options);
  const args = options.args || [];
  if (!Array.isArray(args) || args.some((a) => typeof a !== 'string')) {
    throw new TypeError('options.args must be an array of strings');
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'redisx-test-'));
  let server;
  try {
    server = await spawnServer(args, dir);
  } catch (e) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  if (t) t.after(() => server.stop());
  return server;
}

class RedisCluster {
  constructor(nodes) {
    /** Its nodes (RedisServer each). */
    this.nodes = nodes;
    /** Every node as a seed: redis+cluster://127.0.0.1:p1,127.0.0.1:p2,... */
    this.url = `redis+cluster://${nodes.map((n) => `127.0.0.1:${n.port}`).join(',')}`;
    this._clients = new Set();
  }

  /** A new cluster client, closed by stop(). */
  client(options = {}) {
    const c = new Client(this.url, options);
    this._clients.add(c);
    return c;
  }

  /** Closes its clients and stops every node. Idempotent. */
  async stop() {
    for (const c of this._clients) await c.close().catch(() => {});
    this._clients.clear();
    await Promise.all(this.nodes.map((n) => n.stop()));
  }
}

/**
 * Starts a local Redis Cluster without replicas, the 16384 slots split evenly
 * between `options.masters` masters (1 to 16, default 3), and resolves when
 * every node reports cluster_state:ok. Called like startServer.
 */
async function startCluster(t, options) {
  [t, options] = contextAndOptions(t, options);
  const masters = options.masters === undefined ? 3 : options.masters;
  if (!Number.isInteger(masters) || masters < 1 || masters > 16) {
    throw new RangeError(`masters must be an integer 1..16, got ${masters}`);
  }
  const nodes = [];
  try {
    for (let i = 0; i < masters; i++) {
      // nodes.conf goes to the node's own folder (its --dir).
      nodes.push(
        await startServer({
          args: ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf',
            '--cluster-node-timeout', '5000', ...(options.args || [])],
        }),
      );
    }
    await form(nodes);
  } catch (e) {
    await Promise.all(nodes.map((n) => n.stop()));
    throw e;
  }
  const cluster = new RedisCluster(nodes);
  if (t) t.after(() => cluster.stop());
  return cluster;
}

async function form(nodes) {
  const clients = nodes.map((n) => new Client(n.url, { commandTimeout: 10000 }));
  try {
    const per = Math.floor(16384 / nodes.length);
    for (let i = 0; i < clients.length; i++) {
      const last = i === clients.length - 1 ? 16383 : (i + 1) * per - 1;
      await clients[i].execute('CLUSTER', 'ADDSLOTSRANGE', String(i * per), String(last));
      await clients[i].execute('CLUSTER', 'SET-CONFIG-EPOCH', String(i + 1));
    }
    for (const n of nodes.slice(1)) await clients[0].execute('CLUSTER', 'MEET', '127.0.0.1', String(n.port));
    const want = `cluster_known_nodes:${nodes.length}`;
    const deadline = Date.now() + 60000;
    while (Date.now() < deadline) {
      const infos = await Promise.all(clients.map((c) => c.execute('CLUSTER', 'INFO')));
      if (infos.every((i) => String(i).includes('cluster_state:ok') && String(i).includes(want))) return;
      await sleep(50);
    }
    throw new RedisServerError('the nodes did not reach cluster_state:ok within 60 s');
  } finally {
    for (const c of clients) await c.close();
  }
}

module.exports = { startServer, startCluster, RedisServer, RedisCluster, RedisServerError };
