// Serving the built console: index.html at / and the console's client-side
// paths (no-cache, CSP), hashed assets cached for a year and gzip-compressed,
// nothing shadowing /api, /healthz, /readyz or /metrics, and a clear 503 page
// when the console has not been built.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { type Api, startApi } from '../api/harness.ts';

describe('web console serving', () => {
  let api: Api;
  let missing: Api;
  const dir = mkdtempSync(join(tmpdir(), 'pc-web-'));
  const js = `console.log(${JSON.stringify('x'.repeat(4000))});\n`;
  before(async () => {
    mkdirSync(join(dir, 'assets'));
    writeFileSync(
      join(dir, 'index.html'),
      '<!doctype html><title>Portcullis</title><script type="module" src="/assets/index-Ab12.js"></script>',
    );
    writeFileSync(join(dir, 'assets', 'index-Ab12.js'), js);
    writeFileSync(join(dir, 'assets', 'index-Cd34.css'), 'body{color:red}');
    writeFileSync(join(dir, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
    api = await startApi({ webDir: dir });
    missing = await startApi({ webDir: join(dir, 'no-such-dir') });
  });
  after(async () => {
    await api.close();
    await missing.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves index.html at / and at the console paths, never cached, with a CSP', async () => {
    for (const path of ['/', '/admin', '/admin/customers/alice', '/portal', '/portal/proxies']) {
      const r = await api.req('GET', path, { token: null });
      assert.equal(r.status, 200, path);
      assert.match(String(r.headers['content-type']), /^text\/html/);
      assert.equal(r.headers['cache-control'], 'no-cache');
      assert.match(String(r.headers['content-security-policy']), /default-src 'self'/);
      assert.match(String(r.headers['content-security-policy']), /frame-ancestors 'none'/);
      assert.match(r.body, /<title>Portcullis<\/title>/);
    }
  });

  it('serves hashed assets for a year, gzip-compressed when accepted, with the right types', async () => {
    const plain = await api.req('GET', '/assets/index-Ab12.js', { token: null });
    assert.equal(plain.status, 200);
    assert.equal(plain.headers['cache-control'], 'public, max-age=31536000, immutable');
    assert.match(String(plain.headers['content-type']), /^text\/javascript/);
    assert.equal(plain.headers['content-encoding'], undefined);
    assert.equal(plain.body, js);
    const gz = await api.app.inject({
      method: 'GET',
      url: '/assets/index-Ab12.js',
      headers: { 'accept-encoding': 'gzip, br' },
    });
    assert.equal(gz.headers['content-encoding'], 'gzip');
    assert.ok(gz.rawPayload.length < js.length / 4);
    assert.equal(gunzipSync(gz.rawPayload).toString(), js);
    const css = await api.req('GET', '/assets/index-Cd34.css', { token: null });
    assert.match(String(css.headers['content-type']), /^text\/css/);
    assert.equal((await api.req('GET', '/favicon.svg', { token: null })).status, 200);
  });

  it('answers 404 for unknown or crafted asset names without leaving the assets folder', async () => {
    for (const path of [
      '/assets/nope.js',
      '/assets/..%2Findex.html',
      '/assets/%2E%2E/%2E%2E/package.json',
      '/assets/index-Ab12.exe',
    ]) {
      const r = await api.req('GET', path, { token: null });
      assert.equal(r.status, 404, path);
      assert.doesNotMatch(r.body, /<title>|"name": "portcullis"/, path);
    }
    const r = await api.req('GET', '/assets/nope.js', { token: null });
    assert.equal(r.headers['cache-control'], 'no-store');
  });

  it('leaves the API, health, readiness, metrics and unknown paths alone', async () => {
    const h = await api.req('GET', '/healthz', { token: null });
    assert.deepEqual(h.json, { status: 'ok' });
    assert.equal((await api.req('GET', '/readyz', { token: null })).json.status, 'ok');
    assert.match((await api.req('GET', '/metrics', { token: null })).body, /portcullis_http_requests_total/);
    const plans = await api.req('GET', '/api/v1/plans');
    assert.equal(plans.status, 200);
    assert.ok(Array.isArray(plans.json));
    const anon = await api.req('GET', '/api/v1/plans', { token: null });
    assert.equal(anon.json.error.code, 'PC_ERR_UNAUTHORIZED');
    const unknownApi = await api.req('GET', '/api/v1/nope', { token: null });
    assert.equal(unknownApi.status, 404);
    assert.equal(unknownApi.json.error.code, 'PC_ERR_NOT_FOUND');
    const other = await api.req('GET', '/administrator', { token: null });
    assert.equal(other.status, 404);
    assert.equal(other.json.error.code, 'PC_ERR_NOT_FOUND');
  });

  it('without a build, the console paths say to run npm run build and the API still works', async () => {
    const r = await missing.req('GET', '/', { token: null });
    assert.equal(r.status, 503);
    assert.match(String(r.headers['content-type']), /^text\/html/);
    assert.match(r.body, /npm run build/);
    assert.equal((await missing.req('GET', '/admin/plans', { token: null })).status, 503);
    const asset = await missing.req('GET', '/assets/index-Ab12.js', { token: null });
    assert.equal(asset.status, 404);
    assert.match(asset.body, /npm run build/);
    assert.equal((await missing.req('GET', '/api/v1/plans')).status, 200);
  });
});
