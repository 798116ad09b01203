/**
 * One benchmark measurement in a process of its own, so that its peak memory is its own:
 * prints {"seconds", "peakRssMiB", "bytes"} for one case on one generated document.
 * Usage: tsx bench/case.ts <case> <records>
 */
import { parse as parseCsv } from 'csv-parse/sync';
import { XMLParser } from 'fast-xml-parser';
import { SaxesParser } from 'saxes';
import { loadFormats } from '../src/translate/load-mappings.ts';
import { readDocument } from '../src/translate/read-document.ts';
import { writeDocument } from '../src/translate/write-document.ts';
import { euSnapshot, gbSnapshot, jpSnapshot } from './documents.ts';

const [name, count] = process.argv.slice(2);
const n = Number(count);
const formats = loadFormats();

const cases: Record<string, { document: (n: number) => string; run: (bytes: Buffer) => unknown }> = {
  // The floor: a conformant streaming tokenizer reading every byte, building nothing.
  'eu-saxes-scan': { document: euSnapshot, run: (bytes) => new SaxesParser({ xmlns: true }).write(bytes.toString('utf8')).close() },
  // What the design's default XML parser costs to build the whole tree.
  'eu-fast-xml-parser-tree': { document: euSnapshot, run: (bytes) => new XMLParser({ ignoreAttributes: false, parseTagValue: false, parseAttributeValue: false }).parse(bytes) },
  'eu-to-canonical': { document: euSnapshot, run: (bytes) => readDocument(formats.get('eu-aeo')!, bytes) },
  'eu-round-trip': { document: euSnapshot, run: (bytes) => writeDocument(formats.get('eu-aeo')!, readDocument(formats.get('eu-aeo')!, bytes).batch) },
  'gb-json-parse': { document: gbSnapshot, run: (bytes) => JSON.parse(bytes.toString('utf8')) },
  'gb-to-canonical': { document: gbSnapshot, run: (bytes) => readDocument(formats.get('gb-aeo')!, bytes) },
  'jp-csv-parse': { document: jpSnapshot, run: (bytes) => parseCsv(bytes.toString('utf8'), { record_delimiter: '\r\n', relax_column_count: true }) },
  'jp-to-canonical': { document: jpSnapshot, run: (bytes) => readDocument(formats.get('jp-aeo')!, bytes) },
  // Only holding the document: the memory every case starts from.
  'eu-hold-bytes': { document: euSnapshot, run: () => undefined },
};

const selected = cases[name ?? ''];
if (!selected || !Number.isInteger(n)) throw new Error(`usage: tsx bench/case.ts <${Object.keys(cases).join('|')}> <records>`);
const bytes = Buffer.from(selected.document(n));
const start = process.hrtime.bigint();
const result = selected.run(bytes);
const seconds = Number(process.hrtime.bigint() - start) / 1e9;
const keep = result === undefined ? 0 : 1; // hold the result until after the measurement
process.stdout.write(`${JSON.stringify({ seconds, peakRssMiB: process.resourceUsage().maxRSS / 1024, bytes: bytes.length, keep })}\n`);
