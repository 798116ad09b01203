/**
 * Issue 11, fault F3 on the embedded default: the gateway's own PostgreSQL server is killed
 * (SIGKILL) under a running `mragw start`. The gateway starts it again by itself; meanwhile
 * documents get 503 unavailable with Retry-After (never a 500, never a 202 that is not
 * kept), and afterwards the same gateway process accepts them, with everything acknowledged
 * before the kill still there.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { signRequest } from '../../src/sign/request-signature.ts';
import { removeRelocatedCluster } from '../../src/store/embedded-postgres.ts';
import { euDocument, GATEWAY_ID, partnerKeys, REDIS_URL, writePartners } from '../support/gateway.ts';
import { alive, killHard, postmasterPid, runMragw, type MragwProcess } from '../support/processes.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'mragw-store-fault-'));
let gateway: MragwProcess | undefined;
afterAll(async () => {
  if (gateway) await killHard(gateway);
  removeRelocatedCluster(dataDir);
});



/** Signed afresh on each call (a new jti), as a partner retrying would. */
function send(url: string, method: 'POST' | 'GET', path: string, body = ''): Promise<Response> {
  const bytes = Buffer.from(body);
  const signature = signRequest({ key: partnerKeys.EU, iss: 'EU', aud: GATEWAY_ID, method, target: path, body: bytes });
  const headers: Record<string, string> = { 'JWS-Signature': signature, ...(method === 'POST' && { 'Content-Type': 'application/xml' }) };
  return fetch(`${url}${path}`, { method, headers, ...(method === 'POST' && { body: bytes }) });
}

/** A 503 is the only refusal allowed while the store is down, and it says when to come back. */
async function expectAcceptedOrUnavailable(response: Response): Promise<void> {
  expect([202, 503]).toContain(response.status);
  if (response.status !== 503) return;
  expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
  expect(((await response.json()) as { type: string }).type).toBe('urn:mra:problem:unavailable');
}

describe('fault F3: the embedded PostgreSQL server is killed', () => {
  it('is started again by the running gateway: 503 with Retry-After meanwhile, then the same documents are accepted, and nothing acknowledged is lost', async () => {
    writePartners(join(dataDir, 'partners'));
    const env = { DATA_DIR: dataDir, PARTNERS_DIR: join(dataDir, 'partners'), GATEWAY_ID, REDIS_URL, QUEUE_PREFIX: `{mragw-test-${randomBytes(5).toString('hex')}}`, PORT: '0', METRICS_PORT: '0', LOG_LEVEL: 'silent' };
    gateway = runMragw(['start'], env);
    const url = await gateway.listening;
    const batch = (sequence: number) => euDocument({ batchId: `EU-${randomUUID().slice(0, 8)}`, sequence });

    const before = await send(url, 'POST', '/v1/exchanges', batch(1));
    expect(before.status).toBe(202);
    const acknowledged = [new URL(before.headers.get('location')!, url).pathname];
    const killed = postmasterPid(dataDir);
    process.kill(killed, 'SIGKILL');

    // Several documents at once while it is down; each is refused with 503 or, once the server is back, accepted.
    const bodies = [2, 3, 4, 5, 6].map(batch);
    const during = await Promise.all(bodies.map((body) => send(url, 'POST', '/v1/exchanges', body)));
    const refused: string[] = [];
    for (const [i, response] of during.entries()) {
      await expectAcceptedOrUnavailable(response);
      if (response.status === 503) refused.push(bodies[i]!);
      else acknowledged.push(new URL(response.headers.get('location')!, url).pathname);
    }
    // The gateway brings its server back by itself: /readyz turns 200 again without a restart.
    const readiness: number[] = [];
    const deadline = Date.now() + 30_000;
    for (;;) {
      const ready = await fetch(`${url}/readyz`);
      readiness.push(ready.status);
      expect([200, 503]).toContain(ready.status);
      if (ready.status === 200) break;
      expect(await ready.json()).toMatchObject({ store: 'down' });
      if (Date.now() > deadline) throw new Error(`the store did not come back: /readyz gave 503 ${readiness.length} times in 30 s`);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(gateway.child.exitCode).toBeNull();
    const restarted = postmasterPid(dataDir);
    expect(restarted).not.toBe(killed);
    expect(alive(killed)).toBe(false);
    expect(alive(restarted)).toBe(true);

    // The documents refused meanwhile are accepted now, by the same process, and so is a new one.
    for (const body of [...refused, batch(7)]) {
      const again = await send(url, 'POST', '/v1/exchanges', body);
      expect(again.status).toBe(202);
      acknowledged.push(new URL(again.headers.get('location')!, url).pathname);
    }
    // Every acknowledged exchange, before the kill or during it, is in the store.
    for (const path of acknowledged) expect((await send(url, 'GET', path)).status).toBe(200);
    expect(acknowledged).toHaveLength(7);

    // An orderly stop stops the server it started again, and does not start another.
    gateway.child.kill('SIGTERM');
    expect(await gateway.exited).toBe(0);
    expect(alive(restarted)).toBe(false);
  }, 60_000);
});
