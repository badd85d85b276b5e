// Issue 4's limits on the gateway's hot path, behind one object the protocol
// handlers call at four points: admit (before the thread is taken), attach
// (the connection is open), pair (a relay starts between two sockets),
// request (a further HTTP request on a keep-alive connection), and release
// (registry.close). Semantics: docs/limits.md.
//
// Admission, in order of precedence of the refusal:
//   quota     live.periodBytes(customer, period) >= quotaBytes -> quota_exceeded
//             (the period counter is seeded once from the store's hourly
//             buckets, so a restart does not forget what was used)
//   per-IP    concurrent connections of this customer from this client IP
//             (counted in this process, across its threads: ip-slots.ts)
//             and new connections/s per client IP (live.takeTokens,
//             shared with Redis)                                  -> ip_limited
//   req/s     live.takeTokens(`rps:<id>`, rps, rps)               -> rate_limited
//   expiry    start-on-first-use: the first admitted connection starts the clock
// A limit of 0 costs nothing: no call, no await.
import type net from 'node:net';
import type { Logger } from 'pino';
import type { CustomerPolicy } from '../../domain/policy.ts';
import { type Period, quotaPeriod } from '../../domain/quota-period.ts';
import type { ErrorCode } from '../../errors.ts';
import type { LiveState } from '../../live/live.ts';
import type { Conn } from '../registry.ts';
import type { GatewaySource } from '../source.ts';
import type { IpSlots } from './ip-slots.ts';
import { createQuotaGuards } from './quota-guard.ts';
import { createThrottle } from './throttle.ts';

const SEED_RETRY_MS = 10_000;

export interface LimitsOptions {
  live: LiveState;
  source: Pick<GatewaySource, 'usageSum' | 'startClockOnFirstUse'>;
  /** concurrent connections per (customer, client IP), shared by the gateway's threads */
  ipSlots: IpSlots;
  log: Logger;
  now: () => number;
  policyOf(customerId: number): CustomerPolicy | undefined;
  /** registry hooks for the quota guard (sync) */
  report(customerId: number): void;
  kick(customerId: number): number;
  quotaRefreshMs?: number;
}

export interface Limits {
  /**
   * The refusal code, or null when admitted. Synchronous null when nothing
   * needs asking. Holds a per-IP slot on success: give it back with cancel()
   * when admission fails later, else it goes with release().
   */
  admit(policy: CustomerPolicy, client: net.Socket, nowMs: number): Promise<ErrorCode | null> | null;
  cancel(policy: CustomerPolicy, client: net.Socket): void;
  /** The connection is open: meter its client socket when a byte limit applies. */
  attach(conn: Conn): void;
  /** A relay between `a` and `b` starts: both directions count. */
  pair(conn: Conn, a: net.Socket, b: net.Socket): void;
  /** One more forwarded request on a keep-alive connection: true when within requests/s. */
  request(conn: Conn): true | Promise<boolean>;
  release(conn: Conn): void;
  stop(): void;
}

function ipSlot(customerId: number, address: string | undefined): string {
  return `${customerId}|${address ?? ''}`;
}

export function createLimits(o: LimitsOptions): Limits {
  const { live, log } = o;
  const throttle = createThrottle({ live });
  const periods = new Map<number, { kind: string; anchor: number; p: Period }>();
  /** period key already seeded per customer, or the time after which a failed seed is retried */
  const seeded = new Map<number, string | number>();
  const seeding = new Map<string, Promise<void>>();
  /** period total read at the customer's last admission (the new guard's starting point) */
  const lastUsed = new Map<number, number>();
  const started = new Set<number>();

  function periodOf(policy: CustomerPolicy, nowMs: number): Period {
    const l = policy.limits;
    const c = periods.get(policy.customerId);
    if (
      c !== undefined &&
      c.kind === l.quotaPeriod &&
      c.anchor === policy.periodAnchor &&
      nowMs >= c.p.start &&
      (c.p.end === null || nowMs < c.p.end)
    )
      return c.p;
    const p = quotaPeriod(l.quotaPeriod, policy.periodAnchor, nowMs);
    periods.set(policy.customerId, { kind: l.quotaPeriod, anchor: policy.periodAnchor, p });
    return p;
  }

  function seed(policy: CustomerPolicy, period: Period): Promise<void> | null {
    const id = policy.customerId;
    const done = seeded.get(id);
    if (done === period.key || (typeof done === 'number' && o.now() < done)) return null;
    const k = `${id}:${period.key}`;
    let p = seeding.get(k);
    if (p === undefined) {
      p = o.source
        .usageSum(id, period.start, period.end)
        .then((s) => live.seedPeriodBytes(id, period.key, s.bytesUp + s.bytesDown))
        .then(
          () => {
            seeded.set(id, period.key);
          },
          (err: unknown) => {
            // Fail open: admit on what live state knows, try the store again later.
            seeded.set(id, o.now() + SEED_RETRY_MS);
            log.warn({ err, customerId: id }, 'quota: could not seed the period total from the store');
          },
        )
        .finally(() => seeding.delete(k));
      seeding.set(k, p);
    }
    return p;
  }

  // Redis restarted empty: its period counters start again from what was
  // flushed since; seed them from the store again (the seed only raises).
  const offReset = live.onReset(() => seeded.clear());

  const guards = createQuotaGuards({
    live,
    log,
    now: o.now,
    periodOf,
    seed,
    policyOf: o.policyOf,
    report: o.report,
    kick: o.kick,
    refreshMs: o.quotaRefreshMs,
  });

  /** null: within quota (known from the running budget); else a promise of the answer. */
  function checkQuota(policy: CustomerPolicy, nowMs: number): Promise<ErrorCode | null> | null {
    const id = policy.customerId;
    const period = periodOf(policy, nowMs);
    // Connections of this customer here keep a budget refreshed every second:
    // no live-state read per connection while it has room.
    const known = guards.exhausted(id, period.key);
    if (known === false) return null;
    if (known === true) return Promise.resolve('PC_ERR_QUOTA_EXCEEDED');
    const s = seed(policy, period);
    const read = (): Promise<number> => live.periodBytes(id, period.key);
    return (s === null ? read() : s.then(read)).then((used) => {
      lastUsed.set(id, used);
      return used >= policy.limits.quotaBytes ? 'PC_ERR_QUOTA_EXCEEDED' : null;
    });
  }

  function startClock(policy: CustomerPolicy, nowMs: number): Promise<null> {
    const id = policy.customerId;
    started.add(id);
    return o.source
      .startClockOnFirstUse(id, nowMs)
      .then(async (changed) => {
        if (!changed) return null;
        log.info({ customerId: id, at: new Date(nowMs).toISOString() }, 'expiry clock started on first use');
        await live.publish({ type: 'customer', customerId: id });
        return null;
      })
      .catch((err: unknown) => {
        started.delete(id); // try again on the next connection
        log.warn({ err, customerId: id }, 'could not start the expiry clock on first use');
        return null;
      });
  }

  const tokenCode = (code: ErrorCode) => (ok: boolean) => (ok ? null : code);
  const ipLimited = tokenCode('PC_ERR_IP_LIMITED');
  const rateLimited = tokenCode('PC_ERR_RATE_LIMITED');

  function unreserve(policy: CustomerPolicy, address: string | undefined): void {
    if (policy.limits.ipMaxConns > 0) o.ipSlots.give(ipSlot(policy.customerId, address));
  }

  return {
    admit(policy, client, nowMs) {
      const l = policy.limits;
      const id = policy.customerId;
      const address = client.remoteAddress;
      const checks: Promise<ErrorCode | null>[] = [];
      /** the per-IP slot is held (given back on a refusal); null while a worker thread's ask is out */
      let slot: boolean | null = l.ipMaxConns <= 0;
      let slotAsked: Promise<unknown> | null = null;
      if (l.ipMaxConns > 0) {
        const k = ipSlot(id, address);
        const taken = o.ipSlots.take(k, l.ipMaxConns);
        if (taken === false) return Promise.resolve('PC_ERR_IP_LIMITED');
        if (taken === true) slot = true;
        else {
          slot = null;
          const ask = taken.then((ok) => {
            slot = ok;
            return ok ? null : ('PC_ERR_IP_LIMITED' as const);
          });
          slotAsked = ask;
          checks.push(ask);
        }
      }
      const undo = (): void => {
        if (slot === true) o.ipSlots.give(ipSlot(id, address));
        slot = false;
      };
      if (l.quotaBytes > 0) {
        const q = checkQuota(policy, nowMs);
        if (q !== null) checks.push(q);
      }
      if (l.ipRps > 0) checks.push(live.takeTokens(`ip:${id}:${address}`, l.ipRps, l.ipRps).then(ipLimited));
      if (l.rps > 0) checks.push(live.takeTokens(`rps:${id}`, l.rps, l.rps).then(rateLimited));
      if (policy.startOnFirstUse && policy.firstUsedAt === 0 && !started.has(id))
        checks.push(startClock(policy, nowMs));
      if (checks.length === 0) return null;
      if (checks.length === 1)
        return checks[0].then((c) => {
          if (c !== null) undo();
          return c;
        });
      // Asked together: with Redis one round trip (auto-pipelined), not one per limit.
      return Promise.all(checks).then(
        (codes) => {
          for (const c of codes) {
            if (c !== null) {
              undo();
              return c;
            }
          }
          return null;
        },
        async (err: unknown) => {
          // Another check failed first: a slot still being asked for goes back once it is known.
          if (slotAsked) await slotAsked.catch(() => {});
          undo();
          throw err;
        },
      );
    },
    cancel(policy, client) {
      unreserve(policy, client.remoteAddress);
    },
    attach(conn) {
      const p = conn.policy;
      const l = p.limits;
      if (l.bandwidth <= 0 && l.connBandwidth <= 0 && l.quotaBytes <= 0) return;
      const quota =
        l.quotaBytes > 0 ? guards.attach(p, periodOf(p, o.now()), lastUsed.get(p.customerId) ?? 0) : null;
      const m = throttle.meter(p.customerId, l.bandwidth, l.connBandwidth, quota);
      conn.meter = m;
      throttle.watch(m, conn.client, null);
    },
    pair(conn, a, b) {
      const m = conn.meter;
      if (m === null) return;
      throttle.watch(m, a, b);
      throttle.watch(m, b, a);
    },
    request(conn) {
      const rps = conn.policy.limits.rps;
      if (rps <= 0) return true;
      return live.takeTokens(`rps:${conn.customerId}`, rps, rps);
    },
    release(conn) {
      unreserve(conn.policy, conn.clientAddress);
      const m = conn.meter;
      if (m === null) return;
      if (m.quota !== null) guards.release(m.quota);
      throttle.release(m);
      conn.meter = null;
    },
    stop() {
      offReset();
      guards.stop();
      throttle.stop();
    },
  };
}
