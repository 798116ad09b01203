/** The identifiers a partner record can be asked about under (PROTOCOL §5), normalised as status lookups are. */
import type { Operator } from '../canonical/operator.ts';
import { normaliseLookupId } from '../identifiers/schemes.ts';

/** One status scheme and normalised id that finds a record. */
export interface LookupIdentifier {
  scheme: string;
  value: string;
}

/** The record key under the partner's format id, and the national identifier where §5 names a scheme for it. */
export function lookupIdentifiers(formatId: string, record: Operator): LookupIdentifier[] {
  const ids = [{ scheme: formatId, value: normaliseLookupId(formatId, record.key) }];
  const { scheme, value } = record.identifier;
  // A Canadian program account starts with the nine-digit business number it belongs to.
  if (scheme === 'ca-program-account') ids.push({ scheme: 'ca-bn', value: value.slice(0, 9) });
  else if (['eori', 'jp-corp', 'kr-brn', 'mx-rfc'].includes(scheme)) ids.push({ scheme, value: normaliseLookupId(scheme, value) });
  return ids;
}
