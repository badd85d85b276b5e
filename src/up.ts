// `portcullis up`: validates the configuration before loading the server
// (database driver, Fastify, gateway), so a bad setting is reported at once,
// then runs until SIGINT/SIGTERM. SIGHUP reloads policies and upstreams.
import { join } from 'node:path';
import pino from 'pino';
import { type Config, ConfigError, loadConfig } from './config.ts';

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
  const log = pino({ level: config.logLevel });
  const { startPortcullis } = await import('./app.ts');
  const running = await startPortcullis(config, log);
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
