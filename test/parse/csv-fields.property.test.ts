/**
 * `CsvTable` (and the `CsvFields` cursor it is built with) reads the fields of text the
 * line scan accepted in place; papaparse, which `readCsv` used before, must find the very
 * same lines and fields in it.
 */
import fc from 'fast-check';
import Papa from 'papaparse';
import { describe, expect, it } from 'vitest';
import { CsvFields, CsvTable } from '../../src/parse/csv-fields.ts';
import { scanLines } from '../../src/parse/csv-reader.ts';
import { DocumentInvalidError } from '../../src/errors.ts';

/** The lines papaparse finds, as readCsv counted them: a final CRLF ends the last line, it does not start an empty one. */
function papaparseLines(text: string): string[][] {
  const rows = Papa.parse<string[]>(text, { delimiter: ',', newline: '\r\n', quoteChar: '"', escapeChar: '"', skipEmptyLines: false, header: false }).data;
  return text.endsWith('\r\n') ? rows.slice(0, -1) : rows;
}

/** The lines `CsvTable` finds, last line first so that it also goes back; each also read by a `CsvFields` cursor. */
function cursorLines(text: string): string[][] {
  const table = new CsvTable(text);
  const lines: string[][] = [];
  for (let i = table.lineCount - 1; i >= 0; i--) {
    table.lineAt(i);
    const line = Array.from({ length: table.fieldCount(i) }, () => table.next());
    expect(line[0]).toBe(table.kinds[i]);
    lines.unshift(line);
  }
  const cursor = new CsvFields(text);
  const read: string[][] = [];
  for (let offset = 0; offset < text.length; offset = cursor.offset) {
    cursor.lineAt(offset);
    const line = [cursor.next()];
    while (!cursor.lineEnded) line.push(cursor.next());
    read.push(line);
  }
  expect(read).toEqual(lines);
  return lines;
}

function scanned(text: string): boolean {
  try {
    scanLines(text);
    return true;
  } catch (error) {
    if (error instanceof DocumentInvalidError) return false;
    throw error;
  }
}

// Pieces that matter to quoting and line ends, so that well-formed texts of every kind come up often.
const piece = fc.constantFrom('a', 'b', 'é', 'さ', ',', '"', '""', '"x"', '"a,b"', '"q""q"', '"\r\n"', '\r\n', '\r', '\n', ' ', '|', 'D,1,"x, y"\r\n');
const csvish = fc.array(piece, { maxLength: 40 }).map((parts) => parts.join(''));
// Well-formed lines built field by field, every field quoted or not.
const field = fc.string({ maxLength: 6 }).chain((text) => (/[",\r\n]/.test(text) ? fc.constant(`"${text.replaceAll('"', '""')}"`) : fc.constantFrom(text, `"${text.replaceAll('"', '""')}"`)));
const wellFormed = fc
  .tuple(fc.array(fc.array(field, { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 6 }), fc.boolean())
  .map(([lines, finalBreak]) => lines.map((fields) => fields.join(',')).join('\r\n') + (finalBreak ? '\r\n' : ''));

describe('CsvTable and CsvFields', () => {
  it('finds the lines and fields papaparse finds in any text the scan accepts', () => {
    fc.assert(
      fc.property(fc.oneof(csvish, wellFormed), (text) => {
        if (!scanned(text)) return;
        expect(cursorLines(text)).toEqual(papaparseLines(text));
      }),
      { numRuns: 5_000 },
    );
  });

  it('reads quoted fields, doubled quotes and quoted line breaks', () => {
    const text = 'H,JP\r\nD,"a\r\nb",c\r\n"D","x ""y""",\r\nT,2';
    expect(cursorLines(text)).toEqual([['H', 'JP'], ['D', 'a\r\nb', 'c'], ['D', 'x "y"', ''], ['T', '2']]);
  });
});
