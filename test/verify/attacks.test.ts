/**
 * Attacks on request signatures (PROTOCOL.md §2), one test each, signed with the vector
 * keys of spec/vectors/partner.json: by signRequest for well-formed requests, by hand
 * for headers no honest signer makes.
 */
import { createHmac, createPrivateKey, createPublicKey, createSign, generateKeyPairSync, sign as oneShotSign, constants, type JsonWebKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PartnerEntry, type Partner, type PartnerDirectory, type PublicJwk } from '../../src/registry/partner.ts';
import { signRequest, type SigningKey } from '../../src/sign/request-signature.ts';
import { createSignatureCheck, verifyHead, verifyRequest, type RequestHead, type VerifyContext } from '../../src/verify/index.ts';

// ---- fixtures: the vector partners EU and JP, the vector clock ----

interface RegistryFixture {
  id: string;
  format: string;
  keys: { algorithms: string[]; jwks: { keys: PublicJwk[] } };
}
const vectors = JSON.parse(readFileSync(new URL('../../../shared/spec/vectors/partner.json', import.meta.url), 'utf8')) as {
  gatewayId: string;
  now: number;
  partner: RegistryFixture;
  otherPartner: RegistryFixture;
  privateKeys: (JsonWebKey & { kid: string; alg: string })[];
};
const now = vectors.now;
const gatewayId = vectors.gatewayId;
const euKeys = vectors.partner.keys.jwks.keys;

function entry(fixture: RegistryFixture, extra: Record<string, unknown> = {}): Partner {
  return PartnerEntry.parse({ id: fixture.id, name: fixture.id, programme: `${fixture.id}-AEO`, format: fixture.format, keys: fixture.keys, ...extra });
}
function directoryOf(...list: Partner[]): PartnerDirectory {
  const byId = new Map(list.map((p) => [p.id, p]));
  return { partner: (id) => byId.get(id), key: (id, kid) => Promise.resolve(byId.get(id)?.keys.jwks?.keys.find((k) => k.kid === kid)) };
}
const eu = entry(vectors.partner);
const jp = entry(vectors.otherPartner);

function context(partners: PartnerDirectory = directoryOf(eu, jp), extra: Partial<VerifyContext> = {}): VerifyContext {
  return { gatewayId, partners, nowSeconds: now, iatSkewSeconds: 300, expectedMediaType: () => 'application/xml', ...extra };
}
function head(signature: string | undefined, extra: Partial<RequestHead> = {}): RequestHead {
  return { signature, method: 'POST', target: '/v1/exchanges', contentType: 'application/xml', contentEncoding: undefined, hasBody: true, ...extra };
}

const body = Buffer.from('<?xml version="1.0" encoding="UTF-8"?>\n<AEOExchangeBatch xmlns="urn:eu:taxud:mra:aeo:1" partner="EU" receiver="US-CBP" batchId="EU-ATTACK" sequence="1" type="SNAPSHOT" asOf="2025-11-27T02:00:00Z" recordCount="0">\n</AEOExchangeBatch>\n');

function privateJwk(kid: string): JsonWebKey & { kid: string } {
  const jwk = vectors.privateKeys.find((k) => k.kid === kid);
  if (jwk === undefined) throw new Error(`no private key ${kid}`);
  return jwk;
}
const signingKeys = {
  ES256: { privateJwk: privateJwk('eu-vector-es256'), alg: 'ES256' },
  EdDSA: { privateJwk: privateJwk('eu-vector-ed25519'), alg: 'EdDSA' },
  PS256: { privateJwk: privateJwk('eu-vector-ps256'), alg: 'PS256' },
  JP: { privateJwk: privateJwk('jp-vector-es256'), alg: 'ES256' },
} satisfies Record<string, SigningKey>;

/** A good request signature by EU, overridable member by member. */
function signed(extra: Partial<Parameters<typeof signRequest>[0]> = {}): string {
  return signRequest({ key: signingKeys.ES256, iss: 'EU', aud: gatewayId, method: 'POST', target: '/v1/exchanges', body, iat: now - 5, jti: 'attack-test', ...extra });
}

// ---- hand-built signatures, for headers signRequest would never make ----

type Mode = 'ES256' | 'ES384' | 'EdDSA' | 'PS256' | 'ES256-DER';

function rawSign(mode: Mode, key: KeyObject, data: Buffer): Buffer {
  switch (mode) {
    case 'EdDSA':
      return oneShotSign(null, data, key);
    case 'PS256':
      return createSign('sha256').update(data).sign({ key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 });
    case 'ES256-DER':
      return createSign('sha256').update(data).sign(key);
    case 'ES256':
      return createSign('sha256').update(data).sign({ key, dsaEncoding: 'ieee-p1363' });
    case 'ES384':
      return createSign('sha384').update(data).sign({ key, dsaEncoding: 'ieee-p1363' });
  }
}

const b64u = (text: string | Buffer): string => Buffer.from(text).toString('base64url');

/** `BASE64URL(headerJson)..BASE64URL(signature over it and bodyBytes)`. */
function handSigned(headerJson: string, options: { mode?: Mode; key?: KeyObject; signedBody?: Buffer } = {}): string {
  const headerPart = b64u(headerJson);
  const key = options.key ?? createPrivateKey({ key: signingKeys.ES256.privateJwk, format: 'jwk' });
  const data = Buffer.concat([Buffer.from(`${headerPart}.`), options.signedBody ?? body]);
  return `${headerPart}..${b64u(rawSign(options.mode ?? 'ES256', key, data))}`;
}

const crit = ['b64', 'iss', 'aud', 'iat', 'jti', 'htm', 'htu'];
/** The members of a good EU ES256 header; `undefined` in `extra` drops a member. */
function header(extra: Record<string, unknown> = {}): string {
  const members: Record<string, unknown> = { alg: 'ES256', kid: 'eu-vector-es256', b64: false, crit, iss: 'EU', aud: gatewayId, iat: now - 5, jti: 'attack-test', htm: 'POST', htu: '/v1/exchanges', typ: 'mra-request+jws', ...extra };
  for (const [name, value] of Object.entries(members)) if (value === undefined) delete members[name];
  return JSON.stringify(members);
}

async function slugOf(signature: string | undefined, options: { head?: Partial<RequestHead>; ctx?: VerifyContext; body?: Buffer } = {}): Promise<string> {
  const verdict = await verifyRequest(head(signature, options.head), options.body ?? body, options.ctx ?? context());
  return verdict.ok ? 'valid' : verdict.slug;
}

// ---- the tests ----

describe('baseline', () => {
  it('a request signed by signRequest verifies', async () => {
    expect(await slugOf(signed())).toBe('valid');
  });

  it('the hand-built signer makes the same kind of request', async () => {
    expect(await slugOf(handSigned(header()))).toBe('valid');
  });
});

describe('step 1: header syntax (header-invalid)', () => {
  it('missing header', async () => {
    expect(await slugOf(undefined)).toBe('header-invalid');
  });

  it('header over 8 KiB', async () => {
    const target = `/v1/exchanges?pad=${'a'.repeat(6200)}`;
    const value = signed({ target });
    expect(value.length).toBeGreaterThan(8192);
    expect(await slugOf(value, { head: { target } })).toBe('header-invalid');
  });

  it('a header just under 8 KiB is fine', async () => {
    const target = `/v1/exchanges?pad=${'a'.repeat(5800)}`;
    const value = signed({ target });
    expect(value.length).toBeLessThanOrEqual(8192);
    expect(await slugOf(value, { head: { target } })).toBe('valid');
  });

  it('non-empty payload part', async () => {
    const [h, , s] = signed().split('.');
    expect(await slugOf(`${h}.${b64u(body)}.${s}`)).toBe('header-invalid');
  });

  it('empty header part, empty signature part, wrong number of parts', async () => {
    const [h, , s] = signed().split('.');
    expect(await slugOf(`..${s}`)).toBe('header-invalid');
    expect(await slugOf(`${h}..`)).toBe('header-invalid');
    expect(await slugOf(`${h}.${s}`)).toBe('header-invalid');
    expect(await slugOf(`${h}..${s}.`)).toBe('header-invalid');
  });

  it('padded base64url in the header part', async () => {
    // A header whose JSON length is not a multiple of 3 gets padding in plain base64.
    let json = header();
    while (json.length % 3 === 0) json = header({ jti: `${JSON.parse(json).jti as string}x` });
    const unpadded = handSigned(json);
    const [h, , s] = unpadded.split('.');
    expect(await slugOf(unpadded)).toBe('valid');
    expect(await slugOf(`${h}${'='.repeat(4 - (h!.length % 4))}..${s}`)).toBe('header-invalid');
  });

  it('padded base64url in the signature part', async () => {
    // ES256 signatures are 64 bytes: their base64 ends in one '='.
    expect(await slugOf(`${signed()}=`)).toBe('header-invalid');
  });

  it('non-canonical base64url (spare bits set) is refused', async () => {
    const value = signed();
    // The last character of an 86-character encoding of 64 bytes carries 4 spare bits.
    const last = value.at(-1)!;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const twin = alphabet[alphabet.indexOf(last) ^ 1]!;
    expect(await slugOf(value.slice(0, -1) + twin)).toBe('header-invalid');
  });

  it('header not JSON, not an object, not UTF-8', async () => {
    expect(await slugOf(handSigned('{"alg":"ES256",'))).toBe('header-invalid');
    expect(await slugOf(handSigned('["ES256"]'))).toBe('header-invalid');
    const bad = Buffer.concat([Buffer.from(header().slice(0, -1)), Buffer.from(',"cty":"\xff"}', 'latin1')]);
    expect(await slugOf(`${b64u(bad)}..${signed().split('..')[1]!}`)).toBe('header-invalid');
  });

  it('duplicate header members', async () => {
    // aud twice: JSON.parse would keep the last, the good one.
    const json = header().replace('"aud":', '"aud":"EU","aud":');
    expect(JSON.parse(json)).toMatchObject({ aud: gatewayId });
    expect(await slugOf(handSigned(json))).toBe('header-invalid');
  });

  it('embedded jwk', async () => {
    const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const jwk = { ...publicKey.export({ format: 'jwk' }), kid: 'eu-vector-es256' };
    expect(await slugOf(handSigned(header({ jwk }), { key: privateKey }))).toBe('header-invalid');
  });

  it('jku', async () => {
    expect(await slugOf(handSigned(header({ jku: 'https://attacker.example/jwks.json' })))).toBe('header-invalid');
  });

  it('x5u and x5c', async () => {
    expect(await slugOf(handSigned(header({ x5u: 'https://attacker.example/cert.pem' })))).toBe('header-invalid');
    expect(await slugOf(handSigned(header({ x5c: ['MIIB'] })))).toBe('header-invalid');
  });

  it('an unknown member, even listed in crit', async () => {
    expect(await slugOf(handSigned(header({ exp: now + 60 })))).toBe('header-invalid');
    expect(await slugOf(handSigned(header({ exp: now + 60, crit: [...crit, 'exp'] })))).toBe('header-invalid');
  });

  it('unknown crit member', async () => {
    expect(await slugOf(handSigned(header({ crit: [...crit, 'urn:example:ext'] })))).toBe('header-invalid');
  });

  it('missing crit member', async () => {
    expect(await slugOf(handSigned(header({ crit: crit.filter((c) => c !== 'htu') })))).toBe('header-invalid');
  });

  it('crit with a name twice (and seven entries)', async () => {
    expect(await slugOf(handSigned(header({ crit: [...crit.filter((c) => c !== 'htu'), 'b64'] })))).toBe('header-invalid');
  });

  it('crit in another order is fine', async () => {
    expect(await slugOf(handSigned(header({ crit: [...crit].reverse() })))).toBe('valid');
  });

  it('b64 true', async () => {
    expect(await slugOf(handSigned(header({ b64: true })))).toBe('header-invalid');
  });

  it('b64 missing', async () => {
    expect(await slugOf(handSigned(header({ b64: undefined })))).toBe('header-invalid');
  });

  it('typ wrong', async () => {
    expect(await slugOf(handSigned(header({ typ: 'JWT' })))).toBe('header-invalid');
  });

  it('typ absent is fine', async () => {
    expect(await slugOf(handSigned(header({ typ: undefined })))).toBe('valid');
  });

  it('jti with a space', async () => {
    expect(await slugOf(handSigned(header({ jti: 'two words' })))).toBe('header-invalid');
  });

  it('jti empty or longer than 128 characters', async () => {
    expect(await slugOf(handSigned(header({ jti: '' })))).toBe('header-invalid');
    expect(await slugOf(handSigned(header({ jti: 'a'.repeat(129) })))).toBe('header-invalid');
    expect(await slugOf(handSigned(header({ jti: 'a'.repeat(128) })))).toBe('valid');
  });

  it('iat as a string', async () => {
    expect(await slugOf(handSigned(header({ iat: String(now - 5) })))).toBe('header-invalid');
  });

  it('iat not an integer', async () => {
    expect(await slugOf(handSigned(header({ iat: now - 5.5 })))).toBe('header-invalid');
  });

  it('aud as an array', async () => {
    expect(await slugOf(handSigned(header({ aud: [gatewayId] })))).toBe('header-invalid');
  });

  it('kid, iss, htm, htu or alg not strings', async () => {
    for (const name of ['kid', 'iss', 'htm', 'htu', 'alg']) {
      expect(await slugOf(handSigned(header({ [name]: 1 }))), name).toBe('header-invalid');
    }
  });

  it('cty not a string', async () => {
    expect(await slugOf(handSigned(header({ cty: 1 })))).toBe('header-invalid');
  });
});

describe('step 2: key (unknown-key)', () => {
  it('kid of another partner', async () => {
    const value = signRequest({ key: signingKeys.JP, iss: 'EU', aud: gatewayId, method: 'POST', target: '/v1/exchanges', body, iat: now });
    expect(await slugOf(value)).toBe('unknown-key');
  });

  it('a kid nobody registered', async () => {
    expect(await slugOf(handSigned(header({ kid: 'eu-vector-es256-next' })))).toBe('unknown-key');
  });

  it('an iss that is not a registered partner', async () => {
    expect(await slugOf(handSigned(header({ iss: 'XX' })))).toBe('unknown-key');
  });
});

describe('step 3: algorithm (alg-not-allowed)', () => {
  it('alg none', async () => {
    expect(await slugOf(`${b64u(header({ alg: 'none' }))}..AA`)).toBe('alg-not-allowed');
  });

  it("HS256 signed with the partner's public key as HMAC secret", async () => {
    const publicJwk = euKeys.find((k) => k.kid === 'eu-vector-es256')!;
    const h = b64u(header({ alg: 'HS256' }));
    for (const secret of [JSON.stringify(publicJwk), `${publicJwk.x!}${publicJwk.y!}`]) {
      const mac = createHmac('sha256', secret).update(`${h}.`).update(body).digest();
      expect(await slugOf(`${h}..${b64u(mac)}`)).toBe('alg-not-allowed');
    }
  });

  it('an algorithm outside the profile (RS256, ES512)', async () => {
    expect(await slugOf(handSigned(header({ alg: 'RS256', kid: 'eu-vector-ps256' })))).toBe('alg-not-allowed');
    expect(await slugOf(handSigned(header({ alg: 'ES512' })))).toBe('alg-not-allowed');
  });

  it("an algorithm of the profile the partner's entry does not list", async () => {
    const strict = entry(vectors.partner, { keys: { ...vectors.partner.keys, algorithms: ['ES256'] } });
    const value = signRequest({ key: signingKeys.EdDSA, iss: 'EU', aud: gatewayId, method: 'POST', target: '/v1/exchanges', body, iat: now });
    expect(await slugOf(value, { ctx: context(directoryOf(strict)) })).toBe('alg-not-allowed');
  });

  it('a header alg other than the registered JWK alg', async () => {
    // The EdDSA key named with alg PS256: the partner allows PS256, the JWK says EdDSA.
    const edKey = createPrivateKey({ key: signingKeys.EdDSA.privateJwk, format: 'jwk' });
    expect(await slugOf(handSigned(header({ alg: 'PS256', kid: 'eu-vector-ed25519' }), { mode: 'EdDSA', key: edKey }))).toBe('alg-not-allowed');
  });

  it('Ed25519 is accepted as a synonym of EdDSA', async () => {
    const edKey = createPrivateKey({ key: signingKeys.EdDSA.privateJwk, format: 'jwk' });
    expect(await slugOf(handSigned(header({ alg: 'Ed25519', kid: 'eu-vector-ed25519' }), { mode: 'EdDSA', key: edKey }))).toBe('valid');
  });

  describe('an ES384 key with an ES256 alg', () => {
    const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-384' });
    const publicJwk = { ...publicKey.export({ format: 'jwk' }), kid: 'eu-p384' } as PublicJwk;
    const withKey = (jwk: PublicJwk) => entry(vectors.partner, { keys: { algorithms: ['ES256', 'ES384'], jwks: { keys: [jwk] } } });
    const es256Header = header({ alg: 'ES256', kid: 'eu-p384' });

    it('refused when the JWK has no alg (the curve decides)', async () => {
      const ctx = context(directoryOf(withKey(publicJwk)));
      expect(await slugOf(handSigned(es256Header, { key: privateKey }), { ctx })).toBe('alg-not-allowed');
      // The same key under its own algorithm is fine.
      expect(await slugOf(handSigned(header({ alg: 'ES384', kid: 'eu-p384' }), { key: privateKey, mode: 'ES384' }), { ctx })).toBe('valid');
    });

    it('refused when the JWK says ES384', async () => {
      const ctx = context(directoryOf(withKey({ ...publicJwk, alg: 'ES384' })));
      expect(await slugOf(handSigned(es256Header, { key: privateKey }), { ctx })).toBe('alg-not-allowed');
    });
  });

  it('an RSA key under 2048 bits', async () => {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const publicJwk = { ...publicKey.export({ format: 'jwk' }), kid: 'eu-rsa-1024', alg: 'PS256' } as PublicJwk;
    const ctx = context(directoryOf(entry(vectors.partner, { keys: { algorithms: ['PS256'], jwks: { keys: [publicJwk] } } })));
    const value = handSigned(header({ alg: 'PS256', kid: 'eu-rsa-1024' }), { key: privateKey, mode: 'PS256' });
    expect(await slugOf(value, { ctx })).toBe('alg-not-allowed');
    // Our own signer refuses such a key up front.
    const small = { privateJwk: { ...privateKey.export({ format: 'jwk' }), kid: 'eu-rsa-1024' }, alg: 'PS256' } as const;
    expect(() => signRequest({ key: small, iss: 'EU', aud: gatewayId, method: 'POST', target: '/v1/exchanges', body })).toThrow(/2048/);
  });

  it('an EdDSA header naming an EC key', async () => {
    const loose = entry(vectors.partner, { keys: { algorithms: ['ES256', 'EdDSA'], jwks: { keys: euKeys.map(({ alg: _alg, ...k }) => k) } } });
    const edKey = createPrivateKey({ key: signingKeys.EdDSA.privateJwk, format: 'jwk' });
    const value = handSigned(header({ alg: 'EdDSA', kid: 'eu-vector-es256' }), { mode: 'EdDSA', key: edKey });
    expect(await slugOf(value, { ctx: context(directoryOf(loose)) })).toBe('alg-not-allowed');
  });
});

describe('step 4: addressing', () => {
  it('wrong aud', async () => {
    expect(await slugOf(signed({ aud: 'US-CBP-TEST' }))).toBe('audience-mismatch');
  });

  it('wrong htm', async () => {
    expect(await slugOf(signed({ method: 'PUT' }))).toBe('htm-mismatch');
  });

  it('htm compared exactly (a lower-case method on the request line does not match)', async () => {
    expect(await slugOf(signed(), { head: { method: 'post' } })).toBe('htm-mismatch');
  });

  it('wrong htu', async () => {
    expect(await slugOf(signed({ target: '/v1/exchanges/other' }))).toBe('htu-mismatch');
  });

  it('htu compared exactly: query, encoding case and trailing slash count', async () => {
    expect(await slugOf(signed({ target: '/v1/exchanges' }), { head: { target: '/v1/exchanges?x=1' } })).toBe('htu-mismatch');
    expect(await slugOf(signed({ target: '/v1/exchanges/' }))).toBe('htu-mismatch');
    const id = '/v1/status/eori/DE%2F123';
    expect(await slugOf(signed({ target: id, method: 'GET', body: Buffer.alloc(0) }), { head: { method: 'GET', target: '/v1/status/eori/DE%2f123', hasBody: false }, body: Buffer.alloc(0) })).toBe('htu-mismatch');
  });
});

describe('step 5: iat window', () => {
  it('stale iat', async () => {
    expect(await slugOf(signed({ iat: now - 1000 }))).toBe('iat-out-of-window');
  });

  it('future iat', async () => {
    expect(await slugOf(signed({ iat: now + 1000 }))).toBe('iat-out-of-window');
  });

  it('the window is inclusive at ±300 s', async () => {
    expect(await slugOf(signed({ iat: now - 300 }))).toBe('valid');
    expect(await slugOf(signed({ iat: now + 300 }))).toBe('valid');
    expect(await slugOf(signed({ iat: now - 301 }))).toBe('iat-out-of-window');
    expect(await slugOf(signed({ iat: now + 301 }))).toBe('iat-out-of-window');
  });

  it('the skew is configurable', async () => {
    expect(await slugOf(signed({ iat: now - 500 }), { ctx: context(undefined, { iatSkewSeconds: 600 }) })).toBe('valid');
  });
});

describe('step 6: media type', () => {
  it('unsupported media type', async () => {
    expect(await slugOf(signed(), { head: { contentType: 'application/json' } })).toBe('unsupported-media-type');
  });

  it('no Content-Type on a request with a body', async () => {
    expect(await slugOf(signed(), { head: { contentType: undefined } })).toBe('unsupported-media-type');
  });

  it('charset=iso-8859-1', async () => {
    expect(await slugOf(signed(), { head: { contentType: 'application/xml; charset=iso-8859-1' } })).toBe('unsupported-media-type');
  });

  it('Content-Encoding gzip', async () => {
    expect(await slugOf(signed(), { head: { contentEncoding: 'gzip' } })).toBe('unsupported-media-type');
  });

  it('case-insensitive type and a quoted utf-8 charset are fine', async () => {
    expect(await slugOf(signed(), { head: { contentType: 'Application/XML; Charset="UTF-8"', contentEncoding: 'identity' } })).toBe('valid');
  });

  it('GET without body skips the media-type step', async () => {
    const empty = Buffer.alloc(0);
    const value = signed({ method: 'GET', target: '/v1/exchanges/6f0c6a52-5f5e-4b8c-9d0e-1a2b3c4d5e6f', body: empty });
    const ctx = context(undefined, {
      expectedMediaType: () => {
        throw new Error('step 6 must be skipped for a request without a body');
      },
    });
    const verdict = await verifyRequest(head(value, { method: 'GET', target: '/v1/exchanges/6f0c6a52-5f5e-4b8c-9d0e-1a2b3c4d5e6f', contentType: undefined, hasBody: false }), empty, ctx);
    expect(verdict).toMatchObject({ ok: true, header: { htm: 'GET' } });
  });
});

describe('step 7: size', () => {
  const small = entry(vectors.partner, { limits: { maxBodyBytes: body.byteLength - 1 } });
  const ctx = context(directoryOf(small));

  it('a body over the partner limit', async () => {
    expect(await slugOf(signed(), { ctx })).toBe('payload-too-large');
  });

  it('a body exactly at the limit is fine', async () => {
    expect(await slugOf(signed(), { ctx: context(directoryOf(entry(vectors.partner, { limits: { maxBodyBytes: body.byteLength } }))) })).toBe('valid');
  });
});

describe('step 8: signature (signature-invalid)', () => {
  it('DER-encoded ECDSA signature', async () => {
    expect(await slugOf(handSigned(header(), { mode: 'ES256-DER' }))).toBe('signature-invalid');
  });

  it('body changed by one byte', async () => {
    const changed = flipByte(body, body.length - 2, 1);
    expect(await slugOf(signed(), { body: changed })).toBe('signature-invalid');
  });

  it('signature of another body', async () => {
    expect(await slugOf(signed({ body: Buffer.from(`${body.toString()} `) }))).toBe('signature-invalid');
  });

  it('a signature copied from another header', async () => {
    const [, , s] = signed({ jti: 'first' }).split('.');
    const [h] = signed({ jti: 'second' }).split('.');
    expect(await slugOf(`${h}..${s}`)).toBe('signature-invalid');
  });

  it('a truncated or lengthened signature', async () => {
    const [h, , s] = signed().split('.');
    const sig = Buffer.from(s!, 'base64url');
    expect(await slugOf(`${h}..${b64u(sig.subarray(0, 63))}`)).toBe('signature-invalid');
    expect(await slugOf(`${h}..${b64u(Buffer.concat([sig, Buffer.alloc(1)]))}`)).toBe('signature-invalid');
  });

  it('an embedded-key signature made to look registered (kid of the real key, attacker key)', async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    expect(await slugOf(handSigned(header(), { key: privateKey }))).toBe('signature-invalid');
  });

  it('canonicalized (re-encoded) header: the signature covers the header part as sent', async () => {
    const [, , s] = signed().split('.');
    const reencoded = b64u(JSON.stringify(JSON.parse(header()), null, 1));
    expect(await slugOf(`${reencoded}..${s}`)).toBe('signature-invalid');
  });
});

describe('step 9: suspended partner', () => {
  const suspended = context(directoryOf(entry(vectors.partner, { status: 'suspended' })));

  it('a good signature from a suspended partner gets partner-suspended', async () => {
    expect(await slugOf(signed(), { ctx: suspended })).toBe('partner-suspended');
  });

  it('a bad signature from a suspended partner is signature-invalid (nothing revealed)', async () => {
    expect(await slugOf(signed({ body: Buffer.from('other') }), { ctx: suspended })).toBe('signature-invalid');
  });

  it('a suspended partner is not revealed before the signature (step 9 comes last)', async () => {
    expect(await verifyHead(head(signed()), suspended)).toMatchObject({ ok: true });
  });
});

describe('order of checks', () => {
  it('two faults: the earlier check decides (aud before signature)', async () => {
    expect(await slugOf(signed({ aud: 'US-CBX', body: Buffer.from('another body') }))).toBe('audience-mismatch');
  });

  it('unknown kid before a forbidden alg', async () => {
    expect(await slugOf(`${b64u(header({ alg: 'none', kid: 'nobody' }))}..AA`)).toBe('unknown-key');
  });

  it('header syntax before the key', async () => {
    expect(await slugOf(handSigned(header({ kid: 'nobody', jku: 'https://attacker.example/' })))).toBe('header-invalid');
  });

  it('iat before media type, media type before size, size before signature', async () => {
    const tiny = context(directoryOf(entry(vectors.partner, { limits: { maxBodyBytes: 10 } })));
    expect(await slugOf(signed({ iat: now - 1000 }), { head: { contentType: 'text/plain' } })).toBe('iat-out-of-window');
    expect(await slugOf(signed(), { head: { contentType: 'text/plain' }, ctx: tiny })).toBe('unsupported-media-type');
    expect(await slugOf(signed({ body: Buffer.from('x') }), { ctx: tiny })).toBe('payload-too-large');
  });
});

describe('details', () => {
  it('name the failing member and never carry key material', async () => {
    const verdict = await verifyRequest(head(handSigned(header({ jwk: euKeys[0] }))), body, context());
    expect(verdict).toMatchObject({ ok: false, slug: 'header-invalid', detail: expect.stringContaining('jwk') });
    const material = [...euKeys, ...vectors.otherPartner.keys.jwks.keys].flatMap((k) => [k.x, k.y, k.n].filter((v): v is string => v !== undefined));
    const failures = [
      handSigned(header({ jwk: euKeys[0] })),
      handSigned(header({ kid: 'jp-vector-es256' })),
      handSigned(header({ alg: 'ES384' })),
      signed({ aud: 'JP' }),
      signed({ body: Buffer.from('x') }),
    ];
    for (const value of failures) {
      const v = await verifyRequest(head(value), body, context());
      expect(v.ok).toBe(false);
      if (!v.ok) for (const m of material) expect(v.detail).not.toContain(m.slice(0, 12));
    }
  });
});

describe('streaming createSignatureCheck', () => {
  const { privateKey: p384 } = generateKeyPairSync('ec', { namedCurve: 'P-384' });
  const p384Public = { ...createPublicJwk(p384), kid: 'eu-p384', alg: 'ES384' } as PublicJwk;
  const wide = entry(vectors.partner, { keys: { algorithms: ['ES256', 'ES384', 'EdDSA', 'PS256'], jwks: { keys: [...euKeys, p384Public] } } });
  const ctx = context(directoryOf(wide));
  const bigBody = Buffer.from(Array.from({ length: 2000 }, (_, i) => `<r n="${i}"/>`).join('\n'));
  const keys: Record<string, SigningKey> = {
    ES256: signingKeys.ES256,
    ES384: { privateJwk: { ...p384.export({ format: 'jwk' }), kid: 'eu-p384' }, alg: 'ES384' },
    EdDSA: signingKeys.EdDSA,
    PS256: signingKeys.PS256,
  };

  async function streamed(value: string, chunks: Buffer, size: number): Promise<boolean> {
    const verdict = await verifyHead(head(value), ctx);
    if (!verdict.ok) throw new Error(verdict.detail);
    const check = createSignatureCheck(verdict);
    for (let i = 0; i < chunks.length; i += size) check.update(chunks.subarray(i, i + size));
    return check.verify();
  }

  it.each(Object.keys(keys))('%s: many small chunks give the same verdict as one shot', async (alg) => {
    const value = signRequest({ key: keys[alg]!, iss: 'EU', aud: gatewayId, method: 'POST', target: '/v1/exchanges', body: bigBody, iat: now });
    const tampered = flipByte(bigBody, bigBody.length >> 1, 0x20);
    expect(await slugOf(value, { body: bigBody, ctx })).toBe('valid');
    expect(await streamed(value, bigBody, 7)).toBe(true);
    expect(await streamed(value, bigBody, 4096)).toBe(true);
    expect(await slugOf(value, { body: tampered, ctx })).toBe('signature-invalid');
    expect(await streamed(value, tampered, 7)).toBe(false);
  });

  it('a check is used once', async () => {
    const verdict = await verifyHead(head(signed()), ctx);
    if (!verdict.ok) throw new Error(verdict.detail);
    const check = createSignatureCheck(verdict);
    check.update(body);
    expect(check.verify()).toBe(true);
    expect(() => check.update(body)).toThrow();
    expect(() => check.verify()).toThrow();
  });
});

function createPublicJwk(privateKey: KeyObject): JsonWebKey {
  return createPublicKey(privateKey).export({ format: 'jwk' });
}

/** A copy of `bytes` with one byte XORed by `mask`. */
function flipByte(bytes: Buffer, index: number, mask: number): Buffer {
  const copy = Buffer.from(bytes);
  copy.writeUInt8(copy.readUInt8(index) ^ mask, index);
  return copy;
}
