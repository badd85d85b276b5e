// One contract for every LiveState: run against memory always, against Redis
// when REDIS_URL is set (the Redis block is simply not registered otherwise).
// Redis runs use a random key prefix and delete their keys afterwards.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { type AddressInfo, connect, createServer, type Socket } from 'node:net';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { REDIS_URL } from '../../test/helpers/store.ts';
import type { LiveEvent, LiveState } from './live.ts';
import { createMemoryLive } from './memory.ts';
import { createRedisLive } from './redis.ts';

interface Harness {
  /** Another handle on the same shared state (memory: the same instance; Redis: a new process id). */
  open(): Promise<LiveState>;
  /** Moves time forward for buckets and lock-outs (memory: the injected clock; Redis: a real wait). */
  advance(ms: number): Promise<void>;
  /** The implementation's clock (ms since epoch). */
  now(): number;
}

/** Polls until `check` holds or `ms` passed; returns the last value seen. */
async function eventually<T>(get: () => Promise<T>, check: (v: T) => boolean, ms: number): Promise<T> {
  const end = Date.now() + ms;
  let v = await get();
  while (!check(v) && Date.now() < end) {
    await sleep(50);
    v = await get();
  }
  return v;
}

function contract(name: string, harness: () => Harness & { cleanup(): Promise<void> }) {
  describe(`live state contract: ${name}`, () => {
    const h = harness();
    after(() => h.cleanup());

    it('acquires up to the cap, refuses beyond it, releases, and treats cap <= 0 as no limit', async () => {
      const a = await h.open();
      assert.equal(await a.acquireThread(1, 2), 1);
      assert.equal(await a.acquireThread(1, 2), 2);
      assert.equal(await a.acquireThread(1, 2), -1);
      assert.equal(await a.threads(1), 2);
      a.releaseThread(1);
      assert.equal(
        await eventually(
          () => a.threads(1),
          (n) => n === 1,
          2000,
        ),
        1,
      );
      assert.equal(await a.acquireThread(1, 2), 2);
      for (let i = 0; i < 5; i++) assert.ok((await a.acquireThread(2, 0)) > 0);
      assert.equal(await a.acquireThread(2, -1), 6);
      assert.equal(await a.threads(3), 0);
      a.releaseThread(3); // never acquired: no effect, never negative
      assert.equal(await a.threads(3), 0);
    });

    it('admits exactly 50 of 200 concurrent acquires with cap 50, across two handles', async () => {
      const [a, b] = [await h.open(), await h.open()];
      const tries = [];
      for (let i = 0; i < 100; i++) tries.push(a.acquireThread(10, 50), b.acquireThread(10, 50));
      const results = await Promise.all(tries);
      assert.equal(results.filter((n) => n > 0).length, 50);
      assert.equal(results.filter((n) => n === -1).length, 150);
      assert.equal(await a.threads(10), 50);
    });

    it('token bucket: burst, refusal when empty, refill over time', async () => {
      const a = await h.open();
      // rate 1/s: no meaningful refill during the burst
      for (let i = 0; i < 5; i++) assert.equal(await a.takeTokens('rps:20', 1, 5), true, `token ${i}`);
      assert.equal(await a.takeTokens('rps:20', 1, 5), false);
      // rate 2/s, burst 2: empty it, 600 ms later one is back (a false refusal needs a 500 ms stall)
      assert.equal(await a.takeTokens('rps:21', 2, 2, 2), true);
      assert.equal(await a.takeTokens('rps:21', 2, 2, 1), false);
      await h.advance(600);
      assert.equal(await a.takeTokens('rps:21', 2, 2, 1), true);
      assert.equal(await a.takeTokens('rps:21', 0, 0, 1000), true, 'rate 0 means unlimited');
    });

    it('counts usage exactly: period bytes include unflushed increments, drain hands over and empties', async () => {
      const [a, b] = [await h.open(), await h.open()];
      a.addUsage(30, 'm1', 100, 1000, 1, 2);
      a.addUsage(30, 'm1', 5, 50, 0, 1);
      b.addUsage(30, 'm1', 7, 70, 1, 1);
      a.addUsage(31, 'm1', 1, 2, 1, 0);
      assert.equal(await a.periodBytes(30, 'm1'), 1155 + (a === b ? 77 : 0));
      await Promise.all([a.flush(), b.flush()]);
      assert.equal(await a.periodBytes(30, 'm1'), 1232);
      assert.equal(await b.periodBytes(30, 'm1'), 1232);
      assert.equal(await a.periodBytes(30, 'm2'), 0, 'a new period starts at zero');
      const drained = await a.drainUsage();
      const c30 = drained.filter((d) => d.customerId === 30);
      const sum = (k: 'bytesUp' | 'bytesDown' | 'connections' | 'requests') =>
        c30.reduce((s, d) => s + d[k], 0);
      assert.deepEqual(
        [sum('bytesUp'), sum('bytesDown'), sum('connections'), sum('requests')],
        [112, 1120, 2, 4],
      );
      for (const d of drained) assert.equal(d.hour % 3_600_000, 0);
      assert.deepEqual(
        drained.filter((d) => d.customerId === 31).map((d) => [d.bytesUp, d.bytesDown, d.connections]),
        [[1, 2, 1]],
      );
      assert.deepEqual(await a.drainUsage(), []);
      assert.equal(await a.periodBytes(30, 'm1'), 1232, 'draining hourly usage keeps the period counter');
    });

    it('onFlush producers add their counts to every flush and drain, until unregistered', async () => {
      const a = await h.open();
      let calls = 0;
      const off = a.onFlush(() => {
        calls++;
        a.addUsage(35, 'm1', 10, 20, 0, 0);
      });
      await a.flush();
      assert.ok(calls >= 1, 'a flush runs the producer');
      const drained = (await a.drainUsage()).filter((d) => d.customerId === 35);
      const bytes = drained.reduce((s, d) => s + d.bytesUp + d.bytesDown, 0);
      assert.equal(bytes, 30 * calls, 'the drain carries what the producer added, up to the drain');
      off();
      const before = calls;
      await a.flush();
      assert.deepEqual(await a.drainUsage(), []);
      assert.equal(calls, before, 'unregistered: not run again');
    });

    it('seedPeriodBytes raises a counter to the store total, never lowers it', async () => {
      const a = await h.open();
      await a.seedPeriodBytes(40, 'd1', 100);
      assert.equal(await a.periodBytes(40, 'd1'), 100, 'a missing counter starts from the store');
      await a.seedPeriodBytes(40, 'd1', 50);
      assert.equal(await a.periodBytes(40, 'd1'), 100, 'a lower store total changes nothing');
      a.addUsage(40, 'd1', 4, 6, 0, 0);
      await a.flush();
      assert.equal(await a.periodBytes(40, 'd1'), 110);
      await a.seedPeriodBytes(40, 'd1', 110);
      assert.equal(await a.periodBytes(40, 'd1'), 110, 'seeding again with what it holds: no double count');
      // The counter lost what it held (Redis restarted empty): the store's total wins.
      await a.seedPeriodBytes(40, 'd1', 500);
      assert.equal(await a.periodBytes(40, 'd1'), 500);
      await a.drainUsage();
    });

    it('lock-out: set, read, expire, clear', async () => {
      const a = await h.open();
      assert.equal(await a.lockedUntil(50), 0);
      const until = h.now() + 300;
      await a.setLockout(50, until);
      assert.equal(await a.lockedUntil(50), until);
      await h.advance(400);
      assert.equal(await a.lockedUntil(50), 0);
      await a.setLockout(51, h.now() + 60_000);
      await a.setLockout(51, 0);
      assert.equal(await a.lockedUntil(51), 0);
    });

    it('credential failures: the limit-th in the window locks the key, once, for every handle', async () => {
      const [a, b] = [await h.open(), await h.open()];
      const key = `u:contract-${randomBytes(3).toString('hex')}`;
      assert.deepEqual(await a.authFailure(key, 3, 60_000, 400), { until: 0, fresh: false });
      assert.deepEqual(await b.authFailure(key, 3, 60_000, 400), { until: 0, fresh: false });
      const t = h.now();
      const third = await a.authFailure(key, 3, 60_000, 400);
      assert.equal(third.fresh, true, 'the third failure sets the lock-out');
      assert.ok(third.until >= t + 400 && third.until < t + 400 + 1000, `until ${third.until - t} ms ahead`);
      assert.deepEqual(
        await b.authFailure(key, 3, 60_000, 400),
        { until: third.until, fresh: false },
        'while locked: the same end, not set again, nothing counted',
      );
      assert.equal((await b.authLocks()).get(key), third.until);
      await h.advance(500);
      assert.equal((await a.authLocks()).has(key), false, 'expired');
      assert.deepEqual(
        await a.authFailure(key, 3, 60_000, 400),
        { until: 0, fresh: false },
        'the count started again from zero',
      );
    });

    it('credential failures: the window forgets old failures; clearAuthLock lifts a lock-out', async () => {
      const a = await h.open();
      const key = `ip:192.0.2.${randomBytes(1)[0]}`;
      await a.authFailure(key, 2, 300, 60_000);
      await h.advance(400);
      assert.equal(
        (await a.authFailure(key, 2, 300, 60_000)).until,
        0,
        'the first failure fell out of the window',
      );
      assert.equal((await a.authFailure(key, 2, 300, 60_000)).fresh, true);
      await a.clearAuthLock(key);
      assert.equal((await a.authLocks()).has(key), false);
      assert.deepEqual(await a.authFailure(key, 2, 300, 60_000), { until: 0, fresh: false });
    });

    it('publishes events to every subscriber, including the publisher', async () => {
      const [a, b] = [await h.open(), await h.open()];
      const seenA: LiveEvent[] = [];
      const seenB: LiveEvent[] = [];
      const offA = a.subscribe((e) => seenA.push(e));
      const offB = b.subscribe((e) => seenB.push(e));
      const event: LiveEvent = { type: 'kick', customerId: 60, reason: 'test' };
      await a.publish(event);
      await eventually(
        async () => seenA.length + seenB.length,
        (n) => n >= 2,
        2000,
      );
      assert.deepEqual(seenA, [event]);
      assert.deepEqual(seenB, [event]);
      offA();
      offB();
      await b.publish({ type: 'upstreams' });
      await sleep(50);
      assert.equal(seenA.length, 1, 'unsubscribed handlers are not called');
    });

    it('answers ping', async () => {
      const a = await h.open();
      await a.ping();
      assert.equal(a.degraded, false);
    });
  });
}

contract('memory', () => {
  let offset = 0;
  const live = createMemoryLive({ now: () => Date.now() + offset });
  return {
    open: async () => live,
    advance: async (ms) => {
      offset += ms;
    },
    now: () => Date.now() + offset,
    cleanup: () => live.close(),
  };
});

if (REDIS_URL) {
  const url = REDIS_URL;
  const prefix = `pctest:${randomBytes(4).toString('hex')}:`;
  const opened: LiveState[] = [];
  const open = async (heartbeatMs = 5000) => {
    const live = createRedisLive({ url, prefix, heartbeatMs });
    opened.push(live);
    await live.ready();
    return live;
  };
  const admin = new Redis(url);

  contract('redis', () => ({
    open: () => open(),
    advance: (ms) => sleep(ms),
    now: Date.now,
    async cleanup() {
      await Promise.all(opened.map((l) => l.close()));
    },
  }));

  describe('live state: redis processes', () => {
    after(async () => {
      await Promise.all(opened.map((l) => l.close()));
      const keys = await admin.keys(`${prefix}*`);
      if (keys.length > 0) await admin.del(...keys);
      await admin.quit();
    });

    it('releases the slots of a SIGKILLed process once its heartbeat expires', async () => {
      const mod = new URL('./redis.ts', import.meta.url).href;
      const code = `
        import { createRedisLive } from ${JSON.stringify(mod)};
        const live = createRedisLive({ url: process.argv[1], prefix: process.argv[2], heartbeatMs: 1000 });
        await live.ready();
        for (let i = 0; i < 3; i++) await live.acquireThread(70, 5);
        process.stdout.write('held\\n');
        setInterval(() => {}, 1000);
      `;
      const child = spawn(process.execPath, ['--input-type=module', '-e', code, url, prefix], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      try {
        const [chunk] = (await once(child.stdout, 'data')) as [Buffer];
        assert.equal(chunk.toString().trim(), 'held');
        const a = await open();
        assert.equal(await a.threads(70), 3);
        assert.equal(await a.acquireThread(70, 3), -1);
        child.kill('SIGKILL');
        await once(child, 'exit');
        assert.equal(
          await eventually(
            () => a.threads(70),
            (n) => n === 0,
            5000,
          ),
          0,
        );
        assert.equal(await a.acquireThread(70, 3), 1);
        a.releaseThread(70);
      } finally {
        child.kill('SIGKILL');
      }
    });

    it('mirrors lock-outs: every process reads them without a Redis command, also after its subscriber reconnects', async () => {
      const a = await open();
      const until = Date.now() + 600_000;
      await a.setLockout(80, until);
      // A process that starts after the lock-out loads it while getting ready.
      const b = createRedisLive({ url, prefix });
      opened.push(b);
      await b.ready();
      // What b's command connection sends, seen through MONITOR (other test files share this Redis).
      const clients = (await admin.call('CLIENT', 'LIST')) as string;
      const named = (suffix: string) =>
        clients.split('\n').find((l) => l.includes(` name=portcullis:${b.processId}:${suffix} `)) ?? '';
      const bCmd = /\baddr=(\S+)/.exec(named('cmd'))?.[1];
      assert.ok(bCmd, "b's command connection is named in CLIENT LIST");
      const monitor = await admin.monitor();
      const sent: string[][] = [];
      monitor.on('monitor', (_t: string, args: string[], source: string) => {
        if (source === bCmd) sent.push(args.map(String));
      });
      /** b's commands from now until a marker command it sends (a thread count of customer 999) comes through */
      const commandsOf = async (work: () => Promise<void>) => {
        sent.length = 0;
        await work();
        await b.threads(999);
        const marker = (c: string[]) => c.some((a) => a.endsWith('thr:999'));
        await eventually(async () => sent.some(marker), Boolean, 2000);
        return sent.slice(0, sent.findIndex(marker)).map((c) => c[0].toLowerCase());
      };
      after(() => monitor.disconnect());
      const reads = await commandsOf(async () => {
        for (let i = 0; i < 50; i++) assert.equal(await b.lockedUntil(80), until);
        assert.equal(await b.lockedUntil(81), 0);
      });
      assert.deepEqual(
        reads.filter((c) => c === 'get'),
        [],
        'lockedUntil read the mirror, not Redis',
      );

      /** b's answer for `id` once it is `want`, or its last answer after `ms` */
      const lockOf = (id: number, want: number, ms: number) =>
        eventually(
          () => b.lockedUntil(id),
          (v) => v === want,
          ms,
        );
      // Changes arrive as messages.
      await a.setLockout(81, until + 1);
      await a.setLockout(80, 0);
      assert.equal(await lockOf(81, until + 1, 2000), until + 1);
      assert.equal(await lockOf(80, 0, 2000), 0);

      // A change made while b's subscriber is disconnected is not lost: b re-reads every lock-out once back.
      const subId = /\bid=(\d+)/.exec(named('sub'))?.[1];
      assert.ok(subId, "b's subscriber connection is named in CLIENT LIST");
      await admin.call('CLIENT', 'KILL', 'ID', subId);
      await a.setLockout(82, until + 2);
      await a.setLockout(81, 0);
      assert.equal(await lockOf(82, until + 2, 5000), until + 2);
      assert.equal(await lockOf(81, 0, 5000), 0);
      const mirrored = async () =>
        !(await commandsOf(async () => void (await b.lockedUntil(82)))).includes('get');
      assert.equal(await eventually(mirrored, Boolean, 5000), true, 'back on the mirror after the reconnect');
      await a.setLockout(82, 0);
    });

    it('gives slots back at once on a graceful close', async () => {
      const [a, b] = [await open(), await open()];
      await a.acquireThread(71, 5);
      await a.acquireThread(71, 5);
      await b.acquireThread(71, 5);
      assert.equal(await b.threads(71), 3);
      await a.close();
      assert.equal(await b.threads(71), 1);
    });

    it('survives an outage: per-process limits meanwhile, then reconciles threads and usage without double counting', async () => {
      // A loopback relay in front of Redis that the test can cut and restore.
      const target = new URL(url);
      const sockets = new Set<Socket>();
      const relay = createServer((c) => {
        const r = connect(Number(target.port || 6379), target.hostname);
        for (const s of [c, r]) {
          sockets.add(s);
          s.on('error', () => {});
          s.on('close', () => sockets.delete(s));
        }
        c.pipe(r).pipe(c);
      });
      relay.listen(0, '127.0.0.1');
      await once(relay, 'listening');
      const port = (relay.address() as AddressInfo).port;
      const cut = async () => {
        const closed = once(relay, 'close');
        relay.close();
        for (const s of sockets) s.destroy();
        await closed;
      };
      try {
        const a = createRedisLive({ url: `redis://127.0.0.1:${port}`, prefix, heartbeatMs: 1000 });
        opened.push(a);
        await a.ready();
        const b = await open();
        await a.acquireThread(80, 5);
        await a.acquireThread(80, 5);
        a.addUsage(80, 'm', 100, 0, 1, 1);
        await a.flush();
        assert.equal(await b.threads(80), 2);

        await cut();
        assert.equal(await eventually(async () => a.degraded, Boolean, 2000), true);
        assert.equal(await a.acquireThread(80, 3), 3, 'counted locally');
        assert.equal(await a.acquireThread(80, 3), -1, 'the cap holds per process');
        a.releaseThread(80);
        a.releaseThread(80);
        a.addUsage(80, 'm', 50, 0, 0, 0);
        await assert.rejects(a.flush());
        // A's liveness key expires: the others stop counting its slots.
        assert.equal(
          await eventually(
            () => b.threads(80),
            (n) => n === 0,
            3000,
          ),
          0,
        );

        relay.listen(port, '127.0.0.1');
        await once(relay, 'listening');
        assert.equal(await eventually(async () => !a.degraded, Boolean, 5000), true);
        assert.equal(
          await eventually(
            () => b.threads(80),
            (n) => n === 1,
            3000,
          ),
          1,
          'A rewrote its slots',
        );
        await a.flush();
        assert.equal(await b.periodBytes(80, 'm'), 150);
        const usage = (await b.drainUsage()).filter((d) => d.customerId === 80);
        assert.equal(
          usage.reduce((n, d) => n + d.bytesUp, 0),
          150,
        );
        await a.close();
        assert.equal(await b.threads(80), 0);
      } finally {
        relay.close();
        for (const s of sockets) s.destroy();
      }
    });

    it('rewrites its own thread counts when Redis lost them', async () => {
      const a = await open(1000);
      for (let i = 0; i < 4; i++) await a.acquireThread(72, 10);
      // as after a Redis restart without persistence
      await admin.del(`${prefix}thr:72`, `${prefix}proc:${(a as { processId?: string }).processId}`);
      assert.equal(
        await eventually(
          () => a.threads(72),
          (n) => n === 4,
          3000,
        ),
        4,
      );
      a.releaseThread(72);
      assert.equal(
        await eventually(
          () => a.threads(72),
          (n) => n === 3,
          2000,
        ),
        3,
      );
    });
  });
}

describe('live state: Redis unreachable', () => {
  it('keeps enforcing per process, never hangs, and reports degraded', async () => {
    // port 1 on loopback: connection refused at once
    const live = createRedisLive({ url: 'redis://127.0.0.1:1', prefix: 'pcdown:' });
    try {
      await assert.rejects(live.ready(300));
      assert.equal(live.degraded, true);
      assert.equal(await live.acquireThread(1, 2), 1);
      assert.equal(await live.acquireThread(1, 2), 2);
      assert.equal(await live.acquireThread(1, 2), -1);
      live.releaseThread(1);
      assert.equal(await live.threads(1), 1);
      assert.equal(await live.takeTokens('rps:1', 1, 2), true);
      assert.equal(await live.takeTokens('rps:1', 1, 2), true);
      assert.equal(await live.takeTokens('rps:1', 1, 2), false);
      live.addUsage(1, 'm', 10, 20, 1, 1);
      assert.equal(await live.periodBytes(1, 'm'), 30);
      await live.setLockout(1, Date.now() + 60_000).catch(() => {});
      assert.ok((await live.lockedUntil(1)) > Date.now());
      assert.equal((await live.authFailure('ip:192.0.2.1', 2, 60_000, 60_000)).fresh, false);
      assert.equal((await live.authFailure('ip:192.0.2.1', 2, 60_000, 60_000)).fresh, true);
      assert.ok(((await live.authLocks()).get('ip:192.0.2.1') ?? 0) > Date.now());
      await assert.rejects(live.ping());
      await assert.rejects(live.flush());
      const seen: LiveEvent[] = [];
      live.subscribe((e) => seen.push(e));
      await assert.rejects(live.publish({ type: 'upstreams' }));
      assert.deepEqual(seen, [{ type: 'upstreams' }], 'this process still acts on its own event');
    } finally {
      await live.close();
    }
  });
});
