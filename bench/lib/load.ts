// Load generators for the bench: wrk for forward HTTP (absolute-URI requests
// through a Lua script), bench/load/connect-bench.c for tunnel set-ups, one-tunnel
// throughput and idle tunnels, and /proc for the proxy's memory.
// Every runner returns the figure of one run; run.ts repeats and keeps the best.
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
  /** completed operations per second */
  rate: number;
  ok: number;
  errors: number;
  note?: string;
}

/**
 * Forward HTTP keep-alive requests/s. wrk cannot use a proxy, so it connects to
 * the proxy port and a Lua script rewrites every request to an absolute URI
 * (RFC 9112 §3.2.2), which is what a client configured with a proxy sends.
 */
export async function wrkForward(o: {
  proxyPort: number;
  targetUrl: string;
  auth?: Auth;
  seconds: number;
  conns: number;
  threads: number;
}): Promise<Rate> {
  const wrk = findBinary('wrk', 'wrk');
  const target = new URL(o.targetUrl);
  const lines = [
    `wrk.path = "${o.targetUrl}"`,
    `wrk.headers["Host"] = "${target.host}"`,
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
  const script = path.join(BUILD, `forward-${o.proxyPort}.lua`);
  writeFileSync(script, lines.join('\n') + '\n');
  const args = [
    `-t${o.threads}`,
    `-c${o.conns}`,
    `-d${o.seconds}s`,
    '-s',
    script,
    `http://127.0.0.1:${o.proxyPort}/`,
  ];
  const { stdout } = await run(wrk, args, { encoding: 'utf8', timeout: (o.seconds + 30) * 1000 });
  const json = stdout.split('\n').find((l) => l.startsWith('{"requests"'));
  if (!json) throw new Error(`wrk printed no summary:\n${stdout}`);
  const s = JSON.parse(json);
  // wrk counts a non-2xx/3xx answer in `requests` too; only good answers count here.
  const ok = s.requests - s.status - s.timeout;
  const notes: string[] = [];
  if (s.read > 0 && s.read >= s.requests * 0.5)
    notes.push('closes after every answer (no client keep-alive)');
  else if (s.read + s.connect + s.write > 0) notes.push(`socket errors ${s.read + s.connect + s.write}`);
  return { rate: ok / (s.us / 1e6), ok, errors: s.status + s.timeout, note: notes.join('; ') || undefined };
}

export interface TunnelOpts {
  mode: 'connect' | 'socks5';
  proxyPort: number;
  targetPort: number;
  auth?: Auth;
}

function tunnelArgs(o: TunnelOpts): string[] {
  const a = ['-m', o.mode, '-p', String(o.proxyPort), '-t', String(o.targetPort)];
  if (o.auth) a.push('-u', o.auth.user, '-w', o.auth.pass);
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
  return { rate: r.rate, ok: r.ok, errors: r.errors + r.timeouts };
}

/** MB/s (10^6 bytes) through one tunnel: the same file fetched again and again over keep-alive. */
export async function tunnelThroughput(o: TunnelOpts & { seconds: number; path: string }): Promise<Rate> {
  const r = await connectBench([...tunnelArgs(o), '-d', String(o.seconds), '-D', o.path], o.seconds);
  return { rate: r.mbps, ok: r.answers, errors: r.errors };
}

function descendants(pid: number): number[] {
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

export interface Memory {
  /** VmRSS of the main process, kB (/proc/PID/status) */
  rssKb: number;
  /** proportional set size summed over the process and its descendants, kB */
  pssTreeKb: number;
  processes: number;
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
 * at most 15 s): a freshly started Node process is still releasing start-up memory
 * (the gateway drops ~370 MiB in the first seconds), which would swamp the tunnels.
 */
async function stableMemory(pid: number): Promise<Memory> {
  let last = proxyMemory(pid);
  for (let i = 0; i < 37; i++) {
    await sleep(400);
    const m = proxyMemory(pid);
    if (Math.abs(m.pssTreeKb - last.pssTreeKb) < 1024) return m;
    last = m;
  }
  return last;
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
 * Memory per idle tunnel: warm the proxy up with a few hundred set-ups, read its
 * RSS, open `tunnels` idle tunnels to the origin, let it settle, read again.
 */
export async function idleMemory(
  o: TunnelOpts & { pid: number; tunnels: number; gc?: () => Promise<NodeMemory | undefined> },
): Promise<IdleMemory> {
  await connectBench([...tunnelArgs(o), '-c', '10', '-d', '1'], 1);
  await sleep(500);
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
