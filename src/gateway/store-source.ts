// The gateway's store functions (source.ts) over the store itself: what the
// main thread runs, and answers its worker threads with.
import type { Store } from '../store/db.ts';
import { createSecurityEventsRepo } from '../store/repos/events.ts';
import { startClockOnFirstUse } from '../store/repos/first-use.ts';
import {
  customerIdsOfPlan,
  loadCustomerPolicies,
  loadUpstreams,
  recordUpstreamHealth,
} from '../store/repos/policies.ts';
import { createUsageRepo } from '../store/repos/usage.ts';
import type { Cipher } from '../store/secrets.ts';
import type { GatewaySource } from './source.ts';

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
