/**
 * The `apply-batch` job: reads the stored body, outlines the batch (which operators it
 * touches, the MID links it leaves), then decides and saves its operators a window at a
 * time (reconciliation is pure: it decides, the job loads and writes), and marks the
 * exchange applied, all in one transaction under the partner's apply lock. Safe to run
 * twice or on several workers at once: the second run finds the exchange applied and
 * does nothing; a run killed half-way rolls back whole, and the next one starts clean.
 */
import { hash } from 'node:crypto';
import type { Operator } from '../canonical/operator.ts';
import { GatewayError } from '../errors.ts';
import { midConflictKeySteps, recordRejectedFindings, withoutDecidedFindings, withoutSettledConflicts } from '../reconcile/discrepancies.ts';
import type { HeldOperator, ReconcilePlan, RejectedRecord } from '../reconcile/model.ts';
import { outlineSteps, sameValue, windowSteps, type BatchOutline } from '../reconcile/reconcile-batch.ts';
import type { Partner } from '../registry/partner.ts';
import { lookupIdentifiers } from '../status/operator-identifiers.ts';
import { appendBenefitChanges } from '../store/benefit-feed.ts';
import { ctpatByMid } from '../store/ctpat-members.ts';
import type { Db, Queryable } from '../store/db.ts';
import { decidedDiscrepancies, decidedMidConflicts, openDiscrepancies } from '../store/discrepancies.ts';
import { earlierUnapplied, exchangeBodyPieces, exchangeToApply, lockForApply, markApplied, markProcessing, type ExchangeCounts, type ExchangeToApply } from '../store/exchanges.ts';
import { appendVersions, heldKeys, loadHeldAgainst, markSaidAgain, midOwners, recordMids, saveOperators, type IncomingRecord } from '../store/operators.ts';
import type { Format } from '../translate/format.ts';
import { readKeeping, type KeptRead } from '../translate/read-document.ts';
import { withTightHeap } from './heap-growth.ts';
import { KeptJson } from './kept-json.ts';
import { Pace } from './pace.ts';

export interface ApplyDeps {
  db: Db;
  formats: ReadonlyMap<string, Format>;
  partner(id: string): Partner | undefined;
  /** Reports progress (BullMQ job.updateProgress), from 0 to 100. */
  progress?(percent: number): Promise<void>;
}

/** An earlier batch of the partner must be applied first: the job is tried again later. */
export class EarlierBatchPending extends Error {
  override name = 'EarlierBatchPending';
}

export type ApplyOutcome = { applied: true; counts: ExchangeCounts } | { applied: false; reason: 'already-applied' | 'not-applicable' };

/** The batch can never be applied as things stand (no such exchange, partner or format): trying again would not help. */
const inapplicable = (message: string) => new GatewayError('batch-inapplicable', message);

/** Applies one accepted batch. */
export async function applyBatch(deps: ApplyDeps, exchangeId: string): Promise<ApplyOutcome> {
  // What an exchange is (partner, sequence, kind, format, counts) never changes once stored.
  const exchange = await exchangeToApply(deps.db, exchangeId);
  if (!exchange) throw inapplicable(`exchange ${exchangeId} does not exist`);
  // Visible to its sender while the work goes on (PROTOCOL §5 `processing`); a crash leaves
  // it processing, which the next run (and the order check) treats like received. A batch
  // of one window is applied about as soon as it starts: it goes from received to applied
  // in one commit, which spares every small DELTA a commit of its own.
  const large = exchange.counts.records > WINDOW;
  if (large) await markProcessing(deps.db, exchangeId);
  return large ? withTightHeap(() => applyInTransaction(deps, exchangeId, exchange)) : applyInTransaction(deps, exchangeId, exchange);
}

async function applyInTransaction(deps: ApplyDeps, exchangeId: string, exchange: ExchangeToApply): Promise<ApplyOutcome> {
  return deps.db.transaction(async (tx) => {
    const state = await lockForApply(tx, exchange.partner, exchangeId);
    if (state === 'applied') return { applied: false, reason: 'already-applied' };
    if (state !== 'received' && state !== 'processing') return { applied: false, reason: 'not-applicable' };
    // Batches apply in order: an earlier one still to apply, or failed (it waits for staff), blocks this one.
    const earlier = await earlierUnapplied(tx, exchange.partner, exchange.sequence);
    if (earlier) throw new EarlierBatchPending(`an earlier batch of ${exchange.partner} is ${earlier}`);

    const partner = deps.partner(exchange.partner);
    if (!partner) throw inapplicable(`partner ${exchange.partner} is not in the registry`);
    const format = deps.formats.get(exchange.format);
    if (!format) throw inapplicable(`format ${exchange.format} is not loaded`);

    // Read and reconciled in slices of a few milliseconds, so that the API and the queue's
    // lock renewal (same event loop) never wait long behind a large batch.
    const pace = new Pace();
    const batch = await outlineBatch(tx, exchangeId, partner, format, pace);
    await deps.progress?.(30);

    // Then the operators, a window at a time in key order (the order of the plan), each
    // written before the next is decided: only one window of records is ever whole in memory.
    const { outline } = batch;
    const counts = { ...exchange.counts, created: 0, changed: 0, unchanged: 0, withdrawn: 0 };
    for (let at = 0; at < outline.order.length; at += WINDOW) {
      const entries = outline.order.slice(at, at + WINDOW);
      const records = new Map<string, Operator>();
      // The bytes each record was kept as, written as they are to the operator and its version, and their digest.
      const texts = new WeakMap<Operator, Buffer>();
      const incoming = new Map<string, IncomingRecord>();
      for (const e of entries) {
        if (e.omitted) continue;
        const json = batch.json.bytes(batch.records.get(e.key)!);
        const record = JSON.parse(json.toString()) as Operator;
        records.set(e.key, record);
        texts.set(record, json);
        incoming.set(e.key, { record, digest: hash('sha256', json, 'base64url') });
        batch.records.delete(e.key);
      }
      // Only keys the store holds are asked for (when known): a first SNAPSHOT asks nothing.
      const keys = entries.map((e) => e.key);
      const { held: previous, sameRecord } = await loadHeldAgainst(tx, partner.id, batch.held ? keys.filter((key) => batch.held!.has(key)) : keys, incoming);
      const found = await pace.run(windowSteps({ partner, exchangeId, sequence: exchange.sequence, asOfDate: outline.asOfDate, owners: outline.owners, ctpatByMid: batch.ctpat, entries, records, previous }));
      await savePlan(tx, { format, exchangeId, sequence: exchange.sequence, previous, sameRecord, texts, incoming }, found, pace);
      for (const k of ['created', 'changed', 'unchanged', 'withdrawn'] as const) counts[k] += found.counts[k];
      await deps.progress?.(30 + Math.floor((70 * (at + entries.length)) / outline.order.length));
    }
    const rejections = recordRejectedFindings(batch.rejected, partner.id, exchangeId);
    await openDiscrepancies(tx, withoutDecidedFindings(rejections, await decidedDiscrepancies(tx, rejections.map((d) => d.dedupeKey))));
    await markApplied(tx, exchangeId, counts);
    await deps.progress?.(100);
    return { applied: true, counts };
  });
}

/** A batch read and outlined, its records serialized by key until their window. */
interface OutlinedBatch {
  outline: BatchOutline;
  records: Map<string, number>;
  /** The records' JSON, by the numbers in `records`. */
  json: KeptJson;
  /**
   * The operators of the batch the store holds (every one of the partner's, for a
   * SNAPSHOT), and whether each is withdrawn; undefined for a DELTA of one window, whose
   * one look-up of held state asks for all its keys anyway.
   */
  held: Map<string, { withdrawn: boolean }> | undefined;
  rejected: RejectedRecord[];
  ctpat: Map<string, { account: string; status: string }>;
}

/**
 * Reads the stored body (the record of what was said: read again here, never a copy)
 * and outlines the batch: which operators it touches, and the MID links once it is
 * applied. What the outline needs of the whole batch is gathered here and let go here.
 */
async function outlineBatch(tx: Queryable, exchangeId: string, partner: Partner, format: Format, pace: Pace): Promise<OutlinedBatch> {
  const body = await exchangeBodyPieces(tx, exchangeId, PIECE_BYTES);
  if (!body) throw inapplicable(`exchange ${exchangeId} has no stored body`);
  const read = await readPaced(format, body, pace);
  const envelope = read.envelope!;
  const rejected = rejectedRecords(read.rejections);
  const mids = await pace.run(midsOf(read.kept));
  // Conflicts staff decided are few: the batch's links are only listed against them when there are any.
  const decided = await decidedMidConflicts(tx, partner.id);
  const settled = decided.size === 0 ? [] : (await pace.run(midConflictKeySteps(partner.id, read.kept))).filter(([, key]) => decided.has(key));
  const owners = withoutSettledConflicts(await midOwners(tx, partner.id, mids), settled, decided);
  const snapshot = envelope.kind === 'SNAPSHOT';
  const held = snapshot ? await heldKeys(tx, partner.id) : read.kept.length > WINDOW ? await heldKeys(tx, partner.id, read.kept.map((r) => r.key)) : undefined;
  const mayOmit = snapshot ? await heldItMayOmit(tx, partner.id, held!, read.kept, rejected) : new Map<string, Operator['mids']>();
  const outline = await pace.run(outlineSteps({ partner, kind: envelope.kind, asOf: envelope.asOf, records: read.kept, rejected, mayOmit, midOwners: owners }));
  const records = new Map<string, number>();
  for (const r of read.kept) records.set(r.key, r.json);
  return { outline, records, json: read.json, held, rejected, ctpat: await ctpatByMid(tx, mids) };
}

/**
 * Operators decided and written together: large enough that each statement carries many
 * rows, and small enough that a window's records and plan are gone before the young
 * generation's next collection but one. Windows of 1,000 lived across enough scavenges to
 * be promoted, about 1 MB each, 100 MB of old garbage over a SNAPSHOT of 100,000; at 250
 * that fell to a quarter, and the gateway's peak growth from 289-300 to 230 MiB, with
 * the apply no slower (--trace-gc-nvp, same machine, back to back).
 */
const WINDOW = 250;

/** What writing a window needs besides its plan. */
interface WindowFacts {
  format: Format;
  exchangeId: string;
  sequence: number;
  /** What the store held for the window's keys. */
  previous: ReadonlyMap<string, HeldOperator>;
  /** Keys whose held record has the digest of the one the batch carries now. */
  sameRecord: ReadonlySet<string>;
  /** The JSON each carried record was kept as. */
  texts: WeakMap<Operator, Buffer>;
  /** The carried records and their digests, by key. */
  incoming: ReadonlyMap<string, IncomingRecord>;
}

/**
 * Writes one window's plan, less the findings staff already decided. An operator the
 * batch says again as the store holds it in every column (record, withdrawal,
 * recognition, benefits, links) is only marked as last said by this batch: its row, MID
 * links and identifiers are not written again (issue 10: a SNAPSHOT a partner sends
 * each day mostly repeats the one before).
 */
async function savePlan(tx: Queryable, facts: WindowFacts, found: ReconcilePlan, pace: Pace): Promise<void> {
  const { format, exchangeId, sequence, previous, texts, incoming } = facts;
  const changed: HeldOperator[] = [];
  const saidAgain: string[] = [];
  for (const h of found.upserts) {
    if (heldAsItWas(h, previous.get(h.key), facts.sameRecord)) saidAgain.push(h.key);
    else changed.push(h);
  }
  const identifiers = new Map<string, ReturnType<typeof lookupIdentifiers>>();
  for (const h of changed) {
    identifiers.set(h.key, lookupIdentifiers(format.id, h.record));
    if (pace.due()) await pace.breathe();
  }
  const recordJson = (record: Operator) => texts.get(record) ?? JSON.stringify(record);
  // Only a record written from the partner's text has a digest; an omission keeps the last record, which is then compared whole next time.
  const recordDigest = (record: Operator) => (texts.has(record) ? incoming.get(record.key)?.digest ?? null : null);
  await saveOperators(tx, changed, identifiers, (key) => previous.has(key), recordJson, recordDigest);
  if (saidAgain.length > 0) await markSaidAgain(tx, found.upserts[0]!.partner, saidAgain, exchangeId, sequence);
  await appendVersions(tx, exchangeId, sequence, found.versions, recordJson);
  await appendBenefitChanges(tx, found.benefitChanges);
  await openDiscrepancies(tx, withoutDecidedFindings(found.discrepancies, await decidedDiscrepancies(tx, found.discrepancies.map((d) => d.dedupeKey))));
}

/** The operator as decided is the one the store holds, but for the batch that last said it. */
function heldAsItWas(now: HeldOperator, before: HeldOperator | undefined, sameRecord: ReadonlySet<string>): boolean {
  // The same record object: loadHeldAgainst put the incoming record in place of a held one with its digest.
  if (before === undefined || !sameRecord.has(now.key) || now.record !== before.record) return false;
  return sameValue(now.withdrawn, before.withdrawn) && sameValue(now.recognition, before.recognition) && sameValue(now.benefits, before.benefits) && sameValue(now.currentMids, before.currentMids);
}

/**
 * What the apply keeps of each record until its window: its key and links for the
 * outline, the rest as UTF-8 JSON (a fraction of the objects' memory, and outside the
 * JavaScript heap, so that it does not raise the heap's collection threshold).
 */
interface KeptRecord {
  key: string;
  mids: Operator['mids'];
  /** Its number in the batch's KeptJson. */
  json: number;
}

/**
 * The key and links are copies: the reader's strings are slices of the text it decoded,
 * and keeping one would keep that whole piece of text alive.
 */
function keptRecord(json: KeptJson, record: Operator): KeptRecord {
  const { key, mids } = JSON.parse(JSON.stringify({ key: record.key, mids: record.mids })) as Pick<Operator, 'key' | 'mids'>;
  return { key, mids, json: json.add(JSON.stringify(record)) };
}

/** Every MID the batch's records link, one record per step. */
function* midsOf(records: readonly KeptRecord[]): Generator<void, string[]> {
  const mids = new Set<string>();
  for (const r of records) {
    for (const m of r.mids) mids.add(m.mid);
    yield;
  }
  return [...mids];
}

/** The partner's held operators a SNAPSHOT withdraws if it does not carry them: not withdrawn already, and absent from the batch. */
async function heldItMayOmit(
  tx: Queryable,
  partner: string,
  held: ReadonlyMap<string, { withdrawn: boolean }>,
  records: readonly KeptRecord[],
  rejected: readonly RejectedRecord[],
): Promise<Map<string, Operator['mids']>> {
  const present = new Set<string>(records.map((r) => r.key));
  for (const r of rejected) if (r.key !== null) present.add(r.key);
  const absent: string[] = [];
  for (const [key, { withdrawn }] of held) if (!withdrawn && !present.has(key)) absent.push(key);
  return recordMids(tx, partner, absent);
}

/** Rejections grouped by record, as reconciliation takes them. */
function rejectedRecords(rejections: readonly { index: number; key: string | null; pointer: string; code: string; message: string }[]): RejectedRecord[] {
  const byIndex = new Map<number, RejectedRecord>();
  for (const r of rejections) {
    const entry = byIndex.get(r.index) ?? { index: r.index, key: r.key, issues: [] };
    entry.issues.push({ pointer: r.pointer, code: r.code, message: r.message });
    byIndex.set(r.index, entry);
  }
  return [...byIndex.values()];
}

/** Pieces the stored body is read back in: few round trips, and little memory at a time. */
const PIECE_BYTES = 1024 * 1024;
/** What the reader takes between two looks at the pace: about a millisecond of reading. */
const READ_BYTES = 64 * 1024;

async function readPaced(format: Format, body: AsyncIterable<Buffer>, pace: Pace): Promise<KeptRead<KeptRecord> & { json: KeptJson }> {
  const json = new KeptJson();
  const reading = readKeeping(format, (record) => keptRecord(json, record));
  for await (const piece of body) {
    for (let at = 0; at < piece.length; at += READ_BYTES) {
      reading.write(piece.subarray(at, at + READ_BYTES));
      if (pace.due()) await pace.breathe();
    }
  }
  return { ...reading.end(), json };
}
