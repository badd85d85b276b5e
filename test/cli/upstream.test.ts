// upstream import, ports and a customer's proxies through the real CLI and a
// real API on loopback: file and stdin, re-import, malformed lines (numbered,
// nothing imported), a 1,000-line list, and the progress bar on a terminal.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, test } from 'node:test';
import { main } from '../../src/cli/index.ts';
import { type Api, startApi } from '../api/harness.ts';
import { cli } from './run.ts';

let api: Api;
let env: Record<string, string>;
let dir: string;

before(async () => {
  api = await startApi();
  const url = await api.app.listen({ port: 0, host: '127.0.0.1' });
  env = { PORTCULLIS_URL: url, PORTCULLIS_TOKEN: api.token };
  dir = mkdtempSync(join(tmpdir(), 'pc-cli-'));
});

after(async () => {
  await api?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const run = (args: string[], input?: string) => cli(args, env, input);
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};
const ports = async (): Promise<{ port: number; upstream: string }[]> => {
  const r = await run(['ports', '--json']);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
};

test('import a file, every format; re-import keeps ports; ports lists them', async () => {
  const list = file(
    'proxy.txt',
    [
      '# reseller pool',
      '198.51.100.1:8080',
      '198.51.100.2:8080:user2:pass2',
      'user3:pass3@198.51.100.3:3128',
      'http://user4:pass4@198.51.100.4:8000',
      'socks5://user5:pass5@198.51.100.5:1080',
      'direct',
      '198.51.100.1:8080',
      '',
    ].join('\n'),
  );
  const r = await run(['upstream', 'import', list]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^added 6, kept 0, duplicates 1$/m);
  assert.match(r.stdout, /^ {2}line 8: http:\/\/198\.51\.100\.1:8080 repeats line 2 \(skipped\)$/m);
  assert.match(r.stdout, /^PORT +UPSTREAM$/m);
  assert.match(r.stdout, /^4000 +http:\/\/198\.51\.100\.1:8080$/m);
  assert.match(r.stdout, /^4004 +socks5:\/\/user5@198\.51\.100\.5:1080$/m);
  assert.doesNotMatch(r.stdout, /pass/);

  const again = await run(['upstream', 'import', list, '--json']);
  assert.equal(again.code, 0, again.stderr);
  const j = JSON.parse(again.stdout);
  assert.equal(j.added, 0);
  assert.equal(j.kept, 6);

  const table = await run(['ports']);
  assert.equal(table.code, 0, table.stderr);
  assert.match(table.stdout, /^PORT +UPSTREAM +HEALTH +LATENCY$/m);
  assert.match(table.stdout, /^4005 +direct +unknown +-$/m);
  assert.match(table.stderr, /6 ports/);
  assert.deepEqual(
    (await ports()).map((p) => p.port),
    [4000, 4001, 4002, 4003, 4004, 4005],
  );
});

test('a malformed list is refused whole: line numbers shown, nothing imported, exit 1', async () => {
  const before = (await ports()).length;
  const list = file(
    'bad.txt',
    ['203.0.113.10:8080', '203.0.113.11', 'ftp://203.0.113.12:21', '203.0.113.13:99999'].join('\n'),
  );
  const r = await run(['upstream', 'import', list]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^error: 3 malformed line\(s\); nothing was imported \(PC_ERR_IMPORT_INVALID\)$/m);
  assert.match(r.stderr, /^ {2}line 2: /m);
  assert.match(r.stderr, /^ {2}line 3: /m);
  assert.match(r.stderr, /^ {2}line 4: .*99999/m);
  assert.doesNotMatch(r.stderr, /line 1:/);
  assert.equal((await ports()).length, before);
});

test('import from stdin with -', async () => {
  const r = await run(['upstream', 'import', '-', '--json'], '203.0.113.20:8080\n203.0.113.21:8080\n');
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.equal(j.added, 2);
  assert.deepEqual(
    j.bound.map((b: { upstream: string }) => b.upstream),
    ['http://203.0.113.20:8080', 'http://203.0.113.21:8080'],
  );
});

test('a missing file is a clear error', async () => {
  const r = await run(['upstream', 'import', join(dir, 'nope.txt')]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /cannot read .*nope\.txt: no such file/);
});

test('proxies: a customer pulls the host:port list with their API key', async () => {
  const c = await run(['customer', 'add', 'paul', '--plan', 'Pro', '--json']);
  assert.equal(c.code, 0, c.stderr);
  const { apiKey } = JSON.parse(c.stdout);
  const r = await cli(['proxies', '--api-key', apiKey], { PORTCULLIS_URL: env.PORTCULLIS_URL });
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.ok(lines.length >= 6, r.stdout);
  assert.ok(
    lines.every((l) => /^proxy\.test:\d+$/.test(l)),
    r.stdout,
  );
  assert.ok(lines.includes('proxy.test:4000'));
  const j = await cli(['proxies', '--api-key', apiKey, '--json'], { PORTCULLIS_URL: env.PORTCULLIS_URL });
  assert.deepEqual(JSON.parse(j.stdout), lines);
  const wrong = await cli(['proxies', '--api-key', 'pck_wrong'], { PORTCULLIS_URL: env.PORTCULLIS_URL });
  assert.equal(wrong.code, 1);
  assert.match(wrong.stderr, /\(PC_ERR_UNAUTHORIZED\)/);
  const none = await cli(['proxies'], { PORTCULLIS_URL: env.PORTCULLIS_URL });
  assert.equal(none.code, 2);
  assert.match(none.stderr, /--api-key is required/);
});

test('1,000 upstreams from a large file: ports summarised, progress bar on a terminal', async () => {
  const big = await startApi();
  try {
    const url = await big.app.listen({ port: 0, host: '127.0.0.1' });
    // 1,000 upstreams plus comment lines: over the progress threshold (256 KiB).
    const lines: string[] = [];
    for (let i = 0; i < 1000; i++) {
      lines.push(`# upstream ${i} ${'-'.repeat(300)}`);
      lines.push(`u${i}:p${i}@10.${(i >> 8) & 255}.${i & 255}.1:8080`);
    }
    const list = file('big.txt', `${lines.join('\n')}\n`);

    // In-process, with stderr declared a terminal: the child process tests
    // have pipes, where no bar must be drawn.
    let stderr = '';
    let stdout = '';
    const sink = (f: (s: string) => void) =>
      new Writable({
        write(chunk, _e, cb) {
          f(String(chunk));
          cb();
        },
      });
    const code = await main(['upstream', 'import', list], {
      stdout: sink((s) => {
        stdout += s;
      }),
      stderr: sink((s) => {
        stderr += s;
      }),
      stderrTTY: true,
      env: { PORTCULLIS_URL: url, PORTCULLIS_TOKEN: big.token },
    });
    assert.equal(code, 0, stderr);
    assert.match(stdout, /^added 1000, kept 0, duplicates 0$/m);
    assert.match(stdout, /^bound ports 4000-4999; list them with `portcullis ports`$/m);
    assert.match(stderr, /uploading \[#+\] 100% +\d+ KB \/ \d+ KB/);
    assert.match(stderr, /binding ports\.\.\./);

    // Full range now: one more upstream is refused with the reason.
    const full = await cli(
      ['upstream', 'import', '-'],
      { PORTCULLIS_URL: url, PORTCULLIS_TOKEN: big.token },
      '192.0.2.1:1\n',
    );
    assert.equal(full.code, 1);
    assert.match(full.stderr, /port range 4000-4999 has 0 free port\(s\).*\(PC_ERR_PORT_RANGE_FULL\)/);
    // A pipe gets no progress bar.
    assert.doesNotMatch(full.stderr, /uploading/);
  } finally {
    await big.close();
  }
});

test('a list over the size limit: 413 shown with what to do, nothing imported', async () => {
  const before = (await ports()).length;
  // 11 MB of comments: over the import limit (10 MiB), sent in one piece (stderr is a pipe).
  const list = file('huge.txt', `${'# '.padEnd(1000, 'x')}\n`.repeat(11_000));
  const r = await run(['upstream', 'import', list]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /\(PC_ERR_PAYLOAD_TOO_LARGE\)/);
  assert.match(r.stderr, /import it in parts/);
  assert.equal((await ports()).length, before);
});
