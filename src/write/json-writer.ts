/** The syntax-neutral tree to JSON: the envelope's members, then the records array. */
import type { TreeObject, TreeValue } from '../parse/tree.ts';
import { writeWhole, type SyntaxWriter } from './syntax-writer.ts';

/** JSON, record by record: members in mapping order, records one per line for readable diffs. */
export function jsonWriter(layout: { records: string }): SyntaxWriter {
  const recordsMember = `  ${JSON.stringify(layout.records)}: [`;
  return {
    // The comma goes before every record but the first, so that each record's text stands alone.
    record: (node, index, out) => void out.push(index === 0 ? '\n    ' : ',\n    ', JSON.stringify(node)),
    separator: (index) => (index === 0 ? '\n    ' : ',\n    '),
    text: (node) => JSON.stringify(node),
    head(envelope) {
      let out = '{\n';
      for (const key of Object.keys(envelope)) out += `  ${JSON.stringify(key)}: ${JSON.stringify(envelope[key])},\n`;
      return out + recordsMember;
    },
    tail: (_envelope, count) => `${count > 0 ? '\n  ' : ''}]\n}\n`,
  };
}

/** Text JSON.stringify writes unchanged between quotes: no quote, backslash, control character or surrogate. */
// eslint-disable-next-line no-control-regex -- control characters are what JSON.stringify escapes
const needsEscapes = /["\\\u0000-\u001f\ud800-\udfff]/;

/** JSON.stringify of one value; plain text is quoted here rather than by a native call per value. */
export const jsonValue = (value: unknown): string => (typeof value === 'string' && !needsEscapes.test(value) ? `"${value}"` : (JSON.stringify(value) as string));

/** NDJSON, record by record: one record a line, LF; no envelope. */
export const ndjsonWriter: SyntaxWriter = {
  record: (node, _index, out) => void out.push(JSON.stringify(node), '\n'),
  separator: () => '',
  text: (node) => `${JSON.stringify(node)}\n`,
  head: () => '',
  tail: () => '',
};

/** A whole JSON document. */
export function writeJson(layout: { records: string }, envelope: TreeObject, records: readonly TreeValue[]): string {
  return writeWhole(jsonWriter(layout), envelope, records);
}

/** A whole NDJSON document. */
export function writeNdjson(records: readonly TreeValue[]): string {
  return writeWhole(ndjsonWriter, {}, records);
}
