// Issue 7 item 5, control-plane access: who may call which route. The routes
// are enumerated from the app itself (the OpenAPI document it serves, checked
// against Fastify's own route table), never from a hand-written list, so a
// route added later is covered (or fails here until it declares its security).
// Requests go over real sockets (SSE routes answer a stream: status, then
// close). /api/internal/* is checked with the default allow-list (loopback)
// from outside addresses, and over real sockets on a dual-stack listener.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { buildApp } from '../../src/api/app.ts';
import { loadConfig } from '../../src/config.ts';
import { createMemoryLive } from '../../src/live/memory.ts';
import { schemaTables } from '../../src/store/schema.ts';
import { createCipher } from '../../src/store/secrets.ts';
import { type Api, basicAuth, seedCustomer, startApi } from '../api/harness.ts';
import { openTestStore } from '../helpers/store.ts';
import { call, type Op, operations } from './client.ts';

/** "METHOD /path/:param" for every route in Fastify's radix tree (printRoutes). */
function routeTable(tree: string): Set<string> {
  const stack: string[] = [];
  const out = new Set<string>();
  for (const line of tree.split('\n')) {
    const m = /^([\s│├└─]*)(.*?)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!m || m[2] === '') continue;
    const depth = [...m[1]].length / 4;
    stack.length = depth;
    stack[depth] = m[2];
    if (m[3]) for (const method of m[3].split(', ')) out.add(`${method} ${stack.join('')}`);
  }
  return out;
}

const PUBLIC = [
  'GET /healthz',
  'GET /readyz',
  'GET /api/internal/health',
  'GET /api/proxies.php',
  'POST /api/v1/me/session',
];
/** Routes the document leaves out on purpose: metrics, the document itself, the web console. */
const HIDDEN = [
  'GET /metrics',
  'GET /api/docs',
  'GET /',
  'GET /admin',
  'GET /admin/*',
  'GET /assets/*',
  'GET /portal',
  'GET /portal/*',
  'GET /favicon.svg',
];

/** Path parameters filled with values that name nothing (mutations, if they ran, would change nothing). */
function fill(path: string): string {
  return path
    .replace('{username}', 'nosuchuser')
    .replace('{name}', 'nosuchplan')
    .replace('{cidr}', encodeURIComponent('10.99.0.0/16'))
    .replace('{id}', '999999');
}

function bodyFor(op: Op): string | undefined {
  if (!op.hasBody) return undefined;
  return op.contentType === 'text/plain' ? '10.0.0.1:8080\n' : '{}';
}

describe('control plane: scopes and credentials on every route', () => {
  let api: Api;
  let port: number;
  let ops: Op[];
  let readToken: string;
  let expiringToken: string;
  let revokedToken: string;
  let alice: Awaited<ReturnType<typeof seedCustomer>>;
  let t = Date.now();

  before(async () => {
    api = await startApi({ now: () => t });
    alice = await seedCustomer(api, 'alice');
    const mk = async (name: string, scopes: string[], expiresAt?: string) => {
      const r = await api.req('POST', '/api/v1/tokens', { body: { name, scopes, expiresAt } });
      assert.equal(r.status, 201, r.body);
      return r.json as { id: number; token: string };
    };
    readToken = (await mk('reader', ['read'])).token;
    expiringToken = (await mk('soon', ['admin'], new Date(t + 60_000).toISOString())).token;
    const revoked = await mk('gone', ['admin']);
    revokedToken = revoked.token;
    assert.equal((await api.req('DELETE', `/api/v1/tokens/${revoked.id}`)).status, 204);
    await api.app.listen({ host: '127.0.0.1', port: 0 });
    port = (api.app.server.address() as AddressInfo).port;
    const doc = await call(port, 'GET', '/api/docs');
    ops = operations(JSON.parse(doc.body));
  });
  after(() => api.close());

  const key = (op: Op) => `${op.method} ${op.path}`;
  const admin = () => ops.filter((op) => op.security.includes('adminToken'));
  const customer = () => ops.filter((op) => op.security.some((s) => s === 'apiKey' || s === 'basic'));

  it('every route of the app is in the document, and the routes without credentials are exactly the public ones', () => {
    const table = routeTable(api.app.printRoutes());
    const documented = new Set(ops.map((op) => `${op.method} ${op.path.replace(/\{(\w+)\}/g, ':$1')}`));
    const undocumented = [...table].filter((r) => !r.startsWith('HEAD ') && !documented.has(r));
    assert.deepEqual(undocumented.sort(), [...HIDDEN].sort(), 'routes outside the OpenAPI document');
    assert.ok(ops.length >= 40, `${ops.length} documented operations`);
    assert.deepEqual(
      ops
        .filter((op) => op.security.length === 0)
        .map(key)
        .sort(),
      [...PUBLIC].sort(),
    );
  });

  it('no credentials: 401 on every admin and customer route', async () => {
    for (const op of [...admin(), ...customer()]) {
      const r = await call(port, op.method, fill(op.path), { body: bodyFor(op), headers: contentType(op) });
      assert.equal(r.status, 401, `${key(op)}: ${r.body}`);
      assert.equal(JSON.parse(r.body).error.code, 'PC_ERR_UNAUTHORIZED');
    }
  });

  it('a read token reads every admin GET route and is refused (403) on every other method, changing nothing', async () => {
    const before = await snapshot(api);
    let reads = 0;
    let refused = 0;
    for (const op of admin()) {
      const r = await call(port, op.method, fill(op.path), {
        body: bodyFor(op),
        headers: { authorization: `Bearer ${readToken}`, ...contentType(op) },
      });
      if (op.method === 'GET') {
        assert.ok(
          r.status !== 401 && r.status !== 403,
          `${key(op)} with a read token: ${r.status} ${r.body}`,
        );
        reads++;
      } else {
        assert.equal(r.status, 403, `${key(op)} with a read token: ${r.status} ${r.body}`);
        assert.equal(JSON.parse(r.body).error.code, 'PC_ERR_FORBIDDEN');
        refused++;
      }
    }
    assert.ok(reads >= 10 && refused >= 15, `${reads} reads, ${refused} refusals`);
    assert.equal(await snapshot(api), before, 'the store is unchanged');
  });

  it('expired and revoked admin tokens, and customer API keys, are 401 on every admin route', async () => {
    t += 120_000; // past the expiring token's end
    for (const token of [expiringToken, revokedToken, alice.apiKey])
      for (const op of admin()) {
        const r = await call(port, op.method, fill(op.path), {
          body: bodyFor(op),
          headers: { authorization: `Bearer ${token}`, ...contentType(op) },
        });
        assert.equal(r.status, 401, `${key(op)}: ${r.body}`);
      }
  });

  it('admin tokens and a Basic admin are not customers: 401 on every customer route', async () => {
    for (const auth of [`Bearer ${api.token}`, basicAuth('admin', api.token)])
      for (const op of customer()) {
        const r = await call(port, op.method, fill(op.path), {
          body: bodyFor(op),
          headers: { authorization: auth, ...contentType(op) },
        });
        assert.equal(r.status, 401, `${key(op)} as ${auth.split(' ')[0]}: ${r.body}`);
      }
  });
});

function contentType(op: Op): Record<string, string> {
  return op.contentType ? { 'content-type': op.contentType } : {};
}

/** Every row of every table (admin tokens without last_used_at, which reading touches), hashed. */
async function snapshot(api: Api): Promise<string> {
  const h = createHash('sha256');
  for (const [name, table] of Object.entries(schemaTables)) {
    const rows = (await api.store.db.select().from(table as never)) as Record<string, unknown>[];
    for (const r of rows) if (name === 'adminTokens') r.lastUsedAt = null;
    h.update(`${name}:${JSON.stringify(rows.map((r) => JSON.stringify(r)).sort())}\n`);
  }
  return h.digest('hex');
}

describe('/api/internal/* answers only allowed addresses', () => {
  it('the default allow-list (loopback): other addresses get 403, X-Forwarded-For changes nothing', async () => {
    const api = await startApi();
    try {
      for (const ip of ['127.0.0.1', '127.0.0.2', '127.255.255.254', '::1', '::ffff:127.0.0.1']) {
        const r = await api.req('GET', '/api/internal/health', { token: null, ip });
        assert.equal(r.status, 200, `${ip}: ${r.body}`);
      }
      for (const ip of [
        '192.0.2.1',
        '10.0.0.1',
        '172.16.0.1',
        '::ffff:192.0.2.1',
        '2001:db8::1',
        'fe80::1',
        '::2',
      ]) {
        const r = await api.req('GET', '/api/internal/health', { token: null, ip });
        assert.equal(r.status, 403, `${ip}: ${r.body}`);
        assert.equal(r.json.error.code, 'PC_ERR_FORBIDDEN');
        const spoofed = await api.req('GET', '/api/internal/health', {
          token: null,
          ip,
          headers: { 'x-forwarded-for': '127.0.0.1', 'x-real-ip': '127.0.0.1', forwarded: 'for=127.0.0.1' },
        });
        assert.equal(spoofed.status, 403, `${ip} claiming 127.0.0.1 in headers`);
      }
      // An admin token does not open it either.
      assert.equal((await api.req('GET', '/api/internal/health', { ip: '192.0.2.1' })).status, 403);
    } finally {
      await api.close();
    }
  });

  it('over real sockets on a dual-stack listener: an address outside the list is refused, IPv4-mapped or not', async () => {
    // The shipped list always holds loopback, and a test can only connect from
    // loopback: narrow the list to 127.0.0.1 and come from 127.0.0.2 and ::1.
    const store = await openTestStore();
    const live = createMemoryLive();
    const config = { ...loadConfig({ PORTCULLIS_API_RATE_LIMIT: '0' }), internalAllow: ['127.0.0.1/32'] };
    const app = await buildApp({
      config,
      store,
      live,
      cipher: createCipher(randomBytes(32)),
      log: pino({ level: 'silent' }),
    });
    try {
      await app.listen({ host: '::', port: 0 });
      const port = (app.server.address() as AddressInfo).port;
      const get = (localAddress: string, host: string) =>
        call(port, 'GET', '/api/internal/health', { localAddress, host });
      assert.equal((await get('127.0.0.1', '127.0.0.1')).status, 200, 'allowed (seen as ::ffff:127.0.0.1)');
      const outside = await get('127.0.0.2', '127.0.0.1');
      assert.equal(outside.status, 403, outside.body);
      assert.match(outside.body, /internal endpoints do not answer ::ffff:127\.0\.0\.2/);
      assert.equal((await get('::1', '::1')).status, 403, '::1 is not in the narrowed list');
      assert.equal(
        (await call(port, 'GET', '/healthz', { localAddress: '127.0.0.2' })).status,
        200,
        'public routes are',
      );
    } finally {
      await app.close();
      await live.close();
      await store.close();
    }
  });
});
