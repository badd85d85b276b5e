// Starts the Portcullis gateway for the bench in its OWN process (so its RSS per
// idle tunnel and its CPU are its own, not the bench runner's): bench/portcullis-
// child.ts builds it with the gateway test harness (fresh store, in-memory live
// state, egress allowed to 127.0.0.0/8) and prints the bound ports.
//
// One process serves every Portcullis row of the run, so they differ only in
// what the row measures: the limit-free customer on the `direct` port (the main
// row), the customer with every limit configured on the same port (enforcement
// on), and the limit-free customer on a port chained through an HTTP upstream.
// Node runs with the heap flags `npm start` passes (src/heap.ts).
//
// HOOK (lead): when `portcullis up` is the way to run it, this is the one place to
// change; keep the contract: ports speaking HTTP forward, CONNECT and SOCKS5 with
// authentication ON, and a pid that is the gateway.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { HEAP_FLAGS } from '../src/heap.ts';
import { type Auth, type NodeMemory, signalGc } from '../test/helpers/peers.ts';

export interface ChildSpec {
  /** the limit-free customer */
  user: Auth;
  /** a customer whose plan has every limit configured (none reachable) */
  limited?: Auth;
  /** bind a second port to this HTTP upstream proxy, with these credentials */
  chain?: Auth & { port: number };
  memFile: string;
  /** PORTCULLIS_GATEWAY_THREADS of the gateway (default 1) */
  threads?: string;
}

export interface PortcullisBench {
  pid: number;
  /** bound to the `direct` upstream */
  port: number;
  /** bound to the chained HTTP upstream, when asked */
  chainPort?: number;
  gc(): Promise<NodeMemory | undefined>;
  stop(): Promise<void>;
}

// PGlite in WASM takes seconds to start on an idle 2-core machine and far longer on a busy one.
const START_TIMEOUT_MS = 90_000;

export async function startPortcullis(
  // nodeArgs: more Node flags (probes); after the heap flags, so they can override them
  opts: Omit<ChildSpec, 'memFile'> & { nodeArgs?: string[] },
): Promise<PortcullisBench> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pc-portcullis-bench-'));
  // A bench that stops half-way (Ctrl-C) exits without stop(): leave no temp dir behind.
  const cleanup = () => rmSync(dir, { recursive: true, force: true });
  process.once('exit', cleanup);
  const { nodeArgs = [], ...rest } = opts;
  const spec: ChildSpec = { ...rest, memFile: path.join(dir, 'memory.json') };
  const child = spawn(
    process.execPath,
    [
      ...HEAP_FLAGS,
      ...nodeArgs,
      '--expose-gc',
      path.join(import.meta.dirname, 'portcullis-child.ts'),
      JSON.stringify(spec),
    ],
    // stdin is a pipe the child watches: when the bench dies, the gateway stops too.
    { stdio: ['pipe', 'pipe', 'inherit'], cwd: path.resolve(import.meta.dirname, '..') },
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
  const { port, chainPort } = JSON.parse(first) as { port: number; chainPort?: number };
  return {
    port,
    chainPort,
    pid: child.pid!,
    gc: () => signalGc(child.pid!, spec.memFile),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(t);
      }
      cleanup();
      process.off('exit', cleanup);
    },
  };
}
