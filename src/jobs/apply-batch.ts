/**
 * The `apply-batch` job: loads what the gateway holds, reconciles the batch (a pure
 * function that decides everything), saves the plan and marks the exchange applied, all
 * in one transaction under the partner's apply lock. Safe to run twice or on several
 * workers at once: the second run finds the exchange applied and does nothing; a run
 * killed half-way rolls back whole, and the next one starts clean.
 */
import type { Operator } from '../canonical/operator.ts';
import { GatewayError } from '../errors.ts';
import { midConflictKeySteps, withoutDecidedFindings, withoutSettledConflicts } from '../reconcile/discrepancies.ts';
import type { RejectedRecord } from '../reconcile/model.ts';
import { reconcileSteps } from '../reconcile/reconcile-batch.ts';
import type { Partner } from '../registry/partner.ts';
import { lookupIdentifiers } from '../status/operator-identifiers.ts';
import { appendBenefitChanges } from '../store/benefit-feed.ts';
import { ctpatByMid } from '../store/ctpat-members.ts';
import type { Db } from '../store/db.ts';
import { decidedDiscrepancies, openDiscrepancies } from '../store/discrepancies.ts';
import { earlierUnapplied, exchangeBodyPieces, exchangeToApply, lockForApply, markApplied, markProcessing, type ExchangeCounts } from '../store/exchanges.ts';
import { appendVersions, loadHeld, midOwners, saveOperators } from '../store/operators.ts';
import type { Format } from '../translate/format.ts';
import { startReading } from '../translate/read-document.ts';
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
  // Visible to its sender while the work goes on (PROTOCOL §5 `processing`); a crash leaves
  // it processing, which the next run (and the order check) treats like received.
  await markProcessing(deps.db, exchangeId);
  return deps.db.transaction(async (tx) => {
    const exchange = await exchangeToApply(tx, exchangeId);
    if (!exchange) throw inapplicable(`exchange ${exchangeId} does not exist`);
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

    // The raw body is the record of what was said: it is read again here, never a copy.
    const body = await exchangeBodyPieces(tx, exchangeId, PIECE_BYTES);
    if (!body) throw inapplicable(`exchange ${exchangeId} has no stored body`);
    // Read and reconciled in slices of a few milliseconds, so that the API and the queue's
    // lock renewal (same event loop) never wait long behind a large batch.
    const pace = new Pace();
    const read = await readPaced(format, body, pace);
    await deps.progress?.(30);
    const envelope = read.batch.envelope!;
    const rejected = rejectedRecords(read.rejections);
    const { keys, mids } = await pace.run(keysAndMids(read.batch.records, rejected));
    const previous = await loadHeld(tx, partner.id, envelope.kind === 'SNAPSHOT' ? undefined : keys);
    const conflictKeys = await pace.run(midConflictKeySteps(partner.id, read.batch.records));
    const owners = withoutSettledConflicts(await midOwners(tx, mids), conflictKeys, await decidedDiscrepancies(tx, conflictKeys.map(([, key]) => key)));
    const found = await pace.run(reconcileSteps({
      partner,
      exchangeId,
      sequence: exchange.sequence,
      kind: exchange.kind,
      asOf: envelope.asOf,
      records: read.batch.records,
      rejected,
      previous,
      midOwners: owners,
      ctpatByMid: await ctpatByMid(tx, mids),
    }));
    await deps.progress?.(60);
    const plan = withoutDecidedFindings(found, await decidedDiscrepancies(tx, found.discrepancies.map((d) => d.dedupeKey)));
    const identifiers = new Map<string, ReturnType<typeof lookupIdentifiers>>();
    for (const h of plan.upserts) {
      identifiers.set(h.key, lookupIdentifiers(format.id, h.record));
      if (pace.due()) await pace.breathe();
    }
    await saveOperators(tx, plan.upserts, identifiers);
    await appendVersions(tx, exchangeId, exchange.sequence, plan.versions);
    await appendBenefitChanges(tx, plan.benefitChanges);
    await openDiscrepancies(tx, plan.discrepancies);
    const counts = { ...exchange.counts, ...plan.counts };
    await markApplied(tx, exchangeId, counts);
    await deps.progress?.(100);
    return { applied: true, counts };
  });
}

/** The record keys the batch names (read or rejected) and the MIDs it links, one record per step. */
function* keysAndMids(records: readonly Operator[], rejected: readonly RejectedRecord[]): Generator<void, { keys: string[]; mids: string[] }> {
  const keys: string[] = [];
  const mids = new Set<string>();
  for (const r of records) {
    keys.push(r.key);
    for (const m of r.mids) mids.add(m.mid);
    yield;
  }
  for (const r of rejected) if (r.key !== null) keys.push(r.key);
  return { keys, mids: [...mids] };
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

async function readPaced(format: Format, body: AsyncIterable<Buffer>, pace: Pace) {
  const reading = startReading(format);
  for await (const piece of body) {
    for (let at = 0; at < piece.length; at += READ_BYTES) {
      reading.write(piece.subarray(at, at + READ_BYTES));
      if (pace.due()) await pace.breathe();
    }
  }
  return reading.end();
}
