/**
 * Every error the HTTP edge answers, as application/problem+json (RFC 9457, PROTOCOL §8),
 * in this one place: the slug decides the status, the title and the extra headers.
 */
import type { Response } from 'express';

export const problems = {
  'header-invalid': [401, 'Signature header invalid'],
  'unknown-key': [401, 'Unknown key'],
  'alg-not-allowed': [401, 'Algorithm not allowed'],
  'audience-mismatch': [401, 'Audience mismatch'],
  'htm-mismatch': [401, 'Method mismatch'],
  'htu-mismatch': [401, 'Target mismatch'],
  'iat-out-of-window': [401, 'Signature time out of window'],
  'signature-invalid': [401, 'Signature invalid'],
  'unauthorized': [401, 'Unauthorized'],
  'partner-suspended': [403, 'Partner suspended'],
  'forbidden': [403, 'Forbidden'],
  'not-found': [404, 'Not found'],
  'request-timeout': [408, 'Request timeout'],
  'jti-conflict': [409, 'Request id already used'],
  'duplicate-batch': [409, 'Batch already accepted'],
  'conflict': [409, 'Conflict'],
  'payload-too-large': [413, 'Payload too large'],
  'unsupported-media-type': [415, 'Unsupported media type'],
  'document-invalid': [422, 'Document invalid'],
  'rate-limited': [429, 'Too many requests'],
  'bad-request': [400, 'Bad request'],
  'busy': [503, 'Busy'],
  'unavailable': [503, 'Unavailable'],
} as const satisfies Record<string, readonly [number, string]>;

export type ProblemSlug = keyof typeof problems;

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  [extension: string]: unknown;
}

/** The problem document for a slug. */
export function problemBody(slug: ProblemSlug, detail: string, extensions: Record<string, unknown> = {}): ProblemBody {
  const [status, title] = problems[slug];
  return { type: `urn:mra:problem:${slug}`, title, status, detail, ...extensions };
}

/** Sends a problem; a 401 says how to authenticate, a 429 or 503 when to come back. */
export function sendProblem(res: Response, slug: ProblemSlug, detail: string, options: { retryAfterSeconds?: number; extensions?: Record<string, unknown>; challenge?: string } = {}): void {
  const body = problemBody(slug, detail, options.extensions);
  if (body.status === 401) res.setHeader('WWW-Authenticate', options.challenge ?? 'JWS-Signature');
  if (options.retryAfterSeconds !== undefined) res.setHeader('Retry-After', String(Math.max(1, Math.ceil(options.retryAfterSeconds))));
  res.status(body.status).type('application/problem+json').send(JSON.stringify(body));
}
