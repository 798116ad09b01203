/**
 * NDJSON (one JSON object a line, LF or CRLF) to the syntax-neutral tree. A line that is
 * not JSON rejects only that line's record: a full export must not lose its good lines
 * to one bad one (FORMATS.md, C-TPAT member export).
 */
import { decodeUtf8 } from './decode.ts';
import type { RecordNode, SyntaxTree } from './tree.ts';

export interface NdjsonLine {
  line: number;
  /** Why the line could not be read as one JSON object, if it could not. */
  fault?: string;
}

/** Reads an NDJSON document; unreadable lines are records with `fault` set and no node. */
export function readNdjson(input: Uint8Array | string): SyntaxTree & { faults: Map<number, string> } {
  const text = decodeUtf8(input);
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const records: RecordNode[] = [];
  const faults = new Map<number, string>();
  lines.forEach((raw, i) => {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.trim() === '') return; // blank lines between records carry nothing
    try {
      const node = JSON.parse(line) as RecordNode['node'];
      if (typeof node !== 'object' || node === null || Array.isArray(node)) throw new Error('a line must hold one JSON object');
      records.push({ node, line: i + 1 });
    } catch (error) {
      faults.set(records.length, `line ${i + 1} is not a JSON object: ${(error as Error).message.replace(/ in JSON at position.*$/s, '')}`);
      records.push({ node: null, line: i + 1 });
    }
  });
  return {
    envelope: {},
    records,
    faults,
    textual: false,
    envelopePointer: () => '1:1',
    recordPointer: (index) => `${records[index]?.line ?? 0}:1`,
  };
}
