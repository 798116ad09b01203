/** What the HTTP edge needs from the rest of the gateway, assembled once at start. */
import type { Clock } from '../clock.ts';
import type { Router } from 'express';
import type { Logger } from 'pino';
import type { AcceptOutcome, VerifiedDocument } from '../intake/accept-exchange.ts';
import type { BodyReading } from '../intake/read-while-receiving.ts';
import type { Partner, PartnerDirectory, PublicJwk } from '../registry/partner.ts';
import type { Db } from '../store/db.ts';
import type { PreauthBudget } from './read-body.ts';
import type { RateLimits } from './rate-limits.ts';

/** A counter the edge counts with; prom-client's Counter is one (server/metrics.ts). */
export interface EdgeCounter<Label extends string> {
  inc(labels: Partial<Record<Label, string>>): void;
}

/** What the edge counts, as an interface the edge owns, so that the edge never imports the composition root. */
export interface EdgeMetrics {
  /** Every answered request, by method, route and status. */
  requests: EdgeCounter<'method' | 'route' | 'status'>;
  /** Requests refused before authentication, by problem slug. */
  refusals: EdgeCounter<'slug'>;
  /** Documents answered, by partner and outcome. */
  exchanges: EdgeCounter<'partner' | 'outcome'>;
}

export interface EdgeContext {
  gatewayId: string;
  basePath: string;
  db: Db;
  partners: PartnerDirectory;
  /** The media type of the partner's format. */
  mediaTypeOf(partner: Partner): string;
  /** Starts reading a verified partner's document as its body arrives. */
  readDocument(partner: Partner): BodyReading;
  accept(doc: VerifiedDocument): Promise<AcceptOutcome>;
  /** Every public key the gateway publishes (PROTOCOL §4). */
  jwks(): Promise<{ keys: PublicJwk[] }>;
  limits: RateLimits;
  budget: PreauthBudget;
  settings: { iatSkewSeconds: number; preauthFailuresPerMinute: number; bodyTimeoutMs: number };
  /** The gateway's clock: `iat` windows are judged and receipt times taken by it. */
  clock: Clock;
  /** Readiness beyond the store: Redis and the workers, reported in /readyz's body. */
  readiness(): Promise<Record<string, unknown>>;
  /** Called after each acceptance, so that the outbox is relayed at once. */
  accepted(): void;
  metrics: EdgeMetrics;
  log: Logger;
  /** Further routers mounted under the base path (status, staff). */
  routers: Router[];
}
