/** signRequest makes what PROTOCOL.md §2 asks: our verifier and jose (an independent JWS implementation) both accept it. */
import { createPrivateKey, createPublicKey, generateKeyPairSync, type JsonWebKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { FlattenedSign, flattenedVerify, importJWK } from 'jose';
import { describe, expect, it } from 'vitest';
import { PartnerEntry, type PartnerDirectory, type PublicJwk } from '../../src/registry/partner.ts';
import { signRequest, type SigningKey } from '../../src/sign/request-signature.ts';
import { verifyRequest, type RequestHead, type VerifyContext } from '../../src/verify/index.ts';

const vectors = JSON.parse(readFileSync(new URL('../../../shared/spec/vectors/partner.json', import.meta.url), 'utf8')) as {
  gatewayId: string;
  partner: { id: string; format: string; keys: { jwks: { keys: PublicJwk[] } } };
  privateKeys: (JsonWebKey & { kid: string })[];
};
const privateJwk = (kid: string) => vectors.privateKeys.find((k) => k.kid === kid)!;

// A P-384 key of our own: the vectors have none.
const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey.export({ format: 'jwk' });
const keys: Record<SigningKey['alg'], SigningKey> = {
  ES256: { privateJwk: privateJwk('eu-vector-es256'), alg: 'ES256' },
  ES384: { privateJwk: { ...p384, kid: 'eu-test-es384' }, alg: 'ES384' },
  EdDSA: { privateJwk: privateJwk('eu-vector-ed25519'), alg: 'EdDSA' },
  PS256: { privateJwk: privateJwk('eu-vector-ps256'), alg: 'PS256' },
};

function publicOf(key: SigningKey): PublicJwk {
  const publicJwk = createPublicKey(createPrivateKey({ key: key.privateJwk, format: 'jwk' })).export({ format: 'jwk' });
  return { ...publicJwk, kid: key.privateJwk.kid, alg: key.alg } as PublicJwk;
}

const eu = PartnerEntry.parse({
  id: 'EU',
  name: 'European Union',
  programme: 'EU-AEO',
  format: 'eu-aeo',
  keys: { algorithms: ['ES256', 'ES384', 'EdDSA', 'PS256'], jwks: { keys: Object.values(keys).map(publicOf) } },
});
const partners: PartnerDirectory = {
  partner: (id) => (id === 'EU' ? eu : undefined),
  key: (id, kid) => Promise.resolve(id === 'EU' ? eu.keys.jwks?.keys.find((k) => k.kid === kid) : undefined),
};
const now = 1764288000;
const ctx: VerifyContext = { gatewayId: vectors.gatewayId, partners, nowSeconds: now, iatSkewSeconds: 300, expectedMediaType: () => 'application/xml' };
const body = Buffer.from('<?xml version="1.0" encoding="UTF-8"?>\n<AEOExchangeBatch xmlns="urn:eu:taxud:mra:aeo:1"/>\n');
const head = (signature: string): RequestHead => ({ signature, method: 'POST', target: '/v1/exchanges', contentType: 'application/xml', contentEncoding: undefined, hasBody: true });
const crit = ['b64', 'iss', 'aud', 'iat', 'jti', 'htm', 'htu'];
// jose checks crit syntax and integrity protection of the names we list; presence and
// meaning of our members stay ours (FIELD-NOTES "What jose does not check for us").
const joseCrit = Object.fromEntries(crit.filter((c) => c !== 'b64').map((c) => [c, true]));

function sign(alg: SigningKey['alg'], extra: Partial<Parameters<typeof signRequest>[0]> = {}): string {
  return signRequest({ key: keys[alg], iss: 'EU', aud: vectors.gatewayId, method: 'POST', target: '/v1/exchanges', body, iat: now - 1, jti: 'sign-test-1', ...extra });
}

function decodeHeader(value: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(value.split('.')[0]!, 'base64url').toString('utf8')) as Record<string, unknown>;
}

describe.each(Object.keys(keys) as SigningKey['alg'][])('%s', (alg) => {
  it('verifies with verifyRequest', async () => {
    expect(await verifyRequest(head(sign(alg)), body, ctx)).toMatchObject({ ok: true, partner: { id: 'EU' }, header: { alg, jti: 'sign-test-1' } });
  });

  it("verifies with jose's flattenedVerify (b64:false, detached body)", async () => {
    const [protectedPart, payloadPart, signature] = sign(alg).split('.');
    expect(payloadPart).toBe('');
    const key = await importJWK(publicOf(keys[alg]) as Parameters<typeof importJWK>[0], alg);
    const result = await flattenedVerify({ protected: protectedPart!, payload: body, signature: signature! }, key, { algorithms: [alg], crit: joseCrit });
    expect(Buffer.from(result.payload)).toEqual(body);
    expect(result.protectedHeader).toMatchObject({ alg, b64: false, crit });
  });

  it('a jose-made signature verifies with verifyRequest', async () => {
    const key = await importJWK(keys[alg].privateJwk as Parameters<typeof importJWK>[0], alg);
    const jws = await new FlattenedSign(body)
      .setProtectedHeader({ alg, kid: keys[alg].privateJwk.kid, b64: false, crit, iss: 'EU', aud: vectors.gatewayId, iat: now, jti: 'made-by-jose', htm: 'POST', htu: '/v1/exchanges', typ: 'mra-request+jws' })
      .sign(key, { crit: joseCrit });
    expect(await verifyRequest(head(`${jws.protected!}..${jws.signature}`), body, ctx)).toMatchObject({ ok: true });
  });
});

describe('the header', () => {
  it('has exactly the members of §2, in its order, typ set', () => {
    const header = decodeHeader(sign('ES256'));
    expect(Object.keys(header)).toEqual(['alg', 'kid', 'b64', 'crit', 'iss', 'aud', 'iat', 'jti', 'htm', 'htu', 'typ']);
    expect(header).toEqual({ alg: 'ES256', kid: 'eu-vector-es256', b64: false, crit, iss: 'EU', aud: vectors.gatewayId, iat: now - 1, jti: 'sign-test-1', htm: 'POST', htu: '/v1/exchanges', typ: 'mra-request+jws' });
  });

  it('carries cty when a content type is given', () => {
    expect(decodeHeader(sign('ES256', { contentType: 'application/xml' }))).toMatchObject({ cty: 'application/xml' });
  });

  it('gets a random jti and the current iat when none is given', () => {
    const before = Math.floor(Date.now() / 1000);
    const input = { key: keys.ES256, iss: 'EU', aud: vectors.gatewayId, method: 'POST', target: '/v1/exchanges', body };
    const a = decodeHeader(signRequest(input));
    const b = decodeHeader(signRequest(input));
    expect(a['jti']).toMatch(/^[A-Za-z0-9._-]{1,128}$/);
    expect(a['jti']).not.toBe(b['jti']);
    expect(a['iat']).toBeGreaterThanOrEqual(before);
    expect(a['iat']).toBeLessThanOrEqual(Math.floor(Date.now() / 1000));
  });

  it('is unpadded base64url and ECDSA signatures are raw R||S', () => {
    const value = sign('ES256');
    expect(value).toMatch(/^[A-Za-z0-9_-]+\.\.[A-Za-z0-9_-]+$/);
    expect(Buffer.from(value.split('..')[1]!, 'base64url')).toHaveLength(64);
    expect(Buffer.from(sign('ES384').split('..')[1]!, 'base64url')).toHaveLength(96);
  });

  it('signs an empty body for a GET', async () => {
    const empty = Buffer.alloc(0);
    const value = sign('EdDSA', { method: 'GET', target: '/v1/exchanges/abc', body: empty });
    expect(await verifyRequest({ ...head(value), method: 'GET', target: '/v1/exchanges/abc', contentType: undefined, hasBody: false }, empty, ctx)).toMatchObject({ ok: true });
  });
});

describe('refuses what no verifier would accept', () => {
  it('a jti outside [A-Za-z0-9._-]{1,128}', () => {
    expect(() => sign('ES256', { jti: 'two words' })).toThrow(RangeError);
  });

  it('a lower-case method', () => {
    expect(() => sign('ES256', { method: 'post' })).toThrow(RangeError);
  });

  it('a URL instead of an origin-form target', () => {
    expect(() => sign('ES256', { target: 'https://gateway.example/v1/exchanges' })).toThrow(RangeError);
  });

  it('a key of the wrong kind for its alg', () => {
    expect(() => signRequest({ key: { privateJwk: keys.EdDSA.privateJwk, alg: 'ES256' }, iss: 'EU', aud: 'US-CBP', method: 'POST', target: '/', body })).toThrow(RangeError);
    const p384NoAlg = { privateJwk: { ...p384, kid: 'x' }, alg: 'ES256' } as const;
    expect(() => signRequest({ key: p384NoAlg, iss: 'EU', aud: 'US-CBP', method: 'POST', target: '/', body })).toThrow(/P-256/);
  });
});
