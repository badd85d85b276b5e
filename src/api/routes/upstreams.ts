// Admin: upstream import (text/plain proxy.txt), list, unbind, and the port map.
import type { FastifyInstance } from 'fastify';
import type { RouteDeps } from '../deps.ts';
import { IMPORT_LIMIT } from '../limits.ts';
import { errors, idParams, importAnswer, upstreamAnswer } from '../schemas.ts';
import { upstreamView } from '../views.ts';

const tags = ['upstreams'];
const security = [{ adminToken: [] }];

export async function upstreamRoutes(app: FastifyInstance, d: RouteDeps) {
  const listing = async () => {
    const status = d.gatewayStatus?.();
    return (await d.ctx.repos.upstreams.list()).map((u) => {
      const s = status?.get(u.boundPort);
      return {
        ...upstreamView(u, d.upstreams.decryptUser(u.usernameEnc)),
        listener: status ? (s?.state ?? 'unbound') : null,
        listenerError: s?.error ?? null,
      };
    });
  };

  app.post<{ Body: string }>(
    '/upstreams/import',
    {
      bodyLimit: IMPORT_LIMIT,
      schema: {
        tags,
        security,
        summary: 'Import a proxy.txt list (text/plain); all or nothing',
        description:
          'Lines: host:port, host:port:user:pass, user:pass@host:port, http://user:pass@host:port, ' +
          'socks5://user:pass@host:port, direct. New upstreams get the next free ports; known ones keep theirs. ' +
          'Malformed lines → 400 PC_ERR_IMPORT_INVALID with details [{line, error}]; range full → 409.',
        consumes: ['text/plain'],
        body: { type: 'string', maxLength: IMPORT_LIMIT },
        response: { 200: importAnswer, ...errors(400, 409, 413) },
      },
    },
    async (request) => {
      const r = await d.upstreams.import(request.body);
      await d.audit(request, 'upstream.import', null, {
        added: r.added,
        kept: r.kept,
        duplicates: r.duplicates.length,
      });
      return r;
    },
  );

  app.get(
    '/upstreams',
    {
      schema: {
        tags,
        security,
        summary: 'Every upstream with its bound port',
        response: { 200: { type: 'array', items: upstreamAnswer } },
      },
    },
    listing,
  );

  app.delete<{ Params: { id: number } }>(
    '/upstreams/:id',
    {
      schema: {
        tags,
        security,
        summary: 'Remove an upstream and unbind its port',
        params: idParams,
        response: { 204: { type: 'null' }, ...errors(404) },
      },
    },
    async (request, reply) => {
      const row = await d.upstreams.remove(request.params.id);
      await d.audit(request, 'upstream.delete', String(row.boundPort), {
        id: row.id,
        host: row.host,
        port: row.port,
      });
      return reply.code(204).send();
    },
  );

  app.get(
    '/ports',
    {
      schema: {
        tags,
        security,
        summary: 'Every bound port with its upstream, health and listener state',
        response: { 200: { type: 'array', items: upstreamAnswer } },
      },
    },
    listing,
  );
}
