/** `translate-eu`: an EU AEO snapshot (XML) to canonical records, beside a saxes scan of the same bytes. */
import { euSnapshot } from '../documents.ts';
import { saxesScan } from '../lib/saxes-scan.ts';
import { translateScenario } from '../lib/translate.ts';

export const scenario = translateScenario({
  name: 'translate-eu',
  module: import.meta.url,
  format: 'eu-aeo',
  document: euSnapshot,
  floorName: 'saxes scan',
  floor: saxesScan,
  // The batch element, then per operator: Operator, TIN, AuthorisationNumber, AuthorisationType, Name, Address and its 4, Status, AuthorisationDate, ConsentToExchange, LinkedMID.
  floorRows: (records) => 1 + records * 14,
});
