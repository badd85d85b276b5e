// Usage over a date range for charts: the store's hourly buckets, summed per
// hour or per UTC day, with empty steps filled with zeros so a chart needs no
// gap logic. Ranges are bounded (744 hours, 366 days) so one answer stays small.
import { PcError } from '../../errors.ts';
import type { ServiceContext } from './context.ts';

const HOUR = 3_600_000;
const DAY = 86_400_000;
export const HISTORY_MAX_STEPS = { hour: 744, day: 366 } as const;
export type HistoryStep = keyof typeof HISTORY_MAX_STEPS;

export interface HistoryQuery {
  from?: string;
  to?: string;
  step?: HistoryStep;
}

export interface HistoryPoint {
  at: string;
  bytesUp: number;
  bytesDown: number;
  connections: number;
  requests: number;
}

export interface HistoryAnswer {
  step: HistoryStep;
  from: string;
  to: string;
  items: HistoryPoint[];
}

function bad(field: string, problem: string): PcError {
  return new PcError('PC_ERR_VALIDATION', `${field} ${problem}`, { fields: [{ field, problem }] });
}

export function createUsageHistory(ctx: ServiceContext) {
  return async function history(customerId: number, q: HistoryQuery): Promise<HistoryAnswer> {
    const step: HistoryStep = q.step ?? 'hour';
    const size = step === 'hour' ? HOUR : DAY;
    const t = ctx.now();
    // `to` rounds up to the end of its step, `from` down to its start (UTC).
    const toRaw = q.to ? Date.parse(q.to) : t;
    const to = Math.ceil(toRaw / size) * size || size;
    const defaultSteps = step === 'hour' ? 24 : 30;
    const from = Math.floor((q.from ? Date.parse(q.from) : to - defaultSteps * size) / size) * size;
    if (from >= to) throw bad('from', 'must be before to');
    const steps = (to - from) / size;
    if (steps > HISTORY_MAX_STEPS[step])
      throw bad(
        'from',
        `range is ${steps} ${step}s; at most ${HISTORY_MAX_STEPS[step]} ${step}s per answer (use step=day)`,
      );
    const rows = await ctx.repos.usage.history(customerId, from, to);
    const sums = new Map<number, HistoryPoint>();
    for (let at = from; at < to; at += size)
      sums.set(at, { at: new Date(at).toISOString(), bytesUp: 0, bytesDown: 0, connections: 0, requests: 0 });
    for (const r of rows) {
      const p = sums.get(Math.floor(r.hour.getTime() / size) * size);
      if (!p) continue;
      p.bytesUp += r.bytesUp;
      p.bytesDown += r.bytesDown;
      p.connections += r.connections;
      p.requests += r.requests;
    }
    return {
      step,
      from: new Date(from).toISOString(),
      to: new Date(to).toISOString(),
      items: [...sums.values()],
    };
  };
}

export type UsageHistory = ReturnType<typeof createUsageHistory>;
