/**
 * A partner's whole path from the command line: generate a key, register it, sign and
 * send a document, get a receipt that verifies, verify it again offline.
 */
import { mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyRequest } from '../../src/verify/index.ts';
import { euDocument, GATEWAY_ID, startTestGateway, type TestGateway } from '../support/gateway.ts';
import { runCli } from '../support/run-cli.ts';

describe('mragw keys generate, sign, send, verify-receipt', () => {
  let gw: TestGateway;
  const dir = mkdtempSync(join(tmpdir(), 'mragw-partner-'));
  let privateKey: string;

  beforeAll(async () => {
    const generated = await runCli(['keys', 'generate', '--alg', 'ES256', '--kid', 'nz-key-1', '--out', dir]);
    expect(generated.status).toBe(0);
    const jwks = JSON.parse(generated.stdout) as { keys: { kid: string; d?: string }[] };
    expect(jwks.keys).toHaveLength(1);
    expect(jwks.keys[0]!.kid).toBe('nz-key-1');
    expect(jwks.keys[0]!.d).toBeUndefined();
    privateKey = join(dir, 'nz-key-1.private.jwk.json');
    // The operator registers the partner's public key set, as it came from the command.
    gw = await startTestGateway({
      store: 'embedded',
      partners: { eu: { id: 'EU', name: 'European Union', programme: 'EU-AEO', format: 'eu-aeo', keys: { algorithms: ['ES256'], jwks } } },
    });
  });
  afterAll(async () => {
    await gw?.close();
  });

  it('generate writes a private key readable only by its owner, and the public set', () => {
    expect(readdirSync(dir).sort()).toEqual(['nz-key-1.private.jwk.json', 'nz-key-1.public.jwks.json']);
    const { mode } = statSync(join(dir, 'nz-key-1.private.jwk.json'));
    expect(mode & 0o077).toBe(0);
  });

  it('sign prints a JWS-Signature header that the gateway verifier accepts', async () => {
    const body = join(dir, 'doc.xml');
    writeFileSync(body, euDocument({ batchId: 'EU-CLI-0', sequence: 1 }));
    const signed = await runCli(['sign', '--key', privateKey, '--iss', 'EU', '--aud', GATEWAY_ID, body]);
    expect(signed.status).toBe(0);
    const header = signed.stdout.trim();
    expect(header).toMatch(/^[A-Za-z0-9_-]+\.\.[A-Za-z0-9_-]+$/);
    const verdict = await verifyRequest(
      { signature: header, method: 'POST', target: '/v1/exchanges', contentType: 'application/xml', contentEncoding: undefined, hasBody: true },
      readFileSync(body),
      { gatewayId: GATEWAY_ID, partners: gw.gateway.registry, nowSeconds: Math.floor(Date.now() / 1000), iatSkewSeconds: 300, expectedMediaType: () => 'application/xml' },
    );
    expect(verdict.ok).toBe(true);
  });

  it('send posts the document and prints the verified receipt; verify-receipt checks it offline', async () => {
    const doc = join(dir, 'send.xml');
    writeFileSync(doc, euDocument({ batchId: 'EU-CLI-1', sequence: 5 }));
    const sent = await runCli(['send', '--key', privateKey, '--iss', 'EU', '--aud', GATEWAY_ID, '--url', `${gw.url}/v1/exchanges`, '--content-type', 'application/xml', doc]);
    expect(sent.stderr).toBe('');
    expect(sent.status).toBe(0);
    const out = JSON.parse(sent.stdout) as { status: number; exchangeId: string; receipt: Record<string, unknown> };
    expect(out.status).toBe(202);
    expect(out.receipt).toMatchObject({ iss: GATEWAY_ID, aud: 'EU', batchId: 'EU-CLI-1', sequence: 5, disposition: 'accepted', exchangeId: out.exchangeId });

    const { rows } = await gw.gateway.db.query<{ receipt: string }>('select receipt from exchanges where id = $1', [out.exchangeId]);
    const jwksFile = join(dir, 'gateway-jwks.json');
    writeFileSync(jwksFile, await (await fetch(`${gw.url}/.well-known/jwks.json`)).text());
    const offline = await runCli(['verify-receipt', '--jwks', jwksFile, rows[0]!.receipt]);
    expect(offline.status).toBe(0);
    expect(JSON.parse(offline.stdout)).toMatchObject({ exchangeId: out.exchangeId });

    // Change a character in the middle of the signature (the last one may only carry padding bits).
    const receipt = rows[0]!.receipt;
    const at = receipt.lastIndexOf('.') + 10;
    const tampered = `${receipt.slice(0, at)}${receipt[at] === 'A' ? 'B' : 'A'}${receipt.slice(at + 1)}`;
    const refused = await runCli(['verify-receipt', '--jwks', jwksFile, tampered]);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain('does not verify');
  });

  it('send shows the problem and exits 1 when the gateway refuses', async () => {
    const doc = join(dir, 'bad.xml');
    writeFileSync(doc, '<not-a-batch/>');
    const sent = await runCli(['send', '--key', privateKey, '--iss', 'EU', '--aud', GATEWAY_ID, '--url', `${gw.url}/v1/exchanges`, '--content-type', 'application/xml', doc]);
    expect(sent.status).toBe(1);
    expect(sent.stderr).toContain('answered 422');
    expect(JSON.parse(sent.stdout)).toMatchObject({ type: 'urn:mra:problem:document-invalid' });
  });
});
