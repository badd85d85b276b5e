// Throughput of the hot-path live-state calls from one process:
//   node src/live/live.bench.ts [redis://127.0.0.1:6379]
// Without a URL it measures the memory implementation. Keys go under a random
// prefix and are deleted afterwards.
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type { LiveState } from './live.ts';
import { createMemoryLive } from './memory.ts';
import { createRedisLive } from './redis.ts';

const url = process.argv[2];
const prefix = `pcbench:${randomBytes(4).toString('hex')}:`;
const live: LiveState = url ? createRedisLive({ url, prefix }) : createMemoryLive();
if (url) await (live as ReturnType<typeof createRedisLive>).ready();

/** Runs `op` with `concurrency` callers in flight for `ms`; returns ops/s. */
async function rate(ms: number, concurrency: number, op: (i: number) => Promise<unknown>): Promise<number> {
  let n = 0;
  const end = performance.now() + ms;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async (_, w) => {
      while (performance.now() < end) {
        await op(w);
        n++;
      }
    }),
  );
  return Math.round(n / ((performance.now() - t0) / 1000));
}

const rows: Array<[string, number]> = [];
for (const c of [1, 64]) {
  rows.push([
    `acquireThread+releaseThread pairs/s (concurrency ${c})`,
    await rate(2000, c, async (w) => {
      if ((await live.acquireThread(w % 100, 1000)) > 0) live.releaseThread(w % 100);
    }),
  ]);
  rows.push([
    `takeTokens/s (concurrency ${c})`,
    await rate(2000, c, (w) => live.takeTokens(`rps:${w % 100}`, 1e9, 1e9)),
  ]);
}
const t0 = performance.now();
for (let i = 0; i < 1_000_000; i++) live.addUsage(i % 1000, 'm', 1500, 100, 0, 1);
rows.push(['addUsage calls/s (sync, batched)', Math.round(1e6 / ((performance.now() - t0) / 1000))]);
await live.flush();
await live.drainUsage();

console.log(`live state: ${live.kind}`);
for (const [name, v] of rows) console.log(`${name.padEnd(56)} ${v.toLocaleString('en')}`);
await live.close();
if (url) {
  const admin = new Redis(url);
  const keys = await admin.keys(`${prefix}*`);
  if (keys.length) await admin.del(...keys);
  await admin.quit();
}
