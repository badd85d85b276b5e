// Key/value settings (JSON values): first-run markers and operator switches.
import { eq } from '../orm.ts';
import { settings } from '../schema.ts';
import type { Q } from './types.ts';

export function createSettingsRepo(db: Q) {
  return {
    async get<T = unknown>(key: string): Promise<T | undefined> {
      const [row] = await db.select().from(settings).where(eq(settings.key, key)).limit(1);
      return row?.value as T | undefined;
    },
    /** Sets the value unless the key exists; true when set. */
    async setIfMissing(key: string, value: unknown): Promise<boolean> {
      const rows = await db
        .insert(settings)
        .values({ key, value })
        .onConflictDoNothing()
        .returning({ key: settings.key });
      return rows.length > 0;
    },
    async set(key: string, value: unknown): Promise<void> {
      await db
        .insert(settings)
        .values({ key, value })
        .onConflictDoUpdate({ target: settings.key, set: { value, updatedAt: new Date() } });
    },
  };
}
