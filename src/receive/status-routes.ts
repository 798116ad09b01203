/**
 * `GET /v1/status/{scheme}/{id}` (PROTOCOL.md §5): one subject, by its exact identifier,
 * answered with a gateway-signed assertion. Who asks is decided by `identify`; this
 * file only maps its verdict, rate-limits anonymous callers, and answers a miss in the
 * same time as a hit: every request that reaches the look-up signs an assertion.
 */
import type { Request, Response } from 'express';
import { Router } from 'express';
import { requestTarget } from './exchanges-routes.ts';
import type { RateLimits } from './rate-limits.ts';
import { problemBody, sendProblem, type ProblemSlug } from './problem.ts';
import type { PartnerDirectory } from '../registry/partner.ts';
import { StaffAuthError, type StaffAuth } from '../staff/staff-auth.ts';
import { verifyRequest } from '../verify/index.ts';
import { answerForCtpat, answerForMid, answerForRecords, STATUS_TYP, type StatusAnswer } from '../status/answer.ts';
import type { Caller, StatusLookup } from '../status/lookup.ts';
import { parseSubject, type StatusScheme } from '../status/schemes.ts';

export { STATUS_TYP } from '../status/answer.ts';

/** A refused caller: the slug decides the HTTP status (the `status` member only restates it). */
export interface IdentifyProblem {
  problem: ProblemSlug;
  status: number;
  detail: string;
  retryAfterSeconds?: number;
  /** WWW-Authenticate of a 401 for a refused bearer token (the default names JWS-Signature). */
  challenge?: string;
}

export interface StatusRouteDeps {
  gatewayId: string;
  basePath: string;
  lookup: StatusLookup;
  sign(typ: string, payload: Record<string, unknown>): Promise<string>;
  /** Anonymous, a verified partner, staff, or why the request is refused (a present but failing credential never falls back to anonymous). */
  identify(req: Request): Promise<Caller | IdentifyProblem>;
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
    if ('problem' in caller) return refuse(res, caller);
    if (caller.kind === 'anonymous') {
      const limit = await deps.limits.hit('status', req.ip ?? 'unknown', deps.statusRequestsPerMinute);
      if (!limit.allowed) {
        return sendProblem(res, 'rate-limited', `more than ${deps.statusRequestsPerMinute} status requests this minute from this address`, { retryAfterSeconds: limit.retryAfterSeconds });
      }
    }

    const subject = parseSubject(String(req.params['scheme']), String(req.params['id']));
    const found = subject === undefined ? undefined : await answerFor(deps, subject, caller);
    const iat = Math.floor(deps.nowSeconds());
    // A miss signs a stand-in of the same shape and throws it away: the signature is the
    // costly part, and skipping it would tell a miss from a hidden subject by the clock.
    const assertion = await deps.sign(STATUS_TYP, { iss: deps.gatewayId, iat, exp: iat + validity, ...(found?.claims ?? standIn(deps.gatewayId)) });
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

/** Looks the subject up and decides what the caller is told. */
async function answerFor(deps: StatusRouteDeps, subject: { scheme: StatusScheme; id: string }, caller: Caller): Promise<StatusAnswer | undefined> {
  switch (subject.scheme) {
    case 'ctpat':
      return answerForCtpat(await deps.lookup.ctpatMember(subject.id), caller);
    case 'mid':
      // Never answered to anonymous callers, so there is nothing to look up for them.
      return caller.kind === 'anonymous' ? undefined : answerForMid(subject.id, await deps.lookup.byMid(subject.id), caller, deps.gatewayId);
    default:
      return answerForRecords(subject, await deps.lookup.byIdentifier(subject.scheme, subject.id), caller, deps.gatewayId);
  }
}

/** Claims shaped like a typical anonymous answer, for the discarded signature of a miss. */
function standIn(gatewayId: string): Record<string, unknown> {
  return {
    sub: 'eori:DE000000000000000',
    programme: 'EU-AEO',
    status: 'active',
    statusEffective: '2000-01-01',
    recognitions: [{ authority: gatewayId, state: 'recognized', since: '2000-01-01' }],
  };
}

/** The identify verdict as problem+json, with the challenge that fits the refused credential. */
function refuse(res: Response, refused: IdentifyProblem): void {
  sendProblem(res, refused.problem, refused.detail, {
    ...(refused.retryAfterSeconds !== undefined && { retryAfterSeconds: refused.retryAfterSeconds }),
    ...(refused.challenge !== undefined && { challenge: refused.challenge }),
  });
}

/** What `identifyStatusCaller` needs: the §2 verifier's surroundings, staff authentication and the refusal counter. */
export interface StatusIdentifyDeps {
  gatewayId: string;
  basePath: string;
  partners: PartnerDirectory;
  staff: StaffAuth;
  limits: RateLimits;
  iatSkewSeconds: number;
  preauthFailuresPerMinute: number;
  nowSeconds(): number;
}

/**
 * The usual `identify`: no credential is anonymous; a JWS-Signature is verified per
 * PROTOCOL §2 (a GET: no body, no media type) and counts against the partner's own
 * request limit; a bearer token must be a staff token with the `staff` role. A
 * credential that fails is refused and counted as a pre-authentication failure of the
 * client address, which past PREAUTH_FAILURES_PER_MINUTE is refused before any check.
 */
export function identifyStatusCaller(deps: StatusIdentifyDeps): (req: Request) => Promise<Caller | IdentifyProblem> {
  return async (req) => {
    const signature = req.get('JWS-Signature');
    const authorization = req.get('Authorization');
    if (signature === undefined && authorization === undefined) return { kind: 'anonymous' };
    const address = req.ip ?? 'unknown';
    const before = await deps.limits.check('preauth-failures', address, deps.preauthFailuresPerMinute);
    if (!before.allowed) return problem('rate-limited', 'too many refused requests from this address; try again later', { retryAfterSeconds: before.retryAfterSeconds });

    const verdict = signature !== undefined && authorization !== undefined
      ? problem('unauthorized', 'send a JWS-Signature or a staff bearer token, not both')
      : authorization !== undefined
        ? await staffCaller(deps.staff, authorization)
        : await partnerCaller(deps, req);
    if ('problem' in verdict && verdict.status === 401) await deps.limits.hit('preauth-failures', address, deps.preauthFailuresPerMinute);
    return verdict;
  };
}

async function partnerCaller(deps: StatusIdentifyDeps, req: Request): Promise<Caller | IdentifyProblem> {
  const head = { signature: req.get('JWS-Signature'), method: req.method, target: requestTarget(req, deps.basePath), contentType: undefined, contentEncoding: undefined, hasBody: false };
  const verdict = await verifyRequest(head, new Uint8Array(0), {
    gatewayId: deps.gatewayId,
    partners: deps.partners,
    nowSeconds: deps.nowSeconds(),
    iatSkewSeconds: deps.iatSkewSeconds,
    // Only asked of a request with a body; a status request has none.
    expectedMediaType: () => 'application/octet-stream',
  });
  if (!verdict.ok) return problem(verdict.slug, verdict.detail);
  const { partner } = verdict;
  const limit = await deps.limits.hit('partner', partner.id, partner.limits.requestsPerMinute);
  if (!limit.allowed) return problem('rate-limited', `more than ${partner.limits.requestsPerMinute} requests this minute`, { retryAfterSeconds: limit.retryAfterSeconds });
  return { kind: 'partner', partner: partner.id };
}

async function staffCaller(staff: StaffAuth, authorization: string): Promise<Caller | IdentifyProblem> {
  try {
    const identity = await staff.verify(authorization);
    // A feed-reader token is for the benefit feed only, not for looking operators up.
    if (!identity.roles.includes('staff')) return problem('forbidden', 'this token does not carry the staff role');
    return { kind: 'staff', subject: identity.subject };
  } catch (error) {
    if (!(error instanceof StaffAuthError)) throw error;
    switch (error.code) {
      case 'no-role':
        return problem('forbidden', error.message);
      case 'unavailable':
        return problem('unavailable', error.message, { retryAfterSeconds: 5 });
      case 'invalid':
        return problem('unauthorized', error.message, { challenge: 'Bearer error="invalid_token"' });
      default:
        return problem('unauthorized', error.message, { challenge: 'Bearer' });
    }
  }
}

function problem(slug: ProblemSlug, detail: string, extra: { retryAfterSeconds?: number; challenge?: string } = {}): IdentifyProblem {
  return { problem: slug, status: problemBody(slug, detail).status, detail, ...extra };
}
