/** A held recognition judged against the registry as it is today (PROTOCOL §5), not as it was when its batch was applied. */
import type { HeldOperator } from '../reconcile/model.ts';
import { inScope, mraInForce } from '../reconcile/recognition.ts';
import type { Partner } from '../registry/partner.ts';

/**
 * An MRA that ended, or a scope narrowed since, makes the recognition out-of-scope now,
 * with no benefits in force; otherwise the held state stands as it is.
 */
export function asOfToday(held: HeldOperator, partner: Partner, date: string): HeldOperator {
  if (held.recognition.state === 'out-of-scope' || (mraInForce(partner, date) && inScope(held.record, partner))) return held;
  const until = partner.mra.inForceUntil;
  // An MRA in force until D (inclusive) stops recognizing from D + 1.
  const since = until !== undefined && until !== null && until < date ? new Date(Date.parse(`${until}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10) : date;
  return { ...held, recognition: { ...held.recognition, state: 'out-of-scope', since }, benefits: [] };
}
