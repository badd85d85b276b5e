// `portcullis up` as a child process (src/main.ts under this Node, with the
// heap flags of npm start) with a clean environment: only what the caller
// gives plus PATH. Output (stdout and stderr) is collected for failure
// messages. Every child started here is SIGKILLed if the test process exits
// without stopping it.
import { type ChildProcess, spawn } from 'node:child_process';
import net from 'node:net';
import { HEAP_FLAGS } from '../../src/heap.ts';
import { MAIN } from '../cli/run.ts';

export interface UpChild {
  proc: ChildProcess;
  /** everything the child wrote so far, stdout and stderr */
  out(): string;
  /** resolves with the exit code (null when killed by a signal) once the child has exited */
  exited: Promise<number | null>;
}

const children = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

/** Spawns `portcullis up` (or other `args`) without waiting for anything. */
export function spawnUp(env: Record<string, string>, args: string[] = ['up']): UpChild {
  // with the heap flags, as `npm start` and the portcullis command run it
  const proc = spawn(process.execPath, [...HEAP_FLAGS, MAIN, ...args], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(proc);
  let out = '';
  const collect = (d: string) => {
    out += d;
  };
  proc.stdout!.setEncoding('utf8').on('data', collect);
  proc.stderr!.setEncoding('utf8').on('data', collect);
  const exited = new Promise<number | null>((resolve) =>
    proc.once('exit', (code) => {
      children.delete(proc);
      resolve(code);
    }),
  );
  return { proc, out: () => out, exited };
}

/**
 * Starts `portcullis up` and resolves once it logged "portcullis started"
 * (needs PORTCULLIS_LOG_LEVEL info or lower); rejects with its output if it
 * exits first or takes longer than `ms`.
 */
export async function startUp(env: Record<string, string>, ms = 60_000): Promise<UpChild> {
  const c = spawnUp(env);
  let timer: NodeJS.Timeout | undefined;
  let poll: NodeJS.Timeout | undefined;
  let done = false;
  try {
    await Promise.race([
      new Promise<void>((resolve) => {
        poll = setInterval(() => {
          if (c.out().includes('"portcullis started"')) resolve();
        }, 20);
      }),
      new Promise<never>((_, reject) => {
        c.exited.then((code) => {
          if (!done) reject(new Error(`portcullis up exited ${code}:\n${c.out()}`));
        });
      }),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`portcullis up did not start in ${ms} ms:\n${c.out()}`)),
          ms,
        );
      }),
    ]);
  } catch (e) {
    c.proc.kill('SIGKILL');
    throw e;
  } finally {
    done = true;
    clearTimeout(timer);
    clearInterval(poll);
  }
  return c;
}

/** SIGTERM (graceful stop), SIGKILL after `graceMs`; resolves with the exit code. */
export async function stopUp(c: UpChild, graceMs = 15_000): Promise<number | null> {
  if (c.proc.exitCode !== null || c.proc.signalCode !== null) return c.proc.exitCode;
  c.proc.kill('SIGTERM');
  const t = setTimeout(() => c.proc.kill('SIGKILL'), graceMs);
  const code = await c.exited;
  clearTimeout(t);
  return code;
}

/** SIGKILL, then waits for the exit. */
export async function killUp(c: UpChild): Promise<void> {
  if (c.proc.exitCode !== null || c.proc.signalCode !== null) return;
  c.proc.kill('SIGKILL');
  await c.exited;
}

/** `n` consecutive loopback ports free right now (for PORTCULLIS_PORTS ranges). */
export async function freeRange(n: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20000 + Math.floor(Math.random() * 30000);
    const servers: net.Server[] = [];
    let ok = true;
    for (let p = base; p < base + n && ok; p++) {
      const s = net.createServer();
      ok = await new Promise<boolean>((r) => {
        s.once('error', () => r(false));
        s.listen(p, '127.0.0.1', () => r(true));
      });
      if (ok) servers.push(s);
    }
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    if (ok) return base;
  }
  throw new Error('no free port range');
}
