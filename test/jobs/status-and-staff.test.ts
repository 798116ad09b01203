/**
 * After batches are applied, what they decided is visible: signed status assertions
 * (each disclosure rule), the staff API (discrepancies and decisions, the feed, held
 * batches released) and the command line; every assertion verified offline with jose.
 */
import { compactVerify, createLocalJWKSet, decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintDevStaffToken } from '../../src/staff/dev-issuer.ts';
import { euBatch, euKey, euMid, sendAndWait } from '../support/eu-operators.ts';
import { GATEWAY_ID, partnerKeys, startTestGateway, type TestGateway } from '../support/gateway.ts';
import { runCli } from '../support/run-cli.ts';

let gw: TestGateway;
let staffToken: string;
let feedToken: string;
const recognized = { n: 1, name: 'Elbe Hafen Logistik GmbH', effective: '2021-03-01' };
const mismatched = { n: 2, mids: ['DEWRONG99HAM'] };
const noConsent = { n: 3, consent: false };

async function verified(response: Response): Promise<{ subject: Record<string, unknown>; payload: Record<string, unknown> }> {
  expect(response.status).toBe(200);
  const body = (await response.json()) as { subject: Record<string, unknown>; assertion: string };
  const jwks = (await (await fetch(`${gw.url}/.well-known/jwks.json`)).json()) as Parameters<typeof createLocalJWKSet>[0];
  const { payload } = await compactVerify(body.assertion, createLocalJWKSet(jwks), { algorithms: ['ES256', 'EdDSA', 'PS256'] });
  expect(decodeProtectedHeader(body.assertion).typ).toBe('mra-status+jwt');
  return { subject: body.subject, payload: JSON.parse(new TextDecoder().decode(payload)) as Record<string, unknown> };
}

const staffGet = (path: string, token = staffToken) => fetch(`${gw.url}${path}`, { headers: { Authorization: `Bearer ${token}` } });

beforeAll(async () => {
  gw = await startTestGateway({ store: 'PostgreSQL', env: { MRAGW_DEV_STAFF: '1' } });
  staffToken = await mintDevStaffToken(gw.dataDir, { subject: 'officer.jones', roles: ['admin'], ttlSeconds: 600 });
  feedToken = await mintDevStaffToken(gw.dataDir, { subject: 'targeting', roles: ['feed-reader'], ttlSeconds: 600 });
  await sendAndWait(gw, euBatch({ batchId: 'S1', sequence: 1, kind: 'SNAPSHOT', operators: [recognized, mismatched, noConsent] }));
});
afterAll(async () => {
  await gw?.close();
});

describe('status assertions', () => {
  it('anonymous: exactly the public members, signed and verifiable offline', async () => {
    const { subject, payload } = await verified(await fetch(`${gw.url}/v1/status/eu-aeo/${euKey(recognized).toLowerCase()}`));
    expect(Object.keys(payload).sort()).toEqual(['exp', 'iat', 'iss', 'programme', 'recognitions', 'status', 'statusEffective', 'sub']);
    expect(payload).toMatchObject({ iss: GATEWAY_ID, sub: `eu-aeo:${euKey(recognized)}`, programme: 'EU-AEO', status: 'active', statusEffective: '2021-03-01', recognitions: [{ authority: GATEWAY_ID, state: 'recognized', since: '2021-03-01' }] });
    expect((payload['exp'] as number) - (payload['iat'] as number)).toBeLessThanOrEqual(86_400);
    const { iss: _iss, iat: _iat, exp: _exp, ...rest } = payload;
    expect(subject).toEqual(rest);
  });

  it('by EORI, normalised', async () => {
    const { payload } = await verified(await fetch(`${gw.url}/v1/status/eori/de000000000001`));
    expect(payload['sub']).toBe('eori:DE000000000001');
  });

  it('staff, and the partner that supplied the operator, also see name, address, MIDs and benefits', async () => {
    const staff = await verified(await staffGet(`/v1/status/eu-aeo/${euKey(recognized)}`));
    expect(staff.payload).toMatchObject({ name: recognized.name, mids: [euMid(recognized)], recognitions: [{ benefits: ['reduced-examinations'] }] });
    expect(staff.payload['address']).toBeDefined();
    const own = await verified(await gw.request({ method: 'GET', path: `/v1/status/eu-aeo/${euKey(recognized)}` }));
    expect(own.payload['name']).toBe(recognized.name);
    const other = await verified(await gw.request({ method: 'GET', path: `/v1/status/eu-aeo/${euKey(recognized)}`, key: partnerKeys.JP, iss: 'JP' }));
    expect(other.payload['name']).toBeUndefined();
  });

  it('an operator without consent is not found, except by staff', async () => {
    expect((await fetch(`${gw.url}/v1/status/eu-aeo/${euKey(noConsent)}`)).status).toBe(404);
    await verified(await staffGet(`/v1/status/eu-aeo/${euKey(noConsent)}`));
  });

  it('the mid scheme answers partners and staff, not anonymous callers', async () => {
    expect((await fetch(`${gw.url}/v1/status/mid/${euMid(recognized)}`)).status).toBe(404);
    const { payload } = await verified(await gw.request({ method: 'GET', path: `/v1/status/mid/${euMid(recognized)}` }));
    expect(payload['recognitions']).toMatchObject([{ record: `eu-aeo:${euKey(recognized)}`, state: 'recognized' }]);
  });

  it('a miss, and an id that fails its syntax, are not found; a bad signature is 401, never anonymous', async () => {
    expect((await fetch(`${gw.url}/v1/status/eu-aeo/DEAEOS99999999`)).status).toBe(404);
    expect((await fetch(`${gw.url}/v1/status/eori/not-an-eori`)).status).toBe(404);
    expect((await fetch(`${gw.url}/v1/status/eu-aeo/${euKey(recognized)}`, { headers: { 'JWS-Signature': 'x..y' } })).status).toBe(401);
  });
});

describe('the staff API', () => {
  it('refuses callers without a staff token, and a feed reader outside the feed', async () => {
    expect((await fetch(`${gw.url}/v1/discrepancies`)).status).toBe(401);
    expect((await staffGet('/v1/discrepancies', feedToken)).status).toBe(403);
  });

  it('lists open discrepancies, records a decision with who and why, and refuses deciding twice', async () => {
    const list = (await (await staffGet('/v1/discrepancies')).json()) as { discrepancies: { id: number; kind: string; key: string; mid: string }[] };
    const mismatch = list.discrepancies.find((d) => d.kind === 'mid-mismatch')!;
    expect(mismatch).toMatchObject({ key: euKey(mismatched), mid: 'DEWRONG99HAM' });
    const decide = (decision: string) =>
      fetch(`${gw.url}/v1/discrepancies/${mismatch.id}/decision`, { method: 'POST', headers: { Authorization: `Bearer ${staffToken}`, 'Content-Type': 'application/json' }, body: JSON.stringify({ decision, reason: 'MID registered before the address change' }) });
    const first = await decide('accepted');
    expect(first.status).toBe(200);
    expect(await first.json()).toMatchObject({ state: 'accepted', decidedBy: 'officer.jones' });
    expect((await decide('dismissed')).status).toBe(409);
    const { rows } = await gw.gateway.db.query<{ actor: string; action: string }>('select actor, action from audit_log');
    expect(rows).toContainEqual({ actor: 'officer.jones', action: 'discrepancy-accepted' });
  });

  it('serves the benefit feed with a cursor, to staff and feed readers', async () => {
    const page = (await (await staffGet('/v1/benefits/changes?after=0&limit=1', feedToken)).json()) as { changes: { id: number }[]; next: number };
    expect(page.changes).toHaveLength(1);
    const rest = (await (await staffGet(`/v1/benefits/changes?after=${page.next}`)).json()) as { changes: { id: number }[] };
    expect(rest.changes.every((c) => c.id > page.next)).toBe(true);
  });

  it('releases a batch held for a gap: it is applied at once', async () => {
    const held = await sendAndWait(gw, euBatch({ batchId: 'D5', sequence: 5, kind: 'DELTA', operators: [{ ...recognized, status: 'SUSPENDED', effective: '2026-05-05' }] }), 'held');
    const release = await fetch(`${gw.url}/v1/exchanges/${held.exchangeId}/release`, { method: 'POST', headers: { Authorization: `Bearer ${staffToken}`, 'Content-Type': 'application/json' }, body: JSON.stringify({ reason: 'the EU confirmed 2–4 were never sent' }) });
    expect(release.status).toBe(200);
    const { rows: audit } = await gw.gateway.db.query<{ actor: string; subject: string; detail: { reason: string } }>("select actor, subject, detail from audit_log where action = 'release-held-batch'");
    expect(audit).toEqual([{ actor: 'officer.jones', subject: `exchange:${held.exchangeId}`, detail: expect.objectContaining({ reason: 'the EU confirmed 2–4 were never sent', sequence: 5 }) }]);
    const deadline = Date.now() + 15_000;
    let state = '';
    while (Date.now() < deadline && state !== 'applied') {
      state = (await gw.gateway.db.query<{ state: string }>('select state from exchanges where id = $1', [held.exchangeId])).rows[0]!.state;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(state).toBe('applied');
    const { payload } = await verified(await fetch(`${gw.url}/v1/status/eu-aeo/${euKey(recognized)}`));
    expect(payload['status']).toBe('suspended');
  });
});

describe('the command line', () => {
  it('mragw status fetches and verifies; mragw verify-status verifies offline; mragw staff lists discrepancies', async () => {
    const status = await runCli(['status', 'eu-aeo', euKey(recognized), '--url', gw.url, '--aud', GATEWAY_ID]);
    expect(status.stderr).toBe('');
    expect(status.status).toBe(0);
    const body = (await (await fetch(`${gw.url}/v1/status/eu-aeo/${euKey(recognized)}`)).json()) as { assertion: string };
    const offline = await runCli(['verify-status', '--jwks', `${gw.url}/.well-known/jwks.json`, body.assertion]);
    expect(offline.status).toBe(0);
    const staff = await runCli(['staff', 'discrepancies', '--state', 'all', '--url', gw.url, '--token', staffToken]);
    expect(staff.status).toBe(0);
    expect(JSON.parse(staff.stdout)).toHaveProperty('discrepancies');
  });
});
