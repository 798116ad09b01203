/** StaffAuth: staff JWTs against a local JWKS file, a remote JWKS (nock), or nothing (closed). The Authorization header is read by receive/callers.ts. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';
import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { GatewayError, type ErrorCode } from '../../src/errors.ts';
import { StaffAuth } from '../../src/staff/staff-auth.ts';

const ISSUER = 'https://idp.cbp.example/';
const AUDIENCE = 'mragw-staff-api';

interface TestKey {
  alg: string;
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

async function testKey(alg: string, kid: string, options: { crv?: string; modulusLength?: number } = {}): Promise<TestKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true, ...options });
  return { alg, kid, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

const now = () => Math.floor(Date.now() / 1000);

/** A token as the identity provider would issue it, with these changes. */
async function token(key: TestKey, claims: Record<string, unknown> = {}, header: { alg?: string; kid?: string | undefined } = {}): Promise<string> {
  const payload: Record<string, unknown> = { iss: ISSUER, aud: AUDIENCE, sub: 'officer-7', iat: now(), exp: now() + 600, roles: ['reviewer'], ...claims };
  for (const [name, value] of Object.entries(payload)) if (value === undefined) delete payload[name];
  const kid = 'kid' in header ? header.kid : key.kid;
  return new SignJWT(payload as JWTPayload).setProtectedHeader({ alg: header.alg ?? key.alg, ...(kid !== undefined && { kid }) }).sign(key.privateKey);
}

async function refusal(promise: Promise<unknown>): Promise<ErrorCode> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(GatewayError);
  return (error as GatewayError).code;
}

let dir: string;
let es256: TestKey;
let rs256: TestKey;
let ed25519: TestKey;
let es512: TestKey;
let stranger: TestKey;
let jwksFile: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mragw-staff-'));
  es256 = await testKey('ES256', 'idp-es256');
  rs256 = await testKey('RS256', 'idp-rs256', { modulusLength: 2048 });
  ed25519 = await testKey('EdDSA', 'idp-ed25519', { crv: 'Ed25519' });
  es512 = await testKey('ES512', 'idp-es512');
  stranger = await testKey('ES256', 'idp-es256');
  jwksFile = join(dir, 'staff.jwks.json');
  writeFileSync(jwksFile, JSON.stringify({ keys: [es256.publicJwk, rs256.publicJwk, ed25519.publicJwk, es512.publicJwk] }));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('StaffAuth with a local JWKS file', () => {
  let auth: StaffAuth;
  beforeAll(async () => {
    auth = await StaffAuth.create({ jwks: jwksFile, issuer: ISSUER, audience: AUDIENCE });
  });

  it('is enabled and accepts a staff token signed with ES256, RS256 or EdDSA', async () => {
    expect(auth.enabled).toBe(true);
    expect(auth.source).toBe('jwks-file');
    for (const key of [es256, rs256, ed25519]) {
      expect(await auth.verify(await token(key))).toEqual({ subject: 'officer-7', roles: ['reviewer'] });
    }
  });

  it('reads roles from `roles` or a space-separated `scope`, ignoring other roles', async () => {
    expect((await auth.verify(await token(es256, { roles: ['superuser', 'feed-reader'] }))).roles).toEqual(['feed-reader']);
    expect((await auth.verify(await token(es256, { roles: undefined, scope: 'openid reviewer feed-reader' }))).roles).toEqual(['reviewer', 'feed-reader']);
    expect((await auth.verify(await token(es256, { roles: ['reviewer', 'reviewer'] }))).roles).toEqual(['reviewer']);
  });

  it('refuses a token without a reviewer, admin or feed-reader role', async () => {
    expect(await refusal(auth.verify(await token(es256, { roles: undefined })))).toBe('staff-role-missing');
    expect(await refusal(auth.verify(await token(es256, { roles: ['superuser'], scope: 'openid' })))).toBe('staff-role-missing');
    expect(await refusal(auth.verify(await token(es256, { roles: 'reviewer' })))).toBe('staff-role-missing');
  });

  it('refuses another issuer or audience', async () => {
    expect(await refusal(auth.verify(await token(es256, { iss: 'https://evil.example/' })))).toBe('bearer-token-invalid');
    expect(await refusal(auth.verify(await token(es256, { aud: 'another-app' })))).toBe('bearer-token-invalid');
    expect(await refusal(auth.verify(await token(es256, { aud: undefined })))).toBe('bearer-token-invalid');
  });

  it('refuses an expired token, one not valid yet, and one without exp or sub', async () => {
    expect(await refusal(auth.verify(await token(es256, { iat: now() - 7200, exp: now() - 3600 })))).toBe('bearer-token-invalid');
    expect(await refusal(auth.verify(await token(es256, { nbf: now() + 3600 })))).toBe('bearer-token-invalid');
    expect(await refusal(auth.verify(await token(es256, { exp: undefined })))).toBe('bearer-token-invalid');
    expect(await refusal(auth.verify(await token(es256, { sub: undefined })))).toBe('bearer-token-invalid');
  });

  it('refuses an algorithm outside the allow-list, even with a key for it in the set', async () => {
    const error = await auth.verify(await token(es512)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GatewayError);
    expect((error as GatewayError).message).toContain('algorithm is not allowed');
    // An unsecured token.
    const [, body] = (await token(es256)).split('.');
    const none = `${Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url')}.${body}.`;
    expect(await refusal(auth.verify(none))).toBe('bearer-token-invalid');
  });

  it('refuses a token signed by a key not in the set, or tampered with', async () => {
    expect(await refusal(auth.verify(await token(stranger)))).toBe('bearer-token-invalid');
    expect(await refusal(auth.verify(await token(es256, {}, { kid: 'nobody' })))).toBe('bearer-token-invalid');
    const [h, , s] = (await token(es256)).split('.');
    const forged = Buffer.from(JSON.stringify({ iss: ISSUER, aud: AUDIENCE, sub: 'boss', exp: now() + 600, roles: ['reviewer'] })).toString('base64url');
    expect(await refusal(auth.verify(`${h}.${forged}.${s}`))).toBe('bearer-token-invalid');
  });
});

describe('StaffAuth with a remote JWKS', () => {
  afterEach(() => {
    nock.cleanAll();
    nock.enableNetConnect();
  });

  it('fetches the key set over https and verifies against it', async () => {
    nock.disableNetConnect();
    const scope = nock('https://idp.cbp.example').get('/.well-known/jwks.json').reply(200, { keys: [es256.publicJwk] });
    const auth = await StaffAuth.create({ jwks: 'https://idp.cbp.example/.well-known/jwks.json', issuer: ISSUER, audience: AUDIENCE });
    expect(auth.source).toBe('jwks-url');
    expect(await auth.verify(await token(es256))).toEqual({ subject: 'officer-7', roles: ['reviewer'] });
    // Cached: a second token needs no second fetch.
    expect(await auth.verify(await token(es256, { sub: 'officer-8' }))).toEqual({ subject: 'officer-8', roles: ['reviewer'] });
    expect(scope.isDone()).toBe(true);
  });

  it('says the provider is unavailable (not that the token is bad) when the set cannot be fetched', async () => {
    nock.disableNetConnect();
    nock('https://idp-down.cbp.example').get('/jwks.json').reply(500, 'down');
    const auth = await StaffAuth.create({ jwks: 'https://idp-down.cbp.example/jwks.json', issuer: ISSUER, audience: AUDIENCE });
    expect(await refusal(auth.verify(await token(es256)))).toBe('identity-provider-unavailable');
  });

  it('takes plain http on loopback (elsewhere the settings refuse it: test/config/settings.test.ts)', async () => {
    expect((await StaffAuth.create({ jwks: 'http://127.0.0.1:9/jwks.json', issuer: ISSUER, audience: AUDIENCE })).enabled).toBe(true);
  });
});

describe('StaffAuth configuration', () => {
  it('is disabled and refuses everything when nothing is configured', async () => {
    const auth = await StaffAuth.create({});
    expect(auth.enabled).toBe(false);
    expect(auth.source).toBe('closed');
    expect(await refusal(auth.verify(await token(es256)))).toBe('staff-api-closed');
  });

  it('refuses a JWKS file that is missing, not a key set, or holds a private key: a bad setting', async () => {
    await expect(StaffAuth.create({ jwks: join(dir, 'absent.json'), issuer: ISSUER, audience: AUDIENCE })).rejects.toThrow(/STAFF_JWKS/);
    await expect(StaffAuth.create({ jwks: join(dir, 'absent.json'), issuer: ISSUER, audience: AUDIENCE })).rejects.toMatchObject({ code: 'settings-invalid' });
    const notASet = join(dir, 'not-a-set.json');
    writeFileSync(notASet, JSON.stringify({ keys: [] }));
    await expect(StaffAuth.create({ jwks: notASet, issuer: ISSUER, audience: AUDIENCE })).rejects.toThrow(/not a JWKS/);
    const privateSet = join(dir, 'private.json');
    writeFileSync(privateSet, JSON.stringify({ keys: [{ ...(await exportJWK(es256.privateKey)), kid: 'oops' }] }));
    await expect(StaffAuth.create({ jwks: privateSet, issuer: ISSUER, audience: AUDIENCE })).rejects.toThrow(/public keys only/);
  });
});
