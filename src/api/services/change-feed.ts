// Change events with local-first delivery. Services publish through here so
// this process's caches drop stale entries before the answer leaves (with
// Redis the round trip through pub/sub would otherwise leave a window where a
// just-banned customer still gets a list); events from other processes arrive
// through live state as usual. Handlers may see a local event twice: they
// only invalidate, which is idempotent.
import type { LiveEvent, LiveState } from '../../live/live.ts';

export interface ChangeFeed {
  /** Adds a handler; the answer removes it. */
  on(handler: (e: LiveEvent) => void): () => void;
  publish(e: LiveEvent): Promise<void>;
}

export function createChangeFeed(live: LiveState): ChangeFeed {
  const handlers = new Set<(e: LiveEvent) => void>();
  const deliver = (e: LiveEvent) => {
    for (const h of handlers) h(e);
  };
  live.subscribe(deliver);
  return {
    on: (h) => {
      handlers.add(h);
      return () => handlers.delete(h);
    },
    async publish(e) {
      deliver(e);
      await live.publish(e);
    },
  };
}

/** A small TTL cache cleared on change events; bounded by clearing when full. */
export function createTtlCache<K, V>(ttlMs: number, max: number, now: () => number) {
  let map = new Map<K, { v: V; at: number }>();
  return {
    get(k: K): V | undefined {
      const e = map.get(k);
      if (!e) return undefined;
      if (now() - e.at >= ttlMs) {
        map.delete(k);
        return undefined;
      }
      return e.v;
    },
    set(k: K, v: V) {
      if (map.size >= max) map = new Map();
      map.set(k, { v, at: now() });
    },
    clear() {
      map = new Map();
    },
  };
}
