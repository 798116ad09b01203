/**
 * Reconciliation end to end: documents sent over HTTP, applied by the workers on a real
 * Redis and PostgreSQL, and the recognitions, benefit feed and discrepancies that result
 * (the rules of issue 4, one scenario each).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { JP_ENTRY, startTestGateway, type TestGateway } from '../support/gateway.ts';
import { jpBatch, jpKey, sendAsJp } from '../support/jp-operators.ts';
import { euBatch, euKey, euMid, feed, openDiscrepancies, recognition, sendAndWait, waitForState } from '../support/eu-operators.ts';

let gw: TestGateway | undefined;
afterEach(async () => {
  await gw?.close();
  gw = undefined;
});
const start = async () => (gw = await startTestGateway({ store: 'PostgreSQL' }));

describe('applying batches', () => {
  it('a first SNAPSHOT recognizes AEOS and AEOF operators from their status date, and never an AEOC one (out of scope)', async () => {
    const g = await start();
    const aeos = { n: 1, type: 'AEOS' as const, effective: '2019-05-01' };
    const aeoc = { n: 2, type: 'AEOC' as const };
    await sendAndWait(g, euBatch({ batchId: 'S1', sequence: 1, kind: 'SNAPSHOT', operators: [aeos, aeoc] }));
    expect(await recognition(g, euKey(aeos))).toEqual({ state: 'recognized', since: '2019-05-01' });
    expect(await recognition(g, euKey(aeoc))).toMatchObject({ state: 'out-of-scope' });
    expect(await feed(g)).toEqual([{ mid: euMid(aeos), record: euKey(aeos), benefit: 'reduced-examinations', change: 'start', effective: '2019-05-01' }]);
  });

  it('a SNAPSHOT that omits an operator withdraws it as of its asOf date, and its benefits end then', async () => {
    const g = await start();
    const a = { n: 1 };
    const b = { n: 2 };
    await sendAndWait(g, euBatch({ batchId: 'S1', sequence: 1, kind: 'SNAPSHOT', operators: [a, b] }));
    await sendAndWait(g, euBatch({ batchId: 'S2', sequence: 2, kind: 'SNAPSHOT', asOf: '2026-12-01T05:00:00+01:00', operators: [a] }));
    expect(await recognition(g, euKey(b))).toEqual({ state: 'withdrawn', since: '2026-12-01' });
    expect(await recognition(g, euKey(a))).toMatchObject({ state: 'recognized' });
    expect((await feed(g)).filter((f) => f.change === 'end')).toEqual([{ mid: euMid(b), record: euKey(b), benefit: 'reduced-examinations', change: 'end', effective: '2026-12-01' }]);
  });

  it('holds a DELTA after a gap, and applies it in order once the gap is filled', async () => {
    const g = await start();
    const a = { n: 1 };
    await sendAndWait(g, euBatch({ batchId: 'S1', sequence: 1, kind: 'SNAPSHOT', operators: [a] }));
    const third = await sendAndWait(g, euBatch({ batchId: 'D3', sequence: 3, kind: 'DELTA', operators: [{ ...a, status: 'REVOKED', effective: '2026-03-03' }] }), 'held');
    expect(await recognition(g, euKey(a))).toMatchObject({ state: 'recognized' });
    await sendAndWait(g, euBatch({ batchId: 'D2', sequence: 2, kind: 'DELTA', operators: [{ ...a, status: 'SUSPENDED', effective: '2026-02-02' }] }));
    await waitForState(g, third.exchangeId, 'applied');
    expect(await recognition(g, euKey(a))).toEqual({ state: 'revoked', since: '2026-03-03' });
    const versions = await g.gateway.db.query<{ sequence: number }>("select sequence::int as sequence from operator_versions where record_key = $1 order by id", [euKey(a)]);
    expect(versions.rows.map((r) => r.sequence)).toEqual([1, 2, 3]);
  });

  it('the same SNAPSHOT sent twice leaves every record unchanged, in the read-back counts and in the version log', async () => {
    const g = await start();
    const operators = [{ n: 1 }, { n: 2, type: 'AEOF' as const }, { n: 3, type: 'AEOC' as const, status: 'SUSPENDED' as const }];
    const first = await sendAndWait(g, euBatch({ batchId: 'S1', sequence: 1, kind: 'SNAPSHOT', operators }));
    // A new batch id and sequence, the same records: the records read back from jsonb have their keys reordered.
    const second = await sendAndWait(g, euBatch({ batchId: 'S2', sequence: 2, kind: 'SNAPSHOT', operators }));
    const counts = async (id: string) => (await g.gateway.db.query<{ counts: Record<string, number> }>('select counts from exchanges where id = $1', [id])).rows[0]!.counts;
    const versions = async (id: string) => (await g.gateway.db.query<{ key: string; change: string }>('select record_key as key, change from operator_versions where exchange_id = $1 order by record_key', [id])).rows;
    expect(await counts(first.exchangeId)).toMatchObject({ created: 3, changed: 0, unchanged: 0, withdrawn: 0 });
    expect((await versions(first.exchangeId)).map((v) => v.change)).toEqual(['created', 'created', 'created']);
    expect(await counts(second.exchangeId)).toMatchObject({ records: 3, created: 0, changed: 0, unchanged: 3, withdrawn: 0, rejected: 0 });
    expect(await versions(second.exchangeId)).toEqual(operators.map((o) => ({ key: euKey(o), change: 'unchanged' })).sort((a, b) => a.key.localeCompare(b.key)));
  });

  it('does not write again an operator a SNAPSHOT says as held: its row, links and identifiers stay, and it is marked last said by the new batch', async () => {
    const g = await start();
    const [a, b] = [{ n: 1 }, { n: 2 }];
    await sendAndWait(g, euBatch({ batchId: 'S1', sequence: 1, kind: 'SNAPSHOT', operators: [a, b] }));
    // A row's xmin is the transaction that wrote this version of it: unchanged unless the row was written again.
    const rowVersions = async () =>
      (
        await g.gateway.db.query<{ key: string; operator: string; links: string; ids: string; digest: string | null; sequence: number; record: { name: { legal: string } } }>(
          `select o.record_key as key, o.xmin::text as operator, o.record_digest as digest, o.last_sequence::int as sequence, o.record,
             (select string_agg(l.xmin::text, ',') from mid_links l where l.record_key = o.record_key) as links,
             (select string_agg(i.xmin::text, ',' order by i.scheme) from operator_identifiers i where i.record_key = o.record_key) as ids
           from operators o order by o.record_key`,
        )
      ).rows;
    const [a1, b1] = await rowVersions();
    expect(a1!.digest).toMatch(/^[\w-]{43}$/);

    const renamed = { ...b, name: '000B 002C Werke', mids: [euMid(b)] };
    const second = await sendAndWait(g, euBatch({ batchId: 'S2', sequence: 2, kind: 'SNAPSHOT', operators: [a, renamed] }));
    const [a2, b2] = await rowVersions();
    // a: said again as held, only marked; its links and identifiers are the same row versions.
    expect({ links: a2!.links, ids: a2!.ids, digest: a2!.digest, record: a2!.record }).toEqual({ links: a1!.links, ids: a1!.ids, digest: a1!.digest, record: a1!.record });
    expect([a2!.sequence, a2!.operator === a1!.operator]).toEqual([2, false]);
    // b: its record changed, so the operator, its links and identifiers are written again.
    expect([b2!.record.name.legal, b2!.digest === b1!.digest, b2!.links === b1!.links, b2!.ids === b1!.ids]).toEqual(['000B 002C Werke', false, false, false]);
    const { rows } = await g.gateway.db.query<{ counts: Record<string, number> }>('select counts from exchanges where id = $1', [second.exchangeId]);
    expect(rows[0]!.counts).toMatchObject({ changed: 1, unchanged: 1 });

    // A row without a digest (written before digests were kept) is compared record to record, and written with one.
    await g.gateway.db.query('update operators set record_digest = null');
    await sendAndWait(g, euBatch({ batchId: 'S3', sequence: 3, kind: 'SNAPSHOT', operators: [a, renamed] }));
    const [a3, b3] = await rowVersions();
    expect([a3!.digest, b3!.digest, a3!.links === a2!.links, a3!.record]).toEqual([a2!.digest, b2!.digest, false, a2!.record]);
  });

  it('accepts a batch below the run as stale and never applies it', async () => {
    const g = await start();
    const a = { n: 1 };
    await sendAndWait(g, euBatch({ batchId: 'S5', sequence: 5, kind: 'SNAPSHOT', operators: [a] }));
    const stale = await g.request({ body: euBatch({ batchId: 'D4', sequence: 4, kind: 'DELTA', operators: [{ ...a, status: 'REVOKED' }] }) });
    expect(stale.status).toBe(202);
    const { exchangeId } = (await stale.json()) as { exchangeId: string };
    // Batches apply in order: once the next one is applied, the stale one has had its turn.
    await sendAndWait(g, euBatch({ batchId: 'D6', sequence: 6, kind: 'DELTA', operators: [{ n: 2 }] }));
    const { rows } = await g.gateway.db.query<{ state: string }>('select state from exchanges where id = $1', [exchangeId]);
    expect(rows[0]!.state).toBe('stale');
    expect(await recognition(g, euKey(a))).toMatchObject({ state: 'recognized' });
  });

  it('withdraws an operator whose consent is withdrawn, from the withdrawal date', async () => {
    const g = await start();
    const a = { n: 1 };
    await sendAndWait(g, euBatch({ batchId: 'S1', sequence: 1, kind: 'SNAPSHOT', operators: [a] }));
    await sendAndWait(g, euBatch({ batchId: 'D2', sequence: 2, kind: 'DELTA', operators: [{ ...a, withdrawnOn: '2026-10-15' }] }));
    expect(await recognition(g, euKey(a))).toEqual({ state: 'withdrawn', since: '2026-10-15' });
    expect((await feed(g)).at(-1)).toMatchObject({ change: 'end', effective: '2026-10-15' });
  });

  it('ends benefits on suspension and starts them again on reinstatement, each on its effective date', async () => {
    const g = await start();
    const a = { n: 1, effective: '2018-01-01' };
    await sendAndWait(g, euBatch({ batchId: 'S1', sequence: 1, kind: 'SNAPSHOT', operators: [a] }));
    await sendAndWait(g, euBatch({ batchId: 'D2', sequence: 2, kind: 'DELTA', operators: [{ ...a, status: 'SUSPENDED', effective: '2026-04-01' }] }));
    expect(await recognition(g, euKey(a))).toEqual({ state: 'suspended', since: '2026-04-01' });
    await sendAndWait(g, euBatch({ batchId: 'D3', sequence: 3, kind: 'DELTA', operators: [{ ...a, status: 'VALID', effective: '2026-06-15' }] }));
    expect(await recognition(g, euKey(a))).toEqual({ state: 'recognized', since: '2026-06-15' });
    expect((await feed(g)).map((f) => [f.change, f.effective])).toEqual([
      ['start', '2018-01-01'],
      ['end', '2026-04-01'],
      ['start', '2026-06-15'],
    ]);
  });

  it('opens a discrepancy for a MID that does not match its construction, and still grants its benefits', async () => {
    const g = await start();
    const a = { n: 1, mids: ['DEWRONG1HAM'] };
    await sendAndWait(g, euBatch({ batchId: 'S1', sequence: 1, kind: 'SNAPSHOT', operators: [a] }));
    expect(await openDiscrepancies(g)).toEqual([{ kind: 'mid-mismatch', key: euKey(a), mid: 'DEWRONG1HAM' }]);
    expect(await feed(g)).toHaveLength(1);
  });

  it('holds the benefits of a MID linked to two operators, and opens a discrepancy', async () => {
    const g = await start();
    const a = { n: 1 };
    const shared = euMid(a);
    await sendAndWait(g, euBatch({ batchId: 'S1', sequence: 1, kind: 'SNAPSHOT', operators: [a] }));
    await sendAndWait(g, euBatch({ batchId: 'D2', sequence: 2, kind: 'DELTA', operators: [{ n: 2, mids: [shared] }] }));
    expect((await openDiscrepancies(g)).filter((d) => d.kind === 'mid-conflict')).toEqual([{ kind: 'mid-conflict', key: euKey({ n: 2 }), mid: shared }]);
    expect((await feed(g)).filter((f) => f.record === euKey({ n: 2 }))).toEqual([]);
  });

  it("a MID linked by operators of two partners is no conflict: each partner's recognition grants it", async () => {
    const g = (gw = await startTestGateway({ store: 'PostgreSQL', partners: { jp: { ...JP_ENTRY, mra: { benefits: ['reduced-examinations'] } } } }));
    const a = { n: 1 };
    const shared = euMid(a);
    await sendAndWait(g, euBatch({ batchId: 'S1', sequence: 1, kind: 'SNAPSHOT', operators: [a] }));
    const response = await sendAsJp(g, jpBatch({ batchId: 'J1', sequence: 1, kind: 'SNAPSHOT', operators: [{ n: 7, effective: '2021-03-04', mids: [shared] }] }));
    expect(response.status).toBe(202);
    await waitForState(g, ((await response.json()) as { exchangeId: string }).exchangeId, 'applied');
    expect((await openDiscrepancies(g)).filter((d) => d.kind === 'mid-conflict')).toEqual([]);
    expect(await feed(g)).toEqual([
      { mid: shared, record: euKey(a), benefit: 'reduced-examinations', change: 'start', effective: '2020-01-01' },
      { mid: shared, record: jpKey({ n: 7 }), benefit: 'reduced-examinations', change: 'start', effective: '2021-03-04' },
    ]);
  });

  it('opens a discrepancy when a REVOKED operator comes back VALID without a new authorisation date', async () => {
    const g = await start();
    const a = { n: 1, authorisedOn: '2015-01-01' };
    await sendAndWait(g, euBatch({ batchId: 'S1', sequence: 1, kind: 'SNAPSHOT', operators: [{ ...a, status: 'REVOKED', effective: '2025-01-01' }] }));
    await sendAndWait(g, euBatch({ batchId: 'D2', sequence: 2, kind: 'DELTA', operators: [{ ...a, status: 'VALID', effective: '2026-01-01' }] }));
    expect(await openDiscrepancies(g)).toContainEqual({ kind: 'revoked-reinstated', key: euKey(a), mid: null });
  });

  it('a batch of several windows is decided as one: a MID shared across windows conflicts, an omission in the middle withdraws', async () => {
    const g = await start();
    // Many of the apply's windows (250 operators each), the shared MID in the first and the last.
    const all = Array.from({ length: 2100 }, (_, i) => ({ n: i + 1 }));
    const [first, middle, last] = [all[0]!, all[999]!, all[2099]!];
    await sendAndWait(g, euBatch({ batchId: 'S1', sequence: 1, kind: 'SNAPSHOT', operators: all }));
    const second = all.filter((o) => o !== middle).map((o) => (o === first ? { ...o, mids: [euMid(first), euMid(last)] } : o));
    const { exchangeId } = await sendAndWait(g, euBatch({ batchId: 'S2', sequence: 2, kind: 'SNAPSHOT', operators: second }));

    const { rows } = await g.gateway.db.query<{ counts: Record<string, number> }>('select counts from exchanges where id = $1', [exchangeId]);
    expect(rows[0]!.counts).toMatchObject({ records: 2099, created: 0, changed: 1, unchanged: 2098, withdrawn: 1, rejected: 0 });
    expect(await recognition(g, euKey(middle))).toMatchObject({ state: 'withdrawn' });
    // The first window's record and the last window's both link the shared MID: both conflicts are found, and its benefit is held.
    expect((await openDiscrepancies(g)).filter((d) => d.kind === 'mid-conflict')).toEqual([
      { kind: 'mid-conflict', key: euKey(first), mid: euMid(last) },
      { kind: 'mid-conflict', key: euKey(last), mid: euMid(last) },
    ]);
    const ends = (await feed(g)).filter((f) => f.change === 'end').map((f) => [f.record, f.mid]);
    expect(ends).toEqual([
      [euKey(middle), euMid(middle)],
      [euKey(last), euMid(last)],
    ]);
    const versions = await g.gateway.db.query<{ key: string }>('select record_key as key from operator_versions where exchange_id = $1 order by id', [exchangeId]);
    expect(versions.rows.map((v) => v.key)).toEqual(all.map(euKey).sort());
  });

  it('a record that links another MID in a later batch no longer links the old one, and is found by the new one only', async () => {
    const g = await start();
    const a = { n: 1 };
    const b = { n: 2 };
    await sendAndWait(g, euBatch({ batchId: 'S1', sequence: 1, kind: 'SNAPSHOT', operators: [a, b] }));
    await sendAndWait(g, euBatch({ batchId: 'D2', sequence: 2, kind: 'DELTA', operators: [{ ...a, mids: [euMid({ n: 3 })] }] }));
    const links = await g.gateway.db.query<{ mid: string; key: string }>('select mid, record_key as key from mid_links order by record_key, mid');
    expect(links.rows).toEqual([
      { mid: euMid({ n: 3 }), key: euKey(a) },
      { mid: euMid(b), key: euKey(b) },
    ]);
    const ids = await g.gateway.db.query<{ n: number }>("select count(*)::int as n from operator_identifiers where record_key = $1", [euKey(a)]);
    expect(ids.rows[0]!.n).toBe(2);
  });

  it('keeps what it held for a record the SNAPSHOT carried but rejected, and opens a discrepancy', async () => {
    const g = await start();
    const a = { n: 1 };
    await sendAndWait(g, euBatch({ batchId: 'S1', sequence: 1, kind: 'SNAPSHOT', operators: [a] }));
    const broken = euBatch({ batchId: 'S2', sequence: 2, kind: 'SNAPSHOT', operators: [{ ...a, status: 'REVOKED' }] }).replace(/<Name>[^<]*<\/Name>/, '');
    await sendAndWait(g, broken);
    expect(await recognition(g, euKey(a))).toMatchObject({ state: 'recognized' });
    expect(await openDiscrepancies(g)).toContainEqual({ kind: 'record-rejected', key: euKey(a), mid: null });
  });
});

describe('decisions', () => {
  it('a MID conflict staff accepted holds that MID no longer: the next batch grants its benefits, and the conflict is not reopened', async () => {
    const g = await start();
    const a = { n: 1 };
    const shared = euMid(a);
    const b = { n: 2, mids: [shared] };
    await sendAndWait(g, euBatch({ batchId: 'S1', sequence: 1, kind: 'SNAPSHOT', operators: [a] }));
    await sendAndWait(g, euBatch({ batchId: 'D2', sequence: 2, kind: 'DELTA', operators: [b] }));
    await g.gateway.db.query("update discrepancies set state = 'accepted', decided_by = 'test', decided_at = now(), decision_reason = 'same group' where kind = 'mid-conflict'");
    await sendAndWait(g, euBatch({ batchId: 'D3', sequence: 3, kind: 'DELTA', operators: [b] }));
    expect((await openDiscrepancies(g)).filter((d) => d.kind === 'mid-conflict')).toEqual([]);
    expect((await feed(g)).filter((f) => f.record === euKey(b))).toEqual([{ mid: shared, record: euKey(b), benefit: 'reduced-examinations', change: 'start', effective: '2020-01-01' }]);
  });
});

describe('C-TPAT members', () => {
  it('opens a discrepancy when a recognized operator links the MID of a suspended C-TPAT member', async () => {
    const g = await start();
    const a = { n: 1 };
    const { importCtpatMembers } = await import('../../src/staff/ctpat-import.ts');
    const { loadFormats } = await import('../../src/translate/load-mappings.ts');
    const member = { accountNumber: 'CT-0099', businessType: 'FOREIGN_MANUFACTURER', legalName: 'Hafen Werke', status: 'SUSPENDED', statusDate: '2026-01-01', consentToShare: true, identifiers: { mids: [euMid(a)], scac: null } };
    const result = await importCtpatMembers(g.gateway.db, loadFormats().get('ctpat')!, Buffer.from(`${JSON.stringify(member)}\n`), 'test', '2026-11-30');
    expect(result).toMatchObject({ imported: 1, rejected: [] });
    await sendAndWait(g, euBatch({ batchId: 'S1', sequence: 1, kind: 'SNAPSHOT', operators: [a] }));
    expect(await openDiscrepancies(g)).toEqual([{ kind: 'ctpat-member-inactive', key: euKey(a), mid: euMid(a) }]);
  });
});
