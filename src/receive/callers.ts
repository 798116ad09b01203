/**
 * Who is calling, decided in one place for the whole HTTP edge: nobody (anonymous), a
 * partner by its JWS-Signature (PROTOCOL §2, checked by verify/), or CBP staff by an
 * `Authorization: Bearer` token (checked by staff/staff-auth.ts). A credential that is
 * present but fails is refused with a GatewayError, never taken as anonymous.
 */
import type { Request } from 'express';
import { errorTable, GatewayError } from '../errors.ts';
import type { PartnerDirectory } from '../registry/partner.ts';
import { rolesFor, type StaffAuth, type StaffRole } from '../staff/staff-auth.ts';
import type { Caller } from '../status/lookup.ts';
import { verifyRequest } from '../verify/index.ts';
import type { RateLimits } from './rate-limits.ts';
import { requestHead } from './request-head.ts';

/** A verified staff caller. */
export interface StaffCaller {
  subject: string;
  roles: readonly StaffRole[];
}

// A bearer token of any real identity provider is a few kilobytes.
const maxTokenLength = 16 * 1024;
const compactJws = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/** The JWT of an `Authorization: Bearer` header, or a GatewayError that never echoes the header. */
export function bearerToken(authorization: string | undefined): string {
  if (authorization === undefined || authorization === '') throw new GatewayError('bearer-token-missing', 'a staff bearer token is required');
  const token = /^Bearer +(\S+) *$/i.exec(authorization)?.[1];
  if (token === undefined || token.length > maxTokenLength || !compactJws.test(token)) {
    throw new GatewayError('bearer-token-invalid', 'the Authorization header must be "Bearer" and a signed JWT');
  }
  return token;
}

/** Staff whose bearer token holds one of `roles`; otherwise a GatewayError saying why. */
export async function staffCaller(staff: StaffAuth, authorization: string | undefined, roles: readonly StaffRole[]): Promise<StaffCaller> {
  const identity = await staff.verify(bearerToken(authorization));
  // A feed-reader token is for the benefit feed only, not for looking operators up or deciding.
  if (!identity.roles.some((role) => roles.includes(role))) throw new GatewayError('staff-role-missing', `this needs the role ${roles.join(' or ')}`);
  return identity;
}

/** What `callerIdentifier` needs: the §2 verifier's surroundings, staff tokens and the refusal counter. */
export interface CallerDeps {
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
 * Who asks where anyone may ask (the status endpoint): no credential is anonymous; a
 * JWS-Signature is verified per §2 (a GET: no body) and counts against the partner's
 * own request limit; a bearer token must be staff's with a reading role (reviewer or admin). A credential
 * that fails is counted as a pre-authentication failure of the client address, which
 * past PREAUTH_FAILURES_PER_MINUTE is refused before any check.
 */
export function callerIdentifier(deps: CallerDeps): (req: Request) => Promise<Caller> {
  return async (req) => {
    const signature = req.get('JWS-Signature');
    const authorization = req.get('Authorization');
    if (signature === undefined && authorization === undefined) return { kind: 'anonymous' };
    const address = req.ip ?? 'unknown';
    const before = await deps.limits.check('preauth-failures', address, deps.preauthFailuresPerMinute);
    if (!before.allowed) throw new GatewayError('rate-limited', 'too many refused requests from this address; try again later', { retryAfterSeconds: before.retryAfterSeconds });
    try {
      if (signature !== undefined && authorization !== undefined) throw new GatewayError('unauthorized', 'send a JWS-Signature or a staff bearer token, not both');
      if (authorization !== undefined) return { kind: 'staff', subject: (await staffCaller(deps.staff, authorization, rolesFor.read)).subject };
      return await partnerCaller(deps, req);
    } catch (error) {
      if (error instanceof GatewayError && errorTable[error.code].status === 401) await deps.limits.hit('preauth-failures', address, deps.preauthFailuresPerMinute);
      throw error;
    }
  };
}

/** The partner whose JWS-Signature verifies, within its request limit. */
async function partnerCaller(deps: CallerDeps, req: Request): Promise<Caller> {
  const verdict = await verifyRequest(requestHead(req, deps.basePath, false), new Uint8Array(0), {
    gatewayId: deps.gatewayId,
    partners: deps.partners,
    nowSeconds: deps.nowSeconds(),
    iatSkewSeconds: deps.iatSkewSeconds,
    // Only asked of a request with a body; these have none.
    expectedMediaType: () => 'application/octet-stream',
  });
  if (!verdict.ok) throw new GatewayError(verdict.slug, verdict.detail);
  const { partner } = verdict;
  const limit = await deps.limits.hit('partner', partner.id, partner.limits.requestsPerMinute);
  if (!limit.allowed) throw new GatewayError('rate-limited', `more than ${partner.limits.requestsPerMinute} requests this minute`, { retryAfterSeconds: limit.retryAfterSeconds });
  return { kind: 'partner', partner: partner.id };
}
