// In-process live state: the embedded default, and the fallback redis.ts uses
// while Redis is unreachable. Exact within one process because JavaScript runs
// every call to completion: a check-and-increment cannot interleave.
//
// Hot path: acquire/release/takeTokens/addUsage touch one or two Map entries
// and allocate nothing once a customer's entries exist (the bucket, the
// current-hour delta and the period counter are mutated in place).
import type { AuthFailure, LiveEvent, LiveState } from './live.ts';
import { createHourly, createPeriodCounters } from './usage-acc.ts';

export interface MemoryLiveOptions {
  /** Clock in ms since epoch; tests inject one so buckets refill and lock-outs expire without sleeping. */
  now?: () => number;
  /** Called when an event handler throws (the other handlers still run). */
  onHandlerError?: (err: unknown) => void;
  /** How often full token buckets are forgotten (ms); 0 disables the sweep. Default 60 s. */
  sweepMs?: number;
}

/** Failure counters and credential lock-outs kept at most (an attacker chooses the keys). */
const MAX_AUTH_KEYS = 100_000;
const NOT_LOCKED: AuthFailure = Object.freeze({ until: 0, fresh: false });

interface Bucket {
  tokens: number;
  last: number;
  rate: number;
  burst: number;
}

export interface MemoryLive extends LiveState {
  readonly kind: 'memory';
  readonly degraded: false;
}

/**
 * A memory live state's customer lock-outs, for the gateway's worker threads:
 * they mirror them (threads/pool.ts sends the snapshot and every change), so
 * an admission there reads its lock-out without a call to the main thread.
 */
export interface LockoutFeed {
  /** Lock-outs in force now: [customer id, end in ms since epoch]. */
  snapshot(): [number, number][];
  /** Told of every setLockout, synchronously and in order (end 0: lifted). */
  onChange(handler: (customerId: number, untilMs: number) => void): () => void;
}

const FEED = Symbol('lockout feed');

/** The feed of a live state made by createMemoryLive; null for any other (Redis, a worker's). */
export function lockoutFeed(live: LiveState): LockoutFeed | null {
  return (live as { [FEED]?: LockoutFeed })[FEED] ?? null;
}

export function createMemoryLive(opts: MemoryLiveOptions = {}): MemoryLive {
  const now = opts.now ?? Date.now;
  const threadCounts = new Map<number, number>();
  const buckets = new Map<string, Bucket>();
  const hourly = createHourly(now);
  const periods = createPeriodCounters();
  const lockouts = new Map<number, number>();
  const authFails = new Map<string, { n: number; reset: number }>();
  const authLocks = new Map<string, number>();
  const handlers = new Set<(event: LiveEvent) => void>();
  const producers = new Set<() => void>();
  const lockoutWatchers = new Set<(customerId: number, untilMs: number) => void>();

  // Buckets of idle keys (e.g. one per client IP) would pile up; a full bucket
  // carries no state, so forgetting it is exact.
  const sweepMs = opts.sweepMs ?? 60_000;
  const sweep =
    sweepMs > 0
      ? setInterval(() => {
          const t = now();
          for (const [k, b] of buckets) {
            if (b.tokens + ((t - b.last) * b.rate) / 1000 >= b.burst) buckets.delete(k);
          }
          pruneAuth(t);
        }, sweepMs)
      : undefined;
  sweep?.unref();

  function take(key: string, rate: number, burst: number, n: number): boolean {
    if (rate <= 0) return true;
    if (burst <= 0) burst = rate;
    const t = now();
    let b = buckets.get(key);
    if (b === undefined) {
      b = { tokens: burst, last: t, rate, burst };
      buckets.set(key, b);
    } else {
      const elapsed = t - b.last;
      if (elapsed > 0) {
        b.tokens = Math.min(burst, b.tokens + (elapsed * rate) / 1000);
        b.last = t;
      } else if (b.tokens > burst) b.tokens = burst;
      b.rate = rate;
      b.burst = burst;
    }
    if (b.tokens < n) return false;
    b.tokens -= n;
    return true;
  }

  function pruneAuth(t: number): void {
    for (const [k, f] of authFails) if (f.reset <= t) authFails.delete(k);
    for (const [k, until] of authLocks) if (until <= t) authLocks.delete(k);
  }

  /** Makes room for one more entry: expired ones first, then the oldest (insertion order). */
  function roomFor<V>(m: Map<string, V>, t: number): void {
    if (m.size < MAX_AUTH_KEYS) return;
    pruneAuth(t);
    for (const k of m.keys()) {
      if (m.size < MAX_AUTH_KEYS) break;
      m.delete(k);
    }
  }

  function authFailure(key: string, limit: number, windowMs: number, lockMs: number): AuthFailure {
    const t = now();
    const locked = authLocks.get(key);
    if (locked !== undefined) {
      if (locked > t) return { until: locked, fresh: false };
      authLocks.delete(key);
    }
    let f = authFails.get(key);
    if (f === undefined || f.reset <= t) {
      if (f === undefined) roomFor(authFails, t);
      f = { n: 0, reset: t + windowMs };
      authFails.set(key, f);
    }
    f.n++;
    if (f.n < limit) return NOT_LOCKED;
    authFails.delete(key);
    roomFor(authLocks, t);
    const until = t + lockMs;
    authLocks.set(key, until);
    return { until, fresh: true };
  }

  function produce(): void {
    for (const p of producers) {
      try {
        p();
      } catch (err) {
        opts.onHandlerError?.(err);
      }
    }
  }

  function acquire(customerId: number, cap: number): number {
    const held = threadCounts.get(customerId) ?? 0;
    if (cap > 0 && held >= cap) return -1;
    threadCounts.set(customerId, held + 1);
    return held + 1;
  }

  const live: MemoryLive = {
    kind: 'memory',
    degraded: false,

    acquireThread(customerId, cap) {
      return Promise.resolve(acquire(customerId, cap));
    },
    releaseThread(customerId) {
      const held = threadCounts.get(customerId);
      if (held === undefined) return;
      if (held <= 1) threadCounts.delete(customerId);
      else threadCounts.set(customerId, held - 1);
    },
    threads(customerId) {
      return Promise.resolve(threadCounts.get(customerId) ?? 0);
    },

    takeTokens(key, rate, burst, n = 1) {
      return Promise.resolve(take(key, rate, burst, n));
    },

    addUsage(customerId, periodKey, bytesUp, bytesDown, connections, requests) {
      hourly.add(customerId, bytesUp, bytesDown, connections, requests);
      const bytes = bytesUp + bytesDown;
      if (bytes !== 0) periods.add(customerId, periodKey, bytes);
    },
    periodBytes(customerId, periodKey) {
      return Promise.resolve(periods.get(customerId, periodKey));
    },
    seedPeriodBytes(customerId, periodKey, bytes) {
      if (periods.get(customerId, periodKey) < bytes || !periods.has(customerId, periodKey))
        periods.set(customerId, periodKey, bytes);
      return Promise.resolve();
    },
    drainUsage() {
      produce();
      return Promise.resolve(hourly.take());
    },

    lockedUntil(customerId) {
      const until = lockouts.get(customerId);
      if (until === undefined) return Promise.resolve(0);
      if (until <= now()) {
        lockouts.delete(customerId);
        return Promise.resolve(0);
      }
      return Promise.resolve(until);
    },
    setLockout(customerId, untilMs) {
      const lifted = untilMs <= now();
      if (lifted) lockouts.delete(customerId);
      else lockouts.set(customerId, untilMs);
      for (const w of lockoutWatchers) {
        try {
          w(customerId, lifted ? 0 : untilMs);
        } catch (err) {
          opts.onHandlerError?.(err);
        }
      }
      return Promise.resolve();
    },

    authFailure(key, limit, windowMs, lockMs) {
      return Promise.resolve(authFailure(key, limit, windowMs, lockMs));
    },
    authLocks() {
      const t = now();
      const out = new Map<string, number>();
      for (const [k, until] of authLocks) if (until > t) out.set(k, until);
      return Promise.resolve(out);
    },
    clearAuthLock(key) {
      authLocks.delete(key);
      authFails.delete(key);
      return Promise.resolve();
    },

    publish(event) {
      for (const h of handlers) {
        try {
          h(event);
        } catch (err) {
          opts.onHandlerError?.(err);
        }
      }
      return Promise.resolve();
    },
    subscribe(handler) {
      // Wrap so the same function subscribed twice gets two independent subscriptions.
      const h = (e: LiveEvent) => handler(e);
      handlers.add(h);
      return () => {
        handlers.delete(h);
      };
    },

    flush() {
      produce();
      return Promise.resolve();
    },
    // Nothing shared to lose: the process's own memory goes only with the process.
    onReset() {
      return () => {};
    },
    onFlush(producer) {
      const p = () => producer();
      producers.add(p);
      return () => {
        producers.delete(p);
      };
    },
    ping() {
      return Promise.resolve();
    },
    close() {
      if (sweep) clearInterval(sweep);
      handlers.clear();
      producers.clear();
      lockoutWatchers.clear();
      return Promise.resolve();
    },
  };
  const feed: LockoutFeed = {
    snapshot() {
      const t = now();
      const out: [number, number][] = [];
      for (const [id, until] of lockouts) if (until > t) out.push([id, until]);
      return out;
    },
    onChange(handler) {
      const h = (id: number, until: number) => handler(id, until);
      lockoutWatchers.add(h);
      return () => {
        lockoutWatchers.delete(h);
      };
    },
  };
  Object.defineProperty(live, FEED, { value: feed });
  return live;
}
