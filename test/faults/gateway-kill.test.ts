// Gateway SIGKILLed and restarted: `portcullis up` as a child process (all
// roles; PGlite in its data dir, or PostgreSQL and Redis with DATABASE_URL
// and REDIS_URL), tunnels moving steady traffic through its port, SIGKILL,
// then the same command again.
//
// Promised (docs/reliability.md, "Faults"):
// - the ports listen and serve again after the restart (the time it takes is
//   measured and printed, not asserted: the issue asks for 2 s);
// - everything stored survives (PGlite reopens its directory after the crash);
// - usage is in the store up to the 1 s flush window: the bytes lost are at
//   most what the clients moved in the last second before the kill, plus the
//   flush being written when the kill lands (allowed 0.5 s here: a busy
//   2-core machine); measured and printed;
// - the dead process's threads are released (live count back to 0).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { freePorts } from '../clients/sockets.ts';
import { eventually } from '../gateway/harness.ts';
import { openTestStore, REDIS_URL, type TestStore } from '../helpers/store.ts';
import { killUp, spawnUp, startUp, stopUp, type UpChild } from '../helpers/up.ts';
import { type EchoServer, openTunnel, startEcho } from '../limits/kick-tunnels.ts';
import { canConnect } from './services.ts';
import { type Flow, startFlow } from './traffic.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'pc-gwkill-'));
let env: Record<string, string>;
let pgStore: TestStore | undefined;
let target: EchoServer;
let gwPort: number;
let apiUrl: string;
const children: UpChild[] = [];

before(async () => {
  target = await startEcho();
  const [api, gw] = await freePorts(2);
  gwPort = gw;
  apiUrl = `http://127.0.0.1:${api}`;
  env = {
    PORTCULLIS_DATA_DIR: dataDir,
    PORTCULLIS_API_HOST: '127.0.0.1',
    PORTCULLIS_API_PORT: String(api),
    PORTCULLIS_GATEWAY_HOST: '127.0.0.1',
    PORTCULLIS_PORTS: `${gw}-${gw}`,
    PORTCULLIS_EGRESS_ALLOW: '127.0.0.0/8',
    PORTCULLIS_API_RATE_LIMIT: '0',
    PORTCULLIS_LOG_LEVEL: 'info',
  };
  if (process.env.DATABASE_URL) {
    pgStore = await openTestStore('postgres');
    env.DATABASE_URL = pgStore.url!;
  }
  if (REDIS_URL) {
    env.REDIS_URL = REDIS_URL;
    env.PORTCULLIS_REDIS_PREFIX = `pc:gwkill:${randomBytes(4).toString('hex')}:`;
  }
});

after(async () => {
  for (const c of children) await stopUp(c);
  await target?.close();
  await pgStore?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

async function api(method: string, path: string, body?: unknown, type = 'application/json') {
  const token = readFileSync(join(dataDir, 'admin-token'), 'utf8').trim();
  const r = await fetch(`${apiUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': type } : {}) },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await r.text();
  return { status: r.status, text, json: text ? JSON.parse(text) : null };
}

test('SIGKILL then restart: ports back, data intact, usage within the 1 s window, threads released', async (t) => {
  const first = await startUp(env);
  children.push(first);
  assert.equal((await api('POST', '/api/v1/plans', { name: 'kill', threads: 10, rps: 0 })).status, 201);
  const cust = await api('POST', '/api/v1/customers', { username: 'kim', password: 'pw-kim', plan: 'kill' });
  assert.equal(cust.status, 201, cust.text);
  const imp = await api('POST', '/api/v1/upstreams/import', 'direct\n', 'text/plain');
  assert.equal(imp.status, 200, imp.text);
  assert.equal(imp.json.bound[0]?.port, gwPort, imp.text);
  // The gateway binds it when the import's event reaches it (through Redis, a moment later).
  await eventually(() => canConnect(gwPort), 10_000);

  const flows: Flow[] = [];
  for (let i = 0; i < 2; i++) {
    const tun = await openTunnel(gwPort, 'kim', 'pw-kim', target.target);
    assert.equal(tun.status, 200, tun.head);
    flows.push(startFlow(tun));
  }
  await new Promise((r) => setTimeout(r, 3000));

  const killedAt = performance.now();
  await killUp(first);
  const wire = await Promise.all(flows.map((f) => f.stop()));
  const sent = wire.reduce((s, w) => s + w.up + w.down, 0);
  const moved = (ms: number) => flows.reduce((s, f) => s + f.movedBetween(killedAt - ms, killedAt), 0);
  const lastSecond = moved(1000);
  const window = moved(1500);

  // The same command again; the port is polled until a tunnel is served.
  const spawnedAt = performance.now();
  const second = spawnUp(env);
  children.push(second);
  let listeningAt = 0;
  await eventually(async () => {
    if (second.proc.exitCode !== null)
      throw new Error(`restart exited ${second.proc.exitCode}:\n${second.out()}`);
    if (!listeningAt && (await canConnect(gwPort))) listeningAt = performance.now();
    return listeningAt > 0;
  }, 60_000);
  const tun = await openTunnel(gwPort, 'kim', 'pw-kim', target.target).catch((e: Error) => {
    throw new Error(`${e.message}\n--- restarted process:\n${second.out()}`);
  });
  const servedAt = performance.now();
  tun.socket.destroy();
  assert.equal(tun.status, 200, tun.head);
  const portsBack =
    `port listening ${(listeningAt - spawnedAt).toFixed(0)} ms after the restart began, ` +
    `a tunnel served at ${(servedAt - spawnedAt).toFixed(0)} ms (${(servedAt - killedAt).toFixed(0)} ms after the kill)`;
  t.diagnostic(portsBack);
  const startMs = (c: UpChild) => /"ms":(\d+)[^\n]*"portcullis started"/.exec(c.out())?.[1];

  // Everything stored is there; usage up to the window.
  await eventually(() => second.out().includes('"portcullis started"'), 60_000);
  t.diagnostic(
    `start-up (store, live state, bootstrap, gateway, API): first ${startMs(first)} ms, after the kill ${startMs(second)} ms`,
  );
  const got = await api('GET', '/api/v1/customers/kim');
  assert.equal(got.status, 200, got.text);
  // Two drains of the restarted process (with Redis it drains what the dead one pushed).
  await new Promise((r) => setTimeout(r, 2500));
  const usage = await api('GET', '/api/v1/customers/kim/usage');
  assert.equal(usage.status, 200, usage.text);
  // The tunnel opened after the restart counts too (its CONNECT exchange).
  const after = tun.socket.bytesRead + tun.socket.bytesWritten;
  const stored = usage.json.bytesUp + usage.json.bytesDown;
  const lost = sent + after - stored;
  t.diagnostic(
    `usage: ${sent + after} bytes on the wire, ${stored} stored, ${lost} lost ` +
      `(${((100 * lost) / (sent + after)).toFixed(2)}%, ${((1000 * lost) / lastSecond).toFixed(0)} ms of traffic ` +
      `at the last second's rate); the last second before the kill moved ${lastSecond}`,
  );
  assert.ok(lost >= 0, `stored ${-lost} bytes more than the wire carried`);
  assert.ok(lost <= window, `lost ${lost} bytes: more than the last 1.5 s before the kill moved (${window})`);

  // The dead process's threads: gone at once in memory, within the liveness TTL with Redis.
  await eventually(
    async () => (await api('GET', '/api/v1/customers/kim/usage')).json.threadsLive === 0,
    15_000,
  );
  assert.equal(await stopUp(second), 0);
});
