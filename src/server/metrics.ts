/** Prometheus metrics, served on their own listener (METRICS_HOST:METRICS_PORT). */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { EdgeMetrics } from '../receive/context.ts';

/** How many jobs one queue holds in one state, as BullMQ counts them. */
export interface QueueDepth {
  queue: string;
  state: string;
  count: number;
}

/** The edge's counters as Prometheus metrics, with their registry and the gauges read at scrape. */
export interface Metrics extends EdgeMetrics {
  registry: Registry;
  requests: Counter<'method' | 'route' | 'status'>;
  refusals: Counter<'slug'>;
  exchanges: Counter<'partner' | 'outcome'>;
  /** Outbound delivery attempts, by partner and outcome (delivered, retry, dead). */
  deliveries: Counter<'partner' | 'outcome'>;
  /** Seconds from a job's creation to its end (completed, or failed for good), by queue and outcome. */
  jobLatency: Histogram<'queue' | 'outcome'>;
  outboxPending: Gauge;
  queueDepth: Gauge<'queue' | 'state'>;
}

/** What the gauges read when Prometheus scrapes. */
export interface MetricSources {
  /** Jobs in the store's outbox, not yet queued. */
  pending(): Promise<number>;
  /** Jobs per queue and state (waiting, active, delayed, failed); rejects when Redis does not answer. */
  queueDepths?(): Promise<QueueDepth[]>;
}

/** The gateway's metrics; the gauges are read from their sources when Prometheus scrapes. */
export function createMetrics({ pending, queueDepths }: MetricSources): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'mragw_' });
  return {
    registry,
    requests: new Counter({ name: 'mragw_http_requests_total', help: 'HTTP requests by route and status', labelNames: ['method', 'route', 'status'], registers: [registry] }),
    refusals: new Counter({ name: 'mragw_refusals_total', help: 'Requests refused before authentication, by problem slug', labelNames: ['slug'], registers: [registry] }),
    exchanges: new Counter({ name: 'mragw_exchanges_total', help: 'Documents answered, by partner and outcome', labelNames: ['partner', 'outcome'], registers: [registry] }),
    deliveries: new Counter({ name: 'mragw_deliveries_total', help: 'Outbound delivery attempts, by partner and outcome', labelNames: ['partner', 'outcome'], registers: [registry] }),
    jobLatency: new Histogram({
      name: 'mragw_job_latency_seconds',
      help: "Seconds from a job's creation to its end, by queue and outcome (completed, failed for good)",
      labelNames: ['queue', 'outcome'],
      // From a batch applied at once to a delivery that waited out a partner's outage.
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 21600],
      registers: [registry],
    }),
    outboxPending: new Gauge({
      name: 'mragw_outbox_pending',
      help: 'Jobs in the store waiting to be queued',
      registers: [registry],
      async collect() {
        this.set(await pending().catch(() => -1));
      },
    }),
    queueDepth: new Gauge({
      name: 'mragw_queue_jobs',
      help: 'Jobs in each BullMQ queue by state (waiting, active, delayed, failed), counted at scrape',
      labelNames: ['queue', 'state'],
      registers: [registry],
      async collect() {
        if (!queueDepths) return;
        // Redis away: no figures rather than stale ones (the outbox gauge still says what waits).
        const depths = await queueDepths().catch(() => []);
        this.reset();
        for (const { queue, state, count } of depths) this.set({ queue, state }, count);
      },
    }),
  };
}
