import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ORIGIN_BODY, type Origin, startOrigin } from '../helpers/origin.ts';
import { curl, eventually, type Harness, rawExchange, startHarness } from './harness.ts';

describe('gateway: SOCKS5 and SOCKS4/4a (curl and raw sockets)', () => {
  let h: Harness;
  let origin: Origin;
  let origin6: Origin;
  let port: number;
  let customerId: number;

  before(async () => {
    h = await startHarness();
    origin = await startOrigin();
    origin6 = await startOrigin({ host: '::1' });
    const plan = await h.addPlan({ threads: 5 });
    customerId = await h.addCustomer('carol', 'pa55', plan);
    await h.addCustomer('wl', 'unused-pass', plan, ['127.0.0.1/32']);
    port = await h.addUpstream({ protocol: 'direct' });
  });
  after(async () => {
    await h.close();
    await origin.close();
    await origin6.close();
  });

  const noLeaks = () =>
    eventually(
      async () =>
        h.gateway.connections().length === 0 &&
        h.gateway.openSockets === 0 &&
        (await h.live.threads(customerId)) === 0,
    );

  test('socks5:// with username/password (RFC 1929), local resolution', async () => {
    const r = await curl(['-x', `socks5://carol:pa55@127.0.0.1:${port}`, `http://localhost:${origin.port}/`]);
    assert.equal(r.code, 200);
    assert.equal(r.body, ORIGIN_BODY);
    await noLeaks();
  });

  test('socks5h:// sends the name (ATYP 3) for remote resolution', async () => {
    const r = await curl([
      '-x',
      `socks5h://carol:pa55@127.0.0.1:${port}`,
      `http://localhost:${origin.port}/bytes/70000`,
    ]);
    assert.equal(r.code, 200);
    assert.equal(r.body.length, 70000);
    await noLeaks();
  });

  test('IPv6 target (ATYP 4)', async () => {
    const r = await curl(['-x', `socks5://carol:pa55@127.0.0.1:${port}`, `${origin6.url}/`]);
    assert.equal(r.code, 200);
    assert.equal(r.body, ORIGIN_BODY);
  });

  test('wrong password: RFC 1929 status 0x01', async () => {
    const user = Buffer.from('carol');
    const pass = Buffer.from('wrong');
    const reply = await rawExchange(port, [
      Buffer.from([5, 1, 2]),
      Buffer.concat([Buffer.from([1, user.length]), user, Buffer.from([pass.length]), pass]),
    ]);
    assert.deepEqual([...reply], [5, 2, 1, 1]);
    await noLeaks();
  });

  test('a whole handshake and the first request in one write: every byte reaches its reader', async () => {
    const user = Buffer.from('carol');
    const pass = Buffer.from('pa55');
    const o = new URL(origin.url);
    const target = Buffer.from([5, 1, 0, 1, 127, 0, 0, 1, 0, 0]);
    target.writeUInt16BE(Number(o.port), 8);
    const oneWrite = Buffer.concat([
      Buffer.from([5, 1, 2]),
      Buffer.from([1, user.length]),
      user,
      Buffer.from([pass.length]),
      pass,
      target,
      Buffer.from(`GET / HTTP/1.1\r\nHost: ${o.host}\r\nConnection: close\r\n\r\n`),
    ]);
    const reply = await rawExchange(port, [oneWrite]);
    assert.deepEqual([...reply.subarray(0, 6)], [5, 2, 1, 0, 5, 0]);
    const http = reply.subarray(14).toString('latin1');
    assert.match(http, /^HTTP\/1\.1 200 /);
    assert.ok(http.endsWith(ORIGIN_BODY), http);
    await noLeaks();
  });

  test('"no authentication" only for a whitelisted client IP', async () => {
    const ok = await curl(['-x', `socks5://127.0.0.1:${port}`, `${origin.url}/`]);
    assert.equal(ok.code, 200);
    const r = await curl(['--interface', '127.0.0.2', '-x', `socks5://127.0.0.1:${port}`, `${origin.url}/`]);
    assert.notEqual(r.exit, 0);
    const raw = await rawExchange(port, [Buffer.from([5, 1, 0])]);
    // From 127.0.0.1 (whitelisted) method 0 is chosen.
    assert.deepEqual([...raw.subarray(0, 2)], [5, 0]);
  });

  test('BIND and UDP ASSOCIATE: reply 0x07; unknown address type: 0x08', async () => {
    for (const cmd of [2, 3]) {
      const reply = await rawExchange(port, [
        Buffer.from([5, 1, 0]),
        Buffer.from([5, cmd, 0, 1, 127, 0, 0, 1, 0, 80]),
      ]);
      assert.equal(reply[3], 0x07, `cmd ${cmd}`);
    }
    const bad = await rawExchange(port, [
      Buffer.from([5, 1, 0]),
      Buffer.from([5, 1, 0, 9, 1, 2, 3, 4, 0, 80]),
    ]);
    assert.equal(bad[3], 0x08);
    await noLeaks();
  });

  test('refused and unresolvable targets: 0x05 and 0x04', async () => {
    const closed = await (await import('../helpers/peers.ts')).freePort();
    const refused = await rawExchange(port, [
      Buffer.from([5, 1, 0]),
      Buffer.from([5, 1, 0, 1, 127, 0, 0, 1, closed >> 8, closed & 0xff]),
    ]);
    assert.equal(refused[3], 0x05);
    const name = Buffer.from('nonexistent.invalid');
    const unresolved = await rawExchange(port, [
      Buffer.from([5, 1, 0]),
      Buffer.concat([Buffer.from([5, 1, 0, 3, name.length]), name, Buffer.from([0, 80])]),
    ]);
    assert.equal(unresolved[3], 0x04);
    await noLeaks();
  });

  test('socks4a:// with "username:password" as USERID, and socks4 from a whitelisted IP', async () => {
    const r = await curl([
      '-x',
      `socks4a://carol%3Apa55@127.0.0.1:${port}`,
      `http://localhost:${origin.port}/`,
    ]);
    assert.equal(r.code, 200);
    assert.equal(r.body, ORIGIN_BODY);
    const w = await curl(['-x', `socks4://127.0.0.1:${port}`, `${origin.url}/`]);
    assert.equal(w.code, 200);
    const bad = await curl([
      '--interface',
      '127.0.0.2',
      '-x',
      `socks4a://carol%3Awrong@127.0.0.1:${port}`,
      `${origin.url}/`,
    ]);
    assert.notEqual(bad.exit, 0);
    await noLeaks();
  });

  test('kick closes every live tunnel of the customer', async () => {
    const pending = curl(['-x', `socks5h://carol:pa55@127.0.0.1:${port}`, `${origin.url}/slow?ms=5000`]);
    await eventually(() => h.gateway.connections().some((c) => c.customerId === customerId));
    const info = h.gateway.connections().find((c) => c.customerId === customerId)!;
    assert.equal(info.username, 'carol');
    assert.equal(info.target, `127.0.0.1:${origin.port}`);
    assert.equal(info.upstream, 'direct');
    await h.live.publish({ type: 'kick', customerId, reason: 'test' });
    const r = await pending;
    assert.notEqual(r.exit, 0);
    await noLeaks();
  });
});
