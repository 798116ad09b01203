/**
 * A field with a code table stores what its code stands for, through a generated switch
 * (read-record's codeSource) that replaced a Map of closures. Held here to the table
 * itself: for every coded field of every format, any value either stores exactly the
 * assignments `codesIn` lists for it, or is refused as `invalid-code`.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { PathSegment, TreeValue } from '../../src/parse/tree.ts';
import { setAt } from '../../src/translate/canonical-path.ts';
import type { CompiledField } from '../../src/translate/compile.ts';
import { loadFormats } from '../../src/translate/load-mappings.ts';
import { fieldReader, type FieldIssue } from '../../src/translate/read-record.ts';

function coded(fields: readonly CompiledField[]): CompiledField[] {
  return fields.flatMap((f) => (f.codesIn ? [f] : f.children ? coded(f.children) : []));
}

const fields = [...loadFormats().values()].flatMap((format) =>
  [...coded(format.recordFields), ...coded(format.envelopeFields)].map((field) => [`${format.id} ${field.path.join('.') || '.'}`, field] as const),
);

/** A node holding `value` at the field's format path. */
function holding(field: CompiledField, value: TreeValue): TreeValue {
  let node = value;
  for (const segment of [...field.path].reverse()) node = { [segment]: node };
  return node;
}

describe.each(fields)('%s', (_name, field) => {
  const codes = [...field.codesIn!.keys()];
  it.each([true, false])('stores what the table says, or refuses the code (textual: %s)', (textual) => {
    const read = fieldReader(field, textual);
    const value = fc.oneof(fc.constantFrom(...codes), fc.constantFrom(...codes).map((c) => c.toLowerCase()), fc.string({ minLength: 1, maxLength: 6 }), fc.integer(), fc.boolean());
    fc.assert(
      fc.property(value, (v) => {
        const out: Record<string, unknown> = {};
        const issues: FieldIssue[] = [];
        const at: PathSegment[] = [];
        read(holding(field, v), out, issues, at);
        const accepted = field.type.accept(v, textual);
        if (accepted === undefined || issues.some((i) => i.code !== 'invalid-code')) return;
        const assignments = field.codesIn!.get(String(accepted));
        if (assignments === undefined) {
          expect(issues.map((i) => i.code)).toEqual(['invalid-code']);
          expect(out).toEqual({});
          return;
        }
        const expected: Record<string, unknown> = {};
        for (const [path, to] of assignments) setAt(expected, path, to);
        expect(issues).toEqual([]);
        expect(out).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });
});
