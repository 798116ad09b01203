/**
 * Random edits to a canonical record, for property tests that compare a fast path with
 * the one it replaced on records a partner or staff could really send: members removed,
 * or replaced by values of another kind.
 */

/** Every path to a member of a record, arrays' items included. */
export function pathsOf(value: unknown, at: (string | number)[] = [], into: (string | number)[][] = []): (string | number)[][] {
  if (typeof value !== 'object' || value === null) return into;
  for (const key of Object.keys(value)) {
    const path = [...at, Array.isArray(value) ? Number(key) : key];
    into.push(path);
    pathsOf((value as Record<string, unknown>)[key], path, into);
  }
  return into;
}

/** One edit as fast-check generates it: which path (modulo their count), delete or replace (op % 3 === 0 deletes), and the new value. */
export type RecordEdit = readonly [pick: number, op: number, value: unknown];

/** Applies `edits` to `record` in place, in order. */
export function applyEdits(record: Record<string, unknown>, edits: readonly RecordEdit[]): void {
  for (const [pick, op, value] of edits) {
    const paths = pathsOf(record);
    if (paths.length === 0) return;
    const path = paths[pick % paths.length]!;
    let parent = record as Record<string | number, unknown>;
    for (const segment of path.slice(0, -1)) parent = parent[segment] as Record<string | number, unknown>;
    if (op % 3 === 0) delete parent[path.at(-1)!];
    else parent[path.at(-1)!] = structuredClone(value); // a copy: fc.constant gives the same object to every run
  }
}
