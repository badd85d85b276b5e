// The lock-out feed of the memory live state: what gateway worker threads
// mirror (threads/pool.ts). The rest of memory.ts runs in live.contract.test.ts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createMemoryLive, lockoutFeed } from './memory.ts';

test('the lock-out feed: a snapshot of those in force, then every change in order', async () => {
  let t = 1_000_000;
  const live = createMemoryLive({ now: () => t, sweepMs: 0 });
  const feed = lockoutFeed(live);
  assert.ok(feed);
  await live.setLockout(1, t + 60_000);
  await live.setLockout(2, t + 1_000);
  t += 2_000; // customer 2's has ended
  assert.deepEqual(feed.snapshot(), [[1, 1_060_000]]);

  const seen: [number, number][] = [];
  const off = feed.onChange((id, until) => seen.push([id, until]));
  await live.setLockout(3, t + 5_000);
  await live.setLockout(1, 0);
  await live.setLockout(4, t - 1); // an end already past lifts
  off();
  await live.setLockout(5, t + 5_000);
  assert.deepEqual(seen, [
    [3, t + 5_000],
    [1, 0],
    [4, 0],
  ]);
  assert.equal(await live.lockedUntil(1), 0);
  await live.close();
});

test('a watcher that throws is reported and the lock-out still holds', async () => {
  const errors: unknown[] = [];
  const live = createMemoryLive({ sweepMs: 0, onHandlerError: (e) => errors.push(e) });
  lockoutFeed(live)!.onChange(() => {
    throw new Error('boom');
  });
  const until = Date.now() + 60_000;
  await live.setLockout(7, until);
  assert.equal(await live.lockedUntil(7), until);
  assert.equal(errors.length, 1);
  await live.close();
});
