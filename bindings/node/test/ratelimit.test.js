'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const {
  Client,
  Limiter,
  RateLimitResult,
  InvalidArgument,
  ConnectionError,
  Timeout,
  ClientClosed,
  rateLimit,
  rateLimitHeaders,
  algorithms,
} = require('..');
const { startRedis, stopRedis, uniq, freePort } = require('../scripts/redis-for-tests');
const { serve, request } = require('../scripts/http-for-tests');

const PREFIX = 'noderl';
let server;
let client;

test.before(async () => {
  server = await startRedis();
  client = Client.fromUrl(server.url, { prefix: PREFIX });
});

test.after(async () => {
  if (client) await client.close();
  await stopRedis(server);
});

// The canonical sequence of the issue (identical in every language).
const SEQ_EXPECTED = [
  'reset',
  'check 1 1 5 4 -',
  'check 1 1 5 3 -',
  'check 1 1 5 2 -',
  'check 1 1 5 1 -',
  'check 1 1 5 0 -',
  'check 1 0 5 0 +',
  'check 1 0 5 0 +',
  'peek 1 0 5 0 +',
  'reset',
  'peek 1 1 5 5 -',
  'check 3 1 5 2 -',
  'check 3 0 5 2 +',
  'check 2 1 5 0 -',
  'check 6 InvalidArgument',
];

function seqLine(op, cost, r) {
  const sign = r.retryAfter === -1 ? '-' : r.retryAfter > 0 ? '+' : '?';
  return `${op} ${cost} ${r.allowed ? 1 : 0} ${r.limit} ${r.remaining} ${sign}`;
}

async function runSeq(limiter, key) {
  const out = [];
  const check = async (cost) => {
    try {
      out.push(seqLine('check', cost, await limiter.check(key, cost)));
    } catch (e) {
      out.push(`check ${cost} ${e.name}`);
    }
  };
  const peek = async () => out.push(seqLine('peek', 1, await limiter.peek(key)));
  const reset = async () => {
    await limiter.reset(key);
    out.push('reset');
  };
  await reset();
  for (let i = 0; i < 7; i++) await check(1);
  await peek();
  await reset();
  await peek();
  await check(3);
  await check(3);
  await check(2);
  await check(6);
  return out;
}

test('the algorithm names are the five of the C enum, in order', () => {
  assert.deepEqual(algorithms, ['fixed_window', 'sliding_log', 'sliding_window', 'token_bucket', 'gcra']);
});

for (const algorithm of ['fixed_window', 'sliding_log', 'sliding_window', 'token_bucket', 'gcra']) {
  test(`the canonical sequence gives the exact values with ${algorithm}`, async () => {
    const limiter = client.limiter(`seq-${algorithm}`, { algorithm, limit: 5, period: 3600000, burst: 0 });
    assert.ok(limiter instanceof Limiter);
    assert.equal(limiter.capacity, 5);
    assert.deepEqual(await runSeq(limiter, uniq('k')), SEQ_EXPECTED);
  });
}

test('a result carries every field, with times in ms', async () => {
  const limiter = client.limiter(uniq('fields'), { algorithm: 'token_bucket', limit: 10, period: 10000, burst: 2 });
  assert.equal(limiter.capacity, 2);
  const key = uniq('k');
  const first = await limiter.check(key);
  assert.ok(first instanceof RateLimitResult);
  assert.equal(first.allowed, true);
  assert.equal(first.limit, 2);
  assert.equal(first.remaining, 1);
  assert.equal(first.retryAfter, -1);
  assert.equal(first.failOpen, false);
  assert.ok(first.reset > 0 && first.reset <= 1000, `reset ${first.reset}`);
  await limiter.check(key);
  const denied = await limiter.check(key);
  assert.equal(denied.allowed, false);
  assert.equal(denied.remaining, 0);
  assert.ok(denied.retryAfter > 0 && denied.retryAfter <= 1000, `retryAfter ${denied.retryAfter}`);
  assert.ok(denied.reset >= denied.retryAfter);
});

for (const algorithm of ['fixed_window', 'sliding_log', 'sliding_window', 'token_bucket', 'gcra']) {
  test(`8 clients hammering one key of a 20-per-hour ${algorithm} limiter get exactly 20 allowed`, async () => {
    const name = uniq(`conc-${algorithm}`);
    const key = uniq('hot');
    const clients = Array.from({ length: 8 }, () => Client.fromUrl(server.url, { prefix: PREFIX }));
    try {
      const limiters = clients.map((c) => c.limiter(name, { algorithm, limit: 20, period: 3600000, burst: 20 }));
      // Each client keeps 5 checks in flight at a time, 40 checks each.
      const allowed = await Promise.all(
        limiters.map(async (limiter) => {
          let n = 0;
          for (let round = 0; round < 8; round++) {
            const results = await Promise.all(Array.from({ length: 5 }, () => limiter.check(key)));
            n += results.filter((r) => r.allowed).length;
          }
          return n;
        }),
      );
      assert.equal(
        allowed.reduce((a, b) => a + b, 0),
        20,
        `allowed per client: ${allowed}`,
      );
    } finally {
      await Promise.all(clients.map((c) => c.close()));
    }
  });
}

test('a cost above the capacity, zero, negative or fractional is InvalidArgument', async () => {
  for (const algorithm of algorithms) {
    const limiter = client.limiter(uniq('cost'), { algorithm, limit: 5, period: 60000 });
    const key = uniq('k');
    for (const cost of [6, 1000, 0, -1, 1.5, '2', null]) {
      await assert.rejects(limiter.check(key, cost), (e) => {
        assert.ok(e instanceof InvalidArgument, `${algorithm} cost ${cost}: ${e}`);
        assert.equal(e.code, 'ERR_INVALID');
        assert.ok(e.detail.length > 0);
        return true;
      });
    }
    // Nothing was spent by the rejected checks.
    const r = await limiter.peek(key);
    assert.equal(r.remaining, 5);
    assert.equal((await limiter.check(key, 5)).allowed, true);
  }
});

test('bad limiter definitions are InvalidArgument', () => {
  const bad = [
    () => client.limiter(uniq('x'), { algorithm: 'leaky', limit: 1, period: 1000 }),
    () => client.limiter(uniq('x'), { limit: 1, period: 1000 }),
    () => client.limiter(uniq('x'), { algorithm: 'gcra', limit: 0, period: 1000 }),
    () => client.limiter(uniq('x'), { algorithm: 'gcra', limit: 1, period: 0 }),
    () => client.limiter(uniq('x'), { algorithm: 'gcra', limit: 1 }),
    () => client.limiter(uniq('x'), { algorithm: 'gcra', limit: 1, period: 1000, burst: -1 }),
    () => client.limiter(uniq('x'), { algorithm: 'fixed_window', limit: 5, period: 1000, burst: 7 }),
    () => client.limiter(uniq('x'), { algorithm: 'gcra', limit: 1, period: 1000, failOpen: 'yes' }),
    () => client.limiter(uniq('x'), { algorithm: 'gcra', limit: 1, period: 1000, nosuch: 1 }),
    () => client.limiter('', { algorithm: 'gcra', limit: 1, period: 1000 }),
    () => client.limiter(42, { algorithm: 'gcra', limit: 1, period: 1000 }),
  ];
  for (const [i, f] of bad.entries()) {
    assert.throws(f, (e) => {
      assert.ok(e instanceof InvalidArgument, `case ${i}: ${e}`);
      return true;
    });
  }
});

test('peek spends nothing and reset restores the whole budget', async () => {
  const limiter = client.limiter(uniq('peek'), { algorithm: 'sliding_log', limit: 3, period: 60000 });
  const key = uniq('k');
  for (let i = 0; i < 5; i++) assert.equal((await limiter.peek(key)).remaining, 3);
  await limiter.check(key, 2);
  assert.equal((await limiter.peek(key)).remaining, 1);
  await limiter.reset(key);
  assert.equal((await limiter.peek(key)).remaining, 3);
});

test('limiters of one name and parameters share a budget across clients; another name does not', async () => {
  const other = Client.fromUrl(server.url, { prefix: PREFIX });
  try {
    const name = uniq('shared');
    const key = uniq('k');
    const a = client.limiter(name, { algorithm: 'gcra', limit: 4, period: 3600000 });
    const b = other.limiter(name, { algorithm: 'gcra', limit: 4, period: 3600000 });
    const c = other.limiter(uniq('elsewhere'), { algorithm: 'gcra', limit: 4, period: 3600000 });
    await a.check(key, 3);
    assert.equal((await b.check(key)).remaining, 0);
    assert.equal((await b.check(key)).allowed, false);
    assert.equal((await c.check(key)).remaining, 3);
  } finally {
    await other.close();
  }
});

test('an unreachable server is allowed fail-open by default, an error when failing closed', async () => {
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  const c = Client.fromUrl(url, { commandTimeout: 200, connectTimeout: 200 });
  const closed = Client.fromUrl(url, { commandTimeout: 200, connectTimeout: 200, failOpenRateLimits: false });
  try {
    const open = c.limiter('down', { algorithm: 'sliding_window', limit: 7, period: 60000 });
    const r = await open.check('k');
    assert.equal(r.allowed, true);
    assert.equal(r.failOpen, true);
    assert.equal(r.limit, 7);
    assert.equal(r.remaining, 7);
    assert.equal(r.retryAfter, -1);
    const strict = c.limiter('down', { algorithm: 'sliding_window', limit: 7, period: 60000, failOpen: false });
    const isDown = (e) => e instanceof ConnectionError || e instanceof Timeout;
    await assert.rejects(strict.check('k'), isDown);
    // The client-wide policy, and a limiter overriding it.
    await assert.rejects(closed.limiter('down', { algorithm: 'gcra', limit: 7, period: 60000 }).check('k'), isDown);
    const reopened = closed.limiter('down', { algorithm: 'gcra', limit: 7, period: 60000, failOpen: true });
    assert.equal((await reopened.check('k')).failOpen, true);
  } finally {
    await c.close();
    await closed.close();
  }
});

test('a limiter of a closed client rejects with ClientClosed', async () => {
  const c = Client.fromUrl(server.url, { prefix: PREFIX });
  const limiter = c.limiter(uniq('closed'), { algorithm: 'fixed_window', limit: 5, period: 60000 });
  assert.equal((await limiter.check('k')).allowed, true);
  await c.close();
  await assert.rejects(limiter.check('k'), ClientClosed);
  await assert.rejects(limiter.peek('k'), ClientClosed);
  await assert.rejects(limiter.reset('k'), ClientClosed);
  assert.throws(() => c.limiter(uniq('closed'), { algorithm: 'gcra', limit: 1, period: 1000 }), ClientClosed);
});

test('the headers helper follows the shared rule for allowed and denied results', async () => {
  const allowed = new RateLimitResult(true, 10, 3, 1500, -1, false);
  assert.deepEqual(rateLimitHeaders(allowed), {
    'X-RateLimit-Limit': '10',
    'X-RateLimit-Remaining': '3',
    'X-RateLimit-Reset': '2',
  });
  assert.deepEqual(allowed.headers(), rateLimitHeaders(allowed));
  assert.deepEqual(rateLimitHeaders(new RateLimitResult(true, 10, 10, 0, -1, false)), {
    'X-RateLimit-Limit': '10',
    'X-RateLimit-Remaining': '10',
    'X-RateLimit-Reset': '0',
  });
  assert.deepEqual(rateLimitHeaders(new RateLimitResult(false, 10, 0, 3000, 2001, false)), {
    'X-RateLimit-Limit': '10',
    'X-RateLimit-Remaining': '0',
    'X-RateLimit-Reset': '3',
    'Retry-After': '3',
  });
  // Retry-After is at least 1 s, even for a few ms.
  assert.equal(rateLimitHeaders(new RateLimitResult(false, 10, 0, 5, 5, false))['Retry-After'], '1');
  assert.equal(rateLimitHeaders(new RateLimitResult(false, 10, 0, 1000, 1000, false))['Retry-After'], '1');
  assert.equal(rateLimitHeaders(new RateLimitResult(false, 10, 0, 0, 0, false))['Retry-After'], '1');

  // And from real results.
  const limiter = client.limiter(uniq('hdr'), { algorithm: 'sliding_log', limit: 2, period: 60000 });
  const key = uniq('k');
  const ok = await limiter.check(key);
  const h = ok.headers();
  assert.equal(h['X-RateLimit-Limit'], '2');
  assert.equal(h['X-RateLimit-Remaining'], '1');
  assert.equal(h['X-RateLimit-Reset'], String(Math.ceil(ok.reset / 1000)));
  assert.ok(Number(h['X-RateLimit-Reset']) >= 1 && Number(h['X-RateLimit-Reset']) <= 60);
  assert.equal('Retry-After' in h, false);
  await limiter.check(key);
  const no = await limiter.check(key);
  const d = no.headers();
  assert.equal(no.allowed, false);
  assert.equal(d['X-RateLimit-Remaining'], '0');
  assert.equal(d['Retry-After'], String(Math.max(1, Math.ceil(no.retryAfter / 1000))));
  assert.ok(Number(d['Retry-After']) >= 1 && Number(d['Retry-After']) <= 60);
});

// An app: the middleware, then a handler that answers "ok"; errors passed to
// next become 500 with the error's class name (what Express' error path does).
function app(mw) {
  return (req, res) =>
    mw(req, res, (err) => {
      if (err) {
        res.statusCode = 500;
        res.end(err.name);
        return;
      }
      res.end(`ok ${req.rateLimit ? req.rateLimit.remaining : '-'}`);
    });
}

test('the middleware sets the headers, answers 429 when denied and keys by the function given', async () => {
  const limiter = client.limiter(uniq('mw'), { algorithm: 'fixed_window', limit: 3, period: 3600000 });
  const srv = await serve(app(rateLimit(limiter, { key: (req) => req.headers['x-user'] })));
  try {
    const user = uniq('alice');
    for (const left of [2, 1, 0]) {
      const r = await request(srv.url, { headers: { 'x-user': user } });
      assert.equal(r.status, 200);
      assert.equal(r.text, `ok ${left}`);
      assert.equal(r.headers['x-ratelimit-limit'], '3');
      assert.equal(r.headers['x-ratelimit-remaining'], String(left));
      assert.ok(Number(r.headers['x-ratelimit-reset']) >= 1);
      assert.equal(r.headers['retry-after'], undefined);
    }
    const denied = await request(srv.url, { headers: { 'x-user': user } });
    assert.equal(denied.status, 429);
    assert.equal(denied.text, 'Too Many Requests');
    assert.equal(denied.headers['x-ratelimit-limit'], '3');
    assert.equal(denied.headers['x-ratelimit-remaining'], '0');
    assert.ok(Number(denied.headers['retry-after']) >= 1);
    // Another key has its own budget; no key (null) skips the check.
    const bob = await request(srv.url, { headers: { 'x-user': uniq('bob') } });
    assert.equal(bob.status, 200);
    assert.equal(bob.headers['x-ratelimit-remaining'], '2');
    const anonymous = await request(srv.url);
    assert.equal(anonymous.status, 200);
    assert.equal(anonymous.text, 'ok -');
    assert.equal(anonymous.headers['x-ratelimit-limit'], undefined);
  } finally {
    await srv.close();
  }
});

test('the middleware keys by client IP by default and spends cost(req) units', async () => {
  const limiter = client.limiter(uniq('ip'), { algorithm: 'token_bucket', limit: 10, period: 3600000 });
  const srv = await serve(app(limiter.middleware({ cost: async (req) => Number(req.headers['x-cost'] || 1) })));
  try {
    const r1 = await request(srv.url, { headers: { 'x-cost': '4' } });
    assert.equal(r1.status, 200);
    assert.equal(r1.headers['x-ratelimit-remaining'], '6');
    const r2 = await request(srv.url);
    assert.equal(r2.headers['x-ratelimit-remaining'], '5');
    // The budget is the IP's: the same as checking 127.0.0.1 directly.
    assert.equal((await limiter.peek('127.0.0.1')).remaining, 5);
    const big = await request(srv.url, { headers: { 'x-cost': '6' } });
    assert.equal(big.status, 429);
    // A cost the limiter can never allow goes to the error path.
    const invalid = await request(srv.url, { headers: { 'x-cost': '11' } });
    assert.equal(invalid.status, 500);
    assert.equal(invalid.text, 'InvalidArgument');
  } finally {
    await srv.close();
  }
});

test('the middleware sends a fail-closed limiter error to next(err); fail-open lets requests through', async () => {
  const port = await freePort();
  const c = Client.fromUrl(`redis://127.0.0.1:${port}`, { commandTimeout: 200, connectTimeout: 200 });
  const strict = c.limiter('down', { algorithm: 'gcra', limit: 1, period: 60000, failOpen: false });
  const lenient = c.limiter('down', { algorithm: 'gcra', limit: 1, period: 60000 });
  const a = await serve(app(rateLimit(strict)));
  const b = await serve(app(rateLimit(lenient)));
  try {
    const r = await request(a.url);
    assert.equal(r.status, 500);
    assert.ok(['ConnectionError', 'Timeout'].includes(r.text), r.text);
    for (let i = 0; i < 3; i++) {
      const ok = await request(b.url);
      assert.equal(ok.status, 200);
      assert.equal(ok.headers['x-ratelimit-remaining'], '1');
    }
  } finally {
    await a.close();
    await b.close();
    await c.close();
  }
});

test('rateLimit rejects bad arguments at once', () => {
  const limiter = client.limiter(uniq('args'), { algorithm: 'gcra', limit: 1, period: 1000 });
  assert.throws(() => rateLimit({}), InvalidArgument);
  assert.throws(() => rateLimit(limiter, { key: 'ip' }), InvalidArgument);
  assert.throws(() => rateLimit(limiter, { cost: 2 }), InvalidArgument);
});
