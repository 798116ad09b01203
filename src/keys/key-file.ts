/**
 * One private signing key of the gateway, read from a PEM or JWK file: what algorithm
 * it signs with, its public JWK and its kid. Only keys the gateway's verifiers accept
 * (PROTOCOL.md §4) are taken, so a bad key stops the start, naming its file.
 */
import { createPrivateKey, createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { calculateJwkThumbprint, type JWK } from 'jose';
import { GatewayError } from '../errors.ts';
import type { PublicJwk } from '../registry/partner.ts';

/** Algorithms of gateway-signed objects, one per accepted key type. */
export const gatewayAlgorithms = ['ES256', 'EdDSA', 'PS256'] as const;
export type GatewayAlgorithm = (typeof gatewayAlgorithms)[number];

/** A signing key that cannot be used (code `signing-key-invalid`), naming the file it came from. */
export class SigningKeyError extends GatewayError {
  readonly file: string;
  constructor(file: string, reason: string) {
    super('signing-key-invalid', `${file}: ${reason}`);
    this.name = 'SigningKeyError';
    this.file = file;
  }
}

/** A private key with what publishing and signing need. */
export interface SigningKeyMaterial {
  kid: string;
  alg: GatewayAlgorithm;
  privateKey: KeyObject;
  /** With kid, alg and `use: 'sig'`; no private member. */
  publicJwk: PublicJwk;
  /** RFC 7638 SHA-256 thumbprint: identifies the key whatever its kid. */
  thumbprint: string;
}

/** Reads a private key from a PKCS#8 PEM or a private JWK file. */
export async function readSigningKey(file: string): Promise<SigningKeyMaterial> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new SigningKeyError(file, (error as Error).message);
  }
  const { privateKey, kid, alg } = text.includes('-----BEGIN') ? fromPem(file, text) : fromJwk(file, text);
  return describeKey(file, privateKey, kid, alg);
}

/** Algorithm, public JWK and kid of a private key; `kid` defaults to the RFC 7638 thumbprint. */
export async function describeKey(file: string, privateKey: KeyObject, kid?: string, declaredAlg?: string): Promise<SigningKeyMaterial> {
  const alg = algorithmOf(file, privateKey);
  if (declaredAlg !== undefined && declaredAlg !== alg) throw new SigningKeyError(file, `the key says alg ${declaredAlg}, but a key of this type signs ${alg}`);
  const exported = createPublicKey(privateKey).export({ format: 'jwk' });
  const material = pickPublic(exported);
  const thumbprint = await calculateJwkThumbprint(material as JWK, 'sha256');
  // Frozen: the same object is published in every JWKS answer.
  const publicJwk: PublicJwk = Object.freeze({ ...material, kid: kid ?? thumbprint, alg, use: 'sig' as const });
  return { kid: publicJwk.kid, alg, privateKey, publicJwk, thumbprint };
}

interface ParsedKey {
  privateKey: KeyObject;
  kid?: string;
  alg?: string;
}

function fromPem(file: string, text: string): ParsedKey {
  if (/-----BEGIN (PUBLIC KEY|CERTIFICATE|RSA PUBLIC KEY)-----/.test(text)) throw new SigningKeyError(file, 'holds a public key or certificate, not a private key');
  if (text.includes('-----BEGIN ENCRYPTED PRIVATE KEY-----')) throw new SigningKeyError(file, 'encrypted private keys are not supported: give an unencrypted PKCS#8 PEM');
  try {
    return { privateKey: createPrivateKey({ key: text, format: 'pem' }) };
  } catch (error) {
    throw new SigningKeyError(file, `not a readable PKCS#8 PEM private key (${(error as Error).message})`);
  }
}

function fromJwk(file: string, text: string): ParsedKey {
  let jwk: unknown;
  try {
    jwk = JSON.parse(text);
  } catch {
    throw new SigningKeyError(file, 'neither a PEM nor a JSON private JWK');
  }
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) throw new SigningKeyError(file, 'a JWK must be a JSON object (one key, not a key set)');
  const { kid, alg, d } = jwk as Record<string, unknown>;
  if (typeof d !== 'string') throw new SigningKeyError(file, 'not a private JWK (no "d" member)');
  if (kid !== undefined && (typeof kid !== 'string' || kid === '')) throw new SigningKeyError(file, '"kid" must be a non-empty string');
  if (alg !== undefined && typeof alg !== 'string') throw new SigningKeyError(file, '"alg" must be a string');
  const members = ['kty', 'crv', 'x', 'y', 'd', 'n', 'e', 'p', 'q', 'dp', 'dq', 'qi'];
  const key = Object.fromEntries(Object.entries(jwk).filter(([member]) => members.includes(member))) as JsonWebKey;
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey({ key, format: 'jwk' });
  } catch (error) {
    throw new SigningKeyError(file, `not a usable private JWK (${(error as Error).message})`);
  }
  return { privateKey, ...(kid === undefined ? {} : { kid }), ...(alg === undefined ? {} : { alg }) };
}

/** P-256 → ES256, Ed25519 → EdDSA, RSA of 2048 bits or more → PS256; anything else is refused. */
function algorithmOf(file: string, key: KeyObject): GatewayAlgorithm {
  const details = key.asymmetricKeyDetails ?? {};
  switch (key.asymmetricKeyType) {
    case 'ec':
      if (details.namedCurve === 'prime256v1') return 'ES256';
      throw new SigningKeyError(file, `an EC key on ${details.namedCurve ?? 'an unknown curve'} is not accepted: use P-256 (ES256), Ed25519 (EdDSA) or RSA of at least 2048 bits (PS256)`);
    case 'ed25519':
      return 'EdDSA';
    case 'rsa':
      if ((details.modulusLength ?? 0) >= 2048) return 'PS256';
      throw new SigningKeyError(file, `an RSA key of ${details.modulusLength ?? 0} bits is too short: at least 2048 bits are needed (PS256)`);
    default:
      throw new SigningKeyError(file, `a ${key.asymmetricKeyType ?? 'symmetric'} key is not accepted: use P-256 (ES256), Ed25519 (EdDSA) or RSA of at least 2048 bits (PS256)`);
  }
}

/** Only the public members, typed as a registered key. */
function pickPublic(jwk: JsonWebKey): Omit<PublicJwk, 'kid'> {
  const kty = jwk.kty as PublicJwk['kty'];
  const picked: Omit<PublicJwk, 'kid'> = { kty };
  for (const member of ['crv', 'x', 'y', 'n', 'e'] as const) {
    const value = jwk[member];
    if (typeof value === 'string') picked[member] = value;
  }
  return picked;
}
