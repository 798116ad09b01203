/**
 * The MRA calendar (issue 8): an MRA that reached its `inForceUntil` (or whose
 * `inForceFrom` is not yet reached) and a scope narrowed in the registry take effect on
 * the day they happen, not with the partner's next batch. Pure: given what the gateway
 * holds for a partner, its registry entry and today's date, it decides which
 * recognitions become out-of-scope and which benefits end, with their feed entries. No
 * clock: the job passes today's date, from the gateway's injected clock.
 *
 * Dates (PROTOCOL §5, §6; FORMATS "a date is inclusive, a benefit ends at 00:00 UTC of its
 * effective date"):
 * - an MRA in force until D recognizes through D, so its benefits end on D + 1, whatever
 *   day the job runs (a run that comes late, or a registry edited late, still dates the end
 *   by the arrangement, as the status answers do);
 * - an MRA whose `inForceFrom` is moved past today, and a narrowed scope, carry no date of
 *   their own in the registry: the gateway learns of them when it reads the file, so they
 *   take effect on that day (the reload day, or the day of the daily run that first sees
 *   them). Dating them earlier would withdraw benefits that targeting already applied on
 *   the gateway's word; the registry is the one source (§6) and holds no history to do better.
 * Neither date is earlier than what it ends: a new state never starts before the one it
 * ends, and a benefit never ends before it started.
 *
 * Widening a scope, or an MRA coming back into force, starts nothing here: benefits start
 * from the partner's word on the record as it is now (its status, its current MIDs), which
 * its next batch brings.
 */
import type { Operator } from '../canonical/operator.ts';
import type { Partner } from '../registry/partner.ts';
import { compareText } from './benefits.ts';
import type { BenefitChange, CalendarCause, HeldOperator, Recognition } from './model.ts';
import { inScope, mraInForce } from './recognition.ts';

export interface CalendarInput {
  partner: Partner;
  /** `YYYY-MM-DD`, UTC: the day the calendar is judged on. */
  today: string;
  /** What the gateway holds for the partner: at least every operator not yet out-of-scope. */
  held: Iterable<HeldOperator>;
}

export interface CalendarPlan {
  /** The new state of every operator whose recognition ends (out-of-scope, no benefits), in key order. */
  upserts: HeldOperator[];
  /** One `end` per benefit in force for those operators, in key, MID and benefit order. */
  benefitChanges: BenefitChange[];
}

/** `YYYY-MM-DD` + 1 day. */
export function dayAfter(date: string): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
}

/** Whether the calendar can end anything for this partner today: the MRA is not in force, or a scope limits it. */
export function calendarCanEnd(partner: Partner, today: string): boolean {
  return !mraInForce(partner, today) || partner.mra.scope !== undefined;
}

/** Why, and from which date, a record is out of scope today; undefined while it is recognized under the MRA. */
export function outOfScopeToday(record: Operator, partner: Partner, today: string): { cause: CalendarCause; since: string } | undefined {
  if (!mraInForce(partner, today)) {
    const until = partner.mra.inForceUntil;
    // An MRA both ended and not yet begun (a registry typo) ends from the earlier date.
    if (until !== undefined && until !== null && until < today) return { cause: 'mra-ended', since: dayAfter(until) };
    return { cause: 'mra-not-in-force', since: today };
  }
  if (!inScope(record, partner)) return { cause: 'scope-narrowed', since: today };
  return undefined;
}

/** The held operator as the calendar leaves it today: out-of-scope with no benefits, or unchanged (undefined). */
function ended(held: HeldOperator, partner: Partner, today: string): { held: HeldOperator; changes: BenefitChange[] } | undefined {
  // Already out of scope: the calendar (or a batch) decided before; running again decides nothing.
  if (held.recognition.state === 'out-of-scope') return undefined;
  const verdict = outOfScopeToday(held.record, partner, today);
  if (verdict === undefined) return undefined;
  const since = verdict.since < held.recognition.since ? held.recognition.since : verdict.since;
  // The calendar is no exchange: the recognition keeps naming the last batch whose record it judged.
  const recognition: Recognition = { state: 'out-of-scope', since, exchangeId: held.lastExchangeId };
  const changes = held.benefits.map(
    (grant): BenefitChange => ({
      mid: grant.mid,
      partner: held.partner,
      key: held.key,
      benefit: grant.benefit,
      change: 'end',
      effective: grant.since > since ? grant.since : since,
      exchangeId: null,
      cause: verdict.cause,
    }),
  );
  changes.sort((a, b) => compareText(a.mid, b.mid) || compareText(a.benefit, b.benefit));
  // A withdrawal stays recorded: out-of-scope ranks first (§5) but does not undo it.
  return { held: { ...held, recognition, benefits: [] }, changes };
}

/** What the MRA calendar ends today for one partner. Running it on the state it produced ends nothing. */
export function mraCalendar(input: CalendarInput): CalendarPlan {
  const outcomes = [...input.held]
    .filter((h) => h.partner === input.partner.id)
    .map((h) => ended(h, input.partner, input.today))
    .filter((o) => o !== undefined)
    .sort((a, b) => compareText(a.held.key, b.held.key));
  return { upserts: outcomes.map((o) => o.held), benefitChanges: outcomes.flatMap((o) => o.changes) };
}
