// What the gateway reads from and writes to the store, as one narrow
// interface: the policy cache, the upstream table, the limits (quota seed,
// start-on-first-use), the security event recorders and the health checker
// call these and nothing else of the store. The main thread builds it over
// the store (store-source.ts); a gateway worker thread gets the same
// functions answered by the main thread over its channel (threads/worker.ts),
// since PGlite lives in one thread. This file imports no store code, so a
// worker thread does not load the ORM.
import type { UpstreamTarget } from '../domain/policy.ts';
import type { SecurityEventInsert } from '../store/repos/events.ts';
import type { HealthRecord, LoadedCustomer } from '../store/repos/policies.ts';
import type { UsageSum } from '../store/repos/usage.ts';

export interface GatewaySource {
  /** Customers with plan and whitelist; all of them, or only `ids`. */
  customers(ids?: number[]): Promise<LoadedCustomer[]>;
  customerIdsOfPlan(planId: number): Promise<number[]>;
  /** Every upstream with its bound port and decrypted credentials. */
  upstreams(): Promise<UpstreamTarget[]>;
  recordHealth(upstreamId: number, h: HealthRecord): Promise<void>;
  recordSecurityEvent(e: SecurityEventInsert): Promise<void>;
  recordSecurityEvents(rows: SecurityEventInsert[]): Promise<void>;
  /** The customer's usage in [start, end) (end null: open), from the hourly buckets. */
  usageSum(customerId: number, start: number, end: number | null): Promise<UsageSum>;
  /** True when this call started the customer's clock (store/repos/first-use.ts). */
  startClockOnFirstUse(customerId: number, nowMs: number): Promise<boolean>;
}

/** Names of the functions, for the thread channel. */
export const SOURCE_METHODS = [
  'customers',
  'customerIdsOfPlan',
  'upstreams',
  'recordHealth',
  'recordSecurityEvent',
  'recordSecurityEvents',
  'usageSum',
  'startClockOnFirstUse',
] as const satisfies readonly (keyof GatewaySource)[];
