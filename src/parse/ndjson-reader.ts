/**
 * NDJSON (one JSON object a line, LF or CRLF) to the syntax-neutral tree. A line that is
 * not JSON rejects only that line's record: a full export must not lose its good lines
 * to one bad one (FORMATS.md, C-TPAT member export).
 */
import { decodeUtf8, firstInvalidByte } from './decode.ts';
import { LONE_SURROGATE, MAX_JSON_DEPTH, mayHoldLoneSurrogates, membersWithin, pruneTooDeep, replaceLoneSurrogates } from './json-values.ts';
import { formatPath, type ReaderFault, type RecordNode, type RecordVisitor, type SyntaxTree, type TreeValue } from './tree.ts';

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
    if (fault !== undefined) return visit({ node: null, line: i + 1, faults: [{ path: [], code: 'invalid-type', message: fault }] }, index);
    const faults = valueFaults(node, typeof line === 'string' && mayHoldLoneSurrogates(line));
    visit(faults.length === 0 ? { node, line: i + 1 } : { node, line: i + 1, faults }, index);
  });
  return {
    envelope: {},
    recordCount: lineOf.length,
    textual: false,
    envelopePointer: () => '1:1',
    recordPointer: (index) => `${lineOf[index] ?? 0}:1`,
  };
}

/** What no later walk may meet in a line's value: nesting past the bound, lone surrogates (both cut out where they are). */
function valueFaults(node: TreeValue, surrogatesPossible: boolean): ReaderFault[] {
  const faults: ReaderFault[] = [];
  if (membersWithin(node) < 0) {
    for (const path of pruneTooDeep(node)) faults.push({ path, code: 'invalid-type', message: `${formatPath(path)} nests deeper than ${MAX_JSON_DEPTH} levels` });
  }
  if (surrogatesPossible) {
    for (const path of replaceLoneSurrogates(node)) faults.push({ path, code: 'invalid-value', message: `${formatPath(path) || 'the record'} ${LONE_SURROGATE}` });
  }
  return faults;
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
