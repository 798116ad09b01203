/**
 * POST /v1/exchanges and GET /v1/exchanges/{id} over real HTTP, on the embedded store,
 * an external PostgreSQL and a real Redis: every row of the PROTOCOL §3 table that a partner can cause.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { compactVerify, createLocalJWKSet, decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bodyDigest } from '../../src/intake/receipt.ts';
import { BODY_PIECE_BYTES, exchangeBodyPieces, exchangeDocument } from '../../src/store/exchanges.ts';
import { euDocument, GATEWAY_ID, partnerKeys, startTestGateway, type TestGateway } from '../support/gateway.ts';

const uniq = () => randomUUID().slice(0, 8);

async function receiptOf(gw: TestGateway, response: Response): Promise<{ exchangeId: string; receipt: string; claims: Record<string, unknown> }> {
  const body = (await response.json()) as { exchangeId: string; receipt: string };
  // An independent check: jose alone, against the published JWKS.
  const jwks = (await (await fetch(`${gw.url}/.well-known/jwks.json`)).json()) as { keys: object[] };
  const { payload, protectedHeader } = await compactVerify(body.receipt, createLocalJWKSet(jwks as Parameters<typeof createLocalJWKSet>[0]), { algorithms: ['ES256', 'EdDSA', 'PS256'] });
  expect(protectedHeader.typ).toBe('mra-receipt+jwt');
  return { ...body, claims: JSON.parse(new TextDecoder().decode(payload)) as Record<string, unknown> };
}

async function problem(response: Response): Promise<{ type: string; status: number; detail: string; [k: string]: unknown }> {
  expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  return (await response.json()) as { type: string; status: number; detail: string };
}

describe.each(['embedded', 'PostgreSQL'] as const)('exchanges on %s', (store) => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ store });
  });
  afterAll(async () => {
    await gw?.close();
  });

  it('accepts a signed document: 202, Location, and a receipt that verifies against the JWKS', async () => {
    const batchId = `EU-${uniq()}`;
    const body = euDocument({ batchId, sequence: 1, records: 2 });
    const jti = `jti-${uniq()}`;
    const response = await gw.request({ body, jti });
    expect(response.status).toBe(202);
    const { exchangeId, receipt, claims } = await receiptOf(gw, response);
    expect(response.headers.get('location')).toBe(`/v1/exchanges/${exchangeId}`);
    expect(claims).toMatchObject({ iss: GATEWAY_ID, aud: 'EU', exchangeId, requestJti: jti, batchId, digest: bodyDigest(Buffer.from(body)), kind: 'SNAPSHOT', sequence: 1, recordCount: 2, disposition: 'accepted' });
    expect(claims['receivedAt']).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/);
    expect(decodeProtectedHeader(receipt).kid).toBeTruthy();
    // The raw body and the signature header are kept byte for byte, with the receipt.
    const { rows } = await gw.gateway.db.query<{ receipt: string; signature_header: string }>('select receipt, signature_header from exchanges where id = $1', [exchangeId]);
    expect((await exchangeDocument(gw.gateway.db, exchangeId))!.body!.toString('utf8')).toBe(body);
    expect(rows[0]!.receipt).toBe(receipt);
    expect(rows[0]!.signature_header).toMatch(/^[A-Za-z0-9_-]+\.\.[A-Za-z0-9_-]+$/);
  });

  it('answers a retry (same jti and body, re-signed with a fresh iat) with the earlier receipt, byte for byte', async () => {
    const body = euDocument({ batchId: `EU-${uniq()}`, sequence: 2, kind: 'DELTA' });
    const jti = `jti-${uniq()}`;
    const first = await gw.request({ body, jti });
    expect(first.status).toBe(202);
    const firstText = await first.text();
    const retry = await gw.request({ body, jti, iat: Math.floor(Date.now() / 1000) + 2 });
    expect(retry.status).toBe(200);
    expect(await retry.text()).toBe(firstText);
  });

  it('answers concurrent duplicates once: one 202, the others 200 with the same receipt', async () => {
    const body = euDocument({ batchId: `EU-${uniq()}`, sequence: 3, kind: 'DELTA' });
    const jti = `jti-${uniq()}`;
    const responses = await Promise.all([0, 1, 2].map(() => gw.request({ body, jti })));
    expect(responses.map((r) => r.status).sort()).toEqual([200, 200, 202]);
    const texts = await Promise.all(responses.map((r) => r.text()));
    expect(new Set(texts).size).toBe(1);
  });

  it('refuses the same jti with another body: 409 jti-conflict', async () => {
    const jti = `jti-${uniq()}`;
    expect((await gw.request({ body: euDocument({ batchId: `EU-${uniq()}`, sequence: 4, kind: 'DELTA' }), jti })).status).toBe(202);
    const again = await gw.request({ body: euDocument({ batchId: `EU-${uniq()}`, sequence: 5, kind: 'DELTA' }), jti });
    expect(again.status).toBe(409);
    expect((await problem(again)).type).toBe('urn:mra:problem:jti-conflict');
  });

  it('answers the same batch under a new jti with the earlier receipt, and refuses it with another body: 409 duplicate-batch', async () => {
    const batchId = `EU-${uniq()}`;
    const body = euDocument({ batchId, sequence: 6, kind: 'DELTA' });
    const first = await gw.request({ body });
    expect(first.status).toBe(202);
    const firstText = await first.text();
    const resent = await gw.request({ body });
    expect(resent.status).toBe(200);
    expect(await resent.text()).toBe(firstText);
    const changed = await gw.request({ body: euDocument({ batchId, sequence: 6, kind: 'DELTA', records: 2 }) });
    expect(changed.status).toBe(409);
    expect((await problem(changed)).type).toBe('urn:mra:problem:duplicate-batch');
  });

  it('refuses a document invalid as a whole with 422 naming its place, and uses up neither the jti nor the sequence', async () => {
    const jti = `jti-${uniq()}`;
    const bad = '<?xml version="1.0"?>\n<!DOCTYPE x>\n<AEOExchangeBatch xmlns="urn:eu:taxud:mra:aeo:1"/>';
    const refused = await gw.request({ body: bad, jti });
    expect(refused.status).toBe(422);
    const p = await problem(refused);
    expect(p).toMatchObject({ type: 'urn:mra:problem:document-invalid', status: 422, errorCount: 1, truncated: false });
    expect(p['errors']).toEqual([{ index: null, key: null, pointer: expect.stringMatching(/^2:\d+$/), code: 'document-invalid', message: 'a DOCTYPE is not allowed' }]);
    const good = await gw.request({ body: euDocument({ batchId: `EU-${uniq()}`, sequence: 7, kind: 'DELTA' }), jti });
    expect(good.status).toBe(202);
  });

  it('refuses a document whose receiver is not this gateway, or whose sender is not the signer: 422', async () => {
    const toOther = await gw.request({ body: euDocument({ batchId: `EU-${uniq()}`, sequence: 8, receiver: 'US-CBP' }) });
    expect(toOther.status).toBe(422);
    expect((await problem(toOther)).detail).toContain('not this gateway');
    const fromOther = await gw.request({ body: euDocument({ batchId: `EU-${uniq()}`, sequence: 8, partner: 'GB' }) });
    expect(fromOther.status).toBe(422);
  });

  it('accepts a document with a bad record (202) and reports the rejection on GET, to its sender only', async () => {
    const body = euDocument({ batchId: `EU-${uniq()}`, sequence: 9, kind: 'DELTA', records: 2 }).replace('<Name>Operator 1 GmbH</Name>', '');
    const response = await gw.request({ body });
    expect(response.status).toBe(202);
    const { exchangeId } = (await response.json()) as { exchangeId: string };
    const read = await gw.request({ method: 'GET', path: `/v1/exchanges/${exchangeId}` });
    expect(read.status).toBe(200);
    expect(await read.json()).toEqual({
      exchangeId,
      batchId: expect.any(String),
      sequence: 9,
      kind: 'DELTA',
      state: expect.any(String),
      counts: { records: 2, created: 0, changed: 0, unchanged: 0, withdrawn: 0, rejected: 1 },
      rejections: [{ index: 1, key: 'DEAEOF0000000001', pointer: '/AEOExchangeBatch/Operator[2]/Name', code: 'required', message: 'Name is required' }],
      rejectionCount: 1,
      truncated: false,
      rejectionsNext: null,
    });
    const other = await gw.request({ method: 'GET', path: `/v1/exchanges/${exchangeId}`, key: partnerKeys.JP, iss: 'JP' });
    expect(other.status).toBe(404);
    expect((await problem(other)).type).toBe('urn:mra:problem:not-found');
  });

  it('refuses an unsigned read-back: 401 with WWW-Authenticate', async () => {
    const response = await fetch(`${gw.url}/v1/exchanges/${randomUUID()}`);
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe('JWS-Signature');
  });

  it('refuses a suspended partner after a valid signature: 403 partner-suspended', async () => {
    const response = await gw.request({ key: partnerKeys.KR, iss: 'KR', contentType: 'application/json', body: '{}' });
    expect(response.status).toBe(403);
    expect((await problem(response)).type).toBe('urn:mra:problem:partner-suspended');
  });

  it('refuses a body over the partner limit: 413', async () => {
    const big = euDocument({ batchId: `EU-${uniq()}`, sequence: 10, records: 4000 });
    expect(big.length).toBeGreaterThan(1_048_576);
    const response = await gw.request({ body: big });
    expect(response.status).toBe(413);
    expect((await problem(response)).type).toBe('urn:mra:problem:payload-too-large');
  });

  it('refuses a media type that is not the format, a foreign charset, and a content encoding: 415', async () => {
    for (const headers of [{ 'Content-Type': 'application/json' }, { 'Content-Type': 'application/xml; charset=iso-8859-1' }, { 'Content-Type': 'application/xml', 'Content-Encoding': 'gzip' }]) {
      const response = await gw.request({ body: euDocument({ batchId: `EU-${uniq()}`, sequence: 11 }), headers });
      expect(response.status).toBe(415);
      expect((await problem(response)).type).toBe('urn:mra:problem:unsupported-media-type');
    }
    const upper = await gw.request({ body: euDocument({ batchId: `EU-${uniq()}`, sequence: 12, kind: 'DELTA' }), headers: { 'Content-Type': 'Application/XML; charset="UTF-8"' } });
    expect(upper.status).toBe(202);
  });

  it('refuses a body changed after signing: 401 signature-invalid', async () => {
    const body = euDocument({ batchId: `EU-${uniq()}`, sequence: 13 });
    const response = await gw.request({ body, sentBody: body.replace('Operator 0', 'Operator O') });
    expect(response.status).toBe(401);
    expect((await problem(response)).type).toBe('urn:mra:problem:signature-invalid');
  });

  it('signs with every algorithm the partner is allowed: ES256, EdDSA, PS256', async () => {
    for (const [i, key] of [partnerKeys.EU, partnerKeys.EUEd25519, partnerKeys.EUPs256].entries()) {
      const response = await gw.request({ key, body: euDocument({ batchId: `EU-${uniq()}`, sequence: 20 + i, kind: 'DELTA' }) });
      expect(response.status).toBe(202);
    }
  });

  it('answers an unknown path with a problem document', async () => {
    const response = await fetch(`${gw.url}/v2/nothing`);
    expect(response.status).toBe(404);
    expect((await problem(response)).type).toBe('urn:mra:problem:not-found');
  });
});

// The EU partner of test/support/gateway.ts, with a limit that admits several pieces.
const { partner } = JSON.parse(readFileSync(new URL('../../../shared/spec/vectors/partner.json', import.meta.url), 'utf8')) as { partner: { keys: { jwks: unknown } } };

describe('a multi-piece body over HTTP', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    const eu = { id: 'EU', name: 'European Union', programme: 'EU-AEO', format: 'eu-aeo', mra: { signed: '2012-05-04', scope: ['AEOS', 'AEOF'], benefits: ['reduced-examinations'] }, keys: { algorithms: ['ES256', 'EdDSA', 'PS256'], jwks: partner.keys.jwks }, limits: { maxBodyBytes: 8 * BODY_PIECE_BYTES, requestsPerMinute: 600 } };
    // No workers: the stored body is looked at as intake left it.
    gw = await startTestGateway({ store: 'PostgreSQL', partners: { eu }, workers: false });
  });
  afterAll(async () => {
    await gw?.close();
  });

  it('accepts many concurrent DELTAs of one partner as if one after the other (group commit)', async () => {
    expect((await gw.request({ body: euDocument({ batchId: 'EU-GROUP-1', sequence: 1 }) })).status).toBe(202);
    // Sent at once, the highest sequence first: most wait held until the run reaches them.
    const sequences = Array.from({ length: 16 }, (_, i) => 17 - i);
    const responses = await Promise.all(sequences.map((sequence) => gw.request({ body: euDocument({ batchId: `EU-GROUP-${sequence}`, sequence, kind: 'DELTA' }) })));
    expect(responses.map((r) => r.status)).toEqual(sequences.map(() => 202));
    const receipts = await Promise.all(responses.map(async (r) => JSON.parse(Buffer.from(((await r.json()) as { receipt: string }).receipt.split('.')[1]!, 'base64url').toString('utf8')) as { sequence: number; disposition: string }));
    expect(receipts.map((c) => c.sequence)).toEqual(sequences);
    for (const c of receipts) expect(['accepted', 'held']).toContain(c.disposition);

    const { rows: state } = await gw.gateway.db.query<{ run_end: number }>("select run_end from partner_state where partner = 'EU'");
    expect(state[0]!.run_end).toBe(17);
    const { rows } = await gw.gateway.db.query<{ sequence: number; state: string }>("select sequence, state from exchanges where batch_id like 'EU-GROUP-%' order by sequence");
    expect(rows).toEqual(Array.from({ length: 17 }, (_, i) => ({ sequence: i + 1, state: 'received' })));
    // Each one queued once, to be applied in order.
    const { rows: jobs } = await gw.gateway.db.query<{ n: number }>("select count(distinct job_id)::int as n from outbox where job = 'apply-batch'");
    expect(jobs[0]!.n).toBe(17);
  });

  it('stores the body byte for byte in more than one piece, and the receipt carries its digest', async () => {
    const body = Buffer.from(euDocument({ batchId: 'EU-LARGE-1', sequence: 1, records: 9_000 }));
    expect(body.length).toBeGreaterThan(2 * BODY_PIECE_BYTES);
    const response = await gw.request({ body });
    expect(response.status).toBe(202);
    const { exchangeId, receipt } = (await response.json()) as { exchangeId: string; receipt: string };
    const claims = JSON.parse(Buffer.from(receipt.split('.')[1]!, 'base64url').toString('utf8')) as { digest: string };
    expect(claims.digest).toBe(bodyDigest(body));

    const { rows } = await gw.gateway.db.query<{ n: number }>('select count(*)::int as n from exchange_body_pieces where exchange_id = $1', [exchangeId]);
    expect(rows[0]!.n).toBeGreaterThanOrEqual(2);
    const pieces: Buffer[] = [];
    for await (const piece of (await exchangeBodyPieces(gw.gateway.db, exchangeId, BODY_PIECE_BYTES))!) pieces.push(piece);
    expect(Buffer.concat(pieces).equals(body)).toBe(true);
    expect(bodyDigest(Buffer.concat(pieces))).toBe(claims.digest);
    expect((await exchangeDocument(gw.gateway.db, exchangeId))!.body!.equals(body)).toBe(true);
  });

  it("stores a large body's whole pieces while it arrives: the exchange row holds none of it, the pieces follow on from 1", async () => {
    const body = Buffer.from(euDocument({ batchId: 'EU-LARGE-2', sequence: 2, kind: 'DELTA', records: 9_000 }));
    const response = await gw.request({ body });
    expect(response.status).toBe(202);
    const { exchangeId } = (await response.json()) as { exchangeId: string };
    const { rows } = await gw.gateway.db.query<{ row: number; pieces: number[] }>(
      'select octet_length(body) as row, array(select piece from exchange_body_pieces p where p.exchange_id = e.id order by piece) as pieces from exchanges e where id = $1',
      [exchangeId],
    );
    expect(rows[0]).toEqual({ row: 0, pieces: Array.from({ length: Math.ceil(body.length / BODY_PIECE_BYTES) }, (_, i) => i + 1) });
    expect((await exchangeDocument(gw.gateway.db, exchangeId))!.body!.equals(body)).toBe(true);
  });

  /** Pieces stored for a body that is no exchange, once the request's clean-up (after its answer) is done. */
  async function orphanPieces(): Promise<number> {
    const count = async () => (await gw.gateway.db.query<{ n: number }>('select count(*)::int as n from exchange_body_pieces p where not exists (select 1 from exchanges e where e.id = p.exchange_id)')).rows[0]!.n;
    for (let waited = 0; waited < 5_000 && (await count()) > 0; waited += 50) await new Promise((r) => setTimeout(r, 50));
    return count();
  }

  it('a large body refused after it arrived leaves no piece: a signature that fails, a document that is not valid, a retry', async () => {
    const body = euDocument({ batchId: 'EU-LARGE-3', sequence: 3, kind: 'DELTA', records: 9_000 });
    expect(Buffer.byteLength(body)).toBeGreaterThan(2 * BODY_PIECE_BYTES);
    const forged = await gw.request({ body, sentBody: body.replace('Operator 8999 GmbH', 'Operator 8998 GmbH') });
    expect((await problem(forged)).type).toBe('urn:mra:problem:signature-invalid');
    expect(await orphanPieces()).toBe(0);

    const invalid = await gw.request({ body: body.replace('recordCount="9000"', 'recordCount="9001"') });
    expect(invalid.status).toBe(422);
    expect(await orphanPieces()).toBe(0);

    const jti = randomUUID();
    const first = await gw.request({ body, jti });
    expect(first.status).toBe(202);
    const again = await gw.request({ body, jti });
    expect(again.status).toBe(200);
    const { exchangeId } = (await first.json()) as { exchangeId: string };
    expect(((await again.json()) as { exchangeId: string }).exchangeId).toBe(exchangeId);
    expect(await orphanPieces()).toBe(0);
    expect((await exchangeDocument(gw.gateway.db, exchangeId))!.body!.equals(Buffer.from(body))).toBe(true);
  });
});
