// Admin: customers, their whitelist, usage, kick and ban.
import type { FastifyInstance } from 'fastify';
import { PcError } from '../../errors.ts';
import type { CustomerWithPlan } from '../../store/repos/customers.ts';
import type { RouteDeps } from '../deps.ts';
import {
  banBody,
  customerAnswer,
  customerCreate,
  customerList,
  customerListQuery,
  customerPatch,
  errors,
  ipAnswerSchema,
  ipBody,
  ipParams,
  usageAnswer,
  usernameParams,
} from '../schemas.ts';
import type { CreateCustomerInput, UpdateCustomerInput } from '../services/customers.ts';
import { customerView, ipView } from '../views.ts';

const tags = ['customers'];
const security = [{ adminToken: [] }];
type U = { Params: { username: string } };

export async function customerRoutes(app: FastifyInstance, d: RouteDeps) {
  const { repos } = d.ctx;
  // One customer's answer carries the strike lock-out from live state (lists do not: one lookup per row).
  const view = async (c: CustomerWithPlan) => {
    const [ips, locked] = await Promise.all([
      repos.customers.ips(c.customer.id),
      d.ctx.live.lockedUntil(c.customer.id),
    ]);
    const lockedUntil = locked > d.ctx.now() ? new Date(locked).toISOString() : null;
    return { ...customerView(c.customer, c.plan, ips), lockedUntil };
  };
  const answer = (s: number) => ({ [s]: customerAnswer, ...errors(400, 401, 403, 404) });

  app.post<{ Body: CreateCustomerInput }>(
    '/customers',
    {
      schema: {
        tags,
        security,
        summary: 'Create a customer; the answer carries the API key (and a generated password) once',
        body: customerCreate,
        response: { ...answer(201), ...errors(409) },
      },
    },
    async (request, reply) => {
      const r = await d.customers.create(request.body);
      await d.audit(request, 'customer.create', r.customer.username, { plan: r.plan.name });
      const body = { ...customerView(r.customer, r.plan, []), apiKey: r.apiKey, password: r.password };
      return reply.code(201).send(body);
    },
  );

  app.get<{ Querystring: { limit: number; offset: number; plan?: string; status?: string; q?: string } }>(
    '/customers',
    {
      schema: {
        tags,
        security,
        summary: 'List customers, oldest first, with paging; q searches usernames',
        querystring: customerListQuery,
        response: { 200: customerList, ...errors(400, 404) },
      },
    },
    async (request) => {
      const q = request.query;
      let planId: number | undefined;
      if (q.plan !== undefined) {
        const plan = await repos.plans.byName(q.plan);
        if (!plan) throw new PcError('PC_ERR_NOT_FOUND', `plan "${q.plan}" does not exist`);
        planId = plan.id;
      }
      const { items, total } = await repos.customers.list({
        planId,
        status: q.status,
        q: q.q,
        limit: q.limit,
        offset: q.offset,
      });
      const ips = await repos.customers.ipsOf(items.map((i) => i.customer.id));
      return {
        items: items.map((i) =>
          customerView(
            i.customer,
            i.plan,
            ips.filter((x) => x.customerId === i.customer.id),
          ),
        ),
        total,
        limit: q.limit,
        offset: q.offset,
      };
    },
  );

  app.get<U>(
    '/customers/:username',
    { schema: { tags, security, summary: 'One customer', params: usernameParams, response: answer(200) } },
    async (request) => view(await d.customers.get(request.params.username)),
  );

  app.patch<U & { Body: UpdateCustomerInput }>(
    '/customers/:username',
    {
      schema: {
        tags,
        security,
        summary: 'Change plan, password, expiry or status',
        params: usernameParams,
        body: customerPatch,
        response: answer(200),
      },
    },
    async (request) => {
      const r = await d.customers.update(request.params.username, request.body);
      const { password: _p, ...detail } = request.body;
      await d.audit(request, 'customer.update', request.params.username, {
        ...detail,
        ...(_p ? { password: 'changed' } : {}),
      });
      return { ...(await view(r)), apiKey: r.apiKey };
    },
  );

  app.delete<U>(
    '/customers/:username',
    {
      schema: {
        tags,
        security,
        summary: 'Delete a customer (kicks their connections)',
        params: usernameParams,
        response: { 204: { type: 'null' }, ...errors(404) },
      },
    },
    async (request, reply) => {
      await d.customers.remove(request.params.username);
      await d.audit(request, 'customer.delete', request.params.username);
      return reply.code(204).send();
    },
  );

  app.post<U & { Body: { cidr: string; note?: string; expiresAt?: string | null } }>(
    '/customers/:username/ips',
    {
      schema: {
        tags,
        security,
        summary: 'Whitelist an IPv4/IPv6 address or CIDR block',
        params: usernameParams,
        body: ipBody,
        response: { 201: ipAnswerSchema, ...errors(400, 404, 409) },
      },
    },
    async (request, reply) => {
      const { customer } = await d.customers.get(request.params.username);
      const row = await d.customers.addIp(
        customer.id,
        request.body.cidr,
        request.body.note,
        request.body.expiresAt,
      );
      await d.audit(request, 'customer.ip.add', request.params.username, { cidr: row.cidr });
      return reply.code(201).send(ipView(row));
    },
  );

  app.delete<{ Params: { username: string; cidr: string } }>(
    '/customers/:username/ips/:cidr',
    {
      schema: {
        tags,
        security,
        summary: 'Remove a whitelist entry (CIDR URL-encoded: 10.0.0.0%2F8)',
        params: ipParams,
        response: { 204: { type: 'null' }, ...errors(400, 404) },
      },
    },
    async (request, reply) => {
      const { customer } = await d.customers.get(request.params.username);
      const cidr = await d.customers.removeIp(customer.id, request.params.cidr);
      await d.audit(request, 'customer.ip.remove', request.params.username, { cidr });
      return reply.code(204).send();
    },
  );

  app.get<U>(
    '/customers/:username/usage',
    {
      schema: {
        tags,
        security,
        summary: 'Bytes this quota period, quota, live threads, lock-out',
        params: usernameParams,
        response: { 200: usageAnswer, ...errors(404) },
      },
    },
    async (request) => d.usage.usage(await d.customers.get(request.params.username)),
  );

  app.post<U>(
    '/customers/:username/kick',
    {
      schema: {
        tags,
        security,
        summary: 'Close every live connection of the customer now',
        params: usernameParams,
        response: { 200: { type: 'object', properties: { kicked: { type: 'string' } } }, ...errors(404) },
      },
    },
    async (request) => {
      const c = await d.customers.kick(request.params.username);
      await d.audit(request, 'customer.kick', c.username);
      return { kicked: c.username };
    },
  );

  app.post<U & { Body: { reason?: string; until?: string } | null }>(
    '/customers/:username/ban',
    {
      schema: {
        tags,
        security,
        summary: 'Ban (and kick) a customer, optionally until a time',
        params: usernameParams,
        body: banBody,
        response: answer(200),
      },
    },
    async (request) => {
      const b = request.body ?? {};
      const c = await d.customers.ban(request.params.username, b.reason, b.until);
      await d.audit(request, 'customer.ban', request.params.username, b);
      return view(c);
    },
  );

  app.post<U>(
    '/customers/:username/unlock',
    {
      schema: {
        tags,
        security,
        summary:
          "Lift a strike lock-out now (the strike clock starts afresh) and a credential lock-out of the customer's username",
        params: usernameParams,
        response: answer(200),
      },
    },
    async (request) => {
      const c = await d.customers.get(request.params.username);
      const was = await d.ctx.live.lockedUntil(c.customer.id);
      await d.ctx.live.setLockout(c.customer.id, 0);
      // The username's credential lock-out (security/auth-guard.ts) goes too, on every process.
      await d.authGuard.unlock(`u:${c.customer.username}`);
      await d.audit(request, 'customer.unlock', request.params.username, {
        lockedUntil: was > 0 ? new Date(was).toISOString() : null,
      });
      return view(c);
    },
  );

  app.post<U>(
    '/customers/:username/unban',
    { schema: { tags, security, summary: 'Lift a ban', params: usernameParams, response: answer(200) } },
    async (request) => {
      const c = await d.customers.unban(request.params.username);
      await d.audit(request, 'customer.unban', request.params.username);
      return view(c);
    },
  );
}
