// The Portcullis gateway as its own process for the bench (spawned by
// bench/portcullis.ts): a fresh store and in-memory live state through the
// gateway test harness. argv[2] is a JSON spec (ChildSpec in portcullis.ts):
//   - a limit-free customer (`user`) and a customer whose plan has every limit
//     of issue 4 configured, none reachable (`limited`, lib/limits.ts);
//   - one port bound to the `direct` upstream;
//   - with `chain`, a second port bound to an HTTP upstream proxy with credentials.
// Prints {"port":N,"chainPort":M} once ready; SIGTERM stops it.
import { writeFileSync } from 'node:fs';
import { startHarness } from '../test/gateway/harness.ts';
import { benchLimits } from './lib/limits.ts';
import type { ChildSpec } from './portcullis.ts';

const spec = JSON.parse(process.argv[2] ?? 'null') as ChildSpec | null;
if (!spec?.user || !spec.memFile) throw new Error('usage: portcullis-child.ts SPEC-JSON');

// The harness logs nothing (like squid with access_log none here); idle tunnels of
// the memory run outlive the hold under the default 5 min idle timeout.
const h = await startHarness({ PORTCULLIS_GATEWAY_THREADS: spec.threads ?? '1' });
// "Limit-free" as issue 3 asks: a thread cap far above any bench load, no rate cap.
const free = await h.addPlan({ name: 'bench', threads: 1_000_000 });
await h.addCustomer(spec.user.user, spec.user.pass, free);
if (spec.limited) {
  const limited = await h.addPlan({ name: 'bench-limits', threads: 1_000_000, ...benchLimits() });
  await h.addCustomer(spec.limited.user, spec.limited.pass, limited);
}
const port = await h.addUpstream({ protocol: 'direct' });
const chainPort = spec.chain
  ? await h.addUpstream({
      protocol: 'http',
      host: '127.0.0.1',
      port: spec.chain.port,
      username: spec.chain.user,
      password: spec.chain.pass,
    })
  : undefined;
process.stdout.write(`${JSON.stringify({ port, chainPort })}\n`);

let stopping = false;
const stop = async (): Promise<void> => {
  if (stopping) return;
  stopping = true;
  await h.close();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
// The bench holds our stdin open; its end means the bench is gone.
process.stdin.on('end', stop);
process.stdin.resume();
// The bench reads memory after SIGUSR2: collect garbage on every gateway
// thread (spawned with --expose-gc, which worker threads inherit), report the
// main thread's heap.
process.on('SIGUSR2', () => {
  void h.gateway
    .collectGarbage()
    .then(() => writeFileSync(spec.memFile, JSON.stringify(process.memoryUsage())));
});
