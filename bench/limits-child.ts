// A gateway process for bench/limits-cost.ts: like portcullis-child.ts, with
// one customer whose plan has every limit of issue 4 configured ("on": all
// high enough never to be reached) or none ("off"). Prints {"port":N}.
import { startHarness } from '../test/gateway/harness.ts';

const [mode, user, pass] = process.argv.slice(2);
if ((mode !== 'on' && mode !== 'off') || !user || !pass)
  throw new Error('usage: limits-child.ts on|off USER PASS');

const h = await startHarness({}, { redis: process.env.BENCH_REDIS === '1' });
const all: Record<string, number | string> = {
  rps: 10_000_000,
  bandwidth: 100_000_000_000,
  connBandwidth: 100_000_000_000,
  ipMaxConns: 1_000_000,
  ipRps: 10_000_000,
  quotaBytes: 1e15,
  quotaPeriod: 'month',
};
// BENCH_LIMITS=rps,bandwidth,... keeps only those (to find what costs what).
const only = process.env.BENCH_LIMITS?.split(',');
const limits =
  mode === 'on'
    ? Object.fromEntries(
        Object.entries(all).filter(([k]) => !only || only.includes(k) || k === 'quotaPeriod'),
      )
    : {};
const planId = await h.addPlan({ name: `bench-${mode}`, threads: 1_000_000, ...limits });
await h.addCustomer(user, pass, planId);
const port = await h.addUpstream({ protocol: 'direct' });
process.stdout.write(`${JSON.stringify({ port })}\n`);

const stop = async (): Promise<void> => {
  await h.close();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
