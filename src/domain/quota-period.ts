// Quota periods. All calendar periods are in UTC (documented in docs/limits.md):
// a reseller's customers sit in many time zones, and a period must mean the
// same instant on every gateway process. The key names the period; a new key
// starts a fresh counter, which is how quotas reset on schedule.
import type { QuotaPeriod } from './policy.ts';

export interface Period {
  /** stable name of the period, e.g. "m2026-11"; part of live-state keys */
  key: string;
  /** ms since epoch, inclusive */
  start: number;
  /** ms since epoch, exclusive; null when the period never ends */
  end: number | null;
}

const DAY = 86_400_000;

function ymd(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** Adds calendar months in UTC, clamping the day (Jan 31 + 1 month = Feb 28/29). */
export function addMonths(ms: number, months: number): number {
  const d = new Date(ms);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth() + months;
  const lastDay = new Date(Date.UTC(y, m + 1, 0)).getUTCDate();
  return Date.UTC(
    y,
    m,
    Math.min(d.getUTCDate(), lastDay),
    d.getUTCHours(),
    d.getUTCMinutes(),
    d.getUTCSeconds(),
    d.getUTCMilliseconds(),
  );
}

export function quotaPeriod(period: QuotaPeriod, anchorMs: number, nowMs: number): Period {
  switch (period) {
    case 'none':
      return { key: 'all', start: anchorMs, end: null };
    case 'day': {
      const start = Math.floor(nowMs / DAY) * DAY;
      return { key: `d${ymd(start)}`, start, end: start + DAY };
    }
    case 'week': {
      // ISO weeks start on Monday; 1970-01-01 was a Thursday.
      const day = Math.floor(nowMs / DAY);
      const start = (day - ((day + 3) % 7)) * DAY;
      return { key: `w${ymd(start)}`, start, end: start + 7 * DAY };
    }
    case 'month': {
      const d = new Date(nowMs);
      const start = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
      const end = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
      return { key: `m${ymd(start).slice(0, 7)}`, start, end };
    }
    case 'month_from_start': {
      // The period containing now among anchor + k months (k >= 0).
      const a = new Date(anchorMs);
      const n = new Date(nowMs);
      let k = Math.max(0, (n.getUTCFullYear() - a.getUTCFullYear()) * 12 + n.getUTCMonth() - a.getUTCMonth());
      while (k > 0 && addMonths(anchorMs, k) > nowMs) k--;
      const start = addMonths(anchorMs, k);
      return { key: `a${start}`, start, end: addMonths(anchorMs, k + 1) };
    }
  }
}
