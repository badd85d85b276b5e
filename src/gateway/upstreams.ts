// Bound port -> upstream route, replaced as a whole on reload. pick() is the
// hot-path question "where does this port go now": its own upstream, or with
// failover on, the next healthy one of the pool while its own is down.
import type { UpstreamTarget } from '../domain/policy.ts';
import type { ErrorCode } from '../errors.ts';
import { type Route, toRoute } from './upstream/route.ts';

/** One upstream's health as the checker left it; passed from the main thread to worker threads. */
export interface HealthState {
  id: number;
  health: Route['health'];
  latencyMs: number | null;
  failures: number;
  lastError: string | null;
}

export interface UpstreamTable {
  replace(list: UpstreamTarget[]): void;
  healthStates(): HealthState[];
  /** Takes over health results by upstream id (a worker thread, from the main thread's checker). */
  applyHealth(states: HealthState[]): void;
  forPort(port: number): Route | undefined;
  pick(port: number, failover: boolean): Route | ErrorCode;
  all(): Route[];
  ports(): Set<number>;
}

/** Copies the checker's results (not the target) from `from` onto `to`. */
function takeHealth(to: Route, from: Omit<HealthState, 'id'>): void {
  to.health = from.health;
  to.latencyMs = from.latencyMs;
  to.failures = from.failures;
  to.lastError = from.lastError;
}

export function createUpstreamTable(): UpstreamTable {
  let byPort = new Map<number, Route>();
  let list: Route[] = [];
  let cursor = 0;
  /** the last results applied, kept so a table reloaded after them starts from them too */
  let applied = new Map<number, HealthState>();

  return {
    replace(targets) {
      const next = new Map<number, Route>();
      for (const t of targets) {
        const old = byPort.get(t.boundPort);
        const r = toRoute(t);
        // Same upstream on the same port keeps what the health checker learned.
        if (old && old.target.id === t.id && old.target.host === t.host && old.target.port === t.port)
          takeHealth(r, old);
        else if (!old) {
          const h = applied.get(t.id);
          if (h) takeHealth(r, h);
        }
        next.set(t.boundPort, r);
      }
      byPort = next;
      list = [...next.values()];
    },
    healthStates: () =>
      list.map((r) => ({
        id: r.target.id,
        health: r.health,
        latencyMs: r.latencyMs,
        failures: r.failures,
        lastError: r.lastError,
      })),
    applyHealth(states) {
      applied = new Map(states.map((h) => [h.id, h]));
      for (const r of list) {
        const h = applied.get(r.target.id);
        if (h) takeHealth(r, h);
      }
    },
    forPort: (port) => byPort.get(port),
    pick(port, failover) {
      const r = byPort.get(port);
      if (!r) return 'PC_ERR_NO_UPSTREAM';
      if (r.health !== 'down') return r;
      if (!failover) return 'PC_ERR_UPSTREAM_DOWN';
      for (let i = 0; i < list.length; i++) {
        const c = list[(cursor + i) % list.length];
        if (c.health === 'up') {
          cursor = (cursor + i + 1) % list.length;
          return c;
        }
      }
      return 'PC_ERR_UPSTREAM_DOWN';
    },
    all: () => list,
    ports: () => new Set(byPort.keys()),
  };
}
