/**
 * The MRA calendar's job waits for the partner's batches queued to apply (accepted before
 * it, perhaps dated before the MRA's end), as an apply waits for an earlier batch; it does
 * not wait for batches held behind a failed one, which wait for staff.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Clock } from '../../src/clock.ts';
import { applyBatch, EarlierBatchPending } from '../../src/jobs/apply-batch.ts';
import { runMraCalendar } from '../../src/jobs/mra-calendar.ts';
import { markFailed } from '../../src/store/exchanges.ts';
import { loadFormats } from '../../src/translate/load-mappings.ts';
import { JP_ENTRY, startTestGateway, type TestGateway } from '../support/gateway.ts';
import { jpBatch, sendAsJp } from '../support/jp-operators.ts';

/** JP with benefits of its own, and an MRA whose last day has passed. */
const jp = { ...JP_ENTRY, mra: { benefits: ['reduced-examinations'], inForceUntil: '2026-11-20' } };
const TODAY: Clock = () => Date.parse('2026-11-30T12:00:00Z');

let g: TestGateway;
const deps = () => ({ db: g.gateway.db, formats: loadFormats(), partner: (id: string) => g.gateway.registry.partner(id), clock: TODAY });

async function accept(sequence: number, kind: 'SNAPSHOT' | 'DELTA', asOf: string): Promise<string> {
  const response = await sendAsJp(g, jpBatch({ batchId: `JP-${sequence}`, sequence, kind, asOf, operators: [{ n: 1, status: 'VALID', effective: '2020-01-01', mids: ['JPWAITC3CHI'] }] }));
  expect(response.status).toBe(202);
  return ((await response.json()) as { exchangeId: string }).exchangeId;
}

beforeAll(async () => {
  g = await startTestGateway({ store: 'PostgreSQL', workers: false, partners: { jp } });
}, 60_000);
afterAll(async () => {
  await g?.close();
});

describe('the MRA calendar and batches still to apply', () => {
  it('waits while a batch accepted before it is still to apply, and ends what that batch left once it is applied', async () => {
    const snapshot = await accept(1, 'SNAPSHOT', '2026-11-20T02:00:00Z');
    await expect(runMraCalendar(deps(), 'JP')).rejects.toBeInstanceOf(EarlierBatchPending);
    expect(await applyBatch(deps(), snapshot)).toMatchObject({ applied: true });
    expect(await runMraCalendar(deps(), 'JP')).toEqual({ ran: true, today: '2026-11-30', ended: 1, entries: 1 });
  });

  it('does not wait for batches behind a failed one: those wait for staff', async () => {
    const failed = await accept(2, 'DELTA', '2026-11-21T02:00:00Z');
    await accept(3, 'DELTA', '2026-11-22T02:00:00Z');
    await expect(runMraCalendar(deps(), 'JP')).rejects.toBeInstanceOf(EarlierBatchPending);
    expect(await markFailed(g.gateway.db, failed)).toBe(true);
    expect(await runMraCalendar(deps(), 'JP')).toEqual({ ran: true, today: '2026-11-30', ended: 0, entries: 0 });
  });
});
