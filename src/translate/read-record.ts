/**
 * One record of a format, as a tree, to a canonical record. Every fault is collected as
 * data (field, code, message) so that one bad record is rejected alone and its reader
 * learns everything wrong with it at once. This is the hot path of a large document:
 * paths and messages are only built for a fault, never for a good value.
 */
import type { RecordIssueCode } from '../errors.ts';
import { identifierChecker, type IdentifierVerdict } from '../identifiers/schemes.ts';
import { hasControl } from '../parse/control-characters.ts';
import { formatPath, isObject, TEXT, type PathSegment, type TreeObject, type TreeValue } from '../parse/tree.ts';
import { setterAt, storeCode } from './canonical-path.ts';
import type { CompiledField, Shape } from './compile.ts';
import type { ReadResult } from './value-types.ts';

/** One fault found while reading, before it is given its record's index and key. */
export interface FieldIssue {
  path: PathSegment[];
  code: RecordIssueCode;
  message: string;
}

type Bag = Record<string, unknown>;

/**
 * One field (or a list of fields) compiled for one kind of syntax. `at` is the place of
 * `node`, one array pushed and popped on the way down; a fault copies it.
 */
type Reader = (node: TreeValue, out: Bag, issues: FieldIssue[], at: PathSegment[]) => void;

/** Readers are built on first use for each field list and kind of syntax, then reused for every record. */
const readers = new WeakMap<readonly CompiledField[], { typed?: Reader; textual?: Reader; typedControlFree?: Reader; textualControlFree?: Reader }>();

/** The place a fault is reported against, copied out of the shared `at`. */
const place: PathSegment[] = [];
const TOP: readonly PathSegment[] = Object.freeze([]);

/** Reads `fields` from `node` into `out`, appending faults to `issues`; `at` is where `node` is. */
export function readFields(fields: readonly CompiledField[], node: TreeValue, textual: boolean, out: Record<string, unknown>, issues: FieldIssue[], at: readonly PathSegment[] = TOP): void {
  // Reset on every call, so that a throw half-way down leaves nothing behind for the next record.
  place.length = 0;
  for (const segment of at) place.push(segment);
  readerOf(fields, textual)(node, out, issues, place);
}

/**
 * `readFields` from the top of a record, for one field list and kind of syntax, looked up
 * once: a loop over the records of a document calls this instead.
 */
export function fieldsReader(fields: readonly CompiledField[], textual: boolean, controlFree = false): (node: TreeValue, out: Record<string, unknown>, issues: FieldIssue[]) => void {
  const read = readerOf(fields, textual, controlFree);
  return (node, out, issues) => {
    if (place.length !== 0) place.length = 0;
    read(node, out, issues, place);
  };
}

/**
 * `controlFree`: no value can hold a control character (RecordNode.controlFree: the
 * syntax reader refused or ruled out every one), so values are not scanned for them.
 */
function readerOf(fields: readonly CompiledField[], textual: boolean, controlFree = false): Reader {
  let built = readers.get(fields);
  if (!built) readers.set(fields, (built = {}));
  if (controlFree && textual) return (built.textualControlFree ??= sequence(fields.map((f, i) => fieldReader(f, true, true, followersOf(fields, i)))));
  if (controlFree) return (built.typedControlFree ??= sequence(fields.map((f, i) => fieldReader(f, false, true, followersOf(fields, i)))));
  if (textual) return (built.textual ??= sequence(fields.map((f, i) => fieldReader(f, true, false, followersOf(fields, i)))));
  return (built.typed ??= sequence(fields.map((f, i) => fieldReader(f, false, false, followersOf(fields, i)))));
}

/**
 * The members that later fields of `fields` are certain to store, in order, into the
 * object where field `index` stores, when that store is the one to make the object
 * (storeCode's `followers`). Certain means: in any record that reads well, which is the
 * only kind anything is kept of (a field that cannot store reports a fault, and a record
 * with a fault is rejected whole, envelope included). The run stops at the first later
 * field that may or may not store there, or stores there in any other way.
 */
function followersOf(fields: readonly CompiledField[], index: number): string[] {
  const own = onePath(fields[index]!);
  if (own === undefined || own.length < 2) return [];
  const object = own.slice(0, -1);
  const followers: string[] = [];
  for (let j = index + 1; j < fields.length; j++) {
    const later = fields[j]!;
    if (!storedPaths(later).some((path) => startsWith(path, object))) continue;
    const path = certainPath(later);
    if (path === undefined || path.length !== object.length + 1 || !startsWith(path, object) || storedPaths(later).length !== 1) break;
    const member = path[path.length - 1]!;
    if (member === own[own.length - 1] || followers.includes(member)) break;
    followers.push(member);
  }
  return followers;
}

/** Every canonical path a field may store at. */
function storedPaths(field: CompiledField): (readonly string[])[] {
  if (field.codesIn === undefined) return [field.canonical];
  return [...field.codesIn.values()].flatMap((assignments) => assignments.map(([path]) => path));
}

/** The path a field stores at, if it stores at one only (a code table may store several values, at several paths). */
function onePath(field: CompiledField): readonly string[] | undefined {
  if (field.codesIn === undefined) return field.canonical;
  const paths = storedPaths(field);
  const first = paths[0];
  const one = first !== undefined && [...field.codesIn.values()].every((assignments) => assignments.length === 1) && paths.every((path) => samePath(path, first));
  return one ? first : undefined;
}

/** The one path a field stores at in every record that reads well, or undefined when it may store nothing there (or elsewhere). */
function certainPath(field: CompiledField): readonly string[] | undefined {
  switch (field.kind) {
    case 'const':
    case 'list':
      // A list stores [] when it is absent and allowed to be.
      return field.canonical;
    case 'object':
      return field.optional ? undefined : field.canonical;
    case 'scalar':
      return field.optional ? undefined : onePath(field);
  }
}

const startsWith = (path: readonly string[], prefix: readonly string[]): boolean => path.length > prefix.length && prefix.every((segment, i) => path[i] === segment);
const samePath = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((segment, i) => b[i] === segment);

/**
 * The readers of a field list, one after the other. Generated, with one call written out
 * per field, so that V8 sees one target at each call and can inline it; a loop over the
 * readers would be one call site for every kind of field.
 */
function sequence(steps: Reader[]): Reader {
  const calls = steps.map((_, i) => `steps[${i}](node, out, issues, at);`);
  const body = `const steps = s.slice();\nreturn function readFields(node, out, issues, at) {\n${calls.join('\n')}\n};`;
  return new Function('s', body)(steps) as Reader;
}

/**
 * The value at a format path, or undefined. Like `setterAt`, each is a function of its
 * own with the member names written in, so that each keeps its own inline cache.
 */
function lookupOf(path: readonly string[]): (node: TreeValue) => TreeValue | undefined {
  if (path.length === 0) return (node) => node;
  const body = ['let cur = node;'];
  for (const segment of path) {
    body.push("if (typeof cur !== 'object' || cur === null || Array.isArray(cur)) return undefined;", `cur = cur[${JSON.stringify(segment)}];`);
  }
  body.push('return cur;');
  // Generated from JSON string literals only: a mapping cannot put code in it.
  return new Function('node', body.join('\n')) as (node: TreeValue) => TreeValue | undefined;
}

/** Back up `at` to `depth`: pops, which V8 inlines, where setting the length calls into the runtime. */
function leave(at: PathSegment[], depth: number): void {
  while (at.length > depth) at.pop();
}

/** Descends `at` into a field's format path; returns the depth to go back to. */
function enter(at: PathSegment[], path: readonly string[]): number {
  const depth = at.length;
  for (const segment of path) at.push(segment);
  return depth;
}

/** The reader of one field (exported for the property test of structureFieldReader). */
export function fieldReader(field: CompiledField, textual: boolean, controlFree = false, followers: readonly string[] = []): Reader {
  const set = setterAt(field.canonical, followers);
  if (field.kind === 'const') {
    const value = field.constValue;
    return (_node, out) => set(out, value);
  }
  const fault = (issues: FieldIssue[], at: readonly PathSegment[], code: RecordIssueCode, message: (name: string) => string): void => {
    const path = [...at, ...field.path];
    issues.push({ path, code, message: message(formatPath(path) || 'value') });
  };
  if (field.kind === 'scalar') return scalarFieldReader(field, textual, fault, controlFree, followers);
  return structureFieldReader(field, textual, fault, controlFree, followers);
}

/**
 * An object or list field as one generated function, as `scalarFieldReader` does for
 * scalars: the member names written in, and calls to its children's reader from a call
 * site of its own. The generic closures it replaced (kept below as `genericFieldReader`
 * for the property test that holds the two to the same answers) were one function for
 * every object and list of every format, which V8 could not specialise.
 */
function structureFieldReader(field: CompiledField, textual: boolean, fault: Fault, controlFree: boolean, followers: readonly string[]): Reader {
  const { optional, presenceRequired } = field;
  const emptyList = field.kind === 'list' && optional;
  const set = setterAt(field.canonical, followers);
  const helpers = {
    // The children store under `holder.e`: see `HOLE`.
    children: readerOf(underHole(field.children!), textual, controlFree),
    holder: { [HOLE]: undefined as Bag | undefined },
    setAt: set,
    absent: (raw: undefined | null, out: Bag, issues: FieldIssue[], at: PathSegment[]) => {
      if (raw === undefined && presenceRequired) return fault(issues, at, 'required', (name) => `${name} is required (it may be null, but not absent)`);
      if (emptyList) set(out, []);
      else if (!optional) fault(issues, at, 'required', (name) => `${name} is required`);
    },
    many: (raw: TreeValue[], issues: FieldIssue[], at: PathSegment[]) => {
      if (!textual) return fault(issues, at, 'invalid-type', (name) => `${name} must be an object, not a list`);
      fault(issues, at, 'repeated', (name) => `${name} appears ${raw.length} times; at most once is allowed`);
    },
    notObject: (issues: FieldIssue[], at: PathSegment[]) => fault(issues, at, 'invalid-type', (name) => `${name} must be an object`),
    notText: (issues: FieldIssue[], at: PathSegment[]) => fault(issues, at, 'invalid-type', (name) => `${name} must be text`),
    notList: (issues: FieldIssue[], at: PathSegment[]) => fault(issues, at, 'invalid-type', (name) => `${name} must be a list`),
    emptyItem: (issues: FieldIssue[], at: PathSegment[]) => {
      const itemAt = [...at];
      issues.push({ path: itemAt, code: 'required', message: `${formatPath(itemAt)} must not be empty` });
    },
  };
  const down = field.path.map((segment) => `at.push(${JSON.stringify(segment)});`).join(' ');
  const up = field.path.map(() => 'at.pop();').join(' ');
  const hole = JSON.stringify(HOLE);
  // The children read `from` into a new object, made by their first store (or {} when they store nothing).
  const readInto = (target: string, from: string) => `holder[${hole}] = undefined; children(${from}, holder, issues, at); ${target} = holder[${hole}]; holder[${hole}] = undefined; if (${target} === undefined) ${target} = {};`;
  const body = ['const { children, holder, setAt, absent, many, notObject, notText, notList, emptyItem } = h;', 'return function readStructure(node, out, issues, at) {', lookupSource(field.path), 'if (raw === undefined || raw === null) return absent(raw, out, issues, at);'];
  if (field.kind === 'object') {
    body.push('if (Array.isArray(raw)) return many(raw, issues, at);', "if (typeof raw !== 'object') return notObject(issues, at);", 'let v;', down, readInto('v', 'raw'), up);
  } else {
    // One item read into `entry` (undefined for an empty one); `i` is its place.
    const item = `let entry; at.push(i); if (item === null) emptyItem(issues, at); else { ${readInto('entry', 'item')} } at.pop();`;
    // Nearly every list of a record has one entry: a list literal, which V8 can allocate among the old objects as it does the entries.
    const one = `{ const i = 0; ${down} ${item} ${up} v = entry === undefined ? [] : [entry]; }`;
    // Made at its size: a list grown from [] keeps room for 17 entries.
    const loop = ['{', 'v = new Array(items.length);', 'let kept = 0;', down, 'for (let i = 0; i < items.length; i++) { const item = items[i];', item, 'if (entry !== undefined) v[kept++] = entry;', '}', up, 'if (kept < v.length) v.length = kept;', '}'];
    const list = (items: string) => [`const items = ${items};`, `if (items.length === 1) { const item = items[0]; ${one} } else`, ...loop];
    body.push('let v;');
    if (field.split !== undefined) {
      const separator = JSON.stringify(field.split);
      // Text without the separator is a list of one (as split would say), read without splitting.
      body.push("if (typeof raw !== 'string') return notText(issues, at);", `if (raw.indexOf(${separator}) === -1) { const item = raw; ${one} } else {`, ...list(`raw.split(${separator})`), '}');
    } else {
      body.push('if (Array.isArray(raw)) {', ...list('raw'), '} else {');
      // XML has no lists, only repeated elements: one element is a list of one. JSON says which it is.
      body.push(textual ? `const item = raw; ${one}` : 'return notList(issues, at);', '}');
    }
  }
  body.push(storeSource(field.canonical, 'v', followers), '};');
  return new Function('h', body.join('\n'))(helpers) as Reader;
}

/**
 * The member of a reader's own holder object under which the children of an object or
 * list item store, so that the object they fill is made by the first store, as an object
 * literal already holding that value (`storeCode`), not as {} filled afterwards: V8
 * allocates objects made by literals among the old objects once it sees that nearly all
 * of them stay (the records of a document do), and the collector then never copies them.
 */
const HOLE = 'e';

/** Fields with `HOLE` put before each canonical path (and the paths of their code tables), made once per list. */
const holed = new WeakMap<readonly CompiledField[], CompiledField[]>();

function underHole(fields: readonly CompiledField[]): CompiledField[] {
  let under = holed.get(fields);
  if (!under) {
    under = fields.map((f) => {
      const moved: CompiledField = { ...f, canonical: [HOLE, ...f.canonical] };
      if (f.codesIn) moved.codesIn = new Map([...f.codesIn].map(([code, assignments]) => [code, assignments.map(([path, value]) => [[HOLE, ...path], value] as const)]));
      return moved;
    });
    holed.set(fields, under);
  }
  return under;
}

/** The object and list fields as they were read before `structureFieldReader` (exported for its property test). */
export function genericFieldReader(field: CompiledField, textual: boolean): Reader {
  const set = setterAt(field.canonical);
  const fault = (issues: FieldIssue[], at: readonly PathSegment[], code: RecordIssueCode, message: (name: string) => string): void => {
    const path = [...at, ...field.path];
    issues.push({ path, code, message: message(formatPath(path) || 'value') });
  };
  const lookup = lookupOf(field.path);
  const present = presentReader(field, textual, set, fault);
  const { optional, presenceRequired } = field;
  const emptyList = field.kind === 'list' && optional;
  return (node, out, issues, at) => {
    const raw = lookup(node);
    if (raw === undefined || raw === null) {
      if (raw === undefined && presenceRequired) return fault(issues, at, 'required', (name) => `${name} is required (it may be null, but not absent)`);
      if (emptyList) set(out, []);
      else if (!optional) fault(issues, at, 'required', (name) => `${name} is required`);
      return;
    }
    present(raw, out, issues, at);
  };
}

/** JavaScript that reads the value at a format path from `node` into `raw`, each name a JSON string literal. */
function lookupSource(path: readonly string[]): string {
  const steps = path.map((segment) => `if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) raw = undefined; else raw = raw[${JSON.stringify(segment)}];`);
  return ['let raw = node;', ...steps].join('\n');
}

/** JavaScript that stores `value` (an expression, `v` unless told) at a canonical path of `out` (`setAt`), each name a JSON string literal. */
function storeSource(path: readonly string[], value = 'v', followers: readonly string[] = []): string {
  if (path.length === 0) return `setAt(out, ${value});`;
  return storeCode(path, 'out', value, followers);
}

/**
 * A scalar field (nearly every field) as one generated function: the member names written
 * in, its type, pattern, identifier rule and codes called from call sites of its own, so
 * that V8 can inline each. It does what `presentReader` does for the other kinds, in the
 * same order; every fault is still built by the TypeScript helpers below, with the same
 * messages.
 */
function scalarFieldReader(field: CompiledField, textual: boolean, fault: Fault, controlFree: boolean, followers: readonly string[]): Reader {
  const { type, pattern } = field;
  const check = field.check && identifierChecker(field.check);
  const codes = field.codesIn;
  const assigners = codes && codeAssigners(codes);
  const helpers = {
    type,
    accept: type.accept,
    pattern,
    check,
    assigners,
    hasControl,
    setAt: setterAt(field.canonical, followers),
    absent: (raw: undefined | null, issues: FieldIssue[], at: PathSegment[]) => {
      if (raw === undefined && field.presenceRequired) return fault(issues, at, 'required', (name) => `${name} is required (it may be null, but not absent)`);
      if (!field.optional) fault(issues, at, 'required', (name) => `${name} is required`);
    },
    single: (raw: TreeValue[], issues: FieldIssue[], at: PathSegment[]) => {
      if (!textual) return fault(issues, at, 'invalid-type', (name) => `${name} must be a single value, not a list`);
      fault(issues, at, 'repeated', (name) => `${name} appears ${raw.length} times; at most once is allowed`);
    },
    notSingle: (issues: FieldIssue[], at: PathSegment[]) => fault(issues, at, 'invalid-type', (name) => `${name} must be a single value, not an object`),
    control: (issues: FieldIssue[], at: PathSegment[]) => fault(issues, at, 'control-character', (name) => `${name} contains a control character`),
    unread: (read: Extract<ReadResult, { ok: false }>, issues: FieldIssue[], at: PathSegment[]) => fault(issues, at, read.code, (name) => `${name}: ${read.message}`),
    unlike: (text: string, issues: FieldIssue[], at: PathSegment[]) => fault(issues, at, 'invalid-value', (name) => `${name}: "${text}" does not have the required form`),
    unchecked: (verdict: Extract<IdentifierVerdict, { ok: false }>, issues: FieldIssue[], at: PathSegment[]) => fault(issues, at, 'invalid-identifier', (name) => `${name}: ${verdict.message}`),
    uncoded: (value: string | number | boolean, issues: FieldIssue[], at: PathSegment[]) =>
      fault(issues, at, 'invalid-code', (name) => `${name}: "${String(value)}" is not one of ${[...codes!.keys()].join(', ')}`),
  };
  const t = String(textual);
  const body = [
    'const { type, accept, pattern, check, assigners, hasControl, setAt, absent, single, notSingle, control, unread, unlike, unchecked, uncoded } = h;',
    // The field's last short value. Dates, countries, postcodes and cities repeat from record
    // to record; a record that keeps the earlier string (already among the old objects) leaves
    // its own copy to die young, where each kept copy was one more object for the collector to
    // move twice (issue 10: promoted bytes of an EU read 117 -> 104 MB). Only values shorter
    // than 13 characters: V8 copies those out of the document, where a longer one may be a
    // slice of it and would keep the whole document alive after it was read.
    'let last = "";',
    'return function readField(node, out, issues, at) {',
    lookupSource(field.path),
    'if (raw === undefined || raw === null) return absent(raw, issues, at);',
    'if (Array.isArray(raw)) return single(raw, issues, at);',
    'let value = raw;',
    // An XML element with attributes keeps its text under `#text`; one without text is empty.
    `if (typeof raw === 'object') { if (!${t}) return notSingle(issues, at); value = raw[${JSON.stringify(TEXT)}] ?? ''; }`,
    controlFree ? '' : "if (typeof value === 'string' && hasControl(value)) return control(issues, at);",
    `let v = accept(value, ${t});`,
    // Refused: `read` says why (and stays the judge, should the two ever disagree).
    `if (v === undefined) { const read = type.read(value, ${t}); if (!read.ok) return unread(read, issues, at); v = read.value; }`,
    "if (typeof v === 'string') {",
    pattern ? 'if (!pattern.test(v)) return unlike(v, issues, at);' : '',
    check ? 'const verdict = check(v); if (!verdict.ok) return unchecked(verdict, issues, at);' : '',
    // A short value equal to this field's previous one is stored as that very string (see `last`).
    codes ? '' : 'if (v.length < 13) { if (v === last) v = last; else last = v; }',
    '}',
    codes ? codeSource(codes, followers) : storeSource(field.canonical, 'v', followers),
    '};',
  ];
  return new Function('h', body.join('\n'))(helpers) as Reader;
}

/**
 * JavaScript that stores what the code in `v` stands for: a switch with a case per code
 * and its stores written in, where a Map look-up per value hashed each value and called a
 * closure per store. Codes and values go in as JSON string literals only. A table with an
 * assignment to the record itself (no path) keeps the Map.
 */
function codeSource(codes: NonNullable<CompiledField['codesIn']>, followers: readonly string[]): string {
  if ([...codes.values()].some((assignments) => assignments.some(([path]) => path.length === 0))) {
    return 'const assign = assigners.get(String(v)); if (assign === undefined) return uncoded(v, issues, at); assign(out);';
  }
  // Followers are only ever given to a table whose every code stores one value at one path (`onePath`).
  const cases = [...codes].map(([code, assignments]) => [`case ${JSON.stringify(code)}:`, ...assignments.map(([path, value]) => storeSource(path, JSON.stringify(value), followers)), 'break;'].join('\n'));
  return ["switch (typeof v === 'string' ? v : String(v)) {", ...cases, 'default: return uncoded(v, issues, at);', '}'].join('\n');
}

/** Each code of a table to what it stores, made once. */
function codeAssigners(codes: NonNullable<CompiledField['codesIn']>): Map<string, (out: Bag) => void> {
  const assigners = new Map<string, (out: Bag) => void>();
  for (const [code, assignments] of codes) {
    const steps = assignments.map(([path, v]) => {
      const setPath = setterAt(path);
      return (out: Bag) => setPath(out, v);
    });
    assigners.set(code, steps.length === 1 && steps[0] ? steps[0] : (out) => steps.forEach((step) => step(out)));
  }
  return assigners;
}

type Fault = (issues: FieldIssue[], at: readonly PathSegment[], code: RecordIssueCode, message: (name: string) => string) => void;
type Setter = (out: Bag, value: unknown) => void;

/** What reads a value that is there (not absent, not null). */
function presentReader(field: CompiledField, textual: boolean, set: Setter, fault: Fault): (raw: TreeValue, out: Bag, issues: FieldIssue[], at: PathSegment[]) => void {
  if (field.kind === 'list') return listReader(field, textual, set, fault);
  // An object: scalars have readers of their own (scalarFieldReader).
  const children = readerOf(field.children!, textual);
  return (raw, out, issues, at) => {
    if (Array.isArray(raw)) {
      if (!textual) return fault(issues, at, 'invalid-type', (name) => `${name} must be an object, not a list`);
      return fault(issues, at, 'repeated', (name) => `${name} appears ${raw.length} times; at most once is allowed`);
    }
    if (!isObject(raw)) return fault(issues, at, 'invalid-type', (name) => `${name} must be an object`);
    const sub: Bag = {};
    const depth = enter(at, field.path);
    children(raw, sub, issues, at);
    leave(at, depth);
    set(out, sub);
  };
}

function listReader(field: CompiledField, textual: boolean, set: Setter, fault: Fault): (raw: TreeValue, out: Bag, issues: FieldIssue[], at: PathSegment[]) => void {
  const children = readerOf(field.children!, textual);
  const { split } = field;
  return (raw, out, issues, at) => {
    let items: TreeValue[];
    if (split !== undefined) {
      if (typeof raw !== 'string') return fault(issues, at, 'invalid-type', (name) => `${name} must be text`);
      items = raw.split(split);
    } else if (Array.isArray(raw)) {
      items = raw;
    } else {
      // XML has no lists, only repeated elements: one element is a list of one. JSON says which it is.
      if (!textual) return fault(issues, at, 'invalid-type', (name) => `${name} must be a list`);
      items = [raw];
    }
    // Made at its size: a list grown by push from [] keeps room for 17 entries, and
    // nearly every list of a record has one (issue 10: what records keep is what the
    // collector copies).
    const list: Bag[] = new Array<Bag>(items.length);
    let kept = 0;
    const depth = enter(at, field.path);
    for (let i = 0; i < items.length; i++) {
      const item = items[i]!;
      at.push(i);
      if (item === null) {
        const itemAt = [...at];
        issues.push({ path: itemAt, code: 'required', message: `${formatPath(itemAt)} must not be empty` });
      } else {
        const entry: Bag = {};
        children(item, entry, issues, at);
        list[kept++] = entry;
      }
      at.pop();
    }
    if (kept < list.length) list.length = kept;
    leave(at, depth);
    set(out, list);
  };
}

type MemberCheck = (node: TreeValue, issues: FieldIssue[], at: PathSegment[]) => void;

/**
 * `unknownMembers` for one shape and kind of syntax, compiled once (exported for the test
 * that holds the two to the same answers): each level a generated function whose member
 * names are written in as cases of a switch, where `unknownMembers` looks every member
 * of every record up in a Map.
 */
export function memberCheck(shape: Shape, textual: boolean): (node: TreeValue, issues: FieldIssue[]) => void {
  let built = memberChecks.get(shape);
  if (!built) memberChecks.set(shape, (built = {}));
  // Built once per shape and kind of syntax, then reused by every document: fresh functions would start cold.
  const key = textual ? 'textual' : 'typed';
  return (built[key] ??= topCheck(levelCheck(shape, textual)));
}

const memberChecks = new WeakMap<Shape, { typed?: (node: TreeValue, issues: FieldIssue[]) => void; textual?: (node: TreeValue, issues: FieldIssue[]) => void }>();

function topCheck(check: MemberCheck): (node: TreeValue, issues: FieldIssue[]) => void {
  const at: PathSegment[] = [];
  return (node, issues) => {
    // Reset on every call, so that a throw half-way down leaves nothing behind for the next record.
    if (at.length !== 0) at.length = 0;
    check(node, issues, at);
  };
}

function levelCheck(shape: Shape, textual: boolean): MemberCheck {
  const subs: MemberCheck[] = [];
  const cases: string[] = [];
  for (const [name, sub] of shape.members) {
    // In JSON an object or list where text belongs is a wrong type, which reading the field reports.
    const scalar = !textual && sub.members.size === 1 && sub.members.has(TEXT);
    if (scalar) {
      cases.push(`case ${JSON.stringify(name)}: continue;`);
      continue;
    }
    subs.push(levelCheck(sub, textual));
    cases.push(`case ${JSON.stringify(name)}: { const value = node[name]; if (typeof value === 'object' && value !== null) { at.push(name); subs[${subs.length - 1}](value, issues, at); at.pop(); } continue; }`);
  }
  const body = [
    'const subs = s.slice();',
    'return function check(node, issues, at) {',
    'if (Array.isArray(node)) { for (let i = 0; i < node.length; i++) { at.push(i); check(node[i], issues, at); at.pop(); } return; }',
    "if (typeof node !== 'object' || node === null) return;",
    'for (const name in node) {',
    'switch (name) {',
    ...cases,
    'default: unknown(name, issues, at);',
    '}',
    '}',
    '};',
  ];
  // Generated from JSON string literals only: a mapping cannot put code in it.
  return new Function('s', 'unknown', body.join('\n'))(subs, unknownMember) as MemberCheck;
}

function unknownMember(name: string, issues: FieldIssue[], at: readonly PathSegment[]): void {
  const what = name === TEXT ? 'text' : name.startsWith('@') ? `attribute ${name.slice(1)}` : `member or element ${name}`;
  issues.push({ path: [...at, name], code: 'unknown-field', message: `${formatPath(at) || 'the record'} has an unknown ${what}` });
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
