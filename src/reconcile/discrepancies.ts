/**
 * Discrepancies reconciliation finds (never resolves): one function per kind. Each
 * finding carries a dedupeKey so that the same discrepancy, found again by a later run,
 * is not opened twice.
 */
import type { Operator } from '../canonical/operator.ts';
import { explainMid } from '../identifiers/mid.ts';
import type { Partner } from '../registry/partner.ts';
import { compareText } from './benefits.ts';
import { midSourceOf } from './mid-source.ts';
import { runToEnd } from './steps.ts';
import type { DiscrepancyFinding, DiscrepancyKind, Recognition, RejectedRecord } from './model.ts';

/** Who a finding is about: the partner, the record key, and the exchange that found it. */
export interface FindingContext {
  partner: string;
  key: string;
  exchangeId: string;
}

/** Another operator linked to a MID. */
export interface MidOwner {
  partner: string;
  key: string;
}

/** C-TPAT statuses that mean the member no longer enjoys C-TPAT benefits. */
const INACTIVE_CTPAT_STATUSES: ReadonlySet<string> = new Set(['SUSPENDED', 'REMOVED']);

/** The stable identity of a discrepancy: `${kind}:${partner}:${key ?? '#' + index}:${mid ?? ''}`. */
export function dedupeKeyOf(kind: DiscrepancyKind, partner: string, key: string | null, index?: number, mid?: string): string {
  return `${kind}:${partner}:${key ?? `#${index ?? ''}`}:${mid ?? ''}`;
}

function finding(kind: DiscrepancyKind, who: FindingContext, mid: string | undefined, detail: Record<string, unknown>): DiscrepancyFinding {
  const base = { kind, partner: who.partner, key: who.key, detail, dedupeKey: dedupeKeyOf(kind, who.partner, who.key, undefined, mid), exchangeId: who.exchangeId };
  return mid === undefined ? base : { ...base, mid };
}

/** mid-mismatch: each current MID that does not match the construction from the record's name and address. */
export function midMismatchFindings(record: Operator, partner: Partner, mids: readonly string[], who: FindingContext): DiscrepancyFinding[] {
  const source = midSourceOf(record, partner);
  const out: DiscrepancyFinding[] = [];
  for (const mid of mids) {
    const explained = explainMid(mid, source);
    if (explained.matches) continue;
    // null, not undefined: the detail is stored as plain JSON.
    out.push(finding('mid-mismatch', who, mid, { expected: explained.expected ?? null, differences: explained.differences }));
  }
  return out;
}

/**
 * mid-conflict: each current MID that `owners` also links to another operator of the same
 * partner. One administration naming two of its operators for one manufacturer's MID
 * contradicts itself, and which of them the benefits belong to is for staff to decide.
 * An operator of another partner linking the MID is no conflict: each MRA recognizes the
 * manufacturer on its own partner's word (a firm certified by two administrations, say),
 * and each recognition grants and ends its own benefits. Judged within a partner only, a
 * batch's outcome also never depends on whether another partner's batch applied first.
 */
export function midConflictFindings(
  mids: readonly string[],
  owners: ReadonlyMap<string, readonly MidOwner[]>,
  who: FindingContext,
): DiscrepancyFinding[] {
  const out: DiscrepancyFinding[] = [];
  for (const mid of mids) {
    // The operator itself may be listed (its own earlier link): it is no conflict.
    const others = uniqueOwners((owners.get(mid) ?? []).filter((o) => o.partner === who.partner && o.key !== who.key));
    if (others.length === 0) continue;
    out.push(finding('mid-conflict', who, mid, { others }));
  }
  return out;
}

function uniqueOwners(owners: readonly MidOwner[]): MidOwner[] {
  const byId = new Map<string, MidOwner>();
  for (const o of owners) byId.set(`${o.partner}\u0000${o.key}`, { partner: o.partner, key: o.key });
  return [...byId.values()].sort((a, b) => compareText(a.partner, b.partner) || compareText(a.key, b.key));
}

/** The MIDs whose benefits are held because a mid-conflict finding names them. */
export function heldMids(conflicts: readonly DiscrepancyFinding[]): Set<string> {
  const held = new Set<string>();
  for (const c of conflicts) if (c.kind === 'mid-conflict' && c.mid !== undefined) held.add(c.mid);
  return held;
}

/** ctpat-member-inactive: a recognized operator's current MID that belongs to a suspended or removed C-TPAT member. */
export function ctpatMemberInactiveFindings(
  recognition: Recognition,
  mids: readonly string[],
  ctpatByMid: ReadonlyMap<string, { account: string; status: string }>,
  who: FindingContext,
): DiscrepancyFinding[] {
  // Only a recognized operator gets benefits, so only then does the C-TPAT side matter.
  if (recognition.state !== 'recognized') return [];
  const out: DiscrepancyFinding[] = [];
  for (const mid of mids) {
    const member = ctpatByMid.get(mid);
    if (member === undefined || !INACTIVE_CTPAT_STATUSES.has(member.status)) continue;
    out.push(finding('ctpat-member-inactive', who, mid, { account: member.account, status: member.status }));
  }
  return out;
}

/** revoked-reinstated: the held record was revoked, the new one is active, and its authorisation date is absent or unchanged. */
export function revokedReinstatedFindings(previous: Operator | undefined, record: Operator, who: FindingContext): DiscrepancyFinding[] {
  if (previous?.status.code !== 'revoked' || record.status.code !== 'active') return [];
  const previousGrantedOn = previous.authorisation.grantedOn;
  const grantedOn = record.authorisation.grantedOn;
  // A new authorisation date means a new authorisation: a revoked one is never simply reactivated.
  if (grantedOn !== undefined && grantedOn !== previousGrantedOn) return [];
  return [finding('revoked-reinstated', who, undefined, { previousGrantedOn: previousGrantedOn ?? null, grantedOn: grantedOn ?? null })];
}

/** record-rejected: one finding per rejected record of the batch, its key null when it could not be read. */
export function recordRejectedFindings(rejected: readonly RejectedRecord[], partner: string, exchangeId: string): DiscrepancyFinding[] {
  return [...rejected]
    .sort((a, b) => a.index - b.index)
    .map((r) => ({
      kind: 'record-rejected' as const,
      partner,
      key: r.key,
      detail: { index: r.index, issues: r.issues.map((i) => ({ pointer: i.pointer, code: i.code, message: i.message })) },
      dedupeKey: dedupeKeyOf('record-rejected', partner, r.key, r.index),
      exchangeId,
    }));
}

/** The mid-conflict dedupe key of every MID the batch's records link, as `[mid, dedupeKey]`: the keys whose decisions the job loads. */
export function midConflictKeys(partner: string, records: readonly Pick<Operator, 'key' | 'mids'>[]): [mid: string, dedupeKey: string][] {
  return runToEnd(midConflictKeySteps(partner, records));
}

/** `midConflictKeys`, one step per record. */
export function* midConflictKeySteps(partner: string, records: readonly Pick<Operator, 'key' | 'mids'>[]): Generator<void, [mid: string, dedupeKey: string][]> {
  const keys: [mid: string, dedupeKey: string][] = [];
  for (const r of records) {
    for (const m of r.mids) keys.push([m.mid, dedupeKeyOf('mid-conflict', partner, r.key, undefined, m.mid)]);
    // One step per record: a job paces through a batch of 100,000 (jobs/pace.ts).
    yield;
  }
  return keys;
}

/** MID owners less every MID whose conflict staff decided (accepted, overridden or dismissed): its link no longer holds its benefits. */
export function withoutSettledConflicts<O>(
  owners: ReadonlyMap<string, O>,
  conflictKeys: readonly (readonly [mid: string, dedupeKey: string])[],
  decided: ReadonlySet<string>,
): Map<string, O> {
  const out = new Map(owners);
  for (const [mid, key] of conflictKeys) if (decided.has(key)) out.delete(mid);
  return out;
}

/** Findings less those staff already decided: a decided discrepancy is not opened again. */
export function withoutDecidedFindings(findings: readonly DiscrepancyFinding[], decided: ReadonlySet<string>): DiscrepancyFinding[] {
  return findings.filter((d) => !decided.has(d.dedupeKey));
}
