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
import { fieldsReader, memberCheck, readFields, unknownMembers, type FieldIssue } from './read-record.ts';

export interface ReadOptions {
  /** Party id the document's sender field must hold (the signing partner), where the format names one. */
  expectedSender?: string;
  /** Party id the document's receiver field must hold (this gateway's `GATEWAY_ID`). */
  expectedReceiver?: string;
  /**
   * At most this many rejections are given, the first in document order (`faultCount`
   * still counts them all). Unlimited by default: the apply job needs every rejected
   * record; intake stores only a bounded list (issue 11).
   */
  maxRejections?: number;
}

/**
 * Faults kept of one record. A record's faults are as many as it has members (one
 * 890 KB record with 100,000 unknown elements had 100,000), and the first few tell its
 * sender what is wrong as well as all of them would; the rest are only counted.
 */
export const MAX_FAULTS_PER_RECORD = 20;

export interface ReadResult {
  batch: Batch;
  /**
   * One entry per fault of each rejected record (a record may have several), at most
   * MAX_FAULTS_PER_RECORD of each and `maxRejections` in all; every rejected record has
   * at least one unless `maxRejections` cut the list.
   */
  rejections: RecordIssue[];
  /** How many records were rejected. */
  rejectedCount: number;
  /** How many faults the rejected records have in all, those beyond the caps included. */
  faultCount: number;
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
   * keeps its own compact form of each (`readKeeping`).
   */
  keepRecords?: boolean;
}

/** Reads a document fed in pieces as they arrive; each record is translated as soon as the reader completes it. */
export function startReading(format: Format, options: ReadingOptions = {}): DocumentReading {
  const reading = readKeeping(format, options.keepRecords ?? true ? keepRecord : undefined, options);
  return {
    write: reading.write,
    end() {
      const { envelope, kept, rejections, rejectedCount, faultCount } = reading.end();
      return { batch: { format: format.id, ...(envelope && { envelope }), records: kept }, rejections, rejectedCount, faultCount };
    },
  };
}

/** `keep` for keeping each record as it is read. */
const keepRecord = (record: Operator): Operator => record;

/** What `readKeeping` gives at the end of the document. */
export interface KeptRead<T> {
  envelope: Envelope | undefined;
  /** What was kept of each record that read well, in document order. */
  kept: T[];
  rejections: RecordIssue[];
  rejectedCount: number;
  faultCount: number;
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
  // Faults beyond MAX_FAULTS_PER_RECORD: counted, not kept.
  let faultsNotKept = 0;
  // Duplicate keys are found as records arrive, so that the end of a large document has little left to do.
  const firstIndexOf = new KeyIndex((index) => keys[index]!);
  const duplicates: Duplicate[] = [];
  const readRecord = recordReader(format);
  // One list for the faults of the record at hand, emptied for each: most records have none, and nothing is allocated for them.
  const issues: FieldIssue[] = [];

  const reader = format.reader(({ node, faults, controlFree }, index) => {
    const out = new Bag();
    if (issues.length !== 0) issues.length = 0;
    let whole = false;
    if (faults !== undefined) {
      for (const fault of faults) {
        issues.push(fault);
        // A fault of the whole record (no path) means there is nothing to read in it.
        if (fault.path.length === 0) whole = true;
      }
    }
    if (!whole) readRecord(node, out, issues, controlFree === true);
    // The key is set only when it was read and passed its checks: "readable" (FORMATS.md).
    const key = typeof out['key'] === 'string' ? out['key'] : null;
    // A record kept as it is holds this very string, and with it the text it may be a slice of: a copy would only add to what is kept.
    keys.push(key === null ? null : keep === keepRecord && issues.length === 0 ? key : ownCopy(key));
    if (key !== null) {
      const first = firstIndexOf.firstOrAdd(key, index);
      if (first !== -1) duplicates.push({ key, first, index });
    }
    if (issues.length > 0) {
      const { kept, notKept } = faultsToKeep(issues);
      faultsNotKept += notKept;
      issuesByIndex.set(index, kept);
    }
    if (keep) read.push(issues.length > 0 ? undefined : keep(complete(out)));
  });
  return {
    write: (piece) => reader.write(piece),
    end() {
      const tree = reader.end();
      const envelope = format.hasEnvelope ? readEnvelope(format, tree, options) : undefined;
      faultsNotKept += refuseOrRejectDuplicates(format, tree, duplicates, issuesByIndex);
      const rejections: RecordIssue[] = [];
      const max = options.maxRejections ?? Infinity;
      let faultCount = faultsNotKept;
      for (const [index, issues] of [...issuesByIndex].sort((a, b) => a[0] - b[0])) {
        faultCount += issues.length;
        for (const issue of issues) {
          // Past the limit only the count goes on: no pointer is made for a fault that is not given.
          if (rejections.length >= max) break;
          rejections.push({ index, key: keys[index] ?? null, pointer: tree.recordPointer(index, issue.path), field: formatPath(issue.path) || '(record)', code: issue.code, message: issue.message });
        }
      }
      // Duplicates found after reading reject records that read well, hence the second filter.
      const kept = read.filter((r, i): r is T => r !== undefined && !issuesByIndex.has(i));
      return { envelope, kept, rejections, rejectedCount: issuesByIndex.size, faultCount };
    },
  };
}

/** What reads one record of `format`: unknown members, every field, then the cross-field rules (only on a record that read well). */
function recordReader(format: Format): (node: TreeValue, out: Record<string, unknown>, issues: FieldIssue[], controlFree: boolean) => void {
  // Compiled once per document, not looked up per record.
  const checkMembers = memberCheck(format.recordShape, format.textual);
  const readFieldsOf = fieldsReader(format.recordFields, format.textual);
  // For a record whose reader says no value holds a control character (RecordNode.controlFree).
  const readControlFree = fieldsReader(format.recordFields, format.textual, true);
  const { rules } = format;
  return (node, out, issues, controlFree) => {
    checkMembers(node, issues);
    if (controlFree) readControlFree(node, out, issues);
    else readFieldsOf(node, out, issues);
    if (issues.length > 0) return;
    for (let i = 0; i < rules.length; i++) {
      const breach = rules[i]!(out);
      if (!breach) continue;
      const path = format.formatPathOf(breach.field);
      issues.push({ path, code: 'rule-violated', message: `${formatPath(path) || breach.field}: ${breach.message}` });
    }
  };
}

/**
 * The key as a string of its own. A key read from the text is a slice of the piece of
 * text it was decoded from, and keeping it (`keys`, for the whole document) kept every
 * piece alive: the document's whole text was promoted to the old generation, 64 MB of a
 * 55 MB EU SNAPSHOT read while it arrived (--trace-gc-nvp), where it is 15 MB now.
 * Joining makes a new flat string; V8 copies a slice of that rather than point into it.
 * Not for a record kept as it is (startReading): it holds the same string, and keys
 * copied for nothing were 20 ms of the 370 a 100,000-record GB document took to read.
 */
function ownCopy(key: string): string {
  return ` ${key}`.slice(1);
}

/**
 * One fault per place and code: two canonical fields read from one member (a key that
 * is also the identifier) fail once. The first MAX_FAULTS_PER_RECORD are kept, in a
 * list of their own (`issues` is reused for the next record); the rest only counted.
 */
function faultsToKeep(issues: FieldIssue[]): { kept: FieldIssue[]; notKept: number } {
  const seen = new Set<string>();
  const kept: FieldIssue[] = [];
  let notKept = 0;
  for (const issue of issues) {
    const id = `${formatPath(issue.path)}\u0000${issue.code}`;
    if (seen.has(id)) continue;
    seen.add(id);
    if (kept.length < MAX_FAULTS_PER_RECORD) kept.push(issue);
    else notKept++;
  }
  return { kept, notKept };
}

/**
 * A plain object (its prototype is Object.prototype, as a literal's) made by a
 * constructor, so that V8 sizes it to the members records end up with: a literal has
 * room for four and moves the rest of a record's eight to an array of their own, one
 * more object per record for the collector to copy (issue 10: garbage collection was
 * the largest cost of reading a large document).
 */
const Bag = function Bag() {} as unknown as new () => Record<string, unknown>;
Bag.prototype = Object.prototype;

/** A record whose key an earlier record of the document already had. */
interface Duplicate {
  key: string;
  first: number;
  index: number;
}

/** Rejects records with a key seen before (or refuses the document); returns how many of the faults added were not kept (a record already at MAX_FAULTS_PER_RECORD). */
function refuseOrRejectDuplicates(format: Format, tree: SyntaxTree, duplicates: readonly Duplicate[], issuesByIndex: Map<number, FieldIssue[]>): number {
  let notKept = 0;
  const countedDuplicate = new Set<number>();
  for (const { key, first, index } of duplicates) {
    if (format.mapping.duplicateKeys === 'invalidate-document') {
      throw new DocumentInvalidError(`record key ${key} appears twice (records ${first + 1} and ${index + 1})`, tree.recordPointer(index, []));
    }
    for (const i of [first, index]) {
      const issues = issuesByIndex.get(i) ?? [];
      if (!issues.some((x) => x.code === 'duplicate-key')) {
        // A record full of faults may already have had its duplicate-key fault counted.
        if (issues.length < MAX_FAULTS_PER_RECORD) issues.push({ path: [], code: 'duplicate-key', message: `key ${key} appears on more than one line` });
        else if (!countedDuplicate.has(i)) {
          countedDuplicate.add(i);
          notKept++;
        }
      }
      issuesByIndex.set(i, issues);
    }
  }
  return notKept;
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

/**
 * Record keys to the index of the first record with each: open addressing over typed
 * arrays, holding indexes into the list of keys rather than the keys. A Map of 100,000
 * keys cost more than reading the keys (issue 10).
 */
class KeyIndex {
  /** Record index + 1 in each slot, 0 for an empty one; beside it the key's hash. */
  private slots = new Int32Array(1024);
  private hashes = new Int32Array(1024);
  private size = 0;

  constructor(private readonly keyAt: (index: number) => string | null) {}

  /** The index of the first record with `key`, or -1 when there is none, and then `index` is that record. */
  firstOrAdd(key: string, index: number): number {
    const hash = hashOf(key);
    const mask = this.slots.length - 1;
    let slot = hash & mask;
    for (let held = this.slots[slot]!; held !== 0; held = this.slots[slot]!) {
      if (this.hashes[slot] === hash && this.keyAt(held - 1) === key) return held - 1;
      slot = (slot + 1) & mask;
    }
    this.slots[slot] = index + 1;
    this.hashes[slot] = hash;
    // At most half full, so that a probe ends soon.
    if (++this.size * 2 > this.slots.length) this.grow();
    return -1;
  }

  private grow(): void {
    const { slots, hashes } = this;
    this.slots = new Int32Array(slots.length * 2);
    this.hashes = new Int32Array(slots.length * 2);
    const mask = this.slots.length - 1;
    for (let i = 0; i < slots.length; i++) {
      const held = slots[i]!;
      if (held === 0) continue;
      let slot = hashes[i]! & mask;
      while (this.slots[slot] !== 0) slot = (slot + 1) & mask;
      this.slots[slot] = held;
      this.hashes[slot] = hashes[i]!;
    }
  }
}

/** FNV-1a over the UTF-16 code units. */
function hashOf(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return hash;
}
