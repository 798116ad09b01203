import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { DocumentInvalidError } from '../../src/errors.ts';
import { decodeUtf8, firstInvalidByte, Utf8Pieces } from '../../src/parse/decode.ts';

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

/** The pieces' text, or the fault's message and place: through `Utf8Pieces`, whose line counter here counts the text it gave. */
function inPieces(pieces: Uint8Array[]): string | { message: string; place: string } {
  let text = '';
  const utf8 = new Utf8Pieces(() => text.split('\n').length);
  try {
    for (const piece of pieces) text += utf8.decode(piece);
    return text + utf8.end();
  } catch (error) {
    const fault = error as DocumentInvalidError;
    return { message: fault.message, place: fault.place };
  }
}

/**
 * The same through a fatal streaming TextDecoder (what `Utf8Pieces` used before): its
 * verdict, and on a fault the byte and place the module names for it.
 */
function streamedReference(pieces: Uint8Array[]): string | { message: string; place: string } {
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });
  let text = '';
  try {
    for (const piece of pieces) text += decoder.decode(piece, { stream: true });
    return text + decoder.decode();
  } catch {
    const all = Buffer.concat(pieces);
    const offset = firstInvalidByte(all);
    let line = 1;
    let lineStart = 0;
    for (let i = 0; i < offset; i++) {
      if (all[i] === 0x0a) {
        line++;
        lineStart = i + 1;
      }
    }
    return { message: `the document is not valid UTF-8 (byte ${offset})`, place: `${line}:${offset - lineStart + 1}` };
  }
}

describe('Utf8Pieces', () => {
  it('gives what a fatal streaming TextDecoder gives, wherever the pieces are cut, and names the same byte and place', () => {
    const cuts = fc.array(fc.nat(20), { maxLength: 4 });
    fc.assert(
      fc.property(fc.oneof(edgy.map((b) => Uint8Array.from(b)), fc.uint8Array({ maxLength: 16 })), cuts, (bytes, at) => {
        const points = [...new Set(at.map((n) => n % (bytes.length + 1)))].sort((a, b) => a - b);
        const pieces: Uint8Array[] = [];
        let from = 0;
        for (const point of [...points, bytes.length]) {
          pieces.push(bytes.subarray(from, point));
          from = point;
        }
        expect(inPieces(pieces)).toEqual(streamedReference(pieces));
      }),
      { numRuns: 3000 },
    );
  });

  it('drops a byte-order mark only at the very start, even when it arrives a byte at a time', () => {
    const bom = [0xef, 0xbb, 0xbf];
    expect(inPieces([Uint8Array.of(bom[0]!), Uint8Array.of(bom[1]!), Uint8Array.of(bom[2]!, 0x41)])).toBe('A');
    expect(inPieces([Uint8Array.of(0x41), Uint8Array.of(...bom)])).toBe('A\ufeff');
  });
});
