// A migrated, empty PGlite data directory on disk, made fast: initdb in WASM
// takes 10-40 s on a busy 2-core machine, so the bench dumps one migrated data
// directory once (from the test template, test/helpers/store.ts) into
// bench/.build, keyed by the migrations' content, and unpacks it with tar.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { openTestStore } from '../../test/helpers/store.ts';

const BUILD = path.resolve(import.meta.dirname, '..', '.build');
const MIGRATIONS = path.resolve(import.meta.dirname, '..', '..', 'src', 'store', 'migrations');

async function emptyPgdataTar(): Promise<string> {
  const h = createHash('sha256');
  for (const f of readdirSync(MIGRATIONS).sort())
    if (f.endsWith('.sql')) h.update(readFileSync(path.join(MIGRATIONS, f)));
  const file = path.join(BUILD, `pgdata-${h.digest('hex').slice(0, 16)}.tar`);
  if (existsSync(file)) return file;
  const store = await openTestStore('pglite');
  try {
    const client = (store.db as unknown as { $client: { dumpDataDir(c: 'none'): Promise<Blob> } }).$client;
    const dump = await client.dumpDataDir('none');
    mkdirSync(BUILD, { recursive: true });
    // Write then rename: two bench processes never read a half-written file.
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, Buffer.from(await dump.arrayBuffer()));
    renameSync(tmp, file);
  } finally {
    await store.close();
  }
  return file;
}

/** Creates `pgdata` (must not exist yet) as a migrated, empty PGlite data directory. */
export async function freshPgliteDir(pgdata: string): Promise<void> {
  const tar = await emptyPgdataTar();
  mkdirSync(pgdata, { recursive: true });
  // Members are absolute (/base/..., /global/...); tar strips the leading slash.
  execFileSync('tar', ['-xf', tar, '-C', pgdata], { stdio: ['ignore', 'ignore', 'pipe'] });
}
