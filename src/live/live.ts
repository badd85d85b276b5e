// Live state: what enforcement points share between processes. One interface,
// two implementations: memory.ts (embedded default, exact within one process)
// and redis.ts (REDIS_URL; atomic Lua where counts must be exact across
// processes). live.contract.test.ts runs the same suite against both.
//
// Hot-path calls (acquireThread, releaseThread, takeTokens, addBytes) must not
// allocate per call beyond what the implementation strictly needs, and
// addBytes never awaits: increments are batched and flushed at most 1 s later.

export type LiveEvent =
  /** close every live socket of the customer, on every process */
  | { type: 'kick'; customerId: number; reason: string }
  /** close one connection by id (admin "kick one" in the live view) */
  | { type: 'kick-conn'; connId: string }
  /** the customer's policy changed (password, plan, ips, status, expiry): reload it */
  | { type: 'customer'; customerId: number }
  /** a plan changed: reload every customer on it */
  | { type: 'plan'; planId: number }
  /** upstreams were imported, removed or changed: rebind ports */
  | { type: 'upstreams' }
  /** a credential lock-out was set (`until` ms since epoch) or lifted (`until` 0); key as in authFailure */
  | { type: 'auth-lock'; key: string; until: number };

/** What authFailure() answers: the lock end (ms since epoch, 0 = not locked) and whether this call set it. */
export interface AuthFailure {
  until: number;
  fresh: boolean;
}

export interface UsageDelta {
  customerId: number;
  /** start of the hour (ms since epoch, UTC) the bytes fell into */
  hour: number;
  bytesUp: number;
  bytesDown: number;
  connections: number;
  requests: number;
}

export interface LiveState {
  readonly kind: 'memory' | 'redis';
  /**
   * True while the shared backend is unreachable and limits hold per process
   * (redis.ts falls back to in-memory counting; for /metrics and /readyz).
   * Always false for memory.
   */
  readonly degraded: boolean;

  /**
   * Takes one connection slot ("thread") of the customer if fewer than `cap`
   * are held across all processes (cap <= 0: no limit). Resolves to the count
   * after taking, or -1 when refused (nothing taken).
   */
  acquireThread(customerId: number, cap: number): Promise<number>;
  /** Gives one slot back. Never awaits; a lost process's slots are released by expiry. */
  releaseThread(customerId: number): void;
  /** Slots held now, across all processes. */
  threads(customerId: number): Promise<number>;

  /**
   * Token bucket under `key` (e.g. `rps:42`, `ip:1.2.3.4`): refills `rate`
   * tokens/s up to `burst`; takes `n` (default 1) if available. Resolves true
   * when taken.
   */
  takeTokens(key: string, rate: number, burst: number, n?: number): Promise<boolean>;

  /**
   * Counts usage of the customer: into the hourly buckets handed to the store
   * by drainUsage(), and into the quota counter of `periodKey` (computed by
   * domain/quota-period.ts; a new key starts at zero, which is the reset).
   * Never awaits; batched, flushed at most 1 s later.
   */
  addUsage(
    customerId: number,
    periodKey: string,
    bytesUp: number,
    bytesDown: number,
    connections: number,
    requests: number,
  ): void;
  /** Bytes (up + down) counted in the period, across processes, including unflushed local increments. */
  periodBytes(customerId: number, periodKey: string): Promise<number>;
  /**
   * Raises a period counter to at least `bytes` (the store's total for the
   * period, a lower bound of the truth), never lowers it: after a restart of
   * the process (memory) or of an empty Redis the counter starts from the store.
   */
  seedPeriodBytes(customerId: number, periodKey: string, bytes: number): Promise<void>;
  /** Hands over (and forgets) the hourly usage counted so far, for the store. */
  drainUsage(): Promise<UsageDelta[]>;

  /** Lock-out end (ms since epoch) or 0 when none. */
  lockedUntil(customerId: number): Promise<number>;
  setLockout(customerId: number, untilMs: number): Promise<void>;

  /**
   * Counts one failed authentication under `key` (`ip:<address>`, `u:<username>`)
   * in a fixed window of `windowMs` that starts at the key's first failure. The
   * `limit`-th failure locks the key for `lockMs` and forgets the count. While
   * the key is locked, nothing is counted and the lock end is answered.
   */
  authFailure(key: string, limit: number, windowMs: number, lockMs: number): Promise<AuthFailure>;
  /** Credential lock-outs in force now (key -> end, ms since epoch), for a starting process. */
  authLocks(): Promise<Map<string, number>>;
  /** Lifts the lock-out of `key` and forgets its failures. */
  clearAuthLock(key: string): Promise<void>;

  publish(event: LiveEvent): Promise<void>;
  /** Handlers run for events published by any process, including this one. */
  subscribe(handler: (event: LiveEvent) => void): () => void;

  /** Pushes batched increments now (graceful stop, tests). */
  flush(): Promise<void>;
  /**
   * Registers a producer run synchronously at the start of every flush (the
   * periodic one and explicit ones) and of every drainUsage(): it adds what
   * it counted elsewhere (the gateway's socket counters), so each flush
   * carries every byte up to that instant. Returns the unregister function.
   */
  onFlush(producer: () => void): () => void;
  /**
   * Registers a handler run when the shared backend lost what it held (a
   * Redis that restarted empty): counters seeded from the store must be
   * seeded again. Memory never calls it. Returns the unregister function.
   */
  onReset(handler: () => void): () => void;
  /** Throws when the backing service does not answer. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
