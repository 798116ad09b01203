/**
 * What the edge does under pressure and outages: limits, slow senders, unreadable
 * requests, Redis down (acceptance goes on, jobs wait), the store down (503).
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { OutboxRelay } from '../../src/queue/outbox-relay.ts';
import { exchangeDocument } from '../../src/store/exchanges.ts';
import { pendingCount } from '../../src/store/outbox.ts';
import { adminUrl } from '../support/databases.ts';
import { fixedClock } from '../support/clock.ts';
import { euDocument, REDIS_URL, startTestGateway, type TestGateway } from '../support/gateway.ts';

const uniq = () => randomUUID().slice(0, 8);
let gw: TestGateway | undefined;
afterEach(async () => {
  await gw?.close();
  gw = undefined;
});

/** Sends raw bytes on a socket and returns what came back. */
function rawRequest(url: string, bytes: string, keepOpenMs = 0): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => {
      socket.write(bytes);
      if (keepOpenMs === 0) return;
    });
    let answer = '';
    socket.on('data', (d) => (answer += d.toString()));
    socket.on('end', () => resolve(answer));
    socket.on('close', () => resolve(answer));
    socket.on('error', reject);
  });
}

describe('limits', () => {
  it('gives an address that caused too many refusals 429 rate-limited, before any check', async () => {
    const stopped = fixedClock()();
    let now = stopped;
    gw = await startTestGateway({ store: 'embedded', env: { PREAUTH_FAILURES_PER_MINUTE: '3' }, clock: () => now });
    const unsigned = () => fetch(`${gw!.url}/v1/exchanges`, { method: 'POST', headers: { 'Content-Type': 'application/xml' }, body: '<x/>' });
    for (let i = 0; i < 3; i++) expect((await unsigned()).status).toBe(401);
    const limited = await unsigned();
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBe(30); // the clock stands half-way through its minute
    // A valid request from the same address is refused too: the check comes first.
    const signed = await gw.request({ body: euDocument({ batchId: `EU-${uniq()}`, sequence: 1 }) });
    expect(signed.status).toBe(429);
    // The next minute the address starts afresh.
    now = stopped + 60_000;
    expect((await unsigned()).status).toBe(401);
  });

  it("holds a partner to its own requests per minute, counting verified requests only", async () => {
    gw = await startTestGateway({ store: 'embedded', partners: { eu: euWithLimit(2) }, clock: fixedClock() });
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await gw.request({ body: euDocument({ batchId: `EU-${uniq()}`, sequence: 1 + i, kind: i === 0 ? 'SNAPSHOT' : 'DELTA' }) })).status);
    expect(statuses).toEqual([202, 202, 429]);
  });

  it('answers 503 busy when unauthenticated bytes in flight pass PREAUTH_MAX_BYTES', async () => {
    gw = await startTestGateway({ store: 'embedded', env: { PREAUTH_MAX_BYTES: '1000' } });
    const response = await gw.request({ body: euDocument({ batchId: `EU-${uniq()}`, sequence: 1, records: 10 }) });
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBeTruthy();
    expect(((await response.json()) as { type: string }).type).toBe('urn:mra:problem:busy');
  });

  it('cuts off a sender that does not deliver its body in time: 408', async () => {
    gw = await startTestGateway({ store: 'embedded', env: { BODY_TIMEOUT_S: '1' } });
    const { signRequest } = await import('../../src/sign/request-signature.ts');
    const { partnerKeys, GATEWAY_ID } = await import('../support/gateway.ts');
    const body = euDocument({ batchId: `EU-${uniq()}`, sequence: 1 });
    const signature = signRequest({ key: partnerKeys.EU, iss: 'EU', aud: GATEWAY_ID, method: 'POST', target: '/v1/exchanges', body: Buffer.from(body) });
    const head = `POST /v1/exchanges HTTP/1.1\r\nHost: x\r\nContent-Type: application/xml\r\nContent-Length: ${Buffer.byteLength(body)}\r\nJWS-Signature: ${signature}\r\n\r\n`;
    const answer = await rawRequest(gw.url, head + body.slice(0, 100), 2000);
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
    expect(answer).toContain('urn:mra:problem:request-timeout');
  });

  it('answers a request not readable as HTTP with 400 bad-request', async () => {
    gw = await startTestGateway({ store: 'embedded' });
    const answer = await rawRequest(gw.url, 'THIS IS NOT HTTP\r\n\r\n');
    expect(answer).toMatch(/^HTTP\/1\.1 400/);
    expect(answer).toContain('urn:mra:problem:bad-request');
  });
});

describe('outages', () => {
  it('keeps accepting while Redis is down; the jobs wait in the store and are queued once Redis answers', async () => {
    gw = await startTestGateway({ store: 'PostgreSQL', env: { REDIS_URL: 'redis://127.0.0.1:1' } });
    const response = await gw.request({ body: euDocument({ batchId: `EU-${uniq()}`, sequence: 1 }) });
    expect(response.status).toBe(202);
    const { exchangeId } = (await response.json()) as { exchangeId: string };
    const ready = await fetch(`${gw.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ store: 'up', redis: 'down' });
    expect(await pendingCount(gw.gateway.db)).toBe(1);

    // Redis "returns": a relay on the same store with a working Redis queues the job.
    await gw.gateway.relay.stop();
    const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    const prefix = `{mragw-test-${uniq()}}`;
    const relay = new OutboxRelay(gw.gateway.db, redis, pino({ level: 'silent' }), prefix);
    await relay.drain();
    const queue = new Queue('apply-EU', { connection: redis, prefix });
    expect((await queue.getJob(`apply-${exchangeId}`))?.data).toEqual({ partner: 'EU', exchangeId, sequence: 1 });
    expect(await pendingCount(gw.gateway.db)).toBe(0);
    await queue.obliterate({ force: true });
    await relay.stop();
    redis.disconnect();
  });

  it('answers 503 unavailable with Retry-After, and /readyz 503, while the store is unreachable; nothing is acknowledged, and the same documents are accepted once it is back', async () => {
    gw = await startTestGateway({ store: 'PostgreSQL' });
    const database = new URL(gw.settings.DATABASE_URL!).pathname.slice(1);
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    const bodies = Array.from({ length: 6 }, (_, i) => euDocument({ batchId: `EU-${uniq()}`, sequence: i + 1 }));
    await admin.query(`alter database ${database} allow_connections false`);
    await admin.query('select pg_terminate_backend(pid) from pg_stat_activity where datname = $1', [database]);
    try {
      // Several partners' requests at once, each finding the store gone: every one is refused, none acknowledged.
      const during = await Promise.all(bodies.map((body) => gw!.request({ body })));
      for (const response of during) {
        expect(response.status).toBe(503);
        expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
        expect(((await response.json()) as { type: string }).type).toBe('urn:mra:problem:unavailable');
      }
      const ready = await fetch(`${gw.url}/readyz`);
      expect(ready.status).toBe(503);
      expect(await ready.json()).toMatchObject({ store: 'down' });
      expect((await fetch(`${gw.url}/healthz`)).status).toBe(200);
    } finally {
      await admin.query(`alter database ${database} allow_connections true`);
      await admin.end();
    }
    expect(await exchangeCount(gw.settings.DATABASE_URL!)).toBe(0);
    // The same gateway, not restarted: the same documents (signed afresh, as a partner retrying would) are accepted now.
    const after = await Promise.all(bodies.map((body) => gw!.request({ body })));
    expect(after.map((r) => r.status)).toEqual(bodies.map(() => 202));
    expect((await fetch(`${gw.url}/readyz`)).status).toBe(200);
    expect(await exchangeCount(gw.settings.DATABASE_URL!)).toBe(bodies.length);
  });

  it('a large body, whose pieces are stored as it arrives, gets 503 too while the store is unreachable; sent again, it is accepted whole', async () => {
    gw = await startTestGateway({ store: 'PostgreSQL', partners: { eu: euWithLimit(600, 8 * 1_048_576) } });
    const database = new URL(gw.settings.DATABASE_URL!).pathname.slice(1);
    const body = euDocument({ batchId: `EU-${uniq()}`, sequence: 1, records: 9_000 });
    expect(Buffer.byteLength(body)).toBeGreaterThan(2 * 1_048_576);
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    await admin.query(`alter database ${database} allow_connections false`);
    await admin.query('select pg_terminate_backend(pid) from pg_stat_activity where datname = $1', [database]);
    try {
      const during = await gw.request({ body });
      expect(during.status).toBe(503);
      expect(Number(during.headers.get('retry-after'))).toBeGreaterThan(0);
    } finally {
      await admin.query(`alter database ${database} allow_connections true`);
      await admin.end();
    }
    expect(await exchangeCount(gw.settings.DATABASE_URL!)).toBe(0);
    const after = await gw.request({ body });
    expect(after.status).toBe(202);
    const { exchangeId } = (await after.json()) as { exchangeId: string };
    expect((await exchangeDocument(gw.gateway.db, exchangeId))!.body!.equals(Buffer.from(body))).toBe(true);
  });
});

async function exchangeCount(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<{ n: number }>('select count(*)::int as n from exchanges')).rows[0]!.n;
  } finally {
    await client.end();
  }
}

function euWithLimit(requestsPerMinute: number, maxBodyBytes = 1_048_576): object {
  const vectors = JSON.parse(readFileSync(new URL('../../../shared/spec/vectors/partner.json', import.meta.url), 'utf8')) as { partner: { keys: { jwks: { keys: object[] } } } };
  return {
    id: 'EU', name: 'European Union', programme: 'EU-AEO', format: 'eu-aeo',
    keys: { algorithms: ['ES256'], jwks: { keys: [vectors.partner.keys.jwks.keys[0]] } },
    limits: { maxBodyBytes, requestsPerMinute },
  };
}

describe('behind a reverse proxy', () => {
  it('answers under PUBLIC_BASE_PATH and compares htu without it', async () => {
    gw = await startTestGateway({ store: 'embedded', env: { PUBLIC_BASE_PATH: '/mra' } });
    expect(gw.url.endsWith('/mra')).toBe(true);
    const { signRequest } = await import('../../src/sign/request-signature.ts');
    const { partnerKeys, GATEWAY_ID } = await import('../support/gateway.ts');
    const body = Buffer.from(euDocument({ batchId: `EU-${uniq()}`, sequence: 1 }));
    const signature = signRequest({ key: partnerKeys.EU, iss: 'EU', aud: GATEWAY_ID, method: 'POST', target: '/v1/exchanges', body });
    const response = await fetch(`${gw.url}/v1/exchanges`, { method: 'POST', headers: { 'Content-Type': 'application/xml', 'JWS-Signature': signature }, body });
    expect(response.status).toBe(202);
    expect(response.headers.get('location')).toMatch(/^\/mra\/v1\/exchanges\/[0-9a-f-]{36}$/);
    const outside = await fetch(`${gw.url.replace(/\/mra$/, '')}/v1/exchanges`, { method: 'POST', headers: { 'Content-Type': 'application/xml', 'JWS-Signature': signature }, body });
    expect(outside.status).toBe(404);
    // A signature over the prefixed path is not the one the gateway compares.
    const withPrefix = signRequest({ key: partnerKeys.EU, iss: 'EU', aud: GATEWAY_ID, method: 'POST', target: '/mra/v1/exchanges', body });
    const refused = await fetch(`${gw.url}/v1/exchanges`, { method: 'POST', headers: { 'Content-Type': 'application/xml', 'JWS-Signature': withPrefix }, body });
    expect(((await refused.json()) as { type: string }).type).toBe('urn:mra:problem:htu-mismatch');
  });
});

describe('metrics', () => {
  it('serves Prometheus metrics on their own listener, counting requests and refusals', async () => {
    gw = await startTestGateway({ store: 'embedded' });
    await fetch(`${gw.url}/v1/exchanges`, { method: 'POST', headers: { 'Content-Type': 'application/xml' }, body: '<x/>' });
    const response = await fetch(gw.gateway.metricsUrl!);
    expect(response.status).toBe(200);
    const text = await response.text();
    expect(text).toMatch(/mragw_http_requests_total\{method="POST",route="\/v1\/exchanges",status="401"\} 1/);
    expect(text).toMatch(/mragw_refusals_total\{slug="header-invalid"\} 1/);
    expect(text).toMatch(/mragw_outbox_pending \d+/);
  });
});
