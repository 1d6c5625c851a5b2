'use strict';
// The HTTP idempotency helpers end to end, on a real node:http server.
const test = require('node:test');
const assert = require('node:assert/strict');
const { Client, idempotency, IdempotencyInterceptor, requestFingerprint, InvalidArgument } = require('..');
const { startRedis, stopRedis, sleep, uniq, freePort } = require('../scripts/redis-for-tests');
const { serve, request } = require('../scripts/http-for-tests');

const PREFIX = 'nodehttp';
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

// An app in the shape Express gives: middleware, then the handler; an error
// passed to next becomes a 500.
function app(mw, handler) {
  return (req, res) =>
    mw(req, res, (err) => {
      if (err) {
        res.statusCode = 500;
        res.end(`error: ${err.name}`);
        return;
      }
      Promise.resolve(handler(req, res)).catch((e) => {
        res.statusCode = 500;
        res.end(`error: ${e.message}`);
      });
    });
}

// A handler that creates an "order": counts its runs, echoes the body.
function orders() {
  const state = { runs: 0, gate: null };
  const handler = async (req, res) => {
    state.runs++;
    // Without an Idempotency-Key the middleware leaves the body unread.
    let body = req.rawBody;
    if (body === undefined) {
      const chunks = [];
      for await (const c of req) chunks.push(c);
      body = Buffer.concat(chunks);
    }
    if (state.gate) await state.gate;
    res.statusCode = 201;
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify({ run: state.runs, body: body.toString() }));
  };
  return { state, handler };
}

const post = (url, key, body, extra = {}) =>
  request(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...(key ? { 'Idempotency-Key': key } : {}), ...extra },
    body,
  });

test('same key and body twice: the handler runs once, the second reply is replayed', async () => {
  const { state, handler } = orders();
  const srv = await serve(app(idempotency(client, { namespace: 'orders' }), handler));
  try {
    const key = uniq('k');
    const first = await post(`${srv.url}/orders?x=1`, key, '{"item":"book"}');
    assert.equal(first.status, 201);
    assert.equal(first.headers['idempotent-replayed'], undefined);
    assert.deepEqual(JSON.parse(first.text), { run: 1, body: '{"item":"book"}' });
    const second = await post(`${srv.url}/orders?x=1`, key, '{"item":"book"}');
    assert.equal(state.runs, 1);
    assert.equal(second.status, 201);
    assert.equal(second.headers['idempotent-replayed'], 'true');
    assert.equal(second.headers['content-type'], 'application/json');
    assert.deepEqual(second.body, first.body);
    // What is stored is the shared format: the body, and compact JSON
    // metadata with the status and Content-Type, under namespace:key.
    const meta = await client.execute('HGET', `${PREFIX}:idem:{orders:${key}}`, 'meta');
    assert.equal(meta.toString(), '{"status":201,"content_type":"application/json"}');
    const resp = await client.execute('HGET', `${PREFIX}:idem:{orders:${key}}`, 'resp');
    assert.deepEqual(resp, first.body);
  } finally {
    await srv.close();
  }
});

test('same key with another body, method or path is 422', async () => {
  const { state, handler } = orders();
  const srv = await serve(app(idempotency(client), handler));
  try {
    const key = uniq('k');
    assert.equal((await post(`${srv.url}/a`, key, '{"n":1}')).status, 201);
    const otherBody = await post(`${srv.url}/a`, key, '{"n":2}');
    assert.equal(otherBody.status, 422);
    assert.equal((await post(`${srv.url}/b`, key, '{"n":1}')).status, 422);
    assert.equal((await post(`${srv.url}/a?q`, key, '{"n":1}')).status, 422);
    assert.equal((await request(`${srv.url}/a`, { method: 'PUT', headers: { 'Idempotency-Key': key }, body: '{"n":1}' })).status, 422);
    assert.equal(state.runs, 1);
  } finally {
    await srv.close();
  }
});

test('a duplicate while the first request runs is 409 with Retry-After', async () => {
  const { state, handler } = orders();
  let open;
  state.gate = new Promise((resolve) => {
    open = resolve;
  });
  const srv = await serve(app(idempotency(client, { lease: 5000 }), handler));
  try {
    const key = uniq('k');
    const first = post(srv.url, key, '{}');
    while (state.runs === 0) await sleep(10);
    const dup = await post(srv.url, key, '{}');
    assert.equal(dup.status, 409);
    const retry = Number(dup.headers['retry-after']);
    assert.ok(Number.isInteger(retry) && retry >= 1 && retry <= 5, `Retry-After ${dup.headers['retry-after']}`);
    open();
    assert.equal((await first).status, 201);
    const replay = await post(srv.url, key, '{}');
    assert.equal(replay.headers['idempotent-replayed'], 'true');
    assert.equal(state.runs, 1);
  } finally {
    await srv.close();
  }
});

test('with wait, a duplicate waits for the first and gets the replay', async () => {
  const { state, handler } = orders();
  let open;
  state.gate = new Promise((resolve) => {
    open = resolve;
  });
  const srv = await serve(app(idempotency(client, { wait: 20000 }), handler));
  try {
    const key = uniq('k');
    const first = post(srv.url, key, '{}');
    while (state.runs === 0) await sleep(10);
    const dup = post(srv.url, key, '{}');
    await sleep(100);
    open();
    const [a, b] = await Promise.all([first, dup]);
    assert.equal(a.status, 201);
    assert.equal(b.status, 201);
    assert.equal(b.headers['idempotent-replayed'], 'true');
    assert.deepEqual(b.body, a.body);
    assert.equal(state.runs, 1);
  } finally {
    await srv.close();
  }
});

test('without the header the handler always runs; required answers 400', async () => {
  const { state, handler } = orders();
  const optional = await serve(app(idempotency(client), handler));
  const required = await serve(app(idempotency(client, { required: true }), handler));
  try {
    assert.equal((await post(optional.url, null, '{}')).status, 201);
    assert.equal((await post(optional.url, null, '{}')).status, 201);
    assert.equal(state.runs, 2);
    const r = await post(required.url, null, '{}');
    assert.equal(r.status, 400);
    assert.match(r.text, /Idempotency-Key/);
    assert.equal(state.runs, 2);
  } finally {
    await optional.close();
    await required.close();
  }
});

test('a 5xx response or a thrown error fails the record so that a retry runs; 4xx is stored', async () => {
  let runs = 0;
  const srv = await serve(
    app(idempotency(client), async (req, res) => {
      runs++;
      const mode = req.headers['x-mode'];
      if (mode === 'throw') throw new Error('handler failed');
      res.statusCode = mode === '503' ? 503 : mode === '404' ? 404 : 200;
      res.setHeader('Content-Type', 'text/plain');
      res.end(`run ${runs}`);
    }),
  );
  try {
    const key = uniq('k');
    const r1 = await post(srv.url, key, 'x', { 'x-mode': '503' });
    assert.equal(r1.status, 503);
    const r2 = await post(srv.url, key, 'x', { 'x-mode': 'throw' });
    assert.equal(r2.status, 500);
    const r3 = await post(srv.url, key, 'x', { 'x-mode': 'ok' });
    assert.equal(r3.status, 200);
    assert.equal(r3.text, 'run 3');
    const r4 = await post(srv.url, key, 'x', { 'x-mode': '503' });
    assert.equal(r4.text, 'run 3');
    assert.equal(r4.headers['idempotent-replayed'], 'true');
    assert.equal(runs, 3);
    const k404 = uniq('k404');
    assert.equal((await post(srv.url, k404, 'y', { 'x-mode': '404' })).status, 404);
    const again = await post(srv.url, k404, 'y', { 'x-mode': 'ok' });
    assert.equal(again.status, 404);
    assert.equal(again.headers['idempotent-replayed'], 'true');
    assert.equal(runs, 4);
  } finally {
    await srv.close();
  }
});

test('writeHead headers, chunked writes and a body parsed before the middleware are handled', async () => {
  let runs = 0;
  const mw = idempotency(client);
  const srv = await serve((req, res) => {
    // A body parser ran first (as express.raw would): req.body is a Buffer.
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      req.body = Buffer.concat(chunks);
      mw(req, res, () => {
        runs++;
        res.writeHead(202, { 'Content-Type': 'application/octet-stream' });
        res.write(Buffer.from([0, 1]));
        res.write('two');
        res.end(Buffer.from([0xff]));
      });
    });
  });
  try {
    const key = uniq('k');
    const body = Buffer.from([9, 0, 9]);
    const a = await request(srv.url, { method: 'POST', headers: { 'Idempotency-Key': key }, body });
    const b = await request(srv.url, { method: 'POST', headers: { 'Idempotency-Key': key }, body });
    assert.equal(runs, 1);
    for (const r of [a, b]) {
      assert.equal(r.status, 202);
      assert.equal(r.headers['content-type'], 'application/octet-stream');
      assert.deepEqual(r.body, Buffer.from([0, 1, 0x74, 0x77, 0x6f, 0xff]));
    }
    assert.equal(b.headers['idempotent-replayed'], 'true');
    // The fingerprint is SHA-256 of METHOD \n path \n body: a record made
    // with it directly (as another language would) is the same request.
    const direct = await client.idempotencyBegin(key, requestFingerprint('POST', '/', body));
    assert.equal(direct.state, 'COMPLETED');
  } finally {
    await srv.close();
  }
});

test('a response stored by another service with the shared format replays', async () => {
  const srv = await serve(
    app(idempotency(client, { namespace: 'pay' }), () => {
      throw new Error('must not run');
    }),
  );
  try {
    const key = uniq('k');
    const body = '{"amount":5}';
    const rec = await client.idempotencyBegin(`pay:${key}`, requestFingerprint('POST', '/pay', Buffer.from(body)));
    assert.equal(rec.state, 'NEW');
    await rec.complete('{"paid": true}', '{"status":200,"content_type":"application/json; charset=utf-8"}', { ttl: 60000 });
    const r = await post(`${srv.url}/pay`, key, body);
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'application/json; charset=utf-8');
    assert.equal(r.headers['idempotent-replayed'], 'true');
    assert.equal(r.text, '{"paid": true}');
  } finally {
    await srv.close();
  }
});

// The texts are the C core's (docs/KEYS.md "HTTP"): the bytes the Python and
// Go middlewares send too.
test("the answers carry the core's bodies", async () => {
  const { state, handler } = orders();
  const srv = await serve(app(idempotency(client, { namespace: 'texts', required: true }), handler));
  try {
    const text = 'text/plain; charset=utf-8';
    const missing = await post(srv.url, undefined, '{}');
    assert.deepEqual(
      [missing.status, missing.headers['content-type'], missing.text],
      [400, text, 'Idempotency-Key header required'],
    );
    const long = await post(srv.url, 'k'.repeat(1100), '{}');
    assert.deepEqual([long.status, long.headers['content-type'], long.text], [400, text, 'Invalid Idempotency-Key']);
    const key = uniq('t');
    assert.equal((await post(srv.url, key, '{"a":1}')).status, 201);
    const other = await post(srv.url, key, '{"a":2}');
    assert.deepEqual([other.status, other.text], [422, 'Idempotency-Key was used with a different request']);
    assert.equal(state.runs, 1);
  } finally {
    await srv.close();
  }
});

test('an invalid key is 400; a store error goes to next(err)', async () => {
  const { handler } = orders();
  const srv = await serve(app(idempotency(client), handler));
  const down = Client.fromUrl(`redis://127.0.0.1:${await freePort()}`, { commandTimeout: 200, connectTimeout: 200 });
  const srvDown = await serve(app(idempotency(down), handler));
  try {
    const r = await post(srv.url, 'k'.repeat(2000), '{}');
    assert.equal(r.status, 400);
    const e = await post(srvDown.url, uniq('k'), '{}');
    assert.equal(e.status, 500);
    assert.match(e.text, /ConnectionError|Timeout/);
  } finally {
    await srv.close();
    await srvDown.close();
    await down.close();
  }
  assert.throws(() => idempotency(client, { nosuch: true }), InvalidArgument);
  assert.throws(() => idempotency(client, { lease: '30s' }), InvalidArgument);
  assert.throws(() => idempotency({}), InvalidArgument);
});

// ---- the NestJS interceptor, driven the way Nest drives it ------------------

// The part of rxjs' Observable that Nest and the interceptor use.
class MiniObservable {
  constructor(subscribe) {
    this._subscribe = subscribe;
  }
  subscribe(observer) {
    let closed = false;
    const teardown = this._subscribe({
      next: (v) => !closed && observer.next && observer.next(v),
      error: (e) => {
        if (closed) return;
        closed = true;
        observer.error && observer.error(e);
      },
      complete: () => {
        if (closed) return;
        closed = true;
        observer.complete && observer.complete();
      },
    });
    return { unsubscribe: () => ((closed = true), typeof teardown === 'function' && teardown()) };
  }
}

const lastValue = (obs) =>
  new Promise((resolve, reject) => {
    let value;
    obs.subscribe({ next: (v) => (value = v), error: reject, complete: () => resolve(value) });
  });

// Nest's router with one interceptor on the Express platform: the route's
// status is set first; the handler runs only when next.handle() is
// subscribed; the value is sent as ExpressAdapter.reply does; an error goes
// to the default exception filter (statusCode, message as JSON).
function nestRoute(interceptor, handler) {
  return async (req, res) => {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    req.rawBody = Buffer.concat(chunks);
    res.statusCode = req.method === 'POST' ? 201 : 200;
    const context = {
      getType: () => 'http',
      switchToHttp: () => ({ getRequest: () => req, getResponse: () => res }),
    };
    const next = {
      handle: () =>
        new MiniObservable((sub) => {
          Promise.resolve()
            .then(() => handler(req, res))
            .then(
              (v) => {
                sub.next(v);
                sub.complete();
              },
              (e) => sub.error(e),
            );
        }),
    };
    try {
      const value = await lastValue(await interceptor.intercept(context, next));
      if (value !== null && typeof value === 'object') {
        res.setHeader('Content-Type', 'application/json; charset=utf-8');
        res.end(JSON.stringify(value));
      } else {
        if (!res.getHeader('content-type')) res.setHeader('Content-Type', 'text/html; charset=utf-8');
        res.end(value === undefined ? '' : String(value));
      }
    } catch (e) {
      res.statusCode = e.statusCode ?? 500;
      res.setHeader('Content-Type', 'application/json; charset=utf-8');
      res.end(JSON.stringify({ statusCode: res.statusCode, message: e.message }));
    }
  };
}

test('the NestJS interceptor runs the handler once and replays what Nest sent', async () => {
  let runs = 0;
  const interceptor = new IdempotencyInterceptor(client, { namespace: 'nest' });
  const srv = await serve(
    nestRoute(interceptor, async (req) => {
      runs++;
      if (req.headers['x-fail'] === '400') throw Object.assign(new Error('bad input'), { statusCode: 400 });
      if (req.headers['x-fail'] === '500') throw new Error('crashed');
      return { id: 7, run: runs };
    }),
  );
  try {
    const key = uniq('k');
    const a = await post(`${srv.url}/orders`, key, '{"n":1}');
    assert.equal(a.status, 201);
    assert.deepEqual(JSON.parse(a.text), { id: 7, run: 1 });
    const b = await post(`${srv.url}/orders`, key, '{"n":1}');
    assert.equal(runs, 1);
    assert.equal(b.status, 201);
    assert.equal(b.headers['idempotent-replayed'], 'true');
    assert.equal(b.headers['content-type'], 'application/json; charset=utf-8');
    assert.deepEqual(b.body, a.body);
    assert.equal((await post(`${srv.url}/orders`, key, '{"n":2}')).status, 422);
    // The same record format as the middleware's.
    const meta = await client.execute('HGET', `${PREFIX}:idem:{nest:${key}}`, 'meta');
    assert.equal(meta.toString(), '{"status":201,"content_type":"application/json; charset=utf-8"}');
    // An exception response below 500 is stored; 500 fails the record.
    const k400 = uniq('k400');
    assert.equal((await post(srv.url, k400, '{}', { 'x-fail': '400' })).status, 400);
    const again400 = await post(srv.url, k400, '{}');
    assert.equal(again400.status, 400);
    assert.equal(again400.headers['idempotent-replayed'], 'true');
    const k500 = uniq('k500');
    assert.equal((await post(srv.url, k500, '{}', { 'x-fail': '500' })).status, 500);
    const retried = await post(srv.url, k500, '{}');
    assert.equal(retried.status, 201);
    assert.equal(retried.headers['idempotent-replayed'], undefined);
    // No header: the handler runs every time.
    const before = runs;
    await post(srv.url, null, '{}');
    await post(srv.url, null, '{}');
    assert.equal(runs, before + 2);
  } finally {
    await srv.close();
  }
});

test('the NestJS interceptor answers 409 to a duplicate in progress and passes non-HTTP contexts', async () => {
  let open;
  const gate = new Promise((resolve) => {
    open = resolve;
  });
  let runs = 0;
  const interceptor = new IdempotencyInterceptor(client);
  const srv = await serve(
    nestRoute(interceptor, async () => {
      runs++;
      await gate;
      return 'done';
    }),
  );
  try {
    const key = uniq('k');
    const first = post(srv.url, key, '{}');
    while (runs === 0) await sleep(10);
    const dup = await post(srv.url, key, '{}');
    assert.equal(dup.status, 409);
    assert.ok(Number(dup.headers['retry-after']) >= 1);
    open();
    const a = await first;
    assert.equal(a.status, 201);
    assert.equal(a.text, 'done');
    const replay = await post(srv.url, key, '{}');
    assert.equal(replay.text, 'done');
    assert.equal(replay.headers['content-type'], 'text/html; charset=utf-8');
    assert.equal(runs, 1);
  } finally {
    await srv.close();
  }
  const passthrough = { handle: () => 'the handler observable' };
  assert.equal(await interceptor.intercept({ getType: () => 'rpc' }, passthrough), 'the handler observable');
});
