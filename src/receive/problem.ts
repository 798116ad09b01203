/**
 * Every error the HTTP edge answers becomes application/problem+json (RFC 9457, PROTOCOL
 * §8) here and nowhere else: a GatewayError by its row of errors.ts, anything else as a
 * 500 `urn:mra:problem:internal` without details (never a stack trace, a secret or another
 * partner's data), but with the request id a partner can quote and the log line carries.
 */
import type { ErrorRequestHandler, Response } from 'express';
import type { Logger } from 'pino';
import { errorTable, GatewayError, type ErrorCode, type ErrorSpec, type GatewayErrorOptions, type Issue } from '../errors.ts';
import { StoreUnavailableError } from '../store/db.ts';

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  [extension: string]: unknown;
}

/** An HTTP answer: status, headers and the problem document. */
export interface Problem {
  status: number;
  headers: Record<string, string>;
  body: ProblemBody;
}

/** PROTOCOL §8: at most this many `errors` items; `errorCount` and `truncated` say what was left out. */
const maxErrorItems = 100;

/**
 * Any error as problem+json: a GatewayError by its table row, anything else as a 500
 * `internal` whose detail says nothing of the cause; `requestId` (the answer's X-Request-Id)
 * goes into that body so that a partner can quote it and staff find the logged cause.
 */
export function toProblem(error: unknown, requestId?: string): Problem {
  const known = asGatewayError(error);
  const spec: ErrorSpec = errorTable[known.code];
  // Every 500, whichever code raised it, has one type and a fixed detail: its message may name internals.
  if (spec.slug === null || spec.status === 500) {
    const body: ProblemBody = { type: 'urn:mra:problem:internal', title: errorTable.internal.title, status: 500, detail: 'the gateway failed to answer this request; quote the requestId to its operators' };
    if (requestId !== undefined) body['requestId'] = requestId;
    return { status: 500, headers: {}, body };
  }
  const body: ProblemBody = { type: `urn:mra:problem:${spec.slug}`, title: spec.title, status: spec.status, detail: known.message };
  if (known.issues.length > 0) {
    body['errors'] = known.issues.slice(0, maxErrorItems).map(errorItem);
    body['errorCount'] = known.issues.length;
    body['truncated'] = known.issues.length > maxErrorItems;
  }
  const headers: Record<string, string> = {};
  if (spec.status === 401) headers['WWW-Authenticate'] = spec.challenge ?? 'JWS-Signature';
  if (known.retryAfterSeconds !== undefined) headers['Retry-After'] = String(Math.max(1, Math.ceil(known.retryAfterSeconds)));
  return { status: spec.status, headers, body };
}

/** Sends any error as problem+json (see toProblem). */
export function sendError(res: Response, error: unknown): void {
  writeProblem(res, toProblem(error, requestIdOf(res)));
}

/** Sends the problem of a GatewayError with this code and detail. */
export function sendProblem(res: Response, code: ErrorCode, detail: string, options: GatewayErrorOptions = {}): void {
  sendError(res, new GatewayError(code, detail, options));
}

/**
 * The express error handler: a rejected route or a body parser's error as problem+json. A
 * 500 is logged with its cause and the request id its body names (the body has no cause).
 */
export function answerErrors(log?: Logger): ErrorRequestHandler {
  return (error: unknown, _req, res, _next) => {
    if (res.headersSent) return void res.destroy();
    const requestId = requestIdOf(res);
    const problem = toProblem(error, requestId);
    if (problem.status === 500) log?.error({ err: error, ...(requestId !== undefined && { requestId }) }, 'unexpected error');
    writeProblem(res, problem);
  };
}

/** The X-Request-Id the edge set on this answer (receive/app.ts), if any. */
function requestIdOf(res: Response): string | undefined {
  const id = res.getHeader('X-Request-Id');
  return typeof id === 'string' ? id : undefined;
}

function writeProblem(res: Response, { status, headers, body }: Problem): void {
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  res.status(status).type('application/problem+json').send(JSON.stringify(body));
}

/**
 * Errors from below the edge that are not GatewayErrors yet: the store's unreachable
 * database, and express's body parsers (the staff routes), whose errors carry a status.
 */
function asGatewayError(error: unknown): GatewayError {
  if (error instanceof GatewayError) return error;
  if (error instanceof StoreUnavailableError) return new GatewayError('store-unavailable', 'the store of record is unreachable; nothing was accepted', { cause: error });
  const { status, type } = (error ?? {}) as { status?: unknown; type?: unknown };
  if (status === 413) return new GatewayError('payload-too-large', 'the body is too large', { cause: error });
  if (status === 415) return new GatewayError('unsupported-media-type', 'the body is not in a media type or charset this route reads', { cause: error });
  if (status === 400 || type === 'entity.parse.failed') return new GatewayError('bad-request', 'the request could not be read', { cause: error });
  return new GatewayError('internal', 'the gateway failed to answer this request', { cause: error });
}

/** One §8 `errors` item: a document-level fault has no record index or key. */
function errorItem(issue: Issue): Record<string, unknown> {
  return { index: null, key: null, pointer: issue.pointer ?? jsonPointer(issue.path), code: issue.code, message: issue.message };
}

/** RFC 6901: `['mids', 1]` → `/mids/1`. */
function jsonPointer(path: readonly PropertyKey[]): string {
  return path.map((segment) => `/${String(segment).replaceAll('~', '~0').replaceAll('/', '~1')}`).join('');
}
