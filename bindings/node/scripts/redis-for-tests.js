'use strict';
// Test support (kept out of test/ so that `node --test` does not run it as a
// test file). A private redis-server per test file: a free loopback port, no persistence,
// daemonized with a pidfile in a temporary directory, stopped by that pid.
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const tls = require('node:tls');

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

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function ping(port) {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.on('error', () => resolve(false));
    s.on('connect', () => s.write('PING\r\n'));
    s.on('data', (d) => {
      s.destroy();
      resolve(d.toString().startsWith('+PONG'));
    });
  });
}

async function tlsPing(port, certs) {
  return new Promise((resolve) => {
    const s = tls.connect({
      port,
      host: '127.0.0.1',
      ca: fs.readFileSync(path.join(certs, 'ca.crt')),
      cert: fs.readFileSync(path.join(certs, 'client.crt')),
      key: fs.readFileSync(path.join(certs, 'client.key')),
      checkServerIdentity: () => undefined,
    });
    s.on('error', () => resolve(false));
    s.on('secureConnect', () => s.write('PING\r\n'));
    s.on('data', (d) => {
      s.destroy();
      resolve(d.toString().startsWith('+PONG'));
    });
  });
}

// The test certificates of every language's TLS tests (a CA, a server
// certificate for 127.0.0.1 and localhost, a client certificate, another CA
// that signed none of them): tests/tls/make-certs.sh.
const MAKE_CERTS = path.join(__dirname, '..', '..', '..', 'tests', 'tls', 'make-certs.sh');

/** A fresh folder of test certificates (remove it with fs.rmSync). */
function makeCerts() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'redisx-node-certs-'));
  execFileSync('sh', [MAKE_CERTS, dir], { stdio: 'inherit' });
  return dir;
}

/**
 * A redis-server of its own. With `tls: { certs, authClients }` it listens
 * on TLS only (`--port 0`), with the certificates of makeCerts(), and asks
 * for client certificates as `authClients` says ('yes', 'optional', 'no').
 */
async function startRedis({ tls: tlsOpts } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'redisx-node-test-'));
  const pidfile = path.join(dir, 'redis.pid');
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const listen = tlsOpts
      ? [
          '--port', '0', '--tls-port', String(port),
          '--tls-cert-file', path.join(tlsOpts.certs, 'server.crt'),
          '--tls-key-file', path.join(tlsOpts.certs, 'server.key'),
          '--tls-ca-cert-file', path.join(tlsOpts.certs, 'ca.crt'),
          '--tls-auth-clients', tlsOpts.authClients || 'optional',
        ]
      : ['--port', String(port)];
    try {
      execFileSync('redis-server', [
        ...listen, '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
        '--daemonize', 'yes', '--pidfile', pidfile, '--dir', dir, '--logfile', path.join(dir, 'redis.log'),
      ], { stdio: 'inherit' });
    } catch {
      continue;
    }
    for (let i = 0; i < 400; i++) {
      if (fs.existsSync(pidfile) && (await (tlsOpts ? tlsPing(port, tlsOpts.certs) : ping(port)))) {
        const pid = Number(fs.readFileSync(pidfile, 'utf8').trim());
        return { port, url: `${tlsOpts ? 'rediss' : 'redis'}://127.0.0.1:${port}`, pid, dir };
      }
      await sleep(25);
    }
    // Not answering: stop it before the next port is tried.
    if (fs.existsSync(pidfile)) {
      try {
        process.kill(Number(fs.readFileSync(pidfile, 'utf8').trim()), 'SIGKILL');
      } catch {}
      fs.rmSync(pidfile, { force: true });
    }
  }
  throw new Error(`could not start redis-server (see ${dir})`);
}

async function stopRedis(server) {
  if (!server) return;
  try {
    process.kill(server.pid, 'SIGTERM');
  } catch {}
  for (let i = 0; i < 200 && alive(server.pid); i++) await sleep(25);
  if (alive(server.pid)) process.kill(server.pid, 'SIGKILL');
  fs.rmSync(server.dir, { recursive: true, force: true });
}

/** Polls `check` (async) until it returns truthy, at most `tries` × `ms`. */
async function eventually(check, { tries = 400, ms = 25 } = {}) {
  for (let i = 0; i < tries; i++) {
    const v = await check();
    if (v) return v;
    await sleep(ms);
  }
  throw new Error('condition not reached');
}

let n = 0;
/** A lock name unique to this process and call. */
function uniq(label) {
  return `${label}-${process.pid}-${++n}`;
}

module.exports = { startRedis, stopRedis, makeCerts, sleep, eventually, uniq, freePort };
