/**
 * A format ready to use: its mapping compiled once at load, with the reader and writer
 * of its syntax. This is the only place that knows which syntax a format has; the rest
 * of the engine works on the syntax-neutral tree.
 */
import { GatewayError } from '../errors.ts';
import { readCsv } from '../parse/csv-reader.ts';
import { readJson } from '../parse/json-reader.ts';
import { readNdjson } from '../parse/ndjson-reader.ts';
import type { IncrementalReader, RecordVisitor, SyntaxTree, TreeObject, TreeValue } from '../parse/tree.ts';
import { xmlReader } from '../parse/xml-reader.ts';
import { csvWriter } from '../write/csv-writer.ts';
import { jsonWriter, ndjsonWriter } from '../write/json-writer.ts';
import { writeWhole, type SyntaxWriter } from '../write/syntax-writer.ts';
import { xmlWriter } from '../write/xml-writer.ts';
import { compileFields, formatPaths, shapeOf, type CompiledField, type Shape } from './compile.ts';
import type { Mapping } from './mapping-schema.ts';
import { compileRule, type CompiledRule } from './record-rules.ts';

export interface Format {
  id: string;
  /** Registry id of the partner that speaks it; undefined for the U.S. side's own export. */
  partner: string | undefined;
  mediaType: string;
  mapping: Mapping;
  /** Whether documents of this format have an envelope (batch id, sequence, …). */
  hasEnvelope: boolean;
  envelopeFields: CompiledField[];
  envelopeShape: Shape;
  recordFields: CompiledField[];
  recordShape: Shape;
  rules: CompiledRule[];
  /** Where a canonical field lives in this format, for naming the place of a rule's fault. */
  formatPathOf(canonical: string): string[];
  /** A reader to feed the document piece by piece as it arrives, handing each record to `visit` as it is reached. */
  reader(visit: RecordVisitor): IncrementalReader;
  /** The document's text a record at a time, for writing a large document in pieces (write-document.ts). */
  writer: SyntaxWriter;
  /** A whole document at once: the writer's head, records and tail joined. */
  write(envelope: TreeObject, records: readonly TreeValue[]): string;
  /** Whether the syntax carries scalars as text. */
  textual: boolean;
}

/** Compiles a validated mapping into a format; a contradiction in it stops the load. */
export function compileFormat(mapping: Mapping, file: string): Format {
  const envelopeFields = compileFields(mapping.envelope ?? {}, `${file}: envelope`);
  const recordFields = compileFields(mapping.fields, `${file}: fields`);
  if (!recordFields.some((f) => f.canonical.join('.') === 'key')) throw new GatewayError('mapping-invalid', `${file}: fields must map the record key (canonical path "key")`);
  const rules = mapping.rules.map((rule, i) => compileRule(rule, `${file}: rules[${i}]`));
  const paths = formatPaths(recordFields);
  const base = {
    id: mapping.format,
    partner: mapping.partner,
    mediaType: mapping.mediaType,
    mapping,
    hasEnvelope: mapping.syntax !== 'ndjson',
    envelopeFields,
    envelopeShape: shapeOf(envelopeFields),
    recordFields,
    recordShape: shapeOf(recordFields),
    rules,
    formatPathOf: (canonical: string) => paths.get(canonical) ?? [],
  };
  const need = <T>(layout: T | undefined, name: string): T => {
    if (!layout) throw new GatewayError('mapping-invalid', `${file}: syntax ${mapping.syntax} needs a "${name}" section`);
    return layout;
  };
  const withWriter = (writer: SyntaxWriter) => ({ writer, write: (envelope: TreeObject, records: readonly TreeValue[]) => writeWhole(writer, envelope, records) });
  switch (mapping.syntax) {
    case 'xml': {
      const layout = need(mapping.xml, 'xml');
      return { ...base, ...withWriter(xmlWriter(layout)), textual: true, reader: (visit) => xmlReader(layout, visit) };
    }
    case 'json': {
      const layout = need(mapping.json, 'json');
      base.envelopeShape.members.set(layout.records, { members: new Map() });
      return { ...base, ...withWriter(jsonWriter(layout)), textual: false, reader: (visit) => wholeReader((input) => readJson(input, layout, visit)) };
    }
    case 'csv-hdt': {
      const layout = need(mapping.csv, 'csv');
      return { ...base, ...withWriter(csvWriter(layout)), textual: true, reader: (visit) => wholeReader((input) => readCsv(input, layout, visit)) };
    }
    case 'ndjson':
      return { ...base, ...withWriter(ndjsonWriter), textual: false, reader: (visit) => wholeReader((input) => readNdjson(input, visit)) };
  }
}

/**
 * For syntaxes read whole (JSON, CSV, NDJSON: their fastest correct readers take the
 * whole text, FIELD-NOTES.md): the pieces are gathered and read once the last arrives.
 */
function wholeReader(read: (input: Uint8Array) => SyntaxTree): IncrementalReader {
  const pieces: Uint8Array[] = [];
  return {
    write: (chunk) => void pieces.push(chunk),
    end: () => read(pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces)),
  };
}
