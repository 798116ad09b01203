/**
 * Reconciliation of one batch: from what the gateway held for a partner and what the
 * batch says, the new state of every operator it touched, the benefit feed entries and
 * the discrepancies. Pure: no I/O and no clock, so that running it twice on the same
 * input, or replaying a batch on the state it produced, is testable and gives nothing new.
 */
import type { Operator } from '../canonical/operator.ts';
import { benefitDiff, compareText, currentMids, grantsFor } from './benefits.ts';
import {
  ctpatMemberInactiveFindings,
  heldMids,
  midConflictFindings,
  midMismatchFindings,
  recordRejectedFindings,
  revokedReinstatedFindings,
  type FindingContext,
  type MidOwner,
} from './discrepancies.ts';
import type {
  BenefitGrant,
  BenefitChange,
  DiscrepancyFinding,
  HeldOperator,
  OperatorVersion,
  Recognition,
  RecordChange,
  ReconcileCounts,
  ReconcileInput,
  ReconcilePlan,
  RejectedRecord,
  WithdrawalReason,
} from './model.ts';
import { runToEnd, sortSteps } from './steps.ts';
import { asOfDateOf, recognitionOf, type RecognitionVerdict } from './recognition.ts';
import type { Partner } from '../registry/partner.ts';

/** What reconciling one operator gives. */
interface Outcome {
  held: HeldOperator;
  changes: BenefitChange[];
  findings: DiscrepancyFinding[];
  /** How the batch's record compares with what was held; undefined for an operator the batch omitted. */
  count: Exclude<RecordChange, 'withdrawn'> | undefined;
  newlyWithdrawn: boolean;
  /** What the version log records: a held operator withdrawn by this batch is `withdrawn`, any other as counted. */
  change: RecordChange;
}

/** Stable deep equality of plain JSON-like values: key order is ignored, and an undefined member equals an absent one. */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => sameValue(x, b[i]));
  }
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  // A stored record read back from JSON has lost its undefined members: they are not a change.
  const keys = new Set([...Object.keys(ra), ...Object.keys(rb)]);
  for (const k of keys) if (!sameValue(ra[k], rb[k])) return false;
  return true;
}

/**
 * The recognition and withdrawal that follow a held state. A state that holds on keeps
 * its `since` and the exchange that caused it, so that an unchanged record (or a
 * withdrawal dated by the asOf date) gives the same state batch after batch. A new state
 * never starts before the one it ends: a record back with an older status date (a
 * withdrawn operator present again) starts at the asOf date, the first the gateway
 * knows of it.
 */
function continueFrom(
  previous: HeldOperator | undefined,
  fresh: RecognitionVerdict,
  asOfDate: string,
): { recognition: Recognition; withdrawn?: { reason: WithdrawalReason; since: string } } {
  const withdrawn =
    fresh.withdrawn !== undefined && previous?.withdrawn?.reason === fresh.withdrawn.reason ? previous.withdrawn : fresh.withdrawn;
  const recognition = continuedRecognition(previous, fresh, asOfDate);
  return withdrawn === undefined ? { recognition } : { recognition, withdrawn };
}

function continuedRecognition(previous: HeldOperator | undefined, fresh: RecognitionVerdict, asOfDate: string): Recognition {
  if (previous === undefined) return fresh.recognition;
  const before = previous.recognition;
  const sameState =
    before.state === fresh.recognition.state &&
    (before.state !== 'withdrawn' || previous.withdrawn?.reason === fresh.withdrawn?.reason);
  if (sameState) return before;
  if (fresh.recognition.since < before.since) return { ...fresh.recognition, since: asOfDate };
  return fresh.recognition;
}

/** When the benefits that stop now end: with the recognition, its new state's date; else (a MID no longer current or held) the asOf date. */
function endDateOf(recognition: Recognition, asOfDate: string): string {
  return recognition.state === 'recognized' ? asOfDate : recognition.since;
}

/** A record key twice in one batch invalidates the document at intake (PROTOCOL.md §3): reaching here is a bug. */
function* assertUniqueKeys(records: readonly RecordLinks[]): Generator<void, void> {
  const seen = new Set<string>();
  for (const r of records) {
    if (seen.has(r.key)) throw new Error(`record key ${r.key} appears twice in one batch`);
    seen.add(r.key);
    yield;
  }
}

/**
 * MID links as they stand once the plan is applied: the partner's operators the batch
 * upserts (carried, or newly withdrawn by omission) are linked by what they link now,
 * not by what the store held. So a MID that moves from one key to another within the
 * batch is no conflict, two records of the batch sharing one MID are, and replaying the
 * batch on the state it produced sees the very links this run saw.
 */
function* ownersAfterBatch(input: OutlineInput, entries: readonly OutlineEntry[]): Generator<void, Map<string, MidOwner[]>> {
  const partner = input.partner.id;
  const touched = new Set<string>();
  for (const e of entries) touched.add(e.key);
  const owners = new Map<string, MidOwner[]>();
  for (const [mid, list] of input.midOwners) {
    owners.set(mid, list.filter((o) => o.partner !== partner || !touched.has(o.key)));
    yield;
  }
  // The order of a MID's owners does not matter: a finding lists them sorted.
  for (const { key, mids } of entries) {
    for (const mid of mids) {
      const list = owners.get(mid);
      // Most MIDs have one owner: a literal of one is sized for one, where pushing to [] makes room for seventeen.
      if (list === undefined) owners.set(mid, [{ partner, key }]);
      else list.push({ partner, key });
    }
    yield;
  }
  return owners;
}

/** The outcome for a record the batch carries: it replaces everything held for its key. */
function carried(record: Operator, mids: string[], previous: HeldOperator | undefined, input: WindowInput): Outcome {
  const { partner, exchangeId, asOfDate, owners } = input;
  const who: FindingContext = { partner: partner.id, key: record.key, exchangeId };
  const { recognition, withdrawn } = continueFrom(previous, recognitionOf(record, partner, asOfDate, false, exchangeId), asOfDate);
  const conflicts = midConflictFindings(mids, owners, who);
  const count = countOf(previous, record);
  const newlyWithdrawn = withdrawn !== undefined && previous?.withdrawn === undefined;
  const benefits = grantsFor(recognition, mids, partner.mra.benefits, heldMids(conflicts)).map((grant) => notBeforeLink(grant, record, asOfDate));
  const held: HeldOperator = {
    partner: partner.id,
    key: record.key,
    record,
    ...(withdrawn === undefined ? {} : { withdrawn }),
    recognition,
    benefits,
    currentMids: mids,
    lastExchangeId: exchangeId,
    lastSequence: input.sequence,
  };
  return {
    held,
    changes: lapsedLinkEnds(benefitDiff(previous?.benefits ?? [], benefits, endDateOf(recognition, asOfDate), who), record, recognition, previous?.benefits ?? []),
    findings: [
      ...midMismatchFindings(record, partner, mids, who),
      ...conflicts,
      ...ctpatMemberInactiveFindings(recognition, mids, input.ctpatByMid, who),
      ...revokedReinstatedFindings(previous?.record, record, who),
    ],
    count,
    newlyWithdrawn,
    change: newlyWithdrawn && count !== 'created' ? 'withdrawn' : count,
  };
}

/** created / changed / unchanged; an operator present again after a SNAPSHOT omitted it has changed, whatever its record. */
function countOf(previous: HeldOperator | undefined, record: Operator): Exclude<RecordChange, 'withdrawn'> {
  if (previous === undefined) return 'created';
  if (previous.withdrawn?.reason === 'snapshot-omission') return 'changed';
  return sameValue(previous.record, record) ? 'unchanged' : 'changed';
}

/** The outcome for a held operator a SNAPSHOT omitted: withdrawn as of the asOf date, its record kept; undefined if already withdrawn. */
function omitted(previous: HeldOperator, input: WindowInput): Outcome | undefined {
  // Omitted again (or withdrawn by consent, which ranks first): nothing changes, nothing is counted.
  if (previous.withdrawn !== undefined) return undefined;
  const { partner, exchangeId, asOfDate } = input;
  const who: FindingContext = { partner: partner.id, key: previous.key, exchangeId };
  const fresh = recognitionOf(previous.record, partner, asOfDate, true, exchangeId);
  const { recognition, withdrawn } = continueFrom(previous, fresh, asOfDate);
  const mids = currentMids(previous.record, asOfDate);
  // Withdrawn or out-of-scope, never recognized: no benefit remains.
  const benefits = grantsFor(recognition, mids, partner.mra.benefits, new Set());
  const held: HeldOperator = {
    ...previous,
    partner: partner.id,
    ...(withdrawn === undefined ? {} : { withdrawn }),
    recognition,
    benefits,
    currentMids: mids,
    lastExchangeId: exchangeId,
    lastSequence: input.sequence,
  };
  return {
    held,
    changes: benefitDiff(previous.benefits, benefits, endDateOf(recognition, asOfDate), who),
    findings: [],
    count: undefined,
    newlyWithdrawn: withdrawn !== undefined,
    change: 'withdrawn',
  };
}

/** Reconciles one batch against what the gateway held for its partner. */
export function reconcileBatch(input: ReconcileInput): ReconcilePlan {
  return runToEnd(reconcileSteps(input));
}

/**
 * The same reconciliation, one `yield` after each operator, so that a job can give the
 * event loop a turn within a batch of 100,000 (jobs/pace.ts). Still pure: the steps
 * compute, they never wait for anything. It is the outline and one window of every
 * operator: the apply job runs the same two with windows of a thousand.
 */
export function* reconcileSteps(input: ReconcileInput): Generator<void, ReconcilePlan> {
  const mayOmit = new Map<string, Operator['mids']>();
  if (input.kind === 'SNAPSHOT') for (const h of input.previous.values()) if (h.withdrawn === undefined) mayOmit.set(h.key, h.record.mids);
  const outline = yield* outlineSteps({ ...input, mayOmit });
  const records = new Map(input.records.map((r) => [r.key, r]));
  const window = yield* windowSteps({ ...input, ...outline, entries: outline.order, records });
  return { ...window, counts: { ...window.counts, rejected: input.rejected.length }, discrepancies: [...window.discrepancies, ...recordRejectedFindings(input.rejected, input.partner.id, input.exchangeId)] };
}

/** What the outline needs of a record the batch carries: its key and its MID links. */
export interface RecordLinks {
  key: string;
  mids: Operator['mids'];
}

export interface OutlineInput {
  partner: Partner;
  kind: 'SNAPSHOT' | 'DELTA';
  asOf: string;
  /** The records that passed validation, in document order (only their keys and links). */
  records: readonly RecordLinks[];
  rejected: readonly RejectedRecord[];
  /** For a SNAPSHOT, the held operators it withdraws if it omits them (none withdrawn already), with their record's MID links. */
  mayOmit: ReadonlyMap<string, Operator['mids']>;
  /** As in ReconcileInput. */
  midOwners: ReconcileInput['midOwners'];
}

/** One operator the batch touches: carried, or held and omitted by a SNAPSHOT; with its MID links once the batch is applied. */
export interface OutlineEntry {
  key: string;
  omitted: boolean;
  mids: string[];
}

/**
 * What must be known of the whole batch before any operator is decided: every
 * operator it touches, in key order (the order of the plan), and the MID links as they
 * stand once it is applied (a conflict may be with any record of the batch). Small
 * beside the records, which the apply job keeps serialized until their window.
 */
export interface BatchOutline {
  asOfDate: string;
  order: OutlineEntry[];
  owners: Map<string, MidOwner[]>;
}

/** The outline of a batch, one `yield` per operator. */
export function* outlineSteps(input: OutlineInput): Generator<void, BatchOutline> {
  yield* assertUniqueKeys(input.records);
  const asOfDate = asOfDateOf(input.asOf);
  const entries: OutlineEntry[] = [];
  if (input.kind === 'SNAPSHOT') {
    // Held operators the SNAPSHOT neither carries nor rejected with a readable key (those count as present).
    const present = new Set<string>();
    for (const r of input.records) {
      present.add(r.key);
      yield;
    }
    for (const r of input.rejected) if (r.key !== null) present.add(r.key);
    for (const [key, mids] of input.mayOmit) {
      if (!present.has(key)) entries.push({ key, omitted: true, mids: currentMids({ mids }, asOfDate) });
      yield;
    }
  }
  for (const r of input.records) {
    entries.push({ key: r.key, omitted: false, mids: currentMids(r, asOfDate) });
    yield;
  }
  const owners = yield* ownersAfterBatch(input, entries);
  const order = yield* sortSteps(entries, (a, b) => compareText(a.key, b.key));
  return { asOfDate, order, owners };
}

/** What deciding one window of operators needs: the outline, and the records and held state of this window's keys. */
export interface WindowInput {
  partner: Partner;
  exchangeId: string;
  sequence: number;
  asOfDate: string;
  owners: ReadonlyMap<string, readonly MidOwner[]>;
  ctpatByMid: ReconcileInput['ctpatByMid'];
  /** A run of the outline's order. */
  entries: readonly OutlineEntry[];
  /** The carried records of these entries, by key. */
  records: ReadonlyMap<string, Operator>;
  /** What the gateway holds for these entries' keys. */
  previous: ReadonlyMap<string, HeldOperator>;
}

/** The plan for one window of the outline, in its order; `counts.rejected` and the record-rejected findings are the batch's, added once. */
export function* windowSteps(input: WindowInput): Generator<void, ReconcilePlan> {
  const counts: ReconcileCounts = { created: 0, changed: 0, unchanged: 0, withdrawn: 0, rejected: 0 };
  const upserts: HeldOperator[] = [];
  const versions: OperatorVersion[] = [];
  const benefitChanges: BenefitChange[] = [];
  const findings: DiscrepancyFinding[] = [];
  for (const entry of input.entries) {
    const previous = input.previous.get(entry.key);
    const o = entry.omitted ? omitted(previous!, input) : carried(input.records.get(entry.key)!, entry.mids, previous, input);
    yield;
    if (o === undefined) continue;
    if (o.count !== undefined) counts[o.count] += 1;
    if (o.newlyWithdrawn) counts.withdrawn += 1;
    upserts.push(o.held);
    versions.push({ partner: o.held.partner, key: o.held.key, change: o.change, record: o.held.record });
    for (const change of o.changes) benefitChanges.push(change);
    for (const finding of o.findings) findings.push(finding);
  }
  return { upserts, versions, counts, benefitChanges, discrepancies: findings };
}

/** A MID's benefits start no earlier than its current link (its validFrom), even under an older recognition. */
function notBeforeLink(grant: BenefitGrant, record: Operator, asOfDate: string): BenefitGrant {
  const current = record.mids.find((m) => m.mid === grant.mid && (m.validFrom ?? asOfDate) <= asOfDate && (m.validTo === undefined || m.validTo >= asOfDate));
  const from = current?.validFrom;
  return from !== undefined && from > grant.since ? { ...grant, since: from } : grant;
}

/**
 * A link that lapsed (its validTo, inclusive, passed) while the operator stays recognized
 * ends its benefits the day after validTo, not on the date of the batch that noticed it.
 */
function lapsedLinkEnds(changes: BenefitChange[], record: Operator, recognition: Recognition, before: readonly BenefitGrant[]): BenefitChange[] {
  if (recognition.state !== 'recognized') return changes;
  return changes.map((change) => {
    if (change.change !== 'end') return change;
    const lapsed = record.mids.filter((m) => m.mid === change.mid && m.validTo !== undefined).map((m) => m.validTo!).sort().at(-1);
    if (lapsed === undefined) return change;
    const dayAfter = new Date(Date.parse(`${lapsed}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
    const since = before.find((g) => g.mid === change.mid && g.benefit === change.benefit)?.since;
    const effective = since !== undefined && dayAfter < since ? since : dayAfter;
    return effective < change.effective ? { ...change, effective } : change;
  });
}
