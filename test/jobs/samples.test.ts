/**
 * The sample documents of all six partners, sent to a gateway with the shipped registry
 * (config/partners) and signed with the partners' development keys, as `mragw demo`
 * does: the recognitions, benefits and discrepancies the rules say.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSigningKey } from '../../src/cli/key-files.ts';
import { loadSettings } from '../../src/config.ts';
import { startGateway, type RunningGateway } from '../../src/server/gateway.ts';
import { signRequest } from '../../src/sign/request-signature.ts';
import { loadFormats } from '../../src/translate/load-mappings.ts';
import { freshPostgres, type TestDatabase } from '../support/databases.ts';
import { REDIS_URL } from '../support/gateway.ts';

const root = new URL('../../', import.meta.url).pathname;
const prefix = `{mragw-test-${randomBytes(5).toString('hex')}}`;
let gateway: RunningGateway;
let database: TestDatabase;

async function applied(ids: string[]): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const { rows } = await gateway.db.query<{ n: number }>("select count(*)::int as n from exchanges where id = any($1::uuid[]) and state = 'applied'", [ids]);
    if (rows[0]!.n === ids.length) return;
    if (Date.now() > deadline) throw new Error('the samples were not all applied');
    await new Promise((r) => setTimeout(r, 50));
  }
}

beforeAll(async () => {
  database = await freshPostgres();
  const settings = loadSettings({ PORT: '0', METRICS_PORT: '0', DATA_DIR: mkdtempSync(join(tmpdir(), 'mragw-samples-')), PARTNERS_DIR: join(root, 'config/partners'), DATABASE_URL: database.url!, REDIS_URL, QUEUE_PREFIX: prefix, LOG_LEVEL: 'silent', SIGNING_KEY_MIN_AGE_DAYS: '0' });
  gateway = await startGateway(settings, { api: true, workers: true }, pino({ level: 'silent' }));
  const formats = loadFormats();
  const ids: string[] = [];
  for (const partner of gateway.registry.partners()) {
    const dir = join(root, 'fixtures', partner.format, 'sample');
    const body = readFileSync(join(dir, readdirSync(dir).find((f) => f.startsWith('input.'))!));
    const key = await loadSigningKey(join(root, 'config/dev-keys', `${partner.id.toLowerCase()}.private.jwk.json`));
    const contentType = formats.get(partner.format)!.mediaType;
    const signature = signRequest({ key, iss: partner.id, aud: settings.GATEWAY_ID, method: 'POST', target: '/v1/exchanges', body });
    const response = await fetch(`${gateway.url}/v1/exchanges`, { method: 'POST', headers: { 'Content-Type': contentType, 'JWS-Signature': signature }, body });
    expect(response.status).toBe(202);
    ids.push(((await response.json()) as { exchangeId: string }).exchangeId);
  }
  await applied(ids);
});
afterAll(async () => {
  await gateway?.close();
  await database?.drop();
  const redis = new Redis(REDIS_URL);
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
});

describe('the six sample documents', () => {
  it('give each operator the recognition the rules say', async () => {
    const { rows } = await gateway.db.query<{ partner: string; key: string; state: string }>('select partner, record_key as key, recognition_state as state from operators order by partner, record_key');
    expect(rows).toEqual([
      { partner: 'CA', key: 'PIP-000123', state: 'recognized' },
      { partner: 'CA', key: 'PIP-000456', state: 'recognized' },
      { partner: 'EU', key: 'DEAEOF0000123456', state: 'recognized' },
      { partner: 'EU', key: 'FRAEOS2011/0042', state: 'suspended' },
      // AEOC is outside the EU MRA's scope, which ranks before its withdrawn consent.
      { partner: 'EU', key: 'NLAEOC0000777', state: 'out-of-scope' },
      { partner: 'GB', key: 'GBAEOF0099/21', state: 'revoked' },
      { partner: 'GB', key: 'GBAEOS1234/19', state: 'recognized' },
      { partner: 'JP', key: 'JP-AEO-0001', state: 'recognized' },
      { partner: 'JP', key: 'JP-AEO-0002', state: 'suspended' },
      { partner: 'KR', key: 'KR-AEO-2011-00321', state: 'recognized' },
      { partner: 'MX', key: 'OEA-2019-0042', state: 'recognized' },
      { partner: 'MX', key: 'OEA-2020-0100', state: 'suspended' },
    ]);
  });

  it("start each recognized operator's benefits on every current MID, from its status date", async () => {
    const { rows } = await gateway.db.query<{ partner: string; mid: string; n: number; effective: string }>(
      "select partner, mid, count(*)::int as n, min(effective)::text as effective from benefit_changes where change = 'start' group by partner, mid order by partner, mid",
    );
    const benefits = Object.fromEntries(gateway.registry.partners().map((p) => [p.id, p.mra.benefits.length]));
    expect(rows).toEqual([
      { partner: 'CA', mid: 'XOERALAU4500TOR', n: benefits['CA'], effective: '2023-03-14' },
      { partner: 'EU', mid: 'DEMULPRA12DRE', n: benefits['EU'], effective: '2016-03-01' },
      { partner: 'EU', mid: 'DEMULPRA12DRES', n: benefits['EU'], effective: '2016-03-01' },
      { partner: 'GB', mid: 'GBTHAVAL45REA', n: benefits['GB'], effective: '2019-10-01' },
      { partner: 'JP', mid: 'JPSAKSEI123CHI', n: benefits['JP'], effective: '2020-04-01' },
      { partner: 'JP', mid: 'JPSAKSEI123CHIY', n: benefits['JP'], effective: '2020-04-01' },
      { partner: 'KR', mid: 'KRHANPRE1234GUM', n: benefits['KR'], effective: '2021-02-10' },
      { partner: 'MX', mid: 'MXACEDEL2450MON', n: benefits['MX'], effective: '2019-03-15' },
    ]);
  });

  it('open a discrepancy for each MID that does not match its construction, and only for those', async () => {
    const { rows } = await gateway.db.query<{ kind: string; partner: string; mid: string }>("select kind, partner, mid from discrepancies where state = 'open' order by partner, mid");
    expect(rows).toEqual([
      { kind: 'mid-mismatch', partner: 'EU', mid: 'DEMULPRA12DRES' },
      { kind: 'mid-mismatch', partner: 'JP', mid: 'JPSAKSEI123CHIY' },
    ]);
  });
});
