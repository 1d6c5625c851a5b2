// Interop worker, Node side: same command line as worker.py (see there).
'use strict';
const readline = require('node:readline');
const { Client, LockHeld } = require('redisx');

async function main() {
  const [mode, url, prefix, n] = process.argv.slice(2);
  const client = Client.fromUrl(url, { prefix, commandTimeout: 10000 });
  try {
    if (mode === 'count') {
      for (let i = 0; i < Number(n); i++) {
        await client.withLock('counter', { ttl: 30000, wait: 120000 }, async (lk) => {
          const raw = await client.execute('GET', `${prefix}:counter`);
          const value = raw === null ? 0 : Number(raw.toString());
          await client.execute('SET', `${prefix}:counter`, String(value + 1));
          await client.execute('RPUSH', `${prefix}:fences`, `node:${lk.fencingToken}`);
        });
        await new Promise((resolve) => setTimeout(resolve, 2)); // outside the lock
      }
    } else if (mode === 'hold') {
      const lk = await client.acquire('hold', { ttl: 30000, wait: 30000 });
      console.log(`HELD ${lk.fencingToken}`);
      const rl = readline.createInterface({ input: process.stdin });
      await new Promise((resolve) => rl.once('line', resolve).once('close', resolve));
      rl.close();
      await lk.release();
      console.log('RELEASED');
    } else if (mode === 'probe') {
      try {
        const lk = await client.tryAcquire('hold', { ttl: 30000 });
        await lk.release();
        console.log('FREE');
      } catch (err) {
        if (!(err instanceof LockHeld)) throw err;
        console.log(`HELD-BY ${(await client.lockInfo('hold')).fencingToken}`);
      }
    } else {
      throw new Error(`unknown mode ${mode}`);
    }
  } finally {
    await client.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
