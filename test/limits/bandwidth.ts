// Bandwidth accuracy runs: N client sockets download through the gateway as
// fast as they can (CONNECT tunnels or forwarded GETs of a 1 GiB body); after
// a warm-up that lets the bucket's burst drain, the bytes the clients receive
// over a fixed window give the rate the customer gets. The window's length is
// measured, not assumed, so a late timer on a loaded machine does not skew it.
import { performance } from 'node:perf_hooks';
import type { Origin } from '../helpers/origin.ts';
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
