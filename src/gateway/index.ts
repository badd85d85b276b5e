// The gateway's public face. createGateway() runs one gateway core on the
// main thread (core.ts) and, with PORTCULLIS_GATEWAY_THREADS > 1, more on
// worker threads (threads/) that bind the same ports: the main thread keeps
// the store, the one health checker and the live state, and answers the
// workers' calls, so limits, kicks and the live view cover every thread.
import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import type { LiveState } from '../live/live.ts';
import type { Store } from '../store/db.ts';
import type { Cipher } from '../store/secrets.ts';
import { createGatewayCore } from './core.ts';
import { createIpSlots } from './limits/ip-slots.ts';
import type { PortState } from './port-pool.ts';
import type { ConnInfo } from './registry.ts';
import { storeSource } from './store-source.ts';
import { collectHeap, type Heap } from './threads/heap.ts';
import { type Census, createWorkerPool } from './threads/pool.ts';

export type { PortState } from './port-pool.ts';
export type { ConnInfo } from './registry.ts';
export type { Census } from './threads/pool.ts';

export interface GatewayOptions {
  config: Readonly<Config>;
  store: Store;
  live: LiveState;
  cipher: Cipher;
  log: Logger;
  /** clock of the main thread's core (tests inject one); worker threads use Date.now; default Date.now */
  now?: () => number;
}

export interface Gateway {
  start(): Promise<void>;
  /** Graceful: stop accepting, drain up to drainTimeoutSec, close the rest, flush counters. */
  stop(opts?: { drainTimeoutSec?: number }): Promise<void>;
  /** Each port's listener, as the main thread holds it (every thread binds the same ports). */
  status(): Map<number, PortState>;
  /** Reloads every policy and upstream (SIGHUP), on every thread. */
  reload(): Promise<void>;
  /** Live connections of the main thread: all of them when the gateway runs one thread (tests). */
  connections(): ConnInfo[];
  /** Live connections and open client sockets of every thread (the live view, metrics). */
  census(): Promise<Census>;
  /** Probes every upstream now; every thread takes the results. */
  checkHealth(): Promise<void>;
  /** Client sockets open now on the main thread, admitted or not (leak checks). */
  readonly openSockets: number;
  /**
   * A full garbage collection on every gateway thread when the process runs
   * with --expose-gc, then the V8 heap and external memory of all threads
   * together: the bench's memory per idle tunnel.
   */
  collectGarbage(): Promise<Heap>;
  /** Gateway threads serving connections now, the main thread included. */
  readonly threads: number;
}

export function createGateway({ config, store, live, cipher, log, now }: GatewayOptions): Gateway {
  const source = storeSource(store, cipher);
  const ipSlots = createIpSlots();
  const extra = config.gateway.threads - 1;
  let pool: ReturnType<typeof createWorkerPool> | null = null;
  const core = createGatewayCore({
    config,
    source,
    live,
    log,
    ipSlots,
    now,
    health: { onRound: (states) => pool?.health(states) },
  });
  if (extra > 0)
    pool = createWorkerPool({
      config,
      live,
      source,
      ipSlots,
      log,
      count: extra,
      healthNow: () => core.healthStates(),
    });

  let stopped: Promise<void> | null = null;
  return {
    async start() {
      await core.start();
      if (!pool) return;
      try {
        await pool.start();
      } catch (err) {
        await core.stop({ drainTimeoutSec: 0 });
        throw err;
      }
      log.info({ threads: 1 + pool.running }, 'gateway threads started');
    },
    stop(opts = {}) {
      const drain = opts.drainTimeoutSec ?? config.gateway.drainTimeoutSec;
      // Side by side; the workers' usage reaches this thread's live state
      // before their stop answers, and the last flush carries it.
      stopped ??= Promise.all([pool?.stop(drain), core.stop({ drainTimeoutSec: drain })]).then(() =>
        live.flush(),
      );
      return stopped;
    },
    status: () => core.status(),
    async reload() {
      await core.reload();
      await pool?.reload();
    },
    connections: () => core.connections(),
    async census() {
      const mine: Census = { connections: core.connections(), openSockets: core.openSockets };
      if (!pool) return mine;
      for (const c of await pool.census()) {
        // A loop, not push(...list): a thread may hold more connections than a call takes arguments.
        for (const conn of c.connections) mine.connections.push(conn);
        mine.openSockets += c.openSockets;
      }
      return mine;
    },
    checkHealth: () => core.checkHealth(),
    async collectGarbage() {
      const sum = collectHeap();
      for (const h of (await pool?.gc()) ?? []) {
        sum.heapUsed += h.heapUsed;
        sum.external += h.external;
      }
      return sum;
    },
    get openSockets() {
      return core.openSockets;
    },
    get threads() {
      return 1 + (pool?.running ?? 0);
    },
  };
}
