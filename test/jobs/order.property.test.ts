/**
 * The result of reconciliation does not depend on the order in which the apply jobs run:
 * the same accepted documents of two partners (EU XML, JP CSV), whose operators draw their
 * MIDs from small pools (so that MIDs conflict), applied in an order fast-check chooses (a job whose partner has
 * an earlier batch still to apply waits and is tried again later, as the queue would), leave
 * the same operators, benefit feed and open discrepancies as applying them in sequence order.
 * A C-TPAT member is imported first, and JP's MRA may end after its SNAPSHOT's asOf date: JP's
 * MRA calendar job is then one more job of the order (and the day's run after them all).
 *
 * The two partners' operators draw from the same MIDs: within a partner a shared MID is a
 * mid-conflict (its batches apply in sequence order), across partners it is none, so no
 * partner's outcome depends on whether the other's batch applied first.
 *
 * JP's MRA may end on a DELTA's asOf date, with the calendar's job anywhere among JP's
 * batches: it waits until the batches accepted before it are applied, so that none of them
 * starts a recognition again after the end was recorded.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyBatch, EarlierBatchPending, type ApplyDeps } from '../../src/jobs/apply-batch.ts';
import { runMraCalendar, type CalendarDeps } from '../../src/jobs/mra-calendar.ts';
import type { Clock } from '../../src/clock.ts';
import { importCtpatMembers } from '../../src/staff/ctpat-import.ts';
import { loadFormats } from '../../src/translate/load-mappings.ts';
import { euBatch, type EuOperator } from '../support/eu-operators.ts';
import { JP_ENTRY, startTestGateway, type TestGateway } from '../support/gateway.ts';
import { jpBatch, sendAsJp, type JpOperator } from '../support/jp-operators.ts';

/** JP as the test gateway has it, with benefits of its own so that its recognitions grant something. */
const jp = { ...JP_ENTRY, mra: { benefits: ['reduced-examinations', 'front-of-line'] } };

const formats = loadFormats();
/** The day the MRA calendar judges by: after every batch's asOf. */
const TODAY: Clock = () => Date.parse('2026-11-30T12:00:00Z');
/** The MRA calendar's job among the apply jobs (which are exchange ids). */
const CALENDAR = 'mra-calendar:JP';

/**
 * The MIDs every operator draws from: two operators of one partner often link the same
 * MID (a mid-conflict), operators of both partners too, and a C-TPAT member may link any.
 */
const MIDS = ['DEPOOLA1HAM', 'DEPOOLB2HAM', 'JPPOOLC3CHI', 'JPPOOLD4CHI'];
const DATES = ['2020-01-01', '2025-06-01', '2026-10-01'];

interface Facts {
  n: number;
  status: 'VALID' | 'SUSPENDED' | 'REVOKED';
  effective: string;
  mids: string[];
}
const facts = (pool: string[]): fc.Arbitrary<Facts> =>
  fc.record({
    n: fc.integer({ min: 1, max: 2 }),
    status: fc.constantFrom('VALID', 'SUSPENDED', 'REVOKED'),
    effective: fc.constantFrom(...DATES),
    mids: fc.subarray(pool, { maxLength: 2 }),
  });
const operatorsOf = (pool: string[]) => fc.uniqueArray(facts(pool), { minLength: 1, maxLength: 2, selector: (f) => f.n });
/** A partner's batches: a SNAPSHOT, then one or two DELTAs (statuses and links changing). */
const partnerBatches = (pool: string[]) => fc.tuple(operatorsOf(pool), fc.array(operatorsOf(pool), { minLength: 1, maxLength: 2 })).map(([snapshot, deltas]) => [snapshot, ...deltas]);

interface Workload {
  eu: Facts[][];
  jp: Facts[][];
  /** A C-TPAT member imported before any batch applies, linking a MID of the pool. */
  ctpat: { mid: string; status: 'CERTIFIED' | 'SUSPENDED' | 'REMOVED' } | null;
  /** The last day JP's MRA is in force (null: no end): its SNAPSHOT is dated on it or before, its DELTAs on it or after. */
  jpUntil: string | null;
  /** One priority per job (the calendar's last): jobs run by ascending priority, ties in acceptance order. */
  priorities: number[];
}
const workload: fc.Arbitrary<Workload> = fc.record({
  eu: partnerBatches(MIDS),
  jp: partnerBatches(MIDS),
  ctpat: fc.option(fc.record({ mid: fc.constantFrom(...MIDS), status: fc.constantFrom('CERTIFIED' as const, 'SUSPENDED' as const, 'REMOVED' as const) }), { nil: null }),
  jpUntil: fc.constantFrom(null, '2026-11-20', '2026-11-21'),
  priorities: fc.array(fc.nat({ max: 9 }), { minLength: 7, maxLength: 7 }),
});

const asOf = (i: number) => `2026-11-${String(20 + i).padStart(2, '0')}T02:00:00Z`;
const kindOf = (i: number) => (i === 0 ? 'SNAPSHOT' : 'DELTA');

/** Accepts every document of the workload over HTTP, EU's then JP's in sequence order, and gives the exchange ids in that order. */
async function acceptAll(g: TestGateway, w: Workload): Promise<string[]> {
  const ids: string[] = [];
  const accepted = async (response: Response) => {
    const text = await response.text();
    expect(response.status, text).toBe(202);
    ids.push((JSON.parse(text) as { exchangeId: string }).exchangeId);
  };
  for (const [i, ops] of w.eu.entries()) {
    const operators: EuOperator[] = ops.map((o) => ({ n: o.n, status: o.status, effective: o.effective, mids: o.mids }));
    await accepted(await g.request({ body: euBatch({ batchId: `EU-${i + 1}`, sequence: i + 1, kind: kindOf(i), asOf: asOf(i), operators }) }));
  }
  for (const [i, ops] of w.jp.entries()) {
    const operators: JpOperator[] = ops.map((o) => ({ n: o.n, status: o.status, effective: o.effective, mids: o.mids }));
    await accepted(await sendAsJp(g, jpBatch({ batchId: `JP-${i + 1}`, sequence: i + 1, kind: kindOf(i), asOf: asOf(i), operators })));
  }
  return ids;
}

async function importCtpat(g: TestGateway, member: NonNullable<Workload['ctpat']>): Promise<void> {
  const line = { accountNumber: 'CT-0099', businessType: 'FOREIGN_MANUFACTURER', legalName: 'Pool Werke', status: member.status, statusDate: '2026-01-01', consentToShare: true, identifiers: { mids: [member.mid], scac: null } };
  const answer = await importCtpatMembers(g.gateway.db, formats.get('ctpat')!, Buffer.from(`${JSON.stringify(line)}\n`), 'test', '2026-11-19');
  expect(answer).toMatchObject({ imported: 1, rejected: [] });
}

/** Runs the jobs in the order given; one whose partner has an earlier batch to apply goes to the back, as a retried job would. */
async function runJobs(deps: ApplyDeps & CalendarDeps, order: readonly string[]): Promise<void> {
  let pending = [...order];
  // Each pass applies at least the earliest pending batch of each partner.
  for (let pass = 0; pending.length > 0; pass++) {
    if (pass > order.length) throw new Error(`jobs never applied: ${pending.join(', ')}`);
    const waiting: string[] = [];
    for (const id of pending) {
      try {
        // The calendar waits like an apply does, for JP's batches accepted before it.
        if (id === CALENDAR) await runMraCalendar(deps, 'JP');
        else await applyBatch(deps, id);
      } catch (e) {
        if (!(e instanceof EarlierBatchPending)) throw e;
        waiting.push(id);
      }
    }
    pending = waiting;
  }
}

/** What reconciliation leaves, without ids, timestamps or the order rows were written in. */
async function finalState(g: TestGateway) {
  const db = g.gateway.db;
  const operators = await db.query(
    'select partner, record_key, recognition_state, recognition_since::text as since, withdrawn_reason, benefits, current_mids from operators order by partner, record_key',
  );
  const feed = await db.query<{ line: string }>(
    "select concat_ws(' ', partner, record_key, mid, benefit, change, effective::text) as line from benefit_changes",
  );
  const discrepancies = await db.query<{ line: string }>(
    "select distinct concat_ws(' ', kind, partner, coalesce(record_key, '-'), coalesce(mid, '-')) as line from discrepancies where state = 'open'",
  );
  const exchanges = await db.query<{ line: string }>("select concat_ws(' ', partner, sequence, state) as line from exchanges");
  const lines = (rows: { line: string }[]) => rows.map((r) => r.line).sort();
  return { operators: operators.rows, feed: lines(feed.rows), discrepancies: lines(discrepancies.rows), exchanges: lines(exchanges.rows) };
}

/** A fresh gateway (fresh database, no worker), the workload accepted, then its jobs run in the order `order` gives the exchange ids (in acceptance order). */
async function outcome(w: Workload, order: (ids: string[]) => string[]) {
  const jpEntry = w.jpUntil === null ? jp : { ...jp, mra: { ...jp.mra, inForceUntil: w.jpUntil } };
  const g = await startTestGateway({ store: 'PostgreSQL', workers: false, partners: { jp: jpEntry } });
  try {
    if (w.ctpat) await importCtpat(g, w.ctpat);
    const ids = await acceptAll(g, w);
    const deps = { db: g.gateway.db, formats, partner: (id: string) => g.gateway.registry.partner(id), clock: TODAY };
    await runJobs(deps, order(w.jpUntil === null ? ids : [...ids, CALENDAR]));
    // The calendar runs each day: that day's run comes after every batch, whatever order they took.
    if (w.jpUntil !== null) await runMraCalendar(deps, 'JP');
    return await finalState(g);
  } finally {
    await g.close();
  }
}

/**
 * Always tried: JP's MRA ended the day before its first DELTA; the calendar runs between the
 * DELTAs, and the second DELTA is the first to say JP-AEO-0001 again. Both must end its
 * benefits on the day after the MRA's last, whichever comes first.
 */
const MRA_ENDED: Workload = {
  eu: [[{ n: 1, status: 'VALID', effective: '2020-01-01', mids: [] }], [{ n: 1, status: 'VALID', effective: '2020-01-01', mids: [] }]],
  jp: [
    [{ n: 1, status: 'VALID', effective: '2020-01-01', mids: ['JPPOOLC3CHI'] }],
    [{ n: 2, status: 'VALID', effective: '2020-01-01', mids: [] }],
    [{ n: 1, status: 'VALID', effective: '2020-01-01', mids: ['JPPOOLC3CHI'] }],
  ],
  ctpat: null,
  jpUntil: '2026-11-20',
  priorities: [0, 0, 0, 0, 5, 1, 0],
};

/**
 * Always tried: JP's MRA ends on its DELTA's asOf date, and the calendar's job is taken
 * between the SNAPSHOT and the DELTA, which links a second MID on the MRA's last day. In
 * sequence order that MID's benefits start on that day and end the next; the calendar's
 * job must wait for the DELTA, or the DELTA would start them again after the end.
 */
const BACKLOG: Workload = {
  eu: [[{ n: 1, status: 'VALID', effective: '2020-01-01', mids: [] }]],
  jp: [[{ n: 1, status: 'VALID', effective: '2020-01-01', mids: ['JPPOOLC3CHI'] }], [{ n: 1, status: 'VALID', effective: '2020-01-01', mids: ['JPPOOLC3CHI', 'JPPOOLD4CHI'] }]],
  ctpat: null,
  jpUntil: '2026-11-21',
  priorities: [0, 0, 2, 1, 0, 0, 0],
};

/**
 * Always tried: an operator of each partner links DEPOOLB2HAM with its second batch, and
 * EU's second batch is taken last. Neither holds the other's benefits, so both orders
 * grant the MID to both.
 */
const SHARED_MID: Workload = {
  eu: [[{ n: 1, status: 'VALID', effective: '2020-01-01', mids: [] }], [{ n: 1, status: 'VALID', effective: '2020-01-01', mids: ['DEPOOLB2HAM'] }]],
  jp: [[{ n: 1, status: 'VALID', effective: '2020-01-01', mids: [] }], [{ n: 1, status: 'VALID', effective: '2020-01-01', mids: ['DEPOOLB2HAM'] }]],
  ctpat: null,
  jpUntil: null,
  priorities: [0, 2, 0, 0, 0, 0, 0],
};

/** The jobs by ascending priority, ties kept in acceptance order (all zeros: sequence order). */
const byPriority = (priorities: readonly number[]) => (ids: string[]) =>
  ids
    .map((id, i) => ({ id, p: priorities[i] ?? 0, i }))
    .sort((a, b) => a.p - b.p || a.i - b.i)
    .map((j) => j.id);

describe('apply order', () => {
  it('the result does not depend on the order the jobs run in', async () => {
    await fc.assert(
      fc.asyncProperty(workload, async (w) => {
        const inSequence = await outcome(w, (ids) => ids);
        const shuffled = await outcome(w, byPriority(w.priorities));
        expect(shuffled).toEqual(inSequence);
      }),
      // Each run starts two gateways on fresh databases (about 1.5 s each here); a failure
      // found is shrunk only until the time limit, and reported as far as it got.
      { numRuns: 6, examples: [[MRA_ENDED], [BACKLOG], [SHARED_MID]], interruptAfterTimeLimit: 40_000 },
    );
  }, 60_000);
});
