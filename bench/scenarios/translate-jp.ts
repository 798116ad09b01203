/**
 * `translate-jp`: a JP AEO snapshot (H/D/T CSV) to canonical records, beside papaparse on
 * the same bytes: the fastest correct CSV reader measured here (csv-parse reads the same
 * document about 15 times slower; FIELD-NOTES.md).
 */
import Papa from 'papaparse';
import { jpSnapshot } from '../documents.ts';
import { translateScenario } from '../lib/translate.ts';

export const scenario = translateScenario({
  name: 'translate-jp',
  module: import.meta.url,
  format: 'jp-aeo',
  document: jpSnapshot,
  floorName: 'papaparse',
  floor: (bytes) => Papa.parse<string[]>(bytes.toString('utf8'), { newline: '\r\n', skipEmptyLines: true }).data.length,
  // The H line, one D line a record, the T line.
  floorRows: (records) => records + 2,
});
