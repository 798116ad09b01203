/** The syntax-neutral tree to JSON: the envelope's members, then the records array. */
import type { TreeObject, TreeValue } from '../parse/tree.ts';

/** A whole document, members in mapping order, records one per line for readable diffs. */
export function writeJson(layout: { records: string }, envelope: TreeObject, records: readonly TreeValue[]): string {
  const head = Object.entries(envelope).map(([k, v]) => `  ${JSON.stringify(k)}: ${JSON.stringify(v)}`);
  const body = records.map((r) => `    ${JSON.stringify(r)}`).join(',\n');
  head.push(`  ${JSON.stringify(layout.records)}: [${records.length > 0 ? `\n${body}\n  ` : ''}]`);
  return `{\n${head.join(',\n')}\n}\n`;
}

/** NDJSON: one record a line, LF. */
export function writeNdjson(records: readonly TreeValue[]): string {
  return records.map((r) => `${JSON.stringify(r)}\n`).join('');
}
