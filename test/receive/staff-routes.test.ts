/** The staff API's edge: who may call it, and refusals as problem+json with their paths as data (PROTOCOL §8). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintDevStaffToken } from '../../src/staff/dev-issuer.ts';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';

let gw: TestGateway;
let staffToken: string;
let feedToken: string;

beforeAll(async () => {
  gw = await startTestGateway({ store: 'PostgreSQL', env: { MRAGW_DEV_STAFF: '1' }, workers: false });
  staffToken = await mintDevStaffToken(gw.dataDir, { subject: 'officer.jones', roles: ['admin'], ttlSeconds: 600 });
  feedToken = await mintDevStaffToken(gw.dataDir, { subject: 'targeting', roles: ['feed-reader'], ttlSeconds: 600 });
}, 60_000);
afterAll(async () => {
  await gw?.close();
});

const decide = (body: unknown, token = staffToken) =>
  fetch(`${gw.url}/v1/discrepancies/1/decision`, { method: 'POST', headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' }, body: JSON.stringify(body) });

describe('staff routes', () => {
  it('refuses a decision body with one §8 item per bad member, each with its pointer and zod code', async () => {
    const response = await decide({ decision: 'maybe', extra: 1 });
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const body = (await response.json()) as { type: string; errors: { pointer: string; code: string; message: string }[]; errorCount: number; truncated: boolean };
    expect(body.type).toBe('urn:mra:problem:bad-request');
    expect(body.errors.map((e) => [e.pointer, e.code])).toEqual(
      expect.arrayContaining([
        ['/decision', 'invalid_value'],
        ['/reason', 'invalid_type'],
        ['', 'unrecognized_keys'],
      ]),
    );
    expect(body).toMatchObject({ errorCount: body.errors.length, truncated: false });
  });

  it('refuses a bad page query with the parameter at fault', async () => {
    const response = await fetch(`${gw.url}/v1/benefits/changes?limit=5000`, { headers: { Authorization: `Bearer ${staffToken}` } });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { errors: { pointer: string }[] }).errors.map((e) => e.pointer)).toEqual(['/limit']);
  });

  it('answers a missing, a malformed and a role-less token with the bearer challenge of RFC 6750, before reading a body', async () => {
    const missing = await fetch(`${gw.url}/v1/discrepancies`);
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toBe('Bearer');
    const malformed = await fetch(`${gw.url}/v1/discrepancies`, { headers: { Authorization: 'Bearer a.b.c' } });
    expect(malformed.status).toBe(401);
    expect(malformed.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
    const reader = await decide({ decision: 'accepted', reason: 'x' }, feedToken);
    expect(reader.status).toBe(403);
    expect(((await reader.json()) as { type: string; detail: string })).toMatchObject({ type: 'urn:mra:problem:forbidden', detail: 'this needs the role reviewer or admin' });
  });
});
