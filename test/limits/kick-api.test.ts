// One process running the API and the gateway on the same store and live
// state (memory, or Redis when REDIS_URL is set), as `portcullis up` does:
// the live view lists tunnels and kicks one; kick and ban close every tunnel
// of the customer within 1 s; a strike lock-out shows in the customer and
// usage answers and /api/proxies.php (403 reason timeout) until unlocked.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { buildApp } from '../../src/api/app.ts';
import { bootstrap } from '../../src/bootstrap.ts';
import { loadConfig } from '../../src/config.ts';
import { createGateway, type Gateway } from '../../src/gateway/index.ts';
import { createLive } from '../../src/live/index.ts';
import type { LiveState } from '../../src/live/live.ts';
import { createCipher } from '../../src/store/secrets.ts';
import { eventually } from '../gateway/harness.ts';
import { openTestStore, REDIS_URL, type TestStore } from '../helpers/store.ts';
import { type EchoServer, openTunnel, startEcho, type Tunnel, within } from './kick-tunnels.ts';

let store: TestStore;
let live: LiveState;
let gateway: Gateway;
let app: FastifyInstance;
let token: string;
let target: EchoServer;
let port: number;
let dataDir: string;

async function req(method: string, url: string, body?: unknown) {
  const r = await app.inject({
    method: method as 'GET',
    url,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    payload: body ? JSON.stringify(body) : undefined,
  });
  return { status: r.statusCode, body: r.body, json: r.body ? JSON.parse(r.body) : undefined };
}

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'pc-kick-'));
  const config = loadConfig({
    PORTCULLIS_DATA_DIR: dataDir,
    PORTCULLIS_GATEWAY_HOST: '127.0.0.1',
    PORTCULLIS_EGRESS_ALLOW: '127.0.0.0/8',
    PORTCULLIS_HEALTH_INTERVAL: '1h',
    PORTCULLIS_API_RATE_LIMIT: '0',
    PORTCULLIS_PUBLIC_HOST: 'proxy.test',
  });
  const log = pino({ level: 'silent' });
  store = await openTestStore();
  live = await createLive({ redisUrl: REDIS_URL, prefix: `pc-test-${randomBytes(4).toString('hex')}:` });
  const cipher = createCipher(randomBytes(32));
  gateway = createGateway({ config, store, live, cipher, log });
  await gateway.start();
  app = await buildApp({
    config,
    store,
    live,
    cipher,
    log,
    gatewayStatus: () => gateway.status(),
    gatewayConnections: () => gateway.connections(),
  });
  token = (await bootstrap({ config, store })).generatedToken!;
  target = await startEcho();
  const imp = await app.inject({
    method: 'POST',
    url: '/api/v1/upstreams/import',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'text/plain' },
    payload: 'direct\n',
  });
  assert.equal(imp.statusCode, 200, imp.body);
  port = JSON.parse(imp.body).bound[0].port;
  await eventually(() => gateway.status().get(port)?.state === 'listening');
});

after(async () => {
  await app.close();
  await gateway.stop({ drainTimeoutSec: 0 });
  await live.close();
  await store.close();
  await target.close();
  rmSync(dataDir, { recursive: true, force: true });
});

async function customer(name: string, plan: Record<string, unknown> = {}) {
  assert.equal(
    (await req('POST', '/api/v1/plans', { name: `p-${name}`, threads: 10, rps: 0, ...plan })).status,
    201,
  );
  const c = await req('POST', '/api/v1/customers', {
    username: name,
    password: 'pw-long-enough',
    plan: `p-${name}`,
  });
  assert.equal(c.status, 201, c.body);
  // The gateway learns of the new customer through a change event.
  await eventually(async () => {
    const t = await openTunnel(port, name, 'pw-long-enough', target.target);
    t.socket.destroy();
    return t.status === 200;
  });
  await eventually(async () => (await live.threads(c.json.id)) === 0);
  return c.json as { id: number; apiKey: string };
}

const tunnels = (user: string, n: number) =>
  Promise.all(Array.from({ length: n }, () => openTunnel(port, user, 'pw-long-enough', target.target)));
const statuses = (ts: Tunnel[]) => ts.map((t) => t.status);

test('live view: lists connections with their fields, filters, kicks one', async () => {
  const a = await customer('ann');
  await customer('bob');
  const ta = await tunnels('ann', 2);
  const tb = await tunnels('bob', 1);
  assert.deepEqual([...statuses(ta), ...statuses(tb)], [200, 200, 200]);
  ta[0].socket.write('hello');
  const all = await req('GET', '/api/v1/connections');
  assert.equal(all.status, 200);
  assert.equal(all.json.scope, 'process');
  assert.equal(all.json.total, 3);
  const mine = await req('GET', `/api/v1/connections?customer=ann&port=${port}`);
  assert.equal(mine.json.total, 2);
  const c = mine.json.items[0];
  assert.equal(c.customer, 'ann');
  assert.equal(c.customerId, a.id);
  assert.equal(c.clientAddress, '127.0.0.1');
  assert.equal(c.port, port);
  assert.equal(c.target, target.target);
  assert.equal(typeof c.upstream, 'string');
  assert.ok(c.bytesUp > 0 && c.bytesDown > 0, 'the CONNECT head and answer are counted');
  assert.ok(Date.parse(c.since) <= Date.now());
  assert.equal((await req('GET', `/api/v1/connections?port=${port + 1}`)).json.total, 0);
  assert.equal((await req('GET', '/api/v1/connections?port=0')).status, 400);

  const byPort = mine.json.items.find((x: { id: string }) => x.id);
  const del = await req('DELETE', `/api/v1/connections/${byPort.id}`);
  assert.equal(del.status, 202);
  await eventually(async () => (await live.threads(a.id)) === 1);
  assert.equal((await req('GET', '/api/v1/connections?customer=ann')).json.total, 1);
  if (live.kind === 'memory') assert.equal((await req('DELETE', '/api/v1/connections/nope-1')).status, 404);
  for (const t of [...ta, ...tb]) t.socket.destroy();
});

test('kick closes every tunnel of the customer within 1 s, and only theirs', async () => {
  const k = await customer('kim');
  await customer('ken');
  const tk = await tunnels('kim', 5);
  const other = await tunnels('ken', 1);
  const r = await req('POST', '/api/v1/customers/kim/kick');
  assert.equal(r.status, 200);
  assert.ok(
    await within(
      1000,
      tk.map((t) => t.closed),
    ),
    'all closed within 1 s',
  );
  await eventually(async () => (await live.threads(k.id)) === 0);
  assert.equal(other[0].socket.destroyed, false);
  // Kick is not a ban: the customer may connect again.
  const again = await tunnels('kim', 1);
  assert.equal(again[0].status, 200);
  for (const t of [...again, ...other]) t.socket.destroy();
});

test('ban closes every tunnel within 1 s and refuses new ones (403 banned)', async () => {
  const b = await customer('bea');
  const tb = await tunnels('bea', 3);
  assert.equal((await req('POST', '/api/v1/customers/bea/ban', { reason: 'abuse' })).status, 200);
  assert.ok(
    await within(
      1000,
      tb.map((t) => t.closed),
    ),
    'all closed within 1 s',
  );
  await eventually(async () => (await live.threads(b.id)) === 0);
  await eventually(async () => {
    const t = await openTunnel(port, 'bea', 'pw-long-enough', target.target);
    t.socket.destroy();
    return t.status === 403 && /banned/.test(t.head);
  });
  assert.equal((await req('POST', '/api/v1/customers/bea/unban')).status, 200);
});

test('a strike lock-out shows in the answers and /api/proxies.php until unlocked', async () => {
  const s = await customer('sol', { strikeMode: 'soft', threads: 1, threadsHardCap: 3, strikeWindowSec: 1 });
  const plan = await req('GET', '/api/v1/plans');
  const p = plan.json.find((x: { name: string }) => x.name === 'p-sol');
  assert.deepEqual([p.strikeMode, p.threadsHardCap, p.strikeWindowSec, p.lockoutSec], ['soft', 3, 1, 3600]);

  const ts = await tunnels('sol', 3);
  assert.deepEqual(statuses(ts), [200, 200, 200]);
  assert.ok(
    await within(
      5000,
      ts.map((t) => t.closed),
    ),
    'struck after the 1 s window',
  );

  const c = await req('GET', '/api/v1/customers/sol');
  assert.ok(c.json.lockedUntil, 'customer answer shows the lock-out');
  const until = Date.parse(c.json.lockedUntil);
  assert.ok(until > Date.now() + 3500_000 && until <= Date.now() + 3600_000);
  const u = await req('GET', '/api/v1/customers/sol/usage');
  assert.equal(u.json.lockedUntil, c.json.lockedUntil);
  assert.equal(u.json.threadsLive, 0);
  const php = await app.inject({ method: 'GET', url: `/api/proxies.php?api_key=${s.apiKey}` });
  assert.equal(php.statusCode, 403);
  assert.deepEqual(JSON.parse(php.body), { status: 'inactive', reason: 'timeout' });
  const refused = await openTunnel(port, 'sol', 'pw-long-enough', target.target);
  assert.equal(refused.status, 403);
  assert.match(refused.head, /timeout/);

  const un = await req('POST', '/api/v1/customers/sol/unlock');
  assert.equal(un.status, 200);
  assert.equal(un.json.lockedUntil, null);
  assert.equal((await req('GET', '/api/v1/customers/sol/usage')).json.lockedUntil, null);
  const ok = await app.inject({ method: 'GET', url: `/api/proxies.php?api_key=${s.apiKey}` });
  assert.equal(ok.statusCode, 200);
  assert.equal(ok.body, `proxy.test:${port}\n`);
  const again = await tunnels('sol', 1);
  assert.equal(again[0].status, 200);
  again[0].socket.destroy();
  await eventually(async () => (await live.threads(s.id)) === 0);
});
