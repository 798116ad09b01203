/**
 * Issue 11, F2: Redis is stopped and restarted, empty, while documents arrive. The gateway
 * keeps accepting (202, from the store's outbox) and stays ready; after the restart every
 * accepted document is applied exactly once, including those whose jobs were already in
 * Redis when it died (their outbox rows were marked relayed, so only the store still knows
 * they are to apply).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { CALENDAR_QUEUE, calendarSchedulerId } from '../../src/queue/jobs.ts';
import { euBatch, type EuOperator } from '../support/eu-operators.ts';
import { freePort } from '../support/delivery.ts';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';

let gw: TestGateway | undefined;
let redis: PrivateRedis | undefined;
afterEach(async () => {
  await gw?.close();
  gw = undefined;
  await redis?.stop();
  redis = undefined;
});

interface PrivateRedis {
  url: string;
  /** SIGKILL: everything it held is gone (no persistence). */
  kill(): Promise<void>;
  /** A new, empty server on the same port. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** A redis-server of the test's own, without persistence, so that a restart comes back empty. */
async function privateRedis(): Promise<PrivateRedis> {
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  const start = async () => {
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    const probe = new Redis(url, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
    probe.on('error', () => {});
    for (const deadline = Date.now() + 10_000; ; ) {
      if (await probe.connect().then(() => probe.ping(), () => undefined)) break;
      if (Date.now() > deadline) throw new Error(`redis-server did not answer on ${port}`);
      await sleep(50);
    }
    probe.disconnect();
  };
  const kill = async () => {
    const c = child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    await new Promise((resolve) => {
      c.once('exit', resolve);
      c.kill('SIGKILL');
    });
  };
  await start();
  return { url, kill, restart: start, stop: kill };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const SNAPSHOT_SIZE = 1_500;
const everyone: EuOperator[] = Array.from({ length: SNAPSHOT_SIZE }, (_, i) => ({ n: i + 1 }));

/** DELTA `sequence` suspends operator `sequence` (one record, one version, one benefit ended). */
const delta = (sequence: number) => euBatch({ batchId: `D${sequence}`, sequence, kind: 'DELTA', operators: [{ n: sequence, status: 'SUSPENDED', effective: '2026-11-01' }] });

describe('F2: Redis restarted empty while documents arrive', () => {
  it('accepts throughout, stays ready, and applies every accepted document exactly once after the restart', async () => {
    redis = await privateRedis();
    const g = (gw = await startTestGateway({ store: 'PostgreSQL', env: { REDIS_URL: redis.url } }));
    const answers: { sequence: number; status: number; exchangeId?: string }[] = [];
    const send = async (sequence: number, body: string) => {
      const response = await g.request({ body });
      const answer = (await response.json()) as { exchangeId?: string };
      answers.push({ sequence, status: response.status, ...(answer.exchangeId && { exchangeId: answer.exchangeId }) });
    };
    const readiness: { status: number; redis: string }[] = [];
    const ready = async () => {
      const response = await fetch(`${g.url}/readyz`);
      readiness.push({ status: response.status, redis: ((await response.json()) as { redis: string }).redis });
    };

    // A SNAPSHOT large enough to take a while to apply, and DELTAs behind it: their jobs
    // wait in Redis (relayed, not yet run) when it dies.
    await send(1, euBatch({ batchId: 'S1', sequence: 1, kind: 'SNAPSHOT', operators: everyone }));
    let sequence = 1;
    for (; sequence < 5; ) await send(++sequence, delta(sequence));
    const watcher = new Redis(redis.url, { maxRetriesPerRequest: 0, retryStrategy: () => null });
    watcher.on('error', () => {});
    const queue = new Queue('apply-EU', { connection: watcher, prefix: g.prefix });
    queue.on('error', () => {});
    for (const deadline = Date.now() + 10_000; ; ) {
      // Taken by Redis and not yet done: the SNAPSHOT's job running, the DELTAs' behind it.
      const counts = await queue.getJobCounts('active', 'waiting', 'delayed', 'prioritized');
      if (Object.values(counts).reduce((a, b) => a + b, 0) >= 3) break;
      if (Date.now() > deadline) throw new Error('the DELTAs were never waiting in Redis');
      await sleep(20);
    }
    await queue.close().catch(() => {});
    watcher.disconnect();

    await redis.kill();
    // While Redis is away: still accepted, still ready (RUNNING.md: Redis down does not make the API unready).
    for (let i = 0; i < 5; i++) {
      await send(++sequence, delta(sequence));
      await ready();
      await sleep(300);
    }
    expect(readiness.at(-1)).toEqual({ status: 200, redis: 'down' });

    await redis.restart();
    for (let i = 0; i < 3; i++) {
      await send(++sequence, delta(sequence));
      await ready();
    }

    expect(answers.map((a) => a.status)).toEqual(answers.map(() => 202));
    expect(readiness.map((r) => r.status)).toEqual(readiness.map(() => 200));
    const ids = answers.map((a) => a.exchangeId!);
    expect(new Set(ids).size).toBe(sequence);

    // Every accepted document reaches applied (in order, so the last one applied means all did).
    const states = async () => (await g.gateway.db.query<{ sequence: string; state: string }>('select sequence, state from exchanges order by sequence')).rows.map((r) => `${r.sequence}:${r.state}`);
    for (const deadline = Date.now() + 40_000; ; ) {
      const now = await states();
      if (now.every((s) => s.endsWith(':applied')) && now.length === sequence) break;
      if (Date.now() > deadline) throw new Error(`not every accepted document was applied after the restart: ${now.filter((s) => !s.endsWith(':applied')).join(', ')}`);
      await sleep(200);
    }

    // Exactly once: one version per operator for the SNAPSHOT, one per DELTA, each DELTA's suspension once in the feed.
    const versions = (await g.gateway.db.query<{ sequence: number; n: number }>('select sequence::int, count(*)::int as n from operator_versions group by sequence order by sequence')).rows;
    expect(versions).toEqual([{ sequence: 1, n: SNAPSHOT_SIZE }, ...Array.from({ length: sequence - 1 }, (_, i) => ({ sequence: i + 2, n: 1 }))]);
    const feed = (await g.gateway.db.query<{ record_key: string; change: string; n: number }>('select record_key, change, count(*)::int as n from benefit_changes group by record_key, change having count(*) > 1')).rows;
    expect(feed).toEqual([]);
    const ended = (await g.gateway.db.query<{ n: number }>("select count(distinct record_key)::int as n from benefit_changes where change = 'end'")).rows[0]!.n;
    expect(ended).toBe(sequence - 1);

    // The daily MRA calendar's schedulers lived only in Redis: they are set again, without a restart of the workers.
    const after = new Redis(redis.url, { maxRetriesPerRequest: 0 });
    const calendar = new Queue(CALENDAR_QUEUE, { connection: after, prefix: g.prefix });
    try {
      const schedulers = await calendar.getJobSchedulers();
      expect(schedulers.map((s) => s.key)).toEqual(expect.arrayContaining([calendarSchedulerId('EU'), calendarSchedulerId('JP')]));
    } finally {
      await calendar.close();
      after.disconnect();
    }
  }, 90_000);
});
