/**
 * NDJSON (one JSON object a line, LF or CRLF) to the syntax-neutral tree. A line that is
 * not JSON rejects only that line's record: a full export must not lose its good lines
 * to one bad one (FORMATS.md, C-TPAT member export).
 */
import { decodeUtf8, firstInvalidByte } from './decode.ts';
import type { RecordNode, RecordVisitor, SyntaxTree } from './tree.ts';

/** Reads an NDJSON document; a line that is not a JSON object is a record with `fault` set and no node. */
export function readNdjson(input: Uint8Array | string, visit: RecordVisitor): SyntaxTree {
  const lines = splitLines(input);
  const lineOf: number[] = [];
  lines.forEach((raw, i) => {
    const line = typeof raw === 'string' && raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (typeof line === 'string' && line.trim() === '') return; // blank lines between records carry nothing
    let node: RecordNode['node'] = null;
    let fault: string | undefined;
    try {
      if (typeof line !== 'string') throw line;
      node = JSON.parse(line) as RecordNode['node'];
      if (typeof node !== 'object' || node === null || Array.isArray(node)) throw new Error('a line must hold one JSON object');
    } catch (error) {
      fault = `line ${i + 1} is not a JSON object: ${(error as Error).message.replace(/ in JSON at position.*$/s, '').replace(/, ".*" is not valid JSON$/s, '')}`;
    }
    const index = lineOf.push(i + 1) - 1;
    visit(fault === undefined ? { node, line: i + 1 } : { node: null, line: i + 1, faults: [{ path: [], code: 'invalid-type', message: fault }] }, index);
  });
  return {
    envelope: {},
    recordCount: lineOf.length,
    textual: false,
    envelopePointer: () => '1:1',
    recordPointer: (index) => `${lineOf[index] ?? 0}:1`,
  };
}

/**
 * The document's lines, each decoded on its own: a line that is not UTF-8 is kept as the
 * error it gave, so that it rejects only itself.
 */
function splitLines(input: Uint8Array | string): (string | Error)[] {
  if (typeof input === 'string') {
    const lines = decodeUtf8(input).split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    return lines;
  }
  const lines: (string | Error)[] = [];
  let start = input[0] === 0xef && input[1] === 0xbb && input[2] === 0xbf ? 3 : 0;
  while (start < input.length) {
    let end = input.indexOf(0x0a, start);
    if (end < 0) end = input.length;
    try {
      lines.push(decodeUtf8(input.subarray(start, end)));
    } catch {
      lines.push(new Error(`not valid UTF-8 at byte ${firstInvalidByte(input.subarray(start, end)) + 1} of the line`));
    }
    start = end + 1;
  }
  return lines;
}
