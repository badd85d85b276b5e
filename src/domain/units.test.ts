import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatBytes, parseDuration, parseRate, parseSize } from './units.ts';

test('sizes', () => {
  assert.equal(parseSize('10GB'), 10e9);
  assert.equal(parseSize('1.5 GiB'), Math.round(1.5 * 1024 ** 3));
  assert.equal(parseSize('512'), 512);
  assert.ok(Number.isNaN(parseSize('ten')));
  assert.ok(Number.isNaN(parseSize('10XB')));
  assert.ok(Number.isNaN(parseSize('-1GB')));
});

test('rates', () => {
  assert.equal(parseRate('1MB/s'), 1e6);
  assert.equal(parseRate('100KBps'), 1e5);
  assert.equal(parseRate('8mbit'), 1e6);
  assert.equal(parseRate('2000'), 2000);
  assert.ok(Number.isNaN(parseRate('fast')));
});

test('durations', () => {
  assert.equal(parseDuration('15m'), 900);
  assert.equal(parseDuration('1h'), 3600);
  assert.equal(parseDuration('30d'), 2592000);
  assert.equal(parseDuration('90'), 90);
  assert.ok(Number.isNaN(parseDuration('1y')));
});

test('formatBytes', () => {
  assert.equal(formatBytes(999), '999 B');
  assert.equal(formatBytes(10e9), '10.0 GB');
  assert.equal(formatBytes(1.5e6), '1.50 MB');
});

test('amounts too large to hold exactly are malformed, not Infinity or a rounded guess', () => {
  for (const t of ['8192TiB', '9'.repeat(40), `1${'0'.repeat(400)}`])
    assert.ok(Number.isNaN(parseSize(t)), `size ${t}`);
  assert.ok(Number.isNaN(parseRate('73000000000mbit')));
  assert.ok(Number.isNaN(parseDuration('99999999999999w')));
  assert.equal(parseSize('8191TiB'), 8191 * 1024 ** 4);
});
