/**
 * A canonical batch to a document of one format. A record that cannot be written is
 * left out and reported; the envelope's count is the number of records written.
 * `writeDocumentCooperatively` does the same work in stretches, giving the event loop a
 * turn between them, for the large documents a worker writes beside an HTTP API.
 */
import type { Batch, Envelope } from '../canonical/batch.ts';
import type { Operator } from '../canonical/operator.ts';
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

/**
 * Long work in stretches of about `budgetMs`: `due` says when a stretch has used its
 * budget, `pause` lets timers, I/O and other requests run before the next one.
 */
export class Cooperation {
  private since = performance.now();
  constructor(private readonly budgetMs = 10) {}

  get due(): boolean {
    return performance.now() - this.since >= this.budgetMs;
  }

  async pause(): Promise<void> {
    // setImmediate, not a resolved promise: microtasks would run before any I/O.
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.since = performance.now();
  }
}

/** Writes `batch` in `format`; the batch's records must be in this format's canonical flavour. */
export function writeDocument(format: Format, batch: Pick<Batch, 'envelope' | 'records'>): WriteResult {
  const nodes: TreeValue[] = [];
  const problems: RecordIssue[] = [];
  for (let index = 0; index < batch.records.length; index++) writeRecord(format, batch.records[index]!, index, nodes, problems);
  return finish(format, batch, nodes, problems);
}

/** `writeDocument`, pausing whenever `cooperation` says a stretch is due: the same text, the same problems. */
export async function writeDocumentCooperatively(format: Format, batch: Pick<Batch, 'envelope' | 'records'>, cooperation = new Cooperation()): Promise<WriteResult> {
  const nodes: TreeValue[] = [];
  const problems: RecordIssue[] = [];
  for (let index = 0; index < batch.records.length; index++) {
    if (cooperation.due) await cooperation.pause();
    writeRecord(format, batch.records[index]!, index, nodes, problems);
  }
  if (cooperation.due) await cooperation.pause();
  return finish(format, batch, nodes, problems);
}

/** One record's node appended to `nodes`, or its faults to `problems`. */
function writeRecord(format: Format, record: Operator, index: number, nodes: TreeValue[], problems: RecordIssue[]): void {
  const node: TreeObject = {};
  const issues = writeFields(format.recordFields, record, format.textual, node);
  for (const rule of format.rules) {
    const breach = rule(record);
    if (breach) issues.push({ path: format.formatPathOf(breach.field), code: 'rule-violated', message: `${formatPath(format.formatPathOf(breach.field)) || breach.field}: ${breach.message}` });
  }
  if (issues.length === 0) {
    nodes.push(node);
    return;
  }
  for (const issue of issues) {
    const field = formatPath(issue.path) || '(record)';
    problems.push({ index, key: record.key ?? null, pointer: field, field, code: issue.code === 'required' ? 'not-writable' : issue.code, message: issue.message });
  }
}

/** The envelope, counting the records written, then the document's text. */
function finish(format: Format, batch: Pick<Batch, 'envelope'>, nodes: readonly TreeValue[], problems: RecordIssue[]): WriteResult {
  const envelopeNode: TreeObject = {};
  if (format.hasEnvelope) {
    if (!batch.envelope) throw new GatewayError('usage', `a ${format.id} document needs an envelope (batch id, sequence, kind, asOf)`);
    const envelope: Envelope = { ...batch.envelope, count: nodes.length };
    const issues = writeFields(format.envelopeFields, envelope, format.textual, envelopeNode);
    if (issues[0]) throw new GatewayError('usage', `the envelope cannot be written in ${format.id}: ${issues[0].message}`);
  }
  return { text: format.write(envelopeNode, nodes), problems, written: nodes.length };
}
