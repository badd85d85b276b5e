// The bounded random-byte fuzzer against a live gateway and a live API on
// loopback (real sockets, in this process). Inputs: pure noise, and
// well-formed HTTP, SOCKS5 and SOCKS4 handshakes (with valid credentials on a
// port whose upstream is a local sink, so nothing dials out) or well-formed
// API requests, mutated. Each input is one connection: written in 1-3
// chunks, then read until the peer closes or a short wait ends it.
//
// What must hold: no exception escapes, the gateway logs no "failed
// unexpectedly" error, the API answers no 5xx (but 503), a well-behaved
// request (the canary) succeeds every `canaryEvery` inputs, and afterwards
// no socket is left (gateway registry, its client sockets, this process's
// sockets on the watched ports), no thread is held, and the heap is back
// near where it started (reported; checked by the caller).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { Writable } from 'node:stream';
import fc from 'fast-check';
import pino from 'pino';
import { type Api, startApi } from '../api/harness.ts';
import { expectNoSockets } from '../clients/sockets.ts';
import { eventually, type Harness, startHarness } from '../gateway/harness.ts';
import { ORIGIN_BODY, type Origin, startOrigin } from '../helpers/origin.ts';
import { hostileBytes, mutated, noise } from './common.ts';
import { headArb, render } from './http-head.ts';
import { type Sink, startSink } from './sink.ts';
import { encode4, encodeReq, req5, s4 } from './socks.ts';

export interface LiveOptions {
  /** inputs to send (connections) */
  inputs: number;
  /** stop early after this long (ms): the run is bounded in count and time */
  deadlineMs: number;
  /** connections in flight at once */
  concurrency: number;
  seed: number;
  /** a well-behaved request every this many inputs */
  canaryEvery: number;
  /** how long one input's connection may stay open before we drop it (ms) */
  holdMs: number;
  progress?: (line: string) => void;
}

export interface LiveReport {
  target: 'gateway' | 'api';
  inputs: number;
  /** connections that got at least one byte back */
  answered: number;
  /** connections the server closed before we dropped them */
  closedByServer: number;
  /** gateway: requests that got through to the (sink) upstream */
  reachedUpstream?: number;
  canaries: number;
  ms: number;
  /** heapUsed in MB after warm-up and after the run (after GC when --expose-gc) */
  heapBeforeMb: number;
  heapAfterMb: number;
  /** answers by HTTP status class or SOCKS reply (first bytes), for the report */
  shapes: Record<string, number>;
  /** what went wrong (empty when the run passed) */
  failures: string[];
}

const USER = 'fuzz';
const PASS = 'fuzz-secret-9f3c';
const WRONG = 'fuzz-wrong';

function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}
const heapMb = () => {
  gc();
  gc();
  return Math.round((process.memoryUsage().heapUsed / 1048576) * 10) / 10;
};

/** One input: connect, write the chunks, read until the server closes or `holdMs` passes. */
function exchange(
  port: number,
  chunks: Buffer[],
  holdMs: number,
  halfClose: boolean,
): Promise<{ got: Buffer; closedByServer: boolean }> {
  return new Promise((resolve) => {
    const s = net.connect({ port, host: '127.0.0.1', allowHalfOpen: !halfClose });
    const parts: Buffer[] = [];
    let size = 0;
    let dropped = false;
    s.on('data', (d: Buffer) => {
      if (size < 4096) parts.push(d);
      size += d.length;
    });
    s.on('error', () => {});
    // The server ended its side: that is its answer, whatever our side does.
    s.on('end', () => s.destroy());
    s.on('close', () => {
      clearTimeout(t);
      resolve({ got: Buffer.concat(parts), closedByServer: !dropped });
    });
    // Dropping: RST, as a client vanishing would (and no TIME_WAIT piling up on our side).
    // Not after our end(): libuv refuses to reset a socket that is shutting down, and Node
    // then never emits 'close'.
    const t = setTimeout(() => {
      dropped = true;
      if (s.readyState === 'open') s.resetAndDestroy();
      else s.destroy();
    }, holdMs);
    s.on('connect', () => {
      let i = 0;
      const next = (): void => {
        if (s.destroyed) return;
        if (i < chunks.length) {
          s.write(chunks[i++]);
          setImmediate(next);
        } else if (halfClose) s.end();
      };
      next();
    });
  });
}

/** Splits an input into 1-3 writes at points derived from its own bytes (deterministic per input). */
function chunksOf(b: Buffer, salt: number): Buffer[] {
  if (b.length < 2 || salt % 3 === 0) return [b];
  const a = 1 + (salt % (b.length - 1));
  if (salt % 3 === 1 || a + 1 >= b.length) return [b.subarray(0, a), b.subarray(a)];
  const c = a + 1 + ((salt >> 3) % (b.length - a - 1));
  return [b.subarray(0, a), b.subarray(a, c), b.subarray(c)];
}

const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;

/** Handshakes with the given credentials; the mutator breaks them in every way. */
/** targets a proxy client asks for: public and private addresses, names, odd spellings */
const targetHost = fc.oneof(
  fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((a) => a.join('.')),
  fc.constantFrom(
    'example.com',
    'a.b.example.net',
    'localhost',
    '127.0.0.1',
    '10.0.0.1',
    '[::1]',
    '[2001:db8::1]',
  ),
  fc.constantFrom('2130706433', '0x7f.1', '169.254.169.254', '[::ffff:10.0.0.1]', 'x'.repeat(300)),
);

function gatewayInputs(user: string, pass: string): fc.Arbitrary<Buffer> {
  // Mostly requests a real client would send (so they get past parsing and admission), some anything.
  const plausible = fc
    .tuple(
      fc.constantFrom('GET', 'POST', 'HEAD', 'CONNECT', 'OPTIONS'),
      targetHost,
      fc.integer({ min: 0, max: 65535 }),
    )
    .map(([m, host, port]) => ({
      method: m,
      target: m === 'CONNECT' ? `${host}:${port}` : `http://${host}:${port}/p?q=1`,
    }));
  const http = fc
    .tuple(headArb, fc.option(plausible, { freq: 3 }), fc.boolean(), fc.uint8Array({ maxLength: 300 }))
    .map(([h, line, noAuth, body]) => {
      const fields = noAuth
        ? h.fields
        : [
            ...h.fields,
            ['Proxy-Authorization', ' ', basic(user, pass), ''] as [string, string, string, string],
          ];
      return Buffer.concat([Buffer.from(render({ ...h, ...line, fields }), 'latin1'), Buffer.from(body)]);
    });
  const up = Buffer.concat([
    Buffer.from([1, user.length]),
    Buffer.from(user),
    Buffer.from([pass.length]),
    Buffer.from(pass),
  ]);
  const socks5 = fc
    .tuple(req5, fc.uint8Array({ maxLength: 64 }))
    .map(([r, tail]) => Buffer.concat([Buffer.from([5, 1, 2]), up, encodeReq(r), Buffer.from(tail)]));
  const socks4 = fc
    .tuple(s4, fc.uint8Array({ maxLength: 64 }))
    .map(([m, tail]) => Buffer.concat([encode4({ ...m, userid: `${user}:${pass}` }), Buffer.from(tail)]));
  const valid = fc.oneof(http, socks5, socks4);
  return fc.oneof(
    { arbitrary: valid, weight: 2 },
    { arbitrary: mutated(valid, 2), weight: 3 },
    { arbitrary: hostileBytes(valid, 4096), weight: 1 },
  );
}

/** A shape label for the report: HTTP status class, SOCKS reply, or nothing. */
function shapeOf(got: Buffer): string {
  if (got.length === 0) return 'closed, no answer';
  const head = got.toString('latin1', 0, 12);
  if (head.startsWith('HTTP/1.1 ')) return `HTTP ${head.slice(9, 12)}`;
  const hex = (n: number) => `0x${n.toString(16).padStart(2, '0')}`;
  if (got[0] === 5 && got.length >= 2) {
    // method choice [5, m], then RFC 1929 status [1, s] (when m = 2), then the request reply [5, rep, ...]
    if (got[1] === 0xff) return 'SOCKS5 no acceptable method';
    const at = got[1] === 2 ? 4 : 2;
    if (got[1] === 2 && got.length >= 4 && got[3] !== 0) return 'SOCKS5 auth refused';
    return got.length > at + 1 ? `SOCKS5 reply ${hex(got[at + 1])}` : 'SOCKS5 handshake, no reply';
  }
  if (got[0] === 0 && got.length >= 2) return `SOCKS4 ${hex(got[1])}`;
  return 'other bytes';
}

/** Runs `inputs` through `send` with a pool of `concurrency`, batches of inputs sampled by seed. */
async function pump<T>(
  o: LiveOptions,
  arb: fc.Arbitrary<T>,
  send: (x: T, i: number) => Promise<void>,
  canary: () => Promise<void>,
): Promise<{ sent: number; canaries: number }> {
  const started = Date.now();
  let sent = 0;
  let canaries = 0;
  const BATCH = 500;
  for (let batch = 0; sent < o.inputs && Date.now() - started < o.deadlineMs; batch++) {
    const n = Math.min(BATCH, o.inputs - sent);
    const items = fc.sample(arb, { numRuns: n, seed: o.seed + batch });
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < items.length && Date.now() - started < o.deadlineMs) {
        const i = next++;
        await send(items[i], sent + i);
      }
    };
    await Promise.all(Array.from({ length: o.concurrency }, worker));
    sent += Math.min(next, items.length);
    if (Math.floor(sent / o.canaryEvery) > canaries) {
      await canary();
      canaries++;
    }
    o.progress?.(`  ${sent} inputs, ${Math.round((Date.now() - started) / 1000)} s`);
  }
  await canary();
  return { sent, canaries: canaries + 1 };
}

/** Collects what must not happen anywhere in the process while a run lasts. */
function watchProcess(failures: string[]): () => void {
  const onErr = (e: unknown) => failures.push(`uncaught: ${String((e as Error)?.stack ?? e).slice(0, 500)}`);
  process.on('uncaughtException', onErr);
  process.on('unhandledRejection', onErr);
  return () => {
    process.off('uncaughtException', onErr);
    process.off('unhandledRejection', onErr);
  };
}

export async function fuzzGateway(o: LiveOptions): Promise<LiveReport> {
  const failures: string[] = [];
  const unwatch = watchProcess(failures);
  // The gateway's error lines are findings ("failed unexpectedly" = a path nobody handled).
  const log = pino(
    { level: 'error' },
    new Writable({
      write(line, _enc, cb) {
        if (failures.length < 50) failures.push(`gateway logged: ${String(line).slice(0, 400)}`);
        cb();
      },
    }),
  );
  let h: Harness | undefined;
  let origin: Origin | undefined;
  let sink: Sink | undefined;
  const shapes: Record<string, number> = {};
  let answered = 0;
  let closedByServer = 0;
  try {
    origin = await startOrigin();
    sink = await startSink({ record: false });
    h = await startHarness(
      { PORTCULLIS_HEADER_TIMEOUT: '1s', PORTCULLIS_AUTH_FAIL_LIMIT: '0', PORTCULLIS_CONNECT_TIMEOUT: '2s' },
      { redis: true, log },
    );
    const plan = await h.addPlan({ threads: 10_000 });
    const customerId = await h.addCustomer(USER, PASS, plan);
    // direct: only wrong credentials reach it (nothing can dial out); chained: valid ones, to the sink.
    const direct = await h.addUpstream({ protocol: 'direct' });
    const chained = await h.addUpstream({ protocol: 'http', host: '127.0.0.1', port: sink.port });
    const harness = h;
    const originUrl = origin.url;

    const canary = async (): Promise<void> => {
      const r = await exchange(
        direct,
        [
          Buffer.from(
            `GET ${originUrl}/ HTTP/1.1\r\nProxy-Authorization: ${basic(USER, PASS)}\r\nConnection: close\r\n\r\n`,
          ),
        ],
        10_000,
        false,
      );
      const text = r.got.toString('latin1');
      if (!text.startsWith('HTTP/1.1 200 ') || !text.endsWith(ORIGIN_BODY))
        failures.push(`canary through the gateway failed: ${JSON.stringify(text.slice(0, 120))}`);
    };
    const record = (got: Buffer, closed: boolean): void => {
      if (got.length > 0) answered++;
      if (closed) closedByServer++;
      const k = shapeOf(got);
      shapes[k] = (shapes[k] ?? 0) + 1;
    };

    // Warm-up, then the heap baseline.
    await canary();
    const heapBeforeMb = heapMb();
    const started = Date.now();
    const arb = fc.oneof(
      gatewayInputs(USER, PASS).map((b) => ({ port: chained, b })),
      gatewayInputs(USER, WRONG).map((b) => ({ port: direct, b })),
      noise(2048).map((b) => ({ port: direct, b })),
    );
    const { sent, canaries } = await pump(
      o,
      arb,
      async ({ port, b }, i) => {
        const r = await exchange(port, chunksOf(b, i * 2654435761), o.holdMs, i % 4 === 0);
        record(r.got, r.closedByServer);
      },
      canary,
    );
    const ms = Date.now() - started;

    // Nothing left: registry, client sockets, threads, this process's sockets on the watched ports.
    await eventually(
      async () =>
        harness.gateway.connections().length === 0 &&
        harness.gateway.openSockets === 0 &&
        (await harness.live.threads(customerId)) === 0,
      10_000,
    ).catch(() =>
      failures.push(
        `left open: ${harness.gateway.connections().length} live connections, ${harness.gateway.openSockets} client sockets`,
      ),
    );
    await expectNoSockets({ served: [direct, chained], dialled: [sink.port, origin.port] }, 10_000).catch(
      (e) => failures.push(String(e)),
    );
    const heapAfterMb = heapMb();
    return {
      target: 'gateway',
      inputs: sent,
      answered,
      closedByServer,
      reachedUpstream: sink.count,
      canaries,
      ms,
      heapBeforeMb,
      heapAfterMb,
      shapes,
      failures,
    };
  } finally {
    unwatch();
    await h?.close();
    await sink?.close();
    await origin?.close();
  }
}

// ---- API ------------------------------------------------------------------

interface Operation {
  method: string;
  path: string;
}

const openapi = () =>
  JSON.parse(readFileSync(new URL('../../docs/openapi.json', import.meta.url), 'utf8')) as {
    paths: Record<string, Record<string, unknown>>;
  };

/** Every route of the committed OpenAPI document (a drift test keeps it equal to the served one). */
function operations(): Operation[] {
  return Object.entries(openapi().paths).flatMap(([path, ops]) =>
    Object.keys(ops).map((m) => ({ method: m.toUpperCase(), path })),
  );
}

/** Every property name the document's schemas mention: the keys fuzzed bodies use. */
function schemaKeys(): string[] {
  const out = new Set<string>();
  const walk = (o: unknown): void => {
    if (Array.isArray(o)) for (const v of o) walk(v);
    else if (o && typeof o === 'object') {
      const props = (o as { properties?: unknown }).properties;
      if (props && typeof props === 'object') for (const k of Object.keys(props)) out.add(k);
      for (const v of Object.values(o)) walk(v);
    }
  };
  walk(openapi());
  return [...out];
}

const NASTY = [
  '',
  ' ',
  '0',
  '-1',
  '1e309',
  '99999999999999999999',
  'null',
  '../../etc/passwd',
  "' OR 1=1 --",
  'Robert"); DROP TABLE customers;--',
  '%00',
  '\u0000',
  '\uFEFF',
  '\u202E',
  '🔥'.repeat(40),
  'a'.repeat(5000),
  '10.0.0.0/8',
  '::/0',
  '2030-01-01T00:00:00Z',
  'unlimited',
  '30d',
  '<script>alert(1)</script>',
  '$' + '{jndi:ldap://x}', // log4shell's shape, as text
  '\r\nX-Injected: 1',
];
const nasty = fc.oneof(fc.constantFrom(...NASTY), fc.string({ unit: 'binary', maxLength: 40 }));
const jsonish: fc.Arbitrary<unknown> = fc.oneof(
  nasty,
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(nasty, { maxLength: 4 }),
  fc.constant({}),
);

function apiInputs(ops: Operation[], token: string, keys: string[]): fc.Arbitrary<Buffer> {
  const segment = fc.oneof(
    fc.constantFrom('alice', 'fuzz', 'p1', '1', '0', '127.0.0.1%2F32', '%2e%2e', 'a%2Fb', '%ZZ'),
    nasty.map((s) => encodeURIComponent(s)),
  );
  const path = fc
    .tuple(fc.constantFrom(...ops), fc.array(segment, { minLength: 4, maxLength: 4 }))
    .map(([op, segs]) => {
      let i = 0;
      return { op, url: op.path.replace(/\{[^}]+\}/g, () => segs[i++]) };
    });
  const query = fc
    .array(
      fc.tuple(
        fc.constantFrom('limit', 'offset', 'q', 'plan', 'status', 'since', 'api_key', 'before'),
        nasty,
      ),
      {
        maxLength: 3,
      },
    )
    .map((qs) => (qs.length ? `?${qs.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&')}` : ''));
  const body = fc.oneof(
    fc.dictionary(fc.constantFrom(...keys), jsonish, { maxKeys: 6 }).map((o) => JSON.stringify(o)),
    fc.jsonValue().map((v) => JSON.stringify(v)),
    fc.string({ unit: 'binary', maxLength: 200 }),
    fc.constant(''),
  );
  const auth = fc.constantFrom(
    `Bearer ${token}`,
    `Bearer ${token}`,
    'Bearer pck_nope',
    basic('alice', 'x'),
    '',
    'Basic ',
  );
  const ctype = fc.constantFrom(
    'application/json',
    'application/json',
    'text/plain',
    'application/x-www-form-urlencoded',
    '',
  );
  const method = fc.oneof(
    { arbitrary: fc.constant(null), weight: 8 },
    { arbitrary: fc.constantFrom('PUT', 'TRACE', 'OPTIONS', 'HEAD', 'FOO'), weight: 1 },
  );
  const request = fc.tuple(path, query, body, auth, ctype, method).map(([{ op, url }, q, b, a, ct, m]) => {
    const payload = Buffer.from(b, 'utf8');
    const head = [
      `${m ?? op.method} ${url}${q} HTTP/1.1`,
      'Host: 127.0.0.1',
      'Connection: close',
      ...(a ? [`Authorization: ${a}`] : []),
      ...(ct ? [`Content-Type: ${ct}`] : []),
      ...(op.method === 'GET' && m === null ? [] : [`Content-Length: ${payload.length}`]),
    ].join('\r\n');
    return Buffer.concat([
      Buffer.from(`${head}\r\n\r\n`, 'latin1'),
      op.method === 'GET' && m === null ? Buffer.alloc(0) : payload,
    ]);
  });
  return fc.oneof(
    { arbitrary: request, weight: 6 },
    { arbitrary: mutated(request), weight: 3 },
    { arbitrary: noise(1024), weight: 1 },
  );
}

export async function fuzzApi(o: LiveOptions): Promise<LiveReport> {
  const failures: string[] = [];
  const unwatch = watchProcess(failures);
  let api: Api | undefined;
  const shapes: Record<string, number> = {};
  let answered = 0;
  let closedByServer = 0;
  try {
    api = await startApi({ env: { PORTCULLIS_AUTH_FAIL_LIMIT: '0' } });
    const address = await api.app.listen({ host: '127.0.0.1', port: 0 });
    const port = Number(new URL(address).port);
    // Something to find: a plan, a customer with a whitelist entry, an upstream.
    await api.req('POST', '/api/v1/plans', { body: { name: 'p1', threads: 5 } });
    await api.req('POST', '/api/v1/customers', { body: { username: 'alice', plan: 'p1' } });
    await api.req('POST', '/api/v1/customers/alice/ips', { body: { cidr: '127.0.0.1/32' } });
    await api.req('POST', '/api/v1/upstreams/import', { text: 'direct\n' });
    const ops = operations();
    const keys = schemaKeys();

    const canary = async (): Promise<void> => {
      const r = await exchange(
        port,
        [Buffer.from('GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')],
        10_000,
        false,
      );
      if (!r.got.toString('latin1').startsWith('HTTP/1.1 200 '))
        failures.push(
          `canary GET /healthz failed: ${JSON.stringify(r.got.toString('latin1').slice(0, 120))}`,
        );
    };
    await canary();
    const heapBeforeMb = heapMb();
    const started = Date.now();
    const { sent, canaries } = await pump(
      o,
      apiInputs(ops, api.token, keys),
      async (b, i) => {
        const r = await exchange(port, chunksOf(b, i * 2654435761), o.holdMs, i % 4 === 0);
        if (r.got.length > 0) answered++;
        if (r.closedByServer) closedByServer++;
        const k = shapeOf(r.got);
        shapes[k] = (shapes[k] ?? 0) + 1;
        const status = Number(r.got.toString('latin1', 9, 12));
        if (status >= 500 && status !== 503 && failures.length < 50)
          failures.push(
            `API answered ${status} to ${JSON.stringify(b.toString('latin1').slice(0, 300))}: ${JSON.stringify(r.got.toString('latin1').slice(0, 300))}`,
          );
      },
      canary,
    );
    const ms = Date.now() - started;
    await expectNoSockets({ served: [port], dialled: [port] }, 10_000).catch((e) => failures.push(String(e)));
    const heapAfterMb = heapMb();
    return {
      target: 'api',
      inputs: sent,
      answered,
      closedByServer,
      canaries,
      ms,
      heapBeforeMb,
      heapAfterMb,
      shapes,
      failures,
    };
  } finally {
    unwatch();
    await api?.close();
  }
}

/** The checks a caller applies to a report; `maxHeapGrowthMb` bounds "memory flat". */
export function assertClean(r: LiveReport, maxHeapGrowthMb: number): void {
  assert.deepEqual(r.failures, [], `${r.target}: ${r.failures.length} finding(s)`);
  assert.ok(r.canaries >= 1);
  assert.ok(
    r.heapAfterMb - r.heapBeforeMb <= maxHeapGrowthMb,
    `${r.target}: heap grew ${r.heapBeforeMb} -> ${r.heapAfterMb} MB`,
  );
}
