// Customer API (/api/v1/me*) and the seed alias /api/proxies.php.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { quotaPeriod } from '../../src/domain/quota-period.ts';
import { createRepos } from '../../src/store/repos/index.ts';
import { type Api, basicAuth, seedCustomer, startApi } from './harness.ts';

describe('customer API and /api/proxies.php', () => {
  let api: Api;
  let alice: Awaited<ReturnType<typeof seedCustomer>>;
  before(async () => {
    api = await startApi();
    alice = await seedCustomer(api, 'alice');
    const imp = await api.req('POST', '/api/v1/upstreams/import', {
      text: '1.1.1.1:80\n2.2.2.2:80\n3.3.3.3:80\n',
    });
    assert.equal(imp.status, 200);
    // 4001's upstream is down: it must not be offered.
    const rows = await createRepos(api.store.db).upstreams.list();
    const { upstreams } = await import('../../src/store/schema.ts');
    const { eq } = await import('../../src/store/orm.ts');
    await api.store.db.update(upstreams).set({ health: 'down' }).where(eq(upstreams.id, rows[1].id));
  });
  after(() => api.close());

  const list = 'proxy.test:4000\nproxy.test:4002\n';

  it('/me/proxies lists host:port of bound ports that are not down, by API key or Basic', async () => {
    const r = await api.req('GET', '/api/v1/me/proxies', { token: alice.apiKey });
    assert.equal(r.status, 200, r.body);
    assert.match(String(r.headers['content-type']), /^text\/plain/);
    assert.equal(r.body, list);
    const b = await api.req('GET', '/api/v1/me/proxies', {
      token: null,
      headers: { authorization: basicAuth('alice', alice.password) },
    });
    assert.equal(b.body, list);
  });

  it('/api/proxies.php answers the same list for api_key or username+password', async () => {
    const k = await api.req('GET', `/api/proxies.php?api_key=${alice.apiKey}`, { token: null });
    assert.equal(k.status, 200);
    assert.equal(k.body, list);
    const u = await api.req(
      'GET',
      `/api/proxies.php?username=alice&password=${encodeURIComponent(alice.password)}`,
      { token: null },
    );
    assert.equal(u.body, list);
  });

  it('401 with {status, reason} for unknown credentials; 401 error shape on /me', async () => {
    for (const q of ['api_key=pck_nope', 'username=alice&password=wrong', 'username=nobody&password=x']) {
      const r = await api.req('GET', `/api/proxies.php?${q}`, { token: null });
      assert.equal(r.status, 401, q);
      assert.deepEqual(r.json, { status: 'inactive', reason: 'bad_credentials' });
    }
    for (const auth of [null, 'Bearer pck_nope', basicAuth('alice', 'wrong')]) {
      const r = await api.req('GET', '/api/v1/me', {
        token: null,
        headers: auth ? { authorization: auth } : {},
      });
      assert.equal(r.status, 401);
      assert.equal(r.json.error.code, 'PC_ERR_UNAUTHORIZED');
    }
  });

  it('no credentials: a whitelisted caller IP identifies the customer, any other is ip_not_whitelisted', async () => {
    const none = await api.req('GET', '/api/proxies.php', { token: null, ip: '198.51.100.20' });
    assert.equal(none.status, 403);
    assert.deepEqual(none.json, { status: 'inactive', reason: 'ip_not_whitelisted' });
    const add = await api.req('POST', '/api/v1/me/ips', {
      token: alice.apiKey,
      body: { cidr: '198.51.100.0/24' },
    });
    assert.equal(add.status, 201, add.body);
    const ok = await api.req('GET', '/api/proxies.php', { token: null, ip: '198.51.100.20' });
    assert.equal(ok.body, list);
  });

  it('/me/ips manages only my own whitelist', async () => {
    const bob = await seedCustomer(api, 'bob');
    const taken = await api.req('POST', '/api/v1/me/ips', {
      token: bob.apiKey,
      body: { cidr: '198.51.100.0/24' },
    });
    assert.equal(taken.status, 409);
    const notMine = await api.req('DELETE', `/api/v1/me/ips/${encodeURIComponent('198.51.100.0/24')}`, {
      token: bob.apiKey,
    });
    assert.equal(notMine.status, 404);
    const bad = await api.req('POST', '/api/v1/me/ips', { token: bob.apiKey, body: { cidr: '1.2.3.4/40' } });
    assert.equal(bad.status, 400);
    assert.equal(bad.json.error.fields[0].field, 'cidr');
    const me = await api.req('GET', '/api/v1/me', { token: alice.apiKey });
    assert.equal(me.json.username, 'alice');
    assert.deepEqual(
      me.json.ips.map((i: { cidr: string }) => i.cidr),
      ['198.51.100.0/24'],
    );
    const del = await api.req('DELETE', `/api/v1/me/ips/${encodeURIComponent('198.51.100.0/24')}`, {
      token: alice.apiKey,
    });
    assert.equal(del.status, 204);
  });

  it('an admin token is not a customer key, and a customer key is not an admin token', async () => {
    assert.equal((await api.req('GET', '/api/v1/me')).status, 401);
    assert.equal((await api.req('GET', '/api/v1/plans', { token: alice.apiKey })).status, 401);
  });

  it('refusals: quota_exceeded, timeout (locked out), banned, expired — same reasons as the gateway', async () => {
    const carol = await seedCustomer(api, 'carol', { quotaBytes: 1000 });
    const q = `/api/proxies.php?api_key=${carol.apiKey}`;
    const c = (await createRepos(api.store.db).customers.byUsername('carol'))!.customer;

    // Quota: bytes counted in live state (not yet flushed) already count.
    const period = quotaPeriod('month', c.periodAnchor.getTime(), Date.now());
    api.live.addUsage(c.id, period.key, 600, 600, 1, 1);
    await api.live.flush();
    let r = await api.req('GET', q, { token: null });
    assert.equal(r.status, 403, r.body);
    assert.deepEqual(r.json, { status: 'inactive', reason: 'quota_exceeded' });
    const me = await api.req('GET', '/api/v1/me/proxies', { token: carol.apiKey });
    assert.equal(me.status, 403);
    assert.equal(me.json.error.code, 'PC_ERR_QUOTA_EXCEEDED');
    const usage = await api.req('GET', '/api/v1/me/usage', { token: carol.apiKey });
    assert.equal(usage.json.bytesUsed, 1200);
    assert.equal(usage.json.quotaBytes, 1000);

    const dave = await seedCustomer(api, 'dave');
    const d = (await createRepos(api.store.db).customers.byUsername('dave'))!.customer;
    const until = Date.now() + 3_600_000;
    await api.live.setLockout(d.id, until);
    r = await api.req('GET', `/api/proxies.php?api_key=${dave.apiKey}`, { token: null });
    assert.deepEqual(r.json, { status: 'inactive', reason: 'timeout' });
    const du = await api.req('GET', '/api/v1/customers/dave/usage');
    assert.equal(du.json.lockedUntil, new Date(until).toISOString());

    await api.req('POST', '/api/v1/customers/alice/ban', { body: { reason: 'spam' } });
    r = await api.req('GET', `/api/proxies.php?api_key=${alice.apiKey}`, { token: null });
    assert.equal(r.status, 403);
    assert.deepEqual(r.json, { status: 'inactive', reason: 'banned' });
    await api.req('POST', '/api/v1/customers/alice/unban');

    await api.req('PATCH', '/api/v1/customers/alice', { body: { expiresAt: '2020-01-01T00:00:00Z' } });
    r = await api.req('GET', `/api/proxies.php?api_key=${alice.apiKey}`, { token: null });
    assert.deepEqual(r.json, { status: 'inactive', reason: 'expired' });
    await api.req('PATCH', '/api/v1/customers/alice', { body: { status: 'disabled', expiresAt: null } });
    r = await api.req('GET', `/api/proxies.php?api_key=${alice.apiKey}`, { token: null });
    assert.deepEqual(r.json, { status: 'inactive', reason: 'disabled' });
  });
});
