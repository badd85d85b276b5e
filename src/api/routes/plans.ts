// Admin: plans.
import type { FastifyInstance } from 'fastify';
import type { RouteDeps } from '../deps.ts';
import { errors, nameParams, planAnswer, planCreate, planPatch } from '../schemas.ts';
import type { PlanInput } from '../services/plans.ts';
import { planView } from '../views.ts';

const tags = ['plans'];
const security = [{ adminToken: [] }];

export async function planRoutes(app: FastifyInstance, d: RouteDeps) {
  app.post<{ Body: PlanInput }>(
    '/plans',
    {
      schema: {
        tags,
        security,
        summary: 'Create a plan',
        body: planCreate,
        response: { 201: planAnswer, ...errors(400, 401, 403, 409) },
      },
    },
    async (request, reply) => {
      const plan = await d.plans.create(request.body);
      await d.audit(request, 'plan.create', plan.name, request.body);
      return reply.code(201).send(planView(plan));
    },
  );

  app.get(
    '/plans',
    {
      schema: {
        tags,
        security,
        summary: 'List plans',
        response: { 200: { type: 'array', items: planAnswer } },
      },
    },
    async () => (await d.plans.list()).map(planView),
  );

  app.get<{ Params: { name: string } }>(
    '/plans/:name',
    {
      schema: {
        tags,
        security,
        summary: 'One plan',
        params: nameParams,
        response: { 200: planAnswer, ...errors(404) },
      },
    },
    async (request) => planView(await d.plans.get(request.params.name)),
  );

  app.patch<{ Params: { name: string }; Body: Partial<PlanInput> }>(
    '/plans/:name',
    {
      schema: {
        tags,
        security,
        summary: 'Change a plan (gateways apply it to its customers within 1 s)',
        params: nameParams,
        body: planPatch,
        response: { 200: planAnswer, ...errors(400, 404, 409) },
      },
    },
    async (request) => {
      const plan = await d.plans.update(request.params.name, request.body);
      await d.audit(request, 'plan.update', request.params.name, request.body);
      return planView(plan);
    },
  );

  app.delete<{ Params: { name: string } }>(
    '/plans/:name',
    {
      schema: {
        tags,
        security,
        summary: 'Delete a plan no customer uses',
        params: nameParams,
        response: { 204: { type: 'null' }, ...errors(404, 409) },
      },
    },
    async (request, reply) => {
      await d.plans.remove(request.params.name);
      await d.audit(request, 'plan.delete', request.params.name);
      return reply.code(204).send();
    },
  );
}
