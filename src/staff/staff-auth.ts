/**
 * Staff tokens (RUNNING.md STAFF_JWKS, STAFF_ISSUER, STAFF_AUDIENCE, MRAGW_DEV_STAFF): a
 * JWT from the staff identity provider, verified against its public keys, or against the
 * local development issuer. With neither configured the staff API is closed: every staff
 * token is refused. The settings schema (config.ts) decides which of these may be
 * configured; the HTTP edge reads the bearer token from the request (receive/callers.ts).
 */
import { readFileSync } from 'node:fs';
import { createLocalJWKSet, createRemoteJWKSet, jwtVerify, type JSONWebKeySet, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { GatewayError } from '../errors.ts';
import { privateJwkMembers } from '../registry/jwk-checks.ts';
import { DEV_STAFF_AUDIENCE, DEV_STAFF_ISSUER, devIssuerJwks } from './dev-issuer.ts';
import { isStaffRole, type StaffRole } from './roles.ts';

export { rolesFor, staffRoles, type StaffRole } from './roles.ts';

/** Who a verified staff token names, and what it may do. */
export interface StaffIdentity {
  subject: string;
  roles: StaffRole[];
}

/** STAFF_JWKS (a file path, or an https URL: http only for loopback) with the `iss` and `aud` its tokens must carry. */
interface IdentityProvider {
  jwks: string;
  issuer: string;
  audience: string;
}

/** MRAGW_DEV_STAFF=1 (when STAFF_JWKS is unset): trust DATA_DIR's development issuer. */
interface DevelopmentIssuer {
  jwks?: undefined;
  devIssuer?: { dataDir: string } | undefined;
}

export type StaffAuthOptions = (IdentityProvider | DevelopmentIssuer) & {
  /** Allowed clock difference for exp and nbf (default 60 s). */
  clockToleranceSeconds?: number;
  /** Injected by tests. */
  now?: () => Date;
};

/** Algorithms a staff token may be signed with; never none or HS*. */
export const staffAlgorithms = ['ES256', 'ES384', 'EdDSA', 'PS256', 'RS256'] as const;

/** The codes of a GatewayError that refuses a staff token. */
export type StaffTokenRefusal = 'staff-api-closed' | 'bearer-token-invalid' | 'staff-role-missing' | 'identity-provider-unavailable';

/** A refused staff token; the message is safe to send (it never echoes the token). */
const refusal = (code: StaffTokenRefusal, message: string) => new GatewayError(code, message);

/** A STAFF_JWKS that cannot be used: a bad setting, named. */
const badKeySet = (message: string) => new GatewayError('settings-invalid', `STAFF_JWKS: ${message}`, { issues: [{ path: ['STAFF_JWKS'], code: 'custom', message }] });

type Source = 'jwks-file' | 'jwks-url' | 'dev-issuer' | 'closed';

interface Verifier {
  keys: JWTVerifyGetKey;
  issuer: string;
  audience: string;
}

export class StaffAuth {
  /** Where the keys come from, for the start-up log. */
  readonly source: Source;
  readonly #verifier: Verifier | undefined;
  readonly #clockTolerance: number;
  readonly #now: () => Date;

  private constructor(source: Source, verifier: Verifier | undefined, options: StaffAuthOptions) {
    this.source = source;
    this.#verifier = verifier;
    this.#clockTolerance = options.clockToleranceSeconds ?? 60;
    this.#now = options.now ?? (() => new Date());
  }

  /**
   * Builds the verifier; throws GatewayError `settings-invalid` for a STAFF_JWKS file
   * that cannot be used. STAFF_JWKS wins over the development issuer.
   */
  static async create(options: StaffAuthOptions): Promise<StaffAuth> {
    if (options.jwks !== undefined) {
      const { jwks, issuer, audience } = options;
      if (/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(jwks)) {
        const keys = createRemoteJWKSet(new URL(jwks), { timeoutDuration: 5_000, cooldownDuration: 30_000, cacheMaxAge: 600_000 });
        return new StaffAuth('jwks-url', { keys, issuer, audience }, options);
      }
      return new StaffAuth('jwks-file', { keys: localKeys(jwks), issuer, audience }, options);
    }
    if (options.devIssuer !== undefined) {
      const jwks = await devIssuerJwks(options.devIssuer.dataDir);
      return new StaffAuth('dev-issuer', { keys: createLocalJWKSet(jwks), issuer: DEV_STAFF_ISSUER, audience: DEV_STAFF_AUDIENCE }, options);
    }
    return new StaffAuth('closed', undefined, options);
  }

  /** False when no staff identity provider is configured: the staff API is closed. */
  get enabled(): boolean {
    return this.#verifier !== undefined;
  }

  /** Verifies a compact JWT (signature, alg, iss, aud, exp/nbf, roles); the identity, or a GatewayError with a StaffTokenRefusal code. */
  async verify(token: string): Promise<StaffIdentity> {
    const verifier = this.#verifier;
    if (verifier === undefined) throw refusal('staff-api-closed', 'the staff API is closed: no staff identity provider is configured');
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, verifier.keys, {
        issuer: verifier.issuer,
        audience: verifier.audience,
        algorithms: [...staffAlgorithms],
        requiredClaims: ['exp', 'sub'],
        clockTolerance: this.#clockTolerance,
        currentDate: this.#now(),
      }));
    } catch (error) {
      throw joseRefusal(error, this.source === 'jwks-url');
    }
    const roles = rolesOf(payload);
    if (roles.length === 0) throw refusal('staff-role-missing', 'the token carries none of the roles reviewer, admin, feed-reader');
    return { subject: String(payload.sub), roles };
  }
}

/** The key set of a JWKS file, read once at start: a key added to the file takes a restart. */
function localKeys(file: string): JWTVerifyGetKey {
  const jwks = readKeySet(file);
  try {
    return createLocalJWKSet(jwks);
  } catch (error) {
    throw badKeySet(`${file} is not a usable JWKS (${(error as Error).message})`);
  }
}

/** Reads a JWKS file: an object with a non-empty `keys`, public keys only. */
function readKeySet(file: string): JSONWebKeySet {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw badKeySet(`${file} cannot be read as JSON (${(error as Error).message})`);
  }
  const keys = (parsed as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys) || keys.length === 0 || !keys.every((k) => typeof k === 'object' && k !== null && !Array.isArray(k))) {
    throw badKeySet(`${file} is not a JWKS (an object whose "keys" is a non-empty array of keys)`);
  }
  // A private key in a public set means the file was mixed up; refuse rather than publish trust in it.
  if (keys.some((k: Record<string, unknown>) => privateJwkMembers.some((m) => m in k))) {
    throw badKeySet(`${file} holds a private or symmetric key; it must hold public keys only`);
  }
  return { keys } as JSONWebKeySet;
}

/** `roles` (an array of strings) and `scope` (space-separated), the known roles of either. */
function rolesOf(payload: JWTPayload): StaffRole[] {
  const named: string[] = [];
  const roles = payload['roles'];
  if (Array.isArray(roles)) named.push(...roles.filter((r): r is string => typeof r === 'string'));
  const scope = payload['scope'];
  if (typeof scope === 'string') named.push(...scope.split(' '));
  return [...new Set(named.filter(isStaffRole))];
}

/** A jose failure as a safe, specific refusal. */
function joseRefusal(error: unknown, remote: boolean): GatewayError {
  const { code, claim } = error as { code?: string; claim?: string };
  switch (code) {
    case 'ERR_JWT_EXPIRED':
      return refusal('bearer-token-invalid', 'the staff token has expired');
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
      if (claim === 'iss') return refusal('bearer-token-invalid', 'the staff token is not from the configured issuer');
      if (claim === 'aud') return refusal('bearer-token-invalid', 'the staff token is not for this gateway (aud)');
      if (claim === 'nbf' || claim === 'iat') return refusal('bearer-token-invalid', 'the staff token is not valid yet');
      return refusal('bearer-token-invalid', `the staff token's ${claim ?? 'claims'} claim is missing or invalid`);
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
      return refusal('bearer-token-invalid', `the staff token's algorithm is not allowed (${staffAlgorithms.join(', ')})`);
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
      return refusal('bearer-token-invalid', 'the staff token signature does not verify');
    case 'ERR_JWKS_NO_MATCHING_KEY':
    case 'ERR_JWKS_MULTIPLE_MATCHING_KEYS':
      return refusal('bearer-token-invalid', 'the staff token names no single key of the staff identity provider');
    case 'ERR_JWKS_TIMEOUT':
      return refusal('identity-provider-unavailable', "the staff identity provider's keys could not be fetched");
    case 'ERR_JWS_INVALID':
    case 'ERR_JWT_INVALID':
    case 'ERR_JOSE_NOT_SUPPORTED':
      return refusal('bearer-token-invalid', 'the staff token is not a valid signed JWT');
    default:
      // With a remote set, what is left is its fetch failing (network, non-200, not JSON): not the caller's fault.
      return remote ? refusal('identity-provider-unavailable', "the staff identity provider's keys could not be fetched") : refusal('bearer-token-invalid', 'the staff token cannot be verified');
  }
}
