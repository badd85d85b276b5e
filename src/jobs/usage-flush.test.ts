import assert from 'node:assert/strict';
import { test } from 'node:test';
import pino from 'pino';
import { openTestStore } from '../../test/helpers/store.ts';
import { createMemoryLive } from '../live/memory.ts';
import { createUsageRepo } from '../store/repos/usage.ts';
import { customers, plans } from '../store/schema.ts';
import { startUsageFlush } from './usage-flush.ts';

test('usage counted in live state lands in hourly buckets, once', async () => {
  const store = await openTestStore();
  const live = createMemoryLive();
  const flusher = startUsageFlush({ store, live, log: pino({ level: 'silent' }), intervalMs: 60_000 });
  try {
    const [plan] = await store.db.insert(plans).values({ name: 'p', threads: 1, rps: 1 }).returning();
    const [c] = await store.db
      .insert(customers)
      .values({ username: 'u', passwordHash: 'x', apiKeyHash: 'h', apiKeyPrefix: 'p', planId: plan.id })
      .returning();
    live.addUsage(c.id, 'm2026-11', 100, 1000, 1, 2);
    live.addUsage(c.id, 'm2026-11', 5, 50, 0, 1);
    assert.ok((await flusher.flushOnce()) >= 1);
    assert.equal(await flusher.flushOnce(), 0, 'a second drain finds nothing new');
    live.addUsage(c.id, 'm2026-11', 1, 2, 0, 0);
    await flusher.stop();
    const sum = await createUsageRepo(store.db).sum(c.id, 0, null);
    assert.deepEqual(sum, { bytesUp: 106, bytesDown: 1052, connections: 1, requests: 3 });
  } finally {
    await live.close();
    await store.close();
  }
});

test('usage kept while the store was down is written with the next drain (same customer and hour)', async () => {
  const store = await openTestStore();
  const live = createMemoryLive();
  // The store refuses writes until `down` is cleared, as an unreachable database would.
  let down = true;
  const db = new Proxy(store.db, {
    get(target, key) {
      if (key === 'insert' && down)
        return () => {
          throw new Error('connection terminated unexpectedly');
        };
      const v = Reflect.get(target, key, target);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
  const flusher = startUsageFlush({
    store: { ...store, db },
    live,
    log: pino({ level: 'silent' }),
    intervalMs: 60_000,
  });
  try {
    const [plan] = await store.db.insert(plans).values({ name: 'p', threads: 1, rps: 1 }).returning();
    const [c] = await store.db
      .insert(customers)
      .values({ username: 'u', passwordHash: 'x', apiKeyHash: 'h', apiKeyPrefix: 'p', planId: plan.id })
      .returning();
    live.addUsage(c.id, 'm2026-11', 100, 1000, 1, 2);
    await assert.rejects(flusher.flushOnce());
    // Counted in the same hour while the first drain waits to be written.
    live.addUsage(c.id, 'm2026-11', 5, 50, 1, 1);
    down = false;
    assert.ok((await flusher.flushOnce()) >= 1);
    await flusher.stop();
    const sum = await createUsageRepo(store.db).sum(c.id, 0, null);
    assert.deepEqual(sum, { bytesUp: 105, bytesDown: 1050, connections: 2, requests: 3 });
  } finally {
    await live.close();
    await store.close();
  }
});
