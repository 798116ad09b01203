/** Prometheus metrics, served on their own listener (METRICS_HOST:METRICS_PORT). */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { EdgeMetrics } from '../receive/context.ts';

/** The edge's counters as Prometheus metrics, with their registry and the outbox gauge. */
export interface Metrics extends EdgeMetrics {
  registry: Registry;
  requests: Counter<'method' | 'route' | 'status'>;
  refusals: Counter<'slug'>;
  exchanges: Counter<'partner' | 'outcome'>;
  /** Outbound delivery attempts, by partner and outcome (delivered, retry, dead). */
  deliveries: Counter<'partner' | 'outcome'>;
  outboxPending: Gauge;
}

/** The gateway's metrics; `pending` counts the outbox when Prometheus scrapes. */
export function createMetrics(pending: () => Promise<number>): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'mragw_' });
  return {
    registry,
    requests: new Counter({ name: 'mragw_http_requests_total', help: 'HTTP requests by route and status', labelNames: ['method', 'route', 'status'], registers: [registry] }),
    refusals: new Counter({ name: 'mragw_refusals_total', help: 'Requests refused before authentication, by problem slug', labelNames: ['slug'], registers: [registry] }),
    exchanges: new Counter({ name: 'mragw_exchanges_total', help: 'Documents answered, by partner and outcome', labelNames: ['partner', 'outcome'], registers: [registry] }),
    deliveries: new Counter({ name: 'mragw_deliveries_total', help: 'Outbound delivery attempts, by partner and outcome', labelNames: ['partner', 'outcome'], registers: [registry] }),
    outboxPending: new Gauge({
      name: 'mragw_outbox_pending',
      help: 'Jobs in the store waiting to be queued',
      registers: [registry],
      async collect() {
        this.set(await pending().catch(() => -1));
      },
    }),
  };
}
