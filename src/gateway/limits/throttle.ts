// Bandwidth: one gate per customer shared by all that customer's sockets in
// this process, plus an optional gate per connection. A gate pauses every
// socket it covers when it runs dry and resumes them when it has tokens again:
// one timer per throttled customer, never a Transform or a copy per chunk.
//
// Bytes are charged after a chunk is read (the chunk is relayed whole), so a
// gate can go into debt by up to a chunk per socket; the debt is paid back
// before the sockets resume, so the long-run rate is exact.
//
// The customer gate spends local credit that it buys from live state in
// grants (live.takeTokens(`bw:<id>`, rate, burst, grant)): with the memory
// live state that is an in-process bucket; with Redis every gateway process
// buys from the same bucket, so several processes share one cap. The next
// grant is bought when credit falls below half a grant, so a customer under
// the cap never waits on the round trip. Per-connection gates are local.
//
// Both directions count: the watched sockets are the client (upload) and the
// upstream/target (download) of each connection.
import type net from 'node:net';
import { performance } from 'node:perf_hooks';
import { charge, createTokenBucket, msUntil, type TokenBucket } from '../../domain/token-bucket.ts';
import type { LiveState } from '../../live/live.ts';

const KIB = 1024;

/** Grant size: ~50 ms of traffic, 4 KiB-256 KiB (at 10 MB/s: 40 grants/s per customer). */
export function grantOf(rate: number): number {
  return Math.max(1, Math.min(rate, Math.max(4 * KIB, Math.min(256 * KIB, Math.floor(rate / 20)))));
}

/** Burst: 1 s of traffic and at least four grants, so a stalled event loop (a loaded machine) catches up instead of losing rate. */
export function burstOf(rate: number): number {
  return Math.max(rate, 4 * grantOf(rate));
}

interface Gate {
  blocked: boolean;
  /** the sockets it pauses: a customer's (a Set), or one connection's (its meter's list) */
  watches: Iterable<Watch>;
}

export interface CustomerGate extends Gate {
  watches: Set<Watch>;
  customerId: number;
  key: string;
  rate: number;
  burst: number;
  grant: number;
  credit: number;
  asking: boolean;
  timer: NodeJS.Timeout | null;
  refs: number;
  dead: boolean;
}

/** A connection's own cap: a local token bucket (fields inline: one object per connection). */
export interface ConnGate extends Gate, TokenBucket {
  timer: NodeJS.Timeout | null;
}

/** What counts a connection's bytes: quota budget (quota-guard.ts) and the two gates. */
export interface Counter {
  spent: number;
  limit: number;
  exceeded(): void;
}

export interface ConnMeter {
  cust: CustomerGate | null;
  own: ConnGate | null;
  quota: Counter | null;
  watches: Watch[];
}

interface Watch {
  sock: net.Socket;
  /** where this socket's bytes are written: not resumed while its buffer is full */
  peer: net.Socket | null;
  /** paused by us (so resumed by us) */
  held: boolean;
  m: ConnMeter;
}

export interface Throttle {
  /**
   * A connection's meter: the customer's gate when `bandwidth` > 0 (one per
   * customer in this process, referenced once more), its own gate when
   * `connBandwidth` > 0, and the quota budget.
   */
  meter(customerId: number, bandwidth: number, connBandwidth: number, quota: Counter | null): ConnMeter;
  /**
   * Counts `sock`'s incoming bytes against the meter; `peer` is where they go.
   * Re-watching updates the peer. Watches end with release() (the connection's
   * close); a socket closed before (an HTTP leg) is dropped at the next watch.
   */
  watch(m: ConnMeter, sock: net.Socket, peer: net.Socket | null): void;
  /** The connection is gone: drop its watches and references. */
  release(m: ConnMeter): void;
  readonly customers: number;
  stop(): void;
}

export function createThrottle({ live }: { live: LiveState }): Throttle {
  const gates = new Map<number, CustomerGate>();

  function blocked(m: ConnMeter): boolean {
    return m.cust?.blocked === true || m.own?.blocked === true;
  }

  function block(g: Gate): void {
    g.blocked = true;
    for (const w of g.watches) {
      if (!w.sock.isPaused()) {
        w.sock.pause();
        w.held = true;
      }
    }
  }

  function unblock(g: Gate): void {
    g.blocked = false;
    for (const w of g.watches) {
      if (!w.held || blocked(w.m)) continue;
      w.held = false;
      // A full peer resumes its source itself on 'drain' (the relay's backpressure).
      if (w.peer === null || !w.peer.writableNeedDrain) w.sock.resume();
    }
  }

  function ask(g: CustomerGate): void {
    g.asking = true;
    const size = Math.min(g.burst, Math.max(g.grant, Math.ceil(-g.credit)));
    live.takeTokens(g.key, g.rate, g.burst, size).then(
      (ok) => granted(g, size, ok),
      // takeTokens falls back per process itself; a rejection here fails open.
      () => granted(g, size, true),
    );
  }

  function retry(g: CustomerGate): void {
    g.timer = null;
    if (!g.dead) ask(g);
  }

  function granted(g: CustomerGate, size: number, ok: boolean): void {
    g.asking = false;
    if (g.dead) return;
    if (!ok) {
      // The shared bucket had less than `size`: after size/rate it has at least that.
      g.timer = setTimeout(retry, Math.max(1, Math.ceil((size * 1000) / g.rate)), g);
      g.timer.unref();
      return;
    }
    g.credit += size;
    if (g.credit < g.grant / 2) ask(g);
    if (g.blocked && g.credit >= 0) unblock(g);
  }

  function chargeCustomer(g: CustomerGate, n: number): void {
    g.credit -= n;
    if (g.credit < g.grant / 2 && !g.asking && g.timer === null) ask(g);
    if (g.credit < 0 && !g.blocked) block(g);
  }

  function connTick(g: ConnGate): void {
    g.timer = null;
    const wait = msUntil(g, 0, performance.now());
    if (wait > 0) {
      g.timer = setTimeout(connTick, wait, g);
      g.timer.unref();
    } else unblock(g);
  }

  function chargeConn(g: ConnGate, n: number): void {
    const t = performance.now();
    if (charge(g, n, t) < 0 && !g.blocked) {
      block(g);
      g.timer = setTimeout(connTick, msUntil(g, 0, t), g);
      g.timer.unref();
    }
  }

  function customerGate(customerId: number, rate: number): CustomerGate {
    let g = gates.get(customerId);
    if (g === undefined) {
      g = {
        customerId,
        key: `bw:${customerId}`,
        rate: 0,
        burst: 0,
        grant: 0,
        credit: 0,
        asking: false,
        timer: null,
        refs: 0,
        dead: false,
        blocked: false,
        watches: new Set(),
      };
      gates.set(customerId, g);
    }
    // The newest admission's plan wins (a plan change applies to new connections).
    g.rate = rate;
    g.burst = burstOf(rate);
    g.grant = grantOf(rate);
    g.refs++;
    // Buy the first grant now, so a new customer's first bytes do not wait for it.
    if (g.credit < g.grant / 2 && !g.asking && g.timer === null) ask(g);
    return g;
  }

  return {
    meter(customerId, bandwidth, connBandwidth, quota) {
      const watches: Watch[] = [];
      let own: ConnGate | null = null;
      if (connBandwidth > 0) {
        const b = createTokenBucket(connBandwidth, burstOf(connBandwidth), performance.now());
        own = { ...b, timer: null, blocked: false, watches };
      }
      return { cust: bandwidth > 0 ? customerGate(customerId, bandwidth) : null, own, quota, watches };
    },
    watch(m, sock, peer) {
      const ws = m.watches;
      for (let i = ws.length - 1; i >= 0; i--) {
        const w = ws[i];
        if (w.sock === sock) {
          w.peer = peer;
          return;
        }
        if (w.sock.destroyed) {
          m.cust?.watches.delete(w);
          ws.splice(i, 1);
        }
      }
      const w: Watch = { sock, peer, held: false, m };
      ws.push(w);
      m.cust?.watches.add(w);
      sock.on('data', (chunk: Buffer) => {
        const n = chunk.length;
        const q = m.quota;
        if (q !== null) {
          q.spent += n;
          if (q.spent >= q.limit) q.exceeded();
        }
        if (m.cust !== null) chargeCustomer(m.cust, n);
        if (m.own !== null) chargeConn(m.own, n);
        // Someone (a 'drain') resumed us while a gate is dry: the chunk is charged, stop here.
        if (blocked(m) && !sock.isPaused()) {
          sock.pause();
          w.held = true;
        }
      });
      if (blocked(m)) {
        sock.pause();
        w.held = true;
      }
    },
    release(m) {
      const c = m.cust;
      if (c !== null) for (const w of m.watches) c.watches.delete(w);
      m.watches.length = 0;
      if (c !== null && --c.refs === 0) {
        c.dead = true;
        if (c.timer) clearTimeout(c.timer);
        c.timer = null;
        gates.delete(c.customerId);
      }
      if (m.own?.timer) clearTimeout(m.own.timer);
      m.cust = null;
      m.own = null;
      m.quota = null;
    },
    get customers() {
      return gates.size;
    },
    stop() {
      for (const g of gates.values()) {
        g.dead = true;
        if (g.timer) clearTimeout(g.timer);
      }
      gates.clear();
    },
  };
}
