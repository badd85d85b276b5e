// Customer portal sessions: a random token (pcs_...) stored as SHA-256, looked
// up by that hash (unique index). A session holds while it has not expired and
// the customer's password is the one it was signed in with (passwordFp), so a
// password change ends every session without a sweep.
import { and, asc, eq, lte, notInArray } from '../orm.ts';
import { customerSessions } from '../schema.ts';
import type { Q } from './types.ts';

export type CustomerSessionRow = typeof customerSessions.$inferSelect;
export type CustomerSessionInsert = typeof customerSessions.$inferInsert;

export function createSessionsRepo(db: Q) {
  return {
    async create(values: CustomerSessionInsert): Promise<CustomerSessionRow> {
      const [row] = await db.insert(customerSessions).values(values).returning();
      return row;
    },
    async byHash(hash: string): Promise<CustomerSessionRow | undefined> {
      const [row] = await db
        .select()
        .from(customerSessions)
        .where(eq(customerSessions.tokenHash, hash))
        .limit(1);
      return row;
    },
    async delete(hash: string): Promise<boolean> {
      const rows = await db
        .delete(customerSessions)
        .where(eq(customerSessions.tokenHash, hash))
        .returning({ id: customerSessions.id });
      return rows.length > 0;
    },
    /** Drops the customer's expired sessions and all but the newest `keep`. */
    async prune(customerId: number, now: Date, keep: number): Promise<void> {
      await db
        .delete(customerSessions)
        .where(and(eq(customerSessions.customerId, customerId), lte(customerSessions.expiresAt, now)));
      const rows = await db
        .select({ id: customerSessions.id })
        .from(customerSessions)
        .where(eq(customerSessions.customerId, customerId))
        .orderBy(asc(customerSessions.id));
      if (rows.length <= keep) return;
      const kept = rows.slice(rows.length - keep).map((r) => r.id);
      await db
        .delete(customerSessions)
        .where(and(eq(customerSessions.customerId, customerId), notInArray(customerSessions.id, kept)));
    },
  };
}

export type SessionsRepo = ReturnType<typeof createSessionsRepo>;
