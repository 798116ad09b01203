/**
 * The request-signing algorithms of PROTOCOL.md §2 on node:crypto: which key each one
 * takes (step 3), and verification fed in chunks so that a large body is never copied
 * (step 8; FIELD-NOTES "jose copies large payloads"). The signer shares these tables so
 * that both directions agree on hash, padding and signature encoding.
 */
import { createPublicKey, createVerify, constants, verify as oneShotVerify, type JsonWebKey, type KeyObject } from 'node:crypto';
import type { PublicJwk } from '../registry/partner.ts';

/** The algorithms the profile allows, `Ed25519` folded into `EdDSA`. */
export type CanonicalAlgorithm = 'ES256' | 'ES384' | 'EdDSA' | 'PS256';

interface AlgorithmParams {
  /** node:crypto digest name; null for Ed25519, which hashes internally. */
  hash: 'sha256' | 'sha384' | null;
  /** asymmetricKeyType the key must have. */
  keyType: 'ec' | 'ed25519' | 'rsa';
  /** For ECDSA, the OpenSSL curve name the key must be on. */
  curve?: string;
}

/** Each algorithm's hash and key binding (RFC 7518 §3.4, §3.5; RFC 8037 §3.1). */
export const algorithms: Readonly<Record<CanonicalAlgorithm, AlgorithmParams>> = {
  ES256: { hash: 'sha256', keyType: 'ec', curve: 'prime256v1' },
  ES384: { hash: 'sha384', keyType: 'ec', curve: 'secp384r1' },
  EdDSA: { hash: null, keyType: 'ed25519' },
  PS256: { hash: 'sha256', keyType: 'rsa' },
};

/** RSA keys below this size are refused for PS256 (§2). */
export const minRsaModulusBits = 2048;

/** RSA-PSS parameters of PS256: MGF1 with the message hash, salt as long as the hash (RFC 7518 §3.5). */
export const pssOptions = { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 } as const;

/** The profile's name for `alg`, or undefined if the profile never allows it (`none`, `HS256`, `RS256`, …). */
export function canonicalAlgorithm(alg: string): CanonicalAlgorithm | undefined {
  if (alg === 'Ed25519') return 'EdDSA';
  return Object.hasOwn(algorithms, alg) ? (alg as CanonicalAlgorithm) : undefined;
}

// Keyed by the registered JWK object itself, so a registry reload (new objects) never
// serves a stale key and dropped keys are collected with their entries.
const keyCache = new WeakMap<PublicJwk, KeyObject>();

/** The registered JWK as a node:crypto public key, imported once per JWK object; throws if it is not a usable key. */
export function publicKeyOf(jwk: PublicJwk): KeyObject {
  let key = keyCache.get(jwk);
  if (key === undefined) {
    key = createPublicKey({ key: keyMaterial(jwk), format: 'jwk' });
    keyCache.set(jwk, key);
  }
  return key;
}

// Only the members that define a public key reach node:crypto (never `d`, whatever a
// registry file might hold): the result is a public key by construction.
function keyMaterial(jwk: PublicJwk): JsonWebKey {
  const material: JsonWebKey = { kty: jwk.kty };
  for (const name of ['crv', 'x', 'y', 'n', 'e'] as const) {
    const value = jwk[name];
    if (value !== undefined) material[name] = value;
  }
  return material;
}

/** Why `key` cannot be used with `alg`, or undefined when it can. Reasons name the key kind, never its material. */
export function keyMismatch(key: KeyObject, alg: CanonicalAlgorithm): string | undefined {
  const params = algorithms[alg];
  if (key.asymmetricKeyType !== params.keyType) return `${alg} needs ${describeKind(alg)}, and the key with this kid is not one`;
  if (params.curve !== undefined && key.asymmetricKeyDetails?.namedCurve !== params.curve) return `${alg} needs ${describeKind(alg)}, and the key with this kid is on another curve`;
  if (params.keyType === 'rsa' && (key.asymmetricKeyDetails?.modulusLength ?? 0) < minRsaModulusBits) return `${alg} needs an RSA key of at least ${minRsaModulusBits} bits`;
  return undefined;
}

function describeKind(alg: CanonicalAlgorithm): string {
  switch (alg) {
    case 'ES256':
      return 'an EC key on P-256';
    case 'ES384':
      return 'an EC key on P-384';
    case 'EdDSA':
      return 'an Ed25519 key';
    case 'PS256':
      return 'an RSA key';
  }
}

/** Exact signature length for `alg` with `key`: raw R‖S for ECDSA (so DER never passes), 64 for Ed25519, the modulus size for RSA. */
export function signatureLength(alg: CanonicalAlgorithm, key: KeyObject): number {
  switch (alg) {
    case 'ES256':
      return 64;
    case 'ES384':
      return 96;
    case 'EdDSA':
      return 64;
    case 'PS256':
      return Math.ceil((key.asymmetricKeyDetails?.modulusLength ?? 0) / 8);
  }
}

/** An incremental check of one signature over `signingInput` followed by the chunks fed to `update`. */
export interface SignatureCheck {
  update(chunk: Uint8Array): void;
  /** True only for a valid signature; never throws. Call once, after the last chunk. */
  verify(): boolean;
}

/**
 * A signature check of `alg` with `key`. ECDSA and RSA-PSS hash as the chunks arrive, so
 * memory stays flat whatever the body size. Ed25519 (RFC 8032 PureEdDSA) cannot be
 * hashed incrementally: node:crypto needs the whole message in one buffer, so its
 * chunks are kept (by reference: callers must not reuse a chunk's memory) and joined
 * at verify(); the body limit of step 7 is what bounds that.
 */
export function signatureCheck(alg: CanonicalAlgorithm, key: KeyObject, signingInput: Uint8Array, signature: Uint8Array): SignatureCheck {
  const params = algorithms[alg];
  let done = false;
  const guard = (): void => {
    if (done) throw new Error('signature check already verified');
  };
  const lengthOk = signature.byteLength === signatureLength(alg, key);
  if (params.hash === null) {
    const chunks: Uint8Array[] = [signingInput];
    return {
      update(chunk) {
        guard();
        chunks.push(chunk);
      },
      verify() {
        guard();
        done = true;
        if (!lengthOk) return false;
        return safely(() => oneShotVerify(null, Buffer.concat(chunks), key, signature));
      },
    };
  }
  const verifier = createVerify(params.hash);
  verifier.update(signingInput);
  return {
    update(chunk) {
      guard();
      verifier.update(chunk);
    },
    verify() {
      guard();
      done = true;
      if (!lengthOk) return false;
      const options = alg === 'PS256' ? { key, ...pssOptions } : { key, dsaEncoding: 'ieee-p1363' as const };
      return safely(() => verifier.verify(options, signature));
    },
  };
}

// node:crypto throws on a malformed signature (e.g. "Malformed signature"); to the
// caller that is simply a signature that does not verify.
function safely(check: () => boolean): boolean {
  try {
    return check();
  } catch {
    return false;
  }
}
