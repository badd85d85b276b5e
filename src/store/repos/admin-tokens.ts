// Admin tokens: stored as SHA-256 of a 192-bit random value, found by that hash.
import { asc, eq, isNull } from '../orm.ts';
import { adminTokens } from '../schema.ts';
import type { Q } from './types.ts';

export type AdminTokenRow = typeof adminTokens.$inferSelect;
export type AdminTokenInsert = typeof adminTokens.$inferInsert;

export function createAdminTokensRepo(db: Q) {
  return {
    async create(values: AdminTokenInsert): Promise<AdminTokenRow> {
      const [row] = await db.insert(adminTokens).values(values).returning();
      return row;
    },
    async byHash(hash: string): Promise<AdminTokenRow | undefined> {
      const [row] = await db.select().from(adminTokens).where(eq(adminTokens.tokenHash, hash)).limit(1);
      return row;
    },
    async byId(id: number): Promise<AdminTokenRow | undefined> {
      const [row] = await db.select().from(adminTokens).where(eq(adminTokens.id, id)).limit(1);
      return row;
    },
    async list(): Promise<AdminTokenRow[]> {
      return db.select().from(adminTokens).orderBy(asc(adminTokens.id));
    },
    async active(): Promise<AdminTokenRow[]> {
      return db.select().from(adminTokens).where(isNull(adminTokens.revokedAt));
    },
    async revoke(id: number): Promise<AdminTokenRow | undefined> {
      const [row] = await db
        .update(adminTokens)
        .set({ revokedAt: new Date() })
        .where(eq(adminTokens.id, id))
        .returning();
      return row;
    },
    async touch(id: number, at: Date): Promise<void> {
      await db.update(adminTokens).set({ lastUsedAt: at }).where(eq(adminTokens.id, id));
    },
  };
}

export type AdminTokensRepo = ReturnType<typeof createAdminTokensRepo>;
