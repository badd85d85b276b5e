// Issue 7 item 3 on the gateway: credential lock-out on the HTTP 407 path and
// the SOCKS5 RFC 1929 path, with the default rule (10 distinct failures in 10
// minutes lock for 15 minutes). Each scenario uses its own loopback source
// address (127.0.0.x), so address lock-outs do not leak between tests. Live
// state is Redis when REDIS_URL is set, memory otherwise.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import pino from 'pino';
import { loadConfig } from '../../src/config.ts';
import { createGateway, type Gateway } from '../../src/gateway/index.ts';
import type { LiveState } from '../../src/live/live.ts';
import { createMemoryLive } from '../../src/live/memory.ts';
import { createRedisLive } from '../../src/live/redis.ts';
import { customers, plans, securityEvents, upstreams } from '../../src/store/schema.ts';
import { createCipher, hashPassword } from '../../src/store/secrets.ts';
import { startApi } from '../api/harness.ts';
import { curl, type Harness, startHarness } from '../gateway/harness.ts';
import { ORIGIN_BODY, type Origin, startOrigin } from '../helpers/origin.ts';
import { freePort } from '../helpers/peers.ts';
import { openTestStore, REDIS_URL, type TestStore } from '../helpers/store.ts';

interface HttpAnswer {
  status: number;
  code: string | null;
  body: string;
}

/** One forward-proxy request from `from` through the gateway; status, X-Portcullis-Code and body. */
function viaHttp(
  port: number,
  from: string,
  target: string,
  auth: [string, string] | null,
  gatewayHost = '127.0.0.1',
): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ port, host: gatewayHost, localAddress: from });
    const parts: Buffer[] = [];
    const timer = setTimeout(() => s.destroy(new Error('no answer in 5 s')), 5000);
    s.on('data', (d) => parts.push(d));
    s.on('error', reject);
    s.on('close', () => {
      clearTimeout(timer);
      const text = Buffer.concat(parts).toString('latin1');
      const head = text.slice(0, text.indexOf('\r\n\r\n'));
      resolve({
        status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0),
        code: /\r\nX-Portcullis-Code: (\S+)/i.exec(head)?.[1] ?? null,
        body: text.slice(head.length + 4),
      });
    });
    const creds = auth
      ? `Proxy-Authorization: Basic ${Buffer.from(`${auth[0]}:${auth[1]}`).toString('base64')}\r\n`
      : '';
    s.write(`GET ${target} HTTP/1.1\r\nHost: x\r\n${creds}Connection: close\r\n\r\n`);
  });
}

/** SOCKS5 greeting with method 0x02 and an RFC 1929 sub-negotiation; the auth status byte. */
function viaSocks(port: number, from: string, user: string, pass: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ port, host: '127.0.0.1', localAddress: from });
    let got = Buffer.alloc(0);
    const timer = setTimeout(() => s.destroy(new Error('no answer in 5 s')), 5000);
    s.on('error', reject);
    s.on('data', (d) => {
      got = Buffer.concat([got, d]);
      if (got.length >= 4) {
        clearTimeout(timer);
        s.destroy();
        resolve(got[3]);
      }
    });
    const u = Buffer.from(user);
    const p = Buffer.from(pass);
    s.write(Buffer.from([5, 1, 2]));
    s.write(Buffer.concat([Buffer.from([1, u.length]), u, Buffer.from([p.length]), p]));
  });
}

const sig = (a: HttpAnswer) => `${a.status} ${a.code}`;

describe('gateway: credential lock-out (defaults: 10 distinct failures)', () => {
  let store: TestStore;
  let h: Harness;
  let origin: Origin;
  let port: number;
  let target: string;

  before(async () => {
    store = await openTestStore();
    h = await startHarness({}, { redis: true, store });
    origin = await startOrigin();
    target = `${origin.url}/`;
    const plan = await h.addPlan({ threads: 20 });
    for (const u of ['alice', 'bob', 'carol', 'dave', 'erin']) await h.addCustomer(u, `${u}-pw`, plan);
    await h.addCustomer('wl', 'wl-pw', plan, ['127.0.0.30/32']);
    port = await h.addUpstream({ protocol: 'direct' });
  });
  after(async () => {
    await h.close();
    await origin.close();
    await store.close();
  });

  test('two mistakes, then the right password: admitted (defaults do not lock out a typo)', async () => {
    const from = '127.0.0.2';
    assert.equal(
      sig(await viaHttp(port, from, target, ['alice', 'alice-pw1'])),
      '407 PC_ERR_BAD_CREDENTIALS',
    );
    assert.equal(sig(await viaHttp(port, from, target, ['alice', 'Alice-pw'])), '407 PC_ERR_BAD_CREDENTIALS');
    const ok = await viaHttp(port, from, target, ['alice', 'alice-pw']);
    assert.equal(ok.status, 200);
    assert.equal(ok.body, ORIGIN_BODY);
  });

  test('one stale password repeated 60 times (a many-threaded client) counts once: never locked', async () => {
    const from = '127.0.0.3';
    const tries = await Promise.all(
      Array.from({ length: 60 }, () => viaHttp(port, from, target, ['bob', 'old-password'])),
    );
    assert.deepEqual(new Set(tries.map(sig)), new Set(['407 PC_ERR_BAD_CREDENTIALS']));
    assert.equal((await viaHttp(port, from, target, ['bob', 'bob-pw'])).status, 200);
  });

  test('10 distinct failures lock the address: 429 auth_locked on HTTP (curl too) and 0x02 on SOCKS5, right password or not', async () => {
    const from = '127.0.0.4';
    for (let i = 0; i < 10; i++)
      assert.equal(
        sig(await viaHttp(port, from, target, [`guess${i}`, `pw${i}`])),
        '407 PC_ERR_BAD_CREDENTIALS',
        `attempt ${i + 1}`,
      );
    assert.equal(sig(await viaHttp(port, from, target, ['carol', 'carol-pw'])), '429 PC_ERR_AUTH_LOCKED');
    const c = await curl([
      '--interface',
      from,
      '-x',
      `http://carol:carol-pw@127.0.0.1:${port}`,
      '-D',
      '-',
      target,
    ]);
    assert.equal(c.code, 429);
    assert.match(c.body, /X-Portcullis-Reason: auth_locked/i);
    assert.equal(await viaSocks(port, from, 'carol', 'carol-pw'), 0x02, 'RFC 1929 status 0x02');
    // Another address is not concerned, and carol's username was never guessed.
    assert.equal((await viaHttp(port, '127.0.0.5', target, ['carol', 'carol-pw'])).status, 200);
  });

  test('the same answers for a known and an unknown username, failure after failure (no oracle)', async () => {
    const known: string[] = [];
    const unknown: string[] = [];
    for (let i = 0; i < 12; i++) {
      known.push(sig(await viaHttp(port, '127.0.0.6', target, ['dave', `wrong${i}`])));
      unknown.push(sig(await viaHttp(port, '127.0.0.7', target, ['ghost', `wrong${i}`])));
    }
    assert.deepEqual(known, unknown);
    assert.deepEqual(known, [
      ...Array(10).fill('407 PC_ERR_BAD_CREDENTIALS'),
      ...Array(2).fill('429 PC_ERR_AUTH_LOCKED'),
    ]);
    // Both usernames are now locked from any new address, the same way, on both protocols.
    assert.equal(
      sig(await viaHttp(port, '127.0.0.8', target, ['dave', 'dave-pw'])),
      '429 PC_ERR_AUTH_LOCKED',
    );
    assert.equal(sig(await viaHttp(port, '127.0.0.8', target, ['ghost', 'x'])), '429 PC_ERR_AUTH_LOCKED');
    assert.equal(await viaSocks(port, '127.0.0.9', 'dave', 'dave-pw'), 0x02);
    assert.equal(await viaSocks(port, '127.0.0.9', 'ghost', 'x'), 0x02);
  });

  test('a username sprayed from 10 addresses is locked, except where its owner signed in before', async () => {
    assert.equal((await viaHttp(port, '127.0.0.10', target, ['erin', 'erin-pw'])).status, 200);
    for (let i = 0; i < 10; i++)
      assert.equal(
        await viaSocks(port, `127.0.0.${11 + i}`, 'erin', `spray${i}`),
        0x01,
        'each address fails once: plain failures',
      );
    assert.equal(
      sig(await viaHttp(port, '127.0.0.25', target, ['erin', 'erin-pw'])),
      '429 PC_ERR_AUTH_LOCKED',
    );
    const owner = await viaHttp(port, '127.0.0.10', target, ['erin', 'erin-pw']);
    assert.equal(owner.status, 200, "erin's own address keeps working");
  });

  test('a whitelisted address is never refused for failures counted against it', async () => {
    for (let i = 0; i < 12; i++) await viaHttp(port, '127.0.0.30', target, [`nobody${i}`, 'x']);
    for (let i = 0; i < 12; i++) await viaHttp(port, '127.0.0.31', target, [`nobody${i}`, 'y']);
    assert.equal(
      sig(await viaHttp(port, '127.0.0.31', target, ['alice', 'alice-pw'])),
      '429 PC_ERR_AUTH_LOCKED',
      'the same failures from an address on no whitelist lock it',
    );
    const byIp = await viaHttp(port, '127.0.0.30', target, null);
    assert.equal(byIp.status, 200, 'IP authentication is untouched');
    assert.equal((await viaHttp(port, '127.0.0.30', target, ['alice', 'alice-pw'])).status, 200);
  });

  test('lock-outs and failures are security events with the client address, in batches', async () => {
    // Stopping the gateway writes what its recorder still holds.
    await h.gateway.stop({ drainTimeoutSec: 0 });
    const rows = await store.db.select().from(securityEvents);
    const lockouts = rows.filter((r) => r.kind === 'auth_lockout');
    const keys = lockouts.map((r) => (r.detail as { key: string }).key);
    for (const k of [
      'ip:127.0.0.4',
      'ip:127.0.0.6',
      'ip:127.0.0.7',
      'u:dave',
      'u:ghost',
      'u:erin',
      'ip:127.0.0.31',
    ])
      assert.ok(keys.includes(k), `lock-out ${k} recorded`);
    assert.equal(new Set(keys).size, keys.length, 'one event per lock-out');
    assert.equal(lockouts.find((r) => (r.detail as { key: string }).key === 'u:dave')?.ip, '127.0.0.6');
    const failures = rows.filter((r) => r.kind === 'auth_failures');
    const from3 = failures.filter((r) => r.ip === '127.0.0.3');
    assert.ok(from3.length <= 2, `60 failures from one address in ${from3.length} row(s), not 60`);
    assert.equal(
      from3.reduce((n, r) => n + (r.detail as { count: number }).count, 0),
      60,
      'every failure is accounted for',
    );
    await h.gateway.start();
  });
});

describe('gateway: lock-outs are shared by gateway processes', () => {
  // Gateway A listens on 127.0.0.1, B on 127.0.0.2, over one store and one
  // live state: Redis (two connections under one key prefix, as two processes
  // have) when REDIS_URL is set, else one memory instance.
  const prefix = `pctest:${randomBytes(5).toString('hex')}:`;
  const lives: LiveState[] = [];
  const gateways: Gateway[] = [];
  let store: TestStore;
  let origin: Origin;
  let port: number;

  async function openLive(): Promise<LiveState> {
    if (!REDIS_URL) {
      if (lives.length === 0) lives.push(createMemoryLive());
      return lives[0];
    }
    const r = createRedisLive({ url: REDIS_URL, prefix });
    await r.ready(5000);
    lives.push(r);
    return r;
  }

  before(async () => {
    store = await openTestStore();
    origin = await startOrigin();
    const [plan] = await store.db.insert(plans).values({ name: 'p', threads: 20, rps: 0 }).returning();
    await store.db.insert(customers).values({
      username: 'frank',
      passwordHash: await hashPassword('frank-pw'),
      apiKeyHash: randomBytes(16).toString('hex'),
      apiKeyPrefix: 'pck_test',
      planId: plan.id,
    });
    port = await freePort();
    await store.db
      .insert(upstreams)
      .values({ protocol: 'direct', host: '', port: 0, identity: 'direct', boundPort: port });
    const cipher = createCipher(randomBytes(32));
    for (const host of ['127.0.0.1', '127.0.0.2']) {
      const config = loadConfig({
        PORTCULLIS_GATEWAY_HOST: host,
        PORTCULLIS_EGRESS_ALLOW: '127.0.0.0/8',
        PORTCULLIS_HEALTH_INTERVAL: '1h',
      });
      const g = createGateway({
        config,
        store,
        live: await openLive(),
        cipher,
        log: pino({ level: 'silent' }),
      });
      await g.start();
      gateways.push(g);
    }
  });
  after(async () => {
    for (const g of gateways) await g.stop({ drainTimeoutSec: 0 });
    for (const l of lives) await l.close();
    if (REDIS_URL) {
      const r = new Redis(REDIS_URL);
      const keys = await r.keys(`${prefix}*`);
      if (keys.length > 0) await r.del(...keys);
      r.disconnect();
    }
    await origin.close();
    await store.close();
  });

  test('5 failures on A and 5 on B lock the address and the username on both', async () => {
    const target = `${origin.url}/`;
    for (let i = 0; i < 5; i++) {
      assert.equal((await viaHttp(port, '127.0.0.50', target, ['frank', `a${i}`], '127.0.0.1')).status, 407);
      assert.equal((await viaHttp(port, '127.0.0.50', target, ['frank', `b${i}`], '127.0.0.2')).status, 407);
    }
    for (const gw of ['127.0.0.2', '127.0.0.1']) {
      // B learns of a lock-out A set through the published event: wait for it
      // with a credential already counted (a repeat counts nothing).
      const deadline = Date.now() + 2000;
      let a = await viaHttp(port, '127.0.0.50', target, ['frank', 'a0'], gw);
      while (a.status !== 429 && Date.now() < deadline)
        a = await viaHttp(port, '127.0.0.50', target, ['frank', 'a0'], gw);
      assert.equal(sig(a), '429 PC_ERR_AUTH_LOCKED', `address refused on ${gw}`);
      assert.equal(
        sig(await viaHttp(port, '127.0.0.50', target, ['frank', 'frank-pw'], gw)),
        '429 PC_ERR_AUTH_LOCKED',
        `the right password from the address, on ${gw}`,
      );
      assert.equal(
        sig(await viaHttp(port, '127.0.0.51', target, ['frank', 'frank-pw'], gw)),
        '429 PC_ERR_AUTH_LOCKED',
        `the username from another address, on ${gw}`,
      );
    }
  });

  test('the API lifts the address and the username lock-out on both gateways', async () => {
    // The API as a third process: the same store, its own live-state connection.
    const api = await startApi({ store, live: await openLive() });
    try {
      const target = `${origin.url}/`;
      const lift = await api.req('POST', '/api/v1/lockouts/lift', { body: { address: '127.0.0.50' } });
      assert.equal(lift.status, 200, lift.body);
      const left = (await api.req('GET', '/api/v1/lockouts')).json as { scope: string; key: string }[];
      assert.deepEqual(
        left.map((l) => `${l.scope} ${l.key}`),
        ['username frank'],
        'the username lock-out stays until unlock',
      );
      assert.equal((await api.req('POST', '/api/v1/customers/frank/unlock', { body: {} })).status, 200);
      for (const gw of ['127.0.0.1', '127.0.0.2']) {
        const deadline = Date.now() + 2000;
        let r = await viaHttp(port, '127.0.0.50', target, ['frank', 'frank-pw'], gw);
        while (r.status !== 200 && Date.now() < deadline)
          r = await viaHttp(port, '127.0.0.50', target, ['frank', 'frank-pw'], gw);
        assert.equal(r.status, 200, `the right password from the address, on ${gw}: ${sig(r)}`);
      }
    } finally {
      await api.close();
    }
  });
});
