/** Outbound rules on list items meet items as they are: an item that is no object fails the rule that would set a member on it, as it always has. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Operator } from '../../src/canonical/operator.ts';
import { loadFormats } from '../../src/translate/load-mappings.ts';
import { memberToPartnerRecord, memberToPartnerRecordSharing } from '../../src/translate/outbound.ts';
import { readDocument } from '../../src/translate/read-document.ts';

const formats = loadFormats();
const member = readDocument(formats.get('ctpat')!, readFileSync(new URL('../../fixtures/ctpat/sample/input.ndjson', import.meta.url))).batch.records[0]!;

describe('a GB item rule (mids: validFrom from the member) on an item that is no object', () => {
  it.each([['text', 'B'], ['null', null]])('fails on %s, both ways of making the record', (_kind, item) => {
    const odd = { ...structuredClone(member), mids: [{ mid: 'MXMAQFRO5CIU' }, item] } as unknown as Operator;
    expect(() => memberToPartnerRecord(formats.get('gb-aeo')!, odd)).toThrow(TypeError);
    expect(() => memberToPartnerRecordSharing(formats.get('gb-aeo')!, odd)).toThrow(TypeError);
  });
});
