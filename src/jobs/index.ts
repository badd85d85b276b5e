// Periodic tasks of the `jobs` role. Each task is its own file; this starts
// and stops them together.
import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import type { LiveState } from '../live/live.ts';
import type { Store } from '../store/db.ts';
import { startUsageFlush } from './usage-flush.ts';

export interface Jobs {
  flushUsage(): Promise<number>;
  stop(): Promise<void>;
}

export function startJobs(opts: {
  config: Readonly<Config>;
  store: Store;
  live: LiveState;
  log: Logger;
}): Jobs {
  const usage = startUsageFlush({ store: opts.store, live: opts.live, log: opts.log });
  return {
    flushUsage: () => usage.flushOnce(),
    stop: () => usage.stop(),
  };
}
