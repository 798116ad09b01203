/**
 * A canonical batch to a document of one format. A record that cannot be written is
 * left out and reported; the envelope's count is the number of records written.
 */
import type { Batch, Envelope } from '../canonical/batch.ts';
import { GatewayError, type RecordIssue } from '../errors.ts';
import { formatPath, type TreeObject, type TreeValue } from '../parse/tree.ts';
import type { Format } from './format.ts';
import { writeFields } from './write-record.ts';

export interface WriteResult {
  text: string;
  /** Records left out, with why. */
  problems: RecordIssue[];
  written: number;
}

/** Writes `batch` in `format`; the batch's records must be in this format's canonical flavour. */
export function writeDocument(format: Format, batch: Pick<Batch, 'envelope' | 'records'>): WriteResult {
  const nodes: TreeValue[] = [];
  const problems: RecordIssue[] = [];
  batch.records.forEach((record, index) => {
    const node: TreeObject = {};
    const issues = writeFields(format.recordFields, record, format.textual, node);
    for (const rule of format.rules) {
      const breach = rule(record);
      if (breach) issues.push({ path: format.formatPathOf(breach.field), code: 'rule-violated', message: `${formatPath(format.formatPathOf(breach.field)) || breach.field}: ${breach.message}` });
    }
    if (issues.length === 0) return void nodes.push(node);
    for (const issue of issues) {
      const field = formatPath(issue.path) || '(record)';
      problems.push({ index, key: record.key ?? null, pointer: field, field, code: issue.code === 'required' ? 'not-writable' : issue.code, message: issue.message });
    }
  });
  let envelopeNode: TreeObject = {};
  if (format.hasEnvelope) {
    if (!batch.envelope) throw new GatewayError('usage', `a ${format.id} document needs an envelope (batch id, sequence, kind, asOf)`);
    const envelope: Envelope = { ...batch.envelope, count: nodes.length };
    const issues = writeFields(format.envelopeFields, envelope, format.textual, envelopeNode);
    if (issues[0]) throw new GatewayError('usage', `the envelope cannot be written in ${format.id}: ${issues[0].message}`);
  } else {
    envelopeNode = {};
  }
  return { text: format.write(envelopeNode, nodes), problems, written: nodes.length };
}
