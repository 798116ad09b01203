/**
 * `mragw demo` end to end on real PostgreSQL and Redis, run twice on one DATA_DIR: the
 * partners' samples in, the C-TPAT sample out to each shipped partner's reference inbox
 * with its receipt, a U.S. member's status naming the partners; the second run answers
 * the retries with the earlier receipts and sends nothing new.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoCommand } from '../../src/cli/demo-command.ts';
import { loadSettings, type Settings } from '../../src/config.ts';
import { freshPostgres, type TestDatabase } from '../support/databases.ts';
import { REDIS_URL } from '../support/gateway.ts';

const root = new URL('../../', import.meta.url).pathname;
const prefix = `{mragw-test-${randomBytes(5).toString('hex')}}`;
const partners = ['CA', 'EU', 'GB', 'JP', 'KR', 'MX'];
let database: TestDatabase;
let settings: Settings;

async function demo(): Promise<{ status: number; stdout: string }> {
  let stdout = '';
  const io = { stdin: process.stdin, stdout: { write: (s: string) => (stdout += s) }, stderr: { write: () => true }, env: {} };
  const status = await demoCommand(settings, { devKeysDir: join(root, 'config/dev-keys'), fixturesDir: join(root, 'fixtures') }, io as never);
  return { status, stdout };
}

beforeAll(async () => {
  database = await freshPostgres();
  settings = loadSettings({ DATA_DIR: mkdtempSync(join(tmpdir(), 'mragw-demo-')), PARTNERS_DIR: join(root, 'config/partners'), DATABASE_URL: database.url!, REDIS_URL, QUEUE_PREFIX: prefix, LOG_LEVEL: 'silent', SIGNING_KEY_MIN_AGE_DAYS: '0' });
});
afterAll(async () => {
  await database?.drop();
  const redis = new Redis(REDIS_URL);
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
});

describe('mragw demo', () => {
  it('delivers the C-TPAT sample to each partner inbox, receipts verified, and shows a U.S. member held abroad', async () => {
    const { status, stdout } = await demo();
    expect(status).toBe(0);
    expect(stdout).toContain('C-TPAT sample imported as staff: 5 members, 5 added, 0 changed, 0 removed, 0 unchanged');
    for (const partner of partners) expect(stdout).toMatch(new RegExp(`^${partner} +#1 SNAPSHOT, \\d+ records; disposition accepted; receipt verified$`, 'm'));
    expect(stdout).toMatch(/^EU +#1 SNAPSHOT, 2 records; disposition accepted; receipt verified$/m);
    expect(stdout).toContain(`status of C-TPAT member ctpat:CT-0012345: active; held by ${partners.map((p) => `${p} recognized`).join(', ')}; the signed assertion verifies against the JWKS`);
    // The shipped registry is left alone; the demo's copy names the inboxes.
    expect(readFileSync(join(root, 'config/partners/eu.yaml'), 'utf8')).not.toMatch(/^delivery:/m);
    expect(readFileSync(join(settings.DATA_DIR, 'demo-partners/eu.yaml'), 'utf8')).toMatch(/^delivery:\n {2}url: http:\/\/127\.0\.0\.1:\d+\/mra\/inbox$/m);
  }, 60_000);

  it('run again: retries answered with the earlier receipts, and an unchanged import sends nothing new', async () => {
    const { status, stdout } = await demo();
    expect(status).toBe(0);
    expect(stdout.match(/200 repeat/g)).toHaveLength(partners.length);
    expect(stdout).toContain('5 members, 0 added, 0 changed, 0 removed, 5 unchanged');
    expect(stdout).toContain('nothing changed since the last import, so no new document goes out');
    for (const partner of partners) expect(stdout).toMatch(new RegExp(`^${partner} +#1 SNAPSHOT, \\d+ records; disposition accepted; receipt verified$`, 'm'));
    expect(stdout).not.toMatch(/#2 /);
  }, 60_000);
});
