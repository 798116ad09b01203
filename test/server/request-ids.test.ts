/**
 * Request ids on every log line: a request whose handling logs deeper than the access
 * line (the error handler's 500) shows on both lines the id its X-Request-Id header
 * carries; lines logged outside any request carry none. A whole gateway on real Redis
 * and PostgreSQL, its pino output captured through a destination stream.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSettings } from '../../src/config.ts';
import { startGateway, type RunningGateway } from '../../src/server/gateway.ts';
import { createLogger } from '../../src/server/logger.ts';
import { freshPostgres, type TestDatabase } from '../support/databases.ts';
import { GATEWAY_ID, REDIS_URL, writePartners } from '../support/gateway.ts';

interface Line {
  msg: string;
  requestId?: string;
  status?: number;
  [key: string]: unknown;
}

const lines: Line[] = [];
const sink = new Writable({
  write(chunk: Buffer, _encoding, done) {
    for (const text of chunk.toString('utf8').split('\n')) if (text.trim() !== '') lines.push(JSON.parse(text) as Line);
    done();
  },
});

let database: TestDatabase;
let gateway: RunningGateway;
const prefix = `{mragw-test-${randomBytes(5).toString('hex')}}`;

beforeAll(async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'mragw-ids-'));
  writePartners(join(dataDir, 'partners'));
  database = await freshPostgres();
  const settings = loadSettings({
    PORT: '0',
    METRICS_PORT: '0',
    DATA_DIR: dataDir,
    PARTNERS_DIR: join(dataDir, 'partners'),
    GATEWAY_ID,
    SIGNING_KEY_MIN_AGE_DAYS: '0',
    REDIS_URL,
    QUEUE_PREFIX: prefix,
    DATABASE_URL: database.url,
  });
  gateway = await startGateway(settings, { api: true, workers: false }, createLogger('info', 'mragw', sink));
}, 60_000);

afterAll(async () => {
  await gateway?.close();
  const redis = new Redis(REDIS_URL);
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
  await database?.drop();
});

/** The lines logged with this request id, once the access line is written (after the answer). */
async function linesOf(requestId: string): Promise<Line[]> {
  const deadline = Date.now() + 5_000;
  while (!lines.some((l) => l.requestId === requestId && l.msg === 'request')) {
    if (Date.now() > deadline) throw new Error(`no access line for ${requestId}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return lines.filter((l) => l.requestId === requestId);
}

describe('request ids in the logs', () => {
  it("a 500's error line, logged deep in the error handler, carries the X-Request-Id of its answer", async () => {
    // The store answers, but not as the JWKS route expects: an unexpected error, a 500.
    await database.db.query('alter table signing_keys rename to signing_keys_away');
    let response: Response;
    try {
      response = await fetch(`${gateway.url}/.well-known/jwks.json`);
    } finally {
      await database.db.query('alter table signing_keys_away rename to signing_keys');
    }
    expect(response.status).toBe(500);
    const requestId = response.headers.get('x-request-id')!;
    expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
    // PROTOCOL §8: the internal type, the id to quote, and nothing of the cause.
    const text = await response.text();
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(JSON.parse(text)).toEqual({ type: 'urn:mra:problem:internal', title: 'Internal error', status: 500, detail: expect.any(String), requestId });
    expect(text).not.toMatch(/signing_keys|relation|\.ts|\bat\b|stack/);
    const mine = await linesOf(requestId);
    expect(mine.map((l) => l.msg).sort()).toEqual(['request', 'unexpected error']);
    // The cause is in the log line that carries the same id.
    expect(JSON.stringify(mine.find((l) => l.msg === 'unexpected error')!['err'])).toContain('signing_keys');
    expect(mine.find((l) => l.msg === 'request')).toMatchObject({ status: 500, route: '/.well-known/jwks.json' });
    // No other line claims it.
    expect(lines.filter((l) => l.requestId === requestId)).toHaveLength(2);
  });

  it("a caller's own X-Request-Id is echoed and logged; two requests never share an id", async () => {
    const a = await fetch(`${gateway.url}/healthz`, { headers: { 'X-Request-Id': 'trace-abc.123' } });
    expect(a.headers.get('x-request-id')).toBe('trace-abc.123');
    expect(await linesOf('trace-abc.123')).toMatchObject([{ msg: 'request', status: 200 }]);
    const b = await fetch(`${gateway.url}/healthz`, { headers: { 'X-Request-Id': 'not valid because of spaces' } });
    const generated = b.headers.get('x-request-id')!;
    expect(generated).not.toBe('not valid because of spaces');
    expect(await linesOf(generated)).toHaveLength(1);
  });

  it('lines logged outside any request carry no request id', () => {
    const started = lines.find((l) => l.msg === 'gateway started');
    expect(started).toBeDefined();
    expect(started).not.toHaveProperty('requestId');
  });
});
