/** JSON to the syntax-neutral tree: the root object is the envelope, one member holds the records. */
import { parse as parseWithLocations } from '@humanwhocodes/momoa';
import { DocumentInvalidError } from '../errors.ts';
import { decodeUtf8 } from './decode.ts';
import { duplicateMembers, mayRepeatMembers } from './json-duplicates.ts';
import { LONE_SURROGATE, MAX_JSON_DEPTH, mayHoldControl, mayHoldLoneSurrogates, membersWithin, pruneTooDeep, replaceLoneSurrogates } from './json-values.ts';
import { formatPath, isObject, pointerSegment, type PathSegment, type ReaderFault, type RecordVisitor, type SyntaxTree, type TreeObject, type TreeValue } from './tree.ts';

export interface JsonLayout {
  /** Member of the root holding the array of records. */
  records: string;
}

/** Reads a JSON document laid out as an object with a records array. */
export function readJson(input: Uint8Array | string, layout: JsonLayout, visit: RecordVisitor): SyntaxTree {
  const text = decodeUtf8(input);
  const root = parseJson(text);
  if (!isObject(root)) throw new DocumentInvalidError('the document must be a JSON object', '');
  const { [layout.records]: records, ...envelope } = root as TreeObject;
  if (!Array.isArray(records)) throw new DocumentInvalidError(`${layout.records} must be an array`, `/${pointerSegment(layout.records)}`);

  const envelopeMembers = membersWithin(envelope);
  if (envelopeMembers < 0) throw new DocumentInvalidError(`the envelope nests deeper than ${MAX_JSON_DEPTH} levels`, '');
  const loneSurrogates = mayHoldLoneSurrogates(text);
  if (loneSurrogates) {
    const [place] = replaceLoneSurrogates(envelope);
    if (place) throw new DocumentInvalidError(`${formatPath(place)} ${LONE_SURROGATE}`, jsonPointer(place));
  }

  // Faults of single records: too deep to read at all, text that is not text, a repeated member.
  const faultsOf = new Map<number, ReaderFault[]>();
  const addFault = (index: number, fault: ReaderFault) => {
    const faults = faultsOf.get(index);
    if (faults) faults.push(fault);
    else faultsOf.set(index, [fault]);
  };
  let members = envelopeMembers + 1; // the records member itself
  for (let index = 0; index < records.length; index++) {
    const record = records[index] as TreeValue;
    let within = membersWithin(record);
    if (within < 0) {
      // Cut where it is too deep, so that no walk goes down further and the rest (the key) can still be read.
      for (const path of pruneTooDeep(record)) addFault(index, { path, code: 'invalid-type', message: `${formatPath(path)} nests deeper than ${MAX_JSON_DEPTH} levels` });
      within = membersWithin(record);
    }
    members += within;
    if (!loneSurrogates) continue;
    for (const path of replaceLoneSurrogates(record)) addFault(index, { path, code: 'invalid-value', message: `${formatPath(path) || 'the record'} ${LONE_SURROGATE}` });
  }

  // A repeated member inside a record rejects that record; anywhere else, the document.
  for (const path of mayRepeatMembers(text, members) ? duplicateMembers(text) : []) {
    const [top, index, ...inside] = path;
    if (top !== layout.records || typeof index !== 'number') throw new DocumentInvalidError(`member ${String(path[path.length - 1])} appears twice in one object`, jsonPointer(path));
    addFault(index, { path: inside, code: 'repeated', message: `${formatPath(inside)} appears twice; only one value is allowed` });
  }
  // Checked once for the whole text, so that the record reader need not look at every value (RecordNode.controlFree).
  const controlFree = !mayHoldControl(text, typeof input === 'string' ? undefined : input);
  records.forEach((node, index) => {
    const faults = faultsOf.get(index);
    visit(faults ? { node, faults, controlFree } : { node, controlFree }, index);
  });
  return {
    envelope,
    recordCount: records.length,
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
    throw new DocumentInvalidError(`not well-formed JSON: ${message.replace(/ in JSON at position \d+.*$/s, '').replace(/, ".*" is not valid JSON$/s, '')}`, syntaxErrorPlace(text, message, line));
  }
}

/**
 * Where JSON.parse stopped. V8 gives a position for some errors and none for an
 * unexpected token; for those momoa, a JSON parser that keeps locations, is asked (only
 * on this error path, so its cost never touches a good document).
 */
function syntaxErrorPlace(text: string, message: string, firstLine = 1): string {
  if (message.includes('Unexpected end of JSON input')) return lineColumn(text, text.length, firstLine);
  const at = /position (\d+)/.exec(message);
  if (at) return lineColumn(text, Number(at[1]), firstLine);
  try {
    parseWithLocations(text);
  } catch (error) {
    const { line, column } = error as { line?: number; column?: number };
    if (line !== undefined && column !== undefined) return `${firstLine + line - 1}:${column}`;
  }
  return `${firstLine}:1`;
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
