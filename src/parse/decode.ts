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
