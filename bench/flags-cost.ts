// Rates and CPU of gateways started with different Node flags: one gateway
// process per variant (as the bench starts it, heap flags of `npm start` first,
// the variant's flags after them), alternating 3 s runs of SOCKS5 set-ups,
// CONNECT + GET and forward keep-alive requests against an nginx origin; the
// first two rounds are warm-up, medians of the rest at the end. An empty
// variant is the gateway as shipped. docs/architecture.md ("Cores", Memory)
// quotes it for the fixed young generation. Run as root to cap TIME_WAIT.
//
//   node bench/flags-cost.ts ROUNDS THREADS 'FLAGS A' 'FLAGS B' ...
//   node bench/flags-cost.ts 8 2 '' '--min-semi-space-size=0 --max-semi-space-size=0'
import { startNginx } from '../test/helpers/peers.ts';
import { buildLoadGenerator, treeCpu, tunnelRate, wrkForward } from './lib/load.ts';
import { capTimeWait } from './lib/time-wait.ts';
import { startPortcullis } from './portcullis.ts';

const [rounds, threads, ...variants] = process.argv.slice(2);
if (!rounds || !threads || variants.length === 0) {
  console.error("usage: node bench/flags-cost.ts ROUNDS THREADS 'FLAGS A' ['FLAGS B' ...]");
  process.exit(2);
}
const auth = { user: 'bench', pass: 'bench-pass.1' };
const WARM_UP = 2;

const median = (x: number[]) => [...x].sort((a, b) => a - b)[Math.floor(x.length / 2)];

const cap = capTimeWait(4096);
console.error(cap.note);
await buildLoadGenerator();
const origin = await startNginx();
const gateways = [];
for (const v of variants) {
  const pc = await startPortcullis({ user: auth, threads, nodeArgs: v.split(' ').filter(Boolean) });
  gateways.push({
    name: v || 'as shipped',
    pc,
    socks: [] as number[],
    connect: [] as number[],
    forward: [] as number[],
  });
}
try {
  for (let i = 1; i <= Number(rounds); i++) {
    const parts = [];
    for (const g of gateways) {
      const tunnel = { proxyPort: g.pc.port, targetPort: origin.port, auth, seconds: 3, conns: 50 };
      const t0 = treeCpu(g.pc.pid);
      const socks = await tunnelRate({ ...tunnel, mode: 'socks5' });
      const t1 = treeCpu(g.pc.pid);
      const connect = await tunnelRate({ ...tunnel, mode: 'connect', get: '/1k' });
      const t2 = treeCpu(g.pc.pid);
      const fwd = await wrkForward({
        ...tunnel,
        targetUrl: `http://127.0.0.1:${origin.port}/1k`,
        threads: 1,
      });
      const us = (cpuSec: number, rate: number) => Math.round((cpuSec * 1e6) / (rate * tunnel.seconds));
      parts.push(
        `[${g.name}] SOCKS5 ${Math.round(socks.rate)}/s ${us(t1 - t0, socks.rate)} µs, ` +
          `CONNECT + GET ${Math.round(connect.rate)}/s ${us(t2 - t1, connect.rate)} µs, forward ${Math.round(fwd.rate)}/s` +
          (socks.errors + connect.errors + fwd.errors
            ? ` (errors ${socks.errors + connect.errors + fwd.errors})`
            : ''),
      );
      if (i > WARM_UP) {
        g.socks.push(socks.rate);
        g.connect.push(connect.rate);
        g.forward.push(fwd.rate);
      }
    }
    console.log(`round ${i}${i <= WARM_UP ? ' (warm-up)' : ''}: ${parts.join(' | ')}`);
  }
  for (const g of gateways)
    console.log(
      `median [${g.name}]: SOCKS5 ${Math.round(median(g.socks))}/s, CONNECT + GET ${Math.round(median(g.connect))}/s, forward ${Math.round(median(g.forward))}/s`,
    );
} finally {
  for (const g of gateways) await g.pc.stop();
  await origin.stop();
  cap.restore();
}
