// Live figures for the console's overview, pushed over SSE (GET /api/v1/live):
// one sampler per API process, running only while someone watches. Every
// second it reads the live connections of the gateway in this process (the
// same scope as GET /api/v1/connections) and derives connections, bandwidth
// (byte-counter deltas between samples) and the top customers; every fifth
// second it adds the port map (every bound port with health, latency and
// listener state: one store query).
import type { GatewayConnections, GatewayStatus } from '../deps.ts';
import type { ServiceContext } from './context.ts';

export const STATS_INTERVAL_MS = 1000;
const PORTS_EVERY = 5;
const TOP = 10;

export interface TopCustomer {
  username: string;
  connections: number;
  /** bytes/s up+down over the last sample */
  bytesPerSec: number;
}

export interface StatsFrame {
  at: string;
  /** process: figures of the gateway in this API process; none: no gateway runs here */
  scope: 'process' | 'none';
  connections: number;
  customers: number;
  /** bytes/s over the last sample */
  bandwidth: { up: number; down: number };
  top: TopCustomer[];
}

export interface PortCell {
  port: number;
  health: string;
  latencyMs: number | null;
  failures: number;
  listener: string | null;
}

export interface PortsFrame {
  at: string;
  items: PortCell[];
}

export type Frame = { event: 'stats'; data: StatsFrame } | { event: 'ports'; data: PortsFrame };

export function createLiveFigures(
  ctx: ServiceContext,
  gateway: { connections?: GatewayConnections; status?: GatewayStatus },
  onError: (err: unknown) => void,
) {
  const subscribers = new Set<(f: Frame) => void>();
  let timer: NodeJS.Timeout | undefined;
  let tick = 0;
  let prev = new Map<string, number>(); // connection id -> bytes up+down at the last sample
  let prevUp = new Map<string, number>();
  let prevAt = 0;
  let lastStats: StatsFrame | undefined;
  let lastPorts: PortsFrame | undefined;

  async function stats(): Promise<StatsFrame> {
    const list = await gateway.connections?.();
    const t = ctx.now();
    const at = new Date(t).toISOString();
    if (!list)
      return { at, scope: 'none', connections: 0, customers: 0, bandwidth: { up: 0, down: 0 }, top: [] };
    const seconds = prevAt > 0 ? Math.max(0.001, (t - prevAt) / 1000) : 0;
    const next = new Map<string, number>();
    const nextUp = new Map<string, number>();
    const per = new Map<string, TopCustomer>();
    let up = 0;
    let down = 0;
    for (const c of list) {
      const total = c.bytesUp + c.bytesDown;
      next.set(c.id, total);
      nextUp.set(c.id, c.bytesUp);
      // A connection first seen now counts from zero only when a sample came before it.
      const dUp = seconds ? c.bytesUp - (prevUp.get(c.id) ?? 0) : 0;
      const dAll = seconds ? total - (prev.get(c.id) ?? 0) : 0;
      up += dUp;
      down += dAll - dUp;
      const row = per.get(c.username) ?? { username: c.username, connections: 0, bytesPerSec: 0 };
      row.connections++;
      row.bytesPerSec += dAll;
      per.set(c.username, row);
    }
    prev = next;
    prevUp = nextUp;
    prevAt = t;
    const rate = (n: number) => (seconds ? Math.round(n / seconds) : 0);
    const top = [...per.values()]
      .map((r) => ({ ...r, bytesPerSec: rate(r.bytesPerSec) }))
      .sort((a, b) => b.bytesPerSec - a.bytesPerSec || b.connections - a.connections)
      .slice(0, TOP);
    return {
      at,
      scope: 'process',
      connections: list.length,
      customers: per.size,
      bandwidth: { up: rate(up), down: rate(down) },
      top,
    };
  }

  async function ports(): Promise<PortsFrame> {
    const status = gateway.status?.();
    const rows = await ctx.repos.upstreams.list();
    return {
      at: new Date(ctx.now()).toISOString(),
      items: rows.map((u) => ({
        port: u.boundPort,
        health: u.health,
        latencyMs: u.latencyMs,
        failures: u.failures,
        listener: status ? (status.get(u.boundPort)?.state ?? 'unbound') : null,
      })),
    };
  }

  const send = (f: Frame) => {
    for (const s of subscribers) s(f);
  };

  async function sample() {
    const n = tick++;
    lastStats = await stats();
    send({ event: 'stats', data: lastStats });
    if (n % PORTS_EVERY === 0) {
      lastPorts = await ports();
      send({ event: 'ports', data: lastPorts });
    }
  }

  // A sample asks the gateway's worker threads: one that is slow to answer
  // must not pile samples up behind it.
  let busy = false;
  function run() {
    if (busy) return;
    busy = true;
    sample()
      .catch(onError)
      .finally(() => {
        busy = false;
      });
  }

  return {
    /** Starts the stream for one watcher: the latest frames at once, then live ones. */
    subscribe(fn: (f: Frame) => void): () => void {
      subscribers.add(fn);
      if (!timer) {
        tick = 0;
        prev = new Map();
        prevUp = new Map();
        prevAt = 0;
        run();
        timer = setInterval(run, STATS_INTERVAL_MS);
        timer.unref();
      } else {
        if (lastStats) fn({ event: 'stats', data: lastStats });
        if (lastPorts) fn({ event: 'ports', data: lastPorts });
        else ports().then((p) => fn({ event: 'ports', data: p }), onError);
      }
      return () => {
        subscribers.delete(fn);
        if (subscribers.size === 0 && timer) {
          clearInterval(timer);
          timer = undefined;
          lastStats = undefined;
          lastPorts = undefined;
        }
      };
    },
    get watchers() {
      return subscribers.size;
    },
  };
}

export type LiveFigures = ReturnType<typeof createLiveFigures>;
