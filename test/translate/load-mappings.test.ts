/** A bad mapping stops the load, naming the file and the field; never a request. */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../src/errors.ts';
import { defaultMappingsDir, loadFormats, loadMappingFile } from '../../src/translate/load-mappings.ts';

const original = readFileSync(join(defaultMappingsDir, 'gb-aeo.yaml'), 'utf8');

function loadVariant(text: string, name = 'gb-aeo.yaml') {
  const dir = mkdtempSync(join(tmpdir(), 'mappings-'));
  const file = join(dir, name);
  writeFileSync(file, text);
  return () => loadMappingFile(file);
}

describe('loading mappings', () => {
  it('loads the seven shipped formats', () => {
    expect([...loadFormats().keys()].sort()).toEqual(['ca-pip', 'ctpat', 'eu-aeo', 'gb-aeo', 'jp-aeo', 'kr-aeo', 'mx-oea']);
  });

  it.each([
    ['an unknown value type', original.replace('type: timestamp', 'type: timestampz'), /gb-aeo\.yaml: envelope\.asOf\.type: /],
    ['an unknown identifier rule', original.replace('check: eori-gb', 'check: eori-uk'), /gb-aeo\.yaml: fields\.identifier\.value\.check: /],
    ['an unknown member in a rule', original.replace('check: eori-gb', 'check: eori-gb, trim: true'), /gb-aeo\.yaml: fields\.identifier\.value: Unrecognized key: "trim"/],
    ['an unknown outbound transform', original.replace('key: { template: "US-CTPAT-{key}" }', 'key: { from: key, transform: reverse }'), /gb-aeo\.yaml: outbound\.set\.key\.transform: /],
    ['a pattern that is not a regular expression', original.replace('pattern: "[A-Z]{2}"', 'pattern: "[A-Z"'), /gb-aeo\.yaml: fields\.address\.country: pattern is not a valid regular expression/],
    ['no record key', original.replace('  key: { path: authorisationNumber, check: gb-aeo-authorisation }\n', ''), /gb-aeo\.yaml: fields must map the record key/],
    ['a field without a path', original.replace('name.legal: name', 'name.legal: { optional: true }'), /gb-aeo\.yaml: fields\.name\.legal: path is required/],
    ['a duplicate YAML key', original.replace('  name.legal: name\n', '  name.legal: name\n  name.legal: name\n'), /gb-aeo\.yaml: .*[Mm]ap keys must be unique/],
    ['a json syntax without its layout', original.replace('json:\n  records: records\n', ''), /gb-aeo\.yaml: syntax json needs a "json" section/],
  ])('refuses %s, naming file and field', (_, text, message) => {
    const load = loadVariant(text);
    expect(load).toThrow(message);
    expect(() => load()).toThrow(expect.objectContaining({ code: 'mapping-invalid' }));
    expect(load).toThrow(GatewayError);
  });

  it('refuses a mapping whose file name is not its format id', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mappings-'));
    writeFileSync(join(dir, 'uk.yaml'), original);
    expect(() => loadFormats(dir)).toThrow(/uk\.yaml: format "gb-aeo" must live in gb-aeo\.yaml/);
  });

  it('adding a partner is adding a file: a new format loads and translates with no code', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mappings-'));
    writeFileSync(join(dir, 'nz-ses.yaml'), original.replace('format: gb-aeo', 'format: nz-ses').replace('partner: GB', 'partner: NZ').replace('check: eori-gb', 'check: opaque-key').replace('check: gb-aeo-authorisation', 'check: opaque-key').replace(/rules:\n( {2}.*\n)+/, ''));
    const nz = loadFormats(dir).get('nz-ses')!;
    const { readDocument } = await import('../../src/translate/read-document.ts');
    const doc = JSON.stringify({ batch: { id: 'NZ-1', sequence: 1, type: 'SNAPSHOT', asOf: '2026-11-27T00:00:00Z', recordCount: 1 }, records: [{ eori: 'NZ123', aeoType: 'AEOS', authorisationNumber: 'SES-1', name: 'Kiwi Exports Ltd', status: 'VALID', statusEffective: '2020-01-01', consent: true, mids: [] }] });
    const { batch, rejections } = readDocument(nz, doc);
    expect(rejections).toEqual([]);
    expect(batch.records[0]).toMatchObject({ key: 'SES-1', name: { legal: 'Kiwi Exports Ltd' }, status: { code: 'active' } });
  });
});
