// Tokens, scopes, rate limit, health, metrics, internal endpoints, unknown routes.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createRepos } from '../../src/store/repos/index.ts';
import { newSecret } from '../../src/store/secrets.ts';
import { type Api, startApi } from './harness.ts';

describe('admin tokens and scopes', () => {
  let api: Api;
  before(async () => {
    api = await startApi();
  });
  after(() => api.close());

  it('401 for a missing, malformed or unknown token, on every admin route', async () => {
    for (const [m, url] of [
      ['GET', '/api/v1/plans'],
      ['POST', '/api/v1/customers'],
      ['GET', '/api/v1/ports'],
      ['POST', '/api/v1/upstreams/import'],
      ['GET', '/api/v1/tokens'],
      ['GET', '/api/v1/audit'],
      ['DELETE', '/api/v1/customers/x/ips/1.1.1.1'],
    ]) {
      for (const auth of [null, 'Bearer', 'Bearer pca_wrong', 'Basic YTpi']) {
        const r = await api.req(m, url, { token: null, headers: auth ? { authorization: auth } : {} });
        assert.equal(r.status, 401, `${m} ${url} ${auth}`);
        assert.equal(r.json.error.code, 'PC_ERR_UNAUTHORIZED');
      }
    }
  });

  it('401 before 400: an unauthenticated bad body is not validated', async () => {
    const r = await api.req('POST', '/api/v1/plans', { token: null, body: { nonsense: true } });
    assert.equal(r.status, 401);
  });

  it('creates a token shown once; read scope may GET only; revoked and expired tokens are refused', async () => {
    const c = await api.req('POST', '/api/v1/tokens', { body: { name: 'ci', scopes: ['read'] } });
    assert.equal(c.status, 201, c.body);
    assert.match(c.json.token, /^pca_/);
    const list = await api.req('GET', '/api/v1/tokens');
    assert.ok(!list.body.includes(c.json.token));
    assert.equal(list.json.find((t: { name: string }) => t.name === 'ci').scopes[0], 'read');

    const ro = c.json.token;
    assert.equal((await api.req('GET', '/api/v1/plans', { token: ro })).status, 200);
    const w = await api.req('POST', '/api/v1/plans', { token: ro, body: { name: 'X', threads: 1, rps: 1 } });
    assert.equal(w.status, 403);
    assert.equal(w.json.error.code, 'PC_ERR_FORBIDDEN');
    assert.match(w.json.error.message, /needs "admin"/);

    assert.equal((await api.req('DELETE', `/api/v1/tokens/${c.json.id}`)).status, 204);
    const revoked = await api.req('GET', '/api/v1/plans', { token: ro });
    assert.equal(revoked.status, 401);
    assert.match(revoked.json.error.message, /revoked/);

    // An expired token: written straight to the store, since the API refuses past expiries.
    const s = newSecret('pca');
    await createRepos(api.store.db).adminTokens.create({
      name: 'old',
      tokenHash: s.hash,
      prefix: s.display,
      scopes: ['admin'],
      expiresAt: new Date(Date.now() - 1000),
    });
    const exp = await api.req('GET', '/api/v1/plans', { token: s.value });
    assert.equal(exp.status, 401);
    assert.match(exp.json.error.message, /expired/);
    const past = await api.req('POST', '/api/v1/tokens', {
      body: { name: 'p', expiresAt: '2001-01-01T00:00:00Z' },
    });
    assert.equal(past.status, 400);
  });

  it('a token with an unknown scope can do nothing; the last admin token cannot be revoked', async () => {
    const s = newSecret('pca');
    await createRepos(api.store.db).adminTokens.create({
      name: 'odd',
      tokenHash: s.hash,
      prefix: s.display,
      scopes: ['customers:write'],
    });
    assert.equal((await api.req('GET', '/api/v1/plans', { token: s.value })).status, 403);
    const mine = (await api.req('GET', '/api/v1/tokens')).json.find(
      (t: { name: string }) => t.name === 'bootstrap',
    );
    const r = await api.req('DELETE', `/api/v1/tokens/${mine.id}`);
    assert.equal(r.status, 409);
    assert.equal((await api.req('DELETE', '/api/v1/tokens/99999')).status, 404);
    const bad = await api.req('POST', '/api/v1/tokens', { body: { scopes: ['root'] } });
    assert.deepEqual(bad.json.error.fields.map((f: { field: string }) => f.field).sort(), [
      'name',
      'scopes.0',
    ]);
  });

  it('404 in the error shape for unknown routes', async () => {
    const r = await api.req('GET', '/api/v1/nothing-here');
    assert.equal(r.status, 404);
    assert.equal(r.json.error.code, 'PC_ERR_NOT_FOUND');
    assert.equal((await api.req('GET', '/nope', { token: null })).json.error.code, 'PC_ERR_NOT_FOUND');
  });
});

describe('health, metrics, internal', () => {
  let api: Api;
  before(async () => {
    api = await startApi({ env: { PORTCULLIS_INTERNAL_ALLOW: '192.0.2.0/24' } });
  });
  after(() => api.close());

  it('/healthz and /readyz answer without a token', async () => {
    assert.equal((await api.req('GET', '/healthz', { token: null })).json.status, 'ok');
    const r = await api.req('GET', '/readyz', { token: null });
    assert.equal(r.status, 200);
    assert.deepEqual(r.json.checks, { store: 'ok', live: 'ok' });
  });

  it('/metrics counts requests by route and status', async () => {
    await api.req('GET', '/api/v1/plans');
    const r = await api.req('GET', '/metrics', { token: null });
    assert.equal(r.status, 200);
    assert.match(
      r.body,
      /portcullis_http_requests_total\{method="GET",route="\/api\/v1\/plans",status="200"\} \d+/,
    );
    assert.match(r.body, /portcullis_http_request_duration_seconds_bucket/);
  });

  it('/api/internal answers loopback and configured CIDRs only', async () => {
    assert.equal((await api.req('GET', '/api/internal/health', { token: null })).status, 200);
    assert.equal((await api.req('GET', '/api/internal/health', { token: null, ip: '::1' })).status, 200);
    assert.equal(
      (await api.req('GET', '/api/internal/health', { token: null, ip: '192.0.2.9' })).status,
      200,
    );
    const r = await api.req('GET', '/api/internal/health', { token: null, ip: '198.51.100.1' });
    assert.equal(r.status, 403);
    assert.equal(r.json.error.code, 'PC_ERR_FORBIDDEN');
  });
});

describe('rate limit', () => {
  let api: Api;
  let now = Date.parse('2030-01-01T00:00:10Z');
  before(async () => {
    api = await startApi({ env: { PORTCULLIS_API_RATE_LIMIT: '5' }, now: () => now });
  });
  after(() => api.close());

  it('429 with Retry-After past the per-IP limit, per IP, reset next window; health is exempt', async () => {
    for (let i = 0; i < 5; i++)
      assert.equal(
        (await api.req('GET', '/api/proxies.php?api_key=x', { token: null, ip: '10.0.0.1' })).status,
        401,
      );
    const r = await api.req('GET', '/api/v1/plans', { ip: '10.0.0.1' });
    assert.equal(r.status, 429);
    assert.equal(r.json.error.code, 'PC_ERR_TOO_MANY_REQUESTS');
    assert.equal(r.headers['retry-after'], '50');
    assert.equal((await api.req('GET', '/api/v1/plans', { ip: '10.0.0.2' })).status, 200);
    assert.equal((await api.req('GET', '/healthz', { ip: '10.0.0.1' })).status, 200);
    now += 60_000;
    assert.equal((await api.req('GET', '/api/v1/plans', { ip: '10.0.0.1' })).status, 200);
  });
});
