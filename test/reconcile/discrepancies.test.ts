import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { Operator } from '../../src/canonical/operator.ts';
import {
  ctpatMemberInactiveFindings,
  dedupeKeyOf,
  heldMids,
  midConflictFindings,
  midConflictKeys,
  midMismatchFindings,
  recordRejectedFindings,
  revokedReinstatedFindings,
  withoutDecidedFindings,
  withoutSettledConflicts,
} from '../../src/reconcile/discrepancies.ts';
import type { DiscrepancyFinding, Recognition } from '../../src/reconcile/model.ts';
import { testPartner } from '../support/partners.ts';

const partner = testPartner;

function operator(overrides: Partial<z.input<typeof Operator>> = {}): Operator {
  return Operator.parse({
    key: 'K1',
    identifier: { scheme: 'eori', value: 'DE123456' },
    authorisation: { type: 'AEOS', grantedOn: '2015-01-01' },
    name: { legal: 'Ozrock' },
    address: { street: '92 Alice Springs Road', city: 'Melbourne', country: 'DE' },
    status: { code: 'active', effective: '2020-03-01' },
    consent: { given: true },
    ...overrides,
  });
}

const eu = partner('EU');
const who = { partner: 'EU', key: 'K1', exchangeId: 'ex-1' };
const recognized: Recognition = { state: 'recognized', since: '2020-03-01', exchangeId: 'ex-0' };

describe('dedupeKeyOf', () => {
  it.each<[Parameters<typeof dedupeKeyOf>, string]>([
    [['mid-mismatch', 'EU', 'K1', undefined, 'DEX1'], 'mid-mismatch:EU:K1:DEX1'],
    [['revoked-reinstated', 'EU', 'K1'], 'revoked-reinstated:EU:K1:'],
    [['record-rejected', 'EU', null, 4], 'record-rejected:EU:#4:'],
    [['record-rejected', 'EU', 'K9', 4], 'record-rejected:EU:K9:'],
  ])('%j → %s', (args, key) => {
    expect(dedupeKeyOf(...args)).toBe(key);
  });
});

describe('mid-mismatch', () => {
  it('a MID that matches the construction gives nothing', () => {
    expect(midMismatchFindings(operator(), eu, ['DEOZR92MEL'], who)).toEqual([]);
  });

  it('a MID that does not match gives the expected MID and the differences', () => {
    expect(midMismatchFindings(operator(), eu, ['DEOZR93MEL', 'DEOZR92MEL'], who)).toEqual([
      {
        kind: 'mid-mismatch',
        partner: 'EU',
        key: 'K1',
        mid: 'DEOZR93MEL',
        detail: { expected: 'DEOZR92MEL', differences: ['number part is 92, the MID has 93'] },
        dedupeKey: 'mid-mismatch:EU:K1:DEOZR93MEL',
        exchangeId: 'ex-1',
      },
    ]);
  });

  it('a MID that cannot be constructed: expected is null', () => {
    const record = operator({ identifier: { scheme: 'other', value: '1' }, address: { street: '1 Road', city: 'Town' } });
    const [finding] = midMismatchFindings(record, eu, ['DEOZR1TOW'], who);
    expect(finding?.detail['expected']).toBeNull();
    expect(finding?.detail['differences']).toEqual([expect.stringContaining('cannot be constructed')]);
  });
});

describe('mid-conflict', () => {
  it("a MID linked to another operator of the partner is a conflict, the others sorted; another partner's is not", () => {
    const owners = new Map([
      ['M1', [{ partner: 'GB', key: 'G1' }, { partner: 'EU', key: 'K3' }, { partner: 'EU', key: 'K2' }, { partner: 'EU', key: 'K1' }]],
      ['M2', [{ partner: 'EU', key: 'K1' }]], // only itself
    ]);
    const found = midConflictFindings(['M1', 'M2', 'M3'], owners, who);
    expect(found).toEqual([
      {
        kind: 'mid-conflict',
        partner: 'EU',
        key: 'K1',
        mid: 'M1',
        detail: { others: [{ partner: 'EU', key: 'K2' }, { partner: 'EU', key: 'K3' }] },
        dedupeKey: 'mid-conflict:EU:K1:M1',
        exchangeId: 'ex-1',
      },
    ]);
    expect(heldMids(found)).toEqual(new Set(['M1']));
  });

  it("another partner's operators linking the MID, even under the same key, are no conflict", () => {
    expect(midConflictFindings(['M1'], new Map([['M1', [{ partner: 'GB', key: 'K1' }, { partner: 'JP', key: 'J1' }]]]), who)).toEqual([]);
  });
});

describe('ctpat-member-inactive', () => {
  const ctpat = new Map([
    ['M1', { account: 'CT-1', status: 'SUSPENDED' }],
    ['M2', { account: 'CT-2', status: 'REMOVED' }],
    ['M3', { account: 'CT-3', status: 'CERTIFIED_VALIDATED' }],
  ]);

  it('a recognized operator whose MID belongs to a suspended or removed member', () => {
    const found = ctpatMemberInactiveFindings(recognized, ['M1', 'M2', 'M3', 'M4'], ctpat, who);
    expect(found.map((f) => [f.mid, f.detail])).toEqual([
      ['M1', { account: 'CT-1', status: 'SUSPENDED' }],
      ['M2', { account: 'CT-2', status: 'REMOVED' }],
    ]);
    expect(found[0]?.dedupeKey).toBe('ctpat-member-inactive:EU:K1:M1');
  });

  it.each(['suspended', 'revoked', 'withdrawn', 'out-of-scope'] as const)('nothing while %s', (state) => {
    expect(ctpatMemberInactiveFindings({ state, since: '2026-01-01', exchangeId: 'ex-0' }, ['M1'], ctpat, who)).toEqual([]);
  });
});

describe('revoked-reinstated', () => {
  const revoked = operator({ status: { code: 'revoked', effective: '2025-01-01' } });
  it.each<[string, Operator | undefined, Operator, boolean]>([
    ['revoked → active, same date', revoked, operator(), true],
    ['revoked → active, date absent', revoked, operator({ authorisation: { type: 'AEOS' } }), true],
    ['revoked → active, a new authorisation date', revoked, operator({ authorisation: { type: 'AEOS', grantedOn: '2026-06-01' } }), false],
    ['suspended → active', operator({ status: { code: 'suspended' } }), operator(), false],
    ['revoked → suspended', revoked, operator({ status: { code: 'suspended' } }), false],
    ['nothing held', undefined, operator(), false],
  ])('%s', (_, previous, record, found) => {
    expect(revokedReinstatedFindings(previous, record, who)).toHaveLength(found ? 1 : 0);
  });

  it('details both dates, null when absent', () => {
    const previous = operator({ authorisation: {}, status: { code: 'revoked' } });
    expect(revokedReinstatedFindings(previous, operator({ authorisation: {} }), who)).toEqual([
      {
        kind: 'revoked-reinstated',
        partner: 'EU',
        key: 'K1',
        detail: { previousGrantedOn: null, grantedOn: null },
        dedupeKey: 'revoked-reinstated:EU:K1:',
        exchangeId: 'ex-1',
      },
    ]);
  });
});

describe('record-rejected', () => {
  it('one per rejected record, by index, the key null when unreadable', () => {
    const issues = [{ pointer: '/records/3/eori', code: 'identifier', message: 'not an EORI' }];
    expect(
      recordRejectedFindings(
        [
          { index: 5, key: null, issues },
          { index: 3, key: 'K3', issues },
        ],
        'EU',
        'ex-1',
      ),
    ).toEqual([
      { kind: 'record-rejected', partner: 'EU', key: 'K3', detail: { index: 3, issues }, dedupeKey: 'record-rejected:EU:K3:', exchangeId: 'ex-1' },
      { kind: 'record-rejected', partner: 'EU', key: null, detail: { index: 5, issues }, dedupeKey: 'record-rejected:EU:#5:', exchangeId: 'ex-1' },
    ]);
  });
});

describe('what staff decided', () => {
  const records = [operator({ mids: [{ mid: 'DEA1' }, { mid: 'DEB2' }] }), operator({ key: 'K2', mids: [{ mid: 'DEA1' }] })];

  it('midConflictKeys names the mid-conflict each link of the batch would open', () => {
    expect(midConflictKeys('EU', records)).toEqual([
      ['DEA1', 'mid-conflict:EU:K1:DEA1'],
      ['DEB2', 'mid-conflict:EU:K1:DEB2'],
      ['DEA1', 'mid-conflict:EU:K2:DEA1'],
    ]);
  });

  it('a settled conflict no longer counts its MID as owned elsewhere; the owners given are left as they were', () => {
    const owners = new Map([
      ['DEA1', [{ partner: 'GB', key: 'G1' }]],
      ['DEB2', [{ partner: 'GB', key: 'G2' }]],
    ]);
    const left = withoutSettledConflicts(owners, midConflictKeys('EU', records), new Set(['mid-conflict:EU:K1:DEB2']));
    expect([...left.keys()]).toEqual(['DEA1']);
    expect(owners.size).toBe(2);
  });

  it('a finding staff already decided is not opened again', () => {
    const found = (dedupeKey: string): DiscrepancyFinding => ({ kind: 'mid-conflict', partner: 'EU', key: 'K1', detail: {}, dedupeKey, exchangeId: 'ex-1' });
    const findings = [found('a'), found('b')];
    expect(withoutDecidedFindings(findings, new Set(['a']))).toEqual([found('b')]);
    expect(findings).toHaveLength(2);
  });
});
