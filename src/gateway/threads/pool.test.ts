import assert from 'node:assert/strict';
import { test } from 'node:test';
import { respawnDelay } from './pool.ts';

test('respawn delay: 1 s, doubling to a minute while threads die young, 1 s again after a stable run', () => {
  assert.equal(respawnDelay(undefined, 5), 1000, 'the first death');
  const seen: number[] = [];
  let d = respawnDelay(undefined, 5);
  for (let i = 0; i < 9; i++) {
    seen.push(d);
    d = respawnDelay(d, 500); // died half a second after starting
  }
  assert.deepEqual(seen, [1000, 2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000, 60_000]);
  assert.equal(respawnDelay(60_000, 0), 60_000, 'a failed start keeps the ceiling');
  assert.equal(respawnDelay(60_000, 30_000), 1000, 'a thread that ran 30 s starts the back-off afresh');
});
