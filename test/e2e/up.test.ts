// `portcullis up` as a user runs it (the README walk-through, literally): a
// real child process on a fresh data dir prints the admin token once, the CLI
// imports an upstream, adds a plan and a customer, curl fetches a page through
// the bound port, usage shows the bytes; a second start keeps everything and,
// started with two gateway threads, serves the port from both.
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { cli, MAIN } from '../cli/run.ts';
import { type Origin, startOrigin } from '../helpers/origin.ts';
import { freePort } from '../helpers/peers.ts';
import { openTestStore, REDIS_URL, type TestStore } from '../helpers/store.ts';
import { freeRange } from '../helpers/up.ts';

const run = promisify(execFile);
const dataDir = mkdtempSync(join(tmpdir(), 'pc-up-'));
let origin: Origin;
let pgStore: TestStore | undefined;
let env: Record<string, string>;
let gatewayPort = 0;

interface Up {
  child: ChildProcess;
  stdout: () => string;
}

// src/main.ts itself, as the installed `portcullis` command runs: its shebang
// finds this Node first on PATH and passes the heap flags (src/heap.ts).
async function startUp(extra: Record<string, string> = {}): Promise<Up> {
  const child = spawn(MAIN, ['up'], {
    env: { PATH: `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ''}`, ...env, ...extra },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    out += d;
  });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    out += d;
  });
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`portcullis up exited ${child.exitCode}:\n${out}`);
    const ok = await fetch(`${env.PORTCULLIS_URL}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`portcullis up did not become ready:\n${out}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return { child, stdout: () => out };
}

async function stopUp(up: Up): Promise<number | null> {
  if (up.child.exitCode !== null) return up.child.exitCode;
  const closed = new Promise<number | null>((r) => up.child.once('exit', (code) => r(code)));
  up.child.kill('SIGTERM');
  const timer = setTimeout(() => up.child.kill('SIGKILL'), 20_000);
  const code = await closed;
  clearTimeout(timer);
  return code;
}

before(async () => {
  origin = await startOrigin();
  const apiPort = await freePort();
  gatewayPort = await freeRange(5);
  env = {
    PORTCULLIS_DATA_DIR: dataDir,
    PORTCULLIS_API_HOST: '127.0.0.1',
    PORTCULLIS_API_PORT: String(apiPort),
    PORTCULLIS_GATEWAY_HOST: '127.0.0.1',
    PORTCULLIS_PORTS: `${gatewayPort}-${gatewayPort + 4}`,
    PORTCULLIS_PUBLIC_HOST: 'proxy.example.test',
    PORTCULLIS_EGRESS_ALLOW: '127.0.0.0/8',
    PORTCULLIS_LOG_LEVEL: 'warn',
    PORTCULLIS_URL: `http://127.0.0.1:${apiPort}`,
  };
  if (process.env.DATABASE_URL) {
    pgStore = await openTestStore('postgres');
    env.DATABASE_URL = pgStore.url!;
  }
  if (REDIS_URL) {
    env.REDIS_URL = REDIS_URL;
    env.PORTCULLIS_REDIS_PREFIX = `pc:e2e:${process.pid}:`;
  }
});

after(async () => {
  await origin?.close();
  await pgStore?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

test('first start prints the token once; the walk-through works; a restart keeps everything', async () => {
  const first = await startUp();
  let token: string;
  try {
    const tokenFile = join(dataDir, 'admin-token');
    token = readFileSync(tokenFile, 'utf8').trim();
    assert.match(token, /^pca_/);
    assert.equal(statSync(tokenFile).mode & 0o777, 0o600);
    assert.ok(first.stdout().includes(token), 'the generated token is printed on first start');
    assert.ok(
      first.stdout().includes(`Web console: ${env.PORTCULLIS_URL}/admin`),
      'the console URL is printed',
    );
    // The console page (200 once built by npm ci / npm run build, else 503 saying how to build it).
    const page = await fetch(`${env.PORTCULLIS_URL}/admin`);
    assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
    assert.match(await page.text(), page.status === 200 ? /<div id="root">/ : /npm run build/);

    // The CLI finds the token in DATA_DIR/admin-token, as the README says.
    const cliEnv = { PORTCULLIS_DATA_DIR: dataDir, PORTCULLIS_URL: env.PORTCULLIS_URL };
    const proxyFile = join(dataDir, 'proxy.txt');
    writeFileSync(proxyFile, '# walk-through\ndirect\n');
    const imp = await cli(['upstream', 'import', proxyFile], cliEnv);
    assert.equal(imp.code, 0, imp.stderr);
    const plan = await cli(
      [
        'plan',
        'add',
        'Starter',
        '--threads',
        '5',
        '--rps',
        '10',
        '--bandwidth',
        '1MB/s',
        '--quota',
        '10GB',
        '--days',
        '30',
      ],
      cliEnv,
    );
    assert.equal(plan.code, 0, plan.stderr);
    const cust = await cli(
      ['customer', 'add', 'alice', '--plan', 'Starter', '--password', 's3cret-pass'],
      cliEnv,
    );
    assert.equal(cust.code, 0, cust.stderr);

    // curl through the bound port, as alice.
    const { stdout: body } = await run('curl', [
      '-sS',
      '--max-time',
      '20',
      '-x',
      `http://alice:s3cret-pass@127.0.0.1:${gatewayPort}`,
      `${origin.url}/bytes/1000`,
    ]);
    assert.equal(body.length, 1000);
    const list = await fetch(`${env.PORTCULLIS_URL}/api/proxies.php?username=alice&password=s3cret-pass`);
    assert.equal(list.status, 200);
    assert.equal((await list.text()).trim(), `proxy.example.test:${gatewayPort}`);

    // Usage reaches the API within a few seconds (batched counters, hourly buckets).
    let used = 0;
    for (let i = 0; i < 50 && used < 1000; i++) {
      const u = await cli(['usage', 'alice', '--json'], cliEnv);
      assert.equal(u.code, 0, u.stderr);
      const j = JSON.parse(u.stdout) as { bytesUp: number; bytesDown: number };
      used = j.bytesDown;
      if (used < 1000) await new Promise((r) => setTimeout(r, 200));
    }
    assert.ok(used > 1000, `download counted (${used} bytes down)`);

    const metrics = await (await fetch(`${env.PORTCULLIS_URL}/metrics`)).text();
    assert.match(metrics, /portcullis_gateway_ports\{state="listening"\} 1/);
    assert.match(metrics, /portcullis_live_degraded 0/);
    assert.match(metrics, /portcullis_http_requests_total\{/);
  } finally {
    assert.equal(await stopUp(first), 0, 'graceful stop exits 0');
  }

  const second = await startUp({ PORTCULLIS_GATEWAY_THREADS: '2', PORTCULLIS_LOG_LEVEL: 'info' });
  try {
    assert.ok(!second.stdout().includes(token), 'the token is not printed again');
    assert.match(second.stdout(), /"threads":2,"msg":"gateway threads started"/);
    // The shebang's flags reached Node: every thread's young generation is fixed.
    assert.match(second.stdout(), /"youngGenerationMb":32,"msg":"portcullis started"/);
    assert.doesNotMatch(second.stdout(), /node was started without these flags/);
    // Both threads serve the port: every fetch works, whichever thread the kernel
    // picks (8: within the plan's 10 requests/s).
    for (let i = 0; i < 8; i++) {
      const { stdout } = await run('curl', [
        '-sS',
        '--max-time',
        '20',
        '-x',
        `socks5h://alice:s3cret-pass@127.0.0.1:${gatewayPort}`,
        `${origin.url}/bytes/100`,
      ]);
      assert.equal(stdout.length, 100);
    }
    const metrics = await (await fetch(`${env.PORTCULLIS_URL}/metrics`)).text();
    assert.match(metrics, /portcullis_gateway_threads 2/);
    const res = await fetch(`${env.PORTCULLIS_URL}/api/v1/customers/alice`, {
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(res.status, 200);
    const plans = (await (
      await fetch(`${env.PORTCULLIS_URL}/api/v1/plans`, { headers: { authorization: `Bearer ${token}` } })
    ).json()) as { name: string }[] | { plans: { name: string }[] };
    const names = (Array.isArray(plans) ? plans : plans.plans).map((p) => p.name).sort();
    assert.deepEqual(names, ['Basic', 'Enterprise', 'Pro', 'Starter']);
    const ports = await fetch(`${env.PORTCULLIS_URL}/api/v1/ports`, {
      headers: { authorization: `Bearer ${token}` },
    });
    assert.ok((await ports.text()).includes(String(gatewayPort)), 'the upstream keeps its port');

    // SIGHUP reloads policies and upstreams; without a handler it would end the process.
    second.child.kill('SIGHUP');
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(second.child.exitCode, null, 'still running after SIGHUP');
    assert.equal((await fetch(`${env.PORTCULLIS_URL}/healthz`)).status, 200);
  } finally {
    assert.equal(await stopUp(second), 0);
  }
});

test('a bad setting stops start-up with a message naming it', async () => {
  const r = await cli(['up'], { ...env, PORTCULLIS_API_PORT: 'eighty' });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /PORTCULLIS_API_PORT/);
});
