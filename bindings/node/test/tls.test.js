'use strict';
// TLS (rediss://, the `tls` option) against redis-servers of this file that
// listen on TLS only, with certificates made here by the openssl CLI. The
// binding only hands the settings to the core's setters; these tests check
// that each one arrives and that failures come back as the right classes.
// Timeouts are generous: the machines running this are often loaded.
const test = require('node:test');
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { Client, InvalidArgument, InvalidURL, ConnectionError } = require('..');
const { startRedis, stopRedis, makeCerts, eventually, uniq } = require('../scripts/redis-for-tests');

const SLOW = { connectTimeout: 10000, commandTimeout: 10000 };
// A client whose handshakes fail: its commands wait for a connection until
// their own timeout, then reject with ConnectionError and the last
// handshake's reason (each attempt still has the whole connect timeout).
const FAILING = { connectTimeout: 10000, commandTimeout: 3000 };

let certs;
let server; // tls-auth-clients optional
let strict; // tls-auth-clients yes
const clients = [];

function open(url, options = {}) {
  const c = Client.fromUrl(url, { prefix: `nodetls-${process.pid}`, ...SLOW, ...options });
  clients.push(c);
  return c;
}

const file = (name) => path.join(certs, name);

/** The first command's failure: a failed handshake is a failed connect. */
async function firstError(c) {
  assert.ok(c);
  const e = await c.execute('PING').then(
    () => null,
    (err) => err,
  );
  assert.ok(e, 'PING should have failed');
  return e;
}

test.before(async () => {
  certs = makeCerts();
  server = await startRedis({ tls: { certs, authClients: 'optional' } });
  strict = await startRedis({ tls: { certs, authClients: 'yes' } });
});

test.after(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await stopRedis(server);
  await stopRedis(strict);
  if (certs) fs.rmSync(certs, { recursive: true, force: true });
});

test('rediss:// with the CA: a lock, a rate-limit check and an idempotency round trip', async () => {
  const c = open(server.url, { tls: { caFile: file('ca.crt') } });
  const name = uniq('job');
  const token = await c.withLock(name, { ttl: 10000, wait: 10000 }, async (lk) => lk.fencingToken);
  assert.ok(token > 0, `fencing token ${token}`);

  const lim = c.limiter(uniq('api'), { algorithm: 'fixed_window', limit: 2, period: 60000 });
  const seen = [];
  for (let i = 0; i < 3; i++) seen.push((await lim.check('user')).allowed);
  assert.deepEqual(seen, [true, true, false]);

  const key = uniq('order');
  const first = await c.idempotencyBegin(key, 'body', { lease: 10000 });
  assert.equal(first.state, 'NEW');
  await first.complete('receipt-1', null, { ttl: 60000 });
  const again = await c.idempotencyBegin(key, 'body', { lease: 10000 });
  assert.equal(again.state, 'COMPLETED');
  assert.equal(again.response.toString(), 'receipt-1');
});

test('tls: true turns TLS on for a redis:// URL', async () => {
  const c = open(`redis://127.0.0.1:${server.port}`, { tls: true, ...FAILING });
  // The system store does not know the test CA: TLS was attempted.
  const e = await firstError(c);
  assert.ok(e instanceof ConnectionError, `${e.name}: ${e.message}`);
  assert.match(e.message, /certificate/);
  const ok = open(`redis://127.0.0.1:${server.port}`, { tls: { caFile: file('ca.crt') } });
  assert.equal(await ok.execute('PING'), 'PONG');
});

test('tls: false turns TLS off even for rediss://', async () => {
  const c = open(server.url, { tls: false, ...FAILING });
  // A plain client on a TLS-only port is reset before any reply.
  const e = await firstError(c);
  assert.ok(e instanceof ConnectionError, `${e.name}: ${e.message}`);
  assert.match(e.message, /rediss:\/\//);
});

test('a CA directory in hashed layout verifies the server', async (t) => {
  const dir = fs.mkdtempSync(path.join(certs, 'cadir-'));
  fs.copyFileSync(file('ca.crt'), path.join(dir, 'ca.pem'));
  const r = spawnSync('openssl', ['rehash', dir]);
  if (r.status !== 0) return t.skip('openssl rehash is not available');
  const c = open(server.url, { tls: { caDir: dir } });
  assert.equal(await c.execute('PING'), 'PONG');
});

test('a certificate from another CA fails with ConnectionError naming the certificate', async () => {
  const c = open(server.url, { tls: { caFile: file('other-ca.crt') }, ...FAILING });
  const e = await firstError(c);
  assert.ok(e instanceof ConnectionError, `${e.name}: ${e.message}`);
  assert.match(e.message, /certificate/);
  assert.match(e.message, /verify failed/);
});

test('another host name (serverName) fails the hostname check', async () => {
  const c = open(server.url, { tls: { caFile: file('ca.crt'), serverName: 'wrong.example' }, ...FAILING });
  const e = await firstError(c);
  assert.ok(e instanceof ConnectionError, `${e.name}: ${e.message}`);
  assert.match(e.message, /certificate/);
  assert.match(e.message, /[Hh]ostname mismatch/);
});

test('serverName localhost matches the certificate of a server reached by IP', async () => {
  const c = open(server.url, { tls: { caFile: file('ca.crt'), serverName: 'localhost' } });
  assert.equal(await c.execute('PING'), 'PONG');
});

test('verifyHostname: false accepts a trusted certificate for another name', async () => {
  const c = open(server.url, { tls: { caFile: file('ca.crt'), serverName: 'wrong.example', verifyHostname: false } });
  assert.equal(await c.execute('PING'), 'PONG');
});

test('insecureSkipVerify connects to a server nothing vouches for, and says so', async () => {
  const states = [];
  const c = open(server.url, {
    tls: { caFile: file('other-ca.crt'), serverName: 'wrong.example', insecureSkipVerify: true },
    onState: (s) => states.push(s),
  });
  assert.equal(await c.execute('PING'), 'PONG');
  const up = await eventually(() => states.find((s) => s.state === 'connected'));
  assert.match(up.detail, /NOT verified/);
});

test('a server that requires client certificates refuses a client without one', async () => {
  const c = open(strict.url, { tls: { caFile: file('ca.crt') }, ...FAILING });
  const e = await firstError(c);
  assert.ok(e instanceof ConnectionError, `${e.name}: ${e.message}`);
  assert.match(e.message, /certificate/);
});

test('a client certificate (certFile, keyFile) is accepted where it is required', async () => {
  const c = open(strict.url, { tls: { caFile: file('ca.crt'), certFile: file('client.crt'), keyFile: file('client.key') } });
  assert.equal(await c.execute('PING'), 'PONG');
  const lock = await c.acquire(uniq('strict'), { ttl: 10000 });
  assert.ok(lock.fencingToken > 0);
  await lock.release();
});

test('a certificate file holding its key needs no keyFile', async () => {
  const both = path.join(certs, 'client-both.pem');
  fs.writeFileSync(both, Buffer.concat([fs.readFileSync(file('client.crt')), fs.readFileSync(file('client.key'))]));
  const c = open(strict.url, { tls: { caFile: file('ca.crt'), certFile: both } });
  assert.equal(await c.execute('PING'), 'PONG');
});

test('a CA file that cannot be loaded fails at open with InvalidArgument naming it', () => {
  const missing = path.join(certs, 'no-such-ca.crt');
  assert.throws(
    () => open(server.url, { tls: { caFile: missing } }),
    (e) => e instanceof InvalidArgument && e.message.includes(missing),
  );
});

test('a client key that cannot be loaded fails at open with InvalidArgument naming it', () => {
  const missing = path.join(certs, 'no-such.key');
  assert.throws(
    () => open(strict.url, { tls: { caFile: file('ca.crt'), certFile: file('client.crt'), keyFile: missing } }),
    (e) => e instanceof InvalidArgument && e.message.includes(missing),
  );
});

test('a key without a certificate is InvalidArgument (the core says so)', () => {
  assert.throws(() => open(server.url, { tls: { keyFile: file('client.key') } }), InvalidArgument);
});

test('tls values of the wrong type are InvalidArgument', () => {
  for (const tls of [5, 'yes', null, [], { caFile: 5 }, { serverName: true }, { verifyHostname: 'no' },
    { insecureSkipVerify: 1 }, { certfile: 'x' }]) {
    assert.throws(() => open(server.url, { tls }), InvalidArgument, JSON.stringify(tls));
  }
});

test('a malformed rediss:// URL is InvalidURL', () => {
  assert.throws(() => open('rediss://127.0.0.1:notaport'), InvalidURL);
});
