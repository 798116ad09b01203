/** The benefit feed: append-only changes of benefits per MID; an entry's id is the cursor a reader follows. */
import type { BenefitChange } from '../reconcile/model.ts';
import { chunks } from './chunks.ts';
import type { Queryable } from './db.ts';

/** One feed entry as `GET /v1/benefits/changes` serves it. */
export interface FeedEntry {
  id: number;
  mid: string;
  partner: string;
  record: string;
  benefit: string;
  change: 'start' | 'end';
  effective: string;
  /** The batch that caused the change; null for an end the MRA calendar wrote. */
  exchangeId: string | null;
  /** Why the MRA calendar wrote the entry (`mra-ended`, `mra-not-in-force`, `scope-narrowed`); null for a batch's entry. */
  cause: string | null;
}

/**
 * Appends feed entries; an entry already recorded for the same batch, or the same
 * calendar end (same record, MID, benefit, date and cause), is not added again.
 */
export async function appendBenefitChanges(tx: Queryable, changes: readonly BenefitChange[]): Promise<void> {
  for (const part of chunks(changes)) {
    // No conflict target: a batch's entry meets the (exchange_id, …) key, a calendar end the partial index of 0005.
    await tx.query(
      `insert into benefit_changes (mid, partner, record_key, benefit, change, effective, exchange_id, cause)
       select m, p, k, b, c, e::date, x::uuid, w from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[]) as t(m, p, k, b, c, e, x, w)
       on conflict do nothing`,
      [
        part.map((c) => c.mid),
        part.map((c) => c.partner),
        part.map((c) => c.key),
        part.map((c) => c.benefit),
        part.map((c) => c.change),
        part.map((c) => c.effective),
        part.map((c) => c.exchangeId),
        part.map((c) => c.cause ?? null),
      ],
    );
  }
}

/** Up to `limit` entries after the cursor `after`, in feed order. */
export async function feedAfter(q: Queryable, after: number, limit: number): Promise<FeedEntry[]> {
  const { rows } = await q.query<FeedEntry>(
    `select id::int as id, mid, partner, record_key as record, benefit, change, effective::text as effective, exchange_id as "exchangeId", cause
     from benefit_changes where id > $1 order by id limit $2`,
    [after, limit],
  );
  return rows;
}

/** How many entries the feed holds. */
export async function feedLength(q: Queryable): Promise<number> {
  const { rows } = await q.query<{ n: number }>('select count(*)::int as n from benefit_changes');
  return rows[0]!.n;
}

/** How many distinct MIDs the feed names, by partner. */
export async function feedMidsByPartner(q: Queryable): Promise<Map<string, number>> {
  const { rows } = await q.query<{ partner: string; n: number }>('select partner, count(distinct mid)::int as n from benefit_changes group by partner');
  return new Map(rows.map((r) => [r.partner, r.n]));
}
