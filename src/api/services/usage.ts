// Usage answers and the customer's proxy list.
//
// Not double counting: enforcement points count every byte twice on purpose,
// into two places that hold the SAME bytes — the live period counter (quota
// enforcement, includes increments not yet flushed) and the hourly buckets
// drained into the store at most once a second. So the API never adds them:
// bytesUp/bytesDown are the store's buckets for the period (at most ~1 s
// behind), and bytesUsed — what the quota is checked against — is the larger
// of the store's total and the live counter (the live counter is ahead while
// bytes are unflushed; the store is ahead after a restart cleared memory).
import { checkAccess, quotaExhausted } from '../../domain/access.ts';
import type { CustomerPolicy } from '../../domain/policy.ts';
import { quotaPeriod } from '../../domain/quota-period.ts';
import type { ErrorCode } from '../../errors.ts';
import type { CustomerWithPlan } from '../../store/repos/customers.ts';
import type { UsageSum } from '../../store/repos/usage.ts';
import { toPolicy } from '../views.ts';
import { createTtlCache } from './change-feed.ts';
import type { ServiceContext } from './context.ts';

const HOUR = 3_600_000;

export interface UsageAnswer {
  bytesUp: number;
  bytesDown: number;
  bytesUsed: number;
  quotaBytes: number | null;
  threadsLive: number;
  periodStart: string;
  periodEnd: string | null;
  lockedUntil: string | null;
}

export function createUsageService(ctx: ServiceContext) {
  const { repos, live, now, config } = ctx;
  const cacheMs = 1000;
  let ports: { text: string; at: number } | null = null;
  // A new import or removal shows in the list at once; health changes within cacheMs.
  ctx.changes.on((e) => {
    if (e.type === 'upstreams') ports = null;
  });
  // The store's part of the quota check, for the polled proxy list only: the
  // live counter carries the recent bytes, the store matters after a restart,
  // so a 10 s old store sum changes no answer that matters. It halves
  // the queries per /api/proxies.php request.
  const storeSums = createTtlCache<string, UsageSum>(10_000, 50_000, now);

  async function periodUsage(policy: CustomerPolicy, t: number, cached = false) {
    const period = quotaPeriod(policy.limits.quotaPeriod, policy.periodAnchor, t);
    // Buckets are whole hours; a period starting mid-hour counts that hour's bucket.
    const fromHour = Math.floor(period.start / HOUR) * HOUR;
    const key = `${policy.customerId}:${period.key}`;
    const [sum, liveBytes] = await Promise.all([
      (cached && storeSums.get(key)) ||
        repos.usage.sum(policy.customerId, fromHour, period.end).then((s) => {
          storeSums.set(key, s);
          return s;
        }),
      live.periodBytes(policy.customerId, period.key),
    ]);
    return { period, sum, used: Math.max(sum.bytesUp + sum.bytesDown, liveBytes) };
  }

  async function portsText(): Promise<string> {
    const t = now();
    if (ports && t - ports.at < cacheMs) return ports.text;
    const host = config.publicHost.includes(':') ? `[${config.publicHost}]` : config.publicHost;
    const rows = await repos.upstreams.list();
    const lines = rows.filter((u) => u.health !== 'down').map((u) => `${host}:${u.boundPort}\n`);
    ports = { text: lines.join(''), at: t };
    return ports.text;
  }

  return {
    async usage({ customer, plan }: CustomerWithPlan): Promise<UsageAnswer> {
      const t = now();
      const policy = toPolicy(customer, plan);
      const [{ period, sum, used }, threadsLive, lockedUntil] = await Promise.all([
        periodUsage(policy, t),
        live.threads(customer.id),
        live.lockedUntil(customer.id),
      ]);
      return {
        bytesUp: sum.bytesUp,
        bytesDown: sum.bytesDown,
        bytesUsed: used,
        quotaBytes: plan.quotaBytes,
        threadsLive,
        periodStart: new Date(period.start).toISOString(),
        periodEnd: period.end === null ? null : new Date(period.end).toISOString(),
        lockedUntil: lockedUntil > t ? new Date(lockedUntil).toISOString() : null,
      };
    },

    /** Why this customer may not use the proxies now, or null. Same rules as the gateway. */
    async refusal({ customer, plan }: CustomerWithPlan): Promise<ErrorCode | null> {
      const t = now();
      const policy = toPolicy(customer, plan);
      const code = checkAccess(policy, t, await live.lockedUntil(customer.id));
      if (code) return code;
      if (policy.limits.quotaBytes > 0 && quotaExhausted(policy, (await periodUsage(policy, t, true)).used))
        return 'PC_ERR_QUOTA_EXCEEDED';
      return null;
    },

    /** `host:port` lines of every bound port whose upstream is not down. */
    proxyList: portsText,
  };
}

export type UsageService = ReturnType<typeof createUsageService>;
