// The strike rule at run time (the clock itself is domain/strike.ts).
//
// Which customers are watched: a soft-mode customer enters the watch list of
// a gateway process when a thread acquired there leaves the customer's count
// (across every process: acquireThread answers the total) above the plan's
// `threads`. From then on that process observes the live total once per tick,
// and at once after each of its own connections of the customer closes (so a
// dip it causes restarts the window without waiting for the tick). The
// customer leaves the list at the first observation at or under the limit.
//
// Several processes: every process that admitted a connection over the limit
// keeps its own clock of the same shared count; the first whose window runs
// out strikes. The strike is shared state and events, not a local act: the
// lock-out goes to live state (every process and the API refuse meanwhile) and
// the kick is published, so every process closes the customer's sockets. A
// process that finds a lock-out already set does not strike again.
import type { Logger } from 'pino';
import type { CustomerPolicy } from '../domain/policy.ts';
import { observeThreads, overLimit, type StrikeClock, strikeApplies } from '../domain/strike.ts';
import type { LiveState } from '../live/live.ts';
import type { SecurityEventInsert } from '../store/repos/events.ts';

export interface StrikeWatcher {
  /** A thread was acquired: `held` is the customer's count after taking, across processes. */
  acquired(policy: CustomerPolicy, held: number): void;
  /** A connection of the customer closed in this process. */
  released(customerId: number): void;
  /** Observes every watched customer now (the timer calls it; tests too). */
  tick(): Promise<void>;
  /** Customers watched by this process (tests, metrics). */
  readonly watching: number;
  stop(): void;
}

export interface StrikeWatcherOptions {
  live: LiveState;
  /** the current policy of a customer (plan changes apply to the next observation) */
  policy: (customerId: number) => CustomerPolicy | undefined;
  /** records the lock-out as a security event; failures are logged, the lock-out stands */
  record: (e: SecurityEventInsert) => Promise<void>;
  log: Logger;
  now?: () => number;
  /** ms between observations; 0 = no timer (tests call tick()) */
  tickMs?: number;
}

export function createStrikeWatcher(opts: StrikeWatcherOptions): StrikeWatcher {
  const { live, log } = opts;
  const now = opts.now ?? Date.now;
  const clocks = new Map<number, StrikeClock>();
  const checking = new Set<number>();
  let stopped = false;

  async function check(customerId: number): Promise<void> {
    // One observation per customer at a time: two in flight could both strike.
    if (checking.has(customerId) || stopped) return;
    checking.add(customerId);
    try {
      const clock = clocks.get(customerId);
      const policy = opts.policy(customerId);
      if (!clock || !policy || !strikeApplies(policy.limits)) {
        clocks.delete(customerId);
        return;
      }
      const held = await live.threads(customerId);
      const v = observeThreads(clock, policy.limits, held, now());
      if (v.kind === 'ok') clocks.delete(customerId);
      else if (v.kind === 'strike') {
        clocks.delete(customerId);
        await strike(policy, held, v.since, v.lockedUntil);
      }
    } catch (err) {
      log.warn({ err, customerId }, 'strike check failed');
    } finally {
      checking.delete(customerId);
    }
  }

  async function strike(p: CustomerPolicy, held: number, since: number, lockedUntil: number): Promise<void> {
    const t = now();
    if ((await live.lockedUntil(p.customerId)) > t) return; // another process struck first
    // Lock first, then kick: a client reconnecting after the kick is refused.
    await live.setLockout(p.customerId, lockedUntil).catch((err) => {
      // redis.ts keeps it in its per-process fallback: this process still refuses.
      log.warn({ err, customerId: p.customerId }, 'lock-out not shared: live state unreachable');
    });
    await live.publish({ type: 'kick', customerId: p.customerId, reason: 'strike' }).catch((err) => {
      // redis.ts has already kicked locally; other processes learn of the lock-out on admission.
      log.warn({ err, customerId: p.customerId }, 'strike kick not published to other processes');
    });
    const detail = {
      threads: held,
      limit: p.limits.threads,
      overSince: new Date(since).toISOString(),
      lockedUntil: new Date(lockedUntil).toISOString(),
    };
    log.warn(
      {
        customerId: p.customerId,
        username: p.username,
        code: 'PC_ERR_LOCKED_OUT',
        reason: 'timeout',
        ...detail,
      },
      'strike: threads above the plan for the whole window; kicked and locked out',
    );
    await opts
      .record({ kind: 'lockout', customerId: p.customerId, at: new Date(t), detail })
      .catch((err) => log.error({ err, customerId: p.customerId }, 'lock-out not recorded in the store'));
  }

  const timer = opts.tickMs === 0 ? undefined : setInterval(() => void watcher.tick(), opts.tickMs ?? 1000);
  timer?.unref();

  const watcher: StrikeWatcher = {
    acquired(policy, held) {
      const l = policy.limits;
      if (!strikeApplies(l)) return;
      let clock = clocks.get(policy.customerId);
      if (!clock) {
        if (!overLimit(l, held)) return;
        clock = { overSince: 0 };
        clocks.set(policy.customerId, clock);
      }
      // The count after taking is an observation of the shared total like any
      // other; only the timer and releases may strike (they run outside admission).
      const v = observeThreads(clock, l, held, now());
      if (v.kind === 'ok') clocks.delete(policy.customerId);
      else if (v.kind === 'strike') {
        clock.overSince = v.since;
        void check(policy.customerId);
      }
    },
    released(customerId) {
      if (clocks.has(customerId)) void check(customerId);
    },
    async tick() {
      await Promise.all([...clocks.keys()].map(check));
    },
    get watching() {
      return clocks.size;
    },
    stop() {
      stopped = true;
      if (timer) clearInterval(timer);
      clocks.clear();
    },
  };
  return watcher;
}
