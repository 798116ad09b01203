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
export function writeFields(fields: readonly CompiledField[], source: unknown, textual: boolean, node: TreeObject, at: readonly PathSegment[] = []): FieldIssue[] {
  const issues: FieldIssue[] = [];
  writeFieldsInto(fields, source, textual, node, at, issues);
  return issues;
}

function writeFieldsInto(fields: readonly CompiledField[], source: unknown, textual: boolean, node: TreeObject, at: readonly PathSegment[], issues: FieldIssue[]): void {
  for (const field of fields) writeField(field, source, textual, node, at, issues);
}

/** Where a field is, built only for a fault or a nested walk: most fields of most records have neither. */
const whereOf = (at: readonly PathSegment[], field: CompiledField): PathSegment[] => [...at, ...field.path];

function problem(issues: FieldIssue[], at: readonly PathSegment[], field: CompiledField, code: RecordIssueCode, message: (where: PathSegment[]) => string): void {
  const where = whereOf(at, field);
  issues.push({ path: where, code, message: message(where) });
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

/** The first code whose assignments all hold of `source`; a plain loop, as this runs for every coded field of every record. */
function firstHolding(codes: NonNullable<CompiledField['codesOut']>, source: unknown): (typeof codes)[number] | undefined {
  next: for (const entry of codes) {
    for (const [path, v] of entry[1]) if (getAt(source, path) !== v) continue next;
    return entry;
  }
  return undefined;
}

function writeField(field: CompiledField, source: unknown, textual: boolean, node: TreeObject, at: readonly PathSegment[], issues: FieldIssue[]): void {
  if (field.kind === 'const') return;
  const value = field.codesOut ? undefined : getAt(source, field.canonical);

  if (field.kind === 'list') {
    const items = Array.isArray(value) ? (value as unknown[]) : [];
    const written: TreeValue[] = [];
    const where = items.length > 0 ? whereOf(at, field) : [];
    for (let i = 0; i < items.length; i++) {
      const itemNode: TreeObject = {};
      writeFieldsInto(field.children!, items[i], textual, itemNode, [...where, i], issues);
      // An item that is only text (a MID in a list of strings) is written as that text.
      const keys = Object.keys(itemNode);
      written.push(keys.length === 1 && keys[0] === TEXT ? itemNode[TEXT]! : itemNode);
    }
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
      if (!field.optional) problem(issues, at, field, 'required', (where) => `${formatPath(where)} is required`);
      else if (!textual) place(node, field.path, null);
      return;
    }
    const sub: TreeObject = {};
    writeFieldsInto(field.children!, value, textual, sub, whereOf(at, field), issues);
    place(node, field.path, sub);
    return;
  }
  let out: string | number | boolean;
  if (field.codesOut) {
    const match = firstHolding(field.codesOut, source);
    if (!match) {
      const codesOut = field.codesOut;
      if (field.optional && codesOut[0]![1].every(([path]) => getAt(source, path) === undefined)) {
        if (!textual) place(node, field.path, null);
        return;
      }
      const shown = codesOut[0]![1].map(([path]) => `${path.join('.')}=${String(getAt(source, path))}`).join(', ');
      return problem(issues, at, field, 'not-writable', (where) => `${formatPath(where)}: no code of this format stands for ${shown}`);
    }
    out = field.type.write(match[0]);
  } else {
    if (value === undefined || value === null) {
      if (!field.optional) return problem(issues, at, field, 'required', (where) => `${formatPath(where)} is required`);
      if (!textual) place(node, field.path, null);
      return;
    }
    out = field.type.write(value as string | number | boolean);
  }
  place(node, field.path, textual ? String(out) : out);
}
