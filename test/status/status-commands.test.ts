/** `mragw status` and `mragw verify-status` against the status endpoint over real HTTP. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CommandIo } from '../../src/cli/io.ts';
import { statusCommand, verifyStatusCommand } from '../../src/cli/status-commands.ts';
import { GatewayKeys } from '../../src/keys/gateway-keys.ts';
import { mintDevStaffToken } from '../../src/staff/dev-issuer.ts';
import { euKey, GATEWAY_ID, statusHarness, type StatusHarness } from './harness.ts';

function capture(stdin = ''): { io: CommandIo; out: () => string; err: () => string } {
  let stdout = '';
  let stderr = '';
  const io: CommandIo = { stdin: Readable.from([Buffer.from(stdin)]), stdout: { write: (s: string) => (stdout += s) }, stderr: { write: (s: string) => (stderr += s) }, env: {} };
  return { io, out: () => stdout, err: () => stderr };
}

describe('mragw status', () => {
  let harness: StatusHarness;
  let url: string;
  beforeAll(async () => {
    harness = await statusHarness();
    url = await harness.start();
  });
  afterAll(async () => {
    await harness?.close();
  });

  it('prints the subject and the verified claims of an anonymous answer (0)', async () => {
    const { io, out } = capture();
    expect(await statusCommand({ scheme: 'eu-aeo', id: 'deaeof0000000001', url, aud: GATEWAY_ID }, io)).toBe(0);
    const printed = JSON.parse(out()) as { subject: Record<string, unknown>; claims: Record<string, unknown> };
    expect(printed.subject).toMatchObject({ sub: 'eu-aeo:DEAEOF0000000001', status: 'active' });
    expect(printed.claims).toMatchObject({ iss: GATEWAY_ID, sub: 'eu-aeo:DEAEOF0000000001' });
  });

  it('signs the request as a partner with --key and --iss', async () => {
    const keyFile = join(harness.dataDir, 'eu.private.jwk.json');
    writeFileSync(keyFile, JSON.stringify(euKey.key.privateJwk));
    const { io, out } = capture();
    expect(await statusCommand({ scheme: 'gb-aeo', id: 'GBAEOS1234/19', url: `${url}/`, key: keyFile, iss: 'EU', aud: GATEWAY_ID }, io)).toBe(0);
    expect((JSON.parse(out()) as { subject: Record<string, unknown> }).subject).not.toHaveProperty('name');
    const own = capture();
    expect(await statusCommand({ scheme: 'eu-aeo', id: 'DEAEOF0000000001', url, key: keyFile, iss: 'EU', aud: GATEWAY_ID }, own.io)).toBe(0);
    expect((JSON.parse(own.out()) as { subject: Record<string, unknown> }).subject).toHaveProperty('name', 'Müller Logistik GmbH');
  });

  it('asks as staff with --token', async () => {
    const token = await mintDevStaffToken(harness.dataDir, { subject: 'officer-1', roles: ['reviewer'], ttlSeconds: 600 });
    const { io, out } = capture();
    expect(await statusCommand({ scheme: 'eori', id: 'DE999', url, token, aud: GATEWAY_ID }, io)).toBe(0);
    expect((JSON.parse(out()) as { subject: Record<string, unknown> }).subject).toHaveProperty('name');
  });

  it('exits 1 on a 404 or a refusal, printing the problem', async () => {
    const miss = capture();
    expect(await statusCommand({ scheme: 'eori', id: 'DE999', url, aud: GATEWAY_ID }, miss.io)).toBe(1);
    expect(miss.err()).toContain('404');
    expect(JSON.parse(miss.out())).toMatchObject({ type: 'urn:mra:problem:not-found' });
    const refused = capture();
    expect(await statusCommand({ scheme: 'eori', id: 'DE999', url, token: 'a.b.c', aud: GATEWAY_ID }, refused.io)).toBe(1);
    expect(refused.err()).toContain('401');
  });

  it('exits 2 when the assertion does not fit: another gateway id', async () => {
    const { io, err } = capture();
    expect(await statusCommand({ scheme: 'eu-aeo', id: 'DEAEOF0000000001', url, aud: 'US-CBP' }, io)).toBe(2);
    expect(err()).toContain('iss is "US-CBP-TEST", expected US-CBP');
  });

  it('exits 2 when the assertion is not signed by a key of the gateway JWKS', async () => {
    const otherKeys = await GatewayKeys.load({ dataDir: join(harness.dataDir, 'other'), minAgeDays: 0 });
    // Served beside the first gateway's JWKS, signed with a key it does not publish.
    const forged = await harness.start({ sign: (typ, payload) => otherKeys.sign(typ, payload) });
    const { io, err } = capture();
    expect(await statusCommand({ scheme: 'eu-aeo', id: 'DEAEOF0000000001', url: forged, aud: GATEWAY_ID }, io)).toBe(2);
    expect(err()).toContain('does not verify');
  });

  it('refuses --key with --token, and --key without --iss (64)', async () => {
    expect(await statusCommand({ scheme: 'eori', id: 'DE999', url, key: 'k', token: 't', aud: GATEWAY_ID }, capture().io)).toBe(64);
    expect(await statusCommand({ scheme: 'eori', id: 'DE999', url, key: 'k', aud: GATEWAY_ID }, capture().io)).toBe(64);
  });

  describe('mragw verify-status', () => {
    let assertion: string;
    let jwksFile: string;
    beforeAll(async () => {
      assertion = ((await (await fetch(`${url}/v1/status/ctpat/CT-0012345`)).json()) as { assertion: string }).assertion;
      jwksFile = join(harness.dataDir, 'gateway.jwks.json');
      writeFileSync(jwksFile, JSON.stringify(harness.keys.jwks()));
    });

    it('verifies an assertion offline against a JWKS file and prints its claims (0)', async () => {
      const { io, out } = capture();
      expect(await verifyStatusCommand({ jwks: jwksFile, assertion }, io)).toBe(0);
      expect(JSON.parse(out())).toMatchObject({ iss: GATEWAY_ID, sub: 'ctpat:CT-0012345', programme: 'C-TPAT' });
    });

    it('reads the assertion from standard input and the JWKS from a URL', async () => {
      const { io, out } = capture(`${assertion}\n`);
      expect(await verifyStatusCommand({ jwks: `${url}/.well-known/jwks.json` }, io)).toBe(0);
      expect(JSON.parse(out())).toMatchObject({ sub: 'ctpat:CT-0012345' });
    });

    it('refuses an expired assertion (2)', async () => {
      const { io, err } = capture();
      expect(await verifyStatusCommand({ jwks: jwksFile, assertion, nowSeconds: () => Math.floor(Date.now() / 1000) + 7200 }, io)).toBe(2);
      expect(err()).toContain('expired');
    });

    it('refuses a gateway object of another typ, and a tampered one (2)', async () => {
      const receipt = await harness.keys.sign('mra-receipt+jwt', { iss: GATEWAY_ID, iat: 1, exp: 2 });
      expect(await verifyStatusCommand({ jwks: jwksFile, assertion: receipt }, capture().io)).toBe(2);
      const [h, p, s] = assertion.split('.') as [string, string, string];
      const claims = JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) as Record<string, unknown>;
      const tampered = `${h}.${Buffer.from(JSON.stringify({ ...claims, status: 'revoked' })).toString('base64url')}.${s}`;
      expect(await verifyStatusCommand({ jwks: jwksFile, assertion: tampered }, capture().io)).toBe(2);
    });
  });
});
