/**
 * Retention on a whole gateway (real PostgreSQL and Redis): with RETENTION_DAYS set, the
 * raw documents of exchanges applied longer ago than that are removed, chunk by chunk,
 * while digest, signature header and receipt stay (and the receipt still verifies);
 * newer documents and those not applied keep their bodies; unset removes nothing; each
 * run that removed anything is audited; the daily scheduler is registered, and a queued
 * run goes through the worker with the gateway's clock.
 */
import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runRetention } from '../../src/jobs/retention.ts';
import { verifyGatewaySigned } from '../../src/keys/verify-signed.ts';
import { mintDevStaffToken } from '../../src/staff/dev-issuer.ts';
import { insertBodyPiece } from '../../src/store/exchanges.ts';
import type { PublicJwk } from '../../src/registry/partner.ts';
import { fixedClock } from '../support/clock.ts';
import { euBatch, sendAndWait } from '../support/eu-operators.ts';
import { REDIS_URL, startTestGateway, type TestGateway } from '../support/gateway.ts';

const DAY = 86_400_000;
const start = fixedClock()();
let now = start;
const clock = () => now;

let gw: TestGateway;
let staffToken: string;
/** Exchange ids: applied 40 and 20 days ago, applied today, and one held (a gap), received 50 days ago. */
const ids = { old: '', middle: '', fresh: '', held: '' };
const receipts: Record<string, string> = {};

interface Row {
  id: string;
  body: Buffer | null;
  digest: string;
  signature_header: string;
  receipt: string;
  state: string;
  document_removed_at: Date | null;
}
const row = async (id: string) => (await gw.gateway.db.query<Row>('select id, body, digest, signature_header, receipt, state, document_removed_at from exchanges where id = $1', [id])).rows[0]!;
const audits = async () => (await gw.gateway.db.query<{ actor: string; action: string; subject: string; detail: { removed: number; olderThan: string } }>("select actor, action, subject, detail from audit_log where action = 'retention' order by id")).rows;
const deps = (days: number | undefined, chunkSize?: number) => ({ db: gw.gateway.db, clock, days, ...(chunkSize !== undefined && { chunkSize }) });

beforeAll(async () => {
  gw = await startTestGateway({ store: 'PostgreSQL', clock, env: { RETENTION_DAYS: '30', MRAGW_DEV_STAFF: '1' } });
  staffToken = await mintDevStaffToken(gw.dataDir, { subject: 'reviewer.lee', roles: ['reviewer'], ttlSeconds: 600 });
  const op = (n: number) => ({ n, type: 'AEOS' as const });
  for (const [name, sequence] of [['old', 1], ['middle', 2], ['fresh', 3]] as const) {
    const answer = await sendAndWait(gw, euBatch({ batchId: `R${sequence}`, sequence, kind: sequence === 1 ? 'SNAPSHOT' : 'DELTA', operators: [op(sequence)] }));
    ids[name] = answer.exchangeId;
    receipts[name] = answer.receipt;
  }
  // A gap (5 after 3): held, never applied.
  ids.held = (await sendAndWait(gw, euBatch({ batchId: 'R5', sequence: 5, kind: 'DELTA', operators: [op(5)] }), 'held')).exchangeId;
  // Age them: the store's applied_at is set when an exchange becomes applied; tests move it back.
  await gw.gateway.db.query("update exchanges set applied_at = $2::timestamptz - interval '40 days' where id = $1", [ids.old, new Date(start)]);
  await gw.gateway.db.query("update exchanges set applied_at = $2::timestamptz - interval '20 days' where id = $1", [ids.middle, new Date(start)]);
  await gw.gateway.db.query("update exchanges set received_at = $2::timestamptz - interval '50 days' where id = $1", [ids.held, new Date(start)]);
}, 60_000);
afterAll(async () => {
  await gw?.close();
});

describe('retention', () => {
  it('every applied exchange notes when it was applied; none is removed yet', async () => {
    const { rows } = await gw.gateway.db.query<{ id: string; applied: boolean }>('select id, applied_at is not null as applied from exchanges');
    expect(Object.fromEntries(rows.map((r) => [r.id, r.applied]))).toEqual({ [ids.old]: true, [ids.middle]: true, [ids.fresh]: true, [ids.held]: false });
    for (const id of Object.values(ids)) expect((await row(id)).body).not.toBeNull();
  });

  it('unset (keep for ever) removes nothing and audits nothing', async () => {
    expect(await runRetention(deps(undefined))).toEqual({ ran: false, reason: 'keep-forever' });
    for (const id of Object.values(ids)) expect((await row(id)).body).not.toBeNull();
    expect(await audits()).toEqual([]);
  });

  it('unset or not, removes the pieces of bodies that never became an exchange, once a day old', async () => {
    const [crashed, arriving] = [randomUUID(), randomUUID()];
    await insertBodyPiece(gw.gateway.db, crashed, 1, Buffer.from('<AEOExchangeBatch'));
    await insertBodyPiece(gw.gateway.db, arriving, 1, Buffer.from('<AEOExchangeBatch'));
    await gw.gateway.db.query("update exchange_body_pieces set written_at = now() - interval '25 hours' where exchange_id = $1", [crashed]);
    expect(await runRetention(deps(undefined))).toEqual({ ran: false, reason: 'keep-forever' });
    const left = await gw.gateway.db.query<{ id: string }>('select exchange_id as id from exchange_body_pieces where exchange_id = any($1::uuid[])', [[crashed, arriving]]);
    expect(left.rows.map((r) => r.id)).toEqual([arriving]);
    await gw.gateway.db.query('delete from exchange_body_pieces where exchange_id = $1', [arriving]);
  });

  it('removes the body of an exchange applied before the cut, keeping digest, signature header and receipt; the receipt still verifies', async () => {
    const before = await row(ids.old);
    const olderThan = new Date(start - 30 * DAY).toISOString();
    expect(await runRetention(deps(30))).toEqual({ ran: true, removed: 1, olderThan });
    const after = await row(ids.old);
    expect(after.body).toBeNull();
    expect(after.document_removed_at?.getTime()).toBe(start);
    // Staff see that it was removed, and when; the document itself is gone.
    const staffGet = (path: string) => fetch(`${gw.url}${path}`, { headers: { Authorization: `Bearer ${staffToken}` } });
    expect(await (await staffGet(`/v1/exchanges/${ids.old}`)).json()).toMatchObject({ documentBytes: 0, documentRemovedAt: new Date(start).toISOString(), receipt: before.receipt });
    const gone = await staffGet(`/v1/exchanges/${ids.old}/document`);
    expect(gone.status).toBe(404);
    expect(((await gone.json()) as { detail: string }).detail).toMatch(/removed by retention/);
    expect((await staffGet(`/v1/exchanges/${ids.middle}/document`)).status).toBe(200);
    expect({ digest: after.digest, signature: after.signature_header, receipt: after.receipt, state: after.state }).toEqual({ digest: before.digest, signature: before.signature_header, receipt: before.receipt, state: 'applied' });
    // Newer, and never applied (however old), keep theirs.
    for (const id of [ids.middle, ids.fresh, ids.held]) expect((await row(id)).body).not.toBeNull();

    const jwks = (await (await fetch(`${gw.url}/.well-known/jwks.json`)).json()) as { keys: PublicJwk[] };
    const claims = await verifyGatewaySigned(after.receipt, jwks, 'mra-receipt+jwt');
    expect(claims).toMatchObject({ exchangeId: ids.old, digest: after.digest });
    expect(after.receipt).toBe(receipts['old']);

    expect(await audits()).toEqual([{ actor: 'mragw-retention', action: 'retention', subject: 'exchanges', detail: { removed: 1, olderThan } }]);
    // Again: nothing left to remove, and no second entry.
    expect(await runRetention(deps(30))).toEqual({ ran: true, removed: 0, olderThan });
    expect(await audits()).toHaveLength(1);
  });

  it('works in chunks: a run over several chunks removes them all and audits once, with the total', async () => {
    now = start + 15 * DAY; // the middle one is now 35 days past its apply, the fresh one 15
    const olderThan = new Date(now - 10 * DAY).toISOString();
    expect(await runRetention(deps(10, 1))).toEqual({ ran: true, removed: 2, olderThan });
    for (const id of [ids.middle, ids.fresh]) expect((await row(id)).document_removed_at?.getTime()).toBe(now);
    expect((await row(ids.held)).body).not.toBeNull();
    expect((await audits()).at(-1)).toEqual({ actor: 'mragw-retention', action: 'retention', subject: 'exchanges', detail: { removed: 2, olderThan } });
  });

  it('the daily scheduler is registered, and a queued run goes through the worker with the gateway clock and RETENTION_DAYS', async () => {
    const queue = new Queue('retention', { connection: { url: REDIS_URL }, prefix: gw.prefix });
    try {
      expect((await queue.getJobSchedulers()).map((s) => [s.key, s.pattern, s.tz])).toEqual([['retention-daily', '30 3 * * *', 'UTC']]);
      // Bring one document back as if it were still held, applied 31 days before the clock.
      await gw.gateway.db.query("update exchanges set body = 'x'::bytea, document_removed_at = null, applied_at = $2::timestamptz - interval '31 days' where id = $1", [ids.old, new Date(now)]);
      const job = await queue.add('retention', {}, { jobId: 'retention-test' });
      const deadline = Date.now() + 15_000;
      while (!(await job.isCompleted())) {
        if (Date.now() > deadline) throw new Error('the retention job did not complete');
        await new Promise((r) => setTimeout(r, 50));
      }
      expect((await row(ids.old)).body).toBeNull();
      expect((await audits()).at(-1)?.detail).toEqual({ removed: 1, olderThan: new Date(now - 30 * DAY).toISOString() });
    } finally {
      await queue.close();
    }
  });
});
