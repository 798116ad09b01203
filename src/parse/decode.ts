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
  /** Bytes before the current piece, and of those, how many follow the last line feed. */
  private bytesBefore = 0;
  private lineBytesBefore = 0;
  /** The end of the previous piece: the start of a sequence the next piece completes. */
  private held: Uint8Array = new Uint8Array(0);
  /** Whether any text came out yet: a byte-order mark is dropped only at the very start. */
  private started = false;

  constructor(private readonly lineOfEnd: () => number) {}

  /**
   * isUtf8 (simdutf) then Buffer's decoder, as in `decodeUtf8`: a fatal streaming
   * TextDecoder, used before, cost about as much as the whole XML scan (issue 10). A tail
   * that is a valid start of a sequence is held for the next piece, as the decoder held it.
   */
  decode(piece: Uint8Array): string {
    const joined = this.held.length === 0 ? piece : concat(this.held, piece);
    const keep = pendingTail(joined);
    const body = keep === 0 ? joined : joined.subarray(0, joined.length - keep);
    if (!isUtf8(body)) this.refuse(piece);
    let text = Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8');
    if (!this.started && text !== '') {
      this.started = true;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    this.advance(piece, keep === 0 ? EMPTY : joined.slice(joined.length - keep));
    return text;
  }

  end(): string {
    // A sequence still open when the document ends is cut short.
    if (this.held.length > 0) this.refuse(EMPTY);
    return '';
  }

  private advance(piece: Uint8Array, held: Uint8Array): void {
    const newline = piece.lastIndexOf(0x0a);
    this.lineBytesBefore = newline === -1 ? this.lineBytesBefore + piece.length : piece.length - newline - 1;
    this.bytesBefore += piece.length;
    this.held = held;
  }

  private refuse(piece: Uint8Array): never {
    const bytes = concat(this.held, piece);
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

const EMPTY = new Uint8Array(0);

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const bytes = new Uint8Array(a.length + b.length);
  bytes.set(a);
  bytes.set(b, a.length);
  return bytes;
}

/**
 * How many bytes at the end of `bytes` begin a sequence that is valid so far but not
 * complete (0 to 3): what a streaming decoder holds for the next piece. Anything else
 * (a complete sequence, or one already wrong) is 0, and isUtf8 judges it.
 */
export function pendingTail(bytes: Uint8Array): number {
  const length = bytes.length;
  for (let back = 1; back <= 3 && back <= length; back++) {
    const b = bytes[length - back]!;
    if (b < 0x80) return 0;
    if (b <= 0xbf) continue;
    let need: number;
    let min = 0x80;
    let max = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) need = 1;
    else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      if (b === 0xe0) min = 0xa0;
      if (b === 0xed) max = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      if (b === 0xf0) min = 0x90;
      if (b === 0xf4) max = 0x8f;
    } else return 0;
    if (need < back) return 0;
    for (let k = 1; k < back; k++) {
      const c = bytes[length - back + k]!;
      if (c < (k === 1 ? min : 0x80) || c > (k === 1 ? max : 0xbf)) return 0;
    }
    return back;
  }
  return 0;
}
