/**
 * Every error the HTTP edge answers becomes application/problem+json (RFC 9457, PROTOCOL
 * §8) here and nowhere else: a GatewayError by its row of errors.ts, anything else as a
 * 500 without details (never a stack trace, a secret or another partner's data).
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

/** Any error as problem+json: a GatewayError by its table row, anything else as a 500 internal error without details. */
export function toProblem(error: unknown): Problem {
  const known = asGatewayError(error);
  const spec: ErrorSpec = errorTable[known.code];
  if (spec.slug === null) {
    return { status: 500, headers: {}, body: { type: 'about:blank', title: spec.title, status: 500, detail: 'the gateway failed to answer this request' } };
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
  writeProblem(res, toProblem(error));
}

/** Sends the problem of a GatewayError with this code and detail. */
export function sendProblem(res: Response, code: ErrorCode, detail: string, options: GatewayErrorOptions = {}): void {
  sendError(res, new GatewayError(code, detail, options));
}

/** The express error handler: a rejected route or a body parser's error as problem+json; a 500 is logged. */
export function answerErrors(log?: Logger): ErrorRequestHandler {
  return (error: unknown, _req, res, _next) => {
    if (res.headersSent) return void res.destroy();
    const problem = toProblem(error);
    if (problem.status === 500) log?.error({ err: error }, 'unexpected error');
    writeProblem(res, problem);
  };
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
