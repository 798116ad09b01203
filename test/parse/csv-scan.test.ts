import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DocumentInvalidError } from '../../src/errors.ts';
import { quickScanLines, scanLines } from '../../src/parse/csv-reader.ts';

/** What the precise scan says of a text: the line of each record, or the fault it names. */
function precise(text: string): number[] | string {
  try {
    return scanLines(text);
  } catch (error) {
    if (!(error instanceof DocumentInvalidError)) throw error;
    return `${error.message} @ ${JSON.stringify(error)}`;
  }
}

// Texts made of the characters that matter to the scan, so that every fault comes up often.
const csvish = fc.array(fc.constantFrom('a', 'b', ',', '"', '""', '\r', '\n', '\r\n', 'D,1,"x, y"\r\n', '"\r\n"'), { maxLength: 40 }).map((parts) => parts.join(''));

describe('the quick CSV line scan', () => {
  it('answers as the precise scan does, or leaves the text to it', () => {
    fc.assert(
      fc.property(csvish, (text) => {
        const quick = quickScanLines(text);
        if (quick !== undefined) expect(precise(text)).toEqual(quick);
      }),
      { numRuns: 5_000 },
    );
  });

  it('reads a well-formed document itself, quoted line breaks included', () => {
    const text = 'H,JP\r\nD,"a\r\nb",c\r\nD,"x ""y""",z\r\nT,2\r\n';
    expect(quickScanLines(text)).toEqual([1, 2, 4, 5]);
    expect(scanLines(text)).toEqual([1, 2, 4, 5]);
  });
});
