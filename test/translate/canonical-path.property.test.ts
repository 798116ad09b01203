/**
 * `setterAt` (generated, making missing objects as literals) must leave a canonical
 * object exactly as `setAt` (the loop) leaves it: the same members, in the same order,
 * whatever was already there.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { setAt, setterAt } from '../../src/translate/canonical-path.ts';

const name = fc.oneof(fc.constantFrom('a', 'b', 'status', 'code', '0', '12', 'a"b', "it's", '\\', '\u2028', 'constructor'), fc.string({ minLength: 1, maxLength: 5 }));
const value = fc.oneof(fc.string({ maxLength: 4 }), fc.integer(), fc.boolean(), fc.constant(null), fc.constant([]));
const bag = fc.dictionary(name, fc.oneof(value, fc.dictionary(name, value, { maxKeys: 3 })), { maxKeys: 4 });

/** Members and their order, at every depth. */
const entries = (v: unknown): unknown => (typeof v === 'object' && v !== null && !Array.isArray(v) ? Object.entries(v).map(([k, x]) => [k, entries(x)]) : v);

describe('setterAt', () => {
  it('stores as setAt stores', () => {
    fc.assert(
      fc.property(fc.array(name, { minLength: 1, maxLength: 4 }), bag, value, (path, start, v) => {
        const expected = structuredClone(start);
        setAt(expected, path, v);
        const got = structuredClone(start);
        setterAt(path)(got, v);
        expect(entries(got)).toEqual(entries(expected));
      }),
      { numRuns: 2000 },
    );
  });

  // Only the last segment: a path through __proto__ would reach Object.prototype, in both.
  it('stores at __proto__ as setAt does', () => {
    for (const path of [['__proto__'], ['a', '__proto__']]) {
      const expected = {};
      setAt(expected, path, 1);
      const got = {};
      setterAt(path)(got, 1);
      expect(entries(got)).toEqual(entries(expected));
      expect(Object.getPrototypeOf(got)).toBe(Object.getPrototypeOf(expected));
    }
  });
});
