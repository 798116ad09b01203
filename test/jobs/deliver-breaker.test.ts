/**
 * The delivery job's circuit breaker and backoff, on real PostgreSQL with the attempt
 * itself played by the test: failures in a row open the partner's breaker, an open
 * breaker makes no attempt until it closes, and a delivery closes it.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { AttemptOutcome } from '../../src/deliver/post-document.ts';
import { defaultPolicy, deliverDocument, DeliverLater, retryDelayMs } from '../../src/jobs/deliver-document.ts';
import { breakerOpenUntil, insertDelivery, lockOutboundState } from '../../src/store/deliveries.ts';
import { freshPostgres, type TestDatabase } from '../support/databases.ts';

let t: TestDatabase | undefined;
afterEach(async () => {
  await t?.drop();
  t = undefined;
});

async function storedDocument(db: TestDatabase['db']): Promise<string> {
  const id = randomUUID();
  await db.transaction(async (tx) => {
    await lockOutboundState(tx, 'JP');
    await insertDelivery(tx, { id, partner: 'JP', sequence: 1, batchId: 'B1', kind: 'SNAPSHOT', jti: 'j1', contentType: 'text/csv', body: Buffer.from('x'), digest: 'sha-256=x', signatureHeader: 'h', recordCount: 0, members: [] });
  });
  return id;
}

describe('the delivery circuit breaker', () => {
  it('opens after the threshold of failures in a row, attempts nothing while open, and a delivery closes it', async () => {
    t = await freshPostgres();
    const id = await storedDocument(t.db);
    let now = Date.parse('2026-11-30T10:00:00Z');
    const outcomes: AttemptOutcome[] = [];
    let attempts = 0;
    const deps = {
      db: t.db,
      clock: () => now,
      policy: { ...defaultPolicy, breakerThreshold: 3, breakerOpenMs: 60_000 },
      random: () => 0.5,
      attempt: async (): Promise<AttemptOutcome> => {
        attempts++;
        return outcomes.shift() ?? { kind: 'retry', status: 503, durationMs: 1, error: 'the partner answered 503' };
      },
    };
    for (let i = 0; i < 3; i++) await expect(deliverDocument(deps, id)).rejects.toBeInstanceOf(DeliverLater);
    expect(attempts).toBe(3);
    expect(await breakerOpenUntil(t.db, 'JP', new Date(now))).toEqual(new Date(now + 60_000));

    // Open: no attempt, and the job is told to come back when it closes.
    now += 30_000;
    const later = await deliverDocument(deps, id).catch((error: unknown) => error);
    expect(later).toBeInstanceOf(DeliverLater);
    // It opened at 10:00:00 for a minute; it is now 10:00:30.
    expect((later as DeliverLater).delayMs).toBe(30_000);
    expect(attempts).toBe(3);

    // Closed again: the next attempt is made, delivers, and resets the count.
    now += 31_000;
    outcomes.push({ kind: 'delivered', status: 202, durationMs: 1, receipt: 'r', exchangeId: randomUUID(), disposition: 'accepted' });
    expect(await deliverDocument(deps, id)).toEqual({ done: 'delivered' });
    expect(attempts).toBe(4);
    expect(await breakerOpenUntil(t.db, 'JP', new Date(now))).toBeUndefined();
  });

  it('backs off exponentially with jitter up to a ceiling, never sooner than Retry-After', () => {
    const policy = { ...defaultPolicy, baseDelayMs: 1_000, maxDelayMs: 8_000 };
    expect([1, 2, 3, 4, 5].map((n) => retryDelayMs(policy, n, undefined, () => 0))).toEqual([500, 1_000, 2_000, 4_000, 4_000]);
    expect([1, 2, 3, 4, 5].map((n) => retryDelayMs(policy, n, undefined, () => 0.999_999))).toEqual([1_000, 2_000, 4_000, 8_000, 8_000]);
    expect(retryDelayMs(policy, 1, 120, () => 0.5)).toBe(120_000);
  });
});
