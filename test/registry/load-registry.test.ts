import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { keyMaterial } from '../../src/registry/jwk-checks.ts';
import { loadRegistry, RegistryInvalidError } from '../../src/registry/load-registry.ts';
import type { PublicJwk } from '../../src/registry/partner.ts';
import { loadFormats } from '../../src/translate/load-mappings.ts';

const formats = new Set(['eu-aeo', 'gb-aeo', 'jp-aeo', 'kr-aeo', 'ca-pip', 'mx-oea']);

function ecJwk(kid: string, namedCurve = 'P-256'): PublicJwk {
  const { publicKey } = generateKeyPairSync('ec', { namedCurve });
  const { kty, crv, x, y } = publicKey.export({ format: 'jwk' });
  return { kty: kty as 'EC', crv: crv!, x: x!, y: y!, kid };
}

function rsaJwk(kid: string, modulusLength: number): PublicJwk {
  const { publicKey } = generateKeyPairSync('rsa', { modulusLength });
  const { n, e } = publicKey.export({ format: 'jwk' });
  return { kty: 'RSA', n: n!, e: e!, kid };
}

/** A valid partner entry as plain data, to be spoiled one field at a time. */
function entry(id = 'EU', extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id,
    name: `Partner ${id}`,
    programme: `${id}-AEO`,
    format: 'eu-aeo',
    mra: { signed: '2012-05-04', scope: ['AEOS', 'AEOF'], benefits: ['front-of-line'] },
    keys: { algorithms: ['ES256'], jwks: { keys: [ecJwk(`${id.toLowerCase()}-1`)] } },
    ...extra,
  };
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'registry-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function write(name: string, content: Record<string, unknown> | string): string {
  writeFileSync(join(dir, name), typeof content === 'string' ? content : stringify(content));
  return join(dir, name);
}

function failure(): RegistryInvalidError {
  try {
    loadRegistry(dir, formats);
  } catch (error) {
    expect(error).toBeInstanceOf(RegistryInvalidError);
    return error as RegistryInvalidError;
  }
  throw new Error('the registry loaded');
}

describe('the shipped registry', () => {
  const shipped = loadRegistry('config/partners', new Set(loadFormats().keys()));

  it('holds the six partners, each with its format and a development key', () => {
    expect([...shipped.keys()].sort()).toEqual(['CA', 'EU', 'GB', 'JP', 'KR', 'MX']);
    const formatOf = Object.fromEntries([...shipped.values()].map((p) => [p.id, p.format]));
    expect(formatOf).toEqual({ EU: 'eu-aeo', GB: 'gb-aeo', JP: 'jp-aeo', KR: 'kr-aeo', CA: 'ca-pip', MX: 'mx-oea' });
    for (const partner of shipped.values()) {
      expect(partner.keys.jwks?.keys.map((k) => k.kid)).toEqual([`${partner.id.toLowerCase()}-dev-es256`]);
    }
  });

  it('keeps the EU arrangement to AEOS and AEOF, and dates as strings', () => {
    const eu = shipped.get('EU')!;
    expect(eu.mra.scope).toEqual(['AEOS', 'AEOF']);
    expect(eu.mra.signed).toBe('2012-05-04');
    expect(eu.mra.benefits).toEqual(['reduced-examinations', 'risk-score-reduction', 'front-of-line', 'business-resumption']);
    expect(shipped.get('MX')!.mra.signed).toBe('2014-10-17');
    expect(shipped.get('CA')!.mra.benefits).toContain('fast-lanes');
    expect(shipped.get('GB')!.mra.inForceFrom).toBe('2021-01-01');
  });

  it('pairs each development private key with its registered public key', () => {
    for (const partner of shipped.values()) {
      const file = `config/dev-keys/${partner.id.toLowerCase()}.private.jwk.json`;
      const privateJwk = JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>;
      const registered = partner.keys.jwks!.keys[0]!;
      expect(privateJwk.kid).toBe(registered.kid);
      const data = Buffer.from('signing input');
      const signature = sign('sha256', data, { key: createPrivateKey({ key: privateJwk, format: 'jwk' }), dsaEncoding: 'ieee-p1363' });
      const publicKey = createPublicKey({ key: keyMaterial(registered), format: 'jwk' });
      expect(verify('sha256', data, { key: publicKey, dsaEncoding: 'ieee-p1363' }, signature)).toBe(true);
    }
  });
});

describe('loadRegistry', () => {
  it('reads dates written with or without quotes, even under a YAML 1.1 directive', () => {
    const jwk = ecJwk('k1');
    const keys = `keys:\n  algorithms: [ES256]\n  jwks: { keys: [${JSON.stringify(jwk)}] }\n`;
    write('a.yaml', `id: AA\nname: A\nprogramme: A\nformat: eu-aeo\nmra:\n  signed: 2012-05-04\n  inForceFrom: "2012-07-01"\n${keys}`);
    write('b.yaml', `%YAML 1.1\n---\nid: BB\nname: B\nprogramme: B\nformat: eu-aeo\nmra:\n  signed: 2009-06-01\n  inForceUntil: 2030-12-31\n${keys}`);
    const partners = loadRegistry(dir, formats);
    expect(partners.get('AA')!.mra).toMatchObject({ signed: '2012-05-04', inForceFrom: '2012-07-01' });
    expect(partners.get('BB')!.mra).toMatchObject({ signed: '2009-06-01', inForceUntil: '2030-12-31' });
  });

  it('fills the defaults: active, no benefits, 64 MiB and 600 requests a minute', () => {
    write('eu.yaml', { ...entry(), mra: undefined });
    const eu = loadRegistry(dir, formats).get('EU')!;
    expect(eu.status).toBe('active');
    expect(eu.mra.benefits).toEqual([]);
    expect(eu.limits).toEqual({ maxBodyBytes: 64 * 1024 * 1024, requestsPerMinute: 600 });
  });

  it('accepts a jwksUri on https or on loopback http', () => {
    write('eu.yaml', { ...entry(), keys: { algorithms: ['ES256'], jwksUri: 'https://keys.eu.example/jwks.json' } });
    write('jp.yaml', { ...entry('JP'), keys: { algorithms: ['EdDSA'], jwksUri: 'http://127.0.0.1:8443/jwks.json' }, delivery: { url: 'http://localhost:9000/inbox' } });
    expect(loadRegistry(dir, formats).get('JP')!.keys.jwksUri).toBe('http://127.0.0.1:8443/jwks.json');
  });

  it('ignores other files and hidden editor files', () => {
    write('eu.yaml', entry());
    write('notes.txt', 'not a partner');
    write('.#eu.yaml', 'id: [');
    expect([...loadRegistry(dir, formats).keys()]).toEqual(['EU']);
  });

  it('hands out frozen partners, so no caller changes them for the others', () => {
    write('eu.yaml', entry());
    const eu = loadRegistry(dir, formats).get('EU')!;
    expect(Object.isFrozen(eu.keys.algorithms)).toBe(true);
  });

  const spoiled: [string, () => Record<string, unknown>, string, RegExp][] = [
    ['a disallowed algorithm', () => ({ ...entry(), keys: { algorithms: ['ES256', 'HS256'], jwks: { keys: [ecJwk('k1')] } } }), 'keys.algorithms[1]', /Invalid option/],
    ['an unknown benefit slug', () => ({ ...entry(), mra: { benefits: ['front-of-line', 'free-lunch'] } }), 'mra.benefits[1]', /Invalid option/],
    ['an unknown format', () => ({ ...entry(), format: 'eu-aeo-v2' }), 'format', /unknown format "eu-aeo-v2"/],
    ['both jwks and jwksUri', () => ({ ...entry(), keys: { algorithms: ['ES256'], jwks: { keys: [ecJwk('k1')] }, jwksUri: 'https://keys.example/jwks' } }), 'keys', /exactly one of jwks and jwksUri/],
    ['neither jwks nor jwksUri', () => ({ ...entry(), keys: { algorithms: ['ES256'] } }), 'keys', /exactly one of jwks and jwksUri/],
    ['an RSA key under 2048 bits', () => ({ ...entry(), keys: { algorithms: ['PS256'], jwks: { keys: [rsaJwk('r1', 1024)] } } }), 'keys.jwks.keys[0].n', /at least 2048 bits/],
    ['private key material', () => ({ ...entry(), keys: { algorithms: ['ES256'], jwks: { keys: [{ ...ecJwk('k1'), d: 'c2VjcmV0' }] } } }), 'keys.jwks.keys[0].d', /private key material/],
    ['an EC key on P-521', () => ({ ...entry(), keys: { algorithms: ['ES256'], jwks: { keys: [ecJwk('k1', 'P-521')] } } }), 'keys.jwks.keys[0].crv', /P-256 or P-384/],
    ['an EC key without y', () => ({ ...entry(), keys: { algorithms: ['ES256'], jwks: { keys: [{ ...ecJwk('k1'), y: undefined }] } } }), 'keys.jwks.keys[0].y', /required/],
    ['an EC point off its curve', () => ({ ...entry(), keys: { algorithms: ['ES256'], jwks: { keys: [{ ...ecJwk('k1'), y: ecJwk('k2').y }] } } }), 'keys.jwks.keys[0]', /not a valid public key/],
    ['an OKP key that is not Ed25519', () => ({ ...entry(), keys: { algorithms: ['EdDSA'], jwks: { keys: [{ kty: 'OKP', crv: 'X25519', x: 'hSDwCYkwp1R0i33ctD73Wg2_Og0mOBr066SpjqqbTmo', kid: 'x' }] } } }), 'keys.jwks.keys[0].crv', /Ed25519/],
    ['a kid used twice', () => ({ ...entry(), keys: { algorithms: ['ES256'], jwks: { keys: [ecJwk('k1'), ecJwk('k1')] } } }), 'keys.jwks.keys[1].kid', /used twice/],
    ['an algorithm no key can serve', () => ({ ...entry(), keys: { algorithms: ['ES256', 'PS256'], jwks: { keys: [ecJwk('k1')] } } }), 'keys.algorithms[1]', /no key .* can sign with it/],
    ['a key alg that does not fit the key', () => ({ ...entry(), keys: { algorithms: ['ES256'], jwks: { keys: [{ ...ecJwk('k1'), alg: 'PS256' }] } } }), 'keys.jwks.keys[0].alg', /cannot be used with this key/],
    ['plain http to a non-loopback host', () => ({ ...entry(), keys: { algorithms: ['ES256'], jwksUri: 'http://keys.eu.example/jwks.json' } }), 'keys.jwksUri', /only on loopback/],
    ['a delivery URL on plain http', () => ({ ...entry(), delivery: { url: 'http://customs.example/inbox' } }), 'delivery.url', /only on loopback/],
    ['an unknown member', () => ({ ...entry(), contact: 'ops@example' }), 'contact', /Unrecognized key/],
    ['an impossible date', () => ({ ...entry(), mra: { signed: '2012-13-40' } }), 'mra.signed', /date/i],
    ['an end before the start', () => ({ ...entry(), mra: { inForceFrom: '2012-07-01', inForceUntil: '2012-06-30' } }), 'mra.inForceUntil', /before inForceFrom/],
    ['a bad status', () => ({ ...entry(), status: 'paused' }), 'status', /Invalid option/],
  ];

  it.each(spoiled)('stops on %s, naming the file and the field', (_case, content, field, reason) => {
    const file = write('eu.yaml', content());
    const error = failure();
    expect(error.file).toBe(file);
    expect(error.field).toBe(field);
    expect(error.message).toMatch(reason);
    expect(error.message.startsWith(`${file}: ${field}: `)).toBe(true);
  });

  it('stops on an id used by two files, naming the second', () => {
    write('eu.yaml', entry('EU'));
    const second = write('fr.yaml', entry('EU'));
    const error = failure();
    expect([error.file, error.field]).toEqual([second, 'id']);
    expect(error.message).toContain('eu.yaml');
  });

  it('stops on broken YAML, a key written twice and an unknown tag', () => {
    write('eu.yaml', 'id: EU\nname: [unclosed\n');
    expect(failure().field).toBe('(yaml)');
    write('eu.yaml', 'id: EU\nid: JP\n');
    expect(failure().message).toMatch(/\(yaml\): Map keys must be unique at line 2, column 1$/);
    write('eu.yaml', 'id: !partner EU\n');
    expect(failure().message).toMatch(/\(yaml\): Unresolved tag: !partner at line 1/);
  });

  it('stops on an empty file and a missing folder', () => {
    write('eu.yaml', '');
    expect(failure().field).toBe('(root)');
    expect(() => loadRegistry(join(dir, 'missing'), formats)).toThrow(/\(folder\)/);
  });

  it('names the first bad file in name order', () => {
    write('b.yaml', { ...entry('BB'), format: 'nope' });
    const first = write('a.yaml', { ...entry('AA'), status: 'nope' });
    expect(failure().file).toBe(first);
  });
});
