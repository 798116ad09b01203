/**
 * The MRA calendar's job waits for the partner's batches queued to apply (accepted before
 * it, perhaps dated before the MRA's end), as an apply waits for an earlier batch; it does
 * not wait for batches held behind a failed one, which wait for staff. On the workers, such
 * a wait delays the job without using an attempt.
 */
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Clock } from '../../src/clock.ts';
import { applyBatch, EarlierBatchPending } from '../../src/jobs/apply-batch.ts';
import { runMraCalendar } from '../../src/jobs/mra-calendar.ts';
import { applyQueue, CALENDAR_QUEUE } from '../../src/queue/jobs.ts';
import { markFailed } from '../../src/store/exchanges.ts';
import { loadFormats } from '../../src/translate/load-mappings.ts';
import { feed } from '../support/eu-operators.ts';
import { JP_ENTRY, REDIS_URL, startTestGateway, type TestGateway } from '../support/gateway.ts';
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
    // A job made before the batch was accepted, or one that waited its hour, does not wait for it.
    expect(await runMraCalendar(deps(), 'JP', { acceptedBefore: new Date('2026-01-01T00:00:00Z') })).toMatchObject({ ran: true, ended: 0 });
    expect(await runMraCalendar(deps(), 'JP', 'no-wait')).toMatchObject({ ran: true, ended: 0 });
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

describe('the MRA calendar job on the workers', () => {
  let w: TestGateway;
  const queue = (name: string) => new Queue(name, { connection: { url: REDIS_URL }, prefix: w.prefix });
  beforeAll(async () => {
    w = await startTestGateway({ store: 'PostgreSQL', partners: { jp } });
  }, 60_000);
  afterAll(async () => {
    await w?.close();
  });

  it('is delayed, using no attempt, while a batch accepted before it waits to apply; then ends what that batch left', async () => {
    const applies = queue(applyQueue('JP'));
    const calendar = queue(CALENDAR_QUEUE);
    try {
      await applies.pause();
      const response = await sendAsJp(w, jpBatch({ batchId: 'JP-W1', sequence: 1, kind: 'SNAPSHOT', asOf: '2026-11-20T02:00:00Z', operators: [{ n: 1, effective: '2020-01-01', mids: ['JPWAITC3CHI'] }] }));
      expect(response.status).toBe(202);
      // Two attempts: a run that spent one on each wait would fail for good here.
      const job = await calendar.add('mra-calendar', { partner: 'JP' }, { jobId: 'calendar-waits', attempts: 2 });
      await new Promise((r) => setTimeout(r, 5_000));
      const waiting = (await calendar.getJob(job.id!))!;
      expect({ state: await waiting.getState(), attempts: waiting.attemptsMade }).toEqual({ state: 'delayed', attempts: 0 });
      expect(await feed(w)).toEqual([]);

      await applies.resume();
      for (let waited = 0; (await calendar.getJob(job.id!))!.finishedOn === undefined; waited += 100) {
        if (waited > 20_000) throw new Error('the calendar job did not finish');
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(await (await calendar.getJob(job.id!))!.getState()).toBe('completed');
      expect((await feed(w)).map((e) => `${e.change} ${e.effective}`)).toEqual(['start 2020-01-01', 'end 2026-11-21']);
    } finally {
      await applies.close();
      await calendar.close();
    }
  }, 40_000);
});
