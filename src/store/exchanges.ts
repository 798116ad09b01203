/** Exchanges and their states: the exchange log, as intake, read-back, the apply job and staff releases use it. */
import type { Disposition, HeldBatch, HeldReason } from '../intake/sequence.ts';
import type { Queryable } from './db.ts';

export type ExchangeState = 'received' | 'processing' | 'applied' | 'held' | 'stale' | 'failed';

export interface ExchangeCounts {
  records: number;
  created: number;
  changed: number;
  unchanged: number;
  withdrawn: number;
  rejected: number;
}

export interface NewExchange {
  id: string;
  partner: string;
  requestJti: string;
  batchId: string;
  sequence: number;
  kind: 'SNAPSHOT' | 'DELTA';
  format: string;
  contentType: string;
  digest: string;
  /** The raw body, whole or as the pieces it arrived in (in order): it is stored as received, in pieces of at most BODY_PIECE_BYTES. */
  body: Uint8Array | readonly Uint8Array[];
  /**
   * How many pieces of the body were written already, while it arrived (`insertBodyPiece`,
   * numbered from 1): `body` is then what came after them, stored as the pieces after those.
   */
  storedPieces?: number;
  signatureHeader: string;
  signingKid: string;
  receivedAt: Date;
  disposition: Disposition;
  heldReason: HeldReason | undefined;
  state: ExchangeState;
  counts: ExchangeCounts;
  /** The first faults of the rejected records (intake caps them: MAX_STORED_REJECTIONS). */
  rejections: unknown[];
  /** How many faults the rejected records have in all, those not stored included; by default those in `rejections`. */
  rejectionCount?: number;
  receipt: string;
  receiptKid: string;
}

export interface ExchangeView {
  id: string;
  partner: string;
  batchId: string;
  sequence: number;
  kind: 'SNAPSHOT' | 'DELTA';
  state: ExchangeState;
  counts: ExchangeCounts;
  /** The stored faults: the first of the document's, at most MAX_STORED_REJECTIONS. */
  rejections: unknown[];
  /** How many faults there are in all, stored or not. */
  rejectionCount: number;
}

/** An earlier accepted request or batch: what a retry needs to be answered with. */
export interface EarlierExchange {
  id: string;
  digest: string;
  receipt: string;
}

/** The exchange that used this `jti`, if any. */
export async function exchangeByJti(q: Queryable, partner: string, jti: string): Promise<EarlierExchange | undefined> {
  const { rows } = await q.query<EarlierExchange>('select id, digest, receipt from exchanges where partner = $1 and request_jti = $2', [partner, jti]);
  return rows[0];
}

/** The exchange that carried this `batchId`, if any. */
export async function exchangeByBatchId(q: Queryable, partner: string, batchId: string): Promise<EarlierExchange | undefined> {
  const { rows } = await q.query<EarlierExchange>('select id, digest, receipt from exchanges where partner = $1 and batch_id = $2', [partner, batchId]);
  return rows[0];
}

/** What an acceptance decides on, read in one round trip once the partner's state is locked. */
export interface AcceptanceView {
  byJti: EarlierExchange | undefined;
  byBatchId: EarlierExchange | undefined;
  /** The partner's held batches, in sequence order (heldBatches). */
  held: HeldBatch[];
  /** Whether `sequence` was already accepted under another batch id (sequenceTaken). */
  sequenceTaken: boolean;
}

/**
 * exchangeByJti, exchangeByBatchId, heldBatches and sequenceTaken in one statement: the
 * acceptance holds its partner's lock while it reads them, and each round trip held it longer.
 */
export async function acceptanceView(tx: Queryable, partner: string, jti: string, batchId: string, sequence: number): Promise<AcceptanceView> {
  const { rows } = await tx.query<{ by_jti: EarlierExchange | null; by_batch: EarlierExchange | null; held: { id: string; sequence: number; kind: 'SNAPSHOT' | 'DELTA'; heldReason: HeldReason }[]; taken: boolean }>(
    `select
       (select json_build_object('id', id, 'digest', digest, 'receipt', receipt) from exchanges where partner = $1 and request_jti = $2) as by_jti,
       (select json_build_object('id', id, 'digest', digest, 'receipt', receipt) from exchanges where partner = $1 and batch_id = $3) as by_batch,
       coalesce((select json_agg(json_build_object('id', id, 'sequence', sequence, 'kind', kind, 'heldReason', held_reason) order by sequence)
                   from exchanges where partner = $1 and state = 'held'), '[]'::json) as held,
       exists (select 1 from exchanges where partner = $1 and sequence = $4 and disposition <> 'stale') as taken`,
    [partner, jti, batchId, sequence],
  );
  const r = rows[0]!;
  return { byJti: r.by_jti ?? undefined, byBatchId: r.by_batch ?? undefined, held: r.held, sequenceTaken: r.taken };
}

/** Batches of the partner still held, in sequence order. */
export async function heldBatches(tx: Queryable, partner: string): Promise<HeldBatch[]> {
  const { rows } = await tx.query<{ id: string; sequence: number; kind: 'SNAPSHOT' | 'DELTA'; held_reason: HeldReason }>(
    "select id, sequence, kind, held_reason from exchanges where partner = $1 and state = 'held' order by sequence",
    [partner],
  );
  return rows.map((r) => ({ id: r.id, sequence: r.sequence, kind: r.kind, heldReason: r.held_reason }));
}

/** Whether a batch with this sequence was already accepted (applied or held) under another batch id. */
export async function sequenceTaken(tx: Queryable, partner: string, sequence: number): Promise<boolean> {
  const { rows } = await tx.query("select 1 from exchanges where partner = $1 and sequence = $2 and disposition <> 'stale' limit 1", [partner, sequence]);
  return rows.length > 0;
}

/**
 * The most a stored piece of a body holds (migration 0011): pg builds each statement's
 * message in one go, so a piece is what one statement costs the event loop (about 2 ms),
 * never the whole body.
 */
export const BODY_PIECE_BYTES = 1024 * 1024;

/**
 * Stores one accepted exchange: raw body, signature header, receipt, disposition and
 * counts. The body's first piece goes into the exchange's row, each further piece into
 * `exchange_body_pieces` by a statement of its own, all on `tx` (the caller's transaction:
 * nothing is acknowledged before all of it is committed). When its first pieces were
 * stored as it arrived (`storedPieces`), the row's own piece is empty and the rest follow
 * them.
 */
export async function insertExchange(tx: Queryable, e: NewExchange): Promise<void> {
  const pieces = bodyPieces(e.body instanceof Uint8Array ? [e.body] : e.body, BODY_PIECE_BYTES);
  const stored = e.storedPieces ?? 0;
  const first = stored > 0 ? ({ done: true, value: undefined } as const) : pieces.next();
  await tx.query(
    `insert into exchanges (id, partner, request_jti, batch_id, sequence, kind, format, content_type, digest, body, signature_header,
       received_at, disposition, held_reason, state, counts, rejections, receipt, receipt_kid, signing_kid, rejection_count)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)`,
    [
      e.id, e.partner, e.requestJti, e.batchId, e.sequence, e.kind, e.format, e.contentType, e.digest, first.done ? Buffer.alloc(0) : first.value,
      e.signatureHeader, e.receivedAt, e.disposition, e.heldReason ?? null, e.state, JSON.stringify(e.counts), JSON.stringify(e.rejections), e.receipt, e.receiptKid, e.signingKid,
      e.rejectionCount ?? e.rejections.length,
    ],
  );
  let piece = stored + 1;
  for (const bytes of pieces) await insertBodyPiece(tx, e.id, piece++, bytes);
}

/** Writes one piece of a body (1-based), before its exchange row exists or in its transaction. */
export async function insertBodyPiece(q: Queryable, exchangeId: string, piece: number, bytes: Uint8Array): Promise<void> {
  await q.query('insert into exchange_body_pieces (exchange_id, piece, bytes) values ($1, $2, $3)', [exchangeId, piece, bytes]);
}

/** Removes the pieces written for a body that did not become exchange `exchangeId` (never those of one that did). */
export async function removeUnacceptedPieces(q: Queryable, exchangeId: string): Promise<void> {
  await q.query('delete from exchange_body_pieces p where p.exchange_id = $1 and not exists (select 1 from exchanges e where e.id = $1)', [exchangeId]);
}

/**
 * The body as pieces of at most `max` bytes, in order: consecutive received chunks are
 * joined up to `max` (a copy of one piece at a time, as it is written), a larger chunk
 * is cut without a copy. Nothing here ever holds the body as one value.
 */
function* bodyPieces(chunks: readonly Uint8Array[], max: number): Generator<Buffer> {
  let group: Uint8Array[] = [];
  let size = 0;
  for (const chunk of chunks) {
    for (let from = 0; from < chunk.byteLength; ) {
      const part = chunk.subarray(from, from + (max - size));
      from += part.byteLength;
      group.push(part);
      size += part.byteLength;
      if (size === max) {
        yield joined(group, size);
        group = [];
        size = 0;
      }
    }
  }
  if (size > 0) yield joined(group, size);
}

const joined = (parts: Uint8Array[], size: number): Buffer =>
  parts.length === 1 ? Buffer.from(parts[0]!.buffer, parts[0]!.byteOffset, parts[0]!.byteLength) : Buffer.concat(parts, size);

/** Moves these exchanges to `state`. */
export async function setExchangeState(tx: Queryable, ids: readonly string[], state: ExchangeState): Promise<void> {
  if (ids.length === 0) return;
  await tx.query('update exchanges set state = $2 where id = any($1::uuid[])', [ids, state]);
}

/** Records why a held batch now waits (after the first SNAPSHOT, a gap or a jump). */
export async function setHeldReason(tx: Queryable, id: string, reason: HeldReason): Promise<void> {
  await tx.query("update exchanges set held_reason = $2 where id = $1 and state = 'held'", [id, reason]);
}

/** Whether `id` has the form of an exchange id (a UUID): anything else is simply not found. */
export function isExchangeId(id: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(id);
}

/** The faults in all: rows written before migration 0015 stored every fault and no count. */
const REJECTION_COUNT = 'coalesce(rejection_count, jsonb_array_length(rejections))';

/** An exchange as its sender may read it back (PROTOCOL §5); another partner's is not found. */
export async function exchangeView(q: Queryable, id: string, partner: string): Promise<ExchangeView | undefined> {
  if (!isExchangeId(id)) return undefined;
  const { rows } = await q.query<{ id: string; partner: string; batch_id: string; sequence: number; kind: 'SNAPSHOT' | 'DELTA'; state: ExchangeState; counts: ExchangeCounts; rejections: unknown[]; rejection_count: number }>(
    `select id, partner, batch_id, sequence, kind, state, counts, rejections, ${REJECTION_COUNT} as rejection_count from exchanges where id = $1 and partner = $2`,
    [id, partner],
  );
  const r = rows[0];
  return r && { id: r.id, partner: r.partner, batchId: r.batch_id, sequence: r.sequence, kind: r.kind, state: r.state, counts: r.counts, rejections: r.rejections, rejectionCount: r.rejection_count };
}

/** The partner that sent exchange `id`, if it exists. */
export async function exchangePartner(q: Queryable, id: string): Promise<string | undefined> {
  if (!isExchangeId(id)) return undefined;
  const { rows } = await q.query<{ partner: string }>('select partner from exchanges where id = $1', [id]);
  return rows[0]?.partner;
}

/** The state of exchange `id`, if it exists. */
export async function exchangeState(q: Queryable, id: string): Promise<ExchangeState | undefined> {
  if (!isExchangeId(id)) return undefined;
  const { rows } = await q.query<{ state: ExchangeState }>('select state from exchanges where id = $1', [id]);
  return rows[0]?.state;
}

/** An accepted exchange as the apply job reads it (its raw body apart: `exchangeBodyPieces`). */
export interface ExchangeToApply {
  partner: string;
  format: string;
  sequence: number;
  kind: 'SNAPSHOT' | 'DELTA';
  counts: ExchangeCounts;
}

/** Exchange `id` as the apply job reads it, if it exists. */
export async function exchangeToApply(q: Queryable, id: string): Promise<ExchangeToApply | undefined> {
  const { rows } = await q.query<ExchangeToApply>('select partner, format, sequence, kind, counts from exchanges where id = $1', [id]);
  return rows[0];
}

/**
 * The raw body exchange `id` carried, as stored, in pieces of at most `pieceBytes`
 * (undefined when there is no body: no such exchange, or retention removed it). A 57 MB
 * document is never one value in memory, nor its hex text twice that size. Its first
 * piece is the exchange's `body` (empty when its pieces were stored as it arrived; the
 * whole body, for exchanges stored before migration 0011), the rest its
 * `exchange_body_pieces` in order.
 */
export async function exchangeBodyPieces(q: Queryable, id: string, pieceBytes: number): Promise<AsyncIterable<Buffer> | undefined> {
  const { rows } = await q.query<{ size: number | null; pieces: number[] }>(
    `select octet_length(body) as size, array(select piece from exchange_body_pieces p where p.exchange_id = e.id order by piece) as pieces
     from exchanges e where id = $1`,
    [id],
  );
  const size = rows[0]?.size;
  if (size === undefined || size === null) return undefined;
  const pieces = rows[0]!.pieces;
  return (async function* () {
    for (let from = 0; from < size; from += pieceBytes) {
      // substring counts from 1; bodies are stored uncompressed (migration 0010), so each piece reads only its own pages.
      const piece = await q.query<{ piece: Buffer }>('select substring(body from $2 for $3) as piece from exchanges where id = $1', [id, from + 1, pieceBytes]);
      yield piece.rows[0]!.piece;
    }
    for (const n of pieces) {
      const { rows: stored } = await q.query<{ bytes: Buffer }>('select bytes from exchange_body_pieces where exchange_id = $1 and piece = $2', [id, n]);
      const bytes = stored[0]!.bytes;
      // Stored pieces are BODY_PIECE_BYTES at most; a reader asking for less gets them cut, without a copy.
      for (let from = 0; from < bytes.length; from += pieceBytes) yield bytes.subarray(from, from + pieceBytes);
    }
  })();
}

/** Marks a received exchange processing: its sender sees it while its batch is applied (PROTOCOL §5). */
export async function markProcessing(q: Queryable, id: string): Promise<void> {
  await q.query("update exchanges set state = 'processing' where id = $1 and state = 'received'", [id]);
}

/**
 * Takes the partner's apply lock until the transaction ends (one batch of a partner at a
 * time, across every process), then locks the exchange's row: returns its state as of now.
 */
export async function lockForApply(tx: Queryable, partner: string, id: string): Promise<ExchangeState> {
  await lockPartnerState(tx, partner);
  const { rows } = await tx.query<{ state: ExchangeState }>('select state from exchanges where id = $1 for update', [id]);
  return rows[0]!.state;
}

/**
 * Takes the partner's apply lock until the transaction ends: whatever changes what the
 * gateway holds for a partner (a batch applied, the MRA calendar) takes it, so that two
 * such changes never interleave, in one process or across several.
 */
export async function lockPartnerState(tx: Queryable, partner: string): Promise<void> {
  await tx.query("select pg_advisory_xact_lock(hashtext('apply:' || $1))", [partner]);
}

/** The state of the partner's earliest batch below `sequence` that is still to apply (received, processing) or failed, if any. */
export async function earlierUnapplied(tx: Queryable, partner: string, sequence: number): Promise<ExchangeState | undefined> {
  const { rows } = await tx.query<{ state: ExchangeState }>(
    "select state from exchanges where partner = $1 and sequence < $2 and state in ('received', 'processing', 'failed') order by sequence limit 1",
    [partner, sequence],
  );
  return rows[0]?.state;
}

/**
 * Whether the partner has a batch queued to apply: received or processing, and not
 * behind a failed one (which waits for staff, and holds the later ones with it); only
 * those received up to `receivedBy`, when given.
 */
export async function queuedToApply(q: Queryable, partner: string, receivedBy?: Date): Promise<boolean> {
  const { rows } = await q.query<{ queued: boolean }>(
    `select exists (
       select 1 from exchanges e
       where e.partner = $1 and e.state in ('received', 'processing') and ($2::timestamptz is null or e.received_at <= $2)
         and not exists (select 1 from exchanges f where f.partner = $1 and f.state = 'failed' and f.sequence < e.sequence)
     ) as queued`,
    [partner, receivedBy ?? null],
  );
  return rows[0]!.queued;
}

/** Marks the exchange applied, with its final counts. */
export async function markApplied(tx: Queryable, id: string, counts: ExchangeCounts): Promise<void> {
  await tx.query("update exchanges set state = 'applied', counts = $2 where id = $1", [id, JSON.stringify(counts)]);
}

/** Marks the exchange failed if it was still to apply (then true): its job failed for good, and later batches wait for staff. */
export async function markFailed(q: Queryable, id: string): Promise<boolean> {
  const { rows } = await q.query("update exchanges set state = 'failed' where id = $1 and state in ('received', 'processing') returning id", [id]);
  return rows.length > 0;
}

/** How many of these exchanges are still to apply (received or processing). */
export async function countUnapplied(q: Queryable, ids: readonly string[]): Promise<number> {
  const { rows } = await q.query<{ n: number }>("select count(*)::int as n from exchanges where id = any($1::uuid[]) and state in ('received', 'processing')", [ids]);
  return rows[0]!.n;
}

/** An exchange as staff list it. */
export interface ExchangeListItem {
  exchangeId: string;
  partner: string;
  batchId: string;
  sequence: number;
  kind: 'SNAPSHOT' | 'DELTA';
  state: ExchangeState;
  disposition: Disposition;
  heldReason: HeldReason | null;
  receivedAt: Date;
  counts: ExchangeCounts;
}

/** What staff may search exchanges by; `before` is the last item of the previous page (newest first). */
export interface ExchangeSearch {
  partner?: string | undefined;
  state?: ExchangeState | undefined;
  from?: Date | undefined;
  to?: Date | undefined;
  before?: { receivedAt: Date; id: string } | undefined;
  limit: number;
}

const LIST_COLUMNS = `id as "exchangeId", partner, batch_id as "batchId", sequence::int as sequence, kind, state, disposition, held_reason as "heldReason",
  received_at as "receivedAt", counts`;

/** Exchanges newest first, filtered by partner, state and a receivedAt window [from, to). */
export async function searchExchanges(q: Queryable, search: ExchangeSearch): Promise<ExchangeListItem[]> {
  const { rows } = await q.query<ExchangeListItem>(
    `select ${LIST_COLUMNS} from exchanges
     where ($1::text is null or partner = $1) and ($2::text is null or state = $2) and ($3::timestamptz is null or received_at >= $3) and ($4::timestamptz is null or received_at < $4)
       and ($5::timestamptz is null or (received_at, id) < ($5, $6::uuid))
     order by received_at desc, id desc limit $7`,
    [search.partner ?? null, search.state ?? null, search.from ?? null, search.to ?? null, search.before?.receivedAt ?? null, search.before?.id ?? null, search.limit],
  );
  return rows;
}

/** An exchange as staff see it: the list item with its signature header, receipt, digest and rejections (never the body: see exchangeDocument). */
export interface StaffExchangeView extends ExchangeListItem {
  requestJti: string;
  signatureHeader: string;
  signingKid: string | null;
  receipt: string;
  digest: string;
  contentType: string;
  documentBytes: number;
  /** When retention removed the raw document (RETENTION_DAYS); null while it is kept. */
  documentRemovedAt: Date | null;
  /** As ExchangeView's. */
  rejections: unknown[];
  rejectionCount: number;
}

export async function staffExchangeView(q: Queryable, id: string): Promise<StaffExchangeView | undefined> {
  if (!isExchangeId(id)) return undefined;
  const { rows } = await q.query<StaffExchangeView>(
    `select ${LIST_COLUMNS}, request_jti as "requestJti", signature_header as "signatureHeader", signing_kid as "signingKid", receipt, digest, content_type as "contentType",
       (coalesce(octet_length(body), 0) + coalesce((select sum(octet_length(p.bytes)) from exchange_body_pieces p where p.exchange_id = e.id), 0))::int as "documentBytes", document_removed_at as "documentRemovedAt", rejections,
       ${REJECTION_COUNT} as "rejectionCount"
     from exchanges e where id = $1`,
    [id],
  );
  return rows[0];
}

/** The raw document of an exchange, as received (its first piece and the pieces after it, joined by the server). */
export async function exchangeDocument(q: Queryable, id: string): Promise<{ contentType: string; body: Buffer | null; removedAt: Date | null } | undefined> {
  if (!isExchangeId(id)) return undefined;
  const { rows } = await q.query<{ contentType: string; body: Buffer | null; removedAt: Date | null }>(
    `select content_type as "contentType",
       body || coalesce((select string_agg(p.bytes, ''::bytea order by p.piece) from exchange_body_pieces p where p.exchange_id = e.id), ''::bytea) as body,
       document_removed_at as "removedAt"
     from exchanges e where id = $1`,
    [id],
  );
  return rows[0];
}

/** When each of a partner's keys first and last signed a document it sent. */
export async function keyUse(q: Queryable): Promise<{ partner: string; kid: string; firstUsedAt: Date; lastUsedAt: Date }[]> {
  const { rows } = await q.query<{ partner: string; kid: string; firstUsedAt: Date; lastUsedAt: Date }>(
    `select partner, signing_kid as kid, min(received_at) as "firstUsedAt", max(received_at) as "lastUsedAt" from exchanges where signing_kid is not null group by partner, signing_kid`,
  );
  return rows;
}

/** Each partner's inbound picture: its accepted run, how many batches wait held, when it last sent. */
export async function inboundState(q: Queryable): Promise<Map<string, { lastSequence: number | null; snapshotBase: number | null; heldBatches: number; lastReceivedAt: Date | null }>> {
  const { rows } = await q.query<{ partner: string; lastSequence: number | null; snapshotBase: number | null; heldBatches: number; lastReceivedAt: Date | null }>(
    // Every acceptance takes its partner's partner_state row first, so that table names every partner that ever sent.
    `select s.partner, s.run_end::int as "lastSequence", s.snapshot_base::int as "snapshotBase",
       (select count(*)::int from exchanges e where e.partner = s.partner and e.state = 'held') as "heldBatches",
       (select max(received_at) from exchanges e where e.partner = s.partner) as "lastReceivedAt"
     from partner_state s`,
  );
  return new Map(rows.map(({ partner, ...rest }) => [partner, rest]));
}
