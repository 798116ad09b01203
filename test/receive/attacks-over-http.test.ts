/**
 * Each attack on the request signature, as its own named test, over real HTTP on the
 * embedded store and an external PostgreSQL: what PROTOCOL §2 refuses, refused with its slug, a 401 and WWW-Authenticate,
 * and nothing stored.
 */
import { createHmac, createPrivateKey, sign as cryptoSign } from 'node:crypto';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { secondsOf } from '../../src/clock.ts';
import { fixedClock } from '../support/clock.ts';
import { euDocument, GATEWAY_ID, partnerKeys, startTestGateway, type TestGateway } from '../support/gateway.ts';

const b64u = (data: string | Buffer) => Buffer.from(data).toString('base64url');
const crit = ['b64', 'iss', 'aud', 'iat', 'jti', 'htm', 'htu'];
const euKey = createPrivateKey({ key: partnerKeys.EU.privateJwk, format: 'jwk' });

interface Attack {
  name: string;
  slug: string;
  /** The protected header as JSON text (so that duplicates can be written). */
  header?: (base: Record<string, unknown>) => string;
  /** How the signature is made over the signing input. */
  sign?: (input: Buffer) => Buffer;
  /** Changes the assembled header value. */
  assemble?: (headerPart: string, signaturePart: string) => string;
  /** The body actually sent. */
  sent?: (body: Buffer) => Buffer;
  /** The body signed, when not the one sent. */
  signedBody?: (body: Buffer) => Buffer;
}

const es256 = (input: Buffer) => cryptoSign('sha256', input, { key: euKey, dsaEncoding: 'ieee-p1363' });
// The gateway's clock, stopped: an iat 301 s off is out of the 300 s window whatever second the request lands in.
const clock = fixedClock();
const now = () => secondsOf(clock);

const attacks: Attack[] = [
  { name: 'alg none', slug: 'alg-not-allowed', header: (h) => JSON.stringify({ ...h, alg: 'none' }), sign: () => Buffer.alloc(0), assemble: (h) => `${h}..${b64u('x')}` },
  {
    name: "HS256 signed with the partner's public key as HMAC secret",
    slug: 'alg-not-allowed',
    header: (h) => JSON.stringify({ ...h, alg: 'HS256' }),
    sign: (input) => createHmac('sha256', JSON.stringify({ ...partnerKeys.EU.privateJwk, d: undefined })).update(input).digest(),
  },
  { name: 'embedded jwk', slug: 'header-invalid', header: (h) => JSON.stringify({ ...h, jwk: { kty: 'EC', crv: 'P-256', x: 'AAAA', y: 'AAAA' } }) },
  { name: 'jku', slug: 'header-invalid', header: (h) => JSON.stringify({ ...h, jku: 'https://attacker.example/jwks.json' }) },
  { name: 'unknown crit member', slug: 'header-invalid', header: (h) => JSON.stringify({ ...h, crit: [...crit, 'exp'], exp: now() + 60 }) },
  { name: 'missing crit member', slug: 'header-invalid', header: (h) => JSON.stringify({ ...h, crit: crit.filter((c) => c !== 'htu') }) },
  { name: 'b64: true', slug: 'header-invalid', header: (h) => JSON.stringify({ ...h, b64: true }) },
  { name: 'kid of another partner', slug: 'unknown-key', header: (h) => JSON.stringify({ ...h, kid: 'jp-vector-es256' }) },
  { name: 'stale iat', slug: 'iat-out-of-window', header: (h) => JSON.stringify({ ...h, iat: now() - 301 }) },
  { name: 'future iat', slug: 'iat-out-of-window', header: (h) => JSON.stringify({ ...h, iat: now() + 301 }) },
  { name: 'wrong aud', slug: 'audience-mismatch', header: (h) => JSON.stringify({ ...h, aud: 'US-CBP' }) },
  { name: 'wrong htm', slug: 'htm-mismatch', header: (h) => JSON.stringify({ ...h, htm: 'PUT' }) },
  { name: 'wrong htu', slug: 'htu-mismatch', header: (h) => JSON.stringify({ ...h, htu: '/v1/exchanges?x=1' }) },
  { name: 'duplicate header members', slug: 'header-invalid', header: (h) => JSON.stringify(h).replace(/}$/, `,"aud":"${GATEWAY_ID}"}`) },
  { name: 'padded base64url', slug: 'header-invalid', assemble: (h, s) => `${h}${'='.repeat((4 - (h.length % 4)) % 4 || 1)}..${s}` },
  { name: 'a DER-encoded ECDSA signature', slug: 'signature-invalid', sign: (input) => cryptoSign('sha256', input, { key: euKey, dsaEncoding: 'der' }) },
  { name: 'body changed by one byte', slug: 'signature-invalid', sent: (body) => Buffer.concat([body.subarray(0, -2), Buffer.from(body.subarray(-2).toString() === '>\n' ? '> ' : '>\n')]) },
  { name: 'signature of another body', slug: 'signature-invalid', signedBody: () => Buffer.from(euDocument({ batchId: 'OTHER', sequence: 99 })) },
];

describe.each(['embedded', 'PostgreSQL'] as const)('attacks over HTTP on %s', (store) => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ store, clock });
  });
  afterAll(async () => {
    await gw?.close();
  });

  it.each(attacks)('$name → 401 $slug', async (attack) => {
    const body = Buffer.from(euDocument({ batchId: `EU-${randomUUID().slice(0, 8)}`, sequence: 1 }));
    const base = { alg: 'ES256', kid: 'eu-vector-es256', b64: false, crit, iss: 'EU', aud: GATEWAY_ID, iat: now(), jti: randomUUID(), htm: 'POST', htu: '/v1/exchanges', typ: 'mra-request+jws' };
    const headerPart = b64u(attack.header ? attack.header(base) : JSON.stringify(base));
    const signedBody = attack.signedBody ? attack.signedBody(body) : body;
    const signature = (attack.sign ?? es256)(Buffer.concat([Buffer.from(`${headerPart}.`), signedBody]));
    const value = attack.assemble ? attack.assemble(headerPart, b64u(signature)) : `${headerPart}..${b64u(signature)}`;
    const response = await fetch(`${gw.url}/v1/exchanges`, { method: 'POST', headers: { 'Content-Type': 'application/xml', 'JWS-Signature': value }, body: attack.sent ? attack.sent(body) : body });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe('JWS-Signature');
    expect(((await response.json()) as { type: string }).type).toBe(`urn:mra:problem:${attack.slug}`);
    const { rows } = await gw.gateway.db.query<{ n: number }>('select count(*)::int as n from exchanges');
    expect(rows[0]!.n).toBe(0);
  });

  it('the same request, unaltered, is accepted (the attacks above differ from it in one thing each)', async () => {
    const body = Buffer.from(euDocument({ batchId: `EU-${randomUUID().slice(0, 8)}`, sequence: 1 }));
    const base = { alg: 'ES256', kid: 'eu-vector-es256', b64: false, crit, iss: 'EU', aud: GATEWAY_ID, iat: now(), jti: randomUUID(), htm: 'POST', htu: '/v1/exchanges', typ: 'mra-request+jws' };
    const headerPart = b64u(JSON.stringify(base));
    const signature = es256(Buffer.concat([Buffer.from(`${headerPart}.`), body]));
    const response = await fetch(`${gw.url}/v1/exchanges`, { method: 'POST', headers: { 'Content-Type': 'application/xml', 'JWS-Signature': `${headerPart}..${b64u(signature)}` }, body });
    expect(response.status).toBe(202);
  });
});
