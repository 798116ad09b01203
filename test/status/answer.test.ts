/** The PROTOCOL §5 disclosure rules, one test each: who is told what about a subject. */
import { describe, expect, it } from 'vitest';
import { answerForCtpat, answerForMid, answerForRecords } from '../../src/status/answer.ts';
import type { Caller } from '../../src/status/lookup.ts';
import { ctpatMember, record } from './records.ts';

const GW = 'US-CBP-TEST';
const anonymous: Caller = { kind: 'anonymous' };
const staff: Caller = { kind: 'staff', subject: 'officer-1' };
const eu: Caller = { kind: 'partner', partner: 'EU' };
const gb: Caller = { kind: 'partner', partner: 'GB' };
const subject = { scheme: 'eu-aeo', id: 'DEAEOF0000000001' };

describe('answerForRecords', () => {
  it('tells an anonymous caller exactly sub, programme, status, statusEffective and recognitions', () => {
    const answer = answerForRecords(subject, [record()], anonymous, GW);
    expect(answer?.claims).toStrictEqual({
      sub: 'eu-aeo:DEAEOF0000000001',
      programme: 'EU-AEO',
      status: 'active',
      statusEffective: '2020-01-01',
      recognitions: [{ authority: GW, state: 'recognized', since: '2020-02-01' }],
    });
  });

  it('gives the body subject the same members as the claims', () => {
    for (const caller of [anonymous, staff, eu]) {
      const answer = answerForRecords(subject, [record()], caller, GW)!;
      expect(answer.subject).toStrictEqual(answer.claims);
      expect(answer.subject).not.toBe(answer.claims);
    }
  });

  it('adds name, address, mids and benefits for staff', () => {
    const answer = answerForRecords(subject, [record({ benefits: [['DEMULLER12BER', 'reduced-examinations'], ['DEMULLER12BER', 'front-of-line'], ['DEMULLERBER', 'reduced-examinations']] })], staff, GW);
    expect(answer?.claims).toStrictEqual({
      sub: 'eu-aeo:DEAEOF0000000001',
      programme: 'EU-AEO',
      status: 'active',
      statusEffective: '2020-01-01',
      name: 'Müller Logistik GmbH',
      address: { street: 'Hauptstraße 12', city: 'Berlin', postalCode: '10115', country: 'DE' },
      mids: ['DEMULLER12BER'],
      recognitions: [{ authority: GW, state: 'recognized', since: '2020-02-01', benefits: ['front-of-line', 'reduced-examinations'] }],
    });
  });

  it('adds the same details for the partner that supplied the operator', () => {
    expect(answerForRecords(subject, [record()], eu, GW)).toStrictEqual(answerForRecords(subject, [record()], staff, GW));
  });

  it('leaves address out when the record has none, and shows an empty benefit list as such', () => {
    const answer = answerForRecords(subject, [record({ address: false, benefits: [] })], eu, GW);
    expect(answer?.claims).not.toHaveProperty('address');
    expect(answer?.claims['recognitions']).toStrictEqual([{ authority: GW, state: 'recognized', since: '2020-02-01', benefits: [] }]);
  });

  it('tells another partner only what anyone is told', () => {
    expect(answerForRecords(subject, [record()], gb, GW)).toStrictEqual(answerForRecords(subject, [record()], anonymous, GW));
  });

  it('answers an operator without consent to staff only', () => {
    const held = [record({ consent: false })];
    for (const caller of [anonymous, eu, gb]) expect(answerForRecords(subject, held, caller, GW)).toBeUndefined();
    expect(answerForRecords(subject, held, staff, GW)?.claims).toMatchObject({ sub: 'eu-aeo:DEAEOF0000000001', name: 'Müller Logistik GmbH' });
  });

  it('answers a consent-withdrawn operator to staff only, as withdrawn', () => {
    const held = [record({ consent: undefined, withdrawn: { reason: 'consent', since: '2026-03-01' }, recognition: { state: 'withdrawn', since: '2026-03-01' } })];
    for (const caller of [anonymous, eu, gb]) expect(answerForRecords(subject, held, caller, GW)).toBeUndefined();
    expect(answerForRecords(subject, held, staff, GW)?.claims).toMatchObject({ status: 'withdrawn', statusEffective: '2026-03-01' });
  });

  it('answers an operator a SNAPSHOT omitted to anyone, status withdrawn since the SNAPSHOT date', () => {
    const held = [record({ consent: true, withdrawn: { reason: 'snapshot-omission', since: '2026-11-27' }, recognition: { state: 'withdrawn', since: '2026-11-27' } })];
    expect(answerForRecords(subject, held, anonymous, GW)?.claims).toStrictEqual({
      sub: 'eu-aeo:DEAEOF0000000001',
      programme: 'EU-AEO',
      status: 'withdrawn',
      statusEffective: '2026-11-27',
      recognitions: [{ authority: GW, state: 'withdrawn', since: '2026-11-27' }],
    });
  });

  it('answers a suspended or revoked operator with its canonical status and date', () => {
    const held = [record({ status: 'suspended', effective: '2025-05-05', recognition: { state: 'suspended', since: '2025-05-05' } })];
    expect(answerForRecords(subject, held, anonymous, GW)?.claims).toMatchObject({ status: 'suspended', statusEffective: '2025-05-05', recognitions: [{ state: 'suspended' }] });
  });

  it('is a 404 when nothing is held', () => {
    expect(answerForRecords(subject, [], staff, GW)).toBeUndefined();
  });

  describe('one identifier, several records', () => {
    const eori = { scheme: 'eori', id: 'DE1234567890123' };
    const aeoc = record({ key: 'DEAEOC0000000007', type: 'AEOC', effective: '2018-01-01', recognition: { state: 'out-of-scope', since: '2018-01-01' }, benefits: [] });
    const aeos = record({ key: 'DEAEOS0000000009', type: 'AEOS', status: 'suspended', effective: '2024-04-04', recognition: { state: 'suspended', since: '2024-04-04' } });
    const gbRecord = record({ partner: 'GB', key: 'GBAEOS1234/19', effective: '2019-09-02', recognition: { state: 'revoked', since: '2021-01-01' }, mids: ['GBTHAVAL45REA'], benefits: [] });

    it('takes programme, status and statusEffective from the best-ranked recognition, one recognition per record with its record', () => {
      const answer = answerForRecords(eori, [aeoc, gbRecord, aeos], anonymous, GW);
      expect(answer?.claims).toStrictEqual({
        sub: 'eori:DE1234567890123',
        programme: 'EU-AEO',
        status: 'suspended',
        statusEffective: '2024-04-04',
        recognitions: [
          { authority: GW, state: 'suspended', since: '2024-04-04', record: 'eu-aeo:DEAEOS0000000009' },
          { authority: GW, state: 'revoked', since: '2021-01-01', record: 'gb-aeo:GBAEOS1234/19' },
          { authority: GW, state: 'out-of-scope', since: '2018-01-01', record: 'eu-aeo:DEAEOC0000000007' },
        ],
      });
    });

    it('ranks recognized first, then suspended, revoked, withdrawn, out-of-scope', () => {
      const states = ['out-of-scope', 'withdrawn', 'revoked', 'suspended', 'recognized'] as const;
      const held = states.map((state, i) => record({ key: `DEAEOS${i}`, recognition: { state }, ...(state === 'withdrawn' && { withdrawn: { reason: 'snapshot-omission' as const, since: '2026-01-01' } }) }));
      const answer = answerForRecords(eori, held, anonymous, GW);
      expect((answer?.claims['recognitions'] as { state: string }[]).map((r) => r.state)).toEqual([...states].reverse());
      expect(answer?.claims['status']).toBe('active');
    });

    it('shows benefits, name and MIDs only of the records the partner supplied', () => {
      const answer = answerForRecords(eori, [aeos, gbRecord], gb, GW)!;
      expect(answer.claims).toMatchObject({ programme: 'EU-AEO', name: 'Müller Logistik GmbH', mids: ['GBTHAVAL45REA'] });
      expect(answer.claims['recognitions']).toStrictEqual([
        { authority: GW, state: 'suspended', since: '2024-04-04', record: 'eu-aeo:DEAEOS0000000009' },
        { authority: GW, state: 'revoked', since: '2021-01-01', record: 'gb-aeo:GBAEOS1234/19', benefits: [] },
      ]);
    });

    it('drops the records without consent for everyone but staff, and is a 404 when none is left', () => {
      const hidden = record({ key: 'DEAEOF0000000003', consent: false });
      const visible = answerForRecords(eori, [hidden, aeos], anonymous, GW)!;
      // One record left: nothing tells that another was hidden.
      expect(visible.claims['recognitions']).toStrictEqual([{ authority: GW, state: 'suspended', since: '2024-04-04' }]);
      expect((answerForRecords(eori, [hidden, aeos], staff, GW)!.claims['recognitions'] as unknown[]).length).toBe(2);
      expect(answerForRecords(eori, [hidden, record({ key: 'DEAEOF0000000004', withdrawn: { reason: 'consent', since: '2026-01-01' } })], gb, GW)).toBeUndefined();
    });
  });
});

describe('answerForMid', () => {
  const mid = 'DEMULLER12BER';
  const own = record({ benefits: [[mid, 'reduced-examinations'], ['DEOTHER1BER', 'front-of-line']], mids: [mid, 'DEOTHER1BER'] });
  const other = record({ partner: 'MX', key: 'OEA-1', status: 'suspended', effective: '2025-01-01', recognition: { state: 'suspended', since: '2025-01-01' }, benefits: [[mid, 'risk-score-reduction']], mids: [mid] });

  it('is a 404 to an anonymous caller', () => {
    expect(answerForMid(mid, [own], anonymous, GW)).toBeUndefined();
  });

  it('lists every linked operator with its record, benefits (of this MID) only for the partner\'s own', () => {
    const answer = answerForMid(mid, [other, own], eu, GW)!;
    expect(answer.claims).toMatchObject({ sub: `mid:${mid}`, programme: 'EU-AEO', status: 'active', statusEffective: '2020-01-01' });
    expect(answer.claims['recognitions']).toStrictEqual([
      { authority: GW, state: 'recognized', since: '2020-02-01', record: 'eu-aeo:DEAEOF0000000001', benefits: ['reduced-examinations'] },
      { authority: GW, state: 'suspended', since: '2025-01-01', record: 'mx-oea:OEA-1' },
    ]);
  });

  it('gives a record even when one operator is linked', () => {
    expect(answerForMid(mid, [other], gb, GW)?.claims['recognitions']).toStrictEqual([{ authority: GW, state: 'suspended', since: '2025-01-01', record: 'mx-oea:OEA-1' }]);
  });

  it('shows staff the benefits of every linked operator', () => {
    const recognitions = answerForMid(mid, [other, own], staff, GW)!.claims['recognitions'] as { benefits?: string[] }[];
    expect(recognitions.map((r) => r.benefits)).toEqual([['reduced-examinations'], ['risk-score-reduction']]);
  });

  it('leaves out operators without consent, except for staff', () => {
    const hidden = record({ partner: 'GB', key: 'GBAEOS1/1', consent: false, mids: [mid] });
    expect((answerForMid(mid, [hidden, other], eu, GW)!.claims['recognitions'] as unknown[]).length).toBe(1);
    expect(answerForMid(mid, [hidden], gb, GW)).toBeUndefined();
    expect((answerForMid(mid, [hidden, other], staff, GW)!.claims['recognitions'] as unknown[]).length).toBe(2);
  });

  it('is a 404 when no operator links the MID', () => {
    expect(answerForMid(mid, [], staff, GW)).toBeUndefined();
  });
});

describe('answerForCtpat', () => {
  it('tells anyone the status, mapped, and each partner that holds the member', () => {
    const member = ctpatMember({ heldBy: [{ partner: 'JP', state: 'suspended', since: '2024-02-02' }, { partner: 'EU', state: 'recognized', since: '2023-01-05' }] });
    expect(answerForCtpat(member, anonymous)?.claims).toStrictEqual({
      sub: 'ctpat:CT-0012345',
      programme: 'C-TPAT',
      status: 'active',
      statusEffective: '2022-10-18',
      recognitions: [
        { authority: 'EU', state: 'recognized', since: '2023-01-05' },
        { authority: 'JP', state: 'suspended', since: '2024-02-02' },
      ],
    });
  });

  it('maps CERTIFIED, CERTIFIED_VALIDATED and TIER3 to active, SUSPENDED to suspended, REMOVED to revoked', () => {
    const cases = { CERTIFIED: 'active', CERTIFIED_VALIDATED: 'active', TIER3: 'active', SUSPENDED: 'suspended', REMOVED: 'revoked' };
    for (const [code, status] of Object.entries(cases)) expect(answerForCtpat(ctpatMember({ status: code }), anonymous)?.claims['status']).toBe(status);
  });

  it('is a 404 for an applicant, except to staff', () => {
    const applicant = ctpatMember({ status: 'APPLICANT', heldBy: [] });
    expect(answerForCtpat(applicant, anonymous)).toBeUndefined();
    expect(answerForCtpat(applicant, eu)).toBeUndefined();
    expect(answerForCtpat(applicant, staff)?.claims['status']).toBe('applicant');
  });

  it('is a 404 for a member without consent, except to staff', () => {
    const member = ctpatMember({ consent: false });
    expect(answerForCtpat(member, anonymous)).toBeUndefined();
    expect(answerForCtpat(member, eu)).toBeUndefined();
    expect(answerForCtpat(member, staff)?.claims['status']).toBe('active');
  });

  it('adds name, address and mids for staff only', () => {
    expect(answerForCtpat(ctpatMember(), eu)?.claims).not.toHaveProperty('name');
    expect(answerForCtpat(ctpatMember({ mids: ['USGRELAK1200TOL'] }), staff)?.claims).toMatchObject({
      name: 'Great Lakes Outdoor Supply LLC',
      address: { city: 'Toledo' },
      mids: ['USGRELAK1200TOL'],
    });
  });

  it('says null for an unknown status date, and is a 404 for an unknown member', () => {
    expect(answerForCtpat(ctpatMember({ statusDate: undefined }), anonymous)?.claims['statusEffective']).toBeNull();
    expect(answerForCtpat(undefined, staff)).toBeUndefined();
  });
});
