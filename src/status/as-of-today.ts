/** A held recognition judged against the registry as it is today (PROTOCOL §5), not as it was when its batch was applied. */
import type { HeldOperator } from '../reconcile/model.ts';
import { outOfScopeToday } from '../reconcile/mra-calendar.ts';
import type { Partner } from '../registry/partner.ts';

/**
 * An MRA that ended, or a scope narrowed since, makes the recognition out-of-scope now,
 * with no benefits in force; otherwise the held state stands as it is. The dates are the
 * MRA calendar's (reconcile/mra-calendar.ts), so the answer agrees with the feed.
 */
export function asOfToday(held: HeldOperator, partner: Partner, date: string): HeldOperator {
  if (held.recognition.state === 'out-of-scope') return held;
  const verdict = outOfScopeToday(held.record, partner, date);
  if (verdict === undefined) return held;
  const since = verdict.since < held.recognition.since ? held.recognition.since : verdict.since;
  return { ...held, recognition: { ...held.recognition, state: 'out-of-scope', since }, benefits: [] };
}
