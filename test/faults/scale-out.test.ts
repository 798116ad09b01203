/**
 * Issue 11, fault F7 — scale-out (RUNNING.md: any number of `mragw serve` and `mragw work`
 * on one Redis and one PostgreSQL). One fixed mixed load (documents from the six
 * partners, status look-ups between them, a C-TPAT import and a staff SNAPSHOT to every
 * partner, delivered to real inboxes) is run three times, each on its own database and
 * queue prefix: on one serve and one work process; on two of each, requests spread over
 * both APIs; and on two of each with one serve and one work SIGKILLed half-way, the load
 * sending a failed request again to the other API (same jti and body). All three must end
 * in the same state: no sequence gap, no duplicate feed entry, no duplicate delivery.
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import type { Db } from '../../src/store/db.ts';
import { openSite, startCluster, type Site } from '../support/cluster.ts';
import { until } from '../support/delivery.ts';
import { Load, lookupPaths } from '../support/mixed-load.ts';
import { killHard } from '../support/processes.ts';

const members = readFileSync(new URL('../../fixtures/ctpat/sample/input.ndjson', import.meta.url), 'utf8');

const closing: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const close of closing.splice(0).reverse()) await close().catch(() => {});
});

const rows = async <T>(db: Db, sql: string): Promise<T[]> => (await db.query<T & Record<string, unknown>>(sql)).rows;

/** Everything the load leaves behind that does not depend on timing (ids, timestamps and signatures do). */
async function endState(site: Site) {
  const db = site.database.db;
  const feed = await rows<{ partner: string; entry: string }>(
    db,
    `select b.partner, concat_ws('|', b.record_key, b.mid, b.benefit, b.change, b.effective::text, e.batch_id, b.cause) as entry
       from benefit_changes b left join exchanges e on e.id = b.exchange_id order by b.id`,
  );
  // Each partner's feed in the order it was written (one partner's batches apply in sequence order; partners interleave).
  const feedByPartner: Record<string, string[]> = {};
  for (const f of feed) (feedByPartner[f.partner] ??= []).push(f.entry);
  return {
    operators: await rows(db, 'select partner, record_key, recognition_state, recognition_since::text, benefits, current_mids, withdrawn_reason, last_sequence::int from operators order by partner, record_key'),
    feed: feedByPartner,
    exchanges: await rows(db, 'select partner, batch_id, sequence::int, kind, disposition, state, counts from exchanges order by partner, sequence'),
    discrepancies: await rows(db, 'select kind, partner, record_key, mid, state from discrepancies order by partner, kind, record_key, mid'),
    deliveries: await rows(db, 'select partner, sequence::int, kind, state, record_count, members, disposition from deliveries order by partner, sequence'),
    // The day a receipt was verified: every run takes place today.
    ctpatRecognitions: await rows(db, 'select account, partner, state, since = current_date as today from ctpat_recognitions order by account, partner'),
    inboxes: Object.fromEntries([...site.inboxes].map(([p, log]) => [p, log.documents.map((d) => ({ sequence: d.sequence, kind: d.kind, records: d.records, disposition: d.disposition }))])),
  };
}

/** Guarantees each run must keep on its own, whatever the others did. */
async function checkInvariants(site: Site, load: Load) {
  const db = site.database.db;
  expect(load.log.documents.every((s) => s === 202 || s === 200), `document answers ${load.log.documents.join(' ')}`).toBe(true);
  expect(load.log.lookups.every((s) => s === 200 || s === 404), `look-up answers ${load.log.lookups.join(' ')}`).toBe(true);
  // Inbound: every partner's batches 1..3, each once, applied.
  const exchanges = await rows<{ partner: string; sequences: number[]; states: string[] }>(db, 'select partner, array_agg(sequence::int order by sequence) as sequences, array_agg(distinct state) as states from exchanges group by partner order by partner');
  expect(exchanges).toEqual(site.partners.map((p) => ({ partner: p.id, sequences: [1, 2, 3], states: ['applied'] })));
  // The feed: no entry twice.
  const duplicates = await rows(db, 'select mid, partner, record_key, benefit, change, effective, count(*)::int as n from benefit_changes group by 1, 2, 3, 4, 5, 6 having count(*) > 1');
  expect(duplicates).toEqual([]);
  // Outbound: per partner sequences 1..N without gap or duplicate, each its own jti, all delivered;
  // the inbox took each sequence once, refused nothing, and saw no jti but those.
  const deliveries = await rows<{ partner: string; sequence: number; jti: string; state: string }>(db, 'select partner, sequence::int, jti, state from deliveries order by partner, sequence');
  for (const p of site.partners) {
    const mine = deliveries.filter((d) => d.partner === p.id);
    const inbox = site.inboxes.get(p.id)!;
    expect(mine.map((d) => d.sequence)).toEqual(mine.map((_, i) => i + 1));
    expect(mine.every((d) => d.state === 'delivered')).toBe(true);
    expect(new Set(mine.map((d) => d.jti)).size).toBe(mine.length);
    expect(inbox.documents.map((d) => d.sequence)).toEqual(mine.map((d) => d.sequence));
    expect(inbox.refusals).toEqual([]);
    expect([...new Set(inbox.requests)].sort()).toEqual(mine.map((d) => d.jti).sort());
  }
}

type Lookup = { path: string; status: number; subject?: unknown };
type Recognition = { authority: string; state: string; since: string };

/** The look-ups after the run say what the store says: no API answers from what it kept before the last change. */
function checkFresh(site: Site, state: Awaited<ReturnType<typeof endState>>, lookups: Lookup[]) {
  const operators = state.operators as { partner: string; record_key: string; recognition_state: string; recognition_since: string }[];
  for (const { path, status, subject } of lookups) {
    const [, , , scheme, id] = path.split('/');
    const key = decodeURIComponent(id!);
    const recognitions = (subject as { recognitions?: Recognition[] } | undefined)?.recognitions;
    if (scheme === 'ctpat') {
      const held = (state.ctpatRecognitions as { account: string; partner: string; state: string }[]).filter((r) => r.account === key);
      expect(status, path).toBe(200);
      expect(recognitions?.map((r) => [r.authority, r.state]), path).toEqual(held.map((r) => [r.partner, r.state]));
      continue;
    }
    const partner = site.partners.find((p) => p.format === scheme)!;
    const operator = operators.find((o) => o.partner === partner.id && o.record_key === key)!;
    // Anonymous callers are not told of an operator outside the arrangement's scope.
    if (operator.recognition_state === 'out-of-scope') expect(status, path).toBe(404);
    else expect({ path, status, recognitions }).toEqual({ path, status: 200, recognitions: [{ authority: expect.any(String), state: operator.recognition_state, since: operator.recognition_since }] });
  }
}

interface RunOptions {
  serves: number;
  works: number;
  /** SIGKILL the first serve and the first work process once half the documents are answered. */
  kill?: boolean;
}

async function run(options: RunOptions) {
  const started = Date.now();
  const site = await openSite({ inboxDelayMs: 300 });
  closing.push(() => site.close());
  const cluster = await startCluster(site, options.serves, options.works);
  closing.push(() => cluster.stop());
  const survivor = cluster.apis.at(-1)!;
  await site.openInboxes(`${survivor}/.well-known/jwks.json`);
  const load = new Load(site, cluster.apis);
  const db = site.database.db;

  // 1. A C-TPAT import: a document for every partner. Its documents are numbered before the
  // staff SNAPSHOTs below are asked for, so that each run numbers them in the same order.
  const imported = await load.staff('/v1/ctpat/members', members, 'application/x-ndjson');
  expect(imported.status).toBe(200);
  const { outbound } = (await imported.json()) as { outbound: string[] };
  const prepared = async () => (await rows<{ partner: string }>(db, 'select distinct partner from deliveries')).length;
  await until(async () => ((await prepared()) === outbound.length ? true : undefined), 30_000);

  // 2. The partners' documents and look-ups, all partners at once; half-way, a crash.
  const traffic = Promise.all(site.partners.map((p) => load.partner(p, lookupPaths(p))));
  let killedAt: { answered: number; processing: number; pendingDeliveries: number } | undefined;
  if (options.kill) {
    // Killed in the turn of the answer that makes half, not after a poll: on a quick run
    // the rest could all be answered while a poll slept.
    const ended = traffic.then(() => Promise.reject(new Error('the load ended before half its documents were answered')));
    await Promise.race([load.whenAnswered(site.partners.length * 1.5), ended]);
    const answered = load.log.answered;
    await Promise.all([killHard(cluster.serves[0]!), killHard(cluster.works[0]!)]);
    const [processing] = await rows<{ n: number }>(db, "select count(*)::int as n from exchanges where state in ('received', 'processing')");
    const [pending] = await rows<{ n: number }>(db, "select count(*)::int as n from deliveries where state = 'pending'");
    killedAt = { answered, processing: processing!.n, pendingDeliveries: pending!.n };
  }
  await traffic;

  // 3. A staff SNAPSHOT to every partner.
  for (const p of site.partners) {
    const answer = await load.staff(`/v1/partners/${p.id}/snapshot`, JSON.stringify({ reason: 'scale-out test' }));
    expect(answer.status).toBe(202);
  }

  const expected = (partner: string) => (outbound.includes(partner) ? 2 : 1);
  await until(async () => {
    const [applied] = await rows<{ n: number }>(db, "select count(*)::int as n from exchanges where state = 'applied'");
    const delivered = await rows<{ partner: string; n: number }>(db, "select partner, count(*)::int as n from deliveries where state = 'delivered' group by partner");
    const done = applied!.n === site.partners.length * 3 && site.partners.every((p) => delivered.find((d) => d.partner === p.id)?.n === expected(p.id));
    return done ? true : undefined;
  }, 60_000).catch(async (error: unknown) => {
    const left = await rows(db, "select 'exchange' as what, partner, sequence::int, state from exchanges where state <> 'applied' union all select 'delivery', partner, sequence::int, state from deliveries where state <> 'delivered'");
    throw new Error(`${String(error)}; not done: ${JSON.stringify(left)}; stderr: ${[...cluster.serves, ...cluster.works].map((p) => p.stderr().slice(-1500)).join('\n---\n')}`);
  });

  await checkInvariants(site, load);
  let state = await endState(site);
  if (options.kill) {
    // A job of the killed worker taken over late must find nothing left to do.
    await new Promise((r) => setTimeout(r, 2 * Number(site.env['JOB_LOCK_S']) * 1000));
    expect(await endState(site)).toEqual(state);
    state = await endState(site);
  }
  // Every live API answers the same status, whatever it kept in its cache during the run.
  const live = cluster.apis.filter((_, i) => !(options.kill && i === 0));
  const lookups = site.partners.flatMap(lookupPaths);
  const answers = await Promise.all(
    live.map(async (api) =>
      Promise.all(
        lookups.map(async (path) => {
          const response = await fetch(`${api}${path}`);
          const body = (await response.json()) as { subject?: unknown };
          return { path, status: response.status, subject: body.subject } as Lookup;
        }),
      ),
    ),
  );
  for (const other of answers.slice(1)) expect(other).toEqual(answers[0]);
  checkFresh(site, state, answers[0]!);
  await cluster.stop();
  return { state, lookups: answers[0]!, log: load.log, killedAt, seconds: (Date.now() - started) / 1000 };
}

describe('scale-out: two serve and two work processes on one Redis and one PostgreSQL (issue 11, F7)', () => {
  it('end as one of each does under a mixed load, and still do when one of each is killed mid-run', async () => {
    const single = await run({ serves: 1, works: 1 });
    // The load really exercised what is compared.
    expect(Object.keys(single.state.feed)).toHaveLength(6);
    expect(single.state.deliveries.length).toBeGreaterThanOrEqual(6);
    expect(single.lookups.filter((l) => l.status === 200).length).toBeGreaterThan(0);

    const scaled = await run({ serves: 2, works: 2 });
    expect(scaled.state).toEqual(single.state);
    expect(scaled.lookups).toEqual(single.lookups);

    const killed = await run({ serves: 2, works: 2, kill: true });
    expect(killed.state).toEqual(single.state);
    expect(killed.lookups).toEqual(single.lookups);
    // The crash was mid-run: requests were still to come, and some failed over to the other API.
    expect(killed.killedAt!.answered).toBeLessThan(18);
    expect(killed.log.resent).toBeGreaterThan(0);
    // Timings on request (SCALE_OUT_TIMING=1), for judging the CI cost.
    if (process.env['SCALE_OUT_TIMING']) process.stderr.write(`scale-out: single ${single.seconds}s, scaled ${scaled.seconds}s, killed ${killed.seconds}s at ${JSON.stringify(killed.killedAt)}, resent ${killed.log.resent}\n`);
  }, 170_000);
});
