/**
 * Header / detail / trailer CSV (RFC 4180, CRLF) to the syntax-neutral tree. Our own scan
 * checks what RFC 4180 and the ICDs demand, with exact places; papaparse then splits the
 * fields (csv-parse, used before, reads at about 5 MB/s; papaparse at about 80: issue 10).
 * The structure (one header first, one trailer last, a fixed number of
 * fields per kind of line, CRLF only, no blank line) is a fault of the document; the
 * fields of a detail line are left to the mapping, which rejects one record at a time.
 */
import Papa from 'papaparse';
import { DocumentInvalidError } from '../errors.ts';
import { decodeUtf8 } from './decode.ts';
import type { RecordVisitor, SyntaxTree, TreeObject } from './tree.ts';

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
export function readCsv(input: Uint8Array | string, layout: CsvLayout, visit: RecordVisitor): SyntaxTree {
  const text = decodeUtf8(input);
  const startLines = scanLines(text);
  const parsed = Papa.parse<string[]>(text, { delimiter: ',', newline: '\r\n', quoteChar: '"', escapeChar: '"', skipEmptyLines: false, header: false });
  // The scan has refused every quoting fault already; anything papaparse still finds is placed at its row.
  const fault = parsed.errors[0];
  if (fault !== undefined) throw new DocumentInvalidError(`not valid CSV: ${fault.message}`, `${startLines[fault.row ?? 0] ?? 1}:1`);
  // A final CRLF ends the last line; it does not start an empty one.
  const rows = text.endsWith('\r\n') ? parsed.data.slice(0, -1) : parsed.data;
  const lines: Line[] = rows.map((fields, i) => ({ fields, line: startLines[i] ?? 0 }));
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
  details.forEach(({ fields, line }, index) => visit({ node: named(layout.record, fields), line }, index));
  const column = (spec: CsvLayout['header'], name: string | number | undefined) => (typeof name === 'string' ? spec.fields.indexOf(name) + 2 : 1);
  return {
    envelope: { [layout.header.kind]: named(layout.header, head.fields), [layout.trailer.kind]: named(layout.trailer, tail.fields) },
    recordCount: details.length,
    textual: true,
    envelopePointer: (path) => {
      const isHeader = path[0] === layout.header.kind;
      const spec = isHeader ? layout.header : layout.trailer;
      return `${isHeader ? head.line : tail.line}:${column(spec, path[1])}`;
    },
    recordPointer: (index, path) => `${details[index]?.line ?? 0}:${column(layout.record, path[0])}`,
  };
}

/**
 * One pass over the text before papaparse sees it: every line must end with CRLF (a lone
 * LF or CR outside quotes is a fault), no line may be blank, every quote must close, a
 * quote may open only a field and a closing quote must end it (`""` inside is a quote).
 * Returns the line on which each record starts. A line end's place is its character
 * column; any other place is `line:field`, as for records.
 */
function scanLines(text: string): number[] {
  const starts: number[] = [1];
  let quoted = false;
  let quoteLine = 0;
  let quoteField = 0;
  let field = 1;
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      if (quoted) {
        const next = text.charCodeAt(i + 1);
        if (next === 0x22) {
          i++; // `""`: a quote inside the quoted field
          continue;
        }
        if (next !== 0x2c && next !== 0x0d && i + 1 < text.length) throw new DocumentInvalidError('a closing quote must end its field', `${line}:${field}`);
        quoted = false;
      } else {
        const previous = text.charCodeAt(i - 1);
        if (i !== lineStart && previous !== 0x2c) throw new DocumentInvalidError('a quote inside an unquoted field; quote the field and double the quote', `${line}:${field}`);
        [quoteLine, quoteField, quoted] = [line, field, true];
      }
    } else if (c === 0x2c && !quoted) {
      field++;
    } else if (c === 0x0a) {
      if (!quoted && text.charCodeAt(i - 1) !== 0x0d) throw new DocumentInvalidError('a line ends with a bare LF; lines must end with CRLF', `${line}:${i - lineStart + 1}`);
      line++;
      lineStart = i + 1;
      if (!quoted) field = 1;
      if (!quoted && i + 1 < text.length) {
        if (text.charCodeAt(i + 1) === 0x0d && text.charCodeAt(i + 2) === 0x0a) throw new DocumentInvalidError('blank line', `${line}:1`);
        starts.push(line);
      }
    } else if (c === 0x0d && !quoted && text.charCodeAt(i + 1) !== 0x0a) {
      throw new DocumentInvalidError('a line ends with a bare CR; lines must end with CRLF', `${line}:${i - lineStart + 1}`);
    }
  }
  if (quoted) throw new DocumentInvalidError('a quoted field is never closed', `${quoteLine}:${quoteField}`);
  if (text.startsWith('\r\n')) throw new DocumentInvalidError('blank line', '1:1');
  return starts;
}
