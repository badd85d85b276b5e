// usage, kick, ban, unban, unlock, lockouts, unlock-address, unlock-username, connections:
// day-to-day operations.
import * as f from '../format.ts';
import { keyValues, table } from '../output.ts';
import type { Command } from '../spec.ts';

interface Usage {
  bytesUp: number;
  bytesDown: number;
  /** bytes counted against the quota (may differ from up + down, see docs/api.md) */
  bytesUsed?: number;
  quotaBytes?: number | null;
  threadsLive?: number;
  threads?: number;
  periodStart?: string | null;
  periodEnd?: string | null;
  lockedUntil?: string | null;
}

const user = (name: string) => `/api/v1/customers/${encodeURIComponent(name)}`;

export function usageDetails(u: Usage, now = Date.now()): string {
  const used = u.bytesUsed ?? (u.bytesUp ?? 0) + (u.bytesDown ?? 0);
  const quota = u.quotaBytes ?? null;
  const pairs: [string, string][] = [
    ['used', `${f.size(used)}${quota ? ` of ${f.size(quota)} (${f.percent(used, quota)})` : ' (no quota)'}`],
    ['up / down', `${f.size(u.bytesUp)} / ${f.size(u.bytesDown)}`],
  ];
  if (quota) pairs.push(['left', f.size(Math.max(0, quota - used))]);
  if (u.periodStart || u.periodEnd)
    pairs.push(['period', `${f.time(u.periodStart)} .. ${f.time(u.periodEnd, 'open')}`]);
  if (u.threadsLive !== undefined)
    pairs.push(['threads live', `${u.threadsLive}${u.threads !== undefined ? ` of ${u.threads}` : ''}`]);
  if (u.lockedUntil && Date.parse(u.lockedUntil) > now)
    pairs.push(['locked out', `until ${f.time(u.lockedUntil)} (${f.remaining(u.lockedUntil, now)})`]);
  return keyValues(pairs);
}

export const opsCommands: Command[] = [
  {
    name: 'usage',
    summary: "a customer's traffic this period, quota left and live threads",
    args: [{ name: 'NAME', help: 'username' }],
    examples: ['portcullis usage alice', 'portcullis usage alice --json'],
    async run({ args, json, out, api }) {
      const u = await api.request<Usage>('GET', `${user(args[0])}/usage`);
      if (json) return out.json(u);
      out.print(usageDetails(u));
    },
  },
  {
    name: 'kick',
    summary: 'close every live connection of a customer now (they may reconnect)',
    args: [{ name: 'NAME', help: 'username' }],
    examples: ['portcullis kick alice'],
    async run({ args, json, out, api }) {
      const r = await api.request<{ kicked?: number } | null>('POST', `${user(args[0])}/kick`, { json: {} });
      if (json) return out.json(r ?? {});
      out.print(
        `kicked ${args[0]}${typeof r?.kicked === 'number' ? ` (${r.kicked} connections closed)` : ''}`,
      );
    },
  },
  {
    name: 'ban',
    summary: 'refuse a customer (and close their connections), for a while or until unbanned',
    args: [{ name: 'NAME', help: 'username' }],
    flags: {
      for: {
        kind: 'duration',
        value: 'DURATION',
        help: 'ban length, e.g. 30m, 1h, 7d (default: until unban)',
        example: '--for 1h',
      },
      reason: { kind: 'string', value: 'TEXT', help: 'shown to operators and in audit events' },
    },
    examples: ['portcullis ban alice --for 1h', 'portcullis ban mallory --reason "abuse report #42"'],
    async run({ args, flags, json, out, api }) {
      const body: Record<string, unknown> = {};
      if (flags.reason !== undefined) body.reason = flags.reason;
      if (typeof flags.for === 'number') body.until = new Date(Date.now() + flags.for * 1000).toISOString();
      const r = await api.request('POST', `${user(args[0])}/ban`, { json: body });
      if (json) return out.json(r ?? {});
      out.print(`banned ${args[0]}${body.until ? ` until ${f.time(body.until)}` : ' until unbanned'}`);
    },
  },
  {
    name: 'unban',
    summary: 'lift a ban',
    args: [{ name: 'NAME', help: 'username' }],
    examples: ['portcullis unban alice'],
    async run({ args, json, out, api }) {
      const r = await api.request('POST', `${user(args[0])}/unban`, { json: {} });
      if (json) return out.json(r ?? {});
      out.print(`unbanned ${args[0]}`);
    },
  },
  {
    name: 'unlock',
    summary:
      'lift a strike lock-out, and a credential lock-out of the username, before they end (a ban is lifted with unban)',
    args: [{ name: 'NAME', help: 'username' }],
    examples: ['portcullis unlock alice'],
    async run({ args, json, out, api }) {
      const r = await api.request('POST', `${user(args[0])}/unlock`, { json: {} });
      if (json) return out.json(r ?? {});
      out.print(`unlocked ${args[0]}`);
    },
  },
  {
    name: 'lockouts',
    summary: 'credential lock-outs in force, of addresses and usernames (docs/security.md)',
    examples: ['portcullis lockouts'],
    async run({ json, out, api }) {
      const r = await api.request<{ scope: string; key: string; until: string }[]>('GET', '/api/v1/lockouts');
      if (json) return out.json(r);
      if (r.length === 0) return out.print('no credential lock-outs in force');
      out.print(
        table(
          ['SCOPE', 'KEY', 'UNTIL'],
          r.map((l) => [l.scope, l.key, f.time(l.until)]),
        ),
      );
    },
  },
  {
    name: 'unlock-address',
    summary: "lift an address's credential lock-out before it ends (an IPv6 address: its /64)",
    args: [{ name: 'ADDRESS', help: 'the client IP address' }],
    examples: ['portcullis unlock-address 203.0.113.7'],
    async run({ args, json, out, api }) {
      const r = await api.request<{ key: string; until: string }>('POST', '/api/v1/lockouts/lift', {
        json: { address: args[0] },
      });
      if (json) return out.json(r);
      out.print(`unlocked ${r.key} (locked until ${f.time(r.until)})`);
    },
  },
  {
    name: 'unlock-username',
    summary:
      "lift a username's credential lock-out before it ends, whether or not a customer has it (unlock also lifts a customer's strike lock-out)",
    args: [{ name: 'NAME', help: 'the username as the client sent it' }],
    examples: ['portcullis unlock-username alice'],
    async run({ args, json, out, api }) {
      const r = await api.request<{ key: string; until: string }>('POST', '/api/v1/lockouts/lift', {
        json: { username: args[0] },
      });
      if (json) return out.json(r);
      out.print(`unlocked username ${r.key} (locked until ${f.time(r.until)})`);
    },
  },
  {
    name: 'connections',
    summary: 'live connections of the gateway in the API process (the live view)',
    flags: {
      customer: { kind: 'string', value: 'NAME', help: 'only this customer' },
      port: { kind: 'int', value: 'PORT', help: 'only this gateway port', example: '--port 4000' },
    },
    examples: ['portcullis connections', 'portcullis connections --customer alice'],
    async run({ flags, json, out, api }) {
      const q = new URLSearchParams();
      if (typeof flags.customer === 'string') q.set('customer', flags.customer);
      if (typeof flags.port === 'number') q.set('port', String(flags.port));
      const r = await api.request<{ scope: string; items: LiveConn[] }>(
        'GET',
        `/api/v1/connections${q.size ? `?${q}` : ''}`,
      );
      if (json) return out.json(r);
      if (r.scope === 'none')
        return out.print('no gateway runs in the API process (see docs/limits.md, Live view)');
      out.print(
        table(
          ['ID', 'CUSTOMER', 'CLIENT', 'PORT', 'TARGET', 'UP', 'DOWN', 'SINCE'],
          r.items.map((c) => [
            c.id,
            c.username,
            c.clientAddress,
            String(c.port),
            c.target,
            f.size(c.bytesUp),
            f.size(c.bytesDown),
            f.time(c.since),
          ]),
          { right: [3, 5, 6] },
        ),
      );
    },
  },
];

interface LiveConn {
  id: string;
  username: string;
  clientAddress: string;
  port: number;
  target: string;
  bytesUp: number;
  bytesDown: number;
  since: string;
}
