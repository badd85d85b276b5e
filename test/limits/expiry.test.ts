// Expiry: an absolute date, and "start on first use" — the first admitted
// connection sets first_used_at and expires_at = now + plan.durationDays in
// the store (once, whatever races), then the customer expires on that date.
// The gateway runs on an injected clock.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { eq } from '../../src/store/orm.ts';
import { customers } from '../../src/store/schema.ts';
import { curl, eventually, type Harness, startHarness } from '../gateway/harness.ts';
import { type Origin, startOrigin } from '../helpers/origin.ts';

const DAY = 86_400_000;

describe('limits: expiry', () => {
  let h: Harness;
  let origin: Origin;
  let port: number;
  let clock = Date.UTC(2030, 2, 1, 8);

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
  const row = async (id: number) =>
    (await h.store.db.select().from(customers).where(eq(customers.id, id)))[0];

  test('an absolute expiry date in the past: 403 expired', async () => {
    const plan = await h.addPlan({ threads: 5 });
    const id = await h.addCustomer('abs', 'pw', plan);
    assert.equal((await get('abs')).code, 200);
    await h.setCustomer(id, { expiresAt: new Date(clock - 1) });
    const r = await get('abs');
    assert.equal(r.code, 403);
    assert.match(r.body, /X-Portcullis-Reason: expired/);
  });

  test('start on first use: the clock starts at the first connection, then expires', async () => {
    const plan = await h.addPlan({ threads: 5, durationDays: 2 });
    const id = await h.addCustomer('sofu', 'pw', plan);
    await h.setCustomer(id, { startOnFirstUse: true, expiresAt: null });
    // Unused for a year: still not started, still valid.
    clock += 365 * DAY;
    const before = await row(id);
    assert.equal(before.firstUsedAt, null);
    const started = clock;
    // Several first connections at once: one UPDATE wins, the clock starts once.
    const first = await Promise.all([get('sofu'), get('sofu'), get('sofu')]);
    for (const r of first) assert.equal(r.code, 200);
    const after = await row(id);
    assert.equal(after.firstUsedAt?.getTime(), started);
    assert.equal(after.expiresAt?.getTime(), started + 2 * DAY);
    // The change event reloads the policy; a day later it still works ...
    clock += DAY;
    assert.equal((await get('sofu')).code, 200);
    assert.equal((await row(id)).firstUsedAt?.getTime(), started);
    // ... and two days after the first use it has expired.
    clock += DAY;
    await eventually(async () => (await get('sofu')).code === 403);
    assert.match((await get('sofu')).body, /X-Portcullis-Reason: expired/);
  });
});
