/** Deterministic large documents for the benchmarks: N records of about 500 bytes each. */

const pad = (n: number, width: number) => String(n).padStart(width, '0');

export interface EuBatchOptions {
  /** A later batch of one partner needs its own id and sequence. */
  batchId?: string;
  sequence?: number;
  type?: 'SNAPSHOT' | 'DELTA';
  /** Another street number: the same operators, each one changed. */
  street?: number;
}

/** An EU AEO batch with `n` operators (XML), a SNAPSHOT unless told. */
export function euSnapshot(n: number, { batchId = 'EU-BENCH-1', sequence = 1, type = 'SNAPSHOT', street = 12 }: EuBatchOptions = {}): string {
  const parts = [`<?xml version="1.0" encoding="UTF-8"?>\n<AEOExchangeBatch xmlns="urn:eu:taxud:mra:aeo:1" partner="EU" receiver="US-CBP-DEV" batchId="${batchId}" sequence="${sequence}" type="${type}" asOf="2026-11-27T02:00:00Z" recordCount="${n}">\n`];
  for (let i = 0; i < n; i++) {
    // Names whose first two words carry i, so that every MID is distinct and matches its construction.
    const d = pad(i, 6);
    parts.push(`  <Operator>
    <TIN scheme="EORI">DE${pad(i, 15)}</TIN>
    <AuthorisationNumber>DEAEOF${pad(i, 10)}</AuthorisationNumber>
    <AuthorisationType>AEOF</AuthorisationType>
    <Name>${d.slice(0, 3)}Müller ${d.slice(3)}Präzision GmbH &amp; Co. KG</Name>
    <Address><Street>Industriestraße ${street}</Street><City>Dresden</City><PostalCode>01067</PostalCode><Country>DE</Country></Address>
    <Status code="VALID" effectiveDate="2016-03-01"/>
    <AuthorisationDate>2010-01-15</AuthorisationDate>
    <ConsentToExchange>true</ConsentToExchange>
    <LinkedMID>DE${d}12DRE</LinkedMID>
  </Operator>\n`);
  }
  parts.push('</AEOExchangeBatch>\n');
  return parts.join('');
}

/** A GB AEO snapshot with `n` records (JSON). */
export function gbSnapshot(n: number): string {
  const records = Array.from({ length: n }, (_, i) => ({
    eori: `GB${pad(i, 12)}`, aeoType: 'AEOS', authorisationNumber: `GBAEOS${pad(i, 8)}`, name: `Thames Valley Components ${i} Ltd`,
    address: { street: `Unit 7, ${i % 900} Bath Road`, city: 'Reading', postcode: 'RG1 6NB', country: 'GB' },
    status: 'VALID', statusEffective: '2019-09-02', authorisedOn: '2019-09-02', consent: true,
    mids: [{ mid: `GBTHAVAL${pad(i % 10000, 4)}REA`, validFrom: '2019-10-01', validTo: null }],
  }));
  return JSON.stringify({ batch: { id: 'GB-BENCH-1', sequence: 1, type: 'SNAPSHOT', asOf: '2026-11-27T01:30:00Z', recordCount: n }, records });
}

/** A JP AEO snapshot with `n` records (H/D/T CSV). */
export function jpSnapshot(n: number): string {
  const lines = ['H,JP,US-CBP-DEV,JP-BENCH-1,1,SNAPSHOT,2026-11-27T09:00:00+09:00'];
  for (let i = 0; i < n; i++) {
    lines.push(`D,5010401089998,EXPORTER,JP-AEO-${pad(i, 8)},"Sakura Seimitsu ${i} Co., Ltd.",さくら精密株式会社,1-2-3 Kanda Nishikicho,Chiyoda-ku,0010001,VALID,2020-04-01,2012-04-01,JPSAKSEI${pad(i % 10000, 4)}CHI`);
  }
  lines.push(`T,${n}`);
  return `${lines.join('\r\n')}\r\n`;
}
