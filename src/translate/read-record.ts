/**
 * One record of a format, as a tree, to a canonical record. Every fault is collected as
 * data (field, code, message) so that one bad record is rejected alone and its reader
 * learns everything wrong with it at once.
 */
import type { RecordIssueCode } from '../errors.ts';
import { checkIdentifier } from '../identifiers/schemes.ts';
import { formatPath, isObject, TEXT, type PathSegment, type TreeObject, type TreeValue } from '../parse/tree.ts';
import { setAt } from './canonical-path.ts';
import type { CompiledField, Shape } from './compile.ts';

/** One fault found while reading, before it is given its record's index and key. */
export interface FieldIssue {
  path: PathSegment[];
  code: RecordIssueCode;
  message: string;
}

// C0 controls other than TAB, LF and CR, and DEL (FORMATS.md common rules).
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/;

/** Reads `fields` from `node` into `out`; returns the faults found. */
export function readFields(fields: readonly CompiledField[], node: TreeValue, textual: boolean, out: Record<string, unknown>, at: PathSegment[] = []): FieldIssue[] {
  const issues: FieldIssue[] = [];
  for (const field of fields) readField(field, node, textual, out, at, issues);
  return issues;
}

function lookup(node: TreeValue, path: readonly string[]): TreeValue | undefined {
  let cur: TreeValue | undefined = node;
  for (const segment of path) {
    if (!isObject(cur)) return undefined;
    cur = cur[segment];
  }
  return cur;
}

function readField(field: CompiledField, node: TreeValue, textual: boolean, out: Record<string, unknown>, at: PathSegment[], issues: FieldIssue[]): void {
  if (field.kind === 'const') {
    setAt(out, field.canonical, field.constValue);
    return;
  }
  const where = [...at, ...field.path];
  const raw = lookup(node, field.path);
  const problem = (code: RecordIssueCode, message: string) => issues.push({ path: where, code, message });

  if (raw === undefined || raw === null) {
    if (field.kind === 'list' && field.optional) setAt(out, field.canonical, []);
    else if (!field.optional) problem('required', `${formatPath(where) || 'value'} is required`);
    return;
  }
  if (field.kind === 'list') return readList(field, raw, textual, out, where, issues);
  if (Array.isArray(raw)) return void problem('repeated', `${formatPath(where)} appears ${raw.length} times; at most once is allowed`);
  if (field.kind === 'object') {
    if (!isObject(raw)) return void problem('invalid-type', `${formatPath(where)} must be an object`);
    const sub: Record<string, unknown> = {};
    issues.push(...readFields(field.children!, raw, textual, sub, where));
    setAt(out, field.canonical, sub);
    return;
  }
  const value = readScalar(field, raw, textual, where, issues);
  if (value !== undefined) assign(field, value, out, where, issues);
}

function readList(field: CompiledField, raw: TreeValue, textual: boolean, out: Record<string, unknown>, where: PathSegment[], issues: FieldIssue[]): void {
  let items: TreeValue[];
  if (field.split !== undefined) {
    if (typeof raw !== 'string') return void issues.push({ path: where, code: 'invalid-type', message: `${formatPath(where)} must be text` });
    items = raw.split(field.split);
  } else {
    items = Array.isArray(raw) ? raw : [raw];
  }
  const list: Record<string, unknown>[] = [];
  items.forEach((item, i) => {
    const itemAt = [...where, i];
    if (item === null) {
      issues.push({ path: itemAt, code: 'required', message: `${formatPath(itemAt)} must not be empty` });
      return;
    }
    const entry: Record<string, unknown> = {};
    issues.push(...readFields(field.children!, item, textual, entry, itemAt));
    list.push(entry);
  });
  setAt(out, field.canonical, list);
}

function readScalar(field: CompiledField, raw: TreeValue, textual: boolean, where: PathSegment[], issues: FieldIssue[]): string | number | boolean | undefined {
  // An XML element with attributes keeps its text under `#text`; one without text is empty.
  const value = isObject(raw) ? (raw[TEXT] ?? '') : raw;
  const problem = (code: RecordIssueCode, message: string) => void issues.push({ path: where, code, message });
  const name = formatPath(where);
  if (typeof value === 'string' && CONTROL.test(value)) return problem('control-character', `${name} contains a control character`);
  const read = field.type.read(value, textual);
  if (!read.ok) return problem(read.code, `${name}: ${read.message}`);
  if (typeof read.value === 'string') {
    if (field.pattern && !field.pattern.test(read.value)) return problem('invalid-value', `${name}: "${read.value}" does not have the required form`);
    if (field.check) {
      const verdict = checkIdentifier(field.check, read.value);
      if (!verdict.ok) return problem('invalid-identifier', `${name}: ${verdict.message}`);
    }
  }
  return read.value;
}

function assign(field: CompiledField, value: string | number | boolean, out: Record<string, unknown>, where: PathSegment[], issues: FieldIssue[]): void {
  if (!field.codesIn) return setAt(out, field.canonical, value);
  const assignments = field.codesIn.get(String(value));
  if (!assignments) {
    issues.push({ path: where, code: 'invalid-code', message: `${formatPath(where)}: "${String(value)}" is not one of ${[...field.codesIn.keys()].join(', ')}` });
    return;
  }
  for (const [path, v] of assignments) setAt(out, path, v);
}

/** Members of `node` that no rule names: each an unknown element, attribute or member. */
export function unknownMembers(node: TreeValue, shape: Shape, at: PathSegment[] = []): FieldIssue[] {
  if (Array.isArray(node)) return node.flatMap((item, i) => unknownMembers(item, shape, [...at, i]));
  if (!isObject(node)) return [];
  const issues: FieldIssue[] = [];
  for (const [name, value] of Object.entries(node as TreeObject)) {
    const sub = shape.members.get(name);
    if (!sub) {
      const what = name === TEXT ? 'text' : name.startsWith('@') ? `attribute ${name.slice(1)}` : `${name}`;
      issues.push({ path: [...at, name], code: 'unknown-field', message: `${formatPath(at) || 'the record'} has an unknown ${name === TEXT || name.startsWith('@') ? what : `member or element ${what}`}` });
      continue;
    }
    issues.push(...unknownMembers(value, sub, [...at, name]));
  }
  return issues;
}
