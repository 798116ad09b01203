/**
 * The digest of a record as written for a partner is what the previous digest gave, for
 * any JSON data: partners' sent_members hold digests taken the old way, and a changed
 * digest would resend every member once. The previous code is kept here as the reference.
 */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Operator } from '../../src/canonical/operator.ts';
import { digestOf } from '../../src/deliver/plan-document.ts';

// --- The previous digest (src/deliver/plan-document.ts at commit 978e7bf), the reference. ---

function previousStableJson(value: unknown): string {
  if (typeof value !== 'object' || value === null) return JSON.stringify(value);
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out += ',';
      const item: unknown = value[i];
      if (item !== undefined) out += previousStableJson(item);
    }
    return `${out}]`;
  }
  const bag = value as Record<string, unknown>;
  const keys = Object.keys(bag).sort();
  let out = '{';
  for (const key of keys) {
    const member = bag[key];
    if (member === undefined) continue;
    if (out.length > 1) out += ',';
    out += `${JSON.stringify(key)}:`;
    out += previousStableJson(member);
  }
  return `${out}}`;
}

const previousDigest = (record: unknown) => createHash('sha256').update(previousStableJson(record)).digest('base64url');

describe('the digest of a record', () => {
  // Keys that sort differently by code unit than by any other order, integer-like keys, and members left undefined.
  const key = fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom('a', 'B', 'b', '10', '9', 'é', 'Z z', '', '\u{1F600}', '\uFF21'));
  const { value } = fc.letrec<{ value: unknown }>((tie) => ({
    value: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      fc.string(),
      // Every UTF-16 code unit, lone surrogates and control characters included: what JSON.stringify escapes.
      fc.string({ unit: 'binary' }),
      fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)) }),
      fc.constantFrom('"', '\\', '\u0000', '\u001f', '\u007f', '\u2028', '\ud800', '\udc00x', '\ud83d\ude00', 'é'),
      fc.double(),
      fc.integer(),
      fc.boolean(),
      fc.constant(null),
      fc.constant(undefined),
      fc.array(tie('value'), { maxLength: 4 }),
      fc.dictionary(key, tie('value'), { maxKeys: 6 }),
    ),
  }));

  it('is what the previous digest gave, for any JSON data', () => {
    fc.assert(
      fc.property(fc.dictionary(key, value, { maxKeys: 8 }), (record) => {
        expect(digestOf(record as unknown as Operator)).toBe(previousDigest(record));
      }),
      { numRuns: 1000 },
    );
  });
});
