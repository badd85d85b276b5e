// Live state as a gateway worker thread sees it: the main thread's live state
// (memory or Redis), reached over the thread's channel. Thread counts, token
// buckets, lock-outs and credential failures are decided there, so they hold
// for the whole process exactly as with one thread.
//
// Usage is counted here and handed over at least once a second (and before
// every periodBytes read and on flush()), so the main thread's hourly buckets
// and quota counters lag a worker by at most a second.
//
// Customer lock-outs, with memory live state, are a mirror kept here (a
// snapshot at start, then every change the main thread sends): lockedUntil()
// answers without a call. With Redis it asks the main thread, whose own
// mirror (redis.ts) may be incomplete while it reconnects.
import type { AuthFailure, LiveEvent, LiveState, UsageDelta } from '../../live/live.ts';
import type { Channel } from './channel.ts';

export interface ThreadLive extends LiveState {
  /** The main thread forwards live events here (handlers run as for any live state). */
  deliver(event: LiveEvent): void;
  /** The main thread's live state lost what it held (Redis restarted empty). */
  reset(): void;
  /** A lock-out changed on the main thread (end 0: lifted); only sent when this thread mirrors them. */
  mirrorLockout(customerId: number, untilMs: number): void;
}

interface Pending {
  customerId: number;
  periodKey: string;
  up: number;
  down: number;
  connections: number;
  requests: number;
}

export function createThreadLive(opts: {
  channel: Channel;
  kind: LiveState['kind'];
  /** the main thread's lock-outs to mirror (memory live state), or null to ask for each */
  lockouts?: [number, number][] | null;
  onHandlerError: (err: unknown) => void;
  /** how often counted usage goes to the main thread (ms); default 1000 */
  pushMs?: number;
}): ThreadLive {
  const ch = opts.channel;
  const handlers = new Set<(e: LiveEvent) => void>();
  const producers = new Set<() => void>();
  const resets = new Set<() => void>();
  let pending = new Map<string, Pending>();
  const mirror = opts.lockouts ? new Map(opts.lockouts) : null;

  /** Queues counted usage ahead of whatever is sent next (messages keep their order). */
  function sendUsage(): void {
    if (pending.size === 0) return;
    const flat: (number | string)[] = [];
    for (const p of pending.values())
      flat.push(p.customerId, p.periodKey, p.up, p.down, p.connections, p.requests);
    pending = new Map();
    ch.send('addUsage', [flat]);
  }

  /** Runs every handler of `list`; one that throws is reported and the others still run. */
  function run<T>(list: Set<T>, call: (h: T) => void): void {
    for (const h of list) {
      try {
        call(h);
      } catch (err) {
        opts.onHandlerError(err);
      }
    }
  }
  const produce = (): void => run(producers, (p) => p());

  const timer = setInterval(() => {
    produce();
    sendUsage();
  }, opts.pushMs ?? 1000);
  timer.unref();

  return {
    kind: opts.kind,
    // Read on the main thread (/metrics, /readyz), which owns the connection to Redis.
    degraded: false,
    acquireThread: (customerId, cap) => ch.call<number>('acquireThread', [customerId, cap]),
    releaseThread: (customerId) => ch.send('releaseThread', [customerId]),
    threads: (customerId) => ch.call<number>('threads', [customerId]),
    takeTokens: (key, rate, burst, n = 1) => ch.call<boolean>('takeTokens', [key, rate, burst, n]),
    addUsage(customerId, periodKey, bytesUp, bytesDown, connections, requests) {
      const k = `${customerId}|${periodKey}`;
      let p = pending.get(k);
      if (p === undefined) {
        p = { customerId, periodKey, up: 0, down: 0, connections: 0, requests: 0 };
        pending.set(k, p);
      }
      p.up += bytesUp;
      p.down += bytesDown;
      p.connections += connections;
      p.requests += requests;
    },
    periodBytes(customerId, periodKey) {
      sendUsage();
      return ch.call<number>('periodBytes', [customerId, periodKey]);
    },
    seedPeriodBytes: (customerId, periodKey, bytes) =>
      ch.call<void>('seedPeriodBytes', [customerId, periodKey, bytes]),
    drainUsage(): Promise<UsageDelta[]> {
      return Promise.reject(new Error('usage is drained on the main thread'));
    },
    lockedUntil(customerId) {
      if (mirror === null) return ch.call<number>('lockedUntil', [customerId]);
      const until = mirror.get(customerId);
      if (until === undefined) return Promise.resolve(0);
      if (until > Date.now()) return Promise.resolve(until);
      mirror.delete(customerId);
      return Promise.resolve(0);
    },
    setLockout: (customerId, untilMs) => ch.call<void>('setLockout', [customerId, untilMs]),
    mirrorLockout(customerId, untilMs) {
      if (mirror === null) return;
      if (untilMs > 0) mirror.set(customerId, untilMs);
      else mirror.delete(customerId);
    },
    authFailure: (key, limit, windowMs, lockMs) =>
      ch.call<AuthFailure>('authFailure', [key, limit, windowMs, lockMs]),
    authLocks: () => ch.call<Map<string, number>>('authLocks', []),
    clearAuthLock: (key) => ch.call<void>('clearAuthLock', [key]),
    publish: (event) => ch.call<void>('publish', [event]),
    subscribe(handler) {
      const h = (e: LiveEvent) => handler(e);
      handlers.add(h);
      return () => {
        handlers.delete(h);
      };
    },
    deliver(event) {
      run(handlers, (h) => h(event));
    },
    reset() {
      run(resets, (h) => h());
    },
    async flush() {
      produce();
      sendUsage();
      // Answered after the usage above was applied: the main thread holds it now.
      await ch.call('ping', []);
    },
    onFlush(producer) {
      const p = () => producer();
      producers.add(p);
      return () => {
        producers.delete(p);
      };
    },
    onReset(handler) {
      const h = () => handler();
      resets.add(h);
      return () => {
        resets.delete(h);
      };
    },
    ping: () => ch.call<void>('ping', []),
    async close() {
      clearInterval(timer);
      handlers.clear();
      producers.clear();
      resets.clear();
    },
  };
}
