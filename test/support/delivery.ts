/** Helpers of the outbound delivery tests: a free port for an inbox, polling, and Japan's receipts as nock answers them. */
import { createHash, createPrivateKey, randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { CompactSign } from 'jose';
import { loadFormats } from '../../src/translate/load-mappings.ts';
import { readDocument } from '../../src/translate/read-document.ts';
import { GATEWAY_ID, partnerKeys } from './gateway.ts';

const formats = loadFormats();

/** A loopback port nothing listens on now, for an inbox the registry must name before it starts. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Polls `probe` until it gives a value. */
export async function until<T>(probe: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The protected header of a request nock saw. */
export const headerOf = (signature: string) => JSON.parse(Buffer.from(signature.split('.')[0]!, 'base64url').toString('utf8')) as { jti: string; iat: number };

/** A receipt as Japan would sign it, answering the request nock saw. */
export async function jpReceipt(signatureHeader: string, body: Buffer, disposition = 'accepted', heldReason?: string): Promise<{ exchangeId: string; receipt: string }> {
  const exchangeId = randomUUID();
  const jwk = partnerKeys.JP.privateJwk;
  const { envelope } = readDocument(formats.get('jp-aeo')!, body).batch;
  const claims = {
    iss: 'JP', aud: GATEWAY_ID, iat: Math.floor(Date.now() / 1000), jti: randomUUID(), exchangeId, requestJti: headerOf(signatureHeader).jti, batchId: envelope?.batchId,
    digest: `sha-256=${createHash('sha256').update(body).digest('base64')}`, receivedAt: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    kind: envelope?.kind, sequence: envelope?.sequence, recordCount: envelope?.count, disposition, ...(heldReason && { heldReason }),
  };
  const receipt = await new CompactSign(new TextEncoder().encode(JSON.stringify(claims))).setProtectedHeader({ alg: 'ES256', kid: jwk.kid, typ: 'mra-receipt+jwt' }).sign(createPrivateKey({ key: jwk, format: 'jwk' }));
  return { exchangeId, receipt };
}
