// Process-wide Prometheus registry: default Node metrics, the API's request
// metrics (registered by the API plugin) and gauges read from the gateway and
// live state at scrape time, so the hot path does no metrics work at all.
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { Census, Gateway } from './gateway/index.ts';
import type { LiveState } from './live/live.ts';

export function createMetrics(opts: { live: LiveState; gateway?: Gateway }): Registry {
  const reg = new Registry();
  collectDefaultMetrics({ register: reg, prefix: 'portcullis_' });
  const { live, gateway } = opts;
  new Gauge({
    name: 'portcullis_live_degraded',
    help: '1 while the shared live state (Redis) is unreachable and limits hold per process',
    registers: [reg],
    collect() {
      this.set(live.degraded ? 1 : 0);
    },
  });
  if (!gateway) return reg;
  // The two gauges below read one census per scrape (it asks every worker
  // thread): a census still being answered is shared, not asked again.
  let asking: Promise<Census> | null = null;
  const census = (): Promise<Census> => {
    asking ??= gateway.census().finally(() => {
      asking = null;
    });
    return asking;
  };
  new Gauge({
    name: 'portcullis_gateway_ports',
    help: 'Gateway listeners by state',
    labelNames: ['state'] as const,
    registers: [reg],
    collect() {
      const counts = new Map<string, number>([
        ['listening', 0],
        ['failed', 0],
      ]);
      for (const s of gateway.status().values()) counts.set(s.state, (counts.get(s.state) ?? 0) + 1);
      for (const [state, n] of counts) this.set({ state }, n);
    },
  });
  new Gauge({
    name: 'portcullis_gateway_threads',
    help: 'Gateway threads serving the ports now, the main thread included (PORTCULLIS_GATEWAY_THREADS)',
    registers: [reg],
    collect() {
      this.set(gateway.threads);
    },
  });
  new Gauge({
    name: 'portcullis_gateway_connections',
    help: 'Admitted client connections open now',
    registers: [reg],
    async collect() {
      this.set((await census()).connections.length);
    },
  });
  new Gauge({
    name: 'portcullis_gateway_sockets',
    help: 'Client sockets open now, admitted or still in the handshake',
    registers: [reg],
    async collect() {
      this.set((await census()).openSockets);
    },
  });
  return reg;
}
