/** C-TPAT members in each partner's format: FORMATS.md "Outbound", rule by rule. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Operator } from '../../src/canonical/operator.ts';
import { loadFormats } from '../../src/translate/load-mappings.ts';
import { eligibleMember, memberToPartnerRecord, membersToPartnerBatch, withdrawalRecord } from '../../src/translate/outbound.ts';
import { readDocument } from '../../src/translate/read-document.ts';
import { writeDocument } from '../../src/translate/write-document.ts';

const formats = loadFormats();
const format = (id: string) => formats.get(id)!;
const members = readDocument(format('ctpat'), readFileSync(new URL('../../fixtures/ctpat/sample/input.ndjson', import.meta.url))).batch.records;
const member = (account: string) => members.find((m) => m.key === account)!;
const partnerFormats = ['eu-aeo', 'gb-aeo', 'jp-aeo', 'kr-aeo', 'ca-pip', 'mx-oea'];
const envelope = (kind: 'SNAPSHOT' | 'DELTA' = 'SNAPSHOT') => ({ sender: 'US-CBP', receiver: 'XX', batchId: 'B', sequence: 1, kind, asOf: '2026-11-27T00:00:00Z', count: 0 });

function member0(patch: Partial<Operator> & { category?: string; level?: string; scac?: string }): Operator {
  const base = structuredClone(member('CT-0012345'));
  const { category, level, scac, ...rest } = patch;
  const out = { ...base, ...rest };
  if (category !== undefined) out.authorisation = { ...out.authorisation, category };
  if (level !== undefined) out.authorisation = { ...out.authorisation, level };
  if (scac !== undefined) out.carrier = { code: scac };
  return out;
}

describe('which members are sent', () => {
  it('only members with consent and a status other than applicant', () => {
    expect(members.filter(eligibleMember).map((m) => m.key)).toEqual(['CT-0012345', 'CT-0020001', 'CT-0030003']);
  });

  it("only business types the partner's registry entry lists, when it lists any", () => {
    const { batch, skipped } = membersToPartnerBatch(format('eu-aeo'), members, { gatewayId: 'US-CBP', sequence: 3, businessTypes: ['EXPORTER', 'FOREIGN_MANUFACTURER'] });
    expect(batch.records.map((r) => r.key)).toEqual(['US-CTPAT-CT-0012345', 'US-CTPAT-CT-0030003']);
    expect(skipped).toBe(3);
  });

  it('addresses the document from the gateway to the partner with the given sequence', () => {
    const { batch } = membersToPartnerBatch(format('mx-oea'), members, { gatewayId: 'US-CBP-TEST', sequence: 12, asOf: '2026-11-27T06:00:00Z' });
    expect(batch.envelope).toMatchObject({ sender: 'US-CBP-TEST', receiver: 'MX', sequence: 12, kind: 'SNAPSHOT', asOf: '2026-11-27T06:00:00Z', count: 3 });
    expect(batch.envelope!.batchId).toMatch(/^[A-Za-z0-9._:-]{1,64}$/);
  });
});

describe.each(partnerFormats)('every member written to %s', (id) => {
  it('carries US-CTPAT-<account> as the record key and the account as the national identifier', () => {
    const { batch } = membersToPartnerBatch(format(id), members, { gatewayId: 'US-CBP', sequence: 1 });
    const written = writeDocument(format(id), batch);
    expect(written.problems).toEqual([]);
    expect(written.written).toBe(3);
    expect(written.text).toContain('US-CTPAT-CT-0012345');
    for (const record of batch.records) {
      expect(record.key).toBe(`US-CTPAT-${record.identifier.value}`);
      expect(record.identifier).toEqual({ scheme: 'ctpat', value: record.key.replace('US-CTPAT-', '') });
    }
  });

  it('maps the C-TPAT status to the partner code for VALID, SUSPENDED and REVOKED, dated statusDate', () => {
    const statuses = (['active', 'suspended', 'revoked'] as const).map((code) => memberToPartnerRecord(format(id), member0({ status: { code, effective: '2024-02-29' } })));
    for (const [i, code] of (['active', 'suspended', 'revoked'] as const).entries()) expect(statuses[i]!.status).toEqual({ code, effective: '2024-02-29' });
    const written = writeDocument(format(id), { envelope: envelope(), records: statuses });
    expect(written.problems).toEqual([]);
  });
});

describe('partner-specific outbound rules', () => {
  it('EU: TIN scheme CTPAT, AuthorisationType CTPAT', () => {
    const text = writeDocument(format('eu-aeo'), membersToPartnerBatch(format('eu-aeo'), [member('CT-0012345')], { gatewayId: 'US-CBP', sequence: 1 }).batch).text;
    expect(text).toContain('<TIN scheme="CTPAT">CT-0012345</TIN>');
    expect(text).toContain('<AuthorisationType>CTPAT</AuthorisationType>');
    expect(text).toContain('partner="US-CBP" receiver="EU"');
  });

  it('GB: aeoType CTPAT; MIDs valid from certifiedOn, validTo null', () => {
    const record = memberToPartnerRecord(format('gb-aeo'), member('CT-0030003'));
    expect(record.authorisation.type).toBe('CTPAT');
    expect(record.mids).toEqual([{ mid: 'MXMAQFRO5CIU', validFrom: '2016-09-09' }]);
    const text = writeDocument(format('gb-aeo'), { envelope: envelope(), records: [record] }).text;
    expect(text).toContain('"mids":[{"mid":"MXMAQFRO5CIU","validFrom":"2016-09-09","validTo":null}]');
  });

  it.each([
    ['EXPORTER', 'EXPORTER'], ['IMPORTER', 'IMPORTER'], ['CUSTOMS_BROKER', 'BROKER'], ['FOREIGN_MANUFACTURER', 'MANUFACTURER'], ['MPTO', 'WAREHOUSE'],
    ['HIGHWAY_CARRIER', 'LOGISTICS'], ['RAIL_CARRIER', 'LOGISTICS'], ['SEA_CARRIER', 'LOGISTICS'], ['AIR_CARRIER', 'LOGISTICS'], ['MX_LONG_HAUL_CARRIER', 'LOGISTICS'], ['CONSOLIDATOR', 'LOGISTICS'], ['THIRD_PARTY_LOGISTICS', 'LOGISTICS'],
  ])('JP and KR: business type %s is category %s', (businessType, category) => {
    for (const id of ['jp-aeo', 'kr-aeo']) expect(memberToPartnerRecord(format(id), member0({ category: businessType })).authorisation.category).toBe(category);
  });

  it.each([
    ['CERTIFIED', 'active', 'A'], ['CERTIFIED_VALIDATED', 'active', 'AA'], ['TIER3', 'active', 'AAA'], [undefined, 'suspended', 'A'], [undefined, 'revoked', 'A'],
  ] as const)('KR: tier %s (%s) is grade %s; a member first seen suspended or removed gets A', (level, code, grade) => {
    const base = member0({ status: { code, effective: '2025-01-01' } });
    if (level) base.authorisation = { ...base.authorisation, level };
    else delete base.authorisation.level;
    expect(memberToPartnerRecord(format('kr-aeo'), base).authorisation.level).toBe(grade);
  });

  it('KR nameKo null and JP nameJa an empty field', () => {
    const kr = writeDocument(format('kr-aeo'), membersToPartnerBatch(format('kr-aeo'), [member('CT-0012345')], { gatewayId: 'US-CBP', sequence: 1 }).batch).text;
    expect(kr).toContain('"nameKo":null');
    const jp = writeDocument(format('jp-aeo'), membersToPartnerBatch(format('jp-aeo'), [member('CT-0012345')], { gatewayId: 'US-CBP', sequence: 1 }).batch).text;
    expect(jp).toContain('D,CT-0012345,EXPORTER,US-CTPAT-CT-0012345,Great Lakes Outdoor Supply LLC,,1200 Commerce Dr,');
  });

  it.each([
    ['IMPORTER', 'IMPORTER_EXPORTER'], ['EXPORTER', 'IMPORTER_EXPORTER'], ['HIGHWAY_CARRIER', 'HIGHWAY_CARRIER'], ['MX_LONG_HAUL_CARRIER', 'HIGHWAY_CARRIER'], ['RAIL_CARRIER', 'RAIL_CARRIER'],
    ['SEA_CARRIER', 'MARINE_CARRIER'], ['AIR_CARRIER', 'AIR_CARRIER'], ['CUSTOMS_BROKER', 'CUSTOMS_BROKER'], ['CONSOLIDATOR', 'FREIGHT_FORWARDER'], ['THIRD_PARTY_LOGISTICS', 'FREIGHT_FORWARDER'],
    ['MPTO', 'WAREHOUSE'], ['FOREIGN_MANUFACTURER', 'IMPORTER_EXPORTER'],
  ])('CA: business type %s is line of business %s', (businessType, line) => {
    expect(memberToPartnerRecord(format('ca-pip'), member0({ category: businessType })).authorisation.category).toBe(line);
  });

  it('CA: a carrier sends its SCAC as carrierCode, a non-carrier sends none, a carrier without one is not writable', () => {
    const carrier = memberToPartnerRecord(format('ca-pip'), member0({ category: 'SEA_CARRIER', scac: 'MAEU' }));
    expect(carrier.carrier).toEqual({ code: 'MAEU' });
    const nonCarrier = memberToPartnerRecord(format('ca-pip'), member0({ category: 'IMPORTER', scac: 'ABCD' }));
    expect(nonCarrier.carrier?.code).toBeUndefined();
    const noScac = memberToPartnerRecord(format('ca-pip'), member0({ category: 'AIR_CARRIER' }));
    const written = writeDocument(format('ca-pip'), { envelope: envelope(), records: [carrier, nonCarrier, noScac] });
    expect(written.written).toBe(2);
    expect(written.problems).toEqual([expect.objectContaining({ index: 2, key: 'US-CTPAT-CT-0012345', code: 'rule-violated' })]);
  });

  it.each([
    ['IMPORTER', 'IMPORTADOR_EXPORTADOR'], ['EXPORTER', 'IMPORTADOR_EXPORTADOR'], ['FOREIGN_MANUFACTURER', 'IMPORTADOR_EXPORTADOR'], ['HIGHWAY_CARRIER', 'AUTOTRANSPORTISTA'], ['MX_LONG_HAUL_CARRIER', 'AUTOTRANSPORTISTA'],
    ['CUSTOMS_BROKER', 'AGENTE_ADUANAL'], ['MPTO', 'RECINTO_FISCALIZADO'], ['RAIL_CARRIER', 'CONTROLADORA'], ['SEA_CARRIER', 'CONTROLADORA'], ['AIR_CARRIER', 'CONTROLADORA'], ['CONSOLIDATOR', 'CONTROLADORA'], ['THIRD_PARTY_LOGISTICS', 'CONTROLADORA'],
  ])('MX: business type %s is Modalidad %s', (businessType, modalidad) => {
    expect(memberToPartnerRecord(format('mx-oea'), member0({ category: businessType })).authorisation.category).toBe(modalidad);
  });

  it.each([
    ['1200 Commerce Dr', 'Commerce Dr', '1200'],
    ['Calle Industrial 5', 'Calle Industrial', '5'],
    ['Commerce Drive', 'Commerce Drive', 'S/N'],
  ])('MX: street %j is Calle %j and NumeroExterior %j', (street, calle, numero) => {
    const record = memberToPartnerRecord(format('mx-oea'), member0({ address: { street, city: 'Toledo', region: 'OH', postalCode: '43604', country: 'US' } }));
    expect(record.address).toMatchObject({ street: calle, number: numero });
  });
});

describe('withdrawal: the last record of a member that stops being eligible', () => {
  it.each(['eu-aeo', 'gb-aeo', 'mx-oea'])('%s: consent false, the address left out', (id) => {
    const record = withdrawalRecord(format(id), memberToPartnerRecord(format(id), member('CT-0012345')), '2026-11-27');
    expect(record.consent?.given).toBe(false);
    expect(record.address).toBeUndefined();
    const written = writeDocument(format(id), { envelope: envelope('DELTA'), records: [record] });
    expect(written.problems).toEqual([]);
  });

  it.each(['jp-aeo', 'kr-aeo', 'ca-pip'])('%s: status REVOKED dated the day of the withdrawal', (id) => {
    const record = withdrawalRecord(format(id), memberToPartnerRecord(format(id), member('CT-0012345')), '2026-11-27');
    expect(record.status).toEqual({ code: 'revoked', effective: '2026-11-27' });
    const written = writeDocument(format(id), { envelope: envelope('DELTA'), records: [record] });
    expect(written.problems).toEqual([]);
    expect(written.text).toContain('REVOKED');
  });
});
