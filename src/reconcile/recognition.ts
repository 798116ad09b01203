/**
 * The recognition of one partner record under the MRA (PROTOCOL.md §5): when several
 * conditions hold, the first that applies decides — out-of-scope, withdrawn, revoked,
 * suspended, recognized.
 */
import type { Operator } from '../canonical/operator.ts';
import type { Partner } from '../registry/partner.ts';
import type { HeldOperator, Recognition, WithdrawalReason } from './model.ts';

/** What recognitionOf decides for one record. */
export interface RecognitionVerdict {
  recognition: Recognition;
  /** Set whenever the operator is withdrawn, even when out-of-scope ranks first for the recognition. */
  withdrawn?: { reason: WithdrawalReason; since: string };
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d{1,3})?(?:Z|([+-])(\d{2}):(\d{2}))$/;
const MINUTES_PER_DAY = 24 * 60;

/** UTC calendar date (`YYYY-MM-DD`) of an RFC 3339 instant with `Z` or `±hh:mm`. */
export function asOfDateOf(asOf: string): string {
  // Computed from the fields, not Date.parse: the date is all that matters, and a leap
  // second (`23:59:60`) or a one-digit fraction must not change it or fail.
  const m = RFC3339.exec(asOf);
  if (m === null) throw new Error(`not an RFC 3339 timestamp with an offset: ${asOf}`);
  const [, y, mo, d, h, mi, , sign, oh, om] = m;
  const offset = sign === undefined ? 0 : (sign === '-' ? -1 : 1) * (Number(oh) * 60 + Number(om));
  const dayShift = Math.floor((Number(h) * 60 + Number(mi) - offset) / MINUTES_PER_DAY);
  const date = new Date(0);
  // setUTCFullYear, not Date.UTC: the latter maps years 0–99 to 1900–1999.
  date.setUTCFullYear(Number(y), Number(mo) - 1, Number(d) + dayShift);
  return isoDate(date);
}

function isoDate(date: Date): string {
  const year = String(date.getUTCFullYear()).padStart(4, '0');
  const month = String(date.getUTCMonth() + 1).padStart(2, '0');
  const day = String(date.getUTCDate()).padStart(2, '0');
  return `${year}-${month}-${day}`;
}

/** Whether the MRA is in force on `date` (absent bounds do not limit). */
export function mraInForce(partner: Partner, date: string): boolean {
  const { inForceFrom, inForceUntil } = partner.mra;
  if (inForceFrom !== undefined && inForceFrom > date) return false;
  if (inForceUntil !== undefined && inForceUntil !== null && inForceUntil < date) return false;
  return true;
}

/**
 * Since when the MRA is not in force, judged on `asOfDate`: an MRA that ended (in force
 * until D) from D + 1, as the MRA calendar dates it (mra-calendar.ts), so that a batch
 * dated after the end and the calendar's run end the recognition on the same day whichever
 * comes first (issue 11: the result must not depend on the order the jobs run in); one
 * not yet begun, from the asOf date. An MRA both ended and not yet begun (a registry typo)
 * ends from the earlier date, as the calendar does.
 */
function notInForceSince(partner: Partner, asOfDate: string): string {
  const until = partner.mra.inForceUntil;
  if (until === undefined || until === null || until >= asOfDate) return asOfDate;
  return new Date(Date.parse(`${until}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
}

/** Whether the record's authorisation type or category is in the partner's MRA scope (no scope: all are). */
export function inScope(record: Operator, partner: Partner): boolean {
  const scope = partner.mra.scope;
  if (scope === undefined) return true;
  const { type, category } = record.authorisation;
  return (type !== undefined && scope.includes(type)) || (category !== undefined && scope.includes(category));
}

/** Why and since when the operator is withdrawn, if it is: consent first, then a SNAPSHOT's omission. */
function withdrawalOf(
  record: Operator,
  asOfDate: string,
  withdrawnBySnapshot: boolean,
): { reason: WithdrawalReason; since: string } | undefined {
  // Consent ranks first: it is the operator's own act and keeps its stricter disclosure
  // rule (a consent-withdrawn operator is not shown; an omitted one still answers).
  if (record.consent?.given === false) return { reason: 'consent', since: record.consent.withdrawnOn ?? asOfDate };
  if (withdrawnBySnapshot) return { reason: 'snapshot-omission', since: asOfDate };
  return undefined;
}

/** The recognition of one record (PROTOCOL.md §5 order). `asOfDate` is the UTC date of the batch's asOf. */
export function recognitionOf(
  record: Operator,
  partner: Partner,
  asOfDate: string,
  withdrawnBySnapshot: boolean,
  exchangeId: string,
): RecognitionVerdict {
  const statusSince = record.status.effective ?? asOfDate;
  const withdrawn = withdrawalOf(record, asOfDate, withdrawnBySnapshot);
  const verdict = (state: Recognition['state'], since: string): RecognitionVerdict =>
    withdrawn === undefined
      ? { recognition: { state, since, exchangeId } }
      : { recognition: { state, since, exchangeId }, withdrawn };

  // Scope before the in-force window: a record outside the scope is so whatever the
  // window, and its status date is a stable `since` across batches.
  if (!inScope(record, partner)) return verdict('out-of-scope', statusSince);
  if (!mraInForce(partner, asOfDate)) return verdict('out-of-scope', notInForceSince(partner, asOfDate));
  if (withdrawn !== undefined) return verdict('withdrawn', withdrawn.since);
  switch (record.status.code) {
    case 'revoked':
      return verdict('revoked', statusSince);
    // `applicant` exists only for C-TPAT members; a partner record carrying it is not
    // (yet) certified, so it gets no benefits, as a suspended one.
    case 'suspended':
    case 'applicant':
      return verdict('suspended', statusSince);
    case 'active':
      return verdict('recognized', statusSince);
  }
}

/** Which rule of PROTOCOL §5 decided a held recognition: an id to filter by and a sentence for staff. */
export interface RecognitionRule {
  id: 'outside-scope' | 'mra-not-in-force' | 'consent-withdrawn' | 'omitted-by-snapshot' | 'status-revoked' | 'status-suspended' | 'status-applicant' | 'recognized';
  text: string;
}

/**
 * The rule behind a held recognition, read back from what decided it: the state, the
 * withdrawal, the record's status and the partner's MRA. For out-of-scope it tells the
 * scope rule from the in-force window by the registry as it is now.
 */
export function recognitionRule(held: Pick<HeldOperator, 'record' | 'recognition' | 'withdrawn'>, partner: Partner | undefined): RecognitionRule {
  const { record, recognition } = held;
  switch (recognition.state) {
    case 'out-of-scope': {
      if (partner !== undefined && !inScope(record, partner)) {
        const what = [record.authorisation.type, record.authorisation.category].filter((x) => x !== undefined).join(' / ') || 'none given';
        return { id: 'outside-scope', text: `§5 rule 1, out-of-scope: the authorisation (${what}) is outside the MRA's scope (${partner.mra.scope?.join(', ')})` };
      }
      return { id: 'mra-not-in-force', text: '§5 rule 1, out-of-scope: the MRA was not in force on the date that decided it' };
    }
    case 'withdrawn':
      return held.withdrawn?.reason === 'consent'
        ? { id: 'consent-withdrawn', text: `§5 rule 2, withdrawn: the operator withdrew its consent (since ${recognition.since})` }
        : { id: 'omitted-by-snapshot', text: `§5 rule 2, withdrawn: a SNAPSHOT omitted the operator (asOf ${recognition.since})` };
    case 'revoked':
      return { id: 'status-revoked', text: '§5 rule 3, revoked: the partner reports the authorisation revoked' };
    case 'suspended':
      return record.status.code === 'applicant'
        ? { id: 'status-applicant', text: '§5 rule 4, suspended: the record is an applicant, not yet certified' }
        : { id: 'status-suspended', text: '§5 rule 4, suspended: the partner reports the authorisation suspended' };
    case 'recognized':
      return { id: 'recognized', text: '§5 rule 5, recognized: active, in scope, and the MRA in force' };
  }
}
