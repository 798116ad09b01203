/**
 * Prints what the engine reads from one fixture input, in expected.json's shape, as a
 * starting point for a new golden case. Check every line of it by hand against the ICD
 * before saving: a golden file is only worth what its review was.
 * Usage: tsx scripts/expect-fixture.ts <format> <input-file> "<description>"
 */
import { readFileSync } from 'node:fs';
import { DocumentInvalidError } from '../src/errors.ts';
import { loadFormats } from '../src/translate/load-mappings.ts';
import { readDocument } from '../src/translate/read-document.ts';

const [format, file, description = ''] = process.argv.slice(2);
if (!format || !file) throw new Error('usage: tsx scripts/expect-fixture.ts <format> <input-file> "<description>"');
const mapping = loadFormats().get(format);
if (!mapping) throw new Error(`unknown format ${format}`);
try {
  const { batch, rejections } = readDocument(mapping, readFileSync(file));
  const expected = { description, envelope: batch.envelope, records: batch.records, rejections: rejections.map(({ index, key, code, pointer }) => ({ index, key, code, pointer })) };
  process.stdout.write(`${JSON.stringify(expected, null, 2)}\n`);
} catch (error) {
  if (!(error instanceof DocumentInvalidError)) throw error;
  process.stdout.write(`${JSON.stringify({ description, documentError: { place: error.place, messageIncludes: error.message } }, null, 2)}\n`);
}
