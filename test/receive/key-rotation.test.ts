/**
 * Receipts stay verifiable across a key rotation (PROTOCOL §4): after a new key is put
 * in SIGNING_KEYS_DIR and the old one removed, the JWKS still serves the old key,
 * because a receipt it signed is still kept. Checked with jose alone.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compactVerify, createLocalJWKSet, decodeProtectedHeader } from 'jose';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { loadSettings } from '../../src/config.ts';
import { signRequest } from '../../src/sign/request-signature.ts';
import { startGateway } from '../../src/server/gateway.ts';
import { removeRelocatedCluster } from '../../src/store/embedded-postgres.ts';
import { euDocument, GATEWAY_ID, partnerKeys, REDIS_URL, writePartners } from '../support/gateway.ts';

const prefix = `{mragw-test-${randomBytes(5).toString('hex')}}`;

describe('key rotation', () => {
  let data: string | undefined;
  afterAll(async () => {
    // As root the embedded cluster may live outside DATA_DIR (/var/lib/mragw): remove it too.
    if (data) removeRelocatedCluster(data);
    const redis = new Redis(REDIS_URL);
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  it('keeps every receipt verifiable against /.well-known/jwks.json, before and after', async () => {
    data = mkdtempSync(join(tmpdir(), 'mragw-rotation-'));
    const keysDir = join(data, 'gateway-keys');
    mkdirSync(keysDir);
    writePartners(join(data, 'partners'));
    const pem = () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'pem', type: 'pkcs8' });
    writeFileSync(join(keysDir, 'a.pem'), pem());
    const settings = loadSettings({ PORT: '0', METRICS_PORT: '0', DATA_DIR: data, PARTNERS_DIR: join(data, 'partners'), GATEWAY_ID, REDIS_URL, QUEUE_PREFIX: prefix, SIGNING_KEYS_DIR: keysDir, SIGNING_KEY_MIN_AGE_DAYS: '0', LOG_LEVEL: 'silent' });

    const send = async (url: string, sequence: number) => {
      const body = Buffer.from(euDocument({ batchId: `EU-ROT-${sequence}`, sequence }));
      const signature = signRequest({ key: partnerKeys.EU, iss: 'EU', aud: GATEWAY_ID, method: 'POST', target: '/v1/exchanges', body });
      const response = await fetch(`${url}/v1/exchanges`, { method: 'POST', headers: { 'Content-Type': 'application/xml', 'JWS-Signature': signature }, body });
      expect(response.status).toBe(202);
      return ((await response.json()) as { receipt: string }).receipt;
    };
    const verifyAll = async (url: string, receipts: string[]) => {
      const jwks = (await (await fetch(`${url}/.well-known/jwks.json`)).json()) as Parameters<typeof createLocalJWKSet>[0];
      for (const receipt of receipts) await compactVerify(receipt, createLocalJWKSet(jwks), { algorithms: ['ES256'] });
      return jwks.keys.map((k) => k.kid);
    };

    let gateway = await startGateway(settings, { api: true, workers: false }, pino({ level: 'silent' }));
    const before = await send(gateway.url!, 1);
    const oldKid = decodeProtectedHeader(before).kid;
    expect(await verifyAll(gateway.url!, [before])).toEqual([oldKid]);
    await gateway.close();

    // Rotation by configuration: a new key in the folder; with no notice period it signs at once.
    writeFileSync(join(keysDir, 'b.pem'), pem());
    gateway = await startGateway(settings, { api: true, workers: false }, pino({ level: 'silent' }));
    const after = await send(gateway.url!, 2);
    expect(decodeProtectedHeader(after).kid).not.toBe(oldKid);
    await gateway.close();

    // The old key leaves the folder; the receipt it signed is still kept, so it is still published.
    rmSync(join(keysDir, 'a.pem'));
    gateway = await startGateway(settings, { api: true, workers: false }, pino({ level: 'silent' }));
    const kids = await verifyAll(gateway.url!, [before, after]);
    expect(kids).toContain(oldKid);
    expect(kids).toContain(decodeProtectedHeader(after).kid);
    await gateway.close();
  }, 60_000);
});
