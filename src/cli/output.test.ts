import assert from 'node:assert/strict';
import { test } from 'node:test';
import { usageDetails } from './commands/ops.ts';
import { planRow } from './commands/plan.ts';
import { portRanges } from './commands/upstream.ts';
import * as f from './format.ts';
import { keyValues, table } from './output.ts';
import { renderBar } from './progress.ts';

test('tables align columns, numbers to the right', () => {
  const t = table(
    ['PORT', 'UPSTREAM', 'LATENCY'],
    [
      ['4000', 'http://a:1', '5 ms'],
      ['40001', 'socks5://bb:1080', '120 ms'],
    ],
    { right: [0, 2] },
  );
  assert.equal(
    t,
    [
      ' PORT  UPSTREAM          LATENCY',
      ' 4000  http://a:1           5 ms',
      '40001  socks5://bb:1080   120 ms',
    ].join('\n'),
  );
  assert.equal(
    keyValues([
      ['a', '1'],
      ['long', '2'],
    ]),
    'a:    1\nlong: 2',
  );
});

test('values read as humans type them', () => {
  assert.equal(f.size(10e9), '10.0 GB');
  assert.equal(f.size(null), 'unlimited');
  assert.equal(f.rate(1e6), '1.00 MB/s');
  assert.equal(f.price(950), '$9.50');
  assert.equal(f.time('2026-01-31T12:34:56Z'), '2026-01-31 12:34Z');
  assert.equal(f.time(null, 'never'), 'never');
  assert.equal(f.remaining('2026-01-01T01:30:00Z', Date.UTC(2026, 0, 1)), '1h 30m');
  assert.equal(f.percent(250, 1000), '25.0%');
  assert.deepEqual(
    planRow({
      name: 'Pro',
      threads: 50,
      rps: 20,
      bandwidth: null,
      quotaBytes: 1e10,
      quotaPeriod: 'month',
      durationDays: 30,
      priceCents: 5000,
    }),
    ['Pro', '50', '20', 'unlimited', '10.0 GB', 'month', '30', '$50.00'],
  );
});

test('usage shows used of quota and what is left', () => {
  const text = usageDetails({
    bytesUp: 1e9,
    bytesDown: 3e9,
    quotaBytes: 10e9,
    threadsLive: 3,
    periodStart: '2026-01-01T00:00:00Z',
    periodEnd: '2026-02-01T00:00:00Z',
  });
  assert.match(text, /used:\s+4.00 GB of 10.0 GB \(40.0%\)/);
  assert.match(text, /left:\s+6.00 GB/);
  assert.match(text, /threads live:\s+3/);
});

test('port ranges and the progress bar', () => {
  assert.equal(portRanges([4002, 4000, 4001, 4005, 4007, 4006]), '4000-4002, 4005-4007');
  assert.equal(renderBar(50, 100, 10), '[#####-----]  50%  50 B / 100 B');
});
