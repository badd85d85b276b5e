// Issue 7 item 5: a customer never sees or changes another customer's data.
// alice calls every customer route of the served OpenAPI document (/api/v1/me*,
// /api/proxies.php) with bob's identifiers wherever a request can carry one
// (path parameters, query parameters, body fields, his username in Basic with
// her password); no answer may contain anything of bob's, and bob's state is
// unchanged afterwards.
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { usageHourly } from '../../src/store/schema.ts';
import { type Api, basicAuth, seedCustomer, startApi } from '../api/harness.ts';
import { call, type Op, operations } from './client.ts';

describe("tenancy: a customer never sees another customer's data", () => {
  let api: Api;
  let port: number;
  let ops: Op[];
  let alice: Awaited<ReturnType<typeof seedCustomer>>;
  let bob: Awaited<ReturnType<typeof seedCustomer>>;
  let bobSession: string;
  let bobBefore: string;
  /** strings only bob's data holds */
  const BOB = ['bobthebuilder', 'p-bobthebuilder', '203.0.113.', 'bob-office-note', '987654321'];

  before(async () => {
    api = await startApi();
    alice = await seedCustomer(api, 'alice');
    bob = await seedCustomer(api, 'bobthebuilder', { quotaBytes: 5_000_000_000 });
    BOB.push(bob.apiKey.slice(0, 10));
    const ip = await api.req('POST', '/api/v1/customers/bobthebuilder/ips', {
      body: { cidr: '203.0.113.0/24', note: 'bob-office-note' },
    });
    assert.equal(ip.status, 201, ip.body);
    await api.store.db.insert(usageHourly).values({
      customerId: bob.id,
      hour: new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000),
      bytesUp: 987654321,
    });
    const s = await api.req('POST', '/api/v1/me/session', {
      token: null,
      body: { username: 'bobthebuilder', password: bob.password },
    });
    assert.equal(s.status, 201, s.body);
    bobSession = s.json.token;
    bobBefore = await bobState();
    await api.app.listen({ host: '127.0.0.1', port: 0 });
    port = (api.app.server.address() as AddressInfo).port;
    ops = operations(JSON.parse((await call(port, 'GET', '/api/docs')).body));
  });
  after(() => api.close());

  /** bob as the admin sees him: customer, whitelist, usage; and his credentials still work. */
  async function bobState(): Promise<string> {
    const c = await api.req('GET', '/api/v1/customers/bobthebuilder');
    const u = await api.req('GET', '/api/v1/customers/bobthebuilder/usage');
    const byKey = await api.req('GET', '/api/v1/me', { token: bob.apiKey });
    const bySession = await api.req('GET', '/api/v1/me', { token: bobSession });
    const byPassword = await api.req('GET', '/api/v1/me', {
      token: null,
      headers: { authorization: basicAuth('bobthebuilder', bob.password) },
    });
    assert.equal(c.status, 200);
    return JSON.stringify([c.json, u.json?.bytesUp, byKey.status, bySession.status, byPassword.status]);
  }

  /** `text` holds none of bob's strings (once the caller's own input, echoed in a refusal, is taken out). */
  function noneOfBobs(label: string, answer: string, echoed: string[] = ['203.0.113.0/24']): void {
    let text = answer;
    for (const e of echoed) text = text.replaceAll(e, '');
    for (const m of BOB)
      assert.ok(!text.includes(m), `${label}: answer contains bob's "${m}": ${text.slice(0, 300)}`);
  }

  const customerOps = () =>
    ops.filter(
      (op) => op.security.some((s) => s === 'apiKey' || s === 'basic') || op.path === '/api/proxies.php',
    );

  it('alice, naming bob everywhere on every customer route, gets only her own data or a refusal', async () => {
    const query = `username=bobthebuilder&customer=bobthebuilder&customerId=${bob.id}&id=${bob.id}&user=bobthebuilder`;
    let calls = 0;
    for (const op of customerOps()) {
      const path = op.path.replace('{cidr}', encodeURIComponent('203.0.113.0/24'));
      const body =
        op.contentType === 'application/json'
          ? JSON.stringify({ cidr: '203.0.113.0/24', username: 'bobthebuilder', customerId: bob.id })
          : undefined;
      const headers: Record<string, string> = op.contentType ? { 'content-type': op.contentType } : {};
      for (const auth of [`Bearer ${alice.apiKey}`, basicAuth('alice', alice.password)]) {
        for (const url of [path, `${path}?${query}`]) {
          if (op.method === 'POST' && op.path === '/api/v1/me/api-key') continue; // below: it rotates alice's key
          const r = await call(port, op.method, url, {
            headers: { ...headers, authorization: auth },
            body,
            firstEvent: true,
          });
          calls++;
          assert.ok(r.status < 500, `${op.method} ${url}: ${r.status} ${r.body}`);
          noneOfBobs(`${op.method} ${url}`, r.body);
          if (r.status === 200 && r.body.startsWith('{')) {
            const j = JSON.parse(r.body);
            const name = j.username ?? j.customer?.username;
            if (name !== undefined) assert.equal(name, 'alice', `${op.method} ${url} answers alice`);
          }
        }
      }
    }
    assert.ok(calls >= 40, `${calls} calls`);
    assert.equal(
      await bobState(),
      bobBefore,
      "bob's customer, whitelist, usage and credentials are unchanged",
    );
  });

  it("bob's whitelist entry can be neither removed nor claimed by alice, nor carved out by a narrower block", async () => {
    const del = await api.req('DELETE', `/api/v1/me/ips/${encodeURIComponent('203.0.113.0/24')}`, {
      token: alice.apiKey,
    });
    assert.equal(del.status, 404, del.body);
    for (const cidr of [
      '203.0.113.0/24',
      '203.0.113.7',
      '203.0.113.128/25',
      '203.0.0.0/16',
      '::ffff:203.0.113.9',
    ]) {
      const r = await api.req('POST', '/api/v1/me/ips', { token: alice.apiKey, body: { cidr } });
      assert.equal(r.status, 409, `${cidr}: ${r.status} ${r.body}`);
      assert.equal(r.json.error.code, 'PC_ERR_CONFLICT');
      noneOfBobs(cidr, r.body, [cidr, r.json.error.message.split(' ')[0]]);
    }
    assert.equal(
      (await api.req('POST', '/api/v1/me/ips', { token: alice.apiKey, body: { cidr: '198.51.100.0/24' } }))
        .status,
      201,
    );
    assert.equal(await bobState(), bobBefore);
  });

  it("rotating alice's API key and signing alice out touch nothing of bob's", async () => {
    const r = await api.req('POST', '/api/v1/me/api-key', {
      token: null,
      headers: { authorization: basicAuth('alice', alice.password) },
      body: { username: 'bobthebuilder' },
    });
    assert.ok(r.status === 200 || r.status === 400, r.body);
    noneOfBobs('api-key', r.body);
    const key = r.status === 200 ? r.json.apiKey : alice.apiKey;
    const out = await api.req('DELETE', '/api/v1/me/session', { token: key });
    assert.equal(out.status, 400, 'signing out needs a session token, not an API key');
    assert.equal(await bobState(), bobBefore);
  });

  it("bob's username with alice's password is refused everywhere", async () => {
    const r = await api.req('GET', '/api/v1/me', {
      token: null,
      headers: { authorization: basicAuth('bobthebuilder', alice.password) },
    });
    assert.equal(r.status, 401);
    const php = await api.req(
      'GET',
      `/api/proxies.php?username=bobthebuilder&password=${encodeURIComponent(alice.password)}`,
      {
        token: null,
      },
    );
    assert.equal(php.status, 401);
    const signIn = await api.req('POST', '/api/v1/me/session', {
      token: null,
      body: { username: 'bobthebuilder', password: alice.password },
    });
    assert.equal(signIn.status, 401);
    noneOfBobs('sign-in', signIn.body, ['bobthebuilder']);
  });
});
