// Bandwidth accuracy runs: N client sockets download through the gateway as
// fast as they can (CONNECT tunnels or forwarded GETs of a 1 GiB body); after
// a warm-up that lets the bucket's burst drain, the bytes the clients receive
// over a fixed window give the rate the customer gets. The window's length is
// measured, not assumed, so a late timer on a loaded machine does not skew it.
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { after, before, describe, test } from 'node:test';
import { eventually, type Harness, startHarness } from '../gateway/harness.ts';
import { type Origin, startOrigin } from '../helpers/origin.ts';
import { basic, close, openWire, send, type Wire } from './clients.ts';

const HUGE = 1 << 30;

export interface Run {
  /** bytes/s received by all sockets together over the window */
  rate: number;
  windowMs: number;
  bytes: number;
}

export async function measureRate(
  port: number,
  origin: Origin,
  user: string,
  opts: { sockets: number; via: 'connect' | 'forward'; warmMs?: number; windowMs?: number },
): Promise<Run> {
  const auth = basic(user, 'pw');
  const wires: Wire[] = [];
  try {
    for (let i = 0; i < opts.sockets; i++) {
      const w = await openWire(port, false);
      if (opts.via === 'connect') {
        const target = `127.0.0.1:${origin.port}`;
        send(
          w,
          `CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\nProxy-Authorization: ${auth}\r\n\r\n` +
            `GET /bytes/${HUGE} HTTP/1.1\r\nHost: ${target}\r\n\r\n`,
        );
      } else {
        send(
          w,
          `GET ${origin.url}/bytes/${HUGE} HTTP/1.1\r\nHost: x\r\nProxy-Authorization: ${auth}\r\n\r\n`,
        );
      }
      wires.push(w);
    }
    await sleep(opts.warmMs ?? 1500);
    const total = (): number => wires.reduce((s, w) => s + w.received, 0);
    const b0 = total();
    const t0 = performance.now();
    await sleep(opts.windowMs ?? 10_000);
    const b1 = total();
    const t1 = performance.now();
    const bytes = b1 - b0;
    return { rate: (bytes * 1000) / (t1 - t0), windowMs: t1 - t0, bytes };
  } finally {
    await Promise.all(wires.map((w) => close(w)));
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * The accuracy suite for one per-customer cap (bytes/s): each case is a
 * number of sockets and a way in, measured over a 10 s window, ±5%. With
 * `perConnection`, also 2 sockets at a quarter of the cap each (connBandwidth)
 * over 5 s. One file per cap, so the two caps' windows run in parallel.
 */
export function capAccuracySuite(
  cap: number,
  cases: readonly (readonly [number, 'connect' | 'forward'])[],
  perConnection = false,
): void {
  describe(`limits: bandwidth ${cap / 1e6} MB/s per customer`, () => {
    let h: Harness;
    let origin: Origin;
    let port: number;

    before(async () => {
      h = await startHarness({}, { redis: true });
      origin = await startOrigin();
      port = await h.addUpstream({ protocol: 'direct' });
      const plan = await h.addPlan({ threads: 50, bandwidth: cap });
      for (const [sockets] of cases) await h.addCustomer(`s${sockets}`, 'pw', plan);
      if (perConnection) {
        const perConn = await h.addPlan({ threads: 50, connBandwidth: cap / 4 });
        await h.addCustomer('perconn', 'pw', perConn);
      }
    });
    after(async () => {
      await h.close();
      await origin.close();
    });

    for (const [sockets, via] of cases) {
      test(`${sockets} socket(s) (${via}): ${cap / 1e6} MB/s ±5%`, async (t) => {
        const run = await measureRate(port, origin, `s${sockets}`, { sockets, via });
        const ratio = run.rate / cap;
        t.diagnostic(`${(run.rate / 1e6).toFixed(3)} MB/s, ${(ratio * 100).toFixed(1)}% of the cap`);
        assert.ok(
          Math.abs(ratio - 1) <= 0.05,
          `${(run.rate / 1e6).toFixed(3)} MB/s over ${run.windowMs.toFixed(0)} ms (${(ratio * 100).toFixed(1)}% of the cap)`,
        );
        await eventually(() => h.gateway.connections().length === 0);
      });
    }

    if (perConnection)
      test('per-connection cap: 2 sockets at a quarter each get half the cap (±5%)', async (t) => {
        const run = await measureRate(port, origin, 'perconn', {
          sockets: 2,
          via: 'connect',
          windowMs: 5000,
        });
        const ratio = run.rate / (cap / 2);
        t.diagnostic(
          `${(run.rate / 1e6).toFixed(3)} MB/s, ${(ratio * 100).toFixed(1)}% of 2 x connBandwidth`,
        );
        assert.ok(Math.abs(ratio - 1) <= 0.05, `${(run.rate / 1e6).toFixed(3)} MB/s`);
        await eventually(() => h.gateway.connections().length === 0);
      });
  });
}
