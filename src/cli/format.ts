// How API values read in tables: sizes through formatBytes, rates with /s,
// absent limits as "unlimited", times as short UTC ("2026-01-31 12:00Z").
import { formatBytes } from '../domain/units.ts';

export function size(n: unknown): string {
  return typeof n === 'number' ? formatBytes(n) : n === null || n === undefined ? 'unlimited' : String(n);
}

export function rate(n: unknown): string {
  return typeof n === 'number'
    ? `${formatBytes(n)}/s`
    : n === null || n === undefined
      ? 'unlimited'
      : String(n);
}

export function num(n: unknown, none = '-'): string {
  return n === null || n === undefined ? none : String(n);
}

export function time(iso: unknown, none = '-'): string {
  if (typeof iso !== 'string' && typeof iso !== 'number') return none;
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  return `${d.toISOString().slice(0, 16).replace('T', ' ')}Z`;
}

export function price(cents: unknown): string {
  return typeof cents === 'number' ? `$${(cents / 100).toFixed(2)}` : '-';
}

export function percent(part: number, whole: number | null | undefined): string {
  if (!whole) return '-';
  return `${((part / whole) * 100).toFixed(1)}%`;
}

/** "2d 3h", "15m", "40s": how long until a time, for bans and lock-outs. */
export function remaining(iso: unknown, now = Date.now()): string {
  if (typeof iso !== 'string') return '';
  let s = Math.round((Date.parse(iso) - now) / 1000);
  if (!(s > 0)) return 'over';
  const parts: string[] = [];
  for (const [unit, len] of [
    ['d', 86400],
    ['h', 3600],
    ['m', 60],
    ['s', 1],
  ] as const) {
    if (s >= len) {
      parts.push(`${Math.floor(s / len)}${unit}`);
      s %= len;
    }
    if (parts.length === 2) break;
  }
  return parts.join(' ');
}
