/**
 * Nothing acknowledged is lost, and nothing is queued twice: the API process is killed
 * (SIGKILL) right after it acknowledged a document and before anything was queued; a
 * worker then queues the job; a second worker, after the first is killed too, finds
 * nothing more to queue. Real processes, PostgreSQL and Redis.
 */
import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { signRequest } from '../../src/sign/request-signature.ts';
import { addToOutbox, pendingCount } from '../../src/store/outbox.ts';
import { freshPostgres, type TestDatabase } from '../support/databases.ts';
import { euDocument, GATEWAY_ID, partnerKeys, REDIS_URL, writePartners } from '../support/gateway.ts';
import { killHard, runMragw as run, type MragwProcess } from '../support/processes.ts';

const children: MragwProcess[] = [];
const runMragw = (command: 'serve' | 'work', env: Record<string, string>) => {
  const p = run([command], env);
  children.push(p);
  return p;
};
const kill = killHard;

async function until(check: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('a crash between commit and enqueue', () => {
  let database: TestDatabase;
  afterAll(async () => {
    await Promise.all(children.map(kill));
    await database?.drop();
  });

  it('loses nothing and queues the exchange exactly once', async () => {
    database = await freshPostgres();
    const dir = mkdtempSync(join(tmpdir(), 'mragw-crash-'));
    writePartners(join(dir, 'partners'));
    const keyFile = join(dir, 'gateway-key.pem');
    writeFileSync(keyFile, generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'pem', type: 'pkcs8' }));
    const prefix = `{mragw-test-${randomBytes(5).toString('hex')}}`;
    const env = { DATABASE_URL: database.url!, SIGNING_KEY_FILE: keyFile, PARTNERS_DIR: join(dir, 'partners'), DATA_DIR: dir, GATEWAY_ID, REDIS_URL, QUEUE_PREFIX: prefix, PORT: '0', METRICS_PORT: '0', LOG_LEVEL: 'silent', SIGNING_KEY_MIN_AGE_DAYS: '0' };

    // The API alone: it commits and answers, and queues nothing itself.
    const api = runMragw('serve', env);
    const url = await api.listening;
    const body = Buffer.from(euDocument({ batchId: `EU-${randomUUID().slice(0, 8)}`, sequence: 1 }));
    const signature = signRequest({ key: partnerKeys.EU, iss: 'EU', aud: GATEWAY_ID, method: 'POST', target: '/v1/exchanges', body });
    const response = await fetch(`${url}/v1/exchanges`, { method: 'POST', headers: { 'Content-Type': 'application/xml', 'JWS-Signature': signature }, body });
    expect(response.status).toBe(202);
    const { exchangeId } = (await response.json()) as { exchangeId: string };
    await kill(api);

    const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    const queue = new Queue('apply-EU', { connection: redis, prefix });
    try {
      expect(await pendingCount(database.db)).toBe(1);
      expect(await queue.getJob(`apply-${exchangeId}`)).toBeUndefined();

      // A worker starts, relays the job, and is killed in turn.
      const worker = runMragw('work', env);
      await until(async () => (await pendingCount(database.db)) === 0);
      await kill(worker);
      expect((await queue.getJob(`apply-${exchangeId}`))?.data).toEqual({ partner: 'EU', exchangeId, sequence: 1 });

      // Another worker finds nothing left to queue: still exactly one job. A marker put in
      // the outbox after it starts shows that its relay has made a pass since.
      const again = runMragw('work', env);
      await addToOutbox(database.db, { queue: 'marker', job: 'apply-batch', jobId: 'marker-1', payload: {} });
      await until(async () => (await pendingCount(database.db)) === 0);
      await kill(again);
      const counts = await queue.getJobCounts();
      expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(1);
    } finally {
      await queue.obliterate({ force: true });
      await queue.close();
      const marker = new Queue('marker', { connection: redis, prefix });
      await marker.obliterate({ force: true });
      await marker.close();
      redis.disconnect();
    }
  }, 60_000);
});
