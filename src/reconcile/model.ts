/**
 * What reconciliation works on and produces. Reconciliation is a pure function from
 * what the gateway held for a partner and what one batch says, to the new state, the
 * benefit changes and the discrepancies: the job only loads, calls and saves, so that
 * "run twice, same result" is testable without a queue.
 */
import type { Operator } from '../canonical/operator.ts';
import type { Partner } from '../registry/partner.ts';

export type RecognitionState = 'recognized' | 'suspended' | 'revoked' | 'withdrawn' | 'out-of-scope';

/** Why an operator is withdrawn, when it is. */
export type WithdrawalReason = 'consent' | 'snapshot-omission';

export interface Recognition {
  state: RecognitionState;
  /** `YYYY-MM-DD`: the effective date of the state. */
  since: string;
  /** The exchange (batch) that caused this state. */
  exchangeId: string;
}

/** One benefit in force for one MID of one operator. */
export interface BenefitGrant {
  mid: string;
  benefit: string;
  /** `YYYY-MM-DD`: in force from 00:00 UTC of this date. */
  since: string;
}

/** What the gateway holds for one partner record (keyed by partner + record key). */
export interface HeldOperator {
  partner: string;
  key: string;
  /** The last record the partner sent for this key (kept after a withdrawal by omission). */
  record: Operator;
  /** Set when the operator is withdrawn (consent, or omitted by a SNAPSHOT). */
  withdrawn?: { reason: WithdrawalReason; since: string };
  recognition: Recognition;
  /** Benefits in force now. */
  benefits: BenefitGrant[];
  /** MIDs linked now (after validity), kept for the MID index. */
  currentMids: string[];
  lastExchangeId: string;
  lastSequence: number;
}

/** One entry of the benefit change feed (append-only; its store id is the cursor). */
export interface BenefitChange {
  mid: string;
  partner: string;
  key: string;
  benefit: string;
  change: 'start' | 'end';
  /** `YYYY-MM-DD`, from 00:00 UTC. */
  effective: string;
  /** The batch that caused the change; null for an end the MRA calendar wrote (then `cause` says why). */
  exchangeId: string | null;
  cause?: CalendarCause;
}

/** Why the MRA calendar (mra-calendar.ts) ended a recognition between batches. */
export type CalendarCause = 'mra-ended' | 'mra-not-in-force' | 'scope-narrowed';

export type DiscrepancyKind =
  /** A linked MID does not match the construction from name and address. */
  | 'mid-mismatch'
  /** One MID is linked to two different operators: its benefits are held until a decision. */
  | 'mid-conflict'
  /** A recognized operator's MID belongs to a C-TPAT member that is suspended or removed. */
  | 'ctpat-member-inactive'
  /** A C-TPAT member the partner's format cannot carry (a field it requires is missing): not sent to that partner. */
  | 'outbound-unwritable'
  /** A REVOKED operator came back VALID without a new authorisation date. */
  | 'revoked-reinstated'
  /** A record of the batch was rejected by validation (its earlier state is kept). */
  | 'record-rejected'
  /** The batch could not be applied, for a reason no retry can mend: the partner's later batches wait behind it. */
  | 'apply-failed';

export interface DiscrepancyFinding {
  kind: DiscrepancyKind;
  partner: string;
  /** The record key, or null when a rejected record's key could not be read. */
  key: string | null;
  mid?: string;
  /** Facts for staff (expected MID, the other operator, the rejection…): plain JSON. */
  detail: Record<string, unknown>;
  /** Identifies "the same" discrepancy across runs: an open one with this key is not opened twice. */
  dedupeKey: string;
  exchangeId: string;
}

/** A record of the batch that was rejected, as intake reported it. */
export interface RejectedRecord {
  index: number;
  key: string | null;
  issues: { pointer: string; code: string; message: string }[];
}

export interface ReconcileInput {
  partner: Partner;
  exchangeId: string;
  sequence: number;
  kind: 'SNAPSHOT' | 'DELTA';
  /** The batch's asOf (RFC 3339): "past" and "current" are judged against it. */
  asOf: string;
  /** Records that passed validation, in document order. */
  records: readonly Operator[];
  rejected: readonly RejectedRecord[];
  /**
   * What the gateway holds for this partner: every operator for a SNAPSHOT, at least
   * those the batch names for a DELTA.
   */
  previous: ReadonlyMap<string, HeldOperator>;
  /** Current links of every MID the batch names, to other operators (other partners or keys). */
  midOwners: ReadonlyMap<string, readonly { partner: string; key: string }[]>;
  /** C-TPAT members by MID, with their C-TPAT status code (`SUSPENDED`, `REMOVED`, …). */
  ctpatByMid: ReadonlyMap<string, { account: string; status: string }>;
}

export interface ReconcileCounts {
  created: number;
  changed: number;
  unchanged: number;
  withdrawn: number;
  rejected: number;
}

/**
 * How one operator's record stands against what the gateway held, decided once by
 * reconciliation: the version log records it as is, and the counts agree with it.
 */
export type RecordChange = 'created' | 'changed' | 'unchanged' | 'withdrawn';

/** One entry of the version log: what the partner said of one operator in this batch. */
export interface OperatorVersion {
  partner: string;
  key: string;
  change: RecordChange;
  record: Operator;
}

export interface ReconcilePlan {
  /** The new state of every operator the batch touched (including those a SNAPSHOT withdrew). */
  upserts: HeldOperator[];
  /** One version per upsert, in the same order. */
  versions: OperatorVersion[];
  counts: ReconcileCounts;
  benefitChanges: BenefitChange[];
  discrepancies: DiscrepancyFinding[];
}
