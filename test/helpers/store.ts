// A fresh, migrated store per test: a new database on the PostgreSQL server
// when DATABASE_URL is set (dropped afterwards), else an in-memory PGlite
// cloned from a migrated template (initdb in WASM costs ~5 s; a clone ~0.3 s).
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openStore, type Store } from '../../src/store/db.ts';

export const DATABASE_URL = process.env.DATABASE_URL || undefined;
export const REDIS_URL = process.env.REDIS_URL || undefined;

let template: Promise<File | Blob> | undefined;

async function pgliteTemplate(): Promise<File | Blob> {
  const s = await openStore({ pgliteDir: 'memory://' });
  const client = (s.db as unknown as { $client: { dumpDataDir(c: 'none'): Promise<File | Blob> } }).$client;
  const dump = await client.dumpDataDir('none');
  await s.close();
  return dump;
}

export interface TestStore extends Store {
  /** the database URL when on PostgreSQL (for child processes) */
  url?: string;
}

/** Opens a fresh store; `kind` forces one (default: PostgreSQL when DATABASE_URL is set). */
export async function openTestStore(kind?: 'pglite' | 'postgres'): Promise<TestStore> {
  const usePg = kind ? kind === 'postgres' : Boolean(DATABASE_URL);
  if (usePg) {
    if (!DATABASE_URL) throw new Error('DATABASE_URL is not set');
    const name = `pc_test_${randomBytes(5).toString('hex')}`;
    const admin = new pg.Client({ connectionString: DATABASE_URL });
    await admin.connect();
    await admin.query(`create database ${name}`);
    await admin.end();
    const u = new URL(DATABASE_URL);
    u.pathname = `/${name}`;
    const store = await openStore({ databaseUrl: u.toString(), poolMax: 5 });
    return {
      ...store,
      url: u.toString(),
      async close() {
        await store.close();
        const a = new pg.Client({ connectionString: DATABASE_URL });
        await a.connect();
        await a.query(`drop database if exists ${name} with (force)`);
        await a.end();
      },
    };
  }
  template ??= pgliteTemplate();
  return openStore({ pgliteDir: 'memory://', loadDataDir: await template });
}
