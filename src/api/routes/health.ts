// Liveness, readiness and the internal endpoints.
import type { FastifyInstance } from 'fastify';
import type { RouteDeps } from '../deps.ts';
import { sendError } from '../plugins/errors.ts';
import { createInternalOnly } from '../plugins/internal-only.ts';

const PING_TIMEOUT_MS = 2000;

async function check(fn: () => Promise<void>): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      fn(),
      new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`no answer within ${PING_TIMEOUT_MS} ms`)),
          PING_TIMEOUT_MS,
        );
      }),
    ]);
    return 'ok';
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  } finally {
    clearTimeout(timer);
  }
}

export async function healthRoutes(app: FastifyInstance, d: RouteDeps) {
  app.get('/healthz', { schema: { tags: ['health'], summary: 'Process is up' } }, async () => ({
    status: 'ok',
  }));

  app.get(
    '/readyz',
    { schema: { tags: ['health'], summary: 'Store and live state answer' } },
    async (_req, reply) => {
      const [store, live] = await Promise.all([
        check(() => d.ctx.store.ping()),
        check(() => d.ctx.live.ping()),
      ]);
      const checks = { store, live };
      const down = Object.entries(checks)
        .filter(([, v]) => v !== 'ok')
        .map(([k, v]) => `${k}: ${v}`);
      if (down.length)
        return sendError(reply, 'PC_ERR_STORE_UNAVAILABLE', `not ready: ${down.join('; ')}`, {
          details: checks,
        });
      return { status: 'ok', checks, liveDegraded: (d.ctx.live as { degraded?: boolean }).degraded ?? false };
    },
  );
}

export async function internalRoutes(app: FastifyInstance, d: RouteDeps) {
  app.addHook('onRequest', createInternalOnly(d.ctx.config.internalAllow));
  app.get(
    '/health',
    { schema: { tags: ['internal'], summary: 'Health for peers on allowed networks' } },
    async () => {
      const status = d.gatewayStatus?.();
      const ports = status ? Object.fromEntries([...status].map(([p, s]) => [p, s])) : null;
      return { status: 'ok', store: d.ctx.store.kind, live: d.ctx.live.kind, ports };
    },
  );
}
