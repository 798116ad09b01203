/**
 * What JSON.parse lets through and no later walk may meet (issue 11, defects 1 to 3):
 * nesting of any depth, and lone surrogates from `\u` escapes. Each rejects its record
 * (or, in the envelope, the document), and nothing read carries a lone surrogate.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DocumentInvalidError } from '../../src/errors.ts';
import { MAX_JSON_DEPTH, mayHoldLoneSurrogates, membersWithin, pruneTooDeep, replaceLoneSurrogates } from '../../src/parse/json-values.ts';
import { loadFormats } from '../../src/translate/load-mappings.ts';
import { readDocument } from '../../src/translate/read-document.ts';
import { allWellFormed } from '../support/well-formed.ts';

const formats = loadFormats();
const gbSample = readFileSync(new URL('../../fixtures/gb-aeo/rec-name-lone-surrogate/input.json', import.meta.url), 'utf8').replace(' \\ud800', '');
const ctpatSample = readFileSync(new URL('../../fixtures/ctpat/sample/input.ndjson', import.meta.url), 'utf8');
const deep = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`;

describe('JSON nested deeper than any record may', () => {
  it('100,000 nested arrays in one record rejects that record alone, its key still read', () => {
    const text = gbSample.replace('"mids": [{"mid": "GBSEVGOR2IRO"', `"mids": [${deep(100_000)}, {"mid": "GBSEVGOR2IRO"`);
    const read = readDocument(formats.get('gb-aeo')!, text);
    expect(read.batch.records.map((r) => r.key)).toEqual(['GBAEOS1234/19', 'GBAEOF0099/21']);
    expect(read.rejectedCount).toBe(1);
    expect(read.rejections[0]).toMatchObject({ index: 1, key: 'GBAEOS5678/20', code: 'invalid-type', message: `mids[0]${'[0]'.repeat(MAX_JSON_DEPTH - 2)} nests deeper than 16 levels` });
  });

  it('the same under a member no rule names, and as a whole record', () => {
    const unknown = gbSample.replace('"name": "Severn', `"deep": ${deep(100_000)}, "name": "Severn`);
    expect(readDocument(formats.get('gb-aeo')!, unknown).rejections.map((r) => r.index)).toContain(1);
    const whole = gbSample.replace('"recordCount": 3', '"recordCount": 4').replace('"records": [', `"records": [${deep(100_000)},`);
    const read = readDocument(formats.get('gb-aeo')!, whole);
    expect(read.batch.records).toHaveLength(3);
    expect(read.rejections[0]).toMatchObject({ index: 0, code: 'invalid-type' });
    expect(new Set(read.rejections.map((r) => r.index))).toEqual(new Set([0]));
  });

  it('in the envelope, the document is invalid (a 422), never a stack overflow', () => {
    const text = gbSample.replace('"batch": {', `"extra": ${deep(100_000)}, "batch": {`);
    expect(() => readDocument(formats.get('gb-aeo')!, text)).toThrow(DocumentInvalidError);
    expect(() => readDocument(formats.get('gb-aeo')!, text)).toThrow(/nests deeper than 16 levels/);
  });

  it('in a line of the C-TPAT member export, that line alone', () => {
    const [first, ...rest] = ctpatSample.trimEnd().split('\n');
    const text = [first!.replace('"mids":[]', `"mids":[${deep(100_000)}]`), ...rest].join('\n');
    const read = readDocument(formats.get('ctpat')!, text);
    expect(read.rejectedCount).toBe(1);
    expect(read.rejections[0]).toMatchObject({ index: 0, code: 'invalid-type' });
    expect(read.batch.records).toHaveLength(rest.length);
  });

  it('membersWithin counts what a recursive walk counts, and refuses past the bound', () => {
    const count = (v: unknown): number => (Array.isArray(v) ? v.reduce((n: number, c) => n + count(c), 0) : typeof v === 'object' && v !== null ? Object.values(v).reduce((n: number, c) => n + 1 + count(c), 0) : 0);
    const depthOf = (v: unknown): number => (typeof v === 'object' && v !== null ? 1 + Math.max(0, ...Object.values(v).map(depthOf)) : 0);
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), fc.integer({ min: 1, max: 8 }), (value, bound) => {
        expect(membersWithin(value, bound)).toBe(depthOf(value) > bound ? -1 : count(value));
      }),
    );
  });

  it('pruneTooDeep cuts exactly the containers past the bound', () => {
    const value = { a: [[[1]]], b: { c: {} }, d: 'x' };
    expect(pruneTooDeep(value, 3)).toEqual([['a', 0, 0]]);
    expect(value).toEqual({ a: [[null]], b: { c: {} }, d: 'x' });
    expect(membersWithin(value, 3)).toBe(4);
  });
});

describe('lone surrogates (text that is not text)', () => {
  const lone = ['\\ud800', '\\uDFFF', 'x\\udc00y', '\\ud83d'];

  it.each(lone)('%s in a name rejects the record; nothing read carries it', (escape) => {
    const text = gbSample.replace('"Severn Gorge Ceramics plc"', `"Severn ${escape} plc"`);
    const read = readDocument(formats.get('gb-aeo')!, text);
    expect(read.rejections).toEqual([expect.objectContaining({ index: 1, key: 'GBAEOS5678/20', code: 'invalid-value', pointer: '/records/1/name' })]);
    expect(read.batch.records).toHaveLength(2);
    expect(allWellFormed(read)).toBe(true);
  });

  it('in a coded field and a member name, rejected with messages that do not repeat it', () => {
    const text = gbSample.replace('"aeoType": "AEOS", "authorisationNumber": "GBAEOS5678/20"', '"aeoType": "\\ud800", "\\udc01": 1, "authorisationNumber": "GBAEOS5678/20"');
    const read = readDocument(formats.get('gb-aeo')!, text);
    expect(read.rejectedCount).toBe(1);
    expect(read.rejections.map((r) => r.code)).toEqual(expect.arrayContaining(['invalid-value', 'unknown-field']));
    expect(allWellFormed(read)).toBe(true);
  });

  it('a well-formed pair written as escapes is text, and is kept', () => {
    const text = gbSample.replace('"Severn Gorge Ceramics plc"', '"Severn \\ud83d\\ude00 plc"');
    const read = readDocument(formats.get('gb-aeo')!, text);
    expect(read.rejectedCount).toBe(0);
    expect(read.batch.records[1]!.name.legal).toBe('Severn 😀 plc');
  });

  it('in the envelope, the document is invalid, and the error does not carry it', () => {
    const text = gbSample.replace('"id": "GB-US-20261127-01"', '"id": "GB-\\ud800"');
    let error: unknown;
    try {
      readDocument(formats.get('gb-aeo')!, text);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DocumentInvalidError);
    expect(allWellFormed({ message: (error as Error).message, place: (error as DocumentInvalidError).place })).toBe(true);
  });

  it('in a line of the C-TPAT member export, that line alone', () => {
    const [first, ...rest] = ctpatSample.trimEnd().split('\n');
    const read = readDocument(formats.get('ctpat')!, [first!.replace('"legalName":"', '"legalName":"\\ud800'), ...rest].join('\n'));
    expect(read.rejections).toEqual([expect.objectContaining({ index: 0, code: 'invalid-value' })]);
    expect(allWellFormed(read)).toBe(true);
  });

  it('mayHoldLoneSurrogates is false only where no escape of D800–DFFF is', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = JSON.stringify(value);
        if (!mayHoldLoneSurrogates(text)) expect(allWellFormed(JSON.parse(text))).toBe(true);
      }),
    );
    expect(mayHoldLoneSurrogates('"\\u00e9"')).toBe(false);
    expect(mayHoldLoneSurrogates('"\\uD834"')).toBe(true);
  });

  it('replaceLoneSurrogates leaves well-formed text as it is', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const copy = structuredClone(value);
        if (allWellFormed(value)) expect(replaceLoneSurrogates(copy as never)).toEqual([]);
        expect(allWellFormed(copy)).toBe(true);
        if (allWellFormed(value)) expect(copy).toEqual(value);
      }),
    );
  });
});
