/**
 * The CSV reader tells the record reader when no value of a document can hold a control
 * character (RecordNode.controlFree), and the record reader then skips scanning each
 * value. Whatever the document, a value with a control character other than TAB, LF
 * and CR must never arrive marked control-free.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readCsv, type CsvLayout } from '../../src/parse/csv-reader.ts';
import type { TreeValue } from '../../src/parse/tree.ts';

function holdsControl(value: unknown): boolean {
  if (typeof value === 'string') return [...value].some((c) => (c < ' ' && c !== '\t' && c !== '\n' && c !== '\r') || (c >= '\u007f' && c <= '\u009f'));
  if (typeof value !== 'object' || value === null) return false;
  return Object.values(value).some(holdsControl);
}

// Mostly ordinary text, now and then a control character or white space.
const char = fc.oneof({ arbitrary: fc.constantFrom('a', 'é', 'さ', ' ', '"', ',', '|'), weight: 8 }, { arbitrary: fc.constantFrom('\u0000', '\b', '\t', '\n', '\f', '\r', '\u001f', '\u007f', '\u0085', '\u009f', '\u00a0'), weight: 1 });
const text = fc.array(char, { maxLength: 8 }).map((chars) => chars.join(''));

describe('control-free documents', () => {
  it('CSV: no record marked control-free holds a control character, and one that holds one is not so marked', () => {
    const layout: CsvLayout = { header: { kind: 'H', fields: ['a'] }, record: { kind: 'D', fields: ['x', 'y'] }, trailer: { kind: 'T', fields: ['n'] } };
    const quoted = (t: string) => `"${t.replaceAll('"', '""')}"`;
    fc.assert(
      fc.property(fc.array(fc.tuple(text, text), { minLength: 1, maxLength: 4 }), (records) => {
        const document = `H,a\r\n${records.map(([x, y]) => `D,${quoted(x)},${quoted(y)}\r\n`).join('')}T,${records.length}\r\n`;
        const seen: { node: TreeValue; controlFree: boolean | undefined }[] = [];
        readCsv(document, layout, ({ node, controlFree }) => seen.push({ node, controlFree }));
        const anyControl = seen.some(({ node }) => holdsControl(node));
        for (const { node, controlFree } of seen) {
          if (controlFree === true) expect(holdsControl(node)).toBe(false);
          if (anyControl) expect(controlFree).toBe(false);
        }
      }),
      { numRuns: 3_000 },
    );
  });
});
