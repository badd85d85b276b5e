// The peer fixtures (test/helpers/peers.ts) work: each real Debian peer starts
// on loopback, carries curl's requests to the origin, and refuses bad
// credentials. A missing peer binary fails here with the package to install.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { ORIGIN_BODY, type Origin, startOrigin } from './helpers/origin.ts';
import {
  findBinary,
  startDante,
  startMicrosocks,
  startNginx,
  startProxyChain,
  startSquid,
  startTinyproxy,
} from './helpers/peers.ts';

const run = promisify(execFile);
const auth = { user: 'alice', pass: 'p@ss:word' };

interface CurlResult {
  code: number;
  body: string;
  stderr: string;
}

/** curl with a 10 s cap; never throws, so a refusal can be asserted on. */
async function curl(...args: string[]): Promise<CurlResult> {
  try {
    const { stdout, stderr } = await run('curl', ['-sS', '--max-time', '10', ...args], { encoding: 'utf8' });
    return { code: 0, body: stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, body: e.stdout, stderr: e.stderr };
  }
}

let origin: Origin;
before(async () => {
  origin = await startOrigin();
});
after(() => origin.close());

describe('origin helper', () => {
  test('serves /, /bytes/N and echoes method, headers and body', async () => {
    assert.equal((await curl(`${origin.url}/`)).body, ORIGIN_BODY);
    assert.equal((await curl(`${origin.url}/bytes/70000`)).body.length, 70000);
    const echo = JSON.parse(
      (await curl('-X', 'PUT', '-H', 'X-Test: 1', '-d', 'abc', `${origin.url}/echo`)).body,
    );
    assert.equal(echo.method, 'PUT');
    assert.equal(echo.headers['x-test'], '1');
    assert.equal(echo.body, 'abc');
  });
});

describe('peer fixtures', () => {
  test('a missing binary names the Debian package to install', () => {
    assert.throws(
      () => findBinary('no-such-proxy-binary', 'no-such-package'),
      /apt-get install no-such-package/,
    );
  });

  test('squid forwards plain HTTP and tunnels CONNECT', async (t) => {
    const squid = await startSquid();
    t.after(() => squid.stop());
    assert.equal((await curl('-x', squid.url, `${origin.url}/`)).body, ORIGIN_BODY);
    assert.equal((await curl('-p', '-x', squid.url, `${origin.url}/bytes/100000`)).body.length, 100000);
  });

  test('squid with basic auth: 407 without or with wrong credentials, 200 with them', async (t) => {
    const squid = await startSquid({ auth });
    t.after(() => squid.stop());
    const bare = `http://127.0.0.1:${squid.port}`;
    const noCred = await curl('-o', '/dev/null', '-w', '%{http_code}', '-x', bare, `${origin.url}/`);
    assert.equal(noCred.body, '407');
    const wrong = await curl(
      '-o',
      '/dev/null',
      '-w',
      '%{http_code}',
      '-x',
      bare,
      '-U',
      'alice:nope',
      `${origin.url}/`,
    );
    assert.equal(wrong.body, '407');
    const tunnel = await curl('-o', '/dev/null', '-w', '%{http_connect}', '-p', '-x', bare, `${origin.url}/`);
    assert.equal(tunnel.body, '407');
    assert.equal((await curl('-x', squid.url, `${origin.url}/`)).body, ORIGIN_BODY);
    assert.equal((await curl('-p', '-x', squid.url, `${origin.url}/`)).body, ORIGIN_BODY);
  });

  test('tinyproxy forwards and tunnels; with BasicAuth it answers 407 without credentials', async (t) => {
    const open = await startTinyproxy();
    t.after(() => open.stop());
    assert.equal((await curl('-x', open.url, `${origin.url}/`)).body, ORIGIN_BODY);
    assert.equal((await curl('-p', '-x', open.url, `${origin.url}/`)).body, ORIGIN_BODY);
    const locked = await startTinyproxy({ auth: { user: 'bob', pass: 'plain-pass.1' } });
    t.after(() => locked.stop());
    const bare = `http://127.0.0.1:${locked.port}`;
    assert.equal(
      (await curl('-o', '/dev/null', '-w', '%{http_code}', '-x', bare, `${origin.url}/`)).body,
      '407',
    );
    assert.equal((await curl('-x', locked.url, `${origin.url}/`)).body, ORIGIN_BODY);
    assert.throws(() => startTinyproxy({ auth }), /BasicAuth/);
  });

  test('proxy-chain forwards and tunnels; with auth it answers 407 without credentials', async (t) => {
    const pc = await startProxyChain({ auth });
    t.after(() => pc.stop());
    const bare = `http://127.0.0.1:${pc.port}`;
    assert.equal(
      (await curl('-o', '/dev/null', '-w', '%{http_code}', '-x', bare, `${origin.url}/`)).body,
      '407',
    );
    assert.equal((await curl('-x', pc.url, `${origin.url}/`)).body, ORIGIN_BODY);
    assert.equal((await curl('-p', '-x', pc.url, `${origin.url}/bytes/100000`)).body.length, 100000);
  });

  test('dante relays SOCKS5 (IP and remote-resolved name targets)', async (t) => {
    const dante = await startDante();
    t.after(() => dante.stop());
    assert.equal((await curl('--socks5', `127.0.0.1:${dante.port}`, `${origin.url}/`)).body, ORIGIN_BODY);
    const byName = await curl(
      '--socks5-hostname',
      `127.0.0.1:${dante.port}`,
      `http://localhost:${origin.port}/`,
    );
    assert.equal(byName.body, ORIGIN_BODY);
  });

  test('dante refuses username auth with a pointer to microsocks', () => {
    assert.throws(() => startDante({ auth }), /startMicrosocks/);
  });

  test('microsocks relays SOCKS5 and enforces RFC 1929 credentials', async (t) => {
    const open = await startMicrosocks();
    t.after(() => open.stop());
    assert.equal((await curl('--proxy', open.url, `${origin.url}/`)).body, ORIGIN_BODY);
    const locked = await startMicrosocks({ auth });
    t.after(() => locked.stop());
    assert.equal((await curl('--proxy', locked.url, `${origin.url}/bytes/100000`)).body.length, 100000);
    const noCred = await curl('--socks5', `127.0.0.1:${locked.port}`, `${origin.url}/`);
    assert.notEqual(noCred.code, 0);
    assert.equal(noCred.body, '');
    const wrong = await curl('--proxy', `socks5://alice:nope@127.0.0.1:${locked.port}`, `${origin.url}/`);
    assert.notEqual(wrong.code, 0);
    assert.equal(wrong.body, '');
  });

  test('nginx serves static files of the given sizes over keep-alive', async (t) => {
    const nginx = await startNginx({ files: { small: 512, big: 8 << 20 } });
    t.after(() => nginx.stop());
    const r = await curl(
      '-o',
      '/dev/null',
      '-o',
      '/dev/null',
      '-w',
      '%{size_download} %{num_connects}\n',
      nginx.file('small'),
      nginx.file('big'),
    );
    assert.equal(r.body, `512 1\n${8 << 20} 0\n`);
  });
});
