// Where the CLI finds the API and its token, and what it says when it cannot:
// no token anywhere, the token file, a wrong token (401), nobody listening.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createRepos } from '../../src/store/repos/index.ts';
import { newSecret } from '../../src/store/secrets.ts';
import { type Api, startApi } from '../api/harness.ts';
import { openTestStore } from '../helpers/store.ts';
import { cli, deadUrl } from './run.ts';

let api: Api;
let url: string;
let dir: string;

before(async () => {
  api = await startApi();
  url = await api.app.listen({ port: 0, host: '127.0.0.1' });
  dir = mkdtempSync(join(tmpdir(), 'pc-cli-conn-'));
});

after(async () => {
  await api?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('no token anywhere: says where it looked and how to get one, exit 1', async () => {
  const empty = join(dir, 'empty');
  const r = await cli(['plan', 'list'], { PORTCULLIS_URL: url, PORTCULLIS_DATA_DIR: empty });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /no admin token: --token and PORTCULLIS_TOKEN are not set/);
  assert.ok(r.stderr.includes(join(empty, 'admin-token')), r.stderr);
  assert.match(r.stderr, /`portcullis up` prints the token on its first run/);
  assert.equal(r.stdout, '');
});

test('the token file in DATA_DIR is used when no token is given', async () => {
  const data = join(dir, 'data');
  mkdirSync(data);
  writeFileSync(join(data, 'admin-token'), `${api.token}\n`, { mode: 0o600 });
  const r = await cli(['plan', 'list', '--json'], { PORTCULLIS_URL: url, PORTCULLIS_DATA_DIR: data });
  assert.equal(r.code, 0, r.stderr);
  assert.ok(JSON.parse(r.stdout).some((p: { name: string }) => p.name === 'Basic'));
});

test('a wrong token: the 401 with a hint where tokens come from', async () => {
  const r = await cli(['plan', 'list'], { PORTCULLIS_URL: url, PORTCULLIS_TOKEN: 'pca_not-a-real-token' });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^error: unknown token \(PC_ERR_UNAUTHORIZED\)$/m);
  assert.ok(r.stderr.includes(`the API at ${url} refused the credentials`), r.stderr);
  // --token wins over the environment.
  const flag = await cli(['plan', 'list', '--token', api.token], {
    PORTCULLIS_URL: url,
    PORTCULLIS_TOKEN: 'pca_wrong',
  });
  assert.equal(flag.code, 0, flag.stderr);
});

test('API unreachable: names the URL, exit 1', async () => {
  const dead = await deadUrl();
  const r = await cli(['ports'], { PORTCULLIS_URL: dead, PORTCULLIS_TOKEN: api.token });
  assert.equal(r.code, 1);
  assert.ok(r.stderr.includes(`cannot reach the Portcullis API at ${dead} (ECONNREFUSED)`), r.stderr);
  assert.match(r.stderr, /Is `portcullis up` running there\?/);
  // --url wins over PORTCULLIS_URL.
  const flag = await cli(['ports', '--url', url], { PORTCULLIS_URL: dead, PORTCULLIS_TOKEN: api.token });
  assert.equal(flag.code, 0, flag.stderr);
});

test('without PORTCULLIS_URL the CLI goes to 127.0.0.1:PORTCULLIS_API_PORT', async () => {
  const port = new URL(url).port;
  const r = await cli(['plan', 'list', '--json'], { PORTCULLIS_API_PORT: port, PORTCULLIS_TOKEN: api.token });
  assert.equal(r.code, 0, r.stderr);
  const dead = new URL(await deadUrl()).port;
  const d = await cli(['plan', 'list'], { PORTCULLIS_API_PORT: dead, PORTCULLIS_TOKEN: api.token });
  assert.equal(d.code, 1);
  assert.ok(d.stderr.includes(`http://127.0.0.1:${dead}`), d.stderr);
});

test('an expired token is refused with the reason', async () => {
  const t = newSecret('pca');
  await createRepos(api.store.db).adminTokens.create({
    name: 'old',
    tokenHash: t.hash,
    prefix: t.display,
    scopes: ['admin'],
    expiresAt: new Date(Date.now() - 60_000),
  });
  const r = await cli(['ports'], { PORTCULLIS_URL: url, PORTCULLIS_TOKEN: t.value });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^error: token expired \(PC_ERR_UNAUTHORIZED\)$/m);
});

test('database unavailable: the 503 and its reason, exit 1', async () => {
  // Its own API on a store this test closes under it (PGlite: closing is final,
  // which is all the CLI's side needs; recovery is the API's test).
  const store = await openTestStore('pglite');
  const own = await startApi({ store });
  try {
    const ownUrl = await own.app.listen({ port: 0, host: '127.0.0.1' });
    await store.close();
    const r = await cli(['customer', 'list'], { PORTCULLIS_URL: ownUrl, PORTCULLIS_TOKEN: own.token });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^error: database is unavailable: .* \(PC_ERR_STORE_UNAVAILABLE\)$/m);
    assert.match(r.stderr, /its database is not; retry/);
  } finally {
    await own.close();
  }
});
