/**
 * A canonical record to the tree of one format: the same compiled rules as reading,
 * walked the other way. What cannot be written (a required field missing, a value no
 * code stands for) is reported as data and the record is left out.
 */
import type { RecordIssueCode } from '../errors.ts';
import { formatPath, isObject, TEXT, type PathSegment, type TreeObject, type TreeValue } from '../parse/tree.ts';
import { getAt } from './canonical-path.ts';
import type { CompiledField } from './compile.ts';
import type { FieldIssue } from './read-record.ts';

/** Writes `fields` of canonical `source` into `node`; returns the faults found. */
export function writeFields(fields: readonly CompiledField[], source: unknown, textual: boolean, node: TreeObject, at: PathSegment[] = []): FieldIssue[] {
  const issues: FieldIssue[] = [];
  for (const field of fields) writeField(field, source, textual, node, at, issues);
  return issues;
}

/** Sets a value at a format path; text of an element that also has attributes goes under `#text`. */
function place(node: TreeObject, path: readonly string[], value: TreeValue): void {
  if (path.length === 0) {
    // A flat group (`address` over the record's own members) merges; anything else is the node's text.
    if (isObject(value)) Object.assign(node, value);
    else node[TEXT] = value;
    return;
  }
  let cur = node;
  for (let i = 0; i < path.length - 1; i++) {
    const segment = path[i]!;
    const next = cur[segment];
    if (isObject(next)) cur = next;
    else {
      const created: TreeObject = next === undefined || next === null ? {} : { [TEXT]: next };
      cur[segment] = created;
      cur = created;
    }
  }
  const last = path[path.length - 1]!;
  const existing = cur[last];
  if (isObject(existing) && !isObject(value) && !Array.isArray(value) && value !== null) existing[TEXT] = value;
  else if (isObject(existing) && isObject(value)) Object.assign(existing, value);
  else cur[last] = value;
}

function writeField(field: CompiledField, source: unknown, textual: boolean, node: TreeObject, at: PathSegment[], issues: FieldIssue[]): void {
  if (field.kind === 'const') return;
  const where = [...at, ...field.path];
  const problem = (code: RecordIssueCode, message: string) => void issues.push({ path: where, code, message });
  const value = field.codesOut ? undefined : getAt(source, field.canonical);

  if (field.kind === 'list') {
    const items = Array.isArray(value) ? (value as unknown[]) : [];
    const written: TreeValue[] = [];
    items.forEach((item, i) => {
      const itemNode: TreeObject = {};
      issues.push(...writeFields(field.children!, item, textual, itemNode, [...where, i]));
      // An item that is only text (a MID in a list of strings) is written as that text.
      const keys = Object.keys(itemNode);
      written.push(keys.length === 1 && keys[0] === TEXT ? itemNode[TEXT]! : itemNode);
    });
    if (field.split !== undefined) {
      if (written.length > 0) place(node, field.path, written.map(String).join(field.split));
      else if (!textual) place(node, field.path, null);
    } else if (written.length > 0 || !textual) {
      place(node, field.path, written);
    }
    return;
  }
  if (field.kind === 'object') {
    if (value === undefined || value === null) {
      if (!field.optional) problem('required', `${formatPath(where)} is required`);
      else if (!textual) place(node, field.path, null);
      return;
    }
    const sub: TreeObject = {};
    issues.push(...writeFields(field.children!, value, textual, sub, where));
    place(node, field.path, sub);
    return;
  }
  let out: string | number | boolean;
  if (field.codesOut) {
    const match = field.codesOut.find(([, assignments]) => assignments.every(([path, v]) => getAt(source, path) === v));
    if (!match) {
      const shown = field.codesOut[0]![1].map(([path]) => `${path.join('.')}=${String(getAt(source, path))}`).join(', ');
      if (field.optional && field.codesOut[0]![1].every(([path]) => getAt(source, path) === undefined)) {
        if (!textual) place(node, field.path, null);
        return;
      }
      return problem('not-writable', `${formatPath(where)}: no code of this format stands for ${shown}`);
    }
    out = field.type.write(match[0]);
  } else {
    if (value === undefined || value === null) {
      if (!field.optional) return problem('required', `${formatPath(where)} is required`);
      if (!textual) place(node, field.path, null);
      return;
    }
    out = field.type.write(value as string | number | boolean);
  }
  place(node, field.path, textual ? String(out) : out);
}
