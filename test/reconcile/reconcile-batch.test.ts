import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { Operator } from '../../src/canonical/operator.ts';
import { buildMid } from '../../src/identifiers/mid.ts';
import type { HeldOperator, ReconcileInput, ReconcilePlan, RejectedRecord } from '../../src/reconcile/model.ts';
import { midSourceOf } from '../../src/reconcile/mid-source.ts';
import { outlineSteps, reconcileBatch, sameValue, windowSteps } from '../../src/reconcile/reconcile-batch.ts';
import { recordRejectedFindings } from '../../src/reconcile/discrepancies.ts';
import { runToEnd } from '../../src/reconcile/steps.ts';
import type { Partner } from '../../src/registry/partner.ts';
import { testPartner } from '../support/partners.ts';

const partner = testPartner;

const BENEFITS = ['front-of-line', 'reduced-examinations'];
const eu = partner('EU', { inForceFrom: '2012-07-01', scope: ['AEOS', 'AEOF'], benefits: BENEFITS });

// One distinct legal name per key, so that each record's constructed MID is its own.
const NAMES: Record<string, string> = { K1: 'Ozrock', K2: 'Bergstrom', K3: 'Amalgamated Plastics', K4: 'Hanil Precision' };

/** A valid EU record whose one MID matches its name and address (no mid-mismatch noise). */
function record(key: string, overrides: Partial<z.input<typeof Operator>> = {}): Operator {
  const base = Operator.parse({
    key,
    identifier: { scheme: 'eori', value: 'DE123456' },
    authorisation: { type: 'AEOS', grantedOn: '2015-01-01' },
    name: { legal: NAMES[key] ?? key },
    address: { street: '92 Alice Springs Road', city: 'Melbourne', country: 'DE' },
    status: { code: 'active', effective: '2020-03-01' },
    consent: { given: true },
  });
  const mid = buildMid(midSourceOf(base, eu));
  return Operator.parse({ ...base, mids: mid === undefined ? [] : [{ mid }], ...overrides });
}

type State = ReadonlyMap<string, HeldOperator>;

/** MID owners as the job loads them: every held operator's current links (withdrawn included). */
function ownersOf(state: State, extra: [string, { partner: string; key: string }][] = []): Map<string, { partner: string; key: string }[]> {
  const owners = new Map<string, { partner: string; key: string }[]>();
  const add = (mid: string, owner: { partner: string; key: string }): void => {
    owners.set(mid, [...(owners.get(mid) ?? []), owner]);
  };
  for (const held of state.values()) for (const mid of held.currentMids) add(mid, { partner: held.partner, key: held.key });
  for (const [mid, owner] of extra) add(mid, owner);
  return owners;
}

interface BatchOptions {
  kind?: 'SNAPSHOT' | 'DELTA';
  asOf?: string;
  exchangeId?: string;
  sequence?: number;
  rejected?: RejectedRecord[];
  otherOwners?: [string, { partner: string; key: string }][];
  ctpatByMid?: Map<string, { account: string; status: string }>;
  partner?: Partner;
}

function input(records: Operator[], state: State, o: BatchOptions = {}): ReconcileInput {
  return {
    partner: o.partner ?? eu,
    exchangeId: o.exchangeId ?? 'ex-1',
    sequence: o.sequence ?? 1,
    kind: o.kind ?? 'SNAPSHOT',
    asOf: o.asOf ?? '2026-11-27T01:30:00Z',
    records,
    rejected: o.rejected ?? [],
    previous: state,
    midOwners: ownersOf(state, o.otherOwners),
    ctpatByMid: o.ctpatByMid ?? new Map(),
  };
}

function applyPlan(state: State, plan: ReconcilePlan): Map<string, HeldOperator> {
  const next = new Map(state);
  for (const held of plan.upserts) next.set(held.key, held);
  return next;
}

/** Runs a batch and returns the plan and the state it leaves. */
function run(records: Operator[], state: State, o: BatchOptions = {}): { plan: ReconcilePlan; state: Map<string, HeldOperator> } {
  const plan = reconcileBatch(input(records, state, o));
  return { plan, state: applyPlan(state, plan) };
}

const empty: State = new Map();
const issues = [{ pointer: '/Operator[2]/TIN', code: 'identifier', message: 'not an EORI' }];

function feed(plan: ReconcilePlan): string[] {
  return plan.benefitChanges.map((c) => `${c.key} ${c.mid} ${c.benefit} ${c.change} ${c.effective}`);
}

describe('reconcileBatch: a first SNAPSHOT', () => {
  const { plan } = run([record('K2'), record('K1')], empty, { exchangeId: 'ex-1', sequence: 7 });

  it('creates every record, upserts in key order', () => {
    expect(plan.counts).toEqual({ created: 2, changed: 0, unchanged: 0, withdrawn: 0, rejected: 0 });
    expect(plan.upserts.map((h) => h.key)).toEqual(['K1', 'K2']);
  });

  it('recognizes them since their status date and grants every MID the partner benefits', () => {
    const k1 = plan.upserts[0];
    expect(k1).toEqual({
      partner: 'EU',
      key: 'K1',
      record: record('K1'),
      recognition: { state: 'recognized', since: '2020-03-01', exchangeId: 'ex-1' },
      benefits: BENEFITS.map((benefit) => ({ mid: 'DEOZR92MEL', benefit, since: '2020-03-01' })),
      currentMids: ['DEOZR92MEL'],
      lastExchangeId: 'ex-1',
      lastSequence: 7,
    });
    expect(feed(plan)).toEqual([
      'K1 DEOZR92MEL front-of-line start 2020-03-01',
      'K1 DEOZR92MEL reduced-examinations start 2020-03-01',
      'K2 DEBER92MEL front-of-line start 2020-03-01',
      'K2 DEBER92MEL reduced-examinations start 2020-03-01',
    ]);
    expect(plan.benefitChanges[0]).toMatchObject({ partner: 'EU', key: 'K1', exchangeId: 'ex-1' });
    expect(plan.discrepancies).toEqual([]);
  });

  it('an AEOC record is stored out of scope, with no benefits', () => {
    const aeoc = run([record('K1', { authorisation: { type: 'AEOC' } })], empty).plan;
    expect(aeoc.upserts[0]?.recognition.state).toBe('out-of-scope');
    expect(aeoc.upserts[0]?.benefits).toEqual([]);
    expect(aeoc.benefitChanges).toEqual([]);
    expect(aeoc.counts.created).toBe(1);
  });

  it('an MRA not in force recognizes nothing', () => {
    const late = partner('EU', { inForceFrom: '2027-01-01', benefits: BENEFITS });
    const { plan: p } = run([record('K1')], empty, { partner: late });
    expect(p.upserts[0]?.recognition).toMatchObject({ state: 'out-of-scope', since: '2026-11-27' });
    expect(p.benefitChanges).toEqual([]);
  });

  it('a record key twice is refused (intake never lets it through)', () => {
    expect(() => reconcileBatch(input([record('K1'), record('K1')], empty))).toThrow(/twice/);
  });
});

describe('reconcileBatch: SNAPSHOT omission', () => {
  const first = run([record('K1'), record('K2')], empty);
  const second = run([record('K1')], first.state, { exchangeId: 'ex-2', sequence: 2, asOf: '2026-11-28T03:00:00Z' });

  it('withdraws the omitted operator since the asOf date, keeping its record, and ends its benefits then', () => {
    const k2 = second.plan.upserts.find((h) => h.key === 'K2');
    expect(k2).toMatchObject({
      record: record('K2'),
      withdrawn: { reason: 'snapshot-omission', since: '2026-11-28' },
      recognition: { state: 'withdrawn', since: '2026-11-28', exchangeId: 'ex-2' },
      benefits: [],
      currentMids: ['DEBER92MEL'],
      lastExchangeId: 'ex-2',
      lastSequence: 2,
    });
    expect(feed(second.plan)).toEqual([
      'K2 DEBER92MEL front-of-line end 2026-11-28',
      'K2 DEBER92MEL reduced-examinations end 2026-11-28',
    ]);
    expect(second.plan.counts).toEqual({ created: 0, changed: 0, unchanged: 1, withdrawn: 1, rejected: 0 });
  });

  it('omitted again: unchanged, not upserted, not counted, no feed entry', () => {
    const third = run([record('K1')], second.state, { exchangeId: 'ex-3', sequence: 3, asOf: '2026-11-29T03:00:00Z' });
    expect(third.plan.upserts.map((h) => h.key)).toEqual(['K1']);
    expect(third.plan.counts).toEqual({ created: 0, changed: 0, unchanged: 1, withdrawn: 0, rejected: 0 });
    expect(third.plan.benefitChanges).toEqual([]);
  });

  it('an operator withdrawn by consent and then omitted stays withdrawn by consent', () => {
    const withdrawn = run([record('K1'), record('K2', { consent: { given: false, withdrawnOn: '2026-11-01' } })], empty);
    const omitted = run([record('K1')], withdrawn.state, { exchangeId: 'ex-2', asOf: '2026-11-28T03:00:00Z' });
    expect(omitted.plan.upserts.map((h) => h.key)).toEqual(['K1']);
    expect(omitted.state.get('K2')?.withdrawn).toEqual({ reason: 'consent', since: '2026-11-01' });
  });

  it('a DELTA withdraws nothing it does not name', () => {
    const delta = run([record('K1')], first.state, { kind: 'DELTA', exchangeId: 'ex-2', asOf: '2026-11-28T03:00:00Z' });
    expect(delta.plan.upserts.map((h) => h.key)).toEqual(['K1']);
    expect(delta.plan.counts.withdrawn).toBe(0);
    expect(delta.plan.benefitChanges).toEqual([]);
  });

  it('back after an omission: changed, recognized again from the asOf date (not its older status date)', () => {
    const back = run([record('K1'), record('K2')], second.state, { exchangeId: 'ex-3', asOf: '2026-12-05T03:00:00Z' });
    expect(back.plan.counts).toEqual({ created: 0, changed: 1, unchanged: 1, withdrawn: 0, rejected: 0 });
    const k2 = back.state.get('K2');
    expect(k2?.withdrawn).toBeUndefined();
    expect(k2?.recognition).toEqual({ state: 'recognized', since: '2026-12-05', exchangeId: 'ex-3' });
    expect(feed(back.plan)).toEqual([
      'K2 DEBER92MEL front-of-line start 2026-12-05',
      'K2 DEBER92MEL reduced-examinations start 2026-12-05',
    ]);
  });
});

describe('reconcileBatch: rejected records', () => {
  const first = run([record('K1'), record('K2')], empty);

  it('a SNAPSHOT record rejected with a readable key counts as present: its earlier state is kept, a discrepancy opens', () => {
    const { plan, state } = run([record('K1')], first.state, {
      exchangeId: 'ex-2',
      asOf: '2026-11-28T03:00:00Z',
      rejected: [{ index: 1, key: 'K2', issues }],
    });
    expect(plan.upserts.map((h) => h.key)).toEqual(['K1']);
    expect(state.get('K2')).toBe(first.state.get('K2'));
    expect(plan.benefitChanges).toEqual([]);
    expect(plan.counts).toEqual({ created: 0, changed: 0, unchanged: 1, withdrawn: 0, rejected: 1 });
    expect(plan.discrepancies).toEqual([
      {
        kind: 'record-rejected',
        partner: 'EU',
        key: 'K2',
        detail: { index: 1, issues },
        dedupeKey: 'record-rejected:EU:K2:',
        exchangeId: 'ex-2',
      },
    ]);
  });

  it('a rejection whose key cannot be read opens a discrepancy with key null, and cannot keep anything', () => {
    const { plan } = run([record('K1')], first.state, { exchangeId: 'ex-2', rejected: [{ index: 1, key: null, issues }] });
    expect(plan.discrepancies.map((d) => [d.key, d.dedupeKey])).toEqual([[null, 'record-rejected:EU:#1:']]);
    expect(plan.counts.withdrawn).toBe(1); // K2 is not present
  });

  it('a rejection in a DELTA opens a discrepancy too', () => {
    const { plan } = run([], first.state, { kind: 'DELTA', rejected: [{ index: 0, key: 'K1', issues }] });
    expect(plan.upserts).toEqual([]);
    expect(plan.discrepancies.map((d) => d.kind)).toEqual(['record-rejected']);
    expect(plan.counts.rejected).toBe(1);
  });
});

describe('reconcileBatch: status changes', () => {
  const first = run([record('K1')], empty);

  it('suspension then reinstatement: the benefits end on the suspension date and start again on the reinstatement date', () => {
    const suspended = run([record('K1', { status: { code: 'suspended', effective: '2026-12-01' } })], first.state, {
      kind: 'DELTA',
      exchangeId: 'ex-2',
      asOf: '2026-12-02T00:00:00Z',
    });
    expect(suspended.state.get('K1')?.recognition).toEqual({ state: 'suspended', since: '2026-12-01', exchangeId: 'ex-2' });
    expect(feed(suspended.plan)).toEqual([
      'K1 DEOZR92MEL front-of-line end 2026-12-01',
      'K1 DEOZR92MEL reduced-examinations end 2026-12-01',
    ]);
    expect(suspended.plan.counts).toEqual({ created: 0, changed: 1, unchanged: 0, withdrawn: 0, rejected: 0 });

    const reinstated = run([record('K1', { status: { code: 'active', effective: '2026-12-15' } })], suspended.state, {
      kind: 'DELTA',
      exchangeId: 'ex-3',
      asOf: '2026-12-16T00:00:00Z',
    });
    expect(reinstated.state.get('K1')?.recognition).toEqual({ state: 'recognized', since: '2026-12-15', exchangeId: 'ex-3' });
    expect(reinstated.state.get('K1')?.benefits.map((b) => b.since)).toEqual(['2026-12-15', '2026-12-15']);
    expect(feed(reinstated.plan)).toEqual([
      'K1 DEOZR92MEL front-of-line start 2026-12-15',
      'K1 DEOZR92MEL reduced-examinations start 2026-12-15',
    ]);
    expect(reinstated.plan.discrepancies).toEqual([]); // suspended → active is no revoked-reinstated
  });

  it('revoked then active again with the same authorisation date: revoked-reinstated', () => {
    const revoked = run([record('K1', { status: { code: 'revoked', effective: '2026-12-01' } })], first.state, { kind: 'DELTA' });
    const back = run([record('K1', { status: { code: 'active', effective: '2026-12-10' } })], revoked.state, { kind: 'DELTA' });
    expect(back.plan.discrepancies).toEqual([
      expect.objectContaining({ kind: 'revoked-reinstated', key: 'K1', detail: { previousGrantedOn: '2015-01-01', grantedOn: '2015-01-01' } }),
    ]);
  });

  it('consent withdrawn with a date: withdrawn since then, benefits end then, counted once', () => {
    const consent = run([record('K1', { consent: { given: false, withdrawnOn: '2026-11-20' } })], first.state, {
      kind: 'DELTA',
      exchangeId: 'ex-2',
      asOf: '2026-11-28T00:00:00Z',
    });
    expect(consent.state.get('K1')).toMatchObject({
      withdrawn: { reason: 'consent', since: '2026-11-20' },
      recognition: { state: 'withdrawn', since: '2026-11-20' },
      benefits: [],
    });
    expect(feed(consent.plan)).toEqual([
      'K1 DEOZR92MEL front-of-line end 2026-11-20',
      'K1 DEOZR92MEL reduced-examinations end 2026-11-20',
    ]);
    expect(consent.plan.counts).toEqual({ created: 0, changed: 1, unchanged: 0, withdrawn: 1, rejected: 0 });
  });

  it('consent withdrawn without a date: since the asOf date, which later batches keep', () => {
    const withdrawnRecord = record('K1', { consent: { given: false } });
    const consent = run([withdrawnRecord], first.state, { kind: 'DELTA', exchangeId: 'ex-2', asOf: '2026-11-28T00:00:00Z' });
    expect(consent.state.get('K1')?.withdrawn).toEqual({ reason: 'consent', since: '2026-11-28' });
    expect(feed(consent.plan)).toEqual([
      'K1 DEOZR92MEL front-of-line end 2026-11-28',
      'K1 DEOZR92MEL reduced-examinations end 2026-11-28',
    ]);
    const later = run([withdrawnRecord], consent.state, { kind: 'SNAPSHOT', exchangeId: 'ex-3', asOf: '2026-12-20T00:00:00Z' });
    expect(later.state.get('K1')?.withdrawn).toEqual({ reason: 'consent', since: '2026-11-28' });
    expect(later.state.get('K1')?.recognition).toEqual(consent.state.get('K1')?.recognition);
    expect(later.plan.counts).toEqual({ created: 0, changed: 0, unchanged: 1, withdrawn: 0, rejected: 0 });
  });

  it('a new record without consent is counted as withdrawn and gets no benefits', () => {
    const { plan } = run([record('K1', { consent: { given: false } })], empty);
    expect(plan.counts).toEqual({ created: 1, changed: 0, unchanged: 0, withdrawn: 1, rejected: 0 });
    expect(plan.benefitChanges).toEqual([]);
  });
});

describe('reconcileBatch: MIDs', () => {
  it('a MID whose validTo passed ends at the asOf date, while the other MID keeps its benefits', () => {
    const k1 = record('K1', { mids: [{ mid: 'DEOZR92MEL', validTo: '2026-11-30' }, { mid: 'DEOZR92MEL2' }] });
    const first = run([k1], empty, { partner: partner('EU', { benefits: ['front-of-line'] }) });
    expect(feed(first.plan)).toEqual(['K1 DEOZR92MEL front-of-line start 2020-03-01', 'K1 DEOZR92MEL2 front-of-line start 2020-03-01']);
    const onLastDay = run([k1], first.state, { partner: partner('EU', { benefits: ['front-of-line'] }), asOf: '2026-11-30T23:00:00Z' });
    expect(onLastDay.plan.benefitChanges).toEqual([]); // validTo is inclusive
    const after = run([k1], first.state, { partner: partner('EU', { benefits: ['front-of-line'] }), asOf: '2026-12-01T00:00:00Z' });
    expect(feed(after.plan)).toEqual(['K1 DEOZR92MEL front-of-line end 2026-12-01']);
    expect(after.state.get('K1')?.currentMids).toEqual(['DEOZR92MEL2']);
    expect(after.plan.counts.unchanged).toBe(1); // the record is the same; time moved on
  });

  it('a MID removed from the record ends at the asOf date', () => {
    const first = run([record('K1')], empty);
    const removed = run([record('K1', { mids: [] })], first.state, { kind: 'DELTA', asOf: '2026-12-03T10:00:00Z' });
    expect(feed(removed.plan)).toEqual([
      'K1 DEOZR92MEL front-of-line end 2026-12-03',
      'K1 DEOZR92MEL reduced-examinations end 2026-12-03',
    ]);
  });

  it('a MID linked to another operator of the partner is a conflict: its benefits are held, the record\'s other MIDs are granted', () => {
    const k1 = record('K1', { mids: [{ mid: 'DEOZR92MEL' }, { mid: 'DEOZR92MEL2' }] });
    const { plan } = run([k1], empty, { otherOwners: [['DEOZR92MEL', { partner: 'EU', key: 'K9' }]] });
    expect(plan.discrepancies.find((d) => d.kind === 'mid-conflict')).toMatchObject({
      key: 'K1',
      mid: 'DEOZR92MEL',
      detail: { others: [{ partner: 'EU', key: 'K9' }] },
    });
    expect(plan.discrepancies.map((d) => `${d.kind} ${d.mid ?? ''}`)).toEqual(['mid-mismatch DEOZR92MEL2', 'mid-conflict DEOZR92MEL']);
    expect(plan.upserts[0]?.benefits.map((b) => b.mid)).toEqual(['DEOZR92MEL2', 'DEOZR92MEL2']);
    expect(plan.upserts[0]?.currentMids).toEqual(['DEOZR92MEL', 'DEOZR92MEL2']);
  });

  it('a MID also linked by another partner\'s operator is no conflict: each partner\'s recognition grants it', () => {
    const { plan } = run([record('K1')], empty, { otherOwners: [['DEOZR92MEL', { partner: 'GB', key: 'GBAEOS1' }]] });
    expect(plan.discrepancies.filter((d) => d.kind === 'mid-conflict')).toEqual([]);
    expect(plan.upserts[0]?.benefits.map((b) => `${b.mid} ${b.benefit}`)).toEqual(['DEOZR92MEL front-of-line', 'DEOZR92MEL reduced-examinations']);
  });

  it('a conflict that appears later ends the held MID\'s benefits at the asOf date', () => {
    const first = run([record('K1')], empty);
    const later = run([record('K1')], first.state, {
      asOf: '2026-12-03T10:00:00Z',
      otherOwners: [['DEOZR92MEL', { partner: 'EU', key: 'K9' }]],
    });
    expect(feed(later.plan)).toEqual([
      'K1 DEOZR92MEL front-of-line end 2026-12-03',
      'K1 DEOZR92MEL reduced-examinations end 2026-12-03',
    ]);
  });

  it('two records of one batch sharing a MID conflict with each other', () => {
    const shared = [{ mid: 'DEOZR92MEL' }];
    const { plan } = run([record('K1'), record('K2', { mids: shared })], empty);
    const conflicts = plan.discrepancies.filter((d) => d.kind === 'mid-conflict');
    expect(conflicts.map((d) => [d.key, d.detail])).toEqual([
      ['K1', { others: [{ partner: 'EU', key: 'K2' }] }],
      ['K2', { others: [{ partner: 'EU', key: 'K1' }] }],
    ]);
    expect(plan.benefitChanges).toEqual([]);
  });

  it('a MID moving from one key to another within a batch is no conflict', () => {
    const first = run([record('K1')], empty);
    const moved = run([record('K1', { mids: [] }), record('K2', { mids: [{ mid: 'DEOZR92MEL' }] })], first.state, { kind: 'DELTA' });
    expect(moved.plan.discrepancies.filter((d) => d.kind === 'mid-conflict')).toEqual([]);
    expect(feed(moved.plan)).toEqual([
      'K1 DEOZR92MEL front-of-line end 2026-11-27',
      'K1 DEOZR92MEL reduced-examinations end 2026-11-27',
      'K2 DEOZR92MEL front-of-line start 2020-03-01',
      'K2 DEOZR92MEL reduced-examinations start 2020-03-01',
    ]);
  });

  it('a recognized operator whose MID belongs to a suspended C-TPAT member', () => {
    const ctpatByMid = new Map([['DEOZR92MEL', { account: 'CT-0012345', status: 'SUSPENDED' }]]);
    const { plan } = run([record('K1')], empty, { ctpatByMid });
    expect(plan.discrepancies).toEqual([
      {
        kind: 'ctpat-member-inactive',
        partner: 'EU',
        key: 'K1',
        mid: 'DEOZR92MEL',
        detail: { account: 'CT-0012345', status: 'SUSPENDED' },
        dedupeKey: 'ctpat-member-inactive:EU:K1:DEOZR92MEL',
        exchangeId: 'ex-1',
      },
    ]);
    expect(plan.benefitChanges).toHaveLength(2); // found, not held
  });

  it('a MID that does not match the construction opens mid-mismatch', () => {
    const { plan } = run([record('K1', { mids: [{ mid: 'DEOZR99MEL' }] })], empty);
    expect(plan.discrepancies).toEqual([
      expect.objectContaining({ kind: 'mid-mismatch', mid: 'DEOZR99MEL', detail: { expected: 'DEOZR92MEL', differences: ['number part is 92, the MID has 99'] } }),
    ]);
  });
});

describe('reconcileBatch: unchanged and replayed batches', () => {
  it('the same record twice: unchanged, whatever the key order of its members', () => {
    const first = run([record('K1')], empty);
    const r = record('K1');
    const reordered = Object.fromEntries(Object.entries(r).reverse()) as Operator;
    const again = run([reordered], first.state, { exchangeId: 'ex-2', asOf: '2026-11-28T00:00:00Z' });
    expect(again.plan.counts).toEqual({ created: 0, changed: 0, unchanged: 1, withdrawn: 0, rejected: 0 });
    expect(again.plan.benefitChanges).toEqual([]);
    // The recognition was caused by the first exchange, and stays so.
    expect(again.state.get('K1')?.recognition.exchangeId).toBe('ex-1');
    expect(again.state.get('K1')?.lastExchangeId).toBe('ex-2');
  });

  it('sameValue ignores key order and undefined members, not array order', () => {
    expect(sameValue({ a: 1, b: [1, { c: 2 }] }, { b: [1, { c: 2 }], a: 1 })).toBe(true);
    expect(sameValue({ a: 1, b: undefined }, { a: 1 })).toBe(true);
    expect(sameValue([1, 2], [2, 1])).toBe(false);
    expect(sameValue({ a: 1 }, { a: '1' })).toBe(false);
    expect(sameValue({ a: null }, { a: undefined })).toBe(false);
  });

  it('replaying a batch on the state it produced gives nothing new', () => {
    const first = run([record('K1'), record('K2'), record('K3', { consent: { given: false } })], empty);
    const batch = { kind: 'SNAPSHOT' as const, exchangeId: 'ex-2', asOf: '2026-12-01T00:00:00Z', rejected: [{ index: 1, key: 'K3', issues }] };
    const second = run([record('K1', { status: { code: 'suspended', effective: '2026-11-30' } })], first.state, batch);
    const replay = run([record('K1', { status: { code: 'suspended', effective: '2026-11-30' } })], second.state, batch);
    expect(replay.plan.benefitChanges).toEqual([]);
    expect(replay.plan.counts).toEqual({ created: 0, changed: 0, unchanged: 1, withdrawn: 0, rejected: 1 });
    expect(replay.state).toEqual(second.state);
    expect(replay.plan.discrepancies).toEqual(second.plan.discrepancies);
  });
});

/** A value as PostgreSQL's jsonb gives it back: undefined members gone, object keys reordered (shortest first, then by bytes). */
function asReadFromJsonb<T>(value: T): T {
  const reorder = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(reorder);
    if (v === null || typeof v !== 'object') return v;
    const entries = Object.entries(v).sort(([a], [b]) => a.length - b.length || (a < b ? -1 : a > b ? 1 : 0));
    return Object.fromEntries(entries.map(([k, x]) => [k, reorder(x)]));
  };
  return reorder(JSON.parse(JSON.stringify(value))) as T;
}

/** What the job loads back from the store for a state: every held operator through jsonb. */
const readBack = (state: State): State => new Map([...state].map(([key, held]) => [key, asReadFromJsonb(held)]));

const versionsOf = (plan: ReconcilePlan) => plan.versions.map((v) => `${v.key} ${v.change}`);

describe('reconcileBatch: the change of each record, decided once for the counts and the version log', () => {
  it('the same SNAPSHOT sent twice, on records read back from jsonb with their keys reordered: every record unchanged', () => {
    const records = [record('K1'), record('K2', { authorisation: { type: 'AEOF', grantedOn: '2016-02-02' } }), record('K3', { status: { code: 'suspended', effective: '2026-01-01' } })];
    const first = run(records, empty, { exchangeId: 'ex-1', sequence: 1 });
    const held = readBack(first.state);
    // The reordering is real: a comparison of serialized text would call these records changed.
    expect(JSON.stringify(held.get('K1')!.record)).not.toBe(JSON.stringify(first.state.get('K1')!.record));
    const second = run(records, held, { exchangeId: 'ex-2', sequence: 2 });
    expect(second.plan.counts).toEqual({ created: 0, changed: 0, unchanged: 3, withdrawn: 0, rejected: 0 });
    expect(versionsOf(second.plan)).toEqual(['K1 unchanged', 'K2 unchanged', 'K3 unchanged']);
  });

  it('a version for every upsert, in its order and agreeing with the counts: created, changed, withdrawn, and changed when back after an omission', () => {
    const first = run([record('K1'), record('K2'), record('K3')], empty);
    expect(versionsOf(first.plan)).toEqual(['K1 created', 'K2 created', 'K3 created']);
    expect(first.plan.versions.map((v) => v.record)).toEqual(first.plan.upserts.map((h) => h.record));

    const suspended = record('K1', { status: { code: 'suspended', effective: '2026-11-01' } });
    const noConsent = record('K2', { consent: { given: false, withdrawnOn: '2026-11-01' } });
    const second = run([suspended, noConsent], readBack(first.state), { exchangeId: 'ex-2', asOf: '2026-11-28T03:00:00Z' });
    expect(versionsOf(second.plan)).toEqual(['K1 changed', 'K2 withdrawn', 'K3 withdrawn']);
    expect(second.plan.counts).toEqual({ created: 0, changed: 2, unchanged: 0, withdrawn: 2, rejected: 0 });

    const third = run([suspended, noConsent, record('K3')], readBack(second.state), { exchangeId: 'ex-3', asOf: '2026-12-05T03:00:00Z' });
    expect(versionsOf(third.plan)).toEqual(['K1 unchanged', 'K2 unchanged', 'K3 changed']);
    expect(third.plan.counts).toEqual({ created: 0, changed: 1, unchanged: 2, withdrawn: 0, rejected: 0 });
  });

  it('a record first seen with its consent withdrawn is created (and counted withdrawn too)', () => {
    const { plan } = run([record('K1', { consent: { given: false } })], empty);
    expect(versionsOf(plan)).toEqual(['K1 created']);
    expect(plan.counts).toMatchObject({ created: 1, withdrawn: 1 });
  });
});

// Generated record sets over a small pool of keys, MIDs and dates, so that conflicts,
// omissions, expiries and state changes all happen often.
const DATES = ['2019-01-01', '2026-11-27', '2026-11-28', '2026-12-31'];
const MID_POOL = ['DEOZR92MEL', 'DEBER92MEL', 'DEAMAPLA92MEL', 'DESHARED1'];

const arbRecord = (key: string): fc.Arbitrary<Operator> =>
  fc
    .record({
      type: fc.constantFrom('AEOS', 'AEOF', 'AEOC'),
      code: fc.constantFrom('active', 'active', 'suspended', 'revoked'),
      effective: fc.option(fc.constantFrom(...DATES), { nil: undefined }),
      consent: fc.constantFrom<'given' | 'withdrawn' | 'withdrawn-dated' | 'absent'>('given', 'given', 'withdrawn', 'withdrawn-dated', 'absent'),
      mids: fc.uniqueArray(
        fc.record({
          mid: fc.constantFrom(...MID_POOL),
          validFrom: fc.option(fc.constantFrom(...DATES), { nil: undefined }),
          validTo: fc.option(fc.constantFrom(...DATES), { nil: undefined }),
        }),
        { maxLength: 3, selector: (m) => m.mid },
      ),
      grantedOn: fc.option(fc.constantFrom('2015-01-01', '2026-06-01'), { nil: undefined }),
    })
    .map((g) =>
      Operator.parse({
        key,
        identifier: { scheme: 'eori', value: 'DE1' },
        authorisation: g.grantedOn === undefined ? { type: g.type } : { type: g.type, grantedOn: g.grantedOn },
        name: { legal: NAMES[key] ?? key },
        address: { street: '92 Alice Springs Road', city: 'Melbourne', country: 'DE' },
        status: g.effective === undefined ? { code: g.code } : { code: g.code, effective: g.effective },
        ...(g.consent === 'absent'
          ? {}
          : { consent: g.consent === 'given' ? { given: true } : g.consent === 'withdrawn' ? { given: false } : { given: false, withdrawnOn: '2026-11-01' } }),
        mids: g.mids.map((m) => ({
          mid: m.mid,
          ...(m.validFrom === undefined ? {} : { validFrom: m.validFrom }),
          ...(m.validTo === undefined ? {} : { validTo: m.validTo }),
        })),
      }),
    );

const arbRecords = fc
  .subarray(['K1', 'K2', 'K3', 'K4'])
  .chain((keys) => (keys.length === 0 ? fc.constant<Operator[]>([]) : fc.tuple(...keys.map(arbRecord))));

const arbBatch = fc.record({
  kind: fc.constantFrom<'SNAPSHOT' | 'DELTA'>('SNAPSHOT', 'DELTA'),
  asOf: fc.constantFrom('2026-11-27T01:30:00Z', '2026-11-28T00:00:00+09:00', '2026-12-31T23:00:00-06:00'),
  records: arbRecords,
  rejectedKeys: fc.subarray(['K1', 'K2', 'K3', 'K4', null]),
  otherOwned: fc.boolean(),
  mraInForce: fc.boolean(),
});

type ArbBatch = typeof arbBatch extends fc.Arbitrary<infer T> ? T : never;

function batchOptions(b: ArbBatch, exchangeId: string): BatchOptions {
  const carried = new Set(b.records.map((r) => r.key));
  return {
    kind: b.kind,
    asOf: b.asOf,
    exchangeId,
    rejected: b.rejectedKeys.filter((k) => k === null || !carried.has(k)).map((key, i) => ({ index: 100 + i, key, issues })),
    otherOwners: b.otherOwned ? [['DESHARED1', { partner: 'EU', key: 'K9' }]] : [],
    ctpatByMid: new Map([['DEBER92MEL', { account: 'CT-1', status: 'REMOVED' }]]),
    partner: b.mraInForce ? eu : partner('EU', { inForceUntil: '2026-11-27', scope: ['AEOS', 'AEOF'], benefits: BENEFITS }),
  };
}

describe('reconcileBatch: properties over generated batches', () => {
  it('replaying a batch on the state it produced yields no change and no feed entry', () => {
    fc.assert(
      fc.property(arbRecords, arbBatch, (firstRecords, b) => {
        const first = run(firstRecords, empty, { exchangeId: 'ex-1' });
        const o = batchOptions(b, 'ex-2');
        const second = run(b.records, first.state, o);
        const replay = run(b.records, second.state, o);
        expect(replay.plan.benefitChanges).toEqual([]);
        expect(replay.plan.counts).toEqual({ created: 0, changed: 0, unchanged: b.records.length, withdrawn: 0, rejected: o.rejected?.length ?? 0 });
        expect(replay.state).toEqual(second.state);
        // Nothing new to open; revoked-reinstated is found on the transition only, so the
        // replay (active after active) does not find it again.
        const opened = second.plan.discrepancies.filter((d) => d.kind !== 'revoked-reinstated');
        expect(replay.plan.discrepancies).toEqual(opened);
      }),
    );
  });

  it('the feed turns the benefits held before into the benefits held after, and only recognized operators hold any', () => {
    fc.assert(
      fc.property(arbRecords, arbBatch, (firstRecords, b) => {
        const first = run(firstRecords, empty, { exchangeId: 'ex-1' });
        const second = run(b.records, first.state, batchOptions(b, 'ex-2'));
        const grants = (state: State): Set<string> =>
          new Set([...state.values()].flatMap((h) => h.benefits.map((g) => `${h.key} ${g.mid} ${g.benefit}`)));
        const held = grants(first.state);
        for (const c of second.plan.benefitChanges) {
          const id = `${c.key} ${c.mid} ${c.benefit}`;
          expect(held.has(id)).toBe(c.change === 'end');
          if (c.change === 'start') held.add(id);
          else held.delete(id);
        }
        expect(held).toEqual(grants(second.state));
        for (const h of second.state.values()) {
          if (h.recognition.state !== 'recognized') expect(h.benefits).toEqual([]);
          for (const g of h.benefits) expect(h.currentMids).toContain(g.mid);
        }
        const conflicted = second.plan.discrepancies.filter((d) => d.kind === 'mid-conflict').map((d) => `${d.key} ${d.mid}`);
        for (const c of conflicted) expect([...held].some((id) => id.startsWith(`${c} `))).toBe(false);
      }),
    );
  });

  it('replaying a batch on its own state read back from jsonb: every carried record unchanged in the version log too', () => {
    fc.assert(
      fc.property(arbRecords, arbBatch, (firstRecords, b) => {
        const first = run(firstRecords, empty, { exchangeId: 'ex-1' });
        const o = batchOptions(b, 'ex-2');
        const second = run(b.records, readBack(first.state), o);
        expect(second.plan.versions.map((v) => v.key)).toEqual(second.plan.upserts.map((h) => h.key));
        const replay = run(b.records, readBack(second.state), o);
        expect(replay.plan.versions.map((v) => v.change)).toEqual(b.records.map(() => 'unchanged'));
      }),
    );
  });

  it('is deterministic, and counts every carried record once', () => {
    fc.assert(
      fc.property(arbRecords, arbBatch, (firstRecords, b) => {
        const first = run(firstRecords, empty, { exchangeId: 'ex-1' });
        const i = input(b.records, first.state, batchOptions(b, 'ex-2'));
        const plan = reconcileBatch(i);
        expect(reconcileBatch(i)).toEqual(plan);
        const { created, changed, unchanged } = plan.counts;
        expect(created + changed + unchanged).toBe(b.records.length);
        const keys = plan.upserts.map((h) => h.key);
        expect(keys).toEqual([...keys].sort());
      }),
    );
  });

  it('decided a window at a time, as the apply job does, the plan is the one of the whole batch', () => {
    fc.assert(
      fc.property(arbRecords, arbBatch, fc.integer({ min: 1, max: 4 }), (firstRecords, b, size) => {
        const first = run(firstRecords, empty, { exchangeId: 'ex-1' });
        const i = input(b.records, first.state, batchOptions(b, 'ex-2'));
        expect(inWindows(i, size)).toEqual(reconcileBatch(i));
      }),
    );
  });
});

/** The apply job's way: the outline, then windows of `size` with only their own records and held state, then the rejected. */
function inWindows(i: ReconcileInput, size: number): ReconcilePlan {
  const mayOmit = new Map(i.kind === 'SNAPSHOT' ? [...i.previous.values()].filter((h) => h.withdrawn === undefined).map((h) => [h.key, h.record.mids] as const) : []);
  const outline = runToEnd(outlineSteps({ ...i, mayOmit }));
  const plan: ReconcilePlan = { upserts: [], versions: [], counts: { created: 0, changed: 0, unchanged: 0, withdrawn: 0, rejected: i.rejected.length }, benefitChanges: [], discrepancies: [] };
  for (let at = 0; at < outline.order.length; at += size) {
    const entries = outline.order.slice(at, at + size);
    const keys = new Set(entries.map((e) => e.key));
    const records = new Map(i.records.filter((r) => keys.has(r.key)).map((r) => [r.key, r]));
    const previous = new Map([...i.previous].filter(([key]) => keys.has(key)));
    const part = runToEnd(windowSteps({ ...i, ...outline, entries, records, previous }));
    plan.upserts.push(...part.upserts);
    plan.versions.push(...part.versions);
    plan.benefitChanges.push(...part.benefitChanges);
    plan.discrepancies.push(...part.discrepancies);
    for (const k of ['created', 'changed', 'unchanged', 'withdrawn'] as const) plan.counts[k] += part.counts[k];
  }
  plan.discrepancies.push(...recordRejectedFindings(i.rejected, i.partner.id, i.exchangeId));
  return plan;
}
