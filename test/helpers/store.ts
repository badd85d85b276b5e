// A fresh, migrated store per test: a new database on the PostgreSQL server
// when DATABASE_URL is set (dropped afterwards), else an in-memory PGlite
// cloned from a migrated template (initdb in WASM costs ~5 s; a clone ~0.3 s).
// The template is kept on disk, keyed by the migrations' content, so each test
// file (its own process under node --test) does not build it again.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { openStore, type Store } from '../../src/store/db.ts';

export const DATABASE_URL = process.env.DATABASE_URL || undefined;
export const REDIS_URL = process.env.REDIS_URL || undefined;

let template: Promise<File | Blob> | undefined;

const MIGRATIONS = fileURLToPath(new URL('../../src/store/migrations', import.meta.url));

function templatePath(): string {
  const h = createHash('sha256');
  for (const f of readdirSync(MIGRATIONS).sort())
    if (f.endsWith('.sql')) h.update(readFileSync(join(MIGRATIONS, f)));
  return join(tmpdir(), `portcullis-pglite-template-${h.digest('hex').slice(0, 16)}.tar`);
}

async function pgliteTemplate(): Promise<File | Blob> {
  const file = templatePath();
  if (existsSync(file)) return new Blob([readFileSync(file)]);
  const s = await openStore({ pgliteDir: 'memory://' });
  const client = (s.db as unknown as { $client: { dumpDataDir(c: 'none'): Promise<File | Blob> } }).$client;
  const dump = await client.dumpDataDir('none');
  await s.close();
  // Write then rename: concurrent test processes never read a half-written file.
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, Buffer.from(await dump.arrayBuffer()));
  renameSync(tmp, file);
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
