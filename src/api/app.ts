// The Fastify app, built separately from listen() so tests use app.inject()
// and the composition (src/app.ts) decides where to listen. Takes every
// dependency explicitly; never reads process.env.
import swagger from '@fastify/swagger';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyRequest,
  LogController,
} from 'fastify';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Config } from '../config.ts';
import type { LiveState } from '../live/live.ts';
import type { Store } from '../store/db.ts';
import { createRepos } from '../store/repos/index.ts';
import type { Cipher } from '../store/secrets.ts';
import type { GatewayConnections, GatewayStatus, RouteDeps } from './deps.ts';
import { JSON_LIMIT } from './limits.ts';
import { createAdminAuth, createCustomerAuth } from './plugins/auth.ts';
import { registerAuthLockout } from './plugins/auth-lockout.ts';
import { registerCleanText } from './plugins/clean-text.ts';
import { registerErrorHandling } from './plugins/errors.ts';
import { registerFiniteNumbers } from './plugins/finite-numbers.ts';
import { registerMetrics } from './plugins/metrics.ts';
import { registerRateLimit } from './plugins/rate-limit.ts';
import { connectionRoutes } from './routes/connections.ts';
import { consoleRoutes } from './routes/console.ts';
import { customerRoutes } from './routes/customers.ts';
import { healthRoutes, internalRoutes } from './routes/health.ts';
import { lockoutRoutes } from './routes/lockouts.ts';
import { meRoutes } from './routes/me.ts';
import { planRoutes } from './routes/plans.ts';
import { portalRoutes } from './routes/portal.ts';
import { proxiesPhpRoute } from './routes/proxies-php.ts';
import { tokenRoutes } from './routes/tokens.ts';
import { upstreamRoutes } from './routes/upstreams.ts';
import { DEFAULT_WEB_DIR, webRoutes } from './routes/web.ts';
import { errorAnswer } from './schemas.ts';
import { createChangeFeed } from './services/change-feed.ts';
import type { ServiceContext } from './services/context.ts';
import { createCustomerService } from './services/customers.ts';
import { createPlanService } from './services/plans.ts';
import { createUpstreamService } from './services/upstream-import.ts';
import { createUsageService } from './services/usage.ts';

export interface AppDeps {
  config: Readonly<Config>;
  store: Store;
  live: LiveState;
  cipher: Cipher;
  log: Logger;
  /** listener state per bound port, from the gateway when it runs in this process */
  gatewayStatus?: GatewayStatus;
  /** live connections of the gateway when it runs in this process (GET /api/v1/connections) */
  gatewayConnections?: GatewayConnections;
  /** the process's Prometheus registry; a private one is created when absent */
  metrics?: Registry;
  /** clock (ms since epoch); tests inject one */
  now?: () => number;
  /** the built web console (vite build output) served at `/`; default web/dist */
  webDir?: string;
}

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const now = deps.now ?? Date.now;
  const app: FastifyInstance = Fastify({
    loggerInstance: deps.log as unknown as FastifyBaseLogger,
    // One line per request would swamp the log at proxy-list polling rates;
    // errors and refusals are logged where they happen.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: JSON_LIMIT,
    ajv: {
      customOptions: { allErrors: true, removeAdditional: false, coerceTypes: 'array', useDefaults: true },
    },
  });

  // text/plain is the upstream import format; the route raises its own body limit to 10 MiB.
  app.removeContentTypeParser('text/plain');
  app.addContentTypeParser('text/plain', { parseAs: 'string' }, (_req, body, done) => done(null, body));

  await app.register(swagger, {
    refResolver: { buildLocalReference: (json, _base, _fragment, i) => String(json.$id ?? `def-${i}`) },
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Portcullis API',
        version: '1',
        description:
          'Admin API (bearer admin token; scopes: admin = everything, read = GET only) and customer API ' +
          '(API key as bearer token, or Basic username:password). Errors: {error: {code, message, reason, fields?, details?}}. ' +
          'Units: bytes, bytes/s, seconds, ISO-8601 times.',
      },
      components: {
        securitySchemes: {
          adminToken: { type: 'http', scheme: 'bearer', description: 'admin token (pca_...)' },
          apiKey: { type: 'http', scheme: 'bearer', description: 'customer API key (pck_...)' },
          basic: { type: 'http', scheme: 'basic', description: 'customer username:password' },
        },
      },
    },
  });

  // Shared by every route's error answers; the OpenAPI document names it once.
  app.addSchema({ $id: 'Error', ...errorAnswer });
  registerErrorHandling(app);
  registerCleanText(app);
  registerFiniteNumbers(app);
  registerRateLimit(app, { perMinute: deps.config.api.rateLimitPerMin, now });
  registerMetrics(app, deps.metrics);

  const repos = createRepos(deps.store.db);
  const ctx: ServiceContext = {
    config: deps.config,
    store: deps.store,
    repos,
    live: deps.live,
    cipher: deps.cipher,
    now,
    changes: createChangeFeed(deps.live),
  };
  // Before the routes: a locked-out attempt is refused before any auth hook looks at it.
  const authGuard = await registerAuthLockout(app, { ...ctx, log: deps.log });
  const d: RouteDeps = {
    ctx,
    log: deps.log,
    authGuard,
    plans: createPlanService(ctx),
    customers: createCustomerService(ctx),
    upstreams: createUpstreamService(ctx),
    usage: createUsageService(ctx),
    adminAuth: createAdminAuth(repos, now),
    customerAuth: createCustomerAuth(repos, ctx.changes, now),
    gatewayStatus: deps.gatewayStatus,
    gatewayConnections: deps.gatewayConnections,
    async audit(request: FastifyRequest, action, target, detail) {
      await repos.audit.record({
        actor: request.admin?.name ?? 'unknown',
        action,
        target,
        detail: detail ?? null,
        ip: request.ip,
        at: new Date(now()),
      });
    },
  };

  await app.register(async (s) => healthRoutes(s, d));
  await app.register(async (s) => internalRoutes(s, d), { prefix: '/api/internal' });
  await app.register(async (s) => proxiesPhpRoute(s, d));
  await app.register(async (s) => meRoutes(s, d), { prefix: '/api/v1' });
  await app.register(async (s) => portalRoutes(s, d), { prefix: '/api/v1' });
  await app.register(
    async (s) => {
      s.addHook('onRequest', d.adminAuth);
      await planRoutes(s, d);
      await customerRoutes(s, d);
      await upstreamRoutes(s, d);
      await tokenRoutes(s, d);
      await lockoutRoutes(s, d);
      await connectionRoutes(s, d);
      await consoleRoutes(s, d);
    },
    { prefix: '/api/v1' },
  );

  app.get('/api/docs', { schema: { hide: true } }, async () => app.swagger());
  await app.register(async (s) => webRoutes(s, { dir: deps.webDir ?? DEFAULT_WEB_DIR }));
  return app;
}
