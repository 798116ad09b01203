/** Reading a partner's private key for `sign` and `send`: a private JWK (JSON) or a PKCS#8 PEM. */
import { createPrivateKey, type JsonWebKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { calculateJwkThumbprint } from 'jose';
import type { SigningKey } from '../sign/request-signature.ts';

/** The algorithm a key signs with: P-256 → ES256, P-384 → ES384, Ed25519 → EdDSA, RSA → PS256. */
export function algorithmOf(jwk: JsonWebKey): SigningKey['alg'] {
  if (jwk.kty === 'EC' && jwk.crv === 'P-256') return 'ES256';
  if (jwk.kty === 'EC' && jwk.crv === 'P-384') return 'ES384';
  if (jwk.kty === 'OKP' && jwk.crv === 'Ed25519') return 'EdDSA';
  if (jwk.kty === 'RSA') return 'PS256';
  throw new Error(`a ${jwk.kty}${jwk.crv ? ` ${jwk.crv}` : ''} key cannot sign requests (ES256, ES384, EdDSA or PS256 only)`);
}

/** Loads a private signing key; a key without `kid` gets its RFC 7638 thumbprint. */
export async function loadSigningKey(file: string): Promise<SigningKey> {
  const text = readFileSync(file, 'utf8');
  let jwk: JsonWebKey & { kid?: string };
  try {
    jwk = text.trimStart().startsWith('{') ? (JSON.parse(text) as JsonWebKey & { kid?: string }) : createPrivateKey(text).export({ format: 'jwk' });
  } catch (error) {
    throw new Error(`${file}: not a private key in JWK or PEM form (${(error as Error).message})`);
  }
  if (jwk.d === undefined) throw new Error(`${file}: this is a public key; signing needs the private key`);
  const kid = jwk.kid ?? (await calculateJwkThumbprint(jwk as Parameters<typeof calculateJwkThumbprint>[0]));
  return { privateJwk: { ...jwk, kid }, alg: algorithmOf(jwk) };
}
