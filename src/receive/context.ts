/** What the HTTP edge needs from the rest of the gateway, assembled once at start. */
import type { Router } from 'express';
import type { Logger } from 'pino';
import type { AcceptOutcome, VerifiedDocument } from '../intake/accept-exchange.ts';
import type { Partner, PartnerDirectory, PublicJwk } from '../registry/partner.ts';
import type { Db } from '../store/db.ts';
import type { Metrics } from '../server/metrics.ts';
import type { PreauthBudget } from './read-body.ts';
import type { RateLimits } from './rate-limits.ts';

export interface EdgeContext {
  gatewayId: string;
  basePath: string;
  db: Db;
  partners: PartnerDirectory;
  /** The media type of the partner's format. */
  mediaTypeOf(partner: Partner): string;
  accept(doc: VerifiedDocument): Promise<AcceptOutcome>;
  /** Every public key the gateway publishes (PROTOCOL §4). */
  jwks(): Promise<{ keys: PublicJwk[] }>;
  limits: RateLimits;
  budget: PreauthBudget;
  settings: { iatSkewSeconds: number; preauthFailuresPerMinute: number; bodyTimeoutMs: number };
  /** Seconds since the epoch: the clock the `iat` window is judged by. */
  nowSeconds(): number;
  /** Readiness beyond the store: Redis and the workers, reported in /readyz's body. */
  readiness(): Promise<Record<string, unknown>>;
  /** Called after each acceptance, so that the outbox is relayed at once. */
  accepted(): void;
  metrics: Metrics;
  log: Logger;
  /** Further routers mounted under the base path (status, staff). */
  routers: Router[];
}
