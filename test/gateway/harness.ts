// A gateway on loopback for integration tests: a fresh migrated store, real
// in-memory live state, and helpers to add plans, customers and upstreams
// straight through the schema (what the API does, minus HTTP), plus curl.
// Options (limits tests): an injected clock, Redis live state when REDIS_URL
// is set (a random key prefix, removed on close), or an existing store (a
// "restart" over the same database).
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { Redis } from 'ioredis';
import pino, { type Logger } from 'pino';
import { loadConfig } from '../../src/config.ts';
import { createGateway, type Gateway } from '../../src/gateway/index.ts';
import type { LiveState } from '../../src/live/live.ts';
import { createMemoryLive, type MemoryLive } from '../../src/live/memory.ts';
import { createRedisLive } from '../../src/live/redis.ts';
import { eq } from '../../src/store/orm.ts';
import { customerIps, customers, plans, upstreams } from '../../src/store/schema.ts';
import { type Cipher, createCipher, hashPassword } from '../../src/store/secrets.ts';
import { freePort } from '../helpers/peers.ts';
import { openTestStore, REDIS_URL, type TestStore } from '../helpers/store.ts';

export interface HarnessOptions {
  /** the gateway's clock (expiry, quota periods), also the memory live state's (buckets, hours) */
  now?: () => number;
  /** use Redis live state when REDIS_URL is set (memory otherwise) */
  redis?: boolean;
  /** use Redis live state at this URL (a Redis of the test's own; implies `redis`) */
  redisUrl?: string;
  /** the gateway's logger (default: silent unless TEST_LOG); the fuzzer counts its error lines */
  log?: Logger;
  /** run over this store (not closed by close()) instead of a fresh one */
  store?: TestStore;
}

export interface Harness {
  store: TestStore;
  /** MemoryLive unless started with { redis: true } and REDIS_URL set */
  live: MemoryLive | LiveState;
  cipher: Cipher;
  gateway: Gateway;
  addPlan(p?: Partial<typeof plans.$inferInsert>): Promise<number>;
  addCustomer(username: string, password: string, planId: number, ips?: string[]): Promise<number>;
  addUpstream(u: {
    protocol: 'http' | 'socks5' | 'direct';
    host?: string;
    port?: number;
    username?: string;
    password?: string;
    boundPort?: number;
  }): Promise<number>;
  setCustomer(id: number, set: Partial<typeof customers.$inferInsert>): Promise<void>;
  close(): Promise<void>;
}

export async function startHarness(
  env: Record<string, string> = {},
  opts: HarnessOptions = {},
): Promise<Harness> {
  const store = opts.store ?? (await openTestStore());
  const redisPrefix = `pctest:${randomBytes(5).toString('hex')}:`;
  let live: MemoryLive | LiveState;
  const redisUrl = opts.redisUrl ?? (opts.redis ? REDIS_URL : undefined);
  if (redisUrl) {
    const r = createRedisLive({ url: redisUrl, prefix: redisPrefix });
    await r.ready(5000);
    live = r;
  } else live = createMemoryLive({ now: opts.now });
  const cipher = createCipher(randomBytes(32));
  const config = loadConfig({
    PORTCULLIS_GATEWAY_HOST: '127.0.0.1',
    PORTCULLIS_EGRESS_ALLOW: '127.0.0.0/8,::1',
    PORTCULLIS_HEADER_TIMEOUT: '2s',
    PORTCULLIS_CONNECT_TIMEOUT: '3s',
    PORTCULLIS_HEALTH_INTERVAL: '1h',
    PORTCULLIS_DRAIN_TIMEOUT: '1s',
    PORTCULLIS_LOG_LEVEL: 'silent',
    ...env,
  });
  const log = opts.log ?? pino({ level: process.env.TEST_LOG ? 'debug' : 'silent' });
  const gateway = createGateway({ config, store, live, cipher, log, now: opts.now });
  await gateway.start();
  let planSeq = 0;
  return {
    store,
    live,
    cipher,
    gateway,
    async addPlan(p = {}) {
      const [row] = await store.db
        .insert(plans)
        .values({ ...p, name: p.name ?? `plan${++planSeq}`, threads: p.threads ?? 10, rps: p.rps ?? 0 })
        .returning({ id: plans.id });
      return row.id;
    },
    async addCustomer(username, password, planId, ips = []) {
      const [row] = await store.db
        .insert(customers)
        .values({
          username,
          passwordHash: await hashPassword(password),
          apiKeyHash: randomBytes(16).toString('hex'),
          apiKeyPrefix: 'pck_test',
          planId,
        })
        .returning({ id: customers.id });
      for (const cidr of ips) await store.db.insert(customerIps).values({ customerId: row.id, cidr });
      await live.publish({ type: 'customer', customerId: row.id });
      await settle();
      return row.id;
    },
    async addUpstream(u) {
      const boundPort = u.boundPort ?? (await freePort());
      await store.db.insert(upstreams).values({
        protocol: u.protocol,
        host: u.host ?? '',
        port: u.port ?? 0,
        usernameEnc: u.username !== undefined ? cipher.encrypt(u.username) : null,
        passwordEnc: u.password !== undefined ? cipher.encrypt(u.password) : null,
        identity: randomBytes(8).toString('hex'),
        boundPort,
      });
      await live.publish({ type: 'upstreams' });
      await settle();
      return boundPort;
    },
    async setCustomer(id, set) {
      await store.db.update(customers).set(set).where(eq(customers.id, id));
      await live.publish({ type: 'customer', customerId: id });
      await settle();
    },
    async close() {
      await gateway.stop({ drainTimeoutSec: 0 });
      await live.close();
      if (live.kind === 'redis' && redisUrl) await dropKeys(redisUrl, redisPrefix);
      if (!opts.store) await store.close();
    },
  };

  // Change events apply asynchronously (a store read); give them a moment.
  async function settle(): Promise<void> {
    for (let i = 0; i < 50; i++) await new Promise((r) => setTimeout(r, 10));
  }
}

async function dropKeys(url: string, prefix: string): Promise<void> {
  const r = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await r.connect();
    let cursor = '0';
    do {
      const [next, keys] = await r.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) await r.del(...keys);
    } while (cursor !== '0');
  } finally {
    r.disconnect();
  }
}

export interface CurlResult {
  code: number;
  /** curl's exit status */
  exit: number;
  body: string;
  stderr: string;
  /** HTTP code of the CONNECT answer (%{http_connect}) */
  connectCode: number;
}

/** Runs curl with a 10 s cap; `-w` appends codes we split off the body. */
export function curl(args: string[]): Promise<CurlResult> {
  return new Promise((resolve) => {
    execFile(
      'curl',
      ['-sS', '--max-time', '10', '-w', '\n%{http_code} %{http_connect}', ...args],
      { encoding: 'utf8' },
      (err, stdout, stderr) => {
        const i = stdout.lastIndexOf('\n');
        const [code, connect] = stdout.slice(i + 1).split(' ');
        resolve({
          code: Number(code),
          connectCode: Number(connect),
          exit: err ? ((err as { code?: number }).code ?? 1) : 0,
          body: stdout.slice(0, i),
          stderr,
        });
      },
    );
  });
}

/** Raw socket exchange: connect (from `localAddress`, a loopback address, when given), send, collect until the peer closes (or `ms`). */
export function rawExchange(
  port: number,
  chunks: (Buffer | string)[],
  ms = 3000,
  localAddress?: string,
): Promise<Buffer> {
  return new Promise((resolve) => {
    const s = net.connect({ port, host: '127.0.0.1', localAddress });
    const parts: Buffer[] = [];
    s.on('data', (d) => parts.push(d));
    s.on('error', () => {});
    s.on('close', () => {
      clearTimeout(t);
      resolve(Buffer.concat(parts));
    });
    const t = setTimeout(() => s.destroy(), ms);
    s.on('connect', () => {
      for (const c of chunks) s.write(c);
    });
  });
}

/** Waits until `cond` holds (polling), failing after `ms`. */
export async function eventually(cond: () => boolean | Promise<boolean>, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('condition not met in time');
}
