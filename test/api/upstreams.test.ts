// Admin API: upstream import (all or nothing), port binding, the port map.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { LiveEvent } from '../../src/live/live.ts';
import { createRepos } from '../../src/store/repos/index.ts';
import { type Api, startApi } from './harness.ts';

function proxyList(n: number, offset = 0): string {
  const lines = ['# a reseller list', ''];
  for (let i = offset; i < offset + n; i++) {
    const a = 10 + Math.floor(i / 65536);
    const b = Math.floor(i / 256) % 256;
    const c = i % 256;
    const form = i % 4;
    if (form === 0) lines.push(`${a}.${b}.${c}.1:8080:user${i}:pass${i}`);
    else if (form === 1) lines.push(`user${i}:pass${i}@${a}.${b}.${c}.1:3128`);
    else if (form === 2) lines.push(`http://user${i}:pass${i}@${a}.${b}.${c}.1:8000`);
    else lines.push(`socks5://user${i}:pass${i}@${a}.${b}.${c}.1:1080`);
  }
  return `${lines.join('\n')}\n`;
}

describe('upstream import', () => {
  let api: Api;
  const events: LiveEvent[] = [];
  before(async () => {
    api = await startApi({
      gatewayStatus: () =>
        new Map([
          [4000, { state: 'listening' }],
          [4001, { state: 'failed', error: 'EADDRINUSE' }],
        ]),
    });
    api.live.subscribe((e) => events.push(e));
  });
  after(() => api.close());

  it('1,000 lines bind ports 4000-4999, credentials encrypted, display without password', async (t) => {
    const started = performance.now();
    const r = await api.req('POST', '/api/v1/upstreams/import', { text: proxyList(1000) });
    t.diagnostic(`import of 1,000 lines on ${api.store.kind}: ${Math.round(performance.now() - started)} ms`);
    assert.equal(r.status, 200, r.body.slice(0, 500));
    assert.equal(r.json.added, 1000);
    assert.equal(r.json.kept, 0);
    assert.deepEqual(r.json.duplicates, []);
    assert.deepEqual(
      r.json.bound.map((b: { port: number }) => b.port),
      Array.from({ length: 1000 }, (_, i) => 4000 + i),
    );
    assert.equal(r.json.bound[0].upstream, 'http://user0@10.0.0.1:8080');
    assert.equal(r.json.bound[3].upstream, 'socks5://user3@10.0.3.1:1080');
    assert.ok(!r.body.includes('pass0'));
    const rows = await createRepos(api.store.db).upstreams.list();
    assert.equal(rows.length, 1000);
    // Sealed with AES-GCM: each opens with the key to its own imported password.
    // (Not a substring check: random base64url contains "pass" now and then.)
    for (const u of rows) {
      const i = Number(api.cipher.decrypt(u.usernameEnc ?? '').slice('user'.length));
      assert.ok(u.passwordEnc?.startsWith('v1.'), `row ${i}`);
      assert.equal(api.cipher.decrypt(u.passwordEnc ?? ''), `pass${i}`);
    }
    for (let i = 0; i < 100 && !events.some((e) => e.type === 'upstreams'); i++)
      await new Promise((s) => setTimeout(s, 10));
    assert.ok(events.some((e) => e.type === 'upstreams'));
  });

  it('re-import keeps every port and reports the known lines', async () => {
    const r = await api.req('POST', '/api/v1/upstreams/import', { text: proxyList(1000) });
    assert.equal(r.status, 200);
    assert.equal(r.json.added, 0);
    assert.equal(r.json.kept, 1000);
    assert.equal(r.json.duplicates.length, 1000);
    assert.match(r.json.duplicates[0].reason, /already bound to port 4000/);
    const ports = await api.req('GET', '/api/v1/ports');
    assert.equal(ports.json.length, 1000);
    assert.equal(ports.json[0].port, 4000);
    assert.equal(ports.json[0].upstream, 'http://user0@10.0.0.1:8080');
    assert.equal(ports.json[0].listener, 'listening');
    assert.equal(ports.json[1].listener, 'failed');
    assert.equal(ports.json[1].listenerError, 'EADDRINUSE');
    assert.equal(ports.json[2].listener, 'unbound');
    assert.equal(ports.json[0].health, 'unknown');
  });

  it('range full: says how many fit and writes nothing', async () => {
    const r = await api.req('POST', '/api/v1/upstreams/import', { text: proxyList(2, 5000) });
    assert.equal(r.status, 409);
    assert.equal(r.json.error.code, 'PC_ERR_PORT_RANGE_FULL');
    assert.match(r.json.error.message, /0 free port\(s\) but 2 new upstream\(s\)/);
    assert.deepEqual(r.json.error.details, { free: 0, needed: 2, range: '4000-4999' });
    assert.equal((await createRepos(api.store.db).upstreams.list()).length, 1000);
  });

  it('delete unbinds a port; the next import takes the freed port, duplicates in the file are not doubled', async () => {
    const ports = await api.req('GET', '/api/v1/ports');
    const id = ports.json.find((p: { port: number }) => p.port === 4500).id;
    assert.equal((await api.req('DELETE', `/api/v1/upstreams/${id}`)).status, 204);
    assert.equal((await api.req('DELETE', `/api/v1/upstreams/${id}`)).status, 404);
    assert.equal((await api.req('DELETE', '/api/v1/upstreams/abc')).status, 400);
    const r = await api.req('POST', '/api/v1/upstreams/import', {
      text: 'direct\n[2001:db8::1]:3128:u:p\nDIRECT\n',
    });
    assert.equal(r.status, 409, r.body);
    assert.match(r.json.error.message, /1 free port/);
    const ok = await api.req('POST', '/api/v1/upstreams/import', { text: 'direct\nDIRECT\n' });
    assert.equal(ok.status, 200, ok.body);
    assert.equal(ok.json.added, 1);
    assert.deepEqual(ok.json.bound, [{ port: 4500, upstream: 'direct' }]);
    assert.deepEqual(ok.json.duplicates, [{ line: 2, upstream: 'direct', reason: 'repeats line 1' }]);
  });
});

describe('upstream import refusals', () => {
  let api: Api;
  before(async () => {
    api = await startApi({ env: { PORTCULLIS_PORTS: '5000-5002' } });
  });
  after(() => api.close());

  it('a malformed line refuses the whole import with line numbers', async () => {
    const text = '1.2.3.4:80\n# fine\n1.2.3.4\n5.6.7.8:99999\nftp://x:1\n9.9.9.9:80:u:p\n';
    const r = await api.req('POST', '/api/v1/upstreams/import', { text });
    assert.equal(r.status, 400);
    assert.equal(r.json.error.code, 'PC_ERR_IMPORT_INVALID');
    assert.deepEqual(
      r.json.error.details.map((d: { line: number }) => d.line),
      [3, 4, 5],
    );
    assert.match(r.json.error.details[1].error, /out of range/);
    assert.equal((await createRepos(api.store.db).upstreams.list()).length, 0);
  });

  it('range full on a small range: nothing half-imported', async () => {
    const r = await api.req('POST', '/api/v1/upstreams/import', {
      text: '1.1.1.1:1\n1.1.1.2:1\n1.1.1.3:1\n1.1.1.4:1\n',
    });
    assert.equal(r.status, 409);
    assert.match(r.json.error.message, /5000-5002 has 3 free port\(s\) but 4/);
    assert.equal((await createRepos(api.store.db).upstreams.list()).length, 0);
    const ok = await api.req('POST', '/api/v1/upstreams/import', { text: '1.1.1.1:1\n1.1.1.2:1\n' });
    assert.deepEqual(
      ok.json.bound.map((b: { port: number }) => b.port),
      [5000, 5001],
    );
  });

  it('empty list, JSON instead of text, and a body over 10 MiB', async () => {
    const empty = await api.req('POST', '/api/v1/upstreams/import', { text: '# nothing\n' });
    assert.equal(empty.status, 200);
    assert.equal(empty.json.added, 0);
    const json = await api.req('POST', '/api/v1/upstreams/import', { body: { lines: [] } });
    assert.equal(json.status, 400);
    assert.equal(json.json.error.code, 'PC_ERR_VALIDATION');
    const big = await api.req('POST', '/api/v1/upstreams/import', { text: '#'.repeat(10 * 1024 * 1024 + 1) });
    assert.equal(big.status, 413);
    assert.equal(big.json.error.code, 'PC_ERR_PAYLOAD_TOO_LARGE');
  });

  it('a read-only token may list but not import', async () => {
    const t = await api.req('POST', '/api/v1/tokens', { body: { name: 'viewer', scopes: ['read'] } });
    const ro = await api.req('POST', '/api/v1/upstreams/import', {
      text: '1.1.1.9:1\n',
      token: t.json.token,
    });
    assert.equal(ro.status, 403);
    assert.equal((await api.req('GET', '/api/v1/ports', { token: t.json.token })).status, 200);
  });
});
