/**
 * What makes a registered public JWK usable: the right members for its type, a real
 * key (node:crypto, which the verifier uses, must import it), an allowed curve or size,
 * and an `alg`, when present, that fits it. Shared by the registry files and the key
 * sets fetched from a partner's `jwksUri`, so both are held to the same rules.
 */
import { createPublicKey, type JsonWebKey } from 'node:crypto';
import type { PublicJwk, SigningAlgorithm } from './partner.ts';

/** JWK members that only a private (or symmetric) key has: never accepted from a partner. */
export const privateJwkMembers: readonly string[] = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

/** The smallest RSA modulus accepted for PS256 (PROTOCOL.md §2). */
export const minRsaBits = 2048;

/** A fault of one JWK: the member at fault (none when the key as a whole is bad) and why. */
export interface JwkProblem {
  member?: string;
  message: string;
}

/** The request-signing algorithms a key of this type can serve. */
export function algorithmsForKey(jwk: PublicJwk): SigningAlgorithm[] {
  if (jwk.kty === 'EC' && jwk.crv === 'P-256') return ['ES256'];
  if (jwk.kty === 'EC' && jwk.crv === 'P-384') return ['ES384'];
  if (jwk.kty === 'OKP' && jwk.crv === 'Ed25519') return ['EdDSA', 'Ed25519'];
  if (jwk.kty === 'RSA') return ['PS256'];
  return [];
}

/** The key type an algorithm needs, for messages. */
export function keyTypeFor(alg: SigningAlgorithm): string {
  switch (alg) {
    case 'ES256':
      return 'an EC P-256 key';
    case 'ES384':
      return 'an EC P-384 key';
    case 'EdDSA':
    case 'Ed25519':
      return 'an OKP Ed25519 key';
    case 'PS256':
      return `an RSA key of at least ${minRsaBits} bits`;
  }
}

/** Members each key type must have, and members it must not. */
const shape = {
  EC: { required: ['crv', 'x', 'y'], foreign: ['n', 'e'] },
  OKP: { required: ['crv', 'x'], foreign: ['y', 'n', 'e'] },
  RSA: { required: ['n', 'e'], foreign: ['crv', 'x', 'y'] },
} as const;

/** Why a public JWK cannot be registered, or undefined when it can. */
export function publicJwkProblem(jwk: PublicJwk): JwkProblem | undefined {
  const { required, foreign } = shape[jwk.kty];
  for (const member of required) {
    if (jwk[member] === undefined || jwk[member] === '') return { member, message: `required for an ${jwk.kty} key` };
  }
  for (const member of foreign) {
    if (jwk[member] !== undefined) return { member, message: `not a member of an ${jwk.kty} key` };
  }
  if (jwk.kty === 'EC' && jwk.crv !== 'P-256' && jwk.crv !== 'P-384') {
    return { member: 'crv', message: `EC keys must be on P-256 or P-384, not ${jwk.crv ?? ''}` };
  }
  if (jwk.kty === 'OKP' && jwk.crv !== 'Ed25519') return { member: 'crv', message: `OKP keys must be Ed25519, not ${jwk.crv ?? ''}` };

  // Importing proves the key is real (an EC point on its curve, a well-formed modulus)
  // now, rather than as a failed verification on some partner's first request.
  let modulusLength: number | undefined;
  try {
    modulusLength = createPublicKey({ key: keyMaterial(jwk), format: 'jwk' }).asymmetricKeyDetails?.modulusLength;
  } catch (error) {
    return { message: `not a valid public key: ${(error as Error).message}` };
  }
  if (jwk.kty === 'RSA' && (modulusLength ?? 0) < minRsaBits) {
    return { member: 'n', message: `RSA keys must have at least ${minRsaBits} bits, this one has ${modulusLength ?? 0}` };
  }
  if (jwk.alg !== undefined && !(algorithmsForKey(jwk) as string[]).includes(jwk.alg)) {
    return { member: 'alg', message: `${jwk.alg} cannot be used with this key (it fits ${algorithmsForKey(jwk).join(' or ')})` };
  }
  return undefined;
}

/** Only the members that make the key, in the shape node:crypto imports. */
export function keyMaterial(jwk: PublicJwk): JsonWebKey {
  const material: JsonWebKey = { kty: jwk.kty };
  for (const member of ['crv', 'x', 'y', 'n', 'e'] as const) {
    const value = jwk[member];
    if (value !== undefined) material[member] = value;
  }
  return material;
}
