import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Limits } from './policy.ts';
import { observeThreads, overLimit, type StrikeClock, strikeApplies } from './strike.ts';

const MIN = 60_000;
const t0 = Date.parse('2026-11-23T12:00:00Z');
const soft = {
  threads: 10,
  strikeMode: 'soft',
  strikeWindowSec: 900,
  lockoutSec: 3600,
} satisfies Partial<Limits>;

test('hard mode and unlimited plans never strike', () => {
  const c: StrikeClock = { overSince: 0 };
  assert.equal(strikeApplies({ ...soft, strikeMode: 'hard' }), false);
  assert.equal(strikeApplies({ ...soft, threads: 0 }), false);
  for (let m = 0; m <= 120; m += 5)
    assert.deepEqual(observeThreads(c, { ...soft, strikeMode: 'hard' }, 500, t0 + m * MIN), { kind: 'ok' });
  assert.equal(c.overSince, 0);
});

test('at the limit is not over it; one above is', () => {
  assert.equal(overLimit(soft, 10), false);
  assert.equal(overLimit(soft, 11), true);
  const c: StrikeClock = { overSince: 0 };
  assert.deepEqual(observeThreads(c, soft, 10, t0), { kind: 'ok' });
  assert.deepEqual(observeThreads(c, soft, 11, t0), { kind: 'over', since: t0, strikesAt: t0 + 15 * MIN });
});

test('above the limit for the whole window strikes at exactly 15 minutes, lock-out 1 hour', () => {
  const c: StrikeClock = { overSince: 0 };
  for (let s = 0; s < 900; s += 30) {
    const v = observeThreads(c, soft, 12, t0 + s * 1000);
    assert.equal(v.kind, 'over', `at ${s}s`);
  }
  assert.equal(observeThreads(c, soft, 12, t0 + 900_000 - 1).kind, 'over');
  const v = observeThreads(c, soft, 12, t0 + 900_000);
  assert.deepEqual(v, { kind: 'strike', since: t0, lockedUntil: t0 + 900_000 + 3_600_000 });
  // The strike resets the clock: a new window starts at the next observation above.
  assert.equal(c.overSince, 0);
  assert.deepEqual(observeThreads(c, soft, 12, t0 + 901_000), {
    kind: 'over',
    since: t0 + 901_000,
    strikesAt: t0 + 901_000 + 900_000,
  });
});

test('one observation at or under the limit restarts the window', () => {
  const c: StrikeClock = { overSince: 0 };
  observeThreads(c, soft, 15, t0);
  assert.equal(observeThreads(c, soft, 15, t0 + 14 * MIN).kind, 'over');
  assert.deepEqual(observeThreads(c, soft, 10, t0 + 14 * MIN + 1000), { kind: 'ok' });
  const v = observeThreads(c, soft, 15, t0 + 14 * MIN + 2000);
  assert.deepEqual(v, { kind: 'over', since: t0 + 14 * MIN + 2000, strikesAt: t0 + 29 * MIN + 2000 });
  assert.equal(observeThreads(c, soft, 15, t0 + 16 * MIN).kind, 'over');
  assert.equal(observeThreads(c, soft, 15, t0 + 29 * MIN + 2000).kind, 'strike');
});

test('configurable window and lock-out', () => {
  const l = { ...soft, strikeWindowSec: 2, lockoutSec: 5 };
  const c: StrikeClock = { overSince: 0 };
  assert.equal(observeThreads(c, l, 11, t0).kind, 'over');
  assert.deepEqual(observeThreads(c, l, 11, t0 + 2000), {
    kind: 'strike',
    since: t0,
    lockedUntil: t0 + 7000,
  });
});

test('a clock that went backwards restarts the window instead of striking early', () => {
  const c: StrikeClock = { overSince: t0 + 10 * MIN };
  const v = observeThreads(c, soft, 11, t0);
  assert.deepEqual(v, { kind: 'over', since: t0, strikesAt: t0 + 15 * MIN });
});
