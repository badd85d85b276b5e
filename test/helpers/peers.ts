// Real Debian peers (squid, dante, microsocks, tinyproxy, nginx) and proxy-chain
// started on loopback for tests and for bench/. Each peer gets a free port, its
// own temp dir with its own config, pid and log files, a bounded start-up wait
// (we poll the port), and is killed and its dir removed on stop().
//
// Running as root (CI containers, this machine): squid, tinyproxy and dante drop
// privileges to an unprivileged user after binding, so the temp dir is chowned
// to that user; otherwise they cannot write their logs and pid files.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import {
  accessSync,
  chmodSync,
  chownSync,
  closeSync,
  constants,
  ftruncateSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export interface Auth {
  user: string;
  pass: string;
}

export interface Peer {
  name: string;
  port: number;
  /** proxy URL for clients: http://[user:pass@]127.0.0.1:PORT or socks5://... */
  url: string;
  /** the peer's main process (bench reads /proc/PID for memory) */
  pid: number;
  /** temp dir holding config, logs and pid file; removed by stop() */
  dir: string;
  stop(): Promise<void>;
  /** Node peers only: full garbage collection now, then the process's own memory figures */
  gc?(): Promise<NodeMemory | undefined>;
}

/** process.memoryUsage() of a Node peer, bytes */
export interface NodeMemory {
  rss: number;
  heapUsed: number;
  external: number;
}

const START_TIMEOUT_MS = 15_000;
const STOP_GRACE_MS = 2_000;
const live = new Set<ChildProcess>();
const dirs = new Set<string>();

// A test that crashes must not leave daemons behind holding ports.
process.once('exit', () => {
  for (const c of live) c.kill('SIGKILL');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const SEARCH = [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/sbin', '/usr/local/sbin'];

/** Absolute path of a binary, or a clear error naming the Debian package. */
export function findBinary(name: string, debianPackage: string): string {
  for (const dir of SEARCH) {
    if (!dir) continue;
    const p = path.join(dir, name);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {}
  }
  throw new Error(
    `${name} not found: install the Debian package "${debianPackage}" (apt-get install ${debianPackage})`,
  );
}

const isRoot = process.getuid?.() === 0;

function userIds(name: string): { uid: number; gid: number } | undefined {
  for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
    const f = line.split(':');
    if (f[0] === name) return { uid: Number(f[2]), gid: Number(f[3]) };
  }
  return undefined;
}

function groupName(gid: number): string {
  for (const line of readFileSync('/etc/group', 'utf8').split('\n')) {
    const f = line.split(':');
    if (Number(f[2]) === gid) return f[0];
  }
  return String(gid);
}

/** An ephemeral port free right now (the kernel picks it; we release it at once). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, host, () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

function makeDir(name: string, owner?: { uid: number; gid: number }): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), `pc-${name}-`));
  dirs.add(dir);
  chmodSync(dir, 0o755);
  if (owner) chownSync(dir, owner.uid, owner.gid);
  return dir;
}

function tail(file: string, lines = 15): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ port, host: '127.0.0.1' });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

interface Launch {
  name: string;
  bin: string;
  args: string[];
  dir: string;
  port: number;
  /** extra log files to show when start-up fails */
  logs?: string[];
  scheme?: 'http' | 'socks5';
  auth?: Auth;
  cwd?: string;
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
  await exited;
  clearTimeout(timer);
}

/** Spawns the peer with stdout/stderr into DIR/output.log and waits until its port accepts. */
async function launch(l: Launch): Promise<Peer> {
  const outFile = path.join(l.dir, 'output.log');
  const fd = openSync(outFile, 'a');
  const child = spawn(l.bin, l.args, { stdio: ['ignore', fd, fd], cwd: l.cwd ?? l.dir });
  closeSync(fd);
  live.add(child);
  let exitNote = '';
  child.once('exit', (code, sig) => {
    live.delete(child);
    exitNote = `exited with ${sig ?? code}`;
  });
  const stop = async (): Promise<void> => {
    await stopChild(child);
    rmSync(l.dir, { recursive: true, force: true });
    dirs.delete(l.dir);
  };
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (exitNote || Date.now() > deadline) {
      const why = exitNote || `did not accept on 127.0.0.1:${l.port} within ${START_TIMEOUT_MS} ms`;
      const logs = [outFile, ...(l.logs ?? [])].map((f) => `--- ${path.basename(f)}\n${tail(f)}`).join('\n');
      await stop();
      throw new Error(`${l.name} ${why} (${l.bin} ${l.args.join(' ')})\n${logs}`);
    }
    if (await canConnect(l.port)) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const cred = l.auth ? `${encodeURIComponent(l.auth.user)}:${encodeURIComponent(l.auth.pass)}@` : '';
  return {
    name: l.name,
    port: l.port,
    url: `${l.scheme ?? 'http'}://${cred}127.0.0.1:${l.port}`,
    pid: child.pid!,
    dir: l.dir,
    stop,
  };
}

/**
 * Retries with a fresh port when another process grabbed ours between
 * freePort() and bind; with `fixed` (a restart on the port the peer had) just that one.
 */
async function withPort(start: (port: number) => Promise<Peer>, fixed?: number): Promise<Peer> {
  if (fixed) return start(fixed);
  let last: unknown;
  for (let i = 0; i < 3; i++) {
    try {
      return await start(await freePort());
    } catch (err) {
      last = err;
      if (!/in use|bind|EADDRINUSE/i.test(String(err))) throw err;
    }
  }
  throw last;
}

/**
 * squid 5 as an HTTP forward proxy + CONNECT, no cache, optional Basic auth
 * (basic_ncsa_auth); `port` to start it again where it was (fault tests).
 */
export function startSquid(opts: { auth?: Auth; port?: number } = {}): Promise<Peer> {
  const bin = findBinary('squid', 'squid');
  const helper = '/usr/lib/squid/basic_ncsa_auth';
  const openssl = opts.auth ? findBinary('openssl', 'openssl') : '';
  if (opts.auth) accessSync(helper, constants.X_OK);
  // Debian builds squid with cache_effective_user "proxy"; as root squid switches to it.
  const owner = isRoot ? (userIds('proxy') ?? userIds('nobody')) : undefined;
  return withPort(async (port) => {
    const dir = makeDir('squid', owner);
    const lines = [
      `http_port 127.0.0.1:${port}`,
      `pid_filename ${dir}/squid.pid`,
      `cache_log ${dir}/cache.log`,
      'access_log none',
      'cache_store_log none',
      'cache deny all',
      'cache_mem 8 MB',
      `coredump_dir ${dir}`,
      'netdb_filename none',
      'shutdown_lifetime 0 seconds',
      'max_filedescriptors 16384',
      'visible_hostname portcullis-test-squid',
    ];
    if (owner)
      lines.push(
        `cache_effective_user ${userName(owner.uid)}`,
        `cache_effective_group ${groupName(owner.gid)}`,
      );
    if (opts.auth) {
      const hash = execFileSync(openssl, ['passwd', '-apr1', opts.auth.pass], { encoding: 'utf8' }).trim();
      writeFileSync(`${dir}/passwd`, `${opts.auth.user}:${hash}\n`, { mode: 0o644 });
      lines.push(
        `auth_param basic program ${helper} ${dir}/passwd`,
        'auth_param basic children 2 startup=1 idle=1',
        'auth_param basic realm squid',
        'acl authed proxy_auth REQUIRED',
        'http_access deny !authed',
      );
    }
    // Tests and bench dial loopback origins on any port, CONNECT included.
    lines.push('http_access allow localhost', 'http_access deny all');
    writeFileSync(`${dir}/squid.conf`, lines.join('\n') + '\n');
    if (owner) chownTree(dir, owner);
    return launch({
      name: 'squid',
      bin,
      args: ['-N', '-f', `${dir}/squid.conf`],
      dir,
      port,
      logs: [`${dir}/cache.log`],
      auth: opts.auth,
    });
  }, opts.port);
}

function userName(uid: number): string {
  for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
    const f = line.split(':');
    if (Number(f[2]) === uid) return f[0];
  }
  return String(uid);
}

function chownTree(dir: string, owner: { uid: number; gid: number }): void {
  execFileSync('chown', ['-R', `${owner.uid}:${owner.gid}`, dir]);
}

/**
 * dante (danted) as a SOCKS5 server without authentication. Dante's username
 * method checks system accounts (getpwnam/shadow or PAM), so a test would have
 * to create Unix users; use startMicrosocks({ auth }) for RFC 1929 instead.
 */
export function startDante(opts: { auth?: Auth } = {}): Promise<Peer> {
  if (opts.auth) {
    throw new Error(
      'startDante: username auth needs system accounts (dante checks /etc/shadow or PAM); use startMicrosocks({ auth }) for authenticated SOCKS5',
    );
  }
  const bin = findBinary('danted', 'dante-server');
  const owner = isRoot ? userIds('nobody') : undefined;
  return withPort(async (port) => {
    const dir = makeDir('dante', owner);
    const lines = [
      `logoutput: ${dir}/danted.log`,
      `internal: 127.0.0.1 port = ${port}`,
      'external: 127.0.0.1',
      'clientmethod: none',
      'socksmethod: none',
      ...(isRoot ? ['user.privileged: root', 'user.unprivileged: nobody'] : []),
      // Dante's parser wants each rule keyword on its own line.
      'client pass {\n  from: 127.0.0.0/8 to: 0.0.0.0/0\n  log: error\n}',
      'socks pass {\n  from: 127.0.0.0/8 to: 0.0.0.0/0\n  command: connect\n  log: error\n}',
    ];
    writeFileSync(`${dir}/danted.conf`, lines.join('\n') + '\n');
    return launch({
      name: 'dante',
      bin,
      args: ['-f', `${dir}/danted.conf`, '-p', `${dir}/danted.pid`],
      dir,
      port,
      logs: [`${dir}/danted.log`],
      scheme: 'socks5',
    });
  });
}

/** microsocks: a tiny SOCKS5 server (thread per connection); `auth` turns on RFC 1929; `port` as for squid. */
export function startMicrosocks(opts: { auth?: Auth; port?: number } = {}): Promise<Peer> {
  const bin = findBinary('microsocks', 'microsocks');
  return withPort(async (port) => {
    const dir = makeDir('microsocks');
    const args = ['-i', '127.0.0.1', '-p', String(port)];
    if (opts.auth) args.push('-u', opts.auth.user, '-P', opts.auth.pass);
    return launch({ name: 'microsocks', bin, args, dir, port, scheme: 'socks5', auth: opts.auth });
  }, opts.port);
}

/** tinyproxy 1.11: HTTP forward proxy + CONNECT to any port; optional BasicAuth. */
export function startTinyproxy(opts: { auth?: Auth } = {}): Promise<Peer> {
  const bin = findBinary('tinyproxy', 'tinyproxy');
  // tinyproxy's config grammar takes only [-a-z0-9._] in BasicAuth names and passwords.
  const plain = /^[-a-zA-Z0-9._]+$/;
  if (opts.auth && !(plain.test(opts.auth.user) && plain.test(opts.auth.pass))) {
    throw new Error(
      'startTinyproxy: BasicAuth user and password may hold only letters, digits, "-", "." and "_"',
    );
  }
  const owner = isRoot ? userIds('nobody') : undefined;
  return withPort(async (port) => {
    const dir = makeDir('tinyproxy', owner);
    const lines = [
      `Port ${port}`,
      'Listen 127.0.0.1',
      'Timeout 600',
      'MaxClients 12000',
      'Allow 127.0.0.1',
      `PidFile "${dir}/tinyproxy.pid"`,
      `LogFile "${dir}/tinyproxy.log"`,
      'LogLevel Error',
      'DisableViaHeader Yes',
      // No ConnectPort line: tinyproxy then allows CONNECT to every port.
    ];
    if (owner) lines.push(`User ${userName(owner.uid)}`, `Group ${groupName(owner.gid)}`);
    if (opts.auth) lines.push(`BasicAuth ${opts.auth.user} ${opts.auth.pass}`);
    writeFileSync(`${dir}/tinyproxy.conf`, lines.join('\n') + '\n');
    return launch({
      name: 'tinyproxy',
      bin,
      args: ['-d', '-c', `${dir}/tinyproxy.conf`],
      dir,
      port,
      logs: [`${dir}/tinyproxy.log`],
      auth: opts.auth,
    });
  });
}

const REAL_LIMIT = 256 << 20;

/**
 * Writes `size` bytes of 'a'. Up to 256 MiB the bytes are real, so they sit in the
 * page cache (reading a sparse hole costs nginx a zeroed page per read: 370 MB/s
 * here instead of several GB/s); above that the file is sparse to spare the disk.
 */
function writeFile(file: string, size: number): void {
  const fd = openSync(file, 'w', 0o644);
  try {
    if (size > REAL_LIMIT) {
      ftruncateSync(fd, size);
      return;
    }
    const chunk = Buffer.alloc(Math.min(size, 1 << 20), 0x61);
    for (let left = size; left > 0; left -= chunk.length)
      writeSync(fd, chunk, 0, Math.min(left, chunk.length));
  } finally {
    closeSync(fd);
  }
}

export interface NginxOrigin extends Peer {
  /** URL of a served file, e.g. file('1k') -> http://127.0.0.1:PORT/1k */
  file(name: string): string;
}

/**
 * nginx as a static origin (bench): `files` maps a name to a size in bytes.
 * One worker, keep-alive without a request cap.
 */
export async function startNginx(
  opts: { files?: Record<string, number>; workers?: number } = {},
): Promise<NginxOrigin> {
  const bin = findBinary('nginx', 'nginx-light');
  const files = opts.files ?? { '1k': 1024 };
  const peer = await withPort(async (port) => {
    const dir = makeDir('nginx');
    mkdirSync(`${dir}/www`, { mode: 0o755 });
    mkdirSync(`${dir}/tmp`, { mode: 0o755 });
    for (const [name, size] of Object.entries(files)) writeFile(`${dir}/www/${name}`, size);
    const conf = `
daemon off;
master_process ${opts.workers && opts.workers > 1 ? 'on' : 'off'};
worker_processes ${opts.workers ?? 1};
worker_rlimit_nofile 16384;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 16000; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_timeout 300s;
  keepalive_requests 100000000;
  default_type application/octet-stream;
  client_body_temp_path ${dir}/tmp/body;
  proxy_temp_path ${dir}/tmp/proxy;
  fastcgi_temp_path ${dir}/tmp/fastcgi;
  uwsgi_temp_path ${dir}/tmp/uwsgi;
  scgi_temp_path ${dir}/tmp/scgi;
  server {
    listen 127.0.0.1:${port} backlog=4096;
    root ${dir}/www;
  }
}
`;
    writeFileSync(`${dir}/nginx.conf`, conf);
    return launch({
      name: 'nginx',
      bin,
      args: ['-p', dir, '-e', `${dir}/error.log`, '-c', `${dir}/nginx.conf`],
      dir,
      port,
      logs: [`${dir}/error.log`],
    });
  });
  return { ...peer, file: (name: string) => `http://127.0.0.1:${peer.port}/${name}` };
}

const PROXY_CHAIN_CHILD = `
import { Server } from 'proxy-chain';
import { writeFileSync } from 'node:fs';
const [port, memFile, user, pass] = process.argv.slice(1);
const server = new Server({
  port: Number(port),
  host: '127.0.0.1',
  verbose: false,
  prepareRequestFunction: user
    ? ({ username, password }) => ({ requestAuthentication: username !== user || password !== pass })
    : undefined,
});
await server.listen();
// The bench reads memory after SIGUSR2: collect garbage (node --expose-gc), report the heap.
process.on('SIGUSR2', () => {
  globalThis.gc?.();
  writeFileSync(memFile, JSON.stringify(process.memoryUsage()));
});
`;

/** proxy-chain (apify, Node) Server as a child process, so it has its own pid and CPU. */
export function startProxyChain(opts: { auth?: Auth } = {}): Promise<Peer> {
  const root = path.resolve(import.meta.dirname, '../..');
  return withPort(async (port) => {
    const dir = makeDir('proxy-chain');
    const memFile = path.join(dir, 'memory.json');
    const args = ['--expose-gc', '--input-type=module', '-e', PROXY_CHAIN_CHILD, String(port), memFile];
    if (opts.auth) args.push(opts.auth.user, opts.auth.pass);
    const peer = await launch({
      name: 'proxy-chain',
      bin: process.execPath,
      args,
      dir,
      port,
      auth: opts.auth,
      cwd: root,
    });
    return { ...peer, gc: () => signalGc(peer.pid, memFile) };
  });
}

/**
 * Asks a Node child that handles SIGUSR2 (gc(), then process.memoryUsage() written
 * as JSON to `memFile`) to collect, and returns what it wrote.
 */
export async function signalGc(pid: number, memFile: string): Promise<NodeMemory | undefined> {
  rmSync(memFile, { force: true });
  process.kill(pid, 'SIGUSR2');
  for (let i = 0; i < 50; i++) {
    await new Promise((r) => setTimeout(r, 100));
    try {
      return JSON.parse(readFileSync(memFile, 'utf8')) as NodeMemory;
    } catch {}
  }
  return undefined;
}
