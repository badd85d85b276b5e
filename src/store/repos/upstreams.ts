// Upstreams and their bound ports: the only SQL about them. Inserts are
// batched (one statement per 500 rows) so a 1,000-line import is two round trips.
import { asc, eq, inArray, sql } from '../orm.ts';
import { upstreams } from '../schema.ts';
import type { Q } from './types.ts';

export type UpstreamRow = typeof upstreams.$inferSelect;
export type UpstreamInsert = typeof upstreams.$inferInsert;

const BATCH = 500;
/** Any constant works; it only has to be the same for every importer. */
const IMPORT_LOCK = 0x70637570;

export function createUpstreamsRepo(db: Q) {
  return {
    async list(): Promise<UpstreamRow[]> {
      return db.select().from(upstreams).orderBy(asc(upstreams.boundPort));
    },
    async byId(id: number): Promise<UpstreamRow | undefined> {
      const [row] = await db.select().from(upstreams).where(eq(upstreams.id, id)).limit(1);
      return row;
    },
    async byIdentities(ids: string[]): Promise<{ identity: string; boundPort: number }[]> {
      const out: { identity: string; boundPort: number }[] = [];
      for (let i = 0; i < ids.length; i += BATCH) {
        const part = ids.slice(i, i + BATCH);
        out.push(
          ...(await db
            .select({ identity: upstreams.identity, boundPort: upstreams.boundPort })
            .from(upstreams)
            .where(inArray(upstreams.identity, part))),
        );
      }
      return out;
    },
    async boundPorts(): Promise<number[]> {
      const rows = await db.select({ p: upstreams.boundPort }).from(upstreams);
      return rows.map((r) => r.p);
    },
    async insertMany(rows: UpstreamInsert[]): Promise<void> {
      for (let i = 0; i < rows.length; i += BATCH)
        await db.insert(upstreams).values(rows.slice(i, i + BATCH));
    },
    async delete(id: number): Promise<UpstreamRow | undefined> {
      const [row] = await db.delete(upstreams).where(eq(upstreams.id, id)).returning();
      return row;
    },
    /** Serialises imports (inside a transaction) so two cannot pick the same free ports. */
    async lockForImport(): Promise<void> {
      await db.execute(sql`select pg_advisory_xact_lock(${IMPORT_LOCK})`);
    },
  };
}

export type UpstreamsRepo = ReturnType<typeof createUpstreamsRepo>;
