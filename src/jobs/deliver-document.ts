/**
 * The `deliver-document` job (PROTOCOL §7): one attempt to deliver a partner's stored
 * document, and what follows from its outcome. Documents go in sequence order: one that
 * waits behind an earlier pending document is tried later, one behind a dead letter
 * waits for staff. Delivered only on a verified receipt; retried with exponential
 * backoff and jitter (or the partner's Retry-After, when longer) up to a budget; dead
 * at once on any other refusal. Every attempt is recorded, and the partner's circuit
 * breaker, kept in the store, is shared by every worker.
 */
import type { Clock } from '../clock.ts';
import type { AttemptOutcome } from '../deliver/post-document.ts';
import { GatewayError } from '../errors.ts';
import { deliverJob } from '../queue/jobs.ts';
import type { Db, Queryable } from '../store/db.ts';
import { attemptsSinceDead, breakerOpenUntil, deliveryById, headOfLine, markDead, markDelivered, noteFailure, noteSuccess, recordAttempt, saveCtpatRecognitions, type StoredDelivery } from '../store/deliveries.ts';
import { addToOutbox } from '../store/outbox.ts';

export interface DeliverPolicy {
  /** Attempts before a document is dead-lettered. */
  maxAttempts: number;
  /** First retry delay; doubled each time, with full jitter, up to maxDelayMs. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** Failed attempts in a row that open the partner's breaker, and for how long. */
  breakerThreshold: number;
  breakerOpenMs: number;
}

export const defaultPolicy: DeliverPolicy = { maxAttempts: 10, baseDelayMs: 2_000, maxDelayMs: 10 * 60_000, breakerThreshold: 5, breakerOpenMs: 60_000 };

export interface DeliverDeps {
  db: Db;
  clock: Clock;
  policy: DeliverPolicy;
  /** One attempt on the wire. */
  attempt(document: StoredDelivery): Promise<AttemptOutcome>;
  /** Counts deliveries by partner and outcome. */
  counted?(partner: string, outcome: AttemptOutcome['kind']): void;
  /** Random number in [0, 1): the jitter. */
  random?(): number;
}

/**
 * Try again after this many milliseconds (the breaker open, or a retry's backoff). A delay,
 * not an instant: the gateway's clock may be injected, and the queue waits in real time.
 */
export class DeliverLater extends Error {
  override name = 'DeliverLater';
  constructor(
    readonly delayMs: number,
    reason: string,
  ) {
    super(reason);
  }
}

export type DeliverOutcome = { done: 'delivered' | 'dead' | 'already-settled' | 'behind-dead-letter' | 'behind-earlier-document' };

/** Delivers one document, or says when to come back (DeliverLater). */
export async function deliverDocument(deps: DeliverDeps, deliveryId: string): Promise<DeliverOutcome> {
  const document = await deliveryById(deps.db, deliveryId);
  if (!document) throw new GatewayError('batch-inapplicable', `delivery ${deliveryId} does not exist`);
  if (document.state !== 'pending') return { done: 'already-settled' };
  const head = await headOfLine(deps.db, document.partner);
  if (head && head.id !== document.id) {
    // Documents go in sequence order. When the one ahead is delivered, its job queues the next
    // (queueNext); a dead letter holds the rest back until staff replay or skip it (§7).
    return { done: head.state === 'dead' ? 'behind-dead-letter' : 'behind-earlier-document' };
  }
  const openUntil = await breakerOpenUntil(deps.db, document.partner, new Date(deps.clock()));
  if (openUntil) throw new DeliverLater(openUntil.getTime() - deps.clock(), `the circuit breaker for ${document.partner} is open`);

  const outcome = await deps.attempt(document);
  deps.counted?.(document.partner, outcome.kind);
  const settled = await deps.db.transaction(async (tx): Promise<DeliverOutcome | { retryInMs: number; error: string }> => {
    // The budget counts attempts since the last dead letter: a replayed document has a whole budget again.
    const attempts = (await attemptsSinceDead(tx, document.id)) + 1;
    const budgetSpent = outcome.kind === 'retry' && attempts >= deps.policy.maxAttempts;
    const error = outcome.kind === 'delivered' ? undefined : budgetSpent ? `retry budget of ${deps.policy.maxAttempts} attempts used up; last: ${outcome.error}` : outcome.error;
    // The attempt that used up the budget is the one that made the document dead, and is recorded so.
    await recordAttempt(tx, document.id, {
      outcome: budgetSpent ? 'dead' : outcome.kind,
      status: outcome.status,
      durationMs: outcome.durationMs,
      error,
      receipt: outcome.kind === 'delivered' ? outcome.receipt : undefined,
    });
    if (outcome.kind === 'delivered') {
      await markDelivered(tx, document.id, outcome);
      await noteSuccess(tx, document.partner);
      // A member counts as recognized abroad from an accepted receipt of a document carrying it as VALID (§5).
      if (outcome.disposition === 'accepted') await saveCtpatRecognitions(tx, document.partner, document.id, document.members, new Date(deps.clock()).toISOString().slice(0, 10));
      await queueNext(tx, document.partner);
      return { done: 'delivered' };
    }
    if (outcome.kind === 'dead' || budgetSpent) {
      await markDead(tx, document.id, error!);
      if (outcome.kind === 'retry') await noteFailure(tx, document.partner, new Date(deps.clock()), deps.policy.breakerThreshold, deps.policy.breakerOpenMs);
      return { done: 'dead' };
    }
    await noteFailure(tx, document.partner, new Date(deps.clock()), deps.policy.breakerThreshold, deps.policy.breakerOpenMs);
    return { retryInMs: retryDelayMs(deps.policy, attempts, outcome.retryAfterSeconds, deps.random ?? Math.random), error: outcome.error };
  });
  // Thrown once the attempt is committed: the record of a failed attempt must not roll back with it.
  if ('retryInMs' in settled) throw new DeliverLater(settled.retryInMs, settled.error);
  return settled;
}

/** Exponential backoff with full jitter, never sooner than the partner's Retry-After. */
export function retryDelayMs(policy: DeliverPolicy, attempts: number, retryAfterSeconds: number | undefined, random: () => number): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempts - 1));
  const backoff = Math.round(ceiling / 2 + (random() * ceiling) / 2);
  return Math.max(backoff, (retryAfterSeconds ?? 0) * 1000);
}

/** After a delivery, the partner's next pending document is queued (its own job may be waiting behind this one). */
async function queueNext(tx: Queryable, partner: string): Promise<void> {
  const next = await headOfLine(tx, partner);
  if (next && next.state === 'pending') await addToOutbox(tx, { ...deliverJob(partner, next.id), jobId: `deliver-${next.id}-after` });
}
