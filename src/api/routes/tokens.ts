// Admin: tokens (scopes "admin" = everything, "read" = GET only) and the audit log.
import type { FastifyInstance } from 'fastify';
import { PcError } from '../../errors.ts';
import { newSecret } from '../../store/secrets.ts';
import type { RouteDeps } from '../deps.ts';
import { auditAnswer, auditQuery, errors, idParams, tokenAnswer, tokenCreate } from '../schemas.ts';
import { auditView, tokenView } from '../views.ts';

const security = [{ adminToken: [] }];

export async function tokenRoutes(app: FastifyInstance, d: RouteDeps) {
  const { repos, now } = d.ctx;

  app.post<{ Body: { name: string; scopes: string[]; expiresAt?: string | null } }>(
    '/tokens',
    {
      schema: {
        tags: ['tokens'],
        security,
        summary: 'Create an admin token; the plaintext is in this answer only',
        body: tokenCreate,
        response: { 201: tokenAnswer, ...errors(400, 401, 403) },
      },
    },
    async (request, reply) => {
      const { name, scopes, expiresAt } = request.body;
      if (expiresAt && new Date(expiresAt).getTime() <= now())
        throw new PcError('PC_ERR_VALIDATION', 'expiresAt must be in the future', {
          fields: [{ field: 'expiresAt', problem: 'must be in the future' }],
        });
      const secret = newSecret('pca');
      const row = await repos.adminTokens.create({
        name,
        scopes,
        tokenHash: secret.hash,
        prefix: secret.display,
        expiresAt: expiresAt ? new Date(expiresAt) : null,
      });
      await d.audit(request, 'token.create', name, { id: row.id, scopes });
      return reply.code(201).send({ ...tokenView(row), token: secret.value });
    },
  );

  app.get(
    '/tokens',
    {
      schema: {
        tags: ['tokens'],
        security,
        summary: 'List admin tokens (never their values)',
        response: { 200: { type: 'array', items: tokenAnswer } },
      },
    },
    async () => (await repos.adminTokens.list()).map(tokenView),
  );

  app.delete<{ Params: { id: number } }>(
    '/tokens/:id',
    {
      schema: {
        tags: ['tokens'],
        security,
        summary: 'Revoke a token (refused for the last active admin token)',
        params: idParams,
        response: { 204: { type: 'null' }, ...errors(404, 409) },
      },
    },
    async (request, reply) => {
      const row = await repos.adminTokens.byId(request.params.id);
      if (!row || row.revokedAt)
        throw new PcError('PC_ERR_NOT_FOUND', `token ${request.params.id} does not exist`);
      const t = now();
      const admins = (await repos.adminTokens.active()).filter(
        (x) => x.scopes.includes('admin') && (!x.expiresAt || x.expiresAt.getTime() > t),
      );
      if (admins.length === 1 && admins[0].id === row.id)
        throw new PcError(
          'PC_ERR_CONFLICT',
          'refusing to revoke the last active admin token; create another first',
        );
      await repos.adminTokens.revoke(row.id);
      await d.audit(request, 'token.revoke', row.name, { id: row.id });
      return reply.code(204).send();
    },
  );

  app.get<{ Querystring: { limit: number; before?: number } }>(
    '/audit',
    {
      schema: {
        tags: ['audit'],
        security,
        summary: 'Audit log, newest first (page with ?before=<id>)',
        querystring: auditQuery,
        response: { 200: auditAnswer, ...errors(400) },
      },
    },
    async (request) => (await repos.audit.list(request.query.limit, request.query.before)).map(auditView),
  );
}
