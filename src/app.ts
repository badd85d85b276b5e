// Composition root: opens the store and live state, runs first-run bootstrap,
// and starts the components this process's roles name (all by default).
// `portcullis up` (src/up.ts) and tests call startPortcullis().
//
// The gateway comes first and the API's modules (Fastify, routes, schemas,
// prom-client) are loaded only after its ports listen, and only by a process
// that serves the API: a restarted gateway is back sooner, and a
// `--role gateway` process never loads them.
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { bootstrap } from './bootstrap.ts';
import type { Config } from './config.ts';
import { checkDataDir } from './data-dir.ts';
import { createGateway } from './gateway/index.ts';
import { fixedSemiSpaceMb } from './heap.ts';
import { startJobs } from './jobs/index.ts';
import { createLive } from './live/index.ts';
import { openStore } from './store/db.ts';
import { createCipher, loadSecretKey } from './store/secrets.ts';

export interface Running {
  config: Readonly<Config>;
  /** base URL of the API when this process serves it */
  apiUrl: string | undefined;
  /** plaintext admin token when this run generated it (first run only) */
  generatedToken: string | undefined;
  stop(): Promise<void>;
  reload(): Promise<void>;
}

export async function startPortcullis(config: Readonly<Config>, log: Logger): Promise<Running> {
  const started = performance.now();
  // Before anything is opened or written there (PC_ERR_DATA_DIR names the path and why).
  checkDataDir(config.dataDir, { embedded: !config.databaseUrl });
  const store = await openStore({
    databaseUrl: config.databaseUrl,
    pgliteDir: join(config.dataDir, 'pgdata'),
  });
  const live = await createLive({ redisUrl: config.redisUrl, prefix: config.redisPrefix, log });
  const cipher = createCipher(loadSecretKey(config.dataDir, config.secret));
  const boot = await bootstrap({ config, store, log });

  const gateway = config.roles.includes('gateway')
    ? createGateway({ config, store, live, cipher, log })
    : undefined;
  await gateway?.start();
  const jobs = config.roles.includes('jobs') ? startJobs({ config, store, live, log }) : undefined;

  let apiUrl: string | undefined;
  let app: FastifyInstance | undefined;
  if (config.roles.includes('api')) {
    const [{ buildApp }, { createMetrics }] = await Promise.all([
      import('./api/app.ts'),
      import('./metrics.ts'),
    ]);
    app = await buildApp({
      config,
      store,
      live,
      cipher,
      log,
      gatewayStatus: gateway && (() => gateway.status()),
      gatewayConnections: gateway && (async () => (await gateway.census()).connections),
      metrics: createMetrics({ live, gateway }),
    });
    const address = await app.listen({ host: config.api.host, port: config.api.port });
    apiUrl = address.replace('0.0.0.0', '127.0.0.1');
  }
  const semiSpaceMb = fixedSemiSpaceMb();
  log.info(
    {
      ms: Math.round(performance.now() - started),
      store: store.kind,
      live: live.kind,
      roles: config.roles,
      apiUrl,
      // each thread's, when fixed (src/heap.ts)
      youngGenerationMb: semiSpaceMb === undefined ? undefined : 2 * semiSpaceMb,
    },
    'portcullis started',
  );

  let stopping: Promise<void> | undefined;
  return {
    config,
    apiUrl,
    generatedToken: boot.generatedToken,
    reload: async () => {
      await gateway?.reload();
    },
    stop: () => {
      stopping ??= (async () => {
        await app?.close();
        await gateway?.stop();
        await jobs?.stop();
        await live.close();
        await store.close();
      })();
      return stopping;
    },
  };
}
