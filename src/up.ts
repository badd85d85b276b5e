// `portcullis up`: validates the configuration and the data dir before
// loading the server (database driver, Fastify, gateway), so a bad setting or
// an unusable DATA_DIR (exit 73, PC_ERR_DATA_DIR) is reported at once,
// then runs until SIGINT/SIGTERM. SIGHUP reloads policies and upstreams.
import { join } from 'node:path';
import pino from 'pino';
import type { Running } from './app.ts';
import { type Config, ConfigError, loadConfig } from './config.ts';
import { checkDataDir } from './data-dir.ts';
import { isPcError } from './errors.ts';
import { fixedSemiSpaceMb, HEAP_FLAGS } from './heap.ts';
import { logOptions } from './log.ts';

/** Exit status when DATA_DIR cannot be used (sysexits EX_CANTCREAT). */
export const EXIT_DATA_DIR = 73;

/** `portcullis up`: config from env + flags, then run until SIGINT/SIGTERM. */
export async function runUp(flags: Record<string, string | undefined>): Promise<void> {
  let config: Readonly<Config>;
  try {
    config = loadConfig(process.env, flags);
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`portcullis: ${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
  const log = pino(logOptions(config.logLevel));
  if (fixedSemiSpaceMb() === undefined)
    log.info(
      { flags: HEAP_FLAGS.join(' ') },
      "node was started without these flags: each thread's young generation grows to 128 MB under load and shrinks when idle (npm start and the portcullis command pass them; see src/heap.ts)",
    );
  let running: Running;
  try {
    // Before loading the server too, so an unusable data dir is reported at once.
    checkDataDir(config.dataDir, { embedded: !config.databaseUrl });
    const { startPortcullis } = await import('./app.ts');
    running = await startPortcullis(config, log);
  } catch (e) {
    if (isPcError(e) && e.code === 'PC_ERR_DATA_DIR') {
      process.stderr.write(`portcullis: ${e.message} [${e.code}]\n`);
      process.exit(EXIT_DATA_DIR);
    }
    throw e;
  }
  if (running.apiUrl)
    process.stdout.write(
      `\n  Web console: ${running.apiUrl}/admin (sign in with the admin token); customer portal: ${running.apiUrl}/portal\n`,
    );
  if (running.generatedToken) {
    process.stdout.write(
      `\n  Admin token (shown once; also saved to ${join(config.dataDir, 'admin-token')}, mode 0600):\n\n    ${running.generatedToken}\n\n`,
    );
  }
  process.on('SIGHUP', () => {
    running.reload().catch((err) => log.error({ err }, 'reload failed'));
  });
  const shutdown = (signal: string) => {
    log.info({ signal }, 'stopping');
    running.stop().then(
      () => process.exit(0),
      (err) => {
        log.error({ err }, 'stop failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}
