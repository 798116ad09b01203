/**
 * Operators, recognitions and benefits: what the gateway holds for each partner record
 * (its recognition and benefits in force), its MID links, the identifiers status
 * questions look it up by, and the version log of what each partner said.
 */
import type { Operator } from '../canonical/operator.ts';
import type { HeldOperator, OperatorVersion } from '../reconcile/model.ts';
import { chunks } from './chunks.ts';
import type { Queryable } from './db.ts';

/** A partner record, by partner and record key. */
export interface OperatorRef {
  partner: string;
  key: string;
}

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

/** jsonb's binary form is its version, 1, then the text: the server reads it as it reads text. */
const JSONB_BINARY_START = Buffer.from([1, 0x5b]); // version 1, then "["
const COMMA = Buffer.from(',');
const CLOSE = Buffer.from(']');

/**
 * One JSON array of these items' JSON texts as a binary jsonb parameter, which the
 * statement takes apart (jsonb_array_elements). A text[] of the same texts made the
 * driver escape every quote of every record (1 s of a 100,000-record apply, profiled).
 * Bytes rather than a string: a window's array of records runs to hundreds of
 * kilobytes, and a string that large is made in V8's large-object space, which only a
 * full collection frees; with windows of 1,000, a first SNAPSHOT of 100,000 left 110 MiB
 * of them behind before the first one came.
 */
function jsonArray<T>(items: readonly T[], json: (item: T) => string | Buffer): Buffer {
  const parts: Buffer[] = [JSONB_BINARY_START];
  for (let i = 0; i < items.length; i++) {
    if (i > 0) parts.push(COMMA);
    const text = json(items[i]!);
    parts.push(typeof text === 'string' ? Buffer.from(text) : text);
  }
  parts.push(CLOSE);
  return Buffer.concat(parts);
}

/** What the gateway holds for a partner: every operator, or those with these keys. */
export async function loadHeld(q: Queryable, partner: string, keys?: readonly string[]): Promise<Map<string, HeldOperator>> {
  const heldByKey = new Map<string, HeldOperator>();
  if (keys === undefined) {
    const { rows } = await q.query<OperatorRow>(`select ${OPERATOR_COLUMNS} from operators where partner = $1`, [partner]);
    for (const r of rows) heldByKey.set(r.record_key, held(r));
  }
  for (const part of keys === undefined ? [] : chunks(keys)) {
    const { rows } = await q.query<OperatorRow>(`select ${OPERATOR_COLUMNS} from operators where partner = $1 and record_key = any($2::text[])`, [partner, part]);
    for (const r of rows) heldByKey.set(r.record_key, held(r));
  }
  return heldByKey;
}

/** A record a batch carries, with the digest of the text it will be written as. */
export interface IncomingRecord {
  record: Operator;
  digest: string;
}

/**
 * What the gateway holds for these keys, where a held record whose digest is the
 * incoming one's is not read back: the incoming record object stands in for it (the
 * same text, so the same value), and `sameRecord` names those keys.
 */
export async function loadHeldAgainst(
  q: Queryable,
  partner: string,
  keys: readonly string[],
  incoming: ReadonlyMap<string, IncomingRecord>,
): Promise<{ held: Map<string, HeldOperator>; sameRecord: Set<string> }> {
  const heldByKey = new Map<string, HeldOperator>();
  const sameRecord = new Set<string>();
  for (const part of chunks(keys)) {
    const { rows } = await q.query<Omit<OperatorRow, 'record'> & { record: Operator | null }>(
      `select partner, record_key, case when record_digest = t.d then null else record end as record, withdrawn_reason, withdrawn_since::text as withdrawn_since,
         recognition_state, recognition_since::text as recognition_since, recognition_exchange, benefits, current_mids, last_exchange, last_sequence
       from operators o join unnest($2::text[], $3::text[]) as t(k, d) on o.record_key = t.k where o.partner = $1`,
      [partner, part, part.map((key) => incoming.get(key)?.digest ?? null)],
    );
    for (const r of rows) {
      const same = r.record === null;
      if (same) sameRecord.add(r.record_key);
      heldByKey.set(r.record_key, held({ ...r, record: same ? incoming.get(r.record_key)!.record : r.record! }));
    }
  }
  return { held: heldByKey, sameRecord };
}

/** Which of the partner's operators the gateway holds, each with whether it is withdrawn: every one, or those with these keys. */
export async function heldKeys(q: Queryable, partner: string, keys?: readonly string[]): Promise<Map<string, { withdrawn: boolean }>> {
  const held = new Map<string, { withdrawn: boolean }>();
  const select = 'select record_key, withdrawn_reason is not null as withdrawn from operators where partner = $1';
  const parts = keys === undefined ? [undefined] : chunks(keys);
  for (const part of parts) {
    const { rows } = await q.query<{ record_key: string; withdrawn: boolean }>(part === undefined ? select : `${select} and record_key = any($2::text[])`, part === undefined ? [partner] : [partner, part]);
    for (const r of rows) held.set(r.record_key, { withdrawn: r.withdrawn });
  }
  return held;
}

/** The MID links of these operators' records (valid dates included), by key. */
export async function recordMids(q: Queryable, partner: string, keys: readonly string[]): Promise<Map<string, Operator['mids']>> {
  const byKey = new Map<string, Operator['mids']>();
  for (const part of chunks(keys)) {
    const { rows } = await q.query<{ record_key: string; mids: Operator['mids'] }>("select record_key, record->'mids' as mids from operators where partner = $1 and record_key = any($2::text[])", [partner, part]);
    for (const r of rows) byKey.set(r.record_key, r.mids);
  }
  return byKey;
}

/** The partner's operators whose held recognition is not out-of-scope: all the MRA calendar can end. */
export async function loadNotOutOfScope(q: Queryable, partner: string): Promise<Map<string, HeldOperator>> {
  const { rows } = await q.query<OperatorRow>(`select ${OPERATOR_COLUMNS} from operators where partner = $1 and recognition_state <> 'out-of-scope'`, [partner]);
  return new Map(rows.map((r) => [r.record_key, held(r)]));
}

/**
 * Saves a new recognition and the benefits in force of these operators (the MRA
 * calendar's decision); their record, MID links and identifiers stay as the last batch left them.
 */
export async function saveRecognitions(tx: Queryable, operators: readonly HeldOperator[]): Promise<void> {
  for (const part of chunks(operators)) {
    await tx.query(
      `update operators o set recognition_state = t.rs, recognition_since = t.rsi::date, recognition_exchange = t.re::uuid, benefits = t.b::jsonb, updated_at = now()
       from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[]) as t(p, k, rs, rsi, re, b)
       where o.partner = t.p and o.record_key = t.k`,
      [
        part.map((op) => op.partner),
        part.map((op) => op.key),
        part.map((op) => op.recognition.state),
        part.map((op) => op.recognition.since),
        part.map((op) => op.recognition.exchangeId),
        part.map((op) => JSON.stringify(op.benefits)),
      ],
    );
  }
}

/** Current links of these MIDs by the partner's operators, by MID (another partner's links are no conflict: see midConflictFindings). */
export async function midOwners(q: Queryable, partner: string, mids: readonly string[]): Promise<Map<string, OperatorRef[]>> {
  const owners = new Map<string, OperatorRef[]>();
  for (const part of chunks(mids)) {
    const { rows } = await q.query<{ mid: string; partner: string; record_key: string }>('select mid, partner, record_key from mid_links where mid = any($1::text[]) and partner = $2', [part, partner]);
    for (const r of rows) owners.set(r.mid, [...(owners.get(r.mid) ?? []), { partner: r.partner, key: r.record_key }]);
  }
  return owners;
}

/**
 * Saves the new state of these operators (one partner's batch), their MID links and the
 * identifiers status questions find them by (`identifiers`, by record key). `wasHeld`
 * says which keys the store held before: a new key has no links or identifiers to
 * replace, and not asking saves two statements a window that the planner, within the
 * transaction that fills the tables, answered with a scan (3.5 and 2.2 s over a first
 * SNAPSHOT of 100,000).
 */
export async function saveOperators(
  tx: Queryable,
  upserts: readonly HeldOperator[],
  identifiers: ReadonlyMap<string, readonly { scheme: string; value: string }[]>,
  wasHeld: (key: string) => boolean,
  recordJson: (record: Operator) => string | Buffer = JSON.stringify,
  recordDigest: (record: Operator) => string | null = () => null,
): Promise<void> {
  for (const part of chunks(upserts)) {
    const partner = part[0]!.partner;
    const keys = part.map((op) => op.key);
    const replaced = keys.filter(wasHeld);
    await tx.query(
      `insert into operators (partner, record_key, record, withdrawn_reason, withdrawn_since, recognition_state, recognition_since, recognition_exchange, benefits, current_mids, last_exchange, last_sequence, record_digest)
       select $1, k, r, wr, ws::date, rs, rsi::date, re::uuid, b, array(select jsonb_array_elements_text(m)), le::uuid, $2, d
       from rows from (unnest($3::text[]), jsonb_array_elements($4::jsonb), unnest($5::text[]), unnest($6::text[]), unnest($7::text[]), unnest($8::text[]), unnest($9::text[]),
         jsonb_array_elements($10::jsonb), jsonb_array_elements($11::jsonb), unnest($12::text[]), unnest($13::text[])) as t(k, r, wr, ws, rs, rsi, re, b, m, le, d)
       on conflict (partner, record_key) do update set record = excluded.record, record_digest = excluded.record_digest, withdrawn_reason = excluded.withdrawn_reason, withdrawn_since = excluded.withdrawn_since,
         recognition_state = excluded.recognition_state, recognition_since = excluded.recognition_since, recognition_exchange = excluded.recognition_exchange,
         benefits = excluded.benefits, current_mids = excluded.current_mids, last_exchange = excluded.last_exchange, last_sequence = excluded.last_sequence, updated_at = now()`,
      [
        partner,
        part[0]!.lastSequence,
        keys,
        jsonArray(part, (op) => recordJson(op.record)),
        part.map((op) => op.withdrawn?.reason ?? null),
        part.map((op) => op.withdrawn?.since ?? null),
        part.map((op) => op.recognition.state),
        part.map((op) => op.recognition.since),
        part.map((op) => op.recognition.exchangeId),
        jsonArray(part, (op) => JSON.stringify(op.benefits)),
        jsonArray(part, (op) => JSON.stringify(op.currentMids)),
        part.map((op) => op.lastExchangeId),
        part.map((op) => recordDigest(op.record)),
      ],
    );
    if (replaced.length > 0) await tx.query('delete from mid_links where partner = $1 and record_key = any($2::text[])', [partner, replaced]);
    const links = part.flatMap((op) => op.currentMids.map((mid) => [mid, op.key] as const));
    if (links.length > 0) {
      await tx.query('insert into mid_links (mid, partner, record_key) select m, $1, k from unnest($2::text[], $3::text[]) as t(m, k) on conflict do nothing', [partner, links.map((l) => l[0]), links.map((l) => l[1])]);
    }
    if (replaced.length > 0) await tx.query('delete from operator_identifiers where partner = $1 and record_key = any($2::text[])', [partner, replaced]);
    const ids = part.flatMap((op) => (identifiers.get(op.key) ?? []).map((id) => [id.scheme, id.value, op.key] as const));
    await tx.query(
      'insert into operator_identifiers (scheme, value, partner, record_key) select s, v, $1, k from unnest($2::text[], $3::text[], $4::text[]) as t(s, v, k) on conflict do nothing',
      [partner, ids.map((i) => i[0]), ids.map((i) => i[1]), ids.map((i) => i[2])],
    );
  }
}

/**
 * Marks operators a batch said again, and found as the store holds them in every
 * column, as last said by this batch: a narrow update, their record, links and
 * identifiers left as they are.
 */
export async function markSaidAgain(tx: Queryable, partner: string, keys: readonly string[], exchangeId: string, sequence: number): Promise<void> {
  for (const part of chunks(keys)) {
    await tx.query('update operators set last_exchange = $3::uuid, last_sequence = $4, updated_at = now() where partner = $1 and record_key = any($2::text[])', [partner, part, exchangeId, sequence]);
  }
}

/**
 * Appends what one batch said of each operator to the version log; a batch recorded
 * before adds nothing. `recordJson` may give the text a record was read from, rather
 * than serializing it again.
 */
export async function appendVersions(
  tx: Queryable,
  exchangeId: string,
  sequence: number,
  versions: readonly OperatorVersion[],
  recordJson: (record: Operator) => string | Buffer = JSON.stringify,
): Promise<void> {
  for (const part of chunks(versions)) {
    await tx.query(
      `insert into operator_versions (partner, record_key, exchange_id, sequence, change, record)
       select $1, k, $2, $3, c, r from rows from (unnest($4::text[]), unnest($5::text[]), jsonb_array_elements($6::jsonb)) as t(k, c, r)
       on conflict (partner, record_key, exchange_id) do nothing`,
      [part[0]!.partner, exchangeId, sequence, part.map((v) => v.key), part.map((v) => v.change), jsonArray(part, (v) => recordJson(v.record))],
    );
  }
}

/** Partner records a status question may find under this identifier (already normalised), in partner and key order. */
export async function operatorsByIdentifier(q: Queryable, scheme: string, value: string): Promise<OperatorRef[]> {
  const { rows } = await q.query<OperatorRef>('select partner, record_key as key from operator_identifiers where scheme = $1 and value = $2 order by partner, record_key', [scheme, value]);
  return rows;
}

/** Partner records that link this MID now, in partner and key order. */
export async function operatorsByMid(q: Queryable, mid: string): Promise<OperatorRef[]> {
  const { rows } = await q.query<OperatorRef>('select partner, record_key as key from mid_links where mid = $1 order by partner, record_key', [mid]);
  return rows;
}

/** How many operators each partner has in each recognition state, by partner then state. */
export async function recognitionCounts(q: Queryable): Promise<{ partner: string; state: HeldOperator['recognition']['state']; count: number }[]> {
  const { rows } = await q.query<{ partner: string; state: HeldOperator['recognition']['state']; count: number }>(
    'select partner, recognition_state as state, count(*)::int as count from operators group by partner, recognition_state order by partner, recognition_state',
  );
  return rows;
}

/** The first recognized operator in partner and key order, if any. */
export async function firstRecognized(q: Queryable): Promise<OperatorRef | undefined> {
  const { rows } = await q.query<OperatorRef>("select partner, record_key as key from operators where recognition_state = 'recognized' order by partner, record_key limit 1");
  return rows[0];
}

/** What staff may look recognitions up by; `after` is the last item of the previous page (partner, key order). */
export interface RecognitionSearch {
  partner?: string | undefined;
  state?: HeldOperator['recognition']['state'] | undefined;
  mid?: string | undefined;
  /** A record key, or an identifier value the operator is known by (EORI, corporate number, …). */
  operator?: string | undefined;
  after?: OperatorRef | undefined;
  limit: number;
}

/** A held operator with the batch that decided its recognition. */
export interface RecognitionRow {
  held: HeldOperator;
  batch: { exchangeId: string; batchId: string | null; sequence: number | null };
}

export async function searchRecognitions(q: Queryable, search: RecognitionSearch): Promise<RecognitionRow[]> {
  const { rows } = await q.query<OperatorRow & { batch_id: string | null; batch_sequence: number | null }>(
    `select o.partner, o.record_key, o.record, o.withdrawn_reason, o.withdrawn_since::text as withdrawn_since, o.recognition_state, o.recognition_since::text as recognition_since,
       o.recognition_exchange, o.benefits, o.current_mids, o.last_exchange, o.last_sequence, e.batch_id, e.sequence::int as batch_sequence
     from operators o left join exchanges e on e.id = o.recognition_exchange
     where ($1::text is null or o.partner = $1) and ($2::text is null or o.recognition_state = $2) and ($3::text is null or o.current_mids @> array[$3::text])
       and ($4::text is null or o.record_key = $4 or exists (select 1 from operator_identifiers i where i.value = $4 and i.partner = o.partner and i.record_key = o.record_key))
       and ($5::text is null or (o.partner, o.record_key) > ($5, $6::text))
     order by o.partner, o.record_key limit $7`,
    [search.partner ?? null, search.state ?? null, search.mid ?? null, search.operator ?? null, search.after?.partner ?? null, search.after?.key ?? null, search.limit],
  );
  return rows.map((r) => ({ held: held(r), batch: { exchangeId: r.recognition_exchange, batchId: r.batch_id, sequence: r.batch_sequence } }));
}
