/**
 * The errors the gateway raises on purpose, with a stable code callers switch on. How
 * each becomes an HTTP answer is decided in one place, receive/problem.ts; the command
 * line maps them to its exit statuses.
 */
export type ErrorCode = 'document-invalid' | 'mapping-invalid' | 'usage' | 'batch-inapplicable';

/** Base class of every error the gateway raises on purpose. */
export class GatewayError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'GatewayError';
    this.code = code;
  }
}

/** A fault of the document as a whole (PROTOCOL.md §3): nothing of it is accepted. */
export class DocumentInvalidError extends GatewayError {
  /** Where the fault is: `line:column`, an XPath or a JSON Pointer. */
  readonly place: string;
  constructor(message: string, place: string) {
    super('document-invalid', message);
    this.name = 'DocumentInvalidError';
    this.place = place;
  }
}

/** A mapping file that cannot be used: stops the start, never a request. */
export class MappingInvalidError extends GatewayError {
  constructor(message: string) {
    super('mapping-invalid', message);
    this.name = 'MappingInvalidError';
  }
}

/** Why one record was rejected (or could not be written); the rest of the batch goes on. */
export interface RecordIssue {
  /** 0-based index of the record in its document. */
  index: number;
  /** The record key when it could be read, else null. */
  key: string | null;
  /** Where in the document: JSON Pointer, XPath or `line:column`. */
  pointer: string;
  /** The field, as a path in the format (`Address.City`, `mids[1].mid`). */
  field: string;
  code: RecordIssueCode;
  message: string;
}

export type RecordIssueCode =
  | 'required'
  | 'unknown-field'
  | 'repeated'
  | 'invalid-type'
  | 'invalid-value'
  | 'invalid-code'
  | 'invalid-date'
  | 'invalid-identifier'
  | 'control-character'
  | 'rule-violated'
  | 'duplicate-key'
  | 'not-writable';
