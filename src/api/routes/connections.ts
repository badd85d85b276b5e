// Admin: the live view. GET lists the live connections of the gateway that
// runs in this process (roles api + gateway, the default `portcullis up`);
// `scope` says so, and is "none" in an API-only process, which has no
// connections to show. Listing across several gateway processes is not done
// here: each process's view is its own (docs/limits.md, "Live view").
// DELETE kicks one connection wherever it lives: the kick is published to
// every gateway process, and the one holding the connection closes it.
import type { FastifyInstance } from 'fastify';
import { PcError } from '../../errors.ts';
import type { RouteDeps } from '../deps.ts';
import { errors } from '../schemas.ts';

const tags = ['connections'];
const security = [{ adminToken: [] }];

const connection = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    customer: { type: 'string', description: 'username' },
    customerId: { type: 'integer' },
    clientAddress: { type: 'string' },
    port: { type: 'integer', description: 'the gateway port the client connected to' },
    target: {
      type: 'string',
      description: 'host:port asked for (the latest one on a keep-alive connection)',
    },
    upstream: {
      type: 'string',
      description: 'upstream used: protocol://host:port, "direct", or empty before one is chosen',
    },
    bytesUp: {
      type: 'integer',
      description: 'bytes from the client (client leg, protocol overhead included)',
    },
    bytesDown: { type: 'integer', description: 'bytes to the client' },
    since: { type: 'string', format: 'date-time' },
  },
} as const;

const listAnswer = {
  type: 'object',
  properties: {
    scope: {
      type: 'string',
      enum: ['process', 'none'],
      description: 'process: the gateway of this API process; none: no gateway runs in this process',
    },
    total: { type: 'integer' },
    items: { type: 'array', items: connection },
  },
} as const;

const listQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    customer: { type: 'string', minLength: 1, maxLength: 64, description: 'username' },
    port: { type: 'integer', minimum: 1, maximum: 65535 },
  },
} as const;

const idParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9-]+$' } },
} as const;

export async function connectionRoutes(app: FastifyInstance, d: RouteDeps) {
  app.get<{ Querystring: { customer?: string; port?: number } }>(
    '/connections',
    {
      schema: {
        tags,
        security,
        summary: 'Live connections (of the gateway in this process), filtered by customer and port',
        querystring: listQuery,
        response: { 200: listAnswer, ...errors(400) },
      },
    },
    async (request) => {
      const list = d.gatewayConnections;
      if (!list) return { scope: 'none', total: 0, items: [] };
      const { customer, port } = request.query;
      const items = (await list())
        .filter(
          (c) =>
            (customer === undefined || c.username === customer) && (port === undefined || c.port === port),
        )
        .sort((a, b) => (a.since < b.since ? -1 : a.since > b.since ? 1 : 0))
        .map(({ username, ...c }) => ({ ...c, customer: username }));
      return { scope: 'process', total: items.length, items };
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/connections/:id',
    {
      schema: {
        tags,
        security,
        summary: 'Close one live connection (on whichever gateway process holds it)',
        description:
          '202: the kick was sent to every gateway process. 404 only when this process runs the only ' +
          'gateway (no shared live state) and it holds no such connection.',
        params: idParams,
        response: { 202: { type: 'object', properties: { kicked: { type: 'string' } } }, ...errors(404) },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      const list = d.gatewayConnections;
      const alone = list !== undefined && d.ctx.live.kind === 'memory';
      if (alone && !(await list()).some((c) => c.id === id))
        throw new PcError('PC_ERR_NOT_FOUND', `no live connection "${id}"`);
      await d.ctx.live.publish({ type: 'kick-conn', connId: id });
      await d.audit(request, 'connection.kick', id);
      return reply.code(202).send({ kicked: id });
    },
  );
}
