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
export function setterAt(path: readonly string[], followers: readonly string[] = []): (root: Bag, value: unknown) => void {
  if (path.length === 0) return (root, value) => setAt(root, path, value);
  // Generated from JSON string literals only: a mapping cannot put code in it.
  return new Function('root', 'value', storeCode(path, 'root', 'value', followers)) as (root: Bag, value: unknown) => void;
}

/**
 * JavaScript that does `setAt(root, path, value)` for a fixed, non-empty path, `root` and
 * `value` being expressions (names of variables, or literals) and each name a JSON string
 * literal. An object missing on the way is made by an object literal that already holds
 * the rest of the path: V8 tracks where literals are made and, seeing that records keep
 * nearly all they make, allocates them straight among the old objects, which the
 * collector then never copies (`{}` filled afterwards is not tracked so; issue 10: garbage
 * collection was the largest cost of reading a large document). The members end up the
 * same and in the same order.
 *
 * `followers`: members the object holding the last name is certain to be given next, in
 * this order, by later stores. The literal holds them from the start (as undefined, until
 * those stores fill them): a literal has room for exactly its own members, and each
 * member added afterwards went to an array of its own, allocated among the young objects
 * and moved twice by the collector (issue 10: one such array per nested object of a
 * record). The caller must be sure every one is stored before the object is used.
 */
export function storeCode(path: readonly string[], root: string, value: string, followers: readonly string[] = []): string {
  const names = path.map((segment) => JSON.stringify(segment));
  // In a literal `"__proto__": v` sets the prototype, where a store sets a member (or the prototype, as setAt does): plain stores for such a path.
  const literal = !path.includes('__proto__') && !followers.includes('__proto__');
  const later = followers.map((name) => `, ${JSON.stringify(name)}: undefined`).join('');
  // The object that holds the last name is made with room for its followers (see below); the ones above it are not.
  const nested = (from: number) => names.slice(from).reduceRight((inner, name, i) => `{ ${name}: ${inner}${i === names.length - from - 1 ? later : ''} }`, value);
  const step = (i: number): string => {
    const name = names[i]!;
    if (i === names.length - 1) return `cur[${name}] = ${value};`;
    const make = literal ? `cur[${name}] = ${nested(i + 1)};` : `next = {}; cur[${name}] = next; cur = next; ${step(i + 1)}`;
    return `next = cur[${name}]; if (typeof next !== 'object' || next === null) { ${make} } else { cur = next; ${step(i + 1)} }`;
  };
  return `{ let cur = ${root}, next; ${step(0)} }`;
}
