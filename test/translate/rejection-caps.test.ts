/**
 * Issue 11: a record's faults are capped where they are collected, and the document's
 * rejections where they are made, while the counts stay true: one 890 KB record with
 * 100,000 unknown elements made a 16.9 MB read-back.
 */
import { describe, expect, it } from 'vitest';
import { loadFormats } from '../../src/translate/load-mappings.ts';
import { MAX_FAULTS_PER_RECORD, readDocument } from '../../src/translate/read-document.ts';

const eu = loadFormats().get('eu-aeo')!;

function operator(i: number, extra = ''): string {
  return `<Operator><TIN scheme="EORI">DE${String(100000 + i).padStart(15, '0')}</TIN><AuthorisationNumber>DEAEOF${String(i).padStart(10, '0')}</AuthorisationNumber><AuthorisationType>AEOF</AuthorisationType><Name>Operator ${i} GmbH</Name><Status code="VALID" effectiveDate="2020-01-01"/><ConsentToExchange>true</ConsentToExchange>${extra}</Operator>`;
}

function document(operators: string[]): string {
  return `<?xml version="1.0" encoding="UTF-8"?><AEOExchangeBatch xmlns="urn:eu:taxud:mra:aeo:1" partner="EU" receiver="US-CBP" batchId="B-1" sequence="1" type="SNAPSHOT" asOf="2026-11-27T02:00:00Z" recordCount="${operators.length}">${operators.join('')}</AEOExchangeBatch>`;
}

/** `n` distinct unknown elements: each is a fault of its own. */
const unknown = (n: number) => Array.from({ length: n }, (_, i) => `<Unknown${i}>x</Unknown${i}>`).join('');

describe('rejection caps', () => {
  it('keeps the first MAX_FAULTS_PER_RECORD faults of a record and counts them all', () => {
    const read = readDocument(eu, document([operator(0, unknown(5000)), operator(1), operator(2, '<Nickname>again</Nickname>')]));
    expect(read.rejectedCount).toBe(2);
    expect(read.faultCount).toBe(5001);
    const first = read.rejections.filter((r) => r.index === 0);
    expect(first).toHaveLength(MAX_FAULTS_PER_RECORD);
    // The first in document order, as they were met.
    expect(first.map((r) => r.pointer)).toEqual(Array.from({ length: MAX_FAULTS_PER_RECORD }, (_, i) => `/AEOExchangeBatch/Operator[1]/Unknown${i}`));
    expect(read.rejections.filter((r) => r.index === 2).map((r) => r.code)).toEqual(['unknown-field']);
    expect(read.batch.records.map((r) => r.key)).toEqual(['DEAEOF0000000001']);
  });

  it('gives at most maxRejections, still counting every fault and every rejected record', () => {
    const operators = Array.from({ length: 40 }, (_, i) => operator(i, unknown(3)));
    const all = readDocument(eu, document(operators));
    const some = readDocument(eu, document(operators), { maxRejections: 50 });
    expect(all.rejections).toHaveLength(120);
    expect(some.rejections).toEqual(all.rejections.slice(0, 50));
    expect(some.faultCount).toBe(120);
    expect(some.rejectedCount).toBe(40);
  });

  it('counts a duplicate key of a record already full of faults without keeping more than the cap', () => {
    // C-TPAT rejects both records of a duplicate key (EU refuses the document).
    const line = (extra: Record<string, string>) => JSON.stringify({ accountNumber: 'CT-0012345', businessType: 'EXPORTER', legalName: 'Great Lakes Outdoor Supply LLC', address: { street: '1200 Commerce Dr', city: 'Toledo', state: 'OH', postalCode: '43604', country: 'US' }, status: 'CERTIFIED_VALIDATED', statusDate: '2022-10-18', certifiedOn: '2012-04-02', consentToShare: true, identifiers: { mids: [], scac: null }, ...extra });
    const unknownMembers = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`unknown${i}`, 'x']));
    const read = readDocument(loadFormats().get('ctpat')!, `${line(unknownMembers)}\n${line({})}\n`);
    expect(read.rejectedCount).toBe(2);
    expect(read.rejections.filter((r) => r.index === 0)).toHaveLength(MAX_FAULTS_PER_RECORD);
    expect(read.rejections.filter((r) => r.index === 1).map((r) => r.code)).toEqual(['duplicate-key']);
    // 30 unknown members and a duplicate key on the first; a duplicate key on the second.
    expect(read.faultCount).toBe(32);
  });
});
