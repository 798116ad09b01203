/** PROTOCOL.md §3: Content-Type on type/subtype, charset utf-8 only, no content coding. */
import { describe, expect, it } from 'vitest';
import { mediaTypeAccepted } from '../../src/verify/media-type.ts';

const xml = 'application/xml';

describe('mediaTypeAccepted', () => {
  it.each([
    'application/xml',
    'APPLICATION/XML',
    'Application/Xml; charset=utf-8',
    'application/xml;charset=UTF-8',
    'application/xml ; charset="utf-8"',
    'application/xml; charset="UTF-8" ',
    'application/xml; version=1',
    'application/xml;',
    '  application/xml  ',
  ])('accepts %j', (contentType) => {
    expect(mediaTypeAccepted(contentType, undefined, xml)).toBe(true);
  });

  it.each([
    ['a missing Content-Type', undefined],
    ['another type', 'application/json'],
    ['a structured-syntax cousin', 'application/atom+xml'],
    ['a type only', 'application'],
    ['a missing subtype', 'application/'],
    ['charset iso-8859-1', 'application/xml; charset=iso-8859-1'],
    ['charset utf8 without the dash', 'application/xml; charset=utf8'],
    ['charset utf-16', 'application/xml; charset="utf-16"'],
    ['two charsets', 'application/xml; charset=utf-8; charset=iso-8859-1'],
    ['a parameter without a value', 'application/xml; charset'],
    ['an unterminated quoted value', 'application/xml; charset="utf-8'],
    ['trailing text', 'application/xml text'],
    ['a list of types', 'application/xml, text/xml'],
  ])('refuses %s', (_what, contentType) => {
    expect(mediaTypeAccepted(contentType, undefined, xml)).toBe(false);
  });

  it('accepts no Content-Encoding or identity', () => {
    expect(mediaTypeAccepted(xml, undefined, xml)).toBe(true);
    expect(mediaTypeAccepted(xml, 'identity', xml)).toBe(true);
    expect(mediaTypeAccepted(xml, ' Identity ', xml)).toBe(true);
  });

  it.each(['gzip', 'br', 'deflate', 'identity, gzip', 'x-gzip'])('refuses Content-Encoding %j', (encoding) => {
    expect(mediaTypeAccepted(xml, encoding, xml)).toBe(false);
  });

  it('compares against the expected type whatever its case', () => {
    expect(mediaTypeAccepted('text/csv; charset=utf-8', undefined, 'TEXT/CSV')).toBe(true);
    expect(mediaTypeAccepted('application/json', undefined, 'application/x-ndjson')).toBe(false);
  });
});

describe('a signed cty', () => {
  it('must agree with the format media type', async () => {
    const { verifyHead } = await import('../../src/verify/verify-request.ts');
    const { signRequest } = await import('../../src/sign/request-signature.ts');
    const { readFileSync } = await import('node:fs');
    const vectors = JSON.parse(readFileSync(new URL('../../../shared/spec/vectors/partner.json', import.meta.url), 'utf8')) as { gatewayId: string; partner: { keys: { jwks: { keys: object[] } } }; privateKeys: (Record<string, string> & { kid: string })[] };
    const { PartnerEntry } = await import('../../src/registry/partner.ts');
    const eu = PartnerEntry.parse({ id: 'EU', name: 'EU', programme: 'EU-AEO', format: 'eu-aeo', keys: { algorithms: ['ES256'], jwks: vectors.partner.keys.jwks } });
    const key = { privateJwk: vectors.privateKeys.find((k) => k.kid === 'eu-vector-es256')!, alg: 'ES256' as const };
    const now = Math.floor(Date.now() / 1000);
    const ctx = { gatewayId: vectors.gatewayId, partners: { partner: () => eu, key: async (_p: string, kid: string) => eu.keys.jwks!.keys.find((k) => k.kid === kid) }, nowSeconds: now, iatSkewSeconds: 300, expectedMediaType: () => 'application/xml' };
    const head = (contentType: string) => ({ signature: signRequest({ key, iss: 'EU', aud: vectors.gatewayId, method: 'POST', target: '/v1/exchanges', body: Buffer.from('<x/>'), contentType }), method: 'POST', target: '/v1/exchanges', contentType: 'application/xml', contentEncoding: undefined, hasBody: true });
    expect((await verifyHead(head('application/xml'), ctx)).ok).toBe(true);
    expect(await verifyHead(head('application/json'), ctx)).toMatchObject({ ok: false, slug: 'unsupported-media-type' });
  });
});
