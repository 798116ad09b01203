/**
 * Header / detail / trailer CSV (RFC 4180, CRLF) to the syntax-neutral tree, through
 * csv-parse. The structure (one header first, one trailer last, a fixed number of
 * fields per kind of line, CRLF only, no blank line) is a fault of the document; the
 * fields of a detail line are left to the mapping, which rejects one record at a time.
 */
import { parse, type Info } from 'csv-parse/sync';
import { DocumentInvalidError } from '../errors.ts';
import { decodeUtf8 } from './decode.ts';
import type { RecordNode, SyntaxTree, TreeObject } from './tree.ts';

export interface CsvLayout {
  header: { kind: string; fields: string[] };
  record: { kind: string; fields: string[] };
  trailer: { kind: string; fields: string[] };
}

interface Line {
  fields: string[];
  line: number;
}

/** Reads an H/D/T CSV document. */
export function readCsv(input: Uint8Array | string, layout: CsvLayout): SyntaxTree {
  const text = decodeUtf8(input);
  refuseBareLineFeeds(text);
  let rows: { record: string[]; info: Info }[];
  try {
    rows = parse(text, { record_delimiter: '\r\n', relax_column_count: true, skip_empty_lines: false, info: true, bom: false }) as unknown as { record: string[]; info: Info }[];
  } catch (error) {
    const e = error as Error & { lines?: number; column?: number };
    throw new DocumentInvalidError(`not valid CSV: ${e.message.replace(/^Invalid [^:]*: /, '')}`, `${e.lines ?? 1}:${(e.column ?? 0) + 1}`);
  }
  const lines: Line[] = rows.map(({ record, info }) => ({ fields: record, line: info.lines }));
  if (lines.length < 2) throw new DocumentInvalidError(`a document needs a ${layout.header.kind} line and a ${layout.trailer.kind} line`, '1:1');

  const byKind = [layout.header, layout.record, layout.trailer];
  lines.forEach(({ fields, line }, i) => {
    const kind = fields[0] ?? '';
    if (fields.length === 1 && kind === '') throw new DocumentInvalidError('blank line', `${line}:1`);
    const spec = byKind.find((s) => s.kind === kind);
    if (!spec) throw new DocumentInvalidError(`unknown line kind "${kind}"`, `${line}:1`);
    const first = i === 0;
    const last = i === lines.length - 1;
    if (spec === layout.header && !first) throw new DocumentInvalidError(`the ${kind} line must be the first and only one`, `${line}:1`);
    if (spec === layout.trailer && !last) throw new DocumentInvalidError(`the ${kind} line must be the last and only one`, `${line}:1`);
    if (first && spec !== layout.header) throw new DocumentInvalidError(`the first line must be a ${layout.header.kind} line`, `${line}:1`);
    if (last && spec !== layout.trailer) throw new DocumentInvalidError(`the last line must be a ${layout.trailer.kind} line`, `${line}:1`);
    if (fields.length !== spec.fields.length + 1) {
      throw new DocumentInvalidError(`a ${kind} line has ${spec.fields.length + 1} fields, this one has ${fields.length}`, `${line}:1`);
    }
  });

  const named = (spec: CsvLayout['header'], fields: string[]): TreeObject => {
    const node: TreeObject = {};
    // An empty field means absent (the JP ICD).
    spec.fields.forEach((name, i) => {
      const value = fields[i + 1]!;
      if (value !== '') node[name] = value;
    });
    return node;
  };
  const head = lines[0]!;
  const tail = lines[lines.length - 1]!;
  const details = lines.slice(1, -1);
  const records: RecordNode[] = details.map(({ fields, line }) => ({ node: named(layout.record, fields), line }));
  const column = (spec: CsvLayout['header'], name: string | number | undefined) => (typeof name === 'string' ? spec.fields.indexOf(name) + 2 : 1);
  return {
    envelope: { [layout.header.kind]: named(layout.header, head.fields), [layout.trailer.kind]: named(layout.trailer, tail.fields) },
    records,
    textual: true,
    envelopePointer: (path) => {
      const isHeader = path[0] === layout.header.kind;
      const spec = isHeader ? layout.header : layout.trailer;
      return `${isHeader ? head.line : tail.line}:${column(spec, path[1])}`;
    },
    recordPointer: (index, path) => `${records[index]?.line ?? 0}:${column(layout.record, path[0])}`,
  };
}

/** A line ending must be CRLF; a lone LF or CR outside quotes is a fault of the document. */
function refuseBareLineFeeds(text: string): void {
  let quoted = false;
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) quoted = !quoted;
    else if (c === 0x0a) {
      if (!quoted && text.charCodeAt(i - 1) !== 0x0d) throw new DocumentInvalidError('a line ends with a bare LF; lines must end with CRLF', `${line}:${i - lineStart + 1}`);
      line++;
      lineStart = i + 1;
    } else if (c === 0x0d && !quoted && text.charCodeAt(i + 1) !== 0x0a) {
      throw new DocumentInvalidError('a line ends with a bare CR; lines must end with CRLF', `${line}:${i - lineStart + 1}`);
    }
  }
}
