/**
 * The staff API's roles and lists: each role rule (no token, feed-reader, reviewer,
 * admin), every list paged and filtered, discrepancies with their evidence,
 * recognitions with the §5 rule and batch that decided them, exchanges with their raw
 * documents, partners with their state and key use, and an audit log never rewritten.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintDevStaffToken } from '../../src/staff/dev-issuer.ts';
import { euBatch, euKey, euMid, sendAndWait } from '../support/eu-operators.ts';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';

let gw: TestGateway;
const tokens: Record<'reviewer' | 'admin' | 'feed', string> = { reviewer: '', admin: '', feed: '' };
const recognized = { n: 1, name: 'Elbe Hafen Logistik GmbH', effective: '2021-03-01' };
const mismatched = { n: 2, mids: ['DEWRONG99HAM'] };
const mismatchedToo = { n: 4, mids: ['DEWRONG77HAM'] };
const noConsent = { n: 3, consent: false };
const outOfScope = { n: 5, type: 'AEOC' as const };
const snapshot = euBatch({ batchId: 'S1', sequence: 1, kind: 'SNAPSHOT', operators: [recognized, mismatched, noConsent, mismatchedToo, outOfScope] });
let snapshotExchange: string;

const get = (path: string, token?: string) => fetch(`${gw.url}${path}`, token === undefined ? {} : { headers: { Authorization: `Bearer ${token}` } });
const post = (path: string, token: string, body: unknown = { reason: 'a test' }) =>
  fetch(`${gw.url}${path}`, { method: 'POST', headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
const json = async <T>(response: Response): Promise<T> => {
  expect(response.status, await response.clone().text()).toBe(200);
  return (await response.json()) as T;
};

beforeAll(async () => {
  gw = await startTestGateway({ store: 'PostgreSQL', env: { MRAGW_DEV_STAFF: '1' } });
  tokens.reviewer = await mintDevStaffToken(gw.dataDir, { subject: 'reviewer.kim', roles: ['reviewer'], ttlSeconds: 600 });
  tokens.admin = await mintDevStaffToken(gw.dataDir, { subject: 'admin.ortiz', roles: ['admin'], ttlSeconds: 600 });
  tokens.feed = await mintDevStaffToken(gw.dataDir, { subject: 'targeting', roles: ['feed-reader'], ttlSeconds: 600 });
  snapshotExchange = (await sendAndWait(gw, snapshot)).exchangeId;
});
afterAll(async () => {
  await gw?.close();
});

const lists = ['/v1/partners', '/v1/exchanges', '/v1/recognitions', '/v1/discrepancies', '/v1/audit', '/v1/deliveries'];

describe('roles', () => {
  it('no token means no staff data', async () => {
    for (const path of [...lists, '/v1/benefits/changes', `/v1/exchanges/${snapshotExchange}/document`]) {
      const answer = await get(path);
      expect(answer.status, path).toBe(401);
      expect(answer.headers.get('content-type')).toContain('application/problem+json');
    }
  });

  it('a feed-reader reads the feed and nothing else', async () => {
    expect((await get('/v1/benefits/changes', tokens.feed)).status).toBe(200);
    for (const path of [...lists, `/v1/exchanges/${snapshotExchange}`, `/v1/status/eu-aeo/${euKey(noConsent)}`]) expect((await get(path, tokens.feed)).status, path).toBe(403);
    expect((await post('/v1/discrepancies/1/decision', tokens.feed, { decision: 'dismissed', reason: 'x' })).status).toBe(403);
  });

  it('a reviewer reads everything but cannot do admin actions', async () => {
    for (const path of [...lists, '/v1/benefits/changes']) expect((await get(path, tokens.reviewer)).status, path).toBe(200);
    const refused = [
      await post('/v1/deliveries/00000000-0000-4000-8000-000000000000/replay', tokens.reviewer),
      await post('/v1/deliveries/00000000-0000-4000-8000-000000000000/skip', tokens.reviewer),
      await post('/v1/partners/EU/snapshot', tokens.reviewer),
      await post(`/v1/exchanges/${snapshotExchange}/release`, tokens.reviewer),
      await fetch(`${gw.url}/v1/ctpat/members`, { method: 'POST', headers: { Authorization: `Bearer ${tokens.reviewer}`, 'Content-Type': 'text/csv' }, body: 'x' }),
    ];
    for (const answer of refused) {
      expect(answer.status).toBe(403);
      expect(((await answer.json()) as { detail: string }).detail).toMatch(/admin/);
    }
  });

  it('an admin may do them (here: not found or conflict, past the role check)', async () => {
    expect((await post('/v1/deliveries/00000000-0000-4000-8000-000000000000/replay', tokens.admin)).status).toBe(404);
    expect((await post(`/v1/exchanges/${snapshotExchange}/release`, tokens.admin)).status).toBe(409);
  });
});

describe('discrepancies', () => {
  it('filter by kind and partner, page with a cursor, and carry their evidence with the MID construction', async () => {
    const first = await json<{ discrepancies: { id: number; kind: string; mid: string }[]; next: string | null }>(await get('/v1/discrepancies?kind=mid-mismatch&partner=EU&limit=1', tokens.reviewer));
    expect(first.discrepancies).toHaveLength(1);
    expect(first.next).not.toBeNull();
    const second = await json<{ discrepancies: { id: number; kind: string; mid: string }[]; next: string | null }>(await get(`/v1/discrepancies?kind=mid-mismatch&partner=EU&limit=1&cursor=${first.next}`, tokens.reviewer));
    expect(second.discrepancies[0]!.id).toBeGreaterThan(first.discrepancies[0]!.id);
    expect([...first.discrepancies, ...second.discrepancies].map((d) => d.mid).sort()).toEqual(['DEWRONG77HAM', 'DEWRONG99HAM']);
    expect((await json<{ discrepancies: unknown[] }>(await get('/v1/discrepancies?partner=JP', tokens.reviewer))).discrepancies).toEqual([]);
    expect((await get('/v1/discrepancies?cursor=not-a-cursor', tokens.reviewer)).status).toBe(400);

    const one = first.discrepancies[0]!;
    const detail = await json<{ evidence: { record: { key: string }; mid: { given: string; expected: string; matches: boolean; expectedParts: Record<string, string>; givenParts: Record<string, string> } } }>(await get(`/v1/discrepancies/${one.id}`, tokens.reviewer));
    expect(detail.evidence.record.key).toBe(one.mid === 'DEWRONG99HAM' ? euKey(mismatched) : euKey(mismatchedToo));
    expect(detail.evidence.mid).toMatchObject({ given: one.mid, matches: false });
    const { expectedParts, givenParts } = detail.evidence.mid;
    expect(Object.values(expectedParts).join('')).toBe(detail.evidence.mid.expected);
    expect(Object.values(givenParts).join('')).toBe(one.mid);
    expect(expectedParts['name']).not.toBe(givenParts['name']);
    expect((await get('/v1/discrepancies/999999', tokens.reviewer)).status).toBe(404);
  });
});

describe('recognitions', () => {
  it('carry the §5 rule and the batch that decided each, filtered by state, MID and operator', async () => {
    type Page = { recognitions: { key: string; state: string; rule: { id: string; text: string }; batch: { batchId: string; sequence: number; exchangeId: string }; benefits: unknown[]; mids: string[] }[] };
    const all = await json<Page>(await get('/v1/recognitions?partner=EU', tokens.reviewer));
    const byKey = new Map(all.recognitions.map((r) => [r.key, r]));
    expect(byKey.get(euKey(recognized))).toMatchObject({ state: 'recognized', rule: { id: 'recognized' }, batch: { batchId: 'S1', sequence: 1, exchangeId: snapshotExchange } });
    expect(byKey.get(euKey(recognized))!.benefits.length).toBeGreaterThan(0);
    expect(byKey.get(euKey(noConsent))).toMatchObject({ state: 'withdrawn', rule: { id: 'consent-withdrawn' } });
    expect(byKey.get(euKey(outOfScope))).toMatchObject({ state: 'out-of-scope', rule: { id: 'outside-scope' } });
    expect(byKey.get(euKey(outOfScope))!.rule.text).toMatch(/AEOC.*AEOS, AEOF/);

    const recognizedOnly = await json<Page>(await get('/v1/recognitions?state=recognized', tokens.reviewer));
    expect(recognizedOnly.recognitions.every((r) => r.state === 'recognized')).toBe(true);
    const byMid = await json<Page>(await get(`/v1/recognitions?mid=${euMid(recognized)}`, tokens.reviewer));
    expect(byMid.recognitions.map((r) => r.key)).toEqual([euKey(recognized)]);
    const byEori = await json<Page>(await get('/v1/recognitions?operator=DE000000000001', tokens.reviewer));
    expect(byEori.recognitions.map((r) => r.key)).toEqual([euKey(recognized)]);

    const first = await json<Page & { next: string }>(await get('/v1/recognitions?partner=EU&limit=2', tokens.reviewer));
    const rest = await json<Page & { next: string | null }>(await get(`/v1/recognitions?partner=EU&limit=10&cursor=${first.next}`, tokens.reviewer));
    expect([...first.recognitions, ...rest.recognitions].map((r) => r.key)).toEqual(all.recognitions.map((r) => r.key));
    expect(rest.next).toBeNull();
  });
});

describe('exchanges', () => {
  it('are searched by partner, state and date, with the raw document, signature header and receipt', async () => {
    type Page = { exchanges: { exchangeId: string; partner: string; state: string }[]; next: string | null };
    const found = await json<Page>(await get('/v1/exchanges?partner=EU&state=applied', tokens.reviewer));
    expect(found.exchanges.map((e) => e.exchangeId)).toContain(snapshotExchange);
    expect((await json<Page>(await get('/v1/exchanges?partner=JP', tokens.reviewer))).exchanges).toEqual([]);
    expect((await json<Page>(await get('/v1/exchanges?to=2000-01-01', tokens.reviewer))).exchanges).toEqual([]);
    expect((await json<Page>(await get(`/v1/exchanges?from=${new Date(Date.now() - 3_600_000).toISOString()}`, tokens.reviewer))).exchanges.length).toBeGreaterThan(0);
    expect((await get('/v1/exchanges?from=yesterday', tokens.reviewer)).status).toBe(400);

    const view = await json<{ signatureHeader: string; receipt: string; signingKid: string; digest: string; batchId: string }>(await get(`/v1/exchanges/${snapshotExchange}`, tokens.reviewer));
    expect(view).toMatchObject({ batchId: 'S1', signingKid: 'eu-vector-es256' });
    expect(view.signatureHeader).toMatch(/^[\w-]+\.\.[\w-]+$/);
    expect(view.receipt.split('.')).toHaveLength(3);
    const document = await get(`/v1/exchanges/${snapshotExchange}/document`, tokens.reviewer);
    expect(document.headers.get('content-disposition')).toContain('attachment');
    expect(await document.text()).toBe(snapshot);
  });
});

describe('partners', () => {
  it('show sequences, held batches, deliveries, open discrepancies and the use of each key', async () => {
    const { partners } = await json<{ partners: { id: string; inbound: { lastSequence: number; heldBatches: number }; outbound: unknown; openDiscrepancies: number; keys: { kid: string; lastUsedAt: string | null }[] }[] }>(await get('/v1/partners', tokens.reviewer));
    expect(partners.map((p) => p.id)).toEqual(['EU', 'JP', 'KR']);
    const eu = partners[0]!;
    expect(eu.inbound).toMatchObject({ lastSequence: 1, heldBatches: 0 });
    expect(eu.outbound).toBeNull();
    expect(eu.openDiscrepancies).toBeGreaterThan(0);
    expect(eu.keys.find((k) => k.kid === 'eu-vector-es256')?.lastUsedAt).not.toBeNull();
    expect(eu.keys.find((k) => k.kid === 'eu-vector-ps256')?.lastUsedAt).toBeNull();
    const page = await json<{ partners: { id: string }[]; next: string }>(await get('/v1/partners?limit=2', tokens.reviewer));
    expect((await json<{ partners: { id: string }[] }>(await get(`/v1/partners?cursor=${page.next}`, tokens.reviewer))).partners.map((p) => p.id)).toEqual(['KR']);
  });
});

describe('the audit log', () => {
  it('records each decision with who, what, why and the object, newest first, filtered; and is never rewritten', async () => {
    const { discrepancies } = await json<{ discrepancies: { id: number }[] }>(await get('/v1/discrepancies?kind=mid-mismatch', tokens.reviewer));
    const id = discrepancies[0]!.id;
    expect((await post(`/v1/discrepancies/${id}/decision`, tokens.reviewer, { decision: 'dismissed', reason: 'the MID predates the move' })).status).toBe(200);
    const { entries } = await json<{ entries: { actor: string; action: string; subject: string; detail: { reason: string }; at: string }[] }>(await get('/v1/audit?actor=reviewer.kim', tokens.admin));
    expect(entries[0]).toMatchObject({ actor: 'reviewer.kim', action: 'discrepancy-dismissed', subject: `discrepancy:${id}`, detail: { reason: 'the MID predates the move' } });
    expect((await json<{ entries: unknown[] }>(await get('/v1/audit?action=release-held-batch', tokens.admin))).entries).toEqual([]);

    await expect(gw.gateway.db.query("update audit_log set actor = 'someone else'")).rejects.toThrow(/append-only/);
    await expect(gw.gateway.db.query('delete from audit_log')).rejects.toThrow(/append-only/);
    await expect(gw.gateway.db.query('truncate audit_log')).rejects.toThrow(/append-only/);
    expect((await json<{ entries: unknown[] }>(await get('/v1/audit?actor=reviewer.kim', tokens.admin))).entries).toHaveLength(1);
  });
});
