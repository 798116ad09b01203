/**
 * Graceful shutdown under load (RUNNING.md, SIGTERM: stop accepting, finish or hand back
 * in-flight requests and jobs, close connections, exit 0), on a real `mragw start`
 * process, a fresh PostgreSQL database and the shared Redis under its own prefix.
 *
 * EU sends a large SNAPSHOT, then several senders at once send DELTAs with consecutive
 * sequences; SIGTERM arrives while they are in flight and the SNAPSHOT is being applied.
 * Every request either got a whole 202 whose exchange is durable, or a failure the partner
 * retries (the connection refused or reset, or a 503); nothing else. The process exits 0
 * within its grace. A new process then takes the retries, and every accepted exchange is
 * applied exactly once: all applied, the feed without a duplicate.
 */
import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { request } from 'node:http';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { signRequest } from '../../src/sign/request-signature.ts';
import { freshPostgres, type TestDatabase } from '../support/databases.ts';
import { euBatch } from '../support/eu-operators.ts';
import { GATEWAY_ID, partnerKeys, REDIS_URL, writePartners } from '../support/gateway.ts';
import { killHard, runMragw, type MragwProcess } from '../support/processes.ts';

/** What an orchestrator gives a stopping process before it kills it (Kubernetes' default). */
const GRACE_MS = 30_000;
/** Operators of the SNAPSHOT: enough that its apply is under way for seconds, not milliseconds. */
const SNAPSHOT_OPERATORS = 12_000;
const SENDERS = 8;

const vectors = JSON.parse(readFileSync(new URL('../../../shared/spec/vectors/partner.json', import.meta.url), 'utf8')) as { partner: { keys: { jwks: object } } };
const eu = { id: 'EU', name: 'European Union', programme: 'EU-AEO', format: 'eu-aeo', mra: { scope: ['AEOS', 'AEOF'], benefits: ['reduced-examinations'] }, keys: { algorithms: ['ES256'], jwks: vectors.partner.keys.jwks }, limits: { maxBodyBytes: 64 * 1024 * 1024, requestsPerMinute: 100_000 } };

const processes: MragwProcess[] = [];
const cleanup: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  await Promise.all(processes.map(killHard));
  for (const step of cleanup.reverse()) await step().catch(() => {});
});

/** One signed request as the EU sends it: a retry sends the same bytes and jti, signed again. */
interface Sent {
  sequence: number;
  jti: string;
  body: Buffer;
}

/** How one request ended, as the partner's client sees it. */
type Outcome = { kind: 'answered'; status: number; text: string } | { kind: 'truncated'; status: number; error: string } | { kind: 'connection'; error: string };

async function send(url: string, sent: Sent): Promise<Outcome> {
  const signature = signRequest({ key: partnerKeys.EU, iss: 'EU', aud: GATEWAY_ID, method: 'POST', target: '/v1/exchanges', body: sent.body, jti: sent.jti });
  let response: Response;
  try {
    response = await fetch(`${url}/v1/exchanges`, { method: 'POST', headers: { 'Content-Type': 'application/xml', 'JWS-Signature': signature }, body: sent.body });
  } catch (error) {
    return { kind: 'connection', error: String((error as { cause?: unknown }).cause ?? error) };
  }
  try {
    return { kind: 'answered', status: response.status, text: await response.text() };
  } catch (error) {
    return { kind: 'truncated', status: response.status, error: String((error as { cause?: unknown }).cause ?? error) };
  }
}

/** Operators a DELTA adds: every third is larger, so that some requests are still being received when the signal comes. */
const deltaOperators = (sequence: number) => (sequence % 3 === 0 ? 300 : 1);
/**
 * Sends a request whose body arrives in two halves, the second only once `resume` settles:
 * a partner still uploading when the signal comes. Over node:http, so that the halves are
 * written as they are.
 */
function sendInHalves(url: string, sent: Sent, resume: Promise<unknown>): Promise<Outcome> {
  const signature = signRequest({ key: partnerKeys.EU, iss: 'EU', aud: GATEWAY_ID, method: 'POST', target: '/v1/exchanges', body: sent.body, jti: sent.jti });
  return new Promise((resolve) => {
    const req = request(`${url}/v1/exchanges`, { method: 'POST', agent: false, headers: { 'Content-Type': 'application/xml', 'Content-Length': sent.body.length, 'JWS-Signature': signature } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ kind: 'answered', status: res.statusCode!, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', (error) => resolve({ kind: 'truncated', status: res.statusCode!, error: String(error) }));
    });
    req.on('error', (error) => resolve({ kind: 'connection', error: String(error) }));
    const half = Math.floor(sent.body.length / 2);
    req.write(sent.body.subarray(0, half));
    void resume.then(() => req.end(sent.body.subarray(half)));
  });
}

const delta = (sequence: number): Sent => ({
  sequence,
  jti: randomUUID(),
  body: Buffer.from(euBatch({ batchId: `D-${sequence}`, sequence, kind: 'DELTA', operators: Array.from({ length: deltaOperators(sequence) }, (_, i) => ({ n: 100_000 + sequence * 1_000 + i })) })),
});

describe('SIGTERM under load', () => {
  it('loses no request and no job: every 202 is durable, the rest fail so the partner retries, exit 0 in time, and each exchange applies exactly once after a restart', async () => {
    const database: TestDatabase = await freshPostgres();
    cleanup.push(() => database.drop());
    const dir = mkdtempSync(join(tmpdir(), 'mragw-shutdown-'));
    writePartners(join(dir, 'partners'), { eu });
    const keyFile = join(dir, 'gateway-key.pem');
    writeFileSync(keyFile, generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'pem', type: 'pkcs8' }));
    const prefix = `{mragw-test-${randomBytes(5).toString('hex')}}`;
    cleanup.push(async () => {
      const redis = new Redis(REDIS_URL);
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
    });
    // A short job lock: a job whose worker was stopped by force is taken over by the next process in seconds.
    const env = { DATABASE_URL: database.url, SIGNING_KEY_FILE: keyFile, DATA_DIR: dir, PARTNERS_DIR: join(dir, 'partners'), GATEWAY_ID, REDIS_URL, QUEUE_PREFIX: prefix, PORT: '0', METRICS_PORT: '0', LOG_LEVEL: 'warn', SIGNING_KEY_MIN_AGE_DAYS: '0', JOB_LOCK_S: '3' };
    const db = database.db;
    const stateOf = async (id: string) => (await db.query<{ state: string }>('select state from exchanges where id = $1', [id])).rows[0]?.state;

    const first = runMragw(['start'], env);
    processes.push(first);
    const url = await first.listening;

    const snapshot: Sent = { sequence: 1, jti: randomUUID(), body: Buffer.from(euBatch({ batchId: 'S-1', sequence: 1, kind: 'SNAPSHOT', operators: Array.from({ length: SNAPSHOT_OPERATORS }, (_, i) => ({ n: i + 1 })) })) };
    const snapshotAnswer = await send(url, snapshot);
    expect(snapshotAnswer).toMatchObject({ kind: 'answered', status: 202 });
    const snapshotId = (JSON.parse((snapshotAnswer as { text: string }).text) as { exchangeId: string }).exchangeId;

    // Senders take consecutive sequences until the gateway no longer takes connections.
    const outcomes = new Map<number, { sent: Sent; outcome: Outcome }>();
    let next = 2;
    let stopped = false;
    const sender = async () => {
      while (!stopped && next < 5_000) {
        const sent = delta(next++);
        const outcome = await send(url, sent);
        outcomes.set(sent.sequence, { sent, outcome });
        if (outcome.kind !== 'answered' || outcome.status !== 202) stopped = true;
      }
    };
    const senders = Array.from({ length: SENDERS }, sender);

    // SIGTERM once DELTAs are flowing and the SNAPSHOT's apply is under way.
    const accepted = () => [...outcomes.values()].filter((o) => o.outcome.kind === 'answered' && o.outcome.status === 202).length;
    const deadline = Date.now() + 30_000;
    while ((accepted() < 10 || (await stateOf(snapshotId)) !== 'processing') && !stopped) {
      if (Date.now() > deadline) throw new Error(`the load never built up: ${accepted()} accepted, SNAPSHOT ${await stateOf(snapshotId)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(stopped, `a request failed before the signal: ${JSON.stringify([...outcomes.values()].find((o) => o.outcome.kind !== 'answered' || o.outcome.status !== 202))}`).toBe(false);
    // And one partner is half-way through uploading a document (its headers long read) when the signal comes.
    const uploading = delta(next++);
    let resume!: () => void;
    const halves = sendInHalves(url, uploading, new Promise<void>((r) => (resume = r)));
    await new Promise((r) => setTimeout(r, 300));
    expect(await stateOf(snapshotId)).toBe('processing');
    const signalled = Date.now();
    first.child.kill('SIGTERM');
    setTimeout(resume, 500);
    outcomes.set(uploading.sequence, { sent: uploading, outcome: await halves });
    // A request in flight is finished, not cut: the rest of the body is still read, and answered.
    expect(outcomes.get(uploading.sequence)!.outcome).toMatchObject({ kind: 'answered', status: 202 });
    await Promise.all(senders);
    const code = await first.exited;
    const tookMs = Date.now() - signalled;
    expect(code, first.stderr().slice(-3000)).toBe(0);
    expect(tookMs).toBeLessThan(GRACE_MS);
    // The job in hand at the signal was finished before the exit, not dropped half-way.
    expect(await stateOf(snapshotId)).toBe('applied');

    // Each request: a whole 202 (its exchange durable), or a failure the partner retries; never anything else.
    const all = [...outcomes.values()].sort((a, b) => a.sent.sequence - b.sent.sequence);
    const acceptedIds = new Map<number, string>();
    const retry: Sent[] = [];
    for (const { sent, outcome } of all) {
      if (outcome.kind === 'answered' && outcome.status === 202) {
        const answer = JSON.parse(outcome.text) as { exchangeId?: unknown; receipt?: unknown };
        expect(answer, `sequence ${sent.sequence}`).toEqual({ exchangeId: expect.any(String), receipt: expect.stringMatching(/^ey[\w-]+\.[\w-]+\.[\w-]+$/) });
        acceptedIds.set(sent.sequence, answer.exchangeId as string);
      } else {
        // A truncated answer, or any status but 503, is a request the shutdown cut or mishandled.
        expect(outcome.kind === 'connection' || (outcome.kind === 'answered' && outcome.status === 503), `sequence ${sent.sequence}: ${JSON.stringify(outcome)}`).toBe(true);
        retry.push(sent);
      }
    }
    expect(acceptedIds.size).toBeGreaterThanOrEqual(10);
    expect(retry.length).toBeGreaterThan(0); // the load was still on when the signal came
    const durable = await db.query<{ id: string; sequence: number }>("select id, sequence::int as sequence from exchanges where partner = 'EU'");
    const stored = new Map(durable.rows.map((r) => [r.id, r.sequence]));
    for (const [sequence, id] of acceptedIds) expect(stored.get(id), `the 202 of sequence ${sequence}`).toBe(sequence);

    // A new process; the partner retries what failed (a request stored before its answer was lost gets 200 and its receipt).
    const second = runMragw(['start'], env);
    processes.push(second);
    const url2 = await second.listening;
    for (const sent of retry) {
      const outcome = await send(url2, sent);
      expect(outcome.kind === 'answered' && [200, 202].includes(outcome.status), `retry of sequence ${sent.sequence}: ${JSON.stringify(outcome)}`).toBe(true);
    }
    const sequences = all.length + 1;

    // Every exchange applied, exactly once in effect.
    const applyDeadline = Date.now() + 60_000;
    for (;;) {
      const { rows } = await db.query<{ state: string; n: number }>("select state, count(*)::int as n from exchanges where partner = 'EU' group by state");
      const states = Object.fromEntries(rows.map((r) => [r.state, r.n]));
      if (states['applied'] === sequences) break;
      if (Date.now() > applyDeadline) throw new Error(`not all applied: ${JSON.stringify(states)} of ${sequences}; ${second.stderr().slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    const bySequence = await db.query<{ sequence: number; n: number }>("select sequence::int as sequence, count(*)::int as n from exchanges where partner = 'EU' group by sequence order by sequence");
    expect(bySequence.rows).toEqual(Array.from({ length: sequences }, (_, i) => ({ sequence: i + 1, n: 1 })));
    const feed = await db.query<{ mid: string; record: string; benefit: string; change: string }>('select mid, record_key as record, benefit, change from benefit_changes');
    let operators = SNAPSHOT_OPERATORS;
    for (let sequence = 2; sequence <= sequences; sequence++) operators += deltaOperators(sequence);
    expect(feed.rows).toHaveLength(operators);
    expect(new Set(feed.rows.map((f) => `${f.mid}|${f.record}|${f.benefit}|${f.change}`)).size).toBe(operators);
    const recognized = await db.query<{ n: number }>("select count(*)::int as n from operators where partner = 'EU' and recognition_state = 'recognized'");
    expect(recognized.rows[0]!.n).toBe(operators);

    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  }, 120_000);
});
