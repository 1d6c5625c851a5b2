'use strict';
// Test support (kept out of test/ so that `node --test` does not run it as a
// test file). A private redis-server per test file: a free loopback port, no persistence,
// daemonized with a pidfile in a temporary directory, stopped by that pid.
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

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

async function startRedis() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'redisx-node-test-'));
  const pidfile = path.join(dir, 'redis.pid');
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    try {
      execFileSync('redis-server', [
        '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
        '--daemonize', 'yes', '--pidfile', pidfile, '--dir', dir, '--logfile', path.join(dir, 'redis.log'),
      ], { stdio: 'inherit' });
    } catch {
      continue;
    }
    for (let i = 0; i < 200; i++) {
      if (fs.existsSync(pidfile) && (await ping(port))) {
        const pid = Number(fs.readFileSync(pidfile, 'utf8').trim());
        return { port, url: `redis://127.0.0.1:${port}`, pid, dir };
      }
      await sleep(25);
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

module.exports = { startRedis, stopRedis, sleep, eventually, uniq, freePort };
