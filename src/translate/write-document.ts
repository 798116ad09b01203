/**
 * A canonical batch to a document of one format. A record that cannot be written is
 * left out and reported; the envelope's count is the number of records written.
 * `writeDocumentCooperatively` does the same work in stretches, giving the event loop a
 * turn between them, for the large documents a worker writes beside an HTTP API: it
 * gives the document as the bytes to send, encoded a piece at a time as it is written,
 * so that neither joining nor encoding twenty thousand records is one long stretch.
 */
import { hash } from 'node:crypto';
import type { Batch, Envelope } from '../canonical/batch.ts';
import type { Operator } from '../canonical/operator.ts';
import { GatewayError, type RecordIssue } from '../errors.ts';
import { formatPath, type TreeObject } from '../parse/tree.ts';
import type { Format } from './format.ts';
import { recordTextOf } from './record-text.ts';
import { writeFields } from './write-record.ts';

export interface WriteResult {
  text: string;
  /** Records left out, with why. */
  problems: RecordIssue[];
  written: number;
}

/** A document written in stretches: its UTF-8 bytes, exactly those of `WriteResult.text`. */
export interface WrittenBody {
  body: Buffer;
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

/** Where a document's records go as their text is made: kept as strings, or encoded to bytes at once. */
export interface RecordSink<Chunk> {
  /** Text of the records, in order: whole records, or the parts of several joined. */
  write(text: string): void;
  /** Writes `before` (a separator) and then `text`, and returns the SHA-256 of `text`'s UTF-8 bytes, base64url. */
  writeHashed(before: string, text: string): string;
  /** Removes what the last `writeHashed` wrote, before anything else is written. */
  takeBack(): void;
  /** Everything written, as chunks in order. */
  done(): Chunk[];
}

/** Text kept as it comes. */
export const asText = (): RecordSink<string> => {
  const chunks: string[] = [];
  let kept = 0;
  return {
    write: (text) => void chunks.push(text),
    writeHashed(before, text) {
      kept = chunks.length;
      if (before !== '') chunks.push(before);
      chunks.push(text);
      return hash('sha256', text, 'base64url');
    },
    takeBack: () => void (chunks.length = kept),
    done: () => chunks,
  };
};

/** A new byte chunk's size: tens of records; a larger text gets a chunk of its own size. */
const BYTE_CHUNK = 1 << 20;

/**
 * Text encoded to UTF-8 straight into large buffers as it comes: no joined string made
 * only to be encoded, and one copy fewer than joining records then encoding the join.
 */
class ByteSink implements RecordSink<Buffer> {
  private readonly chunks: Buffer[] = [];
  private buffer = Buffer.allocUnsafe(0);
  private at = 0;

  private kept = 0;

  write(text: string): void {
    this.room(text.length);
    this.at += this.buffer.write(text, this.at);
  }

  /** The text's bytes are hashed where they were written: hashing the string would encode it to UTF-8 a second time. */
  writeHashed(before: string, text: string): string {
    // Both in one buffer, so that takeBack only moves back in it.
    this.room(before.length + text.length);
    this.kept = this.at;
    if (before !== '') this.at += this.buffer.write(before, this.at);
    const start = this.at;
    this.at += this.buffer.write(text, this.at);
    return hash('sha256', this.buffer.subarray(start, this.at), 'base64url');
  }

  takeBack(): void {
    this.at = this.kept;
  }

  /** Room for `units` UTF-16 units: three bytes each at most (a lone surrogate is written as U+FFFD, three bytes). */
  private room(units: number): void {
    const most = units * 3;
    if (this.at + most > this.buffer.length) {
      this.seal();
      this.buffer = Buffer.allocUnsafe(Math.max(BYTE_CHUNK, most));
    }
  }

  done(): Buffer[] {
    this.seal();
    return this.chunks;
  }

  private seal(): void {
    if (this.at > 0) this.chunks.push(this.buffer.subarray(0, this.at));
    this.buffer = Buffer.allocUnsafe(0);
    this.at = 0;
  }
}

/** Bytes, encoded as the text comes. */
export const asBytes = (): RecordSink<Buffer> => new ByteSink();

/**
 * The document's records as they are written: each record's text is made as soon as its
 * node is, so that no tree of the whole document is held and the work splits at any
 * record. The writers push small parts; every thousand or so are joined into one flat
 * string while they are young (joining them at the end, or growing a string with `+=`,
 * cost more in copying and garbage collection than writing them), and go to the sink.
 * A record whose whole text is already made goes to the sink as it is.
 */
class Pieces<Chunk> {
  /** Parts of the records since the last join, pushed by the format's writer. */
  parts: string[] = [];
  written = 0;
  readonly problems: RecordIssue[] = [];

  constructor(private readonly sink: RecordSink<Chunk>) {}

  /** Called after each record: joins the parts once there are enough of them. */
  added(): void {
    this.written++;
    if (this.parts.length >= PARTS_PER_CHUNK) this.join();
  }

  /** A record's whole text after `before`, after the parts before them; returns the digest of the text (`RecordSink.writeHashed`). */
  whole(before: string, text: string): string {
    this.join();
    this.written++;
    return this.sink.writeHashed(before, text);
  }

  /** Takes back the record `whole` wrote last. */
  takeBack(): void {
    this.written--;
    this.sink.takeBack();
  }

  /** Every record's chunk, in order. */
  done(): Chunk[] {
    this.join();
    return this.sink.done();
  }

  private join(): void {
    if (this.parts.length === 0) return;
    this.sink.write(this.parts.join(''));
    this.parts = [];
  }
}

/** About 9 KB of XML per chunk: joined while young; 64 to 1,024 parts measured alike, 2,048 slower (more to copy per join, out of cache). */
const PARTS_PER_CHUNK = 512;

/**
 * A document written as its records come, for a caller that makes the records one by one
 * (planning an outbound document) and need not keep them: `add` writes one record at
 * once and says what kept it out, if anything; the envelope is written last, counting
 * the records written.
 */
export class DocumentWriter<Chunk extends string | Buffer> {
  private readonly pieces: Pieces<Chunk>;
  private tried = 0;
  private readonly generated: ((record: unknown) => string | undefined) | undefined;

  constructor(
    private readonly format: Format,
    sink: RecordSink<Chunk>,
  ) {
    this.pieces = new Pieces(sink);
    this.generated = recordTextOf(format);
  }

  /** Writes one record; returns its faults (the record is then left out), or undefined. `index` in a fault counts the records added before it. */
  add(record: Operator): RecordIssue[] | undefined {
    return writeRecord(this.format, record, this.tried++, this.pieces);
  }

  /**
   * One record's own text as `add` would write it (JSON's comma before it left out), or
   * undefined when it cannot be written (`add` then says why); nothing is written. For a
   * caller that needs the text before deciding to write it (planning digests it).
   */
  textOf(record: Operator): string | undefined {
    const text = this.generated?.(record);
    if (text !== undefined && this.format.rules.every((rule) => rule(record) === undefined)) return text;
    // Anything the generated writer leaves alone, and a record breaking a rule: the tree's way.
    const node: TreeObject = {};
    if (writeFields(this.format.recordFields, record, this.format.textual, node).length > 0) return undefined;
    if (this.format.rules.some((rule) => rule(record) !== undefined)) return undefined;
    return this.format.writer.text(node);
  }

  /**
   * Writes a record given its text from `textOf`, as `add` would have written the record,
   * and returns the SHA-256 of the text's bytes (base64url); `takeBack` right after
   * removes the record again, as if it had never been written.
   */
  appendHashed(text: string): string {
    this.tried++;
    return this.pieces.whole(this.format.writer.separator(this.pieces.written), text);
  }

  /** Removes the record `appendHashed` wrote last: for a caller that writes a record to digest it, then finds it need not go. */
  takeBack(): void {
    this.tried--;
    this.pieces.takeBack();
  }

  get written(): number {
    return this.pieces.written;
  }

  /** Every fault met so far, in the order of the records. */
  get problems(): RecordIssue[] {
    return this.pieces.problems;
  }

  /** The text before the records, the records' chunks, the text after them. */
  finish(envelope: Envelope | undefined): { head: string; chunks: Chunk[]; tail: string } {
    const { head, tail } = envelopeText(this.format, { envelope }, this.pieces.written);
    return { head, chunks: this.pieces.done(), tail };
  }
}

/** A document's bytes from `DocumentWriter.finish`: one copy, no encoding, a few milliseconds for tens of megabytes. */
export function bodyOf(parts: { head: string; chunks: Buffer[]; tail: string }): Buffer {
  return Buffer.concat([Buffer.from(parts.head, 'utf8'), ...parts.chunks, Buffer.from(parts.tail, 'utf8')]);
}

/** Writes `batch` in `format`; the batch's records must be in this format's canonical flavour. */
export function writeDocument(format: Format, batch: Pick<Batch, 'envelope' | 'records'>): WriteResult {
  const writer = new DocumentWriter(format, asText());
  for (const record of batch.records) writer.add(record);
  const { head, chunks, tail } = writer.finish(batch.envelope);
  return { text: head + chunks.join('') + tail, problems: writer.problems, written: writer.written };
}

/** `writeDocument` as bytes, pausing whenever `cooperation` says a stretch is due: the same document, the same problems. */
export async function writeDocumentCooperatively(format: Format, batch: Pick<Batch, 'envelope' | 'records'>, cooperation = new Cooperation()): Promise<WrittenBody> {
  const writer = new DocumentWriter(format, asBytes());
  for (const record of batch.records) {
    if (cooperation.due) await cooperation.pause();
    writer.add(record);
  }
  if (cooperation.due) await cooperation.pause();
  return { body: bodyOf(writer.finish(batch.envelope)), problems: writer.problems, written: writer.written };
}

/** One record's text pushed onto the pieces, or its faults onto the problems and returned. */
function writeRecord(format: Format, record: Operator, index: number, pieces: Pieces<unknown>): RecordIssue[] | undefined {
  const node: TreeObject = {};
  const issues = writeFields(format.recordFields, record, format.textual, node);
  for (const rule of format.rules) {
    const breach = rule(record);
    if (breach) issues.push({ path: format.formatPathOf(breach.field), code: 'rule-violated', message: `${formatPath(format.formatPathOf(breach.field)) || breach.field}: ${breach.message}` });
  }
  if (issues.length === 0) {
    format.writer.record(node, pieces.written, pieces.parts);
    pieces.added();
    return undefined;
  }
  const problems = issues.map((issue): RecordIssue => {
    const field = formatPath(issue.path) || '(record)';
    return { index, key: record.key ?? null, pointer: field, field, code: issue.code === 'required' ? 'not-writable' : issue.code, message: issue.message };
  });
  pieces.problems.push(...problems);
  return problems;
}

/** The envelope, counting the records written, as the text before and after the records. */
function envelopeText(format: Format, batch: { envelope: Envelope | undefined }, written: number): { head: string; tail: string } {
  const envelopeNode: TreeObject = {};
  if (format.hasEnvelope) {
    if (!batch.envelope) throw new GatewayError('usage', `a ${format.id} document needs an envelope (batch id, sequence, kind, asOf)`);
    const envelope: Envelope = { ...batch.envelope, count: written };
    const issues = writeFields(format.envelopeFields, envelope, format.textual, envelopeNode);
    if (issues[0]) throw new GatewayError('usage', `the envelope cannot be written in ${format.id}: ${issues[0].message}`);
  }
  return { head: format.writer.head(envelopeNode, written), tail: format.writer.tail(envelopeNode, written) };
}
