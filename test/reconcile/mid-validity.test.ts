/** MID link validity and benefit dates: a link's own dates bound its benefits (FORMATS.md: validTo inclusive, 00:00 UTC). */
import { describe, expect, it } from 'vitest';
import { Operator } from '../../src/canonical/operator.ts';
import type { HeldOperator } from '../../src/reconcile/model.ts';
import { reconcileBatch } from '../../src/reconcile/reconcile-batch.ts';
import { testPartner } from '../support/partners.ts';

const eu = testPartner('EU', { benefits: ['reduced-examinations'] });
const MID = 'DEHAFWER12HAM';

function record(mids: { mid: string; validFrom?: string; validTo?: string }[]): Operator {
  return Operator.parse({
    key: 'DEAEOS00000001', identifier: { scheme: 'eori', value: 'DE000000000001' }, authorisation: { type: 'AEOS' }, name: { legal: 'Hafen Werke' },
    address: { street: '12 Kai', city: 'Hamburg', country: 'DE' }, status: { code: 'active', effective: '2020-03-01' }, consent: { given: true }, mids,
  });
}

function apply(op: Operator, asOf: string, previous: HeldOperator[] = [], exchangeId = '00000000-0000-0000-0000-000000000001') {
  return reconcileBatch({ partner: eu, exchangeId, sequence: previous.length + 1, kind: 'DELTA', asOf, records: [op], rejected: [], previous: new Map(previous.map((p) => [p.key, p])), midOwners: new Map(), ctpatByMid: new Map() });
}

describe('MID link validity', () => {
  it('a MID linked again after an old link starts its benefits from the current link, not the old one', () => {
    const plan = apply(record([{ mid: MID, validFrom: '2015-01-01', validTo: '2018-12-31' }, { mid: MID, validFrom: '2024-06-01' }]), '2026-11-27T00:00:00Z');
    expect(plan.benefitChanges).toMatchObject([{ mid: MID, change: 'start', effective: '2024-06-01' }]);
  });

  it('a link that lapsed ends its benefits the day after its validTo, not on the date of the batch that noticed', () => {
    const first = apply(record([{ mid: MID, validFrom: '2020-01-01', validTo: '2026-03-31' }]), '2026-01-15T00:00:00Z');
    expect(first.benefitChanges).toMatchObject([{ change: 'start', effective: '2020-03-01' }]);
    const later = apply(record([{ mid: MID, validFrom: '2020-01-01', validTo: '2026-03-31' }]), '2026-06-01T00:00:00Z', first.upserts, '00000000-0000-0000-0000-000000000002');
    expect(later.benefitChanges).toMatchObject([{ mid: MID, change: 'end', effective: '2026-04-01' }]);
  });
});
