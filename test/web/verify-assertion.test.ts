/**
 * The pages' assertion check (web/shared/verify-assertion.js) in Node, whose
 * globalThis.crypto.subtle is the WebCrypto the browser runs it with. Assertions are
 * made with jose, as the gateway makes them; each kind of forgery is refused with its code.
 */
import { CompactSign, exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';

// The module is a plain browser ES module with JSDoc types, checked by web/tsconfig.json;
// this project does not read JavaScript, so its shape is stated here.
type RefusalCode = 'malformed' | 'alg-not-allowed' | 'wrong-typ' | 'unknown-key' | 'bad-signature' | 'expired' | 'not-yet-valid';
type Verification =
  | { ok: true; kid: string; alg: string; header: Record<string, unknown>; claims: Record<string, unknown> }
  | { ok: false; code: RefusalCode; message: string; header?: Record<string, unknown>; claims?: Record<string, unknown> };
interface VerifyModule {
  verifyAssertion(jws: string, jwks: { keys: JWK[] }, nowSeconds: number, options?: { typ?: string; leewaySeconds?: number }): Promise<Verification>;
  allowedAlgorithms: readonly string[];
}
const modulePath = new URL('../../web/shared/verify-assertion.js', import.meta.url).href;
const { verifyAssertion, allowedAlgorithms } = (await import(modulePath)) as VerifyModule;

const now = 1_796_000_000;
const claims = {
  iss: 'US-CBP-TEST',
  iat: now - 60,
  exp: now + 3540,
  sub: 'eu-aeo:DEAEOS00000001',
  programme: 'EU-AEO',
  status: 'active',
  statusEffective: '2021-03-01',
  recognitions: [{ authority: 'US-CBP-TEST', state: 'recognized', since: '2021-03-01' }],
};

type Alg = 'ES256' | 'EdDSA' | 'PS256';
const keys: Partial<Record<Alg, { privateKey: CryptoKey; jwk: JWK }>> = {};
let jwks: { keys: JWK[] };

beforeAll(async () => {
  for (const alg of ['ES256', 'EdDSA', 'PS256'] as const) {
    const pair = await generateKeyPair(alg, alg === 'EdDSA' ? { crv: 'Ed25519' } : {});
    keys[alg] = { privateKey: pair.privateKey, jwk: { ...(await exportJWK(pair.publicKey)), kid: `gw-${alg.toLowerCase()}`, alg, use: 'sig' } };
  }
  jwks = { keys: Object.values(keys).map((k) => k.jwk) };
});

function sign(payload: object, options: { alg?: Alg; typ?: string; kid?: string } = {}): Promise<string> {
  const alg = options.alg ?? 'ES256';
  return new CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
    .setProtectedHeader({ alg, kid: options.kid ?? `gw-${alg.toLowerCase()}`, typ: options.typ ?? 'mra-status+jwt' })
    .sign(keys[alg]!.privateKey);
}

const b64url = (s: string) => Buffer.from(s).toString('base64url');

async function refusal(jws: string, at = now): Promise<RefusalCode | 'verified'> {
  const result = await verifyAssertion(jws, jwks, at);
  if (result.ok) return 'verified';
  expect(result.message.length).toBeGreaterThan(0);
  return result.code;
}

describe('verifyAssertion', () => {
  it('accepts only the gateway algorithms', () => {
    expect([...allowedAlgorithms].sort()).toEqual(['ES256', 'EdDSA', 'PS256']);
  });

  it.each(['ES256', 'EdDSA', 'PS256'] as const)('verifies an assertion signed with %s, returning its key and claims', async (alg) => {
    const result = await verifyAssertion(await sign(claims, { alg }), jwks, now);
    expect(result).toMatchObject({ ok: true, alg, kid: `gw-${alg.toLowerCase()}`, claims });
  });

  it('refuses a payload changed after signing, still showing what it claims', async () => {
    const [h, , s] = (await sign(claims)).split('.');
    const forged = `${h}.${b64url(JSON.stringify({ ...claims, status: 'revoked' }))}.${s}`;
    const result = await verifyAssertion(forged, jwks, now);
    expect(result).toMatchObject({ ok: false, code: 'bad-signature', claims: { status: 'revoked' } });
  });

  it('refuses a changed payload character and a changed signature', async () => {
    const jws = await sign(claims);
    const [h, p = '', s = ''] = jws.split('.');
    const flip = (text: string, at: number) => text.slice(0, at) + (text[at] === 'A' ? 'B' : 'A') + text.slice(at + 1);
    expect(await refusal(`${h}.${flip(p, 10)}.${s}`)).toBe('bad-signature');
    expect(await refusal(`${h}.${p}.${flip(s, 5)}`)).toBe('bad-signature');
    expect(await refusal(`${h}.${p}.${s.slice(0, -4)}`)).toBe('bad-signature');
    expect(await refusal(`${h}.${p}.`)).toBe('bad-signature');
  });

  it('refuses alg none and HS256 (even keyed with the public key)', async () => {
    const [, p] = (await sign(claims)).split('.');
    expect(await refusal(`${b64url(JSON.stringify({ alg: 'none', typ: 'mra-status+jwt', kid: 'gw-es256' }))}.${p}.`)).toBe('alg-not-allowed');
    const hs = await new CompactSign(new TextEncoder().encode(JSON.stringify(claims)))
      .setProtectedHeader({ alg: 'HS256', kid: 'gw-es256', typ: 'mra-status+jwt' })
      .sign(new TextEncoder().encode(JSON.stringify(keys.ES256!.jwk)));
    expect(await refusal(hs)).toBe('alg-not-allowed');
    expect(await refusal(`${b64url(JSON.stringify({ kid: 'gw-es256', typ: 'mra-status+jwt' }))}.${p}.AAAA`)).toBe('alg-not-allowed');
  });

  it('refuses a key that is not published, and a published key of another algorithm', async () => {
    expect(await refusal(await sign(claims, { kid: 'someone-else' }))).toBe('unknown-key');
    expect(await refusal(await sign(claims, { alg: 'ES256', kid: 'gw-eddsa' }))).toBe('unknown-key');
    const { kid: _kid, ...noKid } = { alg: 'ES256', kid: '', typ: 'mra-status+jwt' };
    const [, p, s] = (await sign(claims)).split('.');
    expect(await refusal(`${b64url(JSON.stringify(noKid))}.${p}.${s}`)).toBe('unknown-key');
    expect((await verifyAssertion(await sign(claims), { keys: [] }, now)).ok).toBe(false);
  });

  it('refuses another typ (a receipt is not a status assertion) and a missing typ', async () => {
    expect(await refusal(await sign(claims, { typ: 'mra-receipt+jwt' }))).toBe('wrong-typ');
    expect(await refusal(await sign(claims, { typ: 'JWT' }))).toBe('wrong-typ');
    const [, p, s] = (await sign(claims)).split('.');
    expect(await refusal(`${b64url(JSON.stringify({ alg: 'ES256', kid: 'gw-es256' }))}.${p}.${s}`)).toBe('wrong-typ');
  });

  it('refuses an expired assertion, from the second of its exp', async () => {
    const jws = await sign(claims);
    expect(await refusal(jws, claims.exp - 1)).toBe('verified');
    expect(await refusal(jws, claims.exp)).toBe('expired');
    expect(await refusal(await sign({ ...claims, iat: now - 7200, exp: now - 3600 }))).toBe('expired');
    expect(await refusal(await sign({ ...claims, exp: undefined }))).toBe('malformed');
  });

  it('refuses text that is not a compact JWS', async () => {
    for (const text of ['', 'hello', 'a.b', 'a.b.c.d', '!!!.e30.AAAA', `${b64url('not json')}.e30.AAAA`, `${b64url('[1]')}.e30.AAAA`]) {
      expect(await refusal(text)).toBe('malformed');
    }
  });

  it('refuses critical header extensions', async () => {
    const jws = await new CompactSign(new TextEncoder().encode(JSON.stringify(claims)))
      .setProtectedHeader({ alg: 'ES256', kid: 'gw-es256', typ: 'mra-status+jwt', crit: ['x-test'], 'x-test': true })
      .sign(keys.ES256!.privateKey, { crit: { 'x-test': true } });
    expect(await refusal(jws)).toBe('malformed');
  });
});
