'use strict';
// redisx/nestjs in real Nest applications (Express and Fastify adapters)
// against a real redis-server, over HTTP with fetch.
const test = require('node:test');
const assert = require('node:assert/strict');
const { Client, IdempotencyInProgress } = require('..');
const { startRedis, stopRedis, eventually, uniq } = require('../scripts/redis-for-tests');
const common = require('@nestjs/common');
const { NestFactory } = require('@nestjs/core');
const { ExpressAdapter } = require('@nestjs/platform-express');
const { FastifyAdapter } = require('@nestjs/platform-fastify');
const nx = require('../nestjs');

let server;
let other; // a second client, outside the application

test.before(async () => {
  server = await startRedis();
  other = Client.fromUrl(server.url);
});

test.after(async () => {
  if (other) await other.close();
  await stopRedis(server);
});

function method(cls, name, decorators) {
  const d = Reflect.decorate(decorators, cls.prototype, name, Object.getOwnPropertyDescriptor(cls.prototype, name));
  Object.defineProperty(cls.prototype, name, d);
}

function build(tag) {
  const stream = uniq(`${tag}-events`);
  const stream2 = uniq(`${tag}-second-events`);
  const seen = [];
  const seen2 = [];
  const counts = { pay: 0, cached: 0 };

  class Config {}
  Reflect.decorate([common.Module({ providers: [{ provide: 'REDIS_URL', useValue: server.url }], exports: ['REDIS_URL'] })], Config);

  class Events {
    async onEvent(msg) {
      seen.push(msg.payload);
    }
  }
  Events.prototype.onSecond = async function onSecond(msg) {
    seen2.push(msg.payload);
  };
  method(Events, 'onEvent', [nx.StreamConsumer({ stream, group: 'g', createGroup: '0' })]);
  method(Events, 'onSecond', [nx.StreamConsumer({ stream: stream2, group: 'g', createGroup: '0', client: 'second' })]);
  const EventsP = Reflect.decorate([common.Injectable()], Events) || Events;

  class Ctl {
    constructor(client, second, locks, idem) {
      this.client = client;
      this.second = second;
      this.locks = locks;
      this.idem = idem;
    }
    lock(id) {
      return { locked: id };
    }
    limited() {
      return { ok: true };
    }
    pay() {
      counts.pay += 1;
      return { charge: counts.pay };
    }
    cached(id) {
      counts.cached += 1;
      return { id, n: counts.cached };
    }
    touch(id) {
      return { touched: id };
    }
    async conflict(key) {
      return this.idem.run(key, Buffer.from('fp'), async () => 'never', { wait: 0 });
    }
    async hold(name) {
      await this.locks.acquire(name, { ttl: 60000, wait: 0 });
      return { held: name };
    }
    named() {
      return { distinct: this.client !== this.second && this.second instanceof Client };
    }
  }
  common.Inject(nx.getClientToken())(Ctl, undefined, 0);
  nx.InjectRedisx('second')(Ctl, undefined, 1);
  common.Inject(nx.LockService)(Ctl, undefined, 2);
  common.Inject(nx.IdempotencyService)(Ctl, undefined, 3);
  const P = (i, n) => common.Param(n)(Ctl.prototype, ['lock', 'cached', 'conflict', 'hold', 'touch'][i], 0);
  P(0, 'id');
  P(1, 'id');
  P(2, 'key');
  P(3, 'name');
  P(4, 'id');
  const cacheName = uniq(`${tag}c`);
  method(Ctl, 'lock', [common.Post('lock/:id'), nx.WithLock({ key: `${tag}-job:{0}`, ttl: 5000, wait: 0 })]);
  method(Ctl, 'limited', [common.Get('limited'), nx.RateLimit({ name: uniq(`${tag}rl`), limit: 2, period: 60000, algorithm: 'sliding-log' })]);
  method(Ctl, 'pay', [common.Post('pay'), common.HttpCode(201), nx.Idempotent({ namespace: uniq(tag) })]);
  method(Ctl, 'cached', [common.Get('cached/:id'), nx.Cached({ cache: cacheName, key: 'item:{0}', ttl: 60000, tags: ['items', 'item:{0}'] })]);
  method(Ctl, 'touch', [common.Post('touch/:id'), nx.InvalidateTags({ cache: cacheName, tags: ['item:{0}'] })]);
  method(Ctl, 'conflict', [common.Post('conflict/:key')]);
  method(Ctl, 'hold', [common.Post('hold/:name')]);
  method(Ctl, 'named', [common.Get('named')]);
  const CtlC = Reflect.decorate([common.Controller()], Ctl) || Ctl;

  class App {}
  Reflect.decorate(
    [
      common.Module({
        imports: [
          nx.RedisxModule.forRootAsync({
            imports: [Config],
            inject: ['REDIS_URL'],
            names: ['default', 'second'],
            useFactory: async (url) => ({ clients: { default: url, second: { url, prefix: 'second' } } }),
          }),
        ],
        controllers: [CtlC],
        providers: [EventsP],
      }),
    ],
    App,
  );
  return { App, stream, stream2, seen, seen2, counts };
}

for (const [tag, adapter] of [
  ['express', () => new ExpressAdapter()],
  ['fastify', () => new FastifyAdapter()],
]) {
  test(`a Nest application on ${tag}: every decorator over HTTP, consumers and shutdown`, async () => {
    const { App, stream, stream2, seen, seen2, counts } = build(tag);
    const app = await NestFactory.create(App, adapter(), { logger: false });
    app.useGlobalFilters(new nx.RedisxExceptionFilter());
    await app.listen(0, '127.0.0.1');
    const base = (await app.getUrl()).replace('[::1]', '127.0.0.1');
    const f = (path, init) => fetch(base + path, init);
    let closed = false;
    try {
      // @WithLock: free → 200; held by another client → 409 from the filter.
      let r = await f('/lock/1', { method: 'POST' });
      assert.equal(r.status, 201);
      assert.deepEqual(await r.json(), { locked: '1' });
      const held = await other.acquire(`${tag}-job:2`, { ttl: 60000 });
      r = await f('/lock/2', { method: 'POST' });
      assert.equal(r.status, 409);
      assert.equal((await r.json()).error, 'LockHeld');
      await held.release();

      // @RateLimit: 2 per minute, then 429 with the headers.
      for (const remaining of ['1', '0']) {
        r = await f('/limited');
        assert.equal(r.status, 200);
        assert.equal(r.headers.get('x-ratelimit-limit'), '2');
        assert.equal(r.headers.get('x-ratelimit-remaining'), remaining);
      }
      r = await f('/limited');
      assert.equal(r.status, 429);
      assert.equal(r.headers.get('x-ratelimit-remaining'), '0');
      assert.ok(Number(r.headers.get('retry-after')) >= 1);

      // @Idempotent: one charge per key, the replay marked.
      const init = { method: 'POST', headers: { 'Idempotency-Key': 'k1', 'content-type': 'application/json' }, body: '{"a":1}' };
      r = await f('/pay', init);
      assert.equal(r.status, 201);
      assert.deepEqual(await r.json(), { charge: 1 });
      assert.equal(r.headers.get('idempotent-replayed'), null);
      r = await f('/pay', init);
      assert.equal(r.status, 201);
      assert.deepEqual(await r.json(), { charge: 1 });
      assert.equal(r.headers.get('idempotent-replayed'), 'true');
      r = await f('/pay', { ...init, body: '{"a":2}' });
      assert.equal(r.status, 422);
      assert.equal(counts.pay, 1);

      // An IdempotencyInProgress thrown in a handler is a 409, not a 500.
      const key = uniq(`${tag}-inprog`);
      await other.idempotencyBegin(key, Buffer.from('fp'), { lease: 60000 });
      r = await f(`/conflict/${key}`, { method: 'POST' });
      assert.equal(r.status, 409);
      assert.equal((await r.json()).error, 'IdempotencyInProgress');
      assert.ok(Number(r.headers.get('retry-after')) >= 1);
      assert.ok(IdempotencyInProgress);

      // @Cached: the second call is served from the cache.
      assert.deepEqual(await (await f('/cached/7')).json(), { id: '7', n: 1 });
      assert.deepEqual(await (await f('/cached/7')).json(), { id: '7', n: 1 });
      assert.equal(counts.cached, 1);
      // @InvalidateTags: the item's tag goes once the handler resolved.
      r = await f('/touch/7', { method: 'POST' });
      assert.equal(r.status, 201);
      assert.deepEqual(await r.json(), { touched: '7' });
      assert.deepEqual(await (await f('/cached/7')).json(), { id: '7', n: 2 });
      assert.deepEqual(await (await f('/cached/7')).json(), { id: '7', n: 2 });
      assert.equal(counts.cached, 2);

      // Named clients.
      assert.deepEqual(await (await f('/named')).json(), { distinct: true });

      // @StreamConsumer discovered and started with the application.
      await other.publish(stream, { n: 1 });
      await eventually(() => seen.length === 1);
      assert.deepEqual(seen, [{ n: 1 }]);
      // ... and one on the named client (its prefix is 'second').
      const second = Client.fromUrl(server.url, { prefix: 'second' });
      try {
        await second.publish(stream2, { n: 'second' });
        await other.publish(stream2, { n: 'default prefix' }); // another stream key: not for it
        await eventually(() => seen2.length === 1);
      } finally {
        await second.close();
      }
      assert.deepEqual(seen2, [{ n: 'second' }]);

      // A lock held through the module is released at shutdown.
      const lockName = uniq(`${tag}-held`);
      r = await f(`/hold/${lockName}`, { method: 'POST' });
      assert.equal(r.status, 201);
      assert.equal((await other.lockInfo(lockName)).locked, true);
      const registry = app.get(nx.REDISX_REGISTRY);
      assert.equal(registry.runs.length, 1); // one provider with two consumers
      await app.close();
      closed = true;
      assert.equal((await other.lockInfo(lockName)).locked, false);
      assert.equal(registry.runs.length, 0);
      // The consumer is stopped: a later message stays unread by it.
      await other.publish(stream, { n: 2 });
      const info = await other.groupInfo(stream, 'g');
      assert.ok(info);
      assert.equal(seen.length, 1);
    } finally {
      if (!closed) await app.close();
    }
  });
}

test('httpStatusOf maps the redisx errors to the documented statuses', async () => {
  const r = require('..');
  const key = uniq('status');
  await other.idempotencyBegin(key, Buffer.from('a'), { lease: 60000 });
  const inProgress = await other.idempotent(key, Buffer.from('a'), async () => 1).catch((e) => e);
  const mismatch = await other.idempotent(key, Buffer.from('b'), async () => 1).catch((e) => e);
  assert.ok(inProgress instanceof r.IdempotencyInProgress);
  assert.ok(mismatch instanceof r.IdempotencyMismatch);
  assert.equal(nx.httpStatusOf(inProgress), 409);
  assert.equal(nx.httpStatusOf(mismatch), 422);
  assert.equal(nx.httpStatusOf(new r.LockHeld(r.LockHeld.status)), 409);
  for (const E of [r.Timeout, r.ConnectionError, r.ClientClosed]) assert.equal(nx.httpStatusOf(new E(E.status)), 503);
  assert.equal(nx.httpStatusOf(new r.ServerError(r.ServerError.status)), 0);
  assert.equal(nx.httpStatusOf(new Error('x')), 0);
});

test('bad decorator options are InvalidArgument, not a crash', () => {
  const { InvalidArgument } = require('..');
  assert.throws(() => nx.WithLock({}), InvalidArgument);
  assert.throws(() => nx.RateLimit(null), InvalidArgument);
  assert.throws(() => nx.RedisxModule.forRoot({}), InvalidArgument);
  assert.throws(() => nx.RedisxModule.forRootAsync({}), InvalidArgument);
  assert.throws(() => nx.StreamConsumer({ stream: 's', group: 'g', client: 7 }), InvalidArgument);
});

test("require('redisx') loads no Nest package", () => {
  const { execFileSync } = require('node:child_process');
  const out = execFileSync(process.execPath, ['-e', "require('.'); console.log(Object.keys(require.cache).filter((f) => /@nestjs|rxjs|reflect-metadata/.test(f)).length)"], {
    cwd: require('node:path').join(__dirname, '..'),
  });
  assert.equal(out.toString().trim(), '0');
});
