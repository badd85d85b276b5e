import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ORIGIN_BODY, type Origin, startOrigin } from '../helpers/origin.ts';
import { freePort, type Peer, startMicrosocks, startSquid } from '../helpers/peers.ts';
import { curl, eventually, type Harness, startHarness } from './harness.ts';

describe('gateway: chained upstreams (Portcullis, squid, microsocks)', () => {
  let h: Harness;
  let origin: Origin;
  let direct: number;
  let viaHttp: number;
  let viaSocks: number;
  let badHttp: number;
  let badSocks: number;
  let downPort: number;
  let userId: number;
  let hopId: number;

  before(async () => {
    h = await startHarness();
    origin = await startOrigin();
    const plan = await h.addPlan({ threads: 20 });
    userId = await h.addCustomer('dave', 'pw1', plan);
    // The account the chained ports use to reach the first hop.
    hopId = await h.addCustomer('hop', 'hop-pass', plan);
    direct = await h.addUpstream({ protocol: 'direct' });
    viaHttp = await h.addUpstream({
      protocol: 'http',
      host: '127.0.0.1',
      port: direct,
      username: 'hop',
      password: 'hop-pass',
    });
    viaSocks = await h.addUpstream({
      protocol: 'socks5',
      host: '127.0.0.1',
      port: direct,
      username: 'hop',
      password: 'hop-pass',
    });
    badHttp = await h.addUpstream({
      protocol: 'http',
      host: '127.0.0.1',
      port: direct,
      username: 'hop',
      password: 'x',
    });
    badSocks = await h.addUpstream({
      protocol: 'socks5',
      host: '127.0.0.1',
      port: direct,
      username: 'hop',
      password: 'x',
    });
    downPort = await h.addUpstream({ protocol: 'http', host: '127.0.0.1', port: await freePort() });
  });
  after(async () => {
    await h.close();
    await origin.close();
  });

  const noLeaks = () =>
    eventually(
      async () =>
        h.gateway.connections().length === 0 &&
        h.gateway.openSockets === 0 &&
        (await h.live.threads(userId)) === 0 &&
        (await h.live.threads(hopId)) === 0,
    );

  for (const [name, which] of [
    ['http', () => viaHttp],
    ['socks5', () => viaSocks],
  ] as const) {
    test(`through a Portcullis ${name} upstream: forward, CONNECT, SOCKS5 clients`, async () => {
      const p = which();
      const a = await curl([
        '-x',
        `http://dave:pw1@127.0.0.1:${p}`,
        `${origin.url}/`,
        `${origin.url}/bytes/3000`,
      ]);
      assert.equal(a.code, 200);
      // Two requests on one keep-alive connection (curl -w prints codes after each).
      assert.ok(a.body.startsWith(ORIGIN_BODY), 'first response');
      assert.ok(a.body.endsWith(`\n200 000${'a'.repeat(3000)}`), 'second response');
      const b = await curl(['-p', '-x', `http://dave:pw1@127.0.0.1:${p}`, `${origin.url}/bytes/200000`]);
      assert.equal(b.code, 200);
      assert.equal(b.body.length, 200000);
      const c = await curl(['-x', `socks5h://dave:pw1@127.0.0.1:${p}`, `http://localhost:${origin.port}/`]);
      assert.equal(c.code, 200);
      assert.equal(c.body, ORIGIN_BODY);
      await noLeaks();
    });
  }

  test('a SOCKS5 upstream that closes instead of answering our credentials: 502 upstream_down', async () => {
    const { createServer } = await import('node:net');
    const dying = createServer((s) => {
      s.on('error', () => {});
      s.once('data', () => {
        s.write(Buffer.from([5, 2]));
        s.once('data', () => s.destroy());
      });
    });
    await new Promise<void>((r) => dying.listen(0, '127.0.0.1', r));
    try {
      const p = await h.addUpstream({
        protocol: 'socks5',
        host: '127.0.0.1',
        port: (dying.address() as { port: number }).port,
        username: 'u',
        password: 'p',
      });
      const a = await curl(['-i', '-x', `http://dave:pw1@127.0.0.1:${p}`, `${origin.url}/`]);
      assert.equal(a.code, 502);
      assert.match(a.body, /X-Portcullis-Reason: upstream_down/i);
      await noLeaks();
    } finally {
      dying.close();
    }
  });

  test('upstream refusing our credentials: 502 upstream_auth_failed', async () => {
    for (const p of [badHttp, badSocks]) {
      const a = await curl(['-i', '-x', `http://dave:pw1@127.0.0.1:${p}`, `${origin.url}/`]);
      assert.equal(a.code, 502, `port ${p}`);
      assert.match(a.body, /X-Portcullis-Reason: upstream_auth_failed/i);
      const b = await curl(['-p', '-x', `http://dave:pw1@127.0.0.1:${p}`, `${origin.url}/`]);
      assert.equal(b.connectCode, 502);
    }
    await noLeaks();
  });

  test('unreachable upstream: 502 upstream_down; the health checker marks it down', async () => {
    const a = await curl(['-i', '-x', `http://dave:pw1@127.0.0.1:${downPort}`, `${origin.url}/`]);
    assert.equal(a.code, 502);
    assert.match(a.body, /X-Portcullis-Reason: upstream_down/i);
    await h.gateway.checkHealth();
    const b = await curl(['-i', '-x', `http://dave:pw1@127.0.0.1:${downPort}`, `${origin.url}/`]);
    assert.equal(b.code, 502);
    assert.match(b.body, /upstream_down/);
    await noLeaks();
  });

  test('refused target through a chain: 502 target_refused', async () => {
    const closed = await freePort();
    const a = await curl(['-i', '-x', `http://dave:pw1@127.0.0.1:${viaHttp}`, `http://127.0.0.1:${closed}/`]);
    assert.equal(a.code, 502);
    assert.match(a.body, /target_refused/);
    const b = await curl(['-x', `socks5://dave:pw1@127.0.0.1:${viaSocks}`, `http://127.0.0.1:${closed}/`]);
    assert.notEqual(b.exit, 0);
    await noLeaks();
  });
});

describe('gateway: failover to a healthy upstream', () => {
  test('a down upstream is skipped when failover is on', async () => {
    const h = await startHarness({ PORTCULLIS_FAILOVER: 'true' });
    const origin = await startOrigin();
    try {
      const plan = await h.addPlan();
      await h.addCustomer('erin', 'pw', plan);
      const direct = await h.addUpstream({ protocol: 'direct' });
      await h.addUpstream({
        protocol: 'http',
        host: '127.0.0.1',
        port: direct,
        username: 'erin',
        password: 'pw',
      });
      const down = await h.addUpstream({ protocol: 'http', host: '127.0.0.1', port: await freePort() });
      await h.gateway.checkHealth();
      const r = await curl(['-x', `http://erin:pw@127.0.0.1:${down}`, `${origin.url}/`]);
      assert.equal(r.code, 200);
      assert.equal(r.body, ORIGIN_BODY);
    } finally {
      await h.close();
      await origin.close();
    }
  });
});

describe('gateway: real peers as upstreams', () => {
  let h: Harness;
  let origin: Origin;
  let squid: Peer;
  let socks: Peer;

  before(async () => {
    h = await startHarness();
    origin = await startOrigin();
    squid = await startSquid({ auth: { user: 'sq', pass: 'sqpw' } });
    socks = await startMicrosocks({ auth: { user: 'ms', pass: 'mspw' } });
    const plan = await h.addPlan();
    await h.addCustomer('frank', 'pw', plan);
  });
  after(async () => {
    await h.close();
    await origin.close();
    await squid.stop();
    await socks.stop();
  });

  test('squid with Basic credentials as HTTP upstream', async () => {
    const p = await h.addUpstream({
      protocol: 'http',
      host: '127.0.0.1',
      port: squid.port,
      username: 'sq',
      password: 'sqpw',
    });
    const a = await curl(['-x', `http://frank:pw@127.0.0.1:${p}`, `${origin.url}/`]);
    assert.equal(a.code, 200);
    assert.equal(a.body, ORIGIN_BODY);
    const b = await curl(['-p', '-x', `http://frank:pw@127.0.0.1:${p}`, `${origin.url}/bytes/10000`]);
    assert.equal(b.code, 200);
    assert.equal(b.body.length, 10000);
    const bad = await h.addUpstream({
      protocol: 'http',
      host: '127.0.0.1',
      port: squid.port,
      username: 'sq',
      password: 'no',
    });
    const c = await curl(['-i', '-x', `http://frank:pw@127.0.0.1:${bad}`, `${origin.url}/`]);
    assert.equal(c.code, 502);
    assert.match(c.body, /upstream_auth_failed/);
  });

  test('microsocks with RFC 1929 credentials as SOCKS5 upstream', async () => {
    const p = await h.addUpstream({
      protocol: 'socks5',
      host: '127.0.0.1',
      port: socks.port,
      username: 'ms',
      password: 'mspw',
    });
    const a = await curl(['-x', `http://frank:pw@127.0.0.1:${p}`, `${origin.url}/`]);
    assert.equal(a.code, 200);
    const b = await curl([
      '-x',
      `socks5h://frank:pw@127.0.0.1:${p}`,
      `http://localhost:${origin.port}/bytes/10000`,
    ]);
    assert.equal(b.code, 200);
    assert.equal(b.body.length, 10000);
  });
});
