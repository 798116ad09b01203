/**
 * The hostile-input catalogue, requests: path traversal, SQL metacharacters, NULs and
 * overlong values in every id and query parameter; bodies over the limit (declared and
 * chunked); oversized headers; slow headers and bodies; the pre-authentication byte cap.
 * Each named case checks its documented answer (never a 500), that the process is
 * healthy after, and that nothing was stored or changed.
 */
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signRequest } from '../../src/sign/request-signature.ts';
import { mintDevStaffToken } from '../../src/staff/dev-issuer.ts';
import { euDocument, GATEWAY_ID, partnerKeys, startTestGateway, type TestGateway } from '../support/gateway.ts';
import { allWellFormed } from '../support/well-formed.ts';
import { expectHealthy } from './harness.ts';

/** Every character but the unreserved ones percent-encoded, so that the URL is sent (and signed) exactly as written. */
const encoded = (text: string) => encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/**
 * What an attacker puts where an id or a filter goes, each as sent in the URL. (Bare dot
 * segments are not here: a client resolves them before sending, so the gateway never sees them.)
 */
const payloads: Record<string, string> = {
  traversal: encoded('../../../etc/passwd'),
  'SQL quote': encoded("' OR '1'='1"),
  'SQL statement': encoded('1; drop table exchanges; --'),
  NUL: '%00',
  'bytes that are not UTF-8 (a surrogate)': '%ED%A0%80',
  markup: encoded('<script>alert(1)</script>'),
  '3,000 characters': 'x'.repeat(3000),
};
const hostile = Object.entries(payloads);
/**
 * Payloads a free-text filter may hold: it filters by them, finds nothing, and says so.
 * (A query value that does not decode as UTF-8 is taken as the text it was written as.)
 */
const plainText = new Set(['traversal', 'SQL quote', 'SQL statement', 'markup', 'bytes that are not UTF-8 (a surrogate)']);

let g: TestGateway;
let admin: string;
let tablesBefore: number;

beforeAll(async () => {
  g = await startTestGateway({ store: 'PostgreSQL', env: { MRAGW_DEV_STAFF: '1' } });
  admin = await mintDevStaffToken(g.dataDir, { subject: 'officer.hostile', roles: ['admin'], ttlSeconds: 600 });
  tablesBefore = await tableCount();
}, 60_000);
afterAll(async () => {
  await g?.close();
});

async function tableCount(): Promise<number> {
  const { rows } = await g.gateway.db.query<{ n: number }>("select count(*)::int as n from information_schema.tables where table_schema = 'public'");
  return rows[0]!.n;
}
async function exchangeCount(): Promise<number> {
  const { rows } = await g.gateway.db.query<{ n: number }>('select count(*)::int as n from exchanges');
  return rows[0]!.n;
}

const staff = (path: string, method: 'GET' | 'POST' = 'GET', body?: unknown) =>
  fetch(`${g.url}${path}`, { method, headers: { Authorization: `Bearer ${admin}`, ...(body !== undefined && { 'Content-Type': 'application/json' }) }, ...(body !== undefined && { body: JSON.stringify(body) }) });

/** Sends every payload through `send` and checks each answer against `expected(payloadName)`. */
async function sweep(send: (payload: string) => Promise<Response>, expected: (name: string) => { status: number; slug?: string }): Promise<void> {
  const exchangesBefore = await exchangeCount();
  for (const [name, payload] of hostile) {
    const response = await send(payload);
    const text = await response.text();
    const want = expected(name);
    expect(response.status, `${name}: ${text.slice(0, 200)}`).toBe(want.status);
    if (want.slug) expect((JSON.parse(text) as { type: string }).type, name).toBe(`urn:mra:problem:${want.slug}`);
    else expect(allWellFormed(JSON.parse(text)), name).toBe(true);
  }
  expect(await exchangeCount()).toBe(exchangesBefore);
  expect(await tableCount()).toBe(tablesBefore);
  await expectHealthy(g);
}

/** An id that names nothing is a 404; one whose bytes are not UTF-8 cannot even be read (400). */
const notFound = (name: string) => (name.startsWith('bytes that are not UTF-8') ? badRequest() : { status: 404, slug: 'not-found' });
const badRequest = () => ({ status: 400, slug: 'bad-request' });
/** A free-text filter: text is filtered by (200, nothing found); a NUL, a lone surrogate or 3,000 characters is a 400. */
const filter = (name: string) => (plainText.has(name) ? { status: 200 } : badRequest());

describe('every id in a path, given hostile text', () => {
  const ids: [string, (p: string) => Promise<Response>][] = [
    ["a partner reading an exchange: GET /v1/exchanges/{id}", (p) => g.request({ method: 'GET', path: `/v1/exchanges/${p}` })],
    ['an anonymous status look-up, the id: GET /v1/status/eori/{id}', (p) => fetch(`${g.url}/v1/status/eori/${p}`)],
    ['an anonymous status look-up, the scheme: GET /v1/status/{scheme}/DE1', (p) => fetch(`${g.url}/v1/status/${p}/DE1`)],
    ['staff reading an exchange: GET /v1/exchanges/{id}', (p) => staff(`/v1/exchanges/${p}`)],
    ["staff reading an exchange's document: GET /v1/exchanges/{id}/document", (p) => staff(`/v1/exchanges/${p}/document`)],
    ['staff reading a discrepancy: GET /v1/discrepancies/{id}', (p) => staff(`/v1/discrepancies/${p}`)],
    ['staff reading a delivery: GET /v1/deliveries/{id}', (p) => staff(`/v1/deliveries/${p}`)],
    ["staff reading a partner's deliveries: GET /v1/partners/{partner}/deliveries", (p) => staff(`/v1/partners/${p}/deliveries`)],
    ['staff releasing a held batch: POST /v1/exchanges/{id}/release', (p) => staff(`/v1/exchanges/${p}/release`, 'POST', { reason: 'test' })],
    ['staff deciding a discrepancy: POST /v1/discrepancies/{id}/decision', (p) => staff(`/v1/discrepancies/${p}/decision`, 'POST', { decision: 'dismissed', reason: 'test' })],
    ['staff replaying a delivery: POST /v1/deliveries/{id}/replay', (p) => staff(`/v1/deliveries/${p}/replay`, 'POST', { reason: 'test' })],
    ['staff skipping a delivery: POST /v1/deliveries/{id}/skip', (p) => staff(`/v1/deliveries/${p}/skip`, 'POST', { reason: 'test' })],
    ['staff asking a SNAPSHOT for a partner: POST /v1/partners/{partner}/snapshot', (p) => staff(`/v1/partners/${p}/snapshot`, 'POST', { reason: 'test' })],
  ];
  it.each(ids)('%s', async (_name, send) => {
    // A traversal that leaves /v1 is not a resource either: the gateway serves nothing from the file system.
    await sweep(send, notFound);
  });
});

describe('every query parameter, given hostile text', () => {
  const filters = ['/v1/discrepancies?partner=', '/v1/discrepancies?kind=', '/v1/discrepancies?mid=', '/v1/exchanges?partner=', '/v1/recognitions?partner=', '/v1/recognitions?mid=', '/v1/recognitions?operator=', '/v1/audit?actor=', '/v1/audit?action=', '/v1/audit?subject='];
  it.each(filters)('free text: %s…', async (query) => {
    await sweep((p) => staff(query + p), filter);
  });

  const typed = ['/v1/discrepancies?state=', '/v1/partners?status=', '/v1/exchanges?state=', '/v1/exchanges?from=', '/v1/exchanges?to=', '/v1/exchanges?limit=', '/v1/exchanges?cursor=', '/v1/recognitions?state=', '/v1/benefits/changes?after=', '/v1/benefits/changes?limit=', '/v1/ctpat/imports?limit=', '/v1/partners/EU/deliveries?limit='];
  it.each(typed)('typed (a state, a date, a number or a cursor): %s…', async (query) => {
    await sweep((p) => staff(query + p), badRequest);
  });

  it("a partner's rejection paging: GET /v1/exchanges/{id}?rejectionsCursor=…", async () => {
    const accepted = await g.request({ body: euDocument({ batchId: 'HOSTILE-PAGE', sequence: 1 }) });
    const { exchangeId } = (await accepted.json()) as { exchangeId: string };
    await sweep((p) => g.request({ method: 'GET', path: `/v1/exchanges/${exchangeId}?rejectionsCursor=${p}` }), badRequest);
  });
});

describe('staff text in a body, given what PostgreSQL cannot hold', () => {
  it.each([
    ['a NUL in a decision reason', '{"decision": "dismissed", "reason": "a\\u0000b"}'],
    ['a lone surrogate in a decision reason', '{"decision": "dismissed", "reason": "a\\ud800b"}'],
    ['a control character in a decision reason', '{"decision": "dismissed", "reason": "a\\u001bb"}'],
  ])('%s is a 400', async (_name, body) => {
    const response = await fetch(`${g.url}/v1/discrepancies/1/decision`, { method: 'POST', headers: { Authorization: `Bearer ${admin}`, 'Content-Type': 'application/json' }, body });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { type: string }).type).toBe('urn:mra:problem:bad-request');
    await expectHealthy(g);
  });
});

describe('bodies and headers past their limits', () => {
  const big = () => euDocument({ batchId: 'HOSTILE-BIG', sequence: 1, records: 6_000 }); // over EU's 1 MiB limit

  it('a body over the partner limit, its length declared: 413', async () => {
    const before = await exchangeCount();
    const response = await g.request({ body: big() });
    expect(response.status).toBe(413);
    expect(((await response.json()) as { type: string }).type).toBe('urn:mra:problem:payload-too-large');
    expect(await exchangeCount()).toBe(before);
    await expectHealthy(g);
  });

  it('a body over the partner limit, chunked with no length: 413 once it passes the limit', async () => {
    const before = await exchangeCount();
    const body = Buffer.from(big());
    const signature = signRequest({ key: partnerKeys.EU, iss: 'EU', aud: GATEWAY_ID, method: 'POST', target: '/v1/exchanges', body });
    const chunks = (async function* () {
      for (let at = 0; at < body.length; at += 64 * 1024) yield body.subarray(at, at + 64 * 1024);
    })();
    const response = await fetch(`${g.url}/v1/exchanges`, { method: 'POST', headers: { 'JWS-Signature': signature, 'Content-Type': 'application/xml' }, body: chunks as unknown as ReadableStream, duplex: 'half' } as RequestInit);
    expect(response.status).toBe(413);
    expect(await exchangeCount()).toBe(before);
    await expectHealthy(g);
  });

  it('a JWS-Signature header over 8 KiB: 401 header-invalid', async () => {
    const response = await g.request({ body: euDocument({ batchId: 'HOSTILE-HDR', sequence: 1 }), headers: { 'JWS-Signature': `${'a'.repeat(9000)}..${'b'.repeat(86)}` } });
    expect(response.status).toBe(401);
    expect(((await response.json()) as { type: string }).type).toBe('urn:mra:problem:header-invalid');
    await expectHealthy(g);
  });

  it('request headers over what HTTP servers read (64 KiB): refused, never read into memory', async () => {
    const answer = await raw(`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(64 * 1024)}\r\n\r\n`);
    expect(answer).toMatch(/^HTTP\/1\.1 4(00|31)/);
    await expectHealthy(g);
  });
});

describe('slow senders and the pre-authentication cap', () => {
  let slow: TestGateway;
  beforeAll(async () => {
    slow = await startTestGateway({ store: 'PostgreSQL', workers: false, env: { BODY_TIMEOUT_S: '1', HEADERS_TIMEOUT_S: '1', PREAUTH_MAX_BYTES: '20000' } });
  }, 60_000);
  afterAll(async () => {
    await slow?.close();
  });

  it('headers that trickle in: 408, and the connection closed', async () => {
    const answer = await raw('POST /v1/exchanges HTTP/1.1\r\nHost: x\r\n', slow.url, { trickle: 'X-Slow: a\r\n', forMs: 4000 });
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
  });

  it('a body that trickles in: 408 request-timeout, nothing stored', async () => {
    const body = euDocument({ batchId: 'HOSTILE-SLOW', sequence: 1 });
    const signature = signRequest({ key: partnerKeys.EU, iss: 'EU', aud: GATEWAY_ID, method: 'POST', target: '/v1/exchanges', body: Buffer.from(body) });
    const head = `POST /v1/exchanges HTTP/1.1\r\nHost: x\r\nContent-Type: application/xml\r\nContent-Length: ${Buffer.byteLength(body)}\r\nJWS-Signature: ${signature}\r\n\r\n`;
    const answer = await raw(head + body.slice(0, 100), slow.url, { forMs: 3000 });
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
    expect(answer).toContain('urn:mra:problem:request-timeout');
    expect((await slow.gateway.db.query('select 1 from exchanges')).rows).toEqual([]);
  });

  it('unauthenticated bytes in flight past PREAUTH_MAX_BYTES: 503 busy with Retry-After', async () => {
    const response = await slow.request({ body: euDocument({ batchId: 'HOSTILE-PREAUTH', sequence: 1, records: 100 }) });
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBeTruthy();
    expect(((await response.json()) as { type: string }).type).toBe('urn:mra:problem:busy');
    expect((await slow.gateway.db.query('select 1 from exchanges')).rows).toEqual([]);
    const small = await slow.request({ body: euDocument({ batchId: 'HOSTILE-PREAUTH-2', sequence: 1 }) });
    expect(small.status).toBe(202);
  });
});

/** Writes `head` on a raw connection (then `trickle` every 300 ms, if given) and returns what came back within `forMs`. */
function raw(head: string, url = g.url, options: { trickle?: string; forMs?: number } = {}): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname);
    let answer = '';
    let timer: NodeJS.Timeout | undefined;
    const done = () => {
      clearInterval(timer);
      socket.destroy();
      resolve(answer);
    };
    socket.on('data', (d) => (answer += d.toString()));
    socket.on('close', done);
    socket.on('error', done);
    socket.write(head);
    if (options.trickle) timer = setInterval(() => socket.writable && socket.write(options.trickle!), 300);
    setTimeout(done, options.forMs ?? 2000);
  });
}
