/** The pure comparison of one C-TPAT import with the one before it, and the sendable-abroad rule. */
import { describe, expect, it } from 'vitest';
import type { Operator } from '../../src/canonical/operator.ts';
import { changedFields, planImport, previousRecordsNeeded, type HeldMember } from '../../src/staff/ctpat-changes.ts';
import { canonicalJson, importedMember, memberDigest } from '../../src/staff/ctpat-member.ts';
import { isSendableAbroad, notSendableAbroadReasons } from '../../src/staff/sendable-abroad.ts';

const member = (account: string, over: Partial<Operator> = {}): Operator => ({
  key: account,
  identifier: { scheme: 'ctpat', value: account },
  authorisation: { category: 'EXPORTER', level: 'CERTIFIED' },
  name: { legal: `${account} LLC` },
  address: { street: '1 Main St', city: 'Toledo', region: 'OH', postalCode: '43604', country: 'US' },
  status: { code: 'active', effective: '2024-01-01' },
  consent: { given: true },
  mids: [{ mid: 'USACM1TOL' }],
  ...over,
});

const heldOf = (records: Operator[]): Map<string, HeldMember> => new Map(records.map((r) => { const m = importedMember(r); return [m.account, { status: m.status, consent: m.consent, digest: m.digest }]; }));

describe('canonical values', () => {
  it('the digest ignores key order and the order of MIDs, and sees any value change', () => {
    const a = member('CT-1', { mids: [{ mid: 'USA1' }, { mid: 'USB2' }] });
    const reordered = JSON.parse(JSON.stringify({ status: a.status, mids: [{ mid: 'USB2' }, { mid: 'USA1' }], name: a.name, key: a.key, identifier: a.identifier, authorisation: { level: 'CERTIFIED', category: 'EXPORTER' }, consent: a.consent, address: { country: 'US', postalCode: '43604', region: 'OH', city: 'Toledo', street: '1 Main St' } })) as Operator;
    expect(memberDigest(reordered)).toBe(memberDigest(a));
    expect(memberDigest(member('CT-1', { name: { legal: 'CT-1 LLC ' } }))).not.toBe(memberDigest(member('CT-1')));
    expect(canonicalJson({ b: 1, a: [{ d: 2, c: undefined }] })).toBe('{"a":[{"d":2}],"b":1}');
  });

  it('names each changed field in the export\'s words', () => {
    const before = member('CT-1');
    expect(changedFields(before, member('CT-1', { status: { code: 'suspended', effective: '2024-01-01' } }))).toEqual(['status']);
    expect(changedFields(before, member('CT-1', { status: { code: 'active', effective: '2025-01-01' } }))).toEqual(['statusDate']);
    expect(changedFields(before, member('CT-1', { authorisation: { category: 'EXPORTER', level: 'TIER3' } }))).toEqual(['status']);
    expect(changedFields(before, member('CT-1', { name: { legal: 'Other' }, address: { city: 'Erie' } }))).toEqual(['name', 'address']);
    expect(changedFields(before, member('CT-1', { mids: [{ mid: 'USNEW1' }] }))).toEqual(['mids']);
    expect(changedFields(before, member('CT-1', { authorisation: { category: 'IMPORTER', level: 'CERTIFIED' } }))).toEqual(['businessType']);
    expect(changedFields(before, member('CT-1', { consent: { given: false } }))).toEqual(['consent']);
    expect(changedFields(before, member('CT-1', { carrier: { code: 'ABCD' } }))).toEqual(['scac']);
    expect(changedFields(before, member('CT-1', { status: { code: 'active', effective: '2024-01-01', history: [] } }))).toEqual(['other']);
  });
});

describe('planImport', () => {
  const before = [member('CT-1'), member('CT-2'), member('CT-3'), member('CT-4'), member('CT-5'), member('CT-6', { status: { code: 'revoked', effective: '2020-01-01' } })];
  const held = heldOf(before);
  const records = new Map(before.map((r) => [r.key, r]));

  it('reports new, changed, no longer sendable and removed members, and writes only those', () => {
    const incoming = [member('CT-1'), member('CT-2', { name: { legal: 'Renamed' } }), member('CT-3', { consent: { given: false } }), member('CT-4', { status: { code: 'applicant' } }), member('CT-9')].map(importedMember);
    const present = new Set([...incoming.map((m) => m.account)]);
    expect(previousRecordsNeeded(held, incoming, present).sort()).toEqual(['CT-2', 'CT-3', 'CT-4', 'CT-5']);
    const { changes, writes } = planImport({ held, previousRecords: records, incoming, present, date: '2026-11-30' });
    expect(changes).toEqual({
      added: ['CT-9'],
      changed: [{ account: 'CT-2', fields: ['name'] }, { account: 'CT-3', fields: ['consent'] }, { account: 'CT-4', fields: ['status', 'statusDate'] }],
      noLongerSendable: [{ account: 'CT-3', reasons: ['consent-withdrawn'] }, { account: 'CT-4', reasons: ['back-to-applicant'] }],
      removed: ['CT-5'],
      unchanged: 1,
    });
    expect(writes.map((w) => w.account).sort()).toEqual(['CT-2', 'CT-3', 'CT-4', 'CT-5', 'CT-9']);
    expect(writes.find((w) => w.account === 'CT-5')).toMatchObject({ status: 'REMOVED', record: { status: { code: 'revoked', effective: '2026-11-30' } } });
  });

  it('a member named only on a rejected line is not removed; one already REMOVED is not removed again', () => {
    const { changes } = planImport({ held, previousRecords: records, incoming: before.slice(0, 4).map(importedMember), present: new Set(['CT-1', 'CT-2', 'CT-3', 'CT-4', 'CT-5']), date: '2026-11-30' });
    expect(changes).toEqual({ added: [], changed: [], noLongerSendable: [], removed: [], unchanged: 4 });
  });

  it('a member saved before digests were kept is compared by its record and written once to store its digest', () => {
    const legacy = new Map([['CT-1', { status: 'CERTIFIED', consent: true, digest: null }]]);
    const incoming = [importedMember(member('CT-1'))];
    expect(previousRecordsNeeded(legacy, incoming, new Set(['CT-1']))).toEqual(['CT-1']);
    const { changes, writes } = planImport({ held: legacy, previousRecords: records, incoming, present: new Set(['CT-1']), date: '2026-11-30' });
    expect(changes.unchanged).toBe(1);
    expect(writes).toHaveLength(1);
  });
});

describe('isSendableAbroad', () => {
  it('needs consent and a status other than APPLICANT; a REMOVED member is still sent (as revoked)', () => {
    expect(isSendableAbroad({ status: 'CERTIFIED', consent: true })).toBe(true);
    expect(isSendableAbroad({ status: 'REMOVED', consent: true })).toBe(true);
    expect(notSendableAbroadReasons({ status: 'APPLICANT', consent: false })).toEqual(['no-consent', 'applicant']);
    expect(isSendableAbroad({ status: 'TIER3', consent: false })).toBe(false);
  });
});
