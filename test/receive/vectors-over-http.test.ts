/**
 * The test vectors (shared/spec/vectors) sent over HTTP to a gateway whose id is the
 * vectors' and whose clock is injected at their `now` (PROTOCOL §9): each valid one is
 * accepted, each invalid one refused with its slug and a 401 or 4xx as §3 says.
 */
import { removeRelocatedCluster } from '../../src/store/embedded-postgres.ts';
import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { loadSettings } from '../../src/config.ts';
import { startGateway, type RunningGateway } from '../../src/server/gateway.ts';
import { REDIS_URL } from '../support/gateway.ts';

const dir = new URL('../../../shared/spec/vectors/', import.meta.url);
const partnerFile = JSON.parse(readFileSync(new URL('partner.json', dir), 'utf8')) as { gatewayId: string; now: number; partner: { id: string; format: string; keys: object }; otherPartner: { id: string; format: string; keys: object } };
const vectors = readdirSync(dir)
  .filter((f) => f !== 'partner.json' && f.endsWith('.json'))
  .map((f) => JSON.parse(readFileSync(new URL(f, dir), 'utf8')) as { vector: number; description: string; method: string; path: string; contentType: string; body: string; jwsSignature: string; expect: string; now: number })
  .sort((a, b) => a.vector - b.vector);

const statusOf = (slug: string) => (slug === 'valid' ? [200, 202] : slug === 'partner-suspended' ? [403] : slug === 'unsupported-media-type' ? [415] : slug === 'payload-too-large' ? [413] : [401]);

describe('the test vectors over HTTP', () => {
  let gateway: RunningGateway;
  const prefix = `{mragw-test-${randomBytes(5).toString('hex')}}`;
  let data: string;
  beforeAll(async () => {
    data = mkdtempSync(join(tmpdir(), 'mragw-vectors-'));
    mkdirSync(join(data, 'partners'));
    for (const p of [partnerFile.partner, partnerFile.otherPartner]) {
      writeFileSync(join(data, 'partners', `${p.id}.yaml`), JSON.stringify({ id: p.id, name: p.id, programme: `${p.id}-AEO`, format: p.format, keys: p.keys }));
    }
    const settings = loadSettings({ PORT: '0', METRICS_PORT: '0', DATA_DIR: data, PARTNERS_DIR: join(data, 'partners'), GATEWAY_ID: partnerFile.gatewayId, REDIS_URL, QUEUE_PREFIX: prefix, SIGNING_KEY_MIN_AGE_DAYS: '0', LOG_LEVEL: 'silent' });
    gateway = await startGateway(settings, { api: true, workers: false }, pino({ level: 'silent' }), { clock: () => partnerFile.now * 1000 });
  });
  afterAll(async () => {
    await gateway?.close();
    removeRelocatedCluster(data);
    const redis = new Redis(REDIS_URL);
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  it.each(vectors)('vector $vector: $description → $expect', async (v) => {
    const response = await fetch(`${gateway.url}${v.path}`, { method: v.method, headers: { 'Content-Type': v.contentType, 'JWS-Signature': v.jwsSignature }, ...(v.method === 'POST' && { body: v.body }) });
    expect(statusOf(v.expect)).toContain(response.status);
    if (v.expect !== 'valid') {
      expect(((await response.json()) as { type: string }).type).toBe(`urn:mra:problem:${v.expect}`);
      if (response.status === 401) expect(response.headers.get('www-authenticate')).toBe('JWS-Signature');
    }
  });
});
