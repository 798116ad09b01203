/**
 * Member names that appear twice in one JSON object. JSON.parse silently keeps the last
 * value, which would lose data without a word; this second pass over text that JSON.parse
 * has already accepted finds them. It only tracks strings and brackets, and skips each
 * string with indexOf, so it costs a fraction of the parse; `mayRepeatMembers`, cheaper
 * still, tells whether a document needs it at all.
 */
import type { PathSegment } from './tree.ts';

interface Frame {
  object: boolean;
  keys: Set<string>;
  expectKey: boolean;
  index: number;
  /** Whether entering this container pushed a segment onto the path. */
  pushed: boolean;
}

/** Paths (from the root) of every repeated member of well-formed JSON `text`, at most `limit`. */
export function duplicateMembers(text: string, limit = 100): PathSegment[][] {
  const found: PathSegment[][] = [];
  const stack: Frame[] = [];
  const path: PathSegment[] = [];
  let lastKey = '';
  for (let i = 0; i < text.length && found.length < limit; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      const end = closingQuote(text, i);
      const top = stack[stack.length - 1];
      if (top?.object && top.expectKey) {
        const raw = text.slice(i + 1, end);
        const key = raw.includes('\\') ? (JSON.parse(text.slice(i, end + 1)) as string) : raw;
        if (top.keys.has(key)) found.push([...path, key]);
        top.keys.add(key);
        top.expectKey = false;
        lastKey = key;
      }
      i = end;
    } else if (c === 0x7b || c === 0x5b) {
      const parent = stack[stack.length - 1];
      if (parent) path.push(parent.object ? lastKey : parent.index);
      stack.push({ object: c === 0x7b, keys: new Set(), expectKey: c === 0x7b, index: 0, pushed: parent !== undefined });
    } else if (c === 0x7d || c === 0x5d) {
      if (stack.pop()?.pushed) path.pop();
    } else if (c === 0x2c) {
      const top = stack[stack.length - 1]!;
      if (top.object) top.expectKey = true;
      else top.index++;
    }
  }
  return found;
}

/** Index of the quote that closes the string opened at `start` (one not escaped by a backslash). */
function closingQuote(text: string, start: number): number {
  let from = start + 1;
  for (;;) {
    const q = text.indexOf('"', from);
    let backslashes = 0;
    while (text.charCodeAt(q - 1 - backslashes) === 0x5c) backslashes++;
    if (backslashes % 2 === 0) return q;
    from = q + 1;
  }
}

/**
 * Whether well-formed JSON `text`, in whose parsed value `membersWithin` counted
 * `members`, may repeat a member name; false only when it certainly does not. Each
 * repeat leaves the parsed objects one member short of the text, so the members JSON.parse
 * kept are counted against the member names in the text: a quote followed (after white
 * space) by a colon. Every member name ends so; a string holding an escaped quote before
 * a colon can only add to the text's count, which errs towards the precise
 * `duplicateMembers`, never past a repeat.
 */
export function mayRepeatMembers(text: string, members: number): boolean {
  return memberNamesIn(text) !== members;
}

function memberNamesIn(text: string): number {
  let names = 0;
  for (let i = text.indexOf(':'); i !== -1; i = text.indexOf(':', i + 1)) {
    let j = i - 1;
    let c = text.charCodeAt(j);
    while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = text.charCodeAt(--j);
    if (c === 0x22) names++;
  }
  return names;
}
