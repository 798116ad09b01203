/** Retention: raw documents of exchanges applied before a cut are removed, chunk by chunk; digest, signature header and receipt stay. */
import type { Queryable } from './db.ts';

/**
 * Removes the bodies of at most `limit` exchanges applied before `cut` whose document is
 * still held, oldest first, recording `removedAt`; returns how many. Rows another run is
 * removing at the same moment are skipped, not waited for.
 */
export async function removeDocumentsChunk(tx: Queryable, cut: Date, removedAt: Date, limit: number): Promise<number> {
  const { rows } = await tx.query<{ id: string }>(
    `with due as (
       select id from exchanges
        where state = 'applied' and applied_at < $1 and document_removed_at is null
        order by applied_at
        limit $3
        for update skip locked),
     removed as (update exchanges e set body = null, document_removed_at = $2 from due where e.id = due.id returning e.id),
     -- The pieces after the first (migration 0011) go in the same statement.
     pieces as (delete from exchange_body_pieces p using removed where p.exchange_id = removed.id)
     select id from removed`,
    [cut, removedAt, limit],
  );
  return rows.length;
}

/**
 * Removes pieces of bodies that never became an exchange, written more than a day before
 * (by the server's clock, which dated them): what a crash in the middle of an upload left
 * (stage-body.ts). A day is longer than any upload lasts. Returns how many.
 */
export async function removeOrphanPieces(q: Queryable): Promise<number> {
  const { rows } = await q.query<{ n: number }>(
    `with removed as (
       delete from exchange_body_pieces p where p.written_at < now() - interval '1 day' and not exists (select 1 from exchanges e where e.id = p.exchange_id) returning 1)
     select count(*)::int as n from removed`,
  );
  return rows[0]!.n;
}
