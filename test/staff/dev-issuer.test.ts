/** The development staff issuer (MRAGW_DEV_STAFF) and `mragw staff-token`. */
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CommandIo } from '../../src/cli/io.ts';
import { staffTokenCommand } from '../../src/cli/status-commands.ts';
import { loadSettings } from '../../src/config.ts';
import { GatewayError } from '../../src/errors.ts';
import { DEV_STAFF_AUDIENCE, DEV_STAFF_ISSUER, devIssuerJwks, devIssuerKeyFile, mintDevStaffToken } from '../../src/staff/dev-issuer.ts';
import { StaffAuth } from '../../src/staff/staff-auth.ts';

let dataDir: string;
beforeAll(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'mragw-dev-staff-'));
});
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe('development staff issuer', () => {
  it('generates one ES256 key into DATA_DIR/staff-issuer, private to the user, and reuses it', async () => {
    const first = await devIssuerJwks(dataDir);
    const file = devIssuerKeyFile(dataDir);
    expect(file).toBe(join(dataDir, 'staff-issuer', 'signing-key.pem'));
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(join(dataDir, 'staff-issuer')).mode & 0o077).toBe(0);
    expect(first.keys).toHaveLength(1);
    expect(first.keys[0]).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
    expect(first.keys[0]).not.toHaveProperty('d');
    expect(await devIssuerJwks(dataDir)).toEqual(first);
  });

  it('mints tokens that a StaffAuth on the same DATA_DIR and a loopback HOST accepts', async () => {
    const token = await mintDevStaffToken(dataDir, { subject: 'dev-officer', roles: ['reviewer', 'feed-reader'], ttlSeconds: 600 });
    const claims = decodeJwt(token);
    expect(claims).toMatchObject({ iss: DEV_STAFF_ISSUER, aud: DEV_STAFF_AUDIENCE, sub: 'dev-officer', roles: ['reviewer', 'feed-reader'] });
    expect((claims.exp ?? 0) - (claims.iat ?? 0)).toBe(600);
    expect(decodeProtectedHeader(token)).toMatchObject({ alg: 'ES256', kid: (await devIssuerJwks(dataDir)).keys[0]?.kid });
    for (const host of ['127.0.0.1', 'localhost', '::1']) expect(loadSettings({ MRAGW_DEV_STAFF: '1', HOST: host }).MRAGW_DEV_STAFF).toBe('1');
    const auth = await StaffAuth.create({ devIssuer: { dataDir } });
    expect(auth.source).toBe('dev-issuer');
    expect(await auth.verify(token)).toEqual({ subject: 'dev-officer', roles: ['reviewer', 'feed-reader'] });
  });

  it('is refused unless HOST is a loopback address (a settings rule)', () => {
    expect(() => loadSettings({ MRAGW_DEV_STAFF: '1', HOST: '0.0.0.0' })).toThrow(expect.objectContaining({ code: 'settings-invalid' }));
    expect(() => loadSettings({ MRAGW_DEV_STAFF: '1', HOST: '10.1.2.3' })).toThrow(/MRAGW_DEV_STAFF: .*loopback/);
  });

  it('is not trusted when STAFF_JWKS is set', async () => {
    const other = mkdtempSync(join(tmpdir(), 'mragw-dev-staff-other-'));
    try {
      const jwksFile = join(other, 'idp.jwks.json');
      writeFileSync(jwksFile, JSON.stringify(await devIssuerJwks(other)));
      // With STAFF_JWKS set, the gateway builds its StaffAuth from it alone; MRAGW_DEV_STAFF is then ignored, even off loopback.
      expect(loadSettings({ STAFF_JWKS: jwksFile, STAFF_ISSUER: 'https://idp.example/', STAFF_AUDIENCE: 'mragw', MRAGW_DEV_STAFF: '1', HOST: '0.0.0.0' }).STAFF_JWKS).toBe(jwksFile);
      const auth = await StaffAuth.create({ jwks: jwksFile, issuer: 'https://idp.example/', audience: 'mragw' });
      expect(auth.source).toBe('jwks-file');
      const token = await mintDevStaffToken(dataDir, { subject: 'dev-officer', roles: ['reviewer'], ttlSeconds: 600 });
      await expect(auth.verify(token)).rejects.toThrow(GatewayError);
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });

  it('refuses a token minted by another DATA_DIR\'s issuer, and an expired one', async () => {
    const other = mkdtempSync(join(tmpdir(), 'mragw-dev-staff-other-'));
    try {
      const auth = await StaffAuth.create({ devIssuer: { dataDir } });
      const foreign = await mintDevStaffToken(other, { subject: 'x', roles: ['reviewer'], ttlSeconds: 600 });
      await expect(auth.verify(foreign)).rejects.toThrow(GatewayError);
      const expired = await mintDevStaffToken(dataDir, { subject: 'x', roles: ['reviewer'], ttlSeconds: 60, nowSeconds: Math.floor(Date.now() / 1000) - 3600 });
      await expect(auth.verify(expired)).rejects.toThrow(/expired/);
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });

  it('mints nothing for an unknown role, no role, or a lifetime outside 1 s … 24 h', async () => {
    await expect(mintDevStaffToken(dataDir, { subject: 'x', roles: ['superuser'], ttlSeconds: 60 })).rejects.toThrow(RangeError);
    await expect(mintDevStaffToken(dataDir, { subject: 'x', roles: [], ttlSeconds: 60 })).rejects.toThrow(RangeError);
    await expect(mintDevStaffToken(dataDir, { subject: 'x', roles: ['reviewer'], ttlSeconds: 86_401 })).rejects.toThrow(RangeError);
    await expect(mintDevStaffToken(dataDir, { subject: 'x', roles: ['reviewer'], ttlSeconds: 0 })).rejects.toThrow(RangeError);
    await expect(mintDevStaffToken(dataDir, { subject: '', roles: ['reviewer'], ttlSeconds: 60 })).rejects.toThrow(RangeError);
  });
});

describe('mragw staff-token', () => {
  function capture(): { io: CommandIo; out: () => string; err: () => string } {
    let stdout = '';
    let stderr = '';
    return { io: { stdin: Readable.from([]), stdout: { write: (s: string) => (stdout += s) }, stderr: { write: (s: string) => (stderr += s) }, env: {} }, out: () => stdout, err: () => stderr };
  }

  it('prints a token on standard output (role staff when none is given), a note on standard error', async () => {
    const { io, out, err } = capture();
    expect(await staffTokenCommand({ dataDir, subject: 'cli-officer', roles: [], ttlSeconds: 3600 }, io)).toBe(0);
    const token = out().trim();
    expect(decodeJwt(token)).toMatchObject({ sub: 'cli-officer', roles: ['reviewer'] });
    expect(err()).toContain('MRAGW_DEV_STAFF=1');
    const auth = await StaffAuth.create({ devIssuer: { dataDir } });
    expect(await auth.verify(token)).toEqual({ subject: 'cli-officer', roles: ['reviewer'] });
  });

  it('exits 64 for an unknown role', async () => {
    const { io, out, err } = capture();
    expect(await staffTokenCommand({ dataDir, subject: 'x', roles: ['root'], ttlSeconds: 60 }, io)).toBe(64);
    expect(out()).toBe('');
    expect(err()).toContain('unknown role');
  });
});
