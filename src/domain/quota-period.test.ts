import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addMonths, quotaPeriod } from './quota-period.ts';

const t = (s: string) => Date.parse(s);

test('calendar periods in UTC', () => {
  const now = t('2026-11-23T20:00:00Z');
  assert.deepEqual(quotaPeriod('day', 0, now), {
    key: 'd2026-11-23',
    start: t('2026-11-23T00:00:00Z'),
    end: t('2026-11-24T00:00:00Z'),
  });
  assert.deepEqual(quotaPeriod('week', 0, now), {
    key: 'w2026-11-23',
    start: t('2026-11-23T00:00:00Z'),
    end: t('2026-11-30T00:00:00Z'),
  });
  assert.equal(quotaPeriod('week', 0, t('2026-11-22T23:59:59Z')).key, 'w2026-11-16');
  assert.deepEqual(quotaPeriod('month', 0, now), {
    key: 'm2026-11',
    start: t('2026-11-01T00:00:00Z'),
    end: t('2026-12-01T00:00:00Z'),
  });
  assert.equal(quotaPeriod('month', 0, t('2026-12-31T23:59:59Z')).end, t('2027-01-01T00:00:00Z'));
});

test('month from start follows the anchor and clamps short months', () => {
  const anchor = t('2026-01-31T10:00:00Z');
  assert.equal(addMonths(anchor, 1), t('2026-02-28T10:00:00Z'));
  const p = quotaPeriod('month_from_start', anchor, t('2026-03-15T00:00:00Z'));
  assert.equal(p.start, t('2026-02-28T10:00:00Z'));
  assert.equal(p.end, t('2026-03-31T10:00:00Z'));
  const first = quotaPeriod('month_from_start', anchor, t('2026-02-01T00:00:00Z'));
  assert.equal(first.start, anchor);
  assert.notEqual(first.key, p.key);
});

test('no period never resets', () => {
  const p = quotaPeriod('none', 5, t('2030-01-01T00:00:00Z'));
  assert.deepEqual(p, { key: 'all', start: 5, end: null });
});
