/** Status answers judge the MRA and its scope as the registry says today (PROTOCOL §5). */
import { describe, expect, it } from 'vitest';
import type { HeldOperator } from '../../src/reconcile/model.ts';
import { testPartner } from '../support/partners.ts';
import { asOfToday } from '../../src/status/as-of-today.ts';

const partner = (mra: object) => testPartner('EU', { benefits: ['front-of-line'], ...mra });
const held = {
  partner: 'EU', key: 'DEAEOS1', record: { authorisation: { type: 'AEOS' } }, recognition: { state: 'recognized', since: '2020-01-01', exchangeId: 'x' },
  benefits: [{ mid: 'DEX1', benefit: 'front-of-line', since: '2020-01-01' }], currentMids: ['DEX1'], lastExchangeId: 'x', lastSequence: 1,
} as unknown as HeldOperator;

describe('a recognition as of today', () => {
  it('stays as held while the MRA is in force and the record in scope', () => {
    expect(asOfToday(held, partner({ scope: ['AEOS'] }), '2026-11-28')).toBe(held);
  });

  it('is out of scope, with no benefits, from the day after the MRA ended', () => {
    expect(asOfToday(held, partner({ inForceUntil: '2026-06-30' }), '2026-11-28')).toMatchObject({ recognition: { state: 'out-of-scope', since: '2026-07-01' }, benefits: [] });
  });

  it('is out of scope, with no benefits, once the scope no longer holds its type', () => {
    expect(asOfToday(held, partner({ scope: ['AEOF'] }), '2026-11-28')).toMatchObject({ recognition: { state: 'out-of-scope', since: '2026-11-28' }, benefits: [] });
  });
});
