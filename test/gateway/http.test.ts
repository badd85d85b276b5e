import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ORIGIN_BODY, type Origin, startOrigin } from '../helpers/origin.ts';
import { curl, eventually, type Harness, startHarness } from './harness.ts';

describe('gateway: HTTP forward proxy and CONNECT (curl)', () => {
  let h: Harness;
  let origin: Origin;
  let port: number;
  let customerId: number;

  before(async () => {
    h = await startHarness();
    origin = await startOrigin();
    const plan = await h.addPlan({ threads: 5 });
    customerId = await h.addCustomer('alice', 's3cret', plan);
    await h.addCustomer('wl', 'unused-pass', plan, ['127.0.0.1/32']);
    port = await h.addUpstream({ protocol: 'direct' });
  });
  after(async () => {
    await h.close();
    await origin.close();
  });

  const noLeaks = () =>
    eventually(async () => h.gateway.connections().length === 0 && (await h.live.threads(customerId)) === 0);

  test('forwards an absolute-URI GET with Basic credentials', async () => {
    const r = await curl(['-x', `http://alice:s3cret@127.0.0.1:${port}`, `${origin.url}/`]);
    assert.equal(r.code, 200);
    assert.equal(r.body, ORIGIN_BODY);
    await noLeaks();
  });

  test('tunnels with CONNECT (-p)', async () => {
    const r = await curl(['-p', '-x', `http://alice:s3cret@127.0.0.1:${port}`, `${origin.url}/bytes/100000`]);
    assert.equal(r.connectCode, 200);
    assert.equal(r.code, 200);
    assert.equal(r.body.length, 100000);
    await noLeaks();
  });

  test('keep-alive: several requests on one connection, hop-by-hop fields removed', async () => {
    const r = await curl([
      '-x',
      `http://alice:s3cret@127.0.0.1:${port}`,
      '-H',
      'Connection: keep-alive, X-Secret-Hop',
      '-H',
      'X-Secret-Hop: 1',
      '-H',
      'Keep-Alive: timeout=5',
      `${origin.url}/echo`,
      `${origin.url}/`,
      `${origin.url}/echo`,
    ]);
    assert.equal(r.code, 200);
    const end = r.body.indexOf('"body":""}') + '"body":""}'.length;
    const first = JSON.parse(r.body.slice(0, end));
    assert.equal(first.headers['proxy-authorization'], undefined);
    assert.equal(first.headers['x-secret-hop'], undefined);
    assert.equal(first.headers['keep-alive'], undefined);
    assert.equal(first.headers.host, `127.0.0.1:${origin.port}`);
    assert.ok(r.body.includes(ORIGIN_BODY));
    await noLeaks();
  });

  test('POST body is relayed (Content-Length and chunked)', async () => {
    const a = await curl([
      '-x',
      `http://alice:s3cret@127.0.0.1:${port}`,
      '-d',
      'hello=world',
      `${origin.url}/echo`,
    ]);
    assert.equal(JSON.parse(a.body).body, 'hello=world');
    const b = await curl([
      '-x',
      `http://alice:s3cret@127.0.0.1:${port}`,
      '-H',
      'Transfer-Encoding: chunked',
      '-d',
      'chunky',
      `${origin.url}/echo`,
    ]);
    assert.equal(JSON.parse(b.body).body, 'chunky');
    await noLeaks();
  });

  test('missing credentials: 407 with Proxy-Authenticate; a whitelisted IP needs none', async () => {
    // 127.0.0.1 is whitelisted for "wl"; 127.0.0.2 is not.
    const r = await curl([
      '-i',
      '--interface',
      '127.0.0.2',
      '-x',
      `http://127.0.0.1:${port}`,
      `${origin.url}/`,
    ]);
    assert.equal(r.code, 407);
    assert.match(r.body, /Proxy-Authenticate: Basic realm="portcullis"/i);
    assert.match(r.body, /X-Portcullis-Reason: auth_required/i);
    const plain = await curl(['-x', `http://127.0.0.1:${port}`, `${origin.url}/`]);
    assert.equal(plain.code, 200);
    assert.equal(plain.body, ORIGIN_BODY);
  });

  test('wrong password: 407 naming bad_credentials, repeated without scrypt cost', async () => {
    for (let i = 0; i < 3; i++) {
      const r = await curl(['-i', '-x', `http://alice:nope@127.0.0.1:${port}`, `${origin.url}/`]);
      assert.equal(r.code, 407);
      assert.match(r.body, /Proxy-Authenticate: Basic realm="portcullis"/i);
      assert.match(r.body, /X-Portcullis-Reason: bad_credentials/i);
    }
    await noLeaks();
  });

  test('CONNECT with wrong password: 407', async () => {
    const r = await curl(['-p', '-x', `http://alice:nope@127.0.0.1:${port}`, `${origin.url}/`]);
    assert.equal(r.connectCode, 407);
  });

  test('policy change applies to the next connection (ban, then unban)', async () => {
    await h.setCustomer(customerId, { status: 'banned' });
    const r = await curl(['-i', '-x', `http://alice:s3cret@127.0.0.1:${port}`, `${origin.url}/`]);
    assert.equal(r.code, 403);
    assert.match(r.body, /X-Portcullis-Reason: banned/i);
    await h.setCustomer(customerId, { status: 'active' });
    const ok = await curl(['-x', `http://alice:s3cret@127.0.0.1:${port}`, `${origin.url}/`]);
    assert.equal(ok.code, 200);
  });

  test('thread limit: the connection over the cap gets 429 threads_exceeded', async () => {
    const plan = await h.addPlan({ threads: 1 });
    const id = await h.addCustomer('solo', 'pw', plan);
    const first = curl(['-p', '-x', `http://solo:pw@127.0.0.1:${port}`, `${origin.url}/slow?ms=800`]);
    await eventually(async () => (await h.live.threads(id)) === 1);
    const second = await curl(['-i', '-x', `http://solo:pw@127.0.0.1:${port}`, `${origin.url}/`]);
    assert.equal(second.code, 429);
    assert.match(second.body, /threads_exceeded/);
    assert.equal((await first).code, 200);
    await eventually(async () => (await h.live.threads(id)) === 0);
  });

  test('usage is metered into live state', async () => {
    await h.live.drainUsage();
    await curl(['-x', `http://alice:s3cret@127.0.0.1:${port}`, `${origin.url}/bytes/50000`]);
    await noLeaks();
    const usage = (await h.live.drainUsage()).filter((d) => d.customerId === customerId);
    const down = usage.reduce((a, d) => a + d.bytesDown, 0);
    const reqs = usage.reduce((a, d) => a + d.requests, 0);
    assert.ok(down >= 50000, `bytesDown ${down}`);
    assert.equal(reqs, 1);
  });

  test('egress guard refuses loopback when not allowed', async () => {
    const g = await startHarness({ PORTCULLIS_EGRESS_ALLOW: '' });
    try {
      const plan = await g.addPlan();
      await g.addCustomer('bob', 'pw', plan);
      const p = await g.addUpstream({ protocol: 'direct' });
      const r = await curl(['-i', '-x', `http://bob:pw@127.0.0.1:${p}`, `${origin.url}/`]);
      assert.equal(r.code, 403);
      assert.match(r.body, /target_forbidden/);
      const m = await curl([
        '-i',
        '-x',
        `http://bob:pw@127.0.0.1:${p}`,
        'http://169.254.169.254/latest/meta-data/',
      ]);
      assert.equal(m.code, 403);
      const c = await curl(['-p', '-x', `http://bob:pw@127.0.0.1:${p}`, `${origin.url}/`]);
      assert.equal(c.connectCode, 403);
    } finally {
      await g.close();
    }
  });
});
