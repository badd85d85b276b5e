// Issue 7 item 3 on the API: credential lock-out for admin tokens, API keys,
// Basic passwords, /api/proxies.php and the portal sign-in, with the default
// rule (10 distinct failures in 10 minutes lock for 15 minutes). Requests are
// injected with their own client address per scenario.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { securityEvents } from '../../src/store/schema.ts';
import { type Api, basicAuth, type Res, seedCustomer, startApi } from '../api/harness.ts';

const sig = (r: Res) => `${r.status} ${r.json?.error?.code ?? r.json?.reason ?? ''}`.trim();

describe('API: credential lock-out (defaults: 10 distinct failures)', () => {
  let api: Api;
  let alice: Awaited<ReturnType<typeof seedCustomer>>;
  let bob: Awaited<ReturnType<typeof seedCustomer>>;
  let cora: Awaited<ReturnType<typeof seedCustomer>>;
  before(async () => {
    api = await startApi();
    alice = await seedCustomer(api, 'alice');
    bob = await seedCustomer(api, 'bob');
    cora = await seedCustomer(api, 'cora');
  });
  after(() => api.close());

  const me = (ip: string, authorization: string) =>
    api.req('GET', '/api/v1/me', { token: null, ip, headers: { authorization } });

  it('admin tokens: 10 wrong tokens lock the address, the valid token included; Retry-After says when', async () => {
    const ip = '192.0.2.1';
    for (let i = 0; i < 10; i++)
      assert.equal(
        sig(await api.req('GET', '/api/v1/plans', { token: `pca_wrong${i}`, ip })),
        '401 PC_ERR_UNAUTHORIZED',
      );
    const locked = await api.req('GET', '/api/v1/plans', { ip });
    assert.equal(sig(locked), '429 PC_ERR_AUTH_LOCKED');
    const retry = Number(locked.headers['retry-after']);
    assert.ok(retry > 890 && retry <= 900, `Retry-After ${retry}`);
    assert.equal(
      (await api.req('GET', '/api/v1/plans', { ip: '192.0.2.2' })).status,
      200,
      'other addresses work',
    );
  });

  it('two typos then the right password: 200; a stale password sent 30 times counts once', async () => {
    const ip = '192.0.2.3';
    assert.equal((await me(ip, basicAuth('alice', 'typo1'))).status, 401);
    assert.equal((await me(ip, basicAuth('alice', 'typo2'))).status, 401);
    assert.equal((await me(ip, basicAuth('alice', alice.password))).status, 200);
    for (let i = 0; i < 30; i++) assert.equal((await me(ip, 'Bearer pck_revoked_key')).status, 401);
    assert.equal((await me(ip, `Bearer ${alice.apiKey}`)).status, 200);
  });

  it('the same answers for a known and an unknown username (Basic), and both end locked everywhere', async () => {
    const known: string[] = [];
    const unknown: string[] = [];
    for (let i = 0; i < 12; i++) {
      known.push(sig(await me('192.0.2.4', basicAuth('bob', `w${i}`))));
      unknown.push(sig(await me('192.0.2.5', basicAuth('nobody', `w${i}`))));
    }
    assert.deepEqual(known, unknown);
    assert.deepEqual(known, [
      ...Array(10).fill('401 PC_ERR_UNAUTHORIZED'),
      ...Array(2).fill('429 PC_ERR_AUTH_LOCKED'),
    ]);
    assert.equal(sig(await me('192.0.2.6', basicAuth('bob', bob.password))), '429 PC_ERR_AUTH_LOCKED');
    assert.equal(sig(await me('192.0.2.6', basicAuth('nobody', 'x'))), '429 PC_ERR_AUTH_LOCKED');
    // The API key does not name the username: only the address it comes from counts.
    assert.equal((await me('192.0.2.6', `Bearer ${bob.apiKey}`)).status, 200);
  });

  it('/api/proxies.php (query credentials) and the portal sign-in (body) lock out the same way', async () => {
    const ip = '192.0.2.7';
    for (let i = 0; i < 10; i++) {
      const r = await api.req('GET', `/api/proxies.php?username=carl&password=p${i}`, { token: null, ip });
      assert.deepEqual([r.status, r.json], [401, { status: 'inactive', reason: 'bad_credentials' }]);
    }
    const r = await api.req('GET', `/api/proxies.php?api_key=${alice.apiKey}`, { token: null, ip });
    assert.deepEqual([r.status, r.json], [429, { status: 'inactive', reason: 'auth_locked' }]);
    assert.ok(Number(r.headers['retry-after']) > 0);

    const signIn = (ip: string, password: string) =>
      api.req('POST', '/api/v1/me/session', { token: null, ip, body: { username: 'cora', password } });
    // cora signs in once from her own address, then her username is sprayed from another.
    assert.equal((await signIn('192.0.2.12', cora.password)).status, 201);
    for (let i = 0; i < 10; i++)
      assert.equal(sig(await signIn('192.0.2.8', `nope${i}`)), '401 PC_ERR_UNAUTHORIZED');
    assert.equal(sig(await signIn('192.0.2.8', cora.password)), '429 PC_ERR_AUTH_LOCKED');
    assert.equal(sig(await signIn('192.0.2.9', cora.password)), '429 PC_ERR_AUTH_LOCKED', 'a new address');
    assert.equal((await signIn('192.0.2.12', cora.password)).status, 201, "cora's own address keeps working");
    assert.equal((await me('192.0.2.12', basicAuth('cora', cora.password))).status, 200);
  });

  it('Basic credentials on an admin route are not a guess: not counted', async () => {
    const ip = '192.0.2.10';
    for (let i = 0; i < 15; i++)
      assert.equal(
        (await api.req('GET', '/api/v1/plans', { ip, headers: { authorization: basicAuth(`x${i}`, 'y') } }))
          .status,
        401,
      );
    assert.equal((await api.req('GET', '/api/v1/plans', { ip })).status, 200);
  });

  it('an address on a whitelist is never refused for an address lock-out', async () => {
    const add = await api.req('POST', '/api/v1/customers/bob/ips', { body: { cidr: '192.0.2.11' } });
    assert.equal(add.status, 201, add.body);
    for (let i = 0; i < 12; i++)
      await api.req('GET', '/api/v1/plans', { token: `pca_x${i}`, ip: '192.0.2.11' });
    assert.equal((await api.req('GET', '/api/v1/plans', { ip: '192.0.2.11' })).status, 200);
  });

  it("POST /customers/{username}/unlock lifts the username's credential lock-out", async () => {
    assert.equal(sig(await me('192.0.2.13', basicAuth('bob', bob.password))), '429 PC_ERR_AUTH_LOCKED');
    assert.equal((await api.req('POST', '/api/v1/customers/bob/unlock', { body: {} })).status, 200);
    assert.equal((await me('192.0.2.13', basicAuth('bob', bob.password))).status, 200);
    assert.equal(
      sig(await me('192.0.2.4', basicAuth('bob', bob.password))),
      '429 PC_ERR_AUTH_LOCKED',
      'not the address',
    );
  });

  it("GET /lockouts lists lock-outs in force; POST /lockouts/lift lifts an address's (IPv6: its /64) or a username's", async () => {
    const list = await api.req('GET', '/api/v1/lockouts');
    assert.equal(list.status, 200, list.body);
    const keys = (list.json as { scope: string; key: string; until: string }[]).map(
      (l) => `${l.scope} ${l.key}`,
    );
    assert.ok(keys.includes('address 192.0.2.1'), keys.join(', '));
    assert.ok(keys.includes('username nobody'), keys.join(', '));
    assert.ok(!keys.includes('username bob'), 'lifted by unlock');

    assert.equal(sig(await api.req('GET', '/api/v1/plans', { ip: '192.0.2.1' })), '429 PC_ERR_AUTH_LOCKED');
    const lift = await api.req('POST', '/api/v1/lockouts/lift', { body: { address: '192.0.2.1' } });
    assert.equal(lift.status, 200, lift.body);
    assert.equal(lift.json.scope, 'address');
    assert.equal(lift.json.key, '192.0.2.1');
    assert.equal(
      (await api.req('GET', '/api/v1/plans', { ip: '192.0.2.1' })).status,
      200,
      'the address works again',
    );
    assert.equal(
      sig(await api.req('POST', '/api/v1/lockouts/lift', { body: { address: '192.0.2.1' } })),
      '404 PC_ERR_NOT_FOUND',
      'nothing left to lift',
    );
    assert.equal(
      sig(await api.req('POST', '/api/v1/lockouts/lift', { body: { address: 'not-an-ip' } })),
      '400 PC_ERR_VALIDATION',
    );

    for (let i = 0; i < 10; i++)
      await api.req('GET', '/api/v1/plans', { token: `pca_v6_${i}`, ip: '2001:db8:5::1' });
    assert.equal(
      sig(await api.req('GET', '/api/v1/plans', { ip: '2001:db8:5::1' })),
      '429 PC_ERR_AUTH_LOCKED',
    );
    const v6 = await api.req('POST', '/api/v1/lockouts/lift', { body: { address: '2001:db8:5::beef' } });
    assert.equal(v6.status, 200, v6.body);
    assert.equal(v6.json.key, '2001:db8:5::/64', 'another address of the same /64 names the lock-out');
    assert.equal((await api.req('GET', '/api/v1/plans', { ip: '2001:db8:5::1' })).status, 200);

    // A username no customer has: only this lifts it (unlock needs a customer).
    const user = await api.req('POST', '/api/v1/lockouts/lift', { body: { username: 'nobody' } });
    assert.equal(user.status, 200, user.body);
    assert.equal(user.json.scope, 'username');
    assert.equal(user.json.key, 'nobody');
    const after = (await api.req('GET', '/api/v1/lockouts')).json as { scope: string; key: string }[];
    assert.ok(!after.some((l) => l.scope === 'username' && l.key === 'nobody'), 'gone from the list');
    assert.equal(
      sig(await api.req('POST', '/api/v1/lockouts/lift', { body: { username: 'nobody' } })),
      '404 PC_ERR_NOT_FOUND',
    );
    for (const body of [{}, { address: '192.0.2.1', username: 'nobody' }, { username: '' }])
      assert.equal(
        sig(await api.req('POST', '/api/v1/lockouts/lift', { body })),
        '400 PC_ERR_VALIDATION',
        JSON.stringify(body),
      );

    const read = await api.req('POST', '/api/v1/tokens', { body: { name: 'viewer', scopes: ['read'] } });
    assert.equal(read.status, 201, read.body);
    assert.equal((await api.req('GET', '/api/v1/lockouts', { token: read.json.token })).status, 200);
    assert.equal(
      (
        await api.req('POST', '/api/v1/lockouts/lift', {
          token: read.json.token,
          body: { address: '192.0.2.4' },
        })
      ).status,
      403,
      'a read token cannot lift',
    );
  });

  it('lock-outs are security events with the client address', async () => {
    await api.app.close(); // writes what the recorder holds
    const rows = await api.store.db.select().from(securityEvents);
    const byKey = new Map(
      rows.filter((r) => r.kind === 'auth_lockout').map((r) => [(r.detail as { key: string }).key, r]),
    );
    for (const [key, ip] of [
      ['ip:192.0.2.1', '192.0.2.1'],
      ['u:bob', '192.0.2.4'],
      ['u:nobody', '192.0.2.5'],
      ['ip:192.0.2.7', '192.0.2.7'],
      ['u:carl', '192.0.2.7'],
      ['u:cora', '192.0.2.8'],
    ])
      assert.equal(byKey.get(key)?.ip, ip, key);
    assert.equal((byKey.get('u:cora')?.detail as { source?: string } | undefined)?.source, 'api');
  });
});
