/**
 * Outbound delivery (PROTOCOL §7): per partner, the sequence and circuit breaker, what
 * each member was last sent as, the documents with their signatures, every attempt, and
 * which partners hold a U.S. member according to their verified receipts.
 */
import type { CarriedMember, SentMember } from '../deliver/plan-document.ts';
import { chunks } from './chunks.ts';
import type { Queryable } from './db.ts';

export interface OutboundState {
  lastSequence: number;
  snapshotSent: boolean;
}

/** The partner's outbound state, its row locked until the transaction ends: documents for one partner are numbered one at a time. */
export async function lockOutboundState(tx: Queryable, partner: string): Promise<OutboundState> {
  await tx.query('insert into outbound_state (partner) values ($1) on conflict (partner) do nothing', [partner]);
  const { rows } = await tx.query<{ last_sequence: number; snapshot_sent: boolean }>('select last_sequence, snapshot_sent from outbound_state where partner = $1 for update', [partner]);
  return { lastSequence: rows[0]!.last_sequence, snapshotSent: rows[0]!.snapshot_sent };
}

/** Saves the sequence used and whether a SNAPSHOT has gone out (the row locked by lockOutboundState). */
export async function saveOutboundState(tx: Queryable, partner: string, state: OutboundState): Promise<void> {
  await tx.query('update outbound_state set last_sequence = $2, snapshot_sent = $3 where partner = $1', [partner, state.lastSequence, state.snapshotSent]);
}

/** What the partner was last told of each member. */
export async function sentMembers(q: Queryable, partner: string): Promise<Map<string, SentMember>> {
  const { rows } = await q.query<{ account: string; digest: string; withdrawn: boolean }>('select account, digest, withdrawn from outbound_members where partner = $1', [partner]);
  return new Map(rows.map((r) => [r.account, { digest: r.digest, withdrawn: r.withdrawn }]));
}

/** Records what a document told the partner; `omitted` members are withdrawn by a SNAPSHOT leaving them out. */
export async function saveSentMembers(tx: Queryable, partner: string, sequence: number, carried: readonly CarriedMember[], omitted: readonly string[]): Promise<void> {
  for (const part of chunks(carried)) {
    await tx.query(
      `insert into outbound_members (partner, account, digest, withdrawn, sequence)
       select $1, a, d, w, $2 from unnest($3::text[], $4::text[], $5::boolean[]) as t(a, d, w)
       on conflict (partner, account) do update set digest = excluded.digest, withdrawn = excluded.withdrawn, sequence = excluded.sequence`,
      [partner, sequence, part.map((c) => c.account), part.map((c) => c.digest), part.map((c) => c.as === 'withdrawn')],
    );
  }
  for (const part of chunks(omitted)) {
    await tx.query('update outbound_members set withdrawn = true, sequence = $2 where partner = $1 and account = any($3::text[])', [partner, sequence, part]);
  }
}

/** An outbound document as stored: what every attempt sends, the same bytes and jti each time. */
interface DeliveryDocument {
  id: string;
  partner: string;
  sequence: number;
  batchId: string;
  kind: 'SNAPSHOT' | 'DELTA';
  jti: string;
  contentType: string;
  body: Buffer;
  digest: string;
}

export interface NewDelivery extends DeliveryDocument {
  signatureHeader: string;
  recordCount: number;
  members: readonly CarriedMember[];
  replaces?: string | undefined;
}

/** Stores a document with its signature, before its first attempt. */
export async function insertDelivery(tx: Queryable, d: NewDelivery): Promise<void> {
  await tx.query(
    `insert into deliveries (id, partner, sequence, batch_id, kind, jti, content_type, body, digest, signature_header, record_count, members, replaces)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
    [d.id, d.partner, d.sequence, d.batchId, d.kind, d.jti, d.contentType, d.body, d.digest, d.signatureHeader, d.recordCount, JSON.stringify(d.members.map((m) => ({ account: m.account, as: m.as }))), d.replaces ?? null],
  );
}

export type DeliveryState = 'pending' | 'delivered' | 'dead' | 'skipped';

export interface StoredDelivery extends DeliveryDocument {
  state: DeliveryState;
  members: { account: string; as: CarriedMember['as'] }[];
}

const storedColumns = `id, partner, sequence::int as sequence, batch_id as "batchId", kind, jti, content_type as "contentType", body, digest, state, members`;

/** One document. */
export async function deliveryById(q: Queryable, id: string): Promise<StoredDelivery | undefined> {
  const { rows } = await q.query<StoredDelivery>(`select ${storedColumns} from deliveries where id = $1`, [id]);
  return rows[0];
}

/** The partner's first document not yet delivered, in sequence order: pending, or dead (which holds the rest back). */
export async function headOfLine(q: Queryable, partner: string): Promise<StoredDelivery | undefined> {
  const { rows } = await q.query<StoredDelivery>(`select ${storedColumns} from deliveries where partner = $1 and state in ('pending', 'dead') order by sequence limit 1`, [partner]);
  return rows[0];
}

export interface AttemptRecord {
  outcome: 'delivered' | 'retry' | 'dead';
  status?: number | undefined;
  durationMs: number;
  error?: string | undefined;
  receipt?: string | undefined;
}

/** Records one attempt; returns how many attempts the document has had. */
export async function recordAttempt(tx: Queryable, deliveryId: string, attempt: AttemptRecord): Promise<number> {
  await tx.query('insert into delivery_attempts (delivery_id, outcome, status, duration_ms, error, receipt) values ($1, $2, $3, $4, $5, $6)', [
    deliveryId,
    attempt.outcome,
    attempt.status ?? null,
    Math.round(attempt.durationMs),
    attempt.error ?? null,
    attempt.receipt ?? null,
  ]);
  const { rows } = await tx.query<{ n: number }>('select count(*)::int as n from delivery_attempts where delivery_id = $1', [deliveryId]);
  return rows[0]!.n;
}

/**
 * Attempts since the document was last dead-lettered: a staff replay starts a fresh
 * retry budget (the attempt that made it dead is recorded as outcome `dead`).
 */
export async function attemptsSinceDead(q: Queryable, deliveryId: string): Promise<number> {
  const { rows } = await q.query<{ n: number }>(
    `select count(*)::int as n from delivery_attempts where delivery_id = $1
       and id > coalesce((select max(id) from delivery_attempts where delivery_id = $1 and outcome = 'dead'), 0)`,
    [deliveryId],
  );
  return rows[0]!.n;
}

/** A verified receipt came back. */
export async function markDelivered(tx: Queryable, id: string, receipt: { receipt: string; exchangeId: string; disposition: 'accepted' | 'held' | 'stale'; heldReason?: string | undefined }): Promise<void> {
  await tx.query("update deliveries set state = 'delivered', delivered_at = now(), receipt = $2, partner_exchange_id = $3, disposition = $4, held_reason = $5, last_error = null where id = $1", [
    id,
    receipt.receipt,
    receipt.exchangeId,
    receipt.disposition,
    receipt.heldReason ?? null,
  ]);
}

/** A dead letter: later documents for the partner wait behind it. */
export async function markDead(tx: Queryable, id: string, error: string): Promise<void> {
  await tx.query("update deliveries set state = 'dead', last_error = $2 where id = $1", [id, error]);
}

/** Staff replay a dead letter: the same document, tried again. False when it is not dead. */
export async function replayDead(tx: Queryable, id: string): Promise<boolean> {
  const { rows } = await tx.query("update deliveries set state = 'pending', last_error = null where id = $1 and state = 'dead' returning id", [id]);
  return rows.length > 0;
}

/** Staff skip a dead letter: it gives up its sequence to a fresh SNAPSHOT. Returns the dead one, or undefined when it is not dead. */
export async function skipDead(tx: Queryable, id: string): Promise<StoredDelivery | undefined> {
  const { rows } = await tx.query<StoredDelivery>(`update deliveries set state = 'skipped' where id = $1 and state = 'dead' returning ${storedColumns}`, [id]);
  return rows[0];
}

/** Whether the partner's breaker is open, and until when. */
export async function breakerOpenUntil(q: Queryable, partner: string, now: Date): Promise<Date | undefined> {
  const { rows } = await q.query<{ until: Date | null }>('select breaker_open_until as until from outbound_state where partner = $1', [partner]);
  const until = rows[0]?.until;
  return until && until > now ? until : undefined;
}

/** Counts a failed attempt; opens the breaker for `openMs` after `threshold` in a row. */
export async function noteFailure(tx: Queryable, partner: string, now: Date, threshold: number, openMs: number): Promise<void> {
  await tx.query(
    `update outbound_state set consecutive_failures = consecutive_failures + 1,
       breaker_open_until = case when consecutive_failures + 1 >= $2 then $3::timestamptz + make_interval(secs => $4 / 1000.0) else breaker_open_until end
     where partner = $1`,
    [partner, threshold, now, openMs],
  );
}

/** A delivered document closes the breaker. */
export async function noteSuccess(tx: Queryable, partner: string): Promise<void> {
  await tx.query('update outbound_state set consecutive_failures = 0, breaker_open_until = null where partner = $1', [partner]);
}

/** From an accepted receipt: the partner holds the members the document carried as VALID, and no longer those it withdrew. */
export async function saveCtpatRecognitions(tx: Queryable, partner: string, deliveryId: string, members: readonly { account: string; as: CarriedMember['as'] }[], since: string): Promise<void> {
  const held = members.filter((m) => m.as === 'valid').map((m) => m.account);
  const gone = members.filter((m) => m.as !== 'valid').map((m) => m.account);
  for (const part of chunks(held)) {
    await tx.query(
      `insert into ctpat_recognitions (account, partner, state, since, delivery_id) select a, $2, 'recognized', $3::date, $4 from unnest($1::text[]) as t(a)
       on conflict (account, partner) do update set state = 'recognized', delivery_id = excluded.delivery_id,
         since = case when ctpat_recognitions.state = 'recognized' then ctpat_recognitions.since else excluded.since end`,
      [part, partner, since, deliveryId],
    );
  }
  for (const part of chunks(gone)) {
    await tx.query(
      `update ctpat_recognitions set state = 'withdrawn', since = $3::date, delivery_id = $4 where partner = $2 and account = any($1::text[]) and state = 'recognized'`,
      [part, partner, since, deliveryId],
    );
  }
}

/** Which partners hold a member (or held it until a withdrawal), from verified receipts. */
export async function partnersHolding(q: Queryable, account: string): Promise<{ partner: string; state: 'recognized' | 'withdrawn'; since: string }[]> {
  const { rows } = await q.query<{ partner: string; state: 'recognized' | 'withdrawn'; since: string }>(
    'select partner, state, since::text as since from ctpat_recognitions where account = $1 order by partner',
    [account],
  );
  return rows;
}

export interface PartnerDeliveryView {
  partner: string;
  lastSequence: number;
  lastDelivered: number | null;
  pending: number;
  deadLetters: { id: string; sequence: number; error: string | null }[];
  held: number;
  breakerOpenUntil: Date | null;
}

/** Each partner's delivery health, for staff. */
export async function deliveryHealth(q: Queryable): Promise<PartnerDeliveryView[]> {
  const { rows } = await q.query<PartnerDeliveryView>(
    `select s.partner, s.last_sequence::int as "lastSequence",
       (select max(sequence)::int from deliveries d where d.partner = s.partner and d.state = 'delivered') as "lastDelivered",
       (select count(*)::int from deliveries d where d.partner = s.partner and d.state = 'pending') as pending,
       (select count(*)::int from deliveries d where d.partner = s.partner and d.state = 'delivered' and d.disposition in ('held', 'stale')) as held,
       coalesce((select json_agg(json_build_object('id', d.id, 'sequence', d.sequence, 'error', d.last_error) order by d.sequence) from deliveries d where d.partner = s.partner and d.state = 'dead'), '[]'::json) as "deadLetters",
       s.breaker_open_until as "breakerOpenUntil"
     from outbound_state s order by s.partner`,
  );
  return rows;
}

export interface DeliveryView {
  id: string;
  partner: string;
  sequence: number;
  batchId: string;
  kind: string;
  state: DeliveryState;
  recordCount: number;
  createdAt: Date;
  deliveredAt: Date | null;
  disposition: string | null;
  heldReason: string | null;
  lastError: string | null;
  replaces: string | null;
  attempts: { at: Date; outcome: string; status: number | null; durationMs: number; error: string | null }[];
}

/** A document with its attempts, for staff. */
export async function deliveryView(q: Queryable, id: string): Promise<DeliveryView | undefined> {
  const { rows } = await q.query<DeliveryView>(
    `select id, partner, sequence::int as sequence, batch_id as "batchId", kind, state, record_count as "recordCount", created_at as "createdAt", delivered_at as "deliveredAt",
       disposition, held_reason as "heldReason", last_error as "lastError", replaces,
       coalesce((select json_agg(json_build_object('at', a.at, 'outcome', a.outcome, 'status', a.status, 'durationMs', a.duration_ms, 'error', a.error) order by a.id) from delivery_attempts a where a.delivery_id = deliveries.id), '[]'::json) as attempts
     from deliveries where id = $1`,
    [id],
  );
  return rows[0];
}

/** A page of a partner's documents, newest first. */
export async function deliveriesOf(q: Queryable, partner: string, limit: number): Promise<Omit<DeliveryView, 'attempts'>[]> {
  const { rows } = await q.query<Omit<DeliveryView, 'attempts'>>(
    `select id, partner, sequence::int as sequence, batch_id as "batchId", kind, state, record_count as "recordCount", created_at as "createdAt", delivered_at as "deliveredAt",
       disposition, held_reason as "heldReason", last_error as "lastError", replaces
     from deliveries where partner = $1 order by sequence desc, created_at desc limit $2`,
    [partner, limit],
  );
  return rows;
}
