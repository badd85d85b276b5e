// What every service gets: the store (for transactions), repositories over
// it, live state (to publish change events), the cipher and a clock.
import type { Config } from '../../config.ts';
import type { LiveState } from '../../live/live.ts';
import type { Store } from '../../store/db.ts';
import type { Repos } from '../../store/repos/index.ts';
import type { Cipher } from '../../store/secrets.ts';
import type { ChangeFeed } from './change-feed.ts';

export interface ServiceContext {
  config: Readonly<Config>;
  store: Store;
  repos: Repos;
  live: LiveState;
  cipher: Cipher;
  now: () => number;
  /** publish change events through here (local caches first, then live state) */
  changes: ChangeFeed;
}

/** Postgres unique violation (23505), seen through Drizzle's wrapper. */
export function isUniqueViolation(err: unknown): boolean {
  for (
    let e = err as { code?: string; cause?: unknown } | undefined, i = 0;
    e && i < 5;
    e = e.cause as typeof e, i++
  )
    if (e.code === '23505') return true;
  return false;
}
