// Bound ports whose upstreams are real peers: squid with Basic auth (HTTP
// upstream), microsocks with RFC 1929 auth (SOCKS5 upstream; dante's username
// method needs system accounts, see test/helpers/peers.ts), and a second
// Portcullis port (chaining, HTTP and SOCKS5). Clients are curl. Wrong
// upstream credentials are the operator's fault: the customer sees 502 with
// upstream_auth_failed, never a 407 that would blame their own password.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { type CurlResult, curl, eventually, type Harness, startHarness } from '../gateway/harness.ts';
import { type EchoAnswer, ORIGIN_BODY, type Origin } from '../helpers/origin.ts';
import { type Peer, startMicrosocks, startSquid } from '../helpers/peers.ts';
import { dualStackOrigin } from './origins.ts';
import { closeAll, expectListening, expectQuiet, freePorts } from './sockets.ts';

const SQUID = { user: 'sq-user', pass: 'sq-pass' };
const SOCKS = { user: 'ms-user', pass: 'ms-pass' };

/** Body and head of `curl -i`: the last response's head (a CONNECT answer may come first). */
function lastHead(r: CurlResult): string {
  const heads = r.body.split(/\r\n\r\n/);
  return heads.length > 1 ? heads[heads.length - 2] : heads[0];
}

function echoOf(r: CurlResult): EchoAnswer {
  return JSON.parse(r.body) as EchoAnswer;
}

describe('real clients through real upstream peers', () => {
  let h: Harness;
  let origin: Origin;
  let squid: Peer;
  let socks: Peer;
  const customers: number[] = [];
  const ports: Record<string, number> = {};
  let ip: string;
  let named: string;
  const cred = 'alice:s3cret';

  before(async () => {
    // allSettled: when one fails to start, the others are still kept for after() to stop.
    const started = await Promise.allSettled([
      startHarness(),
      dualStackOrigin(),
      startSquid({ auth: SQUID }),
      startMicrosocks({ auth: SOCKS }),
    ] as const);
    const [hs, os, ss, ms] = started;
    if (hs.status === 'fulfilled') h = hs.value;
    if (os.status === 'fulfilled') origin = os.value;
    if (ss.status === 'fulfilled') squid = ss.value;
    if (ms.status === 'fulfilled') socks = ms.value;
    for (const r of started) if (r.status === 'rejected') throw r.reason;
    ip = `http://127.0.0.1:${origin.port}`;
    named = `http://localhost:${origin.port}`;
    const plan = await h.addPlan({ threads: 10 });
    customers.push(
      ...(await Promise.all([
        h.addCustomer('alice', 's3cret', plan),
        h.addCustomer('hop', 'hop-pass', plan),
      ])),
    );
    // Ports chosen up front so the upstreams (chains included) are added at once.
    const names = ['squid', 'squidBad', 'socks', 'socksBad', 'hop', 'chainHttp', 'chainSocks', 'chainBad'];
    const free = await freePorts(names.length);
    names.forEach((n, i) => {
      ports[n] = free[i];
    });
    const to = (
      protocol: 'http' | 'socks5',
      port: number,
      username: string,
      password: string,
      boundPort: number,
    ) => h.addUpstream({ protocol, host: '127.0.0.1', port, username, password, boundPort });
    await Promise.all([
      to('http', squid.port, SQUID.user, SQUID.pass, ports.squid),
      to('http', squid.port, SQUID.user, 'wrong', ports.squidBad),
      to('socks5', socks.port, SOCKS.user, SOCKS.pass, ports.socks),
      to('socks5', socks.port, SOCKS.user, 'wrong', ports.socksBad),
      // The second Portcullis port: direct egress, reached with the "hop" customer's credentials.
      h.addUpstream({ protocol: 'direct', boundPort: ports.hop }),
      to('http', ports.hop, 'hop', 'hop-pass', ports.chainHttp),
      to('socks5', ports.hop, 'hop', 'hop-pass', ports.chainSocks),
      to('http', ports.hop, 'hop', 'wrong', ports.chainBad),
    ]);
    await expectListening(h, free);
  });
  afterEach(() => {
    const gw = Object.values(ports);
    return expectQuiet(h, customers, { served: gw, dialled: [...gw, squid.port, socks.port, origin.port] });
  });
  after(() =>
    closeAll(
      () => h?.close(),
      () => origin?.close(),
      () => squid?.stop(),
      () => socks?.stop(),
    ),
  );

  const via = (name: string) => `http://${cred}@127.0.0.1:${ports[name]}`;

  /**
   * Runs curl on a slow URL and, while it is in flight, reads the gateway's
   * live registry: which upstream the connection really went through.
   */
  async function upstreamInFlight(
    args: string[],
    url: string,
  ): Promise<{ r: CurlResult; upstreams: string[] }> {
    const running = curl([...args, `${url}/slow?ms=400`]);
    let upstreams: string[] = [];
    await eventually(() => {
      upstreams = h.gateway
        .connections()
        .filter((c) => c.username === 'alice')
        .map((c) => c.upstream);
      return upstreams.length > 0 && upstreams.every(Boolean);
    });
    return { r: await running, upstreams };
  }

  // squid, HTTP upstream with credentials

  test('squid upstream: plain HTTP forwarded through squid (Via names it)', async () => {
    const r = await curl(['-x', via('squid'), `${ip}/echo`]);
    assert.equal(r.code, 200, r.stderr + r.body);
    const echo = echoOf(r);
    assert.match(String(echo.headers.via), /portcullis-test-squid/);
    assert.equal(echo.headers['proxy-authorization'], undefined);
  });

  test('squid upstream: CONNECT tunnel through squid', async () => {
    const { r, upstreams } = await upstreamInFlight(['-p', '-x', via('squid')], ip);
    assert.equal(r.connectCode, 200, r.stderr);
    assert.equal(r.body, 'slow\n');
    assert.deepEqual(upstreams, [`http://127.0.0.1:${squid.port}`]);
    const big = await curl(['-p', '-x', via('squid'), `${ip}/bytes/200000`]);
    assert.equal(big.body.length, 200000);
  });

  test('squid upstream with wrong credentials: forwarded request gets 502 upstream_auth_failed', async () => {
    const r = await curl(['-i', '-x', via('squidBad'), `${ip}/`]);
    assert.equal(r.code, 502, r.body);
    assert.match(lastHead(r), /^X-Portcullis-Reason: upstream_auth_failed/im);
    assert.doesNotMatch(lastHead(r), /^Proxy-Authenticate:/im);
  });

  test('squid upstream with wrong credentials: CONNECT gets 502 upstream_auth_failed', async () => {
    const r = await curl(['-i', '-p', '-x', via('squidBad'), `${ip}/`]);
    assert.equal(r.connectCode, 502, r.stderr);
    assert.match(r.body, /^X-Portcullis-Reason: upstream_auth_failed/im);
  });

  // microsocks, SOCKS5 upstream with RFC 1929 credentials

  test('SOCKS5 upstream: curl --socks5-hostname, name resolved at the far end', async () => {
    const { r, upstreams } = await upstreamInFlight(
      ['--socks5-hostname', `${cred}@127.0.0.1:${ports.socks}`],
      named,
    );
    assert.equal(r.exit, 0, r.stderr);
    assert.equal(r.body, 'slow\n');
    assert.deepEqual(upstreams, [`socks5://127.0.0.1:${socks.port}`]);
  });

  test('SOCKS5 upstream: curl -x http:// (forwarded) and -p (CONNECT)', async () => {
    const fwd = await curl(['-x', via('socks'), `${named}/`]);
    assert.equal(fwd.code, 200, fwd.stderr + fwd.body);
    assert.equal(fwd.body, ORIGIN_BODY);
    const tun = await curl(['-p', '-x', via('socks'), `${named}/bytes/200000`]);
    assert.equal(tun.connectCode, 200, tun.stderr);
    assert.equal(tun.body.length, 200000);
  });

  test('SOCKS5 upstream with wrong credentials: 502 upstream_auth_failed, SOCKS client refused', async () => {
    const r = await curl(['-i', '-x', via('socksBad'), `${ip}/`]);
    assert.equal(r.code, 502, r.body);
    assert.match(lastHead(r), /^X-Portcullis-Reason: upstream_auth_failed/im);
    const s = await curl(['--socks5-hostname', `${cred}@127.0.0.1:${ports.socksBad}`, `${named}/`]);
    assert.equal(s.exit, 97, `curl exit ${s.exit}: ${s.stderr}`);
    assert.equal(s.body, '');
  });

  // a second Portcullis port as the upstream

  test('chain through a second Portcullis port (HTTP upstream): forward, CONNECT, SOCKS5 client', async () => {
    const fwd = await curl(['-x', via('chainHttp'), `${ip}/echo`]);
    assert.equal(fwd.code, 200, fwd.body);
    const echo = echoOf(fwd);
    // Neither hop's credentials reach the origin.
    assert.equal(echo.headers['proxy-authorization'], undefined);
    const { r, upstreams } = await upstreamInFlight(['-p', '-x', via('chainHttp')], ip);
    assert.equal(r.connectCode, 200, r.stderr);
    assert.equal(r.body, 'slow\n');
    assert.deepEqual(upstreams, [`http://127.0.0.1:${ports.hop}`]);
    const s = await curl(['--socks5-hostname', `${cred}@127.0.0.1:${ports.chainHttp}`, `${named}/`]);
    assert.equal(s.exit, 0, s.stderr);
    assert.equal(s.body, ORIGIN_BODY);
  });

  test('chain through a second Portcullis port (SOCKS5 upstream)', async () => {
    const fwd = await curl(['-x', via('chainSocks'), `${named}/`]);
    assert.equal(fwd.code, 200, fwd.body);
    assert.equal(fwd.body, ORIGIN_BODY);
    const s = await curl([
      '--socks5-hostname',
      `${cred}@127.0.0.1:${ports.chainSocks}`,
      `${named}/bytes/100000`,
    ]);
    assert.equal(s.exit, 0, s.stderr);
    assert.equal(s.body.length, 100000);
  });

  test('chain with wrong credentials for the second port: 502 upstream_auth_failed', async () => {
    const fwd = await curl(['-i', '-x', via('chainBad'), `${ip}/`]);
    assert.equal(fwd.code, 502, fwd.body);
    assert.match(lastHead(fwd), /^X-Portcullis-Reason: upstream_auth_failed/im);
    const tun = await curl(['-i', '-p', '-x', via('chainBad'), `${ip}/`]);
    assert.equal(tun.connectCode, 502, tun.stderr);
    assert.match(tun.body, /^X-Portcullis-Reason: upstream_auth_failed/im);
  });
});
