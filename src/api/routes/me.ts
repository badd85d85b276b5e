// Customer API: the caller sees only their own data (API key as bearer token,
// or HTTP Basic username:password).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ERRORS, PcError } from '../../errors.ts';
import type { CustomerWithPlan } from '../../store/repos/customers.ts';
import type { RouteDeps } from '../deps.ts';
import {
  customerAnswer,
  errors,
  ipAnswerSchema,
  ipBody,
  meIpParams,
  textAnswer,
  usageAnswer,
} from '../schemas.ts';
import { customerView, ipView } from '../views.ts';

const tags = ['customer'];
const security: { [k: string]: string[] }[] = [{ apiKey: [] }, { basic: [] }];
const me = (request: FastifyRequest): CustomerWithPlan => request.customer!;

export async function meRoutes(app: FastifyInstance, d: RouteDeps) {
  const { repos } = d.ctx;
  app.addHook('onRequest', d.customerAuth.hook);

  app.get(
    '/me',
    {
      schema: {
        tags,
        security,
        summary: 'The calling customer',
        response: { 200: customerAnswer, ...errors(401) },
      },
    },
    async (request) => {
      const { customer, plan } = me(request);
      return customerView(customer, plan, await repos.customers.ips(customer.id));
    },
  );

  app.get(
    '/me/proxies',
    {
      schema: {
        tags,
        security,
        summary: 'host:port lines valid for the caller now (text/plain)',
        produces: ['text/plain'],
        response: { 200: textAnswer, ...errors(401, 403) },
      },
    },
    async (request, reply) => {
      const refusal = await d.usage.refusal(me(request));
      if (refusal) throw new PcError(refusal, ERRORS[refusal].message);
      return reply.type('text/plain; charset=utf-8').send(await d.usage.proxyList());
    },
  );

  app.get(
    '/me/usage',
    {
      schema: {
        tags,
        security,
        summary: 'Usage this period',
        response: { 200: usageAnswer, ...errors(401) },
      },
    },
    async (request) => d.usage.usage(me(request)),
  );

  app.post<{ Body: { cidr: string; note?: string; expiresAt?: string | null } }>(
    '/me/ips',
    {
      schema: {
        tags,
        security,
        summary: 'Whitelist one of my addresses or blocks',
        description:
          "409 PC_ERR_CONFLICT when the block is, contains or lies inside another customer's whitelist entry.",
        body: ipBody,
        response: { 201: ipAnswerSchema, ...errors(400, 401, 409) },
      },
    },
    async (request, reply) => {
      const row = await d.customers.addIp(
        me(request).customer.id,
        request.body.cidr,
        request.body.note,
        request.body.expiresAt,
        { exclusive: true },
      );
      return reply.code(201).send(ipView(row));
    },
  );

  app.delete<{ Params: { cidr: string } }>(
    '/me/ips/:cidr',
    {
      schema: {
        tags,
        security,
        summary: 'Remove one of my whitelist entries (URL-encoded CIDR)',
        params: meIpParams,
        response: { 204: { type: 'null' }, ...errors(400, 401, 404) },
      },
    },
    async (request, reply) => {
      await d.customers.removeIp(me(request).customer.id, request.params.cidr);
      return reply.code(204).send();
    },
  );
}
