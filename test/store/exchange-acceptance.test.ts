/** The one read an acceptance decides on under its partner's lock (acceptanceView), against the reads it replaces. */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acceptanceView, exchangeByBatchId, exchangeByJti, heldBatches, insertExchange, sequenceTaken, type NewExchange } from '../../src/store/exchanges.ts';
import { lockPartnerState } from '../../src/store/partner-state.ts';
import { freshPostgres, type TestDatabase } from '../support/databases.ts';

const exchange = (patch: Partial<NewExchange>): NewExchange => ({
  id: randomUUID(), partner: 'EU', requestJti: `jti-${randomUUID()}`, batchId: `B-${randomUUID()}`, sequence: 1, kind: 'DELTA', format: 'eu-aeo',
  contentType: 'application/xml', digest: 'sha-256=abc', body: Buffer.from('<x/>'), signatureHeader: 'h..s', signingKid: 'k1', receivedAt: new Date(), disposition: 'accepted',
  heldReason: undefined, state: 'received', counts: { records: 1, created: 0, changed: 0, unchanged: 0, withdrawn: 0, rejected: 0 }, rejections: [], receipt: 'r', receiptKid: 'k',
  ...patch,
});

describe('acceptanceView', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await freshPostgres();
  });
  afterAll(async () => {
    await t.drop();
  });

  it('reads what exchangeByJti, exchangeByBatchId, heldBatches and sequenceTaken read, in one statement', async () => {
    const accepted = exchange({ sequence: 4 });
    const held = [exchange({ sequence: 9, state: 'held', disposition: 'held', heldReason: 'sequence-gap' }), exchange({ sequence: 7, kind: 'SNAPSHOT', state: 'held', disposition: 'held', heldReason: 'sequence-gap' })];
    const stale = exchange({ sequence: 5, state: 'stale', disposition: 'stale' });
    for (const e of [accepted, ...held, stale, exchange({ partner: 'GB', sequence: 6 })]) await insertExchange(t.db, e);

    const cases = [
      { jti: accepted.requestJti, batchId: held[0]!.batchId, sequence: 4 },
      { jti: 'jti-new', batchId: 'B-new', sequence: 5 },
      { jti: 'jti-new', batchId: 'B-new', sequence: 6 },
    ];
    for (const c of cases) {
      expect(await acceptanceView(t.db, 'EU', c.jti, c.batchId, c.sequence)).toEqual({
        byJti: await exchangeByJti(t.db, 'EU', c.jti),
        byBatchId: await exchangeByBatchId(t.db, 'EU', c.batchId),
        held: await heldBatches(t.db, 'EU'),
        sequenceTaken: await sequenceTaken(t.db, 'EU', c.sequence),
      });
    }
    expect((await acceptanceView(t.db, 'EU', accepted.requestJti, held[0]!.batchId, 4))).toMatchObject({ byJti: { id: accepted.id }, byBatchId: { id: held[0]!.id }, sequenceTaken: true });
    expect((await acceptanceView(t.db, 'EU', 'x', 'y', 5)).sequenceTaken).toBe(false);
    expect((await acceptanceView(t.db, 'EU', 'x', 'y', 4)).held.map((h) => h.sequence)).toEqual([7, 9]);
    expect(await acceptanceView(t.db, 'JP', 'x', 'y', 1)).toEqual({ byJti: undefined, byBatchId: undefined, held: [], sequenceTaken: false });
  });

  it("locks a partner's state, creating it the first time", async () => {
    const state = await t.db.transaction((tx) => lockPartnerState(tx, 'KR'));
    expect(state).toEqual({ snapshotBase: null, runEnd: null });
    expect(await t.db.transaction((tx) => lockPartnerState(tx, 'KR'))).toEqual(state);
  });
});
