// The live-state factory: Redis/Valkey when REDIS_URL is configured, else the
// in-process implementation. A Redis that does not answer at start does not
// stop start-up: the process enforces per-process limits and says so, and
// switches to shared counting as soon as Redis answers.
import type { LiveState } from './live.ts';
import { createMemoryLive } from './memory.ts';
import { createRedisLive, type LiveLog } from './redis.ts';

export type { LiveEvent, LiveState, UsageDelta } from './live.ts';

export interface CreateLiveOptions {
  redisUrl?: string;
  /** key prefix in Redis; default `pc:` */
  prefix?: string;
  log?: LiveLog;
  /** How long start-up waits for Redis before going on per process (ms). Default 3000. */
  readyTimeoutMs?: number;
}

export async function createLive(opts: CreateLiveOptions = {}): Promise<LiveState> {
  if (!opts.redisUrl) {
    const log = opts.log;
    return createMemoryLive({
      onHandlerError: (err) =>
        log?.warn({ err: err instanceof Error ? err.message : String(err) }, 'live event handler failed'),
    });
  }
  const live = createRedisLive({ url: opts.redisUrl, prefix: opts.prefix, log: opts.log });
  try {
    await live.ready(opts.readyTimeoutMs);
  } catch (err) {
    opts.log?.warn(
      { err: err instanceof Error ? err.message : String(err) },
      'live state: Redis not reachable at start, enforcing limits per process until it answers',
    );
  }
  return live;
}
