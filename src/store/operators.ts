/**
 * Operators, MID links, the benefit feed, discrepancies and C-TPAT members: what
 * reconciliation loads before it decides and saves after, and what status questions read.
 */
import type { Operator } from '../canonical/operator.ts';
import type { BenefitChange, DiscrepancyFinding, HeldOperator, ReconcilePlan } from '../reconcile/model.ts';
import type { Queryable } from './db.ts';

interface OperatorRow {
  partner: string;
  record_key: string;
  record: Operator;
  withdrawn_reason: 'consent' | 'snapshot-omission' | null;
  withdrawn_since: string | null;
  recognition_state: HeldOperator['recognition']['state'];
  recognition_since: string;
  recognition_exchange: string;
  benefits: HeldOperator['benefits'];
  current_mids: string[];
  last_exchange: string;
  last_sequence: number;
}

const OPERATOR_COLUMNS = `partner, record_key, record, withdrawn_reason, withdrawn_since::text as withdrawn_since, recognition_state,
  recognition_since::text as recognition_since, recognition_exchange, benefits, current_mids, last_exchange, last_sequence`;

function held(row: OperatorRow): HeldOperator {
  return {
    partner: row.partner,
    key: row.record_key,
    record: row.record,
    ...(row.withdrawn_reason && { withdrawn: { reason: row.withdrawn_reason, since: row.withdrawn_since! } }),
    recognition: { state: row.recognition_state, since: row.recognition_since, exchangeId: row.recognition_exchange },
    benefits: row.benefits,
    currentMids: row.current_mids,
    lastExchangeId: row.last_exchange,
    lastSequence: row.last_sequence,
  };
}

/** What the gateway holds for a partner: every operator, or those with these keys. */
export async function loadHeld(q: Queryable, partner: string, keys?: readonly string[]): Promise<Map<string, HeldOperator>> {
  const { rows } =
    keys === undefined
      ? await q.query<OperatorRow>(`select ${OPERATOR_COLUMNS} from operators where partner = $1`, [partner])
      : await q.query<OperatorRow>(`select ${OPERATOR_COLUMNS} from operators where partner = $1 and record_key = any($2::text[])`, [partner, keys]);
  return new Map(rows.map((r) => [r.record_key, held(r)]));
}

/** Current links of these MIDs, by MID. */
export async function midOwners(q: Queryable, mids: readonly string[]): Promise<Map<string, { partner: string; key: string }[]>> {
  const owners = new Map<string, { partner: string; key: string }[]>();
  if (mids.length === 0) return owners;
  const { rows } = await q.query<{ mid: string; partner: string; record_key: string }>('select mid, partner, record_key from mid_links where mid = any($1::text[])', [mids]);
  for (const r of rows) owners.set(r.mid, [...(owners.get(r.mid) ?? []), { partner: r.partner, key: r.record_key }]);
  return owners;
}

/** Dedupe keys of discrepancies staff have decided: such a finding is not opened again. */
export async function decidedDiscrepancies(q: Queryable, dedupeKeys: readonly string[]): Promise<Set<string>> {
  if (dedupeKeys.length === 0) return new Set();
  const { rows } = await q.query<{ dedupe_key: string }>("select distinct dedupe_key from discrepancies where state in ('accepted', 'overridden', 'dismissed') and dedupe_key = any($1::text[])", [dedupeKeys]);
  return new Set(rows.map((r) => r.dedupe_key));
}

/** C-TPAT members that own these MIDs. */
export async function ctpatByMid(q: Queryable, mids: readonly string[]): Promise<Map<string, { account: string; status: string }>> {
  if (mids.length === 0) return new Map();
  const { rows } = await q.query<{ mid: string; account: string; status: string }>(
    'select l.mid, m.account, m.status from ctpat_mids l join ctpat_members m on m.account = l.account where l.mid = any($1::text[])',
    [mids],
  );
  return new Map(rows.map((r) => [r.mid, { account: r.account, status: r.status }]));
}

const CHUNK = 1000;

function chunks<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += CHUNK) out.push(items.slice(i, i + CHUNK));
  return out;
}

/**
 * Saves what reconciling one batch decided, in the caller's transaction, with the
 * identifiers status questions find each operator by (`identifiers`, by record key). Rows
 * go in chunks of a thousand through `unnest`, so that a 100,000-record SNAPSHOT is a few
 * hundred statements, not half a million.
 */
export async function savePlan(tx: Queryable, exchangeId: string, sequence: number, plan: ReconcilePlan, identifiers: ReadonlyMap<string, readonly { scheme: string; value: string }[]>): Promise<void> {
  const changes = new Map(plan.versions.map((v) => [v.key, v.change]));
  for (const part of chunks(plan.upserts)) {
    const partner = part[0]!.partner;
    const keys = part.map((op) => op.key);
    await tx.query(
      `insert into operators (partner, record_key, record, withdrawn_reason, withdrawn_since, recognition_state, recognition_since, recognition_exchange, benefits, current_mids, last_exchange, last_sequence)
       select $1, k, r::jsonb, wr, ws::date, rs, rsi::date, re::uuid, b::jsonb, array(select jsonb_array_elements_text(m::jsonb)), le::uuid, $2
       from unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[]) as t(k, r, wr, ws, rs, rsi, re, b, m, le)
       on conflict (partner, record_key) do update set record = excluded.record, withdrawn_reason = excluded.withdrawn_reason, withdrawn_since = excluded.withdrawn_since,
         recognition_state = excluded.recognition_state, recognition_since = excluded.recognition_since, recognition_exchange = excluded.recognition_exchange,
         benefits = excluded.benefits, current_mids = excluded.current_mids, last_exchange = excluded.last_exchange, last_sequence = excluded.last_sequence, updated_at = now()`,
      [
        partner,
        sequence,
        keys,
        part.map((op) => JSON.stringify(op.record)),
        part.map((op) => op.withdrawn?.reason ?? null),
        part.map((op) => op.withdrawn?.since ?? null),
        part.map((op) => op.recognition.state),
        part.map((op) => op.recognition.since),
        part.map((op) => op.recognition.exchangeId),
        part.map((op) => JSON.stringify(op.benefits)),
        part.map((op) => JSON.stringify(op.currentMids)),
        part.map((op) => op.lastExchangeId),
      ],
    );
    await tx.query(
      `insert into operator_versions (partner, record_key, exchange_id, sequence, change, record)
       select $1, k, $2, $3, c, r::jsonb from unnest($4::text[], $5::text[], $6::text[]) as t(k, c, r)
       on conflict (partner, record_key, exchange_id) do nothing`,
      [partner, exchangeId, sequence, keys, part.map((op) => changes.get(op.key)!), part.map((op) => JSON.stringify(op.record))],
    );
    await tx.query('delete from mid_links where partner = $1 and record_key = any($2::text[])', [partner, keys]);
    const links = part.flatMap((op) => op.currentMids.map((mid) => [mid, op.key] as const));
    if (links.length > 0) {
      await tx.query('insert into mid_links (mid, partner, record_key) select m, $1, k from unnest($2::text[], $3::text[]) as t(m, k) on conflict do nothing', [partner, links.map((l) => l[0]), links.map((l) => l[1])]);
    }
    await tx.query('delete from operator_identifiers where partner = $1 and record_key = any($2::text[])', [partner, keys]);
    const ids = part.flatMap((op) => (identifiers.get(op.key) ?? []).map((id) => [id.scheme, id.value, op.key] as const));
    await tx.query(
      'insert into operator_identifiers (scheme, value, partner, record_key) select s, v, $1, k from unnest($2::text[], $3::text[], $4::text[]) as t(s, v, k) on conflict do nothing',
      [partner, ids.map((i) => i[0]), ids.map((i) => i[1]), ids.map((i) => i[2])],
    );
  }
  await appendBenefitChanges(tx, plan.benefitChanges);
  await openDiscrepancies(tx, plan.discrepancies);
}

/** Appends feed entries; an entry already recorded for the same batch is not added again. */
export async function appendBenefitChanges(tx: Queryable, changes: readonly BenefitChange[]): Promise<void> {
  for (const part of chunks(changes)) {
    await tx.query(
      `insert into benefit_changes (mid, partner, record_key, benefit, change, effective, exchange_id)
       select m, p, k, b, c, e::date, x::uuid from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[]) as t(m, p, k, b, c, e, x)
       on conflict (exchange_id, mid, partner, record_key, benefit, change) do nothing`,
      [part.map((c) => c.mid), part.map((c) => c.partner), part.map((c) => c.key), part.map((c) => c.benefit), part.map((c) => c.change), part.map((c) => c.effective), part.map((c) => c.exchangeId)],
    );
  }
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
