/**
 * The `apply-batch` job: loads what the gateway holds, reconciles the batch (a pure
 * function that decides everything), saves the plan and marks the exchange applied, all
 * in one transaction under the partner's apply lock. Safe to run twice or on several
 * workers at once: the second run finds the exchange applied and does nothing; a run
 * killed half-way rolls back whole, and the next one starts clean.
 */
import { GatewayError } from '../errors.ts';
import { midConflictKeys, withoutDecidedFindings, withoutSettledConflicts } from '../reconcile/discrepancies.ts';
import type { RejectedRecord } from '../reconcile/model.ts';
import { reconcileBatch } from '../reconcile/reconcile-batch.ts';
import type { Partner } from '../registry/partner.ts';
import { lookupIdentifiers } from '../status/operator-identifiers.ts';
import { appendBenefitChanges } from '../store/benefit-feed.ts';
import { ctpatByMid } from '../store/ctpat-members.ts';
import type { Db } from '../store/db.ts';
import { decidedDiscrepancies, openDiscrepancies } from '../store/discrepancies.ts';
import { earlierUnapplied, exchangeToApply, lockForApply, markApplied, markProcessing, type ExchangeCounts } from '../store/exchanges.ts';
import { appendVersions, loadHeld, midOwners, saveOperators } from '../store/operators.ts';
import type { Format } from '../translate/format.ts';
import { readDocument } from '../translate/read-document.ts';

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
    const read = readDocument(format, Buffer.from(exchange.body));
    // Between the long synchronous steps, let the queue renew this job's lock.
    await yieldToEventLoop();
    await deps.progress?.(30);
    const envelope = read.batch.envelope!;
    const rejected = rejectedRecords(read.rejections);
    const keys = [...read.batch.records.map((r) => r.key), ...rejected.flatMap((r) => (r.key === null ? [] : [r.key]))];
    const previous = await loadHeld(tx, partner.id, envelope.kind === 'SNAPSHOT' ? undefined : keys);
    const mids = [...new Set(read.batch.records.flatMap((r) => r.mids.map((m) => m.mid)))];
    const conflictKeys = midConflictKeys(partner.id, read.batch.records);
    const owners = withoutSettledConflicts(await midOwners(tx, mids), conflictKeys, await decidedDiscrepancies(tx, conflictKeys.map(([, key]) => key)));
    const found = reconcileBatch({
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
    });
    await yieldToEventLoop();
    await deps.progress?.(60);
    const plan = withoutDecidedFindings(found, await decidedDiscrepancies(tx, found.discrepancies.map((d) => d.dedupeKey)));
    await saveOperators(tx, plan.upserts, new Map(plan.upserts.map((h) => [h.key, lookupIdentifiers(format.id, h.record)])));
    await appendVersions(tx, exchangeId, exchange.sequence, plan.versions);
    await appendBenefitChanges(tx, plan.benefitChanges);
    await openDiscrepancies(tx, plan.discrepancies);
    const counts = { ...exchange.counts, ...plan.counts };
    await markApplied(tx, exchangeId, counts);
    await deps.progress?.(100);
    return { applied: true, counts };
  });
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

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));
