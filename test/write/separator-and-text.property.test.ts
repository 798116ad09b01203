/**
 * Each syntax writer's record is its separator then the record's own text: planning an
 * outbound document digests the text alone and writes the two (deliver/plan-document.ts),
 * so a record's text must not depend on where it stands.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TEXT, type TreeObject, type TreeValue } from '../../src/parse/tree.ts';
import { csvWriter } from '../../src/write/csv-writer.ts';
import { jsonWriter, ndjsonWriter } from '../../src/write/json-writer.ts';
import type { SyntaxWriter } from '../../src/write/syntax-writer.ts';
import { xmlWriter } from '../../src/write/xml-writer.ts';

const scalar = fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom('a & b <c>', '"q", r', 'cr\rlf\n', '株式会社', 'lone \ud800'), fc.integer(), fc.boolean());
const { tree } = fc.letrec<{ tree: TreeValue; object: TreeObject }>((tie) => ({
  tree: fc.oneof({ depthSize: 'small' }, scalar, fc.constant(null), tie('object'), fc.array(tie('tree'), { maxLength: 3 })),
  object: fc
    .array(fc.oneof(fc.tuple(fc.constantFrom('id', 'name', 'city', 'mids', 'Status'), tie('tree')), fc.tuple(fc.constantFrom('@code', '@x'), scalar), fc.tuple(fc.constant(TEXT), scalar)), { maxLength: 5 })
    .map((entries) => Object.fromEntries(entries) as TreeObject),
}));

const writers: [string, SyntaxWriter][] = [
  ['XML', xmlWriter({ namespace: 'urn:x', root: 'Batch', record: 'Operator' })],
  ['JSON', jsonWriter({ records: 'records' })],
  ['NDJSON', ndjsonWriter],
  ['CSV', csvWriter({ header: { kind: 'H', fields: ['a'] }, record: { kind: 'D', fields: ['id', 'name', 'city', 'mids'] }, trailer: { kind: 'T', fields: ['count'] } })],
];

describe.each(writers)('the %s writer', (_name, writer) => {
  it('pushes, for a record at any index, its separator and then its own text', () => {
    fc.assert(
      fc.property(tree, fc.nat({ max: 3 }), (node, index) => {
        const out: string[] = [];
        writer.record(node, index, out);
        expect(out.join('')).toBe(writer.separator(index) + writer.text(node));
      }),
      { numRuns: 300 },
    );
  });
});
