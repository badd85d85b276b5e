// Where a SOCKS5 set-up's CPU goes: a fresh Portcullis gateway process (as
// the bench starts it, authentication on) and microsocks (no authentication),
// alternating 2 s runs of connect-bench against an nginx origin. Prints, per
// run and system, set-ups/s and CPU µs per set-up split into user and system
// time (/proc/PID/stat of the main process). The first rows show the warm-up;
// bench/README.md "Where a SOCKS5 set-up's time goes" quotes the later ones.
// Run as root to cap TIME_WAIT like the bench does.
//
//   node bench/socks-cost.ts [ROUNDS=12] [THREADS=1[,2...]]
//
// THREADS: PORTCULLIS_GATEWAY_THREADS of the gateway; a list starts one
// gateway per value and alternates them within each round.
import { readFileSync } from 'node:fs';
import { startMicrosocks, startNginx } from '../test/helpers/peers.ts';
import { buildLoadGenerator, tunnelRate } from './lib/load.ts';
import { capTimeWait } from './lib/time-wait.ts';
import { startPortcullis } from './portcullis.ts';

const rounds = Number(process.argv[2] ?? 12);
const threadList = (process.argv[3] ?? '1').split(',');
const auth = { user: 'bench', pass: 'bench-pass.1' };

/** [user, system] clock ticks of one process (USER_HZ = 100). */
function ticks(pid: number): [number, number] {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return [Number(f[11]), Number(f[12])];
}

async function run(pid: number, port: number, originPort: number, withAuth: boolean): Promise<string> {
  const [u0, s0] = ticks(pid);
  const r = await tunnelRate({
    mode: 'socks5',
    proxyPort: port,
    targetPort: originPort,
    auth: withAuth ? auth : undefined,
    seconds: 2,
    conns: 50,
  });
  const [u1, s1] = ticks(pid);
  const n = r.rate * 2;
  const us = (t: number) => Math.round((t * 10_000) / n);
  return `${Math.round(r.rate)}/s ${us(u1 - u0 + s1 - s0)} µs (user ${us(u1 - u0)}, sys ${us(s1 - s0)})`;
}

const cap = capTimeWait(4096);
console.error(cap.note);
await buildLoadGenerator();
const origin = await startNginx();
const pcs = [];
for (const threads of threadList) pcs.push({ threads, pc: await startPortcullis({ user: auth, threads }) });
const ms = await startMicrosocks();
try {
  for (let i = 1; i <= rounds; i++) {
    const parts = [];
    for (const { threads, pc } of pcs)
      parts.push(`portcullis + auth (${threads} thr) ${await run(pc.pid, pc.port, origin.port, true)}`);
    parts.push(`microsocks ${await run(ms.pid, ms.port, origin.port, false)}`);
    console.log(`round ${i}: ${parts.join(' | ')}`);
  }
} finally {
  for (const { pc } of pcs) await pc.stop();
  await ms.stop();
  await origin.stop();
  cap.restore();
}
