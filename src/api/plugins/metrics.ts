// Prometheus: request counts and latencies by route pattern (not raw URL, so
// cardinality stays bounded) and status, on the registry the process shares.
import type { FastifyInstance } from 'fastify';
import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';

export function registerMetrics(app: FastifyInstance, registry: Registry | undefined): Registry {
  const reg = registry ?? new Registry();
  if (!registry) collectDefaultMetrics({ register: reg, prefix: 'portcullis_' });
  // A shared registry may already hold these (an app built twice in one process).
  const requests =
    (reg.getSingleMetric('portcullis_http_requests_total') as
      | Counter<'method' | 'route' | 'status'>
      | undefined) ??
    new Counter({
      name: 'portcullis_http_requests_total',
      help: 'API requests by method, route and status',
      labelNames: ['method', 'route', 'status'] as const,
      registers: [reg],
    });
  const duration =
    (reg.getSingleMetric('portcullis_http_request_duration_seconds') as
      | Histogram<'method' | 'route'>
      | undefined) ??
    new Histogram({
      name: 'portcullis_http_request_duration_seconds',
      help: 'API request latency by method and route',
      labelNames: ['method', 'route'] as const,
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [reg],
    });
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    requests.inc({ method: request.method, route, status: reply.statusCode });
    duration.observe({ method: request.method, route }, reply.elapsedTime / 1000);
  });
  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    reply.type(reg.contentType);
    return reg.metrics();
  });
  return reg;
}
