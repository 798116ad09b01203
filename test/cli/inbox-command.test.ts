/** `mragw inbox` as a partner runs it: its registry file, its key, the gateway's JWKS file; one line per document. */
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { inboxCommand } from '../../src/cli/inbox-command.ts';
import { bodyDigest } from '../../src/intake/receipt.ts';
import { gatewaySigningKey } from '../../src/deliver/gateway-signing-key.ts';
import { postDocument } from '../../src/deliver/post-document.ts';
import { describeKey } from '../../src/keys/key-file.ts';
import { PartnerEntry, type PublicJwk } from '../../src/registry/partner.ts';
import { loadFormats } from '../../src/translate/load-mappings.ts';
import { translate } from '../../src/translate/translate.ts';
import { runCli } from '../support/run-cli.ts';

const GATEWAY = 'US-CBP-TEST';
const dir = mkdtempSync(join(tmpdir(), 'mragw-inbox-'));
const partnersDir = join(dir, 'partners');
mkdirSync(partnersDir);

const generated = await runCli(['keys', 'generate', '--alg', 'ES256', '--kid', 'jp-inbox-1', '--out', dir]);
const jwks = JSON.parse(generated.stdout) as { keys: PublicJwk[] };
const jpEntry = { id: 'JP', name: 'Japan', programme: 'JP-AEO', format: 'jp-aeo', keys: { algorithms: ['ES256'], jwks } };
writeFileSync(join(partnersDir, 'jp.yaml'), stringify(jpEntry));
const privateKey = join(dir, 'jp-inbox-1.private.jwk.json');

const gatewayMaterial = await describeKey('test', generateKeyPairSync('ed25519').privateKey, 'gw-ed-1');
const gatewayJwks = join(dir, 'gateway-jwks.json');
writeFileSync(gatewayJwks, JSON.stringify({ keys: [gatewayMaterial.publicJwk] }));

function capture() {
  const out = { stdout: '', stderr: '' };
  const io = { stdin: Readable.from([]), stdout: { write: (s: string) => (out.stdout += s) }, stderr: { write: (s: string) => (out.stderr += s) }, env: {} };
  return { out, io };
}

describe('mragw inbox', () => {
  it('takes a delivery and prints partner, sequence, kind, records and disposition', async () => {
    const { out, io } = capture();
    let stop!: () => void;
    const running = inboxCommand({ as: 'JP', key: privateKey, host: '127.0.0.1', port: 0, gatewayJwks, gatewayId: GATEWAY, partnersDir }, io, new Promise<void>((resolve) => (stop = resolve)));
    await expect.poll(() => out.stderr).toMatch(/listening on http:\/\/127\.0\.0\.1:\d+/);
    const url = /listening on (\S+);/.exec(out.stderr)![1]!;

    const text = translate(loadFormats(), { from: 'ctpat', to: 'jp-aeo', input: readFileSync(new URL('../../fixtures/ctpat/sample/input.ndjson', import.meta.url)), gatewayId: GATEWAY, sequence: 1, batchId: 'US-JP-1' }).output;
    const body = Buffer.from(text);
    const partner = PartnerEntry.parse({ ...jpEntry, delivery: { url: `${url}/inbox` } });
    const outcome = await postDocument(
      { id: randomUUID(), partner: 'JP', sequence: 1, batchId: 'US-JP-1', jti: 'dlv-1', contentType: 'text/csv', body, digest: bodyDigest(body) },
      {
        gatewayId: GATEWAY,
        partner,
        signingKey: gatewaySigningKey({ current: () => ({ ...gatewayMaterial, notBefore: new Date(0) }) }),
        keyOf: async (_id, kid) => jwks.keys.find((k) => k.kid === kid),
        clock: () => Date.now(),
      },
    );
    expect(outcome).toMatchObject({ kind: 'delivered', disposition: 'accepted' });
    expect(out.stdout).toMatch(/^JP sequence 1 SNAPSHOT records 3 accepted batch US-JP-1 exchange [0-9a-f-]{36}/);
    stop();
    expect(await running).toBe(0);
  });

  it('refuses to start with a key the registry entry does not hold, or for an unknown partner', async () => {
    const other = join(dir, 'other');
    await runCli(['keys', 'generate', '--kid', 'jp-inbox-1', '--out', other]);
    const wrongKey = await runCli(['inbox', '--as', 'JP', '--key', join(other, 'jp-inbox-1.private.jwk.json'), '--gateway-jwks', gatewayJwks, '--partners-dir', partnersDir, '--port', '0']);
    expect(wrongKey.status).toBe(64);
    expect(wrongKey.stderr).toMatch(/not registered for JP .*would refuse every receipt/);
    const unknown = await runCli(['inbox', '--as', 'ZZ', '--key', privateKey, '--partners-dir', partnersDir]);
    expect(unknown.status).toBe(64);
    expect(unknown.stderr).toContain('no partner "ZZ"');
  });
});
