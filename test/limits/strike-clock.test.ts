// The strike watcher (gateway/strike.ts) on an injectable clock: real memory
// live state whose clock is the same injected one, so 15-minute windows and
// 1-hour lock-outs run in microseconds. Two watchers on one live state stand
// for two gateway processes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import pino from 'pino';
import type { CustomerPolicy, Limits } from '../../src/domain/policy.ts';
import { createStrikeWatcher } from '../../src/gateway/strike.ts';
import type { LiveEvent } from '../../src/live/live.ts';
import { createMemoryLive } from '../../src/live/memory.ts';
import type { SecurityEventInsert } from '../../src/store/repos/events.ts';

const S = 1000;
const log = pino({ level: 'silent' });

function policy(limits: Partial<Limits> = {}): CustomerPolicy {
  return {
    customerId: 7,
    username: 'sam',
    passwordHash: '',
    planId: 1,
    planName: 'soft',
    status: 'active',
    bannedUntil: 0,
    expiresAt: 0,
    startOnFirstUse: false,
    firstUsedAt: 0,
    periodAnchor: 0,
    limits: {
      threads: 2,
      strikeMode: 'soft',
      threadsHardCap: 5,
      strikeWindowSec: 900,
      lockoutSec: 3600,
      rps: 0,
      bandwidth: 0,
      connBandwidth: 0,
      ipMaxConns: 0,
      ipRps: 0,
      quotaBytes: 0,
      quotaPeriod: 'none',
      ...limits,
    },
  };
}

function setup(p: CustomerPolicy) {
  const clock = { t: Date.parse('2026-11-23T12:00:00Z') };
  const now = () => clock.t;
  const live = createMemoryLive({ now, sweepMs: 0 });
  const events: LiveEvent[] = [];
  live.subscribe((e) => events.push(e));
  const recorded: SecurityEventInsert[] = [];
  const watcher = () =>
    createStrikeWatcher({
      live,
      policy: (id) => (id === p.customerId ? p : undefined),
      record: async (e) => {
        recorded.push(e);
      },
      log,
      now,
      tickMs: 0,
    });
  async function acquire(w: ReturnType<typeof watcher>, n: number): Promise<void> {
    for (let i = 0; i < n; i++) {
      const held = await live.acquireThread(p.customerId, 5);
      assert.ok(held > 0);
      w.acquired(p, held);
    }
  }
  return { clock, live, events, recorded, watcher, acquire };
}

test('above threads for the whole window: kicked and locked out for lockoutSec, recorded once', async () => {
  const p = policy();
  const { clock, live, events, recorded, watcher, acquire } = setup(p);
  const w = watcher();
  await acquire(w, 2);
  assert.equal(w.watching, 0, 'at the limit is not watched');
  await acquire(w, 1);
  assert.equal(w.watching, 1);
  const start = clock.t;
  for (let s = 30; s < 900; s += 30) {
    clock.t = start + s * S;
    await w.tick();
  }
  assert.equal(await live.lockedUntil(7), 0);
  assert.equal(events.length, 0);
  clock.t = start + 900 * S;
  await w.tick();
  const until = start + (900 + 3600) * S;
  assert.equal(await live.lockedUntil(7), until);
  assert.deepEqual(events, [{ type: 'kick', customerId: 7, reason: 'strike' }]);
  assert.equal(recorded.length, 1);
  assert.equal(recorded[0].kind, 'lockout');
  assert.equal(recorded[0].customerId, 7);
  assert.deepEqual(recorded[0].detail, {
    threads: 3,
    limit: 2,
    overSince: new Date(start).toISOString(),
    lockedUntil: new Date(until).toISOString(),
  });
  assert.equal(w.watching, 0);
  // The lock-out ends by itself on the same clock.
  clock.t = until - 1;
  assert.equal(await live.lockedUntil(7), until);
  clock.t = until;
  assert.equal(await live.lockedUntil(7), 0);
  w.stop();
  await live.close();
});

test('a dip to the limit (a release) restarts the window', async () => {
  const p = policy({ strikeWindowSec: 60, lockoutSec: 120 });
  const { clock, live, events, watcher, acquire } = setup(p);
  const w = watcher();
  await acquire(w, 3);
  const start = clock.t;
  clock.t = start + 59 * S;
  await w.tick();
  live.releaseThread(7);
  w.released(7);
  await new Promise((r) => setImmediate(r));
  assert.equal(w.watching, 0, 'released to the limit: no longer watched');
  clock.t = start + 60 * S;
  await w.tick();
  assert.equal(events.length, 0);
  await acquire(w, 1);
  clock.t = start + 119 * S;
  await w.tick();
  assert.equal(events.length, 0, 'the new window started at the re-acquire');
  clock.t = start + 120 * S;
  await w.tick();
  assert.equal(events.length, 1);
  assert.equal(await live.lockedUntil(7), start + 240 * S);
  w.stop();
  await live.close();
});

test('hard mode and plans without a thread limit are never watched', async () => {
  for (const p of [policy({ strikeMode: 'hard' }), policy({ threads: 0 })]) {
    const { clock, live, events, watcher, acquire } = setup(p);
    const w = watcher();
    await acquire(w, 4);
    assert.equal(w.watching, 0);
    clock.t += 10_000 * S;
    await w.tick();
    assert.equal(events.length, 0);
    w.stop();
    await live.close();
  }
});

test('a plan switched to hard mode mid-window stops the clock', async () => {
  const p = policy();
  const { clock, live, events, watcher, acquire } = setup(p);
  const w = watcher();
  await acquire(w, 3);
  p.limits.strikeMode = 'hard';
  clock.t += 900 * S;
  await w.tick();
  assert.equal(events.length, 0);
  assert.equal(w.watching, 0);
  w.stop();
  await live.close();
});

test('two processes watching one customer strike once', async () => {
  const p = policy({ strikeWindowSec: 10 });
  const { clock, live, events, recorded, watcher, acquire } = setup(p);
  const a = watcher();
  const b = watcher();
  await acquire(a, 3);
  clock.t += 2 * S;
  await acquire(b, 1);
  assert.equal(a.watching + b.watching, 2);
  clock.t += 8 * S;
  await a.tick(); // a's window (started 2 s earlier) is over
  await b.tick(); // b finds the lock-out a set
  clock.t += 2 * S;
  await b.tick();
  assert.equal(events.length, 1);
  assert.equal(recorded.length, 1);
  a.stop();
  b.stop();
  await live.close();
});

test('store down: the lock-out and kick stand, the failure is only logged', async () => {
  const p = policy({ strikeWindowSec: 1 });
  const { clock, live, events, acquire } = setup(p);
  const w = createStrikeWatcher({
    live,
    policy: () => p,
    record: () => Promise.reject(new Error('database is down')),
    log,
    now: () => clock.t,
    tickMs: 0,
  });
  await acquire(w, 3);
  clock.t += S;
  await w.tick();
  assert.equal(events.length, 1);
  assert.ok((await live.lockedUntil(7)) > clock.t);
  w.stop();
  await live.close();
});

test('live state refusing the lock-out write: the kick still happens and is recorded', async () => {
  const p = policy({ strikeWindowSec: 1 });
  const { clock, live, events, recorded, acquire } = setup(p);
  const failing = { ...live, setLockout: () => Promise.reject(new Error('Redis is not connected')) };
  const w = createStrikeWatcher({
    live: failing,
    policy: () => p,
    record: async (e) => {
      recorded.push(e);
    },
    log,
    now: () => clock.t,
    tickMs: 0,
  });
  await acquire(w, 3);
  clock.t += S;
  await w.tick();
  assert.deepEqual(events, [{ type: 'kick', customerId: 7, reason: 'strike' }]);
  assert.equal(recorded.length, 1);
  w.stop();
  await live.close();
});
