/**
 * The MRA calendar on a whole gateway (real PostgreSQL and Redis): a registry reload that
 * narrows a partner's scope or ends its MRA ends the benefits it affects on the day, in
 * the feed, once; running the job again, or on two workers at once, adds nothing; the
 * daily scheduler is registered at the configured time.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { todayOf } from '../../src/clock.ts';
import { runMraCalendar } from '../../src/jobs/mra-calendar.ts';
import { dayAfter } from '../../src/reconcile/mra-calendar.ts';
import { mintDevStaffToken } from '../../src/staff/dev-issuer.ts';
import { fixedClock } from '../support/clock.ts';
import { euBatch, euKey, euMid, feed, recognition, sendAndWait, type EuOperator } from '../support/eu-operators.ts';
import { REDIS_URL, startTestGateway, type TestGateway } from '../support/gateway.ts';

const clock = fixedClock();
const today = todayOf(clock);
const twoDaysAgo = new Date(Date.parse(`${today}T00:00:00Z`) - 2 * 86_400_000).toISOString().slice(0, 10);
const aeos: EuOperator = { n: 11, type: 'AEOS' };
const aeof: EuOperator[] = [
  { n: 12, type: 'AEOF' },
  { n: 13, type: 'AEOF' },
];
const aeoc: EuOperator = { n: 14, type: 'AEOC' };

let gw: TestGateway;
let staffToken: string;

/** Rewrites EU's registry file with these MRA terms and reloads the registry, as SIGHUP does. */
function changeMra(mra: Record<string, unknown>): void {
  const file = join(gw.dataDir, 'partners', 'eu.yaml');
  const entry = JSON.parse(readFileSync(file, 'utf8')) as { mra: Record<string, unknown> };
  writeFileSync(file, JSON.stringify({ ...entry, mra: { ...entry.mra, ...mra } }, null, 2));
  expect(gw.gateway.registry.reload()).toBe(true);
}

async function until(check: () => Promise<boolean>, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}

const ends = async () => (await feed(gw)).filter((e) => e.change === 'end');
const deps = () => ({ db: gw.gateway.db, partner: (id: string) => gw.gateway.registry.partner(id), clock });

beforeAll(async () => {
  gw = await startTestGateway({ store: 'PostgreSQL', clock, env: { MRAGW_DEV_STAFF: '1', MRA_CALENDAR_CRON: '7 1 * * *' } });
  staffToken = await mintDevStaffToken(gw.dataDir, { subject: 'officer.jones', roles: ['admin'], ttlSeconds: 600 });
  await sendAndWait(gw, euBatch({ batchId: 'S1', sequence: 1, kind: 'SNAPSHOT', operators: [aeos, ...aeof, aeoc] }));
}, 60_000);
afterAll(async () => {
  await gw?.close();
});

describe('the MRA calendar on a running gateway', () => {
  it('registers a daily scheduler per partner at MRA_CALENDAR_CRON (UTC)', async () => {
    const queue = new Queue('mra-calendar', { connection: { url: REDIS_URL }, prefix: gw.prefix });
    try {
      await until(async () => (await queue.getJobSchedulers()).length === 3);
      const schedulers = await queue.getJobSchedulers();
      expect(schedulers.map((s) => [s.key, s.pattern, s.tz]).sort()).toEqual([
        ['mra-calendar-EU', '7 1 * * *', 'UTC'],
        ['mra-calendar-JP', '7 1 * * *', 'UTC'],
        ['mra-calendar-KR', '7 1 * * *', 'UTC'],
      ]);
    } finally {
      await queue.close();
    }
  });

  it('a scope narrowed on reload ends the AEOF benefits today, once, with the cause and no exchange', async () => {
    expect(await ends()).toEqual([]);
    changeMra({ scope: ['AEOS'] });
    await until(async () => (await ends()).length === 2);
    expect(await ends()).toEqual(aeof.map((o) => ({ mid: euMid(o), record: euKey(o), benefit: 'reduced-examinations', change: 'end', effective: today })));
    for (const o of aeof) expect(await recognition(gw, euKey(o))).toEqual({ state: 'out-of-scope', since: today });
    expect(await recognition(gw, euKey(aeos))).toMatchObject({ state: 'recognized' });

    const response = await fetch(`${gw.url}/v1/benefits/changes?after=0`, { headers: { Authorization: `Bearer ${staffToken}` } });
    const { changes } = (await response.json()) as { changes: { change: string; exchangeId: string | null; cause: string | null }[] };
    expect(changes.filter((c) => c.change === 'end').map((c) => [c.exchangeId, c.cause])).toEqual([[null, 'scope-narrowed'], [null, 'scope-narrowed']]);
    expect(changes.filter((c) => c.change === 'start').every((c) => c.exchangeId !== null && c.cause === null)).toBe(true);
  });

  it('running the job again, or on two workers at once, adds nothing', async () => {
    const before = await feed(gw);
    const outcomes = await Promise.all([runMraCalendar(deps(), 'EU'), runMraCalendar(deps(), 'EU'), runMraCalendar(deps(), 'EU')]);
    expect(outcomes).toEqual(Array(3).fill({ ran: true, today, ended: 0, entries: 0 }));
    expect(await feed(gw)).toEqual(before);
  });

  it("the partner's next batch, still naming the AEOF operators, adds nothing either", async () => {
    const before = await feed(gw);
    await sendAndWait(gw, euBatch({ batchId: 'D2', sequence: 2, kind: 'DELTA', operators: [aeos, ...aeof] }));
    expect(await feed(gw)).toEqual(before);
    for (const o of aeof) expect(await recognition(gw, euKey(o))).toEqual({ state: 'out-of-scope', since: today });
  });

  it('an MRA whose inForceUntil passed ends the rest, dated the day after inForceUntil', async () => {
    const before = await ends();
    changeMra({ inForceUntil: twoDaysAgo });
    await until(async () => (await ends()).length === before.length + 1);
    expect((await ends()).slice(before.length)).toEqual([{ mid: euMid(aeos), record: euKey(aeos), benefit: 'reduced-examinations', change: 'end', effective: dayAfter(twoDaysAgo) }]);
    expect(await recognition(gw, euKey(aeos))).toEqual({ state: 'out-of-scope', since: dayAfter(twoDaysAgo) });
    // The status answer, judged as of today, agrees with the feed.
    const status = (await (await fetch(`${gw.url}/v1/status/eu-aeo/${euKey(aeos)}`)).json()) as { subject: { recognitions: { state: string; since: string }[] } };
    expect(status.subject.recognitions).toMatchObject([{ state: 'out-of-scope', since: dayAfter(twoDaysAgo) }]);

    const after = await feed(gw);
    expect(await runMraCalendar(deps(), 'EU')).toEqual({ ran: true, today, ended: 0, entries: 0 });
    // A reload that changes nothing queues nothing; the feed stays as it is.
    expect(gw.gateway.registry.reload()).toBe(true);
    await new Promise((r) => setTimeout(r, 300));
    expect(await feed(gw)).toEqual(after);
  });

  it('a partner whose MRA is in force with no scope is not even read; an unknown partner is left alone', async () => {
    expect(await runMraCalendar(deps(), 'JP')).toEqual({ ran: false, today, reason: 'nothing-can-end' });
    expect(await runMraCalendar(deps(), 'NZ')).toEqual({ ran: false, today, reason: 'not-in-registry' });
  });
});
