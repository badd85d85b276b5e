// What enforcing issue 4's limits costs: the gateway with every limit
// configured (none reached) against the same gateway with none, on forward
// HTTP keep-alive (wrk) and CONNECT set-ups with one GET each (connect-bench).
// Runs alternate on/off so drift on a shared machine hits both alike; each
// throughput figure is the median of --repeat runs. Throughput on a shared
// machine is noisy, so the gateway's own CPU time per operation (from
// /proc/PID/stat, summed over all runs) is reported too: the steadier figure.
//
//   node bench/limits-cost.ts [--seconds 5] [--repeat 3] [--conns 50]   (BENCH_REDIS=1 REDIS_URL=... for Redis)
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { type Auth, startNginx } from '../test/helpers/peers.ts';
import { buildLoadGenerator, tunnelRate, wrkForward } from './lib/load.ts';
import { median } from './lib/report.ts';

const { values: flags } = parseArgs({
  options: {
    seconds: { type: 'string', default: '5' },
    repeat: { type: 'string', default: '3' },
    conns: { type: 'string', default: '50' },
  },
});
const seconds = Number(flags.seconds);
const repeat = Number(flags.repeat);
const conns = Number(flags.conns);
const AUTH: Auth = { user: 'bench', pass: 'bench-pass.1' };

async function gateway(mode: 'on' | 'off') {
  const child = spawn(
    process.execPath,
    [path.join(import.meta.dirname, 'limits-child.ts'), mode, AUTH.user, AUTH.pass],
    { stdio: ['ignore', 'pipe', 'inherit'], cwd: path.resolve(import.meta.dirname, '..') },
  );
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', resolve);
    child.once('exit', (c) => reject(new Error(`gateway exited with ${c}`)));
  });
  const { port } = JSON.parse(line) as { port: number };
  return {
    port,
    /** user + system CPU seconds of the gateway process so far */
    cpu(): number {
      const stat = readFileSync(`/proc/${child.pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return (Number(f[11]) + Number(f[12])) / 100;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

await buildLoadGenerator();
const origin = await startNginx({ files: { '1k': 1024 } });
const gw = { on: await gateway('on'), off: await gateway('off') };
const rates = {
  fwd: { on: [] as number[], off: [] as number[] },
  connect: { on: [] as number[], off: [] as number[] },
};
/** CPU seconds and operations, summed over runs */
const cpu = {
  fwd: { on: { s: 0, n: 0 }, off: { s: 0, n: 0 } },
  connect: { on: { s: 0, n: 0 }, off: { s: 0, n: 0 } },
};
try {
  // Warm-up, not counted: JIT, and each customer's password verified once.
  for (const g of [gw.off, gw.on]) {
    const common = { proxyPort: g.port, auth: AUTH, seconds: 1, conns };
    await wrkForward({ ...common, targetUrl: origin.file('1k'), threads: 2 });
    await tunnelRate({ ...common, mode: 'connect', targetPort: origin.port, get: '/1k' });
  }
  for (let i = 0; i < repeat; i++) {
    for (const mode of i % 2 === 0 ? (['off', 'on'] as const) : (['on', 'off'] as const)) {
      const port = gw[mode].port;
      await new Promise((r) => setTimeout(r, 500));
      let c0 = gw[mode].cpu();
      const f = await wrkForward({
        proxyPort: port,
        targetUrl: origin.file('1k'),
        auth: AUTH,
        seconds,
        conns,
        threads: 2,
      });
      cpu.fwd[mode].s += gw[mode].cpu() - c0;
      cpu.fwd[mode].n += f.ok;
      await new Promise((r) => setTimeout(r, 500));
      c0 = gw[mode].cpu();
      const c = await tunnelRate({
        mode: 'connect',
        proxyPort: port,
        targetPort: origin.port,
        auth: AUTH,
        seconds,
        conns,
        get: '/1k',
      });
      cpu.connect[mode].s += gw[mode].cpu() - c0;
      cpu.connect[mode].n += c.ok;
      rates.fwd[mode].push(f.rate);
      rates.connect[mode].push(c.rate);
      process.stderr.write(
        `run ${i + 1} ${mode}: forward ${f.rate.toFixed(0)} req/s (${f.errors} errors), ` +
          `connect+GET ${c.rate.toFixed(0)}/s (${c.errors} errors)\n`,
      );
    }
  }
} finally {
  await gw.on.stop();
  await gw.off.stop();
  await origin.stop();
}
const medians = (r: { on: number[]; off: number[] }) => ({ on: median(r.on), off: median(r.off) });
type Cpu = { on: { s: number; n: number }; off: { s: number; n: number } };
const pct = (on: number, off: number): string => `${(((on - off) / off) * 100).toFixed(1)}%`;
const us = (c: { s: number; n: number }): number => (c.s * 1e6) / c.n;
const row = (name: string, r: { on: number; off: number }, c: Cpu) =>
  `| ${name} | ${r.off.toFixed(0)} | ${r.on.toFixed(0)} | ${pct(r.on, r.off)} | ` +
  `${us(c.off).toFixed(1)} | ${us(c.on).toFixed(1)} | ${pct(us(c.on), us(c.off))} |`;
process.stdout.write(
  [
    '| workload | off (/s) | on (/s) | change | CPU µs/op off | CPU µs/op on | change |',
    '|---|---|---|---|---|---|---|',
    row('forward HTTP keep-alive, 1 KiB (requests)', medians(rates.fwd), cpu.fwd),
    row('CONNECT + one GET of 1 KiB (tunnels)', medians(rates.connect), cpu.connect),
    '',
  ].join('\n'),
);
