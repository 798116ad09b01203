/**
 * `memberCheck` (a switch per level, generated) must find exactly what `unknownMembers`
 * (a Map look-up per member), which it replaced on the hot path, finds: the same faults,
 * in the same order, for the shape of every format's records, in both kinds of syntax.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { TreeValue } from '../../src/parse/tree.ts';
import type { Shape } from '../../src/translate/compile.ts';
import { loadFormats } from '../../src/translate/load-mappings.ts';
import { memberCheck, unknownMembers, type FieldIssue } from '../../src/translate/read-record.ts';

const formats = [...loadFormats().values()];

/** Every member name a shape knows, at any depth, and some it does not. */
function namesOf(shape: Shape, into = new Set<string>(['Extra', '@extra', '#text', '__proto__', '0'])): Set<string> {
  for (const [name, sub] of shape.members) {
    into.add(name);
    namesOf(sub, into);
  }
  return into;
}

function tree(names: string[]): fc.Arbitrary<TreeValue> {
  const { node } = fc.letrec<{ node: TreeValue }>((tie) => ({
    node: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      fc.constantFrom<TreeValue>('x', '', 1, true, null),
      fc.array(tie('node'), { maxLength: 3 }),
      fc.dictionary(fc.constantFrom(...names), tie('node'), { maxKeys: 6 }),
    ),
  }));
  return node;
}

describe.each(formats.map((f) => [f.id, f] as const))('memberCheck for %s', (_id, format) => {
  const names = [...namesOf(format.recordShape)];
  it.each([true, false])('finds what unknownMembers finds (textual: %s)', (textual) => {
    const check = memberCheck(format.recordShape, textual);
    fc.assert(
      fc.property(tree(names), (node) => {
        const expected: FieldIssue[] = [];
        unknownMembers(node, format.recordShape, expected, textual);
        const found: FieldIssue[] = [];
        check(node, found);
        expect(found).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });
});
