import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { textTransforms } from '../../src/translate/text-transforms.ts';

/** The house number as it was first written (split, filter, findIndex, join): the reference the faster one must match. */
function referenceParts(street: string): { number: string; rest: string } | undefined {
  const tokens = street.split(/\s+/).filter((t) => t !== '');
  const i = tokens.findIndex((t) => /\d/.test(t));
  if (i < 0) return undefined;
  return { number: tokens[i]!.replace(/,$/, ''), rest: tokens.filter((_, j) => j !== i).join(' ').replace(/^,\s*/, '') };
}

const street = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.stringMatching(/^[ \t\n,0-9a-zA-Z\u00a0\u2003]{0,20}$/),
  fc.constantFrom('1200 Commerce Dr', ' , 5, Calle', 'Calle Industrial 5', '  ', ',', '5,', 'A 1 B 2', '1,, B'),
);

describe('text transforms', () => {
  it('houseNumber and streetWithoutNumber give what the reference gives, asked in any order and twice', () => {
    fc.assert(
      fc.property(fc.array(street, { maxLength: 6 }), (streets) => {
        for (const s of [...streets, ...streets.toReversed()]) {
          expect(textTransforms.houseNumber(s)).toBe(referenceParts(s)?.number ?? 'S/N');
          expect(textTransforms.streetWithoutNumber(s)).toBe(referenceParts(s)?.rest || s);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
