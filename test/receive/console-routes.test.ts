/**
 * The staff console's server routes: the development sign-in exists only when the gateway
 * trusts the development issuer; the queue board's session needs an admin token; the
 * board itself needs that session's cookie.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintDevStaffToken } from '../../src/staff/dev-issuer.ts';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';

const ADMIN = 'admin';
const REVIEWER = 'reviewer';

let dev: TestGateway;
let closed: TestGateway;
let adminToken: string;
let reviewerToken: string;
/** Moves the dev gateway's clock (its sessions' expiry); back to 0 after each use. */
let offset = 0;

beforeAll(async () => {
  [dev, closed] = await Promise.all([startTestGateway({ store: 'PostgreSQL', env: { MRAGW_DEV_STAFF: '1' }, workers: false, clock: () => Date.now() + offset }), startTestGateway({ store: 'PostgreSQL', workers: false })]);
  adminToken = await mintDevStaffToken(dev.dataDir, { subject: 'admin.alvarez', roles: [ADMIN], ttlSeconds: 600 });
  reviewerToken = await mintDevStaffToken(dev.dataDir, { subject: 'officer.jones', roles: [REVIEWER], ttlSeconds: 600 });
}, 60_000);
afterAll(async () => {
  await Promise.all([dev?.close(), closed?.close()]);
});

const post = (url: string, init: { token?: string; body?: unknown } = {}) =>
  fetch(url, {
    method: 'POST',
    headers: { ...(init.token !== undefined && { Authorization: `Bearer ${init.token}` }), ...(init.body !== undefined && { 'Content-Type': 'application/json' }) },
    ...(init.body !== undefined && { body: JSON.stringify(init.body) }),
  });

describe('the development sign-in', () => {
  it('is not there when the gateway does not trust the development issuer', async () => {
    const offered = await fetch(`${closed.url}/console/dev-token`);
    expect(offered.status).toBe(404);
    const minted = await post(`${closed.url}/console/dev-token`, { body: { subject: 'mallory', roles: [ADMIN] } });
    expect(minted.status).toBe(404);
    expect(minted.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  });

  it('mints a token the staff API accepts, for at most eight hours', async () => {
    expect((await fetch(`${dev.url}/console/dev-token`)).status).toBe(200);
    const minted = await post(`${dev.url}/console/dev-token`, { body: { subject: 'officer.jones', roles: [ADMIN] } });
    expect(minted.status).toBe(200);
    const { token, expiresIn } = (await minted.json()) as { token: string; expiresIn: number };
    expect(expiresIn).toBeLessThanOrEqual(8 * 3600);
    const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { iat: number; exp: number; sub: string };
    expect(claims.sub).toBe('officer.jones');
    expect(claims.exp - claims.iat).toBeLessThanOrEqual(8 * 3600);
    expect((await fetch(`${dev.url}/v1/registry/partners`, { headers: { Authorization: `Bearer ${token}` } })).status).toBe(200);
  });

  it('refuses an unknown role and a lifetime over eight hours', async () => {
    expect((await post(`${dev.url}/console/dev-token`, { body: { subject: 'x', roles: ['root'] } })).status).toBe(400);
    expect((await post(`${dev.url}/console/dev-token`, { body: { subject: 'x', roles: [ADMIN], ttlSeconds: 9 * 3600 } })).status).toBe(400);
  });
});

describe('the queue board', () => {
  it('gives a session to admins only: no token is 401, a reviewer 403', async () => {
    const anonymous = await post(`${dev.url}/console/session`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('set-cookie')).toBeNull();
    const reviewer = await post(`${dev.url}/console/session`, { token: reviewerToken });
    expect(reviewer.status).toBe(403);
    expect(((await reviewer.json()) as { type: string }).type).toBe('urn:mra:problem:forbidden');
    expect(reviewer.headers.get('set-cookie')).toBeNull();
  });

  it('without the session cookie, or with a forged one, is refused', async () => {
    const bare = await fetch(`${dev.url}/console/queues`);
    expect(bare.status).toBe(403);
    expect(bare.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect((await fetch(`${dev.url}/console/queues/api/queues`, { headers: { Authorization: `Bearer ${adminToken}` } })).status).toBe(403);
    const forged = Buffer.from(JSON.stringify({ sub: 'mallory', exp: 4_000_000_000 })).toString('base64url');
    expect((await fetch(`${dev.url}/console/queues`, { headers: { Cookie: `mragw-queues=${forged}.AAAA` } })).status).toBe(403);
  });

  it("with an admin's session cookie shows the board and its queues", async () => {
    const session = await post(`${dev.url}/console/session`, { token: adminToken });
    expect(session.status).toBe(200);
    const setCookie = session.headers.get('set-cookie')!;
    expect(setCookie).toMatch(/^mragw-queues=[^;]+; Path=\/console\/queues; Max-Age=900; HttpOnly; SameSite=Strict$/);
    const cookie = setCookie.split(';')[0]!;
    const page = await fetch(`${dev.url}/console/queues`, { headers: { Cookie: cookie } });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    const queues = await fetch(`${dev.url}/console/queues/api/queues`, { headers: { Cookie: cookie } });
    expect(queues.status).toBe(200);
    const names = ((await queues.json()) as { queues: { name: string }[] }).queues.map((q) => q.name);
    expect(names).toEqual(expect.arrayContaining(['apply-EU', 'deliver-JP', 'mra-calendar', 'retention']));
  });

  it('ends the session after 15 minutes', async () => {
    const session = await post(`${dev.url}/console/session`, { token: adminToken });
    const cookie = session.headers.get('set-cookie')!.split(';')[0]!;
    try {
      offset = 14 * 60_000;
      expect((await fetch(`${dev.url}/console/queues/api/queues`, { headers: { Cookie: cookie } })).status).toBe(200);
      offset = 15 * 60_000 + 1_000;
      expect((await fetch(`${dev.url}/console/queues/api/queues`, { headers: { Cookie: cookie } })).status).toBe(403);
    } finally {
      offset = 0;
    }
  });
});

describe("the console's acts are audited", () => {
  const audited = async (actor: string) => {
    const page = await fetch(`${dev.url}/v1/audit?actor=${actor}`, { headers: { Authorization: `Bearer ${adminToken}` } });
    expect(page.status).toBe(200);
    return ((await page.json()) as { entries: { action: string; subject: string; detail: Record<string, unknown> }[] }).entries;
  };

  it('a development token minted, under the subject it names', async () => {
    expect((await post(`${dev.url}/console/dev-token`, { body: { subject: 'officer.minted', roles: [REVIEWER] } })).status).toBe(200);
    expect(await audited('officer.minted')).toEqual([expect.objectContaining({ action: 'dev-token-issued', subject: 'staff:officer.minted', detail: expect.objectContaining({ roles: [REVIEWER] }) })]);
  });

  it('a board session opened, and every change made on the board; reading it is not an act', async () => {
    const token = await mintDevStaffToken(dev.dataDir, { subject: 'admin.audited', roles: [ADMIN], ttlSeconds: 600 });
    const cookie = (await post(`${dev.url}/console/session`, { token })).headers.get('set-cookie')!.split(';')[0]!;
    expect((await fetch(`${dev.url}/console/queues/api/queues`, { headers: { Cookie: cookie } })).status).toBe(200);
    const paused = await fetch(`${dev.url}/console/queues/api/queues/apply-EU/pause`, { method: 'PUT', headers: { Cookie: cookie } });
    expect(paused.status).toBeLessThan(500);
    const entries = await audited('admin.audited');
    expect(entries.map((e) => e.action).sort()).toEqual(['queue-board-action', 'queue-board-session']);
    expect(entries.find((e) => e.action === 'queue-board-action')).toMatchObject({ subject: 'queue-board:/api/queues/apply-EU/pause', detail: { method: 'PUT' } });
  });
});

describe('security headers of the pages people open', () => {
  it('the console, the status page and the queue board: a Content-Security-Policy with no inline script, frame-ancestors none, and nosniff', async () => {
    const cookie = (await post(`${dev.url}/console/session`, { token: adminToken })).headers.get('set-cookie')!.split(';')[0]!;
    for (const [path, headers] of [['/console/', {}], ['/status/', {}], ['/console/queues', { Cookie: cookie }]] as const) {
      const page = await fetch(`${dev.url}${path}`, { headers });
      expect(page.status, path).toBe(200);
      const policy = page.headers.get('content-security-policy') ?? '';
      const scripts = /script-src ([^;]*)/.exec(policy)?.[1] ?? /default-src ([^;]*)/.exec(policy)?.[1];
      expect(scripts, path).toBeDefined();
      expect(scripts, path).not.toMatch(/unsafe-inline|unsafe-eval|\*/);
      expect(policy, path).toContain("frame-ancestors 'none'");
      expect(page.headers.get('x-content-type-options'), path).toBe('nosniff');
    }
  });
});
