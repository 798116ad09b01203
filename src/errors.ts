/**
 * The gateway's one error vocabulary: `GatewayError` with a code from a closed set, and
 * one table that says, for each code, its HTTP status, its problem slug (PROTOCOL §8)
 * and whether trying again can succeed. The HTTP edge turns any error into
 * problem+json from this table (receive/problem.ts), workers stop retrying a job whose
 * error is not retryable, and the command line picks its exit status by code.
 */

/** What the table says of one code. */
export interface ErrorSpec {
  /** HTTP status of the answer. */
  status: number;
  /** Problem type `urn:mra:problem:<slug>`; null: no type of its own, answered as `internal` without details. */
  slug: string | null;
  /** The problem's title: one per slug. */
  title: string;
  /** Whether the same request or job may succeed later (busy, unavailable, rate-limited), unchanged. */
  retryable: boolean;
  /** WWW-Authenticate of a 401; the default names JWS-Signature (PROTOCOL §8). */
  challenge?: string;
  /** Retry-After when the error itself carries none. */
  retryAfterSeconds?: number;
}

const refused = <Slug extends string>(slug: Slug, title: string, status = 401) => ({ status, slug, title, retryable: false });
const internalOnly = { status: 500, slug: null, title: 'Internal error', retryable: false };

/** Every code, in one table: add a row to add a code. */
export const errorTable = {
  // A signed request refused (PROTOCOL §2, §3): the sender must fix it; trying again the same way fails again.
  'header-invalid': refused('header-invalid', 'Signature header invalid'),
  'unknown-key': refused('unknown-key', 'Unknown key'),
  'alg-not-allowed': refused('alg-not-allowed', 'Algorithm not allowed'),
  'audience-mismatch': refused('audience-mismatch', 'Audience mismatch'),
  'htm-mismatch': refused('htm-mismatch', 'Method mismatch'),
  'htu-mismatch': refused('htu-mismatch', 'Target mismatch'),
  'iat-out-of-window': refused('iat-out-of-window', 'Signature time out of window'),
  'signature-invalid': refused('signature-invalid', 'Signature invalid'),
  'unauthorized': refused('unauthorized', 'Unauthorized'),
  'partner-suspended': refused('partner-suspended', 'Partner suspended', 403),
  'forbidden': refused('forbidden', 'Forbidden', 403),
  'not-found': refused('not-found', 'Not found', 404),
  'jti-conflict': refused('jti-conflict', 'Request id already used', 409),
  'duplicate-batch': refused('duplicate-batch', 'Batch already accepted', 409),
  'conflict': refused('conflict', 'Conflict', 409),
  'payload-too-large': refused('payload-too-large', 'Payload too large', 413),
  'unsupported-media-type': refused('unsupported-media-type', 'Unsupported media type', 415),
  'bad-request': refused('bad-request', 'Bad request', 400),
  'document-invalid': refused('document-invalid', 'Document invalid', 422),

  // Staff bearer tokens (RUNNING.md STAFF_*): RFC 6750 challenges, so a client knows whether to fetch a new token.
  'staff-api-closed': { ...refused('unauthorized', 'Unauthorized'), challenge: 'Bearer' },
  'bearer-token-missing': { ...refused('unauthorized', 'Unauthorized'), challenge: 'Bearer' },
  'bearer-token-invalid': { ...refused('unauthorized', 'Unauthorized'), challenge: 'Bearer error="invalid_token"' },
  'staff-role-missing': refused('forbidden', 'Forbidden', 403),

  // Nobody's fault: the same request succeeds later.
  'request-timeout': { status: 408, slug: 'request-timeout', title: 'Request timeout', retryable: true },
  'rate-limited': { status: 429, slug: 'rate-limited', title: 'Too many requests', retryable: true },
  'busy': { status: 503, slug: 'busy', title: 'Busy', retryable: true, retryAfterSeconds: 1 },
  'unavailable': { status: 503, slug: 'unavailable', title: 'Unavailable', retryable: true },
  'store-unavailable': { status: 503, slug: 'unavailable', title: 'Unavailable', retryable: true, retryAfterSeconds: 5 },
  // The identity provider's key set is fetched with a 5 s timeout; 30 s spares a provider that is down.
  'identity-provider-unavailable': { status: 503, slug: 'unavailable', title: 'Unavailable', retryable: true, retryAfterSeconds: 30 },
  // Anything the gateway did not raise on purpose: may be passing, so a job is tried again.
  // Answered as `urn:mra:problem:internal` (PROTOCOL §8), never with its message (receive/problem.ts).
  'internal': { ...internalOnly, slug: 'internal', retryable: true },

  // Raised at start or by the command line, never an answer of their own (a 500 without details if one escapes).
  'settings-invalid': internalOnly,
  'mapping-invalid': internalOnly,
  'registry-invalid': internalOnly,
  'signing-key-invalid': internalOnly,
  'usage': internalOnly,
  // A job whose batch cannot be applied however often it is tried (its exchange, partner or format is gone).
  'batch-inapplicable': internalOnly,
  // Offline verification of a gateway-signed object (receipts, status assertions; keys/verify-signed.ts).
  'signed-object-malformed': internalOnly,
  'typ-mismatch': internalOnly,
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof errorTable;

/** The slugs problem documents carry (PROTOCOL §8). */
export type ProblemSlug = NonNullable<(typeof errorTable)[ErrorCode]['slug']>;

/** One validation failure as data, in zod's shape, so an answer or a message says exactly what is wrong and where. */
export interface Issue {
  /** Member names and indexes from the root of what was validated (`['mids', 1, 'mid']`); empty for the whole. */
  path: readonly PropertyKey[];
  code: string;
  message: string;
  /** Where in a raw document, when a path cannot say it: `line:column`, an XPath or a JSON Pointer. */
  pointer?: string;
}

export interface GatewayErrorOptions {
  cause?: unknown;
  /** The validation failures behind the error, each with its path. */
  issues?: readonly Issue[];
  /** When to come back (a rate-limit window's end); else the table's default, if any. */
  retryAfterSeconds?: number;
}

/** The one error type the gateway raises on purpose; callers switch on `code`. */
export class GatewayError extends Error {
  readonly code: ErrorCode;
  readonly issues: readonly Issue[];
  readonly retryAfterSeconds: number | undefined;
  constructor(code: ErrorCode, message: string, options: GatewayErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'GatewayError';
    this.code = code;
    this.issues = options.issues ?? [];
    this.retryAfterSeconds = options.retryAfterSeconds ?? (errorTable[code] as ErrorSpec).retryAfterSeconds;
  }

  /** Whether the same request or job may succeed later, unchanged (the table's `retryable`). */
  get retryable(): boolean {
    return errorTable[this.code].retryable;
  }
}

/** zod's issues as gateway issues (the same members, nothing else). */
export function issuesOf(error: { issues: readonly { path: readonly PropertyKey[]; code: string; message: string }[] }): Issue[] {
  return error.issues.map(({ path, code, message }) => ({ path, code, message }));
}

/** A fault of the document as a whole (PROTOCOL.md §3): nothing of it is accepted. */
export class DocumentInvalidError extends GatewayError {
  /** Where the fault is: `line:column`, an XPath or a JSON Pointer. */
  readonly place: string;
  constructor(message: string, place: string) {
    super('document-invalid', message, { issues: [{ path: [], pointer: place, code: 'document-invalid', message }] });
    this.name = 'DocumentInvalidError';
    this.place = place;
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
