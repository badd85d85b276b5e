// Usage accumulation shared by memory.ts and redis.ts. Hourly: one mutable
// delta per customer for the hour it is counting now, so a hot-path add is a
// Map lookup and four additions; a new object only when the hour turns.
// Period counters: bytes per customer and period key (memory: the totals;
// redis: the increments not yet flushed).
import type { UsageDelta } from './live.ts';

export const HOUR_MS = 3_600_000;

export interface Hourly {
  add(customerId: number, bytesUp: number, bytesDown: number, connections: number, requests: number): void;
  /** Hands over every delta counted so far and forgets them. */
  take(): UsageDelta[];
  readonly empty: boolean;
}

export function createHourly(now: () => number): Hourly {
  const current = new Map<number, UsageDelta>();
  /** deltas of hours that ended before take() ran */
  const done: UsageDelta[] = [];
  return {
    add(customerId, bytesUp, bytesDown, connections, requests) {
      const t = now();
      let d = current.get(customerId);
      if (d === undefined || t < d.hour || t >= d.hour + HOUR_MS) {
        if (d !== undefined) done.push(d);
        d = { customerId, hour: t - (t % HOUR_MS), bytesUp: 0, bytesDown: 0, connections: 0, requests: 0 };
        current.set(customerId, d);
      }
      d.bytesUp += bytesUp;
      d.bytesDown += bytesDown;
      d.connections += connections;
      d.requests += requests;
    },
    take() {
      const out = done.splice(0, done.length);
      for (const d of current.values()) out.push(d);
      current.clear();
      return out;
    },
    get empty() {
      return current.size === 0 && done.length === 0;
    },
  };
}

export interface PeriodCounters {
  add(customerId: number, periodKey: string, bytes: number): void;
  get(customerId: number, periodKey: string): number;
  has(customerId: number, periodKey: string): boolean;
  set(customerId: number, periodKey: string, bytes: number): void;
  /** Every (customer, key, bytes) triple, then forgets them all. */
  take(): Array<[number, string, number]>;
  readonly empty: boolean;
}

/** Keeps at most two period keys per customer: the current one and the one just ended. */
export function createPeriodCounters(): PeriodCounters {
  const byCustomer = new Map<number, Map<string, number>>();
  function slot(customerId: number): Map<string, number> {
    let p = byCustomer.get(customerId);
    if (p === undefined) {
      p = new Map();
      byCustomer.set(customerId, p);
    }
    return p;
  }
  function set(p: Map<string, number>, periodKey: string, bytes: number): void {
    if (p.size >= 2 && !p.has(periodKey)) p.delete(p.keys().next().value as string);
    p.set(periodKey, bytes);
  }
  return {
    add(customerId, periodKey, bytes) {
      const p = slot(customerId);
      set(p, periodKey, (p.get(periodKey) ?? 0) + bytes);
    },
    get(customerId, periodKey) {
      return byCustomer.get(customerId)?.get(periodKey) ?? 0;
    },
    has(customerId, periodKey) {
      return byCustomer.get(customerId)?.has(periodKey) ?? false;
    },
    set(customerId, periodKey, bytes) {
      set(slot(customerId), periodKey, bytes);
    },
    take() {
      const out: Array<[number, string, number]> = [];
      for (const [cid, p] of byCustomer) for (const [k, v] of p) out.push([cid, k, v]);
      byCustomer.clear();
      return out;
    },
    get empty() {
      return byCustomer.size === 0;
    },
  };
}
