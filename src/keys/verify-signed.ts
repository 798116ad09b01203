/**
 * Offline verification of a gateway-signed object (PROTOCOL.md §4) against a published
 * JWKS: the command line's `verify`, the tests, and anyone holding our JWKS. The key is
 * chosen by kid here, since jose's local key set refuses a kid that matches twice and we
 * want that case, like every other, to fail with its own code.
 */
import { compactVerify, createLocalJWKSet, decodeProtectedHeader, type JWK, type ProtectedHeaderParameters } from 'jose';
import { GatewayError } from '../errors.ts';
import { algorithmsForKey } from '../registry/jwk-checks.ts';
import type { PublicJwk } from '../registry/partner.ts';
import { gatewayAlgorithms, type GatewayAlgorithm } from './key-file.ts';

/** Why a signed object was refused: the codes of a GatewayError it throws. */
export type SignedObjectErrorCode = 'signed-object-malformed' | 'typ-mismatch' | 'alg-not-allowed' | 'unknown-key' | 'signature-invalid';

const refusal = (code: SignedObjectErrorCode, message: string) => new GatewayError(code, message);

/** Members a gateway-signed header may hold: a key or key URL carried in it is never trusted. */
const headerMembers = new Set(['alg', 'kid', 'typ', 'cty']);

/** Verifies a compact JWS against a JWKS, checking typ and the alg allow-list; returns the payload. */
export async function verifyGatewaySigned(token: string, jwks: { keys: readonly PublicJwk[] }, expectedTyp: string): Promise<Record<string, unknown>> {
  if (!/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(token)) throw refusal('signed-object-malformed', 'not a compact JWS with a payload');
  let header: ProtectedHeaderParameters;
  try {
    header = decodeProtectedHeader(token);
  } catch (error) {
    throw refusal('signed-object-malformed', `unreadable protected header: ${(error as Error).message}`);
  }
  const extra = Object.keys(header).find((member) => !headerMembers.has(member));
  if (extra !== undefined) throw refusal('signed-object-malformed', `protected header member "${extra}" is not accepted`);
  if (header.typ !== expectedTyp) throw refusal('typ-mismatch', `typ is ${JSON.stringify(header.typ ?? null)}, expected "${expectedTyp}"`);
  const alg = header.alg;
  if (!isGatewayAlgorithm(alg)) throw refusal('alg-not-allowed', `alg ${JSON.stringify(alg ?? null)} is not one of ${gatewayAlgorithms.join(', ')}`);
  if (typeof header.kid !== 'string') throw refusal('unknown-key', 'the header has no kid');

  const matches = jwks.keys.filter((jwk) => jwk.kid === header.kid);
  const [key] = matches;
  if (key === undefined || matches.length > 1) {
    throw refusal('unknown-key', matches.length > 1 ? `kid "${header.kid}" names several keys` : `kid "${header.kid}" is not in the key set`);
  }
  if ((key.alg !== undefined && key.alg !== alg) || !(algorithmsForKey(key) as string[]).includes(alg)) {
    throw refusal('alg-not-allowed', `alg ${alg} does not fit key "${key.kid}"`);
  }

  let payload: Uint8Array;
  try {
    ({ payload } = await compactVerify(token, createLocalJWKSet({ keys: [key as JWK] }), { algorithms: [alg] }));
  } catch (error) {
    if ((error as { code?: string }).code === 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED') throw refusal('signature-invalid', 'the signature does not verify');
    throw refusal('signed-object-malformed', (error as Error).message);
  }
  let claims: unknown;
  try {
    claims = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload));
  } catch {
    throw refusal('signed-object-malformed', 'the payload is not JSON');
  }
  if (typeof claims !== 'object' || claims === null || Array.isArray(claims)) throw refusal('signed-object-malformed', 'the payload is not a JSON object');
  return claims as Record<string, unknown>;
}

function isGatewayAlgorithm(alg: unknown): alg is GatewayAlgorithm {
  return (gatewayAlgorithms as readonly unknown[]).includes(alg);
}
