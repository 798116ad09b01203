/**
 * `GET /v1/status/{scheme}/{id}` (PROTOCOL.md §5): one subject, by its exact identifier,
 * answered with a gateway-signed assertion. Who asks is decided by `identify`
 * (callers.ts); what they are told by status/; this file rate-limits anonymous callers
 * and answers a miss in the same time as a hit: every request that reaches the look-up
 * signs an assertion.
 */
import { Router, type Request } from 'express';
import { STATUS_TYP } from '../status/answer.ts';
import type { Caller, StatusLookup } from '../status/lookup.ts';
import { answerQuestion, standInClaims } from '../status/question.ts';
import { parseSubject } from '../status/schemes.ts';
import { sendProblem } from './problem.ts';
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
    const found = subject === undefined ? undefined : await answerQuestion(deps.lookup, deps.gatewayId, subject, caller);
    const iat = Math.floor(deps.nowSeconds());
    // A miss signs a stand-in of the same shape and throws it away: the signature is the
    // costly part, and skipping it would tell a miss from a hidden subject by the clock.
    const assertion = await deps.sign(STATUS_TYP, { iss: deps.gatewayId, iat, exp: iat + validity, ...(found?.claims ?? standInClaims(deps.gatewayId)) });
    if (found === undefined) return sendProblem(res, 'not-found', 'no status for this identifier');
    res.status(200).json({ subject: found.subject, assertion });
  });
  // No listing and no other method: anything else under /v1/status is not found, and not cached either.
  router.use('/v1/status', (_req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    sendProblem(res, 'not-found', 'no status for this identifier');
  });

  return router;
}
