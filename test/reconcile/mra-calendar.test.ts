/** The MRA calendar decides, without services, what ends between batches: an MRA past its end, not yet in force, or a scope narrowed. */
import { describe, expect, it } from 'vitest';
import type { Operator } from '../../src/canonical/operator.ts';
import type { HeldOperator } from '../../src/reconcile/model.ts';
import { calendarCanEnd, dayAfter, mraCalendar, type CalendarPlan } from '../../src/reconcile/mra-calendar.ts';
import type { Partner } from '../../src/registry/partner.ts';
import { testPartner } from '../support/partners.ts';

const BENEFITS = ['front-of-line', 'reduced-examinations'];
const TODAY = '2026-11-30';
const eu = (mra: Record<string, unknown> = {}) => testPartner('EU', { scope: ['AEOS', 'AEOF'], benefits: BENEFITS, ...mra });

/** A held operator of EU: recognized since 2020-03-01 with every benefit on one MID, unless told otherwise. */
function held(key: string, type: 'AEOC' | 'AEOS' | 'AEOF', overrides: Partial<HeldOperator> = {}): HeldOperator {
  const mid = `DE${key}HAM`;
  const since = overrides.recognition?.since ?? '2020-03-01';
  return {
    partner: 'EU',
    key,
    record: { key, authorisation: { type }, mids: [{ mid }], status: { code: 'active', effective: since } } as unknown as Operator,
    recognition: { state: 'recognized', since, exchangeId: 'e-recognized' },
    benefits: BENEFITS.map((benefit) => ({ mid, benefit, since })),
    currentMids: [mid],
    lastExchangeId: 'e-last',
    lastSequence: 7,
    ...overrides,
  };
}

const run = (partner: Partner, operators: HeldOperator[], today = TODAY): CalendarPlan => mraCalendar({ partner, today, held: operators });

/** What the store holds once the plan is saved. */
function applied(operators: HeldOperator[], plan: CalendarPlan): HeldOperator[] {
  const next = new Map(operators.map((h) => [h.key, h]));
  for (const h of plan.upserts) next.set(h.key, h);
  return [...next.values()];
}

describe('the MRA calendar: an MRA reaching inForceUntil', () => {
  it('ended yesterday: out of scope from today, each benefit ended today, once per MID and benefit', () => {
    const plan = run(eu({ inForceUntil: '2026-11-29' }), [held('K1', 'AEOS')]);
    expect(plan.upserts).toEqual([{ ...held('K1', 'AEOS'), recognition: { state: 'out-of-scope', since: TODAY, exchangeId: 'e-last' }, benefits: [] }]);
    expect(plan.benefitChanges).toEqual(
      BENEFITS.map((benefit) => ({ mid: 'DEK1HAM', partner: 'EU', key: 'K1', benefit, change: 'end', effective: TODAY, exchangeId: null, cause: 'mra-ended' })),
    );
  });

  it('ending today: still in force through the day, nothing ends', () => {
    expect(run(eu({ inForceUntil: TODAY }), [held('K1', 'AEOS')])).toEqual({ upserts: [], benefitChanges: [] });
  });

  it('ending tomorrow: nothing ends today; the day after tomorrow it ends, dated the day after inForceUntil', () => {
    const partner = eu({ inForceUntil: '2026-12-01' });
    expect(run(partner, [held('K1', 'AEOS')])).toEqual({ upserts: [], benefitChanges: [] });
    expect(run(partner, [held('K1', 'AEOS')], '2026-12-01').upserts).toEqual([]);
    const later = run(partner, [held('K1', 'AEOS')], '2026-12-02');
    expect(later.benefitChanges.map((c) => c.effective)).toEqual(['2026-12-02', '2026-12-02']);
  });

  it('a run that comes late (or a registry edited late) still dates the end by the arrangement: the day after inForceUntil', () => {
    const plan = run(eu({ inForceUntil: '2026-06-30' }), [held('K1', 'AEOS'), held('K2', 'AEOF')]);
    expect(plan.upserts.map((h) => [h.key, h.recognition.since])).toEqual([['K1', '2026-07-01'], ['K2', '2026-07-01']]);
    expect(new Set(plan.benefitChanges.map((c) => c.effective))).toEqual(new Set(['2026-07-01']));
  });

  it('never dates an end before what it ends began', () => {
    const recent = held('K1', 'AEOS', { recognition: { state: 'recognized', since: '2026-09-01', exchangeId: 'e' } });
    const plan = run(eu({ inForceUntil: '2026-06-30' }), [recent]);
    expect(plan.upserts[0]!.recognition.since).toBe('2026-09-01');
    expect(plan.benefitChanges.map((c) => c.effective)).toEqual(['2026-09-01', '2026-09-01']);
  });

  it('ends every recognition, benefits or not: a suspended operator becomes out-of-scope, a withdrawal stays recorded', () => {
    const suspended = held('K1', 'AEOS', { recognition: { state: 'suspended', since: '2025-01-01', exchangeId: 'e' }, benefits: [] });
    const withdrawn = held('K2', 'AEOS', { recognition: { state: 'withdrawn', since: '2025-02-01', exchangeId: 'e' }, benefits: [], withdrawn: { reason: 'consent', since: '2025-02-01' } });
    const plan = run(eu({ inForceUntil: '2026-11-29' }), [suspended, withdrawn]);
    expect(plan.benefitChanges).toEqual([]);
    expect(plan.upserts.map((h) => [h.key, h.recognition.state, h.withdrawn?.reason])).toEqual([['K1', 'out-of-scope', undefined], ['K2', 'out-of-scope', 'consent']]);
  });
});

describe('the MRA calendar: an MRA not yet in force', () => {
  it('inForceFrom moved past today: out of scope from today (the registry carries no date of the change)', () => {
    const plan = run(eu({ inForceFrom: '2027-01-01' }), [held('K1', 'AEOS')]);
    expect(plan.upserts[0]!.recognition).toMatchObject({ state: 'out-of-scope', since: TODAY });
    expect(plan.benefitChanges.map((c) => [c.effective, c.cause])).toEqual([[TODAY, 'mra-not-in-force'], [TODAY, 'mra-not-in-force']]);
  });
});

describe('the MRA calendar: a scope narrowed in the registry', () => {
  it('ends the recognitions the scope no longer holds, from the day it is read; the others stay', () => {
    const operators = [held('K1', 'AEOS'), held('K2', 'AEOF'), held('K3', 'AEOF')];
    const plan = run(eu({ scope: ['AEOS'] }), operators);
    expect(plan.upserts.map((h) => [h.key, h.recognition.state, h.recognition.since, h.benefits.length])).toEqual([
      ['K2', 'out-of-scope', TODAY, 0],
      ['K3', 'out-of-scope', TODAY, 0],
    ]);
    expect(plan.benefitChanges.map((c) => `${c.key} ${c.mid} ${c.benefit} ${c.change} ${c.effective} ${c.cause}`)).toEqual([
      `K2 DEK2HAM front-of-line end ${TODAY} scope-narrowed`,
      `K2 DEK2HAM reduced-examinations end ${TODAY} scope-narrowed`,
      `K3 DEK3HAM front-of-line end ${TODAY} scope-narrowed`,
      `K3 DEK3HAM reduced-examinations end ${TODAY} scope-narrowed`,
    ]);
  });

  it('a scope widened does nothing: an operator held out of scope waits for its partner’s next batch to start benefits', () => {
    const outside = held('K1', 'AEOC', { recognition: { state: 'out-of-scope', since: '2020-03-01', exchangeId: 'e' }, benefits: [] });
    expect(run(eu({ scope: ['AEOC', 'AEOS', 'AEOF'] }), [outside, held('K2', 'AEOS')])).toEqual({ upserts: [], benefitChanges: [] });
    expect(run(eu({ scope: undefined }), [outside])).toEqual({ upserts: [], benefitChanges: [] });
  });

  it('an MRA both ended and narrowed is dated by its end', () => {
    const plan = run(eu({ scope: ['AEOS'], inForceUntil: '2026-10-31' }), [held('K2', 'AEOF')]);
    expect(plan.benefitChanges.map((c) => [c.effective, c.cause])).toEqual([['2026-11-01', 'mra-ended'], ['2026-11-01', 'mra-ended']]);
  });
});

describe('the MRA calendar: idempotence', () => {
  it('run on the state it produced, the same day or any later one, it ends nothing more', () => {
    const operators = [held('K1', 'AEOS'), held('K2', 'AEOF'), held('K3', 'AEOC', { recognition: { state: 'out-of-scope', since: '2020-03-01', exchangeId: 'e' }, benefits: [] })];
    for (const partner of [eu({ scope: ['AEOS'] }), eu({ inForceUntil: '2026-11-29' }), eu({ inForceFrom: '2027-01-01' })]) {
      const first = run(partner, operators);
      expect(first.upserts.length).toBeGreaterThan(0);
      const after = applied(operators, first);
      expect(run(partner, after)).toEqual({ upserts: [], benefitChanges: [] });
      expect(run(partner, after, '2026-12-15')).toEqual({ upserts: [], benefitChanges: [] });
    }
  });

  it('the same input gives the same plan, whatever the order operators come in', () => {
    const operators = [held('K3', 'AEOF'), held('K1', 'AEOF'), held('K2', 'AEOS')];
    const partner = eu({ scope: ['AEOS'] });
    expect(run(partner, operators)).toEqual(run(partner, [...operators].reverse()));
  });

  it("ignores another partner's operators", () => {
    expect(run(eu({ inForceUntil: '2026-11-29' }), [{ ...held('K1', 'AEOS'), partner: 'JP' }])).toEqual({ upserts: [], benefitChanges: [] });
  });
});

describe('whether the calendar can end anything', () => {
  it('only when the MRA is not in force or a scope limits it (else the job reads nothing)', () => {
    expect(calendarCanEnd(testPartner('JP', { benefits: BENEFITS }), TODAY)).toBe(false);
    expect(calendarCanEnd(testPartner('JP', { inForceUntil: TODAY }), TODAY)).toBe(false);
    expect(calendarCanEnd(testPartner('JP', { inForceUntil: '2026-11-29' }), TODAY)).toBe(true);
    expect(calendarCanEnd(testPartner('JP', { inForceFrom: '2026-12-01' }), TODAY)).toBe(true);
    expect(calendarCanEnd(eu(), TODAY)).toBe(true);
  });

  it('dayAfter crosses months, years and leap days', () => {
    expect([dayAfter('2026-11-30'), dayAfter('2026-12-31'), dayAfter('2028-02-28'), dayAfter('2028-02-29')]).toEqual(['2026-12-01', '2027-01-01', '2028-02-29', '2028-03-01']);
  });
});
