// A gateway process for bench/limits-cost.ts: like portcullis-child.ts, with
// one customer whose plan has every limit of issue 4 configured ("on": all
// high enough never to be reached, see lib/limits.ts) or none ("off").
// Prints {"port":N}.
import { startHarness } from '../test/gateway/harness.ts';
import { benchLimits } from './lib/limits.ts';

const [mode, user, pass] = process.argv.slice(2);
if ((mode !== 'on' && mode !== 'off') || !user || !pass)
  throw new Error('usage: limits-child.ts on|off USER PASS');

const h = await startHarness({}, { redis: process.env.BENCH_REDIS === '1' });
const limits = mode === 'on' ? benchLimits() : {};
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
