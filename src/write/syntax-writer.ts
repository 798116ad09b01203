/**
 * What every syntax's writer offers: a document written a record at a time, so that a
 * large document is made in pieces between which the event loop can turn, and no tree of
 * the whole document is ever held. The envelope (its record count included) is only known
 * once every record has been tried, so the head and the tail are asked for last.
 *
 * A record's text is pushed as its parts onto an array that the caller joins now and
 * then: one join copies the parts into one flat string, where `+=` would leave a rope of
 * thousands of small strings per record to be walked again, and collected, later.
 */
import type { TreeObject, TreeValue } from '../parse/tree.ts';

export interface SyntaxWriter {
  /** Pushes the text of one record onto `out`; `index` counts the records written before it. Always `separator(index)` then `text(node)`. */
  record(node: TreeValue, index: number, out: string[]): void;
  /** What goes before the record written after `index` others (JSON's comma), and is not the record's own text. */
  separator(index: number): string;
  /** One record's own text, in one string: the same for the same record wherever it stands. */
  text(node: TreeValue): string;
  /** The text before the first record, given the envelope and the number of records written. */
  head(envelope: TreeObject, count: number): string;
  /** The text after the last record. */
  tail(envelope: TreeObject, count: number): string;
}

/** A whole document at once: head, records, tail. */
export function writeWhole(writer: SyntaxWriter, envelope: TreeObject, records: readonly TreeValue[]): string {
  const out: string[] = [];
  for (let i = 0; i < records.length; i++) writer.record(records[i]!, i, out);
  return writer.head(envelope, records.length) + out.join('') + writer.tail(envelope, records.length);
}
