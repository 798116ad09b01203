/**
 * The record-at-a-time writers give, byte for byte, the documents the whole-document
 * writers they replaced gave. The previous writers are kept here, verbatim, as the
 * reference; generated trees cover attributes, text beside attributes, nested and
 * repeated elements, nulls, and text that needs escaping or quoting.
 */
import fc from 'fast-check';
import { stringify } from 'csv-stringify/sync';
import { describe, expect, it } from 'vitest';
import type { CsvLayout } from '../../src/parse/csv-reader.ts';
import { isObject, TEXT, type TreeObject, type TreeValue } from '../../src/parse/tree.ts';
import { writeCsv } from '../../src/write/csv-writer.ts';
import { writeJson, writeNdjson } from '../../src/write/json-writer.ts';
import { writeXml } from '../../src/write/xml-writer.ts';

// --- The previous writers (src/write at commit 978e7bf), the reference. ---

const escapeText = (s: string) => s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('\r', '&#13;');
const escapeAttribute = (s: string) => escapeText(s).replaceAll('"', '&quot;').replaceAll('\t', '&#9;').replaceAll('\n', '&#10;');

function element(name: string, value: TreeValue, indent: string): string {
  if (Array.isArray(value)) return value.map((item) => element(name, item, indent)).join('');
  if (!isObject(value)) return `${indent}<${name}>${escapeText(String(value))}</${name}>\n`;
  let attributes = '';
  const children: [string, TreeValue][] = [];
  for (const [key, v] of Object.entries(value)) {
    if (key.startsWith('@')) attributes += ` ${key.slice(1)}="${escapeAttribute(String(v))}"`;
    else if (key !== TEXT && v !== null) children.push([key, v]);
  }
  const text = value[TEXT];
  if (children.length === 0) {
    return text === undefined || text === null ? `${indent}<${name}${attributes}/>\n` : `${indent}<${name}${attributes}>${escapeText(String(text))}</${name}>\n`;
  }
  const inner = children.map(([key, v]) => element(key, v, `${indent}  `)).join('');
  return `${indent}<${name}${attributes}>\n${inner}${indent}</${name}>\n`;
}

function previousXml(layout: { namespace: string; root: string; record: string }, envelope: TreeObject, records: readonly TreeValue[]): string {
  const attributes = Object.entries(envelope)
    .map(([key, v]) => ` ${key.replace(/^@/, '')}="${escapeAttribute(String(v))}"`)
    .join('');
  const body = records.map((r) => element(layout.record, r, '  ')).join('');
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${layout.root} xmlns="${escapeAttribute(layout.namespace)}"${attributes}>\n${body}</${layout.root}>\n`;
}

function previousJson(layout: { records: string }, envelope: TreeObject, records: readonly TreeValue[]): string {
  const head = Object.entries(envelope).map(([k, v]) => `  ${JSON.stringify(k)}: ${JSON.stringify(v)}`);
  const body = records.map((r) => `    ${JSON.stringify(r)}`).join(',\n');
  head.push(`  ${JSON.stringify(layout.records)}: [${records.length > 0 ? `\n${body}\n  ` : ''}]`);
  return `{\n${head.join(',\n')}\n}\n`;
}

const previousNdjson = (records: readonly TreeValue[]): string => records.map((r) => `${JSON.stringify(r)}\n`).join('');

const csvLine = (spec: CsvLayout['header'], node: TreeValue): string[] => {
  const fields = node as TreeObject;
  return [spec.kind, ...spec.fields.map((name) => (fields[name] === undefined || fields[name] === null ? '' : String(fields[name])))];
};

function previousCsv(layout: CsvLayout, envelope: TreeObject, records: readonly TreeValue[]): string {
  const rows = [csvLine(layout.header, envelope[layout.header.kind] ?? {}), ...records.map((r) => csvLine(layout.record, r)), csvLine(layout.trailer, envelope[layout.trailer.kind] ?? {})];
  return stringify(rows, { record_delimiter: '\r\n', quoted_match: /[\r\n]/ });
}

// --- Generated trees. ---

const tricky = fc.constantFrom('', 'a & b <c> d', '"quoted", too', 'cr\rlf\n', 'tab\there', 'x\r\ny', ',', '"', '株式会社', '&amp;', ']]>', ' ', 'é');
const text = fc.oneof(fc.string({ maxLength: 12 }), fc.string({ unit: 'grapheme', maxLength: 8 }), tricky);
const scalar = fc.oneof(text, fc.integer(), fc.double({ noNaN: false }), fc.boolean());
const elementName = fc.constantFrom('Name', 'Address', 'City', 'TIN', 'Status', 'MID', 'Event', 'a', 'b');
const attributeName = fc.constantFrom('@code', '@scheme', '@effectiveDate', '@x');

const { tree } = fc.letrec<{ tree: TreeValue; object: TreeObject }>((tie) => ({
  tree: fc.oneof({ depthSize: 'small', withCrossShrink: true }, scalar, fc.constant(null), tie('object'), fc.array(tie('tree'), { maxLength: 3 })),
  object: fc
    .array(fc.oneof(fc.tuple(elementName, tie('tree')), fc.tuple(attributeName, scalar), fc.tuple(fc.constant(TEXT), fc.oneof(scalar, fc.constant(null)))), { maxLength: 6 })
    .map((entries) => {
      const node: TreeObject = {};
      for (const [key, value] of entries) node[key] = value;
      return node;
    }),
}));

const xmlEnvelope = fc.dictionary(attributeName, scalar, { maxKeys: 4 });
const jsonEnvelope = fc.dictionary(fc.string({ maxLength: 6 }), tree, { maxKeys: 4 });

describe('the XML writer', () => {
  const layout = { namespace: 'urn:x:"&<>', root: 'Batch', record: 'Operator' };
  it('writes what the previous writer wrote', () => {
    fc.assert(fc.property(xmlEnvelope, fc.array(tree, { maxLength: 8 }), (envelope, records) => {
          expect(writeXml(layout, envelope, records)).toBe(previousXml(layout, envelope, records));
        }), { numRuns: 500 });
  });
});

describe('the JSON writers', () => {
  it('write what the previous writer wrote', () => {
    fc.assert(
      fc.property(jsonEnvelope, fc.array(tree, { maxLength: 8 }), (envelope, records) => {
        expect(writeJson({ records: 'operators' }, envelope, records)).toBe(previousJson({ records: 'operators' }, envelope, records));
        expect(writeNdjson(records)).toBe(previousNdjson(records));
      }),
      { numRuns: 500 },
    );
  });
});

describe('the CSV writer', () => {
  const layout: CsvLayout = { header: { kind: 'H', fields: ['partner', 'batchId', 'asOf'] }, record: { kind: 'D', fields: ['id', 'name', 'city', 'mids'] }, trailer: { kind: 'T', fields: ['count'] } };
  const line = (fields: readonly string[]) => fc.record(Object.fromEntries(fields.map((f) => [f, fc.oneof(text, fc.integer(), fc.boolean(), fc.constant(null))])), { requiredKeys: [] }) as fc.Arbitrary<TreeObject>;
  const envelope = fc.record({ H: line(layout.header.fields), T: line(layout.trailer.fields) }, { requiredKeys: [] }) as fc.Arbitrary<TreeObject>;
  it('writes what csv-stringify wrote', () => {
    fc.assert(fc.property(envelope, fc.array(line(layout.record.fields), { maxLength: 8 }), (env, records) => {
          expect(writeCsv(layout, env, records)).toBe(previousCsv(layout, env, records));
        }), { numRuns: 500 });
  });
});
