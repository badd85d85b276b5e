// Concurrent connections per (customer, client IP): one count for the whole
// gateway process. The main thread holds the counts (createIpSlots) and
// answers its worker threads over their channel (threads/hub.ts), so a
// customer's per-IP cap holds across threads, not per thread.
export interface IpSlots {
  /** Takes one slot under `key` if fewer than `max` are held: true when taken. */
  take(key: string, max: number): boolean | Promise<boolean>;
  /** Gives one slot back. */
  give(key: string): void;
}

export interface LocalIpSlots extends IpSlots {
  take(key: string, max: number): boolean;
  /** keys with a slot held (tests) */
  readonly size: number;
}

export function createIpSlots(): LocalIpSlots {
  const held = new Map<string, number>();
  return {
    take(key, max) {
      // Checked and taken in one synchronous step: exact, whichever thread asks.
      const n = held.get(key) ?? 0;
      if (n >= max) return false;
      held.set(key, n + 1);
      return true;
    },
    give(key) {
      const n = held.get(key) ?? 0;
      if (n <= 1) held.delete(key);
      else held.set(key, n - 1);
    },
    get size() {
      return held.size;
    },
  };
}
