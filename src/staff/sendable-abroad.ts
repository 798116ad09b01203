/**
 * Whether a C-TPAT member may be sent to any partner at all (FORMATS.md "Outbound" and
 * "C-TPAT member export"): consent to share, and a status other than APPLICANT. Which
 * business types one partner takes is a further, per-partner filter applied on top of
 * this one by outbound delivery; this rule alone is what an import can tell.
 */

/** Why a member may not be sent to any partner. */
export type NotSendableReason = 'no-consent' | 'applicant';

/** The two facts the rule reads, as the store and the import keep them. */
export interface SendableFacts {
  /** C-TPAT status: APPLICANT, CERTIFIED, CERTIFIED_VALIDATED, TIER3, SUSPENDED, REMOVED. */
  status: string;
  consent: boolean;
}

/** The reasons `member` may not be sent to any partner; empty when it may (a REMOVED member is still sent, as revoked). */
export function notSendableAbroadReasons(member: SendableFacts): NotSendableReason[] {
  const reasons: NotSendableReason[] = [];
  if (!member.consent) reasons.push('no-consent');
  if (member.status === 'APPLICANT') reasons.push('applicant');
  return reasons;
}

/** True when `member` may be sent to a partner, before that partner's business-type filter. */
export function isSendableAbroad(member: SendableFacts): boolean {
  return notSendableAbroadReasons(member).length === 0;
}
