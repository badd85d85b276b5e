// Routes the web console uses: portal sessions, the customer overview and its
// live stream, usage history, API key regeneration, customer search, and the
// admin live-figures stream (SSE over a real listening socket).
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { LiveConnection } from '../../src/api/deps.ts';
import { createRepos } from '../../src/store/repos/index.ts';
import { openSse } from '../helpers/sse.ts';
import { type Api, seedCustomer, startApi } from './harness.ts';

const HOUR = 3_600_000;

describe('console API: portal sessions, overview, history, search', () => {
  let api: Api;
  let now = Date.now();
  let alice: Awaited<ReturnType<typeof seedCustomer>>;
  before(async () => {
    api = await startApi({ now: () => now });
    alice = await seedCustomer(api, 'alice');
    await seedCustomer(api, 'alina');
    await seedCustomer(api, 'bob');
  });
  after(() => api.close());

  const signIn = (username: string, password: string) =>
    api.req('POST', '/api/v1/me/session', { token: null, body: { username, password } });

  it('signs in with username and password; the session token works on /me routes and is stored hashed', async () => {
    const r = await signIn('alice', alice.password);
    assert.equal(r.status, 201, r.body);
    assert.match(r.json.token, /^pcs_/);
    assert.equal(r.json.customer.username, 'alice');
    assert.ok(Date.parse(r.json.expiresAt) > now);
    const o = await api.req('GET', '/api/v1/me/overview', { token: r.json.token });
    assert.equal(o.status, 200, o.body);
    assert.equal(o.json.customer.username, 'alice');
    assert.equal(o.json.plan.threads, 5);
    assert.equal(o.json.usage.quotaBytes, 1_000_000);
    assert.equal(o.json.refusal, null);
    const { customerSessions } = await import('../../src/store/schema.ts');
    const rows = await api.store.db.select().from(customerSessions);
    assert.ok(rows.length >= 1);
    for (const row of rows) assert.ok(!row.tokenHash.includes(r.json.token) && row.tokenHash.length === 64);
  });

  it('refuses a wrong password or unknown user with 401 PC_ERR_UNAUTHORIZED, and bad bodies with 400', async () => {
    for (const [u, p] of [
      ['alice', 'wrong-password'],
      ['nobody', 'whatever'],
    ]) {
      const r = await signIn(u, p);
      assert.equal(r.status, 401);
      assert.equal(r.json.error.code, 'PC_ERR_UNAUTHORIZED');
      assert.equal(r.json.error.message, 'wrong username or password');
    }
    const bad = await api.req('POST', '/api/v1/me/session', { token: null, body: { username: 'alice' } });
    assert.equal(bad.status, 400);
    assert.equal(bad.json.error.code, 'PC_ERR_VALIDATION');
    assert.deepEqual(bad.json.error.fields, [{ field: 'password', problem: 'is required' }]);
  });

  it('a session ends on sign-out, on expiry, and when the password changes', async () => {
    const a = (await signIn('alice', alice.password)).json.token;
    const out = await api.req('DELETE', '/api/v1/me/session', { token: a });
    assert.equal(out.status, 204);
    const after1 = await api.req('GET', '/api/v1/me', { token: a });
    assert.equal(after1.status, 401);
    assert.match(after1.json.error.message, /sign in again/);

    const b = (await signIn('alice', alice.password)).json.token;
    now += 13 * HOUR;
    assert.equal((await api.req('GET', '/api/v1/me', { token: b })).status, 401);
    now -= 13 * HOUR;
    assert.equal((await api.req('GET', '/api/v1/me', { token: b })).status, 200);

    const p = await api.req('PATCH', '/api/v1/customers/alice', { body: { password: 'new-password-1' } });
    assert.equal(p.status, 200, p.body);
    assert.equal((await api.req('GET', '/api/v1/me', { token: b })).status, 401);
    alice.password = 'new-password-1';
    assert.equal((await signIn('alice', 'new-password-1')).status, 201);

    const key = await api.req('DELETE', '/api/v1/me/session', { token: alice.apiKey });
    assert.equal(key.status, 400);
    assert.equal(key.json.error.code, 'PC_ERR_VALIDATION');
  });

  it('a banned customer can sign in and the overview says why the proxies refuse them', async () => {
    const ban = await api.req('POST', '/api/v1/customers/bob/ban', { body: { reason: 'abuse report' } });
    assert.equal(ban.status, 200, ban.body);
    const bobPass = 'bob-password-1';
    await api.req('PATCH', '/api/v1/customers/bob', { body: { password: bobPass } });
    const s = await signIn('bob', bobPass);
    assert.equal(s.status, 201, s.body);
    const o = await api.req('GET', '/api/v1/me/overview', { token: s.json.token });
    assert.equal(o.json.customer.status, 'banned');
    assert.equal(o.json.customer.banReason, 'abuse report');
    assert.deepEqual(o.json.refusal, { code: 'PC_ERR_BANNED', reason: 'banned', message: 'Account banned' });
    const list = await api.req('GET', '/api/v1/me/proxies', { token: s.json.token });
    assert.equal(list.status, 403);
    assert.equal(list.json.error.code, 'PC_ERR_BANNED');
    await api.req('POST', '/api/v1/customers/bob/unban');
  });

  it('regenerates the API key: the old key stops working, the new one works, an audit event names the customer', async () => {
    const s = (await signIn('alice', alice.password)).json.token;
    const r = await api.req('POST', '/api/v1/me/api-key', { token: s });
    assert.equal(r.status, 200, r.body);
    assert.match(r.json.apiKey, /^pck_/);
    assert.notEqual(r.json.apiKey, alice.apiKey);
    assert.equal(r.json.apiKeyPrefix, r.json.apiKey.slice(0, 10));
    assert.equal((await api.req('GET', '/api/v1/me', { token: alice.apiKey })).status, 401);
    assert.equal((await api.req('GET', '/api/v1/me', { token: r.json.apiKey })).status, 200);
    const audit = await api.req('GET', '/api/v1/audit?limit=5');
    const ev = audit.json.find((e: { action: string }) => e.action === 'customer.apikey.regenerate');
    assert.ok(ev, JSON.stringify(audit.json));
    assert.equal(ev.actor, 'customer:alice');
    assert.equal(ev.target, 'alice');
    assert.ok(!JSON.stringify(ev).includes(r.json.apiKey));
    alice.apiKey = r.json.apiKey;
  });

  it('usage history: hourly and daily sums, zero-filled, for the admin and the customer', async () => {
    const base = Math.floor(now / HOUR) * HOUR;
    await createRepos(api.store.db).usage.add([
      {
        customerId: alice.id,
        hour: base - 2 * HOUR,
        bytesUp: 100,
        bytesDown: 1000,
        connections: 2,
        requests: 3,
      },
      { customerId: alice.id, hour: base, bytesUp: 5, bytesDown: 50, connections: 1, requests: 1 },
    ]);
    const h = await api.req('GET', '/api/v1/customers/alice/usage/history?step=hour');
    assert.equal(h.status, 200, h.body);
    assert.equal(h.json.step, 'hour');
    assert.equal(h.json.items.length, 24);
    assert.equal(Date.parse(h.json.to), base + HOUR);
    const byAt = new Map(h.json.items.map((i: { at: string }) => [Date.parse(i.at), i]));
    assert.deepEqual(byAt.get(base - 2 * HOUR), {
      at: new Date(base - 2 * HOUR).toISOString(),
      bytesUp: 100,
      bytesDown: 1000,
      connections: 2,
      requests: 3,
    });
    assert.equal((byAt.get(base - HOUR) as { bytesDown: number }).bytesDown, 0);
    const sum = h.json.items.reduce((n: number, i: { bytesDown: number }) => n + i.bytesDown, 0);
    assert.equal(sum, 1050);

    const from = new Date(base - 3 * 86_400_000).toISOString();
    const d = await api.req('GET', `/api/v1/me/usage/history?step=day&from=${from}`, { token: alice.apiKey });
    assert.equal(d.status, 200, d.body);
    assert.equal(d.json.step, 'day');
    for (const i of d.json.items) assert.equal(Date.parse(i.at) % 86_400_000, 0);
    assert.equal(
      d.json.items.reduce((n: number, i: { bytesUp: number }) => n + i.bytesUp, 0),
      105,
    );
  });

  it('usage history refuses a backwards or too long range with the field named, and unknown customers with 404', async () => {
    const back = await api.req(
      'GET',
      '/api/v1/customers/alice/usage/history?from=2030-01-02T00:00:00Z&to=2030-01-01T00:00:00Z',
    );
    assert.equal(back.status, 400);
    assert.equal(back.json.error.code, 'PC_ERR_VALIDATION');
    assert.deepEqual(back.json.error.fields, [{ field: 'from', problem: 'must be before to' }]);
    const long = await api.req(
      'GET',
      '/api/v1/customers/alice/usage/history?step=hour&from=2030-01-01T00:00:00Z&to=2030-03-01T00:00:00Z',
    );
    assert.equal(long.status, 400);
    assert.match(long.json.error.message, /at most 744 hours/);
    const step = await api.req('GET', '/api/v1/customers/alice/usage/history?step=week');
    assert.equal(step.status, 400);
    assert.equal(step.json.error.fields[0].field, 'step');
    const nf = await api.req('GET', '/api/v1/customers/nobody/usage/history');
    assert.equal(nf.status, 404);
    assert.equal(nf.json.error.code, 'PC_ERR_NOT_FOUND');
    const anon = await api.req('GET', '/api/v1/customers/alice/usage/history', { token: null });
    assert.equal(anon.status, 401);
  });

  it('searches customers by part of the username, case-insensitively, with LIKE wildcards taken literally', async () => {
    const r = await api.req('GET', '/api/v1/customers?q=ALI');
    assert.equal(r.status, 200, r.body);
    assert.deepEqual(
      r.json.items.map((c: { username: string }) => c.username),
      ['alice', 'alina'],
    );
    assert.equal(r.json.total, 2);
    const wild = await api.req('GET', '/api/v1/customers?q=%25');
    assert.equal(wild.json.total, 0);
    const under = await api.req('GET', '/api/v1/customers?q=a_i');
    assert.equal(under.json.total, 0);
  });
});

describe('console API: live streams (SSE)', () => {
  let api: Api;
  let base: string;
  let conns: LiveConnection[] = [];
  let carol: Awaited<ReturnType<typeof seedCustomer>>;
  before(async () => {
    api = await startApi({ gatewayConnections: () => conns });
    carol = await seedCustomer(api, 'carol');
    const imp = await api.req('POST', '/api/v1/upstreams/import', { text: '1.1.1.1:80\n2.2.2.2:80\n' });
    assert.equal(imp.status, 200, imp.body);
    await api.app.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(api.app.server.address() as AddressInfo).port}`;
  });
  after(() => api.close());

  const conn = (id: string, username: string, bytesUp: number, bytesDown: number): LiveConnection => ({
    id,
    customerId: 1,
    username,
    clientAddress: '127.0.0.1',
    port: 4000,
    target: 'example.com:443',
    upstream: 'direct',
    bytesUp,
    bytesDown,
    since: new Date().toISOString(),
  });

  it('GET /api/v1/live needs an admin token', async () => {
    const r = await api.req('GET', '/api/v1/live', { token: null });
    assert.equal(r.status, 401);
    assert.equal(r.json.error.code, 'PC_ERR_UNAUTHORIZED');
  });

  it('streams connections, bandwidth from byte deltas, top customers, and the port map', async () => {
    conns = [conn('a', 'carol', 0, 0), conn('b', 'carol', 0, 0), conn('c', 'dave', 0, 0)];
    const s = await openSse(`${base}/api/v1/live`, { authorization: `Bearer ${api.token}` });
    try {
      assert.equal(s.status, 200);
      assert.match(String(s.headers['content-type']), /^text\/event-stream/);
      assert.equal(s.headers['cache-control'], 'no-store');
      const first = (await s.next('stats')).data;
      assert.equal(first.scope, 'process');
      assert.equal(first.connections, 3);
      assert.equal(first.customers, 2);
      const ports = (await s.next('ports')).data;
      assert.deepEqual(
        ports.items.map((p: { port: number; health: string }) => [p.port, p.health]),
        [
          [4000, 'unknown'],
          [4001, 'unknown'],
        ],
      );
      // carol moves 20,000 bytes down and 2,000 up before the next sample; dave nothing.
      conns = [conn('a', 'carol', 1000, 10_000), conn('b', 'carol', 1000, 10_000), conn('c', 'dave', 0, 0)];
      const next = (await s.next('stats')).data;
      assert.ok(next.bandwidth.down > 0 && next.bandwidth.up > 0, JSON.stringify(next));
      // the ratio holds whatever the exact sample interval was
      assert.equal(Math.round(next.bandwidth.down / next.bandwidth.up), 10);
      assert.equal(next.top[0].username, 'carol');
      assert.equal(next.top[0].connections, 2);
      // the same bytes, rounded once for the customer and once per direction for the total
      assert.ok(Math.abs(next.top[0].bytesPerSec - (next.bandwidth.up + next.bandwidth.down)) <= 1);
      assert.deepEqual(next.top[1], { username: 'dave', connections: 1, bytesPerSec: 0 });
    } finally {
      s.close();
    }
  });

  it('the portal stream pushes the overview, shows a ban at once, and ends when the password changes', async () => {
    const token = (
      await api.req('POST', '/api/v1/me/session', {
        token: null,
        body: { username: 'carol', password: carol.password },
      })
    ).json.token;
    const s = await openSse(`${base}/api/v1/me/live`, { authorization: `Bearer ${token}` });
    try {
      assert.equal(s.status, 200);
      const first = (await s.next('overview')).data;
      assert.equal(first.customer.username, 'carol');
      assert.equal(first.refusal, null);
      const ban = await api.req('POST', '/api/v1/customers/carol/ban', { body: { reason: 'chargeback' } });
      assert.equal(ban.status, 200);
      let o = (await s.next('overview')).data;
      // a periodic push may have been under way before the ban; the one after it shows it
      if (o.refusal === null) o = (await s.next('overview')).data;
      assert.equal(o.customer.status, 'banned');
      assert.equal(o.customer.banReason, 'chargeback');
      assert.equal(o.refusal.code, 'PC_ERR_BANNED');
      await api.req('PATCH', '/api/v1/customers/carol', { body: { password: 'changed-pass-9' } });
      const end = (await s.next('end')).data;
      assert.equal(end.code, 'PC_ERR_UNAUTHORIZED');
      await s.ended;
    } finally {
      s.close();
    }
  });

  it('the portal stream refuses missing credentials with 401', async () => {
    const r = await api.req('GET', '/api/v1/me/live', { token: null });
    assert.equal(r.status, 401);
    assert.equal(r.json.error.code, 'PC_ERR_UNAUTHORIZED');
  });

  it('closing the app ends open streams (close does not wait on a watcher)', async () => {
    const s = await openSse(`${base}/api/v1/live`, { authorization: `Bearer ${api.token}` });
    await s.next('stats');
    await api.app.close();
    await s.ended;
  });
});
