import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { duplicateMembers, mayRepeatMembers } from '../../src/parse/json-duplicates.ts';
import { membersWithin } from '../../src/parse/json-values.ts';

const may = (text: string) => mayRepeatMembers(text, membersWithin(JSON.parse(text), Infinity));

describe('mayRepeatMembers, the cheap test before the precise scan', () => {
  it('clears documents whose every member name is kept', () => {
    for (const text of ['{}', '[]', '"a:b"', '{"a": 1, "b": {"a": [1, {"a": 2}]}}', '{ "a" :\n\t"x:y", "c" : "\\"" }', '[{"a":1},{"a":1}]', '{"__proto__": 1, "b": 2}']) {
      expect(may(text), text).toBe(false);
      expect(duplicateMembers(text)).toEqual([]);
    }
  });

  it('never clears a document that repeats a member, at any depth', () => {
    for (const text of ['{"a": 1, "a": 2}', '{"x": [{"b": 1, "c": 2, "b": 3}]}', '{"a" : 1, "a"\n: 2}', '{"k": {"a\\u0022": 1, "a\\"": 2}}']) {
      expect(may(text), text).toBe(true);
      expect(duplicateMembers(text).length).toBeGreaterThan(0);
    }
  });

  it('sends a string holding an escaped quote before a colon to the precise scan, which finds nothing', () => {
    const text = '{"a": "say \\":\\" twice"}';
    expect(may(text)).toBe(true);
    expect(duplicateMembers(text)).toEqual([]);
  });

  it('counts members of a document nested deeper than the call stack allows recursion', () => {
    const depth = 100_000;
    const text = `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
    expect(may(text)).toBe(false);
  });

  it('clears any value JSON.stringify wrote (it never repeats a member), counting every member at every depth', () => {
    // Strings without quotes or colons: a string holding `":` is sent to the precise scan by design (above).
    const value = fc.jsonValue({ stringUnit: fc.constantFrom('a', 'é', ' ', '{', '[', ',', '\n') });
    fc.assert(
      fc.property(value, fc.constantFrom(undefined, 1, '\t'), (value, indent) => {
        const text = JSON.stringify(value, null, indent);
        expect(may(text)).toBe(false);
      }),
      { numRuns: 500 },
    );
  });

  it('never clears a stringified value with one member repeated', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue(), { minKeys: 1 }), (object) => {
        const text = JSON.stringify(object);
        const [name] = Object.keys(object);
        const repeated = `${text.slice(0, -1)},${JSON.stringify(name)}:0}`;
        expect(may(repeated)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});
