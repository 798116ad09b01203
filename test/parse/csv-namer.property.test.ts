/**
 * `namerOf` (generated, one store per column name) must build what the loop it replaced
 * built: the same members in the same order, empty fields absent, whatever the names and
 * whatever the fields hold.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CsvTable } from '../../src/parse/csv-fields.ts';
import { namerOf } from '../../src/parse/csv-reader.ts';
import type { TreeObject } from '../../src/parse/tree.ts';

/** The loop `readCsv` used before. */
function namedByLoop(names: readonly string[], fields: string[]): TreeObject {
  const node: TreeObject = {};
  for (let i = 0; i < names.length; i++) {
    const value = fields[i + 1]!;
    if (value !== '') node[names[i]!] = value;
  }
  return node;
}

const name = fc.oneof(fc.string({ minLength: 1, maxLength: 8 }), fc.constantFrom('a"b', "it's", 'x\\y', '\u2028', '0', '12', 'constructor', 'toString', 'nameJa'));

describe('namerOf', () => {
  it('builds what the loop built, member for member and in order', () => {
    fc.assert(
      fc.property(fc.uniqueArray(name, { maxLength: 14 }), fc.array(fc.oneof(fc.constant(''), fc.string({ maxLength: 6 })), { minLength: 15, maxLength: 15 }), (names, fields) => {
        // The line as CSV, every field quoted, read from a table as readCsv reads it.
        const line = fields.map((field) => `"${field.replaceAll('"', '""')}"`).join(',');
        const table = new CsvTable(`${line}\r\n`);
        table.lineAt(0);
        const built = namerOf(names)(table);
        const expected = namedByLoop(names, fields);
        expect(Object.entries(built)).toEqual(Object.entries(expected));
        expect(Object.getPrototypeOf(built)).toBe(Object.prototype);
      }),
      { numRuns: 1000 },
    );
  });
});
