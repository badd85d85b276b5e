// The only reader of process.env. One zod schema over the environment
// (CONTRACT.md) and the flags of `portcullis up`; parsed once, frozen. A bad
// value stops start-up with a message naming the variable and what it expects.
import { availableParallelism, hostname } from 'node:os';
import { resolve } from 'node:path';
import { z } from 'zod';
import { parseCidr } from './domain/cidr.ts';
import { parseDuration } from './domain/units.ts';

// RADIUS joins as a role when it is built; until then naming it is an error,
// not a role that silently does nothing.
const ROLES = ['gateway', 'api', 'jobs'] as const;
export type Role = (typeof ROLES)[number];

/** The longest delay a Node timer keeps (2^31-1 ms); a longer one fires after 1 ms. */
const TIMER_MAX_SEC = Math.floor(2 ** 31 / 1000) - 1;

/** `timer`: the value becomes a setTimeout/setInterval delay, so it must fit one. */
const duration = (fallback: string, timer = false) =>
  z
    .string()
    .default(fallback)
    .transform((s, ctx) => {
      const v = parseDuration(s);
      if (Number.isNaN(v))
        ctx.addIssue({ code: 'custom', message: 'expected a duration like 30, 10s, 5m or 1h' });
      else if (timer && v > TIMER_MAX_SEC)
        ctx.addIssue({
          code: 'custom',
          message: `expected a duration of at most ${TIMER_MAX_SEC}s (about 24 days)`,
        });
      return v;
    });

const PORT_MSG = 'expected a port number from 0 to 65535';
const port = (fallback: number) =>
  z.coerce.number({ error: PORT_MSG }).int(PORT_MSG).min(0, PORT_MSG).max(65535, PORT_MSG).default(fallback);

const cidrList = z
  .string()
  .default('')
  .transform((s, ctx) => {
    const items = s
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean);
    for (const item of items)
      if (!parseCidr(item))
        ctx.addIssue({ code: 'custom', message: `"${item}" is not an IP address or CIDR` });
    return items;
  });

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no', 'on', 'off', ''])
  .default('false')
  .transform((s) => ['true', '1', 'yes', 'on'].includes(s));

const portRange = z
  .string()
  .default('4000-4999')
  .transform((s, ctx) => {
    const m = /^(\d+)-(\d+)$/.exec(s.trim());
    const from = m ? Number(m[1]) : Number.NaN;
    const to = m ? Number(m[2]) : Number.NaN;
    if (!(from >= 1 && to <= 65535 && from <= to)) {
      ctx.addIssue({ code: 'custom', message: 'expected a port range like 4000-4999' });
    }
    return { from, to };
  });

const THREADS_MSG = 'expected a number of threads from 1 to 64, or auto (one per CPU core)';
/** Worker threads bind the ports beside the main thread; only SO_REUSEPORT lets them. */
const REUSE_PORT = ['linux', 'freebsd', 'sunos', 'aix'].includes(process.platform);
const threads = z
  .string()
  .default('1')
  .transform((s, ctx) => {
    const v = s.trim() === 'auto' ? Math.min(64, availableParallelism()) : Number(s);
    if (!Number.isInteger(v) || v < 1 || v > 64) ctx.addIssue({ code: 'custom', message: THREADS_MSG });
    else if (v > 1 && !REUSE_PORT)
      ctx.addIssue({
        code: 'custom',
        message: `more than one thread needs SO_REUSEPORT, which ${process.platform} lacks`,
      });
    return v;
  });

/** Environment variable names; flags use the same names in kebab-case without the prefix. */
const schema = z.object({
  PORTCULLIS_DATA_DIR: z.string().min(1).default('./data'),
  PORTCULLIS_API_HOST: z.string().min(1).default('0.0.0.0'),
  PORTCULLIS_API_PORT: port(8787),
  PORTCULLIS_GATEWAY_HOST: z.string().min(1).default('0.0.0.0'),
  PORTCULLIS_PORTS: portRange,
  PORTCULLIS_GATEWAY_THREADS: threads,
  PORTCULLIS_PUBLIC_HOST: z.string().min(1).default(hostname()),
  PORTCULLIS_ADMIN_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  PORTCULLIS_SECRET: z.string().min(16, 'must be at least 16 characters').optional(),
  PORTCULLIS_EGRESS_ALLOW: cidrList,
  PORTCULLIS_INTERNAL_ALLOW: cidrList,
  PORTCULLIS_AUTH_FAIL_LIMIT: z.coerce
    .number({ error: 'expected a whole number of failed attempts (0 disables lock-outs)' })
    .int('expected a whole number of failed attempts (0 disables lock-outs)')
    .min(0, 'expected a whole number of failed attempts (0 disables lock-outs)')
    .default(10),
  PORTCULLIS_AUTH_FAIL_WINDOW: duration('10m'),
  PORTCULLIS_AUTH_LOCKOUT: duration('15m'),
  PORTCULLIS_API_RATE_LIMIT: z.coerce
    .number({ error: 'expected a whole number of requests per minute' })
    .int()
    .min(0)
    .default(300),
  PORTCULLIS_ROLE: z
    .string()
    .default('all')
    .transform((s, ctx) => {
      const items = s.split(',').map((x) => x.trim());
      if (items.length === 1 && items[0] === 'all') return [...ROLES];
      for (const r of items)
        if (!(ROLES as readonly string[]).includes(r))
          ctx.addIssue({ code: 'custom', message: `"${r}" is not one of all, ${ROLES.join(', ')}` });
      return items as Role[];
    }),
  PORTCULLIS_LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
    .default('info'),
  PORTCULLIS_FAILOVER: bool,
  PORTCULLIS_HEALTH_INTERVAL: duration('30s', true),
  PORTCULLIS_CONNECT_TIMEOUT: duration('10s', true),
  PORTCULLIS_IDLE_TIMEOUT: duration('5m', true),
  PORTCULLIS_HEADER_TIMEOUT: duration('10s', true),
  PORTCULLIS_HANDSHAKES_PER_IP: z.coerce
    .number({ error: 'expected a whole number of connections (0: no cap)' })
    .int('expected a whole number of connections (0: no cap)')
    .min(0, 'expected a whole number of connections (0: no cap)')
    .default(256),
  PORTCULLIS_DRAIN_TIMEOUT: duration('10s', true),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must start with postgres:// or postgresql://')
    .optional(),
  PORTCULLIS_REDIS_PREFIX: z
    .string()
    .regex(/^[\w:.-]{1,64}$/, 'expected 1-64 of [A-Za-z0-9_:.-]')
    .default('pc:'),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, 'must start with redis:// or rediss://')
    .optional(),
});

export interface Config {
  dataDir: string;
  api: { host: string; port: number; rateLimitPerMin: number };
  gateway: {
    host: string;
    ports: { from: number; to: number };
    egressAllow: string[];
    failover: boolean;
    healthIntervalSec: number;
    connectTimeoutSec: number;
    idleTimeoutSec: number;
    headerTimeoutSec: number;
    /** connections from one address in handshake at once, per gateway thread (0: no cap) */
    handshakesPerIp: number;
    drainTimeoutSec: number;
    /** threads serving the ports, the main thread included (1: no worker threads) */
    threads: number;
  };
  publicHost: string;
  adminToken: string | undefined;
  secret: string | undefined;
  internalAllow: string[];
  /**
   * Credential lock-out (gateway and API): `limit` distinct failed attempts
   * within `windowSec` lock the client IP, and the username, for `lockoutSec`.
   * Any of them 0: off. See docs/security.md.
   */
  authLockout: { limit: number; windowSec: number; lockoutSec: number };
  roles: Role[];
  logLevel: string;
  databaseUrl: string | undefined;
  redisUrl: string | undefined;
  /** key prefix in Redis, so several installations can share one server */
  redisPrefix: string;
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** Flags of `portcullis up` (kebab-case, e.g. `--api-port 9000`) override the environment. */
export function flagsToEnv(flags: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(flags)) {
    if (v === undefined) continue;
    const name = k.replace(/-/g, '_').toUpperCase();
    out[name === 'DATABASE_URL' || name === 'REDIS_URL' ? name : `PORTCULLIS_${name}`] = v;
  }
  return out;
}

export function loadConfig(
  env: Record<string, string | undefined> = process.env,
  flags: Record<string, string | undefined> = {},
): Readonly<Config> {
  const known = Object.keys(schema.shape);
  const merged: Record<string, string> = {};
  for (const k of known) {
    const v = env[k];
    if (v !== undefined && v !== '') merged[k] = v;
  }
  const fromFlags = flagsToEnv(flags);
  for (const k of Object.keys(fromFlags)) {
    if (!known.includes(k))
      throw new ConfigError(
        `unknown option --${k
          .replace(/^PORTCULLIS_/, '')
          .toLowerCase()
          .replace(/_/g, '-')}`,
      );
  }
  Object.assign(merged, fromFlags);
  const parsed = schema.safeParse(merged);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${String(i.path[0])}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  const config: Config = {
    dataDir: resolve(e.PORTCULLIS_DATA_DIR),
    api: {
      host: e.PORTCULLIS_API_HOST,
      port: e.PORTCULLIS_API_PORT,
      rateLimitPerMin: e.PORTCULLIS_API_RATE_LIMIT,
    },
    gateway: {
      host: e.PORTCULLIS_GATEWAY_HOST,
      ports: e.PORTCULLIS_PORTS,
      egressAllow: e.PORTCULLIS_EGRESS_ALLOW,
      failover: e.PORTCULLIS_FAILOVER,
      healthIntervalSec: e.PORTCULLIS_HEALTH_INTERVAL,
      connectTimeoutSec: e.PORTCULLIS_CONNECT_TIMEOUT,
      idleTimeoutSec: e.PORTCULLIS_IDLE_TIMEOUT,
      headerTimeoutSec: e.PORTCULLIS_HEADER_TIMEOUT,
      handshakesPerIp: e.PORTCULLIS_HANDSHAKES_PER_IP,
      drainTimeoutSec: e.PORTCULLIS_DRAIN_TIMEOUT,
      threads: e.PORTCULLIS_GATEWAY_THREADS,
    },
    publicHost: e.PORTCULLIS_PUBLIC_HOST,
    adminToken: e.PORTCULLIS_ADMIN_TOKEN,
    secret: e.PORTCULLIS_SECRET,
    internalAllow: ['127.0.0.0/8', '::1', ...e.PORTCULLIS_INTERNAL_ALLOW],
    authLockout: {
      limit: e.PORTCULLIS_AUTH_FAIL_LIMIT,
      windowSec: e.PORTCULLIS_AUTH_FAIL_WINDOW,
      lockoutSec: e.PORTCULLIS_AUTH_LOCKOUT,
    },
    roles: e.PORTCULLIS_ROLE,
    logLevel: e.PORTCULLIS_LOG_LEVEL,
    databaseUrl: e.DATABASE_URL,
    redisUrl: e.REDIS_URL,
    redisPrefix: e.PORTCULLIS_REDIS_PREFIX,
  };
  return deepFreeze(config);
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}

/** Client-side settings for the CLI (it talks to the API). */
export function cliEnv(env: Record<string, string | undefined> = process.env) {
  return {
    url: env.PORTCULLIS_URL,
    token: env.PORTCULLIS_TOKEN,
    dataDir: resolve(env.PORTCULLIS_DATA_DIR || './data'),
    apiPort: Number(env.PORTCULLIS_API_PORT || 8787),
    noColor: Boolean(env.NO_COLOR),
  };
}
