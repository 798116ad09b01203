/**
 * Nested objects of a record are made with room for the members later fields are certain
 * to store (read-record.ts `followersOf`, canonical-path.ts `storeCode`), as undefined
 * until those fields store them. That is only right if, in every record that reads well,
 * every one of them is stored: no record or envelope that reads without a fault may keep
 * an undefined member, whatever members the document left out or gave the wrong kind of
 * value. The order of members is held to the old one by the golden fixtures and the
 * round trips.
 */
import { readdirSync, readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { TreeValue } from '../../src/parse/tree.ts';
import { loadFormats } from '../../src/translate/load-mappings.ts';
import { fieldsReader, readFields, type FieldIssue } from '../../src/translate/read-record.ts';
import { applyEdits, type RecordEdit } from '../support/record-edits.ts';

const formats = [...loadFormats().values()];

/** The record trees and the envelope of a format's sample document, as its reader hands them on. */
function sampleTrees(id: string): { records: TreeValue[]; envelope: TreeValue } {
  const format = formats.find((f) => f.id === id)!;
  const dir = new URL(`../../fixtures/${id}/sample/`, import.meta.url);
  const input = readdirSync(dir).find((f) => f.startsWith('input.'))!;
  const records: TreeValue[] = [];
  const reader = format.reader(({ node }) => records.push(node));
  reader.write(readFileSync(new URL(input, dir)));
  return { records, envelope: reader.end().envelope };
}

function undefinedMember(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  return Object.values(value).some((member) => member === undefined || undefinedMember(member));
}

const replacement = fc.constantFrom<unknown>('', 'x', 'VALID', 'true', '2020-01-01', 1, true, null, [], {}, ['a'], { '#text': 'x' });
const edits = fc.array(fc.tuple(fc.nat(), fc.nat(), replacement), { maxLength: 3 }) as fc.Arbitrary<RecordEdit[]>;

describe('room made for later members', () => {
  for (const format of formats) {
    const { records, envelope } = sampleTrees(format.id);
    const controlFree = format.mapping.syntax === 'xml';
    it(`is always filled in a ${format.id} record or envelope that reads well`, () => {
      const read = fieldsReader(format.recordFields, format.textual, controlFree);
      fc.assert(
        fc.property(fc.nat(), edits, fc.boolean(), (pick, chosen, ofEnvelope) => {
          const tree = structuredClone(ofEnvelope ? envelope : records[pick % records.length]!) as Record<string, unknown>;
          applyEdits(tree, chosen);
          const out: Record<string, unknown> = {};
          const issues: FieldIssue[] = [];
          if (ofEnvelope) readFields(format.envelopeFields, tree as TreeValue, format.textual, out, issues);
          else read(tree as TreeValue, out, issues);
          if (issues.length === 0) expect(undefinedMember(out)).toBe(false);
        }),
        { numRuns: 600 },
      );
    });
  }
});
