/** The operator's interface (RUNNING.md) on a real process: signals, and refusing what cannot work. */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { signRequest } from '../../src/sign/request-signature.ts';
import { removeRelocatedCluster } from '../../src/store/embedded-postgres.ts';
import { euDocument, GATEWAY_ID, partnerKeys, REDIS_URL, writePartners } from '../support/gateway.ts';
import { killHard, runMragw, type MragwProcess } from '../support/processes.ts';

const started: MragwProcess[] = [];
const dataDirs: string[] = [];
afterAll(async () => {
  await Promise.all(started.map(killHard));
  // As root the embedded cluster may live outside DATA_DIR (/var/lib/mragw): remove it too.
  for (const dir of dataDirs) removeRelocatedCluster(dir);
});

function embeddedEnv(): Record<string, string> {
  const dir = mkdtempSync(join(tmpdir(), 'mragw-proc-'));
  dataDirs.push(dir);
  writePartners(join(dir, 'partners'));
  return { DATA_DIR: dir, PARTNERS_DIR: join(dir, 'partners'), GATEWAY_ID, REDIS_URL, QUEUE_PREFIX: `{mragw-test-${randomBytes(5).toString('hex')}}`, PORT: '0', METRICS_PORT: '0', LOG_LEVEL: 'silent' };
}

async function send(url: string): Promise<number> {
  const body = Buffer.from(euDocument({ batchId: `EU-${randomUUID().slice(0, 8)}`, sequence: 1 }));
  const signature = signRequest({ key: partnerKeys.EU, iss: 'EU', aud: GATEWAY_ID, method: 'POST', target: '/v1/exchanges', body });
  return (await fetch(`${url}/v1/exchanges`, { method: 'POST', headers: { 'Content-Type': 'application/xml', 'JWS-Signature': signature }, body })).status;
}

describe('mragw start as a process', () => {
  it('re-reads the registry on SIGHUP: a partner suspended in its file is refused at once', async () => {
    const env = embeddedEnv();
    const gateway = runMragw(['start'], env);
    started.push(gateway);
    const url = await gateway.listening;
    expect(await send(url)).toBe(202);
    const file = join(env.PARTNERS_DIR!, 'eu.yaml');
    writeFileSync(file, JSON.stringify({ ...(JSON.parse(readFileSync(file, 'utf8')) as object), status: 'suspended' }));
    gateway.child.kill('SIGHUP');
    const deadline = Date.now() + 5_000;
    let status = 0;
    while (Date.now() < deadline && (status = await send(url)) !== 403) await new Promise((r) => setTimeout(r, 100));
    expect(status).toBe(403);
    gateway.child.kill('SIGTERM');
    expect(await gateway.exited).toBe(0);
  }, 30_000);

  it('stops on SIGTERM and on SIGINT with exit status 0', async () => {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      const gateway = runMragw(['start'], embeddedEnv());
      started.push(gateway);
      await gateway.listening;
      gateway.child.kill(signal);
      expect(await gateway.exited).toBe(0);
    }
  }, 30_000);

  it('serve and work refuse to start without DATABASE_URL and a shared signing key, naming both, as a usage error', async () => {
    for (const command of ['serve', 'work']) {
      const p = runMragw([command], embeddedEnv());
      started.push(p);
      expect(await p.exited).toBe(64);
      expect(p.stderr()).toMatch(/DATABASE_URL: [\s\S]*SIGNING_KEY_FILE: .*set SIGNING_KEY_FILE or SIGNING_KEYS_DIR/);
    }
  }, 30_000);

  it('refuses settings that do not fit together, naming each, with the usage status', async () => {
    const p = runMragw(['start'], { ...embeddedEnv(), HOST: '0.0.0.0', MRAGW_DEV_STAFF: '1', STAFF_AUDIENCE: 'mragw', PORT: 'eighty' });
    started.push(p);
    expect(await p.exited).toBe(64);
    expect(p.stderr()).toMatch(/PORT: /);
    expect(p.stderr()).toMatch(/MRAGW_DEV_STAFF: 1 is refused unless HOST is a loopback address/);
  }, 30_000);

  it('refuses an unusable STAFF_JWKS file with the usage status, naming the setting', async () => {
    const env = embeddedEnv();
    const p = runMragw(['start'], { ...env, STAFF_JWKS: join(env.DATA_DIR!, 'absent.jwks.json'), STAFF_ISSUER: 'https://idp.example/', STAFF_AUDIENCE: 'mragw' });
    started.push(p);
    expect(await p.exited).toBe(64);
    expect(p.stderr()).toMatch(/STAFF_JWKS: .*absent\.jwks\.json cannot be read/);
  }, 30_000);

  it('refuses a setting that is present but invalid, naming it', async () => {
    const p = runMragw(['start'], { ...embeddedEnv(), PORT: 'eighty' });
    started.push(p);
    expect(await p.exited).toBe(64);
    expect(p.stderr()).toMatch(/PORT:/);
  });

  it('refuses to start with a bad partner file, naming the file and the field', async () => {
    const env = embeddedEnv();
    writeFileSync(join(env.PARTNERS_DIR!, 'jp.yaml'), JSON.stringify({ id: 'JP', name: 'Japan', programme: 'JP-AEO', format: 'jp-aeo', keys: { algorithms: ['RS256'], jwks: { keys: [] } } }));
    const p = runMragw(['start'], env);
    started.push(p);
    expect(await p.exited).not.toBe(0);
    expect(p.stderr()).toMatch(/jp\.yaml: keys\.algorithms/);
  });
});
