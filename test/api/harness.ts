// An API under test: a real store (PGlite, or PostgreSQL with DATABASE_URL),
// real live state (memory, or Redis with REDIS_URL), the bootstrap admin
// token, and a small request helper over app.inject().
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { buildApp } from '../../src/api/app.ts';
import type { GatewayConnections } from '../../src/api/deps.ts';
import { bootstrap } from '../../src/bootstrap.ts';
import { type Config, loadConfig } from '../../src/config.ts';
import { createLive } from '../../src/live/index.ts';
import type { LiveState } from '../../src/live/live.ts';
import type { Store } from '../../src/store/db.ts';
import { type Cipher, createCipher } from '../../src/store/secrets.ts';
import { openTestStore, REDIS_URL } from '../helpers/store.ts';

export interface Api {
  app: FastifyInstance;
  store: Store;
  live: LiveState;
  config: Readonly<Config>;
  cipher: Cipher;
  token: string;
  req(method: string, url: string, opts?: ReqOpts): Promise<Res>;
  close(): Promise<void>;
}

export interface ReqOpts {
  token?: string | null;
  body?: unknown;
  text?: string;
  headers?: Record<string, string>;
  ip?: string;
}

export interface Res {
  status: number;
  headers: Record<string, unknown>;
  body: string;
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON answers
  json: any;
}

export interface StartOpts {
  env?: Record<string, string>;
  store?: Store;
  now?: () => number;
  gatewayStatus?: () => Map<number, { state: string; error?: string }>;
  gatewayConnections?: GatewayConnections;
  /** the built web console to serve at / (default web/dist) */
  webDir?: string;
  /** run over this live state (not closed by close()), e.g. one a gateway shares */
  live?: LiveState;
}

export async function startApi(opts: StartOpts = {}): Promise<Api> {
  const dataDir = mkdtempSync(join(tmpdir(), 'pc-api-'));
  const config = loadConfig({
    PORTCULLIS_DATA_DIR: dataDir,
    PORTCULLIS_PUBLIC_HOST: 'proxy.test',
    PORTCULLIS_API_RATE_LIMIT: '0',
    ...opts.env,
  });
  const store = opts.store ?? (await openTestStore());
  const live =
    opts.live ??
    (await createLive({
      redisUrl: REDIS_URL,
      prefix: `pc-test-${randomBytes(4).toString('hex')}:`,
    }));
  const log = pino({ level: 'silent' });
  const cipher = createCipher(randomBytes(32));
  const app = await buildApp({
    config,
    store,
    live,
    cipher,
    log,
    now: opts.now,
    gatewayStatus: opts.gatewayStatus,
    gatewayConnections: opts.gatewayConnections,
    webDir: opts.webDir,
  });
  const boot = await bootstrap({ config, store });
  const token = boot.generatedToken ?? config.adminToken!;

  async function req(method: string, url: string, o: ReqOpts = {}): Promise<Res> {
    const headers: Record<string, string> = { ...o.headers };
    const t = o.token === undefined ? token : o.token;
    if (t !== null && !headers.authorization) headers.authorization = `Bearer ${t}`;
    let payload: string | undefined;
    if (o.text !== undefined) {
      headers['content-type'] ??= 'text/plain';
      payload = o.text;
    } else if (o.body !== undefined) {
      headers['content-type'] ??= 'application/json';
      payload = typeof o.body === 'string' ? o.body : JSON.stringify(o.body);
    }
    const r = await app.inject({
      method: method as 'GET',
      url,
      headers,
      payload,
      remoteAddress: o.ip ?? '127.0.0.1',
    });
    let json: unknown;
    try {
      json = JSON.parse(r.body);
    } catch {
      json = undefined;
    }
    return { status: r.statusCode, headers: r.headers, body: r.body, json };
  }

  return {
    app,
    store,
    live,
    config,
    cipher,
    token,
    req,
    async close() {
      await app.close();
      if (!opts.live) await live.close();
      if (!opts.store) await store.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A plan and a customer on it; answers the creation body (apiKey, password). */
export async function seedCustomer(api: Api, username = 'alice', planBody: Record<string, unknown> = {}) {
  const plan = `p-${username}`;
  const p = await api.req('POST', '/api/v1/plans', {
    body: { name: plan, threads: 5, rps: 10, quotaBytes: 1_000_000, ...planBody },
  });
  if (p.status !== 201) throw new Error(`plan: ${p.status} ${p.body}`);
  const c = await api.req('POST', '/api/v1/customers', { body: { username, plan } });
  if (c.status !== 201) throw new Error(`customer: ${c.status} ${c.body}`);
  return c.json as { id: number; username: string; apiKey: string; password: string; plan: string };
}

export function basicAuth(user: string, pass: string): string {
  return `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
}
