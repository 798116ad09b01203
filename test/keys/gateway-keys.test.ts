import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { calculateJwkThumbprint, decodeProtectedHeader, type JWK } from 'jose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GatewayKeys, SigningKeyError, verifyGatewaySigned } from '../../src/keys/gateway-keys.ts';

let root: string;
let dataDir: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'gateway-keys-'));
  dataDir = join(root, 'data');
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const pem = (key: KeyObject) => key.export({ format: 'pem', type: 'pkcs8' }) as string;
const p256 = () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;

function writeKey(file: string, content: string): string {
  writeFileSync(file, content);
  return file;
}

/** A clock tests move by hand. */
function clock(start: string) {
  let now = new Date(start);
  return { now: () => now, set: (iso: string) => (now = new Date(iso)) };
}

describe('GatewayKeys', () => {
  it('generates a P-256 key once into DATA_DIR/keys and reuses it', async () => {
    const first = await GatewayKeys.load({ dataDir, minAgeDays: 30 });
    const file = join(dataDir, 'keys', 'signing-key.pem');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const second = await GatewayKeys.load({ dataDir, minAgeDays: 30 });
    expect(second.current().kid).toBe(first.current().kid);
    expect(first.current().alg).toBe('ES256');
    // A PEM has no kid: the key's RFC 7638 thumbprint stands in.
    expect(first.current().kid).toBe(await calculateJwkThumbprint(first.current().publicJwk as JWK));
    expect(first.jwks().keys).toEqual([first.current().publicJwk]);
  });

  it('reads SIGNING_KEY_FILE as a PKCS#8 PEM and signs with it at once', async () => {
    const file = writeKey(join(root, 'key.pem'), pem(generateKeyPairSync('ed25519').privateKey));
    const keys = await GatewayKeys.load({ signingKeyFile: file, dataDir, minAgeDays: 30 });
    expect(keys.current().alg).toBe('EdDSA');
    const token = await keys.sign('mra-receipt+jwt', { jti: 'r1' });
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'EdDSA', kid: keys.current().kid, typ: 'mra-receipt+jwt' });
    expect(await verifyGatewaySigned(token, keys.jwks(), 'mra-receipt+jwt')).toEqual({ jti: 'r1' });
  });

  it('reads SIGNING_KEY_FILE as a private JWK, keeping its kid', async () => {
    const jwk = { ...generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' }), kid: 'gw-2026-rsa' };
    const file = writeKey(join(root, 'key.jwk'), JSON.stringify(jwk));
    const keys = await GatewayKeys.load({ signingKeyFile: file, dataDir, minAgeDays: 30 });
    expect(keys.current()).toMatchObject({ kid: 'gw-2026-rsa', alg: 'PS256' });
    const published = keys.jwks().keys[0]!;
    expect(published).toMatchObject({ kty: 'RSA', kid: 'gw-2026-rsa', alg: 'PS256', use: 'sig' });
    expect(published).not.toHaveProperty('d');
    const token = await keys.sign('mra-status+jwt', { sub: 'eori:DE1' });
    expect(await verifyGatewaySigned(token, keys.jwks(), 'mra-status+jwt')).toEqual({ sub: 'eori:DE1' });
  });

  it('rotates SIGNING_KEYS_DIR by notice period: a new key is published at once and signs after 30 days', async () => {
    const dir = join(root, 'keys');
    mkdirSync(dir);
    const time = clock('2026-01-01T00:00:00Z');
    writeKey(join(dir, '2026-01.pem'), pem(p256()));
    const options = { signingKeysDir: dir, dataDir, minAgeDays: 30, now: time.now };

    const before = await GatewayKeys.load(options);
    expect(() => before.current()).toThrow(/may sign from 2026-01-31T00:00:00.000Z/);
    time.set('2026-01-31T00:00:00Z');
    const oldKid = before.current().kid;

    // A file copied later keeps no useful mtime: the first-seen record decides.
    time.set('2026-03-01T00:00:00Z');
    writeKey(join(dir, '2026-03.jwk'), JSON.stringify({ ...p256().export({ format: 'jwk' }), kid: 'gw-2026-03' }));
    const keys = await GatewayKeys.load(options);
    expect(keys.jwks().keys.map((k) => k.kid)).toEqual([oldKid, 'gw-2026-03']);
    expect(keys.current().kid).toBe(oldKid);
    const receipt = await keys.sign('mra-receipt+jwt', { jti: 'before-rotation' });

    time.set('2026-03-30T23:59:59Z');
    expect(keys.current().kid).toBe(oldKid);
    time.set('2026-03-31T00:00:00Z');
    expect(keys.current().kid).toBe('gw-2026-03');
    expect(keys.current().notBefore.toISOString()).toBe('2026-03-31T00:00:00.000Z');
    const later = await keys.sign('mra-receipt+jwt', { jti: 'after-rotation' });
    expect(decodeProtectedHeader(later).kid).toBe('gw-2026-03');

    // Both keys are still published, so the earlier receipt verifies against the later JWKS.
    expect(await verifyGatewaySigned(receipt, keys.jwks(), 'mra-receipt+jwt')).toEqual({ jti: 'before-rotation' });

    // Restarting does not restart the notice period, and a key taken out of the folder
    // stays verifiable through the retained keys the store passes in.
    const oldJwk = keys.jwks().keys[0]!;
    unlinkSync(join(dir, '2026-01.pem'));
    const restarted = await GatewayKeys.load(options);
    expect(restarted.current().kid).toBe('gw-2026-03');
    expect(restarted.jwks().keys.map((k) => k.kid)).toEqual(['gw-2026-03']);
    expect(restarted.jwks([oldJwk, restarted.current().publicJwk]).keys.map((k) => k.kid)).toEqual(['gw-2026-03', oldKid]);
    expect(await verifyGatewaySigned(receipt, restarted.jwks([oldJwk]), 'mra-receipt+jwt')).toEqual({ jti: 'before-rotation' });
    const record = JSON.parse(readFileSync(join(dataDir, 'keys', 'published.json'), 'utf8')) as { keys: Record<string, { firstSeen: string }> };
    expect(record.keys[oldKid]?.firstSeen).toBe('2026-01-01T00:00:00.000Z');
  });

  it('signs with a folder key at once when the notice period is 0', async () => {
    const dir = join(root, 'keys');
    mkdirSync(dir);
    writeKey(join(dir, 'a.pem'), pem(p256()));
    const keys = await GatewayKeys.load({ signingKeysDir: dir, dataDir, minAgeDays: 0 });
    expect(keys.current().alg).toBe('ES256');
  });

  it('refuses a kid reused for another key', async () => {
    const dir = join(root, 'keys');
    mkdirSync(dir);
    const file = writeKey(join(dir, 'a.jwk'), JSON.stringify({ ...p256().export({ format: 'jwk' }), kid: 'gw-1' }));
    await GatewayKeys.load({ signingKeysDir: dir, dataDir, minAgeDays: 0 });
    writeKey(file, JSON.stringify({ ...p256().export({ format: 'jwk' }), kid: 'gw-1' }));
    await expect(GatewayKeys.load({ signingKeysDir: dir, dataDir, minAgeDays: 0 })).rejects.toThrow(/kid "gw-1" was published before for another key/);
    writeKey(join(dir, 'b.jwk'), readFileSync(file, 'utf8'));
    await expect(GatewayKeys.load({ signingKeysDir: dir, dataDir: join(root, 'other'), minAgeDays: 0 })).rejects.toThrow(/b\.jwk: kid "gw-1" is also the kid of .*a\.jwk/);
  });

  it.each([
    ['a 1024-bit RSA key', () => pem(generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey), /RSA key of 1024 bits is too short/],
    ['a P-521 key', () => pem(generateKeyPairSync('ec', { namedCurve: 'P-521' }).privateKey), /EC key on secp521r1 is not accepted/],
    ['a P-384 key', () => pem(generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey), /EC key on secp384r1 is not accepted/],
    ['an Ed448 key', () => pem(generateKeyPairSync('ed448').privateKey), /ed448 key is not accepted/],
    ['a public key', () => generateKeyPairSync('ed25519').publicKey.export({ format: 'pem', type: 'spki' }) as string, /public key or certificate/],
    ['a public JWK', () => JSON.stringify(generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' })), /not a private JWK/],
    ['a JWK whose alg does not fit', () => JSON.stringify({ ...p256().export({ format: 'jwk' }), alg: 'ES384' }), /says alg ES384/],
    ['garbage', () => 'hello', /neither a PEM nor a JSON private JWK/],
  ])('refuses %s, naming the file', async (_case, content, reason) => {
    const file = writeKey(join(root, 'bad-key.pem'), content());
    const loading = GatewayKeys.load({ signingKeyFile: file, dataDir, minAgeDays: 30 });
    await expect(loading).rejects.toBeInstanceOf(SigningKeyError);
    await expect(loading).rejects.toThrow(reason);
    await expect(loading).rejects.toThrow(file);
  });

  it('refuses a bad key in SIGNING_KEYS_DIR, an empty folder, and both settings at once', async () => {
    const dir = join(root, 'keys');
    mkdirSync(dir);
    await expect(GatewayKeys.load({ signingKeysDir: dir, dataDir, minAgeDays: 30 })).rejects.toThrow(/no private key/);
    writeKey(join(dir, 'good.pem'), pem(p256()));
    const bad = writeKey(join(dir, 'weak.pem'), pem(generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey));
    await expect(GatewayKeys.load({ signingKeysDir: dir, dataDir, minAgeDays: 30 })).rejects.toThrow(`${bad}: an RSA key of 1024 bits`);
    await expect(GatewayKeys.load({ signingKeysDir: dir, signingKeyFile: bad, dataDir, minAgeDays: 30 })).rejects.toThrow(/alternatives/);
  });

  it('refuses a damaged record of published keys rather than restarting every notice period', async () => {
    const dir = join(root, 'keys');
    mkdirSync(dir);
    writeKey(join(dir, 'a.pem'), pem(p256()));
    mkdirSync(join(dataDir, 'keys'), { recursive: true });
    writeFileSync(join(dataDir, 'keys', 'published.json'), '{"keys": ');
    await expect(GatewayKeys.load({ signingKeysDir: dir, dataDir, minAgeDays: 30 })).rejects.toThrow(/published\.json: unreadable record/);
  });
});
