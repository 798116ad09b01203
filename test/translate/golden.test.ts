/**
 * Golden fixtures, table-driven: every `fixtures/<format>/<case>/` holds an input and
 * an `expected.json` saying what reading it must give — the envelope, the records, the
 * rejections (index, key, code, pointer), or the one document fault with its place.
 * Every case that reads also round-trips: written back and read again, it is the same.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Batch } from '../../src/canonical/batch.ts';
import { DocumentInvalidError } from '../../src/errors.ts';
import { loadFormats } from '../../src/translate/load-mappings.ts';
import { readDocument, type ReadOptions } from '../../src/translate/read-document.ts';
import { writeDocument } from '../../src/translate/write-document.ts';

interface Expected {
  description: string;
  options?: ReadOptions;
  envelope?: unknown;
  records?: unknown[];
  recordCount?: number;
  rejections?: { index: number; key: string | null; code: string; pointer: string }[];
  documentError?: { place: string; messageIncludes: string };
}

const root = new URL('../../fixtures/', import.meta.url).pathname;
const formats = loadFormats();
const cases = readdirSync(root).flatMap((format) =>
  readdirSync(join(root, format)).map((name) => {
    const dir = join(root, format, name);
    const input = readdirSync(dir).find((f) => f.startsWith('input.'));
    if (!input) throw new Error(`${dir} has no input file`);
    const expected = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as Expected;
    return { format, name, input: readFileSync(join(dir, input)), expected };
  }),
);

describe('golden fixtures', () => {
  it('cover every format', () => {
    expect(new Set(cases.map((c) => c.format))).toEqual(new Set(formats.keys()));
  });

  describe.each(cases)('$format / $name', ({ format: id, input, expected }) => {
    const format = formats.get(id)!;

    if (expected.documentError) {
      it(`is invalid as a whole: ${expected.description}`, () => {
        let error: unknown;
        try {
          readDocument(format, input, expected.options);
        } catch (e) {
          error = e;
        }
        expect(error).toBeInstanceOf(DocumentInvalidError);
        expect((error as DocumentInvalidError).message).toContain(expected.documentError!.messageIncludes);
        expect((error as DocumentInvalidError).place).toBe(expected.documentError!.place);
      });
      return;
    }

    it(`reads as expected: ${expected.description}`, () => {
      const { batch, rejections } = readDocument(format, input, expected.options);
      expect(Batch.safeParse(batch).success).toBe(true);
      if (expected.envelope !== undefined) expect(batch.envelope).toEqual(expected.envelope);
      if (expected.records !== undefined) expect(batch.records).toEqual(expected.records);
      if (expected.recordCount !== undefined) expect(batch.records).toHaveLength(expected.recordCount);
      expect(rejections.map(({ index, key, code, pointer }) => ({ index, key, code, pointer }))).toEqual(expected.rejections ?? []);
    });

    it('round-trips: written back and read again, the batch is the same', () => {
      const { batch } = readDocument(format, input);
      const written = writeDocument(format, batch);
      expect(written.problems).toEqual([]);
      const again = readDocument(format, written.text);
      expect(again.rejections).toEqual([]);
      // Rejected records are not written, so the written document counts only the others.
      const envelope = batch.envelope && { ...batch.envelope, count: batch.records.length };
      expect(again.batch).toEqual({ ...batch, ...(envelope && { envelope }) });
    });
  });
});
