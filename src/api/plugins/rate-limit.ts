// Per-client-IP fixed-window rate limit for the public API (not /healthz,
// /readyz, /metrics or /api/internal). In memory, per process: it protects
// this process from a flood, which is all a fixed window can promise. The
// window map is replaced wholesale when the window turns, so it never grows
// past the number of distinct clients seen in one minute.
import type { FastifyInstance } from 'fastify';
import { sendError } from './errors.ts';

export interface RateLimitOptions {
  /** requests per minute per client IP; 0 disables */
  perMinute: number;
  now: () => number;
  windowMs?: number;
}

export function registerRateLimit(app: FastifyInstance, opts: RateLimitOptions) {
  if (opts.perMinute <= 0) return;
  const windowMs = opts.windowMs ?? 60_000;
  let windowStart = 0;
  let counts = new Map<string, number>();

  app.addHook('onRequest', async (request, reply) => {
    const url = request.url;
    if (!url.startsWith('/api/') || url.startsWith('/api/internal/')) return;
    const t = opts.now();
    if (t - windowStart >= windowMs) {
      windowStart = t - (t % windowMs);
      counts = new Map();
    }
    const n = (counts.get(request.ip) ?? 0) + 1;
    counts.set(request.ip, n);
    reply.header('x-ratelimit-limit', opts.perMinute);
    reply.header('x-ratelimit-remaining', Math.max(0, opts.perMinute - n));
    if (n > opts.perMinute) {
      const retry = Math.max(1, Math.ceil((windowStart + windowMs - t) / 1000));
      reply.header('retry-after', retry);
      return sendError(
        reply,
        'PC_ERR_TOO_MANY_REQUESTS',
        `more than ${opts.perMinute} requests per minute; retry in ${retry} s`,
      );
    }
  });
}
