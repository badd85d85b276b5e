// customer add | list | show | set, customer ip add | rm: the people (or
// programs) that authenticate at the gateway.
import { parseCidr } from '../../domain/cidr.ts';
import * as f from '../format.ts';
import { keyValues, type Output, table } from '../output.ts';
import { type Command, UsageError } from '../spec.ts';
import { listOf } from './plan.ts';

export interface CustomerIp {
  cidr: string;
  note?: string | null;
  expiresAt?: string | null;
}

export interface Customer {
  id?: number;
  username: string;
  plan?: string | { name: string } | null;
  status?: string;
  expiresAt?: string | null;
  bannedUntil?: string | null;
  banReason?: string | null;
  lockedUntil?: string | null;
  apiKey?: string;
  apiKeyPrefix?: string;
  password?: string;
  ips?: (CustomerIp | string)[];
  createdAt?: string;
}

export function planName(c: Customer): string {
  return typeof c.plan === 'string' ? c.plan : (c.plan?.name ?? '-');
}

function ipText(ip: CustomerIp | string): string {
  if (typeof ip === 'string') return ip;
  const extra = [ip.note, ip.expiresAt ? `until ${f.time(ip.expiresAt)}` : ''].filter(Boolean).join(', ');
  return extra ? `${ip.cidr} (${extra})` : ip.cidr;
}

export function statusText(c: Customer, now = Date.now()): string {
  const s = c.status ?? '-';
  if (c.bannedUntil && s === 'banned') return `banned for ${f.remaining(c.bannedUntil, now)}`;
  if (c.lockedUntil && Date.parse(c.lockedUntil) > now)
    return `${s}, locked out for ${f.remaining(c.lockedUntil, now)}`;
  if (c.expiresAt && Date.parse(c.expiresAt) <= now) return `${s}, expired`;
  return s;
}

export function customerDetails(c: Customer): string {
  const pairs: [string, string][] = [
    ['username', c.username],
    ['plan', planName(c)],
    ['status', statusText(c)],
  ];
  if (c.banReason) pairs.push(['ban reason', c.banReason]);
  pairs.push(['expires', f.time(c.expiresAt, 'never')]);
  if (c.apiKeyPrefix) pairs.push(['API key', `${c.apiKeyPrefix}…`]);
  if (c.ips) pairs.push(['whitelisted IPs', c.ips.length ? c.ips.map(ipText).join(', ') : 'none']);
  if (c.createdAt) pairs.push(['created', f.time(c.createdAt)]);
  return keyValues(pairs);
}

/** The password (when generated) and API key appear in one answer only; say so. */
function printSecrets(out: Output, c: Customer) {
  const secrets: [string, string][] = [];
  if (c.password) secrets.push(['password', c.password]);
  if (c.apiKey) secrets.push(['API key', c.apiKey]);
  if (secrets.length === 0) return;
  out.print();
  out.print(keyValues(secrets));
  out.print('(shown once: only hashes are stored)');
}

const user = (name: string) => `/api/v1/customers/${encodeURIComponent(name)}`;

function checkCidr(text: string, command: string): string {
  if (!parseCidr(text))
    throw new UsageError(
      `CIDR expects an IP address or a block with zero host bits; got "${text}" (examples: 203.0.113.7, 198.51.100.0/24, 2001:db8::/48)`,
      command,
    );
  return text;
}

export const customerCommands: Command[] = [
  {
    name: 'customer add',
    summary: 'create a customer; prints the password (when generated) and API key once',
    args: [{ name: 'NAME', help: 'username the customer authenticates with' }],
    flags: {
      plan: { kind: 'string', value: 'PLAN', help: 'plan name', required: true, example: '--plan Pro' },
      password: {
        kind: 'string',
        value: 'P',
        help: 'password, 6+ characters without ":" (generated when omitted)',
      },
      expires: {
        kind: 'expiry',
        value: 'WHEN',
        help: "ISO time, a duration from now (30d), or never; default: now + the plan's days",
      },
      'start-on-first-use': { kind: 'bool', help: "the plan's days start counting at the first connection" },
    },
    examples: [
      'portcullis customer add alice --plan Pro',
      'portcullis customer add bob --plan Basic --password s3cret --expires 2026-12-31',
    ],
    async run({ args, flags, json, out, api }) {
      const body: Record<string, unknown> = { username: args[0], plan: flags.plan };
      if (flags.password !== undefined) body.password = flags.password;
      if (flags.expires !== undefined) body.expiresAt = flags.expires;
      if (flags['start-on-first-use']) body.startOnFirstUse = true;
      const c = await api.request<Customer>('POST', '/api/v1/customers', { json: body });
      if (json) return out.json(c);
      out.print(`customer ${c.username} created`);
      out.print(customerDetails(c));
      printSecrets(out, c);
    },
  },
  {
    name: 'customer list',
    summary: 'list customers',
    flags: {
      plan: { kind: 'string', value: 'PLAN', help: 'only customers on this plan' },
      status: {
        kind: 'string',
        value: 'STATUS',
        help: 'only customers in this status',
        choices: ['active', 'disabled', 'banned'],
      },
      limit: { kind: 'int', value: 'N', help: 'page size, 1-1000 (default 100)', example: '--limit 500' },
      offset: { kind: 'int', value: 'N', help: 'skip this many (paging)', example: '--offset 100' },
    },
    examples: ['portcullis customer list', 'portcullis customer list --plan Pro --status active --json'],
    async run({ flags, json, out, api }) {
      const q = new URLSearchParams();
      for (const k of ['plan', 'status', 'limit', 'offset'])
        if (flags[k] !== undefined && flags[k] !== null) q.set(k, String(flags[k]));
      const data = await api.request<{ total?: number; offset?: number } | null>(
        'GET',
        `/api/v1/customers${q.size ? `?${q}` : ''}`,
      );
      if (json) return out.json(data);
      const list = listOf<Customer>(data);
      if (list.length === 0) return out.print('no customers found; add one with `portcullis customer add`');
      out.print(
        table(
          ['USERNAME', 'PLAN', 'STATUS', 'EXPIRES', 'IPS'],
          list.map((c) => [
            c.username,
            planName(c),
            statusText(c),
            f.time(c.expiresAt, 'never'),
            String(c.ips?.length ?? '-'),
          ]),
          { right: [4] },
        ),
      );
      const total = data?.total;
      if (typeof total === 'number' && total > list.length) {
        const from = (data?.offset ?? 0) + 1;
        out.warn(`showing ${from}-${from + list.length - 1} of ${total}; page with --offset and --limit`);
      }
    },
  },
  {
    name: 'customer show',
    summary: 'show a customer: plan, status, expiry, whitelist',
    args: [{ name: 'NAME', help: 'username' }],
    examples: ['portcullis customer show alice'],
    async run({ args, json, out, api }) {
      const c = await api.request<Customer>('GET', user(args[0]));
      if (json) return out.json(c);
      out.print(customerDetails(c));
    },
  },
  {
    name: 'customer set',
    summary: 'change plan, password, expiry or status; or issue a new API key',
    args: [{ name: 'NAME', help: 'username' }],
    flags: {
      plan: { kind: 'string', value: 'PLAN', help: 'move to this plan' },
      password: { kind: 'string', value: 'P', help: 'new password, 6+ characters without ":"' },
      expires: { kind: 'expiry', value: 'WHEN', help: 'ISO time, a duration from now (30d), or never' },
      status: {
        kind: 'string',
        value: 'STATUS',
        help: 'active or disabled (ban with `portcullis ban`)',
        choices: ['active', 'disabled'],
      },
      'start-on-first-use': { kind: 'bool', help: "the plan's days start counting at the first connection" },
      'new-api-key': { kind: 'bool', help: 'issue a new API key (printed once); the old one stops working' },
    },
    examples: [
      'portcullis customer set alice --plan Enterprise',
      'portcullis customer set alice --expires 30d --status active',
      'portcullis customer set alice --new-api-key',
    ],
    async run({ args, flags, json, out, api }) {
      const body: Record<string, unknown> = {};
      if (flags.plan !== undefined) body.plan = flags.plan;
      if (flags.password !== undefined) body.password = flags.password;
      if (flags.expires !== undefined) body.expiresAt = flags.expires;
      if (flags.status !== undefined) body.status = flags.status;
      if (flags['start-on-first-use']) body.startOnFirstUse = true;
      if (flags['new-api-key']) body.regenerateApiKey = true;
      if (Object.keys(body).length === 0)
        throw new UsageError(
          'nothing to change: give --plan, --password, --expires, --status, --start-on-first-use or --new-api-key',
          'customer set',
        );
      const c = await api.request<Customer>('PATCH', user(args[0]), { json: body });
      if (json) return out.json(c);
      out.print(`customer ${c.username ?? args[0]} updated`);
      if (c.username) out.print(customerDetails(c));
      printSecrets(out, c);
    },
  },
  {
    name: 'customer ip add',
    summary: 'whitelist an IP or CIDR (v4 or v6): connections from it need no password',
    args: [
      { name: 'NAME', help: 'username' },
      { name: 'CIDR', help: 'an address (203.0.113.7) or a block (198.51.100.0/24, 2001:db8::/48)' },
    ],
    flags: {
      note: { kind: 'string', value: 'TEXT', help: 'why this entry exists' },
      expires: {
        kind: 'expiry',
        value: 'WHEN',
        help: 'remove the entry at this time (ISO) or after a duration (7d)',
      },
    },
    examples: [
      'portcullis customer ip add alice 203.0.113.7',
      'portcullis customer ip add alice 2001:db8::/48 --expires 7d',
    ],
    async run({ args, flags, json, out, api }) {
      const cidr = checkCidr(args[1], 'customer ip add');
      const body: Record<string, unknown> = { cidr };
      if (flags.note !== undefined) body.note = flags.note;
      if (flags.expires !== undefined) body.expiresAt = flags.expires;
      const r = await api.request<CustomerIp>('POST', `${user(args[0])}/ips`, { json: body });
      if (json) return out.json(r);
      out.print(`${r?.cidr ?? cidr} whitelisted for ${args[0]}`);
    },
  },
  {
    name: 'customer ip rm',
    summary: 'remove a whitelisted IP or CIDR',
    args: [
      { name: 'NAME', help: 'username' },
      { name: 'CIDR', help: 'the entry as added' },
    ],
    examples: ['portcullis customer ip rm alice 203.0.113.7'],
    async run({ args, json, out, api }) {
      const cidr = checkCidr(args[1], 'customer ip rm');
      const r = await api.request('DELETE', `${user(args[0])}/ips/${encodeURIComponent(cidr)}`);
      if (json) return out.json(r ?? {});
      out.print(`${cidr} removed from ${args[0]}`);
    },
  },
];
