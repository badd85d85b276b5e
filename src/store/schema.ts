// Drizzle schema: the single source of the SQL migrations in ./migrations
// (`npm run db:generate`; CI fails when they drift). Runs unchanged on PGlite
// and PostgreSQL. Sizes are bytes, rates bytes/s, durations seconds.
import {
  bigint,
  bigserial,
  boolean,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  serial,
  sql,
  text,
  timestamp,
} from './orm.ts';

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });
const created = () => ts('created_at').notNull().defaultNow();
const bytes = (name: string) => bigint(name, { mode: 'number' });

export const plans = pgTable('plans', {
  id: serial('id').primaryKey(),
  name: text('name').notNull().unique(),
  /** concurrent connections the customer bought */
  threads: integer('threads').notNull(),
  /** 'hard': refuse above threads; 'soft': allow up to threadsHardCap, strike rule applies */
  strikeMode: text('strike_mode').notNull().default('hard'),
  threadsHardCap: integer('threads_hard_cap'),
  strikeWindowSec: integer('strike_window_sec').notNull().default(900),
  lockoutSec: integer('lockout_sec').notNull().default(3600),
  /** new connections + forwarded HTTP requests per second; burst = rps */
  rps: integer('rps').notNull(),
  bandwidth: bytes('bandwidth'),
  connBandwidth: bytes('conn_bandwidth'),
  ipMaxConns: integer('ip_max_conns'),
  ipRps: integer('ip_rps'),
  quotaBytes: bytes('quota_bytes'),
  /** none | day | week | month | month_from_start */
  quotaPeriod: text('quota_period').notNull().default('month'),
  durationDays: integer('duration_days'),
  priceCents: integer('price_cents'),
  createdAt: created(),
  updatedAt: ts('updated_at').notNull().defaultNow(),
});

export const customers = pgTable(
  'customers',
  {
    id: serial('id').primaryKey(),
    username: text('username').notNull().unique(),
    passwordHash: text('password_hash').notNull(),
    apiKeyHash: text('api_key_hash').notNull().unique(),
    apiKeyPrefix: text('api_key_prefix').notNull(),
    planId: integer('plan_id')
      .notNull()
      .references(() => plans.id),
    /** active | disabled | banned */
    status: text('status').notNull().default('active'),
    banReason: text('ban_reason'),
    bannedUntil: ts('banned_until'),
    expiresAt: ts('expires_at'),
    startOnFirstUse: boolean('start_on_first_use').notNull().default(false),
    firstUsedAt: ts('first_used_at'),
    /** start of "month from start" quota periods */
    periodAnchor: ts('period_anchor').notNull().defaultNow(),
    createdAt: created(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [index('customers_plan_idx').on(t.planId)],
);

export const customerIps = pgTable(
  'customer_ips',
  {
    id: serial('id').primaryKey(),
    customerId: integer('customer_id')
      .notNull()
      .references(() => customers.id, { onDelete: 'cascade' }),
    /** canonical CIDR text ("1.2.3.4/32", "2001:db8::/48"); one owner per block */
    cidr: text('cidr').notNull().unique(),
    note: text('note'),
    expiresAt: ts('expires_at'),
    createdAt: created(),
  },
  (t) => [index('customer_ips_customer_idx').on(t.customerId)],
);

/** Customer portal sign-ins: a random token stored as SHA-256, valid until expiresAt and
 * while the customer's password is the one it was issued under (passwordFp). */
export const customerSessions = pgTable(
  'customer_sessions',
  {
    id: serial('id').primaryKey(),
    customerId: integer('customer_id')
      .notNull()
      .references(() => customers.id, { onDelete: 'cascade' }),
    tokenHash: text('token_hash').notNull().unique(),
    /** SHA-256 of the password hash at sign-in: a password change ends the session */
    passwordFp: text('password_fp').notNull(),
    ip: text('ip'),
    expiresAt: ts('expires_at').notNull(),
    createdAt: created(),
  },
  (t) => [index('customer_sessions_customer_idx').on(t.customerId)],
);

export const upstreams = pgTable(
  'upstreams',
  {
    id: serial('id').primaryKey(),
    /** http | socks5 | direct */
    protocol: text('protocol').notNull(),
    host: text('host').notNull(),
    port: integer('port').notNull(),
    /** AES-256-GCM ciphertexts (secret from PORTCULLIS_SECRET or DATA_DIR/secret.key) */
    usernameEnc: text('username_enc'),
    passwordEnc: text('password_enc'),
    /** keyed hash of the credentials, so re-imports recognise an upstream without decrypting */
    identity: text('identity').notNull().unique(),
    boundPort: integer('bound_port').notNull().unique(),
    /** unknown | up | down */
    health: text('health').notNull().default('unknown'),
    latencyMs: integer('latency_ms'),
    failures: integer('failures').notNull().default(0),
    lastCheckedAt: ts('last_checked_at'),
    lastError: text('last_error'),
    createdAt: created(),
  },
  (t) => [index('upstreams_host_idx').on(t.host, t.port)],
);

export const adminTokens = pgTable('admin_tokens', {
  id: serial('id').primaryKey(),
  name: text('name').notNull(),
  tokenHash: text('token_hash').notNull().unique(),
  prefix: text('prefix').notNull(),
  /** e.g. ["admin"], ["read"], ["customers:write"] */
  scopes: jsonb('scopes').$type<string[]>().notNull(),
  expiresAt: ts('expires_at'),
  lastUsedAt: ts('last_used_at'),
  revokedAt: ts('revoked_at'),
  createdAt: created(),
});

export const auditEvents = pgTable(
  'audit_events',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    at: ts('at').notNull().defaultNow(),
    actor: text('actor').notNull(),
    action: text('action').notNull(),
    target: text('target'),
    detail: jsonb('detail'),
    ip: text('ip'),
  },
  (t) => [index('audit_events_at_idx').on(t.at)],
);

export const securityEvents = pgTable(
  'security_events',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    at: ts('at').notNull().defaultNow(),
    kind: text('kind').notNull(),
    customerId: integer('customer_id'),
    ip: text('ip'),
    detail: jsonb('detail'),
  },
  (t) => [index('security_events_at_idx').on(t.at)],
);

export const usageHourly = pgTable(
  'usage_hourly',
  {
    customerId: integer('customer_id')
      .notNull()
      .references(() => customers.id, { onDelete: 'cascade' }),
    hour: ts('hour').notNull(),
    bytesUp: bytes('bytes_up').notNull().default(0),
    bytesDown: bytes('bytes_down').notNull().default(0),
    connections: bytes('connections').notNull().default(0),
    requests: bytes('requests').notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.customerId, t.hour] })],
);

export const settings = pgTable('settings', {
  key: text('key').primaryKey(),
  value: jsonb('value').notNull(),
  updatedAt: ts('updated_at').notNull().default(sql`now()`),
});

export const schemaTables = {
  plans,
  customers,
  customerIps,
  customerSessions,
  upstreams,
  adminTokens,
  auditEvents,
  securityEvents,
  usageHourly,
  settings,
};
