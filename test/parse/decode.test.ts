import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeUtf8 } from '../../src/parse/decode.ts';

const fatal = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/** What a fatal TextDecoder (the decoder this module used before) makes of the bytes. */
function reference(bytes: Uint8Array): string | undefined {
  try {
    return fatal.decode(bytes);
  } catch {
    return undefined;
  }
}

function decoded(bytes: Uint8Array): string | undefined {
  try {
    return decodeUtf8(bytes);
  } catch {
    return undefined;
  }
}

// Bytes around every edge of UTF-8: overlong forms, surrogates, beyond U+10FFFF, cut sequences, a BOM.
const edgy = fc.array(fc.constantFrom(0x41, 0x0a, 0x80, 0xbf, 0xc0, 0xc2, 0xdf, 0xe0, 0xa0, 0xed, 0x9f, 0xef, 0xbb, 0xf0, 0x90, 0xf4, 0x8f, 0xf5, 0xff), { maxLength: 12 });

describe('decodeUtf8', () => {
  it('gives what a fatal TextDecoder gives, and refuses what it refuses', () => {
    fc.assert(
      fc.property(fc.oneof(edgy, fc.uint8Array({ maxLength: 16 })), (bytes) => {
        const array = Uint8Array.from(bytes);
        expect(decoded(array)).toBe(reference(array));
      }),
      { numRuns: 5_000 },
    );
  });

  it('drops one leading byte-order mark, also from a view into a larger buffer', () => {
    const whole = Uint8Array.from([0x20, 0xef, 0xbb, 0xbf, 0xef, 0xbb, 0xbf, 0x41, 0x20]);
    expect(decodeUtf8(whole.subarray(1, 8))).toBe('\ufeffA');
  });
});
