/** PROTOCOL.md §9: every vector in spec/vectors verifies, or fails with the slug it names. */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PartnerEntry, type Partner, type PartnerDirectory, type PublicJwk } from '../../src/registry/partner.ts';
import { verifyRequest, type VerifyContext } from '../../src/verify/index.ts';

const vectorsDir = new URL('../../../shared/spec/vectors/', import.meta.url);

interface RegistryFixture {
  id: string;
  format: string;
  keys: { algorithms: string[]; jwks: { keys: PublicJwk[] } };
}
interface PartnerFile {
  gatewayId: string;
  partner: RegistryFixture;
  otherPartner: RegistryFixture;
}
interface Vector {
  vector: number;
  description: string;
  now: number;
  method: string;
  path: string;
  contentType?: string;
  body: string;
  jwsSignature: string;
  expect: string;
}

const partnerFile = JSON.parse(readFileSync(new URL('partner.json', vectorsDir), 'utf8')) as PartnerFile;

// The vectors' registry entries carry only what signing needs; the rest takes the
// registry's defaults (status active, 64 MiB limit).
function entry(fixture: RegistryFixture): Partner {
  return PartnerEntry.parse({ id: fixture.id, name: fixture.id, programme: `${fixture.id}-AEO`, format: fixture.format, keys: fixture.keys });
}

const partners = new Map([partnerFile.partner, partnerFile.otherPartner].map((f) => [f.id, entry(f)]));
const directory: PartnerDirectory = {
  partner: (id) => partners.get(id),
  key: (id, kid) => Promise.resolve(partners.get(id)?.keys.jwks?.keys.find((k) => k.kid === kid)),
};

// FORMATS.md media types (mappings/*.yaml `mediaType`).
const mediaTypes: Record<string, string> = {
  'eu-aeo': 'application/xml',
  'mx-oea': 'application/xml',
  'gb-aeo': 'application/json',
  'kr-aeo': 'application/json',
  'ca-pip': 'application/json',
  'jp-aeo': 'text/csv',
};

const vectors = readdirSync(vectorsDir)
  .filter((name) => name.endsWith('.json') && name !== 'partner.json')
  .sort()
  .map((name) => ({ name, vector: JSON.parse(readFileSync(new URL(name, vectorsDir), 'utf8')) as Vector }));

function context(vector: Vector): VerifyContext {
  return {
    gatewayId: partnerFile.gatewayId,
    partners: directory,
    nowSeconds: vector.now,
    iatSkewSeconds: 300,
    expectedMediaType: (partner) => mediaTypes[partner.format] ?? 'application/octet-stream',
  };
}

describe('spec vectors', () => {
  it('are all here (vectors 1 to 20)', () => {
    expect(vectors.map((v) => v.vector.vector).sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
  });

  it.each(vectors)('$name', async ({ vector }) => {
    const body = Buffer.from(vector.body, 'utf8');
    const head = {
      signature: vector.jwsSignature,
      method: vector.method,
      target: vector.path,
      contentType: vector.contentType,
      contentEncoding: undefined,
      hasBody: body.byteLength > 0,
    };
    const verdict = await verifyRequest(head, body, context(vector));
    if (vector.expect === 'valid') {
      expect(verdict).toMatchObject({ ok: true, partner: { id: 'EU' } });
    } else {
      expect(verdict).toMatchObject({ ok: false, slug: vector.expect });
    }
  });
});
