/** `translate-gb`: a GB AEO snapshot (JSON) to canonical records, beside JSON.parse of the same bytes. */
import { gbSnapshot } from '../documents.ts';
import { translateScenario } from '../lib/translate.ts';

export const scenario = translateScenario({
  name: 'translate-gb',
  module: import.meta.url,
  format: 'gb-aeo',
  document: gbSnapshot,
  floorName: 'JSON.parse',
  floor: (bytes) => (JSON.parse(bytes.toString('utf8')) as { records: unknown[] }).records.length,
  floorRows: (records) => records,
});
