// `portcullis up` as a user runs it: a fresh data dir, the token printed once
// and written to DATA_DIR/admin-token, the CLI finding it there with no
// settings, a clean stop on SIGTERM; and bad settings refused with exit 2.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { cli, deadUrl, MAIN } from './run.ts';

test('up: first run prints and stores the token; the CLI uses it; SIGTERM stops cleanly', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'pc-up-'));
  const apiPort = new URL(await deadUrl()).port;
  const child = spawn(
    process.execPath,
    [
      MAIN,
      'up',
      '--data-dir',
      dataDir,
      '--api-host',
      '127.0.0.1',
      '--api-port',
      apiPort,
      '--log-level',
      'warn',
    ],
    {
      env: {
        PATH: process.env.PATH ?? '',
        PORTCULLIS_PORTS: '47000-47009',
        PORTCULLIS_PUBLIC_HOST: 'proxy.test',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  let stopCode: number | null | 'timeout' = null;
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    // PGlite's first initdb is slow on a busy machine; bounded at 120 s.
    const deadline = Date.now() + 120_000;
    let ready = false;
    while (!ready && Date.now() < deadline && child.exitCode === null) {
      ready = await fetch(`http://127.0.0.1:${apiPort}/healthz`).then(
        (r) => r.ok,
        () => false,
      );
      if (!ready) await sleep(250);
    }
    assert.ok(ready, `API did not come up:\n${stdout}\n${stderr}`);

    const token = readFileSync(join(dataDir, 'admin-token'), 'utf8').trim();
    assert.match(token, /^pca_/);
    assert.equal(statSync(join(dataDir, 'admin-token')).mode & 0o777, 0o600);
    assert.ok(stdout.includes(token), `token not printed:\n${stdout}`);

    // No URL, no token: the defaults (127.0.0.1:PORT, DATA_DIR/admin-token) suffice.
    const plans = await cli(['plan', 'list'], { PORTCULLIS_DATA_DIR: dataDir, PORTCULLIS_API_PORT: apiPort });
    assert.equal(plans.code, 0, plans.stderr);
    assert.match(plans.stdout, /^Enterprise +200 /m);
  } finally {
    child.kill('SIGTERM');
    const code = await Promise.race([exited, sleep(30_000).then(() => 'timeout' as const)]);
    if (code === 'timeout') child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
    stopCode = code;
  }
  assert.equal(stopCode, 0, `SIGTERM did not stop it cleanly:\n${stderr}`);
});

test('up: a bad setting or an unknown flag stops it with exit 2', async () => {
  const bad = await cli(['up', '--api-port', 'eighty'], {});
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /PORTCULLIS_API_PORT/);
  const unknown = await cli(['up', '--data-dri', '/tmp/x'], {});
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown flag --data-dri for "up"; did you mean --data-dir\?/);
});
