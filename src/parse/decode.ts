/** Bytes to text: UTF-8 only, a leading byte-order mark tolerated and dropped. */
import { DocumentInvalidError } from '../errors.ts';

const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/** Decodes a document's bytes, refusing anything that is not UTF-8. */
export function decodeUtf8(bytes: Uint8Array | string): string {
  if (typeof bytes === 'string') return bytes.charCodeAt(0) === 0xfeff ? bytes.slice(1) : bytes;
  try {
    // TextDecoder drops a leading BOM itself (ignoreBOM: false).
    return decoder.decode(bytes);
  } catch {
    throw new DocumentInvalidError('the document is not valid UTF-8', `byte ${firstInvalidByte(bytes)}`);
  }
}

function firstInvalidByte(bytes: Uint8Array): number {
  for (let end = 1; end <= bytes.length; end *= 2) {
    try {
      new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(0, end), { stream: true });
    } catch {
      return Math.max(0, end / 2);
    }
  }
  return 0;
}
