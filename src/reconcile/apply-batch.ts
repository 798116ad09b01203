/**
 * The `apply-batch` job: loads what the gateway holds, reconciles the batch (a pure
 * function), saves the result and marks the exchange applied, all in one transaction
 * under the partner's advisory lock. Safe to run twice or on several workers at once:
 * the second run finds the exchange applied and does nothing; a run killed half-way
 * rolls back whole, and the next one starts clean.
 */
import { UnrecoverableError } from 'bullmq';
import type { Partner } from '../registry/partner.ts';
import { lookupIdentifiers } from '../status/operator-identifiers.ts';
import type { Db } from '../store/db.ts';
import { ctpatByMid, decidedDiscrepancies, loadHeld, midOwners, savePlan } from '../store/operators.ts';
import type { Format } from '../translate/format.ts';
import { readDocument } from '../translate/read-document.ts';
import type { RejectedRecord } from './model.ts';
import { dedupeKeyOf } from './discrepancies.ts';
import { reconcileBatch } from './reconcile-batch.ts';

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

export type ApplyOutcome = { applied: true; counts: Record<string, number> } | { applied: false; reason: 'already-applied' | 'not-applicable' };

/** Applies one accepted batch. */
export async function applyBatch(deps: ApplyDeps, exchangeId: string): Promise<ApplyOutcome> {
  // Visible to its sender while the work goes on (PROTOCOL §5 `processing`); a crash leaves
  // it processing, which the next run (and the order check) treats like received.
  await deps.db.query("update exchanges set state = 'processing' where id = $1 and state = 'received'", [exchangeId]);
  return deps.db.transaction(async (tx) => {
    const { rows } = await tx.query<{ partner: string; format: string; sequence: number; kind: 'SNAPSHOT' | 'DELTA'; state: string; body: Uint8Array; counts: Record<string, number> }>(
      'select partner, format, sequence, kind, state, body, counts from exchanges where id = $1',
      [exchangeId],
    );
    const exchange = rows[0];
    if (!exchange) throw new UnrecoverableError(`exchange ${exchangeId} does not exist`);
    // One batch of a partner at a time, across every worker process.
    await tx.query("select pg_advisory_xact_lock(hashtext('apply:' || $1))", [exchange.partner]);
    const { rows: current } = await tx.query<{ state: string }>('select state from exchanges where id = $1 for update', [exchangeId]);
    const state = current[0]!.state;
    if (state === 'applied') return { applied: false, reason: 'already-applied' };
    if (state !== 'received' && state !== 'processing') return { applied: false, reason: 'not-applicable' };
    // Batches apply in order: an earlier one still to apply, or failed (it waits for staff), blocks this one.
    const { rows: earlier } = await tx.query<{ state: string }>(
      "select state from exchanges where partner = $1 and sequence < $2 and state in ('received', 'processing', 'failed') order by sequence limit 1",
      [exchange.partner, exchange.sequence],
    );
    if (earlier[0]) throw new EarlierBatchPending(`an earlier batch of ${exchange.partner} is ${earlier[0].state}`);

    const partner = deps.partner(exchange.partner);
    if (!partner) throw new UnrecoverableError(`partner ${exchange.partner} is not in the registry`);
    const format = deps.formats.get(exchange.format);
    if (!format) throw new UnrecoverableError(`format ${exchange.format} is not loaded`);

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
    const owners = await midOwners(tx, mids);
    // A MID link staff accepted (or overrode, or dismissed) is no longer a conflict: its benefits are not held.
    const conflictKeys = read.batch.records.flatMap((r) => r.mids.map((m) => [m.mid, dedupeKeyOf('mid-conflict', partner.id, r.key, undefined, m.mid)] as const));
    const settledConflicts = await decidedDiscrepancies(tx, conflictKeys.map(([, k]) => k));
    for (const [mid, key] of conflictKeys) if (settledConflicts.has(key)) owners.delete(mid);
    const plan = reconcileBatch({
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
    // A finding staff already decided is not opened again.
    const decided = await decidedDiscrepancies(tx, plan.discrepancies.map((d) => d.dedupeKey));
    plan.discrepancies = plan.discrepancies.filter((d) => !decided.has(d.dedupeKey));
    await savePlan(tx, exchangeId, exchange.sequence, plan, new Map(plan.upserts.map((h) => [h.key, lookupIdentifiers(format.id, h.record)])));
    const counts = { ...exchange.counts, ...plan.counts };
    await tx.query("update exchanges set state = 'applied', counts = $2 where id = $1", [exchangeId, JSON.stringify(counts)]);
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
