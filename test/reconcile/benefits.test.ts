import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { Operator } from '../../src/canonical/operator.ts';
import { buildMid } from '../../src/identifiers/mid.ts';
import { benefitDiff, currentMids, grantsFor } from '../../src/reconcile/benefits.ts';
import { midSourceOf } from '../../src/reconcile/mid-source.ts';
import type { BenefitGrant, Recognition } from '../../src/reconcile/model.ts';
import { testPartner } from '../support/partners.ts';

const partner = testPartner;

function operator(overrides: Partial<z.input<typeof Operator>> = {}): Operator {
  return Operator.parse({
    key: 'K1',
    identifier: { scheme: 'eori', value: 'DE123456' },
    name: { legal: 'Ozrock' },
    status: { code: 'active', effective: '2020-03-01' },
    ...overrides,
  });
}

const recognized: Recognition = { state: 'recognized', since: '2020-03-01', exchangeId: 'ex-1' };
const who = { partner: 'EU', key: 'K1', exchangeId: 'ex-2' };

describe('currentMids: links current at the asOf date', () => {
  const record = operator({
    mids: [
      { mid: 'DEOLD1', validFrom: '2010-01-01', validTo: '2019-12-31' }, // history
      { mid: 'DEEDGE1', validTo: '2026-11-27' }, // validTo is inclusive
      { mid: 'DEGONE1', validTo: '2026-11-26' },
      { mid: 'DEFROM1', validFrom: '2026-11-27' }, // validFrom is inclusive
      { mid: 'DEFUTURE1', validFrom: '2026-11-28' },
      { mid: 'DEOPEN1' },
      { mid: 'DEOLD1', validFrom: '2024-01-01' }, // re-linked after a gap: current once
    ],
  });

  it('keeps current links in record order, each once', () => {
    expect(currentMids(record, '2026-11-27')).toEqual(['DEEDGE1', 'DEFROM1', 'DEOPEN1', 'DEOLD1']);
  });

  it.each([
    ['2019-12-31', ['DEOLD1', 'DEEDGE1', 'DEGONE1', 'DEOPEN1']],
    ['2026-11-26', ['DEEDGE1', 'DEGONE1', 'DEOPEN1', 'DEOLD1']],
    ['2026-11-28', ['DEFROM1', 'DEFUTURE1', 'DEOPEN1', 'DEOLD1']],
  ])('at %s', (date, mids) => {
    expect(currentMids(record, date)).toEqual(mids);
  });

  it('no MIDs, none current', () => {
    expect(currentMids(operator(), '2026-11-27')).toEqual([]);
  });
});

describe('grantsFor', () => {
  const benefits = ['front-of-line', 'reduced-examinations'];

  it('grants every MID × benefit while recognized, since the recognition date, in (mid, benefit) order', () => {
    expect(grantsFor(recognized, ['M2', 'M1'], benefits, new Set())).toEqual([
      { mid: 'M1', benefit: 'front-of-line', since: '2020-03-01' },
      { mid: 'M1', benefit: 'reduced-examinations', since: '2020-03-01' },
      { mid: 'M2', benefit: 'front-of-line', since: '2020-03-01' },
      { mid: 'M2', benefit: 'reduced-examinations', since: '2020-03-01' },
    ]);
  });

  it.each(['suspended', 'revoked', 'withdrawn', 'out-of-scope'] as const)('grants nothing while %s', (state) => {
    expect(grantsFor({ state, since: '2026-01-01', exchangeId: 'ex-1' }, ['M1'], benefits, new Set())).toEqual([]);
  });

  it('grants nothing for a held MID', () => {
    expect(grantsFor(recognized, ['M1', 'M2'], ['front-of-line'], new Set(['M1']))).toEqual([
      { mid: 'M2', benefit: 'front-of-line', since: '2020-03-01' },
    ]);
  });

  it('grants nothing when the partner has no benefits', () => {
    expect(grantsFor(recognized, ['M1'], [], new Set())).toEqual([]);
  });
});

describe('benefitDiff', () => {
  const g = (mid: string, benefit: string, since = '2020-03-01'): BenefitGrant => ({ mid, benefit, since });

  it('a grant that appears starts on its since date, one that disappears ends on the end date', () => {
    expect(benefitDiff([g('M1', 'front-of-line')], [g('M2', 'front-of-line', '2026-11-27')], '2026-11-27', who)).toEqual([
      { mid: 'M1', partner: 'EU', key: 'K1', benefit: 'front-of-line', change: 'end', effective: '2026-11-27', exchangeId: 'ex-2' },
      { mid: 'M2', partner: 'EU', key: 'K1', benefit: 'front-of-line', change: 'start', effective: '2026-11-27', exchangeId: 'ex-2' },
    ]);
  });

  it('the same grants give nothing, in any order', () => {
    const grants = [g('M1', 'a'), g('M1', 'b'), g('M2', 'a')];
    expect(benefitDiff(grants, [...grants].reverse(), '2026-11-27', who)).toEqual([]);
  });

  it('a grant in force on both sides is no change, whatever its since', () => {
    expect(benefitDiff([g('M1', 'a', '2020-01-01')], [g('M1', 'a', '2021-01-01')], '2026-11-27', who)).toEqual([]);
  });

  it('orders by mid, benefit, change', () => {
    const out = benefitDiff([g('M2', 'b'), g('M1', 'b')], [g('M1', 'a'), g('M2', 'a')], '2026-11-27', who);
    expect(out.map((c) => `${c.mid}/${c.benefit}/${c.change}`)).toEqual(['M1/a/start', 'M1/b/end', 'M2/a/start', 'M2/b/end']);
  });

  it('applying the entries to the grants before gives the grants after', () => {
    const grant = fc.record({ mid: fc.constantFrom('M1', 'M2', 'M3'), benefit: fc.constantFrom('a', 'b'), since: fc.constant('2020-01-01') });
    fc.assert(
      fc.property(fc.array(grant), fc.array(grant), (before, after) => {
        const state = new Set(before.map((x) => `${x.mid}/${x.benefit}`));
        for (const c of benefitDiff(before, after, '2026-11-27', who)) {
          const id = `${c.mid}/${c.benefit}`;
          if (c.change === 'start') {
            expect(state.has(id)).toBe(false);
            state.add(id);
          } else {
            expect(state.has(id)).toBe(true);
            state.delete(id);
          }
        }
        expect([...state].sort()).toEqual([...new Set(after.map((x) => `${x.mid}/${x.benefit}`))].sort());
      }),
    );
  });
});

describe('midSourceOf', () => {
  it('takes the legal name, street, city and the address country', () => {
    const record = operator({
      name: { legal: 'Ozrock', local: 'オズロック', trading: 'Oz' },
      address: { street: '92 Alice Springs Road', city: 'Melbourne', country: 'AU', postalCode: '3000' },
    });
    expect(midSourceOf(record, partner('EU'))).toEqual({
      name: 'Ozrock',
      street: '92 Alice Springs Road',
      city: 'Melbourne',
      country: 'AU',
      region: undefined,
      fallbackCountry: 'DE',
    });
    expect(buildMid(midSourceOf(record, partner('EU')))).toBe('AUOZR92MEL');
  });

  it('EU without an address country: the EORI country', () => {
    const record = operator({ identifier: { scheme: 'eori', value: 'FR987654' }, address: { street: '7 rue X', city: 'Lyon' } });
    expect(buildMid(midSourceOf(record, partner('EU')))).toBe('FROZR7LYO');
  });

  it.each(['GB', 'JP', 'KR', 'MX'])('%s without an address country: the partner id', (id) => {
    const record = operator({ identifier: { scheme: 'other', value: '1' }, address: { street: '12 Road', city: 'Town' } });
    expect(buildMid(midSourceOf(record, partner(id)))).toBe(`${id}OZR12TOW`);
  });

  it('CA: the province code from the region', () => {
    const record = operator({
      identifier: { scheme: 'ca-program-account', value: '123456782RM0001' },
      name: { legal: 'Érablière Laurentienne Ltée' },
      address: { street: '4500 Steeles Ave W', city: 'Toronto', region: 'ON' },
    });
    expect(buildMid(midSourceOf(record, partner('CA')))).toBe('XOERALAU4500TOR');
  });

  it('MX: Calle + NumeroExterior is the street line', () => {
    const record = operator({
      identifier: { scheme: 'mx-rfc', value: 'ABC010101AB1' },
      name: { legal: 'Aceros del Norte' },
      address: { street: 'Avenida Reforma', number: '1500', district: 'Centro 22', city: 'Monterrey', region: 'NL', postalCode: '64000' },
    });
    expect(midSourceOf(record, partner('MX')).street).toBe('Avenida Reforma 1500');
    expect(buildMid(midSourceOf(record, partner('MX')))).toBe('MXACEDEL1500MON');
  });

  it('no address: name and the partner country only', () => {
    expect(buildMid(midSourceOf(operator({ identifier: { scheme: 'jp-corp', value: '1' } }), partner('JP')))).toBe('JPOZR');
  });
});
