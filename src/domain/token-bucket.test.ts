import assert from 'node:assert/strict';
import { test } from 'node:test';
import { charge, createTokenBucket, msUntil, refill, take } from './token-bucket.ts';

test('starts full, takes while tokens last, refills at rate up to burst', () => {
  const b = createTokenBucket(10, 0, 1000);
  assert.equal(b.burst, 10);
  for (let i = 0; i < 10; i++) assert.equal(take(b, 1, 1000), true);
  assert.equal(take(b, 1, 1000), false);
  assert.equal(take(b, 1, 1099), false); // 0.99 of a token
  assert.equal(take(b, 1, 1100), true); // 100 ms at 10/s: one token
  assert.equal(refill(b, 1_000_000), 10); // never above burst
});

test('charge goes into debt and msUntil says when it is paid back', () => {
  const b = createTokenBucket(1000, 500, 0);
  assert.equal(charge(b, 1500, 0), -1000);
  assert.equal(msUntil(b, 0, 0), 1000);
  assert.equal(msUntil(b, 0, 400), 600);
  assert.equal(msUntil(b, 0, 1000), 0);
  assert.equal(take(b, 1, 1000), false);
  assert.equal(take(b, 1, 1001), true);
});

test('a clock going backwards does not mint tokens', () => {
  const b = createTokenBucket(100, 100, 5000);
  charge(b, 100, 5000);
  assert.equal(refill(b, 4000), 0);
  assert.equal(refill(b, 5500), 50);
});
