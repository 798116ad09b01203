/**
 * An apply that failed for good: no retry could mend it, or its retries ran out. The
 * exchange is marked failed, so the partner's later batches wait behind it (PROTOCOL §3),
 * and staff get a discrepancy that says why: a batch that stops a partner's flow must be
 * in front of someone, not only a line in a log.
 */
import type { Db } from '../store/db.ts';
import { openDiscrepancies } from '../store/discrepancies.ts';
import { exchangeToApply, markFailed } from '../store/exchanges.ts';

/** Longest reason kept: an error message may quote the data it choked on. */
const REASON_CHARS = 500;

export async function recordApplyFailure(db: Db, exchangeId: string, reason: string): Promise<void> {
  await db.transaction(async (tx) => {
    const exchange = await exchangeToApply(tx, exchangeId);
    if (!exchange || !(await markFailed(tx, exchangeId))) return;
    await openDiscrepancies(tx, [
      {
        kind: 'apply-failed',
        partner: exchange.partner,
        key: null,
        // Well-formed, or jsonb would refuse the very text that made the apply fail.
        detail: { sequence: exchange.sequence, kind: exchange.kind, reason: reason.slice(0, REASON_CHARS).toWellFormed() },
        dedupeKey: `apply-failed:${exchange.partner}:${exchangeId}`,
        exchangeId,
      },
    ]);
  });
}
