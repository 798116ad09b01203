/**
 * A delivery end to end, in-process over real HTTP on loopback: postDocument signs and
 * sends a C-TPAT document in the EU's format to the reference inbox, which verifies it
 * with the gateway's published keys and answers with a receipt the gateway verifies.
 */
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { compactVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bodyDigest } from '../../src/intake/receipt.ts';
import { gatewayDirectory } from '../../src/deliver/gateway-directory.ts';
import { gatewaySigningKey } from '../../src/deliver/gateway-signing-key.ts';
import { startInbox, type InboxDocument } from '../../src/deliver/inbox.ts';
import { postDocument, type OutboundDocument, type PostDeps } from '../../src/deliver/post-document.ts';
import { describeKey } from '../../src/keys/key-file.ts';
import { PartnerEntry, type Partner, type PublicJwk } from '../../src/registry/partner.ts';
import { signRequest } from '../../src/sign/request-signature.ts';
import { loadFormats } from '../../src/translate/load-mappings.ts';
import { translate } from '../../src/translate/translate.ts';

const GATEWAY = 'US-CBP-TEST';
const formats = loadFormats();
const members = readFileSync(new URL('../../fixtures/ctpat/sample/input.ndjson', import.meta.url));

const gatewayMaterial = await describeKey('test', generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey, 'gw-1');
const gatewayKey = { ...gatewayMaterial, notBefore: new Date(0) };
const euPair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const euJwk = { ...(euPair.publicKey.export({ format: 'jwk' }) as Omit<PublicJwk, 'kid'>), kid: 'eu-inbox-1', alg: 'ES256', use: 'sig' as const };
const euEntry = { id: 'EU', name: 'European Union', programme: 'EU-AEO', format: 'eu-aeo', keys: { algorithms: ['ES256'], jwks: { keys: [euJwk] } } };

/** A document for the EU, as the lead's outbound builder will make it. */
function euDocument(sequence: number, kind: 'SNAPSHOT' | 'DELTA' = 'SNAPSHOT'): OutboundDocument {
  const batchId = `US-EU-${sequence}-${randomUUID().slice(0, 8)}`;
  let text = translate(formats, { from: 'ctpat', to: 'eu-aeo', input: members, gatewayId: GATEWAY, sequence, batchId }).output;
  if (kind === 'DELTA') text = text.replace('SNAPSHOT', 'DELTA');
  const body = Buffer.from(text);
  return { id: randomUUID(), partner: 'EU', sequence, batchId, jti: `dlv-${randomUUID()}`, contentType: 'application/xml', body, digest: bodyDigest(body) };
}

describe('mragw inbox (the reference partner inbox) receiving a delivery', () => {
  let jwksServer: Server;
  let inbox: Awaited<ReturnType<typeof startInbox>>;
  let partner: Partner;
  const documents: InboxDocument[] = [];
  const refusals: string[] = [];
  let deps: PostDeps;

  beforeAll(async () => {
    // The gateway's published key set, fetched by the inbox as a partner would.
    jwksServer = createServer((_req, res) => res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ keys: [gatewayMaterial.publicJwk] })));
    await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
    const jwksUri = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/.well-known/jwks.json`;
    inbox = await startInbox({
      host: '127.0.0.1',
      port: 0,
      partner: PartnerEntry.parse(euEntry),
      format: formats.get('eu-aeo')!,
      receiptKey: { privateKey: euPair.privateKey, kid: 'eu-inbox-1', alg: 'ES256' },
      gatewayId: GATEWAY,
      gateway: gatewayDirectory(GATEWAY, 'eu-aeo', { jwksUri }),
      onDocument: (doc) => documents.push(doc),
      onRefusal: (status, slug) => refusals.push(`${status} ${slug}`),
    });
    // The gateway's registry entry for the EU, with the inbox as its delivery URL.
    partner = PartnerEntry.parse({ ...euEntry, delivery: { url: `${inbox.url}/mra/inbox?v=1` } });
    deps = {
      gatewayId: GATEWAY,
      partner,
      signingKey: gatewaySigningKey({ current: () => gatewayKey }),
      keyOf: async (id, kid) => (id === 'EU' ? partner.keys.jwks?.keys.find((k) => k.kid === kid) : undefined),
      clock: () => Date.now(),
    };
  });
  afterAll(async () => {
    await inbox?.close();
    await new Promise<void>((resolve) => (jwksServer ? jwksServer.close(() => resolve()) : resolve()));
  });

  it('takes a document and answers with a receipt that verifies', async () => {
    const doc = euDocument(40);
    const outcome = await postDocument(doc, deps);
    expect(outcome).toMatchObject({ kind: 'delivered', status: 202, disposition: 'accepted' });
    if (outcome.kind !== 'delivered') return;
    const { payload } = await compactVerify(outcome.receipt, euPair.publicKey, { algorithms: ['ES256'] });
    expect(JSON.parse(Buffer.from(payload).toString())).toMatchObject({
      iss: 'EU', aud: GATEWAY, requestJti: doc.jti, digest: doc.digest, batchId: doc.batchId, kind: 'SNAPSHOT', sequence: 40, recordCount: 3, disposition: 'accepted', exchangeId: outcome.exchangeId,
    });
    expect(documents.at(-1)).toMatchObject({ partner: 'EU', sequence: 40, kind: 'SNAPSHOT', records: 3, disposition: 'accepted' });
  });

  it('answers a retry (same jti and bytes, fresh iat) with the earlier receipt', async () => {
    const doc = euDocument(41, 'DELTA');
    const first = await postDocument(doc, deps);
    const again = await postDocument(doc, { ...deps, clock: () => Date.now() + 5_000 });
    expect(first.kind).toBe('delivered');
    expect(again).toMatchObject({ kind: 'delivered', status: 200 });
    expect(again.kind === 'delivered' && first.kind === 'delivered' && again.receipt === first.receipt).toBe(true);
  });

  it('takes a delivery sent twice at once (a retry while the first was in flight) once: both get the one receipt', async () => {
    const doc = euDocument(42, 'DELTA');
    const taken = documents.length;
    const [a, b] = await Promise.all([postDocument(doc, deps), postDocument(doc, { ...deps, clock: () => Date.now() + 1_000 })]);
    expect([a, b].map((o) => (o.kind === 'delivered' ? o.status : o.kind)).sort()).toEqual([200, 202]);
    expect(a.kind === 'delivered' && b.kind === 'delivered' && a.receipt === b.receipt).toBe(true);
    expect(documents.slice(taken).map((d) => d.sequence)).toEqual([42]);
  });

  it('holds a DELTA after a gap and calls an old sequence stale', async () => {
    expect(await postDocument(euDocument(45, 'DELTA'), deps)).toMatchObject({ kind: 'delivered', disposition: 'held', heldReason: 'sequence-gap' });
    expect(await postDocument(euDocument(39, 'DELTA'), deps)).toMatchObject({ kind: 'delivered', disposition: 'stale' });
  });

  it('does not count a sender that went away mid-body as a refusal (a killed worker): nothing is taken or refused', async () => {
    const doc = euDocument(43);
    const target = '/mra/inbox?v=1';
    const signature = signRequest({ key: gatewaySigningKey({ current: () => gatewayKey })(), iss: GATEWAY, aud: 'EU', method: 'POST', target, body: doc.body, contentType: 'application/xml' });
    const [taken, refused] = [documents.length, refusals.length];
    const { port } = new URL(inbox.url);
    await new Promise<void>((resolve) => {
      const socket = connect(Number(port), '127.0.0.1', () => {
        socket.write(`POST ${target} HTTP/1.1\r\nHost: x\r\nContent-Type: application/xml\r\nContent-Length: ${doc.body.length}\r\nJWS-Signature: ${signature}\r\n\r\n`);
        socket.write(doc.body.subarray(0, 100), () => setTimeout(() => socket.destroy(), 100));
      });
      socket.on('close', () => setTimeout(resolve, 200));
    });
    expect(refusals.slice(refused)).toEqual([]);
    expect(documents.length).toBe(taken);
  });

  it('refuses a tampered request with 401, and a request for another party', async () => {
    const doc = euDocument(42);
    const target = '/mra/inbox?v=1';
    const signature = signRequest({ key: gatewaySigningKey({ current: () => gatewayKey })(), iss: GATEWAY, aud: 'EU', method: 'POST', target, body: doc.body, contentType: 'application/xml' });
    const tampered = Buffer.from(doc.body.toString().replace('<Name>', '<Name>X'));
    expect(tampered.equals(doc.body)).toBe(false);
    const refused = await fetch(`${inbox.url}${target}`, { method: 'POST', headers: { 'Content-Type': 'application/xml', 'JWS-Signature': signature }, body: tampered });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toBe('JWS-Signature');
    expect(refused.headers.get('content-type')).toBe('application/problem+json');
    expect(await refused.json()).toMatchObject({ type: 'urn:mra:problem:signature-invalid', status: 401 });

    const forJapan = signRequest({ key: gatewaySigningKey({ current: () => gatewayKey })(), iss: GATEWAY, aud: 'JP', method: 'POST', target, body: doc.body, contentType: 'application/xml' });
    const other = await fetch(`${inbox.url}${target}`, { method: 'POST', headers: { 'Content-Type': 'application/xml', 'JWS-Signature': forJapan }, body: doc.body });
    expect(other.status).toBe(401);
    expect(await other.json()).toMatchObject({ type: 'urn:mra:problem:audience-mismatch' });
    expect(refusals).toEqual(['401 signature-invalid', '401 audience-mismatch']);
  });

  it('refuses a document fault with 422 and the §8 errors, so the gateway dead-letters it', async () => {
    const doc = euDocument(43);
    const broken = Buffer.from(doc.body.toString().replace(/recordCount="\d+"/, 'recordCount="9"'));
    const outcome = await postDocument({ ...doc, body: broken, digest: bodyDigest(broken) }, deps);
    expect(outcome).toMatchObject({ kind: 'dead', status: 422, error: 'the partner answered 422 (urn:mra:problem:document-invalid)' });
  });
});
