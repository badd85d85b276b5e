// Seed-compatible alias: GET /api/proxies.php?api_key=K (or username+password,
// or no credentials from a whitelisted IP) → text/plain host:port lines, or
// JSON {status:"inactive", reason} with 401 (unknown credentials) or 403
// (expired, banned, disabled, quota_exceeded, timeout = locked out,
// ip_not_whitelisted = no credentials and the caller's IP is on no whitelist).
import type { FastifyInstance } from 'fastify';
import { cidrContains, parseCidr, parseIp } from '../../domain/cidr.ts';
import { ERRORS } from '../../errors.ts';
import type { CustomerWithPlan } from '../../store/repos/customers.ts';
import type { RouteDeps } from '../deps.ts';
import { proxiesQuery } from '../schemas.ts';

const inactive = {
  type: 'object',
  properties: { status: { type: 'string', enum: ['inactive'] }, reason: { type: 'string' } },
} as const;

export async function proxiesPhpRoute(app: FastifyInstance, d: RouteDeps) {
  const { repos } = d.ctx;

  async function byCallerIp(ipText: string): Promise<CustomerWithPlan | undefined> {
    const ip = parseIp(ipText);
    if (!ip) return undefined;
    let best: { id: number; prefix: number } | undefined;
    for (const row of await repos.customers.allIps()) {
      const c = parseCidr(row.cidr);
      if (c && cidrContains(c, ip) && (!best || c.prefix > best.prefix))
        best = { id: row.customerId, prefix: c.prefix };
    }
    return best ? repos.customers.byId(best.id) : undefined;
  }

  app.get<{ Querystring: { api_key?: string; username?: string; password?: string } }>(
    '/api/proxies.php',
    {
      schema: {
        tags: ['customer'],
        summary: 'Seed-compatible proxy list',
        querystring: proxiesQuery,
        produces: ['text/plain', 'application/json'],
        response: { 200: { type: 'string' }, 401: inactive, 403: inactive },
      },
    },
    async (request, reply) => {
      const q = request.query;
      let c: CustomerWithPlan | undefined;
      if (q.api_key) c = await d.customerAuth.byApiKey(q.api_key);
      else if (q.username !== undefined && q.password !== undefined)
        c = await d.customerAuth.byPassword(q.username, q.password);
      else {
        c = await byCallerIp(request.ip);
        if (!c)
          return reply.code(403).send({ status: 'inactive', reason: ERRORS.PC_ERR_IP_NOT_ALLOWED.reason });
      }
      if (!c)
        return reply.code(401).send({ status: 'inactive', reason: ERRORS.PC_ERR_BAD_CREDENTIALS.reason });
      const refusal = await d.usage.refusal(c);
      if (refusal) return reply.code(403).send({ status: 'inactive', reason: ERRORS[refusal].reason });
      return reply.type('text/plain; charset=utf-8').send(await d.usage.proxyList());
    },
  );
}
