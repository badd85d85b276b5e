// plan add | list | show: what customers buy. Limits are typed in human units
// and sent as bytes, bytes/s and seconds (CONTRACT.md "Units").
import * as f from '../format.ts';
import { keyValues, table } from '../output.ts';
import { type Command, type FlagSpec, UsageError } from '../spec.ts';

export interface Plan {
  id?: number;
  name: string;
  threads: number;
  rps: number;
  bandwidth?: number | null;
  connBandwidth?: number | null;
  quotaBytes?: number | null;
  quotaPeriod?: string;
  durationDays?: number | null;
  priceCents?: number | null;
  strikeMode?: string;
  threadsHardCap?: number | null;
  strikeWindowSec?: number;
  lockoutSec?: number;
  ipMaxConns?: number | null;
  ipRps?: number | null;
  customers?: number;
}

const PERIODS = ['none', 'day', 'week', 'month', 'month_from_start'] as const;

const planFlags: Record<string, FlagSpec> = {
  threads: {
    kind: 'int',
    value: 'N',
    help: 'concurrent connections across all ports',
    example: '--threads 50',
  },
  rps: {
    kind: 'int',
    value: 'N',
    help: 'new connections + HTTP requests per second (burst = rate)',
    example: '--rps 20',
  },
  bandwidth: {
    kind: 'rate',
    value: 'RATE',
    help: 'bytes/s up+down for the whole customer, e.g. 1MB/s, 100mbit',
    example: '--bandwidth 1MB/s',
  },
  'conn-bandwidth': {
    kind: 'rate',
    value: 'RATE',
    help: 'bytes/s cap per connection',
    example: '--conn-bandwidth 512KB/s',
  },
  quota: {
    kind: 'size',
    value: 'SIZE',
    help: 'bytes up+down per period, e.g. 10GB, 500MiB',
    example: '--quota 10GB',
  },
  period: { kind: 'string', value: 'PERIOD', help: 'quota period (default month)', choices: PERIODS },
  days: {
    kind: 'int',
    value: 'N',
    help: 'days a new customer stays active (sets expiry)',
    example: '--days 30',
  },
  price: {
    kind: 'price',
    value: 'AMOUNT',
    help: 'price per period in dollars, e.g. 9.99',
    example: '--price 10',
  },
  strike: {
    kind: 'string',
    value: 'MODE',
    help: 'hard: refuse above --threads; soft: allow up to --hard-cap, strike rule applies',
    choices: ['hard', 'soft'],
  },
  'hard-cap': {
    kind: 'int',
    value: 'N',
    help: 'soft mode: connections never allowed above this',
    example: '--hard-cap 80',
  },
  'strike-window': {
    kind: 'duration',
    value: 'DURATION',
    help: 'soft mode: time above --threads before the kick (default 15m)',
    example: '--strike-window 15m',
  },
  lockout: {
    kind: 'duration',
    value: 'DURATION',
    help: 'soft mode: lock-out after a strike (default 1h)',
    example: '--lockout 1h',
  },
  'ip-conns': { kind: 'int', value: 'N', help: 'max connections per client IP', example: '--ip-conns 20' },
  'ip-rps': {
    kind: 'int',
    value: 'N',
    help: 'max new connections per second per client IP',
    example: '--ip-rps 10',
  },
};

/** Flag name -> API field; seconds and bytes pass through, --days and --price are renamed. */
const FIELD: Record<string, keyof Plan> = {
  threads: 'threads',
  rps: 'rps',
  bandwidth: 'bandwidth',
  'conn-bandwidth': 'connBandwidth',
  quota: 'quotaBytes',
  period: 'quotaPeriod',
  days: 'durationDays',
  price: 'priceCents',
  strike: 'strikeMode',
  'hard-cap': 'threadsHardCap',
  'strike-window': 'strikeWindowSec',
  lockout: 'lockoutSec',
  'ip-conns': 'ipMaxConns',
  'ip-rps': 'ipRps',
};

export function planRow(p: Plan): string[] {
  return [
    p.name,
    f.num(p.threads),
    f.num(p.rps),
    f.rate(p.bandwidth),
    f.size(p.quotaBytes),
    p.quotaPeriod ?? '-',
    f.num(p.durationDays),
    f.price(p.priceCents),
  ];
}

const HEAD = ['NAME', 'THREADS', 'RPS', 'BANDWIDTH', 'QUOTA', 'PERIOD', 'DAYS', 'PRICE'];

export function planDetails(p: Plan): string {
  const pairs: [string, string][] = [
    ['name', p.name],
    ['threads', f.num(p.threads)],
    ['requests/s', f.num(p.rps)],
    ['bandwidth', f.rate(p.bandwidth)],
    ['per connection', f.rate(p.connBandwidth)],
    ['quota', `${f.size(p.quotaBytes)}${p.quotaBytes ? ` per ${p.quotaPeriod ?? 'month'}` : ''}`],
    ['duration', p.durationDays ? `${p.durationDays} days` : 'no expiry'],
    ['price', f.price(p.priceCents)],
  ];
  if (p.strikeMode) {
    const soft =
      p.strikeMode === 'soft'
        ? ` (hard cap ${f.num(p.threadsHardCap, 'none')}, kick after ${f.num(p.strikeWindowSec)} s above, lock-out ${f.num(p.lockoutSec)} s)`
        : '';
    pairs.push(['strike mode', `${p.strikeMode}${soft}`]);
  }
  if (p.ipMaxConns != null || p.ipRps != null)
    pairs.push([
      'per client IP',
      `${f.num(p.ipMaxConns, 'any')} connections, ${f.num(p.ipRps, 'any')} new/s`,
    ]);
  if (p.customers !== undefined) pairs.push(['customers', String(p.customers)]);
  return keyValues(pairs);
}

export const planCommands: Command[] = [
  {
    name: 'plan add',
    summary: 'create a plan (limits customers buy)',
    args: [{ name: 'NAME', help: 'plan name, e.g. Pro' }],
    flags: {
      ...planFlags,
      threads: { ...planFlags.threads, required: true },
      rps: { ...planFlags.rps, required: true },
    },
    examples: [
      'portcullis plan add Pro --threads 50 --rps 20 --bandwidth 1MB/s --quota 10GB --days 30',
      'portcullis plan add Soft --threads 10 --rps 10 --strike soft --hard-cap 20 --strike-window 15m --lockout 1h',
    ],
    notes: [
      'Sizes: B, KB, MB, GB, TB (powers of 1000) or KiB, MiB, GiB; rates add /s or use bits (100mbit). "unlimited" clears a limit.',
    ],
    async run({ args, flags, json, out, api }) {
      const body: Record<string, unknown> = { name: args[0] };
      for (const [flag, field] of Object.entries(FIELD))
        if (flags[flag] !== undefined) body[field] = flags[flag];
      const plan = await api.request<Plan>('POST', '/api/v1/plans', { json: body });
      if (json) return out.json(plan);
      out.print(`plan ${plan.name} created`);
      out.print(planDetails(plan));
    },
  },
  {
    name: 'plan list',
    summary: 'list plans',
    examples: ['portcullis plan list', 'portcullis plan list --json'],
    async run({ json, out, api }) {
      const plans = await api.request<Plan[]>('GET', '/api/v1/plans');
      if (json) return out.json(plans);
      const list = listOf<Plan>(plans);
      if (list.length === 0) return out.print('no plans yet; add one with `portcullis plan add`');
      out.print(table(HEAD, list.map(planRow), { right: [1, 2, 3, 4, 6, 7] }));
    },
  },
  {
    name: 'plan show',
    summary: 'show one plan',
    args: [{ name: 'NAME', help: 'plan name' }],
    examples: ['portcullis plan show Pro'],
    async run({ args, json, out, api }) {
      const plan = await api.request<Plan>('GET', `/api/v1/plans/${encodeURIComponent(args[0])}`);
      if (json) return out.json(plan);
      out.print(planDetails(plan));
    },
  },
  {
    name: 'plan set',
    summary: "change a plan's limits (its customers get them within a second)",
    args: [{ name: 'NAME', help: 'plan name' }],
    flags: planFlags,
    examples: [
      'portcullis plan set Pro --threads 60 --quota 20GB',
      'portcullis plan set Pro --bandwidth unlimited',
    ],
    async run({ args, flags, json, out, api }) {
      const body: Record<string, unknown> = {};
      for (const [flag, field] of Object.entries(FIELD))
        if (flags[flag] !== undefined) body[field] = flags[flag];
      if (Object.keys(body).length === 0)
        throw new UsageError(
          `nothing to change: give one of ${Object.keys(FIELD)
            .map((f) => `--${f}`)
            .join(', ')}`,
          'plan set',
        );
      const plan = await api.request<Plan>('PATCH', `/api/v1/plans/${encodeURIComponent(args[0])}`, {
        json: body,
      });
      if (json) return out.json(plan);
      out.print(`plan ${plan.name} updated`);
      out.print(planDetails(plan));
    },
  },
];

/** Lists come as an array or wrapped as {items: [...]} / {plans: [...]}; accept each. */
export function listOf<T>(data: unknown): T[] {
  if (Array.isArray(data)) return data as T[];
  if (data && typeof data === 'object') {
    for (const v of Object.values(data)) if (Array.isArray(v)) return v as T[];
  }
  return [];
}
