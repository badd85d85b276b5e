// One thread's gateway: createGatewayCore() wires the policy cache, the
// upstream table, the port pool, the live-connection registry, the egress
// guard and (on the main thread) the health checker, and follows live-state
// change events so a change made through the API applies to the next
// connection. index.ts runs one on the main thread and, with
// PORTCULLIS_GATEWAY_THREADS > 1, more on worker threads (threads/).
import type net from 'node:net';
import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import { checkAccess } from '../domain/access.ts';
import { parseIp } from '../domain/cidr.ts';
import type { LiveEvent, LiveState } from '../live/live.ts';
import { authRule, createAuthGuard } from '../security/auth-guard.ts';
import type { GatewayContext } from './context.ts';
import { createEgressGuard } from './egress.ts';
import { createHealthChecker } from './health.ts';
import { createHandshakes } from './limits/handshakes.ts';
import { createLimits } from './limits/index.ts';
import type { IpSlots } from './limits/ip-slots.ts';
import { createPolicyCache } from './policy-cache.ts';
import { createPortPool, type PortState } from './port-pool.ts';
import { type ConnInfo, createRegistry } from './registry.ts';
import { onConnection } from './sniff.ts';
import type { GatewaySource } from './source.ts';
import { createStrikeWatcher } from './strike.ts';
import { createUpstreamTable, type HealthState } from './upstreams.ts';

export interface CoreOptions {
  config: Readonly<Config>;
  source: GatewaySource;
  live: LiveState;
  log: Logger;
  /** per-IP connection counts, shared by every thread of the process */
  ipSlots: IpSlots;
  /** clock for expiry, quota periods and start-on-first-use (tests inject one); default Date.now */
  now?: () => number;
  /**
   * The main thread probes upstreams (one health checker per process) and
   * hands each round's results here; worker threads take them by applyHealth().
   */
  health: { onRound(states: HealthState[]): void } | null;
}

export interface GatewayCore {
  start(): Promise<void>;
  /** Graceful: stop accepting, drain up to drainTimeoutSec, close the rest, flush counters. */
  stop(opts?: { drainTimeoutSec?: number }): Promise<void>;
  status(): Map<number, PortState>;
  /** Reloads every policy and upstream (SIGHUP). */
  reload(): Promise<void>;
  /** Live connections, for the live view. */
  connections(): ConnInfo[];
  /** Probes every upstream now. */
  checkHealth(): Promise<void>;
  /** Client sockets open now, admitted or not (leak checks). */
  readonly openSockets: number;
  /** Health results of the main thread's checker (worker threads). */
  applyHealth(states: HealthState[]): void;
  healthStates(): HealthState[];
}

export function createGatewayCore(o: CoreOptions): GatewayCore {
  const { config, source, live, log } = o;
  const now = o.now ?? Date.now;
  const gw = config.gateway;
  const policies = createPolicyCache({ source });
  const whitelisted = (ip: string): boolean => {
    const a = parseIp(ip);
    return a !== null && policies.byIp(a) !== undefined;
  };
  const upstreams = createUpstreamTable();
  const strike = createStrikeWatcher({
    live,
    policy: (id) => policies.get(id),
    record: source.recordSecurityEvent,
    log,
  });
  const authGuard = createAuthGuard({
    live,
    rule: authRule(config.authLockout),
    source: 'gateway',
    write: source.recordSecurityEvents,
    log,
    now,
    // A whitelisted address is vouched for by the operator: never refused for
    // failures counted against it (its IP-authenticated access never is).
    exempt: whitelisted,
  });
  const registry = createRegistry({
    live,
    onRelease: (id) => strike.released(id),
    onClose: (c) => limits.release(c),
    now,
  });
  const limits = createLimits({
    live,
    source,
    ipSlots: o.ipSlots,
    log,
    now,
    policyOf: (id) => policies.get(id),
    report: (id) => registry.reportCustomer(id),
    kick: (id) => registry.kickCustomer(id),
  });
  const sockets = new Set<net.Socket>();
  const guard = createEgressGuard({
    allow: gw.egressAllow,
    ownPort: (p) =>
      p === config.api.port || (p >= gw.ports.from && p <= gw.ports.to) || upstreams.forPort(p) !== undefined,
  });
  const g: GatewayContext = {
    config,
    log,
    live,
    policies,
    upstreams,
    registry,
    guard,
    strike,
    authGuard,
    limits,
    now,
    headerTimeoutMs: gw.headerTimeoutSec * 1000,
    idleTimeoutMs: gw.idleTimeoutSec * 1000,
    connectTimeoutMs: gw.connectTimeoutSec * 1000,
    sockets,
    handshakes: createHandshakes({ max: gw.handshakesPerIp, exempt: whitelisted, log, now }),
  };
  const pool = createPortPool({ host: gw.host, log, onConnection: (s, port) => onConnection(g, s, port) });
  const onRound = o.health?.onRound;
  const health = onRound
    ? createHealthChecker({
        upstreams,
        record: source.recordHealth,
        onRound: () => onRound(upstreams.healthStates()),
        log,
        intervalMs: gw.healthIntervalSec * 1000,
        timeoutMs: g.connectTimeoutMs,
      })
    : null;
  let unsubscribe: (() => void) | null = null;
  // Every flush of live state (and drain, in memory) first takes the socket
  // counters up to that instant: a SIGKILL then loses at most one flush interval.
  const offFlush = live.onFlush(() => registry.report());
  // Events apply in order; a failed reload is logged and the old policy stays.
  let queue: Promise<void> = Promise.resolve();

  async function reloadUpstreams(): Promise<void> {
    upstreams.replace(await source.upstreams());
    await pool.sync(upstreams.ports());
  }

  // A ban publishes the change, then the kick; the kick acts at once but the
  // reload reads the store, so a client reconnecting in between is admitted
  // on the old policy. Once the new policy is in, such connections go too.
  function closeRefused(customerId: number): void {
    const p = policies.get(customerId);
    const code = p ? checkAccess(p, now(), 0) : 'PC_ERR_DISABLED';
    if (code === null) return;
    const n = registry.kickCustomer(customerId);
    if (n > 0) log.info({ customerId, closed: n, code }, 'connections closed after a policy change');
  }

  /** Runs `fn` after the queued event reloads, and the next ones after it; its failure is the caller's. */
  function inQueue(fn: () => Promise<void>): Promise<void> {
    const done = queue.then(fn);
    queue = done.catch(() => {});
    return done;
  }

  function onEvent(ev: LiveEvent): void {
    // Kicks act at once: they must not wait behind a slow reload.
    if (ev.type === 'kick') {
      const n = registry.kickCustomer(ev.customerId);
      log.info({ customerId: ev.customerId, closed: n, reason: ev.reason }, 'customer kicked');
      return;
    }
    if (ev.type === 'kick-conn') {
      registry.kickConn(ev.connId);
      return;
    }
    queue = queue
      .then(async () => {
        if (ev.type === 'customer') {
          await policies.reloadCustomers([ev.customerId]);
          closeRefused(ev.customerId);
        } else if (ev.type === 'plan') await policies.reloadPlan(ev.planId);
        else if (ev.type === 'upstreams') await reloadUpstreams();
      })
      .catch((err) => log.error({ err, event: ev }, 'gateway reload failed'));
  }

  return {
    async start() {
      // Subscribed before the store is read: an event published while the
      // policies load waits in the queue and applies after the load, instead
      // of falling between the read and the subscription.
      unsubscribe = live.subscribe(onEvent);
      await inQueue(() => policies.loadAll());
      await authGuard.start();
      await inQueue(reloadUpstreams);
      health?.start();
      log.info({ ports: upstreams.ports().size, customers: policies.size }, 'gateway started');
    },
    async stop(opts = {}) {
      unsubscribe?.();
      unsubscribe = null;
      health?.stop();
      strike.stop();
      await pool.close();
      const deadline = Date.now() + (opts.drainTimeoutSec ?? gw.drainTimeoutSec) * 1000;
      while (sockets.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      for (const s of sockets) s.destroy();
      // 'close' handlers (thread release, final usage) run on the next ticks.
      for (let i = 0; i < 100 && (sockets.size > 0 || registry.size > 0); i++)
        await new Promise((r) => setImmediate(r));
      registry.report();
      offFlush();
      registry.stop();
      limits.stop();
      await authGuard.stop();
      await queue;
      await live.flush();
    },
    status: () => pool.status(),
    async reload() {
      // In the event queue too, so a full read never lands after (and
      // overwrites) a newer event's reload.
      await inQueue(async () => {
        await policies.loadAll();
        await reloadUpstreams();
      });
    },
    connections: () => registry.list(),
    checkHealth: async () => {
      await health?.runOnce();
    },
    applyHealth: (states) => upstreams.applyHealth(states),
    healthStates: () => upstreams.healthStates(),
    get openSockets() {
      return sockets.size;
    },
  };
}
