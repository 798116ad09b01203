/**
 * A batch the store refuses for its data must never become a poison job (issue 11,
 * defect 3): the apply fails at once, without retries, the exchange is failed, staff
 * get a discrepancy saying why, and the partner's next batch waits behind it.
 * The refusal is a real one from PostgreSQL: a trigger on the test database raises a
 * data exception (SQLSTATE 22P05, what text PostgreSQL cannot hold raises) for one key.
 */
import { Queue } from 'bullmq';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { Workers } from '../../src/queue/workers.ts';
import { loadFormats } from '../../src/translate/load-mappings.ts';
import { euBatch, euKey, waitForState } from '../support/eu-operators.ts';
import { REDIS_URL, startTestGateway, type TestGateway } from '../support/gateway.ts';

let gw: TestGateway | undefined;
afterEach(async () => {
  await gw?.close();
  gw = undefined;
});

async function accept(g: TestGateway, body: string): Promise<string> {
  const response = await g.request({ body });
  expect(response.status).toBe(202);
  return ((await response.json()) as { exchangeId: string }).exchangeId;
}

/** Makes PostgreSQL refuse, as a data exception or as a passing fault, any write of operator `key`. */
async function refuseWritesOf(g: TestGateway, key: string, errcode: string): Promise<void> {
  await g.gateway.db.query(`create or replace function refuse_operator() returns trigger language plpgsql as $$
    begin
      if new.record_key = '${key}' then raise exception 'refused for the test' using errcode = '${errcode}'; end if;
      return new;
    end $$`);
  await g.gateway.db.query('create trigger refuse_operator before insert or update on operators for each row execute function refuse_operator()');
}

describe('an apply the store refuses for its data', () => {
  it('fails at once, without retries: the exchange is failed, staff see why, and the next batch waits', async () => {
    const g = (gw = await startTestGateway({ store: 'PostgreSQL', workers: false }));
    const poison = { n: 2 };
    await refuseWritesOf(g, euKey(poison), '22P05');
    const first = await accept(g, euBatch({ batchId: 'S1', sequence: 1, kind: 'SNAPSHOT', operators: [{ n: 1 }, poison] }));
    const second = await accept(g, euBatch({ batchId: 'D2', sequence: 2, kind: 'DELTA', operators: [{ n: 1, status: 'SUSPENDED', effective: '2026-02-02' }] }));

    const workers = new Workers(REDIS_URL, g.prefix, { apply: { db: g.gateway.db, formats: loadFormats(), partner: (id) => g.gateway.registry.partner(id) } }, pino({ level: 'silent' }));
    const queue = new Queue('apply-EU', { connection: { url: REDIS_URL }, prefix: g.prefix });
    try {
      workers.ensure(['EU']);
      await g.gateway.relay.drain();
      await waitForState(g, first, 'failed');
      const job = await queue.getJob(`apply-${first}`);
      expect(job?.attemptsMade).toBe(1);
      expect(job?.failedReason).toMatch(/^the store refused the data \(22P05\)/);

      const { rows } = await g.gateway.db.query<{ kind: string; partner: string; detail: { sequence: number; reason: string }; opened_exchange: string }>(
        "select kind, partner, detail, opened_exchange::text from discrepancies where kind = 'apply-failed'",
      );
      expect(rows).toEqual([{ kind: 'apply-failed', partner: 'EU', detail: expect.objectContaining({ sequence: 1, reason: expect.stringContaining('22P05') }), opened_exchange: first }]);
      // Nothing of the failed batch was written, and the DELTA after it waits for staff.
      expect((await g.gateway.db.query('select 1 from operators')).rows).toEqual([]);
      const later = await g.gateway.db.query<{ state: string }>('select state from exchanges where id = $1', [second]);
      expect(later.rows[0]?.state).toBe('received');
    } finally {
      await workers.close();
      await queue.obliterate({ force: true }).catch(() => {});
      await queue.close();
    }
  });

  it('a passing fault (a serialization failure) is tried again, and applies once it passes', async () => {
    const g = (gw = await startTestGateway({ store: 'PostgreSQL', workers: false }));
    const flaky = { n: 3 };
    await refuseWritesOf(g, euKey(flaky), '40001');
    const id = await accept(g, euBatch({ batchId: 'S1', sequence: 1, kind: 'SNAPSHOT', operators: [flaky] }));
    const workers = new Workers(REDIS_URL, g.prefix, { apply: { db: g.gateway.db, formats: loadFormats(), partner: (p) => g.gateway.registry.partner(p) } }, pino({ level: 'silent' }));
    const queue = new Queue('apply-EU', { connection: { url: REDIS_URL }, prefix: g.prefix });
    try {
      workers.ensure(['EU']);
      await g.gateway.relay.drain();
      // The first attempt fails; the fault passes before the retry (1 s backoff).
      for (let i = 0; i < 100 && !(await queue.getJob(`apply-${id}`))?.attemptsMade; i++) await new Promise((r) => setTimeout(r, 50));
      await g.gateway.db.query('drop trigger refuse_operator on operators');
      await waitForState(g, id, 'applied');
      expect((await queue.getJob(`apply-${id}`))?.attemptsMade).toBeGreaterThanOrEqual(1);
      expect((await g.gateway.db.query("select 1 from discrepancies where kind = 'apply-failed'")).rows).toEqual([]);
    } finally {
      await workers.close();
      await queue.obliterate({ force: true }).catch(() => {});
      await queue.close();
    }
  });
});
