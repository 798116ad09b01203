/**
 * GET /v1/status/{scheme}/{id} over real HTTP (harness.ts: real GatewayKeys, real
 * Redis, partners signing per §2, staff with development tokens). Assertions are
 * checked with jose alone against the keys' JWKS.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { compactVerify, createLocalJWKSet, decodeProtectedHeader, type JSONWebKeySet } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signRequest, type SigningKey } from '../../src/sign/request-signature.ts';
import { mintDevStaffToken } from '../../src/staff/dev-issuer.ts';
import { StaffAuth } from '../../src/staff/staff-auth.ts';
import { RateLimits } from '../../src/receive/rate-limits.ts';
import { statusRouter, STATUS_TYP } from '../../src/receive/status-routes.ts';
import { fixedClock } from '../support/clock.ts';
import { euKey, GATEWAY_ID, gbKey, lookup, statusHarness, type StatusHarness } from '../status/harness.ts';

describe('GET /v1/status/{scheme}/{id}', () => {
  let harness: StatusHarness;
  let dataDir: string;
  let url: string;
  beforeAll(async () => {
    harness = await statusHarness();
    dataDir = harness.dataDir;
    url = await harness.start();
  });
  afterAll(async () => {
    await harness?.close();
  });

  /** Verifies an assertion with jose alone against the gateway's published keys; its header and claims. */
  async function verified(assertion: string): Promise<{ typ: unknown; claims: Record<string, unknown> }> {
    const { payload, protectedHeader } = await compactVerify(assertion, createLocalJWKSet(harness.keys.jwks() as JSONWebKeySet), { algorithms: ['ES256', 'EdDSA', 'PS256'] });
    return { typ: protectedHeader.typ, claims: JSON.parse(new TextDecoder().decode(payload)) as Record<string, unknown> };
  }

  function signedGet(path: string, key: SigningKey = euKey.key, iss = 'EU'): Promise<Response> {
    const signature = signRequest({ key, iss, aud: GATEWAY_ID, method: 'GET', target: path, body: new Uint8Array(0) });
    return fetch(`${url}${path}`, { headers: { 'JWS-Signature': signature } });
  }

  async function expectProblem(response: Response, status: number, slug: string): Promise<void> {
    expect(response.status).toBe(status);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(((await response.json()) as { type: string }).type).toBe(`urn:mra:problem:${slug}`);
  }

  it('answers an anonymous caller with a subject and an assertion that verifies, typ mra-status+jwt, valid at most 24 h', async () => {
    const response = await fetch(`${url}/v1/status/eu-aeo/deaeof0000000001`);
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const body = (await response.json()) as { subject: Record<string, unknown>; assertion: string };
    const { typ, claims } = await verified(body.assertion);
    expect(typ).toBe(STATUS_TYP);
    expect(decodeProtectedHeader(body.assertion).kid).toBe(harness.keys.current().kid);
    const { iss, iat, exp, ...members } = claims;
    expect(iss).toBe(GATEWAY_ID);
    expect(Number.isInteger(iat) && Number.isInteger(exp)).toBe(true);
    expect(exp as number).toBeGreaterThan(iat as number);
    expect(exp as number).toBeLessThanOrEqual((iat as number) + 86_400);
    expect(Math.abs((iat as number) - Date.now() / 1000)).toBeLessThan(60);
    expect(members).toStrictEqual(body.subject);
    expect(body.subject).toStrictEqual({
      sub: 'eu-aeo:DEAEOF0000000001',
      programme: 'EU-AEO',
      status: 'active',
      statusEffective: '2020-01-01',
      recognitions: [{ authority: GATEWAY_ID, state: 'recognized', since: '2020-02-01' }],
    });
  });

  it('reads an id with a slash sent as %2F', async () => {
    const response = await fetch(`${url}/v1/status/gb-aeo/GBAEOS1234%2F19`);
    expect(response.status).toBe(200);
    expect(((await response.json()) as { subject: { sub: string } }).subject.sub).toBe('gb-aeo:GBAEOS1234/19');
  });

  it('answers a miss 404 problem+json after signing a stand-in, as a hit signs its assertion', async () => {
    const before = harness.signed();
    const miss = await fetch(`${url}/v1/status/eori/DE0000000000001`);
    await expectProblem(miss, 404, 'not-found');
    expect(miss.headers.get('cache-control')).toBe('no-store');
    const hiddenOne = await fetch(`${url}/v1/status/eori/DE999`);
    await expectProblem(hiddenOne, 404, 'not-found');
    expect(harness.signed() - before).toBe(2);
  });

  it('signs for a miss what a hit on its stand-in signs (the same work, PROTOCOL §5), and sends none of it', async () => {
    /** Signs what one GET signs; its claims without iat and exp, which change with the clock. */
    const signedFor = async (path: string, status: number) => {
      const before = harness.payloads().length;
      const response = await fetch(`${url}${path}`);
      expect(response.status).toBe(status);
      const text = await response.text();
      const signed = harness.payloads().slice(before);
      expect(signed).toHaveLength(1);
      const { iat: _iat, exp: _exp, ...claims } = signed[0]!;
      return { claims, text };
    };
    // The harness's lookup gives the EU operator as a miss's stand-in, as the store's does once it has found it.
    const hit = await signedFor('/v1/status/eu-aeo/DEAEOF0000000001', 200);
    const miss = await signedFor('/v1/status/eu-aeo/DEAEOF0000000009', 404);
    expect(miss.claims).toEqual(hit.claims);
    expect(miss.text).not.toContain('DEAEOF0000000001');
    const member = await signedFor('/v1/status/ctpat/CT-0012345', 200);
    const noMember = await signedFor('/v1/status/ctpat/CT-0099999', 404);
    expect(noMember.claims).toEqual(member.claims);
    expect(noMember.text).not.toContain('CT-0012345');
  });

  it('answers 404 for an id that fails its syntax, an unknown scheme, and no listing', async () => {
    await expectProblem(await fetch(`${url}/v1/status/jp-corp/5010401089997`), 404, 'not-found');
    await expectProblem(await fetch(`${url}/v1/status/eori-gb/GB123456789000`), 404, 'not-found');
    for (const listing of ['/v1/status', '/v1/status/eori', '/v1/status/eori/', '/v1/status/eori/DE1234567890123/more']) {
      const response = await fetch(`${url}${listing}`);
      expect(response.headers.get('cache-control')).toBe('no-store');
      await expectProblem(response, 404, 'not-found');
    }
    await expectProblem(await fetch(`${url}/v1/status/eori/DE1234567890123`, { method: 'POST' }), 404, 'not-found');
    // No partial match: a prefix of a held EORI is another identifier.
    await expectProblem(await fetch(`${url}/v1/status/eori/DE123456789012`), 404, 'not-found');
  });

  it('refuses an invalid JWS-Signature with 401, never answering it as anonymous', async () => {
    const garbage = await fetch(`${url}/v1/status/eu-aeo/DEAEOF0000000001`, { headers: { 'JWS-Signature': 'not-a-signature' } });
    await expectProblem(garbage, 401, 'header-invalid');
    expect(garbage.headers.get('www-authenticate')).toBe('JWS-Signature');
    // Signed for another target: the htu check of §2 fails.
    const signature = signRequest({ key: euKey.key, iss: 'EU', aud: GATEWAY_ID, method: 'GET', target: '/v1/status/eu-aeo/DEAEOF0000000009', body: new Uint8Array(0) });
    await expectProblem(await fetch(`${url}/v1/status/eu-aeo/DEAEOF0000000001`, { headers: { 'JWS-Signature': signature } }), 401, 'htu-mismatch');
    // Signed with another partner's key under EU's name.
    await expectProblem(await signedGet('/v1/status/eu-aeo/DEAEOF0000000001', gbKey.key, 'EU'), 401, 'unknown-key');
    await expectProblem(await fetch(`${url}/v1/status/eu-aeo/DEAEOF0000000001`, { headers: { 'JWS-Signature': '' } }), 401, 'header-invalid');
  });

  it('tells the partner that supplied an operator its name, address, MIDs and benefits', async () => {
    const response = await signedGet('/v1/status/eu-aeo/DEAEOF0000000001');
    expect(response.status).toBe(200);
    const body = (await response.json()) as { subject: Record<string, unknown>; assertion: string };
    expect(body.subject).toMatchObject({ name: 'Müller Logistik GmbH', mids: ['DEMULLER12BER'], recognitions: [{ benefits: ['reduced-examinations'] }] });
    expect((await verified(body.assertion)).claims).toMatchObject({ name: 'Müller Logistik GmbH' });
  });

  it('tells another partner only what anyone is told', async () => {
    const response = await signedGet('/v1/status/eu-aeo/DEAEOF0000000001', gbKey.key, 'GB');
    expect(response.status).toBe(200);
    expect(((await response.json()) as { subject: Record<string, unknown> }).subject).not.toHaveProperty('name');
  });

  it('answers the mid scheme to partners, each linked operator with its record, and 404 to anonymous callers', async () => {
    await expectProblem(await fetch(`${url}/v1/status/mid/GBTHAVAL45REA`), 404, 'not-found');
    const response = await signedGet('/v1/status/mid/GBTHAVAL45REA', gbKey.key, 'GB');
    expect(response.status).toBe(200);
    expect(((await response.json()) as { subject: Record<string, unknown> }).subject).toMatchObject({
      sub: 'mid:GBTHAVAL45REA',
      recognitions: [{ authority: GATEWAY_ID, record: 'gb-aeo:GBAEOS1234/19', benefits: ['front-of-line'] }],
    });
  });

  it('answers staff with a bearer token in full, also for subjects without consent', async () => {
    const token = await mintDevStaffToken(dataDir, { subject: 'officer-1', roles: ['reviewer'], ttlSeconds: 600 });
    const response = await fetch(`${url}/v1/status/eori/de999`, { headers: { Authorization: `Bearer ${token}` } });
    expect(response.status).toBe(200);
    expect(((await response.json()) as { subject: Record<string, unknown> }).subject).toMatchObject({ sub: 'eori:DE999', name: 'Müller Logistik GmbH' });
    const applicant = await fetch(`${url}/v1/status/ctpat/CT-APPLICANT`, { headers: { Authorization: `Bearer ${token}` } });
    expect(applicant.status).toBe(200);
    await expectProblem(await fetch(`${url}/v1/status/ctpat/CT-APPLICANT`), 404, 'not-found');
  });

  it('answers C-TPAT members with the partners that hold them', async () => {
    const response = await fetch(`${url}/v1/status/ctpat/ct-0012345`);
    expect(response.status).toBe(200);
    const { claims } = await verified(((await response.json()) as { assertion: string }).assertion);
    expect(claims).toMatchObject({ sub: 'ctpat:CT-0012345', programme: 'C-TPAT', status: 'active', recognitions: [{ authority: 'EU', state: 'recognized' }] });
  });

  it('refuses a bad bearer token with 401 and a Bearer challenge, and a feed-reader token with 403', async () => {
    const bad = await fetch(`${url}/v1/status/eori/DE999`, { headers: { Authorization: 'Bearer a.b.c' } });
    await expectProblem(bad, 401, 'unauthorized');
    expect(bad.headers.get('www-authenticate')).toMatch(/^Bearer/);
    const basic = await fetch(`${url}/v1/status/eori/DE999`, { headers: { Authorization: 'Basic dXNlcjpwYXNz' } });
    await expectProblem(basic, 401, 'unauthorized');
    const reader = await mintDevStaffToken(dataDir, { subject: 'feed-bot', roles: ['feed-reader'], ttlSeconds: 600 });
    await expectProblem(await fetch(`${url}/v1/status/eori/DE999`, { headers: { Authorization: `Bearer ${reader}` } }), 403, 'forbidden');
  });

  it('refuses a bearer token when the staff API is closed', async () => {
    const closed = await harness.start({}, { staff: await StaffAuth.create({}) });
    const token = await mintDevStaffToken(dataDir, { subject: 'officer-1', roles: ['reviewer'], ttlSeconds: 600 });
    await expectProblem(await fetch(`${closed}/v1/status/eori/DE999`, { headers: { Authorization: `Bearer ${token}` } }), 401, 'unauthorized');
  });

  it('rate-limits anonymous callers per address with 429 and Retry-After, but not partners or staff', async () => {
    const limited = await harness.start({ statusRequestsPerMinute: 2 });
    for (let i = 0; i < 2; i += 1) expect((await fetch(`${limited}/v1/status/eu-aeo/DEAEOF0000000001`)).status).toBe(200);
    const over = await fetch(`${limited}/v1/status/eu-aeo/DEAEOF0000000001`);
    await expectProblem(over, 429, 'rate-limited');
    expect(Number(over.headers.get('retry-after'))).toBeGreaterThan(0);
    // Misses count too: the limit is on asking, not on finding.
    await expectProblem(await fetch(`${limited}/v1/status/eori/DE0000000000001`), 429, 'rate-limited');

    const signature = signRequest({ key: euKey.key, iss: 'EU', aud: GATEWAY_ID, method: 'GET', target: '/v1/status/eu-aeo/DEAEOF0000000001', body: new Uint8Array(0) });
    expect((await fetch(`${limited}/v1/status/eu-aeo/DEAEOF0000000001`, { headers: { 'JWS-Signature': signature } })).status).toBe(200);
    const token = await mintDevStaffToken(dataDir, { subject: 'officer-1', roles: ['reviewer'], ttlSeconds: 600 });
    expect((await fetch(`${limited}/v1/status/eu-aeo/DEAEOF0000000001`, { headers: { Authorization: `Bearer ${token}` } })).status).toBe(200);
  });

  it('signs for the configured validity, and refuses one above 24 h', async () => {
    const day = await harness.start({ validitySeconds: 86_400 });
    const body = (await (await fetch(`${day}/v1/status/eu-aeo/DEAEOF0000000001`)).json()) as { assertion: string };
    const { claims } = await verified(body.assertion);
    expect((claims['exp'] as number) - (claims['iat'] as number)).toBe(86_400);
    expect(() => statusRouter({ gatewayId: GATEWAY_ID, basePath: '', lookup, sign: async () => '', identify: async () => ({ kind: 'anonymous' }), limits: harness.limits(), statusRequestsPerMinute: 1, nowSeconds: () => 0, validitySeconds: 86_401 })).toThrow(RangeError);
  });
});

/**
 * The counters behind these limits (rate-limits.ts), on the real Redis: counted locally
 * and sent in batches, yet exact within one process and shared between processes.
 */
describe('rate limits counted in batches', () => {
  const redis = new Redis(process.env['TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379');
  const prefix = `{mragw-limits-test-${randomBytes(5).toString('hex')}}`;
  const clock = fixedClock();
  const minute = Math.floor(clock() / 60_000);
  // Two gateway processes: two RateLimits on one prefix, each with its own Redis connection.
  // The first sends its counts every millisecond, so that counts are often on their way while it decides.
  const process1 = new RateLimits(redis, pino({ level: 'silent' }), prefix, clock, 1);
  const process2 = new RateLimits(redis.duplicate(), pino({ level: 'silent' }), prefix, clock);
  afterAll(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  async function allowedOf(limits: RateLimits, subject: string, limit: number, requests: number): Promise<boolean[]> {
    const verdicts: boolean[] = [];
    for (let i = 0; i < requests; i++) verdicts.push((await limits.hit('status', subject, limit)).allowed);
    return verdicts;
  }

  it('holds one process exactly to a limit far above the exact margin, and sends every count to Redis', async () => {
    const verdicts = await allowedOf(process1, '192.0.2.1', 300, 302);
    expect(verdicts.filter(Boolean)).toHaveLength(300);
    expect(verdicts.slice(300)).toEqual([false, false]);
    expect((await process1.check('status', '192.0.2.1', 300)).allowed).toBe(false);
    await process1.flush();
    expect(Number(await redis.get(`${prefix}:limit:status:192.0.2.1:${minute}`))).toBe(302);
  });

  it('holds to the limit requests decided at the same time, while counts are on their way', async () => {
    const verdicts = await Promise.all(Array.from({ length: 400 }, () => process1.hit('status', '192.0.2.3', 300)));
    expect(verdicts.filter((v) => v.allowed)).toHaveLength(300);
    await process1.flush();
    expect(Number(await redis.get(`${prefix}:limit:status:192.0.2.3:${minute}`))).toBe(400);
  });

  it('lets a second process see the first one’s counts once they are sent', async () => {
    expect((await allowedOf(process1, '192.0.2.2', 300, 120)).every(Boolean)).toBe(true);
    await process1.flush();
    const verdicts = await allowedOf(process2, '192.0.2.2', 300, 200);
    expect(verdicts.filter(Boolean)).toHaveLength(180);
    expect(verdicts.slice(180).some(Boolean)).toBe(false);
    await process2.flush();
    expect((await process1.check('status', '192.0.2.2', 300)).allowed).toBe(false);
  });
});
