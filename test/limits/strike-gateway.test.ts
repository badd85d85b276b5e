// The strike rule end to end through a real gateway on loopback, with the
// plan's window and lock-out made small (1 s and 30 s) so it stays fast: soft
// mode admits up to the hard cap; above `threads` for the window, every tunnel
// is closed, the customer is locked out (403 reason timeout, SOCKS5 0x02),
// the lock-out is a security event, and lifting it admits again.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { eq } from '../../src/store/orm.ts';
import { plans, securityEvents } from '../../src/store/schema.ts';
import { eventually, type Harness, startHarness } from '../gateway/harness.ts';
import { type EchoServer, openTunnel, startEcho, type Tunnel, within } from './kick-tunnels.ts';

let h: Harness;
let target: EchoServer;
let port: number;

before(async () => {
  h = await startHarness();
  target = await startEcho();
  port = await h.addUpstream({ protocol: 'direct' });
});
after(async () => {
  await h.close();
  await target.close();
});

async function softCustomer(name: string, window: number): Promise<number> {
  const planId = await h.addPlan({ name: `soft-${name}`, threads: 2 });
  await h.store.db
    .update(plans)
    .set({ strikeMode: 'soft', threadsHardCap: 4, strikeWindowSec: window, lockoutSec: 30 })
    .where(eq(plans.id, planId));
  return h.addCustomer(name, 'pw', planId);
}

const open = (user: string, n: number) =>
  Promise.all(Array.from({ length: n }, () => openTunnel(port, user, 'pw', target.target)));
const destroy = (ts: Tunnel[]) => {
  for (const t of ts) t.socket.destroy();
};

test('soft mode: admitted up to the hard cap, then struck after the window', async () => {
  const cid = await softCustomer('sid', 1);
  const ts = await open('sid', 5);
  assert.deepEqual(ts.map((t) => t.status).sort(), [200, 200, 200, 200, 429], 'hard cap 4');
  const admitted = ts.filter((t) => t.status === 200);
  // Above threads (2) for the 1 s window: every tunnel is closed.
  assert.ok(
    await within(
      5000,
      admitted.map((t) => t.closed),
    ),
    'struck within the window plus one tick',
  );
  await eventually(async () => (await h.live.threads(cid)) === 0);
  const until = await h.live.lockedUntil(cid);
  assert.ok(
    until > Date.now() + 25_000 && until <= Date.now() + 30_000,
    `locked out ~30 s (${until - Date.now()})`,
  );

  // Locked out: refused with reason timeout, holding no thread.
  const refused = await openTunnel(port, 'sid', 'pw', target.target);
  assert.equal(refused.status, 403);
  assert.match(refused.head, /timeout/);
  await refused.closed;
  assert.equal(await h.live.threads(cid), 0);

  await eventually(async () => {
    const rows = await h.store.db.select().from(securityEvents).where(eq(securityEvents.customerId, cid));
    return rows.length === 1 && rows[0].kind === 'lockout';
  });

  // Lifting the lock-out (what the API's unlock does) admits again.
  await h.live.setLockout(cid, 0);
  const again = await open('sid', 1);
  assert.equal(again[0].status, 200);
  destroy(again);
  destroy(ts);
  await eventually(async () => (await h.live.threads(cid)) === 0);
});

test('soft mode at (not above) threads, or above only briefly, is never struck', async () => {
  const cid = await softCustomer('sue', 2);
  const ts = await open('sue', 2);
  // Above the limit for well under the window, three times.
  for (let i = 0; i < 3; i++) {
    const extra = await open('sue', 1);
    assert.equal(extra[0].status, 200);
    await new Promise((r) => setTimeout(r, 300));
    destroy(extra);
    await extra[0].closed;
    await new Promise((r) => setTimeout(r, 300));
  }
  await new Promise((r) => setTimeout(r, 2500));
  assert.equal(await h.live.lockedUntil(cid), 0);
  for (const t of ts) assert.equal(t.socket.destroyed, false, 'still open');
  destroy(ts);
  await eventually(async () => (await h.live.threads(cid)) === 0);
});
