/**
 * The schemes of `GET /v1/status/{scheme}/{id}` (PROTOCOL.md §5) and how an id is read:
 * normalised as §5 says, then held to its scheme's FORMATS.md syntax. An id that fails
 * is not looked up at all; the route answers 404, as for any other miss.
 */
import { checkIdentifier, normaliseLookupId, type SchemeId } from '../identifiers/schemes.ts';

/** Which identifier rule each status scheme's ids follow. */
const syntaxOf = {
  // A format id names that partner's record key, checked by the format's key rule.
  'eu-aeo': 'eu-aeo-authorisation',
  'gb-aeo': 'gb-aeo-authorisation',
  'jp-aeo': 'opaque-key',
  'kr-aeo': 'opaque-key',
  'ca-pip': 'opaque-key',
  'mx-oea': 'opaque-key',
  // National identifiers; `eori` takes GB and XI EORIs too (checkIdentifier tells them apart).
  eori: 'eori',
  'jp-corp': 'jp-corp',
  'kr-brn': 'kr-brn',
  'ca-bn': 'ca-bn',
  'mx-rfc': 'mx-rfc',
  ctpat: 'ctpat',
  mid: 'mid',
} as const satisfies Record<string, SchemeId>;

export type StatusScheme = keyof typeof syntaxOf;

/** Every scheme the status endpoint answers, in PROTOCOL §5 order. */
export const statusSchemes: readonly StatusScheme[] = Object.freeze(Object.keys(syntaxOf) as StatusScheme[]);

/** The schemes that name a partner's record key (a format id). */
export const formatSchemes: ReadonlySet<string> = new Set<StatusScheme>(['eu-aeo', 'gb-aeo', 'jp-aeo', 'kr-aeo', 'ca-pip', 'mx-oea']);

/** Whether `s` is a status scheme. */
export function isStatusScheme(s: string): s is StatusScheme {
  return Object.hasOwn(syntaxOf, s);
}

/** The normalised subject of a status request, or undefined (→ 404) for an unknown scheme or an id that fails its syntax. */
export function parseSubject(scheme: string, rawId: string): { scheme: StatusScheme; id: string } | undefined {
  if (!isStatusScheme(scheme)) return undefined;
  // Bounded before any work: no identifier of any scheme is anywhere near this long.
  if (rawId.length === 0 || rawId.length > 64) return undefined;
  const id = normaliseLookupId(scheme, rawId);
  return checkIdentifier(syntaxOf[scheme], id).ok ? { scheme, id } : undefined;
}
