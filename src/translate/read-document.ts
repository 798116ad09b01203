/**
 * A partner document to a canonical batch. Faults of the document as a whole throw a
 * `DocumentInvalidError` (nothing of it is accepted); faults inside one record reject
 * that record alone and come back as data beside the records that were read.
 */
import type { Batch, Envelope } from '../canonical/batch.ts';
import type { Operator } from '../canonical/operator.ts';
import { DocumentInvalidError, type RecordIssue } from '../errors.ts';
import { formatPath, type SyntaxTree, type TreeValue } from '../parse/tree.ts';
import type { Format } from './format.ts';
import { readFields, unknownMembers, type FieldIssue } from './read-record.ts';

export interface ReadOptions {
  /** Party id the document's sender field must hold (the signing partner), where the format names one. */
  expectedSender?: string;
  /** Party id the document's receiver field must hold (this gateway's `GATEWAY_ID`). */
  expectedReceiver?: string;
}

export interface ReadResult {
  batch: Batch;
  /** One entry per fault of each rejected record; a record may have several. */
  rejections: RecordIssue[];
  /** How many records were rejected. */
  rejectedCount: number;
}

/** Reads a whole document of `format`; records are translated one by one as the reader reaches them. */
export function readDocument(format: Format, input: Uint8Array | string, options: ReadOptions = {}): ReadResult {
  const reading = startReading(format, options);
  reading.write(typeof input === 'string' ? Buffer.from(input) : input);
  return reading.end();
}

export interface DocumentReading {
  /** The next bytes of the document; throws a `DocumentInvalidError` at the document's first fault. */
  write(piece: Uint8Array): void;
  /** The document is complete: its envelope checked, duplicates found, and what was read. */
  end(): ReadResult;
}

export interface ReadingOptions extends ReadOptions {
  /**
   * Whether the records that read well are kept for the result. Intake only needs the
   * envelope, the counts and the rejections, and keeps none (bounded memory); the apply
   * keeps them.
   */
  keepRecords?: boolean;
}

/** Reads a document fed in pieces as they arrive; each record is translated as soon as the reader completes it. */
export function startReading(format: Format, options: ReadingOptions = {}): DocumentReading {
  const reading = readKeeping(format, options.keepRecords ?? true ? (record) => record : undefined, options);
  return {
    write: reading.write,
    end() {
      const { envelope, kept, rejections, rejectedCount } = reading.end();
      return { batch: { format: format.id, ...(envelope && { envelope }), records: kept }, rejections, rejectedCount };
    },
  };
}

/** What `readKeeping` gives at the end of the document. */
export interface KeptRead<T> {
  envelope: Envelope | undefined;
  /** What was kept of each record that read well, in document order. */
  kept: T[];
  rejections: RecordIssue[];
  rejectedCount: number;
}

/**
 * Reads a document as `startReading` does, keeping `keep(record)` of each record instead
 * of the record (none if `keep` is undefined): the apply job keeps each record
 * serialized until its window, a fraction of the memory of the records themselves.
 * A record that read well may still be rejected at the end (a later duplicate of its
 * key), so what is kept is only given out then.
 */
export function readKeeping<T>(format: Format, keep: ((record: Operator) => T) | undefined, options: ReadOptions = {}): { write(piece: Uint8Array): void; end(): KeptRead<T> } {
  const read: (T | undefined)[] = [];
  const keys: (string | null)[] = [];
  const issuesByIndex = new Map<number, FieldIssue[]>();
  // Duplicate keys are found as records arrive, so that the end of a large document has little left to do.
  const firstIndexOf = new Map<string, number>();
  const duplicates: Duplicate[] = [];

  const reader = format.reader(({ node, faults }, index) => {
    const out: Record<string, unknown> = {};
    // Most records come without reader faults: no copy is made for them.
    const issues: FieldIssue[] = faults === undefined ? [] : faults.slice();
    // A fault of the whole record (no path) means there is nothing to read in it.
    if (faults === undefined || !faults.some((f) => f.path.length === 0)) readRecord(format, node, format.textual, out, issues);
    // The key is set only when it was read and passed its checks: "readable" (FORMATS.md).
    const key = typeof out['key'] === 'string' ? out['key'] : null;
    keys.push(key);
    if (key !== null) {
      const first = firstIndexOf.get(key);
      if (first === undefined) firstIndexOf.set(key, index);
      else duplicates.push({ key, first, index });
    }
    if (issues.length > 0) issuesByIndex.set(index, dedupe(issues));
    if (keep) read.push(issues.length > 0 ? undefined : keep(complete(out)));
  });
  return {
    write: (piece) => reader.write(piece),
    end() {
      const tree = reader.end();
      const envelope = format.hasEnvelope ? readEnvelope(format, tree, options) : undefined;
      refuseOrRejectDuplicates(format, tree, duplicates, issuesByIndex);
      const rejections: RecordIssue[] = [];
      for (const [index, issues] of [...issuesByIndex].sort((a, b) => a[0] - b[0])) {
        for (const issue of issues) {
          rejections.push({ index, key: keys[index] ?? null, pointer: tree.recordPointer(index, issue.path), field: formatPath(issue.path) || '(record)', code: issue.code, message: issue.message });
        }
      }
      // Duplicates found after reading reject records that read well, hence the second filter.
      const kept = read.filter((r, i): r is T => r !== undefined && !issuesByIndex.has(i));
      return { envelope, kept, rejections, rejectedCount: issuesByIndex.size };
    },
  };
}

/** One record: unknown members, every field, then the cross-field rules (only on a record that read well). */
function readRecord(format: Format, node: TreeValue, textual: boolean, out: Record<string, unknown>, issues: FieldIssue[]): void {
  unknownMembers(node, format.recordShape, issues, textual);
  readFields(format.recordFields, node, textual, out, issues);
  if (issues.length > 0) return;
  for (const rule of format.rules) {
    const breach = rule(out);
    if (!breach) continue;
    const path = format.formatPathOf(breach.field);
    issues.push({ path, code: 'rule-violated', message: `${formatPath(path) || breach.field}: ${breach.message}` });
  }
}

/** One fault per place and code: two canonical fields read from one member (a key that is also the identifier) fail once. */
function dedupe(issues: FieldIssue[]): FieldIssue[] {
  const seen = new Set<string>();
  return issues.filter((issue) => {
    const id = `${formatPath(issue.path)}\u0000${issue.code}`;
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}

/** A record whose key an earlier record of the document already had. */
interface Duplicate {
  key: string;
  first: number;
  index: number;
}

function refuseOrRejectDuplicates(format: Format, tree: SyntaxTree, duplicates: readonly Duplicate[], issuesByIndex: Map<number, FieldIssue[]>): void {
  for (const { key, first, index } of duplicates) {
    if (format.mapping.duplicateKeys === 'invalidate-document') {
      throw new DocumentInvalidError(`record key ${key} appears twice (records ${first + 1} and ${index + 1})`, tree.recordPointer(index, []));
    }
    for (const i of [first, index]) {
      const issues = issuesByIndex.get(i) ?? [];
      if (!issues.some((x) => x.code === 'duplicate-key')) issues.push({ path: [], code: 'duplicate-key', message: `key ${key} appears on more than one line` });
      issuesByIndex.set(i, issues);
    }
  }
}

/** Fills the canonical defaults a mapping need not spell out. */
function complete(out: Record<string, unknown>): Operator {
  out['authorisation'] ??= {};
  out['mids'] ??= [];
  return out as unknown as Operator;
}

function readEnvelope(format: Format, tree: SyntaxTree, options: ReadOptions): Envelope {
  const fault = (issue: FieldIssue) => new DocumentInvalidError(`envelope: ${issue.message}`, tree.envelopePointer(issue.path));
  const issues: FieldIssue[] = [];
  unknownMembers(tree.envelope, format.envelopeShape, issues, tree.textual);
  if (issues[0]) throw fault(issues[0]);
  const out: Record<string, unknown> = {};
  readFields(format.envelopeFields, tree.envelope, tree.textual, out, issues);
  if (issues[0]) throw fault(issues[0]);
  const envelope = out as unknown as Envelope;
  const place = (canonical: string) => tree.envelopePointer(format.envelopeFields.find((f) => f.canonical.join('.') === canonical)?.path ?? []);

  if (!/^[A-Za-z0-9._:-]{1,64}$/.test(envelope.batchId)) throw new DocumentInvalidError(`envelope: batch id "${envelope.batchId}" must be 1 to 64 of A-Z a-z 0-9 . _ : -`, place('batchId'));
  if (envelope.sequence < 1) throw new DocumentInvalidError('envelope: the sequence must be at least 1', place('sequence'));
  if (options.expectedSender !== undefined && envelope.sender !== undefined && envelope.sender !== options.expectedSender) {
    throw new DocumentInvalidError(`envelope: the sender is ${envelope.sender}, but the document was signed by ${options.expectedSender}`, place('sender'));
  }
  if (options.expectedReceiver !== undefined && envelope.receiver !== undefined && envelope.receiver !== options.expectedReceiver) {
    throw new DocumentInvalidError(`envelope: the receiver is ${envelope.receiver}, not this gateway (${options.expectedReceiver})`, place('receiver'));
  }
  if (envelope.count !== tree.recordCount) {
    throw new DocumentInvalidError(`envelope: the document says it has ${envelope.count} records, but ${tree.recordCount} are present`, place('count'));
  }
  return envelope;
}
