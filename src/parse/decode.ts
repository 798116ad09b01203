/** Bytes to text: UTF-8 only, a leading byte-order mark tolerated and dropped. */
import { Buffer, isUtf8 } from 'node:buffer';
import { DocumentInvalidError } from '../errors.ts';

/** Decodes a document's bytes, refusing anything that is not UTF-8, at the line and column of the first bad byte. */
export function decodeUtf8(bytes: Uint8Array | string): string {
  if (typeof bytes === 'string') return bytes.charCodeAt(0) === 0xfeff ? bytes.slice(1) : bytes;
  // isUtf8 (simdutf) then Buffer's decoder: the same verdict as a fatal TextDecoder, at a fraction of its cost on a large document.
  if (isUtf8(bytes)) {
    const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
    return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  }
  const offset = firstInvalidByte(bytes);
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset; i++) {
    if (bytes[i] === 0x0a) {
      line++;
      lineStart = i + 1;
    }
  }
  throw new DocumentInvalidError(`the document is not valid UTF-8 (byte ${offset})`, `${line}:${offset - lineStart + 1}`);
}

/** Offset of the first byte that does not begin a well-formed UTF-8 sequence (RFC 3629). */
export function firstInvalidByte(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    let need: number;
    let min = 0x80;
    let max = 0xbf;
    if (b < 0x80) {
      i++;
      continue;
    } else if (b >= 0xc2 && b <= 0xdf) need = 1;
    else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      if (b === 0xe0) min = 0xa0; // no overlong forms
      if (b === 0xed) max = 0x9f; // no surrogates
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      if (b === 0xf0) min = 0x90;
      if (b === 0xf4) max = 0x8f; // nothing above U+10FFFF
    } else return i;
    for (let k = 1; k <= need; k++) {
      const c = bytes[i + k];
      if (c === undefined || c < (k === 1 ? min : 0x80) || c > (k === 1 ? max : 0xbf)) return i;
    }
    i += need + 1;
  }
  return bytes.length;
}

/**
 * UTF-8 decoding of a document that arrives in pieces, with the same faults and places as
 * `decodeUtf8`. A sequence cut between two pieces is held back until the next one.
 * `lineOfEnd` gives the 1-based line where the text decoded so far ends (the consumer
 * counts lines anyway, so the bytes are not scanned twice).
 */
export class Utf8Pieces {
  private readonly decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });
  /** Bytes before the current piece, and of those, how many follow the last line feed. */
  private bytesBefore = 0;
  private lineBytesBefore = 0;
  /** The end of the previous piece that did not complete a sequence (held by the decoder). */
  private held: Uint8Array = new Uint8Array(0);

  constructor(private readonly lineOfEnd: () => number) {}

  decode(piece: Uint8Array): string {
    try {
      const text = this.decoder.decode(piece, { stream: true });
      this.advance(piece);
      return text;
    } catch {
      this.refuse(piece);
    }
  }

  end(): string {
    try {
      return this.decoder.decode();
    } catch {
      this.refuse(new Uint8Array(0));
    }
  }

  private advance(piece: Uint8Array): void {
    const newline = piece.lastIndexOf(0x0a);
    this.lineBytesBefore = newline === -1 ? this.lineBytesBefore + piece.length : piece.length - newline - 1;
    this.bytesBefore += piece.length;
    this.held = incompleteTail(this.held, piece);
  }

  private refuse(piece: Uint8Array): never {
    const bytes = new Uint8Array(this.held.length + piece.length);
    bytes.set(this.held);
    bytes.set(piece, this.held.length);
    const offset = firstInvalidByte(bytes);
    const start = this.bytesBefore - this.held.length;
    let line = this.lineOfEnd();
    let lineStart = -(this.lineBytesBefore - this.held.length);
    for (let i = this.held.length; i < offset; i++) {
      if (bytes[i] === 0x0a) {
        line++;
        lineStart = i + 1;
      }
    }
    throw new DocumentInvalidError(`the document is not valid UTF-8 (byte ${start + offset})`, `${line}:${offset - lineStart + 1}`);
  }
}

/** The bytes at the end of `piece` (after `held`) that begin a sequence not yet complete. */
function incompleteTail(held: Uint8Array, piece: Uint8Array): Uint8Array {
  const joined = piece.length >= 4 ? piece : new Uint8Array([...held, ...piece]);
  for (let back = 1; back <= Math.min(4, joined.length); back++) {
    const b = joined[joined.length - back]!;
    if (b < 0x80) return new Uint8Array(0);
    if (b >= 0xc0) {
      const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : 2;
      return need > back ? joined.slice(joined.length - back) : new Uint8Array(0);
    }
  }
  return new Uint8Array(0);
}
