// Starts the Portcullis gateway for the bench in its OWN process (so its RSS per
// idle tunnel and its CPU are its own, not the bench runner's): bench/portcullis-
// child.ts builds it with the gateway test harness (fresh store, in-memory live
// state, a limit-free customer with `auth`, one port bound to the `direct`
// upstream, egress allowed to 127.0.0.0/8) and prints the bound port.
//
// HOOK (lead): when `portcullis up` is the way to run it, this is the one place to
// change; keep the contract: one port speaking HTTP forward, CONNECT and SOCKS5
// with authentication ON, upstream `direct`, and a Peer whose pid is the gateway.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { type Auth, type Peer, signalGc } from '../test/helpers/peers.ts';

export interface PortcullisBenchOptions {
  /** credentials of the limit-free customer the bench authenticates as */
  auth: Auth;
  originPort: number;
}

// PGlite initdb in WASM takes ~8 s on an idle 2-core machine and far longer on a busy one.
const START_TIMEOUT_MS = 90_000;

export async function startPortcullis(opts: PortcullisBenchOptions): Promise<Peer | null> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pc-portcullis-bench-'));
  const memFile = path.join(dir, 'memory.json');
  const child = spawn(
    process.execPath,
    [
      '--expose-gc',
      path.join(import.meta.dirname, 'portcullis-child.ts'),
      opts.auth.user,
      opts.auth.pass,
      memFile,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'], cwd: path.resolve(import.meta.dirname, '..') },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const ready = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`gateway not ready within ${START_TIMEOUT_MS} ms`)),
      START_TIMEOUT_MS,
    );
    createInterface({ input: child.stdout }).once('line', (l) => {
      clearTimeout(timer);
      resolve(l);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`gateway exited with ${code} before it was ready`));
    });
  });
  let first: string;
  try {
    first = await ready;
  } catch (err) {
    // A half-started gateway would keep the bench (and its stdout pipe) alive forever.
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const { port } = JSON.parse(first) as { port: number };
  return {
    name: 'portcullis',
    port,
    url: `http://${opts.auth.user}:${opts.auth.pass}@127.0.0.1:${port}`,
    pid: child.pid!,
    dir,
    gc: () => signalGc(child.pid!, memFile),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(t);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
