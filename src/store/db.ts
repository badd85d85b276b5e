// Opens the store: PGlite in DATA_DIR/pgdata by default, PostgreSQL when
// DATABASE_URL is set. Same Drizzle schema and committed migrations on both,
// applied at start. Callers get one `Db` type and never see which it is.
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import {
  drizzlePg,
  drizzlePglite,
  migratePg,
  migratePglite,
  PGlite,
  type PgDatabase,
  type PgQueryResultHKT,
} from './orm.ts';
import * as schema from './schema.ts';

export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;

export interface Store {
  db: Db;
  kind: 'pglite' | 'postgres';
  /** throws when the database does not answer */
  ping(): Promise<void>;
  close(): Promise<void>;
}

const migrationsFolder = join(dirname(fileURLToPath(import.meta.url)), 'migrations');

export interface OpenOptions {
  /** PostgreSQL URL; when absent PGlite is used */
  databaseUrl?: string;
  /** PGlite directory; "memory://" keeps it in memory (tests) */
  pgliteDir?: string;
  /** pool size for PostgreSQL */
  poolMax?: number;
  /** PGlite: start from a dump of a data directory (tests clone a migrated template) */
  loadDataDir?: File | Blob;
}

// Any constant shared by every Portcullis process: the key of the advisory
// lock that serialises migrations on one database.
const MIGRATION_LOCK = 0x70637573; // "pcus"

/**
 * Migrates under a session-level advisory lock. Processes started together on
 * a fresh database (an API and gateways of a multi-process deployment) would
 * otherwise each find the schema missing and race to create it; the loser
 * failed its start on "relation already exists". With the lock the others
 * wait, then find every migration applied.
 */
async function migrateLocked(pool: pg.Pool): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('select pg_advisory_lock($1)', [MIGRATION_LOCK]);
    await migratePg(drizzlePg(client), { migrationsFolder });
  } finally {
    // Unlocking can only fail with the connection gone, which frees the lock too.
    await client.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => {});
    client.release();
  }
}

export async function openStore(opts: OpenOptions): Promise<Store> {
  if (opts.databaseUrl) {
    const pool = new pg.Pool({
      connectionString: opts.databaseUrl,
      max: opts.poolMax ?? 10,
      connectionTimeoutMillis: 3000,
      // A query stuck on a dead server must fail so the API can answer 503.
      query_timeout: 10_000,
    });
    // An idle client losing its server must not crash the process; the pool
    // replaces it on next use, which is how the API recovers without restart.
    pool.on('error', () => {});
    const db = drizzlePg(pool, { schema }) as unknown as Db;
    await migrateLocked(pool);
    return {
      db,
      kind: 'postgres',
      ping: async () => {
        await pool.query('select 1');
      },
      close: () => pool.end(),
    };
  }
  const dir = opts.pgliteDir ?? 'memory://';
  if (!dir.startsWith('memory://')) mkdirSync(dir, { recursive: true });
  const client = await PGlite.create(dir, opts.loadDataDir ? { loadDataDir: opts.loadDataDir } : {});
  const db = drizzlePglite(client, { schema }) as unknown as Db;
  await migratePglite(drizzlePglite(client), { migrationsFolder });
  return {
    db,
    kind: 'pglite',
    ping: async () => {
      await client.query('select 1');
    },
    close: () => client.close(),
  };
}
