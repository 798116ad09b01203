/**
 * The syntax-neutral tree every reader produces and every writer consumes. JSON maps
 * onto it as it is; XML puts attributes under `@name` and an element's own text under
 * `#text` (a leaf without attributes is just its text); CSV gives one object per line,
 * keyed by the column names the mapping declares. The mapping engine only ever sees this.
 */
export type TreeValue = string | number | boolean | null | TreeValue[] | TreeObject;
export interface TreeObject {
  [key: string]: TreeValue;
}

/** A record as read, with what a reader knows of its place in the document. */
export interface RecordNode {
  node: TreeValue;
  /** 1-based line where the record starts, where the syntax has lines. */
  line?: number;
  /**
   * Faults the reader found in the record itself: a repeated JSON member, a lone
   * surrogate, or (with an empty path) why it could not be read at all (an NDJSON line
   * that is not JSON, a record nested too deep).
   */
  faults?: ReaderFault[];
  /**
   * True when no value of the record can hold a control character other than TAB, LF and
   * CR: the reader refused every one as a fault of the document (XML), or found none in
   * the whole document (CSV, JSON). The record's values are then not scanned one by one.
   */
  controlFree?: boolean;
}

export interface ReaderFault {
  path: PathSegment[];
  code: 'repeated' | 'invalid-type' | 'invalid-value';
  message: string;
}

/** Called once per record, in document order, as the reader reaches it. */
export type RecordVisitor = (record: RecordNode, index: number) => void;

/**
 * A document read through: its envelope, how many records it had (each was handed to
 * the visitor and need not be kept), and how to name a place in it.
 */
export interface SyntaxTree {
  envelope: TreeObject;
  recordCount: number;
  /** Whether scalar values arrive as text (XML, CSV) rather than typed (JSON). */
  textual: boolean;
  /** Names a place in the envelope, for a document-level error. */
  envelopePointer(path: readonly PathSegment[]): string;
  /** Names a place in record `index`, for a record-level error. */
  recordPointer(index: number, path: readonly PathSegment[]): string;
}

/**
 * A reader fed the document piece by piece as it arrives (the request body, or the stored
 * body read back in slices), handing each record to its visitor as soon as the record is
 * complete, so that no tree of the whole document is built and the work interleaves with
 * the rest of the process.
 */
export interface IncrementalReader {
  /** Takes the next bytes of the document; may throw the document's first fault. */
  write(chunk: Uint8Array): void;
  /** The document is complete: its last checks, then what was read. */
  end(): SyntaxTree;
}

/** A member or element name, or a 0-based position in a list. */
export type PathSegment = string | number;

export const TEXT = '#text';

export function isObject(value: TreeValue | undefined): value is TreeObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Splits a mapping path (`Address.City`, `TIN.@scheme`, `.`) into segments. */
export function splitPath(path: string): string[] {
  return path === '.' || path === '' ? [] : path.split('.');
}

/** Escapes one JSON Pointer segment (RFC 6901). */
export function pointerSegment(segment: string): string {
  return segment.replaceAll('~', '~0').replaceAll('/', '~1');
}

/** A format path for people: `Address.City`, `mids[1].mid`. */
export function formatPath(path: readonly PathSegment[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else out += out === '' ? segment : `.${segment}`;
  }
  return out;
}
