/** The store's instance id (migration 0003): the default Redis key prefix is derived from it. */
import type { Queryable } from './db.ts';

/** This store's instance id. */
export async function instanceId(q: Queryable): Promise<string> {
  const { rows } = await q.query<{ id: string }>('select id from gateway_instance limit 1');
  return rows[0]!.id;
}
