/**
 * A partner record that shares with its member what the outbound rules leave alone is the
 * record the deep copy gave (members in the same order), and making it, or a withdrawal
 * from it, changes nothing in the member.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Operator } from '../../src/canonical/operator.ts';
import { loadFormats } from '../../src/translate/load-mappings.ts';
import { memberToPartnerRecord, memberToPartnerRecordSharing, withdrawalRecord } from '../../src/translate/outbound.ts';
import { readDocument } from '../../src/translate/read-document.ts';
import { applyEdits } from '../support/record-edits.ts';

const formats = loadFormats();
const members = readDocument(formats.get('ctpat')!, readFileSync(new URL('../../fixtures/ctpat/sample/input.ndjson', import.meta.url))).batch.records;

// Values the rules meet: codes they know and do not, streets with and without numbers, containers where text was, text where containers were.
const oddValue = fc.oneof(
  fc.constant(null),
  fc.constant(undefined),
  fc.string({ maxLength: 8 }),
  fc.constantFrom('HIGHWAY_CARRIER', 'SEA_CARRIER', 'IMPORTER', 'MPTO', 'TIER3', 'CERTIFIED', '12 Main St', 'S/N', 'MAEU', 'maeu', '2012-04-02'),
  fc.constant({}),
  fc.constant([]),
  fc.constant([{ mid: 'MXMAQFRO5CIU' }, 'x']),
  fc.constant({ street: '1 A St', city: 'X' }),
);

describe.each([...formats.values()].filter((f) => f.mapping.outbound).map((f) => f.id))('a %s record sharing with its member', (id) => {
  const format = formats.get(id)!;
  it('is the deep copy’s record, and leaves the member alone', () => {
    const edit = fc.tuple(fc.nat(), fc.nat(), oddValue);
    fc.assert(
      fc.property(fc.nat({ max: members.length - 1 }), fc.array(edit, { maxLength: 4 }), (which, edits) => {
        const member = structuredClone(members[which]!) as unknown as Record<string, unknown>;
        applyEdits(member, edits);
        const before = JSON.stringify(member);
        let deep: string | Error;
        let shared: string | Error;
        try {
          deep = JSON.stringify(memberToPartnerRecord(format, member as unknown as Operator));
        } catch (error) {
          deep = error as Error;
        }
        try {
          const record = memberToPartnerRecordSharing(format, member as unknown as Operator);
          shared = JSON.stringify(record);
          withdrawalRecord(format, record, '2026-11-30');
          expect(JSON.stringify(record)).toBe(shared);
        } catch (error) {
          shared = error as Error;
        }
        // A member too broken for the rules fails alike both ways.
        if (deep instanceof Error) expect(shared).toBeInstanceOf(Error);
        else expect(shared).toBe(deep);
        expect(JSON.stringify(member)).toBe(before);
      }),
      { numRuns: 500 },
    );
  });
});
