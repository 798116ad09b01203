/**
 * The `mra-calendar` job: for one partner, loads what the gateway holds, lets the MRA
 * calendar (a pure function) decide which recognitions end today, and saves the new
 * states and the feed's `end` entries in one transaction under the partner's apply lock,
 * so that it never interleaves with a batch being applied. Safe to run twice or on
 * several workers at once: the second run finds those operators out-of-scope already and
 * ends nothing (and the feed's calendar index would refuse a second copy of an end anyway).
 *
 * It waits (EarlierBatchPending: the worker tries it again 2 s later, using no attempt,
 * as it does an apply behind an earlier batch) while the partner has batches queued to
 * apply that were accepted before the job was made: those may be dated before the MRA's
 * end. Applied after the end was recorded, such a batch would recognize its operators
 * again from its own date; applied first, it is judged like every batch before the end,
 * and the calendar then ends what it left. So the feed does not depend on which job a
 * worker took first. Batches held for staff (a sequence jump, a failed batch ahead) are
 * not waited for: staff may take days.
 */
import { todayOf, type Clock } from '../clock.ts';
import { calendarCanEnd, mraCalendar } from '../reconcile/mra-calendar.ts';
import type { Partner } from '../registry/partner.ts';
import { appendBenefitChanges } from '../store/benefit-feed.ts';
import type { Db } from '../store/db.ts';
import { lockPartnerState, queuedToApply } from '../store/exchanges.ts';
import { loadNotOutOfScope, saveRecognitions } from '../store/operators.ts';
import { EarlierBatchPending } from './apply-batch.ts';

export interface CalendarDeps {
  db: Db;
  partner(id: string): Partner | undefined;
  /** The gateway's clock: "today" is its UTC date when the job runs. */
  clock: Clock;
}

export type CalendarOutcome =
  | { ran: true; today: string; ended: number; entries: number }
  | { ran: false; today: string; reason: 'not-in-registry' | 'nothing-can-end' };

/**
 * Which queued batches a run waits for: those accepted up to `acceptedBefore` (every one
 * when it is absent), or none. Batches accepted after the job was made are not waited
 * for, or a partner that sends all day would hold the calendar all day.
 */
export type CalendarWait = { acceptedBefore?: Date } | 'no-wait';

/** Runs the MRA calendar for one partner, as of the clock's day. */
export async function runMraCalendar(deps: CalendarDeps, partnerId: string, wait: CalendarWait = {}): Promise<CalendarOutcome> {
  const today = todayOf(deps.clock);
  // A partner removed from the registry has no MRA to judge by: what it left stays as it is.
  const partner = deps.partner(partnerId);
  if (!partner) return { ran: false, today, reason: 'not-in-registry' };
  // In force and with no scope, nothing can end: no need to read the partner's operators.
  if (!calendarCanEnd(partner, today)) return { ran: false, today, reason: 'nothing-can-end' };
  return deps.db.transaction(async (tx) => {
    await lockPartnerState(tx, partner.id);
    if (wait !== 'no-wait' && (await queuedToApply(tx, partner.id, wait.acceptedBefore))) throw new EarlierBatchPending(`batches of ${partner.id} accepted before the MRA calendar's run are still to apply`);
    const held = await loadNotOutOfScope(tx, partner.id);
    const plan = mraCalendar({ partner, today, held: held.values() });
    await saveRecognitions(tx, plan.upserts);
    await appendBenefitChanges(tx, plan.benefitChanges);
    return { ran: true, today, ended: plan.upserts.length, entries: plan.benefitChanges.length };
  });
}
