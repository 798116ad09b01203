/**
 * The CSV and JSON readers tell the record reader when no value of a document can hold a
 * control character (RecordNode.controlFree), and the record reader then skips scanning
 * each value. Whatever the document, a value with a control character other than TAB, LF
 * and CR must never arrive marked control-free.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readCsv, type CsvLayout } from '../../src/parse/csv-reader.ts';
import { readJson } from '../../src/parse/json-reader.ts';
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

  it('JSON: the same, whichever way the text writes each character (as it is, or any escape) and whether it arrives as bytes or text', () => {
    // Each character as JSON.stringify writes it, or as a \u escape in either case of hex digits.
    const written = fc.array(fc.tuple(char, fc.constantFrom('plain', 'lower', 'upper')), { maxLength: 8 }).map((chars) => ({
      value: chars.map(([c]) => c).join(''),
      json: `"${chars.map(([c, how]) => (how === 'plain' ? JSON.stringify(c).slice(1, -1) : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')[how === 'upper' ? 'toUpperCase' : 'toLowerCase']()}`)).join('')}"`,
    }));
    fc.assert(
      fc.property(fc.array(written, { minLength: 1, maxLength: 4 }), fc.boolean(), (values, asBytes) => {
        const document = `{"n": ${values.length}, "records": [${values.map(({ json }) => `{"x": ${json}}`).join(', ')}]}`;
        const seen: { node: TreeValue; controlFree: boolean | undefined }[] = [];
        readJson(asBytes ? Buffer.from(document) : document, { records: 'records' }, ({ node, controlFree }) => seen.push({ node, controlFree }));
        expect(seen.map(({ node }) => (node as { x: string }).x)).toEqual(values.map(({ value }) => value));
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
