// API figures for issue 2: time to import 1,000 upstream lines, and
// /api/proxies.php requests/s with 10,000 customers (wrk, loopback).
//   node bench/api-proxies.ts            (PGlite in a temp dir)
//   DATABASE_URL=postgres://... node bench/api-proxies.ts
// Customers are inserted directly (one shared scrypt hash: hashing 10,000
// passwords would only measure scrypt); each gets its own API key, and wrk
// rotates over 1,000 of them so the lookup is not one hot row.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { buildApp } from '../src/api/app.ts';
import { createChangeFeed } from '../src/api/services/change-feed.ts';
import { createUpstreamService } from '../src/api/services/upstream-import.ts';
import { bootstrap } from '../src/bootstrap.ts';
import { loadConfig } from '../src/config.ts';
import { createMemoryLive } from '../src/live/memory.ts';
import { openStore } from '../src/store/db.ts';
import { createRepos } from '../src/store/repos/index.ts';
import { customers, upstreams } from '../src/store/schema.ts';
import { createCipher, hashPassword, newSecret } from '../src/store/secrets.ts';

const dir = mkdtempSync(join(tmpdir(), 'pc-bench-api-'));
const pgUrl = process.env.DATABASE_URL;
let dbName = '';
let url = pgUrl;
if (pgUrl) {
  const pg = (await import('pg')).default;
  dbName = `pc_bench_${randomBytes(4).toString('hex')}`;
  const c = new pg.Client({ connectionString: pgUrl });
  await c.connect();
  await c.query(`create database ${dbName}`);
  await c.end();
  const u = new URL(pgUrl);
  u.pathname = `/${dbName}`;
  url = u.toString();
}
const store = await openStore(url ? { databaseUrl: url } : { pgliteDir: join(dir, 'pgdata') });
const config = loadConfig({
  PORTCULLIS_DATA_DIR: dir,
  PORTCULLIS_API_RATE_LIMIT: '0',
  PORTCULLIS_PUBLIC_HOST: 'bench',
});
const live = createMemoryLive();
const cipher = createCipher(randomBytes(32));
await bootstrap({ config, store });
const repos = createRepos(store.db);

// 1. Import 1,000 lines into an empty table, three times.
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
const times: number[] = [];
for (let run = 0; run < 3; run++) {
  await store.db.delete(upstreams);
  const t = performance.now();
  const r = await svc.import(lines);
  times.push(performance.now() - t);
  if (r.added !== 1000) throw new Error(`added ${r.added}`);
}
console.log(`import 1,000 lines (${store.kind}): ${times.map((t) => `${Math.round(t)} ms`).join(', ')}`);

// 2. 10,000 customers, then wrk against /api/proxies.php.
const plan = (await repos.plans.byName('Pro'))!;
const hash = await hashPassword('bench-password');
const keys: string[] = [];
for (let b = 0; b < 10; b++) {
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
`,
);
const check = await fetch(`http://127.0.0.1:${port}/api/proxies.php?api_key=${keys[0]}`);
const body = await check.text();
if (check.status !== 200 || body.split('\n').length < 1000)
  throw new Error(`check: ${check.status} ${body.slice(0, 200)}`);
// wrk runs in a child process, so the event loop here stays free to serve it.
const out = await new Promise<string>((resolve, reject) => {
  import('node:child_process').then(({ execFile }) =>
    execFile('wrk', ['-t2', '-c32', '-d10s', '-s', lua, `http://127.0.0.1:${port}/`], (err, stdout) =>
      err ? reject(err) : resolve(stdout),
    ),
  );
});
const rps = /Requests\/sec:\s+([\d.]+)/.exec(out)?.[1];
const lat = /Latency\s+(\S+)/.exec(out)?.[1];
console.log(
  `/api/proxies.php with 10,000 customers, 1,000 ports listed (${store.kind}): ${rps} requests/s, mean latency ${lat}`,
);
await app.close();
await live.close();
await store.close();
rmSync(dir, { recursive: true, force: true });
if (pgUrl && dbName) {
  execFileSync('psql', [pgUrl, '-c', `drop database if exists ${dbName} with (force)`], { stdio: 'ignore' });
}
