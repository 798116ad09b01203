/** Whether the store answers: readiness asks it before it says ready. */
import type { Queryable } from './db.ts';

/** Resolves if the store answers a trivial query; rejects otherwise. */
export async function ping(q: Queryable): Promise<void> {
  await q.query('select 1');
}
