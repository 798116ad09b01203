/**
 * Outbound delivery end to end (PROTOCOL §7) on real PostgreSQL, Redis and HTTP: a
 * C-TPAT import sends the EU a signed SNAPSHOT in its own format, received by the
 * reference inbox, its receipt verified; the next import sends a DELTA of exactly what
 * changed; the member's status names the partners holding it. nock plays Japan's
 * endpoint for the failures: a 400 is a dead letter that holds later documents back
 * until staff replay or skip it; a 503 is retried with the same bytes and jti.
 */
import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import nock from 'nock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gatewayDirectory } from '../../src/deliver/gateway-directory.ts';
import { startInbox, type InboxDocument } from '../../src/deliver/inbox.ts';
import { PartnerEntry } from '../../src/registry/partner.ts';
import { mintDevStaffToken } from '../../src/staff/dev-issuer.ts';
import { loadFormats } from '../../src/translate/load-mappings.ts';
import { readDocument } from '../../src/translate/read-document.ts';
import { freePort, jpReceipt, until } from '../support/delivery.ts';
import { GATEWAY_ID, partnerKeys, startTestGateway, type TestGateway } from '../support/gateway.ts';
import { runCli } from '../support/run-cli.ts';

const members = readFileSync(new URL('../../fixtures/ctpat/sample/input.ndjson', import.meta.url), 'utf8');
const formats = loadFormats();


/**
 * The EU records a document carries, key and consent, in order. Read from the XML: the
 * EU's inbound identifier rules refuse `US-CTPAT-…` keys, and FORMATS.md says they do
 * not apply outbound.
 */
const euRecords = (xml: Buffer) =>
  [...xml.toString('utf8').matchAll(/<AuthorisationNumber>([^<]+)<\/AuthorisationNumber>[\s\S]*?<ConsentToExchange[^>]*>(true|false)<\/ConsentToExchange>/g)].map((m) => [m[1], m[2] === 'true']);



describe('outbound delivery', () => {
  let gw: TestGateway;
  let token: string;
  let inbox: Awaited<ReturnType<typeof startInbox>>;
  const received: InboxDocument[] = [];
  const jp = nock('https://customs.jp.example');

  const staff = (path: string, init: RequestInit = {}) => fetch(`${gw.url}${path}`, { ...init, headers: { Authorization: `Bearer ${token}`, ...(init.body !== undefined && { 'Content-Type': 'application/json' }), ...init.headers } });
  const importMembers = async (ndjson: string) => {
    const response = await staff('/v1/ctpat/members', { method: 'POST', body: ndjson, headers: { 'Content-Type': 'application/x-ndjson' } });
    expect(response.status).toBe(200);
    return (await response.json()) as { outbound: string[] };
  };
  /** The bytes the EU was sent, as stored before the first attempt. */
  const sentToEu = async (sequence: number) => (await gw.gateway.db.query<{ body: Buffer }>("select body from deliveries where partner = 'EU' and sequence = $1 and state = 'delivered'", [sequence])).rows[0]!.body;
  const deliveries = async (partner: string) => ((await (await staff(`/v1/partners/${partner}/deliveries`)).json()) as { deliveries: { id: string; sequence: number; kind: string; state: string; recordCount: number; lastError: string | null }[] }).deliveries;

  beforeAll(async () => {
    const port = await freePort();
    const euRegistry = JSON.parse(readFileSync(new URL('../../../shared/spec/vectors/partner.json', import.meta.url), 'utf8')) as { partner: { keys: { jwks: { keys: object[] } } } };
    gw = await startTestGateway({
      store: 'PostgreSQL',
      env: { MRAGW_DEV_STAFF: '1', DELIVERY_MAX_ATTEMPTS: '3' },
      partners: {
        eu: { id: 'EU', name: 'European Union', programme: 'EU-AEO', format: 'eu-aeo', keys: { algorithms: ['ES256'], jwks: euRegistry.partner.keys.jwks }, delivery: { url: `http://127.0.0.1:${port}/mra/inbox` } },
        jp: { id: 'JP', name: 'Japan', programme: 'JP-AEO', format: 'jp-aeo', mra: { outboundBusinessTypes: ['EXPORTER'] }, keys: { algorithms: ['ES256'], jwks: { keys: [(({ d, ...pub }) => ({ ...pub, alg: 'ES256', use: 'sig' }))(partnerKeys.JP.privateJwk)] } }, delivery: { url: 'https://customs.jp.example/aeo/inbox' } },
      },
    });
    token = await mintDevStaffToken(gw.dataDir, { subject: 'officer.ortiz', roles: ['admin'], ttlSeconds: 600 });
    const euEntry = gw.gateway.registry.partner('EU')!;
    inbox = await startInbox({
      host: '127.0.0.1',
      port,
      partner: PartnerEntry.parse({ ...euEntry, delivery: undefined }),
      format: formats.get('eu-aeo')!,
      receiptKey: { privateKey: createPrivateKey({ key: partnerKeys.EU.privateJwk, format: 'jwk' }), kid: partnerKeys.EU.privateJwk.kid, alg: 'ES256' },
      gatewayId: GATEWAY_ID,
      gateway: gatewayDirectory(GATEWAY_ID, 'ctpat', { jwksUri: `${gw.url}/.well-known/jwks.json` }),
      onDocument: (doc) => received.push(doc),
    });
  });

  afterAll(async () => {
    nock.cleanAll();
    await inbox?.close();
    await gw?.close();
  });

  it('an import sends the EU a signed SNAPSHOT in its format; the receipt verifies; status names the EU', async () => {
    jp.post('/aeo/inbox').reply(400, { type: 'urn:mra:problem:document-invalid', title: 'Document invalid', status: 400, detail: 'no' });
    const answer = await importMembers(members);
    expect(answer.outbound.sort()).toEqual(['EU', 'JP']);
    const [first] = await until(async () => {
      const list = await deliveries('EU');
      return list[0]?.state === 'delivered' ? list : undefined;
    });
    expect(first).toMatchObject({ sequence: 1, kind: 'SNAPSHOT', state: 'delivered' });
    expect(received).toEqual([expect.objectContaining({ partner: 'EU', sequence: 1, kind: 'SNAPSHOT', disposition: 'accepted' })]);
    // Read back with the EU's own mapping: the eligible members (consent, not APPLICANT), keyed US-CTPAT-….
    const sent = await sentToEu(1);
    expect(readDocument(formats.get('eu-aeo')!, sent).batch.envelope).toMatchObject({ sender: GATEWAY_ID, receiver: 'EU', sequence: 1, kind: 'SNAPSHOT', count: 3 });
    expect(euRecords(sent).map(([key]) => key)).toEqual(['US-CTPAT-CT-0012345', 'US-CTPAT-CT-0020001', 'US-CTPAT-CT-0030003']);
    const status = (await (await staff('/v1/status/ctpat/CT-0012345')).json()) as { assertion?: string };
    const payload = JSON.parse(Buffer.from(status.assertion!.split('.')[1]!, 'base64url').toString('utf8')) as { recognitions: { authority: string; state: string }[] };
    expect(payload.recognitions).toEqual([expect.objectContaining({ authority: 'EU', state: 'recognized' })]);
  });

  it('a 400 from Japan is a dead letter at once: no retry, and staff see it', async () => {
    const [dead] = await until(async () => {
      const list = await deliveries('JP');
      return list[0]?.state === 'dead' ? list : undefined;
    });
    expect(dead).toMatchObject({ sequence: 1, kind: 'SNAPSHOT', recordCount: 1 });
    expect(dead!.lastError).toMatch(/400/);
    const view = (await (await staff(`/v1/deliveries/${dead!.id}`)).json()) as { attempts: { outcome: string; status: number }[] };
    expect(view.attempts).toEqual([expect.objectContaining({ outcome: 'dead', status: 400 })]);
  });

  it('the next import sends a DELTA of exactly what changed; a later JP document waits behind its dead letter', async () => {
    const changed = members
      .split('\n')
      .filter((l) => l !== '')
      .map((line) => {
        const m = JSON.parse(line) as { accountNumber: string; legalName: string; consentToShare: boolean };
        if (m.accountNumber === 'CT-0012345') m.legalName = 'Great Lakes Outdoor Supply Holdings LLC';
        if (m.accountNumber === 'CT-0020001') m.consentToShare = false;
        return JSON.stringify(m);
      })
      .join('\n');
    await importMembers(`${changed}\n`);
    const list = await until(async () => {
      const all = await deliveries('EU');
      return all[0]?.sequence === 2 && all[0].state === 'delivered' ? all : undefined;
    });
    expect(list[0]).toMatchObject({ kind: 'DELTA', recordCount: 2 });
    const sent = await sentToEu(2);
    expect(readDocument(formats.get('eu-aeo')!, sent).batch.envelope).toMatchObject({ sequence: 2, kind: 'DELTA', count: 2 });
    // The changed member, then the withdrawal (consent false) as the last record.
    expect(euRecords(sent)).toEqual([
      ['US-CTPAT-CT-0012345', true],
      ['US-CTPAT-CT-0020001', false],
    ]);
    const jpList = await until(async () => {
      const all = await deliveries('JP');
      return all.length === 2 ? all : undefined;
    });
    expect(jpList.map((d) => [d.sequence, d.state])).toEqual([
      [2, 'pending'],
      [1, 'dead'],
    ]);
  });

  it('staff skip the dead letter: a fresh SNAPSHOT under the same sequence goes first, then the waiting DELTA; a 503 is retried with the same bytes and jti', async () => {
    const seen: { jti: string; iat: number; body: Buffer }[] = [];
    const see = (body: unknown, headers: Record<string, string | string[]>) => {
      const signature = String(headers['jws-signature']);
      const header = JSON.parse(Buffer.from(signature.split('.')[0]!, 'base64url').toString('utf8')) as { jti: string; iat: number };
      const bytes = Buffer.from(body as string);
      seen.push({ jti: header.jti, iat: header.iat, body: bytes });
      return { signature, bytes };
    };
    jp.post('/aeo/inbox').reply(function (_uri, body) {
      see(body, this.req.headers);
      return [503, '', { 'Retry-After': '1' }];
    });
    for (let i = 0; i < 2; i++) {
      jp.post('/aeo/inbox').reply(202, async function (_uri, body) {
        const { signature, bytes } = see(body, this.req.headers);
        return jpReceipt(signature, bytes);
      });
    }
    const [, dead] = await deliveries('JP');
    const skip = await staff(`/v1/deliveries/${dead!.id}/skip`, { method: 'POST', body: JSON.stringify({ reason: 'Japan could not read the first SNAPSHOT' }) });
    expect(skip.status).toBe(202);
    const list = await until(async () => {
      const all = await deliveries('JP');
      return all.filter((d) => d.state === 'delivered').length === 2 ? all : undefined;
    }, 30_000);
    expect(list.map((d) => [d.sequence, d.kind, d.state]).sort()).toEqual([
      [1, 'SNAPSHOT', 'delivered'],
      [1, 'SNAPSHOT', 'skipped'],
      [2, 'DELTA', 'delivered'],
    ]);
    // The SNAPSHOT was tried twice (503, then 202) with the same jti and bytes, and went before the DELTA.
    expect(seen).toHaveLength(3);
    const [refused, snapshot, delta] = seen;
    expect(snapshot!.jti).toBe(refused!.jti);
    expect(snapshot!.body.equals(refused!.body)).toBe(true);
    expect(delta!.jti).not.toBe(snapshot!.jti);
    expect(readDocument(formats.get('jp-aeo')!, snapshot!.body).batch.envelope).toMatchObject({ sequence: 1, kind: 'SNAPSHOT' });
    expect(readDocument(formats.get('jp-aeo')!, delta!.body).batch.envelope).toMatchObject({ sequence: 2, kind: 'DELTA' });
    const fresh = list.find((d) => d.state === 'delivered' && d.kind === 'SNAPSHOT')!;
    const view = (await (await staff(`/v1/deliveries/${fresh.id}`)).json()) as { attempts: { outcome: string; status: number }[]; replaces: string };
    expect(view.replaces).toBe(dead!.id);
    expect(view.attempts.map((a) => [a.outcome, a.status])).toEqual([
      ['retry', 503],
      ['delivered', 202],
    ]);
  });

  it('staff, from the command line: delivery health, and a SNAPSHOT sent now, in the audit log', async () => {
    const health = await runCli(['staff', 'deliveries', '--url', gw.url, '--token', token]);
    expect(health.status).toBe(0);
    const { partners } = JSON.parse(health.stdout) as { partners: { partner: string; lastSequence: number; lastDelivered: number; deadLetters: unknown[]; snapshotSchedule: string; nextSnapshotAt: string }[] };
    const eu = partners.find((p) => p.partner === 'EU')!;
    expect(eu).toMatchObject({ lastSequence: 2, lastDelivered: 2, deadLetters: [], snapshotSchedule: '0 2 * * *' });
    // The daily SNAPSHOT is a job scheduler: its next run is at 02:00 UTC, within a day.
    const next = new Date(eu.nextSnapshotAt);
    expect(next.getUTCHours()).toBe(2);
    expect(next.getTime() - Date.now()).toBeGreaterThan(0);
    expect(next.getTime() - Date.now()).toBeLessThanOrEqual(86_400_000);
    const sent = await runCli(['staff', 'send-snapshot', 'EU', '--reason', 'the EU asked for a full list', '--url', gw.url, '--token', token]);
    expect(sent.status).toBe(0);
    const [third] = await until(async () => {
      const all = await deliveries('EU');
      return all[0]?.sequence === 3 && all[0].state === 'delivered' ? all : undefined;
    });
    expect(third).toMatchObject({ kind: 'SNAPSHOT', recordCount: 2 });
    expect(received.at(-1)).toMatchObject({ sequence: 3, kind: 'SNAPSHOT', disposition: 'accepted' });
    const audit = await gw.gateway.db.query<{ action: string; actor: string }>("select action, actor from audit_log where action like 'delivery-%' order by id");
    expect(audit.rows).toEqual([
      { action: 'delivery-skip', actor: 'officer.ortiz' },
      { action: 'delivery-snapshot', actor: 'officer.ortiz' },
    ]);
  });
});
