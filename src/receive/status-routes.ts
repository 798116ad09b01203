/**
 * `GET /v1/status/{scheme}/{id}` (PROTOCOL.md §5): one subject, by its exact identifier,
 * answered with a gateway-signed assertion. Who asks is decided by `identify`
 * (callers.ts); what they are told by status/; this file rate-limits anonymous callers
 * and answers a miss in the same time as a hit: a miss reads, answers and signs a
 * stand-in subject as a hit does its own (status/question.ts), every answer is sent as
 * prepared bytes by one function, and with a cache (status/answer-cache.ts) a kept miss
 * is those bytes as a kept hit is.
 */
import { Router, type Request, type Response } from 'express';
import { GatewayError } from '../errors.ts';
import { STATUS_TYP } from '../status/answer.ts';
import type { CachedAnswer, StatusAnswerCache } from '../status/answer-cache.ts';
import type { Caller, StatusLookup } from '../status/lookup.ts';
import { answerQuestion, notLookedUp } from '../status/question.ts';
import { parseSubject } from '../status/schemes.ts';
import { sendProblem, toProblem } from './problem.ts';
import type { RateLimits } from './rate-limits.ts';

export { STATUS_TYP } from '../status/answer.ts';

export interface StatusRouteDeps {
  gatewayId: string;
  basePath: string;
  lookup: StatusLookup;
  sign(typ: string, payload: Record<string, unknown>): Promise<string>;
  /** Anonymous, a verified partner or staff; a GatewayError for a credential that fails (never anonymous then). */
  identify(req: Request): Promise<Caller>;
  limits: RateLimits;
  /** STATUS_REQUESTS_PER_MINUTE, per client address, anonymous callers only. */
  statusRequestsPerMinute: number;
  nowSeconds(): number;
  /** Lifetime of an assertion: default 3600, at most 86400 (PROTOCOL §5). */
  validitySeconds?: number;
  /** Answers kept until what they say changes; none kept without it. */
  cache?: StatusAnswerCache;
}

/** Who asks, as far as it changes the answer (disclosure differs by caller, PROTOCOL §5). */
function callerKey(caller: Caller): string {
  return caller.kind === 'partner' ? `partner:${caller.partner}` : caller.kind;
}

/** The not-found answer, the same bytes for every miss (made once: a miss costs no more than a hit to send). */
const notFound: CachedAnswer = (() => {
  const { status, body } = toProblem(new GatewayError('not-found', 'no status for this identifier'));
  return { status: status as 404, contentType: 'application/problem+json; charset=utf-8', bytes: Buffer.from(JSON.stringify(body)) };
})();

/** A hit's answer as sent. */
function found(body: unknown): CachedAnswer {
  return { status: 200, contentType: 'application/json; charset=utf-8', bytes: Buffer.from(JSON.stringify(body)) };
}

/** Sends a prepared answer: hits and misses, kept or not, all leave by this one path. */
function send(res: Response, answer: CachedAnswer): void {
  res.statusCode = answer.status;
  res.setHeader('Content-Type', answer.contentType);
  res.setHeader('Content-Length', answer.bytes.length);
  res.end(answer.bytes);
}

export const defaultValiditySeconds = 3600;
export const maxValiditySeconds = 86_400;

/** The status endpoint; throws RangeError for a validity outside 1 s … 24 h. */
export function statusRouter(deps: StatusRouteDeps): Router {
  const validity = deps.validitySeconds ?? defaultValiditySeconds;
  if (!Number.isSafeInteger(validity) || validity < 1 || validity > maxValiditySeconds) {
    throw new RangeError(`a status assertion is valid for 1 to ${maxValiditySeconds} seconds, not ${validity}`);
  }
  const router = Router();

  router.get('/v1/status/:scheme/:id', async (req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    const caller = await deps.identify(req);
    if (caller.kind === 'anonymous') {
      const limit = await deps.limits.hit('status', req.ip ?? 'unknown', deps.statusRequestsPerMinute);
      if (!limit.allowed) {
        return sendProblem(res, 'rate-limited', `more than ${deps.statusRequestsPerMinute} status requests this minute from this address`, { retryAfterSeconds: limit.retryAfterSeconds });
      }
    }

    const subject = parseSubject(String(req.params['scheme']), String(req.params['id']));
    const iat = Math.floor(deps.nowSeconds());
    // "As of today" is part of every answer: a new day is a new key.
    const key = [callerKey(caller), subject?.scheme ?? '', subject?.id ?? '', new Date(iat * 1000).toISOString().slice(0, 10)].join('\u0000');
    const cached = deps.cache?.get(key);
    if (cached !== undefined) return send(res, cached);

    const generation = deps.cache?.generation ?? 0;
    const { answer: told, work } = subject === undefined ? notLookedUp(deps.gatewayId) : await answerQuestion(deps.lookup, deps.gatewayId, subject, caller);
    // A miss signs its stand-in's answer and throws it away: the signature is the costly
    // part, and skipping it would tell a miss from a hit (or a hidden subject) by the clock.
    const assertion = await deps.sign(STATUS_TYP, { iss: deps.gatewayId, iat, exp: iat + validity, ...work.claims });
    // A miss serializes the stand-in's body too, and throws it away.
    const hit = found({ subject: work.subject, assertion });
    const answer = told === undefined ? notFound : hit;
    deps.cache?.set(key, generation, answer);
    send(res, answer);
  });
  // No listing and no other method: anything else under /v1/status is not found, and not cached either.
  router.use('/v1/status', (_req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    sendProblem(res, 'not-found', 'no status for this identifier');
  });

  return router;
}
