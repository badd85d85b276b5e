// Load generators for the bench: wrk for forward HTTP (absolute-URI requests
// through a Lua script), bench/load/connect-bench.c for tunnel set-ups, tunnel
// throughput, latency at a fixed rate and idle tunnels, and /proc for the
// proxy's memory and CPU time. Every runner returns the figure of one run;
// run.ts repeats runs and takes medians.
import { execFile, spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { type Auth, findBinary, type NodeMemory } from '../../test/helpers/peers.ts';

const run = promisify(execFile);
const BENCH = path.resolve(import.meta.dirname, '..');
const BUILD = path.join(BENCH, '.build');
const SOURCE = path.join(BENCH, 'load', 'connect-bench.c');
export const CONNECT_BENCH = path.join(BUILD, 'connect-bench');

/** Compiles connect-bench.c into bench/.build when the binary is missing or older than the source. */
export async function buildLoadGenerator(): Promise<void> {
  const gcc = findBinary('gcc', 'gcc');
  mkdirSync(BUILD, { recursive: true });
  let fresh = false;
  try {
    fresh = statSync(CONNECT_BENCH).mtimeMs >= statSync(SOURCE).mtimeMs;
  } catch {}
  if (!fresh) await run(gcc, ['-O2', '-Wall', '-o', CONNECT_BENCH, SOURCE]);
}

export interface Rate {
  /** completed operations per second (MB/s for throughput) */
  rate: number;
  ok: number;
  errors: number;
  note?: string;
  /** the load generator's own CPU seconds (user + system) during the run */
  genCpu?: number;
  seconds: number;
}

/**
 * Forward HTTP requests/s. wrk cannot use a proxy, so it connects to the proxy
 * port and a Lua script rewrites every request to an absolute URI (RFC 9112
 * §3.2.2), which is what a client configured with a proxy sends. An origin
 * (nginx) answers such a request too, which gives wrk's ceiling. With `close`
 * every request says `Connection: close` and wrk opens a new connection for the next.
 */
export async function wrkForward(o: {
  proxyPort: number;
  targetUrl: string;
  auth?: Auth;
  seconds: number;
  conns: number;
  threads: number;
  close?: boolean;
}): Promise<Rate> {
  const wrk = findBinary('wrk', 'wrk');
  const target = new URL(o.targetUrl);
  const lines = [
    `wrk.path = "${o.targetUrl}"`,
    `wrk.headers["Host"] = "${target.host}"`,
    o.close ? 'wrk.headers["Connection"] = "close"' : '',
    o.auth
      ? `wrk.headers["Proxy-Authorization"] = "Basic ${Buffer.from(`${o.auth.user}:${o.auth.pass}`).toString('base64')}"`
      : '',
    // One JSON line with wrk's own counters, so nothing is scraped from its prose.
    'done = function(s, latency, requests)',
    '  local e = s.errors',
    '  io.write(string.format(\'{"requests":%d,"us":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d}\\n\',',
    '    s.requests, s.duration, e.connect, e.read, e.write, e.status, e.timeout))',
    'end',
  ];
  mkdirSync(BUILD, { recursive: true });
  const script = path.join(BUILD, `forward-${o.proxyPort}-${o.close ? 'close' : 'ka'}.lua`);
  writeFileSync(script, lines.filter(Boolean).join('\n') + '\n');
  const args = [
    `-t${o.threads}`,
    `-c${o.conns}`,
    `-d${o.seconds}s`,
    '-s',
    script,
    `http://127.0.0.1:${o.proxyPort}/`,
  ];
  const { stdout, cpu } = await timed(wrk, args, o.seconds);
  const json = stdout.split('\n').find((l) => l.startsWith('{"requests"'));
  if (!json) throw new Error(`wrk printed no summary:\n${stdout}`);
  const s = JSON.parse(json);
  // wrk counts a non-2xx/3xx answer in `requests` too; only good answers count here.
  const ok = s.requests - s.status - s.timeout;
  const notes: string[] = [];
  if (!o.close && s.read > 0 && s.read >= s.requests * 0.5)
    notes.push('closes after every answer (no client keep-alive)');
  else if (s.read + s.connect + s.write > 0 && !(o.close && s.connect === 0 && s.write === 0))
    notes.push(`socket errors ${s.read + s.connect + s.write}`);
  return {
    rate: ok / (s.us / 1e6),
    ok,
    errors: s.status + s.timeout,
    note: notes.join('; ') || undefined,
    genCpu: cpu,
    seconds: s.us / 1e6,
  };
}

/**
 * Runs a generator and returns its stdout and its own CPU seconds: bash's `times`
 * prints the user and system time of the children it waited for.
 */
async function timed(
  bin: string,
  args: string[],
  seconds: number,
): Promise<{ stdout: string; cpu?: number }> {
  const { stdout } = await run('bash', ['-c', '"$@"; times', 'timed', bin, ...args], {
    encoding: 'utf8',
    timeout: (seconds + 30) * 1000,
  });
  const lines = stdout.trimEnd().split('\n');
  const children = lines.pop() ?? '';
  lines.pop(); // the shell's own times
  const m = /^(\d+)m([\d.]+)s (\d+)m([\d.]+)s$/.exec(children.trim());
  const cpu = m ? Number(m[1]) * 60 + Number(m[2]) + Number(m[3]) * 60 + Number(m[4]) : undefined;
  return { stdout: lines.join('\n'), cpu };
}

export interface TunnelOpts {
  /** direct: no proxy, straight to the origin (the generator's ceiling); proxyPort is ignored */
  mode: 'connect' | 'socks5' | 'http' | 'direct';
  proxyPort: number;
  targetPort: number;
  auth?: Auth;
}

function tunnelArgs(o: TunnelOpts): string[] {
  const a = ['-m', o.mode, '-t', String(o.targetPort)];
  if (o.mode !== 'direct') a.push('-p', String(o.proxyPort));
  if (o.auth && o.mode !== 'direct') a.push('-u', o.auth.user, '-w', o.auth.pass);
  return a;
}

async function connectBench(args: string[], seconds: number): Promise<Record<string, number>> {
  const { stdout } = await run(CONNECT_BENCH, args, { encoding: 'utf8', timeout: (seconds + 30) * 1000 });
  const line = stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line);
  } catch {
    throw new Error(`connect-bench printed no result: ${stdout}`);
  }
}

/** Tunnel set-ups per second with `conns` parallel clients; with `get` one GET through each tunnel. */
export async function tunnelRate(
  o: TunnelOpts & { seconds: number; conns: number; get?: string },
): Promise<Rate> {
  const args = [...tunnelArgs(o), '-c', String(o.conns), '-d', String(o.seconds)];
  if (o.get) args.push('-g', o.get);
  const r = await connectBench(args, o.seconds);
  return { rate: r.rate, ok: r.ok, errors: r.errors + r.timeouts, genCpu: r.cpu, seconds: r.seconds };
}

/** MB/s (10^6 bytes) through `streams` tunnels: the same file fetched again and again over keep-alive. */
export async function tunnelThroughput(
  o: TunnelOpts & { seconds: number; path: string; streams: number },
): Promise<Rate> {
  const r = await connectBench(
    [...tunnelArgs(o), '-c', String(o.streams), '-d', String(o.seconds), '-D', o.path],
    o.seconds,
  );
  return { rate: r.mbps, ok: r.bytes, errors: r.errors, genCpu: r.cpu, seconds: r.seconds };
}

export interface Latency {
  /** microseconds, from the scheduled time to the last body byte */
  p50: number;
  p99: number;
  ok: number;
  errors: number;
  /** requests that had to wait for a free connection (a sign the rate is too high) */
  late: number;
  samples: number;
  genCpu?: number;
  seconds: number;
}

/**
 * Latency at a fixed request rate (open loop): `rate` GETs a second, each a
 * forward request over a kept-alive connection (`http`, or `direct` with
 * keepalive) or a new tunnel plus one GET (`connect`, `socks5`, `direct`).
 */
export async function fixedLatency(
  o: TunnelOpts & { seconds: number; rate: number; get: string; keepalive: boolean; conns: number },
): Promise<Latency> {
  const args = [
    ...tunnelArgs(o),
    '-r',
    String(o.rate),
    '-g',
    o.get,
    '-c',
    String(o.conns),
    '-d',
    String(o.seconds),
  ];
  if (o.keepalive) args.push('-k');
  const r = await connectBench(args, o.seconds);
  return {
    p50: r.p50,
    p99: r.p99,
    ok: r.ok,
    errors: r.errors + r.timeouts,
    late: r.late,
    samples: r.samples,
    genCpu: r.cpu,
    seconds: r.seconds,
  };
}

/**
 * A process and its descendants. /proc/PID/task/TID/children (Linux 3.5+) is read
 * per process, far cheaper than scanning every /proc/PID/stat for parents, which
 * mattered when it ran twice per timed run; the scan stays as the fallback.
 */
function descendants(pid: number): number[] {
  try {
    return descendantsByChildren(pid);
  } catch {
    return descendantsByScan(pid);
  }
}

function descendantsByChildren(pid: number): number[] {
  const all: number[] = [];
  const todo = [pid];
  while (todo.length) {
    const p = todo.pop()!;
    all.push(p);
    let tasks: string[];
    try {
      tasks = readdirSync(`/proc/${p}/task`);
    } catch {
      continue; // exited meanwhile
    }
    for (const t of tasks) {
      let list = '';
      try {
        list = readFileSync(`/proc/${p}/task/${t}/children`, 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT' && p === pid && t === String(pid)) throw err;
      }
      for (const c of list.split(' ')) if (c.trim()) todo.push(Number(c));
    }
  }
  return all;
}

function descendantsByScan(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(entry));
      children.set(ppid, list);
    } catch {}
  }
  const all: number[] = [];
  const todo = [pid];
  while (todo.length) {
    const p = todo.pop()!;
    all.push(p);
    todo.push(...(children.get(p) ?? []));
  }
  return all;
}

function field(file: string, name: string): number {
  try {
    const m = new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(readFileSync(file, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/**
 * CPU seconds (user + system) a proxy has used so far: its process and its
 * descendants, plus the children it has already reaped (cutime, cstime), so a
 * forking server (dante) is charged for the workers it ran.
 */
export function treeCpu(pid: number): number {
  let ticks = 0;
  for (const p of descendants(pid)) {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
    } catch {}
  }
  return ticks / CLOCK_TICKS;
}

/** USER_HZ: the unit of /proc/PID/stat times (100 on every Linux build that matters). */
const CLOCK_TICKS = 100;

export interface Memory {
  /** VmRSS of the main process, kB (/proc/PID/status) */
  rssKb: number;
  /** proportional set size summed over the process and its descendants, kB */
  pssTreeKb: number;
  processes: number;
  /** stableMemory: false when it stopped waiting before memory settled */
  steady?: boolean;
}

/**
 * Memory of a proxy. Forking servers (dante: one process per few clients) share
 * most pages between processes, so summing their RSS counts shared pages again and
 * again; PSS splits each shared page among its sharers and sums to the truth.
 */
export function proxyMemory(pid: number): Memory {
  const tree = descendants(pid);
  let pss = 0;
  for (const p of tree) pss += field(`/proc/${p}/smaps_rollup`, 'Pss');
  return { rssKb: field(`/proc/${pid}/status`, 'VmRSS'), pssTreeKb: pss, processes: tree.length };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Reads memory once it has stopped moving (two readings 400 ms apart within 1 MiB,
 * at most `maxMs`): a freshly started Node process is still releasing start-up memory
 * (the gateway drops ~370 MiB in the first seconds), which would swamp the tunnels.
 */
export async function stableMemory(pid: number, maxMs = 15_000): Promise<Memory> {
  let last = proxyMemory(pid);
  for (let i = 0; i < Math.ceil(maxMs / 400); i++) {
    await sleep(400);
    const m = proxyMemory(pid);
    if (Math.abs(m.pssTreeKb - last.pssTreeKb) < 1024) return { ...m, steady: true };
    last = m;
  }
  return { ...last, steady: false };
}

export interface IdleMemory {
  /** PSS growth of the process tree per idle tunnel, KiB */
  kbPerTunnel: number;
  /** VmRSS growth of the main process per idle tunnel, KiB */
  rssKbPerTunnel: number;
  /** Node peers: V8 heap + external growth per idle tunnel, KiB */
  heapKbPerTunnel?: number;
  established: number;
  before: Memory;
  after: Memory;
  errors: number;
}

/**
 * Memory per idle tunnel: warm the proxy up with a few hundred set-ups (unless
 * `warm` is false: the caller has just run it hard), read its memory, open
 * `tunnels` idle tunnels to the origin, let it settle, read again.
 */
export async function idleMemory(
  o: TunnelOpts & {
    pid: number;
    tunnels: number;
    gc?: () => Promise<NodeMemory | undefined>;
    warm?: boolean;
  },
): Promise<IdleMemory> {
  if (o.warm !== false) {
    await connectBench([...tunnelArgs(o), '-c', '10', '-d', '1'], 1);
    await sleep(500);
  }
  // Node peers: without a full collection, garbage freed during the hold can exceed
  // what the tunnels add and the figure goes negative.
  const heapBefore = await o.gc?.();
  const before = await stableMemory(o.pid);
  const child = spawn(CONNECT_BENCH, [...tunnelArgs(o), '-n', String(o.tunnels), '-c', '100', '-d', '120'], {
    stdio: ['pipe', 'pipe', 'ignore'],
  });
  const lines = createInterface({ input: child.stdout });
  const next = (): Promise<Record<string, number>> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('connect-bench: no READY within 60 s')), 60_000);
      lines.once('line', (l) => {
        clearTimeout(timer);
        resolve(JSON.parse(l));
      });
    });
  try {
    const ready = await next();
    const heapAfter = await o.gc?.();
    const after = await stableMemory(o.pid);
    const done = next();
    child.stdin.end();
    const final = await done;
    const n = Math.max(ready.established, 1);
    return {
      kbPerTunnel: (after.pssTreeKb - before.pssTreeKb) / n,
      rssKbPerTunnel: (after.rssKb - before.rssKb) / n,
      heapKbPerTunnel:
        heapBefore && heapAfter
          ? (heapAfter.heapUsed + heapAfter.external - heapBefore.heapUsed - heapBefore.external) / 1024 / n
          : undefined,
      established: ready.established,
      before,
      after,
      errors: ready.errors + final.dropped,
    };
  } finally {
    child.kill('SIGKILL');
  }
}
