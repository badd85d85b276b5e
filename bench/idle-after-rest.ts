// Memory per idle tunnel after the gateway has rested, as the full bench reads
// it (bench/run.ts measures idle tunnels last, minutes after a system's last
// load): one gateway process as the bench starts it, 12 s of SOCKS5 and
// CONNECT set-ups, WAIT seconds without load (PSS printed every 30 s), then
// 5,000 idle CONNECT tunnels. Extra arguments are Node flags for the gateway,
// after the heap flags `npm start` passes (src/heap.ts), so they can override
// them: docs/architecture.md ("Cores", Memory) quotes runs with V8's own
// young-generation sizing (`--min-semi-space-size=0 --max-semi-space-size=0`).
// Run as root to cap TIME_WAIT like the bench does.
//
//   node bench/idle-after-rest.ts [WAIT=150] [THREADS=2] [NODE FLAGS...]

import { startNginx } from '../test/helpers/peers.ts';
import { buildLoadGenerator, idleMemory, proxyMemory, tunnelRate } from './lib/load.ts';
import { capTimeWait } from './lib/time-wait.ts';
import { startPortcullis } from './portcullis.ts';

const wait = Number(process.argv[2] ?? 150);
const threads = process.argv[3] ?? '2';
const nodeArgs = process.argv.slice(4);
const auth = { user: 'bench', pass: 'bench-pass.1' };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const cap = capTimeWait(4096);
console.error(cap.note);
await buildLoadGenerator();
const origin = await startNginx();
const pc = await startPortcullis({ user: auth, threads, nodeArgs });
const pssMb = () => Math.round(proxyMemory(pc.pid).pssTreeKb / 1024);
const tunnel = { proxyPort: pc.port, targetPort: origin.port, auth, seconds: 3, conns: 50 };
try {
  const rates: string[] = [];
  for (let i = 0; i < 2; i++) {
    const socks = await tunnelRate({ ...tunnel, mode: 'socks5' });
    const connect = await tunnelRate({ ...tunnel, mode: 'connect', get: '/1k' });
    rates.push(`SOCKS5 ${Math.round(socks.rate)}/s, CONNECT + GET ${Math.round(connect.rate)}/s`);
  }
  console.log(`load: ${rates.join('; ')}; PSS after load ${pssMb()} MB`);
  for (let t = 30; t <= wait; t += 30) {
    await sleep(30_000);
    console.log(`idle ${t} s: PSS ${pssMb()} MB`);
  }
  const r = await idleMemory({ ...tunnel, mode: 'connect', pid: pc.pid, tunnels: 5000, gc: pc.gc });
  const mb = (kb: number) => Math.round(kb / 1024);
  console.log(
    `${r.established} idle tunnels: PSS ${mb(r.before.pssTreeKb)} -> ${mb(r.after.pssTreeKb)} MB, ` +
      `+${r.kbPerTunnel.toFixed(1)} KB/tunnel; V8 heap + external +${r.heapKbPerTunnel?.toFixed(1)} KB/tunnel`,
  );
} finally {
  await pc.stop();
  await origin.stop();
  cap.restore();
}
