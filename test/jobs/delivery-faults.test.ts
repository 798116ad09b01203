/**
 * Outbound delivery under faults (PROTOCOL §7), on real PostgreSQL, Redis and HTTP, nock
 * playing Japan: a replayed dead letter goes again with the same bytes and jti and
 * unblocks what waits behind it; a `held` receipt is delivered but recognizes no one; a
 * retry budget ends in a dead letter; one partner's endpoint that hangs, resets the
 * connection or answers slowly does not delay another, and its own document is retried
 * (same bytes and jti) or delivered, never lost; sequences stay gapless with several
 * workers preparing at once, and a worker process killed mid-delivery leaves the same
 * document (same jti and sequence) to the next one.
 */
import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nock from 'nock';
import { afterEach, describe, expect, it } from 'vitest';
import type { Clock } from '../../src/clock.ts';
import { gatewayDirectory } from '../../src/deliver/gateway-directory.ts';
import { startInbox, type InboxDocument } from '../../src/deliver/inbox.ts';
import { prepareOutbound } from '../../src/jobs/prepare-outbound.ts';
import { PartnerEntry } from '../../src/registry/partner.ts';
import { mintDevStaffToken } from '../../src/staff/dev-issuer.ts';
import { openPostgres } from '../../src/store/postgres-db.ts';
import { loadFormats } from '../../src/translate/load-mappings.ts';
import { readDocument } from '../../src/translate/read-document.ts';
import { freePort, headerOf, jpReceipt, until } from '../support/delivery.ts';
import { GATEWAY_ID, partnerKeys, REDIS_URL, startTestGateway } from '../support/gateway.ts';
import { killHard, runMragw } from '../support/processes.ts';

const members = readFileSync(new URL('../../fixtures/ctpat/sample/input.ndjson', import.meta.url), 'utf8');
const formats = loadFormats();
const euVectors = JSON.parse(readFileSync(new URL('../../../shared/spec/vectors/partner.json', import.meta.url), 'utf8')) as { partner: { keys: { jwks: { keys: object[] } } } };
const JP_URL = 'https://customs.jp.example';

const jpEntry = { id: 'JP', name: 'Japan', programme: 'JP-AEO', format: 'jp-aeo', mra: { outboundBusinessTypes: ['EXPORTER'] }, keys: { algorithms: ['ES256'], jwks: { keys: [(({ d, ...pub }) => ({ ...pub, alg: 'ES256', use: 'sig' }))(partnerKeys.JP.privateJwk)] } }, delivery: { url: `${JP_URL}/aeo/inbox` } };
const euEntry = (port: number) => ({ id: 'EU', name: 'European Union', programme: 'EU-AEO', format: 'eu-aeo', keys: { algorithms: ['ES256'], jwks: euVectors.partner.keys.jwks }, delivery: { url: `http://127.0.0.1:${port}/mra/inbox` } });

interface Seen {
  jti: string;
  iat: number;
  body: Buffer;
  signature: string;
}
type Listed = { id: string; sequence: number; kind: string; state: string; recordCount: number; lastError: string | null };

/** A gateway with delivering partners, a staff token and helpers. */
async function gatewayWith(partners: Record<string, object>, env: Record<string, string> = {}, clock?: Clock, workers = true) {
  const gw = await startTestGateway({ store: 'PostgreSQL', env: { MRAGW_DEV_STAFF: '1', ...env }, partners, workers, ...(clock && { clock }) });
  const token = await mintDevStaffToken(gw.dataDir, { subject: 'officer.ortiz', roles: ['admin'], ttlSeconds: 600 });
  const staff = (path: string, init: RequestInit = {}) => fetch(`${gw.url}${path}`, { ...init, headers: { Authorization: `Bearer ${token}`, ...(init.body !== undefined && { 'Content-Type': 'application/json' }), ...init.headers } });
  return {
    gw,
    staff,
    async importMembers(ndjson: string) {
      const response = await staff('/v1/ctpat/members', { method: 'POST', body: ndjson, headers: { 'Content-Type': 'application/x-ndjson' } });
      expect(response.status).toBe(200);
      return (await response.json()) as { outbound: string[] };
    },
    async deliveries(partner: string): Promise<Listed[]> {
      return ((await (await staff(`/v1/partners/${partner}/deliveries`)).json()) as { deliveries: Listed[] }).deliveries;
    },
    async view(id: string) {
      return (await (await staff(`/v1/deliveries/${id}`)).json()) as { state: string; lastError: string | null; attempts: { at: string; outcome: string; status: number | null; error: string | null }[] };
    },
  };
}

/** Members with one JP-sendable member changed, so that the next import sends Japan a DELTA. */
const changedMembers = () =>
  `${members
    .split('\n')
    .filter((l) => l !== '')
    .map((line) => {
      const m = JSON.parse(line) as { accountNumber: string; legalName: string };
      m.legalName = `${m.legalName} (renamed)`;
      return JSON.stringify(m);
    })
    .join('\n')}\n`;

/** Records what nock received. */
function seeing(seen: Seen[]) {
  return (body: unknown, headers: Record<string, string | string[]>) => {
    const signature = String(headers['jws-signature']);
    const bytes = Buffer.from(body as string);
    seen.push({ ...headerOf(signature), body: bytes, signature });
    return { signature, bytes };
  };
}

const closing: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  nock.cleanAll();
  for (const close of closing.splice(0).reverse()) await close();
});

/** A gateway delivering to Japan (nock) and to the EU, whose inbox is a real one on loopback that verifies and signs receipts. */
async function withEuInbox(env: Record<string, string>) {
  const port = await freePort();
  const t = await gatewayWith({ jp: jpEntry, eu: euEntry(port) }, env);
  closing.push(() => t.gw.close());
  const received: InboxDocument[] = [];
  const inbox = await startInbox({
    host: '127.0.0.1',
    port,
    partner: PartnerEntry.parse({ ...t.gw.gateway.registry.partner('EU')!, delivery: undefined }),
    format: formats.get('eu-aeo')!,
    receiptKey: { privateKey: createPrivateKey({ key: partnerKeys.EU.privateJwk, format: 'jwk' }), kid: partnerKeys.EU.privateJwk.kid, alg: 'ES256' },
    gatewayId: GATEWAY_ID,
    gateway: gatewayDirectory(GATEWAY_ID, 'ctpat', { jwksUri: `${t.gw.url}/.well-known/jwks.json` }),
    onDocument: (doc) => received.push(doc),
  });
  closing.push(() => inbox.close());
  return { t, received };
}

/** The EU's document, delivered within 5 s on its first attempt with a verified, accepted receipt; when it was delivered. */
async function euDeliveredPromptly(t: Awaited<ReturnType<typeof gatewayWith>>, received: InboxDocument[]): Promise<{ deliveredAt: Date }> {
  const [eu] = await until(async () => {
    const list = await t.deliveries('EU');
    return list[0]?.state === 'delivered' ? list : undefined;
  }, 5_000);
  expect(received).toEqual([expect.objectContaining({ partner: 'EU', sequence: 1 })]);
  expect((await t.view(eu!.id)).attempts.map((a) => [a.outcome, a.status])).toEqual([['delivered', 202]]);
  const row = await receiptOf(t, eu!.id);
  expect(row).toMatchObject({ disposition: 'accepted', receipt: expect.stringMatching(/^ey/) });
  return { deliveredAt: row.deliveredAt };
}

/** Japan's one delivery, once delivered, and its view (attempts and all). */
async function jpDelivered(t: Awaited<ReturnType<typeof gatewayWith>>) {
  const [doc] = await t.deliveries('JP');
  const view = await until(async () => {
    const v = await t.view(doc!.id);
    return v.state === 'delivered' ? v : undefined;
  });
  return { doc, view };
}

/** What the store kept of a delivery's receipt (kept only once it verified, §7). */
async function receiptOf(t: Awaited<ReturnType<typeof gatewayWith>>, id: string) {
  return (await t.gw.gateway.db.query<{ disposition: string | null; receipt: string | null; deliveredAt: Date }>('select disposition, receipt, delivered_at as "deliveredAt" from deliveries where id = $1', [id])).rows[0]!;
}

// Each test is a whole flow of several jobs: on a loaded machine (CI with other suites running) it takes far longer than alone.
describe('outbound delivery under faults', { timeout: 60_000 }, () => {
  it('staff replay a dead letter: the same bytes and jti with a fresh iat, delivered, then the documents behind it in order; audited', async () => {
    let offset = 0;
    const t = await gatewayWith({ jp: jpEntry }, {}, () => Date.now() + offset);
    closing.push(() => t.gw.close());
    const seen: Seen[] = [];
    const see = seeing(seen);
    const jp = nock(JP_URL);
    jp.post('/aeo/inbox').reply(function (_uri, body) {
      see(body, this.req.headers);
      return [400, { type: 'urn:mra:problem:document-invalid', title: 'Document invalid', status: 400 }];
    });
    await t.importMembers(members);
    const [dead] = await until(async () => {
      const list = await t.deliveries('JP');
      return list[0]?.state === 'dead' ? list : undefined;
    });
    // Two more documents wait behind the dead letter.
    // Each import's document is prepared from the members as they are when its job runs: the
    // second import must be prepared before the third puts the members back as they were,
    // or there is nothing left to send for it (on a loaded machine its job can run late).
    await t.importMembers(changedMembers());
    await until(async () => ((await t.deliveries('JP')).length === 2 ? true : undefined));
    await t.importMembers(members);
    await until(async () => ((await t.deliveries('JP')).length === 3 ? true : undefined));
    expect((await t.deliveries('JP')).map((d) => [d.sequence, d.state])).toEqual([
      [3, 'pending'],
      [2, 'pending'],
      [1, 'dead'],
    ]);
    expect(seen).toHaveLength(1);

    for (let i = 0; i < 3; i++) {
      jp.post('/aeo/inbox').reply(202, async function (_uri, body) {
        const { signature, bytes } = see(body, this.req.headers);
        return jpReceipt(signature, bytes);
      });
    }
    offset = 5_000; // the replay is signed later: its iat must be fresh
    const replay = await t.staff(`/v1/deliveries/${dead!.id}/replay`, { method: 'POST', body: JSON.stringify({ reason: 'Japan fixed its parser' }) });
    expect(replay.status).toBe(200);
    const list = await until(async () => {
      const all = await t.deliveries('JP');
      return all.every((d) => d.state === 'delivered') ? all : undefined;
    });
    expect(list.map((d) => [d.sequence, d.state])).toEqual([
      [3, 'delivered'],
      [2, 'delivered'],
      [1, 'delivered'],
    ]);
    expect(seen).toHaveLength(4);
    const [refused, replayed, second, third] = seen;
    expect(replayed!.jti).toBe(refused!.jti);
    expect(replayed!.body.equals(refused!.body)).toBe(true);
    expect(replayed!.iat).toBeGreaterThanOrEqual(refused!.iat + 4);
    expect(replayed!.signature).not.toBe(refused!.signature);
    const stored = (await t.gw.gateway.db.query<{ jti: string; body: Buffer }>('select jti, body from deliveries where id = $1', [dead!.id])).rows[0]!;
    expect(stored.jti).toBe(refused!.jti);
    expect(stored.body.equals(replayed!.body)).toBe(true);
    // Then the documents that waited, in sequence order, each its own jti.
    expect([second, third].map((s) => readDocument(formats.get('jp-aeo')!, s!.body).batch.envelope?.sequence)).toEqual([2, 3]);
    expect(new Set(seen.slice(1).map((s) => s.jti)).size).toBe(3);
    expect((await t.view(dead!.id)).attempts.map((a) => [a.outcome, a.status])).toEqual([
      ['dead', 400],
      ['delivered', 202],
    ]);
    const audit = await t.gw.gateway.db.query<{ action: string; actor: string; subject: string; detail: { reason: string; sequence: number } }>("select action, actor, subject, detail from audit_log where action like 'delivery-%' order by id");
    expect(audit.rows).toEqual([{ action: 'delivery-replay', actor: 'officer.ortiz', subject: `delivery:${dead!.id}`, detail: expect.objectContaining({ partner: 'JP', sequence: 1, reason: 'Japan fixed its parser' }) }]);
    // A delivered document cannot be replayed.
    expect((await t.staff(`/v1/deliveries/${dead!.id}/replay`, { method: 'POST', body: JSON.stringify({ reason: 'again' }) })).status).toBe(409);
  });

  it('a held receipt is delivered and shown to staff, but does not make the member recognized by that partner', async () => {
    const t = await gatewayWith({ jp: jpEntry });
    closing.push(() => t.gw.close());
    nock(JP_URL)
      .post('/aeo/inbox')
      .reply(202, async function (_uri, body) {
        const { signature, bytes } = seeing([])(body, this.req.headers);
        return jpReceipt(signature, bytes, 'held', 'pending-review');
      });
    await t.importMembers(members);
    const [doc] = await until(async () => {
      const list = await t.deliveries('JP');
      return list[0]?.state === 'delivered' ? list : undefined;
    });
    const health = (await (await t.staff('/v1/deliveries')).json()) as { partners: { partner: string; held: number; lastDelivered: number }[] };
    expect(health.partners.find((p) => p.partner === 'JP')).toMatchObject({ held: 1, lastDelivered: 1 });
    const row = (await t.gw.gateway.db.query<{ disposition: string; held_reason: string; members: { account: string; as: string }[] }>('select disposition, held_reason, members from deliveries where id = $1', [doc!.id])).rows[0]!;
    expect(row).toMatchObject({ disposition: 'held', held_reason: 'pending-review' });
    const carried = row.members.filter((m) => m.as === 'valid').map((m) => m.account);
    expect(carried.length).toBeGreaterThan(0);
    for (const account of carried) {
      const status = (await (await t.staff(`/v1/status/ctpat/${account}`)).json()) as { assertion?: string };
      const payload = JSON.parse(Buffer.from(status.assertion!.split('.')[1]!, 'base64url').toString('utf8')) as { recognitions: { authority: string }[] };
      expect(payload.recognitions.filter((r) => r.authority === 'JP')).toEqual([]);
    }
    expect((await t.gw.gateway.db.query("select * from ctpat_recognitions where partner = 'JP'")).rows).toEqual([]);
  });

  it('a retry budget of 2: two 503s make a dead letter, both attempts recorded; a replay has a fresh budget', async () => {
    // The clock runs 3 s behind: a retry's backoff (1-2 s here) is due at once, without waiting.
    const t = await gatewayWith({ jp: jpEntry }, { DELIVERY_MAX_ATTEMPTS: '2' }, () => Date.now() - 3_000);
    closing.push(() => t.gw.close());
    const seen: Seen[] = [];
    const see = seeing(seen);
    nock(JP_URL)
      .post('/aeo/inbox')
      .times(2)
      .reply(function (_uri, body) {
        see(body, this.req.headers);
        return [503, '', { 'Retry-After': '0' }];
      });
    await t.importMembers(members);
    const [dead] = await until(async () => {
      const list = await t.deliveries('JP');
      return list[0]?.state === 'dead' ? list : undefined;
    });
    expect(dead!.lastError).toMatch(/retry budget of 2 attempts/);
    const view = await t.view(dead!.id);
    // The attempt that used up the budget is the one that made it dead, and says so.
    expect(view.attempts.map((a) => [a.outcome, a.status])).toEqual([
      ['retry', 503],
      ['dead', 503],
    ]);
    expect(view.attempts[1]!.error).toMatch(/retry budget/);
    expect(seen).toHaveLength(2);
    expect(seen[1]!.jti).toBe(seen[0]!.jti);
    expect(seen[1]!.body.equals(seen[0]!.body)).toBe(true);
    const health = (await (await t.staff('/v1/deliveries')).json()) as { partners: { partner: string; deadLetters: { id: string }[] }[] };
    expect(health.partners.find((p) => p.partner === 'JP')!.deadLetters.map((d) => d.id)).toEqual([dead!.id]);

    // Replayed by staff, it has the whole budget again: one more 503 is retried, not dead at once.
    const jp = nock(JP_URL);
    jp.post('/aeo/inbox').reply(function (_uri, body) {
      see(body, this.req.headers);
      return [503, '', { 'Retry-After': '0' }];
    });
    jp.post('/aeo/inbox').reply(202, async function (_uri, body) {
      const { signature, bytes } = see(body, this.req.headers);
      return jpReceipt(signature, bytes);
    });
    expect((await t.staff(`/v1/deliveries/${dead!.id}/replay`, { method: 'POST', body: JSON.stringify({ reason: 'Japan is back' }) })).status).toBe(200);
    await until(async () => ((await t.view(dead!.id)).state === 'delivered' ? true : undefined));
    expect((await t.view(dead!.id)).attempts.map((a) => [a.outcome, a.status])).toEqual([
      ['retry', 503],
      ['dead', 503],
      ['retry', 503],
      ['delivered', 202],
    ]);
    expect(new Set(seen.map((s) => s.jti)).size).toBe(1);
  });

  it("Japan's endpoint hangs past the timeout; the EU's document is delivered meanwhile", async () => {
    const { t, received } = await withEuInbox({ DELIVERY_TIMEOUT_S: '1' });
    nock(JP_URL).post('/aeo/inbox').times(20).delay(4_000).reply(503, '');
    expect((await t.importMembers(members)).outbound.sort()).toEqual(['EU', 'JP']);
    const eu = await euDeliveredPromptly(t, received);
    // Japan's first attempt timed out after the EU's document was delivered: the EU never waited for it.
    const [jp] = await t.deliveries('JP');
    const timedOut = await until(async () => {
      const v = await t.view(jp!.id);
      return v.attempts.length > 0 ? v.attempts[0] : undefined;
    });
    expect(timedOut).toMatchObject({ outcome: 'retry' });
    expect(timedOut!.error).toMatch(/no complete answer within 1000 ms/);
    expect(eu.deliveredAt.getTime()).toBeLessThan(new Date(timedOut!.at).getTime());
  });

  it("Japan's endpoint resets the connection: the EU's document is delivered at once, Japan's is retried with the same bytes and jti and delivered", async () => {
    const { t, received } = await withEuInbox({ DELIVERY_TIMEOUT_S: '5' });
    const seen: Seen[] = [];
    const see = seeing(seen);
    const jp = nock(JP_URL);
    // The first attempt: the connection is reset before any answer (nock gives fetch the socket error).
    jp.post('/aeo/inbox').replyWithError(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }));
    jp.on('request', (req: { headers: Record<string, string | string[]> }, _interceptor: unknown, body: string) => {
      if (seen.length === 0) see(body, req.headers);
    });
    jp.post('/aeo/inbox').reply(202, async function (_uri, body) {
      const { signature, bytes } = see(body, this.req.headers);
      return jpReceipt(signature, bytes);
    });
    expect((await t.importMembers(members)).outbound.sort()).toEqual(['EU', 'JP']);
    const eu = await euDeliveredPromptly(t, received);
    const { doc, view } = await jpDelivered(t);
    expect(view.attempts.map((a) => [a.outcome, a.status])).toEqual([
      ['retry', null],
      ['delivered', 202],
    ]);
    expect(view.attempts[0]!.error).toMatch(/network error \(ECONNRESET\)/);
    // The EU's delivery did not wait for Japan's reset, nor for its retry.
    expect(eu.deliveredAt.getTime()).toBeLessThan(new Date(view.attempts[1]!.at).getTime());
    // §7: a retry sends the same bytes and jti, with a fresh signature.
    expect(seen).toHaveLength(2);
    expect(seen[1]!.jti).toBe(seen[0]!.jti);
    expect(seen[1]!.body.equals(seen[0]!.body)).toBe(true);
    expect(await receiptOf(t, doc!.id)).toMatchObject({ disposition: 'accepted', receipt: expect.stringMatching(/^ey/) });
    expect(jp.isDone()).toBe(true);
  });

  it("Japan answers slowly but within the timeout: delivered on its one attempt, and the EU's document is delivered meanwhile", async () => {
    const { t, received } = await withEuInbox({ DELIVERY_TIMEOUT_S: '10' });
    const seen: Seen[] = [];
    const see = seeing(seen);
    const jp = nock(JP_URL);
    // 3 s to its answer: slow, yet well inside the 10 s an attempt may take; it must not be cut, nor sent twice.
    jp.post('/aeo/inbox')
      .delay(3_000)
      .reply(202, async function (_uri, body) {
        const { signature, bytes } = see(body, this.req.headers);
        return jpReceipt(signature, bytes);
      });
    expect((await t.importMembers(members)).outbound.sort()).toEqual(['EU', 'JP']);
    const eu = await euDeliveredPromptly(t, received);
    const { doc, view } = await jpDelivered(t);
    expect(view.attempts.map((a) => [a.outcome, a.status])).toEqual([['delivered', 202]]);
    expect(seen).toHaveLength(1);
    expect(await receiptOf(t, doc!.id)).toMatchObject({ disposition: 'accepted', receipt: expect.stringMatching(/^ey/) });
    // Japan's answer came after the EU's document was delivered: the EU never waited for it.
    expect(eu.deliveredAt.getTime()).toBeLessThan(new Date(view.attempts[0]!.at).getTime());
  });

  it('several workers preparing at once number the documents 1..N without gap or duplicate', async () => {
    // No workers: only the concurrent runs below number documents.
    const t = await gatewayWith({ jp: jpEntry }, {}, undefined, false);
    closing.push(() => t.gw.close());
    const pools = Array.from({ length: 4 }, () => openPostgres({ connectionString: t.gw.settings.DATABASE_URL! }, 'postgres'));
    closing.push(() => Promise.all(pools.map((p) => p.close())));
    await t.importMembers(members);
    const before = 0;
    const runs = 12;
    const outcomes = await Promise.all(
      Array.from({ length: runs }, (_, i) =>
        prepareOutbound({ db: pools[i % pools.length]!, formats, partner: (p) => t.gw.gateway.registry.partner(p), gatewayId: GATEWAY_ID, clock: Date.now, signingKey: () => partnerKeys.EU }, 'JP', { snapshot: true }),
      ),
    );
    expect(outcomes.every((o) => o.prepared)).toBe(true);
    const { rows } = await t.gw.gateway.db.query<{ sequence: number; jti: string }>("select sequence::int as sequence, jti from deliveries where partner = 'JP' order by sequence");
    expect(rows.map((r) => r.sequence)).toEqual(Array.from({ length: before + runs }, (_, i) => i + 1));
    expect(new Set(rows.map((r) => r.jti)).size).toBe(rows.length);
    const state = await t.gw.gateway.db.query<{ last: number }>("select last_sequence::int as last from outbound_state where partner = 'JP'");
    expect(state.rows[0]!.last).toBe(before + runs);
  });
});

describe('a worker killed mid-delivery', () => {
  it('after a restart the same document (same jti and sequence) is delivered, and the next gets the next sequence', async () => {
    // Japan's endpoint, a real server (nock does not cross processes): it holds the first request open and answers the rest.
    const requests: Seen[] = [];
    const held: ServerResponse[] = [];
    const server = createHttpServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const signature = String(req.headers['jws-signature']);
        const body = Buffer.concat(chunks);
        requests.push({ ...headerOf(signature), body, signature });
        if (requests.length === 1) return void held.push(res);
        void jpReceipt(signature, body).then((answer) => res.writeHead(202, { 'Content-Type': 'application/json' }).end(JSON.stringify(answer)));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    closing.push(() => new Promise((resolve) => server.close(resolve)));
    closing.push(async () => held.forEach((r) => r.destroy()));
    const { port } = server.address() as { port: number };

    // Every process signs with the same key file.
    const keyFile = join(mkdtempSync(join(tmpdir(), 'mragw-faults-')), 'gateway-key.pem');
    writeFileSync(keyFile, generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'pem', type: 'pkcs8' }));
    const t = await gatewayWith({ jp: { ...jpEntry, delivery: { url: `http://127.0.0.1:${port}/aeo/inbox` } } }, { JOB_LOCK_S: '2', SIGNING_KEY_FILE: keyFile }, undefined, false);
    closing.push(() => t.gw.close());
    const s = t.gw.settings;
    const env = { SIGNING_KEY_FILE: keyFile, DATABASE_URL: s.DATABASE_URL!, PARTNERS_DIR: s.PARTNERS_DIR, DATA_DIR: t.gw.dataDir, GATEWAY_ID, REDIS_URL, QUEUE_PREFIX: t.gw.prefix, PORT: '0', METRICS_PORT: '0', LOG_LEVEL: 'silent', SIGNING_KEY_MIN_AGE_DAYS: '0', JOB_LOCK_S: '2' };
    const first = runMragw(['work'], env);
    closing.push(() => killHard(first));
    await t.importMembers(members);
    await until(async () => (requests.length === 1 ? true : undefined)).catch((e: unknown) => {
      throw new Error(`${String(e)}: ${first.stderr().slice(-3000)}`);
    });
    await killHard(first);
    held.forEach((r) => r.destroy());
    const [doc] = await t.deliveries('JP');
    expect(doc).toMatchObject({ sequence: 1, state: 'pending' });

    const second = runMragw(['work'], env);
    closing.push(() => killHard(second));
    await until(async () => ((await t.deliveries('JP'))[0]?.state === 'delivered' ? true : undefined), 20_000);
    expect(requests).toHaveLength(2);
    expect(requests[1]!.jti).toBe(requests[0]!.jti);
    expect(requests[1]!.body.equals(requests[0]!.body)).toBe(true);
    expect(readDocument(formats.get('jp-aeo')!, requests[1]!.body).batch.envelope?.sequence).toBe(1);

    await t.importMembers(changedMembers());
    const list = await until(async () => {
      const all = await t.deliveries('JP');
      return all.length === 2 && all.every((d) => d.state === 'delivered') ? all : undefined;
    });
    expect(list.map((d) => [d.sequence, d.kind])).toEqual([
      [2, 'DELTA'],
      [1, 'SNAPSHOT'],
    ]);
    expect(readDocument(formats.get('jp-aeo')!, requests.at(-1)!.body).batch.envelope?.sequence).toBe(2);
  }, 40_000);
});
