// Redis stalls without dropping the connection (CLIENT PAUSE on a redis-server
// of the test's own): commands time out, the live state says it is degraded,
// and once Redis answers again it says so by itself, with no reconnect to
// announce it. A stalled command used to leave it degraded for good.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { createRedisLive, type RedisLive } from '../../src/live/redis.ts';
import { eventually } from '../gateway/harness.ts';
import { type OwnRedis, startRedis } from './services.ts';

describe('faults: Redis stalls, then answers again', () => {
  let redis: OwnRedis;
  let live: RedisLive;
  let admin: Redis;

  before(async () => {
    redis = await startRedis();
    live = createRedisLive({ url: redis.url, prefix: 'stall:', heartbeatMs: 1000 });
    await live.ready(5000);
    admin = new Redis(redis.url, { maxRetriesPerRequest: 1 });
  });
  after(async () => {
    await live.close();
    admin.disconnect();
    await redis.stop();
  });

  test('a command that times out degrades the live state; the next answered heartbeat restores it', async () => {
    assert.equal(await live.acquireThread(7, 10), 1);
    assert.equal(live.degraded, false);
    // Every other client's commands wait 3.5 s (longer than the 2 s command timeout).
    await admin.call('CLIENT', 'PAUSE', '3500', 'ALL');
    // Admission does not wait on the stalled server forever: it answers from the process's own count.
    const held = await live.acquireThread(7, 10);
    assert.ok(held > 0, `admitted while stalled (${held})`);
    assert.equal(live.degraded, true);
    await eventually(() => !live.degraded, 10_000);
    // The count taken while stalled is written back: both threads are held in Redis.
    await eventually(async () => (await live.threads(7)) === 2, 5000);
    live.releaseThread(7);
    live.releaseThread(7);
    await eventually(async () => (await live.threads(7)) === 0, 5000);
  });
});
