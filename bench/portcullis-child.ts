// The Portcullis gateway as its own process for the bench (spawned by
// bench/portcullis.ts): a fresh store and in-memory live state through the
// gateway test harness, one limit-free customer, one port bound to `direct`.
// Prints {"port":N} once ready; SIGTERM stops it.
import { writeFileSync } from 'node:fs';
import { startHarness } from '../test/gateway/harness.ts';

const [user, pass, memFile] = process.argv.slice(2);
if (!user || !pass || !memFile) throw new Error('usage: portcullis-child.ts USER PASS MEMORY-FILE');

// The harness logs nothing (like squid with access_log none here); idle tunnels of
// the memory run outlive the hold under the default 5 min idle timeout.
const h = await startHarness();
// "Limit-free" as issue 3 asks: a thread cap far above any bench load, no rate cap.
const planId = await h.addPlan({ name: 'bench', threads: 1_000_000 });
await h.addCustomer(user, pass, planId);
const port = await h.addUpstream({ protocol: 'direct' });
process.stdout.write(`${JSON.stringify({ port })}\n`);

let stopping = false;
const stop = async (): Promise<void> => {
  if (stopping) return;
  stopping = true;
  await h.close();
  process.exit(0);
};
process.on('SIGTERM', stop);
// The bench reads memory after SIGUSR2: collect garbage (spawned with --expose-gc), report the heap.
process.on('SIGUSR2', () => {
  globalThis.gc?.();
  writeFileSync(memFile, JSON.stringify(process.memoryUsage()));
});
process.on('SIGINT', stop);
