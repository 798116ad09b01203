/**
 * Issue 11, F4: the API process is killed (SIGKILL) while a partner's request is under
 * way: in the middle of the body, right after its last byte, or after the commit with
 * the answer lost. The partner retries the same request (same jti, same body, re-signed
 * with a fresh iat, as PROTOCOL §3 allows) to a new process on the same database: it gets
 * a clean first acceptance (202) or the earlier receipt (200), never a second exchange.
 * Real `mragw` processes, PostgreSQL and Redis (a prefix of the test's own).
 */
import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signRequest } from '../../src/sign/request-signature.ts';
import { freshPostgres, type TestDatabase } from '../support/databases.ts';
import { euBatch } from '../support/eu-operators.ts';
import { GATEWAY_ID, partnerKeys, REDIS_URL, writePartners } from '../support/gateway.ts';
import { killHard, runMragw, type MragwProcess } from '../support/processes.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let database: TestDatabase;
let env: Record<string, string>;
let prefix: string;
const children: MragwProcess[] = [];
const serve = () => {
  const p = runMragw(['serve'], env);
  children.push(p);
  return p;
};

beforeAll(async () => {
  database = await freshPostgres();
  const dir = mkdtempSync(join(tmpdir(), 'mragw-api-kill-'));
  writePartners(join(dir, 'partners'));
  const keyFile = join(dir, 'gateway-key.pem');
  writeFileSync(keyFile, generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'pem', type: 'pkcs8' }));
  prefix = `{mragw-test-${randomBytes(5).toString('hex')}}`;
  env = { DATABASE_URL: database.url, SIGNING_KEY_FILE: keyFile, PARTNERS_DIR: join(dir, 'partners'), DATA_DIR: dir, GATEWAY_ID, REDIS_URL, QUEUE_PREFIX: prefix, PORT: '0', METRICS_PORT: '0', LOG_LEVEL: 'silent', SIGNING_KEY_MIN_AGE_DAYS: '0' };
});

afterAll(async () => {
  await Promise.all(children.map(killHard));
  const redis = new Redis(REDIS_URL);
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
  await database?.drop();
});

/** A signed request for `body` under `jti`, signed now (a retry signs again with a fresh iat). */
const signed = (body: Buffer, jti: string) => signRequest({ key: partnerKeys.EU, iss: 'EU', aud: GATEWAY_ID, method: 'POST', target: '/v1/exchanges', body, jti });

/**
 * Sends `body` in slices over a raw HTTP request, its signature made for the whole body,
 * and calls `during` with how many bytes are out after each slice (false stops sending).
 * Resolves with whatever came back: an answer, or the connection's end.
 */
function sendSlowly(url: string, body: Buffer, jti: string, during: (sent: number) => Promise<boolean>): Promise<{ status?: number; error?: string }> {
  return new Promise((resolve) => {
    const req = request(`${url}/v1/exchanges`, { method: 'POST', headers: { 'Content-Type': 'application/xml', 'Content-Length': String(body.length), 'JWS-Signature': signed(body, jti) } });
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode! }));
      res.on('error', (e) => resolve({ status: res.statusCode!, error: e.message }));
    });
    req.on('error', (e) => resolve({ error: e.message }));
    void (async () => {
      const slice = 32 * 1024;
      for (let at = 0; at < body.length; at += slice) {
        const last = at + slice >= body.length;
        const piece = body.subarray(at, at + slice);
        if (last) req.end(piece);
        else req.write(piece);
        if (!(await during(Math.min(at + slice, body.length)))) return;
        if (!last) await sleep(15);
      }
    })();
  });
}

/** The retry, to the new process, and what the store then holds for the jti and the batch. */
async function retry(url: string, body: Buffer, jti: string, batchId: string) {
  const response = await fetch(`${url}/v1/exchanges`, { method: 'POST', headers: { 'Content-Type': 'application/xml', 'JWS-Signature': signed(body, jti) }, body });
  const answer = (await response.json()) as { exchangeId: string; receipt: string };
  const { rows } = await database.db.query<{ id: string; receipt: string; request_jti: string }>("select id::text, receipt, request_jti from exchanges where partner = 'EU' and (request_jti = $1 or batch_id = $2)", [jti, batchId]);
  const jobs = await database.db.query<{ n: number }>("select count(*)::int as n from outbox where job = 'apply-batch' and payload->>'exchangeId' = $1", [answer.exchangeId]);
  return { status: response.status, answer, exchanges: rows, jobs: jobs.rows[0]!.n };
}

let sequence = 0;
/** A large-ish document (about 450 KB), each case a batch of its own. */
function document(): { body: Buffer; jti: string; batchId: string } {
  sequence++;
  const batchId = `KILL-${sequence}-${randomUUID().slice(0, 8)}`;
  const operators = Array.from({ length: 1_000 }, (_, i) => ({ n: sequence * 10_000 + i }));
  return { body: Buffer.from(euBatch({ batchId, sequence, kind: 'SNAPSHOT', operators })), jti: randomUUID(), batchId };
}

describe('F4: the API process killed mid-request, the partner retries', () => {
  it('killed in the middle of the body: nothing was stored, and the retry is a clean first acceptance', async () => {
    const { body, jti, batchId } = document();
    const api = serve();
    const url = await api.listening;
    let killed = false;
    const outcome = await sendSlowly(url, body, jti, async (sent) => {
      if (sent < body.length / 2) return true;
      killed = true;
      await killHard(api);
      return false;
    });
    expect(killed).toBe(true);
    expect(outcome.status).toBeUndefined();
    expect((await database.db.query("select 1 from exchanges where request_jti = $1", [jti])).rows).toEqual([]);

    const again = serve();
    const after = await retry(await again.listening, body, jti, batchId);
    expect(after.status).toBe(202);
    expect(after.exchanges).toEqual([{ id: after.answer.exchangeId, receipt: after.answer.receipt, request_jti: jti }]);
    expect(after.jobs).toBe(1);
    await killHard(again);
  }, 60_000);

  it('killed right after the last byte, before the answer: the retry gets a first acceptance or the earlier receipt, one exchange either way', async () => {
    const { body, jti, batchId } = document();
    const api = serve();
    const url = await api.listening;
    const outcome = await sendSlowly(url, body, jti, async (sent) => {
      if (sent < body.length) return true;
      await killHard(api);
      return false;
    });
    // Whatever the first process managed (usually nothing: the kill came before the answer), the retry settles it.
    expect(outcome.status === undefined || outcome.status === 202).toBe(true);
    const again = serve();
    const after = await retry(await again.listening, body, jti, batchId);
    expect([200, 202]).toContain(after.status);
    expect(after.exchanges).toEqual([{ id: after.answer.exchangeId, receipt: after.answer.receipt, request_jti: jti }]);
    expect(after.jobs).toBe(1);
    await killHard(again);
  }, 60_000);

  it('killed after the commit, the answer lost on the way: the retry gets the earlier receipt byte for byte, and no second exchange', async () => {
    const { body, jti, batchId } = document();
    const api = serve();
    const url = await api.listening;
    // The process dies as soon as the exchange is stored; whether or not its answer left
    // first, the partner never reads it and retries.
    const outcome = sendSlowly(url, body, jti, async () => true);
    for (const deadline = Date.now() + 20_000; ; await sleep(5)) {
      if ((await database.db.query('select 1 from exchanges where request_jti = $1', [jti])).rows.length > 0) break;
      if (Date.now() > deadline) throw new Error('the exchange was never stored');
    }
    await killHard(api);
    await outcome;
    const stored = (await database.db.query<{ receipt: string }>('select receipt from exchanges where request_jti = $1', [jti])).rows[0]!.receipt;

    const again = serve();
    const after = await retry(await again.listening, body, jti, batchId);
    expect(after.status).toBe(200);
    expect(after.answer.receipt).toBe(stored);
    expect(after.exchanges).toEqual([{ id: after.answer.exchangeId, receipt: stored, request_jti: jti }]);
    expect(after.jobs).toBe(1);
    await killHard(again);
  }, 60_000);
});
