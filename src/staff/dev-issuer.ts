/**
 * A local development staff issuer (RUNNING.md MRAGW_DEV_STAFF): an ES256 key generated
 * once into DATA_DIR/staff-issuer/, so that `mragw staff-token` can mint tokens that a
 * gateway on the same DATA_DIR accepts. Never a production identity provider: the
 * gateway trusts it only on a loopback HOST (StaffAuth.create checks that).
 */
import { createPrivateKey, createPublicKey, randomUUID, type KeyObject } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { privateKeyFileOnce } from '../keys/key-store.ts';
import { join } from 'node:path';
import { calculateJwkThumbprint, SignJWT, type JWK } from 'jose';
import { isStaffRole, staffRoles } from './roles.ts';

export const DEV_STAFF_ISSUER = 'mragw-dev-staff';
export const DEV_STAFF_AUDIENCE = 'mragw';

/** Longest lifetime of a development token: a working day is plenty, and a leaked one dies soon. */
export const maxDevTokenSeconds = 86_400;

/** The development issuer's key: private for minting, public (with kid, alg, use) for verifying. */
export interface DevIssuerKey {
  kid: string;
  privateKey: KeyObject;
  publicJwk: JWK;
}

/** DATA_DIR/staff-issuer/signing-key.pem, generated (P-256, mode 0600) on first use and reused after. */
export function devIssuerKeyFile(dataDir: string): string {
  const dir = join(dataDir, 'staff-issuer');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return privateKeyFileOnce(join(dir, 'signing-key.pem'));
}

/** Loads (or first generates) the development issuer's key; its kid is the RFC 7638 thumbprint. */
export async function devIssuerKey(dataDir: string): Promise<DevIssuerKey> {
  const file = devIssuerKeyFile(dataDir);
  const privateKey = createPrivateKey(readFileSync(file, 'utf8'));
  if (privateKey.asymmetricKeyType !== 'ec' || privateKey.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new Error(`${file}: the development staff issuer's key must be an EC P-256 key`);
  }
  const { kty, crv, x, y } = createPublicKey(privateKey).export({ format: 'jwk' });
  const bare = { kty: kty!, crv: crv!, x: x!, y: y! };
  const kid = await calculateJwkThumbprint(bare);
  return { kid, privateKey, publicJwk: { ...bare, kid, alg: 'ES256', use: 'sig' } };
}

/** The public key set a gateway trusts for development staff tokens. */
export async function devIssuerJwks(dataDir: string): Promise<{ keys: JWK[] }> {
  return { keys: [(await devIssuerKey(dataDir)).publicJwk] };
}

export interface DevTokenRequest {
  subject: string;
  roles: readonly string[];
  ttlSeconds: number;
  /** Seconds since the epoch; injected by tests. */
  nowSeconds?: number;
}

/** Mints a development staff JWT (iss mragw-dev-staff, aud mragw, `roles`); throws RangeError on a bad request. */
export async function mintDevStaffToken(dataDir: string, request: DevTokenRequest): Promise<string> {
  const { subject, roles, ttlSeconds } = request;
  if (subject.length === 0 || subject.length > 256) throw new RangeError('the subject must be 1 to 256 characters');
  if (roles.length === 0) throw new RangeError(`at least one role is needed (${staffRoles.join(', ')})`);
  const unknown = roles.find((role) => !isStaffRole(role));
  if (unknown !== undefined) throw new RangeError(`unknown role ${JSON.stringify(unknown)}; roles are ${staffRoles.join(', ')}`);
  if (!Number.isSafeInteger(ttlSeconds) || ttlSeconds < 1 || ttlSeconds > maxDevTokenSeconds) {
    throw new RangeError(`the lifetime must be a whole number of seconds from 1 to ${maxDevTokenSeconds}`);
  }
  const key = await devIssuerKey(dataDir);
  const iat = request.nowSeconds ?? Math.floor(Date.now() / 1000);
  return new SignJWT({ roles: [...new Set(roles)] })
    .setProtectedHeader({ alg: 'ES256', kid: key.kid, typ: 'JWT' })
    .setIssuer(DEV_STAFF_ISSUER)
    .setAudience(DEV_STAFF_AUDIENCE)
    .setSubject(subject)
    .setIssuedAt(iat)
    .setExpirationTime(iat + ttlSeconds)
    .setJti(randomUUID())
    .sign(key.privateKey);
}
