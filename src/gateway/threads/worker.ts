// A gateway worker thread: one more gateway core, binding every port beside
// the main thread's (SO_REUSEPORT: the kernel spreads new connections over
// the threads). Its live state, its store reads and its per-IP counts are the
// main thread's, reached over the channel (pool.ts answers them), so limits
// hold for the process as a whole. Started by pool.ts only.
import { parentPort, workerData } from 'node:worker_threads';
import pino from 'pino';
import type { Config } from '../../config.ts';
import type { LiveEvent, LiveState } from '../../live/live.ts';
import { logOptions } from '../../log.ts';
import { createGatewayCore } from '../core.ts';
import { type GatewaySource, SOURCE_METHODS } from '../source.ts';
import type { HealthState } from '../upstreams.ts';
import { createChannel, type Port } from './channel.ts';
import { collectHeap } from './heap.ts';
import { createThreadLive } from './live-client.ts';

export interface WorkerData {
  config: Config;
  /** 1, 2, ...: the main thread is 0 */
  thread: number;
  liveKind: LiveState['kind'];
  health: HealthState[];
  /** customer lock-outs in force when the thread was started, when it mirrors them (memory live state) */
  lockouts: [number, number][] | null;
}

const data = workerData as WorkerData;
const port = parentPort as unknown as Port;
const log = pino(logOptions(data.config.logLevel)).child({ thread: data.thread });

// Assigned below; the channel's handlers only run once messages arrive, after that.
let core: ReturnType<typeof createGatewayCore>;
const channel = createChannel(
  port,
  {
    event: (e: LiveEvent) => live.deliver(e),
    reset: () => live.reset(),
    lockout: (customerId: number, untilMs: number) => live.mirrorLockout(customerId, untilMs),
    health: (states: HealthState[]) => core.applyHealth(states),
    reload: () => core.reload(),
    census: () => ({ connections: core.connections(), openSockets: core.openSockets }),
    gc: () => collectHeap(),
    stop: async (drainTimeoutSec: number) => {
      await core.stop({ drainTimeoutSec });
      await live.close();
    },
  },
  (err, method) => log.error({ err, method }, 'gateway thread: message from the main thread failed'),
);

const live = createThreadLive({
  channel,
  kind: data.liveKind,
  lockouts: data.lockouts,
  onHandlerError: (err) => log.warn({ err }, 'live event handler failed'),
});

const source = Object.fromEntries(
  SOURCE_METHODS.map((m) => [m, (...args: unknown[]) => channel.call(m, args)]),
) as unknown as GatewaySource;

core = createGatewayCore({
  config: data.config,
  source,
  live,
  log,
  ipSlots: {
    // A lost channel (the process is stopping) refuses rather than admits without a count.
    take: (key, max) => channel.call<boolean>('ipTake', [key, max]).catch(() => false),
    give: (key) => channel.send('ipGive', [key]),
  },
  health: null,
});
core.applyHealth(data.health);

core.start().then(
  () => channel.send('ready', []),
  (err: unknown) => {
    log.error({ err }, 'gateway thread failed to start');
    channel.send('failed', [err instanceof Error ? err.message : String(err)]);
  },
);
