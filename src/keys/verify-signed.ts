/**
 * Offline verification of a gateway-signed object (PROTOCOL.md §4) against a published
 * JWKS: the command line's `verify`, the tests, and anyone holding our JWKS. The key is
 * chosen by kid here, since jose's local key set refuses a kid that matches twice and we
 * want that case, like every other, to fail with its own code.
 */
import { compactVerify, createLocalJWKSet, decodeProtectedHeader, type JWK, type ProtectedHeaderParameters } from 'jose';
import { algorithmsForKey } from '../registry/jwk-checks.ts';
import type { PublicJwk } from '../registry/partner.ts';
import { gatewayAlgorithms, type GatewayAlgorithm } from './key-file.ts';

/** Why a signed object was refused. */
export type SignedObjectErrorCode = 'malformed' | 'typ-mismatch' | 'alg-not-allowed' | 'unknown-key' | 'signature-invalid';

/** A signed object that does not verify, with a stable code to switch on. */
export class SignedObjectError extends Error {
  readonly code: SignedObjectErrorCode;
  constructor(code: SignedObjectErrorCode, message: string) {
    super(message);
    this.name = 'SignedObjectError';
    this.code = code;
  }
}

/** Members a gateway-signed header may hold: a key or key URL carried in it is never trusted. */
const headerMembers = new Set(['alg', 'kid', 'typ', 'cty']);

/** Verifies a compact JWS against a JWKS, checking typ and the alg allow-list; returns the payload. */
export async function verifyGatewaySigned(token: string, jwks: { keys: readonly PublicJwk[] }, expectedTyp: string): Promise<Record<string, unknown>> {
  if (!/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(token)) throw new SignedObjectError('malformed', 'not a compact JWS with a payload');
  let header: ProtectedHeaderParameters;
  try {
    header = decodeProtectedHeader(token);
  } catch (error) {
    throw new SignedObjectError('malformed', `unreadable protected header: ${(error as Error).message}`);
  }
  const extra = Object.keys(header).find((member) => !headerMembers.has(member));
  if (extra !== undefined) throw new SignedObjectError('malformed', `protected header member "${extra}" is not accepted`);
  if (header.typ !== expectedTyp) throw new SignedObjectError('typ-mismatch', `typ is ${JSON.stringify(header.typ ?? null)}, expected "${expectedTyp}"`);
  const alg = header.alg;
  if (!isGatewayAlgorithm(alg)) throw new SignedObjectError('alg-not-allowed', `alg ${JSON.stringify(alg ?? null)} is not one of ${gatewayAlgorithms.join(', ')}`);
  if (typeof header.kid !== 'string') throw new SignedObjectError('unknown-key', 'the header has no kid');

  const matches = jwks.keys.filter((jwk) => jwk.kid === header.kid);
  const [key] = matches;
  if (key === undefined || matches.length > 1) {
    throw new SignedObjectError('unknown-key', matches.length > 1 ? `kid "${header.kid}" names several keys` : `kid "${header.kid}" is not in the key set`);
  }
  if ((key.alg !== undefined && key.alg !== alg) || !(algorithmsForKey(key) as string[]).includes(alg)) {
    throw new SignedObjectError('alg-not-allowed', `alg ${alg} does not fit key "${key.kid}"`);
  }

  let payload: Uint8Array;
  try {
    ({ payload } = await compactVerify(token, createLocalJWKSet({ keys: [key as JWK] }), { algorithms: [alg] }));
  } catch (error) {
    if ((error as { code?: string }).code === 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED') throw new SignedObjectError('signature-invalid', 'the signature does not verify');
    throw new SignedObjectError('malformed', (error as Error).message);
  }
  let claims: unknown;
  try {
    claims = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload));
  } catch {
    throw new SignedObjectError('malformed', 'the payload is not JSON');
  }
  if (typeof claims !== 'object' || claims === null || Array.isArray(claims)) throw new SignedObjectError('malformed', 'the payload is not a JSON object');
  return claims as Record<string, unknown>;
}

function isGatewayAlgorithm(alg: unknown): alg is GatewayAlgorithm {
  return (gatewayAlgorithms as readonly unknown[]).includes(alg);
}
