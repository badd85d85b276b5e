// Turns the text of one flag into its value, by kind, through the shared unit
// parsers in domain/units.ts. A bad value names the flag and shows an example,
// because "invalid input" alone sends people to the docs.
import { parseDuration, parseRate, parseSize } from '../domain/units.ts';
import type { FlagKind, FlagSpec } from './spec.ts';

const NONE = new Set(['unlimited', 'none', 'off']);

const EXAMPLES: Record<FlagKind, string> = {
  string: 'text',
  bool: '',
  int: '10',
  size: '10GB',
  rate: '1MB/s',
  duration: '1h',
  expiry: '30d',
  price: '9.99',
};

const EXPECTS: Record<FlagKind, string> = {
  string: 'a value',
  bool: 'no value',
  int: 'a whole number',
  size: 'a size in bytes with a unit (B, KB, MB, GB, TB, KiB, MiB, GiB) or "unlimited"',
  rate: 'a rate with a unit (B/s, KB/s, MB/s, GB/s, or bits: 100mbit) or "unlimited"',
  duration: 'a duration with a unit (s, m, h, d, w)',
  expiry: 'an ISO time (2026-01-31 or 2026-01-31T12:00:00Z), a duration from now (30d), or "never"',
  price: 'an amount of money (10, 9.99, $10)',
};

export function flagExample(name: string, spec: FlagSpec): string {
  if (spec.example) return spec.example;
  if (spec.choices) return `--${name} ${spec.choices[0]}`;
  return spec.kind === 'bool' ? `--${name}` : `--${name} ${EXAMPLES[spec.kind]}`;
}

export class FlagValueError extends Error {
  constructor(name: string, spec: FlagSpec, text: string) {
    const expects = spec.choices ? `one of ${spec.choices.join(', ')}` : EXPECTS[spec.kind];
    super(`--${name} expects ${expects}; got "${text}" (example: ${flagExample(name, spec)})`);
    this.name = 'FlagValueError';
  }
}

/**
 * Parses `text` for flag `name`. `now` anchors relative expiries ("30d" from
 * now). Throws FlagValueError when the text does not fit the kind.
 */
export function parseFlagValue(
  name: string,
  spec: FlagSpec,
  text: string,
  now: number = Date.now(),
): string | number | null {
  const bad = () => new FlagValueError(name, spec, text);
  const t = text.trim();
  if (spec.choices) {
    if (!spec.choices.includes(t)) throw bad();
    return t;
  }
  switch (spec.kind) {
    case 'string':
    case 'bool':
      return text;
    case 'int': {
      if (!/^\d+$/.test(t)) throw bad();
      const n = Number(t);
      if (!Number.isSafeInteger(n)) throw bad();
      return n;
    }
    case 'size':
    case 'rate': {
      if (NONE.has(t.toLowerCase())) return null;
      const n = spec.kind === 'size' ? parseSize(t) : parseRate(t);
      // A bare "10" is accepted as bytes by the parsers, but for sizes a unit
      // is nearly always what the user meant; still allowed, it is exact.
      if (!Number.isFinite(n) || n < 0) throw bad();
      return n;
    }
    case 'duration': {
      const n = parseDuration(t);
      if (!Number.isFinite(n) || n <= 0) throw bad();
      return n;
    }
    case 'expiry': {
      const iso = parseExpiry(t, now);
      if (iso === undefined) throw bad();
      return iso;
    }
    case 'price': {
      const m = /^\$?(\d+)(?:\.(\d{1,2}))?$/.exec(t);
      if (!m) throw bad();
      return Number(m[1]) * 100 + Number((m[2] ?? '0').padEnd(2, '0'));
    }
  }
}

/** ISO date/time, a duration from now, or "never" (null). Undefined when malformed. */
export function parseExpiry(text: string, now: number): string | null | undefined {
  if (text === 'never' || text === 'none') return null;
  if (/^\d+(\.\d+)?\s*[a-zA-Z]+$/.test(text)) {
    const s = parseDuration(text);
    return Number.isFinite(s) && s > 0 ? new Date(now + s * 1000).toISOString() : undefined;
  }
  // Only ISO-looking text: Date.parse also accepts "March 7" and friends, which
  // would be read in the local time zone and surprise someone.
  if (!/^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(text)) return undefined;
  const ms = Date.parse(text);
  return Number.isFinite(ms) ? new Date(ms).toISOString() : undefined;
}
