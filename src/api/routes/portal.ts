// Customer portal routes beyond /me: sign-in sessions, one overview answer
// (customer, plan limits, usage, and why the proxies refuse them if they do),
// the same overview live over SSE, usage history and API key regeneration.
// Sessions: POST /me/session checks username + password (scrypt) and issues a
// pcs_ token stored as SHA-256; it ends after SESSION_TTL_MS, on sign-out, or
// when the password changes (repos/sessions.ts).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ERRORS, PcError } from '../../errors.ts';
import type { CustomerWithPlan } from '../../store/repos/customers.ts';
import { newSecret, sha256 } from '../../store/secrets.ts';
import type { RouteDeps } from '../deps.ts';
import { customerAnswer, errors, usageAnswer } from '../schemas.ts';
import { createUsageHistory, type HistoryQuery } from '../services/usage-history.ts';
import { createSseHub, sseAnswer } from '../sse.ts';
import { customerView } from '../views.ts';
import { historyAnswer, historyQuery } from './console.ts';

export const SESSION_TTL_MS = 12 * 3_600_000;
/** sessions kept per customer; older ones are dropped at sign-in */
const SESSIONS_KEPT = 20;
const LIVE_INTERVAL_MS = 2000;

const tags = ['customer'];
const security: { [k: string]: string[] }[] = [{ apiKey: [] }, { basic: [] }];

const sessionBody = {
  type: 'object',
  additionalProperties: false,
  required: ['username', 'password'],
  properties: {
    username: { type: 'string', minLength: 1, maxLength: 64 },
    password: { type: 'string', minLength: 1, maxLength: 256 },
  },
} as const;

const sessionAnswer = {
  type: 'object',
  properties: {
    token: { type: 'string', description: 'pcs_...: use as bearer token on /api/v1/me*' },
    expiresAt: { type: 'string', format: 'date-time' },
    customer: customerAnswer,
  },
} as const;

const overviewAnswer = {
  type: 'object',
  properties: {
    customer: customerAnswer,
    plan: {
      type: 'object',
      properties: {
        name: { type: 'string' },
        threads: { type: 'integer' },
        rps: { type: 'integer' },
        bandwidth: { type: ['integer', 'null'] },
        quotaBytes: { type: ['integer', 'null'] },
        quotaPeriod: { type: 'string' },
        durationDays: { type: ['integer', 'null'] },
      },
    },
    usage: usageAnswer,
    refusal: {
      type: ['object', 'null'],
      description: 'why the gateway refuses this customer now (catalog code), null when it admits them',
      properties: { code: { type: 'string' }, reason: { type: 'string' }, message: { type: 'string' } },
    },
  },
} as const;

const apiKeyAnswer = {
  type: 'object',
  properties: {
    apiKey: { type: 'string', description: 'the new key, shown once; the old one stops working at once' },
    apiKeyPrefix: { type: 'string' },
  },
} as const;

function bearer(request: FastifyRequest): string | null {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '');
  return m ? m[1] : null;
}

export async function portalRoutes(app: FastifyInstance, d: RouteDeps) {
  const { repos, now } = d.ctx;
  const history = createUsageHistory(d.ctx);

  async function overview(c: CustomerWithPlan) {
    const { customer, plan } = c;
    const [ips, usage, refusal] = await Promise.all([
      repos.customers.ips(customer.id),
      d.usage.usage(c),
      d.usage.refusal(c),
    ]);
    return {
      customer: { ...customerView(customer, plan, ips), lockedUntil: usage.lockedUntil },
      plan: {
        name: plan.name,
        threads: plan.threads,
        rps: plan.rps,
        bandwidth: plan.bandwidth,
        quotaBytes: plan.quotaBytes,
        quotaPeriod: plan.quotaPeriod,
        durationDays: plan.durationDays,
      },
      usage,
      refusal: refusal
        ? { code: refusal, reason: ERRORS[refusal].reason, message: ERRORS[refusal].message }
        : null,
    };
  }

  // Sign-in needs no credentials header: its own plugin, outside the auth hook.
  await app.register(async (pub) => {
    pub.post<{ Body: { username: string; password: string } }>(
      '/me/session',
      {
        schema: {
          tags,
          summary: 'Portal sign-in with username and password; answers a session token',
          description: `The token (pcs_...) is a bearer token for every /api/v1/me route for ${SESSION_TTL_MS / 3_600_000} h, until DELETE /me/session or a password change. A banned or expired customer can still sign in to see why.`,
          body: sessionBody,
          response: { 201: sessionAnswer, ...errors(400, 401) },
        },
      },
      async (request, reply) => {
        const { username, password } = request.body;
        const c = await d.customerAuth.byPassword(username, password);
        if (!c) throw new PcError('PC_ERR_UNAUTHORIZED', 'wrong username or password');
        const t = now();
        const secret = newSecret('pcs');
        const expiresAt = new Date(t + SESSION_TTL_MS);
        await repos.sessions.prune(c.customer.id, new Date(t), SESSIONS_KEPT - 1);
        await repos.sessions.create({
          customerId: c.customer.id,
          tokenHash: secret.hash,
          passwordFp: sha256(c.customer.passwordHash),
          ip: request.ip,
          expiresAt,
        });
        const ips = await repos.customers.ips(c.customer.id);
        return reply.code(201).send({
          token: secret.value,
          expiresAt: expiresAt.toISOString(),
          customer: customerView(c.customer, c.plan, ips),
        });
      },
    );
  });

  await app.register(async (s) => {
    s.addHook('onRequest', d.customerAuth.hook);
    const openStream = createSseHub(s);

    s.delete(
      '/me/session',
      {
        schema: {
          tags,
          security: [{ apiKey: [] }],
          summary: 'Sign out: ends the session whose token is the bearer token',
          response: { 204: { type: 'null' }, ...errors(400, 401) },
        },
      },
      async (request, reply) => {
        const token = bearer(request);
        if (!token?.startsWith('pcs_'))
          throw new PcError(
            'PC_ERR_VALIDATION',
            'sign-out needs the session token (pcs_...) as bearer token',
            {
              fields: [{ field: 'authorization', problem: 'must be Bearer pcs_...' }],
            },
          );
        await repos.sessions.delete(sha256(token));
        return reply.code(204).send();
      },
    );

    s.get(
      '/me/overview',
      {
        schema: {
          tags,
          security,
          summary: 'Customer, plan limits, usage this period, and the refusal the gateway would give now',
          response: { 200: overviewAnswer, ...errors(401) },
        },
      },
      async (request) => overview(request.customer!),
    );

    s.get(
      '/me/live',
      {
        schema: {
          tags,
          security,
          summary: 'The overview, live (server-sent events)',
          description:
            'event "overview" (as GET /me/overview) at once, every 2 s and right after a change to the customer ' +
            'or their plan (ban, kick, new limits); event "end" {code, message} when the credentials stop ' +
            'working (session expired, password changed, customer deleted), then the stream closes.',
          produces: ['text/event-stream'],
          response: { 200: sseAnswer('Events "overview" and "end", data is JSON.'), ...errors(401) },
        },
      },
      async (request, reply) => {
        const first = request.customer!;
        const id = first.customer.id;
        const token = bearer(request);
        const header = request.headers.authorization ?? '';
        // The same credentials, checked again on every push.
        const recheck = async (): Promise<CustomerWithPlan | undefined> => {
          if (token?.startsWith('pcs_')) return d.customerAuth.bySession(token);
          if (token) return d.customerAuth.byApiKey(token);
          const text = Buffer.from(header.replace(/^Basic\s+/i, ''), 'base64').toString('utf8');
          const colon = text.indexOf(':');
          return d.customerAuth.byPassword(text.slice(0, colon), text.slice(colon + 1));
        };
        const stream = openStream(request, reply);
        let planId = first.plan.id;
        let busy = false;
        let again = false;
        const push = async () => {
          if (busy) {
            again = true;
            return;
          }
          busy = true;
          try {
            do {
              again = false;
              const c = await recheck();
              if (stream.closed) return;
              if (!c || c.customer.id !== id) {
                stream.send('end', {
                  code: 'PC_ERR_UNAUTHORIZED',
                  message: 'session expired or signed out; sign in again',
                });
                stream.close();
                return;
              }
              planId = c.plan.id;
              stream.send('overview', await overview(c));
            } while (again && !stream.closed);
          } catch (err) {
            d.log.warn({ err }, 'portal live: push failed');
          } finally {
            busy = false;
          }
        };
        const timer = setInterval(push, LIVE_INTERVAL_MS);
        timer.unref();
        const off = d.ctx.changes.on((e) => {
          if ((e.type === 'customer' || e.type === 'kick') && e.customerId === id) push();
          else if (e.type === 'plan' && e.planId === planId) push();
        });
        stream.onClose(() => {
          clearInterval(timer);
          off();
        });
        await push();
      },
    );

    s.get<{ Querystring: HistoryQuery }>(
      '/me/usage/history',
      {
        schema: {
          tags,
          security,
          summary: 'My usage per hour or per UTC day over a range (zero-filled)',
          querystring: historyQuery,
          response: { 200: historyAnswer, ...errors(400, 401) },
        },
      },
      async (request) => history(request.customer!.customer.id, request.query),
    );

    s.post(
      '/me/api-key',
      {
        schema: {
          tags,
          security,
          summary: 'Issue a new API key (shown once); the old one stops working at once',
          response: { 200: apiKeyAnswer, ...errors(401) },
        },
      },
      async (request) => {
        const { customer } = request.customer!;
        const r = await d.customers.update(customer.username, { regenerateApiKey: true });
        await repos.audit.record({
          actor: `customer:${customer.username}`,
          action: 'customer.apikey.regenerate',
          target: customer.username,
          detail: { apiKeyPrefix: r.customer.apiKeyPrefix },
          ip: request.ip,
          at: new Date(now()),
        });
        return { apiKey: r.apiKey!, apiKeyPrefix: r.customer.apiKeyPrefix };
      },
    );
  });
}
