/**
 * The bodies the gateway answers with, as zod schemas for the API description
 * (document.ts): requests are validated by the schemas the routes export; answers are
 * described here, next to PROTOCOL.md's words for them (§4, §5, §8).
 */
import { z } from 'zod';
import { errorTable } from '../../errors.ts';
import { statusSchemes } from '../../status/schemes.ts';

const compactJws = z.string().regex(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);

/** Every problem type the gateway answers with (errors.ts); an internal error is `urn:mra:problem:internal`. */
const problemTypes = [...new Set(Object.values(errorTable).flatMap((spec) => (spec.slug === null ? [] : [`urn:mra:problem:${spec.slug}`])))];

/** One §8 `errors` item. */
export const ProblemItem = z.object({
  index: z.number().int().min(0).nullable().describe('0-based record index; null for the document.'),
  key: z.string().nullable(),
  pointer: z.string().describe('JSON Pointer, XPath or `line:column`.'),
  code: z.string(),
  message: z.string(),
});

/** application/problem+json (RFC 9457, PROTOCOL §8). */
export const Problem = z
  .looseObject({
    type: z.enum(problemTypes as [string, ...string[]]).describe('`urn:mra:problem:<slug>`; `urn:mra:problem:internal` for an internal error, with a `requestId` to quote.'),
    title: z.string(),
    status: z.number().int().min(400).max(599),
    detail: z.string(),
    errors: z.array(ProblemItem).max(100).optional().describe('What is wrong and where (a 422, or a 400 naming each bad parameter or member).'),
    errorCount: z.number().int().min(0).optional(),
    truncated: z.boolean().optional(),
  })
  .describe('A problem document (RFC 9457, PROTOCOL §8).');

/** The answer to an accepted document, or to its retry (PROTOCOL §4). */
export const ReceiptAnswer = z.strictObject({
  exchangeId: z.uuid(),
  receipt: compactJws.describe('The receipt: a compact JWS, `typ` `mra-receipt+jwt`, signed by a key of /.well-known/jwks.json (PROTOCOL §4).'),
});

const counts = z.strictObject({
  records: z.number().int().min(0),
  created: z.number().int().min(0),
  changed: z.number().int().min(0),
  unchanged: z.number().int().min(0),
  withdrawn: z.number().int().min(0),
  rejected: z.number().int().min(0),
});

/** What the read-back adds to PROTOCOL §5's members to page its rejections (issue 11), in §8's words. */
const rejectionsPaging = {
  rejectionCount: z.number().int().min(0).describe('How many faults the rejected records have in all, those not kept included (as `errorCount`, PROTOCOL §8).'),
  truncated: z.boolean().describe('Whether the gateway kept fewer faults than `rejectionCount`: the pages end before them all.'),
  rejectionsNext: z.string().nullable().describe('The `rejectionsCursor` of the next page of rejections; null on the last.'),
};

/** A partner's read-back of its own exchange (PROTOCOL §5). */
export const ExchangeReadBack = z.strictObject({
  exchangeId: z.uuid(),
  batchId: z.string(),
  sequence: z.number().int().min(1),
  kind: z.enum(['SNAPSHOT', 'DELTA']),
  state: z.enum(['received', 'processing', 'applied', 'held', 'stale', 'failed']),
  counts,
  rejections: z
    .array(ProblemItem.extend({ index: z.number().int().min(0) }).strict())
    .max(1000)
    .describe('One page of the faults of the rejected records, in document order (`rejectionsLimit`, default 100). The gateway keeps at most 20 faults of a record and 1,000 of a document.'),
  ...rejectionsPaging,
});

/** An exchange in the staff list. */
export const ExchangeListItem = z.strictObject({
  exchangeId: z.uuid(),
  partner: z.string(),
  batchId: z.string(),
  sequence: z.number().int().min(1),
  kind: z.enum(['SNAPSHOT', 'DELTA']),
  state: ExchangeReadBack.shape.state,
  disposition: z.enum(['accepted', 'held', 'stale']),
  heldReason: z.enum(['sequence-gap', 'no-snapshot-yet', 'sequence-jump']).nullable(),
  receivedAt: z.iso.datetime(),
  counts,
});

/** What staff read of one exchange: the list's members and how it came. */
export const StaffExchangeView = ExchangeListItem.extend({
  requestJti: z.string(),
  signatureHeader: z.string().describe('The JWS-Signature header as received.'),
  signingKid: z.string().nullable(),
  receipt: compactJws,
  digest: z.string(),
  contentType: z.string(),
  documentBytes: z.number().int().min(0).describe('0 once retention removed the document.'),
  documentRemovedAt: z.iso.datetime().nullable().describe('When retention (RETENTION_DAYS) removed the raw document; null while it is kept.'),
  rejections: z.array(z.unknown()).max(1000).describe('One page of the rejections, as in the read-back.'),
  ...rejectionsPaging,
});

/** The status answer (PROTOCOL §5). */
export const StatusAnswer = z.strictObject({
  subject: z
    .looseObject({
      sub: z.string().describe('`scheme:normalised-id`'),
      programme: z.string(),
      status: z.string().describe('`active`, `suspended`, `revoked` or `withdrawn`.'),
      statusEffective: z.string().nullable().describe('A date, YYYY-MM-DD.'),
      recognitions: z.array(
        z.looseObject({
          authority: z.string(),
          state: z.enum(['recognized', 'suspended', 'revoked', 'withdrawn', 'out-of-scope']),
          since: z.string().nullable(),
        }),
      ),
    })
    .describe("The assertion's payload less `iss`, `iat` and `exp`; staff, and a partner asking about its own operator, also see `name`, `address`, `mids` and `benefits`."),
  assertion: compactJws.describe('A compact JWS, `typ` `mra-status+jwt`, valid at most 24 h.'),
});

/** The scheme of a status question (PROTOCOL §5). */
export const StatusSchemeParam = z.enum(statusSchemes as [string, ...string[]]);

export const Health = z.strictObject({ status: z.literal('up') });
export const Readiness = z.looseObject({ status: z.enum(['ready', 'not ready']), store: z.enum(['up', 'down']) }).describe('Also the state of Redis, the workers and the outbox.');
export const Jwks = z.strictObject({ keys: z.array(z.looseObject({ kty: z.string(), kid: z.string() })) }).describe("The gateway's public keys (PROTOCOL §4).");
export const OpenApiDocument = z.looseObject({ openapi: z.string(), info: z.looseObject({}), paths: z.record(z.string(), z.unknown()) });

/** A page of a staff list: its items under `member` and the cursor of the next page (null on the last). */
export const pageOf = (member: string, item: z.ZodType) => z.strictObject({ [member]: z.array(item), next: z.string().nullable().describe('The `cursor` of the next page; null on the last.') });

/** An item of a staff list: an object, with at least these members. */
export const itemWith = (shape: z.ZodRawShape) => z.looseObject(shape);
