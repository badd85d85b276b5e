// Seeds `portcullis up` data directories for bench/ports.ts: a migrated PGlite
// on disk, first-run bootstrap done (so the measured start-up does not do it),
// and one `direct` upstream bound to each given port. One process seeds them
// all, so PGlite's WASM is compiled once.
//   node bench/ports-child.ts DATA_DIR PORT[,PORT...] [DATA_DIR PORT[,PORT...]...]
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { bootstrap } from '../src/bootstrap.ts';
import { loadConfig } from '../src/config.ts';
import { openStore } from '../src/store/db.ts';
import { upstreams } from '../src/store/schema.ts';
import { loadSecretKey } from '../src/store/secrets.ts';
import { freshPgliteDir } from './lib/pgdata.ts';

const args = process.argv.slice(2);
if (args.length < 2 || args.length % 2) throw new Error('usage: ports-child.ts DATA_DIR PORT[,PORT...] ...');
for (let a = 0; a < args.length; a += 2) await seed(args[a], args[a + 1].split(',').map(Number));

async function seed(dataDir: string, ports: number[]): Promise<void> {
  const pgdata = path.join(dataDir, 'pgdata');
  await freshPgliteDir(pgdata);
  const store = await openStore({ pgliteDir: pgdata });
  try {
    const config = loadConfig({ PORTCULLIS_DATA_DIR: dataDir, PORTCULLIS_LOG_LEVEL: 'silent' });
    await bootstrap({ config, store });
    loadSecretKey(dataDir, undefined);
    for (let i = 0; i < ports.length; i += 500) {
      await store.db.insert(upstreams).values(
        ports.slice(i, i + 500).map((boundPort) => ({
          protocol: 'direct' as const,
          host: '',
          port: 0,
          identity: randomBytes(8).toString('hex'),
          boundPort,
        })),
      );
    }
  } finally {
    await store.close();
  }
}
