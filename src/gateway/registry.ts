// Live connections: one record per admitted client connection (a tunnel or
// an HTTP keep-alive connection), holding the customer's thread until it
// closes. The record is the per-connection meter: bytes are read from the
// client socket's own counters (bytesRead = up, bytesWritten = down, protocol
// overhead on the client leg included), so relaying costs nothing per chunk.
// Usage is pushed to live state on close, by a 1 s sweep for long tunnels,
// and at the start of every live-state flush (gateway/index.ts registers
// report() with live.onFlush), so a flush carries every byte up to its instant.
import { randomBytes } from 'node:crypto';
import type net from 'node:net';
import type { ConnInfo } from '../domain/connection.ts';
import type { CustomerPolicy } from '../domain/policy.ts';
import { type Period, quotaPeriod } from '../domain/quota-period.ts';
import type { LiveState } from '../live/live.ts';
import type { ConnMeter } from './limits/throttle.ts';

export interface Conn {
  readonly id: string;
  readonly policy: CustomerPolicy;
  readonly customerId: number;
  readonly client: net.Socket;
  readonly clientAddress: string;
  readonly port: number;
  readonly since: number;
  /** "host:port" of the current target (changes on keep-alive re-targeting) */
  target: string;
  upstream: string;
  /** sockets towards the target/upstream; destroyed with the connection */
  peers: Set<net.Socket>;
  /** forwarded HTTP requests not yet reported */
  requests: number;
  reportedUp: number;
  reportedDown: number;
  closed: boolean;
  /** byte limits (bandwidth, quota) counting this connection; null when none applies (limits/) */
  meter: ConnMeter | null;
}

export type { ConnInfo };

export interface Registry {
  open(policy: CustomerPolicy, client: net.Socket, port: number, target: string, upstream: string): Conn;
  /** Closes the connection (both sockets), reports its usage and releases its thread; idempotent. */
  close(conn: Conn): void;
  kickCustomer(customerId: number): number;
  kickConn(id: string): boolean;
  list(): ConnInfo[];
  /** Pushes every connection's unreported usage to live state. */
  report(): void;
  /** The same for one customer's connections (the quota guard, before it reads the total). */
  reportCustomer(customerId: number): void;
  readonly size: number;
  stop(): void;
}

export function createRegistry({
  live,
  flushMs = 1000,
  onRelease,
  onClose,
  now = Date.now,
}: {
  live: LiveState;
  flushMs?: number;
  /** told after a connection's thread is released (the strike watcher) */
  onRelease?: (customerId: number) => void;
  /** told when a connection closes, before its thread is released (limits: per-IP slot, meters) */
  onClose?: (c: Conn) => void;
  /** clock for quota period keys (tests inject one) */
  now?: () => number;
}): Registry {
  const prefix = randomBytes(3).toString('hex');
  let seq = 0;
  const byId = new Map<string, Conn>();
  const byCustomer = new Map<number, Set<Conn>>();

  // The period of a policy object (shared by a customer's connections until a
  // reload) is computed once and reused until it ends: push runs at every
  // open and close, and the calendar arithmetic showed in profiles.
  const periods = new WeakMap<CustomerPolicy, Period>();
  function periodKey(policy: CustomerPolicy, t: number): string {
    let p = periods.get(policy);
    if (p === undefined || t < p.start || (p.end !== null && t >= p.end)) {
      p = quotaPeriod(policy.limits.quotaPeriod, policy.periodAnchor, t);
      periods.set(policy, p);
    }
    return p.key;
  }

  function push(c: Conn, connections: number): void {
    const up = c.client.bytesRead;
    const down = c.client.bytesWritten;
    const dUp = up - c.reportedUp;
    const dDown = down - c.reportedDown;
    if (dUp === 0 && dDown === 0 && c.requests === 0 && connections === 0) return;
    c.reportedUp = up;
    c.reportedDown = down;
    live.addUsage(c.customerId, periodKey(c.policy, now()), dUp, dDown, connections, c.requests);
    c.requests = 0;
  }

  const timer = setInterval(() => registry.report(), flushMs);
  timer.unref();

  const registry: Registry = {
    open(policy, client, port, target, upstream) {
      const c: Conn = {
        id: `${prefix}-${(++seq).toString(36)}`,
        policy,
        customerId: policy.customerId,
        client,
        clientAddress: client.remoteAddress ?? '',
        port,
        since: Date.now(),
        target,
        upstream,
        peers: new Set(),
        requests: 0,
        reportedUp: 0,
        reportedDown: 0,
        closed: false,
        meter: null,
      };
      byId.set(c.id, c);
      let set = byCustomer.get(c.customerId);
      if (!set) {
        set = new Set();
        byCustomer.set(c.customerId, set);
      }
      set.add(c);
      push(c, 1);
      return c;
    },
    close(c) {
      if (c.closed) return;
      c.closed = true;
      push(c, 0);
      c.client.destroy();
      for (const p of c.peers) p.destroy();
      byId.delete(c.id);
      const set = byCustomer.get(c.customerId);
      set?.delete(c);
      if (set?.size === 0) byCustomer.delete(c.customerId);
      onClose?.(c);
      live.releaseThread(c.customerId);
      onRelease?.(c.customerId);
    },
    kickCustomer(customerId) {
      const set = byCustomer.get(customerId);
      if (!set) return 0;
      const all = [...set];
      for (const c of all) registry.close(c);
      return all.length;
    },
    kickConn(id) {
      const c = byId.get(id);
      if (!c) return false;
      registry.close(c);
      return true;
    },
    list() {
      const out: ConnInfo[] = [];
      for (const c of byId.values()) {
        out.push({
          id: c.id,
          customerId: c.customerId,
          username: c.policy.username,
          clientAddress: c.clientAddress,
          port: c.port,
          target: c.target,
          upstream: c.upstream,
          bytesUp: c.client.bytesRead,
          bytesDown: c.client.bytesWritten,
          since: new Date(c.since).toISOString(),
        });
      }
      return out;
    },
    report() {
      for (const c of byId.values()) push(c, 0);
    },
    reportCustomer(customerId) {
      const set = byCustomer.get(customerId);
      if (set) for (const c of set) push(c, 0);
    },
    get size() {
      return byId.size;
    },
    stop() {
      clearInterval(timer);
    },
  };
  return registry;
}
