// Plans: the only SQL about plans. Rows are returned as Drizzle infers them;
// services decide what a caller may see.
import { asc, count, eq } from '../orm.ts';
import { customers, plans } from '../schema.ts';
import type { Q } from './types.ts';

export type PlanRow = typeof plans.$inferSelect;
export type PlanInsert = typeof plans.$inferInsert;

export function createPlansRepo(db: Q) {
  return {
    async list(): Promise<PlanRow[]> {
      return db.select().from(plans).orderBy(asc(plans.id));
    },
    async byName(name: string): Promise<PlanRow | undefined> {
      const [row] = await db.select().from(plans).where(eq(plans.name, name)).limit(1);
      return row;
    },
    async byId(id: number): Promise<PlanRow | undefined> {
      const [row] = await db.select().from(plans).where(eq(plans.id, id)).limit(1);
      return row;
    },
    async create(values: PlanInsert): Promise<PlanRow> {
      const [row] = await db.insert(plans).values(values).returning();
      return row;
    },
    /** Inserts unless a plan of that name exists; true when inserted. */
    async createIfMissing(values: PlanInsert): Promise<boolean> {
      const rows = await db.insert(plans).values(values).onConflictDoNothing().returning({ id: plans.id });
      return rows.length > 0;
    },
    async update(id: number, values: Partial<PlanInsert>): Promise<PlanRow | undefined> {
      const [row] = await db
        .update(plans)
        .set({ ...values, updatedAt: new Date() })
        .where(eq(plans.id, id))
        .returning();
      return row;
    },
    async delete(id: number): Promise<boolean> {
      const rows = await db.delete(plans).where(eq(plans.id, id)).returning({ id: plans.id });
      return rows.length > 0;
    },
    async customerCount(id: number): Promise<number> {
      const [row] = await db.select({ n: count() }).from(customers).where(eq(customers.planId, id));
      return Number(row?.n ?? 0);
    },
  };
}

export type PlansRepo = ReturnType<typeof createPlansRepo>;
