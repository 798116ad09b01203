/**
 * Staff authentication (RUNNING.md STAFF_JWKS, STAFF_ISSUER, STAFF_AUDIENCE,
 * MRAGW_DEV_STAFF): a bearer JWT from the staff identity provider, verified against its
 * public keys, or against the local development issuer on a loopback HOST only. With
 * neither configured the staff API is closed: every staff request is refused.
 */
import { readFileSync } from 'node:fs';
import { createLocalJWKSet, createRemoteJWKSet, jwtVerify, type JSONWebKeySet, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { isLoopback, SettingsError } from '../config.ts';
import { privateJwkMembers } from '../registry/jwk-checks.ts';
import { partnerUrlProblem } from '../registry/partner-url.ts';
import { DEV_STAFF_AUDIENCE, DEV_STAFF_ISSUER, devIssuerJwks, isStaffRole, type StaffRole } from './dev-issuer.ts';

export { staffRoles, type StaffRole } from './dev-issuer.ts';

/** Who a verified staff token names, and what it may do. */
export interface StaffIdentity {
  subject: string;
  roles: StaffRole[];
}

export interface StaffAuthOptions {
  /** STAFF_JWKS: a file path, or an https URL (http only for loopback). */
  jwks?: string | undefined;
  /** STAFF_ISSUER and STAFF_AUDIENCE: both required with STAFF_JWKS. */
  issuer?: string | undefined;
  audience?: string | undefined;
  /** MRAGW_DEV_STAFF=1: trust DATA_DIR's development issuer, when STAFF_JWKS is unset. */
  devIssuer?: { dataDir: string } | undefined;
  /** HOST the API listens on: the development issuer is refused unless it is a loopback address. */
  host?: string | undefined;
  /** Allowed clock difference for exp and nbf (default 60 s). */
  clockToleranceSeconds?: number;
  /** Injected by tests. */
  now?: () => Date;
}

/** Algorithms a staff token may be signed with; never none or HS*. */
export const staffAlgorithms = ['ES256', 'ES384', 'EdDSA', 'PS256', 'RS256'] as const;

/** Why a staff request is refused: `closed` and `missing`/`invalid` are 401, `no-role` 403, `unavailable` 503. */
export type StaffAuthErrorCode = 'closed' | 'missing' | 'invalid' | 'no-role' | 'unavailable';

/** A refused staff token; the message is safe to send (it never echoes the token). */
export class StaffAuthError extends Error {
  readonly code: StaffAuthErrorCode;
  constructor(code: StaffAuthErrorCode, message: string) {
    super(message);
    this.name = 'StaffAuthError';
    this.code = code;
  }
}

type Source = 'jwks-file' | 'jwks-url' | 'dev-issuer' | 'closed';

interface Verifier {
  keys: JWTVerifyGetKey;
  issuer: string;
  audience: string;
}

// A bearer token of any real identity provider is a few kilobytes.
const maxTokenLength = 16 * 1024;
const compactJws = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

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
   * Builds the verifier from the settings; throws SettingsError naming the setting at
   * fault. STAFF_JWKS wins over MRAGW_DEV_STAFF; the latter is refused here unless
   * `host` is a loopback address, so a caller cannot forget the check.
   */
  static async create(options: StaffAuthOptions): Promise<StaffAuth> {
    if (options.jwks !== undefined && options.jwks !== '') {
      const { issuer, audience } = options;
      // Without both, a token the same provider issued for any other application would do.
      if (!issuer || !audience) throw new SettingsError('STAFF_JWKS needs STAFF_ISSUER and STAFF_AUDIENCE: the iss and aud staff tokens must carry');
      if (/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(options.jwks)) {
        const problem = partnerUrlProblem(options.jwks);
        if (problem !== undefined) throw new SettingsError(`STAFF_JWKS: ${problem}`);
        const keys = createRemoteJWKSet(new URL(options.jwks), { timeoutDuration: 5_000, cooldownDuration: 30_000, cacheMaxAge: 600_000 });
        return new StaffAuth('jwks-url', { keys, issuer, audience }, options);
      }
      return new StaffAuth('jwks-file', { keys: localKeys(options.jwks), issuer, audience }, options);
    }
    if (options.devIssuer !== undefined) {
      if (options.host === undefined || !isLoopback(options.host)) {
        throw new SettingsError(`MRAGW_DEV_STAFF=1 is refused unless HOST is a loopback address (HOST is ${options.host ?? 'not given'}); configure STAFF_JWKS instead`);
      }
      const jwks = await devIssuerJwks(options.devIssuer.dataDir);
      return new StaffAuth('dev-issuer', { keys: createLocalJWKSet(jwks), issuer: DEV_STAFF_ISSUER, audience: DEV_STAFF_AUDIENCE }, options);
    }
    return new StaffAuth('closed', undefined, options);
  }

  /** False when no staff identity provider is configured: the staff API is closed. */
  get enabled(): boolean {
    return this.#verifier !== undefined;
  }

  /** Verifies `Authorization: Bearer <JWT>` (signature, alg, iss, aud, exp/nbf, roles); the identity, or a StaffAuthError. */
  async verify(authorization: string | undefined): Promise<StaffIdentity> {
    const verifier = this.#verifier;
    if (verifier === undefined) throw new StaffAuthError('closed', 'the staff API is closed: no staff identity provider is configured');
    if (authorization === undefined || authorization === '') throw new StaffAuthError('missing', 'a staff bearer token is required');
    const match = /^Bearer +(\S+) *$/i.exec(authorization);
    const token = match?.[1];
    if (token === undefined || token.length > maxTokenLength || !compactJws.test(token)) {
      throw new StaffAuthError('invalid', 'the Authorization header must be "Bearer" and a signed JWT');
    }
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
      throw refusal(error, this.source === 'jwks-url');
    }
    const roles = rolesOf(payload);
    if (roles.length === 0) throw new StaffAuthError('no-role', 'the token carries neither the staff nor the feed-reader role');
    return { subject: String(payload.sub), roles };
  }
}

/** The key set of a JWKS file, read once at start: a key added to the file takes a restart. */
function localKeys(file: string): JWTVerifyGetKey {
  const jwks = readKeySet(file);
  try {
    return createLocalJWKSet(jwks);
  } catch (error) {
    throw new SettingsError(`STAFF_JWKS: ${file} is not a usable JWKS (${(error as Error).message})`);
  }
}

/** Reads a JWKS file: an object with a non-empty `keys`, public keys only. */
function readKeySet(file: string): JSONWebKeySet {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new SettingsError(`STAFF_JWKS: ${file} cannot be read as JSON (${(error as Error).message})`);
  }
  const keys = (parsed as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys) || keys.length === 0 || !keys.every((k) => typeof k === 'object' && k !== null && !Array.isArray(k))) {
    throw new SettingsError(`STAFF_JWKS: ${file} is not a JWKS (an object whose "keys" is a non-empty array of keys)`);
  }
  // A private key in a public set means the file was mixed up; refuse rather than publish trust in it.
  if (keys.some((k: Record<string, unknown>) => privateJwkMembers.some((m) => m in k))) {
    throw new SettingsError(`STAFF_JWKS: ${file} holds a private or symmetric key; it must hold public keys only`);
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
function refusal(error: unknown, remote: boolean): StaffAuthError {
  const { code, claim } = error as { code?: string; claim?: string };
  switch (code) {
    case 'ERR_JWT_EXPIRED':
      return new StaffAuthError('invalid', 'the staff token has expired');
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
      if (claim === 'iss') return new StaffAuthError('invalid', 'the staff token is not from the configured issuer');
      if (claim === 'aud') return new StaffAuthError('invalid', 'the staff token is not for this gateway (aud)');
      if (claim === 'nbf' || claim === 'iat') return new StaffAuthError('invalid', 'the staff token is not valid yet');
      return new StaffAuthError('invalid', `the staff token's ${claim ?? 'claims'} claim is missing or invalid`);
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
      return new StaffAuthError('invalid', `the staff token's algorithm is not allowed (${staffAlgorithms.join(', ')})`);
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
      return new StaffAuthError('invalid', 'the staff token signature does not verify');
    case 'ERR_JWKS_NO_MATCHING_KEY':
    case 'ERR_JWKS_MULTIPLE_MATCHING_KEYS':
      return new StaffAuthError('invalid', 'the staff token names no single key of the staff identity provider');
    case 'ERR_JWKS_TIMEOUT':
      return new StaffAuthError('unavailable', "the staff identity provider's keys could not be fetched");
    case 'ERR_JWS_INVALID':
    case 'ERR_JWT_INVALID':
    case 'ERR_JOSE_NOT_SUPPORTED':
      return new StaffAuthError('invalid', 'the staff token is not a valid signed JWT');
    default:
      // With a remote set, what is left is its fetch failing (network, non-200, not JSON): not the caller's fault.
      return remote ? new StaffAuthError('unavailable', "the staff identity provider's keys could not be fetched") : new StaffAuthError('invalid', 'the staff token cannot be verified');
  }
}
