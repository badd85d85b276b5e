// Redis restarted under load. A redis-server of the test's own (nothing
// persisted: --save '' --appendonly no) is SIGKILLed while tunnels run and
// started again on the same port; the shared Redis of the machine is never
// touched. The gateway runs on it with the Redis live state, and the usage
// flush (the jobs role) drains it into the store every second.
//
// Promised (docs/reliability.md, "Faults"):
// - tunnels open before the crash keep relaying through the outage and after;
// - while Redis is away the live state is degraded and limits hold per
//   process: new connections are admitted up to the thread cap counted by
//   this process, and refused above it (429 threads_exceeded);
// - once Redis is back the process writes its thread counts into it again,
//   so the shared count is right, and releases bring it back to 0;
// - usage: what moved before the crash and had been drained is in the store,
//   what moved during the outage is kept by the process and flushed once
//   Redis answers (exactly), and what Redis held undrained when it died is
//   lost: at most what moved since the last drain (every second; each flush
//   and drain takes the socket counters up to its instant), plus the drain
//   in flight (allowed 0.5 s here). The test measures it.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import pino from 'pino';
import { startUsageFlush, type UsageFlusher } from '../../src/jobs/usage-flush.ts';
import { createUsageRepo } from '../../src/store/repos/usage.ts';
import { eventually, type Harness, startHarness } from '../gateway/harness.ts';
import { type EchoServer, echo, openTunnel, startEcho, type Tunnel } from '../limits/kick-tunnels.ts';
import { type OwnRedis, startRedis } from './services.ts';
import { startFlow } from './traffic.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('faults: Redis restarted under load', { timeout: 150_000 }, () => {
  let redis: OwnRedis;
  let raw: Redis;
  let h: Harness;
  let target: EchoServer;
  let flusher: UsageFlusher;
  let port: number;

  before(async () => {
    redis = await startRedis();
    h = await startHarness({}, { redisUrl: redis.url });
    target = await startEcho();
    port = await h.addUpstream({ protocol: 'direct' });
    flusher = startUsageFlush({ store: h.store, live: h.live, log: pino({ level: 'silent' }) });
    raw = new Redis(redis.url, { maxRetriesPerRequest: 1, lazyConnect: true });
    raw.on('error', () => {});
  });
  after(async () => {
    if (!redis.running) await redis.start();
    await flusher?.stop();
    raw?.disconnect();
    await h?.close();
    await target?.close();
    await redis?.stop();
  });

  /** this customer's thread count as Redis itself holds it (every process's field) */
  async function inRedis(customerId: number): Promise<number> {
    if (raw.status !== 'ready') await raw.connect().catch(() => {});
    const keys = await raw.keys(`*thr:${customerId}`);
    let n = 0;
    for (const k of keys) for (const v of Object.values(await raw.hgetall(k))) n += Number(v);
    return n;
  }

  test('tunnels keep relaying; per-process admission while down; thread counts recover', async () => {
    const plan = await h.addPlan({ threads: 4 });
    const id = await h.addCustomer('rt', 'pw', plan);
    const open = () => openTunnel(port, 'rt', 'pw', target.target);
    const held: Tunnel[] = [];
    try {
      held.push(await open(), await open());
      assert.deepEqual(
        held.map((t) => t.status),
        [200, 200],
      );
      assert.equal(await inRedis(id), 2);

      await redis.kill();
      raw.disconnect();
      await eventually(() => h.live.degraded, 5000);
      for (const t of held) assert.equal(await echo(t, 'during the outage'), 'during the outage');

      // Admission goes on, counted by this process: up to the cap, not above.
      held.push(await open(), await open());
      assert.deepEqual(
        held.map((t) => t.status),
        [200, 200, 200, 200],
      );
      const over = await open();
      over.socket.destroy();
      assert.equal(over.status, 429, over.head);
      assert.match(over.head, /threads_exceeded/);
      for (const t of held) assert.equal(await echo(t, 'still'), 'still');

      await redis.start();
      await eventually(() => !h.live.degraded, 10_000);
      // The restarted Redis knew nothing; the process writes back what it holds.
      await eventually(async () => (await inRedis(id)) === 4, 10_000);
      const again = await open();
      again.socket.destroy();
      assert.equal(again.status, 429, 'the shared count is enforced again');
      for (const t of held) assert.equal(await echo(t, 'after'), 'after');

      held.pop()!.socket.destroy();
      await eventually(async () => (await inRedis(id)) === 3, 5000);
    } finally {
      for (const t of held) t.socket.destroy();
    }
    await eventually(async () => (await inRedis(id)) === 0, 5000);
    await eventually(() => h.gateway.connections().length === 0);
  });

  test('quota: a customer over quota stays refused after Redis restarts empty', async () => {
    const plan = await h.addPlan({ threads: 5, quotaBytes: 200_000, quotaPeriod: 'month' });
    const id = await h.addCustomer('u-quota', 'pw', plan);
    const usage = createUsageRepo(h.store.db);
    const t1 = await openTunnel(port, 'u-quota', 'pw', target.target);
    assert.equal(t1.status, 200, t1.head);
    const flow = startFlow(t1);
    await eventually(() => flow.closed, 10_000); // the quota guard closed it
    await flow.stop();
    const refused = await openTunnel(port, 'u-quota', 'pw', target.target);
    refused.socket.destroy();
    assert.equal(refused.status, 403, refused.head);
    assert.match(refused.head, /quota_exceeded/);
    // Drained into the store, then Redis dies and comes back with nothing.
    await eventually(async () => {
      await flusher.flushOnce();
      const s = await usage.sum(id, 0, null);
      return s.bytesUp + s.bytesDown >= 200_000;
    }, 10_000);
    await redis.kill();
    await redis.start();
    await eventually(() => !h.live.degraded, 10_000);
    const again = await openTunnel(port, 'u-quota', 'pw', target.target);
    again.socket.destroy();
    assert.equal(again.status, 403, `after the restart: ${again.head}`);
    assert.match(again.head, /quota_exceeded/);
  });

  test('usage: nothing lost but what Redis held undrained when it died', async (t) => {
    const plan = await h.addPlan({ threads: 10 });
    const [pre, span, during] = [
      await h.addCustomer('u-pre', 'pw', plan),
      await h.addCustomer('u-span', 'pw', plan),
      await h.addCustomer('u-during', 'pw', plan),
    ];
    const usage = createUsageRepo(h.store.db);
    const stored = async (id: number) => {
      const s = await usage.sum(id, 0, null);
      return s.bytesUp + s.bytesDown;
    };
    const flow = async (user: string) => {
      const tun = await openTunnel(port, user, 'pw', target.target);
      assert.equal(tun.status, 200, tun.head);
      return startFlow(tun);
    };

    // Before the crash: moved, reported and drained.
    const a = await flow('u-pre');
    await sleep(1000);
    const aw = await a.stop();
    await eventually(async () => (await stored(pre)) === aw.up + aw.down, 10_000);

    // Across the crash: a steady flow, then Redis dies under it.
    const b = await flow('u-span');
    await sleep(2500);
    const killedAt = performance.now();
    await redis.kill();
    await eventually(() => h.live.degraded, 5000);

    // During the outage: a connection opened, used and closed.
    const c = await flow('u-during');
    await sleep(1000);
    const cw = await c.stop();

    await redis.start();
    await eventually(() => !h.live.degraded, 10_000);
    await sleep(1500);
    const bw = await b.stop();
    assert.ok(b.intact && !b.closed, 'the spanning tunnel relayed intact through the outage');

    await eventually(() => h.gateway.connections().length === 0);
    await eventually(async () => {
      await flusher.flushOnce();
      return (await stored(during)) === cw.up + cw.down;
    }, 10_000);
    await flusher.flushOnce();
    const lost = bw.up + bw.down - (await stored(span));
    const window = b.movedBetween(killedAt - 1500, killedAt);
    t.diagnostic(
      `spanning flow: ${bw.up + bw.down} bytes on the wire, ${lost} not in the store ` +
        `(${((100 * lost) / (bw.up + bw.down)).toFixed(2)}%); the 1.5 s before the crash moved ${window}`,
    );
    assert.ok(lost >= 0, `metered ${-lost} bytes more than the wire carried`);
    assert.ok(lost <= window, `lost ${lost} bytes, more than the 1.5 s before the crash moved (${window})`);
    assert.equal(await stored(pre), aw.up + aw.down, 'drained before the crash: intact');
    assert.equal(await stored(during), cw.up + cw.down, 'moved during the outage: flushed after, exactly');
  });
});
