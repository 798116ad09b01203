/** The next outbound document to a partner, planned from the members and what the partner was told (FORMATS.md "Outbound"). */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Operator } from '../../src/canonical/operator.ts';
import { createHash } from 'node:crypto';
import { digestOf, isRecordDigest, planDocument, writtenDigest, type CarriedMember, type SentMember } from '../../src/deliver/plan-document.ts';
import { memberToPartnerRecord } from '../../src/translate/outbound.ts';
import { loadFormats } from '../../src/translate/load-mappings.ts';
import { readDocument } from '../../src/translate/read-document.ts';

const formats = loadFormats();
const sample = readDocument(formats.get('ctpat')!, readFileSync(new URL('../../fixtures/ctpat/sample/input.ndjson', import.meta.url))).batch.records;
const byAccount = (records: readonly Operator[]) => new Map(records.map((m) => [m.key, m]));
const options = (kind: 'SNAPSHOT' | 'DELTA', sequence = 1, businessTypes?: string[]) => ({ gatewayId: 'US-CBP-TEST', partnerId: 'JP', kind, sequence, batchId: `B${sequence}`, asOf: '2026-11-30T02:00:00Z', today: '2026-11-30', businessTypes });
const told = (carried: readonly CarriedMember[]): Map<string, SentMember> => new Map(carried.map((c) => [c.account, { digest: c.digest, withdrawn: c.as === 'withdrawn' }]));
const with_ = (account: string, patch: (m: Operator) => void) => sample.map((m) => (m.key === account ? (patch((m = structuredClone(m))), m) : m));

describe('planning an outbound document', () => {
  it('a first SNAPSHOT carries every eligible member, as valid or not', async () => {
    const plan = (await planDocument(formats.get('jp-aeo')!, byAccount(sample), new Map(), options('SNAPSHOT')))!;
    expect(plan.document!.carried.map((c) => [c.account, c.as])).toEqual([
      ['CT-0012345', 'valid'],
      ['CT-0020001', 'valid'],
      ['CT-0030003', 'not-valid'],
    ]);
    expect(readDocument(formats.get('jp-aeo')!, plan.document!.body).batch.envelope).toMatchObject({ sender: 'US-CBP-TEST', sequence: 1, kind: 'SNAPSHOT', count: 3 });
  });

  it('a DELTA after it carries nothing when nothing changed, whatever the key order of records read back from jsonb', async () => {
    const first = (await planDocument(formats.get('jp-aeo')!, byAccount(sample), new Map(), options('SNAPSHOT')))!;
    const reordered = sample.map((m) => JSON.parse(JSON.stringify(Object.fromEntries(Object.entries(m).reverse()))) as Operator);
    expect(await planDocument(formats.get('jp-aeo')!, byAccount(reordered), told(first.document!.carried), options('DELTA', 2))).toBeUndefined();
  });

  it('a DELTA carries what changed, then the withdrawals, dated today, as the last records', async () => {
    const first = (await planDocument(formats.get('jp-aeo')!, byAccount(sample), new Map(), options('SNAPSHOT')))!;
    let members = with_('CT-0012345', (m) => (m.name.legal = 'Great Lakes Outdoor Supply Holdings LLC'));
    members = members.map((m) => (m.key === 'CT-0020001' ? { ...m, consent: { given: false } } : m));
    const delta = (await planDocument(formats.get('jp-aeo')!, byAccount(members), told(first.document!.carried), options('DELTA', 2)))!;
    expect(delta.document!.carried.map((c) => [c.account, c.as])).toEqual([
      ['CT-0012345', 'valid'],
      ['CT-0020001', 'withdrawn'],
    ]);
    // JP withdraws with status REVOKED dated the day of the withdrawal (FORMATS.md).
    const read = readDocument(formats.get('jp-aeo')!, delta.document!.body);
    const last = [...read.batch.records, ...read.rejections].length;
    expect(last).toBe(2);
    expect(delta.document!.body.toString('utf8')).toMatch(/REVOKED[^\r\n]*2026-11-30|2026-11-30[^\r\n]*REVOKED/);
  });

  it('a member absent from the full export (REMOVED) is withdrawn; a SNAPSHOT withdraws by leaving it out', async () => {
    const first = (await planDocument(formats.get('jp-aeo')!, byAccount(sample), new Map(), options('SNAPSHOT')))!;
    const removed = with_('CT-0012345', (m) => (m.status = { code: 'revoked', effective: '2026-11-30' }));
    const delta = (await planDocument(formats.get('jp-aeo')!, byAccount(removed), told(first.document!.carried), options('DELTA', 2)))!;
    expect(delta.document!.carried).toEqual([expect.objectContaining({ account: 'CT-0012345', as: 'withdrawn' })]);
    const snapshot = (await planDocument(formats.get('jp-aeo')!, byAccount(removed), told(first.document!.carried), options('SNAPSHOT', 2)))!;
    expect(snapshot.document!.carried.map((c) => c.account)).toEqual(['CT-0020001', 'CT-0030003']);
    expect(snapshot.omitted).toEqual(['CT-0012345']);
  });

  it("only the business types the partner takes; a type it stops taking is a withdrawal", async () => {
    const first = (await planDocument(formats.get('jp-aeo')!, byAccount(sample), new Map(), options('SNAPSHOT')))!;
    const delta = (await planDocument(formats.get('jp-aeo')!, byAccount(sample), told(first.document!.carried), options('DELTA', 2, ['EXPORTER'])))!;
    expect(delta.document!.carried.map((c) => [c.account, c.as])).toEqual([
      ['CT-0020001', 'withdrawn'],
      ['CT-0030003', 'withdrawn'],
    ]);
  });

  it('20,000 members, then an import changing 1% of them: the DELTA carries exactly that 1%, withdrawals included', async () => {
    const base = sample.find((m) => m.key === 'CT-0012345')!;
    const many = Array.from({ length: 20_000 }, (_, i) => ({ ...structuredClone(base), key: `CT-${String(i).padStart(7, '0')}` }));
    const first = (await planDocument(formats.get('gb-aeo')!, byAccount(many), new Map(), { ...options('SNAPSHOT'), partnerId: 'GB' }))!;
    expect(first.document!.carried).toHaveLength(20_000);
    const next = many.map((m, i) => (i % 100 === 0 ? (i % 200 === 0 ? { ...m, name: { ...m.name, legal: `${m.name.legal} II` } } : { ...m, consent: { given: false } }) : m));
    const delta = (await planDocument(formats.get('gb-aeo')!, byAccount(next), told(first.document!.carried), { ...options('DELTA', 2), partnerId: 'GB' }))!;
    expect(delta.document!.carried).toHaveLength(200);
    expect(delta.document!.carried.filter((c) => c.as === 'withdrawn')).toHaveLength(100);
    expect(delta.document!.carried.slice(100).every((c) => c.as === 'withdrawn')).toBe(true);
  });

  it('a member the format cannot carry is left out, reported with the field, and stays unsent', async () => {
    // CA needs a SCAC for a carrier (FORMATS.md): the highway carrier without one cannot be written.
    const members = with_('CT-0020001', (m) => delete (m as { carrier?: unknown }).carrier);
    const plan = (await planDocument(formats.get('ca-pip')!, byAccount(members), new Map(), { ...options('SNAPSHOT'), partnerId: 'CA' }))!;
    expect(plan.unwritable).toEqual([expect.objectContaining({ account: 'CT-0020001', field: expect.stringMatching(/carrierCode/) })]);
    expect(plan.document!.carried.map((c) => c.account)).toEqual(['CT-0012345', 'CT-0030003']);
  });
});

describe('the digest of a record as written for a partner', () => {
  // Taken before the digest was rewritten for speed: partners' sent_members hold digests like these, so they must never change.
  const pinned: [string, string[]][] = [
    ['ca-pip', ['eWgAxnsl35CjQPVbrRDEAo_geykUuNA3c9OyW5eT4Nk', 'Fpp15IV_vjeV3siFRbRW88lmSErewYemQm8txMOwSfw', 'luklniQRs1r3Faaf2lWYb7B7kd2LlpLwInCtlvQEwoA']],
    ['eu-aeo', ['UjXn0NzHZ_pvK9FB-9L9IKFF-XyfghreDQG6TjkqXPo', 'YJBZ0ZhQ1amsmtas0ey4U5OnenWNBf1AYMKLWvOWeT0', '8bz-gY6fIcPOuPQvL7MBbdHDGvGUzQwhHt1z5R8LX6c']],
    ['gb-aeo', ['UjXn0NzHZ_pvK9FB-9L9IKFF-XyfghreDQG6TjkqXPo', 'YJBZ0ZhQ1amsmtas0ey4U5OnenWNBf1AYMKLWvOWeT0', 'Hce-MbW1HXtZ6cOlQzH_6ZYBRt-wHheqkyFakLdOxig']],
    ['jp-aeo', ['FvpX5Dy6zd8X86UZBVH3LZQrd_FHeadk1piqsr-f5eU', 'mu9EoSrxw9niGfqH_3D7J-owV8gi_GzT1UutzGqj6iM', 'chBQQnETb26pLRIHE1M9Q2oufzfpWtfRJ7l7py2SMec']],
    ['kr-aeo', ['GsO8spgLkzrQcjpBSmWhXqNeDaDVRsmVXPoTcLAtJFc', 'S6-2UVwmzh6QeoCJEj8FE_pS2O1bkqrwd1dhOmQhDnc', '-CEY1R3jOiy5aV5KG8l7T1FGhlKG9x0VwT_vsPt0QiE']],
    ['mx-oea', ['PHYs3J806mtRGSV1IEIAPR_TQcM74ck8NpyNYLJo3AY', '3FdVWRWWdXM0zqe4ja3wakxgqXwat3PFMMoZEvx_6UY', 'K-LUvtNXSfCeDE2NHIoRiwOoUjNdj3_1YZGeww86TBk']],
  ];

  it.each(pinned)('of the older kind is still what partners were told, for the sample members in %s', (id, digests) => {
    const format = formats.get(id)!;
    const records = [...byAccount(sample).values()].filter((m) => m.consent?.given === true && m.status.code !== 'applicant').map((m) => memberToPartnerRecord(format, m));
    expect(records.map((r) => digestOf(r))).toEqual(digests);
  });

  it.each(pinned)('of the older kind, stored before the upgrade, resends no one in %s, and a changed member with a digest of its text', async (id, digests) => {
    const format = formats.get(id)!;
    const partnerId = format.partner!;
    const first = (await planDocument(format, byAccount(sample), new Map(), { ...options('SNAPSHOT'), partnerId }))!;
    const accounts = first.document!.carried.map((c) => c.account);
    const toldBefore = new Map(accounts.map((account, i): [string, SentMember] => [account, { digest: digests[i]!, withdrawn: false }]));
    expect(await planDocument(format, byAccount(sample), toldBefore, { ...options('DELTA', 2), partnerId })).toBeUndefined();
    const changed = with_(accounts[1]!, (m) => (m.name.legal = `${m.name.legal} Two`));
    const delta = (await planDocument(format, byAccount(changed), toldBefore, { ...options('DELTA', 2), partnerId }))!;
    expect(delta.document!.carried).toEqual([{ account: accounts[1], digest: expect.stringMatching(/^text:[\w-]{43}$/), as: first.document!.carried[1]!.as }]);
  });

  it.each(['ca-pip', 'eu-aeo', 'gb-aeo', 'jp-aeo', 'kr-aeo', 'mx-oea'])('is now SHA-256 of the record’s own text in the %s document, marked as such', async (id) => {
    const format = formats.get(id)!;
    const plan = (await planDocument(format, byAccount(sample), new Map(), { ...options('SNAPSHOT'), partnerId: format.partner! }))!;
    const body = plan.document!.body.toString('utf8');
    const { syntax } = format.mapping;
    // Each record's text cut from the body: an XML record element, a CSV D line, or (JSON) a record as JSON.stringify writes it back.
    const texts =
      syntax === 'xml'
        ? [...body.matchAll(new RegExp(`^  <${format.mapping.xml!.record}[ >][\\s\\S]*?^  </${format.mapping.xml!.record}>\n`, 'gm'))].map((m) => m[0])
        : syntax === 'csv-hdt'
          ? body.split('\r\n').filter((line) => line.startsWith('D,')).map((line) => `${line}\r\n`)
          : (JSON.parse(body) as Record<string, unknown[]>)[format.mapping.json!.records]!.map((r) => JSON.stringify(r));
    expect(texts).toHaveLength(plan.document!.carried.length);
    expect(plan.document!.carried.map((c) => c.digest)).toEqual(texts.map((t) => writtenDigest(t)));
    for (const c of plan.document!.carried) expect([c.digest.startsWith('text:'), isRecordDigest(c.digest)]).toEqual([true, false]);
  });

  it('is SHA-256 of the JSON text with keys sorted at every depth and undefined members left out', () => {
    const record = { b: 1, a: [{ d: undefined, c: 'é"' }, null, true], 'Z z': { y: 2, x: '1' } } as unknown as Operator;
    const text = '{"Z z":{"x":"1","y":2},"a":[{"c":"é\\""},null,true],"b":1}';
    expect(digestOf(record)).toBe(createHash('sha256').update(text).digest('base64url'));
  });
});
