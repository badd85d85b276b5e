// What the gateway reads from and writes to the store, as one narrow
// interface: the policy cache, the upstream table, the limits (quota seed,
// start-on-first-use), the security event recorders and the health checker
// call these and nothing else of the store. The main thread builds it over
// the store (storeSource); a gateway worker thread gets the same functions
// answered by the main thread over its channel (threads/worker.ts), since
// PGlite lives in one thread only.
import type { UpstreamTarget } from '../domain/policy.ts';
import type { Store } from '../store/db.ts';
import { createSecurityEventsRepo, type SecurityEventInsert } from '../store/repos/events.ts';
import { startClockOnFirstUse } from '../store/repos/first-use.ts';
import {
  customerIdsOfPlan,
  type HealthRecord,
  type LoadedCustomer,
  loadCustomerPolicies,
  loadUpstreams,
  recordUpstreamHealth,
} from '../store/repos/policies.ts';
import { createUsageRepo, type UsageSum } from '../store/repos/usage.ts';
import type { Cipher } from '../store/secrets.ts';

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

export function storeSource(store: Store, cipher: Cipher): GatewaySource {
  const db = store.db;
  const events = createSecurityEventsRepo(db);
  const usage = createUsageRepo(db);
  return {
    customers: (ids) => loadCustomerPolicies(db, ids),
    customerIdsOfPlan: (planId) => customerIdsOfPlan(db, planId),
    upstreams: () => loadUpstreams(db, cipher),
    recordHealth: (id, h) => recordUpstreamHealth(db, id, h),
    recordSecurityEvent: (e) => events.record(e),
    recordSecurityEvents: (rows) => events.recordMany(rows),
    usageSum: (id, start, end) => usage.sum(id, start, end),
    startClockOnFirstUse: (id, nowMs) => startClockOnFirstUse(db, id, nowMs),
  };
}
