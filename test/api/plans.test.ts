// Admin API: plans, and the bad input every endpoint must answer precisely.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Api, startApi } from './harness.ts';

describe('plans API', () => {
  let api: Api;
  before(async () => {
    api = await startApi();
  });
  after(() => api.close());

  it('bootstrap seeded Basic, Pro and Enterprise', async () => {
    const r = await api.req('GET', '/api/v1/plans');
    assert.equal(r.status, 200);
    const byName = Object.fromEntries(r.json.map((p: { name: string }) => [p.name, p]));
    assert.equal(byName.Basic.threads, 10);
    assert.equal(byName.Basic.quotaBytes, 1e9);
    assert.equal(byName.Basic.priceCents, 1000);
    assert.equal(byName.Pro.threads, 50);
    assert.equal(byName.Enterprise.quotaBytes, 1e11);
    assert.equal(byName.Enterprise.quotaPeriod, 'month');
  });

  it('creates, reads, changes and deletes a plan', async () => {
    const c = await api.req('POST', '/api/v1/plans', {
      body: { name: 'Trial', threads: 2, rps: 5, bandwidth: 100_000, quotaBytes: 5e8, durationDays: 3 },
    });
    assert.equal(c.status, 201, c.body);
    assert.equal(c.json.name, 'Trial');
    assert.equal(c.json.quotaPeriod, 'month');
    const g = await api.req('GET', '/api/v1/plans/Trial');
    assert.equal(g.json.bandwidth, 100_000);
    const p = await api.req('PATCH', '/api/v1/plans/Trial', { body: { threads: 4, bandwidth: null } });
    assert.equal(p.status, 200, p.body);
    assert.equal(p.json.threads, 4);
    assert.equal(p.json.bandwidth, null);
    const d = await api.req('DELETE', '/api/v1/plans/Trial');
    assert.equal(d.status, 204);
    assert.equal((await api.req('GET', '/api/v1/plans/Trial')).status, 404);
  });

  it('publishes a plan event on change so gateways reload', async () => {
    await api.req('POST', '/api/v1/plans', { body: { name: 'Evt', threads: 1, rps: 1 } });
    const seen: unknown[] = [];
    const off = api.live.subscribe((e) => seen.push(e));
    await api.req('PATCH', '/api/v1/plans/Evt', { body: { rps: 2 } });
    for (let i = 0; i < 50 && !seen.some((e) => (e as { type: string }).type === 'plan'); i++)
      await new Promise((r) => setTimeout(r, 20));
    off();
    assert.ok(seen.some((e) => (e as { type: string }).type === 'plan'));
  });

  it('400 names every bad field: missing, malformed, unknown', async () => {
    const r = await api.req('POST', '/api/v1/plans', {
      body: { name: '!bad', threads: -1, quotaPeriod: 'year', color: 'red' },
    });
    assert.equal(r.status, 400);
    assert.equal(r.json.error.code, 'PC_ERR_VALIDATION');
    const fields = r.json.error.fields.map((f: { field: string }) => f.field).sort();
    assert.deepEqual(fields, ['color', 'name', 'quotaPeriod', 'rps', 'threads']);
    const q = r.json.error.fields.find((f: { field: string }) => f.field === 'quotaPeriod');
    assert.match(q.problem, /one of none, day, week, month, month_from_start/);
  });

  it('400 for a body that is not JSON, or empty, or of the wrong type', async () => {
    const bad = await api.req('POST', '/api/v1/plans', { body: '{"name": ' });
    assert.equal(bad.status, 400);
    assert.equal(bad.json.error.code, 'PC_ERR_VALIDATION');
    const arr = await api.req('POST', '/api/v1/plans', { body: [1, 2] });
    assert.equal(arr.status, 400);
    const empty = await api.req('PATCH', '/api/v1/plans/Basic', { body: {} });
    assert.equal(empty.status, 400);
  });

  it('409 for a duplicate name and for deleting a plan in use', async () => {
    const dup = await api.req('POST', '/api/v1/plans', { body: { name: 'Basic', threads: 1, rps: 1 } });
    assert.equal(dup.status, 409);
    assert.equal(dup.json.error.code, 'PC_ERR_CONFLICT');
    assert.match(dup.json.error.message, /Basic/);
    await api.req('POST', '/api/v1/customers', { body: { username: 'user-of-pro', plan: 'Pro' } });
    const del = await api.req('DELETE', '/api/v1/plans/Pro');
    assert.equal(del.status, 409);
    assert.match(del.json.error.message, /used by 1 customer/);
  });

  it('404 for an unknown plan on read, change and delete', async () => {
    for (const [m, body] of [
      ['GET', undefined],
      ['PATCH', { threads: 3 }],
      ['DELETE', undefined],
    ] as const) {
      const r = await api.req(m, '/api/v1/plans/Nope', { body });
      assert.equal(r.status, 404, `${m}: ${r.body}`);
      assert.equal(r.json.error.code, 'PC_ERR_NOT_FOUND');
      assert.match(r.json.error.message, /"Nope"/);
    }
  });

  it('413 for a JSON body over 1 MiB', async () => {
    const r = await api.req('POST', '/api/v1/plans', {
      body: JSON.stringify({ name: 'Big', threads: 1, rps: 1, pad: 'x'.repeat(1024 * 1024 + 10) }),
    });
    assert.equal(r.status, 413);
    assert.equal(r.json.error.code, 'PC_ERR_PAYLOAD_TOO_LARGE');
  });

  it('every admin change leaves an audit event with who and from where', async () => {
    await api.req('POST', '/api/v1/plans', { body: { name: 'Audited', threads: 1, rps: 1 }, ip: '10.9.8.7' });
    const r = await api.req('GET', '/api/v1/audit?limit=5');
    const e = r.json.find((x: { target: string }) => x.target === 'Audited');
    assert.equal(e.action, 'plan.create');
    assert.equal(e.actor, 'bootstrap');
    assert.equal(e.ip, '10.9.8.7');
  });
});
