// API figures for issue 2: time to import 1,000 upstream lines, and
// /api/proxies.php requests/s with 10,000 customers (wrk, loopback).
//   node bench/api-proxies.ts [--seconds 10] [--conns 32] [--imports 3]   (PGlite on disk in a temp dir)
//   DATABASE_URL=postgres://... node bench/api-proxies.ts
//   node bench/api-proxies.ts --serve ...   (for run.ts: JSON lines, see below)
// Customers are inserted directly (one shared scrypt hash: hashing 10,000
// passwords would only measure scrypt); each gets its own API key, and wrk
// rotates over 1,000 of them so the lookup is not one hot row. Then 1,000
// upstream lines are imported through the import service, so every answer
// lists 1,000 ports.
//
// --serve: prints {"ready":true,...} once seeded, then runs wrk once for each
// line read on stdin and prints {"rps":...} per run; stdin's end stops it.
// Before the first measured run every sampled key is asked for once (JIT,
// PGlite's pages, the API's key cache: a key stays cached 10 s after its
// lookup, so runs longer than that include the refills a steady poller causes).
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs, promisify } from 'node:util';
import pino from 'pino';
import { buildApp } from '../src/api/app.ts';
import { createChangeFeed } from '../src/api/services/change-feed.ts';
import { createUpstreamService } from '../src/api/services/upstream-import.ts';
import { bootstrap } from '../src/bootstrap.ts';
import { loadConfig } from '../src/config.ts';
import { createMemoryLive } from '../src/live/memory.ts';
import { openStore, type Store } from '../src/store/db.ts';
import { createRepos } from '../src/store/repos/index.ts';
import { customers, upstreams } from '../src/store/schema.ts';
import { createCipher, hashPassword, newSecret } from '../src/store/secrets.ts';
import { freshPgliteDir } from './lib/pgdata.ts';

const { values: flags } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    conns: { type: 'string', default: '32' },
    imports: { type: 'string', default: '3' },
    serve: { type: 'boolean', default: false },
  },
});
const seconds = Number(flags.seconds);
const CUSTOMERS = 10_000;
const t0 = performance.now();
const say = (msg: string): void => {
  if (!flags.serve) console.log(msg);
};

const dir = mkdtempSync(join(tmpdir(), 'pc-bench-api-'));
const config = loadConfig({
  PORTCULLIS_DATA_DIR: dir,
  PORTCULLIS_API_RATE_LIMIT: '0',
  PORTCULLIS_PUBLIC_HOST: 'bench',
});

/** Bootstrap (reference plans) and 10,000 customers on Pro; returns their API keys. */
async function seed(store: Store): Promise<string[]> {
  await bootstrap({ config, store });
  const repos = createRepos(store.db);
  const plan = (await repos.plans.byName('Pro'))!;
  const hash = await hashPassword('bench-password');
  const keys: string[] = [];
  for (let b = 0; b < CUSTOMERS / 1000; b++) {
    const rows = Array.from({ length: 1000 }, (_, i) => {
      const k = newSecret('pck');
      keys.push(k.value);
      return {
        username: `bench${b * 1000 + i}`,
        passwordHash: hash,
        apiKeyHash: k.hash,
        apiKeyPrefix: k.display,
        planId: plan.id,
      };
    });
    await store.db.insert(customers).values(rows);
  }
  return keys;
}

const pgUrl = process.env.DATABASE_URL;
let dbName = '';
let store: Store;
let keys: string[];
if (pgUrl) {
  const pg = (await import('pg')).default;
  dbName = `pc_bench_${randomBytes(4).toString('hex')}`;
  const c = new pg.Client({ connectionString: pgUrl });
  await c.connect();
  await c.query(`create database ${dbName}`);
  await c.end();
  const u = new URL(pgUrl);
  u.pathname = `/${dbName}`;
  store = await openStore({ databaseUrl: u.toString() });
  keys = await seed(store);
} else {
  // PGlite on disk, as `portcullis up` runs it (unpacked from a migrated copy: no initdb).
  const pgdata = join(dir, 'pgdata');
  await freshPgliteDir(pgdata);
  store = await openStore({ pgliteDir: pgdata });
  keys = await seed(store);
}
const seededMs = performance.now() - t0;
const repos = createRepos(store.db);
const live = createMemoryLive();
const cipher = createCipher(randomBytes(32));

// 1. Import 1,000 lines into an empty table, --imports times; the last import stays for step 2.
const lines = Array.from({ length: 1000 }, (_, i) => `10.${i >> 8}.${i & 255}.1:8080:user${i}:pass${i}`).join(
  '\n',
);
const svc = createUpstreamService({
  config,
  store,
  repos,
  live,
  cipher,
  now: Date.now,
  changes: createChangeFeed(live),
});
const importMs: number[] = [];
for (let run = 0; run < Math.max(1, Number(flags.imports)); run++) {
  await store.db.delete(upstreams);
  const t = performance.now();
  const r = await svc.import(lines);
  importMs.push(performance.now() - t);
  if (r.added !== 1000) throw new Error(`added ${r.added}`);
}
say(`import 1,000 lines (${store.kind}): ${importMs.map((t) => `${Math.round(t)} ms`).join(', ')}`);

// 2. wrk against /api/proxies.php, rotating over 1,000 of the customers' keys.
const app = await buildApp({ config, store, live, cipher, log: pino({ level: 'silent' }) });
await app.listen({ host: '127.0.0.1', port: 0 });
const port = (app.server.address() as { port: number }).port;
const lua = join(dir, 'keys.lua');
const sample = keys
  .filter((_, i) => i % Number(process.env.BENCH_KEY_STRIDE ?? 10) === 0)
  .slice(0, Number(process.env.BENCH_KEYS ?? 1000));
writeFileSync(
  lua,
  `local keys = {${sample.map((k) => `"${k}"`).join(',')}}
local i = 0
request = function()
  i = i % #keys + 1
  return wrk.format("GET", "/api/proxies.php?api_key=" .. keys[i])
end
done = function(s, latency, requests)
  io.write(string.format('{"requests":%d,"us":%d,"status":%d,"timeout":%d,"socket":%d,"p50":%d,"p99":%d}\\n',
    s.requests, s.duration, s.errors.status, s.errors.timeout,
    s.errors.connect + s.errors.read + s.errors.write, latency:percentile(50), latency:percentile(99)))
end
`,
);
const check = await fetch(`http://127.0.0.1:${port}/api/proxies.php?api_key=${keys[0]}`);
const body = await check.text();
if (check.status !== 200 || body.split('\n').length < 1000)
  throw new Error(`check: ${check.status} ${body.slice(0, 200)}`);

export interface ApiRun {
  rps: number;
  errors: number;
  p50Ms: number;
  p99Ms: number;
}

/** One wrk run; wrk is a child process, so the event loop here stays free to serve it. */
async function wrkRun(runSeconds = seconds): Promise<ApiRun> {
  const { stdout } = await promisify(execFile)(
    'wrk',
    [
      '-t2',
      `-c${flags.conns}`,
      `-d${runSeconds}s`,
      '--timeout',
      '10s',
      '-s',
      lua,
      `http://127.0.0.1:${port}/`,
    ],
    { encoding: 'utf8', timeout: (seconds + 30) * 1000 },
  );
  const line = stdout.split('\n').find((l) => l.startsWith('{"requests"'));
  if (!line) throw new Error(`wrk printed no summary:\n${stdout}`);
  const s = JSON.parse(line);
  const good = s.requests - s.status - s.timeout;
  return {
    rps: good / (s.us / 1e6),
    errors: s.status + s.timeout + s.socket,
    p50Ms: s.p50 / 1000,
    p99Ms: s.p99 / 1000,
  };
}

/** Each sampled key once, 32 at a time: nothing cold left for the measured run. */
async function warmUp(): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < sample.length) {
      const r = await fetch(`http://127.0.0.1:${port}/api/proxies.php?api_key=${sample[next++]}`);
      await r.arrayBuffer();
    }
  };
  await Promise.all(Array.from({ length: 32 }, worker));
}

const ready = {
  ready: true,
  store: store.kind,
  customers: CUSTOMERS,
  ports: 1000,
  seededMs: Math.round(seededMs),
  importMs: importMs.map(Math.round),
};
try {
  if (flags.serve) {
    process.stdout.write(`${JSON.stringify(ready)}\n`);
    let warm = false;
    for await (const _ of createInterface({ input: process.stdin })) {
      if (!warm) await warmUp();
      warm = true;
      process.stdout.write(`${JSON.stringify(await wrkRun())}\n`);
    }
  } else {
    await warmUp();
    const r = await wrkRun();
    say(
      `/api/proxies.php with 10,000 customers, 1,000 ports listed (${store.kind}): ` +
        `${r.rps.toFixed(1)} requests/s, latency p50 ${r.p50Ms.toFixed(1)} ms, p99 ${r.p99Ms.toFixed(1)} ms` +
        (r.errors ? `, ${r.errors} errors` : ''),
    );
  }
} finally {
  await app.close();
  await live.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  if (pgUrl && dbName) {
    const pg = (await import('pg')).default;
    const c = new pg.Client({ connectionString: pgUrl });
    await c.connect();
    await c.query(`drop database if exists ${dbName} with (force)`);
    await c.end();
  }
}
