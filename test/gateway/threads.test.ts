// The gateway on two threads (PORTCULLIS_GATEWAY_THREADS=2): the main thread
// and one worker thread bind the same port and the kernel spreads the
// connections of each test over both. What the threads must agree on, each
// checked with enough connections (16-24) that both threads take some:
//
// - both threads serve, and census() lists the connections of both;
// - a thread cap, a per-IP cap and requests/s hold for the process, not per
//   thread, and every slot comes back when the connections close;
// - a kick (customer or one connection), a ban and a lock-out reach both;
//   a lock-out set just before a kick holds for clients reconnecting after
//   it; a thread started during a lock-out starts with it;
// - every byte relayed by either thread is counted, and stop() hands it over;
// - the main thread's health results reach the worker (failover works there);
// - a worker thread that dies gives back its slots and is replaced, and the
//   replacement starts with the lock-outs in force.
//
// The thread cap also runs over Redis live state when REDIS_URL is set.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import { loadConfig } from '../../src/config.ts';
import { createIpSlots } from '../../src/gateway/limits/ip-slots.ts';
import { storeSource } from '../../src/gateway/store-source.ts';
import { createWorkerPool } from '../../src/gateway/threads/pool.ts';
import { REDIS_URL } from '../helpers/store.ts';
import { openWire, send, until, type Wire } from '../limits/clients.ts';
import { type EchoServer, openTunnel, startEcho, type Tunnel, within } from '../limits/kick-tunnels.ts';
import { eventually, type Harness, startHarness } from './harness.ts';

const N = 16;
const THREADS = { PORTCULLIS_GATEWAY_THREADS: '2' };

/** The registry part of a connection id: one per thread. */
const threadOf = (id: string) => id.split('-')[0];

function openMany(port: number, user: string, target: string, n = N): Promise<Tunnel[]> {
  return Promise.all(Array.from({ length: n }, () => openTunnel(port, user, 'pw', target)));
}

function destroy(ts: Tunnel[]): void {
  for (const t of ts) t.socket.destroy();
}

describe('gateway on two threads', { timeout: 120_000 }, () => {
  let h: Harness;
  let echo: EchoServer;
  let port: number;

  before(async () => {
    echo = await startEcho();
    h = await startHarness(THREADS);
    port = await h.addUpstream({ protocol: 'direct' });
  });
  after(async () => {
    await h.close();
    await echo.close();
  });

  test('both threads serve, and census() lists the connections of both', async () => {
    assert.equal(h.gateway.threads, 2);
    const plan = await h.addPlan({ threads: 100 });
    const id = await h.addCustomer('both', 'pw', plan);
    const ts = await openMany(port, 'both', echo.target);
    assert.deepEqual(
      ts.map((t) => t.status),
      Array(N).fill(200),
    );
    const census = await h.gateway.census();
    const mine = census.connections.filter((c) => c.customerId === id);
    assert.equal(mine.length, N);
    assert.equal(new Set(mine.map((c) => threadOf(c.id))).size, 2, 'connections on both threads');
    assert.ok(h.gateway.connections().length < N, 'the main thread holds only its own');
    assert.ok(census.openSockets >= N);
    destroy(ts);
    await eventually(async () => (await h.live.threads(id)) === 0);
    await eventually(async () => (await h.gateway.census()).connections.length === 0);
  });

  test('a thread cap holds across threads, and every slot comes back', async () => {
    const plan = await h.addPlan({ threads: 4 });
    const id = await h.addCustomer('capped', 'pw', plan);
    const ts = await openMany(port, 'capped', echo.target);
    const codes = ts.map((t) => t.status);
    assert.equal(codes.filter((c) => c === 200).length, 4, `admitted: ${codes}`);
    assert.equal(codes.filter((c) => c === 429).length, N - 4);
    assert.equal(await h.live.threads(id), 4);
    destroy(ts);
    await eventually(async () => (await h.live.threads(id)) === 0);
    // The four slots are free again, on whichever thread the next four land.
    const again = await openMany(port, 'capped', echo.target, 4);
    assert.deepEqual(
      again.map((t) => t.status),
      [200, 200, 200, 200],
    );
    destroy(again);
    await eventually(async () => (await h.live.threads(id)) === 0);
  });

  test('a per-IP cap holds across threads, and its slots come back', async () => {
    const plan = await h.addPlan({ threads: 100, ipMaxConns: 3 });
    const id = await h.addCustomer('perip', 'pw', plan);
    const ts = await openMany(port, 'perip', echo.target);
    const codes = ts.map((t) => t.status);
    assert.equal(codes.filter((c) => c === 200).length, 3, `admitted: ${codes}`);
    assert.ok(ts.filter((t) => t.status === 429).every((t) => t.head.includes('ip_limited')));
    destroy(ts);
    await eventually(async () => (await h.live.threads(id)) === 0);
    await eventually(async () => {
      const next = await openMany(port, 'perip', echo.target, 3);
      destroy(next);
      return next.every((t) => t.status === 200);
    });
  });

  test('requests/s is one budget across threads', async () => {
    // A bucket of 1 (burst = rate, refilled after 1 s), asked 16 times at once
    // over both threads: a bucket per thread would admit 2.
    const plan = await h.addPlan({ threads: 100, rps: 1 });
    const id = await h.addCustomer('rated', 'pw', plan);
    const ts = await openMany(port, 'rated', echo.target);
    const codes = ts.map((t) => t.status);
    assert.equal(codes.filter((c) => c === 200).length, 1, `admitted: ${codes}`);
    assert.ok(ts.filter((t) => t.status === 429).every((t) => t.head.includes('rate_limited')));
    assert.equal(new Set(ts.map((t) => t.status)).size, 2, 'only 200 and 429');
    destroy(ts);
    await eventually(async () => (await h.live.threads(id)) === 0);
  });

  test('kicks, a ban and a lock-out reach both threads', async () => {
    const plan = await h.addPlan({ threads: 100 });
    const id = await h.addCustomer('kicked', 'pw', plan);

    // One connection, by id: one held by the worker thread.
    let ts = await openMany(port, 'kicked', echo.target);
    const mainIds = new Set(h.gateway.connections().map((c) => c.id));
    const onWorker = (await h.gateway.census()).connections.find(
      (c) => c.customerId === id && !mainIds.has(c.id),
    );
    assert.ok(onWorker, 'a connection on the worker thread');
    await h.live.publish({ type: 'kick-conn', connId: onWorker.id });
    await eventually(async () => (await h.live.threads(id)) === N - 1);
    assert.ok(!(await h.gateway.census()).connections.some((c) => c.id === onWorker.id));

    // The customer: every socket on both threads.
    await h.live.publish({ type: 'kick', customerId: id, reason: 'test' });
    assert.ok(
      await within(
        2000,
        ts.map((t) => t.closed),
      ),
      'all tunnels closed',
    );
    await eventually(async () => (await h.live.threads(id)) === 0);

    // A lock-out set in live state refuses on both threads; lifting it admits
    // again. The worker mirrors lock-outs from the main thread's messages; a
    // census call goes after the change on the same port, so once it is
    // answered the worker has the change.
    await h.live.setLockout(id, Date.now() + 60_000);
    await h.gateway.census();
    ts = await openMany(port, 'kicked', echo.target);
    assert.ok(
      ts.every((t) => t.status === 403),
      `${ts.map((t) => t.status)}`,
    );
    await h.live.setLockout(id, 0);
    await h.gateway.census();
    ts = await openMany(port, 'kicked', echo.target);
    assert.ok(ts.every((t) => t.status === 200));
    destroy(ts);
    await eventually(async () => (await h.live.threads(id)) === 0);

    // A ban through the store and the change event: both threads reload the policy.
    await h.setCustomer(id, { status: 'banned' });
    ts = await openMany(port, 'kicked', echo.target);
    assert.ok(
      ts.every((t) => t.status === 403 && t.head.includes('banned')),
      `${ts.map((t) => t.status)}`,
    );
  });

  test("a strike's order, lock-out then kick: clients reconnecting after the kick are refused on both threads", async () => {
    const plan = await h.addPlan({ threads: 100 });
    const id = await h.addCustomer('struck', 'pw', plan);
    const ts = await openMany(port, 'struck', echo.target);
    assert.ok(ts.every((t) => t.status === 200));
    // As gateway/strike.ts does, with no wait after either step: the worker
    // learns the lock-out from a message sent ahead of the kick on the same
    // port, so by the time its tunnels close it refuses the customer.
    await h.live.setLockout(id, Date.now() + 60_000);
    await h.live.publish({ type: 'kick', customerId: id, reason: 'strike' });
    assert.ok(
      await within(
        2000,
        ts.map((t) => t.closed),
      ),
      'all tunnels closed',
    );
    const again = await openMany(port, 'struck', echo.target);
    assert.ok(
      again.every((t) => t.status === 403),
      `${again.map((t) => t.status)}`,
    );
    destroy(again);
  });

  test("the main thread's health results reach the worker: failover works on both", async () => {
    const plan = await h.addPlan({ threads: 100 });
    await h.addCustomer('hop', 'pw', plan);
    const f = await startHarness({ ...THREADS, PORTCULLIS_FAILOVER: 'true' });
    try {
      await f.addCustomer('hop', 'pw', await f.addPlan({ threads: 100 }));
      // Port A: an upstream that refuses connections; port B: an HTTP upstream
      // (the first gateway's port) that answers. Only the health check tells them apart.
      const closed = await (await import('../helpers/peers.ts')).freePort();
      const a = await f.addUpstream({ protocol: 'http', host: '127.0.0.1', port: closed });
      await f.addUpstream({ protocol: 'http', host: '127.0.0.1', port, username: 'hop', password: 'pw' });
      await f.gateway.checkHealth();
      await eventually(async () => {
        const ts = await openMany(a, 'hop', echo.target);
        destroy(ts);
        return ts.every((t) => t.status === 200);
      });
    } finally {
      await f.close();
    }
  });
});

describe('gateway on two threads: usage and stop', { timeout: 60_000 }, () => {
  test('every byte relayed by either thread is counted, and stop() hands it over', async () => {
    const echo = await startEcho();
    const h = await startHarness(THREADS);
    try {
      const port = await h.addUpstream({ protocol: 'direct' });
      const id = await h.addCustomer('meter', 'pw', await h.addPlan({ threads: 100 }));
      const auth = Buffer.from('meter:pw').toString('base64');
      const wires: Wire[] = await Promise.all(Array.from({ length: N }, () => openWire(port)));
      for (const w of wires)
        send(
          w,
          `CONNECT ${echo.target} HTTP/1.1\r\nHost: ${echo.target}\r\nProxy-Authorization: Basic ${auth}\r\n\r\n`,
        );
      await Promise.all(wires.map((w) => until(w, (s) => s.includes('\r\n\r\n'))));
      const payload = 'x'.repeat(5000);
      for (const w of wires) send(w, payload);
      await Promise.all(wires.map((w) => until(w, (s) => s.endsWith(payload))));
      const census = await h.gateway.census();
      assert.equal(new Set(census.connections.map((c) => threadOf(c.id))).size, 2);
      // Still open when the gateway stops: the drain closes them, the usage goes over.
      await h.gateway.stop({ drainTimeoutSec: 0 });
      const usage = (await h.live.drainUsage()).filter((d) => d.customerId === id);
      const sum = (k: 'bytesUp' | 'bytesDown' | 'connections') => usage.reduce((a, d) => a + d[k], 0);
      assert.equal(
        sum('bytesUp'),
        wires.reduce((a, w) => a + w.sent, 0),
      );
      assert.equal(
        sum('bytesDown'),
        wires.reduce((a, w) => a + w.received, 0),
      );
      assert.equal(sum('connections'), N);
      assert.equal(await h.live.threads(id), 0);
    } finally {
      await h.close();
      await echo.close();
    }
  });

  test('a worker thread that dies gives back its slots and is replaced', async () => {
    const echo = await startEcho();
    const h = await startHarness();
    const config = loadConfig({
      PORTCULLIS_GATEWAY_HOST: '127.0.0.1',
      PORTCULLIS_EGRESS_ALLOW: '127.0.0.0/8',
      PORTCULLIS_LOG_LEVEL: 'silent',
    });
    const pool = createWorkerPool({
      config,
      live: h.live,
      source: storeSource(h.store, h.cipher),
      ipSlots: createIpSlots(),
      log: pino({ level: 'silent' }),
      count: 1,
      healthNow: () => [],
    });
    try {
      const port = await h.addUpstream({ protocol: 'direct' });
      const id = await h.addCustomer('crash', 'pw', await h.addPlan({ threads: 100 }));
      await pool.start();
      // The harness's main thread and the pool's worker share the port.
      const ts = await openMany(port, 'crash', echo.target, 24);
      assert.ok(ts.every((t) => t.status === 200));
      const onWorker = (await pool.census())[0].connections.length;
      assert.ok(onWorker > 0 && onWorker < 24, `worker holds ${onWorker}`);
      assert.equal(await h.live.threads(id), 24);
      await pool.kill(1);
      // A lock-out set while no worker runs (the replacement starts 1 s
      // later): the replacement starts with it, so it refuses like the main thread.
      await h.live.setLockout(id, Date.now() + 60_000);
      await eventually(async () => (await h.live.threads(id)) === 24 - onWorker);
      await eventually(() => ts.filter((t) => t.socket.destroyed).length === onWorker);
      destroy(ts);
      await eventually(async () => (await h.live.threads(id)) === 0);
      await eventually(() => pool.running === 1, 5000);
      const locked = await openMany(port, 'crash', echo.target, 24);
      assert.ok(
        locked.every((t) => t.status === 403),
        `${locked.map((t) => t.status)}`,
      );
    } finally {
      await pool.stop(0);
      await h.close();
      await echo.close();
    }
  });
});

if (REDIS_URL) {
  describe('gateway on two threads over Redis live state', { timeout: 60_000 }, () => {
    test('a thread cap holds across threads', async () => {
      const echo = await startEcho();
      const h = await startHarness(THREADS, { redis: true });
      try {
        const port = await h.addUpstream({ protocol: 'direct' });
        const id = await h.addCustomer('rcap', 'pw', await h.addPlan({ threads: 5 }));
        const ts = await openMany(port, 'rcap', echo.target);
        const codes = ts.map((t) => t.status);
        assert.equal(codes.filter((c) => c === 200).length, 5, `admitted: ${codes}`);
        assert.equal(await h.live.threads(id), 5);
        destroy(ts);
        await eventually(async () => (await h.live.threads(id)) === 0);
      } finally {
        await h.close();
        await echo.close();
      }
    });
  });
}
