import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { REDIS_URL } from '../../test/helpers/store.ts';
import { createLive } from './index.ts';

describe('createLive', () => {
  it('is in-memory without a Redis URL', async () => {
    const live = await createLive({});
    assert.equal(live.kind, 'memory');
    await live.close();
  });

  it('starts anyway when Redis does not answer, per process and saying so', async () => {
    const warnings: string[] = [];
    const log = { info() {}, warn: (_: object, msg: string) => warnings.push(msg) };
    const live = await createLive({
      redisUrl: 'redis://127.0.0.1:1',
      prefix: 'pcdown:',
      log,
      readyTimeoutMs: 300,
    });
    try {
      assert.equal(live.kind, 'redis');
      assert.equal(live.degraded, true);
      assert.ok(warnings.some((m) => m.includes('per process')));
      assert.equal(await live.acquireThread(1, 1), 1);
      assert.equal(await live.acquireThread(1, 1), -1);
    } finally {
      await live.close();
    }
  });

  if (REDIS_URL) {
    it('uses Redis when REDIS_URL answers', async () => {
      const live = await createLive({ redisUrl: REDIS_URL, prefix: 'pctest:factory:' });
      try {
        assert.equal(live.kind, 'redis');
        assert.equal(live.degraded, false);
        await live.ping();
      } finally {
        await live.close();
      }
    });
  }
});
