// JSON schemas of the API (validated by ajv with allErrors, so a 400 names
// every bad field; documented by @fastify/swagger). Units: bytes, bytes/s,
// seconds, ISO-8601 times. Bodies refuse unknown fields so typos are reported.

const int = (min = 0, max = 2_147_483_647) => ({ type: 'integer', minimum: min, maximum: max }) as const;
const nullableInt = (min = 0, max = Number.MAX_SAFE_INTEGER) =>
  ({ type: ['integer', 'null'], minimum: min, maximum: max }) as const;
const time = { type: 'string', format: 'date-time' } as const;
const nullableTime = { type: ['string', 'null'], format: 'date-time' } as const;

export const NAME = '^[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}$';
export const USERNAME = '^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$';

export const errorAnswer = {
  type: 'object',
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: { type: 'string' },
        message: { type: 'string' },
        reason: { type: 'string' },
        fields: {
          type: 'array',
          items: { type: 'object', properties: { field: { type: 'string' }, problem: { type: 'string' } } },
        },
        details: {},
      },
    },
  },
} as const;

const planFields = {
  name: { type: 'string', pattern: NAME },
  threads: int(1, 1_000_000),
  rps: int(0, 1_000_000),
  bandwidth: { ...nullableInt(), description: 'bytes/s per customer, up+down; null = unlimited' },
  connBandwidth: { ...nullableInt(), description: 'bytes/s per connection; null = unlimited' },
  quotaBytes: { ...nullableInt(), description: 'bytes per quota period; null = unlimited' },
  quotaPeriod: { type: 'string', enum: ['none', 'day', 'week', 'month', 'month_from_start'] },
  durationDays: { ...nullableInt(1, 36_500), description: 'default expiry of new customers' },
  priceCents: nullableInt(),
  strikeMode: { type: 'string', enum: ['hard', 'soft'] },
  threadsHardCap: nullableInt(1, 1_000_000),
  strikeWindowSec: int(1, 86_400 * 7),
  lockoutSec: int(1, 86_400 * 30),
  ipMaxConns: nullableInt(1, 1_000_000),
  ipRps: nullableInt(1, 1_000_000),
} as const;

export const planCreate = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'threads', 'rps'],
  properties: planFields,
} as const;

export const planPatch = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: planFields,
} as const;

export const planAnswer = {
  type: 'object',
  additionalProperties: true,
  properties: { id: { type: 'integer' }, ...planFields, createdAt: time, updatedAt: time },
} as const;

export const nameParams = {
  type: 'object',
  required: ['name'],
  properties: { name: { type: 'string', minLength: 1, maxLength: 64 } },
} as const;

export const usernameParams = {
  type: 'object',
  required: ['username'],
  properties: { username: { type: 'string', minLength: 1, maxLength: 64 } },
} as const;

export const ipParams = {
  type: 'object',
  required: ['username', 'cidr'],
  properties: {
    username: { type: 'string', minLength: 1, maxLength: 64 },
    cidr: { type: 'string', minLength: 1, maxLength: 64, description: 'URL-encoded, e.g. 10.0.0.0%2F8' },
  },
} as const;

export const meIpParams = {
  type: 'object',
  required: ['cidr'],
  properties: { cidr: ipParams.properties.cidr },
} as const;

export const idParams = {
  type: 'object',
  required: ['id'],
  properties: { id: int(1) },
} as const;

const password = { type: 'string', minLength: 6, maxLength: 256, pattern: '^[^:\\s]*$' } as const;

export const customerCreate = {
  type: 'object',
  additionalProperties: false,
  required: ['username', 'plan'],
  properties: {
    username: { type: 'string', pattern: USERNAME },
    password: { ...password, description: 'generated and returned once when omitted' },
    plan: { type: 'string', minLength: 1, maxLength: 64 },
    expiresAt: { ...nullableTime, description: 'default: now + plan.durationDays' },
    startOnFirstUse: { type: 'boolean' },
  },
} as const;

export const customerPatch = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: {
    plan: { type: 'string', minLength: 1, maxLength: 64 },
    password,
    expiresAt: nullableTime,
    status: { type: 'string', enum: ['active', 'disabled', 'banned'] },
    startOnFirstUse: { type: 'boolean' },
    regenerateApiKey: {
      type: 'boolean',
      description: 'issue a new API key (returned once) and void the old one',
    },
  },
} as const;

const ipAnswer = {
  type: 'object',
  properties: {
    cidr: { type: 'string' },
    note: { type: ['string', 'null'] },
    expiresAt: nullableTime,
    createdAt: time,
  },
} as const;

export const customerAnswer = {
  type: 'object',
  additionalProperties: true,
  properties: {
    id: { type: 'integer' },
    username: { type: 'string' },
    plan: { type: 'string' },
    status: { type: 'string', enum: ['active', 'disabled', 'banned'] },
    banReason: { type: ['string', 'null'] },
    bannedUntil: nullableTime,
    expiresAt: nullableTime,
    startOnFirstUse: { type: 'boolean' },
    firstUsedAt: nullableTime,
    lockedUntil: {
      ...nullableTime,
      description: 'end of a strike lock-out (soft-mode plans), null when none; single-customer answers only',
    },
    apiKeyPrefix: { type: 'string' },
    ips: { type: 'array', items: ipAnswer },
    createdAt: time,
    updatedAt: time,
    apiKey: { type: 'string', description: 'only in the answer that created it' },
    password: { type: 'string', description: 'only when generated' },
  },
} as const;

export const customerList = {
  type: 'object',
  properties: {
    items: { type: 'array', items: customerAnswer },
    total: { type: 'integer' },
    limit: { type: 'integer' },
    offset: { type: 'integer' },
  },
} as const;

export const customerListQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    limit: { ...int(1, 1000), default: 100 },
    offset: { ...int(0), default: 0 },
    plan: { type: 'string', minLength: 1, maxLength: 64 },
    status: { type: 'string', enum: ['active', 'disabled', 'banned'] },
    q: {
      type: 'string',
      minLength: 1,
      maxLength: 64,
      description: 'part of the username (case-insensitive)',
    },
  },
} as const;

export const ipBody = {
  type: 'object',
  additionalProperties: false,
  required: ['cidr'],
  properties: {
    cidr: { type: 'string', minLength: 1, maxLength: 64, description: 'IPv4/IPv6 address or CIDR block' },
    note: { type: 'string', maxLength: 200 },
    expiresAt: nullableTime,
  },
} as const;

export const ipAnswerSchema = ipAnswer;

export const banBody = {
  type: ['object', 'null'],
  additionalProperties: false,
  properties: {
    reason: { type: 'string', maxLength: 500 },
    until: { ...time, description: 'ban ends at this time; omitted = until unbanned' },
  },
} as const;

export const usageAnswer = {
  type: 'object',
  properties: {
    bytesUp: { type: 'integer', description: 'bytes sent by the customer this period (hourly buckets)' },
    bytesDown: { type: 'integer', description: 'bytes received by the customer this period' },
    bytesUsed: { type: 'integer', description: 'bytes counted against the quota (see docs/api.md)' },
    quotaBytes: { type: ['integer', 'null'] },
    threadsLive: { type: 'integer' },
    periodStart: time,
    periodEnd: nullableTime,
    lockedUntil: nullableTime,
  },
} as const;

export const upstreamAnswer = {
  type: 'object',
  additionalProperties: true,
  properties: {
    id: { type: 'integer' },
    port: { type: 'integer' },
    upstream: { type: 'string', description: 'display form without password' },
    protocol: { type: 'string', enum: ['http', 'socks5', 'direct'] },
    health: { type: 'string', enum: ['unknown', 'up', 'down'] },
    latencyMs: { type: ['integer', 'null'] },
    failures: { type: 'integer' },
    lastCheckedAt: nullableTime,
    lastError: { type: ['string', 'null'] },
    listener: { type: ['string', 'null'], description: 'gateway listener state of this port' },
    listenerError: { type: ['string', 'null'] },
  },
} as const;

export const importAnswer = {
  type: 'object',
  properties: {
    added: { type: 'integer' },
    kept: { type: 'integer' },
    duplicates: {
      type: 'array',
      items: {
        type: 'object',
        properties: { line: { type: 'integer' }, upstream: { type: 'string' }, reason: { type: 'string' } },
      },
    },
    bound: {
      type: 'array',
      items: { type: 'object', properties: { port: { type: 'integer' }, upstream: { type: 'string' } } },
    },
  },
} as const;

export const tokenCreate = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: {
    name: { type: 'string', pattern: NAME },
    scopes: {
      type: 'array',
      minItems: 1,
      uniqueItems: true,
      items: { type: 'string', enum: ['admin', 'read'] },
      default: ['admin'],
    },
    expiresAt: nullableTime,
  },
} as const;

export const tokenAnswer = {
  type: 'object',
  additionalProperties: true,
  properties: {
    id: { type: 'integer' },
    name: { type: 'string' },
    prefix: { type: 'string' },
    scopes: { type: 'array', items: { type: 'string' } },
    expiresAt: nullableTime,
    lastUsedAt: nullableTime,
    revokedAt: nullableTime,
    createdAt: time,
    token: { type: 'string', description: 'plaintext, only in the answer that created it' },
  },
} as const;

export const auditQuery = {
  type: 'object',
  additionalProperties: false,
  properties: { limit: { ...int(1, 1000), default: 100 }, before: int(1) },
} as const;

export const auditAnswer = {
  type: 'array',
  items: {
    type: 'object',
    additionalProperties: true,
    properties: {
      id: { type: 'integer' },
      at: time,
      actor: { type: 'string' },
      action: { type: 'string' },
      target: { type: ['string', 'null'] },
      detail: {},
      ip: { type: ['string', 'null'] },
    },
  },
} as const;

export const proxiesQuery = {
  type: 'object',
  properties: {
    api_key: { type: 'string', maxLength: 200 },
    username: { type: 'string', maxLength: 64 },
    password: { type: 'string', maxLength: 256 },
  },
} as const;

export const textAnswer = { type: 'string', description: 'text/plain, one host:port a line' } as const;

/** Standard error answers for a route, for the OpenAPI document. */
export function errors(...statuses: number[]) {
  return Object.fromEntries(statuses.map((s) => [s, { $ref: 'Error#' }]));
}
