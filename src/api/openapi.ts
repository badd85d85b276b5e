// The OpenAPI document, generated from the route schemas without a database,
// so docs/openapi.json can be committed and checked for drift
// (test/api/openapi.test.ts). Regenerate: `node src/api/openapi.ts --write`.
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { loadConfig } from '../config.ts';
import { createMemoryLive } from '../live/memory.ts';
import type { Db, Store } from '../store/db.ts';
import { createCipher } from '../store/secrets.ts';
import { buildApp } from './app.ts';

export const OPENAPI_FILE = join(dirname(fileURLToPath(import.meta.url)), '../../docs/openapi.json');

export async function openapiDocument(): Promise<string> {
  const store: Store = {
    db: undefined as unknown as Db,
    kind: 'pglite',
    ping: async () => {
      throw new Error('no store: generating the OpenAPI document');
    },
    close: async () => {},
  };
  const live = createMemoryLive();
  const app = await buildApp({
    config: loadConfig({ PORTCULLIS_PUBLIC_HOST: 'localhost' }),
    store,
    live,
    cipher: createCipher(randomBytes(32)),
    log: pino({ level: 'silent' }),
  });
  await app.ready();
  const doc = `${JSON.stringify(app.swagger(), null, 2)}\n`;
  await app.close();
  await live.close();
  return doc;
}

if (import.meta.main && process.argv.includes('--write')) {
  writeFileSync(OPENAPI_FILE, await openapiDocument());
  console.log(`wrote ${OPENAPI_FILE}`);
}
