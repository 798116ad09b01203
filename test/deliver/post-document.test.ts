/**
 * One delivery attempt (PROTOCOL.md §7) against a partner played by nock: what goes on
 * the wire, and how each kind of answer is judged.
 */
import { generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import { CompactSign } from 'jose';
import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { bodyDigest } from '../../src/intake/receipt.ts';
import { gatewaySigningKey } from '../../src/deliver/gateway-signing-key.ts';
import { postDocument, type OutboundDocument, type PostDeps } from '../../src/deliver/post-document.ts';
import { describeKey } from '../../src/keys/key-file.ts';
import { PartnerEntry, type Partner, type PartnerDirectory, type PublicJwk } from '../../src/registry/partner.ts';
import { verifyRequest } from '../../src/verify/index.ts';

const GATEWAY = 'US-CBP-TEST';
const origin = 'https://customs.partner.example';
const inboxPath = '/mra/inbox?from=us';

function ecKey(kid: string): { privateKey: KeyObject; jwk: PublicJwk } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const { kty, crv, x, y } = publicKey.export({ format: 'jwk' });
  return { privateKey, jwk: { kty: kty as 'EC', crv: crv!, x: x!, y: y!, kid, alg: 'ES256', use: 'sig' } };
}

const partnerKey = ecKey('xx-1');
const rogueKey = ecKey('xx-rogue');
const partner: Partner = PartnerEntry.parse({
  id: 'XX',
  name: 'Test administration',
  programme: 'XX-AEO',
  format: 'eu-aeo',
  keys: { algorithms: ['ES256'], jwks: { keys: [partnerKey.jwk] } },
  delivery: { url: `${origin}${inboxPath}` },
});
const gatewayMaterial = await describeKey('test', generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey, 'gw-1');
const gatewayKey = { ...gatewayMaterial, notBefore: new Date(0) };

/** The gateway as a partner directory, for checking what nock received with our own verifier. */
const gatewayAsSender: PartnerDirectory = {
  partner: (id) => (id === GATEWAY ? PartnerEntry.parse({ id: GATEWAY, name: 'gateway', programme: 'C-TPAT', format: 'eu-aeo', keys: { algorithms: ['ES256'], jwks: { keys: [gatewayMaterial.publicJwk] } } }) : undefined),
  key: async (id, kid) => (id === GATEWAY && kid === 'gw-1' ? gatewayMaterial.publicJwk : undefined),
};

const body = Buffer.from('<AEOList partner="US-CBP-TEST" receiver="XX"><Operator/></AEOList>');
function outbound(patch: Partial<OutboundDocument> = {}): OutboundDocument {
  return { id: randomUUID(), partner: 'XX', sequence: 7, batchId: 'US-XX-7', jti: `dlv-${randomUUID()}`, contentType: 'application/xml', body, digest: bodyDigest(body), ...patch };
}

let now = Date.UTC(2026, 10, 27, 12, 0, 0);
const deps = (patch: Partial<PostDeps> = {}): PostDeps => ({
  gatewayId: GATEWAY,
  partner,
  signingKey: gatewaySigningKey({ current: () => gatewayKey }),
  keyOf: async (id, kid) => (id === partner.id ? partner.keys.jwks?.keys.find((k) => k.kid === kid) : undefined),
  clock: () => now,
  timeoutMs: 2_000,
  ...patch,
});

/** A receipt as the partner signs it; `claims` and `header` patch the good one. */
async function receiptFor(doc: OutboundDocument, claims: Record<string, unknown> = {}, options: { key?: KeyObject; header?: Record<string, unknown> } = {}): Promise<{ exchangeId: string; receipt: string }> {
  const exchangeId = randomUUID();
  const payload = {
    iss: 'XX', aud: GATEWAY, iat: Math.floor(now / 1000), jti: randomUUID(), exchangeId, requestJti: doc.jti, batchId: doc.batchId, digest: doc.digest,
    receivedAt: new Date(now).toISOString(), kind: 'SNAPSHOT', sequence: doc.sequence, recordCount: 1, disposition: 'accepted', ...claims,
  };
  const receipt = await new CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
    .setProtectedHeader({ alg: 'ES256', kid: 'xx-1', typ: 'mra-receipt+jwt', ...options.header })
    .sign(options.key ?? partnerKey.privateKey);
  return { exchangeId, receipt };
}

interface Seen { signature: string; body: string; contentType: string }
/** The inbox: each answer in turn, recording what it was sent. */
function inbox(...answers: ((doc: Seen) => Promise<[number, unknown, Record<string, string>?]> | [number, unknown, Record<string, string>?])[]): Seen[] {
  const seen: Seen[] = [];
  let i = 0;
  nock(origin)
    .post(inboxPath)
    .times(answers.length)
    .reply(async function (_uri, requestBody) {
      const got = { signature: String(this.req.headers['jws-signature']), body: String(requestBody), contentType: String(this.req.headers['content-type']) };
      seen.push(got);
      const [status, answer, headers] = await answers[i++]!(got);
      return [status, answer as nock.Body, headers ?? {}];
    });
  return seen;
}

async function verifiedHeader(seen: Seen): Promise<{ iat: number; jti: string; htu: string; aud: string; iss: string }> {
  const verdict = await verifyRequest(
    { signature: seen.signature, method: 'POST', target: inboxPath, contentType: seen.contentType, contentEncoding: undefined, hasBody: true },
    Buffer.from(seen.body),
    { gatewayId: 'XX', partners: gatewayAsSender, nowSeconds: Math.floor(now / 1000), iatSkewSeconds: 300, expectedMediaType: () => 'application/xml' },
  );
  if (!verdict.ok) throw new Error(`${verdict.slug}: ${verdict.detail}`);
  return verdict.header;
}

beforeAll(() => nock.disableNetConnect());
afterEach(() => {
  expect(nock.pendingMocks()).toEqual([]);
  nock.cleanAll();
});
afterAll(() => nock.enableNetConnect());

describe('postDocument', () => {
  it('delivers with a good receipt, signed per §2 for the partner', async () => {
    const doc = outbound();
    const seen = inbox(async () => [202, await receiptFor(doc)]);
    const outcome = await postDocument(doc, deps());
    expect(outcome).toMatchObject({ kind: 'delivered', status: 202, disposition: 'accepted' });
    const header = await verifiedHeader(seen[0]!);
    expect(header).toMatchObject({ iss: GATEWAY, aud: 'XX', jti: doc.jti, htu: inboxPath, iat: Math.floor(now / 1000) });
    expect(seen[0]!.contentType).toBe('application/xml');
    expect(seen[0]!.body).toBe(body.toString());
  });

  it('reports held and stale receipts as delivered, with the reason', async () => {
    const doc = outbound();
    inbox(async () => [200, await receiptFor(doc, { disposition: 'held', heldReason: 'sequence-gap' })]);
    expect(await postDocument(doc, deps())).toMatchObject({ kind: 'delivered', status: 200, disposition: 'held', heldReason: 'sequence-gap' });
  });

  it.each([
    ['a wrong digest', { digest: bodyDigest(Buffer.from('other')) }, /receipt digest/],
    ['a wrong requestJti', { requestJti: 'someone-else' }, /receipt requestJti/],
    ['a wrong aud', { aud: 'US-CBP' }, /receipt aud is "US-CBP", expected US-CBP-TEST/],
    ['a wrong iss', { iss: 'EU' }, /receipt iss/],
    ['another batch', { batchId: 'US-XX-6' }, /receipt batchId/],
    ['an unknown disposition', { disposition: 'maybe' }, /disposition/],
  ])('declares dead a receipt with %s', async (_name, claims, reason) => {
    const doc = outbound();
    inbox(async () => [202, await receiptFor(doc, claims)]);
    const outcome = await postDocument(doc, deps());
    expect(outcome).toMatchObject({ kind: 'dead', status: 202 });
    expect(outcome.kind === 'dead' && outcome.error).toMatch(reason);
  });

  it.each([
    ['signed by an unregistered key', { key: rogueKey.privateKey, header: { kid: 'xx-rogue' } }, /not a key registered for XX/],
    ['signed by another key under a registered kid', { key: rogueKey.privateKey }, /does not verify/],
    ['carrying its own key in the header', { key: rogueKey.privateKey, header: { jwk: rogueKey.jwk } }, /member "jwk" is not accepted/],
    ['of another typ', { header: { typ: 'JWT' } }, /typ must be mra-receipt\+jwt/],
  ])('declares dead a receipt %s', async (_name, options, reason) => {
    const doc = outbound();
    inbox(async () => [202, await receiptFor(doc, {}, options)]);
    const outcome = await postDocument(doc, deps());
    expect(outcome.kind).toBe('dead');
    expect(outcome.kind === 'dead' && outcome.error).toMatch(reason);
  });

  it('declares dead an answer whose exchangeId is not the receipt\'s, or that is not JSON', async () => {
    const doc = outbound();
    inbox(async () => [202, { ...(await receiptFor(doc)), exchangeId: 'another' }], () => [202, 'accepted, thanks']);
    expect(await postDocument(doc, deps())).toMatchObject({ kind: 'dead', error: expect.stringMatching(/exchangeId/) });
    expect(await postDocument(doc, deps())).toMatchObject({ kind: 'dead', error: 'the 202 answer is not JSON' });
  });

  it('retries a 503, then resends the same bytes and jti with a fresh iat', async () => {
    const doc = outbound();
    const seen = inbox(() => [503, { type: 'urn:mra:problem:unavailable' }], async () => [202, await receiptFor(doc)]);
    expect(await postDocument(doc, deps())).toMatchObject({ kind: 'retry', status: 503, error: 'the partner answered 503' });
    const first = await verifiedHeader(seen[0]!);
    now += 65_000;
    expect(await postDocument(doc, deps())).toMatchObject({ kind: 'delivered' });
    const second = await verifiedHeader(seen[1]!);
    expect(seen[1]!.body).toBe(seen[0]!.body);
    expect(second.jti).toBe(first.jti);
    expect(second.iat).toBe(first.iat + 65);
  });

  it('retries a 429 after its Retry-After, in seconds or as an HTTP date', async () => {
    const doc = outbound();
    inbox(() => [429, '', { 'Retry-After': '120' }], () => [429, '', { 'Retry-After': new Date(now + 90_000).toUTCString() }], () => [408, '']);
    expect(await postDocument(doc, deps())).toMatchObject({ kind: 'retry', status: 429, retryAfterSeconds: 120 });
    expect(await postDocument(doc, deps())).toMatchObject({ kind: 'retry', status: 429, retryAfterSeconds: 90 });
    const plain = await postDocument(doc, deps());
    expect(plain).toMatchObject({ kind: 'retry', status: 408 });
    expect(plain).not.toHaveProperty('retryAfterSeconds');
  });

  it('retries an inbox that does not answer in time, and one that cannot be reached', async () => {
    const doc = outbound();
    nock(origin).post(inboxPath).delay(1_000).reply(202, {});
    const slow = await postDocument(doc, deps({ timeoutMs: 100 }));
    expect(slow).toMatchObject({ kind: 'retry', error: 'no complete answer within 100 ms' });
    expect(slow.durationMs).toBeLessThan(900);
    nock(origin).post(inboxPath).replyWithError({ code: 'ECONNRESET', message: 'socket hang up' });
    expect(await postDocument(doc, deps())).toMatchObject({ kind: 'retry', error: expect.stringMatching(/^network error/) });
  });

  it('declares dead a 400, naming the problem type but not echoing the body', async () => {
    const doc = outbound();
    inbox(() => [400, { type: 'urn:mra:problem:document-invalid', detail: 'secret detail', errors: [] }, { 'Content-Type': 'application/problem+json' }]);
    const outcome = await postDocument(doc, deps());
    expect(outcome).toMatchObject({ kind: 'dead', status: 400, error: 'the partner answered 400 (urn:mra:problem:document-invalid)' });
  });

  it('declares dead a redirect, without following it', async () => {
    const doc = outbound();
    inbox(() => [301, '', { Location: 'https://elsewhere.example/inbox' }]);
    const outcome = await postDocument(doc, deps());
    expect(outcome).toMatchObject({ kind: 'dead', status: 301 });
    expect(outcome.kind === 'dead' && outcome.error).toMatch(/redirect \(not followed/);
  });

  it('declares dead an answer larger than the cap, declared or streamed', async () => {
    const doc = outbound();
    const big = { exchangeId: 'x', receipt: 'a'.repeat(5_000) };
    inbox(() => [202, big], () => [202, JSON.stringify(big), { 'Content-Length': '' }]);
    expect(await postDocument(doc, deps({ maxResponseBytes: 1_024 }))).toMatchObject({ kind: 'dead', status: 202, error: 'the 202 answer is larger than 1024 bytes' });
    expect(await postDocument(doc, deps({ maxResponseBytes: 1_024 }))).toMatchObject({ kind: 'dead', status: 202 });
  });

  it('sends nothing for a partner without a usable delivery URL or a digest that does not fit the bytes', async () => {
    const noUrl = PartnerEntry.parse({ ...partner, delivery: undefined });
    expect(await postDocument(outbound(), deps({ partner: noUrl }))).toMatchObject({ kind: 'dead', error: 'XX has no delivery.url in the registry' });
    const plain = PartnerEntry.parse({ ...partner, delivery: { url: 'http://customs.partner.example/inbox' } });
    expect(await postDocument(outbound(), deps({ partner: plain }))).toMatchObject({ kind: 'dead', error: expect.stringMatching(/only on loopback/) });
    expect(await postDocument(outbound({ digest: bodyDigest(Buffer.from('x')) }), deps())).toMatchObject({ kind: 'dead', error: 'the stored digest does not match the document bytes' });
  });
});
