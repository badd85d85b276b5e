// "Start on first use": the subscription clock of a customer starts at its
// first admitted connection. One conditional UPDATE, so when several gateway
// processes race, exactly one sets the start and the others change nothing.
import { and, eq, isNull, sql } from '../orm.ts';
import { customers } from '../schema.ts';
import type { Q } from './types.ts';

/**
 * Sets first_used_at = now and, when the plan has a duration, expires_at =
 * now + duration. Resolves to true when this call started the clock, false
 * when it had already started (or the customer is gone).
 */
export async function startClockOnFirstUse(db: Q, customerId: number, nowMs: number): Promise<boolean> {
  const now = new Date(nowMs).toISOString();
  const rows = await db
    .update(customers)
    .set({
      firstUsedAt: sql`${now}::timestamptz`,
      expiresAt: sql`coalesce(${now}::timestamptz + (select p.duration_days from plans p where p.id = ${customers.planId}) * interval '1 day', ${customers.expiresAt})`,
      updatedAt: sql`${now}::timestamptz`,
    })
    .where(and(eq(customers.id, customerId), isNull(customers.firstUsedAt)))
    .returning({ id: customers.id });
  return rows.length > 0;
}
