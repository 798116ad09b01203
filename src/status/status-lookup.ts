/** The status endpoint's lookup (lookup.ts) over the store's repositories, each record judged as of today. */
import type { PartnerDirectory } from '../registry/partner.ts';
import { ctpatMember } from '../store/ctpat-members.ts';
import { partnersHolding } from '../store/deliveries.ts';
import type { Queryable } from '../store/db.ts';
import { loadHeld, operatorsByIdentifier, operatorsByMid, type OperatorRef } from '../store/operators.ts';
import { asOfToday } from './as-of-today.ts';
import type { CtpatMemberStatus, FoundMember, FoundRecords, StatusLookup, StatusRecord } from './lookup.ts';

/** A StatusLookup reading `q`; `today` is the date the registry's MRA window and scope are judged on. */
export function statusLookup(q: Queryable, partners: Pick<PartnerDirectory, 'partner'>, today: () => string = () => new Date().toISOString().slice(0, 10)): StatusLookup {
  // The first record and the member last found: a miss reads them again and answers them to no one.
  let standInRef: OperatorRef | undefined;
  let standInMember: CtpatMemberStatus | undefined;
  // One read of the held records per partner, each record judged as of today.
  const read = async (refs: readonly OperatorRef[]): Promise<StatusRecord[]> => {
    const keysByPartner = new Map<string, string[]>();
    for (const { partner, key } of refs) keysByPartner.set(partner, [...(keysByPartner.get(partner) ?? []), key]);
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
  // A miss makes the same round trips as a hit, and reads a record as a hit does (PROTOCOL §5:
  // a miss answers in the same time as a hit): the stand-in's, found by an earlier look-up.
  const records = async (refs: readonly OperatorRef[]): Promise<FoundRecords> => {
    if (refs.length > 0) {
      // One record, as most subjects have: a stand-in with many would make misses slower than hits.
      standInRef = refs[0];
      return { records: await read(refs), standIn: [] };
    }
    if (standInRef !== undefined) return { records: [], standIn: await read([standInRef]) };
    // Nothing found yet since the process started: a key no record has (loadHeld sends nothing for no keys).
    await loadHeld(q, '', ['']);
    return { records: [], standIn: [] };
  };
  return {
    byIdentifier: async (scheme, normalisedId) => records(await operatorsByIdentifier(q, scheme, normalisedId)),
    byMid: async (mid) => records(await operatorsByMid(q, mid)),
    async ctpatMember(account): Promise<FoundMember> {
      const m = await ctpatMember(q, account);
      // Which partners hold the member: from their verified receipts of documents that carried it (PROTOCOL §7).
      // A miss asks it of the stand-in, so that it makes this second round trip too and reads as many rows.
      const heldBy = await partnersHolding(q, m?.account ?? standInMember?.account ?? '');
      if (!m) return { member: undefined, standIn: standInMember && { ...standInMember, heldBy } };
      standInMember = { account: m.account, status: m.status, statusDate: m.record.status.effective, consent: m.consent, name: m.record.name.legal, address: m.record.address, mids: m.mids, heldBy };
      return { member: standInMember, standIn: undefined };
    },
  };
}
