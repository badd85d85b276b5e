// Requests/s and per-IP limits through the real gateway. The memory live state
// runs on a frozen clock, so buckets refill only when the test moves the clock
// (no sleeping, no timing); with REDIS_URL the buckets live in Redis on its own
// clock, and the limits are low (1/s) against exchanges that take milliseconds.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { curl, eventually, type Harness, startHarness } from '../gateway/harness.ts';
import { type Origin, startOrigin } from '../helpers/origin.ts';
import {
  basic,
  close,
  connectTunnel,
  openWire,
  reason,
  send,
  socks5Connect,
  status,
  until,
} from './clients.ts';

describe('limits: requests/s and per client IP', () => {
  let h: Harness;
  let origin: Origin;
  let port: number;
  let clock = Date.UTC(2030, 0, 15, 12);
  const tick = (ms: number): void => {
    clock += ms;
  };
  /** the bucket has a token again: moves the frozen clock, or waits for Redis's */
  const refill = async (check: () => Promise<boolean>): Promise<void> => {
    tick(1000);
    await eventually(check, 5000);
  };

  before(async () => {
    h = await startHarness({}, { now: () => clock, redis: true });
    origin = await startOrigin();
    port = await h.addUpstream({ protocol: 'direct' });
  });
  after(async () => {
    await h.close();
    await origin.close();
  });

  const get = (user: string) => curl(['-x', `http://${user}:pw@127.0.0.1:${port}`, '-i', `${origin.url}/`]);

  test('new connections over rps get 429 rate_limited; a token comes back at the rate', async () => {
    const plan = await h.addPlan({ threads: 50, rps: 1 });
    await h.addCustomer('rps1', 'pw', plan);
    const a = await get('rps1');
    assert.equal(a.code, 200);
    const b = await get('rps1');
    assert.equal(b.code, 429);
    assert.match(b.body, /X-Portcullis-Reason: rate_limited/);
    assert.match(b.body, /PC_ERR_RATE_LIMITED/);
    await refill(async () => (await get('rps1')).code === 200);
  });

  test('each further request on a keep-alive connection costs a token', async () => {
    const plan = await h.addPlan({ threads: 50, rps: 2 });
    const id = await h.addCustomer('rps2', 'pw', plan);
    const w = await openWire(port);
    const req = `GET ${origin.url}/ HTTP/1.1\r\nHost: 127.0.0.1\r\nProxy-Authorization: ${basic('rps2', 'pw')}\r\n\r\n`;
    const answers = (s: string) => s.split('HTTP/1.1 ').length - 1;
    send(w, req); // admission: token 1
    assert.equal(status(await until(w, (s) => s.endsWith('hello from origin\n'))), 200);
    send(w, req); // token 2
    await until(w, (s) => answers(s) === 2 && s.endsWith('hello from origin\n'));
    send(w, req); // none left
    const s = await until(w, (t) => answers(t) === 3 && t.includes('\r\n\r\n', t.lastIndexOf('HTTP/1.1 ')));
    const third = s.slice(s.lastIndexOf('HTTP/1.1 '));
    assert.equal(status(third), 429);
    assert.equal(reason(third), 'rate_limited');
    await w.closed; // the refusal closes the connection
    await eventually(async () => (await h.live.threads(id)) === 0);
  });

  test('a CONNECT tunnel costs one token; SOCKS5 over the rate gets reply 0x02', async () => {
    const plan = await h.addPlan({ threads: 50, rps: 1 });
    await h.addCustomer('rps3', 'pw', plan);
    const t = await connectTunnel(port, 'rps3', 'pw', `127.0.0.1:${origin.port}`);
    assert.equal(t.status, 200);
    // Many bytes and requests inside the tunnel cost nothing more.
    send(t.w, `GET /bytes/100000 HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n`);
    await until(t.w, (s) => s.endsWith('hello from origin\n'));
    const s = await socks5Connect(port, 'rps3', 'pw', origin.port);
    assert.equal(s.reply, 0x02);
    await close(s.w);
    await close(t.w);
    await refill(async () => {
      const again = await socks5Connect(port, 'rps3', 'pw', origin.port);
      await close(again.w);
      return again.reply === 0;
    });
  });

  test('rps 0 is unlimited', async () => {
    const plan = await h.addPlan({ threads: 50, rps: 0 });
    await h.addCustomer('free', 'pw', plan);
    for (let i = 0; i < 5; i++) assert.equal((await get('free')).code, 200);
  });

  test('per-IP concurrent connections: over ipMaxConns 429 ip_limited, freed on close', async () => {
    const plan = await h.addPlan({ threads: 50, ipMaxConns: 2 });
    await h.addCustomer('ipc', 'pw', plan);
    const target = `127.0.0.1:${origin.port}`;
    const a = await connectTunnel(port, 'ipc', 'pw', target);
    const b = await connectTunnel(port, 'ipc', 'pw', target);
    assert.equal(a.status, 200);
    assert.equal(b.status, 200);
    const c = await connectTunnel(port, 'ipc', 'pw', target);
    assert.equal(c.status, 429);
    assert.equal(reason(c.head), 'ip_limited');
    await close(c.w);
    await close(a.w);
    await eventually(async () => {
      const d = await connectTunnel(port, 'ipc', 'pw', target);
      await close(d.w);
      return d.status === 200;
    });
    await close(b.w);
    await eventually(() => h.gateway.connections().length === 0);
  });

  test('per-IP new connections/s: over ipRps 429 ip_limited', async () => {
    const plan = await h.addPlan({ threads: 50, ipRps: 1 });
    await h.addCustomer('ipr', 'pw', plan);
    assert.equal((await get('ipr')).code, 200);
    const b = await get('ipr');
    assert.equal(b.code, 429);
    assert.match(b.body, /X-Portcullis-Reason: ip_limited/);
    await refill(async () => (await get('ipr')).code === 200);
  });
});
