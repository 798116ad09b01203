/** EU AEO documents built from a few facts per operator, with MIDs that match their construction unless told otherwise. */
import { buildMid } from '../../src/identifiers/mid.ts';
import { GATEWAY_ID, type TestGateway } from './gateway.ts';

export interface EuOperator {
  /** Digits that make the keys unique: DEAEOS<n>, DE<n> EORI. */
  n: number;
  type?: 'AEOC' | 'AEOS' | 'AEOF';
  name?: string;
  status?: 'VALID' | 'SUSPENDED' | 'REVOKED';
  effective?: string;
  consent?: boolean;
  withdrawnOn?: string;
  authorisedOn?: string;
  /** MIDs; default: the one built from name and address. */
  mids?: string[];
}

export const euKey = (o: Pick<EuOperator, 'n' | 'type'>) => `DE${o.type ?? 'AEOS'}${String(o.n).padStart(8, '0')}`;
/** A name whose MID name part is the six digits of n, so that MIDs never collide by accident. */
const defaultName = (n: number) => {
  const digits = String(n).padStart(6, '0');
  return `${digits.slice(0, 3)}A ${digits.slice(3)}B Werke`;
};
const street = (n: number) => `${100 + n} Hafenstrasse`;

/** The MID built from an operator's name and address. */
export function euMid(o: EuOperator): string {
  return buildMid({ name: o.name ?? defaultName(o.n), street: street(o.n), city: 'Hamburg', country: 'DE' })!;
}

function operatorXml(o: EuOperator): string {
  const consent = o.withdrawnOn ? `<ConsentToExchange withdrawnOn="${o.withdrawnOn}">false</ConsentToExchange>` : `<ConsentToExchange>${o.consent ?? true}</ConsentToExchange>`;
  return `  <Operator>
    <TIN scheme="EORI">DE${String(o.n).padStart(12, '0')}</TIN>
    <AuthorisationNumber>${euKey(o)}</AuthorisationNumber>
    <AuthorisationType>${o.type ?? 'AEOS'}</AuthorisationType>
    <Name>${o.name ?? defaultName(o.n)}</Name>
    <Address><Street>${street(o.n)}</Street><City>Hamburg</City><Country>DE</Country></Address>
    <Status code="${o.status ?? 'VALID'}" effectiveDate="${o.effective ?? '2020-01-01'}"/>
    ${o.authorisedOn ? `<AuthorisationDate>${o.authorisedOn}</AuthorisationDate>` : ''}
    ${consent}
${(o.mids ?? [euMid(o)]).map((m) => `    <LinkedMID>${m}</LinkedMID>`).join('\n')}
  </Operator>
`;
}

export function euBatch(options: { batchId: string; sequence: number; kind: 'SNAPSHOT' | 'DELTA'; asOf?: string; operators: EuOperator[]; raw?: string[] }): string {
  const records = [...options.operators.map(operatorXml), ...(options.raw ?? [])];
  return `<?xml version="1.0" encoding="UTF-8"?>
<AEOExchangeBatch xmlns="urn:eu:taxud:mra:aeo:1" partner="EU" receiver="${GATEWAY_ID}" batchId="${options.batchId}" sequence="${options.sequence}" type="${options.kind}" asOf="${options.asOf ?? '2026-11-27T02:00:00Z'}" recordCount="${records.length}">
${records.join('')}</AEOExchangeBatch>
`;
}

/** Sends a batch as EU and waits until its exchange reached `state` (default applied). */
export async function sendAndWait(gw: TestGateway, body: string, state: string | string[] = 'applied'): Promise<{ exchangeId: string; receipt: string }> {
  const response = await gw.request({ body });
  if (response.status !== 202 && response.status !== 200) throw new Error(`expected 202, got ${response.status}: ${await response.text()}`);
  const answer = (await response.json()) as { exchangeId: string; receipt: string };
  await waitForState(gw, answer.exchangeId, state);
  return answer;
}

export async function waitForState(gw: TestGateway, exchangeId: string, state: string | string[], ms = 20_000): Promise<void> {
  const wanted = Array.isArray(state) ? state : [state];
  const deadline = Date.now() + ms;
  for (;;) {
    const { rows } = await gw.gateway.db.query<{ state: string }>('select state from exchanges where id = $1', [exchangeId]);
    if (wanted.includes(rows[0]?.state ?? '')) return;
    if (Date.now() > deadline) throw new Error(`exchange ${exchangeId} is ${rows[0]?.state}, not ${wanted.join(' or ')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The benefit feed as staff would read it, without ids. */
export async function feed(gw: TestGateway): Promise<{ mid: string; record: string; benefit: string; change: string; effective: string }[]> {
  const { rows } = await gw.gateway.db.query<{ mid: string; record: string; benefit: string; change: string; effective: string }>(
    'select mid, record_key as record, benefit, change, effective::text as effective from benefit_changes order by id',
  );
  return rows;
}

export async function recognition(gw: TestGateway, key: string): Promise<{ state: string; since: string } | undefined> {
  const { rows } = await gw.gateway.db.query<{ state: string; since: string }>("select recognition_state as state, recognition_since::text as since from operators where partner = 'EU' and record_key = $1", [key]);
  return rows[0];
}

export async function openDiscrepancies(gw: TestGateway): Promise<{ kind: string; key: string | null; mid: string | null }[]> {
  const { rows } = await gw.gateway.db.query<{ kind: string; key: string | null; mid: string | null }>("select kind, record_key as key, mid from discrepancies where state = 'open' order by id");
  return rows;
}
