// Threads are released exactly when a connection closes, whatever way it
// closes: the client leaves, the target closes, a kick (customer or one
// connection), the idle timeout, a refusal after the thread was taken (the
// target refuses), HTTP keep-alive connections. Each case reads the live
// count back to 0 and checks the registry is empty.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { curl, eventually, type Harness, startHarness } from '../gateway/harness.ts';
import { freePort } from '../helpers/peers.ts';
import { type EchoServer, echo, openTunnel, startEcho, within } from './kick-tunnels.ts';

let h: Harness;
let target: EchoServer;
let port: number;
let cid: number;

before(async () => {
  h = await startHarness({ PORTCULLIS_IDLE_TIMEOUT: '1s' });
  target = await startEcho();
  cid = await h.addCustomer('tom', 'pw', await h.addPlan({ threads: 10 }));
  port = await h.addUpstream({ protocol: 'direct' });
});
after(async () => {
  await h.close();
  await target.close();
});

const threads = () => h.live.threads(cid);
const drained = async () => {
  await eventually(async () => (await threads()) === 0 && h.gateway.connections().length === 0);
};

test('client close releases', async () => {
  const ts = await Promise.all([1, 2, 3].map(() => openTunnel(port, 'tom', 'pw', target.target)));
  for (const t of ts) assert.equal(t.status, 200);
  assert.equal(await echo(ts[0], 'ping'), 'ping');
  assert.equal(await threads(), 3);
  assert.equal(h.gateway.connections().length, 3);
  ts[0].socket.end();
  ts[1].socket.destroy();
  await eventually(async () => (await threads()) === 1);
  ts[2].socket.destroy();
  await drained();
});

test('target close releases', async () => {
  const t = await openTunnel(port, 'tom', 'pw', target.target);
  assert.equal(await echo(t, 'x'), 'x');
  assert.equal(await threads(), 1);
  for (const s of target.sockets) s.destroy();
  assert.ok(await within(3000, [t.closed]), 'client side closed after the target left');
  await drained();
});

test('customer kick and single-connection kick release', async () => {
  const ts = await Promise.all([1, 2].map(() => openTunnel(port, 'tom', 'pw', target.target)));
  const [one] = h.gateway.connections().filter((c) => c.clientAddress === '127.0.0.1');
  await h.live.publish({ type: 'kick-conn', connId: one.id });
  await eventually(async () => (await threads()) === 1);
  await h.live.publish({ type: 'kick', customerId: cid, reason: 'admin' });
  assert.ok(
    await within(
      1000,
      ts.map((t) => t.closed),
    ),
    'every tunnel closed within 1 s',
  );
  await drained();
});

test('idle timeout releases', async () => {
  const t = await openTunnel(port, 'tom', 'pw', target.target);
  assert.equal(await threads(), 1);
  assert.ok(await within(4000, [t.closed]), 'idle tunnel closed by the gateway');
  await drained();
});

test('refusal after the thread was taken (target refuses) releases', async () => {
  const dead = await freePort();
  const t = await openTunnel(port, 'tom', 'pw', `127.0.0.1:${dead}`);
  assert.equal(t.status, 502);
  await t.closed;
  await drained();
});

test('HTTP keep-alive connections release on close; refused ones never hold a thread', async () => {
  const ok = await curl([
    '-x',
    `http://tom:pw@127.0.0.1:${port}`,
    `http://${target.target}/`,
    '--max-time',
    '1',
  ]);
  // The echo target answers the request with itself, which is not HTTP: any answer will do here.
  assert.ok(ok.exit !== 0 || ok.code > 0);
  const bad = await curl(['-x', `http://tom:wrong@127.0.0.1:${port}`, `http://${target.target}/`]);
  assert.equal(bad.code, 407);
  await drained();
});

test('at the limit: the next connection is refused 429 and the count stays exact', async () => {
  await h.store.db.execute(
    `update plans set threads = 2 where id = (select plan_id from customers where id = ${cid})`,
  );
  await h.live.publish({ type: 'customer', customerId: cid });
  await eventually(() => h.gateway.connections().length === 0);
  await new Promise((r) => setTimeout(r, 100));
  const ts = await Promise.all([1, 2, 3].map(() => openTunnel(port, 'tom', 'pw', target.target)));
  const codes = ts.map((t) => t.status).sort();
  assert.deepEqual(codes, [200, 200, 429]);
  assert.match(ts.find((t) => t.status === 429)!.head, /threads_exceeded/i);
  assert.equal(await threads(), 2);
  for (const t of ts) t.socket.destroy();
  await drained();
});

test('a policy change that refuses the customer (ban, expiry) closes their connections once reloaded', async () => {
  // No kick event here: only the change. This is what catches a reconnect
  // admitted between a ban's kick and the reload of the banned policy.
  const planId = await h.addPlan({ threads: 10 });
  const id = await h.addCustomer('vic', 'pw', planId);
  const a = await openTunnel(port, 'vic', 'pw', target.target);
  assert.equal(a.status, 200);
  await h.setCustomer(id, { status: 'banned' });
  assert.ok(await within(3000, [a.closed]), 'closed after the reload');
  await h.setCustomer(id, { status: 'active', expiresAt: new Date(Date.now() - 1000) });
  const b = await openTunnel(port, 'vic', 'pw', target.target);
  assert.equal(b.status, 403);
  assert.match(b.head, /expired/);
  await h.setCustomer(id, { expiresAt: null });
  const c = await openTunnel(port, 'vic', 'pw', target.target);
  assert.equal(c.status, 200);
  await h.setCustomer(id, { expiresAt: new Date(Date.now() - 1000) });
  assert.ok(await within(3000, [c.closed]), 'closed once expired');
  await eventually(async () => (await h.live.threads(id)) === 0);
});
