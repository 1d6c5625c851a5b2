'use strict';
// The core's log lines through a pino- or Nest-style logger ({ logger }),
// with no secret in them.
const test = require('node:test');
const assert = require('node:assert/strict');
const { Client, ConnectionError, InvalidArgument } = require('..');
const { startRedis, stopRedis, sleep } = require('../scripts/redis-for-tests');

test('core lines reach a pino-style logger at info and above', async () => {
  const server = await startRedis();
  const lines = [];
  const logger = {
    debug: (m) => lines.push(['debug', m]),
    info: (m) => lines.push(['info', m]),
    warn: (m) => lines.push(['warn', m]),
    error: (m) => lines.push(['error', m]),
  };
  const seen = [];
  const c = new Client(server.url, { logger, onLog: (e) => seen.push(e) });
  try {
    await c.execute('PING');
    for (let i = 0; i < 400 && !lines.some(([, m]) => /ready/.test(m)); i++) await sleep(25);
    assert.ok(lines.some(([l, m]) => l === 'info' && /^redisx: .*ready/.test(m)), JSON.stringify(lines));
    assert.ok(lines.every(([l]) => l !== 'debug'), 'info by default');
    assert.equal(seen.length, lines.length, 'onLog beside logger sees every line');
  } finally {
    await c.close();
    await stopRedis(server);
  }
});

test("a Nest-style logger (log, warn, error) and no password in any line", async () => {
  const lines = [];
  const logger = { log: (m) => lines.push(m), warn: (m) => lines.push(m), error: (m) => lines.push(m) };
  const secret = 's3cr3t-Pa55word';
  const c = new Client(`redis://user:${secret}@127.0.0.1:1/0`, {
    logger,
    logLevel: 'debug',
    connectTimeout: 200,
    commandTimeout: 500,
    reconnectBackoff: { min: 10, max: 50 },
  });
  try {
    await assert.rejects(c.execute('PING'), (e) => e instanceof ConnectionError && !e.message.includes(secret));
    for (let i = 0; i < 200 && lines.length === 0; i++) await sleep(25);
    assert.ok(lines.length > 0, 'connect failures are logged');
    for (const m of lines) assert.ok(!m.includes(secret), m);
  } finally {
    await c.close();
  }
});

test('a logger without warn/error is refused', () => {
  assert.throws(() => new Client('redis://127.0.0.1:1', { logger: { info() {} } }), InvalidArgument);
  assert.throws(() => new Client('redis://127.0.0.1:1', { logger: 'x' }), InvalidArgument);
});
