import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { Operator } from '../../src/canonical/operator.ts';
import { asOfDateOf, recognitionOf } from '../../src/reconcile/recognition.ts';
import { testPartner } from '../support/partners.ts';

const partner = testPartner;

function operator(overrides: Partial<z.input<typeof Operator>> = {}): Operator {
  return Operator.parse({
    key: 'DEAEOS1234',
    identifier: { scheme: 'eori', value: 'DE123456' },
    authorisation: { type: 'AEOS' },
    name: { legal: 'Ozrock' },
    status: { code: 'active', effective: '2020-03-01' },
    consent: { given: true },
    ...overrides,
  });
}

const eu = partner('EU', { inForceFrom: '2012-07-01', scope: ['AEOS', 'AEOF'], benefits: ['front-of-line'] });
const ASOF = '2026-11-27';

describe('asOfDateOf: the UTC calendar date of the batch instant', () => {
  it.each([
    ['2026-11-27T01:30:00Z', '2026-11-27'],
    ['2026-11-27T00:00:00+09:00', '2026-11-26'], // KR midnight is the previous UTC day
    ['2026-11-27T09:00:00+09:00', '2026-11-27'],
    ['2026-11-27T18:00:00-06:00', '2026-11-28'], // MX evening is the next UTC day
    ['2026-11-27T17:59:59.999-06:00', '2026-11-27'],
    ['2026-12-31T22:00:00-05:00', '2027-01-01'],
    ['2024-02-28T23:00:00-02:00', '2024-02-29'],
    ['2025-03-01T00:30:00+01:00', '2025-02-28'],
    ['2016-12-31T23:59:60Z', '2016-12-31'], // a leap second stays on its day
    ['2026-11-27T12:00:00.5+00:00', '2026-11-27'],
  ])('%s → %s', (asOf, date) => {
    expect(asOfDateOf(asOf)).toBe(date);
  });

  it('rejects what is not an RFC 3339 instant with an offset', () => {
    expect(() => asOfDateOf('2026-11-27T01:30:00')).toThrow();
    expect(() => asOfDateOf('2026-11-27')).toThrow();
  });

  it('agrees with Date for every instant and offset', () => {
    const instant = fc.date({ min: new Date('1970-01-02T00:00:00Z'), max: new Date('2999-12-30T00:00:00Z'), noInvalidDate: true });
    const offsetMinutes = fc.integer({ min: -23 * 60 - 59, max: 23 * 60 + 59 });
    fc.assert(
      fc.property(instant, offsetMinutes, (d, offset) => {
        const local = new Date(d.getTime() + offset * 60_000).toISOString().slice(0, 19);
        const abs = Math.abs(offset);
        const suffix = `${offset < 0 ? '-' : '+'}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
        const utcDate = new Date(Math.floor(d.getTime() / 1000) * 1000).toISOString().slice(0, 10);
        expect(asOfDateOf(local + suffix)).toBe(utcDate);
      }),
    );
  });
});

describe('recognitionOf: each state (PROTOCOL.md §5)', () => {
  it.each<[string, Partial<z.input<typeof Operator>>, boolean, string, string, { reason: string; since: string } | undefined]>([
    ['active → recognized since the status date', {}, false, 'recognized', '2020-03-01', undefined],
    ['active without a date → recognized since the asOf date', { status: { code: 'active' } }, false, 'recognized', ASOF, undefined],
    ['suspended', { status: { code: 'suspended', effective: '2026-10-01' } }, false, 'suspended', '2026-10-01', undefined],
    ['revoked', { status: { code: 'revoked', effective: '2026-09-01' } }, false, 'revoked', '2026-09-01', undefined],
    ['revoked without a date', { status: { code: 'revoked' } }, false, 'revoked', ASOF, undefined],
    ['applicant is treated as suspended', { status: { code: 'applicant', effective: '2026-01-05' } }, false, 'suspended', '2026-01-05', undefined],
    [
      'consent withdrawn with a date',
      { consent: { given: false, withdrawnOn: '2026-11-20' } },
      false,
      'withdrawn',
      '2026-11-20',
      { reason: 'consent', since: '2026-11-20' },
    ],
    ['consent withdrawn without a date → the asOf date', { consent: { given: false } }, false, 'withdrawn', ASOF, { reason: 'consent', since: ASOF }],
    ['omitted by a SNAPSHOT', {}, true, 'withdrawn', ASOF, { reason: 'snapshot-omission', since: ASOF }],
    ['no consent member (JP, KR, CA): shared operators consent', { consent: undefined }, false, 'recognized', '2020-03-01', undefined],
  ])('%s', (_, overrides, omitted, state, since, withdrawn) => {
    const verdict = recognitionOf(operator(overrides), eu, ASOF, omitted, 'ex-1');
    expect(verdict.recognition).toEqual({ state, since, exchangeId: 'ex-1' });
    expect(verdict.withdrawn).toEqual(withdrawn);
  });
});

describe('recognitionOf: the first state that applies wins', () => {
  it.each<[string, Partial<z.input<typeof Operator>>, boolean, string, string]>([
    ['out of scope beats withdrawn by consent', { authorisation: { type: 'AEOC' }, consent: { given: false } }, false, 'out-of-scope', '2020-03-01'],
    ['out of scope beats omission', { authorisation: { type: 'AEOC' } }, true, 'out-of-scope', '2020-03-01'],
    ['out of scope beats revoked', { authorisation: { type: 'AEOC' }, status: { code: 'revoked', effective: '2025-01-01' } }, false, 'out-of-scope', '2025-01-01'],
    ['withdrawn by consent beats revoked', { consent: { given: false, withdrawnOn: '2026-01-01' }, status: { code: 'revoked', effective: '2025-01-01' } }, false, 'withdrawn', '2026-01-01'],
    ['omission beats suspended', { status: { code: 'suspended', effective: '2025-01-01' } }, true, 'withdrawn', ASOF],
    ['consent ranks before omission', { consent: { given: false, withdrawnOn: '2026-02-02' } }, true, 'withdrawn', '2026-02-02'],
  ])('%s', (_, overrides, omitted, state, since) => {
    expect(recognitionOf(operator(overrides), eu, ASOF, omitted, 'ex-1').recognition).toMatchObject({ state, since });
  });

  it('keeps the withdrawal beside an out-of-scope recognition (the operator is withdrawn all the same)', () => {
    const verdict = recognitionOf(operator({ authorisation: { type: 'AEOC' }, consent: { given: false } }), eu, ASOF, false, 'ex-1');
    expect(verdict.withdrawn).toEqual({ reason: 'consent', since: ASOF });
  });

  it('consent is the reason when a consent-withdrawn operator is also omitted', () => {
    expect(recognitionOf(operator({ consent: { given: false } }), eu, ASOF, true, 'ex-1').withdrawn?.reason).toBe('consent');
  });
});

describe('recognitionOf: scope', () => {
  it.each([
    ['AEOS', 'recognized'],
    ['AEOF', 'recognized'],
    ['AEOC', 'out-of-scope'],
  ])('EU %s with the scope [AEOS, AEOF] → %s', (type, state) => {
    expect(recognitionOf(operator({ authorisation: { type } }), eu, ASOF, false, 'ex-1').recognition.state).toBe(state);
  });

  it('an out-of-scope record is so since its status date', () => {
    expect(recognitionOf(operator({ authorisation: { type: 'AEOC' } }), eu, ASOF, false, 'ex-1').recognition.since).toBe('2020-03-01');
  });

  it.each<[string[] | undefined, { type?: string; category?: string }, string]>([
    [['EXPORTER'], { category: 'EXPORTER' }, 'recognized'],
    [['EXPORTER'], { category: 'IMPORTER' }, 'out-of-scope'],
    [['EXPORTER'], {}, 'out-of-scope'],
    [['AEOS', 'EXPORTER'], { type: 'AEOC', category: 'EXPORTER' }, 'recognized'], // either matches
    [undefined, { type: 'AEOC' }, 'recognized'], // no scope: everything
    [undefined, {}, 'recognized'],
    [[], { type: 'AEOS' }, 'out-of-scope'], // an empty scope recognizes nothing
  ])('scope %j, authorisation %j → %s', (scope, authorisation, state) => {
    const p = partner('JP', scope === undefined ? {} : { scope });
    expect(recognitionOf(operator({ authorisation }), p, ASOF, false, 'ex-1').recognition.state).toBe(state);
  });
});

describe('recognitionOf: the MRA in-force window', () => {
  const windowed = partner('KR', { inForceFrom: '2012-07-01', inForceUntil: '2030-12-31' });
  it.each([
    ['2012-06-30', 'out-of-scope'],
    ['2012-07-01', 'recognized'], // from is inclusive
    ['2030-12-31', 'recognized'], // until is inclusive
    ['2031-01-01', 'out-of-scope'],
  ])('asOf %s → %s', (asOfDate, state) => {
    const verdict = recognitionOf(operator({ authorisation: {} }), windowed, asOfDate, false, 'ex-1');
    expect(verdict.recognition.state).toBe(state);
    // Not in force: since the asOf date, whatever the status date.
    if (state === 'out-of-scope') expect(verdict.recognition.since).toBe(asOfDate);
  });

  it('absent bounds do not limit', () => {
    const open = partner('KR', { inForceUntil: null });
    expect(recognitionOf(operator({ authorisation: {} }), open, '1990-01-01', false, 'ex-1').recognition.state).toBe('recognized');
    expect(recognitionOf(operator({ authorisation: {} }), open, '2999-01-01', false, 'ex-1').recognition.state).toBe('recognized');
  });

  it('not in force beats withdrawn and revoked', () => {
    const record = operator({ authorisation: {}, consent: { given: false }, status: { code: 'revoked', effective: '2010-01-01' } });
    expect(recognitionOf(record, windowed, '2012-01-01', false, 'ex-1').recognition).toEqual({
      state: 'out-of-scope',
      since: '2012-01-01',
      exchangeId: 'ex-1',
    });
  });
});
