// Services of our own for the fault tests, so a fault never touches what other
// tests share (the PostgreSQL and Redis of the machine):
//
// - startRedis(): a redis-server child on a free loopback port that keeps
//   nothing (--save '' --appendonly no); kill() and start() again on the same
//   port, as a crash and a restart of the service.
// - startPgCluster(): a PostgreSQL cluster of its own (initdb + pg_ctl as the
//   `postgres` user in a temp dir), stopped and started on the same port.
// - startBlackHole(): an address that never answers: a listening socket whose
//   accept queue is full and never drained, so the kernel drops further SYNs
//   and a connect hangs until the caller's deadline.
// - startSilent(): accepts TCP but never sends a byte.
// - startTrickle(ms): a SOCKS5 upstream that answers each handshake step
//   correctly, but only after `ms`.
//
// Each is bounded (start-up waits are capped), and everything is killed and
// removed by stop(), or when the test process exits.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { accessSync, chownSync, constants, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { findBinary, freePort } from '../helpers/peers.ts';

const run = promisify(execFile);
const START_MS = 15_000;

const children = new Set<ChildProcess>();
const dirs = new Set<string>();
const clusters = new Set<() => void>();
process.once('exit', () => {
  for (const c of children) c.kill('SIGKILL');
  for (const stop of clusters) stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

export function canConnect(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ port, host });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

async function waitFor(cond: () => Promise<boolean>, what: string, ms = START_MS): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`${what} not ready in ${ms} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

function track(c: ChildProcess): Promise<void> {
  children.add(c);
  return new Promise((resolve) =>
    c.once('exit', () => {
      children.delete(c);
      resolve();
    }),
  );
}

export interface OwnRedis {
  port: number;
  url: string;
  readonly running: boolean;
  /** SIGKILL: a crash; everything it held is gone (no persistence) */
  kill(): Promise<void>;
  /** starts it again on the same port and waits until it answers */
  start(): Promise<void>;
  stop(): Promise<void>;
}

export async function startRedis(): Promise<OwnRedis> {
  const bin = findBinary('redis-server', 'redis-server');
  const port = await freePort();
  let child: ChildProcess | null = null;
  let exited: Promise<void> = Promise.resolve();
  let log = '';
  const start = async (): Promise<void> => {
    log = '';
    const c = spawn(
      bin,
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--logfile', ''],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    c.stdout!.setEncoding('utf8').on('data', (d: string) => {
      log += d;
    });
    c.stderr!.setEncoding('utf8').on('data', (d: string) => {
      log += d;
    });
    child = c;
    exited = track(c);
    await waitFor(async () => {
      if (c.exitCode !== null) throw new Error(`redis-server exited ${c.exitCode}:\n${log}`);
      return canConnect(port);
    }, 'redis-server');
  };
  const kill = async (): Promise<void> => {
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGKILL');
    await exited;
    child = null;
  };
  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    get running() {
      return child !== null;
    },
    kill,
    start,
    stop: kill,
  };
}

export interface PgCluster {
  port: number;
  /** URL of the `postgres` database (create your own inside) */
  url: string;
  /** pg_ctl stop -m immediate: the server goes away at once, like a crash */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** stops the server and removes its directory */
  destroy(): Promise<void>;
}

function pgBin(name: string): string {
  for (const v of ['17', '16', '15']) {
    const p = `/usr/lib/postgresql/${v}/bin/${name}`;
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {}
  }
  return findBinary(name, 'postgresql');
}

function postgresUser(): { uid: number; gid: number } {
  for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
    const f = line.split(':');
    if (f[0] === 'postgres') return { uid: Number(f[2]), gid: Number(f[3]) };
  }
  throw new Error('no "postgres" user on this machine (install the Debian package "postgresql")');
}

/** A PostgreSQL cluster of our own: trust auth, no fsync, loopback only. */
export async function startPgCluster(): Promise<PgCluster> {
  const initdb = pgBin('initdb');
  const pgCtl = pgBin('pg_ctl');
  const owner = postgresUser();
  const dir = mkdtempSync(join(tmpdir(), 'pc-pgc-'));
  dirs.add(dir);
  chownSync(dir, owner.uid, owner.gid);
  const data = join(dir, 'data');
  const asPostgres = (bin: string, args: string[]) =>
    process.getuid?.() === 0 ? run('runuser', ['-u', 'postgres', '--', bin, ...args]) : run(bin, args);
  await asPostgres(initdb, ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
  let port = 0;
  let up = false;
  const start = async (): Promise<void> => {
    await asPostgres(pgCtl, [
      '-D',
      data,
      '-l',
      join(dir, 'log'),
      '-w',
      '-t',
      '30',
      '-o',
      `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off`,
      'start',
    ]).catch((e: Error) => {
      let tail = '';
      try {
        tail = readFileSync(join(dir, 'log'), 'utf8').split('\n').slice(-10).join('\n');
      } catch {}
      throw new Error(`pg_ctl start failed: ${e.message}\n${tail}`);
    });
    up = true;
  };
  const stop = async (): Promise<void> => {
    if (!up) return;
    await asPostgres(pgCtl, ['-D', data, '-m', 'immediate', '-w', 'stop']);
    up = false;
  };
  const emergency = () => {
    if (!up) return;
    try {
      const pid = Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
      if (pid > 0) process.kill(pid, 'SIGQUIT');
    } catch {}
  };
  clusters.add(emergency);
  // A port taken between freePort() and bind: try another.
  for (let i = 0; ; i++) {
    port = await freePort();
    try {
      await start();
      break;
    } catch (e) {
      if (i >= 2 || !/already in use|could not bind|could not create/i.test(String(e))) {
        rmSync(dir, { recursive: true, force: true });
        dirs.delete(dir);
        clusters.delete(emergency);
        throw e;
      }
    }
  }
  return {
    port,
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    stop,
    start,
    async destroy() {
      await stop().catch(() => emergency());
      clusters.delete(emergency);
      rmSync(dir, { recursive: true, force: true });
      dirs.delete(dir);
    },
  };
}

export interface Hole {
  port: number;
  close(): Promise<void>;
}

const HOLE_CHILD = `
const net = require('node:net');
const s = net.createServer();
s.listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => {
  const port = s.address().port;
  // Connects to ourselves to fill the accept queue: each is issued on a
  // next tick, which run in order, so by the last tick all were issued; then
  // the event loop blocks for good before it could accept anything.
  for (let i = 0; i < 8; i++) net.connect({ port, host: '127.0.0.1' }).on('error', () => {});
  process.nextTick(() => {
    process.stdout.write(port + '\\n');
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
  });
});
`;

function connectsWithin(port: number, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ port, host: '127.0.0.1' });
    s.on('error', () => {});
    const t = setTimeout(() => {
      s.destroy();
      resolve(false);
    }, ms);
    s.once('connect', () => {
      clearTimeout(t);
      s.destroy();
      resolve(true);
    });
  });
}

/**
 * A loopback port that drops SYNs: a child process listens with a backlog of
 * 1, fills its own accept queue and never accepts (its event loop is
 * blocked). The kernel drops SYNs to a listener whose accept queue is full,
 * so every new connect stays in SYN_SENT until the caller gives up. The
 * queued connections belong to the child, not to the test process.
 */
export async function startBlackHole(): Promise<Hole> {
  const c = spawn(process.execPath, ['-e', HOLE_CHILD], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = track(c);
  const port = await new Promise<number>((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error('black hole did not start')), START_MS);
    c.stdout!.setEncoding('utf8').on('data', (d: string) => {
      buf += d;
      if (buf.includes('\n')) {
        clearTimeout(timer);
        resolve(Number(buf.trim()));
      }
    });
  });
  if (await connectsWithin(port, 500)) {
    c.kill('SIGKILL');
    await exited;
    throw new Error('the black hole accepted a connection: its accept queue did not fill');
  }
  return {
    port,
    async close() {
      c.kill('SIGKILL');
      await exited;
    },
  };
}

/** Accepts connections and never answers (and never closes them until close()). */
export async function startSilent(): Promise<Hole & { accepted: number }> {
  const sockets = new Set<net.Socket>();
  let accepted = 0;
  const server = net.createServer((s) => {
    accepted++;
    sockets.add(s);
    s.on('error', () => {});
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    port: (server.address() as net.AddressInfo).port,
    get accepted() {
      return accepted;
    },
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

/**
 * A SOCKS5 upstream that answers every handshake step correctly (method
 * username/password, credentials accepted, CONNECT succeeded) but each only
 * after `stepMs`: each step within a per-step timeout, the whole over it.
 */
export async function startTrickle(stepMs: number): Promise<Hole & { replied: number }> {
  const sockets = new Set<net.Socket>();
  const timers = new Set<NodeJS.Timeout>();
  let replied = 0;
  const REPLIES = [Buffer.from([5, 2]), Buffer.from([1, 0]), Buffer.from([5, 0, 0, 1, 127, 0, 0, 1, 0, 80])];
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('error', () => {});
    s.on('close', () => sockets.delete(s));
    let step = 0;
    s.on('data', () => {
      const reply = REPLIES[step++];
      if (reply === undefined) return;
      const t = setTimeout(() => {
        timers.delete(t);
        if (s.destroyed) return;
        replied++;
        s.write(reply);
      }, stepMs);
      timers.add(t);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    port: (server.address() as net.AddressInfo).port,
    get replied() {
      return replied;
    },
    async close() {
      for (const t of timers) clearTimeout(t);
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
