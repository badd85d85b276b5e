// `npm run bench`: Portcullis against squid, tinyproxy, proxy-chain, microsocks
// and dante on loopback, with real load generators (wrk, bench/load/connect-bench.c)
// and an nginx origin, plus the Portcullis-only figures (enforcement on vs off,
// chained through squid, 1,000 bound ports, /api/proxies.php). Systems alternate
// within each scenario; every figure is a median. Writes
// bench/results/YYYY-MM-DD.md and .json and bench/results/latest.md, and prints
// the table. See bench/README.md.
//
//   npm run bench                    full run (~14 min on 2 quiet cores)
//   npm run bench -- --quick         everyday check (< 2 min): 1 s runs, one each
//   node bench/run.ts --only squid,portcullis --seconds 5 --repeat 5
//   node bench/run.ts --threads 1    Portcullis on one gateway thread (default auto)
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import { parseArgs } from 'node:util';
import {
  type Auth,
  type NginxOrigin,
  type NodeMemory,
  startDante,
  startMicrosocks,
  startNginx,
  startProxyChain,
  startSquid,
  startTinyproxy,
} from '../test/helpers/peers.ts';
import { ensureTools } from './lib/install.ts';
import {
  buildLoadGenerator,
  fixedLatency,
  idleMemory,
  treeCpu,
  tunnelRate,
  tunnelThroughput,
  wrkForward,
} from './lib/load.ts';
import {
  type ApiFigures,
  type Cell,
  CHAIN,
  DIRECT,
  type Group,
  LIMITS_ON,
  type Machine,
  type Metric,
  median,
  PORTCULLIS,
  type PortsFigures,
  type Results,
  type Row,
  type Run,
  render,
  SQUID_AUTH,
  summarize,
  type Warmup,
} from './lib/report.ts';
import { capTimeWait } from './lib/time-wait.ts';
import { startPortcullis } from './portcullis.ts';
import { measureStart, type SeededDir, seedPorts } from './ports.ts';

const { values: flags } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    seconds: { type: 'string' },
    repeat: { type: 'string' },
    conns: { type: 'string', default: '50' },
    idle: { type: 'string' },
    ports: { type: 'string', default: '1000' },
    'lat-rate': { type: 'string', default: '1000' },
    'lat-tunnel-rate': { type: 'string', default: '300' },
    only: { type: 'string' },
    'out-dir': { type: 'string', default: path.resolve(import.meta.dirname, 'results') },
    'no-install': { type: 'boolean', default: false },
    'time-wait': { type: 'string', default: '4096' },
    // PORTCULLIS_GATEWAY_THREADS: auto, as on a machine that runs the gateway for its living.
    threads: { type: 'string', default: 'auto' },
  },
});
const quick = flags.quick;
const seconds = Number(flags.seconds ?? (quick ? 1 : 3));
const repeat = Math.max(1, Number(flags.repeat ?? (quick ? 1 : 3)));
const conns = Number(flags.conns);
const idleTunnels = Number(flags.idle ?? (quick ? 1000 : 5000));
const boundPorts = Number(flags.ports);
const latRate = Number(flags['lat-rate']);
const latTunnelRate = Number(flags['lat-tunnel-rate']);
const only = flags.only ? new Set(flags.only.split(',')) : undefined;
/** Pause between runs so the previous run's closing sockets drain first. */
const PAUSE_MS = quick ? 100 : 300;

// tinyproxy's config grammar limits BasicAuth to [-a-z0-9._]; one credential fits all.
const AUTH: Auth = { user: 'bench', pass: 'bench-pass.1' };
const LIMITED: Auth = { user: 'bench-limits', pass: 'bench-pass.2' };
const SMALL = '1k';
const BIG = 'big';

type Scenario = 'fwd' | 'fwdClose' | 'connect' | 'socks' | 'mbps1' | 'mbps8' | 'latFwd' | 'latTunnel';
const SCENARIOS: Scenario[] = [
  'fwd',
  'fwdClose',
  'connect',
  'socks',
  'mbps1',
  'mbps8',
  'latFwd',
  'latTunnel',
];

/** A running system under test (or the origin for the direct row). */
interface Proc {
  pid: number;
  port: number;
  chainPort?: number;
  stop(): Promise<void>;
  gc?(): Promise<NodeMemory | undefined>;
}

type ProcName =
  | 'nginx'
  | 'squid'
  | 'squidAuth'
  | 'tinyproxy'
  | 'proxyChain'
  | 'microsocks'
  | 'microsocksAuth'
  | 'dante'
  | 'portcullis';

interface Subject {
  name: string;
  group: Group;
  proc: ProcName;
  /** what the system speaks: tunnels through it are CONNECT (http) or SOCKS5 */
  kind: 'http' | 'socks5' | 'direct';
  auth?: Auth;
  /** the chained Portcullis port rather than the main one */
  chain?: boolean;
  scenarios: Scenario[];
  idle?: boolean;
  /** the binary whose absence skips the row */
  needs?: string;
}

const HTTP_ALL: Scenario[] = ['fwd', 'fwdClose', 'connect', 'mbps1', 'mbps8', 'latFwd', 'latTunnel'];
const SUBJECTS: Subject[] = [
  { name: DIRECT, group: 'direct', proc: 'nginx', kind: 'direct', scenarios: SCENARIOS },
  {
    name: 'squid',
    group: 'peer',
    proc: 'squid',
    kind: 'http',
    scenarios: HTTP_ALL,
    idle: true,
    needs: 'squid',
  },
  {
    name: SQUID_AUTH,
    group: 'peer',
    proc: 'squidAuth',
    kind: 'http',
    auth: AUTH,
    scenarios: ['fwd', 'fwdClose', 'connect', 'latFwd'],
    needs: 'squid',
  },
  {
    name: 'tinyproxy',
    group: 'peer',
    proc: 'tinyproxy',
    kind: 'http',
    scenarios: HTTP_ALL,
    idle: true,
    needs: 'tinyproxy',
  },
  {
    name: 'proxy-chain',
    group: 'peer',
    proc: 'proxyChain',
    kind: 'http',
    scenarios: HTTP_ALL,
    idle: true,
    needs: 'proxy-chain',
  },
  {
    name: 'microsocks',
    group: 'peer',
    proc: 'microsocks',
    kind: 'socks5',
    scenarios: ['socks', 'mbps1', 'mbps8', 'latTunnel'],
    idle: true,
    needs: 'microsocks',
  },
  {
    name: 'microsocks + auth',
    group: 'peer',
    proc: 'microsocksAuth',
    kind: 'socks5',
    auth: AUTH,
    scenarios: ['socks'],
    needs: 'microsocks',
  },
  {
    name: 'dante',
    group: 'peer',
    proc: 'dante',
    kind: 'socks5',
    scenarios: ['socks', 'mbps1', 'mbps8', 'latTunnel'],
    idle: true,
    needs: 'danted',
  },
  {
    // One port speaks all three protocols; HTTP tunnels stand for its memory figure.
    name: PORTCULLIS,
    group: 'portcullis',
    proc: 'portcullis',
    kind: 'http',
    auth: AUTH,
    scenarios: [...HTTP_ALL, 'socks'],
    idle: true,
  },
  {
    name: LIMITS_ON,
    group: 'variant',
    proc: 'portcullis',
    kind: 'http',
    auth: LIMITED,
    scenarios: ['fwd', 'connect'],
  },
  {
    name: CHAIN,
    group: 'variant',
    proc: 'portcullis',
    kind: 'http',
    auth: AUTH,
    chain: true,
    scenarios: ['fwd', 'connect', 'latFwd'],
    needs: 'squid',
  },
];

const t0 = performance.now();
const log = (msg: string): void => {
  process.stderr.write(`[bench ${((performance.now() - t0) / 1000).toFixed(0).padStart(3)} s] ${msg}\n`);
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const firstLine = (err: unknown) => String((err as Error)?.message ?? err).split('\n')[0];

const selected = (name: string): boolean => !only || only.has(name.split(' ')[0]);

/** One run of one scenario on one subject: the figures it yields (latency gives two). */
async function runOnce(
  s: Subject,
  sc: Scenario,
  proc: Proc,
  origin: NginxOrigin,
): Promise<Partial<Record<Metric, Run>>> {
  const direct = s.kind === 'direct';
  const port = direct ? origin.port : s.chain ? proc.chainPort! : proc.port;
  const auth = direct ? undefined : s.auth;
  const tunnelMode = direct ? 'direct' : s.kind === 'socks5' ? 'socks5' : 'connect';
  const base = { proxyPort: port, targetPort: origin.port, auth };
  const cpu0 = direct ? 0 : treeCpu(proc.pid);
  const cpu = () => (direct ? undefined : treeCpu(proc.pid) - cpu0);
  switch (sc) {
    case 'fwd':
    case 'fwdClose': {
      const r = await wrkForward({
        proxyPort: port,
        targetUrl: origin.file(SMALL),
        auth,
        seconds,
        conns,
        threads: 2,
        close: sc === 'fwdClose',
      });
      const run = { value: r.rate, errors: r.errors, note: r.note, ops: r.ok, cpu: cpu(), genCpu: r.genCpu };
      return { [sc]: { ...run, seconds: r.seconds } };
    }
    case 'connect':
    case 'socks': {
      const r = await tunnelRate({
        ...base,
        mode: direct ? 'direct' : sc === 'connect' ? 'connect' : 'socks5',
        seconds,
        conns,
        get: sc === 'connect' ? `/${SMALL}` : undefined,
      });
      return {
        [sc]: {
          value: r.rate,
          errors: r.errors,
          ops: r.ok,
          cpu: cpu(),
          genCpu: r.genCpu,
          seconds: r.seconds,
        },
      };
    }
    case 'mbps1':
    case 'mbps8': {
      const r = await tunnelThroughput({
        ...base,
        mode: tunnelMode,
        seconds,
        path: `/${BIG}`,
        streams: sc === 'mbps1' ? 1 : 8,
      });
      // ops in MB, so CPU per op reads as CPU µs per MB moved.
      const run = { value: r.rate, errors: r.errors, ops: r.ok / 1e6, cpu: cpu(), genCpu: r.genCpu };
      return {
        [sc]: { ...run, seconds: r.seconds, note: s.kind === 'socks5' ? 'through SOCKS5' : undefined },
      };
    }
    case 'latFwd':
    case 'latTunnel': {
      const fwd = sc === 'latFwd';
      const r = await fixedLatency({
        ...base,
        mode: direct ? 'direct' : fwd ? 'http' : tunnelMode,
        rate: fwd ? latRate : latTunnelRate,
        get: `/${SMALL}`,
        keepalive: fwd,
        conns: 64,
        seconds,
      });
      const note = r.late ? `${r.late} requests waited for a connection` : undefined;
      const common = { errors: r.errors, genCpu: r.genCpu, seconds: r.seconds, ops: r.samples, note };
      return fwd
        ? { latFwd50: { value: r.p50, ...common }, latFwd99: { value: r.p99, ...common } }
        : { latTun50: { value: r.p50, ...common }, latTun99: { value: r.p99, ...common } };
    }
  }
}

function cellOf(runs: Run[]): Cell {
  const cpuRuns = runs.filter((r) => r.cpu !== undefined && r.ops);
  const ops = cpuRuns.reduce((a, r) => a + (r.ops ?? 0), 0);
  const notes = [...new Set(runs.map((r) => r.note).filter(Boolean))];
  return {
    value: median(runs.map((r) => r.value)),
    runs,
    errors: runs.reduce((a, r) => a + r.errors, 0),
    cpuPerOp: cpuRuns.length && ops ? (cpuRuns.reduce((a, r) => a + r.cpu!, 0) * 1e6) / ops : undefined,
    note: notes.join('; ') || undefined,
  };
}

async function startProc(name: ProcName, squidAuthPort: () => Promise<number>): Promise<Proc> {
  switch (name) {
    case 'squid':
      return startSquid();
    case 'squidAuth':
      return startSquid({ auth: AUTH });
    case 'tinyproxy':
      return startTinyproxy();
    case 'proxyChain':
      return startProxyChain();
    case 'microsocks':
      return startMicrosocks();
    case 'microsocksAuth':
      return startMicrosocks({ auth: AUTH });
    case 'dante':
      return startDante();
    case 'portcullis': {
      let chain: (Auth & { port: number }) | undefined;
      try {
        chain = { ...AUTH, port: await squidAuthPort() };
      } catch {
        chain = undefined; // squid did not start: no chained port, its row says why
      }
      return startPortcullis({ user: AUTH, limited: LIMITED, chain, threads: flags.threads });
    }
    case 'nginx':
      throw new Error('the origin starts first');
  }
}

/** The API child (bench/api-proxies.ts --serve): seeded at start, measured at the end. */
interface ApiChild {
  ready: Promise<Record<string, unknown>>;
  run(): Promise<{ rps: number; errors: number; p50Ms: number; p99Ms: number }>;
  stop(): Promise<void>;
}

function startApiChild(): ApiChild {
  const env = { ...process.env };
  delete env.DATABASE_URL; // the embedded store, like the other Portcullis figures here
  const child: ChildProcess = spawn(
    process.execPath,
    [
      path.join(import.meta.dirname, 'api-proxies.ts'),
      '--serve',
      '--seconds',
      String(Math.max(quick ? 2 : 5, seconds)),
      '--imports',
      quick ? '1' : '3',
    ],
    { cwd: path.resolve(import.meta.dirname, '..'), stdio: ['pipe', 'pipe', 'pipe'], env },
  );
  let stderr = '';
  child.stderr!.on('data', (d) => {
    stderr += d;
  });
  const lines: Interface = createInterface({ input: child.stdout! });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  const next = (ms: number): Promise<Record<string, unknown>> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`api-proxies: no answer within ${ms / 1000} s`)), ms);
      const onLine = (l: string) => {
        clearTimeout(timer);
        resolve(JSON.parse(l));
      };
      lines.once('line', onLine);
      void exited.then((code) => {
        clearTimeout(timer);
        lines.off('line', onLine);
        reject(
          new Error(`api-proxies exited with ${code}: ${stderr.trim().split('\n').slice(-3).join(' ')}`),
        );
      });
    });
  const ready = next(300_000);
  ready.catch(() => {});
  return {
    ready,
    async run() {
      child.stdin!.write('run\n');
      return (await next(seconds * 1000 + 90_000)) as never;
    },
    async stop() {
      child.stdin!.end();
      const t = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(t);
    },
  };
}

function sh(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return '';
  }
}

const loadavg = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

function machine(loadStart: string, timeWait: string): Machine {
  const pkgs = ['squid', 'tinyproxy', 'dante-server', 'microsocks', 'nginx-light', 'wrk'];
  // dpkg-query's own ${Field} syntax, not a template string.
  const format = ['$', '{Package} $', '{Version}\\n'].join('');
  const versions = sh('dpkg-query', ['-W', '-f', format, ...pkgs])
    .split('\n')
    .filter(Boolean)
    .join(', ');
  let pcVersion = 'missing';
  try {
    pcVersion = JSON.parse(
      readFileSync(path.resolve(import.meta.dirname, '../node_modules/proxy-chain/package.json'), 'utf8'),
    ).version;
  } catch {}
  return {
    cpus: os.availableParallelism(),
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    kernel: os.release(),
    node: process.version,
    loadStart,
    loadEnd: loadavg(),
    versions: `Peers: ${versions}, proxy-chain ${pcVersion}.`,
    settings:
      `Runs of ${seconds} s, ${repeat} per figure (median); ${conns} concurrent clients for rates (wrk -t2 for ` +
      'forward HTTP, bench/load/connect-bench.c for the rest); origin nginx (1 worker, keep-alive) serving a ' +
      '1 KiB file and a 100 MB file from the page cache; squid without cache or access log (1 worker, its ' +
      'default); Portcullis with authentication on, PGlite store, in-memory live state, ' +
      `PORTCULLIS_GATEWAY_THREADS=${flags.threads}` +
      `${flags.threads === 'auto' ? ` (${Math.min(64, os.availableParallelism())} threads)` : ''}. ${timeWait}; Node systems warmed up until ` +
      'steady (see Warm-up).',
    command: `node bench/run.ts ${process.argv.slice(2).join(' ')}`.trim(),
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    wallSeconds: 0,
  };
}

async function main(): Promise<void> {
  const loadStart = loadavg();
  const timeWait = capTimeWait(Number(flags['time-wait']));
  log(timeWait.note);
  const tools = ensureTools({ install: !flags['no-install'], log });
  log('building bench/load/connect-bench.c');
  await buildLoadGenerator();

  const subjects = SUBJECTS.filter((s) => selected(s.name));
  const rows = new Map<string, Row>(
    subjects.map((s) => [s.name, { name: s.name, group: s.group, cells: {} }]),
  );
  for (const s of subjects) {
    const why = s.needs && tools.missing.get(s.needs);
    if (why) rows.get(s.name)!.missing = why;
  }
  const wanted = new Set(subjects.filter((s) => !rows.get(s.name)!.missing).map((s) => s.proc));
  if (wanted.has('portcullis') && !tools.missing.has('squid') && subjects.some((s) => s.chain))
    wanted.add('squidAuth');
  wanted.delete('nginx');

  // Seeding (API customers, bound-port data dirs) runs while the systems start:
  // none of it is measured, and all of it is done before the first run.
  const doApi = selected('api');
  const doPorts = selected('ports');
  const api = doApi ? startApiChild() : undefined;
  const seeded: Promise<SeededDir[]> = doPorts ? seedPorts([1, boundPorts]) : Promise.resolve([]);
  seeded.catch(() => {});

  const origin = await startNginx({ files: { [SMALL]: 1024, [BIG]: 100_000_000 } });
  log(`nginx origin on 127.0.0.1:${origin.port}`);
  const procs = new Map<ProcName, Proc>();
  procs.set('nginx', { pid: origin.pid, port: origin.port, stop: async () => {} });
  const failed = new Map<ProcName, string>();
  const starting = new Map<ProcName, Promise<Proc>>();
  // All at once; Portcullis last, since its chained port needs squid + basic auth's port.
  for (const name of [...wanted].sort((a, b) => Number(a === 'portcullis') - Number(b === 'portcullis'))) {
    const squidAuth = starting.get('squidAuth');
    const p = startProc(name, async () => {
      if (!squidAuth) throw new Error('squid + basic auth not started');
      return (await squidAuth).port;
    });
    p.catch(() => {});
    starting.set(name, p);
  }
  for (const [name, p] of starting) {
    try {
      procs.set(name, await p);
    } catch (err) {
      failed.set(name, `did not start: ${firstLine(err)}`);
      log(`${name} ${failed.get(name)}`);
    }
  }
  for (const s of subjects) {
    const row = rows.get(s.name)!;
    if (row.missing) continue;
    if (!procs.has(s.proc)) row.missing = failed.get(s.proc) ?? 'not started';
    else if (s.chain && !procs.get(s.proc)!.chainPort)
      row.missing = `no chained port: ${failed.get('squidAuth') ?? 'squid + basic auth not running'}`;
  }
  log(`started: ${[...procs.keys()].join(', ')}`);

  let apiFigures: ApiFigures = { runs: [] };
  let portsFigures: PortsFigures = { runs: [] };
  let dirs: SeededDir[] = [];
  try {
    dirs = await seeded;
  } catch (err) {
    portsFigures.error = `seeding failed: ${firstLine(err)}`;
  }
  if (api) {
    try {
      const r = await api.ready;
      apiFigures = { store: String(r.store), importMs: r.importMs as number[], runs: [] };
    } catch (err) {
      apiFigures.error = firstLine(err);
    }
  }
  log('seeding done; measuring');

  const live = (s: Subject) => !rows.get(s.name)!.missing;
  const runsOf = new Map<string, Partial<Record<Metric, Run[]>>>();
  const warmups: Warmup[] = [];
  try {
    // Warm-up, not counted. A Node system runs its first seconds in V8's
    // interpreter and baseline tiers while the optimizing compiler catches up
    // and its heap grows (measured: Portcullis' set-up rate climbs for 10-20 s
    // after start, e.g. 2,500 -> 4,000/s); Portcullis also verifies each
    // password once (scrypt).
    // C peers have nothing to warm. Each protocol runs in 1 s steps until its
    // rate stops rising; the steps are reported (Warm-up) and not counted.
    for (const s of subjects.filter((x) => live(x) && (x.proc === 'portcullis' || x.proc === 'proxyChain'))) {
      const proc = procs.get(s.proc)!;
      const port = s.chain ? proc.chainPort! : proc.port;
      for (const mode of s.name === PORTCULLIS
        ? (['http', 'connect', 'socks5'] as const)
        : (['http'] as const)) {
        const rates = await warmUp(() =>
          tunnelRate({
            mode,
            proxyPort: port,
            targetPort: origin.port,
            auth: s.auth,
            seconds: 1,
            conns,
            get: mode === 'socks5' ? undefined : `/${SMALL}`,
          }).then((r) => r.rate),
        );
        warmups.push({ system: s.name, mode, rates });
        log(`warm-up ${s.name} ${mode}: ${rates.map((x) => x.toFixed(0)).join(' -> ')}/s`);
      }
    }
    log('warm-up done');
    for (const sc of SCENARIOS) {
      const group = subjects.filter((s) => s.scenarios.includes(sc) && live(s));
      for (let round = 0; round < repeat; round++) {
        // Rotate the order each round so no system always runs first or right after the same one.
        const order = group.map((_, i) => group[(i + round) % group.length]);
        for (const s of order) {
          await sleep(PAUSE_MS);
          try {
            const got = await runOnce(s, sc, procs.get(s.proc)!, origin);
            const mine = runsOf.get(s.name) ?? {};
            for (const [k, run] of Object.entries(got) as [Metric, Run][])
              mine[k] = [...(mine[k] ?? []), run];
            runsOf.set(s.name, mine);
            const [k, run] = Object.entries(got)[0] as [Metric, Run];
            log(
              `${sc} ${s.name}: ${k} ${run.value.toFixed(1)}${run.errors ? ` (${run.errors} errors)` : ''}`,
            );
          } catch (err) {
            const row = rows.get(s.name)!;
            row.note = [row.note, `${sc} failed: ${firstLine(err)}`].filter(Boolean).join('; ');
            log(`${sc} ${s.name} failed: ${(err as Error).message}`);
          }
        }
      }
    }
    for (const [name, byMetric] of runsOf) {
      const row = rows.get(name)!;
      for (const [k, runs] of Object.entries(byMetric) as [Metric, Run[]][]) row.cells[k] = cellOf(runs);
    }

    // Idle memory last: closing thousands of tunnels leaves some systems (proxy-chain,
    // dante) busy for seconds, which would spoil any run after it.
    for (const s of subjects.filter((x) => x.idle && live(x))) {
      const proc = procs.get(s.proc)!;
      try {
        rows.get(s.name)!.cells.idle = await idle(s, proc, origin);
        log(`idle ${s.name}: ${rows.get(s.name)!.cells.idle!.value.toFixed(1)} KB/tunnel`);
      } catch (err) {
        const row = rows.get(s.name)!;
        row.note = [row.note, `idle failed: ${firstLine(err)}`].filter(Boolean).join('; ');
        log(`idle ${s.name} failed: ${(err as Error).message}`);
      }
    }
  } finally {
    for (const [name, p] of procs) {
      if (name !== 'nginx') await p.stop().catch(() => {});
    }
    await origin.stop();
  }

  // Portcullis only, with every peer stopped.
  if (dirs.length === 2) {
    for (let round = 0; round < repeat; round++) {
      for (const d of round % 2 ? [...dirs].reverse() : dirs) {
        try {
          const r = await measureStart(d, quick ? 1000 : 20_000);
          portsFigures.runs.push(r);
          log(
            `ports ${r.ports}: start-up ${(r.startMs / 1000).toFixed(2)} s, RSS ${(r.rssKb / 1024).toFixed(0)} MiB`,
          );
        } catch (err) {
          portsFigures.error = firstLine(err);
          log(`ports ${d.ports.length} failed: ${(err as Error).message}`);
        }
      }
    }
  }
  for (const d of dirs) d.remove();
  if (api) {
    if (!apiFigures.error) {
      for (let i = 0; i < repeat; i++) {
        try {
          const r = await api.run();
          apiFigures.runs.push(r);
          log(`/api/proxies.php: ${r.rps.toFixed(1)} req/s, p99 ${r.p99Ms.toFixed(0)} ms`);
        } catch (err) {
          apiFigures.error = firstLine(err);
          break;
        }
      }
    }
    await api.stop().catch(() => {});
  }
  if (!doPorts) portsFigures = { runs: [], error: 'not selected (--only)' };
  if (!doApi) apiFigures = { runs: [], error: 'not selected (--only)' };

  timeWait.restore();
  const m = machine(loadStart, timeWait.note);
  m.wallSeconds = (performance.now() - t0) / 1000;
  const results: Results = {
    machine: m,
    rows: [...rows.values()],
    ports: portsFigures,
    api: apiFigures,
    idleTunnels,
    latencyRates: { fwd: latRate, tunnel: latTunnelRate },
    warmups,
  };
  const md = render(results);
  const dir = flags['out-dir'];
  mkdirSync(dir, { recursive: true });
  // A second full run on the same day gets -2, -3...: a committed run is never overwritten.
  const base = path.join(dir, m.date.slice(0, 10));
  let stem = quick ? `${base}-quick` : base;
  for (let n = 2; !quick && existsSync(`${stem}.md`); n++) stem = `${base}-${n}`;
  writeFileSync(`${stem}.md`, md);
  writeFileSync(
    `${stem}.json`,
    `${JSON.stringify({ ...results, summary: summarize(results.rows) }, null, 2)}\n`,
  );
  // A quick run is a check, not a result to quote: it leaves latest.md alone.
  if (!quick) copyFileSync(`${stem}.md`, path.join(dir, 'latest.md'));
  process.stdout.write(md);
  log(
    `written to ${path.relative(process.cwd(), `${stem}.md`)} and .json${quick ? '' : ', and latest.md'} ` +
      `(${(m.wallSeconds / 60).toFixed(1)} min)`,
  );
}

/**
 * Runs `step` (one 1 s run, resolving to its rate) until the rate stops
 * rising: at least 20 steps, then until 3 steps in a row stay below 1.05x the
 * best so far, at most 30 (3 to 5 with --quick). A failed step counts as 0.
 * Measured on 2026-11-24: a fresh Portcullis needs 15-20 s of SOCKS5 load
 * before its CPU per set-up settles (490 -> 230 µs, user and system time
 * alike), so a shorter warm-up leaves part of it in the counted runs.
 */
async function warmUp(step: () => Promise<number>): Promise<number[]> {
  const rates: number[] = [];
  let best = 0;
  let flat = 0;
  const [min, max] = quick ? [3, 5] : [20, 30];
  while (rates.length < max) {
    const r = await step().catch(() => 0);
    rates.push(r);
    if (r >= best * 1.05) flat = 0;
    else flat++;
    best = Math.max(best, r);
    if (rates.length >= min && flat >= 3) break;
    await sleep(PAUSE_MS);
  }
  return rates;
}

async function idle(s: Subject, proc: Proc, origin: NginxOrigin): Promise<Cell> {
  const r = await idleMemory({
    mode: s.kind === 'socks5' ? 'socks5' : 'connect',
    proxyPort: proc.port,
    targetPort: origin.port,
    auth: s.auth,
    pid: proc.pid,
    tunnels: idleTunnels,
    gc: proc.gc,
    // Every system has just been through all scenarios: nothing left to warm.
    warm: false,
  });
  const short = r.established < idleTunnels ? `only ${r.established} of ${idleTunnels} tunnels held` : '';
  const mib = (kb: number) => (kb / 1024).toFixed(0);
  const procsNote = r.after.processes > 1 ? ` over ${r.after.processes} processes` : '';
  const heap = r.heapKbPerTunnel;
  const mem = [
    `PSS ${mib(r.before.pssTreeKb)} -> ${mib(r.after.pssTreeKb)} MiB${procsNote}`,
    `PSS +${r.kbPerTunnel.toFixed(1)} KB/tunnel, main VmRSS +${r.rssKbPerTunnel.toFixed(1)}`,
    heap === undefined ? '' : `V8 heap+external +${heap.toFixed(1)}`,
  ]
    .filter(Boolean)
    .join(', ');
  // A Node process can hold freed start-up heap that new objects fill without
  // growing RSS; then its heap growth is the honest cost of a tunnel.
  const value = Math.max(r.kbPerTunnel, heap ?? 0);
  return {
    value,
    runs: [{ value, errors: r.errors + (short ? 1 : 0) }],
    errors: r.errors + (short ? 1 : 0),
    note: [short, mem].filter(Boolean).join(', '),
  };
}

// Ctrl-C or a kill: exit through process.exit so the 'exit' hooks stop every
// peer (test/helpers/peers.ts) and gateway (ports.ts); the Portcullis and API
// children stop when their stdin closes.
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    log(`${sig}: stopping`);
    process.exit(130);
  });
}

// Exit explicitly: a peer that outlived its stop() must not hold the bench open.
try {
  await main();
  process.exit(0);
} catch (err) {
  log(`stopped: ${(err as Error).message}`);
  process.exit(1);
}
