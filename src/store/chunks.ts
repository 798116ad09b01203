/** Rows written in chunks: a 100,000-record SNAPSHOT is a few hundred statements through `unnest`, not half a million. */
const CHUNK = 1000;

/** `items` cut into runs of at most a thousand. */
export function chunks<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += CHUNK) out.push(items.slice(i, i + CHUNK));
  return out;
}
