// Issue 7 item 5: secrets never appear in logs or API answers. One process
// runs the gateway and the API (as `portcullis up` does) with every log line
// captured at trace level, through a full scenario: admin and read tokens,
// customers with given and generated passwords, a password change, API key
// rotation, a portal session, upstreams with credentials (squid with Basic
// auth, microsocks with RFC 1929, and one with a wrong password), traffic on
// HTTP forward, CONNECT and SOCKS5, wrong passwords, the proxy list by every
// form, health checks. Then every log line and every API answer (each admin
// and customer GET route of the OpenAPI document included) is searched for
// every secret, as is and in the encoded forms it travels in (Basic base64,
// URL-encoding), and for the stored hashes. The answers that hand a secret
// out once (creation, rotation, sign-in) may hold that one secret only.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import net, { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { buildApp } from '../../src/api/app.ts';
import { bootstrap } from '../../src/bootstrap.ts';
import { loadConfig } from '../../src/config.ts';
import { createGateway, type Gateway } from '../../src/gateway/index.ts';
import { createLive } from '../../src/live/index.ts';
import type { LiveState } from '../../src/live/live.ts';
import { logOptions } from '../../src/log.ts';
import { sql } from '../../src/store/orm.ts';
import { adminTokens, customerSessions, customers } from '../../src/store/schema.ts';
import { createCipher } from '../../src/store/secrets.ts';
import { curl } from '../gateway/harness.ts';
import { type Origin, startOrigin } from '../helpers/origin.ts';
import { type Peer, startMicrosocks, startSquid } from '../helpers/peers.ts';
import { openTestStore, REDIS_URL, type TestStore } from '../helpers/store.ts';
import { call, operations } from './client.ts';

const rnd = () => randomBytes(6).toString('hex');

/**
 * `n` consecutive free ports on loopback (the gateway's range for the import),
 * below the kernel's ephemeral range (32768+) where other tests' sockets come and go.
 */
async function freeRange(n: number): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const p = 20_000 + Math.floor(Math.random() * 10_000);
    let ok = true;
    for (let k = 0; k < n && ok; k++) ok = await isFree(p + k);
    if (ok) return p;
  }
  throw new Error('no free port range');
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

describe('secrets never appear in logs or API answers', () => {
  const lines: string[] = [];
  const answers: { label: string; text: string }[] = [];
  /** answers that hand secrets out once (creation, rotation, sign-in), with the secrets they may hold */
  const handOuts: { label: string; text: string; allowed: string[] }[] = [];
  const secrets = new Map<string, string>();
  let store: TestStore;
  let live: LiveState;
  let gateway: Gateway;
  let app: FastifyInstance;
  let apiPort: number;
  let dataDir: string;
  let squid: Peer;
  let socks: Peer;
  let origin: Origin;
  let ports: number[];
  const adminToken = `pca_admin_${rnd()}${rnd()}`;

  before(async () => {
    const sink = new Writable({
      write(chunk, _enc, done) {
        lines.push(...String(chunk).split('\n').filter(Boolean));
        done();
      },
    });
    // The options `portcullis up` gives its logger, at trace level.
    const log = pino(logOptions('trace'), sink);
    dataDir = mkdtempSync(join(tmpdir(), 'pc-secrets-'));
    const base = await freeRange(3);
    const config = loadConfig({
      PORTCULLIS_DATA_DIR: dataDir,
      PORTCULLIS_ADMIN_TOKEN: adminToken,
      PORTCULLIS_PORTS: `${base}-${base + 2}`,
      PORTCULLIS_GATEWAY_HOST: '127.0.0.1',
      PORTCULLIS_EGRESS_ALLOW: '127.0.0.0/8',
      PORTCULLIS_HEALTH_INTERVAL: '1h',
      PORTCULLIS_API_RATE_LIMIT: '0',
      PORTCULLIS_PUBLIC_HOST: 'proxy.test',
      PORTCULLIS_LOG_LEVEL: 'trace',
    });
    store = await openTestStore();
    live = await createLive({ redisUrl: REDIS_URL, prefix: `pctest:${rnd()}:`, log });
    const cipher = createCipher(randomBytes(32));
    await bootstrap({ config, store, log });
    gateway = createGateway({ config, store, live, cipher, log });
    await gateway.start();
    app = await buildApp({
      config,
      store,
      live,
      cipher,
      log,
      gatewayStatus: () => gateway.status(),
      gatewayConnections: () => gateway.connections(),
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    apiPort = (app.server.address() as AddressInfo).port;

    const squidAuth = { user: 'squser', pass: `SquidPw${rnd()}` };
    const socksAuth = { user: 'msuser', pass: `SocksPw${rnd()}` };
    [squid, socks, origin] = await Promise.all([
      startSquid({ auth: squidAuth }),
      startMicrosocks({ auth: socksAuth }),
      startOrigin(),
    ]);
    secrets.set('admin token', adminToken);
    secrets.set('squid password', squidAuth.pass);
    secrets.set('microsocks password', socksAuth.pass);
    secrets.set('wrong upstream password', `WrongUpPw${rnd()}`);
  });

  after(async () => {
    await app?.close();
    await gateway?.stop({ drainTimeoutSec: 0 });
    await live?.close();
    await store?.close();
    await Promise.all([squid?.stop(), socks?.stop(), origin?.close()]);
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function api(
    method: string,
    path: string,
    o: { token?: string; basic?: [string, string]; json?: unknown; text?: string; handOut?: boolean } = {},
  ) {
    const headers: Record<string, string> = {};
    if (o.basic)
      headers.authorization = `Basic ${Buffer.from(`${o.basic[0]}:${o.basic[1]}`).toString('base64')}`;
    else headers.authorization = `Bearer ${o.token ?? adminToken}`;
    let body: string | undefined;
    if (o.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(o.json);
    } else if (o.text !== undefined) {
      headers['content-type'] = 'text/plain';
      body = o.text;
    }
    const r = await call(apiPort, method, path, { headers, body, firstEvent: true });
    const text = `${JSON.stringify(r.headers)}\n${r.body}`;
    const label = `${method} ${path}`;
    if (o.handOut) handOuts.push({ label, text, allowed: [] });
    else answers.push({ label, text });
    assert.ok(r.status < 500, `${label}: ${r.status} ${r.body}`);
    return {
      status: r.status,
      json: r.body.startsWith('{') || r.body.startsWith('[') ? JSON.parse(r.body) : r.body,
    };
  }

  it('runs the scenario', async () => {
    assert.equal(
      (await api('POST', '/api/v1/plans', { json: { name: 'basic', threads: 10, rps: 0 } })).status,
      201,
    );
    const alicePw = `AlicePw${rnd()}`;
    const allow = (...xs: string[]) => handOuts[handOuts.length - 1].allowed.push(...xs);
    const a = await api('POST', '/api/v1/customers', {
      json: { username: 'alice', plan: 'basic', password: alicePw },
      handOut: true,
    });
    assert.equal(a.status, 201);
    allow(a.json.apiKey);
    secrets.set('alice password (first)', alicePw);
    secrets.set('alice API key', a.json.apiKey);
    const b = await api('POST', '/api/v1/customers', {
      json: { username: 'bob', plan: 'basic' },
      handOut: true,
    });
    allow(b.json.apiKey, b.json.password);
    secrets.set('bob generated password', b.json.password);
    secrets.set('bob API key (first)', b.json.apiKey);
    const alicePw2 = `AlicePw2${rnd()}`;
    assert.equal(
      (await api('PATCH', '/api/v1/customers/alice', { json: { password: alicePw2 } })).status,
      200,
    );
    secrets.set('alice password', alicePw2);
    const rot = await api('PATCH', '/api/v1/customers/bob', {
      json: { regenerateApiKey: true },
      handOut: true,
    });
    allow(rot.json.apiKey);
    secrets.set('bob API key', rot.json.apiKey);
    const read = await api('POST', '/api/v1/tokens', {
      json: { name: 'reader', scopes: ['read'] },
      handOut: true,
    });
    allow(read.json.token);
    secrets.set('read token', read.json.token);
    const s = await call(apiPort, 'POST', '/api/v1/me/session', {
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'alice', password: alicePw2 }),
    });
    assert.equal(s.status, 201, s.body);
    const session = JSON.parse(s.body).token as string;
    handOuts.push({ label: 'POST /api/v1/me/session', text: s.body, allowed: [session] });
    secrets.set('alice session', session);

    const imp = await api('POST', '/api/v1/upstreams/import', {
      text:
        `http://squser:${secrets.get('squid password')}@127.0.0.1:${squid.port}\n` +
        `socks5://msuser:${secrets.get('microsocks password')}@127.0.0.1:${socks.port}\n` +
        `127.0.0.1:${squid.port}:squser:${secrets.get('wrong upstream password')}\n`,
    });
    assert.equal(imp.status, 200, JSON.stringify(imp.json));
    ports = imp.json.bound.map((x: { port: number }) => x.port);
    assert.equal(ports.length, 3);
    await new Promise((r) => setTimeout(r, 300)); // the gateway binds the new ports

    // Gateway traffic: forward GET and CONNECT through squid, SOCKS5 through microsocks,
    // wrong customer passwords, and an upstream that refuses our (wrong) credentials.
    const target = `${origin.url}/`;
    const wrong = `WrongCustPw${rnd()}`;
    secrets.set('a wrong customer password', wrong);
    const runs = [
      ['-x', `http://alice:${alicePw2}@127.0.0.1:${ports[0]}`, target],
      ['-p', '-x', `http://alice:${alicePw2}@127.0.0.1:${ports[0]}`, target],
      ['-x', `socks5h://bob:${b.json.password}@127.0.0.1:${ports[1]}`, target],
      ['-x', `http://alice:${alicePw2}@127.0.0.1:${ports[1]}`, target],
      ['-x', `http://alice:${wrong}@127.0.0.1:${ports[0]}`, target],
      ['-x', `socks5://alice:${wrong}@127.0.0.1:${ports[1]}`, target],
      ['-x', `http://alice:${alicePw2}@127.0.0.1:${ports[2]}`, target],
      ['-p', '-x', `http://alice:${alicePw2}@127.0.0.1:${ports[2]}`, target],
    ];
    const codes = [];
    for (const args of runs) codes.push((await curl(args)).code);
    assert.deepEqual(codes.slice(0, 4), [200, 200, 200, 200], 'traffic through both authenticated upstreams');
    assert.equal(codes[4], 407);
    assert.ok(codes[6] === 502, `wrong upstream credentials: ${codes[6]}`);
    await gateway.checkHealth();

    // Customer API in every form, right and wrong.
    await api('GET', '/api/v1/me', { basic: ['alice', alicePw2] });
    await api('GET', '/api/v1/me', { basic: ['alice', wrong] });
    await api('GET', '/api/v1/me/overview', { token: session });
    await api('GET', '/api/v1/me/proxies', { token: rot.json.apiKey });
    await api('GET', `/api/proxies.php?username=alice&password=${encodeURIComponent(alicePw2)}`);
    await api('GET', `/api/proxies.php?username=alice&password=${encodeURIComponent(wrong)}`);
    await api('GET', `/api/proxies.php?api_key=${rot.json.apiKey}`);
    await api('GET', '/api/v1/plans', { token: 'pca_not_a_token' });

    // The database refuses a write mid-request: the failed query carries the
    // new password's hash among its parameters; the 500 is logged without them.
    const carolPw = `CarolPw${rnd()}`;
    const c = await api('POST', '/api/v1/customers', {
      json: { username: 'carol', plan: 'basic', password: carolPw },
      handOut: true,
    });
    allow(c.json.apiKey);
    secrets.set('carol password', carolPw);
    await store.db.execute(
      sql.raw(`CREATE FUNCTION pc_test_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'refused by the test'; END $$`),
    );
    await store.db.execute(
      sql.raw(`CREATE TRIGGER pc_test_refuse BEFORE UPDATE ON customers FOR EACH ROW
        WHEN (NEW.username = 'carol') EXECUTE FUNCTION pc_test_refuse()`),
    );
    const newPw = `CarolPw2${rnd()}`;
    secrets.set('carol new password', newPw);
    const failed = await call(apiPort, 'PATCH', '/api/v1/customers/carol', {
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ password: newPw }),
    });
    answers.push({ label: 'PATCH carol (refused by the database)', text: failed.body });
    assert.equal(failed.status, 500, failed.body);
    await store.db.execute(sql.raw('DROP TRIGGER pc_test_refuse ON customers'));
    await store.db.execute(sql.raw('DROP FUNCTION pc_test_refuse()'));
  });

  it('every admin and customer GET route answers without a secret', async () => {
    const doc = JSON.parse((await call(apiPort, 'GET', '/api/docs')).body);
    let n = 0;
    for (const op of operations(doc)) {
      if (op.method !== 'GET') continue;
      const path = op.path.replace('{username}', 'alice').replace('{name}', 'basic');
      if (op.security.includes('adminToken')) {
        await api('GET', path);
        await api('GET', path, { token: secrets.get('read token') });
      } else if (op.security.length > 0) {
        await api('GET', path, { token: secrets.get('alice session') });
        await api('GET', path, { basic: ['alice', secrets.get('alice password')!] });
      } else await api('GET', path);
      n++;
    }
    assert.ok(n >= 15, `${n} GET routes`);
    await api('GET', '/metrics');
    await api('GET', '/api/v1/audit?limit=1000');
  });

  it('no log line and no answer holds a secret, its Basic or URL-encoded form, or a stored hash', async () => {
    await gateway.stop({ drainTimeoutSec: 0 }); // flushes batched security events and final logs
    await gateway.start();
    /** form name -> [the text searched for, the secret it encodes] */
    const forms = new Map<string, [string, string]>();
    for (const [name, s] of secrets) {
      forms.set(name, [s, s]);
      forms.set(`${name} (URL-encoded)`, [encodeURIComponent(s), s]);
      for (const user of ['alice', 'bob', 'squser', 'msuser'])
        forms.set(`${name} (Basic as ${user})`, [Buffer.from(`${user}:${s}`).toString('base64'), s]);
    }
    for (const row of await store.db.select().from(customers)) {
      forms.set(`${row.username} password hash`, [row.passwordHash, '']);
      forms.set(`${row.username} API key hash`, [row.apiKeyHash, '']);
    }
    for (const row of await store.db.select().from(adminTokens))
      forms.set(`token ${row.name} hash`, [row.tokenHash, '']);
    for (const row of await store.db.select().from(customerSessions))
      forms.set('session hash', [row.tokenHash, '']);

    assert.ok(lines.length > 10, `${lines.length} log lines captured`);
    assert.ok(
      lines.some((l) => l.includes('"level":50')),
      'the failed query was logged (as an error, without its parameters)',
    );
    for (const line of lines)
      assert.ok(!line.includes('scrypt$'), `log line holds a password hash: ${line.slice(0, 400)}`);
    for (const line of lines)
      for (const [name, [f]] of forms)
        assert.ok(!line.includes(f), `log line holds the ${name}: ${line.slice(0, 400)}`);
    assert.ok(answers.length > 40, `${answers.length} answers`);
    for (const a of answers)
      for (const [name, [f]] of forms) assert.ok(!a.text.includes(f), `${a.label} holds the ${name}`);
    assert.equal(handOuts.length, 6);
    for (const h of handOuts) {
      for (const s of h.allowed) assert.ok(h.text.includes(s), `${h.label} hands out its secret`);
      for (const [name, [f, s]] of forms)
        if (!h.allowed.includes(s)) assert.ok(!h.text.includes(f), `${h.label} holds the ${name}`);
    }
  });
});
