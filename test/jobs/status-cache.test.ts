/**
 * Status answers are kept until what they say changes (issue 10): the same assertion is
 * served again while nothing changed, and an applied batch, committed in another
 * transaction, is seen at the next look-up (the store's notification), for a kept hit
 * and a kept miss alike.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { euBatch, euKey, sendAndWait } from '../support/eu-operators.ts';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';

let gw: TestGateway;
const operator = { n: 1, effective: '2021-03-01' };
const later = { n: 2, effective: '2022-01-01' };

const status = async (key: string) => {
  const answer = await fetch(`${gw.url}/v1/status/eu-aeo/${key}`);
  return { code: answer.status, body: answer.status === 200 ? ((await answer.json()) as { subject: { status: string }; assertion: string }) : undefined };
};
/** Asks until the answer satisfies `done` (the notification arrives just after the commit). */
async function until(key: string, done: (a: Awaited<ReturnType<typeof status>>) => boolean) {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const answer = await status(key);
    if (done(answer) || Date.now() > deadline) return answer;
    await new Promise((r) => setTimeout(r, 50));
  }
}

beforeAll(async () => {
  gw = await startTestGateway({ store: 'PostgreSQL' });
  await sendAndWait(gw, euBatch({ batchId: 'C1', sequence: 1, kind: 'SNAPSHOT', operators: [operator] }));
});
afterAll(async () => {
  await gw?.close();
});

describe('the status answer cache', () => {
  it('serves the same signed answer while nothing changed (a new signature would differ: ES256 signs with a random nonce)', async () => {
    const first = await until(euKey(operator), (a) => a.code === 200);
    const second = await status(euKey(operator));
    expect(second.body?.assertion).toBe(first.body?.assertion);
  });

  it('a batch applied since is seen at once, for a kept hit and a kept miss', async () => {
    expect((await status(euKey(later))).code).toBe(404);
    expect((await status(euKey(later))).code).toBe(404);
    await sendAndWait(gw, euBatch({ batchId: 'C2', sequence: 2, kind: 'DELTA', operators: [{ ...operator, status: 'SUSPENDED', effective: '2026-06-01' }, later] }));
    expect((await until(euKey(operator), (a) => a.body?.subject.status === 'suspended')).body?.subject.status).toBe('suspended');
    expect((await until(euKey(later), (a) => a.code === 200)).code).toBe(200);
  });
});
