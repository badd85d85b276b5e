// Admin routes the web console needs beyond the CRUD ones: the live figures
// stream (SSE) and a customer's usage history for charts.
import type { FastifyInstance } from 'fastify';
import type { RouteDeps } from '../deps.ts';
import { errors, usernameParams } from '../schemas.ts';
import { createLiveFigures } from '../services/live-figures.ts';
import { createUsageHistory, HISTORY_MAX_STEPS, type HistoryQuery } from '../services/usage-history.ts';
import { createSseHub, sseAnswer } from '../sse.ts';

const security = [{ adminToken: [] }];
const time = { type: 'string', format: 'date-time' } as const;

export const historyQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    from: {
      ...time,
      description: 'start (rounded down to the step); default: 24 steps (hour) or 30 (day) before to',
    },
    to: { ...time, description: 'end (rounded up to the step); default: now' },
    step: {
      type: 'string',
      enum: ['hour', 'day'],
      default: 'hour',
      description: `hour (at most ${HISTORY_MAX_STEPS.hour} per answer) or UTC day (at most ${HISTORY_MAX_STEPS.day})`,
    },
  },
} as const;

export const historyAnswer = {
  type: 'object',
  properties: {
    step: { type: 'string', enum: ['hour', 'day'] },
    from: time,
    to: time,
    items: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          at: { ...time, description: 'start of the hour or UTC day' },
          bytesUp: { type: 'integer' },
          bytesDown: { type: 'integer' },
          connections: { type: 'integer' },
          requests: { type: 'integer' },
        },
      },
    },
  },
} as const;

export async function consoleRoutes(app: FastifyInstance, d: RouteDeps) {
  const history = createUsageHistory(d.ctx);
  const figures = createLiveFigures(
    d.ctx,
    { connections: d.gatewayConnections, status: d.gatewayStatus },
    (err) => d.log.warn({ err }, 'live figures: sample failed'),
  );
  const openStream = createSseHub(app);

  app.get(
    '/live',
    {
      schema: {
        tags: ['live'],
        security,
        summary: 'Live figures for the console (server-sent events)',
        description:
          'event "stats" every second: {at, scope, connections, customers, bandwidth: {up, down} (bytes/s), ' +
          'top: [{username, connections, bytesPerSec}]}; event "ports" every 5 s: {at, items: [{port, health, ' +
          'latencyMs, failures, listener}]}. Figures are those of the gateway in this process (scope "process"); ' +
          'scope "none" when this process runs no gateway.',
        produces: ['text/event-stream'],
        response: { 200: sseAnswer('Events "stats" and "ports", data is JSON.'), ...errors(401, 403) },
      },
    },
    async (request, reply) => {
      const stream = openStream(request, reply);
      stream.onClose(figures.subscribe((f) => stream.send(f.event, f.data)));
    },
  );

  app.get<{ Params: { username: string }; Querystring: HistoryQuery }>(
    '/customers/:username/usage/history',
    {
      schema: {
        tags: ['customers'],
        security,
        summary: 'Usage per hour or per UTC day over a range (zero-filled), for charts',
        params: usernameParams,
        querystring: historyQuery,
        response: { 200: historyAnswer, ...errors(400, 404) },
      },
    },
    async (request) => {
      const { customer } = await d.customers.get(request.params.username);
      return history(customer.id, request.query);
    },
  );
}
