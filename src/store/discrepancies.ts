/** Discrepancies and decisions: what reconciliation found for staff, and what staff decided (never resolved silently). */
import type { DiscrepancyFinding } from '../reconcile/model.ts';
import { chunks } from './chunks.ts';
import type { Queryable } from './db.ts';

/** What staff may decide of an open discrepancy. */
export type DiscrepancyDecision = 'accepted' | 'overridden' | 'dismissed';

/** A discrepancy as the staff API lists it. */
export interface DiscrepancyView {
  id: number;
  kind: string;
  partner: string;
  key: string | null;
  mid: string | null;
  detail: Record<string, unknown>;
  state: 'open' | DiscrepancyDecision;
  exchangeId: string;
  openedAt: Date;
  decidedBy: string | null;
  decidedAt: Date | null;
  reason: string | null;
}

/** Opens discrepancies; one already open with the same dedupe key is not opened twice. */
export async function openDiscrepancies(tx: Queryable, findings: readonly DiscrepancyFinding[]): Promise<void> {
  for (const part of chunks(findings)) {
    await tx.query(
      `insert into discrepancies (kind, partner, record_key, mid, detail, dedupe_key, opened_exchange)
       select k, p, r, m, d::jsonb, dk, x::uuid from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[]) as t(k, p, r, m, d, dk, x)
       on conflict (dedupe_key) where state = 'open' do nothing`,
      [part.map((f) => f.kind), part.map((f) => f.partner), part.map((f) => f.key), part.map((f) => f.mid ?? null), part.map((f) => JSON.stringify(f.detail)), part.map((f) => f.dedupeKey), part.map((f) => f.exchangeId)],
    );
  }
}

/** Which of these dedupe keys belong to a discrepancy staff have decided. */
export async function decidedDiscrepancies(q: Queryable, dedupeKeys: readonly string[]): Promise<Set<string>> {
  const decided = new Set<string>();
  for (const part of chunks(dedupeKeys)) {
    const { rows } = await q.query<{ dedupe_key: string }>("select distinct dedupe_key from discrepancies where state in ('accepted', 'overridden', 'dismissed') and dedupe_key = any($1::text[])", [part]);
    for (const r of rows) decided.add(r.dedupe_key);
  }
  return decided;
}

/** The dedupe keys of the partner's mid-conflicts staff have decided: the links whose benefits a conflict no longer holds. */
export async function decidedMidConflicts(q: Queryable, partner: string): Promise<Set<string>> {
  const { rows } = await q.query<{ dedupe_key: string }>(
    "select distinct dedupe_key from discrepancies where kind = 'mid-conflict' and partner = $1 and state in ('accepted', 'overridden', 'dismissed')",
    [partner],
  );
  return new Set(rows.map((r) => r.dedupe_key));
}

/** What discrepancies may be filtered by. */
export interface DiscrepancyFilter {
  state: DiscrepancyView['state'] | 'all';
  partner?: string | undefined;
  kind?: string | undefined;
  mid?: string | undefined;
}

const VIEW_COLUMNS = `id::int as id, kind, partner, record_key as key, mid, detail, state, opened_exchange as "exchangeId", opened_at as "openedAt",
  decided_by as "decidedBy", decided_at as "decidedAt", decision_reason as reason`;

/** A page of discrepancies matching `filter`, with ids above `after`, in id order (oldest first: a work queue). */
export async function listDiscrepancies(q: Queryable, page: DiscrepancyFilter & { after: number; limit: number }): Promise<DiscrepancyView[]> {
  const { rows } = await q.query<DiscrepancyView>(
    `select ${VIEW_COLUMNS} from discrepancies
     where id > $1 and ($2 = 'all' or state = $2) and ($3::text is null or partner = $3) and ($4::text is null or kind = $4) and ($5::text is null or mid = $5)
     order by id limit $6`,
    [page.after, page.state, page.partner ?? null, page.kind ?? null, page.mid ?? null, page.limit],
  );
  return rows;
}

/** One discrepancy, if it exists. */
export async function discrepancyById(q: Queryable, id: number): Promise<DiscrepancyView | undefined> {
  const { rows } = await q.query<DiscrepancyView>(`select ${VIEW_COLUMNS} from discrepancies where id = $1`, [id]);
  return rows[0];
}

/** Records staff's decision on discrepancy `id` if it is still open; false if it is not (decided before, or no such id). */
export async function decideDiscrepancy(tx: Queryable, id: number, decision: { decision: DiscrepancyDecision; by: string; reason: string }): Promise<boolean> {
  const { rows } = await tx.query<{ id: number }>(
    "update discrepancies set state = $2, decided_by = $3, decided_at = now(), decision_reason = $4 where id = $1 and state = 'open' returning id::int as id",
    [id, decision.decision, decision.by, decision.reason],
  );
  return rows.length > 0;
}

/** Whether discrepancy `id` exists. */
export async function discrepancyExists(q: Queryable, id: number): Promise<boolean> {
  const { rows } = await q.query('select 1 from discrepancies where id = $1', [id]);
  return rows.length > 0;
}

/** How many discrepancies are open, by partner. */
export async function openCountsByPartner(q: Queryable): Promise<Map<string, number>> {
  const { rows } = await q.query<{ partner: string; n: number }>("select partner, count(*)::int as n from discrepancies where state = 'open' group by partner");
  return new Map(rows.map((r) => [r.partner, r.n]));
}
