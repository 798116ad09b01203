/**
 * Benefits per MID (DOMAIN.md "Benefits"): while an operator is recognized, every MID it
 * links now carries the partner's MRA benefits. The feed records each start and end.
 */
import type { Operator } from '../canonical/operator.ts';
import type { BenefitChange, BenefitGrant, Recognition } from './model.ts';

/** MIDs current at asOfDate: validFrom absent or ≤ asOfDate, validTo absent or ≥ asOfDate (inclusive). */
export function currentMids(record: Pick<Operator, 'mids'>, asOfDate: string): string[] {
  const out: string[] = [];
  for (const link of record.mids) {
    if (link.validFrom !== undefined && link.validFrom > asOfDate) continue;
    if (link.validTo !== undefined && link.validTo < asOfDate) continue;
    // A MID can be listed twice (a past link and a current one): it is linked once.
    if (!out.includes(link.mid)) out.push(link.mid);
  }
  // A copy sized to what it holds: the apply keeps one of these per operator of a batch, and `out` has room for seventeen.
  return out.slice();
}

/** Code-unit order, independent of the locale, so output order never depends on the host. */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function grantKey(g: { mid: string; benefit: string }): string {
  // NUL cannot occur in a MID or a benefit slug, so the key is unambiguous.
  return `${g.mid}\u0000${g.benefit}`;
}

/** Grants while recognized: every current MID × partner.mra.benefits, since recognition.since; none otherwise; MIDs in `held` get none. */
export function grantsFor(
  recognition: Recognition,
  mids: readonly string[],
  benefits: readonly string[],
  held: ReadonlySet<string>,
): BenefitGrant[] {
  if (recognition.state !== 'recognized') return [];
  const grants = new Map<string, BenefitGrant>();
  for (const mid of mids) {
    if (held.has(mid)) continue;
    for (const benefit of benefits) {
      const grant = { mid, benefit, since: recognition.since };
      grants.set(grantKey(grant), grant);
    }
  }
  return [...grants.values()].sort((a, b) => compareText(a.mid, b.mid) || compareText(a.benefit, b.benefit));
}

/**
 * Feed entries between two grant sets: a grant that appears → start (effective = its since); one that
 * disappears → end (effective = `endDate`). Deterministic order (mid, benefit, change).
 */
export function benefitDiff(
  before: readonly BenefitGrant[],
  after: readonly BenefitGrant[],
  endDate: string,
  who: { partner: string; key: string; exchangeId: string },
): BenefitChange[] {
  // A grant is identified by MID and benefit: one in force on both sides has not
  // changed, whatever its `since` says, so it gives no feed entry.
  const beforeKeys = new Set(before.map(grantKey));
  const afterKeys = new Set(after.map(grantKey));
  const entry = (g: BenefitGrant, change: BenefitChange['change'], effective: string): BenefitChange => ({
    mid: g.mid,
    partner: who.partner,
    key: who.key,
    benefit: g.benefit,
    change,
    effective,
    exchangeId: who.exchangeId,
  });
  const changes = new Map<string, BenefitChange>();
  for (const g of before) if (!afterKeys.has(grantKey(g))) changes.set(`${grantKey(g)}\u0000end`, entry(g, 'end', endDate));
  for (const g of after) if (!beforeKeys.has(grantKey(g))) changes.set(`${grantKey(g)}\u0000start`, entry(g, 'start', g.since));
  return [...changes.values()].sort(
    (a, b) => compareText(a.mid, b.mid) || compareText(a.benefit, b.benefit) || compareText(a.change, b.change),
  );
}
