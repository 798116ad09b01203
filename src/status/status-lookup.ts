/** The status endpoint's lookup (lookup.ts) over the store's repositories, each record judged as of today. */
import type { PartnerDirectory } from '../registry/partner.ts';
import { ctpatMember } from '../store/ctpat-members.ts';
import { partnersHolding } from '../store/deliveries.ts';
import type { Queryable } from '../store/db.ts';
import { loadHeld, operatorsByIdentifier, operatorsByMid, type OperatorRef } from '../store/operators.ts';
import { asOfToday } from './as-of-today.ts';
import type { CtpatMemberStatus, StatusLookup, StatusRecord } from './lookup.ts';

/** A StatusLookup reading `q`; `today` is the date the registry's MRA window and scope are judged on. */
export function statusLookup(q: Queryable, partners: Pick<PartnerDirectory, 'partner'>, today: () => string = () => new Date().toISOString().slice(0, 10)): StatusLookup {
  // One read of the held records per partner, and one for no record at all: a miss makes
  // the same round trips as a hit (PROTOCOL §5: a miss answers in the same time as a hit).
  const records = async (refs: readonly OperatorRef[]): Promise<StatusRecord[]> => {
    const keysByPartner = new Map<string, string[]>();
    for (const { partner, key } of refs) keysByPartner.set(partner, [...(keysByPartner.get(partner) ?? []), key]);
    // A key no record has: loadHeld sends nothing for an empty list of keys.
    if (keysByPartner.size === 0) await loadHeld(q, '', ['']);
    const out: StatusRecord[] = [];
    for (const [partner, keys] of keysByPartner) {
      const entry = partners.partner(partner);
      const held = await loadHeld(q, partner, keys);
      for (const key of keys) {
        const record = held.get(key);
        if (entry && record) out.push({ partner: { id: entry.id, programme: entry.programme, format: entry.format }, held: asOfToday(record, entry, today()) });
      }
    }
    return out;
  };
  return {
    byIdentifier: async (scheme, normalisedId) => records(await operatorsByIdentifier(q, scheme, normalisedId)),
    byMid: async (mid) => records(await operatorsByMid(q, mid)),
    async ctpatMember(account): Promise<CtpatMemberStatus | undefined> {
      const m = await ctpatMember(q, account);
      if (!m) return undefined;
      // Which partners hold the member: from their verified receipts of documents that carried it (PROTOCOL §7).
      const heldBy = await partnersHolding(q, account);
      return { account: m.account, status: m.status, statusDate: m.record.status.effective, consent: m.consent, name: m.record.name.legal, address: m.record.address, mids: m.mids, heldBy };
    },
  };
}
