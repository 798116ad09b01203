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
function placeAt(node: TreeObject, path: readonly string[], value: TreeValue): void {
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

/**
 * A field's canonical value and its place in the format, as functions of their own with
 * the member names written in (as JSON string literals), made once per compiled field:
 * V8 then keeps one inline cache per name, where `getAt` and `placeAt`, shared by every
 * field, see every name and every shape and fall back to their slowest, megamorphic
 * loads and stores (canonical-path.ts `setterAt` does the same for reading).
 */
interface Access {
  get: (source: unknown) => unknown;
  put: (node: TreeObject, value: TreeValue) => void;
  /** `codesOut` with each assignment's path as a getter. */
  codes: [code: string, assignments: [get: (source: unknown) => unknown, value: string][]][] | undefined;
}

const accesses = new WeakMap<CompiledField, Access>();

function accessOf(field: CompiledField): Access {
  let access = accesses.get(field);
  if (access === undefined) {
    access = {
      get: getterOf(field.canonical),
      put: placerOf(field.path),
      codes: field.codesOut?.map(([code, assignments]) => [code, assignments.map(([path, value]) => [getterOf(path), value])]),
    };
    accesses.set(field, access);
  }
  return access;
}

const getters = new Map<string, (source: unknown) => unknown>();

/** `getAt` for one fixed path, as a function of its own; shared by fields with the same path. */
export function getterOf(path: readonly string[]): (source: unknown) => unknown {
  const key = JSON.stringify(path);
  let get = getters.get(key);
  if (get === undefined) {
    if (path.length === 0) get = (source) => source;
    else {
      const body = ['let cur = root;'];
      for (const segment of path) body.push("if (typeof cur !== 'object' || cur === null) return undefined;", `cur = cur[${JSON.stringify(segment)}];`);
      body.push('return cur;');
      // Generated from JSON string literals only: a mapping cannot put code in it.
      get = new Function('root', body.join('\n')) as (source: unknown) => unknown;
    }
    getters.set(key, get);
  }
  return get;
}

/** `placeAt` for one fixed path, written out the same way. */
function placerOf(path: readonly string[]): (node: TreeObject, value: TreeValue) => void {
  if (path.length === 0) return (node, value) => placeAt(node, path, value);
  const names = path.map((segment) => JSON.stringify(segment));
  const last = names.pop()!;
  const text = JSON.stringify(TEXT);
  const body = ['let cur = node, next;'];
  for (const name of names) body.push(`next = cur[${name}];`, `if (isObject(next)) cur = next;`, `else { const created = next === undefined || next === null ? {} : { [${text}]: next }; cur[${name}] = created; cur = created; }`);
  body.push(
    `const existing = cur[${last}];`,
    `if (isObject(existing) && !isObject(value) && !Array.isArray(value) && value !== null) existing[${text}] = value;`,
    'else if (isObject(existing) && isObject(value)) Object.assign(existing, value);',
    `else cur[${last}] = value;`,
  );
  // Generated from JSON string literals only: a mapping cannot put code in it.
  return new Function('isObject', `return function place(node, value) {\n${body.join('\n')}\n};`)(isObject) as (node: TreeObject, value: TreeValue) => void;
}

/** The first code whose assignments all hold of `source`; a plain loop, as this runs for every coded field of every record. */
function firstHolding(codes: NonNullable<Access['codes']>, source: unknown): string | undefined {
  next: for (const [code, assignments] of codes) {
    for (const [get, v] of assignments) if (get(source) !== v) continue next;
    return code;
  }
  return undefined;
}

function writeField(field: CompiledField, source: unknown, textual: boolean, node: TreeObject, at: readonly PathSegment[], issues: FieldIssue[]): void {
  if (field.kind === 'const') return;
  const access = accessOf(field);
  const value = access.codes ? undefined : access.get(source);

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
      if (written.length > 0) access.put(node, written.map(String).join(field.split));
      else if (!textual) access.put(node, null);
    } else if (written.length > 0 || !textual) {
      access.put(node, written);
    }
    return;
  }
  if (field.kind === 'object') {
    if (value === undefined || value === null) {
      if (!field.optional) problem(issues, at, field, 'required', (where) => `${formatPath(where)} is required`);
      else if (!textual) access.put(node, null);
      return;
    }
    const sub: TreeObject = {};
    writeFieldsInto(field.children!, value, textual, sub, whereOf(at, field), issues);
    access.put(node, sub);
    return;
  }
  let out: string | number | boolean;
  if (access.codes) {
    const match = firstHolding(access.codes, source);
    if (match === undefined) {
      const codesOut = field.codesOut!;
      if (field.optional && codesOut[0]![1].every(([path]) => getAt(source, path) === undefined)) {
        if (!textual) access.put(node, null);
        return;
      }
      const shown = codesOut[0]![1].map(([path]) => `${path.join('.')}=${String(getAt(source, path))}`).join(', ');
      return problem(issues, at, field, 'not-writable', (where) => `${formatPath(where)}: no code of this format stands for ${shown}`);
    }
    out = field.type.write(match);
  } else {
    if (value === undefined || value === null) {
      if (!field.optional) return problem(issues, at, field, 'required', (where) => `${formatPath(where)} is required`);
      if (!textual) access.put(node, null);
      return;
    }
    out = field.type.write(value as string | number | boolean);
  }
  access.put(node, textual ? String(out) : out);
}
