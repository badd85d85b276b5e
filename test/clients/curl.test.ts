// curl, the client customers paste from the docs, through a bound port with a
// direct upstream: every proxy form curl speaks (HTTP forward with
// keep-alive, CONNECT, SOCKS5 with local and remote names, SOCKS4a) with
// credentials, and wrong credentials in each.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, afterEach, before, describe, test } from 'node:test';
import { curl, eventually, type Harness, startHarness } from '../gateway/harness.ts';
import { ORIGIN_BODY, type Origin } from '../helpers/origin.ts';
import { dualStackOrigin } from './origins.ts';
import { closeAll, expectQuiet } from './sockets.ts';

/** curl with our own -w per transfer; every output line is one transfer's "code connects". */
function curlTransfers(args: string[]): Promise<{ lines: string[]; exit: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      'curl',
      ['-sS', '--max-time', '10', '-w', '%{http_code} %{num_connects}\\n', ...args],
      { encoding: 'utf8' },
      (err, stdout, stderr) =>
        resolve({
          lines: stdout.trim().split('\n'),
          exit: err ? ((err as { code?: number }).code ?? 1) : 0,
          stderr,
        }),
    );
  });
}

describe('real clients: curl through a bound port', () => {
  let h: Harness;
  let origin: Origin;
  let port: number;
  let alice: number;
  let ip: string;
  let named: string;
  let proxy: string;
  const bad = () => `alice:wrong@127.0.0.1:${port}`;

  before(async () => {
    h = await startHarness();
    origin = await dualStackOrigin();
    ip = `http://127.0.0.1:${origin.port}`;
    named = `http://localhost:${origin.port}`;
    const plan = await h.addPlan({ threads: 5 });
    alice = await h.addCustomer('alice', 's3cret', plan);
    port = await h.addUpstream({ protocol: 'direct' });
    proxy = `alice:s3cret@127.0.0.1:${port}`;
  });
  afterEach(() => expectQuiet(h, [alice], { served: [port], dialled: [port, origin.port] }));
  after(() =>
    closeAll(
      () => h?.close(),
      () => origin?.close(),
    ),
  );

  test('-x http:// forwards absolute-URI requests; two URLs share one keep-alive connection', async () => {
    await h.live.drainUsage();
    const r = await curlTransfers([
      '-x',
      `http://${proxy}`,
      '-o',
      '/dev/null',
      '-o',
      '/dev/null',
      `${ip}/`,
      `${ip}/echo`,
    ]);
    assert.equal(r.exit, 0, r.stderr);
    // curl's own count: one TCP connect for the first transfer, none for the second.
    assert.deepEqual(r.lines, ['200 1', '200 0']);
    // Usage is pushed when the gateway closes its side; wait for that before reading it.
    await eventually(() => h.gateway.connections().length === 0);
    // The gateway's count agrees: one admitted connection carrying two requests.
    const mine = (await h.live.drainUsage()).filter((d) => d.customerId === alice);
    assert.equal(
      mine.reduce((n, d) => n + d.connections, 0),
      1,
    );
    assert.equal(
      mine.reduce((n, d) => n + d.requests, 0),
      2,
    );
  });

  test('-x http:// body arrives intact', async () => {
    const r = await curl(['-x', `http://${proxy}`, `${ip}/`]);
    assert.equal(r.code, 200, r.stderr);
    assert.equal(r.body, ORIGIN_BODY);
  });

  test('-p tunnels with CONNECT', async () => {
    const r = await curl(['-p', '-x', `http://${proxy}`, `${ip}/bytes/300000`]);
    assert.equal(r.connectCode, 200, r.stderr);
    assert.equal(r.code, 200);
    assert.equal(r.body, 'a'.repeat(300000));
  });

  test('--socks5 user:pass@ (target resolved by curl)', async () => {
    const r = await curl(['--socks5', proxy, `${named}/`]);
    assert.equal(r.exit, 0, r.stderr);
    assert.equal(r.body, ORIGIN_BODY);
  });

  test('--socks5-hostname user:pass@ (target name resolved by the gateway)', async () => {
    const r = await curl(['--socks5-hostname', proxy, `${named}/bytes/100000`]);
    assert.equal(r.exit, 0, r.stderr);
    assert.equal(r.body.length, 100000);
  });

  test('-x socks5h://user:pass@', async () => {
    const r = await curl(['-x', `socks5h://${proxy}`, `${named}/`]);
    assert.equal(r.exit, 0, r.stderr);
    assert.equal(r.body, ORIGIN_BODY);
  });

  test('-x socks4a:// with "user:pass" as the USERID', async () => {
    // SOCKS4 has no password field; curl sends the URL's (decoded) user name as USERID.
    const r = await curl(['-x', `socks4a://alice%3As3cret@127.0.0.1:${port}`, `${named}/`]);
    assert.equal(r.exit, 0, r.stderr);
    assert.equal(r.body, ORIGIN_BODY);
  });

  test('--proxy-anyauth: curl asks first, answers the Basic challenge, then fetches', async () => {
    const r = await curl([
      '--proxy-anyauth',
      '-U',
      'alice:s3cret',
      '-x',
      `http://127.0.0.1:${port}`,
      `${ip}/`,
    ]);
    assert.equal(r.code, 200, r.stderr);
    assert.equal(r.body, ORIGIN_BODY);
  });

  test('wrong password, -x http://: 407 with Proxy-Authenticate and bad_credentials', async () => {
    const r = await curl(['-i', '-x', `http://${bad()}`, `${ip}/`]);
    assert.equal(r.code, 407);
    assert.match(r.body, /^Proxy-Authenticate: Basic realm="portcullis"/im);
    assert.match(r.body, /^X-Portcullis-Reason: bad_credentials/im);
    assert.doesNotMatch(r.body, /hello from origin/);
  });

  test('wrong password, -p CONNECT: 407', async () => {
    const r = await curl(['-p', '-x', `http://${bad()}`, `${ip}/`]);
    assert.equal(r.connectCode, 407);
    assert.notEqual(r.exit, 0);
  });

  test('wrong password, --socks5-hostname: RFC 1929 failure, curl gives up', async () => {
    const r = await curl(['--socks5-hostname', bad(), `${named}/`]);
    assert.equal(r.exit, 97, `curl exit ${r.exit}: ${r.stderr}`); // CURLE_PROXY
    assert.match(r.stderr, /rejected by the SOCKS5 server/i);
    assert.equal(r.body, '');
  });

  test('wrong password, socks4a://: request rejected (0x5B)', async () => {
    const r = await curl(['-x', `socks4a://alice%3Awrong@127.0.0.1:${port}`, `${named}/`]);
    assert.equal(r.exit, 97, `curl exit ${r.exit}: ${r.stderr}`);
    assert.match(r.stderr, /rejected or failed/i);
  });
});
