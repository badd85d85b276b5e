// docs/openapi.json is committed; it must match what the app serves.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { OPENAPI_FILE, openapiDocument } from '../../src/api/openapi.ts';
import { type Api, startApi } from './harness.ts';

describe('OpenAPI', () => {
  let api: Api;
  before(async () => {
    api = await startApi();
  });
  after(() => api.close());

  it('docs/openapi.json matches the routes (regenerate: node src/api/openapi.ts --write)', async () => {
    const committed = readFileSync(OPENAPI_FILE, 'utf8');
    assert.equal(
      committed,
      await openapiDocument(),
      'docs/openapi.json drifted: run `node src/api/openapi.ts --write`',
    );
  });

  it('GET /api/docs serves the document with every CONTRACT.md path', async () => {
    const r = await api.req('GET', '/api/docs', { token: null });
    assert.equal(r.status, 200);
    assert.equal(r.json.openapi, '3.1.0');
    for (const p of [
      '/api/v1/plans',
      '/api/v1/customers',
      '/api/v1/customers/{username}',
      '/api/v1/customers/{username}/ips',
      '/api/v1/customers/{username}/ips/{cidr}',
      '/api/v1/customers/{username}/usage',
      '/api/v1/customers/{username}/kick',
      '/api/v1/customers/{username}/ban',
      '/api/v1/customers/{username}/unban',
      '/api/v1/upstreams/import',
      '/api/v1/ports',
      '/api/v1/me/proxies',
      '/api/v1/me/usage',
      '/api/v1/me/ips',
      '/api/v1/me/ips/{cidr}',
      '/api/proxies.php',
    ])
      assert.ok(r.json.paths[p], `missing ${p}`);
  });
});
