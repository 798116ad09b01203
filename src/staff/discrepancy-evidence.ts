/**
 * The evidence behind a discrepancy, side by side for the staff console: the partner's
 * record, the other operators or C-TPAT members its MID also names, and the MID's
 * construction from name and address with the parts that differ.
 */
import type { Operator } from '../canonical/operator.ts';
import { explainMid, type MidExplanation } from '../identifiers/mid.ts';
import { midSourceOf } from '../reconcile/mid-source.ts';
import type { PartnerDirectory } from '../registry/partner.ts';
import { ctpatByMid, ctpatMember, type CtpatMemberRow } from '../store/ctpat-members.ts';
import type { Queryable } from '../store/db.ts';
import type { DiscrepancyView } from '../store/discrepancies.ts';
import { loadHeld } from '../store/operators.ts';

export interface DiscrepancyEvidence {
  /** The partner's record the discrepancy is about (null when it names none, as a rejected record). */
  record: Operator | null;
  /** Other partner records the same MID is linked to. */
  others: { partner: string; key: string; record: Operator | null }[];
  /** C-TPAT members holding the MID. */
  ctpatMembers: { account: string; status: string; record: CtpatMemberRow['record'] }[];
  /** The MID against its construction from the record's name and address. */
  mid: MidExplanation | null;
}

export async function discrepancyEvidence(q: Queryable, partners: PartnerDirectory, d: DiscrepancyView): Promise<DiscrepancyEvidence> {
  const record = d.key === null ? undefined : (await loadHeld(q, d.partner, [d.key])).get(d.key)?.record;
  const named = Array.isArray(d.detail['others']) ? (d.detail['others'] as { partner: string; key: string }[]) : [];
  const others = await Promise.all(named.map(async (o) => ({ partner: o.partner, key: o.key, record: (await loadHeld(q, o.partner, [o.key])).get(o.key)?.record ?? null })));
  const ctpatMembers: DiscrepancyEvidence['ctpatMembers'] = [];
  if (d.mid !== null) {
    const owner = (await ctpatByMid(q, [d.mid])).get(d.mid);
    const member = owner && (await ctpatMember(q, owner.account));
    if (member) ctpatMembers.push({ account: member.account, status: member.status, record: member.record });
  }
  const partner = partners.partner(d.partner);
  const mid = d.mid !== null && record !== undefined && partner !== undefined ? explainMid(d.mid, midSourceOf(record, partner)) : null;
  return { record: record ?? null, others, ctpatMembers, mid };
}
