// Moves the usage counted in live state into the store's hourly buckets. Runs
// every second, and each drain first takes the gateway's socket counters up to
// that instant (live.onFlush): with the in-memory live state a SIGKILL then
// loses at most the last second of byte accounting; with Redis the counters survive the process and
// the drain is atomic, so any number of jobs processes may run it.
import type { Logger } from 'pino';
import type { LiveState, UsageDelta } from '../live/live.ts';
import type { Store } from '../store/db.ts';
import { createUsageRepo, mergeDeltas } from '../store/repos/usage.ts';

export interface UsageFlusher {
  /** one drain + write; resolves to the number of buckets written */
  flushOnce(): Promise<number>;
  stop(): Promise<void>;
}

export function startUsageFlush(opts: {
  store: Store;
  live: LiveState;
  log: Logger;
  intervalMs?: number;
}): UsageFlusher {
  const repo = createUsageRepo(opts.store.db);
  // Usage drained from live state but not yet written (the store was down):
  // kept here and written with the next drain, so nothing counted is lost.
  let pending: UsageDelta[] = [];
  let running: Promise<number> | undefined;
  let failing = false;

  const flushOnce = (): Promise<number> => {
    // Never overlap two drains: a slow database must not make them pile up.
    running ??= (async () => {
      try {
        await opts.live.flush();
        // Merged per customer and hour: a long outage keeps one delta each, not one per second.
        const deltas = mergeDeltas(pending.concat(await opts.live.drainUsage()));
        pending = deltas;
        if (deltas.length === 0) return 0;
        await repo.add(deltas);
        pending = [];
        if (failing) opts.log.info('usage flush: store answers again');
        failing = false;
        return deltas.length;
      } finally {
        running = undefined;
      }
    })();
    return running;
  };

  const timer = setInterval(() => {
    flushOnce().catch((err) => {
      if (!failing)
        opts.log.warn({ err: String(err), code: 'PC_ERR_STORE_UNAVAILABLE' }, 'usage flush failed');
      failing = true;
    });
  }, opts.intervalMs ?? 1000);
  timer.unref();

  return {
    flushOnce,
    async stop() {
      clearInterval(timer);
      await running?.catch(() => 0);
      await flushOnce();
    },
  };
}
