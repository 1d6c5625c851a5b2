'use strict';
// Streams against a real redis-server: round trips (callback, async
// iterator, decorator), retries by delivery count then the dead-letter
// stream, a graceful stop that loses nothing, bad input.
const test = require('node:test');
const assert = require('node:assert/strict');
const {
  Client, Consumer, DeadLetter, InvalidArgument, ServerError, StreamConsumer, startStreamConsumers,
} = require('..');
const { startRedis, stopRedis, uniq } = require('../scripts/redis-for-tests');

const PREFIX = 'nodestream';
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

const skey = (s, suffix = '') => `${PREFIX}:stream:{${s}}${suffix}`;
const pending = async (s, g) => (await client.execute('XPENDING', skey(s), g))[0];
const until = async (pred, ms = 60000) => {
  const end = Date.now() + ms;
  while (!(await pred())) {
    if (Date.now() > end) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 10));
  }
};

test('publish and consume round trip (callback form, AbortSignal)', async () => {
  const s = uniq('rt');
  await client.createGroup(s, 'g', { start: '0' });
  const ids = await client.publishBatch(s, Array.from({ length: 40 }, (_, i) => ({ n: i })));
  assert.equal(ids.length, 40);
  const raw = await client.publish(s, undefined, { noPayload: true, fields: { k: Buffer.from('v\0w') }, headers: { type: 'raw' } });
  const bin = await client.publish(s, Buffer.from([0, 255]), { codec: 'bytes', headers: { traceparent: '00-1' } });
  const seen = new Map();
  const ac = new AbortController();
  const cons = client.consumer(s, 'g');
  await cons.run(
    async (m) => {
      seen.set(m.id, m);
      if (seen.size === 42) ac.abort();
    },
    { concurrency: 4, signal: ac.signal },
  );
  await cons.close();
  assert.deepEqual(ids.map((id) => seen.get(id).payload), Array.from({ length: 40 }, (_, i) => ({ n: i })));
  const m = seen.get(ids[0]);
  assert.equal(m.codec, 'json');
  assert.equal(m.deliveryCount, 1);
  assert.equal(m.stream, s);
  assert.equal(m.settled, true);
  const r = seen.get(raw);
  assert.equal(r.payload, null);
  assert.deepEqual(r.fields.k, Buffer.from('v\0w'));
  assert.deepEqual(r.headers, { type: 'raw' });
  const b = seen.get(bin);
  assert.deepEqual(b.payload, Buffer.from([0, 255]));
  assert.deepEqual(b.headers, { traceparent: '00-1' });
  assert.equal(await pending(s, 'g'), 0);
});

test('async iterator form with manual settling', async () => {
  const s = uniq('it');
  await client.createGroup(s, 'g', { start: '0' });
  await client.publishBatch(s, ['a', 'b', 'c']);
  const cons = client.consumer(s, 'g');
  const got = [];
  for await (const m of cons) {
    got.push(m.payload);
    await m.ack();
    await assert.rejects(m.ack(), InvalidArgument);
    if (got.length === 3) break;
  }
  await cons.close();
  assert.deepEqual(got, ['a', 'b', 'c']);
  assert.equal(await pending(s, 'g'), 0);
});

test('a failing handler is retried then dead-lettered', async () => {
  const s = uniq('dlq');
  await client.createGroup(s, 'g', { start: '0' });
  const id = await client.publish(s, { x: 1 }, { headers: { type: 't' } });
  const counts = [];
  const cons = client.consumer(s, 'g', { maxDeliveries: 3, retryBackoff: [10, 40] });
  const watcher = until(async () => (await client.execute('XLEN', skey(s, ':dlq'))) === 1).then(() => cons.stop());
  await cons.run(async (m) => {
    counts.push(m.deliveryCount);
    throw new Error('boom');
  });
  await watcher;
  await cons.close();
  assert.deepEqual(counts, [1, 2, 3]);
  const [[, entry]] = await client.execute('XRANGE', skey(s, ':dlq'), '-', '+');
  const f = {};
  for (let i = 0; i < entry.length; i += 2) f[entry[i].toString()] = entry[i + 1].toString();
  assert.equal(f['rx-dlq-id'], id);
  assert.equal(f['rx-dlq-deliveries'], '3');
  assert.equal(f['rx-dlq-error'], 'Error: boom');
  assert.equal(f['rx-h-type'], 't');
  assert.equal(await pending(s, 'g'), 0);
});

test('DeadLetter dead-letters at once; the decorator form', async () => {
  const s = uniq('deco');
  await client.createGroup(s, 'g', { start: '0' });
  await client.publishBatch(s, ['poison', 'ok1', 'ok2']);
  const handled = [];
  class Service {
    async handle(m) {
      handled.push(m.payload);
      if (m.payload === 'poison') throw new DeadLetter('poison');
    }
  }
  // experimentalDecorators-style application, as TypeScript emits it
  const desc = Object.getOwnPropertyDescriptor(Service.prototype, 'handle');
  StreamConsumer({ stream: s, group: 'g', concurrency: 2 })(Service.prototype, 'handle', desc);
  const run = startStreamConsumers(new Service(), client);
  await until(() => handled.length === 3);
  await run.stop();
  assert.deepEqual(handled.sort(), ['ok1', 'ok2', 'poison']);
  assert.equal(await client.execute('XLEN', skey(s, ':dlq')), 1);
  assert.equal(await pending(s, 'g'), 0);
});

test('graceful stop loses nothing', async () => {
  const s = uniq('stop');
  await client.createGroup(s, 'g', { start: '0' });
  const n = 300;
  await client.publishBatch(s, Array.from({ length: n }, (_, i) => i));
  const handled = new Map();
  const handler = async (m) => {
    await new Promise((r) => setTimeout(r, 2));
    handled.set(m.id, (handled.get(m.id) || 0) + 1);
  };
  const a = client.consumer(s, 'g', { name: 'a' });
  const ac = new AbortController();
  const watch = until(() => handled.size >= 50).then(() => ac.abort());
  await a.run(handler, { concurrency: 8, signal: ac.signal });
  await watch;
  await a.close();
  assert.equal(await pending(s, 'g'), 0, 'every message handed out is settled by the stop');
  assert.ok(handled.size < n);
  const b = client.consumer(s, 'g', { name: 'b' });
  const ac2 = new AbortController();
  const watch2 = until(() => handled.size >= n).then(() => ac2.abort());
  await b.run(handler, { signal: ac2.signal });
  await watch2;
  await b.close();
  assert.equal(handled.size, n);
  assert.deepEqual([...new Set(handled.values())], [1]);
});

test('bad input rejects with InvalidArgument', async () => {
  const s = uniq('bad');
  await client.createGroup(s, 'g', { start: '0' });
  const cases = [
    () => client.publish('', 1),
    () => client.publish(s, undefined, { noPayload: true, fields: { 'rx-x': 'v' } }),
    () => client.publish(s, undefined, { noPayload: true }),
    () => client.publish(s, 3, { codec: 'bytes' }),
    () => client.publish(s, 1, { codec: 'nope' }),
    () => client.publish(s, 1, { headers: { '': 'v' } }),
    () => client.publish(s, 1, { maxLen: 5, maxAge: 1 }),
    () => client.publishBatch(s, []),
    () => client.createGroup(s, 'g\0'),
    () => client.consumer(s, 'g', { maxDeliveries: 0 }).run(() => {}),
    () => Promise.resolve().then(() => client.consumer(s, 'g', { bogus: 1 })),
    () => client.consumer(s, 'g').run(null),
    () => client.consumer(s, 'g').run(() => {}, { concurrency: 0 }),
  ];
  for (const [i, f] of cases.entries()) await assert.rejects(f(), InvalidArgument, `case ${i}`);
  const none = client.consumer(`${s}-none`, 'g');
  await assert.rejects(none.run(() => {}), (e) => e instanceof ServerError && /NOGROUP/.test(e.message));
  await none.close();
  assert.ok(Consumer);
});

test('stop and client.close() with a blocked read return promptly', async () => {
  const s = uniq('block');
  await client.createGroup(s, 'g');
  const cons = client.consumer(s, 'g', { block: 30000 });
  const run = cons.run(() => {});
  await new Promise((r) => setTimeout(r, 200)); // let the read block (not an assertion)
  let start = Date.now();
  await cons.stop();
  await run;
  assert.ok(Date.now() - start < 10000, 'the blocked read was ended');
  await cons.close();

  const other = Client.fromUrl(server.url, { prefix: PREFIX });
  await other.createGroup(s, 'g2');
  const c2 = other.consumer(s, 'g2', { block: 30000 });
  const run2 = c2.run(() => {});
  await new Promise((r) => setTimeout(r, 200));
  start = Date.now();
  await other.close();
  await run2;
  assert.ok(Date.now() - start < 10000, 'close() ended the blocked read');
});

test('dead letters are listed, requeued and purged', async () => {
  const s = uniq('dlqtools');
  await client.createGroup(s, 'g', { start: '0' });
  const id = await client.publish(s, { n: 7 });
  const cons = client.consumer(s, 'g', { name: 'c1' });
  for await (const m of cons) {
    await m.deadLetter('gave up');
    break;
  }
  const [e, ...rest] = await client.deadLetters(s);
  assert.equal(rest.length, 0);
  assert.equal(e.originalId, id);
  assert.equal(e.consumer, 'c1');
  assert.equal(e.error, 'gave up');
  assert.equal(e.deleted, false);
  const newId = await client.requeueDeadLetter(s, e.id);
  assert.deepEqual(await client.deadLetters(s), []);
  await assert.rejects(client.requeueDeadLetter(s, e.id), (err) => err.code === 'ERR_EMPTY');
  for await (const m of cons) {
    assert.equal(m.id, newId);
    assert.deepEqual(m.payload, { n: 7 });
    await m.deadLetter('again');
    break;
  }
  // One entry looked up by its id.
  const [again] = await client.deadLetters(s);
  const one = await client.deadLetter(s, again.id);
  assert.deepEqual(one, again);
  assert.equal(one.error, 'again');
  await assert.rejects(client.deadLetter(s, '1-1'), (err) => err.code === 'ERR_EMPTY');
  await assert.rejects(client.deadLetter(s, null), InvalidArgument);
  assert.equal(await client.purgeDeadLetters(s), 1);
  await assert.rejects(client.deadLetters(s, { count: 0 }), InvalidArgument);
  await cons.close();
});

test('groupInfo tells consumers, pending and lag', async () => {
  const s = uniq('ginfo');
  await client.createGroup(s, 'g', { start: '0' });
  await client.publishBatch(s, ['a', 'b', 'c']);
  const cons = client.consumer(s, 'g', { name: 'c1' });
  for await (const m of cons) {
    assert.equal(m.payload, 'a');
    break; // left unsettled: pending
  }
  const info = await client.groupInfo(s, 'g');
  assert.equal(info.consumers, 1);
  assert.ok(info.pending >= 1, JSON.stringify(info));
  if (info.lag !== null) assert.equal(info.lag + info.pending >= 3, true, JSON.stringify(info));
  assert.match(info.lastDeliveredId, /^\d+-\d+$/);
  await assert.rejects(client.groupInfo(s, 'nosuch'), (err) => err.code === 'ERR_EMPTY');
  await cons.close();
});

test('an idempotent consumer records each message and acks a completed redelivery', async () => {
  const s = uniq('idemcons');
  await client.createGroup(s, 'g', { start: '0' });
  const id = await client.publish(s, { n: 1 });
  const cons = client.consumer(s, 'g', { name: 'c1', idempotent: { lease: 30000, ttl: 60000 } });
  for await (const m of cons) {
    assert.equal(m.id, id);
    assert.equal(m.takenOver, false);
    await m.ack();
    break;
  }
  await cons.close();
  // Its record is COMPLETED now: the same entry delivered again (an XCLAIM
  // back onto the pending list) is acked by the core, never handed out.
  await client.execute('XCLAIM', skey(s), 'g', 'c1', '0', id, 'FORCE');
  const again = client.consumer(s, 'g', { name: 'c1', idempotent: true, minIdle: 1000 });
  const seen = [];
  const ctl = new AbortController();
  const run = again.run((m) => { seen.push(m.id); }, { signal: ctl.signal });
  await until(async () => (await pending(s, 'g')) === 0);
  ctl.abort();
  await run.catch(() => {});
  await again.close();
  assert.deepEqual(seen, [], 'a completed message is not handled twice');
  await assert.rejects(
    Promise.resolve().then(() => client.consumer(s, 'g', { idempotent: { lease: 1, bogus: 2 } })),
    InvalidArgument,
  );
  await assert.rejects(
    Promise.resolve().then(() => client.consumer(s, 'g', { idempotent: 'yes' })),
    InvalidArgument,
  );
});
