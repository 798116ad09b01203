/**
 * The syntax-neutral tree to H/D/T CSV: CRLF after every line, the last included, a field
 * quoted only where RFC 4180 requires (a comma, a quote, a CR or an LF in it), quotes
 * doubled. Written by hand, line by line: this is what csv-stringify gave with
 * `record_delimiter: '\r\n'` for fields that are all text, at a small part of its cost
 * per line (test/write/csv-writer.property.test.ts holds the two side by side).
 */
import type { CsvLayout } from '../parse/csv-reader.ts';
import type { TreeObject, TreeValue } from '../parse/tree.ts';
import { writeWhole, type SyntaxWriter } from './syntax-writer.ts';

const needsQuotes = /[",\r\n]/;

/** One field as a line carries it: empty for no value, quoted only where RFC 4180 requires. */
export const csvField = (value: TreeValue | undefined): string => {
  if (value === undefined || value === null) return '';
  const text = String(value);
  return needsQuotes.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
};

function line(spec: CsvLayout['header'], node: TreeValue | undefined, out: string[]): void {
  const fields = (node ?? {}) as TreeObject;
  out.push(csvField(spec.kind));
  for (const name of spec.fields) out.push(',', csvField(fields[name]));
  out.push('\r\n');
}

const lineText = (spec: CsvLayout['header'], node: TreeValue | undefined): string => {
  const out: string[] = [];
  line(spec, node, out);
  return out.join('');
};

/** CSV, record by record: the H line, the D lines, the T line. */
export function csvWriter(layout: CsvLayout): SyntaxWriter {
  return {
    record: (node, _index, out) => line(layout.record, node, out),
    separator: () => '',
    text: (node) => lineText(layout.record, node),
    head: (envelope) => lineText(layout.header, envelope[layout.header.kind]),
    tail: (envelope) => lineText(layout.trailer, envelope[layout.trailer.kind]),
  };
}

/** A whole document; the final CRLF is always written. */
export function writeCsv(layout: CsvLayout, envelope: TreeObject, records: readonly TreeValue[]): string {
  return writeWhole(csvWriter(layout), envelope, records);
}
