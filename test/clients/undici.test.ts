// Node's undici ProxyAgent — what Node scrapers use — through a bound port
// with credentials in the proxy URI: plain HTTP forwarded (proxyTunnel off),
// HTTP in a CONNECT tunnel (undici's default), and HTTPS through CONNECT with
// the origin's certificate verified end to end.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { fetch, ProxyAgent } from 'undici';
import { eventually, type Harness, startHarness } from '../gateway/harness.ts';
import { type EchoAnswer, ORIGIN_BODY, type Origin, startOrigin } from '../helpers/origin.ts';
import { startTlsOrigin, TLS_BODY, type TlsOrigin } from './origins.ts';
import { closeAll, expectQuiet } from './sockets.ts';

describe('real clients: undici ProxyAgent through a bound port', () => {
  let h: Harness;
  let origin: Origin;
  let tls: TlsOrigin;
  let port: number;
  let alice: number;
  /** agents of the running test, closed before the leak check */
  const agents: ProxyAgent[] = [];
  const agent = (
    opts: Omit<ConstructorParameters<typeof ProxyAgent>[0] & object, 'uri'> & { auth?: string },
  ) => {
    const a = new ProxyAgent({ ...opts, uri: `http://${opts.auth ?? 'alice:s3cret'}@127.0.0.1:${port}` });
    agents.push(a);
    return a;
  };

  before(async () => {
    h = await startHarness();
    origin = await startOrigin();
    tls = await startTlsOrigin();
    const plan = await h.addPlan({ threads: 50 });
    alice = await h.addCustomer('alice', 's3cret', plan);
    port = await h.addUpstream({ protocol: 'direct' });
  });
  afterEach(async () => {
    // close() of an agent a test already closed rejects; closed is what we want.
    await Promise.all(agents.splice(0).map((a) => a.close().catch(() => {})));
    await expectQuiet(h, [alice], { served: [port], dialled: [port, origin.port, tls.port] });
  });
  after(() =>
    closeAll(
      () => h?.close(),
      () => origin?.close(),
      () => tls?.close(),
    ),
  );

  test('HTTP forwarded (proxyTunnel: false): two requests on one connection, credentials not leaked', async () => {
    const dispatcher = agent({ proxyTunnel: false });
    await h.live.drainUsage();
    const r1 = await fetch(`${origin.url}/echo?x=1`, { dispatcher, headers: { 'x-client': 'undici' } });
    assert.equal(r1.status, 200);
    const echo = (await r1.json()) as EchoAnswer;
    // The origin sees origin-form, the client's header, and nothing of the proxy hop.
    assert.equal(echo.url, '/echo?x=1');
    assert.equal(echo.headers['x-client'], 'undici');
    assert.equal(echo.headers['proxy-authorization'], undefined);
    // undici hands the socket back to its pool a few ticks after the body
    // ends; a request sent at once would open a second connection (client side).
    await new Promise((r) => setTimeout(r, 100));
    const r2 = await fetch(`${origin.url}/`, { dispatcher });
    assert.equal(await r2.text(), ORIGIN_BODY);
    await dispatcher.close();
    // Usage is pushed when the gateway closes its side; wait for that before reading it.
    await eventually(() => h.gateway.connections().length === 0);
    const mine = (await h.live.drainUsage()).filter((d) => d.customerId === alice);
    assert.equal(
      mine.reduce((n, d) => n + d.connections, 0),
      1,
      'undici reused its keep-alive connection to the proxy',
    );
    assert.equal(
      mine.reduce((n, d) => n + d.requests, 0),
      2,
    );
  });

  test('HTTP through a CONNECT tunnel (undici default)', async () => {
    const dispatcher = agent({});
    const r = await fetch(`${origin.url}/bytes/500000`, { dispatcher });
    assert.equal(r.status, 200);
    assert.equal((await r.arrayBuffer()).byteLength, 500000);
  });

  test('HTTPS through CONNECT, origin certificate verified', async () => {
    const dispatcher = agent({ requestTls: { ca: tls.cert } });
    const r = await fetch(`${tls.url}/`, { dispatcher });
    assert.equal(r.status, 200);
    assert.equal(await r.text(), TLS_BODY);
    const big = await fetch(`${tls.url}/bytes/1000000`, { dispatcher });
    assert.equal((await big.arrayBuffer()).byteLength, 1000000);
  });

  test('20 concurrent tunnels (a scraper burst) all succeed and all close', async () => {
    const dispatcher = agent({});
    const sizes = await Promise.all(
      Array.from({ length: 20 }, async (_, i) => {
        const r = await fetch(`${origin.url}/bytes/${10000 + i}`, { dispatcher });
        return (await r.arrayBuffer()).byteLength;
      }),
    );
    assert.deepEqual(
      sizes,
      Array.from({ length: 20 }, (_, i) => 10000 + i),
    );
  });

  test('wrong password, forwarded: 407 (undici turns it into an error)', async () => {
    const dispatcher = agent({ proxyTunnel: false, auth: 'alice:nope' });
    await assert.rejects(fetch(`${origin.url}/`, { dispatcher }), (err: Error) => {
      assert.match(causes(err), /Proxy Authentication Required \(407\)/);
      return true;
    });
  });

  test('wrong password, CONNECT: the tunnel is refused with 407', async () => {
    const dispatcher = agent({ requestTls: { ca: tls.cert }, auth: 'alice:nope' });
    await assert.rejects(fetch(`${tls.url}/`, { dispatcher }), (err: Error) => {
      assert.match(causes(err), /Proxy response \(407\) !== 200/);
      return true;
    });
  });
});

/** The messages of an error and its causes, joined (undici nests the proxy's answer). */
function causes(err: unknown): string {
  const out: string[] = [];
  for (
    let e = err as { message?: string; cause?: unknown } | undefined, i = 0;
    e && i < 6;
    e = e.cause as typeof e, i++
  )
    out.push(String(e.message));
  return out.join(' <- ');
}
