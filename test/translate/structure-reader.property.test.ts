/**
 * Object and list fields are read by generated functions (`structureFieldReader`); they
 * must give what the generic closures they replaced (`genericFieldReader`) gave: the same
 * canonical values and the same faults, in the same order, for every such field of every
 * format, in both kinds of syntax, on trees near and far from the mapping's shape.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { PathSegment, TreeValue } from '../../src/parse/tree.ts';
import type { CompiledField, Shape } from '../../src/translate/compile.ts';
import { loadFormats } from '../../src/translate/load-mappings.ts';
import { fieldReader, genericFieldReader, type FieldIssue } from '../../src/translate/read-record.ts';

const formats = [...loadFormats().values()];

function namesOf(shape: Shape, into = new Set<string>(['Extra', '#text'])): Set<string> {
  for (const [name, sub] of shape.members) {
    into.add(name);
    namesOf(sub, into);
  }
  return into;
}

function tree(names: string[]): fc.Arbitrary<TreeValue> {
  const scalar = fc.constantFrom<TreeValue>('x', '', 'DE12345678901', '2020-01-01', 'VALID', 'true', 'a|b', 'a||b', 1, true, null);
  const { node } = fc.letrec<{ node: TreeValue }>((tie) => ({
    node: fc.oneof({ depthSize: 'small', withCrossShrink: true }, scalar, fc.array(tie('node'), { maxLength: 3 }), fc.dictionary(fc.constantFrom(...names), tie('node'), { maxKeys: 6 })),
  }));
  return fc.dictionary(fc.constantFrom(...names), node, { maxKeys: 8 });
}

const structures = formats.flatMap((format) =>
  format.recordFields.filter((f) => f.kind === 'object' || f.kind === 'list').map((field) => [`${format.id} ${field.canonical.join('.')}`, field, format.recordShape] as const),
);

function run(read: (node: TreeValue, out: Record<string, unknown>, issues: FieldIssue[], at: PathSegment[]) => void, node: TreeValue) {
  const out: Record<string, unknown> = {};
  const issues: FieldIssue[] = [];
  const at: PathSegment[] = ['lead'];
  read(node, out, issues, at);
  return { out, issues, at };
}

describe.each(structures)('%s', (_name, field: CompiledField, shape: Shape) => {
  const names = [...namesOf(shape)];
  it.each([true, false])('reads as the generic reader read (textual: %s)', (textual) => {
    const fast = fieldReader(field, textual);
    const generic = genericFieldReader(field, textual);
    fc.assert(
      fc.property(tree(names), (node) => {
        expect(run(fast, node)).toEqual(run(generic, node));
      }),
      { numRuns: 300 },
    );
  });
});
