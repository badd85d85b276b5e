// Customers and their IP whitelist entries: the only SQL about them. The API
// key is looked up by its SHA-256 (unique index), never by scanning or scrypt,
// so /api/proxies.php stays one indexed lookup per request.
import { and, asc, count, eq, ilike, inArray, type SQL } from '../orm.ts';
import { customerIps, customers, plans } from '../schema.ts';
import type { PlanRow } from './plans.ts';
import type { Q } from './types.ts';

export type CustomerRow = typeof customers.$inferSelect;
export type CustomerInsert = typeof customers.$inferInsert;
export type CustomerIpRow = typeof customerIps.$inferSelect;
export interface CustomerWithPlan {
  customer: CustomerRow;
  plan: PlanRow;
}

export interface ListFilter {
  planId?: number;
  status?: string;
  /** part of the username, case-insensitive */
  q?: string;
  limit: number;
  offset: number;
}

export function createCustomersRepo(db: Q) {
  const withPlan = () =>
    db
      .select({ customer: customers, plan: plans })
      .from(customers)
      .innerJoin(plans, eq(plans.id, customers.planId));

  return {
    async create(values: CustomerInsert): Promise<CustomerRow> {
      const [row] = await db.insert(customers).values(values).returning();
      return row;
    },
    async byUsername(username: string): Promise<CustomerWithPlan | undefined> {
      const [row] = await withPlan().where(eq(customers.username, username)).limit(1);
      return row;
    },
    async byId(id: number): Promise<CustomerWithPlan | undefined> {
      const [row] = await withPlan().where(eq(customers.id, id)).limit(1);
      return row;
    },
    async byApiKeyHash(hash: string): Promise<CustomerWithPlan | undefined> {
      const [row] = await withPlan().where(eq(customers.apiKeyHash, hash)).limit(1);
      return row;
    },
    async list(f: ListFilter): Promise<{ items: CustomerWithPlan[]; total: number }> {
      const conds: SQL[] = [];
      if (f.planId !== undefined) conds.push(eq(customers.planId, f.planId));
      if (f.status !== undefined) conds.push(eq(customers.status, f.status));
      if (f.q !== undefined) conds.push(ilike(customers.username, `%${f.q.replace(/[\\%_]/g, '\\$&')}%`));
      const where = conds.length ? and(...conds) : undefined;
      const items = await withPlan().where(where).orderBy(asc(customers.id)).limit(f.limit).offset(f.offset);
      const [t] = await db.select({ n: count() }).from(customers).where(where);
      return { items, total: Number(t?.n ?? 0) };
    },
    async update(id: number, values: Partial<CustomerInsert>): Promise<CustomerRow | undefined> {
      const [row] = await db
        .update(customers)
        .set({ ...values, updatedAt: new Date() })
        .where(eq(customers.id, id))
        .returning();
      return row;
    },
    async delete(id: number): Promise<boolean> {
      const rows = await db.delete(customers).where(eq(customers.id, id)).returning({ id: customers.id });
      return rows.length > 0;
    },

    // IP whitelist
    async ips(customerId: number): Promise<CustomerIpRow[]> {
      return db
        .select()
        .from(customerIps)
        .where(eq(customerIps.customerId, customerId))
        .orderBy(asc(customerIps.id));
    },
    async ipsOf(customerIds: number[]): Promise<CustomerIpRow[]> {
      if (customerIds.length === 0) return [];
      return db.select().from(customerIps).where(inArray(customerIps.customerId, customerIds));
    },
    async allIps(): Promise<CustomerIpRow[]> {
      return db.select().from(customerIps);
    },
    async ipOwner(cidr: string): Promise<CustomerIpRow | undefined> {
      const [row] = await db.select().from(customerIps).where(eq(customerIps.cidr, cidr)).limit(1);
      return row;
    },
    async addIp(values: typeof customerIps.$inferInsert): Promise<CustomerIpRow> {
      const [row] = await db.insert(customerIps).values(values).returning();
      return row;
    },
    async removeIp(customerId: number, cidr: string): Promise<boolean> {
      const rows = await db
        .delete(customerIps)
        .where(and(eq(customerIps.customerId, customerId), eq(customerIps.cidr, cidr)))
        .returning({ id: customerIps.id });
      return rows.length > 0;
    },
  };
}

export type CustomersRepo = ReturnType<typeof createCustomersRepo>;
