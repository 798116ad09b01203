/**
 * Header / detail / trailer CSV (RFC 4180, CRLF) to the syntax-neutral tree. Our own scan
 * checks what RFC 4180 and the ICDs demand, with exact places; the fields of the text it
 * accepted are then read in place (`CsvFields`: csv-parse, used first, read at about
 * 5 MB/s, papaparse at about 80, and both made an array per line: issue 10).
 * The structure (one header first, one trailer last, a fixed number of
 * fields per kind of line, CRLF only, no blank line) is a fault of the document; the
 * fields of a detail line are left to the mapping, which rejects one record at a time.
 */
import { DocumentInvalidError } from '../errors.ts';
import { CsvTable } from './csv-fields.ts';
import { decodeUtf8 } from './decode.ts';
import type { RecordVisitor, SyntaxTree, TreeObject } from './tree.ts';

export interface CsvLayout {
  header: { kind: string; fields: string[] };
  record: { kind: string; fields: string[] };
  trailer: { kind: string; fields: string[] };
}

/** Reads an H/D/T CSV document. */
export function readCsv(input: Uint8Array | string, layout: CsvLayout, visit: RecordVisitor): SyntaxTree {
  const text = decodeUtf8(input);
  const startLines = quickScanLines(text) ?? scanLines(text);
  // The scan has refused every fault of quoting and line ends: the fields can be read in place.
  const table = new CsvTable(text);
  const { kinds } = table;
  const count = table.lineCount;
  const lineOf = (i: number) => startLines[i] ?? 0;
  if (count < 2) throw new DocumentInvalidError(`a document needs a ${layout.header.kind} line and a ${layout.trailer.kind} line`, '1:1');

  // Every line is checked before any record is handed on: a fault of the structure is a fault of the whole document.
  const { header, record, trailer } = layout;
  for (let i = 0; i < count; i++) {
    const fieldCount = table.fieldCount(i);
    const line = lineOf(i);
    const kind = kinds[i]!;
    if (fieldCount === 1 && kind === '') throw new DocumentInvalidError('blank line', `${line}:1`);
    const spec = kind === header.kind ? header : kind === record.kind ? record : kind === trailer.kind ? trailer : undefined;
    if (!spec) throw new DocumentInvalidError(`unknown line kind "${kind}"`, `${line}:1`);
    const first = i === 0;
    const last = i === count - 1;
    if (spec === header && !first) throw new DocumentInvalidError(`the ${kind} line must be the first and only one`, `${line}:1`);
    if (spec === trailer && !last) throw new DocumentInvalidError(`the ${kind} line must be the last and only one`, `${line}:1`);
    if (first && spec !== header) throw new DocumentInvalidError(`the first line must be a ${header.kind} line`, `${line}:1`);
    if (last && spec !== trailer) throw new DocumentInvalidError(`the last line must be a ${trailer.kind} line`, `${line}:1`);
    if (fieldCount !== spec.fields.length + 1) {
      throw new DocumentInvalidError(`a ${kind} line has ${spec.fields.length + 1} fields, this one has ${fieldCount}`, `${line}:1`);
    }
  }

  const named = (spec: CsvLayout['header'], i: number): TreeObject => {
    table.lineAt(i);
    return namerOf(spec.fields)(table);
  };
  const tailIndex = count - 1;
  const namedRecord = namerOf(record.fields);
  // Every value is a piece of the text (its doubled quotes undone): none holds what the text does not.
  const controlFree = !CONTROL.test(text);
  for (let i = 1; i < tailIndex; i++) {
    table.lineAt(i);
    visit({ node: namedRecord(table), line: lineOf(i), controlFree }, i - 1);
  }
  const column = (spec: CsvLayout['header'], name: string | number | undefined) => (typeof name === 'string' ? spec.fields.indexOf(name) + 2 : 1);
  return {
    envelope: { [header.kind]: named(header, 0), [trailer.kind]: named(trailer, tailIndex) },
    recordCount: count - 2,
    textual: true,
    envelopePointer: (path) => {
      const isHeader = path[0] === header.kind;
      const spec = isHeader ? header : trailer;
      return `${isHeader ? lineOf(0) : lineOf(tailIndex)}:${column(spec, path[1])}`;
    },
    recordPointer: (index, path) => `${index >= 0 && index < count - 2 ? lineOf(index + 1) : 0}:${column(record, path[0])}`,
  };
}

type Namer = (fields: CsvTable) => TreeObject;

/** A control character other than TAB, LF and CR (FORMATS.md common rules). One search of the whole text costs less than one per value. */
// eslint-disable-next-line no-control-regex -- these are the characters being looked for
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/;

/** Built once per list of column names, then reused by every document. */
const namers = new Map<string, Namer>();

/**
 * The fields of the line at `fields` (after its kind) as an object keyed by the column
 * names; an empty field means absent (the JP ICD). Generated, with each name written in, so that each
 * store has one name and its own inline cache; a loop storing `node[names[i]]` is one
 * store for every name, which V8 can only do the slow way (issue 10).
 */
export function namerOf(names: readonly string[]): Namer {
  const id = JSON.stringify(names);
  let namer = namers.get(id);
  if (namer === undefined) {
    // Generated from JSON string literals only: a mapping cannot put code in it.
    const stores = names.map((name) => `v = fields.next(); if (v !== '') node[${JSON.stringify(name)}] = v;`);
    namer = new Function(['return function named(fields) {', 'const node = {};', 'let v;', 'fields.skip();', ...stores, 'return node;', '};'].join('\n'))() as Namer;
    namers.set(id, namer);
  }
  return namer;
}

/**
 * `scanLines` for a document with nothing wrong in it (exported for the test that holds the two to the same answers), jumping from quote to line end
 * with indexOf instead of looking at every character. It returns undefined at the first
 * thing that might be a fault, and `scanLines` then reads the document again to name it.
 */
export function quickScanLines(text: string): number[] | undefined {
  if (text.startsWith('\r\n')) return undefined;
  const starts: number[] = [1];
  const length = text.length;
  let line = 1;
  let lineStart = 0;
  let nextQuote = -2;
  let nextCr = -2;
  let nextLf = -2;
  let i = 0;
  while (i < length) {
    if (nextQuote < i && nextQuote !== -1) nextQuote = text.indexOf('"', i);
    if (nextCr < i && nextCr !== -1) nextCr = text.indexOf('\r', i);
    if (nextLf < i && nextLf !== -1) nextLf = text.indexOf('\n', i);
    // A line feed is only ever met here right after its carriage return.
    if (nextLf !== -1 && (nextCr === -1 || nextLf < nextCr) && (nextQuote === -1 || nextLf < nextQuote)) return undefined;
    if (nextQuote !== -1 && (nextCr === -1 || nextQuote < nextCr)) {
      // An opening quote: it must open its field.
      const q = nextQuote;
      if (q !== lineStart && text.charCodeAt(q - 1) !== 0x2c) return undefined;
      // Inside the quotes: to the closing quote, counting the line feeds on the way.
      let from = q + 1;
      for (;;) {
        const close = text.indexOf('"', from);
        if (close === -1) return undefined;
        for (let lf = text.indexOf('\n', from); lf !== -1 && lf < close; lf = text.indexOf('\n', lf + 1)) {
          line++;
          lineStart = lf + 1;
        }
        if (text.charCodeAt(close + 1) === 0x22) {
          from = close + 2;
          continue;
        }
        const after = text.charCodeAt(close + 1);
        if (after !== 0x2c && after !== 0x0d && close + 1 < length) return undefined;
        i = close + 1;
        break;
      }
      continue;
    }
    if (nextCr === -1) break;
    // A line end outside quotes: CRLF, and no blank line after it.
    const cr = nextCr;
    if (text.charCodeAt(cr + 1) !== 0x0a) return undefined;
    line++;
    lineStart = cr + 2;
    if (lineStart < length) {
      if (text.charCodeAt(lineStart) === 0x0d && text.charCodeAt(lineStart + 1) === 0x0a) return undefined;
      starts.push(line);
    }
    i = lineStart;
  }
  return starts;
}

/**
 * One pass over the text before its fields are read (exported for the same test): every line must end with CRLF (a lone
 * LF or CR outside quotes is a fault), no line may be blank, every quote must close, a
 * quote may open only a field and a closing quote must end it (`""` inside is a quote).
 * Returns the line on which each record starts. A line end's place is its character
 * column; any other place is `line:field`, as for records.
 */
export function scanLines(text: string): number[] {
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
