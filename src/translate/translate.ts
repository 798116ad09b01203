/**
 * The translation API in one call: a document (or canonical batch) in one format to
 * another, with the direction rules of FORMATS.md ("Command line"). The command line
 * and the gateway both call this; neither re-implements a direction.
 */
import { z } from 'zod';
import { Batch } from '../canonical/batch.ts';
import { DocumentInvalidError, GatewayError, type RecordIssue } from '../errors.ts';
import { parseJson } from '../parse/json-reader.ts';
import { decodeUtf8 } from '../parse/decode.ts';
import type { Format } from './format.ts';
import { membersToPartnerBatch } from './outbound.ts';
import { readDocument } from './read-document.ts';
import { writeDocument } from './write-document.ts';

export const CANONICAL = 'canonical';
const CTPAT = 'ctpat';

export interface TranslateRequest {
  from: string;
  to: string;
  input: Uint8Array | string;
  /** This gateway's party id, the sender of documents written from C-TPAT members. */
  gatewayId: string;
  /** Outbound sequence for documents written from C-TPAT members. */
  sequence?: number;
  batchId?: string | undefined;
}

export interface TranslateResult {
  output: string;
  /** Records rejected on the way in. */
  rejections: RecordIssue[];
  /** Records that could not be written. */
  problems: RecordIssue[];
}

/** Whether `from` may be translated to `to`: never one partner's format straight into another's. */
export function directionAllowed(from: Format | typeof CANONICAL, to: Format | typeof CANONICAL): boolean {
  if (from === CANONICAL || to === CANONICAL) return true;
  return from.id === to.id || from.id === CTPAT;
}

/** Translates a whole document; document faults throw `DocumentInvalidError`. */
export function translate(formats: ReadonlyMap<string, Format>, request: TranslateRequest): TranslateResult {
  const resolve = (id: string): Format | typeof CANONICAL => {
    if (id === CANONICAL) return CANONICAL;
    const format = formats.get(id);
    if (!format) throw new GatewayError('usage', `unknown format "${id}"; known: ${[...formats.keys(), CANONICAL].join(', ')}`);
    return format;
  };
  const from = resolve(request.from);
  const to = resolve(request.to);
  if (!directionAllowed(from, to)) throw new GatewayError('usage', `a ${to === CANONICAL ? CANONICAL : to.id} document is written from canonical, ctpat or ${to === CANONICAL ? 'itself' : to.id}, never from another partner's format (${request.from})`);

  const read = from === CANONICAL ? readCanonical(request.input) : readDocument(from, request.input);
  const batch = read.batch;
  if (to === CANONICAL) return { output: `${JSON.stringify(Batch.parse(batch), null, 2)}\n`, rejections: read.rejections, problems: [] };

  if (batch.format !== to.id && batch.format !== CTPAT) {
    throw new DocumentInvalidError(`a canonical batch of ${batch.format} cannot be written as ${to.id}; only ${to.id} or ctpat batches can`, '/format');
  }
  const outgoing = batch.format === CTPAT && to.id !== CTPAT ? membersToPartnerBatch(to, batch.records, { gatewayId: request.gatewayId, sequence: request.sequence ?? 1, batchId: request.batchId }).batch : batch;
  const written = writeDocument(to, outgoing);
  return { output: written.text, rejections: read.rejections, problems: written.problems };
}

/** The gateway's canonical JSON: a batch; records that fail the canonical schema are rejected one by one. */
function readCanonical(input: Uint8Array | string): { batch: Batch; rejections: RecordIssue[] } {
  const raw = parseJson(decodeUtf8(input));
  // The batch as a whole first (a fault there is the document's), then each record on its own.
  const top = Batch.extend({ records: z.array(z.unknown()) }).safeParse(raw);
  if (!top.success) {
    const issue = top.error.issues[0]!;
    throw new DocumentInvalidError(`canonical batch: ${issue.path.join('.') || '(root)'}: ${issue.message}`, `/${issue.path.join('/')}`);
  }
  const records: Batch['records'] = [];
  const rejections: RecordIssue[] = [];
  top.data.records.forEach((record, index) => {
    const parsed = Batch.shape.records.element.safeParse(record);
    if (parsed.success) return void records.push(parsed.data);
    const key = typeof (record as { key?: unknown })?.key === 'string' ? (record as { key: string }).key : null;
    for (const issue of parsed.error.issues) {
      const field = issue.path.join('.');
      rejections.push({ index, key, pointer: `/records/${index}/${issue.path.join('/')}`, field, code: 'invalid-value', message: `${field || 'record'}: ${issue.message}` });
    }
  });
  return { batch: { format: top.data.format, ...(top.data.envelope && { envelope: top.data.envelope }), records }, rejections };
}
