// up (the server itself), proxies (a customer's port list) and version.
import { readFileSync } from 'node:fs';
import type { Command, FlagSpec } from '../spec.ts';

/** `portcullis up` flags: CONTRACT.md variables in kebab-case without PORTCULLIS_; config.ts validates them. */
export const UP_FLAGS: Record<string, FlagSpec> = {
  'data-dir': {
    kind: 'string',
    value: 'DIR',
    help: 'embedded database, secrets, admin token, backups (default ./data)',
  },
  'api-host': { kind: 'string', value: 'HOST', help: 'API and dashboard listen address (default 0.0.0.0)' },
  'api-port': { kind: 'string', value: 'PORT', help: 'API and dashboard port (default 8787)' },
  'gateway-host': { kind: 'string', value: 'HOST', help: 'gateway listen address (default 0.0.0.0)' },
  ports: {
    kind: 'string',
    value: 'FROM-TO',
    help: 'gateway port range (default 4000-4999)',
    example: '--ports 4000-4999',
  },
  'public-host': {
    kind: 'string',
    value: 'HOST',
    help: "host written in customers' proxy lists (default: hostname)",
  },
  'admin-token': {
    kind: 'string',
    value: 'TOKEN',
    help: 'bootstrap admin token, >= 16 chars (default: generated on first run)',
  },
  secret: {
    kind: 'string',
    value: 'TEXT',
    help: 'key for upstream credentials at rest (default: DATA_DIR/secret.key)',
  },
  'egress-allow': {
    kind: 'string',
    value: 'CIDRS',
    help: 'comma-separated CIDRs the egress guard lets through',
    example: '--egress-allow 127.0.0.0/8',
  },
  'internal-allow': {
    kind: 'string',
    value: 'CIDRS',
    help: 'CIDRs allowed on /api/internal/* besides loopback',
  },
  'api-rate-limit': {
    kind: 'string',
    value: 'N',
    help: 'requests per minute per IP on public endpoints (default 300)',
  },
  role: {
    kind: 'string',
    value: 'ROLES',
    help: 'all, or a comma list of gateway, api, jobs (default all)',
  },
  'log-level': {
    kind: 'string',
    value: 'LEVEL',
    help: 'fatal, error, warn, info, debug, trace, silent (default info)',
  },
  'gateway-threads': {
    kind: 'string',
    value: 'N|auto',
    help: 'threads serving the gateway ports, 1-64 or auto (one per core; default 1)',
  },
  failover: { kind: 'bool', help: "fail over to a healthy upstream when a port's upstream is down" },
  'health-interval': {
    kind: 'string',
    value: 'DURATION',
    help: 'upstream health check interval (default 30s)',
  },
  'connect-timeout': {
    kind: 'string',
    value: 'DURATION',
    help: 'dial timeout for upstreams and targets (default 10s)',
  },
  'idle-timeout': { kind: 'string', value: 'DURATION', help: 'close idle connections after (default 5m)' },
  'header-timeout': {
    kind: 'string',
    value: 'DURATION',
    help: 'time allowed for request headers (default 10s)',
  },
  'handshakes-per-ip': {
    kind: 'string',
    value: 'N',
    help: 'connections one address may have open before it authenticates, per gateway thread (default 256; 0: no cap)',
  },
  'drain-timeout': {
    kind: 'string',
    value: 'DURATION',
    help: 'graceful stop: time tunnels get to finish (default 10s)',
  },
  'database-url': {
    kind: 'string',
    value: 'URL',
    help: 'PostgreSQL instead of the embedded PGlite (env DATABASE_URL)',
  },
  'redis-url': {
    kind: 'string',
    value: 'URL',
    help: 'Redis/Valkey for live state shared by processes (env REDIS_URL)',
  },
};

export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

export const miscCommands: Command[] = [
  {
    name: 'up',
    summary: 'start Portcullis (gateway, API, jobs) on this machine',
    flags: UP_FLAGS,
    client: false,
    json: false,
    examples: [
      'portcullis up',
      'portcullis up --data-dir /var/lib/portcullis --ports 4000-4999 --public-host proxy.example.com',
      'portcullis up --role gateway --database-url postgres://pc@db/pc --redis-url redis://cache:6379',
    ],
    notes: [
      'Every flag can also be set in the environment: PORTCULLIS_<FLAG> in upper case with underscores (PORTCULLIS_API_PORT), DATABASE_URL, REDIS_URL. Flags win.',
      'On first run the admin token is printed once and stored in DATA_DIR/admin-token (mode 0600), where this CLI finds it.',
    ],
    async run({ flags }) {
      const given: Record<string, string | undefined> = {};
      for (const [k, v] of Object.entries(flags)) if (v !== undefined && v !== null) given[k] = String(v);
      // Loaded on demand: the other commands are API clients and should not pay
      // for loading the server (database driver, Fastify) at start.
      const app = await import('../../up.ts');
      await app.runUp(given);
      return undefined;
    },
  },
  {
    name: 'proxies',
    summary: 'as a customer: the host:port list valid for you now',
    flags: {
      'api-key': {
        kind: 'string',
        value: 'KEY',
        help: 'your API key (from `customer add`)',
        required: true,
        example: '--api-key pck_...',
      },
    },
    examples: [
      'portcullis proxies --api-key pck_3f9a...',
      'portcullis proxies --api-key pck_3f9a... --url http://proxy.example.com:8787',
    ],
    async run({ json, out, api }) {
      const text = await api.request<string | null>('GET', '/api/v1/me/proxies', { auth: 'customer' });
      const lines = (text ?? '').split('\n').filter(Boolean);
      if (json) return out.json(lines);
      if (lines.length === 0) out.warn('no ports are valid for you right now');
      for (const l of lines) out.print(l);
    },
  },
  {
    name: 'version',
    summary: 'print the version',
    client: false,
    examples: ['portcullis version'],
    async run({ json, out }) {
      if (json) return out.json({ version: version(), node: process.versions.node });
      out.print(`portcullis ${version()} (node ${process.versions.node})`);
    },
  },
];
