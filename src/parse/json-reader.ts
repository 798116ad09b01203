/** JSON to the syntax-neutral tree: the root object is the envelope, one member holds the records. */
import { DocumentInvalidError } from '../errors.ts';
import { decodeUtf8 } from './decode.ts';
import { isObject, pointerSegment, type PathSegment, type SyntaxTree, type TreeObject, type TreeValue } from './tree.ts';

export interface JsonLayout {
  /** Member of the root holding the array of records. */
  records: string;
}

/** Reads a JSON document laid out as an object with a records array. */
export function readJson(input: Uint8Array | string, layout: JsonLayout): SyntaxTree {
  const root = parseJson(decodeUtf8(input));
  if (!isObject(root)) throw new DocumentInvalidError('the document must be a JSON object', '/');
  const { [layout.records]: records, ...envelope } = root as TreeObject;
  if (!Array.isArray(records)) throw new DocumentInvalidError(`${layout.records} must be an array`, `/${pointerSegment(layout.records)}`);
  return {
    envelope,
    records: records.map((node) => ({ node })),
    textual: false,
    envelopePointer: (path) => jsonPointer(path),
    recordPointer: (index, path) => jsonPointer([layout.records, index, ...path]),
  };
}

/** JSON.parse, its error turned into a document fault that names the place. */
export function parseJson(text: string, line?: number): TreeValue {
  try {
    return JSON.parse(text) as TreeValue;
  } catch (error) {
    const message = (error as Error).message;
    const at = /position (\d+)/.exec(message);
    const place = at ? lineColumn(text, Number(at[1]), line) : `${line ?? 1}:1`;
    throw new DocumentInvalidError(`not well-formed JSON: ${message.replace(/ in JSON at position \d+.*$/s, '')}`, place);
  }
}

function lineColumn(text: string, offset: number, firstLine = 1): string {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  const column = offset - before.lastIndexOf('\n');
  return `${firstLine + line - 1}:${column}`;
}

/** RFC 6901 JSON Pointer of a path. */
export function jsonPointer(path: readonly PathSegment[]): string {
  return path.length === 0 ? '' : `/${path.map((s) => pointerSegment(String(s))).join('/')}`;
}
