// Start-up time and memory of `portcullis up --role gateway` with 1,000 bound
// ports, beside the same with one port. Each data directory is seeded first
// (bench/ports-child.ts: PGlite on disk, bootstrap done, `direct` upstreams on
// free ports), so a start does what a restart of a deployment does: open the
// store, load policies and upstreams, bind every port.
//
// Start-up is the wall time from spawn until the process logs "portcullis
// started" (emitted once every port has bound or failed once); every port is
// then checked to accept a TCP connection. Memory is read once it is steady.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { stableMemory } from './lib/load.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const running = new Set<ChildProcess>();
// A bench that stops half-way must not leave a gateway holding 1,000 ports.
process.once('exit', () => {
  for (const c of running) c.kill('SIGKILL');
});

export interface PortsRun {
  ports: number;
  /** spawn to the "portcullis started" line, ms */
  startMs: number;
  /** the process's own figure: store open to gateway started, ms */
  selfMs: number;
  rssKb: number;
  pssKb: number;
  /** memory had settled when read (false: still moving after the wait allowed) */
  steady: boolean;
}

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen({ port, host: '127.0.0.1', exclusive: true }, () => s.close(() => resolve(true)));
  });
}

/**
 * `n` consecutive ports free right now, below Linux's ephemeral range
 * (32768-60999) so outgoing connections of the other runs do not take them.
 */
export async function freeRange(n: number): Promise<number[]> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * (32_000 - n - 20_000));
    const ports = Array.from({ length: n }, (_, i) => base + i);
    let free = true;
    for (let i = 0; i < ports.length && free; i += 100) {
      const ok = await Promise.all(ports.slice(i, i + 100).map(canBind));
      free = ok.every(Boolean);
    }
    if (free) return ports;
  }
  throw new Error(`no ${n} consecutive free ports found between 20000 and 32000`);
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ port, host: '127.0.0.1' });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

export interface SeededDir {
  dir: string;
  ports: number[];
  remove(): void;
}

/** Data directories with `n` bound ports each (seeded in one child process). */
export async function seedPorts(sizes: number[]): Promise<SeededDir[]> {
  const dirs: SeededDir[] = [];
  const taken = new Set<number>();
  for (const n of sizes) {
    const dir = mkdtempSync(path.join(os.tmpdir(), `pc-bench-ports-${n}-`));
    let ports = await freeRange(n);
    // Two ranges may meet; they are never bound at the same time, but keep them apart anyway.
    while (ports.some((p) => taken.has(p))) ports = await freeRange(n);
    for (const p of ports) taken.add(p);
    dirs.push({ dir, ports, remove: () => rmSync(dir, { recursive: true, force: true }) });
  }
  try {
    await promisify(execFile)(
      process.execPath,
      [path.join(import.meta.dirname, 'ports-child.ts'), ...dirs.flatMap((d) => [d.dir, d.ports.join(',')])],
      { cwd: ROOT, timeout: 300_000, env: storeFreeEnv() },
    );
  } catch (err) {
    for (const d of dirs) d.remove();
    throw err;
  }
  return dirs;
}

/** The bench's environment without DATABASE_URL/REDIS_URL: these runs use the embedded store. */
function storeFreeEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.DATABASE_URL;
  delete env.REDIS_URL;
  return env;
}

/**
 * Starts `portcullis up --role gateway` over a seeded directory, measures, stops it.
 * Memory is read once steady, waiting at most `settleMs`.
 */
export async function measureStart(seeded: SeededDir, settleMs = 15_000): Promise<PortsRun> {
  const t0 = performance.now();
  const child = spawn(process.execPath, [path.join(ROOT, 'src', 'main.ts'), 'up'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...storeFreeEnv(),
      PORTCULLIS_DATA_DIR: seeded.dir,
      PORTCULLIS_ROLE: 'gateway',
      PORTCULLIS_GATEWAY_HOST: '127.0.0.1',
      PORTCULLIS_HEALTH_INTERVAL: '1h',
      PORTCULLIS_LOG_LEVEL: 'info',
    },
  });
  running.add(child);
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      running.delete(child);
      resolve();
    }),
  );
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  try {
    const selfMs = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no "portcullis started" within 120 s')), 120_000);
      createInterface({ input: child.stdout }).on('line', (l) => {
        if (!l.includes('portcullis started')) return;
        clearTimeout(timer);
        resolve((JSON.parse(l) as { ms: number }).ms);
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`portcullis up exited with ${code}: ${stderr.slice(-500)}`));
      });
    });
    const startMs = performance.now() - t0;
    let refused = 0;
    for (let i = 0; i < seeded.ports.length; i += 100) {
      const ok = await Promise.all(seeded.ports.slice(i, i + 100).map(accepts));
      refused += ok.filter((x) => !x).length;
    }
    if (refused)
      throw new Error(`${refused} of ${seeded.ports.length} ports refused connections after start-up`);
    const mem = await stableMemory(child.pid!, settleMs);
    return {
      ports: seeded.ports.length,
      startMs,
      selfMs,
      rssKb: mem.rssKb,
      pssKb: mem.pssTreeKb,
      steady: mem.steady ?? false,
    };
  } finally {
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(t);
  }
}
