/**
 * One record of a format, as a tree, to a canonical record. Every fault is collected as
 * data (field, code, message) so that one bad record is rejected alone and its reader
 * learns everything wrong with it at once. This is the hot path of a large document:
 * paths and messages are only built for a fault, never for a good value.
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

// Control characters (Unicode Cc: C0, DEL, C1) other than TAB, LF and CR (FORMATS.md common rules).
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/;

/** Reads `fields` from `node` into `out`, appending faults to `issues`; `at` is where `node` is. */
export function readFields(fields: readonly CompiledField[], node: TreeValue, textual: boolean, out: Record<string, unknown>, issues: FieldIssue[], at: readonly PathSegment[] = []): void {
  for (const field of fields) readField(field, node, textual, out, issues, at);
}

function lookup(node: TreeValue, path: readonly string[]): TreeValue | undefined {
  let cur: TreeValue | undefined = node;
  for (const segment of path) {
    if (!isObject(cur)) return undefined;
    cur = cur[segment];
  }
  return cur;
}

function fault(issues: FieldIssue[], at: readonly PathSegment[], field: CompiledField, code: RecordIssueCode, message: (name: string) => string): void {
  const path = [...at, ...field.path];
  issues.push({ path, code, message: message(formatPath(path) || 'value') });
}

function readField(field: CompiledField, node: TreeValue, textual: boolean, out: Record<string, unknown>, issues: FieldIssue[], at: readonly PathSegment[]): void {
  if (field.kind === 'const') {
    setAt(out, field.canonical, field.constValue);
    return;
  }
  const raw = lookup(node, field.path);
  if (raw === undefined && field.presenceRequired) return fault(issues, at, field, 'required', (name) => `${name} is required (it may be null, but not absent)`);
  if (raw === undefined || raw === null) {
    if (field.kind === 'list' && field.optional) setAt(out, field.canonical, []);
    else if (!field.optional) fault(issues, at, field, 'required', (name) => `${name} is required`);
    return;
  }
  if (field.kind === 'list') return readList(field, raw, textual, out, issues, at);
  if (Array.isArray(raw)) {
    if (!textual) return fault(issues, at, field, 'invalid-type', (name) => `${name} must be ${field.kind === 'object' ? 'an object' : 'a single value'}, not a list`);
    return fault(issues, at, field, 'repeated', (name) => `${name} appears ${raw.length} times; at most once is allowed`);
  }
  if (field.kind === 'object') {
    if (!isObject(raw)) return fault(issues, at, field, 'invalid-type', (name) => `${name} must be an object`);
    const sub: Record<string, unknown> = {};
    readFields(field.children!, raw, textual, sub, issues, field.path.length === 0 ? at : [...at, ...field.path]);
    setAt(out, field.canonical, sub);
    return;
  }
  const value = readScalar(field, raw, textual, issues, at);
  if (value === undefined) return;
  if (!field.codesIn) return setAt(out, field.canonical, value);
  const assignments = field.codesIn.get(String(value));
  if (!assignments) return fault(issues, at, field, 'invalid-code', (name) => `${name}: "${String(value)}" is not one of ${[...field.codesIn!.keys()].join(', ')}`);
  for (const [path, v] of assignments) setAt(out, path, v);
}

function readList(field: CompiledField, raw: TreeValue, textual: boolean, out: Record<string, unknown>, issues: FieldIssue[], at: readonly PathSegment[]): void {
  let items: TreeValue[];
  if (field.split !== undefined) {
    if (typeof raw !== 'string') return fault(issues, at, field, 'invalid-type', (name) => `${name} must be text`);
    items = raw.split(field.split);
  } else if (Array.isArray(raw)) {
    items = raw;
  } else {
    // XML has no lists, only repeated elements: one element is a list of one. JSON says which it is.
    if (!textual) return fault(issues, at, field, 'invalid-type', (name) => `${name} must be a list`);
    items = [raw];
  }
  const list: Record<string, unknown>[] = [];
  for (let i = 0; i < items.length; i++) {
    const item = items[i]!;
    const itemAt = [...at, ...field.path, i];
    if (item === null) {
      issues.push({ path: itemAt, code: 'required', message: `${formatPath(itemAt)} must not be empty` });
      continue;
    }
    const entry: Record<string, unknown> = {};
    readFields(field.children!, item, textual, entry, issues, itemAt);
    list.push(entry);
  }
  setAt(out, field.canonical, list);
}

function readScalar(field: CompiledField, raw: TreeValue, textual: boolean, issues: FieldIssue[], at: readonly PathSegment[]): string | number | boolean | undefined {
  if (!textual && isObject(raw)) return void fault(issues, at, field, 'invalid-type', (name) => `${name} must be a single value, not an object`);
  // An XML element with attributes keeps its text under `#text`; one without text is empty.
  const value = isObject(raw) ? (raw[TEXT] ?? '') : raw;
  if (typeof value === 'string' && CONTROL.test(value)) return void fault(issues, at, field, 'control-character', (name) => `${name} contains a control character`);
  const read = field.type.read(value, textual);
  if (!read.ok) return void fault(issues, at, field, read.code, (name) => `${name}: ${read.message}`);
  const v = read.value;
  if (typeof v === 'string') {
    if (field.pattern && !field.pattern.test(v)) return void fault(issues, at, field, 'invalid-value', (name) => `${name}: "${v}" does not have the required form`);
    if (field.check) {
      const verdict = checkIdentifier(field.check, v);
      if (!verdict.ok) return void fault(issues, at, field, 'invalid-identifier', (name) => `${name}: ${verdict.message}`);
    }
  }
  return v;
}

/** Members of `node` that no rule names: each an unknown element, attribute or member. */
export function unknownMembers(node: TreeValue, shape: Shape, issues: FieldIssue[], textual: boolean, at: PathSegment[] = []): void {
  // `at` is one array pushed and popped on the way down: nothing is allocated for a good record.
  if (Array.isArray(node)) {
    for (let i = 0; i < node.length; i++) {
      at.push(i);
      unknownMembers(node[i]!, shape, issues, textual, at);
      at.pop();
    }
    return;
  }
  if (!isObject(node)) return;
  for (const name in node as TreeObject) {
    const sub = shape.members.get(name);
    if (sub) {
      const value = node[name]!;
      // In JSON an object or list where text belongs is a wrong type, which reading the field reports.
      const scalar = !textual && sub.members.size === 1 && sub.members.has(TEXT);
      if (typeof value === 'object' && value !== null && !scalar) {
        at.push(name);
        unknownMembers(value, sub, issues, textual, at);
        at.pop();
      }
      continue;
    }
    const what = name === TEXT ? 'text' : name.startsWith('@') ? `attribute ${name.slice(1)}` : `member or element ${name}`;
    issues.push({ path: [...at, name], code: 'unknown-field', message: `${formatPath(at) || 'the record'} has an unknown ${what}` });
  }
}
