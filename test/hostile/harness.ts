/**
 * The hostile-input catalogue's harness (issue 11): each case is sent to a whole gateway
 * over real HTTP, and three things are checked, whatever the case:
 * 1. the documented answer: the status and problem type PROTOCOL names, or a 202 with
 *    exactly the named records rejected;
 * 2. the process is healthy after: /readyz answers 200 and a good document is accepted;
 * 3. nothing is stored that should not be: no exchange for a refusal, one for a 202
 *    whose read-back names the rejected records and carries no lone surrogate.
 */
import { generateKeyPairSync } from 'node:crypto';
import { expect } from 'vitest';
import type { SigningKey } from '../../src/sign/request-signature.ts';
import { euDocument, partnerKeys, type RequestOptions, type TestGateway } from '../support/gateway.ts';
import { allWellFormed } from '../support/well-formed.ts';

/** GB, a JSON partner, beside the test gateway's EU (XML) and JP (CSV). */
export const gbKey: SigningKey = (() => {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { privateJwk: { ...privateKey.export({ format: 'jwk' }), kid: 'gb-hostile-es256' }, alg: 'ES256' };
})();
const { d: _private, ...gbPublic } = gbKey.privateJwk;
export const gbPartner = { id: 'GB', name: 'United Kingdom', programme: 'GB-AEO', format: 'gb-aeo', keys: { algorithms: ['ES256'], jwks: { keys: [{ ...gbPublic, alg: 'ES256', use: 'sig' }] } }, limits: { maxBodyBytes: 1_048_576 } };

export type Partner = 'EU' | 'GB' | 'JP';
const senders: Record<Partner, { key: SigningKey; contentType: string }> = {
  EU: { key: partnerKeys.EU, contentType: 'application/xml' },
  GB: { key: gbKey, contentType: 'application/json' },
  JP: { key: partnerKeys.JP, contentType: 'text/csv' },
};

/** What a case expects: a refusal with its problem slug, or a 202 with these records rejected (index and code). */
export type Expected = { status: number; slug: string } | { status: 202; rejected: { index: number; code: string }[] };

export interface HostileCase {
  name: string;
  /** A document sent by `from`, signed as it is sent; or a request of the case's own making. */
  send: { from: Partner; body: (batch: BatchNumbers) => string | Buffer; contentType?: string } | { request: (g: TestGateway) => Promise<Response> };
  expected: Expected;
}

/** A fresh batch id and sequence for each document, so that no case is answered as a repeat of another. */
export interface BatchNumbers {
  batchId: string;
  sequence: number;
}

let sequence = 1;
const nextBatch = (): BatchNumbers => ({ batchId: `HOSTILE-${sequence}`, sequence: sequence++ });

/** Sends a case, then checks its answer, the process's health and what the store holds. */
export async function runCase(g: TestGateway, c: HostileCase): Promise<void> {
  const before = await exchangeCount(g);
  const response = await send(g, c);
  const text = await response.text();
  expect(response.status, `${c.name}: ${text.slice(0, 300)}`).toBe(c.expected.status);
  if ('slug' in c.expected) {
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect((JSON.parse(text) as { type: string }).type).toBe(`urn:mra:problem:${c.expected.slug}`);
    expect(await exchangeCount(g), 'a refused request stores no exchange').toBe(before);
  } else {
    const { exchangeId } = JSON.parse(text) as { exchangeId: string };
    expect(await exchangeCount(g)).toBe(before + 1);
    const from = 'from' in c.send ? c.send.from : 'EU';
    const read = await g.request({ method: 'GET', path: `/v1/exchanges/${exchangeId}`, iss: from, key: senders[from].key });
    expect(read.status).toBe(200);
    const exchange = (await read.json()) as { rejections: { index: number; code: string }[]; counts: { rejected: number } };
    expect(allWellFormed(exchange)).toBe(true);
    const expectedRejected = new Set(c.expected.rejected.map((r) => r.index));
    expect(exchange.counts.rejected).toBe(expectedRejected.size);
    expect(new Set(exchange.rejections.map((r) => r.index))).toEqual(expectedRejected);
    for (const r of c.expected.rejected) expect(exchange.rejections).toContainEqual(expect.objectContaining(r));
  }
  await expectHealthy(g);
}

async function send(g: TestGateway, c: HostileCase): Promise<Response> {
  if ('request' in c.send) return c.send.request(g);
  const { from } = c.send;
  const body = c.send.body(nextBatch());
  const options: RequestOptions = { iss: from, key: senders[from].key, body, contentType: c.send.contentType ?? senders[from].contentType };
  return g.request(options);
}

async function exchangeCount(g: TestGateway): Promise<number> {
  const { rows } = await g.gateway.db.query<{ n: number }>('select count(*)::int as n from exchanges');
  return rows[0]!.n;
}

/** Ready, and still accepting a good document. */
export async function expectHealthy(g: TestGateway): Promise<void> {
  const ready = await fetch(`${g.url}/readyz`);
  expect(ready.status).toBe(200);
  const good = await g.request({ body: euDocument({ ...nextBatch(), kind: 'DELTA' }) });
  expect(good.status).toBe(202);
}
