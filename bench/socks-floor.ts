// How far Portcullis's SOCKS5 set-ups are from what Node itself allows:
// alternating 2 s runs of connect-bench (50 clients, nginx origin) against
//   - a bare Node SOCKS5 relay (lib/bare-socks.ts), two processes on one port
//     (SO_REUSEPORT), so it uses both cores as the gateway's two threads do;
//   - the gateway as the bench starts it (authentication on, two threads);
//   - microsocks without authentication (issue 3's reference).
// Prints each round and, after the first two (warm-up), the medians of
// set-ups/s and CPU µs per set-up (/proc, each process tree). Run as root to
// cap TIME_WAIT like the bench does. bench/README.md quotes a run.
//
//   node bench/socks-floor.ts [ROUNDS=10] [THREADS=2]
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { HEAP_FLAGS } from '../src/heap.ts';
import { startMicrosocks, startNginx } from '../test/helpers/peers.ts';
import { buildLoadGenerator, treeCpu, tunnelRate } from './lib/load.ts';
import { capTimeWait } from './lib/time-wait.ts';
import { startPortcullis } from './portcullis.ts';

const rounds = Number(process.argv[2] ?? 10);
const threads = process.argv[3] ?? '2';
const auth = { user: 'bench', pass: 'bench-pass.1' };
const WARM_UP_ROUNDS = 2;

function startBare(port: number): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(
    process.execPath,
    [...HEAP_FLAGS, path.join(import.meta.dirname, 'lib/bare-socks.ts'), String(port), auth.user, auth.pass],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`bare-socks exited with ${code}`)));
    createInterface({ input: child.stdout! }).once('line', (l) =>
      resolve({ child, port: (JSON.parse(l) as { port: number }).port }),
    );
  });
}

const median = (v: number[]) => [...v].sort((a, b) => a - b)[v.length >> 1];

const cap = capTimeWait(4096);
console.error(cap.note);
await buildLoadGenerator();
const origin = await startNginx();
const bareA = await startBare(0);
const bareB = await startBare(bareA.port);
const pc = await startPortcullis({ user: auth, threads });
const ms = await startMicrosocks();
const systems = [
  { name: 'bare Node relay x2', pids: [bareA.child.pid!, bareB.child.pid!], port: bareA.port, auth: true },
  { name: `portcullis + auth (${threads} thr)`, pids: [pc.pid], port: pc.port, auth: true },
  { name: 'microsocks', pids: [ms.pid], port: ms.port, auth: false },
];
const seen = new Map<string, { rate: number[]; us: number[] }>();
try {
  for (let i = 1; i <= rounds; i++) {
    const parts = [];
    for (const s of systems) {
      const cpu = () => s.pids.reduce((sum, pid) => sum + treeCpu(pid), 0);
      const c0 = cpu();
      const r = await tunnelRate({
        mode: 'socks5',
        proxyPort: s.port,
        targetPort: origin.port,
        auth: s.auth ? auth : undefined,
        seconds: 2,
        conns: 50,
      });
      const us = ((cpu() - c0) * 1e6) / (r.rate * 2);
      parts.push(`${s.name} ${Math.round(r.rate)}/s ${Math.round(us)} µs`);
      if (i > WARM_UP_ROUNDS) {
        const v = seen.get(s.name) ?? { rate: [], us: [] };
        v.rate.push(r.rate);
        v.us.push(us);
        seen.set(s.name, v);
      }
    }
    console.log(`round ${i}: ${parts.join(' | ')}`);
  }
  const ref = seen.get('microsocks');
  for (const [name, v] of seen) {
    const ratio = ref ? ` (${(median(v.rate) / median(ref.rate)).toFixed(2)}x microsocks)` : '';
    console.log(
      `median ${name}: ${Math.round(median(v.rate))}/s${ratio}, ${Math.round(median(v.us))} µs per set-up`,
    );
  }
} finally {
  bareA.child.kill();
  bareB.child.kill();
  await pc.stop();
  await ms.stop();
  await origin.stop();
  cap.restore();
}
