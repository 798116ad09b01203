import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { exchangeByBatchId, exchangeByJti, exchangeView, insertExchange, type NewExchange } from '../../src/store/exchanges.ts';
import { migrate } from '../../src/store/migrate.ts';
import { addToOutbox, pendingCount, takePending } from '../../src/store/outbox.ts';
import { lockPartnerState, savePartnerState } from '../../src/store/partner-state.ts';
import { freshPostgres, type TestDatabase } from '../support/databases.ts';

const exchange = (patch: Partial<NewExchange> = {}): NewExchange => ({
  id: randomUUID(), partner: 'EU', requestJti: `jti-${randomUUID()}`, batchId: `B-${randomUUID()}`, sequence: 1, kind: 'SNAPSHOT', format: 'eu-aeo',
  contentType: 'application/xml', digest: 'sha-256=abc', body: Buffer.from('<x/>'), signatureHeader: 'h..s', signingKid: 'k1', receivedAt: new Date(), disposition: 'accepted',
  heldReason: undefined, state: 'received', counts: { records: 0, created: 0, changed: 0, unchanged: 0, withdrawn: 0, rejected: 0 }, rejections: [], receipt: 'r', receiptKid: 'k',
  ...patch,
});

describe('store', () => {
  let t: TestDatabase;
  beforeEach(async () => {
    t = await freshPostgres();
  });
  afterEach(async () => {
    await t.drop();
  });

  it('migrates once: a second run applies nothing', async () => {
    expect(await migrate(t.db)).toEqual([]);
  });

  it('keeps the raw body byte for byte and finds an exchange by jti and by batch id', async () => {
    const body = Buffer.from([0xef, 0xbb, 0xbf, 0x00, 0xff, 0x3c]);
    const e = exchange({ body });
    await insertExchange(t.db, e);
    expect(await exchangeByJti(t.db, 'EU', e.requestJti)).toEqual({ id: e.id, digest: e.digest, receipt: 'r' });
    expect(await exchangeByBatchId(t.db, 'EU', e.batchId)).toMatchObject({ id: e.id });
    expect(await exchangeByJti(t.db, 'GB', e.requestJti)).toBeUndefined();
    const { rows } = await t.db.query<{ body: Uint8Array }>('select body from exchanges where id = $1', [e.id]);
    expect(Buffer.from(rows[0]!.body)).toEqual(body);
  });

  it('refuses a second exchange with the same jti or batch id for one partner', async () => {
    const e = exchange();
    await insertExchange(t.db, e);
    await expect(insertExchange(t.db, exchange({ requestJti: e.requestJti }))).rejects.toThrow();
    await expect(insertExchange(t.db, exchange({ batchId: e.batchId }))).rejects.toThrow();
    await insertExchange(t.db, exchange({ partner: 'GB', requestJti: e.requestJti, batchId: e.batchId }));
  });

  it('shows an exchange only to the partner that sent it', async () => {
    const e = exchange();
    await insertExchange(t.db, e);
    expect(await exchangeView(t.db, e.id, 'EU')).toMatchObject({ id: e.id, batchId: e.batchId, state: 'received' });
    expect(await exchangeView(t.db, e.id, 'GB')).toBeUndefined();
    expect(await exchangeView(t.db, 'not-a-uuid', 'EU')).toBeUndefined();
  });

  it('rolls a transaction back when it throws: nothing of it stays', async () => {
    const e = exchange();
    await expect(
      t.db.transaction(async (tx) => {
        await insertExchange(tx, e);
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await exchangeByJti(t.db, 'EU', e.requestJti)).toBeUndefined();
  });

  it("serialises acceptances for one partner on its state row", async () => {
    const order: string[] = [];
    let locked!: () => void;
    const firstLocked = new Promise<void>((resolve) => (locked = resolve));
    const first = t.db.transaction(async (tx) => {
      await lockPartnerState(tx, 'EU');
      order.push('first locked');
      locked();
      // Hold the lock until the second transaction is seen waiting for it.
      while ((await t.db.query<{ n: number }>('select count(*)::int as n from pg_locks where not granted')).rows[0]!.n === 0) await new Promise((r) => setTimeout(r, 10));
      await savePartnerState(tx, 'EU', { snapshotBase: 5, runEnd: 5 });
      order.push('first done');
    });
    await firstLocked;
    const second = t.db.transaction(async (tx) => {
      const state = await lockPartnerState(tx, 'EU');
      order.push(`second saw ${state.runEnd}`);
    });
    await Promise.all([first, second]);
    expect(order).toEqual(['first locked', 'first done', 'second saw 5']);
  });

  it('relays each outbox job once, and a job id written twice is kept once', async () => {
    await t.db.transaction(async (tx) => {
      await addToOutbox(tx, { queue: 'q', job: 'apply-batch', jobId: 'apply-1', payload: { a: 1 } });
      await addToOutbox(tx, { queue: 'q', job: 'apply-batch', jobId: 'apply-1', payload: { a: 1 } });
      await addToOutbox(tx, { queue: 'q', job: 'apply-batch', jobId: 'apply-2', payload: { a: 2 } });
    });
    expect(await pendingCount(t.db)).toBe(2);
    const claimed = await t.db.transaction((tx) => takePending(tx, 10));
    expect(claimed.map((j) => [j.jobId, j.payload])).toEqual([['apply-1', { a: 1 }], ['apply-2', { a: 2 }]]);
    expect(await pendingCount(t.db)).toBe(0);
  });
});
