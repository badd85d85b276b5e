// token add | list | rm: admin API tokens (stored hashed; shown once).
import * as f from '../format.ts';
import { keyValues, table } from '../output.ts';
import { type Command, UsageError } from '../spec.ts';
import { listOf } from './plan.ts';

interface Token {
  id: number;
  name: string;
  token?: string;
  prefix?: string;
  scopes?: string[];
  expiresAt?: string | null;
  lastUsedAt?: string | null;
  createdAt?: string;
}

export const tokenCommands: Command[] = [
  {
    name: 'token add',
    summary: 'create an admin API token; prints it once',
    args: [{ name: 'NAME', help: 'what the token is for, e.g. billing-script' }],
    flags: {
      scope: {
        kind: 'string',
        value: 'SCOPE',
        help: 'admin (read and write) or read (default admin)',
        choices: ['admin', 'read'],
      },
      expires: {
        kind: 'expiry',
        value: 'WHEN',
        help: 'ISO time or a duration from now (90d); default never',
      },
    },
    examples: ['portcullis token add billing-script --scope read', 'portcullis token add ci --expires 90d'],
    async run({ args, flags, json, out, api }) {
      const body: Record<string, unknown> = { name: args[0], scopes: [flags.scope ?? 'admin'] };
      if (flags.expires !== undefined) body.expiresAt = flags.expires;
      const t = await api.request<Token>('POST', '/api/v1/tokens', { json: body });
      if (json) return out.json(t);
      out.print(
        keyValues([
          ['id', String(t.id)],
          ['name', t.name],
          ['scopes', (t.scopes ?? []).join(', ')],
          ['expires', f.time(t.expiresAt, 'never')],
          ['token', t.token ?? '-'],
        ]),
      );
      out.print('(shown once: only its hash is stored)');
    },
  },
  {
    name: 'token list',
    summary: 'list admin tokens (never their values)',
    examples: ['portcullis token list'],
    async run({ json, out, api }) {
      const data = await api.request('GET', '/api/v1/tokens');
      if (json) return out.json(data);
      const list = listOf<Token>(data);
      out.print(
        table(
          ['ID', 'NAME', 'PREFIX', 'SCOPES', 'EXPIRES', 'LAST USED'],
          list.map((t) => [
            String(t.id),
            t.name,
            t.prefix ? `${t.prefix}…` : '-',
            (t.scopes ?? []).join(','),
            f.time(t.expiresAt, 'never'),
            f.time(t.lastUsedAt, 'never'),
          ]),
          { right: [0] },
        ),
      );
    },
  },
  {
    name: 'token rm',
    summary: 'revoke an admin token',
    args: [{ name: 'ID', help: 'token id from `portcullis token list`' }],
    examples: ['portcullis token rm 3'],
    async run({ args, json, out, api }) {
      if (!/^\d+$/.test(args[0]))
        throw new UsageError(
          `ID expects a number from \`portcullis token list\`; got "${args[0]}"`,
          'token rm',
        );
      const r = await api.request('DELETE', `/api/v1/tokens/${args[0]}`);
      if (json) return out.json(r ?? {});
      out.print(`token ${args[0]} revoked`);
    },
  },
];
