// Several processes of one deployment (API, jobs, gateways) start together on
// a fresh PostgreSQL database: each opens the store and migrates. Four stores
// opened at once, each over its own pool (as separate processes would), must
// all start, and the schema must be migrated exactly once. Before migrations
// took an advisory lock, all but one failed on "relation already exists".
// PostgreSQL only: PGlite is one process's own database.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { openStore, type Store } from '../../src/store/db.ts';
import { DATABASE_URL } from '../helpers/store.ts';

const MIGRATIONS = fileURLToPath(new URL('../../src/store/migrations', import.meta.url));

const url = DATABASE_URL;
if (url) {
  describe('migrations on a fresh PostgreSQL database', () => {
    it('four stores opened at once all start; every migration is applied once', async () => {
      const name = `pc_test_${randomBytes(5).toString('hex')}`;
      const admin = new pg.Client({ connectionString: url });
      await admin.connect();
      await admin.query(`create database ${name}`);
      const u = new URL(url);
      u.pathname = `/${name}`;
      const stores: Store[] = [];
      try {
        const opened = await Promise.allSettled(
          Array.from({ length: 4 }, () => openStore({ databaseUrl: u.toString(), poolMax: 2 })),
        );
        for (const r of opened) if (r.status === 'fulfilled') stores.push(r.value);
        const failures = opened.flatMap((r) => (r.status === 'rejected' ? [String(r.reason)] : []));
        assert.deepEqual(failures, []);
        const files = readdirSync(MIGRATIONS).filter((f) => f.endsWith('.sql'));
        const c = new pg.Client({ connectionString: u.toString() });
        await c.connect();
        const applied = await c.query('select count(*)::int as n from drizzle.__drizzle_migrations');
        const tables = await c.query(
          "select count(*)::int as n from information_schema.tables where table_schema = 'public' and table_name = 'customers'",
        );
        await c.end();
        assert.equal(applied.rows[0].n, files.length);
        assert.equal(tables.rows[0].n, 1);
        // The lock is released: a fifth start does not wait.
        stores.push(await openStore({ databaseUrl: u.toString(), poolMax: 1 }));
      } finally {
        await Promise.all(stores.map((s) => s.close()));
        await admin.query(`drop database if exists ${name} with (force)`);
        await admin.end();
      }
    });
  });
}
