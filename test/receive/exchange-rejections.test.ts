/**
 * Issue 11 over real HTTP: the rejections of `GET /v1/exchanges/{id}` are bounded when
 * stored, paged when read, and the answer says how many faults there are in all. Before,
 * one 890 KB record with 100,000 unknown elements made a 16.9 MB answer.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_STORED_REJECTIONS } from '../../src/intake/rejections.ts';
import { mintDevStaffToken } from '../../src/staff/dev-issuer.ts';
import { MAX_FAULTS_PER_RECORD } from '../../src/translate/read-document.ts';
import { euDocument, startTestGateway, type TestGateway } from '../support/gateway.ts';

interface ReadBack {
  counts: { records: number; rejected: number };
  rejections: { index: number; key: string | null; pointer: string; code: string; message: string }[];
  rejectionCount: number;
  truncated: boolean;
  rejectionsNext: string | null;
}

let gw: TestGateway;
beforeAll(async () => {
  // Workers off: the exchange stays as intake stored it. Dev staff tokens for the staff view.
  gw = await startTestGateway({ store: 'PostgreSQL', env: { MRAGW_DEV_STAFF: '1' }, workers: false });
});
afterAll(async () => {
  await gw?.close();
});

/** Unknown elements in a record: one fault each. */
const unknown = (n: number, tag = 'Unknown') => Array.from({ length: n }, (_, i) => `<${tag}${i}>x</${tag}${i}>`).join('');

/**
 * 500 records: the first with 5,000 unknown elements, then 400 with 3 each, then 99
 * that read well. 5,000 + 1,200 faults in all, of 401 rejected records.
 */
function faultyDocument(): string {
  let n = 0;
  return euDocument({ batchId: `EU-${randomUUID().slice(0, 8)}`, sequence: 1, kind: 'DELTA', records: 500 }).replace(/<\/Operator>/g, (end) => {
    const i = n++;
    if (i === 0) return `${unknown(5000)}${end}`;
    if (i <= 400) return `${unknown(3, 'Extra')}${end}`;
    return end;
  });
}

async function readBack(exchangeId: string, query = ''): Promise<{ status: number; size: number; body: ReadBack }> {
  const response = await gw.request({ method: 'GET', path: `/v1/exchanges/${exchangeId}${query}` });
  const text = await response.text();
  return { status: response.status, size: Buffer.byteLength(text), body: JSON.parse(text) as ReadBack };
}

describe('the rejections of an exchange', () => {
  let exchangeId: string;
  beforeAll(async () => {
    const response = await gw.request({ body: faultyDocument() });
    expect(response.status).toBe(202);
    ({ exchangeId } = (await response.json()) as { exchangeId: string });
  });

  it('answers a first page of 100, bounded in size, with the true counts', async () => {
    const { status, size, body } = await readBack(exchangeId);
    expect(status).toBe(200);
    expect(size).toBeLessThan(32 * 1024);
    expect(body.counts).toMatchObject({ records: 500, rejected: 401 });
    expect(body.rejectionCount).toBe(6200);
    expect(body.truncated).toBe(true);
    expect(body.rejections).toHaveLength(100);
    // The record with 5,000 faults gives only its first MAX_FAULTS_PER_RECORD; the next record's follow.
    expect(body.rejections.filter((r) => r.index === 0)).toHaveLength(MAX_FAULTS_PER_RECORD);
    expect(body.rejections[0]).toEqual({ index: 0, key: 'DEAEOF0000000000', pointer: '/AEOExchangeBatch/Operator[1]/Unknown0', code: 'unknown-field', message: expect.any(String) });
    expect(body.rejections[MAX_FAULTS_PER_RECORD]).toMatchObject({ index: 1, pointer: '/AEOExchangeBatch/Operator[2]/Extra0' });
    expect(body.rejectionsNext).toEqual(expect.any(String));
  });

  it('pages through the stored faults, each once and in order, and ends at the cap', async () => {
    const seen: ReadBack['rejections'] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = `?rejectionsLimit=300${cursor === null ? '' : `&rejectionsCursor=${cursor}`}`;
      const { status, size, body } = await readBack(exchangeId, query);
      expect(status).toBe(200);
      expect(size).toBeLessThan(100 * 1024);
      expect(body.rejectionCount).toBe(6200);
      seen.push(...body.rejections);
      cursor = body.rejectionsNext;
      pages++;
    } while (cursor !== null && pages < 10);
    expect(cursor).toBeNull();
    expect(pages).toBe(4);
    expect(seen).toHaveLength(MAX_STORED_REJECTIONS);
    expect(new Set(seen.map((r) => r.pointer)).size).toBe(MAX_STORED_REJECTIONS);
    expect(seen.map((r) => r.index)).toEqual([...seen.map((r) => r.index)].sort((a, b) => a - b));
    // 20 of the first record, then 3 of each next: the 1,000th is the 327th record's second.
    expect(seen.at(-1)).toMatchObject({ index: 327, pointer: '/AEOExchangeBatch/Operator[328]/Extra1' });
  });

  it('refuses a bad limit or cursor with a 400 problem', async () => {
    for (const query of ['?rejectionsLimit=0', '?rejectionsLimit=1001', '?rejectionsLimit=ten', '?rejectionsCursor=not-a-cursor', `?rejectionsCursor=${Buffer.from('"x"').toString('base64url')}`]) {
      const response = await gw.request({ method: 'GET', path: `/v1/exchanges/${exchangeId}${query}` });
      expect(response.status, query).toBe(400);
      expect(response.headers.get('content-type'), query).toMatch(/^application\/problem\+json/);
      expect(((await response.json()) as { type: string }).type, query).toBe('urn:mra:problem:bad-request');
    }
  });

  it('gives staff the same pages of the same bounded list', async () => {
    const token = await mintDevStaffToken(gw.dataDir, { subject: 'officer.jones', roles: ['admin'], ttlSeconds: 600 });
    const response = await fetch(`${gw.url}/v1/exchanges/${exchangeId}?rejectionsLimit=1000`, { headers: { Authorization: `Bearer ${token}` } });
    expect(response.status).toBe(200);
    const body = (await response.json()) as ReadBack;
    expect(body.rejections).toHaveLength(MAX_STORED_REJECTIONS);
    expect(body).toMatchObject({ rejectionCount: 6200, truncated: true, rejectionsNext: null });
  });
});
