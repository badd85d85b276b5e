// Properties of the unit parsers (src/domain/units.ts) that turn what people
// type ("10GB", "1.5 GiB", "8mbit", "15m") into bytes, bytes/s and seconds.
// Whatever the text: NaN or a whole, non-negative, exactly representable
// number (the CLI sends it as JSON, config turns it into timers); and a
// generated amount with a unit reads back as amount x unit.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseDuration, parseRate, parseSize } from '../../src/domain/units.ts';
import { hostileText, type Suite } from './common.ts';

const SIZE: Record<string, number> = {
  b: 1,
  k: 1e3,
  kb: 1e3,
  m: 1e6,
  mb: 1e6,
  g: 1e9,
  gb: 1e9,
  t: 1e12,
  tb: 1e12,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  tib: 1024 ** 4,
};
const DURATION: Record<string, number> = { s: 1, sec: 1, m: 60, min: 60, h: 3600, d: 86400, w: 604800 };
const BITS: Record<string, number> = { '': 1, k: 1e3, m: 1e6, g: 1e9 };

const caseOf = (s: string) =>
  fc
    .array(fc.boolean(), { minLength: s.length, maxLength: s.length })
    .map((up) => [...s].map((c, i) => (up[i] ? c.toUpperCase() : c)).join(''));
const sp = fc.constantFrom('', '', ' ', '  ', '\t');
/** an amount as typed: integer or decimal, sometimes huge */
const amount = fc.oneof(
  { arbitrary: fc.nat({ max: 100_000 }).map(String), weight: 4 },
  {
    arbitrary: fc.tuple(fc.nat({ max: 9999 }), fc.nat({ max: 999 })).map(([a, b]) => `${a}.${b}`),
    weight: 2,
  },
  { arbitrary: fc.stringMatching(/^[0-9]{15,40}$/), weight: 1 },
);

/** What the parsers promise for a number: NaN, or a whole non-negative safe integer. */
function wellFormed(n: number): boolean {
  return Number.isNaN(n) || (Number.isSafeInteger(n) && n >= 0);
}
/** amount x unit, as the parser must compute it; NaN when it is not exact (too large). */
function times(a: string, mult: number, div = 1): number {
  const v = Math.round((Number(a) * mult) / div);
  return Number.isSafeInteger(v) ? v : Number.NaN;
}

const texts = hostileText(
  fc
    .tuple(
      amount,
      sp,
      fc.constantFrom(...Object.keys(SIZE), ...Object.keys(DURATION), 'mbit', 'kbit/s', 'B/s'),
    )
    .map(([a, s, u]) => `${a}${s}${u}`),
);

export const unitsSuite: Suite = {
  parser: 'units (size, rate, duration)',
  file: 'src/domain/units.ts',
  properties: [
    {
      name: 'any text: NaN or a whole, non-negative, exact number',
      weight: 3,
      property: fc.property(texts, (t) => {
        for (const f of [parseSize, parseRate, parseDuration]) {
          const n = f(t);
          assert.ok(wellFormed(n), `${f.name}(${JSON.stringify(t)}) = ${n}`);
        }
      }),
    },
    {
      name: 'sizes: amount x unit, any case, blanks around',
      weight: 2,
      property: fc.property(
        amount,
        fc.constantFrom(...Object.keys(SIZE), '').chain((unit) => fc.tuple(fc.constant(unit), caseOf(unit))),
        sp,
        sp,
        sp,
        (a, [unit, typed], s1, s2, s3) => {
          const want = times(a, unit === '' ? 1 : SIZE[unit]);
          assert.equal(parseSize(`${s1}${a}${s2}${typed}${s3}`), want);
          // A rate in bytes/s is a size per second, in both spellings.
          assert.equal(parseRate(`${a}${typed}/s`), want);
          if (unit !== '') assert.equal(parseRate(`${a}${typed}ps`), want);
        },
      ),
    },
    {
      name: 'rates in bits: amount x prefix / 8',
      property: fc.property(
        amount,
        fc.constantFrom(...Object.keys(BITS)),
        fc.constantFrom('', '/s', 'ps'),
        (a, p, suffix) => {
          assert.equal(parseRate(`${a}${p}bit${suffix}`), times(a, BITS[p], 8));
          assert.equal(parseRate(`${a}${p.toUpperCase()}BIT${suffix.toUpperCase()}`), times(a, BITS[p], 8));
        },
      ),
    },
    {
      name: 'durations: amount x unit in seconds',
      property: fc.property(amount, fc.constantFrom(...Object.keys(DURATION), ''), sp, (a, unit, s) => {
        assert.equal(parseDuration(`${a}${s}${unit}`), times(a, unit === '' ? 1 : DURATION[unit]));
        assert.equal(parseDuration(`${a}${unit.toUpperCase()}`), times(a, unit === '' ? 1 : DURATION[unit]));
      }),
    },
  ],
};
