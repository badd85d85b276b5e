import assert from 'node:assert/strict';
import { test } from 'node:test';
import { editDistance, suggest } from './suggest.ts';
import { parseExpiry, parseFlagValue } from './values.ts';

test('flag values by kind', () => {
  assert.equal(parseFlagValue('quota', { kind: 'size', help: '' }, '1.5GiB'), Math.round(1.5 * 1024 ** 3));
  assert.equal(parseFlagValue('bw', { kind: 'rate', help: '' }, '100mbit'), 12_500_000);
  assert.equal(parseFlagValue('bw', { kind: 'rate', help: '' }, 'unlimited'), null);
  assert.equal(parseFlagValue('for', { kind: 'duration', help: '' }, '2h'), 7200);
  assert.equal(parseFlagValue('price', { kind: 'price', help: '' }, '10'), 1000);
  assert.equal(parseFlagValue('price', { kind: 'price', help: '' }, '$0.05'), 5);
  assert.throws(
    () => parseFlagValue('price', { kind: 'price', help: '' }, '1.234'),
    /--price expects an amount/,
  );
  assert.throws(() => parseFlagValue('n', { kind: 'int', help: '' }, '-1'), /--n expects a whole number/);
  assert.throws(() => parseFlagValue('n', { kind: 'int', help: '' }, '1e3'), /whole number/);
  assert.throws(
    () => parseFlagValue('for', { kind: 'duration', help: '' }, '0s'),
    /--for expects a duration/,
  );
});

test('expiry text', () => {
  const now = Date.UTC(2026, 5, 1, 12);
  assert.equal(parseExpiry('1h', now), '2026-06-01T13:00:00.000Z');
  assert.equal(parseExpiry('2026-07-01T00:00:00Z', now), '2026-07-01T00:00:00.000Z');
  assert.equal(parseExpiry('never', now), null);
  assert.equal(parseExpiry('July 4', now), undefined);
  assert.equal(parseExpiry('2026-13-45', now), undefined);
});

test('suggestions reach typos and prefixes, not unrelated words', () => {
  assert.equal(editDistance('kitten', 'sitting'), 3);
  assert.equal(suggest('custmer', ['customer', 'plan']), 'customer');
  assert.equal(suggest('cust', ['customer', 'plan']), 'customer');
  assert.equal(suggest('bandwith', ['bandwidth', 'quota']), 'bandwidth');
  assert.equal(suggest('zzz', ['customer', 'plan']), undefined);
});
