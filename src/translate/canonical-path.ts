/** Reading and writing canonical records by dotted path (`address.city`, `status.code`). */

type Bag = Record<string, unknown>;

/** The value at `path` in a canonical object, or undefined. */
export function getAt(root: unknown, path: readonly string[]): unknown {
  let cur: unknown = root;
  for (const segment of path) {
    if (typeof cur !== 'object' || cur === null) return undefined;
    cur = (cur as Bag)[segment];
  }
  return cur;
}

/** Sets `value` at `path`, creating the objects on the way. */
export function setAt(root: Bag, path: readonly string[], value: unknown): void {
  let cur = root;
  for (let i = 0; i < path.length - 1; i++) {
    const segment = path[i]!;
    let next = cur[segment];
    if (typeof next !== 'object' || next === null) {
      next = {};
      cur[segment] = next;
    }
    cur = next as Bag;
  }
  cur[path[path.length - 1]!] = value;
}

/** Removes the value at `path`, if any. */
export function deleteAt(root: Bag, path: readonly string[]): void {
  const parent = getAt(root, path.slice(0, -1));
  if (typeof parent === 'object' && parent !== null) delete (parent as Bag)[path[path.length - 1]!];
}

export const dotted = (path: string): string[] => path.split('.');

/**
 * `setAt` for one fixed path, made once per compiled field. Each setter is a function of
 * its own with the member names written in (as JSON string literals): V8 then keeps one
 * inline cache per setter, where one closure shared by every field would see every name
 * and every object shape and fall back to its slowest, megamorphic store, which cost more
 * than all the rest of reading a record.
 */
export function setterAt(path: readonly string[]): (root: Bag, value: unknown) => void {
  if (path.length === 0) return (root, value) => setAt(root, path, value);
  const names = path.map((segment) => JSON.stringify(segment));
  const last = names.pop()!;
  const body = ['let cur = root, next;'];
  for (const name of names) body.push(`next = cur[${name}];`, `if (typeof next !== 'object' || next === null) { next = {}; cur[${name}] = next; }`, 'cur = next;');
  body.push(`cur[${last}] = value;`);
  // Generated from JSON string literals only: a mapping cannot put code in it.
  return new Function('root', 'value', body.join('\n')) as (root: Bag, value: unknown) => void;
}
