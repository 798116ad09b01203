/**
 * A document fed in pieces, as a request body arrives, reads exactly as the whole
 * document does: every golden fixture cut at every kind of boundary (single bytes, inside
 * a multi-byte character, inside a tag) gives the same records, rejections and faults.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DocumentInvalidError } from '../../src/errors.ts';
import { decodeUtf8 } from '../../src/parse/decode.ts';
import { loadFormats } from '../../src/translate/load-mappings.ts';
import { readDocument, startReading, type ReadResult } from '../../src/translate/read-document.ts';

const root = new URL('../../fixtures/', import.meta.url).pathname;
const formats = loadFormats();
const cases = readdirSync(root).flatMap((format) =>
  readdirSync(join(root, format)).map((name) => {
    const dir = join(root, format, name);
    const input = readdirSync(dir).find((f) => f.startsWith('input.'))!;
    return { format, name, input: readFileSync(join(dir, input)) };
  }),
);

type Outcome = { read: ReadResult } | { fault: { message: string; place: string } };

function outcomeOf(run: () => ReadResult): Outcome {
  try {
    return { read: run() };
  } catch (error) {
    if (!(error instanceof DocumentInvalidError)) throw error;
    return { fault: { message: error.message, place: error.place } };
  }
}

function inPieces(format: string, input: Buffer, size: (i: number) => number): Outcome {
  return outcomeOf(() => {
    const reading = startReading(formats.get(format)!);
    for (let at = 0, i = 0; at < input.length; i++) {
      const end = Math.min(input.length, at + size(i));
      reading.write(input.subarray(at, end));
      at = end;
    }
    return reading.end();
  });
}

describe('reading a document in pieces', () => {
  for (const { format, name, input } of cases) {
    it(`${format}/${name}: single bytes and uneven pieces read as the whole`, () => {
      const whole = outcomeOf(() => readDocument(formats.get(format)!, input));
      expect(inPieces(format, input, () => 1)).toEqual(whole);
      expect(inPieces(format, input, (i) => [7, 1, 300, 2, 65_536][i % 5]!)).toEqual(whole);
    });
  }

  it('names the same byte, line and column for bad UTF-8 wherever the pieces are cut', () => {
    const eu = cases.find((c) => c.format === 'eu-aeo' && c.input.includes('ü'))?.input ?? cases.find((c) => c.format === 'eu-aeo')!.input;
    const text = eu.toString('utf8');
    const at = text.indexOf('</', text.indexOf('\n', text.indexOf('\n') + 1));
    // "é" with its continuation byte replaced: a lead byte followed by "<".
    const bad = Buffer.concat([Buffer.from(text.slice(0, at) + 'é'), Buffer.from(text.slice(at))]);
    bad[Buffer.byteLength(text.slice(0, at)) + 1] = 0x41;
    let expected: unknown;
    try {
      decodeUtf8(bad);
    } catch (error) {
      expected = { message: (error as DocumentInvalidError).message, place: (error as DocumentInvalidError).place };
    }
    expect(expected).toBeDefined();
    for (const size of [1, 2, 3, 5, 64, bad.length]) expect(inPieces('eu-aeo', bad, () => size)).toEqual({ fault: expected });
  });

  it('keeps no records when asked not to, with the same counts and rejections', () => {
    for (const { format, input } of cases) {
      const whole = outcomeOf(() => readDocument(formats.get(format)!, input));
      if (!('read' in whole)) continue;
      const reading = startReading(formats.get(format)!, { keepRecords: false });
      reading.write(input);
      const counted = reading.end();
      expect(counted.batch.records).toEqual([]);
      expect({ rejections: counted.rejections, rejectedCount: counted.rejectedCount, envelope: counted.batch.envelope }).toEqual({
        rejections: whole.read.rejections,
        rejectedCount: whole.read.rejectedCount,
        envelope: whole.read.batch.envelope,
      });
    }
  });
});
