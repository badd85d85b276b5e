// Admin API: customers, whitelist, usage, kick, ban.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { LiveEvent } from '../../src/live/live.ts';
import { createRepos } from '../../src/store/repos/index.ts';
import { verifyPassword } from '../../src/store/secrets.ts';
import { type Api, startApi } from './harness.ts';

const DAY = 86_400_000;

describe('customers API', () => {
  let api: Api;
  const events: LiveEvent[] = [];
  before(async () => {
    api = await startApi();
    api.live.subscribe((e) => events.push(e));
  });
  after(() => api.close());

  async function waitEvent(pred: (e: LiveEvent) => boolean) {
    for (let i = 0; i < 100 && !events.some(pred); i++) await new Promise((r) => setTimeout(r, 10));
    assert.ok(events.some(pred), `no such event in ${JSON.stringify(events)}`);
  }

  it('creates a customer: API key and generated password once, hashed at rest, expiry from the plan', async () => {
    const t0 = Date.now();
    const r = await api.req('POST', '/api/v1/customers', { body: { username: 'alice', plan: 'Basic' } });
    assert.equal(r.status, 201, r.body);
    assert.match(r.json.apiKey, /^pck_/);
    assert.equal(r.json.apiKeyPrefix, r.json.apiKey.slice(0, 10));
    assert.equal(typeof r.json.password, 'string');
    const exp = Date.parse(r.json.expiresAt);
    assert.ok(exp >= t0 + 30 * DAY - 1000 && exp <= Date.now() + 30 * DAY + 1000);
    const row = (await createRepos(api.store.db).customers.byUsername('alice'))!.customer;
    assert.notEqual(row.apiKeyHash, r.json.apiKey);
    assert.ok(await verifyPassword(r.json.password, row.passwordHash));
    const g = await api.req('GET', '/api/v1/customers/alice');
    assert.equal(g.json.apiKey, undefined);
    assert.equal(g.json.password, undefined);
    assert.equal(g.json.plan, 'Basic');
    assert.equal(g.json.status, 'active');
    await waitEvent((e) => e.type === 'customer' && e.customerId === r.json.id);
  });

  it('takes a given password and expiry and does not echo the password', async () => {
    const r = await api.req('POST', '/api/v1/customers', {
      body: { username: 'bob', plan: 'Pro', password: 'hunter22', expiresAt: '2031-01-01T00:00:00Z' },
    });
    assert.equal(r.status, 201, r.body);
    assert.equal(r.json.password, undefined);
    assert.equal(r.json.expiresAt, '2031-01-01T00:00:00.000Z');
  });

  it('404 naming an unknown plan, 409 for a duplicate username', async () => {
    const p = await api.req('POST', '/api/v1/customers', { body: { username: 'carol', plan: 'Gold' } });
    assert.equal(p.status, 404);
    assert.match(p.json.error.message, /plan "Gold"/);
    const d = await api.req('POST', '/api/v1/customers', { body: { username: 'alice', plan: 'Basic' } });
    assert.equal(d.status, 409);
    assert.equal(d.json.error.code, 'PC_ERR_CONFLICT');
  });

  it('400 names each bad field of a customer', async () => {
    const r = await api.req('POST', '/api/v1/customers', {
      body: { username: 'has space', password: 'a', expiresAt: 'tomorrow' },
    });
    assert.equal(r.status, 400);
    const fields = r.json.error.fields.map((f: { field: string }) => f.field).sort();
    assert.deepEqual(fields, ['expiresAt', 'password', 'plan', 'username']);
    const q = await api.req('GET', '/api/v1/customers?limit=0&offset=-1');
    assert.equal(q.status, 400);
    assert.deepEqual(q.json.error.fields.map((f: { field: string }) => f.field).sort(), ['limit', 'offset']);
  });

  it('lists with paging and filters', async () => {
    for (let i = 0; i < 5; i++)
      await api.req('POST', '/api/v1/customers', { body: { username: `page${i}`, plan: 'Basic' } });
    const r = await api.req('GET', '/api/v1/customers?limit=2&offset=1&plan=Basic');
    assert.equal(r.status, 200);
    assert.equal(r.json.items.length, 2);
    assert.equal(r.json.total, 6);
    assert.equal(r.json.items[0].username, 'page0');
    assert.equal((await api.req('GET', '/api/v1/customers?plan=Nope')).status, 404);
  });

  it('changes plan, password, expiry and status; unknown plan or customer is 404', async () => {
    const r = await api.req('PATCH', '/api/v1/customers/bob', {
      body: { plan: 'Basic', password: 'newpass1', expiresAt: null, status: 'disabled' },
    });
    assert.equal(r.status, 200, r.body);
    assert.equal(r.json.plan, 'Basic');
    assert.equal(r.json.expiresAt, null);
    assert.equal(r.json.status, 'disabled');
    await waitEvent((e) => e.type === 'kick' && e.customerId === r.json.id);
    assert.equal((await api.req('PATCH', '/api/v1/customers/bob', { body: { plan: 'Nope' } })).status, 404);
    assert.equal(
      (await api.req('PATCH', '/api/v1/customers/nobody', { body: { status: 'active' } })).status,
      404,
    );
    const bad = await api.req('PATCH', '/api/v1/customers/bob', { body: { status: 'gone' } });
    assert.equal(bad.status, 400);
    assert.equal(bad.json.error.fields[0].field, 'status');
    const key = await api.req('PATCH', '/api/v1/customers/bob', { body: { regenerateApiKey: true } });
    assert.match(key.json.apiKey, /^pck_/);
  });

  it('whitelists IPv4, IPv6 and CIDRs canonically; refuses invalid ones and foreign owners', async () => {
    const a = await api.req('POST', '/api/v1/customers/alice/ips', { body: { cidr: '203.0.113.7' } });
    assert.equal(a.status, 201, a.body);
    assert.equal(a.json.cidr, '203.0.113.7/32');
    const b = await api.req('POST', '/api/v1/customers/alice/ips', { body: { cidr: '2001:DB8:0:0::/48' } });
    assert.equal(b.json.cidr, '2001:db8::/48');
    const again = await api.req('POST', '/api/v1/customers/alice/ips', { body: { cidr: '203.0.113.7/32' } });
    assert.equal(again.status, 201);
    const other = await api.req('POST', '/api/v1/customers/bob/ips', { body: { cidr: '203.0.113.7' } });
    assert.equal(other.status, 409);
    for (const cidr of ['300.1.1.1', '10.0.0.1/8', '10.0.0.0/33', 'fe80::/129', 'not-an-ip', '1.2.3.4/8/9']) {
      const r = await api.req('POST', '/api/v1/customers/alice/ips', { body: { cidr } });
      assert.equal(r.status, 400, cidr);
      assert.equal(r.json.error.fields[0].field, 'cidr');
    }
    const missing = await api.req('POST', '/api/v1/customers/alice/ips', { body: {} });
    assert.equal(missing.json.error.fields[0].field, 'cidr');
    const g = await api.req('GET', '/api/v1/customers/alice');
    assert.deepEqual(
      g.json.ips.map((i: { cidr: string }) => i.cidr),
      ['203.0.113.7/32', '2001:db8::/48'],
    );
    assert.equal(
      (await api.req('DELETE', `/api/v1/customers/alice/ips/${encodeURIComponent('2001:db8::/48')}`)).status,
      204,
    );
    assert.equal((await api.req('DELETE', '/api/v1/customers/alice/ips/203.0.113.7')).status, 204);
    assert.equal((await api.req('DELETE', '/api/v1/customers/alice/ips/203.0.113.7')).status, 404);
    assert.equal((await api.req('DELETE', '/api/v1/customers/alice/ips/bogus')).status, 400);
    assert.equal(
      (await api.req('POST', '/api/v1/customers/nobody/ips', { body: { cidr: '1.1.1.1' } })).status,
      404,
    );
  });

  it('usage counts the hourly buckets of this period without adding the live counter twice', async () => {
    const c = (await createRepos(api.store.db).customers.byUsername('alice'))!.customer;
    const hour = Math.floor(Date.now() / 3_600_000) * 3_600_000;
    const usage = createRepos(api.store.db).usage;
    await usage.add([{ customerId: c.id, hour, bytesUp: 100, bytesDown: 1000, connections: 1, requests: 2 }]);
    await usage.add([{ customerId: c.id, hour, bytesUp: 50, bytesDown: 500, connections: 1, requests: 1 }]);
    const r = await api.req('GET', '/api/v1/customers/alice/usage');
    assert.equal(r.status, 200, r.body);
    assert.equal(r.json.bytesUp, 150);
    assert.equal(r.json.bytesDown, 1500);
    assert.equal(r.json.bytesUsed, 1650);
    assert.equal(r.json.quotaBytes, 1e9);
    assert.equal(r.json.threadsLive, 0);
    assert.ok(Date.parse(r.json.periodStart) <= Date.now());
    assert.equal((await api.req('GET', '/api/v1/customers/nobody/usage')).status, 404);
  });

  it('kick, ban with reason and until, unban; each publishes for the gateways', async () => {
    const k = await api.req('POST', '/api/v1/customers/alice/kick');
    assert.equal(k.status, 200);
    const until = new Date(Date.now() + 3_600_000).toISOString();
    const b = await api.req('POST', '/api/v1/customers/alice/ban', { body: { reason: 'abuse', until } });
    assert.equal(b.status, 200, b.body);
    assert.equal(b.json.status, 'banned');
    assert.equal(b.json.banReason, 'abuse');
    assert.equal(b.json.bannedUntil, until);
    const past = await api.req('POST', '/api/v1/customers/alice/ban', {
      body: { until: '2000-01-01T00:00:00Z' },
    });
    assert.equal(past.status, 400);
    const badUntil = await api.req('POST', '/api/v1/customers/alice/ban', {
      body: { until: 'soon', extra: 1 },
    });
    assert.deepEqual(badUntil.json.error.fields.map((f: { field: string }) => f.field).sort(), [
      'extra',
      'until',
    ]);
    const u = await api.req('POST', '/api/v1/customers/alice/unban');
    assert.equal(u.json.status, 'active');
    assert.equal(u.json.banReason, null);
    assert.equal((await api.req('POST', '/api/v1/customers/nobody/kick')).status, 404);
    assert.equal((await api.req('POST', '/api/v1/customers/nobody/ban', { body: {} })).status, 404);
    const id = b.json.id;
    await waitEvent((e) => e.type === 'kick' && e.customerId === id && e.reason === 'admin');
    await waitEvent((e) => e.type === 'kick' && e.customerId === id && e.reason === 'banned');
  });

  it('deletes a customer', async () => {
    assert.equal((await api.req('DELETE', '/api/v1/customers/page4')).status, 204);
    assert.equal((await api.req('GET', '/api/v1/customers/page4')).status, 404);
    assert.equal((await api.req('DELETE', '/api/v1/customers/page4')).status, 404);
  });
});
