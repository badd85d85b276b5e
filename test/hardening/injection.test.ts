// Issue 7 item 5: SQL-injection and header-injection attempts in every text
// field the API takes: every string property of every JSON request body,
// every query parameter and every path parameter of the served OpenAPI
// document, the text/plain upstream list, and the credentials headers. Each
// answer is a 2xx (the value stored verbatim) or a 4xx, never a 500; no answer
// carries an injected header; a sentinel customer and plan are unchanged.
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { type Api, basicAuth, seedCustomer, startApi } from '../api/harness.ts';
import { call, type Op, operations } from './client.ts';

const PAYLOADS = [
  "' OR '1'='1",
  "x'; DROP TABLE customers; --",
  "x\"; UPDATE customers SET status='banned'; --",
  "%' OR 1=1 --",
  '_%',
  "'||(SELECT password_hash FROM customers LIMIT 1)||'",
  '\\',
  '\\x00',
  '\u0000',
  'a\u0000b',
  'x\r\nX-Injected: yes',
  'x\r\n\r\nHTTP/1.1 200 OK\r\nX-Injected: yes',
  '\u0024{7*7}{{7*7}}',
  '<script>alert(1)</script>',
  '\u202eevil',
  '\ud800',
  '😀',
  'x'.repeat(5000),
];

interface Schema {
  type?: string | string[];
  properties?: Record<string, Schema>;
  required?: string[];
  enum?: unknown[];
  format?: string;
  minimum?: number;
  minLength?: number;
  items?: Schema;
  default?: unknown;
  pattern?: string;
  $ref?: string;
}

/** A value the schema accepts, for the fields not under attack. */
function sample(s: Schema, name: string): unknown {
  if (s.enum) return s.enum[0];
  const t = Array.isArray(s.type) ? s.type.find((x) => x !== 'null') : s.type;
  if (t === 'integer' || t === 'number') return Math.max(1, s.minimum ?? 1);
  if (t === 'boolean') return false;
  if (t === 'array') return s.items ? [sample(s.items, name)] : [];
  if (t === 'object') return {};
  if (s.format === 'date-time') return new Date(Date.now() + 86_400_000).toISOString();
  if (name === 'cidr') return '192.0.2.77';
  if (name === 'password') return 'Sample-pass1';
  return `s${Math.random().toString(36).slice(2, 10)}`;
}

/** Percent-encodes a payload; a lone surrogate becomes the invalid UTF-8 it would be on the wire. */
function enc(text: string): string {
  try {
    return encodeURIComponent(text);
  } catch {
    return text
      .replace(/[\ud800-\udfff]/g, '%ED%A0%80')
      .replace(/[^A-Za-z0-9%]/g, (c) => encodeURIComponent(c));
  }
}

describe('injection: every text field, query and path parameter', () => {
  let api: Api;
  let port: number;
  let ops: Op[];
  let doc: {
    paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: Schema }> } }>>;
  };
  let victim: Awaited<ReturnType<typeof seedCustomer>>;
  let sentinelBefore: string;
  const seen: string[] = [];

  before(async () => {
    // Hundreds of deliberate 401s from one address: the credential lock-out
    // (its own tests) would turn them into 429s.
    api = await startApi({ env: { PORTCULLIS_AUTH_FAIL_LIMIT: '0' } });
    await seedCustomer(api, 'sentinel');
    victim = await seedCustomer(api, 'victim');
    sentinelBefore = await sentinel();
    await api.app.listen({ host: '127.0.0.1', port: 0 });
    port = (api.app.server.address() as AddressInfo).port;
    const text = (await call(port, 'GET', '/api/docs')).body;
    doc = JSON.parse(text);
    ops = operations(doc);
  });
  after(() => api.close());

  async function sentinel(): Promise<string> {
    const c = await api.req('GET', '/api/v1/customers/sentinel');
    const p = await api.req('GET', '/api/v1/plans/p-sentinel');
    const all = await api.req('GET', '/api/v1/customers?limit=1000');
    assert.equal(c.status, 200, c.body);
    return JSON.stringify([c.json, p.json, all.json.items?.length ?? all.json.length]);
  }

  function check(label: string, r: { status: number; body: string; headers: Record<string, unknown> }): void {
    seen.push(label);
    assert.ok(r.status < 500, `${label}: ${r.status} ${r.body.slice(0, 300)}`);
    assert.equal(r.headers['x-injected'], undefined, `${label}: injected header`);
  }

  /** Path parameters naming things that exist, so the body is what is tried. */
  function realPath(path: string): string {
    return path
      .replace('{username}', 'victim')
      .replace('{name}', 'p-victim')
      .replace('{cidr}', encodeURIComponent('192.0.2.0/24'))
      .replace('{id}', '999999');
  }

  const admin = (op: Op) => op.security.includes('adminToken');
  const auth = (op: Op) =>
    admin(op) ? `Bearer ${api.token}` : op.security.length ? `Bearer ${victim.apiKey}` : undefined;

  it('every string field of every JSON body: stored verbatim or refused with 400, never a 500', async () => {
    let tried = 0;
    for (const op of ops) {
      if (op.contentType !== 'application/json') continue;
      if (op.path.endsWith('/api-key')) continue; // no fields; rotating would lose the victim's key
      const schema =
        doc.paths[op.path][op.method.toLowerCase()].requestBody!.content['application/json'].schema;
      const props = schema.properties ?? {};
      for (const [field, s] of Object.entries(props)) {
        const t = Array.isArray(s.type) ? s.type : [s.type];
        if (!t.includes('string') || s.enum || s.format === 'date-time') continue;
        for (const payload of PAYLOADS) {
          const body: Record<string, unknown> = {};
          for (const req of schema.required ?? []) body[req] = sample(props[req], req);
          body[field] = payload;
          const headers: Record<string, string> = { 'content-type': 'application/json' };
          const a = auth(op);
          if (a) headers.authorization = a;
          const r = await call(port, op.method, realPath(op.path), { headers, body: JSON.stringify(body) });
          const label = `${op.method} ${op.path} ${field}=${JSON.stringify(payload).slice(0, 40)}`;
          check(label, r);
          tried++;
          if (r.status >= 200 && r.status < 300 && r.body.startsWith('{')) {
            const j = JSON.parse(r.body);
            if (typeof j[field] === 'string' && field !== 'password')
              assert.equal(j[field], payload, `${label}: stored verbatim`);
          }
          // Undo what a success created, so the next payload meets the same state.
          if (r.status === 201 && op.path.endsWith('/ips'))
            await api.req(
              'DELETE',
              `/api/v1/customers/victim/ips/${encodeURIComponent(JSON.parse(r.body).cidr)}`,
            );
        }
      }
    }
    assert.ok(tried >= 100, `${tried} attempts`);
  });

  it('every query and path parameter, and the credentials headers: never a 500', async () => {
    let tried = 0;
    for (const op of ops) {
      const d = doc.paths[op.path][op.method.toLowerCase()] as unknown as {
        parameters?: { in: string; name: string }[];
      };
      const params = d.parameters ?? [];
      if (op.method !== 'GET' && op.method !== 'DELETE' && !params.some((p) => p.in === 'path')) continue;
      for (const payload of PAYLOADS) {
        let path = op.path;
        for (const p of params.filter((x) => x.in === 'path'))
          path = path.replace(`{${p.name}}`, enc(payload));
        path = path.replace(/\{\w+\}/g, 'x');
        const query = params
          .filter((p) => p.in === 'query')
          .map((p) => `${p.name}=${enc(payload)}`)
          .join('&');
        const a = auth(op);
        const url = query ? `${path}?${query}` : path;
        const r = await call(port, op.method, url, { headers: a ? { authorization: a } : {} });
        check(`${op.method} ${url.slice(0, 80)}`, r);
        tried++;
      }
    }
    for (const payload of PAYLOADS.filter((p) => !/[\r\n\u0000-\u001f\u007f-\uffff]/.test(p))) {
      for (const authorization of [`Bearer ${payload}`, basicAuth(payload, payload), payload]) {
        const r = await call(port, 'GET', '/api/v1/me', { headers: { authorization } });
        check(`GET /api/v1/me with Authorization ${authorization.slice(0, 40)}`, r);
        assert.equal(r.status, 401);
        tried++;
      }
    }
    assert.ok(tried >= 200, `${tried} attempts`);
  });

  it('the text/plain upstream list: hostile lines refused by line number, credentials stored verbatim', async () => {
    const headers = { authorization: `Bearer ${api.token}`, 'content-type': 'text/plain' };
    let stored = 0;
    for (const payload of PAYLOADS) {
      const label = `import ${JSON.stringify(payload).slice(0, 40)}`;
      const bad = await call(port, 'POST', '/api/v1/upstreams/import', {
        headers,
        body: `192.0.2.10:3128\n${payload}\n`,
      });
      check(label, bad);
      assert.equal(bad.status, 400, `${label}: ${bad.body.slice(0, 200)}`);
      const e = JSON.parse(bad.body).error;
      assert.equal(e.code, 'PC_ERR_IMPORT_INVALID');
      assert.ok(
        e.details.some((d: { line: number }) => d.line === 2),
        `${label}: line 2 named`,
      );
      const cred = await call(port, 'POST', '/api/v1/upstreams/import', {
        headers,
        body: `192.0.2.11:3128:${payload}:pw\n`,
      });
      check(`${label} as the upstream username`, cred);
      assert.ok(
        cred.status === 200 || cred.status === 400,
        `${label}: ${cred.status} ${cred.body.slice(0, 200)}`,
      );
      if (cred.status === 200) {
        // (On the wire a lone surrogate is already U+FFFD: UTF-8 cannot carry it.)
        const list = await api.req('GET', '/api/v1/upstreams');
        assert.ok(
          list.json.some((u: { upstream: string }) =>
            u.upstream.includes(`${encodeURIComponent(payload.toWellFormed())}@192.0.2.11:3128`),
          ),
          `${label}: stored verbatim (shown URL-encoded)`,
        );
        stored++;
      }
    }
    assert.ok(stored >= 3, `${stored} hostile usernames stored verbatim`);
  });

  it('answers after all of it: no injected header anywhere, the sentinel customer and plan unchanged', async () => {
    for (const path of [
      '/api/v1/customers?limit=1000',
      '/api/v1/customers/victim',
      '/api/v1/plans',
      '/api/v1/upstreams',
      '/api/v1/audit?limit=1000',
    ]) {
      const r = await call(port, 'GET', path, { headers: { authorization: `Bearer ${api.token}` } });
      check(`GET ${path}`, r);
      assert.equal(r.status, 200);
    }
    assert.equal(await sentinel(), sentinelBefore);
    assert.ok(seen.length > 300, `${seen.length} answers checked`);
  });
});
