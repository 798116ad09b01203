/** JP AEO documents (FORMATS.md "JP": CSV with H/D/T lines, CRLF) built from a few facts per operator, and sent as JP. */
import { jpCorporateCheckDigit } from '../../src/identifiers/check-digits.ts';
import { GATEWAY_ID, partnerKeys, type TestGateway } from './gateway.ts';

export interface JpOperator {
  /** Digits that make the keys unique: JP-AEO-<n>, a corporate number ending in n. */
  n: number;
  status?: 'VALID' | 'SUSPENDED' | 'REVOKED';
  effective?: string;
  /** MIDs; default none. */
  mids?: string[];
}

export const jpKey = (o: Pick<JpOperator, 'n'>) => `JP-AEO-${String(o.n).padStart(4, '0')}`;

/** A valid corporate number: the check digit, then twelve digits ending in n. */
export function jpCorporateNumber(n: number): string {
  const twelve = `40104${String(n).padStart(7, '0')}`;
  return `${jpCorporateCheckDigit(twelve)}${twelve}`;
}

function operatorLine(o: JpOperator): string {
  const fields = [
    'D',
    jpCorporateNumber(o.n),
    'EXPORTER',
    jpKey(o),
    `Kanto ${o.n} Seiki KK`,
    '',
    `${o.n}-2-3 Kanda Nishikicho`,
    'Chiyoda-ku',
    '',
    o.status ?? 'VALID',
    o.effective ?? '2020-01-01',
    '',
    (o.mids ?? []).join('|'),
  ];
  return fields.join(',');
}

export function jpBatch(options: { batchId: string; sequence: number; kind: 'SNAPSHOT' | 'DELTA'; asOf?: string; operators: JpOperator[] }): string {
  const lines = [
    `H,JP,${GATEWAY_ID},${options.batchId},${options.sequence},${options.kind},${options.asOf ?? '2026-11-27T09:00:00+09:00'}`,
    ...options.operators.map(operatorLine),
    `T,${options.operators.length}`,
    '',
  ];
  return lines.join('\r\n');
}

/** Sends a JP document, signed by JP's test-vector key. */
export function sendAsJp(g: TestGateway, body: string): Promise<Response> {
  return g.request({ body, iss: 'JP', key: partnerKeys.JP, contentType: 'text/csv' });
}
