// What the gateway reads from the store: customers compiled with their plan
// and whitelist into CustomerPolicy objects, and upstreams with decrypted
// credentials. Loaded at start and on change events; never per connection.
import type {
  CustomerPolicy,
  CustomerStatus,
  QuotaPeriod,
  StrikeMode,
  UpstreamTarget,
} from '../../domain/policy.ts';
import type { Db } from '../db.ts';
import { eq, inArray } from '../orm.ts';
import { customerIps, customers, plans, upstreams } from '../schema.ts';
import type { Cipher } from '../secrets.ts';

export interface LoadedCustomer {
  policy: CustomerPolicy;
  /** whitelisted CIDR texts that have not expired */
  cidrs: string[];
}

const ms = (d: Date | null): number => (d ? d.getTime() : 0);

type CustomerRow = typeof customers.$inferSelect;
type PlanRow = typeof plans.$inferSelect;

/** One customer and its plan as the enforcement points and the API see them. */
export function compilePolicy(c: CustomerRow, p: PlanRow): CustomerPolicy {
  return {
    customerId: c.id,
    username: c.username,
    passwordHash: c.passwordHash,
    planId: p.id,
    planName: p.name,
    status: c.status as CustomerStatus,
    bannedUntil: ms(c.bannedUntil),
    expiresAt: ms(c.expiresAt),
    startOnFirstUse: c.startOnFirstUse,
    firstUsedAt: ms(c.firstUsedAt),
    periodAnchor: ms(c.periodAnchor),
    limits: {
      threads: p.threads,
      strikeMode: p.strikeMode as StrikeMode,
      threadsHardCap: p.threadsHardCap ?? p.threads,
      strikeWindowSec: p.strikeWindowSec,
      lockoutSec: p.lockoutSec,
      rps: p.rps,
      bandwidth: p.bandwidth ?? 0,
      connBandwidth: p.connBandwidth ?? 0,
      ipMaxConns: p.ipMaxConns ?? 0,
      ipRps: p.ipRps ?? 0,
      quotaBytes: p.quotaBytes ?? 0,
      quotaPeriod: p.quotaPeriod as QuotaPeriod,
    },
  };
}

/** Customers with plan and live whitelist entries; all of them, or only `ids`. */
export async function loadCustomerPolicies(
  db: Db,
  ids?: number[],
  nowMs = Date.now(),
): Promise<LoadedCustomer[]> {
  if (ids && ids.length === 0) return [];
  const rows = await db
    .select({ c: customers, p: plans })
    .from(customers)
    .innerJoin(plans, eq(customers.planId, plans.id))
    .where(ids ? inArray(customers.id, ids) : undefined);
  const ipRows = await db
    .select({ customerId: customerIps.customerId, cidr: customerIps.cidr, expiresAt: customerIps.expiresAt })
    .from(customerIps)
    .where(ids ? inArray(customerIps.customerId, ids) : undefined);
  const byId = new Map<number, LoadedCustomer>();
  for (const { c, p } of rows) byId.set(c.id, { policy: compilePolicy(c, p), cidrs: [] });
  for (const ip of ipRows) {
    if (ip.expiresAt && ip.expiresAt.getTime() <= nowMs) continue;
    byId.get(ip.customerId)?.cidrs.push(ip.cidr);
  }
  return [...byId.values()];
}

export async function customerIdsOfPlan(db: Db, planId: number): Promise<number[]> {
  const rows = await db.select({ id: customers.id }).from(customers).where(eq(customers.planId, planId));
  return rows.map((r) => r.id);
}

/** Every upstream with its bound port and decrypted credentials. */
export async function loadUpstreams(db: Db, cipher: Cipher): Promise<UpstreamTarget[]> {
  const rows = await db.select().from(upstreams);
  return rows.map((u) => ({
    id: u.id,
    protocol: u.protocol as UpstreamTarget['protocol'],
    host: u.host,
    port: u.port,
    username: u.usernameEnc ? cipher.decrypt(u.usernameEnc) : null,
    password: u.passwordEnc ? cipher.decrypt(u.passwordEnc) : null,
    boundPort: u.boundPort,
    health: u.health as UpstreamTarget['health'],
  }));
}

export interface HealthRecord {
  health: 'up' | 'down';
  latencyMs: number | null;
  failures: number;
  lastError: string | null;
  checkedAt: Date;
}

export async function recordUpstreamHealth(db: Db, id: number, h: HealthRecord): Promise<void> {
  await db
    .update(upstreams)
    .set({
      health: h.health,
      latencyMs: h.latencyMs,
      failures: h.failures,
      lastError: h.lastError,
      lastCheckedAt: h.checkedAt,
    })
    .where(eq(upstreams.id, id));
}
