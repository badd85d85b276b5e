// Background health checks of the upstream pool: every interval, each
// upstream is probed with a bounded number in flight. A probe is cheap: TCP
// connect plus the protocol's greeting — for HTTP a CONNECT to a loopback
// discard port (any answer but 407 means the proxy is up and takes our
// credentials), for SOCKS5 the greeting and RFC 1929 sub-negotiation only.
// Results go to the in-memory routes (what pick() reads) and to the store.
import type { Logger } from 'pino';
import type { GatewaySource } from './source.ts';
import { connectTcp, readReply } from './upstream/net.ts';
import type { Route } from './upstream/route.ts';
import type { UpstreamTable } from './upstreams.ts';

const CONCURRENCY = 32;

const two = (buf: Buffer) => (buf.length >= 2 ? { value: buf.subarray(0, 2), used: 2 } : null);
const statusLine = (buf: Buffer) => {
  const e = buf.indexOf('\r\n');
  if (e < 0) return null;
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(buf.toString('latin1', 0, e));
  if (!m) throw new Error('not an HTTP proxy');
  return { value: Number(m[1]), used: buf.length };
};

/** Resolves to null when healthy, or the reason it is not. */
export async function probe(r: Route, timeoutMs: number): Promise<string | null> {
  const t = r.target;
  if (t.protocol === 'direct') return null;
  const s = await connectTcp(t.host, t.port, timeoutMs, true, () => {});
  s.on('error', () => {});
  try {
    if (t.protocol === 'http') {
      s.write(
        `CONNECT 127.0.0.1:9 HTTP/1.1\r\nHost: 127.0.0.1:9\r\n${r.basic ? `Proxy-Authorization: ${r.basic}\r\n` : ''}\r\n`,
      );
      const status = await readReply(s, statusLine, timeoutMs, 'PC_ERR_UPSTREAM_DOWN', 'probe');
      return status === 407 ? 'upstream refused our credentials (407)' : null;
    }
    const creds = t.username !== null;
    s.write(Buffer.from(creds ? [5, 1, 2] : [5, 1, 0]));
    const choice = await readReply(s, two, timeoutMs, 'PC_ERR_UPSTREAM_DOWN', 'probe');
    if (choice[0] !== 5) return 'not a SOCKS5 server';
    if (choice[1] === 0xff) return 'upstream accepts none of our authentication methods';
    if (choice[1] === 2) {
      const u = Buffer.from(t.username ?? '');
      const p = Buffer.from(t.password ?? '');
      s.write(Buffer.concat([Buffer.from([1, u.length]), u, Buffer.from([p.length]), p]));
      const st = await readReply(s, two, timeoutMs, 'PC_ERR_UPSTREAM_DOWN', 'probe');
      if (st[1] !== 0) return 'upstream refused our credentials (RFC 1929)';
    }
    return null;
  } finally {
    s.destroy();
  }
}

export interface HealthChecker {
  start(): void;
  stop(): void;
  /** One full round now (tests, and after a reload). */
  runOnce(): Promise<void>;
}

export function createHealthChecker(opts: {
  upstreams: UpstreamTable;
  record: GatewaySource['recordHealth'];
  /** told after every round (the gateway passes the results on to its worker threads) */
  onRound?: () => void;
  log: Logger;
  intervalMs: number;
  timeoutMs: number;
}): HealthChecker {
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> | null = null;

  async function check(r: Route): Promise<void> {
    const started = performance.now();
    let err: string | null;
    try {
      err = await probe(r, opts.timeoutMs);
    } catch (e) {
      err = e instanceof Error ? e.message : String(e);
    }
    const was = r.health;
    r.health = err ? 'down' : 'up';
    r.latencyMs = err ? null : Math.round(performance.now() - started);
    r.failures = err ? r.failures + 1 : 0;
    r.lastError = err;
    if (was !== r.health)
      opts.log.info(
        { upstream: r.label, port: r.target.boundPort, health: r.health, error: err },
        'upstream health changed',
      );
    try {
      await opts.record(r.target.id, {
        health: r.health,
        latencyMs: r.latencyMs,
        failures: r.failures,
        lastError: err,
        checkedAt: new Date(),
      });
    } catch (e) {
      opts.log.warn({ err: e, upstream: r.label }, 'could not record upstream health');
    }
  }

  async function round(): Promise<void> {
    const list = opts.upstreams.all().filter((r) => r.target.protocol !== 'direct');
    let i = 0;
    const worker = async (): Promise<void> => {
      while (i < list.length) await check(list[i++]);
    };
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, list.length) }, worker));
    opts.onRound?.();
  }

  const checker: HealthChecker = {
    start() {
      if (timer) return;
      timer = setInterval(() => {
        if (!running) running = round().finally(() => (running = null));
      }, opts.intervalMs);
      timer.unref();
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = null;
    },
    async runOnce() {
      if (running) await running;
      running = round().finally(() => (running = null));
      await running;
    },
  };
  return checker;
}
