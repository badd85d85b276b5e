// Quota on running connections: one budget per customer with connections in
// this process. The throttle's watch (throttle.ts) adds each chunk's length to
// `spent` and compares it with `limit` — an add and a compare, no allocation.
// Once a second the budget is refreshed from live state: this customer's
// socket counters are pushed first (registry.reportCustomer), so the total
// read back covers every byte up to the mark and only the chunks after it are
// counted on top. Crossing the quota closes the customer's connections here;
// other processes notice at their own refresh (<= 1 s later).
import type { Logger } from 'pino';
import type { CustomerPolicy } from '../../domain/policy.ts';
import type { Period } from '../../domain/quota-period.ts';
import type { LiveState } from '../../live/live.ts';
import type { Counter } from './throttle.ts';

interface Guard extends Counter {
  customerId: number;
  policy: CustomerPolicy;
  key: string;
  refs: number;
  refreshing: boolean;
  /** crossed in this period (until a refresh finds room again, e.g. a raised quota) */
  exhausted: boolean;
}

export interface QuotaGuardOptions {
  live: LiveState;
  log: Logger;
  now: () => number;
  periodOf(policy: CustomerPolicy, nowMs: number): Period;
  /** Seeds the live counter of a period from the store (null when already done for this period since the last reset). */
  seed(policy: CustomerPolicy, period: Period): Promise<void> | null;
  /** The newest policy of the customer (a raised quota applies to running connections). */
  policyOf(customerId: number): CustomerPolicy | undefined;
  /** Pushes the customer's unreported socket counters into live state (sync). */
  report(customerId: number): void;
  /** Closes every connection of the customer in this process. */
  kick(customerId: number): number;
  refreshMs?: number;
}

export interface QuotaGuards {
  /** The customer's budget, referenced once more; `used` is the period total just read at admission. */
  attach(policy: CustomerPolicy, period: Period, used: number): Counter;
  release(c: Counter): void;
  /**
   * From the running budget of a customer with connections here (refreshed
   * <= 1 s ago): true/false when it knows for `periodKey`, undefined when the
   * admission must ask live state.
   */
  exhausted(customerId: number, periodKey: string): boolean | undefined;
  readonly size: number;
  stop(): void;
}

export function createQuotaGuards(o: QuotaGuardOptions): QuotaGuards {
  const guards = new Map<number, Guard>();

  function exceeded(this: Guard): void {
    this.limit = Number.POSITIVE_INFINITY; // one kick; the next refresh re-arms
    this.exhausted = true;
    const id = this.customerId;
    // Called from a 'data' listener before the relay has written the chunk that
    // crossed: close after it, so that chunk is metered like every other byte.
    queueMicrotask(() => {
      const closed = o.kick(id);
      o.log.info(
        { customerId: id, code: 'PC_ERR_QUOTA_EXCEEDED', reason: 'quota_exceeded', closed },
        'quota exhausted: connections closed',
      );
    });
  }

  function refresh(g: Guard): void {
    if (g.refreshing) return;
    g.policy = o.policyOf(g.customerId) ?? g.policy;
    const period = o.periodOf(g.policy, o.now());
    o.report(g.customerId);
    const mark = g.spent;
    g.refreshing = true;
    // Null unless this period was never seeded here (a new period, or the seeds were reset).
    const seeded = o.seed(g.policy, period);
    (seeded ?? Promise.resolve())
      .then(() => o.live.periodBytes(g.customerId, period.key))
      .then(
        (used) => {
          g.refreshing = false;
          g.key = period.key;
          const quota = g.policy.limits.quotaBytes;
          g.limit = quota > 0 ? mark + quota - used : Number.POSITIVE_INFINITY;
          g.exhausted = false;
          if (g.spent >= g.limit) g.exceeded();
        },
        (err: unknown) => {
          g.refreshing = false;
          o.log.warn({ err, customerId: g.customerId }, 'quota refresh failed');
        },
      );
  }

  const timer = setInterval(() => {
    for (const g of guards.values()) refresh(g);
  }, o.refreshMs ?? 1000);
  timer.unref();

  return {
    attach(policy, period, used) {
      let g = guards.get(policy.customerId);
      if (g === undefined) {
        g = {
          customerId: policy.customerId,
          policy,
          key: period.key,
          refs: 0,
          refreshing: false,
          spent: 0,
          limit: policy.limits.quotaBytes - used,
          exhausted: false,
          exceeded,
        };
        guards.set(policy.customerId, g);
      } else g.policy = policy;
      g.refs++;
      return g;
    },
    exhausted(customerId, periodKey) {
      const g = guards.get(customerId);
      if (g === undefined || g.key !== periodKey || g.refreshing) return undefined;
      return g.exhausted || g.spent >= g.limit;
    },
    release(c) {
      const g = c as Guard;
      if (--g.refs === 0 && guards.get(g.customerId) === g) guards.delete(g.customerId);
    },
    get size() {
      return guards.size;
    },
    stop() {
      clearInterval(timer);
      guards.clear();
    },
  };
}
