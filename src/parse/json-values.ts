/**
 * Checks over a value that JSON.parse made from a partner's text, before anything else
 * walks it. JSON.parse takes any depth and any `\u` escape, so a record may nest 100,000
 * arrays deep (every recursive walk after it would overflow the stack: a 500) or hold a
 * lone surrogate, half of a UTF-16 pair, which is not text at all: it cannot be written
 * as UTF-8, and PostgreSQL refuses it in jsonb (a 500 at intake, or an apply that fails
 * on every attempt). No walk here recurses deeper than a small bound (`RECURSION_BOUND`).
 */
import { Buffer } from 'node:buffer';
import { isControl } from './control-characters.ts';
import type { PathSegment, TreeValue } from './tree.ts';

/**
 * How deep objects and arrays may nest in a record or an envelope: the XML reader's
 * bound too. The deepest format nests three (GB: record, `mids`, one MID).
 */
export const MAX_JSON_DEPTH = 16;

/** What a fault says of a place holding a lone surrogate; never the value, which no message may carry. */
export const LONE_SURROGATE = 'holds half of a UTF-16 surrogate pair (a lone \\u escape), which is not text';

/**
 * Members of every object in `value`, counted as `mayRepeatMembers` needs them, or -1
 * when objects and arrays nest more than `maxDepth` deep (the walk stops there, so a
 * hostile depth costs no more than the bound).
 */
export function membersWithin(value: unknown, maxDepth = MAX_JSON_DEPTH): number {
  if (typeof value !== 'object' || value === null) return 0;
  return maxDepth <= RECURSION_BOUND ? membersBelow(value, 1, maxDepth) : membersOnStack(value, maxDepth);
}

/**
 * The bounds up to which `membersWithin` recurses: each call goes one level down and
 * none goes past `maxDepth` + 1, so the stack holds at most that many frames whatever
 * the value. V8 runs the recursion 2.5 times as fast as the walk with a stack of its own
 * (6 against 15 ms over the 100,000 records of a GB document); a larger bound (the tests
 * count at any depth) still takes that walk.
 */
const RECURSION_BOUND = 64;

/** `membersWithin` of an object or array at `depth`, by recursion (see RECURSION_BOUND). */
function membersBelow(value: object, depth: number, maxDepth: number): number {
  if (depth > maxDepth) return -1;
  let members = 0;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const child: unknown = value[i];
      if (typeof child !== 'object' || child === null) continue;
      const within = membersBelow(child, depth + 1, maxDepth);
      if (within < 0) return -1;
      members += within;
    }
    return members;
  }
  // JSON.parse makes plain objects: for-in sees exactly their own members.
  for (const name in value) {
    members++;
    const child = (value as Record<string, unknown>)[name];
    if (typeof child !== 'object' || child === null) continue;
    const within = membersBelow(child, depth + 1, maxDepth);
    if (within < 0) return -1;
    members += within;
  }
  return members;
}

// Shared by every call (one walk at a time, synchronously): a walk allocates nothing.
const pending: object[] = [];
const depths: number[] = [];

/** `membersWithin` with a stack of its own, for a bound too large to recurse to. */
function membersOnStack(value: object, maxDepth: number): number {
  pending.length = 0;
  depths.length = 0;
  pending.push(value);
  depths.push(1);
  let members = 0;
  while (pending.length > 0) {
    const current = pending.pop()!;
    const depth = depths.pop()!;
    if (depth > maxDepth) {
      pending.length = 0;
      depths.length = 0;
      return -1;
    }
    if (Array.isArray(current)) {
      for (let i = 0; i < current.length; i++) {
        const child: unknown = current[i];
        if (typeof child === 'object' && child !== null) {
          pending.push(child);
          depths.push(depth + 1);
        }
      }
      continue;
    }
    for (const name in current) {
      members++;
      const child = (current as Record<string, unknown>)[name];
      if (typeof child === 'object' && child !== null) {
        pending.push(child);
        depths.push(depth + 1);
      }
    }
  }
  return members;
}

/**
 * The places in `value` where an object or array starts more than `maxDepth` deep: each
 * is replaced by null where it is, so that the rest of the record (its key above all)
 * can still be read and the record rejected with the places named. Only for a value
 * `membersWithin` found too deep.
 */
export function pruneTooDeep(value: TreeValue, maxDepth = MAX_JSON_DEPTH): PathSegment[][] {
  const found: PathSegment[][] = [];
  for (const { node, path } of containers(value, maxDepth)) {
    // Only the deepest containers kept: their own containers would start past the bound.
    if (path.length + 1 < maxDepth) continue;
    for (const at of keysOf(node)) {
      if (!isContainer(node[at])) continue;
      node[at] = null;
      found.push([...path, at]);
    }
  }
  return found;
}

/**
 * Whether JSON text may hold a lone surrogate: only a `\u` escape of D800–DFFF can make
 * one (the text itself was decoded as UTF-8, which has none). Most documents have no
 * such escape, and their values are then not looked at one by one. indexOf, not a
 * regular expression: the expression cost a 100,000-record GB document 19 ms, as much
 * as the duplicate-member count. (An escaped backslash before a `u` only errs towards
 * looking.)
 */
export function mayHoldLoneSurrogates(text: string): boolean {
  for (let at = text.indexOf('\\u'); at !== -1; at = text.indexOf('\\u', at + 2)) {
    // Lower-cased by setting bit 5: `d` or `D`, then 8, 9 or a to f.
    const first = text.charCodeAt(at + 2) | 0x20;
    const second = text.charCodeAt(at + 3) | 0x20;
    if (first === 0x64 && (second === 0x38 || second === 0x39 || (second >= 0x61 && second <= 0x66))) return true;
  }
  return false;
}

/**
 * Whether a value of JSON `text` may hold a control character (control-characters.ts);
 * false only when none can, and the record reader then does not look at each value for
 * one (RecordNode.controlFree: some 25 ms of the 400 a 100,000-record GB document took
 * to read). JSON.parse refuses a C0 character written as it is, so one can only come
 * from an escape (`\b`, `\f`, `\u0000` to `\u001f`, `\u007f` to `\u009f`), or be DEL or
 * a C1 character written as it is. Those two are looked for in `bytes`, the text's
 * UTF-8, where DEL is the byte 7F and a C1 character C2 80 to C2 9F (C2 only ever starts
 * a character): indexOf over bytes, at a tenth of the cost of a regular expression over
 * the text, which is the way without them. A member name holding one errs towards true.
 */
export function mayHoldControl(text: string, bytes?: Uint8Array): boolean {
  return (bytes === undefined ? RAW_CONTROL.test(text) : rawControlIn(bytes)) || escapesControl(text);
}

const RAW_CONTROL = /[\u007F-\u009F]/;

function rawControlIn(bytes: Uint8Array): boolean {
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.indexOf(0x7f) !== -1) return true;
  for (let at = view.indexOf(0xc2); at !== -1; at = view.indexOf(0xc2, at + 1)) {
    if (view[at + 1]! <= 0x9f) return true;
  }
  return false;
}

/** Whether an escape in well-formed JSON `text` stands for a control character. */
function escapesControl(text: string): boolean {
  // From after each escape's backslash and the character it escapes: an escaped backslash starts nothing.
  for (let at = text.indexOf('\\'); at !== -1; at = text.indexOf('\\', at + 2)) {
    if (isControl(escapedUnit(text, at))) return true;
  }
  return false;
}

/** The code unit the escape whose backslash is at `at` stands for; 0x100 for any `\u` above U+00FF (none is a control character). */
function escapedUnit(text: string, at: number): number {
  const c = text.charCodeAt(at + 1);
  switch (c) {
    case 0x62: // b
      return 0x08;
    case 0x66: // f
      return 0x0c;
    case 0x6e: // n
      return 0x0a;
    case 0x72: // r
      return 0x0d;
    case 0x74: // t
      return 0x09;
    case 0x75: // u: every control character is \u00XX
      return text.startsWith('00', at + 2) ? Number.parseInt(text.slice(at + 4, at + 6), 16) : 0x100;
    default: // " \ /
      return c;
  }
}

/**
 * The places in `value` (at most `maxDepth` deep, see `membersWithin`) where a member
 * name or a string holds a lone surrogate. Each is replaced where it is, by its
 * well-formed version (U+FFFD for each lone half), so that no later message or stored
 * value can carry it; the returned paths are well-formed too. The caller rejects what
 * held them.
 */
export function replaceLoneSurrogates(value: TreeValue, maxDepth = MAX_JSON_DEPTH): PathSegment[][] {
  const found: PathSegment[][] = [];
  for (const { node, path } of containers(value, maxDepth)) {
    for (const at of keysOf(node)) {
      let key = at;
      if (typeof at === 'string' && !at.isWellFormed()) {
        key = at.toWellFormed();
        const child = node[at]!;
        delete node[at];
        node[key] = child;
        found.push([...path, key]);
      }
      const child = node[key];
      if (typeof child !== 'string' || child.isWellFormed()) continue;
      node[key] = child.toWellFormed();
      // A member already reported for its name is not reported again for its value.
      if (key === at) found.push([...path, key]);
    }
  }
  return found;
}

type Container = Record<string | number, TreeValue>;

const isContainer = (value: TreeValue | undefined): value is TreeValue[] | Container => typeof value === 'object' && value !== null;

const keysOf = (node: Container): Iterable<string | number> => (Array.isArray(node) ? node.keys() : Object.keys(node));

/**
 * Every object and array in `value` down to `maxDepth` (the top is 1), with its path:
 * a stack of its own, never recursion. Each is handed out before its children are taken,
 * so that what the caller changes in it (a member cut or renamed) is what is walked on.
 */
function* containers(value: TreeValue, maxDepth: number): Generator<{ node: Container; path: PathSegment[] }> {
  const stack: { node: Container; path: PathSegment[] }[] = [];
  if (isContainer(value)) stack.push({ node: value as Container, path: [] });
  for (let top = stack.pop(); top !== undefined; top = stack.pop()) {
    yield top;
    const { node, path } = top;
    if (path.length + 1 >= maxDepth) continue;
    for (const at of keysOf(node)) {
      const child = node[at];
      if (isContainer(child)) stack.push({ node: child as Container, path: [...path, at] });
    }
  }
}
