/**
 * Exactly once in effect: a batch applied twice, by two workers at once, or by a worker
 * killed half-way and another that finishes, gives the same recognitions, benefits and
 * feed, with no duplicate feed entry.
 */
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { Queue } from 'bullmq';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { applyBatch } from '../../src/jobs/apply-batch.ts';
import { Workers } from '../../src/queue/workers.ts';
import { openPostgres } from '../../src/store/postgres-db.ts';
import { loadFormats } from '../../src/translate/load-mappings.ts';
import { euBatch, feed, waitForState } from '../support/eu-operators.ts';
import { REDIS_URL, startTestGateway, type TestGateway } from '../support/gateway.ts';
import { killHard, runMragw, type MragwProcess } from '../support/processes.ts';

let gw: TestGateway | undefined;
const others: TestGateway[] = [];
const processes: MragwProcess[] = [];
afterEach(async () => {
  await Promise.all(processes.map(killHard));
  await gw?.close();
  gw = undefined;
  await Promise.all(others.splice(0).map((o) => o.close()));
});

/**
 * Issue 11 F1 asks for 100,000 records. Measured on the 2-core machine, loaded by other
 * work: 61-72 s for this test at a load average of 7-8, 107-112 s at 10-15 (hence its 180 s timeout).
 */
const RECORDS_KILLED_MID_SNAPSHOT = 100_000;

/** The first row where two large results differ (a whole diff of 100,000 rows says less, and slowly). */
function firstDifference(a: unknown[], b: unknown[]): { at: number; disturbed: unknown; undisturbed: unknown } | undefined {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (JSON.stringify(a[i]) !== JSON.stringify(b[i])) return { at: i, disturbed: a[i], undisturbed: b[i] };
  }
  return undefined;
}

const operators = (count: number) => Array.from({ length: count }, (_, i) => ({ n: i + 1 }));

async function accept(g: TestGateway, body: string): Promise<string> {
  const response = await g.request({ body });
  expect(response.status).toBe(202);
  return ((await response.json()) as { exchangeId: string }).exchangeId;
}

async function snapshotOfState(g: TestGateway) {
  const ops = await g.gateway.db.query('select record_key, recognition_state, recognition_since::text, benefits, current_mids from operators order by record_key');
  return { operators: ops.rows, feed: await feed(g) };
}

describe('exactly once in effect', () => {
  it('replaying an applied batch changes nothing and adds no feed entry', async () => {
    const g = (gw = await startTestGateway({ store: 'PostgreSQL', workers: false }));
    const id = await accept(g, euBatch({ batchId: 'S1', sequence: 1, kind: 'SNAPSHOT', operators: operators(20) }));
    const deps = { db: g.gateway.db, formats: loadFormats(), partner: (p: string) => g.gateway.registry.partner(p) };
    expect(await applyBatch(deps, id)).toMatchObject({ applied: true });
    const first = await snapshotOfState(g);
    expect(first.feed).toHaveLength(20);
    expect(await applyBatch(deps, id)).toEqual({ applied: false, reason: 'already-applied' });
    // Even forced to run again on the state it produced, it adds nothing.
    await g.gateway.db.query("update exchanges set state = 'received' where id = $1", [id]);
    expect(await applyBatch(deps, id)).toMatchObject({ applied: true });
    expect(await snapshotOfState(g)).toEqual(first);
  });

  it('two workers applying the same SNAPSHOT at once: one applies, the other finds it done', async () => {
    const g = (gw = await startTestGateway({ store: 'PostgreSQL', workers: false }));
    const id = await accept(g, euBatch({ batchId: 'S1', sequence: 1, kind: 'SNAPSHOT', operators: operators(200) }));
    // Two separate connection pools, as two worker processes would have.
    const [a, b] = [openPostgres({ connectionString: g.settings.DATABASE_URL! }, 'postgres'), openPostgres({ connectionString: g.settings.DATABASE_URL! }, 'postgres')];
    const formats = loadFormats();
    const partner = (p: string) => g.gateway.registry.partner(p);
    try {
      const outcomes = await Promise.all([applyBatch({ db: a, formats, partner }, id), applyBatch({ db: b, formats, partner }, id)]);
      expect(outcomes.map((o) => o.applied).sort()).toEqual([false, true]);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
    const state = await snapshotOfState(g);
    expect(state.feed).toHaveLength(200);
    expect(new Set(state.feed.map((f) => `${f.mid}|${f.record}|${f.benefit}|${f.change}`)).size).toBe(200);
  });

  it('a worker killed in the middle of a large SNAPSHOT: another finishes it, with the same result as an undisturbed run', async () => {
    const vectors = JSON.parse(readFileSync(new URL('../../../shared/spec/vectors/partner.json', import.meta.url), 'utf8')) as { partner: { keys: { jwks: object } } };
    const eu = { id: 'EU', name: 'European Union', programme: 'EU-AEO', format: 'eu-aeo', mra: { scope: ['AEOS', 'AEOF'], benefits: ['reduced-examinations', 'front-of-line'] }, keys: { algorithms: ['ES256'], jwks: vectors.partner.keys.jwks }, limits: { maxBodyBytes: 64 * 1024 * 1024, requestsPerMinute: 600 } };
    const keyFile = `${process.env['TMPDIR'] ?? '/tmp'}/mragw-kill-${randomUUID()}.pem`;
    writeFileSync(keyFile, generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'pem', type: 'pkcs8' }));
    const g = (gw = await startTestGateway({ store: 'PostgreSQL', workers: false, partners: { eu }, env: { SIGNING_KEY_FILE: keyFile } }));
    const count = RECORDS_KILLED_MID_SNAPSHOT;
    const body = euBatch({ batchId: 'BIG', sequence: 1, kind: 'SNAPSHOT', operators: operators(count) });
    const id = await accept(g, body);
    // The same document on a fresh store, applied once, undisturbed (alongside the disturbed run, to save time).
    const undisturbedRun = (async () => {
      const u = await startTestGateway({ store: 'PostgreSQL', workers: false, partners: { eu }, env: { SIGNING_KEY_FILE: keyFile } });
      others.push(u);
      const undisturbedId = await accept(u, body);
      expect(await applyBatch({ db: u.gateway.db, formats: loadFormats(), partner: (p) => u.gateway.registry.partner(p) }, undisturbedId)).toMatchObject({ applied: true });
      return snapshotOfState(u);
    })();
    undisturbedRun.catch(() => {}); // awaited below
    const env = { DATABASE_URL: g.settings.DATABASE_URL!, SIGNING_KEY_FILE: keyFile, PARTNERS_DIR: g.settings.PARTNERS_DIR, DATA_DIR: g.dataDir, GATEWAY_ID: g.settings.GATEWAY_ID, REDIS_URL, QUEUE_PREFIX: g.prefix, LOG_LEVEL: 'silent', JOB_LOCK_S: '3' };

    const queue = new Queue('apply-EU', { connection: { url: REDIS_URL }, prefix: g.prefix });
    let disturbed: Awaited<ReturnType<typeof snapshotOfState>>;
    try {
      const first = runMragw(['work'], env);
      processes.push(first);
      // Kill it half-way through saving the operators (it reports progress as it goes: 30 once the batch is outlined).
      const deadline = Date.now() + 60_000;
      for (;;) {
        const job = await queue.getJob(`apply-${id}`);
        if (job && typeof job.progress === 'number' && job.progress >= 50) break;
        if (Date.now() > deadline) throw new Error(`the job never got half-way (progress ${String(job?.progress)})`);
        await new Promise((r) => setTimeout(r, 20));
      }
      await killHard(first);
      const { rows } = await g.gateway.db.query<{ state: string }>('select state from exchanges where id = $1', [id]);
      expect(rows[0]!.state).toBe('processing');
      // Nothing half-saved: the transaction rolled back with the worker.
      const saved = await g.gateway.db.query<{ n: number }>('select count(*)::int as n from operators');
      expect(saved.rows[0]!.n).toBe(0);

      const second = runMragw(['work'], env);
      processes.push(second);
      await waitForState(g, id, 'applied', 90_000);
      disturbed = await snapshotOfState(g);
    } finally {
      await queue.obliterate({ force: true }).catch(() => {});
      await queue.close();
    }
    const undisturbed = await undisturbedRun;

    expect(disturbed.operators).toHaveLength(count);
    expect(disturbed.operators.every((o) => (o as { recognition_state: string }).recognition_state === 'recognized')).toBe(true);
    expect(firstDifference(disturbed.operators, undisturbed.operators)).toBeUndefined();
    const feedLines = (f: typeof disturbed.feed) => f.map((e) => `${e.mid}|${e.record}|${e.benefit}|${e.change}|${e.effective}`);
    expect(disturbed.feed).toHaveLength(count * 2);
    expect(new Set(feedLines(disturbed.feed)).size).toBe(count * 2); // no duplicate feed entry
    expect(firstDifference(feedLines(disturbed.feed).sort(), feedLines(undisturbed.feed).sort())).toBeUndefined();
  }, 180_000);

  it('a batch that can never apply fails at once, without retries, and its exchange is failed', async () => {
    const g = (gw = await startTestGateway({ store: 'PostgreSQL', workers: false }));
    const formats = loadFormats();
    await expect(applyBatch({ db: g.gateway.db, formats, partner: () => undefined }, randomUUID())).rejects.toMatchObject({ code: 'batch-inapplicable' });
    const id = await accept(g, euBatch({ batchId: 'S1', sequence: 1, kind: 'SNAPSHOT', operators: operators(1) }));
    // Workers whose registry no longer knows the partner: the job is the gateway's "do not retry".
    const workers = new Workers(REDIS_URL, g.prefix, { apply: { db: g.gateway.db, formats, partner: () => undefined } }, pino({ level: 'silent' }));
    const queue = new Queue('apply-EU', { connection: { url: REDIS_URL }, prefix: g.prefix });
    try {
      workers.ensure(['EU']);
      await g.gateway.relay.drain();
      await waitForState(g, id, 'failed');
      const job = await queue.getJob(`apply-${id}`);
      expect(job?.attemptsMade).toBe(1);
      expect(job?.failedReason).toBe('partner EU is not in the registry');
    } finally {
      await workers.close();
      await queue.obliterate({ force: true }).catch(() => {});
      await queue.close();
    }
  });
});
