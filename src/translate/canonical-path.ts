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
