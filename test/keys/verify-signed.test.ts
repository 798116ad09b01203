import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CompactSign } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GatewayError } from '../../src/errors.ts';
import { GatewayKeys, verifyGatewaySigned } from '../../src/keys/gateway-keys.ts';

const typ = 'mra-receipt+jwt';
let root: string;
let keys: GatewayKeys;
let other: GatewayKeys;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'verify-signed-'));
  keys = await GatewayKeys.load({ dataDir: join(root, 'a'), minAgeDays: 0 });
  other = await GatewayKeys.load({ dataDir: join(root, 'b'), minAgeDays: 0 });
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function refusal(token: string, jwks = keys.jwks(), expectedTyp = typ): Promise<GatewayError> {
  try {
    await verifyGatewaySigned(token, jwks, expectedTyp);
  } catch (error) {
    expect(error).toBeInstanceOf(GatewayError);
    return error as GatewayError;
  }
  throw new Error('verified');
}

/** A token signed by the gateway's key with a header of the test's choosing. */
function signWith(header: Record<string, unknown>, payload: string = '{"a":1}'): Promise<string> {
  const key = keys.current();
  return new CompactSign(new TextEncoder().encode(payload)).setProtectedHeader({ alg: key.alg, kid: key.kid, typ, ...header }).sign(key.privateKey);
}

describe('verifyGatewaySigned', () => {
  it('returns the payload of a good token', async () => {
    expect(await verifyGatewaySigned(await keys.sign(typ, { a: 1 }), keys.jwks(), typ)).toEqual({ a: 1 });
  });

  it('refuses a wrong or missing typ', async () => {
    const token = await keys.sign('mra-status+jwt', { a: 1 });
    expect((await refusal(token)).code).toBe('typ-mismatch');
    expect((await refusal(await signWith({ typ: undefined }))).code).toBe('typ-mismatch');
  });

  it('refuses an algorithm outside ES256, EdDSA, PS256, even with a matching key', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-384' });
    const jwks = { keys: [{ ...publicKey.export({ format: 'jwk' }), kty: 'EC' as const, kid: 'p384' }] };
    const token = await new CompactSign(new TextEncoder().encode('{}')).setProtectedHeader({ alg: 'ES384', kid: 'p384', typ }).sign(privateKey);
    expect((await refusal(token, jwks)).code).toBe('alg-not-allowed');
    const hs = await new CompactSign(new TextEncoder().encode('{}')).setProtectedHeader({ alg: 'HS256', kid: keys.current().kid, typ }).sign(new Uint8Array(32));
    expect((await refusal(hs)).code).toBe('alg-not-allowed');
  });

  it('refuses an alg that does not fit the key the kid names', async () => {
    const [header, payload, signature] = (await keys.sign(typ, { a: 1 })).split('.');
    const forged = { ...JSON.parse(Buffer.from(header!, 'base64url').toString()), alg: 'PS256' };
    const token = `${Buffer.from(JSON.stringify(forged)).toString('base64url')}.${payload}.${signature}`;
    expect((await refusal(token)).code).toBe('alg-not-allowed');
  });

  it('refuses an unknown kid, and a kid that names two keys', async () => {
    const token = await keys.sign(typ, { a: 1 });
    expect((await refusal(token, other.jwks())).code).toBe('unknown-key');
    const twin = { ...other.current().publicJwk, kid: keys.current().kid };
    expect((await refusal(token, { keys: [...keys.jwks().keys, twin] })).code).toBe('unknown-key');
  });

  it('refuses a signature by another key under our kid', async () => {
    const key = other.current();
    const token = await new CompactSign(new TextEncoder().encode('{}')).setProtectedHeader({ alg: key.alg, kid: keys.current().kid, typ }).sign(key.privateKey);
    expect((await refusal(token)).code).toBe('signature-invalid');
  });

  it('refuses a key carried in the header, and payloads that are not JSON objects', async () => {
    expect((await refusal(await signWith({ jku: 'https://evil.example/jwks' }))).code).toBe('signed-object-malformed');
    expect((await refusal(await signWith({}, '[1,2]'))).code).toBe('signed-object-malformed');
    expect((await refusal(await signWith({}, 'not json'))).code).toBe('signed-object-malformed');
    expect((await refusal('a.b')).code).toBe('signed-object-malformed');
    expect((await refusal('e30..c2ln')).code).toBe('signed-object-malformed');
  });

  it('verifies against a JWKS read back from JSON, as the command line does', async () => {
    const file = join(root, 'jwks.json');
    writeFileSync(file, JSON.stringify(keys.jwks()));
    const token = await keys.sign(typ, { a: 2 });
    expect(await verifyGatewaySigned(token, JSON.parse(readFileSync(file, 'utf8')) as ReturnType<GatewayKeys['jwks']>, typ)).toEqual({ a: 2 });
  });
});
