/**
 * Metrics after real work, scraped from a whole gateway's metrics listener (real
 * PostgreSQL, Redis and HTTP): deliveries counted by partner and outcome (delivered,
 * retry, dead), job latencies by queue and outcome (completed, failed), and the jobs each
 * queue holds by state, counted by BullMQ at scrape. Japan's endpoint answers 503, then
 * a verified receipt; the EU's answers 400.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintDevStaffToken } from '../../src/staff/dev-issuer.ts';
import { freePort, jpReceipt, until } from '../support/delivery.ts';
import { partnerKeys, REDIS_URL, startTestGateway, type TestGateway } from '../support/gateway.ts';

const members = readFileSync(new URL('../../fixtures/ctpat/sample/input.ndjson', import.meta.url), 'utf8');
const euJwks = (JSON.parse(readFileSync(new URL('../../../shared/spec/vectors/partner.json', import.meta.url), 'utf8')) as { partner: { keys: { jwks: { keys: object[] } } } }).partner.keys.jwks;

let gw: TestGateway;
let endpoint: Server;
const seen: Record<string, number> = { jp: 0, eu: 0 };

/** Japan: a 503 first, then a verified receipt; the EU: a 400, a dead letter at once. */
async function answerDelivery(path: string, signature: string, body: Buffer): Promise<{ status: number; body: unknown }> {
  if (path === '/jp') {
    seen['jp']! += 1;
    if (seen['jp'] === 1) return { status: 503, body: { type: 'about:blank', title: 'Unavailable', status: 503, detail: 'later' } };
    return { status: 202, body: await jpReceipt(signature, body) };
  }
  seen['eu']! += 1;
  return { status: 400, body: { type: 'urn:mra:problem:document-invalid', title: 'Document invalid', status: 400, detail: 'no' } };
}

const scrape = async () => {
  const response = await fetch(gw.gateway.metricsUrl!);
  expect(response.status).toBe(200);
  return response.text();
};
/** The value of one sample, or undefined when it is not exposed. */
const sample = (text: string, line: string) => {
  const found = text.split('\n').find((l) => l.startsWith(`${line} `));
  return found === undefined ? undefined : Number(found.slice(line.length + 1));
};

beforeAll(async () => {
  const port = await freePort();
  endpoint = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      answerDelivery(req.url ?? '', String(req.headers['jws-signature']), Buffer.concat(chunks))
        .then(({ status, body }) => res.writeHead(status, { 'Content-Type': status < 300 ? 'application/json' : 'application/problem+json' }).end(JSON.stringify(body)))
        .catch(() => res.writeHead(500).end());
    });
  });
  await new Promise<void>((resolve) => endpoint.listen(port, '127.0.0.1', resolve));
  gw = await startTestGateway({
    store: 'PostgreSQL',
    env: { MRAGW_DEV_STAFF: '1', RETENTION_DAYS: '30' },
    partners: {
      eu: { id: 'EU', name: 'European Union', programme: 'EU-AEO', format: 'eu-aeo', keys: { algorithms: ['ES256'], jwks: euJwks }, delivery: { url: `http://127.0.0.1:${port}/eu` } },
      jp: { id: 'JP', name: 'Japan', programme: 'JP-AEO', format: 'jp-aeo', mra: { outboundBusinessTypes: ['EXPORTER'] }, keys: { algorithms: ['ES256'], jwks: { keys: [(({ d, ...pub }) => ({ ...pub, alg: 'ES256', use: 'sig' }))(partnerKeys.JP.privateJwk)] } }, delivery: { url: `http://127.0.0.1:${port}/jp` } },
    },
  });
  const token = await mintDevStaffToken(gw.dataDir, { subject: 'officer.metrics', roles: ['admin'], ttlSeconds: 600 });
  const imported = await fetch(`${gw.url}/v1/ctpat/members`, { method: 'POST', body: members, headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/x-ndjson' } });
  expect(imported.status).toBe(200);
}, 60_000);

afterAll(async () => {
  await gw?.close();
  await new Promise((resolve) => endpoint?.close(resolve));
});

describe('metrics after work has run', () => {
  it('counts deliveries by partner and outcome: delivered, retry, dead', async () => {
    const text = await until(async () => {
      const t = await scrape();
      return sample(t, 'mragw_deliveries_total{partner="JP",outcome="delivered"}') === 1 && sample(t, 'mragw_deliveries_total{partner="EU",outcome="dead"}') === 1 ? t : undefined;
    }, 30_000);
    expect(sample(text, 'mragw_deliveries_total{partner="JP",outcome="retry"}')).toBe(1);
    expect(sample(text, 'mragw_deliveries_total{partner="EU",outcome="delivered"}')).toBeUndefined();
    expect(seen).toEqual({ jp: 2, eu: 1 });
  });

  it('observes job latency by queue and outcome, from creation to the end', async () => {
    // Each partner's document was prepared, then delivered (or dead-lettered: the job itself completed).
    // An attempt is counted before its job ends, so the last job may still be finishing.
    const queues = ['outbound-JP', 'outbound-EU', 'deliver-JP', 'deliver-EU'];
    const text = await until(async () => {
      const t = await scrape();
      return queues.every((queue) => (sample(t, `mragw_job_latency_seconds_count{queue="${queue}",outcome="completed"}`) ?? 0) >= 1) ? t : undefined;
    });
    // Japan's delivery waited out a backoff of at least a second before it completed.
    expect(sample(text, 'mragw_job_latency_seconds_sum{queue="deliver-JP",outcome="completed"}')).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'mragw_job_latency_seconds_bucket{le="0.05",queue="deliver-JP",outcome="completed"}')).toBe(0);
    expect(sample(text, 'mragw_job_latency_seconds_count{queue="deliver-JP",outcome="failed"}')).toBeUndefined();

    // A job that cannot succeed (its delivery does not exist) fails for good, once, and is observed as failed.
    const queue = new Queue('deliver-JP', { connection: { url: REDIS_URL }, prefix: gw.prefix });
    try {
      await queue.add('deliver-document', { partner: 'JP', deliveryId: 'no-such-delivery' }, { jobId: 'deliver-nothing' });
    } finally {
      await queue.close();
    }
    const after = await until(async () => {
      const t = await scrape();
      return sample(t, 'mragw_job_latency_seconds_count{queue="deliver-JP",outcome="failed"}') === 1 ? t : undefined;
    });
    expect(sample(after, 'mragw_queue_jobs{queue="deliver-JP",state="failed"}')).toBe(1);
  });

  it('reports the jobs each queue holds by state at scrape: the retention scheduler waits as a delayed job', async () => {
    const text = await scrape();
    for (const state of ['waiting', 'active', 'delayed', 'failed']) {
      for (const queue of ['apply-EU', 'apply-JP', 'deliver-EU']) expect(sample(text, `mragw_queue_jobs{queue="${queue}",state="${state}"}`)).toBe(0);
    }
    // Job schedulers wait as delayed jobs: each partner's SNAPSHOT, and the calendar of each of the three partners (EU, JP, KR).
    expect(sample(text, 'mragw_queue_jobs{queue="outbound-JP",state="delayed"}')).toBe(1);
    expect(sample(text, 'mragw_queue_jobs{queue="mra-calendar",state="delayed"}')).toBe(3);
    // RETENTION_DAYS is set: the daily run is scheduled, so one job waits for 03:30 UTC.
    expect(sample(text, 'mragw_queue_jobs{queue="retention",state="delayed"}')).toBe(1);
    expect(sample(text, 'mragw_queue_jobs{queue="retention",state="waiting"}')).toBe(0);
  });
});
