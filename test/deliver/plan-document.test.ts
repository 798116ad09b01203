/** The next outbound document to a partner, planned from the members and what the partner was told (FORMATS.md "Outbound"). */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Operator } from '../../src/canonical/operator.ts';
import { planDocument, type CarriedMember, type SentMember } from '../../src/deliver/plan-document.ts';
import { loadFormats } from '../../src/translate/load-mappings.ts';
import { readDocument } from '../../src/translate/read-document.ts';

const formats = loadFormats();
const sample = readDocument(formats.get('ctpat')!, readFileSync(new URL('../../fixtures/ctpat/sample/input.ndjson', import.meta.url))).batch.records;
const byAccount = (records: readonly Operator[]) => new Map(records.map((m) => [m.key, m]));
const options = (kind: 'SNAPSHOT' | 'DELTA', sequence = 1, businessTypes?: string[]) => ({ gatewayId: 'US-CBP-TEST', partnerId: 'JP', kind, sequence, batchId: `B${sequence}`, asOf: '2026-11-30T02:00:00Z', today: '2026-11-30', businessTypes });
const told = (carried: readonly CarriedMember[]): Map<string, SentMember> => new Map(carried.map((c) => [c.account, { digest: c.digest, withdrawn: c.as === 'withdrawn' }]));
const with_ = (account: string, patch: (m: Operator) => void) => sample.map((m) => (m.key === account ? (patch((m = structuredClone(m))), m) : m));

describe('planning an outbound document', () => {
  it('a first SNAPSHOT carries every eligible member, as valid or not', () => {
    const plan = planDocument(formats.get('jp-aeo')!, byAccount(sample), new Map(), options('SNAPSHOT'))!;
    expect(plan.document!.carried.map((c) => [c.account, c.as])).toEqual([
      ['CT-0012345', 'valid'],
      ['CT-0020001', 'valid'],
      ['CT-0030003', 'not-valid'],
    ]);
    expect(readDocument(formats.get('jp-aeo')!, Buffer.from(plan.document!.text)).batch.envelope).toMatchObject({ sender: 'US-CBP-TEST', sequence: 1, kind: 'SNAPSHOT', count: 3 });
  });

  it('a DELTA after it carries nothing when nothing changed, whatever the key order of records read back from jsonb', () => {
    const first = planDocument(formats.get('jp-aeo')!, byAccount(sample), new Map(), options('SNAPSHOT'))!;
    const reordered = sample.map((m) => JSON.parse(JSON.stringify(Object.fromEntries(Object.entries(m).reverse()))) as Operator);
    expect(planDocument(formats.get('jp-aeo')!, byAccount(reordered), told(first.document!.carried), options('DELTA', 2))).toBeUndefined();
  });

  it('a DELTA carries what changed, then the withdrawals, dated today, as the last records', () => {
    const first = planDocument(formats.get('jp-aeo')!, byAccount(sample), new Map(), options('SNAPSHOT'))!;
    let members = with_('CT-0012345', (m) => (m.name.legal = 'Great Lakes Outdoor Supply Holdings LLC'));
    members = members.map((m) => (m.key === 'CT-0020001' ? { ...m, consent: { given: false } } : m));
    const delta = planDocument(formats.get('jp-aeo')!, byAccount(members), told(first.document!.carried), options('DELTA', 2))!;
    expect(delta.document!.carried.map((c) => [c.account, c.as])).toEqual([
      ['CT-0012345', 'valid'],
      ['CT-0020001', 'withdrawn'],
    ]);
    // JP withdraws with status REVOKED dated the day of the withdrawal (FORMATS.md).
    const read = readDocument(formats.get('jp-aeo')!, Buffer.from(delta.document!.text));
    const last = [...read.batch.records, ...read.rejections].length;
    expect(last).toBe(2);
    expect(delta.document!.text).toMatch(/REVOKED[^\r\n]*2026-11-30|2026-11-30[^\r\n]*REVOKED/);
  });

  it('a member absent from the full export (REMOVED) is withdrawn; a SNAPSHOT withdraws by leaving it out', () => {
    const first = planDocument(formats.get('jp-aeo')!, byAccount(sample), new Map(), options('SNAPSHOT'))!;
    const removed = with_('CT-0012345', (m) => (m.status = { code: 'revoked', effective: '2026-11-30' }));
    const delta = planDocument(formats.get('jp-aeo')!, byAccount(removed), told(first.document!.carried), options('DELTA', 2))!;
    expect(delta.document!.carried).toEqual([expect.objectContaining({ account: 'CT-0012345', as: 'withdrawn' })]);
    const snapshot = planDocument(formats.get('jp-aeo')!, byAccount(removed), told(first.document!.carried), options('SNAPSHOT', 2))!;
    expect(snapshot.document!.carried.map((c) => c.account)).toEqual(['CT-0020001', 'CT-0030003']);
    expect(snapshot.omitted).toEqual(['CT-0012345']);
  });

  it("only the business types the partner takes; a type it stops taking is a withdrawal", () => {
    const first = planDocument(formats.get('jp-aeo')!, byAccount(sample), new Map(), options('SNAPSHOT'))!;
    const delta = planDocument(formats.get('jp-aeo')!, byAccount(sample), told(first.document!.carried), options('DELTA', 2, ['EXPORTER']))!;
    expect(delta.document!.carried.map((c) => [c.account, c.as])).toEqual([
      ['CT-0020001', 'withdrawn'],
      ['CT-0030003', 'withdrawn'],
    ]);
  });

  it('20,000 members, then an import changing 1% of them: the DELTA carries exactly that 1%, withdrawals included', () => {
    const base = sample.find((m) => m.key === 'CT-0012345')!;
    const many = Array.from({ length: 20_000 }, (_, i) => ({ ...structuredClone(base), key: `CT-${String(i).padStart(7, '0')}` }));
    const first = planDocument(formats.get('gb-aeo')!, byAccount(many), new Map(), { ...options('SNAPSHOT'), partnerId: 'GB' })!;
    expect(first.document!.carried).toHaveLength(20_000);
    const next = many.map((m, i) => (i % 100 === 0 ? (i % 200 === 0 ? { ...m, name: { ...m.name, legal: `${m.name.legal} II` } } : { ...m, consent: { given: false } }) : m));
    const delta = planDocument(formats.get('gb-aeo')!, byAccount(next), told(first.document!.carried), { ...options('DELTA', 2), partnerId: 'GB' })!;
    expect(delta.document!.carried).toHaveLength(200);
    expect(delta.document!.carried.filter((c) => c.as === 'withdrawn')).toHaveLength(100);
    expect(delta.document!.carried.slice(100).every((c) => c.as === 'withdrawn')).toBe(true);
  });

  it('a member the format cannot carry is left out, reported with the field, and stays unsent', () => {
    // CA needs a SCAC for a carrier (FORMATS.md): the highway carrier without one cannot be written.
    const members = with_('CT-0020001', (m) => delete (m as { carrier?: unknown }).carrier);
    const plan = planDocument(formats.get('ca-pip')!, byAccount(members), new Map(), { ...options('SNAPSHOT'), partnerId: 'CA' })!;
    expect(plan.unwritable).toEqual([expect.objectContaining({ account: 'CT-0020001', field: expect.stringMatching(/carrierCode/) })]);
    expect(plan.document!.carried.map((c) => c.account)).toEqual(['CT-0012345', 'CT-0030003']);
  });
});
