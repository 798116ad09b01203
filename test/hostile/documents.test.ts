/**
 * The hostile-input catalogue, documents: what a partner could put in a signed document
 * to break the gateway (XML from EU, JSON from GB, CSV from JP), one named case each,
 * each checked for its documented answer, the process's health after, and what the store
 * holds (test/hostile/harness.ts). The signature is good in every case: these attack the
 * readers behind it.
 */
import { afterAll, beforeAll, describe, it } from 'vitest';
import { euDocument, GATEWAY_ID, startTestGateway, type TestGateway } from '../support/gateway.ts';
import { gbPartner, runCase, type BatchNumbers, type HostileCase } from './harness.ts';

const deep = (n: number, open = '[', close = ']') => `${open.repeat(n)}${close.repeat(n)}`;

/** An EU document of two good operators, then `edit` applied to its text. */
const eu = (edit: (xml: string) => string = (x) => x) => (b: BatchNumbers) => edit(euDocument({ ...b, kind: 'DELTA', records: 2 }));
/** Inside the second operator, before its Name. */
const inSecondEu = (xml: string, insert: string) => xml.replace('<Name>Operator 1 GmbH</Name>', `${insert}<Name>Operator 1 GmbH</Name>`);

const gbRecords = [
  '{"eori": "GB123456789000", "aeoType": "AEOS", "authorisationNumber": "GBAEOS1234/19", "name": "Thames Valley Components Ltd", "address": {"street": "Unit 7, 45 Bath Road", "city": "Reading", "postcode": "RG1 6NB", "country": "GB"}, "status": "VALID", "statusEffective": "2019-09-02", "authorisedOn": "2019-09-02", "consent": true, "mids": [{"mid": "GBTHAVAL45REA", "validFrom": "2019-10-01", "validTo": null}]}',
  '{"eori": "XI123456789000123", "aeoType": "AEOF", "authorisationNumber": "GBAEOF0099/21", "name": "Lagan Valley Foods Ltd", "address": null, "status": "REVOKED", "statusEffective": "2025-02-14", "consent": true, "mids": []}',
];
/** A GB document of two good records; `second` edits the second record's text, `whole` the document's. */
const gb =
  ({ second = (r: string) => r, whole = (d: string) => d }: { second?: (record: string) => string; whole?: (document: string) => string } = {}) =>
  (b: BatchNumbers) =>
    whole(`{"batch": {"id": "${b.batchId}", "sequence": ${b.sequence}, "type": "DELTA", "asOf": "2026-11-27T01:30:00Z", "recordCount": 2}, "records": [${gbRecords[0]}, ${second(gbRecords[1]!)}]}`);

const jpLines = ['D,5010401089998,EXPORTER,JP-AEO-0001,"Sakura Seimitsu Co., Ltd.",さくら精密株式会社,1-2-3 Kanda Nishikicho,Chiyoda-ku,0010001,VALID,2020-04-01,2012-04-01,JPSAKSEI123CHI', 'D,7000012050002,LOGISTICS,JP-AEO-0002,Naniwa Express KK,,4-5 Nakanoshima,Osaka,,SUSPENDED,2026-09-30,,'];
/** A JP document of two good lines (CRLF), the second edited by `second`, then the whole text by `whole`. */
const jp =
  ({ second = (l: string) => l, whole = (d: string) => d }: { second?: (line: string) => string; whole?: (document: string) => string } = {}) =>
  (b: BatchNumbers) =>
    whole([`H,JP,${GATEWAY_ID},${b.batchId},${b.sequence},DELTA,2026-11-27T09:00:00+09:00`, jpLines[0], second(jpLines[1]!), 'T,2', ''].join('\r\n'));

const invalid = { status: 422, slug: 'document-invalid' } as const;
const rejects = (code: string, index = 1): HostileCase['expected'] => ({ status: 202, rejected: [{ index, code }] });
const accepted: HostileCase['expected'] = { status: 202, rejected: [] };

const xmlCases: HostileCase[] = [
  { name: 'XML: an internal entity expanded a billion times (billion laughs)', send: { from: 'EU', body: eu((x) => x.replace('<AEOExchangeBatch', `<!DOCTYPE AEOExchangeBatch [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>\n<AEOExchangeBatch`).replace('Operator 1 GmbH', '&c;')) }, expected: invalid },
  { name: 'XML: an external entity reading a local file (XXE)', send: { from: 'EU', body: eu((x) => x.replace('<AEOExchangeBatch', '<!DOCTYPE AEOExchangeBatch [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n<AEOExchangeBatch').replace('Operator 1 GmbH', '&xxe;')) }, expected: invalid },
  { name: 'XML: a parameter entity fetching a remote DTD', send: { from: 'EU', body: eu((x) => x.replace('<AEOExchangeBatch', '<!DOCTYPE AEOExchangeBatch [<!ENTITY % remote SYSTEM "http://127.0.0.1:9/evil.dtd"> %remote;]>\n<AEOExchangeBatch')) }, expected: invalid },
  { name: 'XML: a DOCTYPE without entities', send: { from: 'EU', body: eu((x) => x.replace('<AEOExchangeBatch', '<!DOCTYPE AEOExchangeBatch>\n<AEOExchangeBatch')) }, expected: invalid },
  { name: 'XML: a processing instruction', send: { from: 'EU', body: eu((x) => x.replace('<AEOExchangeBatch', '<?xml-stylesheet href="evil.xsl"?>\n<AEOExchangeBatch')) }, expected: invalid },
  { name: 'XML: an entity reference never declared', send: { from: 'EU', body: eu((x) => x.replace('Operator 1 GmbH', 'Operator &undeclared; GmbH')) }, expected: invalid },
  { name: 'XML: elements nested 10,000 deep in an operator', send: { from: 'EU', body: eu((x) => inSecondEu(x, `${'<X>'.repeat(10_000)}${'</X>'.repeat(10_000)}`)) }, expected: invalid },
  { name: 'XML: a character reference to NUL', send: { from: 'EU', body: eu((x) => x.replace('Operator 1 GmbH', 'Operator &#0; GmbH')) }, expected: invalid },
  { name: 'XML: a character reference to a lone surrogate', send: { from: 'EU', body: eu((x) => x.replace('Operator 1 GmbH', 'Operator &#xD800; GmbH')) }, expected: invalid },
  { name: 'XML: a raw control character (U+0001) in a name', send: { from: 'EU', body: eu((x) => x.replace('Operator 1 GmbH', 'Operator \u0001 GmbH')) }, expected: invalid },
  { name: 'XML: bytes that are not UTF-8', send: { from: 'EU', body: (b) => Buffer.concat([Buffer.from(eu()(b).split('Operator 1 GmbH')[0]!), Buffer.from([0xc3, 0x28]), Buffer.from(`Operator 1 GmbH${eu()(b).split('Operator 1 GmbH')[1]!}`)]) }, expected: invalid },
  { name: 'XML: elements in a namespace not the ICD’s', send: { from: 'EU', body: eu((x) => x.replace('xmlns="urn:eu:taxud:mra:aeo:1"', 'xmlns="urn:evil"')) }, expected: invalid },
  { name: 'XML: a second root element after the first', send: { from: 'EU', body: eu((x) => `${x}<AEOExchangeBatch/>`) }, expected: invalid },
  { name: 'XML: an attribute the ICD does not name, on an operator', send: { from: 'EU', body: eu((x) => x.replace(/<Operator>/g, (m, at: number) => (at === x.lastIndexOf('<Operator>') ? '<Operator evil="1">' : m))) }, expected: rejects('unknown-field') },
  { name: 'XML: 5,000 elements no rule names in one operator', send: { from: 'EU', body: eu((x) => inSecondEu(x, '<Unknown/>'.repeat(5_000))) }, expected: rejects('unknown-field') },
  { name: 'XML: markup in a name, escaped, is kept as text', send: { from: 'EU', body: eu((x) => x.replace('Operator 1 GmbH', '&lt;script&gt;alert(1)&lt;/script&gt; &lt;img src=x onerror=alert(1)&gt;')) }, expected: accepted },
  { name: 'XML: markup in a name, as CDATA, is kept as text', send: { from: 'EU', body: eu((x) => x.replace('Operator 1 GmbH', '<![CDATA[<script>alert(1)</script>]]>')) }, expected: accepted },
];

const jsonCases: HostileCase[] = [
  { name: 'JSON: 100,000 nested arrays in a record’s mids', send: { from: 'GB', body: gb({ second: (r) => r.replace('"mids": []', `"mids": [${deep(100_000)}]`) }) }, expected: rejects('invalid-type') },
  { name: 'JSON: 100,000 nested objects under a member no rule names', send: { from: 'GB', body: gb({ second: (r) => r.replace('"name":', `"x": ${deep(100_000, '{"a":', '}').replace('{"a":}', '{}')}, "name":`) }) }, expected: rejects('invalid-type') },
  { name: 'JSON: 100,000 nested arrays as a whole record', send: { from: 'GB', body: gb({ second: () => deep(100_000) }) }, expected: rejects('invalid-type') },
  { name: 'JSON: 100,000 nested arrays in the envelope', send: { from: 'GB', body: gb({ whole: (d) => d.replace('"batch":', `"extra": ${deep(100_000)}, "batch":`) }) }, expected: invalid },
  { name: 'JSON: 100,000 nested arrays as the document', send: { from: 'GB', body: () => deep(100_000) }, expected: invalid },
  { name: 'JSON: a __proto__ member in a record', send: { from: 'GB', body: gb({ second: (r) => r.replace('"name":', '"__proto__": {"polluted": true}, "name":') }) }, expected: rejects('unknown-field') },
  { name: 'JSON: a constructor member in a record', send: { from: 'GB', body: gb({ second: (r) => r.replace('"name":', '"constructor": {"prototype": {"polluted": true}}, "name":') }) }, expected: rejects('unknown-field') },
  { name: 'JSON: a __proto__ member in the envelope', send: { from: 'GB', body: gb({ whole: (d) => d.replace('"batch": {', '"batch": {"__proto__": {"polluted": true}, ') }) }, expected: invalid },
  { name: 'JSON: a sequence beyond 2^53', send: { from: 'GB', body: gb({ whole: (d) => d.replace(/"sequence": \d+/, '"sequence": 9007199254740993') }) }, expected: invalid },
  { name: 'JSON: a record count of 1e400', send: { from: 'GB', body: gb({ whole: (d) => d.replace('"recordCount": 2', '"recordCount": 1e400') }) }, expected: invalid },
  { name: 'JSON: a number beyond 2^53 where a boolean belongs', send: { from: 'GB', body: gb({ second: (r) => r.replace('"consent": true', '"consent": 123456789012345678901234567890') }) }, expected: rejects('invalid-type') },
  { name: 'JSON: a member twice in one record', send: { from: 'GB', body: gb({ second: (r) => r.replace('"name":', '"name": "Shadow Ltd", "name":') }) }, expected: rejects('repeated') },
  { name: 'JSON: a member twice in the envelope', send: { from: 'GB', body: gb({ whole: (d) => d.replace('"batch": {', '"batch": {"type": "SNAPSHOT", ') }) }, expected: invalid },
  { name: 'JSON: a lone surrogate in a name', send: { from: 'GB', body: gb({ second: (r) => r.replace('Lagan Valley', 'Lagan \\ud800 Valley') }) }, expected: rejects('invalid-value') },
  { name: 'JSON: a lone surrogate in a coded field', send: { from: 'GB', body: gb({ second: (r) => r.replace('"AEOF"', '"\\udfff"') }) }, expected: rejects('invalid-value') },
  { name: 'JSON: a lone surrogate in a member name', send: { from: 'GB', body: gb({ second: (r) => r.replace('"name":', '"\\ud800": 1, "name":') }) }, expected: rejects('invalid-value') },
  { name: 'JSON: a lone surrogate in the batch id', send: { from: 'GB', body: gb({ whole: (d) => d.replace('"id": "', '"id": "\\ud800') }) }, expected: invalid },
  { name: 'JSON: bytes that are not UTF-8', send: { from: 'GB', body: (b) => Buffer.concat([Buffer.from(gb()(b).split('Lagan')[0]!), Buffer.from([0xc3, 0x28]), Buffer.from(`Lagan${gb()(b).split('Lagan')[1]!}`)]) }, expected: invalid },
  { name: 'JSON: an overlong UTF-8 encoding of "/"', send: { from: 'GB', body: (b) => Buffer.concat([Buffer.from(gb()(b).split('Lagan')[0]!), Buffer.from([0xc0, 0xaf]), Buffer.from(`Lagan${gb()(b).split('Lagan')[1]!}`)]) }, expected: invalid },
  { name: 'JSON: a surrogate encoded in UTF-8 bytes (CESU)', send: { from: 'GB', body: (b) => Buffer.concat([Buffer.from(gb()(b).split('Lagan')[0]!), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from(`Lagan${gb()(b).split('Lagan')[1]!}`)]) }, expected: invalid },
  { name: 'JSON: an escaped NUL in a name', send: { from: 'GB', body: gb({ second: (r) => r.replace('Lagan Valley', 'Lagan\\u0000Valley') }) }, expected: rejects('control-character') },
  { name: 'JSON: an escaped BEL in a name', send: { from: 'GB', body: gb({ second: (r) => r.replace('Lagan Valley', 'Lagan\\u0007Valley') }) }, expected: rejects('control-character') },
  { name: 'JSON: a raw C1 control character (U+0085) in a name', send: { from: 'GB', body: gb({ second: (r) => r.replace('Lagan Valley', 'Lagan\u0085Valley') }) }, expected: rejects('control-character') },
  { name: 'JSON: a raw control character (U+0001) inside a string', send: { from: 'GB', body: gb({ second: (r) => r.replace('Lagan Valley', 'Lagan\u0001Valley') }) }, expected: invalid },
  { name: 'JSON: text after the document', send: { from: 'GB', body: gb({ whole: (d) => `${d} {"more": 1}` }) }, expected: invalid },
  { name: 'JSON: a document cut short', send: { from: 'GB', body: gb({ whole: (d) => d.slice(0, -20) }) }, expected: invalid },
  { name: 'JSON: markup in a name is kept as text', send: { from: 'GB', body: gb({ second: (r) => r.replace('Lagan Valley Foods Ltd', '<script>alert(1)</script><img src=x onerror=alert(1)>') }) }, expected: accepted },
  { name: 'JSON: a spreadsheet formula as a name is kept as text', send: { from: 'GB', body: gb({ second: (r) => r.replace('Lagan Valley Foods Ltd', '=HYPERLINK(\\"http://evil.example\\",\\"click\\")') }) }, expected: accepted },
  { name: 'JSON: sent as text/plain', send: { from: 'GB', body: gb(), contentType: 'text/plain' }, expected: { status: 415, slug: 'unsupported-media-type' } },
  { name: 'JSON: a charset other than UTF-8', send: { from: 'GB', body: gb(), contentType: 'application/json; charset=iso-8859-1' }, expected: { status: 415, slug: 'unsupported-media-type' } },
];

const csvCases: HostileCase[] = [
  { name: 'CSV: lines ending in a bare LF', send: { from: 'JP', body: jp({ whole: (d) => d.replaceAll('\r\n', '\n') }) }, expected: invalid },
  { name: 'CSV: a line ending in a bare CR', send: { from: 'JP', body: jp({ whole: (d) => d.replace('\r\nT,2', '\rT,2') }) }, expected: invalid },
  { name: 'CSV: a quote never closed', send: { from: 'JP', body: jp({ second: (l) => l.replace('Naniwa Express KK', '"Naniwa Express KK') }) }, expected: invalid },
  { name: 'CSV: a quote inside an unquoted field', send: { from: 'JP', body: jp({ second: (l) => l.replace('Naniwa Express KK', 'Naniwa "Express" KK') }) }, expected: invalid },
  // CR and LF are text inside quotes (FORMATS.md): the forged trailer is part of a name, and the real one still counts 2.
  { name: 'CSV: a quoted field hiding line ends and a forged trailer is one value', send: { from: 'JP', body: jp({ second: (l) => l.replace('Naniwa Express KK', '"Naniwa\r\nT,1\r\nKK"') }) }, expected: accepted },
  { name: 'CSV: a line with one field too many', send: { from: 'JP', body: jp({ second: (l) => `${l},extra` }) }, expected: invalid },
  { name: 'CSV: a blank line between records', send: { from: 'JP', body: jp({ second: (l) => `\r\n${l}` }) }, expected: invalid },
  { name: 'CSV: a trailer that disagrees with the lines', send: { from: 'JP', body: jp({ whole: (d) => d.replace('T,2', 'T,1') }) }, expected: invalid },
  { name: 'CSV: a NUL inside a field', send: { from: 'JP', body: jp({ second: (l) => l.replace('Naniwa Express KK', 'Naniwa\u0000Express') }) }, expected: rejects('control-character') },
  { name: 'CSV: a spreadsheet formula as a name is kept as text', send: { from: 'JP', body: jp({ second: (l) => l.replace('Naniwa Express KK', '"=cmd|\'/c calc\'!A1"') }) }, expected: accepted },
  { name: 'CSV: a byte-order mark of UTF-16', send: { from: 'JP', body: (b) => Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(jp()(b))]) }, expected: invalid },
];

let g: TestGateway;
beforeAll(async () => {
  g = await startTestGateway({ store: 'PostgreSQL', partners: { gb: gbPartner } });
}, 60_000);
afterAll(async () => {
  await g?.close();
});

describe.each([
  ['XML', xmlCases],
  ['JSON', jsonCases],
  ['CSV', csvCases],
])('hostile %s documents', (_syntax, cases) => {
  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    await runCase(g, c);
    // Nothing a document said reached the prototype every object shares.
    if ('polluted' in {}) throw new Error('Object.prototype was polluted');
  });
});
