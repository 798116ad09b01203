/** The syntax-neutral tree to H/D/T CSV through csv-stringify: CRLF, quoted only where RFC 4180 requires. */
import { stringify } from 'csv-stringify/sync';
import type { TreeObject, TreeValue } from '../parse/tree.ts';
import type { CsvLayout } from '../parse/csv-reader.ts';

const line = (spec: CsvLayout['header'], node: TreeValue): string[] => {
  const fields = node as TreeObject;
  return [spec.kind, ...spec.fields.map((name) => (fields[name] === undefined || fields[name] === null ? '' : String(fields[name])))];
};

/** A whole document; the final CRLF is always written. */
export function writeCsv(layout: CsvLayout, envelope: TreeObject, records: readonly TreeValue[]): string {
  const rows = [line(layout.header, envelope[layout.header.kind] ?? {}), ...records.map((r) => line(layout.record, r)), line(layout.trailer, envelope[layout.trailer.kind] ?? {})];
  // quoted_match catches a lone CR or LF, which csv-stringify would otherwise leave bare.
  return stringify(rows, { record_delimiter: '\r\n', quoted_match: /[\r\n]/ });
}
