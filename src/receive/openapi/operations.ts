/**
 * Every operation of the API, one entry each: who may call it, what it reads (the zod
 * schemas its route parses with, exported by the route's own file) and what it answers.
 * document.ts turns this catalogue into the OpenAPI document at `/openapi.json`; the test
 * (test/receive/openapi.test.ts) checks it against the routes the app really has and
 * every example against its schema.
 */
import { z } from 'zod';
import { rolesFor, type StaffRole } from '../../staff/staff-auth.ts';
import { DeliveriesQuery, Reason } from '../delivery-routes.ts';
import { Decision, FeedQuery, ImportsLimit, ReleaseBody } from '../staff-routes.ts';
import { RejectionsQuery } from '../paging.ts';
import { AuditQuery, DiscrepancyQuery, ExchangeQuery, PartnerQuery, RecognitionQuery } from '../staff-views-routes.ts';
import {
  ExchangeListItem,
  ExchangeReadBack,
  Health,
  itemWith,
  Jwks,
  OpenApiDocument,
  pageOf,
  Readiness,
  ReceiptAnswer,
  StaffExchangeView,
  StatusAnswer,
  StatusSchemeParam,
} from './schemas.ts';

/** Who may call: anyone, a partner signing per PROTOCOL §2, or staff holding one of `roles`. */
export type Access = { kind: 'anonymous' } | { kind: 'partner' } | { kind: 'staff'; roles: readonly StaffRole[] };

/** A body the route parses as JSON with `schema`. */
export interface JsonBody {
  kind: 'json';
  schema: z.ZodType;
  example: unknown;
  /** An empty body is also accepted. */
  optional?: boolean;
}

/** A document in a format of the mappings, read as bytes; its example is checked by reading it as `exampleFormat`. */
export interface DocumentBody {
  kind: 'document';
  description: string;
  mediaTypes: readonly string[];
  exampleFormat: string;
  example: string;
}

export interface Answer {
  description: string;
  /** A JSON body with its schema; a download when `schema` is absent. */
  body?: { mediaType: string; schema?: z.ZodType; example?: unknown };
  headers?: Record<string, string>;
}

export interface Operation {
  method: 'get' | 'post';
  /** In OpenAPI form, relative to the base path: `/v1/exchanges/{exchangeId}`. */
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  tag: 'partners' | 'status' | 'staff' | 'delivery' | 'gateway';
  /** Alternatives: any one of them is enough. */
  access: readonly Access[];
  params?: Record<string, { schema: z.ZodType; description: string; example: string }>;
  query?: { schema: z.ZodObject; example: Record<string, string> };
  body?: JsonBody | DocumentBody;
  answers: Record<number, Answer>;
  /** Error answers, all application/problem+json: status → when. */
  problems: Record<number, string>;
}

const anyone: Access = { kind: 'anonymous' };
const partner: Access = { kind: 'partner' };
const staff = (roles: readonly StaffRole[]): Access => ({ kind: 'staff', roles });

// A compact JWS in the examples: three base64url parts.
const jwsExample = 'eyJhbGciOiJFUzI1NiIsImtpZCI6ImdhdGV3YXktMSIsInR5cCI6Im1yYS1yZWNlaXB0K2p3dCJ9.eyJleGNoYW5nZUlkIjoiMCJ9.c2lnbmF0dXJl';
const exchangeId = '0b9f3c2e-6a51-4d1e-9a8f-2f1c5b7d9e01';

const exchangeIdParam = { exchangeId: { schema: z.uuid(), description: 'The exchange id of the receipt.', example: exchangeId } };
const deliveryIdParam = { id: { schema: z.uuid(), description: 'A delivery id.', example: '5a1e0f7c-3b2d-4c8e-9f10-7d6e5c4b3a21' } };
const partnerParam = { partner: { schema: z.string().min(1), description: 'A partner id of the registry.', example: 'EU' } };
const discrepancyIdParam = { id: { schema: z.string().regex(/^\d+$/), description: 'A discrepancy id.', example: '17' } };

/** §2's refusals of a signed request, and what follows a valid signature. */
const signedRefusals = {
  401: 'The JWS-Signature header is missing or fails PROTOCOL §2 (`header-invalid`, `unknown-key`, `alg-not-allowed`, `audience-mismatch`, `htm-mismatch`, `htu-mismatch`, `iat-out-of-window`, `signature-invalid`).',
  403: 'The partner is suspended in the registry (`partner-suspended`).',
  429: "Over the partner's rate limit, or too many refused requests from this address (`rate-limited`, with Retry-After).",
};
const staffRefusals = {
  401: 'No staff bearer token, or one that does not verify (`unauthorized`, with a Bearer challenge).',
  403: 'The token lacks the role this needs (`forbidden`).',
};
const storeDown = { 503: 'The store of record is unreachable (`unavailable`, with Retry-After).' };

const feedItem = itemWith({ id: z.number().int(), mid: z.string(), partner: z.string(), record: z.string(), benefit: z.string(), change: z.string(), effective: z.string() });
const ok = (description: string, schema: z.ZodType, example?: unknown): Answer => ({ description, body: { mediaType: 'application/json', schema, ...(example !== undefined && { example }) } });

/** Every operation the gateway answers (the people's pages, /status/ and /console/, are not API). */
export const operations: readonly Operation[] = [
  {
    method: 'get', path: '/healthz', operationId: 'health', tag: 'gateway', access: [anyone],
    summary: 'Liveness: the process answers.',
    answers: { 200: ok('Up.', Health, { status: 'up' }) },
    problems: {},
  },
  {
    method: 'get', path: '/readyz', operationId: 'readiness', tag: 'gateway', access: [anyone],
    summary: 'Readiness: the store of record answers; the body also reports Redis, the workers and the outbox.',
    answers: { 200: ok('Ready.', Readiness, { status: 'ready', store: 'up', redis: 'up', workers: 'running', outboxPending: 0 }), 503: ok('Not ready: the store is down.', Readiness) },
    problems: {},
  },
  {
    method: 'get', path: '/.well-known/jwks.json', operationId: 'gatewayKeys', tag: 'gateway', access: [anyone],
    summary: "The gateway's public keys: every key that signed an object it still keeps, and every key announced for future use (PROTOCOL §4).",
    answers: { 200: ok('The key set.', Jwks, { keys: [{ kty: 'EC', crv: 'P-256', x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU', y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0', kid: 'gateway-1', alg: 'ES256', use: 'sig' }] }) },
    problems: {},
  },
  {
    method: 'get', path: '/openapi.json', operationId: 'apiDescription', tag: 'gateway', access: [anyone],
    summary: 'This description of the API (OpenAPI 3.1).',
    answers: { 200: ok('The OpenAPI document.', OpenApiDocument) },
    problems: {},
  },
  {
    method: 'post', path: '/v1/exchanges', operationId: 'sendDocument', tag: 'partners', access: [partner],
    summary: 'Send a document (PROTOCOL §3).',
    description: 'The body is one document in the partner\'s registered format (FORMATS.md), signed byte for byte. The gateway answers once the body, its signature header and the receipt are durably stored.',
    body: {
      kind: 'document',
      description: "One document in the partner's registered format; the media type is the format's.",
      mediaTypes: ['application/xml', 'application/json', 'text/csv'],
      exampleFormat: 'eu-aeo',
      example: [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<AEOExchangeBatch xmlns="urn:eu:taxud:mra:aeo:1" partner="EU" receiver="US-CBP" batchId="EU-US-20261127-01" sequence="42" type="SNAPSHOT" asOf="2026-11-27T02:00:00Z" recordCount="1">',
        '  <Operator>',
        '    <TIN scheme="EORI">NL987654321</TIN>',
        '    <AuthorisationNumber>NLAEOC0000777</AuthorisationNumber>',
        '    <AuthorisationType>AEOC</AuthorisationType>',
        '    <Name>Rotterdam Freight B.V.</Name>',
        '    <Status code="VALID" effectiveDate="2018-05-20"/>',
        '    <ConsentToExchange>true</ConsentToExchange>',
        '  </Operator>',
        '</AEOExchangeBatch>',
        '',
      ].join('\n'),
    },
    answers: {
      202: { ...ok('Accepted and stored; the receipt says whether the batch is accepted, held or stale.', ReceiptAnswer, { exchangeId, receipt: jwsExample }), headers: { Location: 'The exchange: `/v1/exchanges/{exchangeId}` under the base path.' } },
      200: ok('A retry of an accepted request (same `jti` or `batchId`, same body): the earlier receipt, byte for byte.', ReceiptAnswer, { exchangeId, receipt: jwsExample }),
    },
    problems: {
      400: 'The request is not readable as HTTP (`bad-request`).',
      ...signedRefusals,
      408: 'The body was not received in time (`request-timeout`).',
      409: 'The `jti` or `batchId` was used with another body (`jti-conflict`, `duplicate-batch`).',
      413: "The body is larger than the partner's limit (`payload-too-large`).",
      415: "Not the format's media type, charset or encoding (`unsupported-media-type`).",
      422: 'A fault of the document as a whole (`document-invalid`), with `errors`; nothing is stored.',
      503: 'Too many unverified bytes in flight (`busy`), or the store is unreachable (`unavailable`); Retry-After.',
    },
  },
  {
    method: 'get', path: '/v1/exchanges/{exchangeId}', operationId: 'readExchange', tag: 'partners', access: [partner, staff(rolesFor.read)],
    summary: 'Read an exchange back (PROTOCOL §5).',
    description: 'Signed by the partner that sent it (any other partner gets 404), answered with its state, counts and rejected records; with a staff bearer token instead, the staff view of any exchange. The rejections come a page at a time: `rejectionsNext` is the `rejectionsCursor` of the next page (a signed request covers the query too), `rejectionCount` says how many faults there are in all, and `truncated` that the gateway kept only the first of them.',
    params: exchangeIdParam,
    query: { schema: RejectionsQuery, example: { rejectionsLimit: '100' } },
    answers: {
      200: ok('The exchange: the partner\'s read-back, or for staff the staff view.', z.union([ExchangeReadBack, StaffExchangeView]), {
        exchangeId, batchId: 'EU-US-20261127-01', sequence: 42, kind: 'SNAPSHOT', state: 'applied',
        counts: { records: 3, created: 2, changed: 0, unchanged: 0, withdrawn: 0, rejected: 1 },
        rejections: [{ index: 2, key: 'NLAEOC0000777', pointer: '/AEOExchangeBatch/Operator[3]/TIN', code: 'invalid-identifier', message: 'not an EORI' }],
        rejectionCount: 1, truncated: false, rejectionsNext: null,
      }),
    },
    problems: { 400: 'A query parameter or the cursor is invalid (`bad-request`).', ...signedRefusals, ...staffRefusals, 401: `${signedRefusals[401]} For staff: no valid bearer token.`, 403: `${signedRefusals[403]} For staff: ${staffRefusals[403]}`, 404: 'No such exchange, or another partner\'s (`not-found`).', ...storeDown },
  },
  {
    method: 'get', path: '/v1/status/{scheme}/{id}', operationId: 'status', tag: 'status', access: [anyone, partner, staff(rolesFor.read)],
    summary: 'The status of one subject, by its exact identifier (PROTOCOL §5).',
    description: 'Anonymous, signed per §2 or with a staff bearer token (a present but invalid credential is a 401, never anonymous). Anonymous callers are rate-limited per address. A miss is a 404 in the same time as a hit; the `mid` scheme answers partners and staff only.',
    params: {
      scheme: { schema: StatusSchemeParam, description: 'The identifier scheme.', example: 'eori' },
      id: { schema: z.string().min(1), description: 'The identifier; upper-cased before look-up (`kr-brn` and `ca-bn` lose dashes and spaces).', example: 'DE123456789012345' },
    },
    answers: {
      200: ok('The subject and a signed status assertion.', StatusAnswer, {
        subject: { sub: 'eori:DE123456789012345', programme: 'EU-AEO', status: 'active', statusEffective: '2016-03-01', recognitions: [{ authority: 'US-CBP', state: 'recognized', since: '2016-03-01' }] },
        assertion: jwsExample,
      }),
    },
    problems: { 401: 'A JWS-Signature or bearer token is present but fails.', 403: 'A suspended partner, or a staff token without a reading role.', 404: 'No status for this identifier (`not-found`).', 429: 'Over the anonymous rate limit of this address (`rate-limited`).', ...storeDown },
  },

  // The staff API: discrepancies, held batches, the benefit feed, the registry, C-TPAT imports.
  {
    method: 'get', path: '/v1/discrepancies', operationId: 'listDiscrepancies', tag: 'staff', access: [staff(rolesFor.read)],
    summary: 'Discrepancies, newest decisions first, filterable and paged.',
    query: { schema: DiscrepancyQuery, example: { state: 'open', partner: 'EU', limit: '20' } },
    answers: { 200: ok('A page of discrepancies.', pageOf('discrepancies', itemWith({ id: z.number().int() }))) },
    problems: { 400: 'A query parameter is invalid (`bad-request`, each in `errors`).', ...staffRefusals, ...storeDown },
  },
  {
    method: 'get', path: '/v1/discrepancies/{id}', operationId: 'readDiscrepancy', tag: 'staff', access: [staff(rolesFor.read)],
    summary: 'One discrepancy with its evidence and MID construction.',
    params: discrepancyIdParam,
    answers: { 200: ok('The discrepancy.', itemWith({ id: z.number().int(), evidence: z.unknown() })) },
    problems: { ...staffRefusals, 404: 'No such discrepancy (`not-found`).', ...storeDown },
  },
  {
    method: 'post', path: '/v1/discrepancies/{id}/decision', operationId: 'decideDiscrepancy', tag: 'staff', access: [staff(rolesFor.decide)],
    summary: 'Decide an open discrepancy; the decision, who and why go to the audit log.',
    params: discrepancyIdParam,
    body: { kind: 'json', schema: Decision, example: { decision: 'overridden', reason: 'confirmed with the EU desk by phone' } },
    answers: { 200: ok('Decided.', z.strictObject({ id: z.number().int(), state: Decision.shape.decision, decidedBy: z.string() }), { id: 17, state: 'overridden', decidedBy: 'officer.jones' }) },
    problems: { 400: 'The body is not a decision (`bad-request`, each member in `errors`).', ...staffRefusals, 404: 'No such discrepancy.', 409: 'Already decided (`conflict`).', 413: 'The body is over 16 KiB.', 415: 'The body is not JSON.', ...storeDown },
  },
  {
    method: 'post', path: '/v1/exchanges/{exchangeId}/release', operationId: 'releaseExchange', tag: 'staff', access: [staff(rolesFor.administer)],
    summary: 'Release a held batch: it applies as if its sequence were next.',
    params: exchangeIdParam,
    body: { kind: 'json', schema: ReleaseBody, example: { reason: 'the EU confirmed 2–4 were never sent' }, optional: true },
    answers: { 200: ok('Released.', z.strictObject({ exchangeId: z.string(), state: z.literal('received'), releasedBy: z.string() }), { exchangeId, state: 'received', releasedBy: 'officer.jones' }) },
    problems: { 400: 'The body is not `{"reason": "…"}` (`bad-request`).', ...staffRefusals, 404: 'No such exchange.', 409: 'The exchange is not held (`conflict`).', 413: 'The body is over 16 KiB.', ...storeDown },
  },
  {
    method: 'get', path: '/v1/benefits/changes', operationId: 'benefitFeed', tag: 'staff', access: [staff(rolesFor.readFeed)],
    summary: 'The benefit change feed: changes after id `after`, oldest first.',
    query: { schema: FeedQuery, example: { after: '1200', limit: '100' } },
    answers: { 200: ok('Changes and the `after` of the next call.', z.strictObject({ changes: z.array(feedItem), next: z.number().int().min(0) })) },
    problems: { 400: '`after` or `limit` is not a whole number in range (`bad-request`).', ...staffRefusals, ...storeDown },
  },
  {
    method: 'get', path: '/v1/registry/partners', operationId: 'registry', tag: 'staff', access: [staff(rolesFor.read)],
    summary: 'The partner registry, read-only (its files are the one source).',
    answers: { 200: ok('Every partner entry.', z.strictObject({ partners: z.array(itemWith({ id: z.string(), name: z.string(), format: z.string() })) })) },
    problems: { ...staffRefusals },
  },
  {
    method: 'post', path: '/v1/ctpat/members', operationId: 'importCtpatMembers', tag: 'staff', access: [staff(rolesFor.administer)],
    summary: 'Import the C-TPAT member list (NDJSON, one member a line); queues each delivery partner\'s next document.',
    body: {
      kind: 'document',
      description: 'The C-TPAT member export, one JSON object a line (FORMATS.md `ctpat`).',
      mediaTypes: ['application/x-ndjson'],
      exampleFormat: 'ctpat',
      example: '{"accountNumber":"CT-0012345","businessType":"EXPORTER","legalName":"Great Lakes Outdoor Supply LLC","address":{"street":"1200 Commerce Dr","city":"Toledo","state":"OH","postalCode":"43604","country":"US"},"status":"CERTIFIED_VALIDATED","statusDate":"2022-10-18","certifiedOn":"2012-04-02","consentToShare":true,"identifiers":{"mids":[],"scac":null}}\n',
    },
    answers: { 200: ok('The import: counts, rejected lines, what changed, and the outbound documents queued.', itemWith({ importId: z.number().int(), importDate: z.string(), imported: z.number().int(), rejectedLines: z.number().int(), outbound: z.unknown() })) },
    problems: { ...staffRefusals, 413: 'The body is over 256 MiB.', 422: 'A fault of the file as a whole (`document-invalid`), with its place.', ...storeDown },
  },
  {
    method: 'get', path: '/v1/ctpat/imports', operationId: 'listCtpatImports', tag: 'staff', access: [staff(rolesFor.read)],
    summary: 'The latest C-TPAT imports with their counts, newest first.',
    query: { schema: z.object({ limit: ImportsLimit.default(20).describe('1–100, default 20.') }), example: { limit: '5' } },
    answers: { 200: ok('The imports.', z.strictObject({ imports: z.array(itemWith({ importId: z.number().int() })) })) },
    problems: { 400: '`limit` is not a whole number from 1 to 100 (`bad-request`).', ...staffRefusals, ...storeDown },
  },

  // What staff read.
  {
    method: 'get', path: '/v1/partners', operationId: 'listPartners', tag: 'staff', access: [staff(rolesFor.read)],
    summary: 'The partners with their state in and out: inbound sequence, delivery health, key use, open discrepancies.',
    query: { schema: PartnerQuery, example: { status: 'active', limit: '50' } },
    answers: {
      200: ok('A page of partners.', pageOf('partners', itemWith({ id: z.string(), name: z.string(), programme: z.string(), format: z.string(), status: z.enum(['active', 'suspended']), inbound: z.unknown(), outbound: z.unknown(), keys: z.array(z.unknown()), openDiscrepancies: z.number().int() }))),
    },
    problems: { 400: 'A query parameter or the cursor is invalid (`bad-request`).', ...staffRefusals, ...storeDown },
  },
  {
    method: 'get', path: '/v1/exchanges', operationId: 'listExchanges', tag: 'staff', access: [staff(rolesFor.read)],
    summary: 'Exchanges received, newest first, filterable by partner, state and time.',
    query: { schema: ExchangeQuery, example: { partner: 'EU', state: 'held', from: '2026-11-01', to: '2026-11-30T00:00:00Z', limit: '20' } },
    answers: { 200: ok('A page of exchanges.', pageOf('exchanges', ExchangeListItem)) },
    problems: { 400: 'A query parameter or the cursor is invalid (`bad-request`).', ...staffRefusals, ...storeDown },
  },
  {
    method: 'get', path: '/v1/exchanges/{exchangeId}/document', operationId: 'exchangeDocument', tag: 'staff', access: [staff(rolesFor.read)],
    summary: 'The raw document of an exchange, as received (a download, with its own media type).',
    params: exchangeIdParam,
    answers: { 200: { description: 'The document, byte for byte, with the media type it was sent with.', body: { mediaType: '*/*' }, headers: { 'Content-Disposition': '`attachment; filename="exchange-{exchangeId}"`' } } },
    problems: { ...staffRefusals, 404: 'No such exchange.', ...storeDown },
  },
  {
    method: 'get', path: '/v1/recognitions', operationId: 'listRecognitions', tag: 'staff', access: [staff(rolesFor.read)],
    summary: 'Recognitions, with the §5 rule and the batch that decided each.',
    query: { schema: RecognitionQuery, example: { partner: 'EU', state: 'recognized', operator: 'DE123456789012345' } },
    answers: {
      200: ok('A page of recognitions.', pageOf('recognitions', itemWith({ partner: z.string(), key: z.string(), name: z.string(), state: z.string(), since: z.string().nullable(), rule: z.unknown(), batch: z.unknown(), benefits: z.unknown(), mids: z.unknown() }))),
    },
    problems: { 400: 'A query parameter or the cursor is invalid (`bad-request`).', ...staffRefusals, ...storeDown },
  },
  {
    method: 'get', path: '/v1/audit', operationId: 'auditLog', tag: 'staff', access: [staff(rolesFor.read)],
    summary: 'The audit log, newest first: who did what, when and why.',
    query: { schema: AuditQuery, example: { actor: 'officer.jones', action: 'discrepancy-overridden' } },
    answers: { 200: ok('A page of audit entries.', pageOf('entries', itemWith({ id: z.number().int() }))) },
    problems: { 400: 'A query parameter or the cursor is invalid (`bad-request`).', ...staffRefusals, ...storeDown },
  },

  // Outbound delivery (PROTOCOL §7).
  {
    method: 'get', path: '/v1/deliveries', operationId: 'deliveryHealth', tag: 'delivery', access: [staff(rolesFor.read)],
    summary: "Each delivery partner's health: last sequence and delivery, pending, held, dead letters, the SNAPSHOT schedule.",
    answers: { 200: ok('One entry per partner that takes deliveries.', z.strictObject({ partners: z.array(itemWith({ partner: z.string(), url: z.string(), snapshotSchedule: z.string(), nextSnapshotAt: z.unknown() })) })) },
    problems: { ...staffRefusals, ...storeDown },
  },
  {
    method: 'get', path: '/v1/partners/{partner}/deliveries', operationId: 'partnerDeliveries', tag: 'delivery', access: [staff(rolesFor.read)],
    summary: "A partner's latest deliveries.",
    params: partnerParam,
    query: { schema: DeliveriesQuery, example: { limit: '10' } },
    answers: { 200: ok('The deliveries, newest first.', z.strictObject({ deliveries: z.array(z.unknown()) })) },
    problems: { 400: '`limit` is not a whole number from 1 to 1000 (`bad-request`).', ...staffRefusals, ...storeDown },
  },
  {
    method: 'get', path: '/v1/deliveries/{id}', operationId: 'readDelivery', tag: 'delivery', access: [staff(rolesFor.read)],
    summary: 'One outbound document with its attempts.',
    params: deliveryIdParam,
    answers: { 200: ok('The delivery.', itemWith({ partner: z.string(), sequence: z.number().int(), state: z.string() })) },
    problems: { ...staffRefusals, 404: 'No such delivery.', ...storeDown },
  },
  {
    method: 'post', path: '/v1/deliveries/{id}/replay', operationId: 'replayDelivery', tag: 'delivery', access: [staff(rolesFor.administer)],
    summary: 'Send a dead letter again: the same bytes and `jti`.',
    params: deliveryIdParam,
    body: { kind: 'json', schema: Reason, example: { reason: 'partner fixed its inbox certificate' } },
    answers: { 200: ok('Queued again.', z.strictObject({ id: z.uuid(), state: z.literal('pending'), replayedBy: z.string() })) },
    problems: { 400: 'The body is not `{"reason": "…"}` (`bad-request`).', ...staffRefusals, 404: 'No such delivery.', 409: 'Not a dead letter (`conflict`).', 413: 'The body is over 16 KiB.', 415: 'The body is not JSON.', ...storeDown },
  },
  {
    method: 'post', path: '/v1/deliveries/{id}/skip', operationId: 'skipDelivery', tag: 'delivery', access: [staff(rolesFor.administer)],
    summary: "Skip a dead letter: a fresh SNAPSHOT goes out under its sequence, so the partner never sees a gap.",
    params: deliveryIdParam,
    body: { kind: 'json', schema: Reason, example: { reason: 'superseded by a fresh snapshot' } },
    answers: { 202: ok('The replacement SNAPSHOT is queued.', z.strictObject({ id: z.uuid(), replacement: z.literal('SNAPSHOT queued'), skippedBy: z.string() })) },
    problems: { 400: 'The body is not `{"reason": "…"}` (`bad-request`).', ...staffRefusals, 404: 'No such delivery.', 409: 'Not a dead letter of a partner in the registry (`conflict`).', 413: 'The body is over 16 KiB.', 415: 'The body is not JSON.', ...storeDown },
  },
  {
    method: 'post', path: '/v1/partners/{partner}/snapshot', operationId: 'sendSnapshot', tag: 'delivery', access: [staff(rolesFor.administer)],
    summary: 'Send a partner a SNAPSHOT now.',
    params: partnerParam,
    body: { kind: 'json', schema: Reason, example: { reason: 'partner asked for a full resync' } },
    answers: { 202: ok('Queued.', z.strictObject({ partner: z.string(), queued: z.literal('SNAPSHOT'), requestedBy: z.string() }), { partner: 'EU', queued: 'SNAPSHOT', requestedBy: 'officer.jones' }) },
    problems: { 400: 'The body is not `{"reason": "…"}` (`bad-request`).', ...staffRefusals, 404: 'No partner of that id takes deliveries.', 413: 'The body is over 16 KiB.', 415: 'The body is not JSON.', ...storeDown },
  },
];
