// Admin: the credential lock-outs in force (security/auth-guard.ts), and
// lifting one before it ends (fail2ban's `unbanip`): an address's, or a
// username's, whether or not a customer has that name. A customer's strike
// lock-out is lifted with POST /customers/{username}/unlock, which lifts the
// username's credential lock-out too.
import type { FastifyInstance } from 'fastify';
import { parseIp } from '../../domain/cidr.ts';
import { PcError } from '../../errors.ts';
import { addressKey } from '../../security/auth-guard.ts';
import type { RouteDeps } from '../deps.ts';
import { errors } from '../schemas.ts';

const security = [{ adminToken: [] }];
const tags = ['security'];

const lockout = {
  type: 'object',
  required: ['scope', 'key', 'until'],
  properties: {
    scope: { type: 'string', enum: ['address', 'username'] },
    /** an IPv4 address, an IPv6 /64 (lock-outs cover a client's whole /64), or a username */
    key: { type: 'string' },
    until: { type: 'string', format: 'date-time' },
  },
} as const;

const liftBody = {
  type: 'object',
  additionalProperties: false,
  // One of the two: the schema error names the body when both or neither come.
  oneOf: [{ required: ['address'] }, { required: ['username'] }],
  properties: {
    address: {
      type: 'string',
      minLength: 1,
      maxLength: 64,
      description: 'an IPv4 or IPv6 address (IPv6: its /64)',
    },
    username: {
      type: 'string',
      minLength: 1,
      maxLength: 64,
      description: 'a username, as the client sent it (a customer need not have it)',
    },
  },
} as const;

const SCOPES: Record<string, 'address' | 'username'> = { ip: 'address', u: 'username' };

export async function lockoutRoutes(app: FastifyInstance, d: RouteDeps) {
  const { live, now } = d.ctx;

  app.get(
    '/lockouts',
    {
      schema: {
        tags,
        security,
        summary: 'Credential lock-outs in force, of addresses and usernames, soonest end first',
        response: { 200: { type: 'array', items: lockout }, ...errors(401, 403) },
      },
    },
    async () => {
      const t = now();
      const items: { scope: string; key: string; until: string }[] = [];
      for (const [key, until] of await live.authLocks()) {
        const colon = key.indexOf(':');
        const scope = SCOPES[key.slice(0, colon)];
        if (until > t && scope)
          items.push({ scope, key: key.slice(colon + 1), until: new Date(until).toISOString() });
      }
      return items.sort((a, b) => a.until.localeCompare(b.until));
    },
  );

  app.post<{ Body: { address?: string; username?: string } }>(
    '/lockouts/lift',
    {
      schema: {
        tags,
        security,
        summary: "Lift an address's or a username's credential lock-out now, on every process",
        body: liftBody,
        response: { 200: lockout, ...errors(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const { address, username } = request.body;
      let scope: 'address' | 'username';
      let text: string;
      if (address !== undefined) {
        if (!parseIp(address))
          throw new PcError('PC_ERR_VALIDATION', `"${address}" is not an IP address`, {
            fields: [{ field: 'address', problem: 'not an IPv4 or IPv6 address' }],
          });
        scope = 'address';
        text = addressKey(address);
      } else {
        scope = 'username';
        text = username as string;
      }
      const key = `${scope === 'address' ? 'ip' : 'u'}:${text}`;
      const until = (await live.authLocks()).get(key) ?? 0;
      if (until <= now())
        throw new PcError(
          'PC_ERR_NOT_FOUND',
          `no credential lock-out in force for ${scope === 'username' ? `username ${text}` : text}`,
        );
      // Here at once, and on every other process (gateway threads included).
      await d.authGuard.unlock(key);
      const view = { scope, key: text, until: new Date(until).toISOString() };
      await d.audit(request, 'lockout.lift', text, { scope, until: view.until });
      return view;
    },
  );
}
