/**
 * Status answers are kept until what they say changes (issue 10): the same assertion is
 * served again while nothing changed, and an applied batch, committed in another
 * transaction, is seen at the next look-up (the store's notification), for a kept hit
 * and a kept miss alike. And a look-up that finds nothing reads the store as one that
 * finds its subject does (issue 11): the same queries, a real record read for a stand-in.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Queryable } from '../../src/store/db.ts';
import { statusLookup } from '../../src/status/status-lookup.ts';
import { euBatch, euKey, sendAndWait } from '../support/eu-operators.ts';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';

let gw: TestGateway;
const operator = { n: 1, effective: '2021-03-01' };
const later = { n: 2, effective: '2022-01-01' };

const status = async (key: string) => {
  const answer = await fetch(`${gw.url}/v1/status/eu-aeo/${key}`);
  return { code: answer.status, body: answer.status === 200 ? ((await answer.json()) as { subject: { status: string }; assertion: string }) : undefined };
};
/** Asks until the answer satisfies `done` (the notification arrives just after the commit). */
async function until(key: string, done: (a: Awaited<ReturnType<typeof status>>) => boolean) {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const answer = await status(key);
    if (done(answer) || Date.now() > deadline) return answer;
    await new Promise((r) => setTimeout(r, 50));
  }
}

beforeAll(async () => {
  gw = await startTestGateway({ store: 'PostgreSQL' });
  await sendAndWait(gw, euBatch({ batchId: 'C1', sequence: 1, kind: 'SNAPSHOT', operators: [operator] }));
});
afterAll(async () => {
  await gw?.close();
});

describe('the status answer cache', () => {
  it('serves the same signed answer while nothing changed (a new signature would differ: ES256 signs with a random nonce)', async () => {
    const first = await until(euKey(operator), (a) => a.code === 200);
    const second = await status(euKey(operator));
    expect(second.body?.assertion).toBe(first.body?.assertion);
  });

  it('a batch applied since is seen at once, for a kept hit and a kept miss', async () => {
    expect((await status(euKey(later))).code).toBe(404);
    expect((await status(euKey(later))).code).toBe(404);
    await sendAndWait(gw, euBatch({ batchId: 'C2', sequence: 2, kind: 'DELTA', operators: [{ ...operator, status: 'SUSPENDED', effective: '2026-06-01' }, later] }));
    expect((await until(euKey(operator), (a) => a.body?.subject.status === 'suspended')).body?.subject.status).toBe('suspended');
    expect((await until(euKey(later), (a) => a.code === 200)).code).toBe(200);
  });
});

describe('a status miss reads the store as a hit does', () => {
  /** A lookup over the gateway's store that notes every query it sends and how many rows came back. */
  function counted() {
    const sent: { params: readonly unknown[]; rows: number }[] = [];
    const q: Queryable = {
      async query(sql, params = []) {
        const result = await gw.gateway.db.query(sql, params);
        sent.push({ params, rows: result.rows.length });
        return result as never;
      },
    };
    const lookup = statusLookup(q, gw.gateway.registry);
    /** The queries one call sends. */
    const queries = async (call: (l: typeof lookup) => Promise<unknown>) => {
      const before = sent.length;
      await call(lookup);
      return sent.slice(before);
    };
    return { lookup, queries };
  }

  it('an unknown identifier makes a hit’s round trips and reads the last record found, as a stand-in', async () => {
    const { lookup, queries } = counted();
    const unknown = euKey({ n: 999 });
    // Nothing found yet: the same round trips all the same.
    const first = await queries((l) => l.byIdentifier('eu-aeo', unknown));
    const hit = await queries((l) => l.byIdentifier('eu-aeo', euKey(operator)));
    expect(first).toHaveLength(hit.length);
    const miss = await queries((l) => l.byIdentifier('eu-aeo', unknown));
    expect(miss.map((m) => m.rows)).toEqual([0, ...hit.slice(1).map((h) => h.rows)]);
    expect(hit.map((h) => h.rows)).toEqual([1, 1]);
    const found = await lookup.byIdentifier('eu-aeo', unknown);
    expect(found.records).toEqual([]);
    expect(found.standIn.map((r) => r.held.key)).toEqual([euKey(operator)]);
  });

  it('an unknown C-TPAT account asks who holds the last member found, as a hit asks of its own', async () => {
    const member = { name: { legal: 'Acme Imports' }, status: { effective: '2020-01-01' } };
    await gw.gateway.db.query("insert into ctpat_members (account, record, status, consent, mids) values ('CT-1000001', $1, 'CERTIFIED', true, '{}') on conflict do nothing", [JSON.stringify(member)]);
    const { lookup, queries } = counted();
    const hit = await queries((l) => l.ctpatMember('CT-1000001'));
    const miss = await queries((l) => l.ctpatMember('CT-1000009'));
    expect(miss.map((m) => m.params)).toEqual([['CT-1000009'], ['CT-1000001']]);
    expect(hit.map((h) => h.params)).toEqual([['CT-1000001'], ['CT-1000001']]);
    expect((await lookup.ctpatMember('CT-1000009')).standIn?.account).toBe('CT-1000001');
  });
});
